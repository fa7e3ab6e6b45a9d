// SPDX-License-Identifier: BSD-3-Clause
/*
 * asb.ko: the genetlink family (include/asb/genl.h) and the approval gate
 * (include/asb/gate.h), driven through agentd/kgate.c and, for the gate,
 * the module's test hook /proc/fs/asb/gate_test (module parameter
 * test_hook=1). Needs root and the module: loads
 * build/kmod/$(uname -r)/asb.ko (or $ASB_KMOD) test_hook=1 when
 * /sys/module/asb is absent; SKIPs when it cannot (the host lane: no
 * loadable modules). Runs in the VM lane (make vm-check).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asb/gate.h>
#include <asb/genl.h>
#include <asb/image.h>

#include "kgate.h"
#include "asb_test.h"

#define HOOK "/proc/fs/asb/gate_test"

static char skip_reason[256];

static const char *kmod_path(char *buf, size_t len)
{
	const char *p = getenv("ASB_KMOD");
	struct utsname u;

	if (p)
		return p;
	uname(&u);
	snprintf(buf, len, "build/kmod/%s/asb.ko", u.release);
	return buf;
}

static int load_module(void)
{
	char buf[256];
	const char *path = kmod_path(buf, sizeof(buf));
	int fd, ret;

	if (access("/proc/modules", F_OK)) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "no loadable modules on this kernel: asb.ko is tested in the VM lane (make vm-check)");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "asb.ko not loaded and %s: %s", path, strerror(errno));
		return -1;
	}
	ret = syscall(SYS_finit_module, fd, "test_hook=1", 0);
	close(fd);
	if (ret && errno != EEXIST) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "asb.ko not loaded and cannot be loaded (%s): %s",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

/* 0: module there; -1: skip_reason says why not. */
static int need_module(void)
{
	if (geteuid() != 0) {
		snprintf(skip_reason, sizeof(skip_reason), "needs root");
		return -1;
	}
	if (access("/sys/module/asb", F_OK) == 0)
		return 0;
	return load_module();
}

#define NEED_MODULE() do {						\
	if (need_module())						\
		SKIP(return, "%s", skip_reason);			\
} while (0)

#define NEED_HOOK() do {						\
	NEED_MODULE();							\
	if (access(HOOK, W_OK))						\
		SKIP(return, "asb.ko loaded without test_hook=1");	\
} while (0)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask through the test hook in a child: it exits 0 if allowed, else errno. */
static pid_t ask_child(unsigned int sandbox, unsigned int action,
		       unsigned int timeout_ms, const char *object)
{
	pid_t pid = fork();

	if (pid == 0) {
		char buf[512];
		int fd, n;

		/* not the agent's socket: it would outlive the agent */
		syscall(SYS_close_range, 3, ~0U, 0);
		fd = open(HOOK, O_WRONLY | O_CLOEXEC);

		if (fd < 0)
			_exit(100);
		n = snprintf(buf, sizeof(buf), "%u %u %u %s", sandbox, action,
			     timeout_ms, object);
		if (write(fd, buf, n) == n)
			_exit(0);
		_exit(errno);
	}
	return pid;
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* Ask in this process, synchronously: 0 or -errno. */
static int ask_here(unsigned int timeout_ms, const char *object)
{
	char buf[512];
	int fd = open(HOOK, O_WRONLY | O_CLOEXEC), n, ret = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "1 %u %u %s", ASB_RULE_ASK_WRITE,
		     timeout_ms, object);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

/* --- raw genetlink, for the messages libnl would not send --- */

struct raw {
	int fd;
	int family;
	unsigned int seq;
};

static int raw_open(struct raw *r, int family)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int sz = 1 << 20;

	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	r->family = family;
	r->seq = 1;
	return 0;
}

struct rawmsg {
	struct nlmsghdr nh;
	struct genlmsghdr gh;
	char attrs[72 * 1024];	/* an argv attribute of the largest size */
};

static void *raw_attr(struct rawmsg *m, unsigned short type, const void *data,
		      unsigned int len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->nh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (data)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) + NLA_ALIGN(a->nla_len);
	return (char *)a + NLA_HDRLEN;
}

static void raw_init(struct raw *r, struct rawmsg *m, int cmd, int version)
{
	memset(m, 0, sizeof(m->nh) + sizeof(m->gh));
	m->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nh.nlmsg_type = r->family;
	m->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	m->nh.nlmsg_seq = r->seq++;
	m->gh.cmd = cmd;
	m->gh.version = ASB_GENL_VERSION;
	if (version >= 0) {
		__u32 v = version;

		raw_attr(m, ASB_A_VERSION, &v, 4);
	}
}

static int raw_send(struct raw *r, struct rawmsg *m)
{
	return send(r->fd, m, m->nh.nlmsg_len, 0) == (ssize_t)m->nh.nlmsg_len ?
		0 : -errno;
}

/* The error code of the next ack: 0 or -errno. */
static int raw_ack(struct raw *r)
{
	static char buf[160 * 1024];	/* an error echoes the request */

	for (;;) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		if (n < 0)
			return -errno ? -errno : -EIO;
		for (; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	}
}

static int raw_request(struct raw *r, struct rawmsg *m)
{
	int ret = raw_send(r, m);

	return ret ? ret : raw_ack(r);
}

static int family_id(void)
{
	struct asb_kgate *g;
	int f;

	if (asb_kgate_open(&g))
		return -1;
	f = asb_kgate_family(g);
	asb_kgate_close(g);
	return f;
}

static int status(struct asb_kgate_status *st)
{
	struct asb_kgate *g;
	int ret = asb_kgate_open(&g);

	if (ret)
		return ret;
	ret = asb_kgate_status(g, st);
	asb_kgate_close(g);
	return ret;
}

/* --- the family --- */

TEST(status_and_version)
{
	struct asb_kgate_status st;

	NEED_MODULE();
	ASSERT_EQ(0, status(&st));
	EXPECT_EQ(ASB_GENL_VERSION, st.version);
}

TEST(register_unregister)
{
	struct asb_kgate *a, *b;
	struct asb_kgate_status st;

	NEED_MODULE();
	ASSERT_EQ(0, asb_kgate_open(&a));
	ASSERT_EQ(0, asb_kgate_open(&b));
	ASSERT_EQ(0, asb_kgate_register(a));
	EXPECT_EQ(0, asb_kgate_register(a));	/* again: same agent */
	EXPECT_EQ(-EBUSY, asb_kgate_register(b));
	EXPECT_EQ(-EPERM, asb_kgate_unregister(b));
	ASSERT_EQ(0, asb_kgate_status(b, &st));
	EXPECT_EQ(asb_kgate_portid(a), st.agent_portid);
	EXPECT_EQ(0, asb_kgate_unregister(a));
	EXPECT_EQ(-EPERM, asb_kgate_unregister(a));
	ASSERT_EQ(0, asb_kgate_register(b));
	/* closing the agent's socket unregisters it */
	asb_kgate_close(b);
	ASSERT_EQ(0, asb_kgate_status(a, &st));
	EXPECT_EQ(0, st.agent_portid);
	EXPECT_EQ(0, asb_kgate_register(a));
	asb_kgate_close(a);
}

TEST(non_admin_refused)
{
	pid_t pid;

	NEED_MODULE();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct asb_kgate *g;
		struct asb_kgate_status st;

		/* nobody: no capabilities at all */
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (asb_kgate_open(&g))
			_exit(11);
		if (asb_kgate_register(g) != -EPERM)
			_exit(12);
		if (asb_kgate_status(g, &st) != -EPERM)
			_exit(13);
		if (asb_kgate_verdict(g, 1, true) != -EPERM)
			_exit(14);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
}

TEST(malformed_messages_refused)
{
	struct asb_kgate_status before, after;
	struct asb_kgate *agent;
	struct rawmsg m;
	struct raw r;
	char big[5000];
	__u32 v;
	__u64 v8 = 1;

	NEED_MODULE();
	ASSERT_EQ(0, raw_open(&r, family_id()));
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	ASSERT_EQ(0, status(&before));

	/* wrong version, no version */
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION + 1);
	EXPECT_EQ(-EPROTONOSUPPORT, raw_request(&r, &m));
	raw_init(&r, &m, ASB_CMD_REGISTER, -1);
	EXPECT_EQ(-EINVAL, raw_request(&r, &m));
	/* a version of the wrong size */
	raw_init(&r, &m, ASB_CMD_STATUS, -1);
	raw_attr(&m, ASB_A_VERSION, &v8, 8);
	EXPECT_GT(0, raw_request(&r, &m));
	/* an oversized string, an unknown attribute */
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	raw_attr(&m, ASB_A_OBJECT, big, sizeof(big));
	EXPECT_GT(0, raw_request(&r, &m));
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	v = 1;
	raw_attr(&m, ASB_A_MAX + 5, &v, 4);
	EXPECT_EQ(-EINVAL, raw_request(&r, &m));
	/* a command the kernel does not take, and one that does not exist */
	raw_init(&r, &m, ASB_CMD_ASK, ASB_GENL_VERSION);
	EXPECT_EQ(-EOPNOTSUPP, raw_request(&r, &m));
	raw_init(&r, &m, 200, ASB_GENL_VERSION);
	EXPECT_EQ(-EOPNOTSUPP, raw_request(&r, &m));
	/* verdicts: missing attributes, bad verdict value */
	raw_init(&r, &m, ASB_CMD_VERDICT, ASB_GENL_VERSION);
	EXPECT_EQ(-EINVAL, raw_request(&r, &m));
	raw_init(&r, &m, ASB_CMD_VERDICT, ASB_GENL_VERSION);
	v = 1;
	raw_attr(&m, ASB_A_REQ_ID, &v, 4);
	v = 7;
	raw_attr(&m, ASB_A_VERDICT, &v, 4);
	EXPECT_GT(0, raw_request(&r, &m));
	/* a verdict from a socket that is not the agent */
	raw_init(&r, &m, ASB_CMD_VERDICT, ASB_GENL_VERSION);
	v = 1;
	raw_attr(&m, ASB_A_REQ_ID, &v, 4);
	v = ASB_VERDICT_ALLOW;
	raw_attr(&m, ASB_A_VERDICT, &v, 4);
	EXPECT_EQ(-EPERM, raw_request(&r, &m));
	/* the agent, for a request that does not exist */
	EXPECT_EQ(-ENOENT, asb_kgate_verdict(agent, 0x7ffffff0, true));

	/* nothing changed: still the same agent, nothing pending */
	ASSERT_EQ(0, status(&after));
	EXPECT_EQ(asb_kgate_portid(agent), after.agent_portid);
	EXPECT_EQ(0, after.pending);
	EXPECT_LT(before.bad_verdicts, after.bad_verdicts);
	asb_kgate_close(agent);
	close(r.fd);
}

/*
 * Version 2 carries an exec's argv and cwd: the old version is refused,
 * the new attributes are checked by the family's policy.
 */
TEST(argv_attributes_checked)
{
	static struct rawmsg m;
	static char argv[ASB_GENL_ARGV_MAX + 100];
	unsigned char hash[ASB_GENL_ARGV_HASH_LEN + 1] = { 0 };
	struct raw r;
	__u32 v = 2;

	NEED_MODULE();
	ASSERT_EQ(0, raw_open(&r, family_id()));
	/* version 1 had no argv: an agentd of then would show none */
	raw_init(&r, &m, ASB_CMD_STATUS, 1);
	EXPECT_EQ(-EPROTONOSUPPORT, raw_request(&r, &m));
	/* well-formed: taken (STATUS ignores them) */
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_ARGV, "a\0b\0", 4);
	raw_attr(&m, ASB_A_ARGC, &v, 4);
	v = 4;
	raw_attr(&m, ASB_A_ARGV_LEN, &v, 4);
	raw_attr(&m, ASB_A_ARGV_HASH, hash, ASB_GENL_ARGV_HASH_LEN);
	raw_attr(&m, ASB_A_CWD, "/tmp", 5);
	EXPECT_EQ(0, raw_request(&r, &m));
	/* a digest of the wrong size, either way */
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_ARGV_HASH, hash, ASB_GENL_ARGV_HASH_LEN - 1);
	EXPECT_EQ(-ERANGE, raw_request(&r, &m));
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_ARGV_HASH, hash, ASB_GENL_ARGV_HASH_LEN + 1);
	EXPECT_EQ(-ERANGE, raw_request(&r, &m));
	/* an argv over the cap, a cwd without its NUL, a cwd too long */
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_ARGV, argv, sizeof(argv));
	EXPECT_GT(0, raw_request(&r, &m));
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_CWD, "/tmp", 4);
	EXPECT_GT(0, raw_request(&r, &m));
	memset(argv, 'a', ASB_GENL_CWD_MAX + 1);
	argv[ASB_GENL_CWD_MAX + 1] = 0;
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_CWD, argv, ASB_GENL_CWD_MAX + 2);
	EXPECT_GT(0, raw_request(&r, &m));
	/* an argc of the wrong size */
	raw_init(&r, &m, ASB_CMD_STATUS, ASB_GENL_VERSION);
	raw_attr(&m, ASB_A_ARGC, hash, 2);
	EXPECT_GT(0, raw_request(&r, &m));
	close(r.fd);
}

/*
 * An exec ask needs the exec's argv: only bpf_asb_gate_ask_exec() (with
 * the linux_binprm) sends one. The other kfunc, and the test hook that
 * asks as it does, refuse them and send nothing.
 */
TEST(exec_ask_without_argv_refused)
{
	struct asb_kgate_ask a;
	struct asb_kgate *agent;
	pid_t pid;

	NEED_HOOK();
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	pid = ask_child(7, ASB_RULE_ASK_EXEC, 30000, "/bin/true");
	EXPECT_EQ(EINVAL, child_status(pid));
	EXPECT_EQ(0, asb_kgate_wait(agent, 500));
	EXPECT_EQ(0, asb_kgate_next(agent, &a));
	/* the same through the hook as another action is asked */
	pid = ask_child(7, ASB_RULE_ASK_WRITE, 30000, "/tmp/x");
	ASSERT_LT(0, asb_kgate_wait(agent, 20000));
	ASSERT_EQ(1, asb_kgate_next(agent, &a));
	EXPECT_EQ(NULL, a.argv);
	EXPECT_EQ(0, asb_kgate_verdict(agent, a.id, false));
	EXPECT_EQ(EACCES, child_status(pid));
	asb_kgate_close(agent);
}

TEST(flood_10000)
{
	struct asb_kgate_status st;
	struct asb_kgate *agent;
	struct rawmsg m;
	struct raw r;
	int i, j, errs = 0, acks = 0;

	NEED_MODULE();
	ASSERT_EQ(0, raw_open(&r, family_id()));
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	for (i = 0; i < 10000; i += 100) {
		for (j = 0; j < 100; j++) {
			__u32 v = i + j + 1;

			switch (j % 4) {
			case 0:	/* verdict from a stranger */
				raw_init(&r, &m, ASB_CMD_VERDICT, ASB_GENL_VERSION);
				raw_attr(&m, ASB_A_REQ_ID, &v, 4);
				v = ASB_VERDICT_ALLOW;
				raw_attr(&m, ASB_A_VERDICT, &v, 4);
				break;
			case 1:	/* wrong version */
				raw_init(&r, &m, ASB_CMD_REGISTER, 99);
				break;
			case 2:	/* garbage attribute */
				raw_init(&r, &m, ASB_CMD_UNREGISTER, ASB_GENL_VERSION);
				raw_attr(&m, ASB_A_EXE, "x", 1);	/* no NUL */
				break;
			default:
				raw_init(&r, &m, ASB_CMD_REGISTER, ASB_GENL_VERSION);
			}
			ASSERT_EQ(0, raw_send(&r, &m));
		}
		for (j = 0; j < 100; j++) {
			int e = raw_ack(&r);

			acks++;
			if (e < 0)
				errs++;
		}
	}
	EXPECT_EQ(10000, acks);
	EXPECT_EQ(10000, errs);	/* every one refused */
	ASSERT_EQ(0, status(&st));
	EXPECT_EQ(asb_kgate_portid(agent), st.agent_portid);
	EXPECT_EQ(0, st.pending);
	asb_kgate_close(agent);
	close(r.fd);
}

/* --- the gate, through the test hook --- */

TEST(no_agent_denies_at_once)
{
	struct asb_kgate_status st;
	long t0;

	NEED_HOOK();
	ASSERT_EQ(0, status(&st));
	if (st.agent_portid)
		SKIP(return, "an agent is registered (agentd running?)");
	t0 = now_ms();
	EXPECT_EQ(-EACCES, ask_here(60000, "/bin/echo no agent"));
	EXPECT_GT(1000, now_ms() - t0);
}

static void verdict_case(struct __test_metadata *_metadata, bool allow)
{
	struct asb_kgate_ask a;
	struct asb_kgate *agent;
	pid_t pid;

	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	pid = ask_child(7, ASB_RULE_ASK_CONNECT, 30000, "10.0.0.1:443");
	ASSERT_LT(0, asb_kgate_wait(agent, 20000));
	ASSERT_EQ(1, asb_kgate_next(agent, &a));
	EXPECT_EQ(7, a.sandbox);
	EXPECT_EQ(ASB_RULE_ASK_CONNECT, a.action);
	EXPECT_EQ(30000, a.timeout_ms);
	EXPECT_EQ((uint32_t)pid, a.pid);
	EXPECT_STREQ("10.0.0.1:443", a.object);
	EXPECT_NE(NULL, strstr(a.exe, "kmod_test"));
	EXPECT_EQ(0, asb_kgate_verdict(agent, a.id, allow));
	EXPECT_EQ(allow ? 0 : EACCES, child_status(pid));
	/* answered once only */
	EXPECT_EQ(-ENOENT, asb_kgate_verdict(agent, a.id, true));
	asb_kgate_close(agent);
}

TEST(ask_allow)
{
	NEED_HOOK();
	verdict_case(_metadata, true);
}

TEST(ask_deny)
{
	NEED_HOOK();
	verdict_case(_metadata, false);
}

TEST(ask_timeout_denies)
{
	struct asb_kgate_status before, after;
	struct asb_kgate *agent;
	long t0, dt;

	NEED_HOOK();
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	ASSERT_EQ(0, status(&before));
	t0 = now_ms();
	EXPECT_EQ(-EACCES, ask_here(700, "/usr/bin/never-answered"));
	dt = now_ms() - t0;
	EXPECT_LE(650, dt);
	EXPECT_GT(15000, dt);
	ASSERT_EQ(0, status(&after));
	EXPECT_EQ(before.timeouts + 1, after.timeouts);
	asb_kgate_close(agent);
}

TEST(fatal_signal_ends_wait)
{
	struct asb_kgate_status before, after;
	struct asb_kgate_ask a;
	struct asb_kgate *agent;
	pid_t pid;
	long t0;

	NEED_HOOK();
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	ASSERT_EQ(0, status(&before));
	pid = ask_child(1, ASB_RULE_ASK_WRITE, 60000, "/etc/killed");
	ASSERT_LT(0, asb_kgate_wait(agent, 20000));
	ASSERT_EQ(1, asb_kgate_next(agent, &a));
	/* a non-fatal signal does not end it: SIGSTOP/SIGCONT */
	kill(pid, SIGSTOP);
	kill(pid, SIGCONT);
	usleep(200 * 1000);
	ASSERT_EQ(0, waitpid(pid, NULL, WNOHANG));
	t0 = now_ms();
	kill(pid, SIGKILL);
	EXPECT_EQ(1000 + SIGKILL, child_status(pid));
	EXPECT_GT(10000, now_ms() - t0);
	ASSERT_EQ(0, status(&after));
	EXPECT_EQ(before.killed + 1, after.killed);
	EXPECT_EQ(0, after.pending);
	EXPECT_EQ(-ENOENT, asb_kgate_verdict(agent, a.id, true));
	asb_kgate_close(agent);
}

static int hung_task_warnings(void)
{
	FILE *f = popen("dmesg 2>/dev/null | grep -c 'blocked for more than'", "r");
	int n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

#define N_PENDING 50
#define HUNG "/proc/sys/kernel/hung_task_timeout_secs"

TEST(agent_closed_with_50_pending)
{
	pid_t pids[N_PENDING];
	struct asb_kgate_status st;
	struct asb_kgate_ask a;
	struct asb_kgate *agent;
	char old_hung[32] = "";
	int i, got = 0, hung0, fd;
	long t0, dt;

	NEED_HOOK();
	/* the hung task detector at 1 s: killable sleeps must not trip it */
	fd = open(HUNG, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, old_hung, sizeof(old_hung) - 1);

		old_hung[n > 0 ? n : 0] = 0;
		close(fd);
		write_str(HUNG, "1");
	}
	hung0 = hung_task_warnings();
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	for (i = 0; i < N_PENDING; i++) {
		pids[i] = ask_child(2, ASB_RULE_ASK_WRITE, 4000, "/tmp/pending");
		ASSERT_LT(0, pids[i]);
	}
	t0 = now_ms();
	while (got < N_PENDING && now_ms() - t0 < 20000) {
		if (asb_kgate_wait(agent, 1000) > 0)
			while (asb_kgate_next(agent, &a))
				got++;
	}
	ASSERT_EQ(N_PENDING, got);
	ASSERT_EQ(0, status(&st));
	EXPECT_EQ(N_PENDING, st.pending);
	t0 = now_ms();
	asb_kgate_close(agent);	/* agentd dies */
	ASSERT_EQ(0, status(&st));
	EXPECT_EQ(0, st.agent_portid);
	for (i = 0; i < N_PENDING; i++)
		EXPECT_EQ(EACCES, child_status(pids[i]));
	dt = now_ms() - t0;
	EXPECT_LE(1000, dt);	/* at their timeout, not at the close */
	ASSERT_EQ(0, status(&st));
	EXPECT_EQ(0, st.pending);
	if (hung0 >= 0)
		EXPECT_EQ(hung0, hung_task_warnings());
	if (old_hung[0])
		write_str(HUNG, old_hung);
}

TEST(trace_events)
{
	const char *t = "/sys/kernel/tracing";
	char path[256], buf[65536];
	ssize_t n;
	int fd;

	NEED_HOOK();
	snprintf(path, sizeof(path), "%s/events/asb/enable", t);
	if (access(path, W_OK))
		SKIP(return, "no %s (tracefs not mounted?)", path);
	ASSERT_EQ(0, write_str(path, "1"));
	snprintf(path, sizeof(path), "%s/trace", t);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	{
		struct asb_kgate_status st;

		ASSERT_EQ(0, status(&st));
		if (!st.agent_portid)
			EXPECT_EQ(-EACCES, ask_here(1000, "/traced/object"));
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_NE(NULL, strstr(buf, "asb_deny:"));
	EXPECT_NE(NULL, strstr(buf, "reason=no-agent"));
	snprintf(path, sizeof(path), "%s/events/asb/enable", t);
	write_str(path, "0");
}

/*
 * agentd's BPF-LSM programs, pinned, call the module's kfunc and so hold
 * it: enforcement cannot be lifted by unloading asb.ko. Remove the pins
 * (what an operator does to lift enforcement) and wait until it is free.
 */
#define LSM_PINS "/sys/fs/bpf/asb-v6/lsm"

static int unload_module(void)
{
	long end = now_ms() + 30000;

	if (!access(LSM_PINS, F_OK)) {
		if (!syscall(SYS_delete_module, "asb", O_NONBLOCK))
			return -1;	/* enforcement did not hold it */
		if (errno != EWOULDBLOCK && errno != EBUSY)
			return -errno;
		if (system("rm -rf " LSM_PINS))
			return -EIO;
	}
	/* programs are freed after an RCU tasks trace grace period */
	while (syscall(SYS_delete_module, "asb", O_NONBLOCK)) {
		if ((errno != EWOULDBLOCK && errno != EBUSY) || now_ms() > end)
			return -errno;
		usleep(20000);
	}
	return 0;
}

/* Last: unloads and reloads the module with asks pending. */
TEST(unload_with_pending_asks)
{
	pid_t pids[10];
	struct asb_kgate_ask a;
	struct asb_kgate *agent;
	char buf[256];
	int i, got = 0;
	long t0;

	NEED_HOOK();
	if (access(kmod_path(buf, sizeof(buf)), R_OK))
		SKIP(return, "%s missing: cannot reload", buf);
	ASSERT_EQ(0, asb_kgate_open(&agent));
	ASSERT_EQ(0, asb_kgate_register(agent));
	for (i = 0; i < 10; i++)
		pids[i] = ask_child(3, ASB_RULE_ASK_WRITE, 60000, "/tmp/unload");
	t0 = now_ms();
	while (got < 10 && now_ms() - t0 < 20000)
		if (asb_kgate_wait(agent, 1000) > 0)
			while (asb_kgate_next(agent, &a))
				got++;
	ASSERT_EQ(10, got);
	asb_kgate_close(agent);
	t0 = now_ms();
	ASSERT_EQ(0, unload_module());
	for (i = 0; i < 10; i++)
		EXPECT_EQ(EACCES, child_status(pids[i]));
	EXPECT_GT(20000, now_ms() - t0);
	EXPECT_NE(0, access("/sys/module/asb", F_OK));
	ASSERT_EQ(0, load_module());
	ASSERT_EQ(0, access(HOOK, W_OK));
	EXPECT_EQ(-EACCES, ask_here(1000, "/after/reload"));
}

/*
 * The whole path: a gate ask reaches a real agentd, waits in its pending
 * list, and the operator's `asbctl approve` / `asbctl deny` ends the wait.
 */
static int sh(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	return pclose(p);
}

TEST(agentd_holds_gate_asks_for_the_operator)
{
	char exe[4096], cmd[8192], out[8192], bin[4096];
	unsigned int sbid = 0, id;
	pid_t agentd, sleeper, asker;
	ssize_t n;

	NEED_HOOK();
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	snprintf(bin, sizeof(bin), "%s/../bin", exe);
	ASSERT_EQ(0, system("rm -rf /tmp/asb-kg && mkdir -p /tmp/asb-kg"));
	agentd = fork();
	if (agentd == 0) {
		/* an assertion ends the test without cleanup: die with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(cmd, sizeof(cmd), "%s/agentd", bin);
		int fd = open("/tmp/asb-kg/agentd.log", O_WRONLY | O_CREAT, 0600);

		dup2(fd, 2);
		execl(cmd, "agentd", "--socket", "/tmp/asb-kg/ctl.sock",
		      "--state-dir", "/tmp/asb-kg/state", "--audit-log",
		      "/tmp/asb-kg/audit.jsonl", NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200 && access("/tmp/asb-kg/ctl.sock", F_OK); i++) {
		if (waitpid(agentd, NULL, WNOHANG) == agentd) {
			struct utsname u;

			uname(&u);
			/* Debian 12's 6.1: no unix-socket or kern_ctx BPF */
			if (!strncmp(u.release, "6.1.", 4))
				SKIP(return, "agentd has no backend on %s", u.release);
			break;
		}
		usleep(50000);
	}
	ASSERT_EQ(0, access("/tmp/asb-kg/ctl.sock", F_OK))
		TH_LOG("agentd: %d", system("cat /tmp/asb-kg/agentd.log >&2"));
	/* a sandbox for the asks to come from */
	sleeper = fork();
	if (sleeper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(cmd, sizeof(cmd), "%s/asbctl", bin);
		int fd = open("/tmp/asb-kg/run.log", O_WRONLY | O_CREAT, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(cmd, "asbctl", "--socket", "/tmp/asb-kg/ctl.sock", "run",
		      "--policy", "selftests/policies/e2e.ini", "--sandbox", "base",
		      "--", "/bin/sleep", "60", NULL);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket /tmp/asb-kg/ctl.sock status", bin);
	for (long end = now_ms() + 120000; !sbid && now_ms() < end;) {
		char *l;

		usleep(50000);
		if (sh(cmd, out, sizeof(out)))
			continue;
		l = strstr(out, " base ");
		while (l && l > out && l[-1] != '\n')
			l--;
		if (l)
			sbid = strtoul(l, NULL, 10);
	}
	if (!sbid || !strstr(out, "asb.ko gate: version"))
		TH_LOG("agentd: %d", system("cat /tmp/asb-kg/agentd.log /tmp/asb-kg/run.log >&2"));
	ASSERT_NE(0, sbid) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "asb.ko gate: version")) TH_LOG("%s", out);

	for (int allow = 1; allow >= 0; allow--) {
		asker = ask_child(sbid, ASB_RULE_ASK_WRITE, 120000, "/tmp/asb-kg/held");
		snprintf(cmd, sizeof(cmd), "%s/asbctl --socket /tmp/asb-kg/ctl.sock pending", bin);
		id = 0;
		for (long end = now_ms() + 60000; !id && now_ms() < end;) {
			usleep(50000);
			if (!sh(cmd, out, sizeof(out)) && strstr(out, "/tmp/asb-kg/held"))
				id = strtoul(out, NULL, 10);
		}
		if (!id)
			TH_LOG("agentd: %d", system("cat /tmp/asb-kg/agentd.log >&2"));
		ASSERT_NE(0, id) TH_LOG("%s", out);
		/* still waiting in the kernel */
		EXPECT_EQ(0, waitpid(asker, NULL, WNOHANG));
		snprintf(cmd, sizeof(cmd), "%s/asbctl --socket /tmp/asb-kg/ctl.sock %s %u",
			 bin, allow ? "approve" : "deny", id);
		EXPECT_EQ(0, sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_EQ(allow ? 0 : EACCES, child_status(asker));
	}
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	kill(agentd, SIGTERM);
	waitpid(agentd, NULL, 0);
}

TEST_HARNESS_MAIN
