// SPDX-License-Identifier: BSD-3-Clause
/*
 * Human approval, on the portable backend (seccomp user notification)
 * and, in the VM lane, through asb.ko's gate (the audit's "via"): a
 * real agentd, programs run through `asbctl run` under
 * selftests/policies/approval.ini, answered through asbctl. The sandboxed
 * side is this binary itself (--helper MODE ...), copied into the
 * sandbox's exec tree. Root only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/xattr.h>

#include "asb_test.h"
#include "ctl.h"
#include "fscred.h"

#define DIR	"/tmp/asb-appr"
#define POLICY	"selftests/policies/approval.ini"
#define HELPER	DIR "/bin/helper"
#define HELD	DIR "/bin/held"
#define EVIL	DIR "/bin/evil"
#define WHELD	DIR "/ws/held/file"
#define PERM	DIR "/ws/perm"		/* approve.write, files of others */
#define GRP_AGENT	4242		/* a supplementary group of the agent */
#define GRP_AGENTD	4343		/* one of agentd only */

extern char **environ;
static char bindir[PATH_MAX], self_exe[PATH_MAX];

/* ---- the sandboxed side ---- */

static char swap_buf[256];
static struct sockaddr_in swap_sa;
static const char *swap_to;
static int swap_port, swap_ms;

static void *swapper(void *arg)
{
	(void)arg;
	usleep(swap_ms * 1000);
	if (swap_to)
		strcpy(swap_buf, swap_to);
	else
		swap_sa.sin_port = htons(swap_port);
	return NULL;
}

static void start_swap(const char *to, int port, int ms)
{
	pthread_t th;

	swap_to = to;
	swap_port = port;
	swap_ms = ms;
	pthread_create(&th, NULL, swapper, NULL);
}

static int do_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	swap_sa.sin_family = AF_INET;
	swap_sa.sin_port = htons(port);
	swap_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(fd, (struct sockaddr *)&swap_sa, sizeof(swap_sa)) ?
	       -errno : 0;
}

static int do_write(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -errno;
	if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		return -errno;
	close(fd);
	return 0;
}

static void *write_thread(void *arg)
{
	int r = do_write(WHELD, "t");

	printf("%ld %d\n", (long)syscall(SYS_gettid), r);
	return NULL;
}

static int result(int r)
{
	if (r)
		printf("err=%d\n", -r);
	else
		printf("ok\n");
	fflush(stdout);
	return r ? 1 : 0;
}

/* The i-th of the long argvs' arguments: "argNNNN-xxx...", 100 bytes. */
static void long_arg(char *buf, int i)
{
	int n = snprintf(buf, 101, "arg%04d-", i);

	memset(buf + n, 'x', 100 - n);
	buf[100] = 0;
}

/* HELD with @n such arguments: the whole argv, and its length. */
static size_t long_argv(char *buf, int n)
{
	size_t off = strlen(HELD) + 1;

	memcpy(buf, HELD, off);
	for (int i = 0; i < n; i++, off += 101)
		long_arg(buf + off, i);
	return off;
}

static int helper(int argc, char **argv)
{
	const char *m = argv[0];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(m, "exec")) {
		execl(argv[1], argv[1], NULL);
		return result(-errno);
	}
	if (!strcmp(m, "sh")) {
		execl("/bin/sh", "sh", "-c", argv[1], NULL);
		return result(-errno);
	}
	if (!strcmp(m, "exec2")) {
		/* the same exec twice, each in a child */
		for (int i = 0; i < 2; i++) {
			pid_t p = fork();
			int st;

			if (p == 0) {
				execl(argv[1], argv[1], NULL);
				_exit(100 + errno);
			}
			waitpid(p, &st, 0);
			printf("run%d=%d\n", i, WEXITSTATUS(st));
		}
		sleep(1);	/* the sandbox lives on: asbctl status */
		return 0;
	}
	if (!strcmp(m, "exec-swap")) {
		/* ask for HELD, then make the memory say EVIL while waiting */
		strcpy(swap_buf, HELD);
		start_swap(EVIL, 0, atoi(argv[1]));
		execl(swap_buf, swap_buf, DIR "/ws/marker", NULL);
		return result(-errno);
	}
	if (!strcmp(m, "argv-swap")) {
		/* ask for HELD with one argument, then rewrite it while
		 * waiting (another thread; shown and run must be the same) */
		strcpy(swap_buf, "--shown-to-the-operator");
		start_swap("--rewritten-afterwards!", 0, atoi(argv[1]));
		execl(HELD, HELD, swap_buf, NULL);
		return result(-errno);
	}
	if (!strcmp(m, "script-argv-swap")) {
		/* the same for a script run by HELD: the kernel builds the
		 * argv the interpreter gets from the one shown */
		strcpy(swap_buf, "--shown-to-the-operator");
		start_swap("--rewritten-afterwards!", 0, atoi(argv[1]));
		execl(DIR "/bin/script", "script", swap_buf, NULL);
		return result(-errno);
	}
	if (!strcmp(m, "exec-show")) {
		/* what the operator must see, and cannot be fooled by */
		if (chdir(DIR "/ws"))
			return result(-errno);
		prctl(PR_SET_NAME, "c\n99 forged");
		execl(HELD, HELD, "alpha beta", "two\nlines", "\x1b[2J",
		      "rule=x:1", "it's", "plain-1", NULL);
		return result(-errno);
	}
	if (!strcmp(m, "exec-long")) {
		int n = atoi(argv[1]);
		char **av = calloc((size_t)n + 2, sizeof(*av));

		av[0] = HELD;
		for (int i = 0; i < n; i++) {
			av[i + 1] = malloc(101);
			long_arg(av[i + 1], i);
		}
		execv(HELD, av);
		return result(-errno);
	}
	if (!strcmp(m, "connect"))
		return result(do_connect(atoi(argv[1])));
	if (!strcmp(m, "sleep"))
		return sleep(atoi(argv[1])), 0;
	if (!strcmp(m, "connect2")) {
		result(do_connect(atoi(argv[1])));
		return result(do_connect(atoi(argv[1])));
	}
	if (!strcmp(m, "connect-swap")) {
		start_swap(NULL, atoi(argv[2]), atoi(argv[3]));
		return result(do_connect(atoi(argv[1])));
	}
	if (!strcmp(m, "write"))
		return result(do_write(argv[1], "data"));
	if (!strcmp(m, "write-as-nobody")) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return result(-errno);
		return result(do_write(argv[1], "data"));
	}
	if (!strcmp(m, "write2")) {
		result(do_write(argv[1], "data"));
		return result(do_write(argv[1], "data"));
	}
	if (!strcmp(m, "write-swap")) {
		strcpy(swap_buf, WHELD);
		start_swap(DIR "/ws/evil", 0, atoi(argv[1]));
		return result(do_write(swap_buf, "swapped"));
	}
	if (!strcmp(m, "threads")) {
		int n = atoi(argv[1]);
		pthread_t th[128];

		for (int i = 0; i < n && i < 128; i++)
			pthread_create(&th[i], NULL, write_thread, NULL);
		for (int i = 0; i < n && i < 128; i++)
			pthread_join(th[i], NULL);
		return 0;
	}
	return 2;
}

/* ---- the test side ---- */

static int listen_on(int port)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&in, sizeof(in)) || listen(fd, 512)) {
		close(fd);
		return -1;
	}
	return fd;
}

static pid_t start_agentd(void)
{
	char exe[PATH_MAX + 16];
	gid_t g = GRP_AGENTD;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/agentd", bindir);
	unlink(DIR "/agentd.sock");
	pid = fork();
	if (pid == 0) {
		int fd = open(DIR "/agentd.log", O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* a group no sandboxed program has (write_*_permissions) */
		if (setgroups(1, &g))
			_exit(126);
		dup2(fd, 2);
		dup2(fd, 1);
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* no teardown after an assertion */
		execl(exe, "agentd", "--policy", DIR "/policy.ini", "--socket",
		      DIR "/agentd.sock", "--state-dir", DIR "/state",
		      "--audit-log", DIR "/audit.jsonl", NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200 && access(DIR "/agentd.sock", F_OK); i++)
		usleep(50000);
	return pid;
}

FIXTURE(appr) {
	pid_t agentd;
	int srv[3];
	char via[64];	/* the audit's "via" of this backend's asks */
};

FIXTURE_SETUP(appr)
{
	char ctl[PATH_MAX + 16], cmd[PATH_MAX + 128];

	if (geteuid())
		SKIP(return, "needs root");
	/* same pins, cgroups and ports as the e2e tests: one at a time */
	ASSERT_EQ(0, flock(open("/tmp/asb-e2e.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600),
			   LOCK_EX));
	ASSERT_EQ(0, system("rm -rf " DIR " && mkdir -p " DIR "/bin " DIR "/ws/held " DIR "/ws/perm "
			    DIR "/state && cp /bin/true " HELD " && cp /usr/bin/touch "
			    EVIL " && ln " HELD " " DIR "/bin/same && "
			    "printf '#!" HELD "\\n' > " DIR "/bin/script && "
			    "ln -s bin " DIR "/binlink && "
			    "chmod 755 " DIR "/bin/script && "
			    "cp " POLICY " " DIR "/policy.ini"));
	snprintf(cmd, sizeof(cmd), "cp %s " HELPER, self_exe);
	ASSERT_EQ(0, system(cmd));
	for (int i = 0; i < 3; i++) {
		self->srv[i] = listen_on(18180 + i);
		ASSERT_LE(0, self->srv[i]);
	}
	self->agentd = start_agentd();
	ASSERT_EQ(0, access(DIR "/agentd.sock", F_OK));
	snprintf(ctl, sizeof(ctl), "%s/asbctl", bindir);
	ASSERT_BACKEND_EXPECTED(ctl, DIR "/agentd.sock");
	/* asb.ko holds the syscalls when the BPF-LSM programs call it */
	snprintf(cmd, sizeof(cmd), "%s --socket " DIR "/agentd.sock status"
		 " | grep -q 'asks: asb.ko kfunc'", ctl);
	snprintf(self->via, sizeof(self->via), "\"via\":\"%s\"",
		 system(cmd) ? "seccomp" : "asb.ko");
}

FIXTURE_TEARDOWN(appr)
{
	if (geteuid())
		return;
	if (self->agentd > 0) {
		kill(self->agentd, SIGTERM);
		waitpid(self->agentd, NULL, 0);
	}
	for (int i = 0; i < 3; i++)
		if (self->srv[i] >= 0)
			close(self->srv[i]);
}

/* The supplementary groups of the programs run_helper starts. */
static gid_t run_groups[1] = { 0 };

/* asbctl run --sandbox @sb -- helper ARGS... in the background; output to @out. */
static pid_t run_helper(const char *sb, const char *out, const char *const *args)
{
	char exe[PATH_MAX + 16];
	const char *argv[16] = { "asbctl", "--socket", DIR "/agentd.sock", "run",
				 "--sandbox", sb, "--", HELPER, "--helper" };
	int n = 9;
	pid_t pid;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(exe, sizeof(exe), "%s/asbctl", bindir);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (setgroups(1, run_groups))
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(exe, (char **)argv);
		_exit(127);
	}
	return pid;
}

#define RUN(sb, out, ...) run_helper(sb, out, (const char *const[]){ __VA_ARGS__, NULL })

static int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `asbctl pending` output, and its number of lines. */
static int pending(char *buf, size_t len)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	size_t n;
	int lines = 0;

	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " DIR "/agentd.sock pending",
		 bindir);
	p = popen(cmd, "r");
	n = fread(buf, 1, len - 1, p);
	buf[n] = 0;
	pclose(p);
	for (char *c = buf; *c; c++)
		lines += *c == '\n';
	return lines;
}

/* Wait (5 s) until @n requests are pending; the first one's id. */
static unsigned int wait_pending(int n)
{
	static char buf[65536];

	for (int i = 0; i < 600; i++) {
		if (pending(buf, sizeof(buf)) >= n)
			return (unsigned int)strtoul(buf, NULL, 10);
		usleep(50000);
	}
	return 0;
}

static int asbctl(const char *args)
{
	char cmd[PATH_MAX + 256];
	int st;

	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " DIR "/agentd.sock %s >/dev/null 2>&1",
		 bindir, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int answer(unsigned int id, const char *how)
{
	char a[64];

	snprintf(a, sizeof(a), "%s %u", how, id);
	return asbctl(a);
}

#define AUDIT_HAS(...) ASB_AUDIT_HAS(DIR "/audit.jsonl", __VA_ARGS__)

/* One ask of each kind, answered @how: the helper's exit and output. */
static int ask_once(const char *sb, const char *how, const char *mode,
		    const char *arg, char *out, size_t len)
{
	pid_t p = RUN(sb, DIR "/out", mode, arg);
	unsigned int id = how ? wait_pending(1) : 0;
	int st;

	if (how && id)
		answer(id, how);
	st = wait_exit(p);
	asb_slurp(DIR "/out", out, len);
	return st;
}

TEST_F(appr, exec_approve_deny_timeout)
{
	char out[4096];

	EXPECT_EQ(0, ask_once("ask", "approve", "exec", HELD, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"exec\"", "\"verdict\":\"ask\"", "policy.ini:9\""));
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"exec\"", "\"verdict\":\"allow\"", self->via));
	EXPECT_EQ(1, ask_once("ask", "deny", "exec", HELD, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=13")) TH_LOG("%s", out);
	/* nobody answers: approve.timeout = 2, default deny / allow */
	EXPECT_EQ(1, ask_once("ask", NULL, "exec", HELD, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=13")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"exec\"", "\"verdict\":\"deny\"", "\"by\":\"timeout\""));
	EXPECT_EQ(0, ask_once("askallow", NULL, "exec", HELD, out, sizeof(out))) TH_LOG("%s", out);
	/* not an approve.exec program: runs without asking */
	EXPECT_EQ(0, ask_once("ask", NULL, "exec", "/usr/bin/true", out, sizeof(out)));
}

/*
 * The program asks however it is reached: by a hard link of another name,
 * or as the interpreter a "#!" script names.
 */
TEST_F(appr, exec_asks_by_file_not_name)
{
	static const char *const ways[] = { DIR "/bin/same", DIR "/bin/script" };
	char out[4096];

	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(1, ask_once("ask", "deny", "exec", ways[i], out,
				      sizeof(out))) TH_LOG("%s: %s", ways[i], out);
		EXPECT_NE(NULL, strstr(out, "err=13")) TH_LOG("%s", out);
	}
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"exec\"", "\"verdict\":\"deny\"",
			      "\"by\":\"uid:0\""));
	/* approved, the script runs with its interpreter */
	EXPECT_EQ(0, ask_once("ask", "approve", "exec", ways[1], out,
			      sizeof(out))) TH_LOG("%s", out);
}

TEST_F(appr, connect_approve_deny_timeout)
{
	char out[4096];

	EXPECT_EQ(0, ask_once("ask", "approve", "connect", "18181", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(1, ask_once("ask", "deny", "connect", "18181", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=1")) TH_LOG("%s", out);
	EXPECT_EQ(1, ask_once("ask", NULL, "connect", "18181", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=1")) TH_LOG("%s", out);
	EXPECT_EQ(0, ask_once("askallow", NULL, "connect", "18181", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(0, ask_once("ask", NULL, "connect", "18180", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"127.0.0.1:18181\"", "\"verdict\":\"allow\"", "\"by\":\"uid:0\""));
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"127.0.0.1:18181\"", "\"verdict\":\"allow\"", self->via));
}

/*
 * asb.ko's two approve.connect programs would run on every connect of the
 * host: agentd attaches them only while a sandbox has approve.connect.
 */
#define CONNECT_PIN "/sys/fs/bpf/asb-v6/lsm/asb_socket_connect_ask"

TEST_F(appr, connect_programs_attached_only_while_needed)
{
	unsigned int id;
	pid_t p;
	int i;

	if (!strstr(self->via, "asb.ko"))
		SKIP(return, "asks go through seccomp here: the VM lane runs this");
	EXPECT_NE(0, access(CONNECT_PIN, F_OK));
	p = RUN("ask", DIR "/out", "connect", "18181");
	id = wait_pending(1);
	ASSERT_NE(0, id);
	EXPECT_EQ(0, access(CONNECT_PIN, F_OK));
	answer(id, "deny");
	EXPECT_EQ(1, wait_exit(p));
	/* the sandbox is removed once it has been empty for a while */
	for (i = 0; i < 200 && !access(CONNECT_PIN, F_OK); i++)
		usleep(50000);
	EXPECT_NE(0, access(CONNECT_PIN, F_OK));
}

/* A FIFO asked for write never blocks agentd: with no reader, ENXIO. */
TEST_F(appr, write_fifo_never_blocks_agentd)
{
	char out[4096];

	unlink(WHELD);
	ASSERT_EQ(0, mkfifo(WHELD, 0666));
	EXPECT_EQ(1, ask_once("ask", "approve", "write", WHELD, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=6")) TH_LOG("%s", out);
	EXPECT_EQ(0, asbctl("status"));
	unlink(WHELD);
}

TEST_F(appr, write_approve_deny_timeout)
{
	char out[4096], data[64];

	EXPECT_EQ(0, ask_once("ask", "approve", "write", WHELD, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_STREQ("data", asb_slurp(WHELD, data, sizeof(data)));
	unlink(WHELD);
	EXPECT_EQ(1, ask_once("ask", "deny", "write", WHELD, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=13")) TH_LOG("%s", out);
	EXPECT_NE(0, access(WHELD, F_OK));
	EXPECT_EQ(1, ask_once("ask", NULL, "write", WHELD, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=13")) TH_LOG("%s", out);
	EXPECT_EQ(0, ask_once("askallow", NULL, "write", WHELD, out, sizeof(out))) TH_LOG("%s", out);
	/* elsewhere in fs.write: no question; outside: refused as the
	 * sandbox's read-only view would (agentd sees every open for writing
	 * first), and recorded */
	EXPECT_EQ(0, ask_once("ask", NULL, "write", DIR "/ws/free", out, sizeof(out)));
	EXPECT_EQ(1, ask_once("ask", NULL, "write", DIR "/bin/x", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "err=30")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"" DIR "/bin/x\"", "\"verdict\":\"deny\"", "read-only"));
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"" WHELD "\"", "\"verdict\":\"deny\"", "\"by\":\"uid:0\""));
	/* on every backend: the sandbox's view of it is read-only */
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"" WHELD "\"", "\"verdict\":\"allow\"", "\"via\":\"seccomp\""));
}

/*
 * approve.write holds opens for writing, and nothing else changes what it
 * covers, though it lies inside fs.write: no unlink, rename or link onto,
 * symlink, mkdir, mknod, truncate by path, mode, times or xattrs.
 */
TEST_F(appr, held_subtree_changes_only_by_approved_open)
{
	struct stat before, after;
	char out[8192], data[64];

	ASSERT_EQ(0, system("echo kept > " WHELD " && echo x > " DIR "/ws/free"));
	ASSERT_EQ(0, stat(WHELD, &before));
	EXPECT_EQ(0, ask_once("ask", NULL, "sh", "cd " DIR "/ws\n"
			      "rm -f held/file && echo did rm\n"
			      "mv free held/file && echo did mv\n"
			      "ln free held/l && echo did ln\n"
			      "ln -s free held/s && echo did symlink\n"
			      "mkdir held/d && echo did mkdir\n"
			      "mkfifo held/p && echo did mkfifo\n"
			      "chmod 600 held/file && echo did chmod\n"
			      "touch -d @0 held/file && echo did touch\n"
			      "python3 -c 'import os; os.setxattr(\"held/file\", "
			      "\"user.x\", b\"1\")' && echo did setxattr\n"
			      "python3 -c 'import os; os.truncate(\"held/file\", 0)' "
			      "&& echo did truncate\n"
			      "echo end\n", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "end")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "did")) TH_LOG("%s", out);
	ASSERT_EQ(0, stat(WHELD, &after));
	EXPECT_EQ(before.st_ino, after.st_ino);
	EXPECT_EQ(before.st_mode, after.st_mode);
	EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	EXPECT_STREQ("kept\n", asb_slurp(WHELD, data, sizeof(data)));
	EXPECT_EQ(-1, getxattr(WHELD, "user.x", NULL, 0));
	/* one that does not exist could be made by a rename: not started */
	EXPECT_NE(0, ask_once("askmissing", NULL, "exec", "/usr/bin/true", out,
			      sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "inside fs.write, exist")) TH_LOG("%s", out);
}

/* --always: the next identical action does not ask; status shows the rule. */
TEST_F(appr, always_adds_runtime_rule)
{
	static const char *const modes[][2] = {
		{ "exec2", HELD }, { "connect2", "18181" }, { "write2", WHELD },
	};
	char out[4096], cmd[PATH_MAX + 64];

	for (int i = 0; i < 3; i++) {
		pid_t p = RUN("askslow", DIR "/out", modes[i][0], modes[i][1]);
		unsigned int id = wait_pending(1);

		ASSERT_NE(0, id);
		snprintf(cmd, sizeof(cmd), "approve %u --always", id);
		EXPECT_EQ(0, asbctl(cmd));
		if (i == 0) {
			/* the sandbox lives: its runtime rule is listed */
			FILE *f;
			size_t n;

			snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " DIR "/agentd.sock status", bindir);
			f = popen(cmd, "r");
			n = fread(out, 1, sizeof(out) - 1, f);
			out[n] = 0;
			pclose(f);
			EXPECT_NE(NULL, strstr(out, "runtime rule: approve.exec allow " HELD)) TH_LOG("%s", out);
		}
		/* nothing else is asked: the second action goes through */
		EXPECT_EQ(0, wait_exit(p));
		asb_slurp(DIR "/out", out, sizeof(out));
		if (i == 0) {
			EXPECT_NE(NULL, strstr(out, "run0=0\nrun1=0")) TH_LOG("%s", out);
		} else {
			EXPECT_NE(NULL, strstr(out, "ok\nok")) TH_LOG("%s", out);
		}
		EXPECT_EQ(0, pending(out, sizeof(out)));
	}
	EXPECT_TRUE(AUDIT_HAS("\"verdict\":\"allow\"", "\"by\":\"runtime-rule\"", "\"action\":\"write\""));
}

/* ---- what was approved is what happens ---- */

TEST_F(appr, toctou_exec_path_swapped)
{
	char out[4096];
	pid_t p = RUN("askslow", DIR "/out", "exec-swap", "300");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id);
	usleep(600000);		/* the memory now says EVIL */
	EXPECT_EQ(0, answer(id, "approve"));
	/*
	 * asb.ko: held in bprm_check on the file exec opened, HELD runs;
	 * seccomp: the kernel ran EVIL, killed before its first instruction
	 */
	EXPECT_EQ(strstr(self->via, "asb.ko") ? 0 : 128 + SIGKILL, wait_exit(p))
		TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	EXPECT_NE(0, access(DIR "/ws/marker", F_OK));
}

/* The operator sees the resolved program, its argv and the cwd; an argv
 * rewritten after that is never what runs. */
TEST_F(appr, toctou_exec_argv_rewritten)
{
	static char buf[65536];
	char out[4096];
	pid_t p = RUN("askslow", DIR "/out", "argv-swap", "300");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id);
	pending(buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, HELD " --shown-to-the-operator (cwd "))
		TH_LOG("%s", buf);
	usleep(600000);		/* the memory now says otherwise */
	EXPECT_EQ(0, answer(id, "approve"));
	/*
	 * asb.ko: held in bprm_check, the argv already copied in: it runs
	 * with what was there; seccomp: another argv than the one shown,
	 * killed before its first instruction
	 */
	EXPECT_EQ(strstr(self->via, "asb.ko") ? 0 : 128 + SIGKILL, wait_exit(p))
		TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
}

/*
 * The same for a "#!" script whose interpreter asks: the argv checked is
 * the one load_script() builds from the one shown (interpreter, script,
 * arguments); a run with another is killed. Approved, the same argv runs.
 */
TEST_F(appr, toctou_script_argv_rewritten)
{
	static char buf[65536];
	char out[4096];
	pid_t p = RUN("askslow", DIR "/out", "script-argv-swap", "300");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id);
	pending(buf, sizeof(buf));
	/*
	 * seccomp holds the execve of the script and names the chain;
	 * asb.ko holds the interpreter's bprm_check, argv already built
	 */
	EXPECT_NE(NULL, strstr(buf, strstr(self->via, "asb.ko") ?
			       HELD " " DIR "/bin/script --shown-to-the-operator (cwd " :
			       DIR "/bin/script (run by " HELD ") --shown-to-the-operator (cwd "))
		TH_LOG("%s", buf);
	usleep(600000);
	EXPECT_EQ(0, answer(id, "approve"));
	EXPECT_EQ(strstr(self->via, "asb.ko") ? 0 : 128 + SIGKILL, wait_exit(p))
		TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));

	p = RUN("askslow", DIR "/out", "script-argv-swap", "100000");
	id = wait_pending(1);
	ASSERT_NE(0, id);
	EXPECT_EQ(0, answer(id, "approve"));
	EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
}

/*
 * approve.exec paths that cannot be held are refused at start: a "#!"
 * script (its interpreter would read it without any exec of it), and a
 * program the sandbox may write at through a symlinked fs.write path.
 */
TEST_F(appr, exec_unholdable_refused)
{
	static const char *const sbs[] = { "askscript", "asklinkexec" };
	char out[4096];

	for (int i = 0; i < 2; i++) {
		EXPECT_NE(0, ask_once(sbs[i], NULL, "exec", "/usr/bin/true", out,
				      sizeof(out))) TH_LOG("%s", sbs[i]);
		EXPECT_NE(NULL, strstr(out, "an approve.exec path must not be inside fs.write"))
			TH_LOG("%s: %s", sbs[i], out);
	}
}

/*
 * Both mechanisms show the resolved program, its argv (argv[0] is the
 * program) and the cwd, every byte printable: an argument or a comm with
 * a newline cannot make a second line of `pending`.
 */
TEST_F(appr, exec_prompt_shows_argv_and_cwd)
{
	static char buf[65536];
	char out[4096];
	pid_t p = RUN("askslow", DIR "/out", "exec-show");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	EXPECT_EQ(1, pending(buf, sizeof(buf))) TH_LOG("%s", buf);
	/* where each argument ends, and what is no field of the line */
	EXPECT_NE(NULL, strstr(buf, " exec " HELD " 'alpha beta' 'two\\x0alines' "
			       "'\\x1b[2J' 'rule=x:1' 'it\\x27s' plain-1 (cwd "
			       DIR "/ws) rule="))
		TH_LOG("%s", buf);
	EXPECT_EQ(0, answer(id, "approve"));
	EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	EXPECT_TRUE(AUDIT_HAS("\"verdict\":\"ask\"", "'alpha beta' 'two", self->via));
}

/* The digest a cut argv is shown with: the kernel's SHA-256, or (seccomp)
 * the FNV-1a 64 the exec guard checks. */
static void argv_digest(const char *via, const char *argv, size_t len,
			char *out, size_t outlen)
{
	unsigned long long h = 0xcbf29ce484222325ull;
	char hex[80] = "";
	FILE *f;

	if (!strstr(via, "asb.ko")) {
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)argv[i]) * 0x100000001b3ull;
		snprintf(out, outlen, "fnv64 %016llx]", h);
		return;
	}
	f = fopen(DIR "/argv.bin", "w");
	fwrite(argv, 1, len, f);
	fclose(f);
	f = popen("sha256sum " DIR "/argv.bin", "r");
	if (!fgets(hex, sizeof(hex), f))
		hex[0] = 0;
	pclose(f);
	hex[strcspn(hex, " ")] = 0;
	snprintf(out, outlen, "sha256 %s]", hex);
}

/* An argv longer than the prompt: cut, marked with its length and digest. */
TEST_F(appr, exec_prompt_cuts_long_argv)
{
	static char buf[65536], argv[8192];
	char out[4096], mark[160], digest[96], first[160];
	size_t len = long_argv(argv, 50);	/* > 4 KiB */
	pid_t p = RUN("askslow", DIR "/out", "exec-long", "50");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	pending(buf, sizeof(buf));
	snprintf(first, sizeof(first), " exec " HELD " %s ", argv + strlen(HELD) + 1);
	EXPECT_NE(NULL, strstr(buf, first)) TH_LOG("%s", buf);
	argv_digest(self->via, argv, len, digest, sizeof(digest));
	snprintf(mark, sizeof(mark), " ...[cut: %zu argv bytes, %s (cwd ", len,
		 digest);
	EXPECT_NE(NULL, strstr(buf, mark)) TH_LOG("%s\nwanted: %s", buf, mark);
	/* the last argument is not shown */
	EXPECT_EQ(NULL, strstr(buf, "arg0049-")) TH_LOG("%s", buf);
	EXPECT_EQ(0, answer(id, "approve"));
	EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
}

/* An argv that cannot be shown whole is never run: E2BIG, and the record
 * says why. */
TEST_F(appr, exec_argv_too_long_is_refused)
{
	static char buf[65536];
	char out[4096];
	pid_t p = RUN("askslow", DIR "/out", "exec-long", "700");	/* 70 KiB */

	EXPECT_EQ(1, wait_exit(p));
	asb_slurp(DIR "/out", out, sizeof(out));
	EXPECT_NE(NULL, strstr(out, "err=7")) TH_LOG("%s", out);
	EXPECT_EQ(0, pending(buf, sizeof(buf))) TH_LOG("%s", buf);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"exec\"", "\"verdict\":\"deny\"",
			      "argv too long to show", "argv unreadable or over "));
}

TEST_F(appr, toctou_connect_address_swapped)
{
	char out[4096];
	pid_t p = RUN("askslow", DIR "/out", "connect-swap", "18181", "18182", "300");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id);
	usleep(600000);		/* the sockaddr now says port 18182 */
	EXPECT_EQ(0, answer(id, "approve"));
	if (strstr(self->via, "asb.ko")) {
		/* held in socket_connect on the kernel's copy: 18181 it is */
		int c;

		EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
		fcntl(self->srv[1], F_SETFL, O_NONBLOCK);
		c = accept(self->srv[1], NULL, NULL);
		EXPECT_LE(0, c);
		if (c >= 0)
			close(c);
		fcntl(self->srv[2], F_SETFL, O_NONBLOCK);
		EXPECT_GT(0, accept(self->srv[2], NULL, NULL));
		return;
	}
	EXPECT_EQ(1, wait_exit(p));
	EXPECT_NE(NULL, strstr(asb_slurp(DIR "/out", out, sizeof(out)), "err=1\n")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"127.0.0.1:18182\"", "\"verdict\":\"deny\"", "\"source\":\"bpf\""));
}

TEST_F(appr, toctou_write_path_swapped)
{
	char out[4096], data[64];
	pid_t p = RUN("askslow", DIR "/out", "write-swap", "300");
	unsigned int id = wait_pending(1);

	ASSERT_NE(0, id);
	usleep(600000);		/* the path now says ws/evil */
	EXPECT_EQ(0, answer(id, "approve"));
	EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	/* the fd is the approved file, whatever the memory said later */
	EXPECT_STREQ("swapped", asb_slurp(WHELD, data, sizeof(data)));
	EXPECT_NE(0, access(DIR "/ws/evil", F_OK));
}

/* ---- taking on a target's credentials (agentd/fscred.c) ---- */

TEST(fscred_parse_whole_lines_only)
{
	static const char ok[] = "Name:\tx\nUid:\t0\t0\t0\t1000\n"
		"Gid:\t0\t0\t0\t100\nGroups:\t4 24 \nCapEff:\t0000000000200000\n";
	static const char *const bad[] = {
		"Uid:\t0\t0\t1000\nGid:\t0\t0\t0\t0\nGroups:\t \nCapEff:\t0000000000000000\n",
		"Uid:\t0\t0\t0\t-1\nGid:\t0\t0\t0\t0\nGroups:\t \nCapEff:\t0000000000000000\n",
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t \n",
		/* a buffer cut short: another set, or another id */
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t \nCapEff:\t00000000",
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t 4 2",
	};
	static char many[4096];
	struct asb_fscred c;
	size_t off;

	ASSERT_EQ(0, asb_fscred_parse(&c, ok));
	EXPECT_EQ(1000, c.fsuid);
	EXPECT_EQ(100, c.fsgid);
	ASSERT_EQ(2, c.ngroups);
	EXPECT_EQ(24, c.groups[1]);
	EXPECT_EQ(1ull << 21, c.eff);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		EXPECT_EQ(-EPROTO, asb_fscred_parse(&c, bad[k])) TH_LOG("%zu", k);
	}
	/* more groups than it holds: refused, never a subset */
	off = (size_t)snprintf(many, sizeof(many),
			       "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t");
	for (int g = 0; g <= ASB_FSCRED_GROUPS; g++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%d ", g);
	snprintf(many + off, sizeof(many) - off, "\nCapEff:\t0000000000000000\n");
	EXPECT_EQ(-E2BIG, asb_fscred_parse(&c, many));
}

/* What one thread sees of itself and of the main thread, by status. */
struct fscred_seen {
	char main[2048], in[2048], before[2048], after[2048];
	pid_t main_tid;
	int err;
};

static void creds_of(const char *path, char *buf, size_t len)
{
	static const char *const keep[] = {
		"Uid:", "Gid:", "Groups:", "CapEff:", "CapPrm:",
	};
	char raw[8192], *line, *save;
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, raw, sizeof(raw) - 1);
	size_t off = 0;

	if (fd >= 0)
		close(fd);
	raw[n > 0 ? n : 0] = 0;
	buf[0] = 0;
	for (line = strtok_r(raw, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (!strncmp(line, keep[i], strlen(keep[i])) && off < len)
				off += (size_t)snprintf(buf + off, len - off,
							"%s\n", line);
}

static void *fscred_thread(void *arg)
{
	struct fscred_seen *w = arg;
	struct asb_fscred self, as = {
		.fsuid = 65534, .fsgid = 65534, .ngroups = 1,
		.groups = { GRP_AGENT }, .eff = 0,
	};
	char main_status[64];
	unsigned int undo;

	snprintf(main_status, sizeof(main_status), "/proc/self/task/%d/status",
		 w->main_tid);
	w->err = asb_fscred_self(&self);
	if (w->err)
		return NULL;
	creds_of("/proc/thread-self/status", w->before, sizeof(w->before));
	w->err = asb_fscred_enter(&self, &as, &undo);
	if (w->err)
		return NULL;
	creds_of("/proc/thread-self/status", w->in, sizeof(w->in));
	creds_of(main_status, w->main, sizeof(w->main));
	asb_fscred_leave(&self, undo);
	creds_of("/proc/thread-self/status", w->after, sizeof(w->after));
	return NULL;
}

/*
 * The calling thread only takes on fsuid, fsgid, groups and the effective
 * set, and takes its own back whole: the file-system capabilities the
 * kernel dropped when fsuid left 0 too.
 */
TEST(fscred_enter_leave_one_thread)
{
	struct fscred_seen w = { .main_tid = (pid_t)syscall(SYS_gettid) };
	char mine[2048];
	pthread_t th;

	if (geteuid())
		SKIP(return, "needs root");
	creds_of("/proc/thread-self/status", mine, sizeof(mine));
	ASSERT_EQ(0, pthread_create(&th, NULL, fscred_thread, &w));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, w.err);
	EXPECT_NE(NULL, strstr(w.in, "Uid:\t0\t0\t0\t65534\n")) TH_LOG("%s", w.in);
	EXPECT_NE(NULL, strstr(w.in, "Gid:\t0\t0\t0\t65534\n")) TH_LOG("%s", w.in);
	EXPECT_NE(NULL, strstr(w.in, "Groups:\t4242 \n")) TH_LOG("%s", w.in);
	EXPECT_NE(NULL, strstr(w.in, "CapEff:\t0000000000000000\n")) TH_LOG("%s", w.in);
	EXPECT_STREQ(mine, w.main);
	EXPECT_STREQ(w.before, w.after);
	EXPECT_STREQ(mine, w.after);
}

/* ---- an approved write is opened with the agent's own permissions ---- */

/* A file or directory (@mode with its type bits) of @uid:@gid; 0 or -1. */
static int make(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	int fd;

	if (S_ISDIR(mode)) {
		if (mkdir(path, 0700))
			return -1;
		fd = open(path, O_RDONLY | O_DIRECTORY);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd >= 0 && write(fd, "x", 1) != 1) {
			close(fd);
			return -1;
		}
	}
	if (fd < 0)
		return -1;
	if (fchown(fd, uid, gid) || fchmod(fd, mode & 07777)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* @p's exit, refused without a question: one asked is denied, 99. */
static int exit_unasked(pid_t p)
{
	char buf[4096];
	int st;

	for (int i = 0; i < 100; i++) {
		if (waitpid(p, &st, WNOHANG) == p)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(50000);
	}
	if (pending(buf, sizeof(buf)))
		answer((unsigned int)strtoul(buf, NULL, 10), "deny");
	wait_exit(p);
	return 99;
}

/* agentd's credentials, from its status: they must be its own after. */
static char *agentd_creds(pid_t pid, char *buf, size_t len)
{
	static const char *const keep[] = {
		"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
	};
	char path[64], raw[8192], *line, *save;
	size_t off = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	asb_slurp(path, raw, sizeof(raw));
	buf[0] = 0;
	for (line = strtok_r(raw, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (!strncmp(line, keep[i], strlen(keep[i])) &&
			    off < len)
				off += snprintf(buf + off, len - off, "%s\n", line);
	return buf;
}

/*
 * The agent is root without capabilities: what the kernel would refuse
 * it is refused, approved or not (askallow: nobody answers, the timeout
 * allows). Neither mechanism asks: the kernel checks permissions before
 * its hook holds the open, agentd checks them as the agent before asking.
 */
TEST_F(appr, write_needs_the_agents_permissions)
{
	static const char *const refused[] = {
		PERM "/other",		/* 0600 of nobody */
		PERM "/locked/new",	/* created in a 0700 directory of nobody */
		PERM "/locked/deep/new",	/* below it */
		PERM "/agentds",	/* 0660 of a group agentd has */
	};
	char out[4096], data[64], ask[PATH_MAX + 64];

	ASSERT_EQ(0, chmod(PERM, 0755));
	ASSERT_EQ(0, make(PERM "/other", 65534, 65534, 0600));
	ASSERT_EQ(0, make(PERM "/locked", 65534, 65534, S_IFDIR | 0700));
	ASSERT_EQ(0, make(PERM "/locked/deep", 0, 0, S_IFDIR | 0777));
	ASSERT_EQ(0, make(PERM "/agentds", 65534, GRP_AGENTD, 0660));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		EXPECT_EQ(1, ask_once("askallow", NULL, "write", refused[i],
				      out, sizeof(out))) TH_LOG("%s: %s", refused[i], out);
		EXPECT_NE(NULL, strstr(out, "err=13")) TH_LOG("%s: %s", refused[i], out);
		snprintf(ask, sizeof(ask), "\"object\":\"%s\"", refused[i]);
		EXPECT_FALSE(AUDIT_HAS(ask, "\"verdict\":\"ask\"")) TH_LOG("%s", refused[i]);
	}
	EXPECT_STREQ("x", asb_slurp(PERM "/other", data, sizeof(data)));
	EXPECT_STREQ("x", asb_slurp(PERM "/agentds", data, sizeof(data)));
	EXPECT_NE(0, access(PERM "/locked/new", F_OK));
	EXPECT_NE(0, access(PERM "/locked/deep/new", F_OK));
}

/*
 * agentd checks again when it opens, after the approval: a file or
 * directory that became the agent's no more while it waited is refused.
 * (asb.ko holds the kernel's own open after its permission check: what
 * changes then does not count, as for any open in progress.)
 */
TEST_F(appr, approved_write_opened_with_agents_permissions)
{
	static const char *const paths[] = { PERM "/mine", PERM "/dir/new" };
	char out[4096], data[64];
	unsigned int id;
	pid_t p;

	ASSERT_EQ(0, chmod(PERM, 0755));
	ASSERT_EQ(0, make(PERM "/mine", 0, 0, 0644));
	ASSERT_EQ(0, make(PERM "/dir", 0, 0, S_IFDIR | 0755));
	for (int i = 0; i < 2; i++) {
		p = RUN("askslow", DIR "/out", "write", paths[i]);
		id = wait_pending(1);
		ASSERT_NE(0, id);
		/* the file, or the directory it is created in, is nobody's */
		ASSERT_EQ(0, chown(i ? PERM "/dir" : paths[i], 65534, 65534));
		ASSERT_EQ(0, chmod(i ? PERM "/dir" : paths[i], i ? 0700 : 0600));
		EXPECT_EQ(0, answer(id, "approve"));
		EXPECT_EQ(1, wait_exit(p));
		EXPECT_NE(NULL, strstr(asb_slurp(DIR "/out", out, sizeof(out)), "err=13"))
			TH_LOG("%s: %s", paths[i], out);
	}
	EXPECT_STREQ("x", asb_slurp(PERM "/mine", data, sizeof(data)));
	EXPECT_NE(0, access(PERM "/dir/new", F_OK));
}

/*
 * What the agent may write opens once approved: its own file, a file of
 * its supplementary group, and as nobody, nobody's file. agentd's own
 * credentials are the same after each.
 */
TEST_F(appr, approved_write_agents_own_and_group_files)
{
	static const struct {
		const char *sb, *mode, *path;
		int exit;
	} c[] = {
		{ "askslow", "write", PERM "/mine", 0 },
		{ "askslow", "write", PERM "/group", 0 },
		{ "askslow", "write", PERM "/new", 0 },
		{ "askuser", "write-as-nobody", PERM "/nobodys", 0 },
		{ "askuser", "write-as-nobody", PERM "/nobody/new", 0 },
		{ "askuser", "write-as-nobody", PERM "/mine", 1 },
		{ "askuser", "write-as-nobody", PERM "/group", 1 },
	};
	char before[2048], after[2048], out[4096], data[64];
	unsigned int id;
	pid_t p;

	ASSERT_EQ(0, chmod(PERM, 0755));
	ASSERT_EQ(0, make(PERM "/mine", 0, 0, 0644));
	ASSERT_EQ(0, make(PERM "/group", 1, GRP_AGENT, 0660));
	ASSERT_EQ(0, make(PERM "/nobodys", 65534, 65534, 0644));
	ASSERT_EQ(0, make(PERM "/nobody", 65534, 65534, S_IFDIR | 0755));
	agentd_creds(self->agentd, before, sizeof(before));
	ASSERT_NE(NULL, strstr(before, "CapEff:")) TH_LOG("%s", before);
	run_groups[0] = GRP_AGENT;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		p = RUN(c[i].sb, DIR "/out", c[i].mode, c[i].path);
		id = c[i].exit ? 0 : wait_pending(1);
		if (!c[i].exit) {
			EXPECT_NE(0, id) TH_LOG("%s", c[i].path);
			EXPECT_EQ(0, answer(id, "approve"));
		}
		EXPECT_EQ(c[i].exit, c[i].exit ? exit_unasked(p) : wait_exit(p))
			TH_LOG("%s", c[i].path);
		asb_slurp(DIR "/out", out, sizeof(out));
		EXPECT_NE(NULL, strstr(out, c[i].exit ? "err=13" : "ok"))
			TH_LOG("%s: %s", c[i].path, out);
		if (!c[i].exit) {
			EXPECT_STREQ("data", asb_slurp(c[i].path, data, sizeof(data)))
				TH_LOG("%s", c[i].path);
		}
		EXPECT_STREQ(before, agentd_creds(self->agentd, after, sizeof(after)))
			TH_LOG("after %s %s", c[i].mode, c[i].path);
	}
	run_groups[0] = 0;
}

/*
 * asbctl attach: a process asbctl did not start. With asb.ko its connect
 * waits for the operator like any other; on the portable backend it has
 * no seccomp listener, so the approve.connect address is plainly denied.
 */
TEST_F(appr, attached_process_asks_or_is_denied)
{
	char a[64], out[4096];
	pid_t hold = RUN("askslow", DIR "/hold", "sleep", "60"), child;
	int go[2], i;

	ASSERT_EQ(0, pipe(go));
	child = fork();
	if (child == 0) {
		char c;
		int fd = open(DIR "/out", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(99);
		dup2(fd, 1);
		execl(HELPER, HELPER, "--helper", "connect", "18181", NULL);
		_exit(127);
	}
	close(go[0]);
	snprintf(a, sizeof(a), "attach --sandbox askslow %d", child);
	for (i = 0; i < 600 && asbctl(a); i++)	/* until the sandbox runs */
		usleep(50000);
	ASSERT_GT(600, i);
	ASSERT_EQ(1, write(go[1], "x", 1));
	if (strstr(self->via, "asb.ko")) {
		unsigned int id = wait_pending(1);

		ASSERT_NE(0, id);
		EXPECT_EQ(0, answer(id, "approve"));
		EXPECT_EQ(0, wait_exit(child))
			TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	} else {
		EXPECT_EQ(1, wait_exit(child));
		EXPECT_NE(NULL, strstr(asb_slurp(DIR "/out", out, sizeof(out)), "err=1\n")) TH_LOG("%s", out);
	}
	close(go[1]);
	kill(hold, SIGTERM);
	wait_exit(hold);
}

/* ---- the operator's side ---- */

/* Append what the terminal @mfd prints to @buf until @want shows (5 s). */
static void pty_read_until(int mfd, char *buf, size_t len, size_t *off,
			   const char *want)
{
	for (int i = 0; i < 100 && !strstr(buf, want); i++) {
		struct timeval tv = { 0, 50000 };
		fd_set s;
		ssize_t n;

		FD_ZERO(&s);
		FD_SET(mfd, &s);
		if (select(mfd + 1, &s, NULL, NULL, &tv) > 0 &&
		    (n = read(mfd, buf + *off, len - 1 - *off)) > 0) {
			*off += n;
			buf[*off] = 0;
		}
	}
}

TEST_F(appr, watch_through_a_pty)
{
	char exe[PATH_MAX + 16], buf[8192] = "", out[4096];
	size_t off = 0;
	int mfd, st;
	pid_t w, p;

	snprintf(exe, sizeof(exe), "%s/asbctl", bindir);
	w = forkpty(&mfd, NULL, NULL, NULL);
	ASSERT_LE(0, w);
	if (w == 0) {
		execl(exe, "asbctl", "--socket", DIR "/agentd.sock", "watch", NULL);
		_exit(127);
	}
	p = RUN("askslow", DIR "/out", "write", WHELD);
	/* the request and the prompt appear on the terminal */
	pty_read_until(mfd, buf, sizeof(buf), &off, "allow?");
	EXPECT_NE(NULL, strstr(buf, "write " WHELD)) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "policy.ini:11")) TH_LOG("%s", buf);
	ASSERT_NE(NULL, strstr(buf, "allow?"));
	ASSERT_EQ(2, write(mfd, "y\n", 2));
	EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	/* the outcome, from agentd over the watch connection */
	pty_read_until(mfd, buf, sizeof(buf), &off, "allowed write");
	EXPECT_NE(NULL, strstr(buf, "allowed write " WHELD)) TH_LOG("%s", buf);
	kill(w, SIGTERM);
	waitpid(w, &st, 0);
	close(mfd);
}

/* One text message of the watch connection, NUL-terminated; its length. */
static ssize_t watch_recv(int fd, char *buf, size_t len)
{
	struct timeval tv = { .tv_sec = 10 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* Answers ride on the watch connection; anything else there ends it. */
TEST_F(appr, watch_connection_answers)
{
	struct asb_ctl_req req;
	char buf[4096], want[64], out[4096];
	unsigned int id;
	int fd, other;
	pid_t p;

	asb_ctl_req_init(&req, ASB_CTL_WATCH);
	fd = asb_ctl_open(DIR "/agentd.sock", &req);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));	/* "watching" */
	p = RUN("askslow", DIR "/out", "write", WHELD);
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));
	ASSERT_EQ(1, sscanf(buf, "%u ", &id)) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "write " WHELD)) TH_LOG("%s", buf);

	/* a request that is not pending: refused, the real one still waits */
	asb_ctl_req_init(&req, ASB_CTL_ANSWER);
	req.id = id + 1000;
	req.flags = ASB_CTL_ANSWER_ALLOW;
	ASSERT_EQ(sizeof(req), send(fd, &req, sizeof(req), 0));
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));
	EXPECT_EQ('!', buf[0]) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "no pending request")) TH_LOG("%s", buf);
	/* a bad answer code ends the watch, answers nothing */
	req.id = id;
	req.flags = 7;
	ASSERT_EQ(sizeof(req), send(fd, &req, sizeof(req), 0));
	EXPECT_EQ(0, watch_recv(fd, buf, sizeof(buf))) TH_LOG("%s", buf);
	close(fd);
	EXPECT_EQ(1, pending(buf, sizeof(buf)));

	/* a new watch gets the pending request first, then answers it; the
	 * answer's outcome comes back, and every other watcher is told the
	 * request is gone */
	asb_ctl_req_init(&req, ASB_CTL_WATCH);
	other = asb_ctl_open(DIR "/agentd.sock", &req);
	ASSERT_LE(0, other);
	ASSERT_LT(0, watch_recv(other, buf, sizeof(buf)));
	ASSERT_LT(0, watch_recv(other, buf, sizeof(buf)));
	fd = asb_ctl_open(DIR "/agentd.sock", &req);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));
	EXPECT_EQ(id, strtoul(buf, NULL, 10)) TH_LOG("%s", buf);
	asb_ctl_req_init(&req, ASB_CTL_ANSWER);
	req.id = id;
	req.flags = ASB_CTL_ANSWER_ALLOW;
	ASSERT_EQ(sizeof(req), send(fd, &req, sizeof(req), 0));
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));
	EXPECT_EQ('=', buf[0]) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "allowed write " WHELD)) TH_LOG("%s", buf);
	snprintf(want, sizeof(want), "-%u allow uid:0", id);
	ASSERT_LT(0, watch_recv(other, buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, want, strlen(want))) TH_LOG("%s", buf);
	close(other);
	EXPECT_EQ(0, wait_exit(p)) TH_LOG("%s", asb_slurp(DIR "/out", out, sizeof(out)));
	EXPECT_TRUE(AUDIT_HAS("\"verdict\":\"allow\"", "\"by\":\"uid:0\""));

	/* another command on a watch connection: the watch ends */
	asb_ctl_req_init(&req, ASB_CTL_STATUS);
	ASSERT_EQ(sizeof(req), send(fd, &req, sizeof(req), 0));
	EXPECT_EQ(0, watch_recv(fd, buf, sizeof(buf))) TH_LOG("%s", buf);
	close(fd);
	/* and a truncated message */
	asb_ctl_req_init(&req, ASB_CTL_WATCH);
	fd = asb_ctl_open(DIR "/agentd.sock", &req);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, watch_recv(fd, buf, sizeof(buf)));
	ASSERT_EQ(3, send(fd, "ACT", 3, 0));
	EXPECT_EQ(0, watch_recv(fd, buf, sizeof(buf))) TH_LOG("%s", buf);
	close(fd);
	EXPECT_EQ(0, pending(buf, sizeof(buf)));	/* agentd still serves */
}

TEST_F(appr, non_root_operator_refused)
{
	char exe[PATH_MAX + 16], out[1024];
	int pfd[2], st;
	ssize_t n;
	pid_t p;

	snprintf(exe, sizeof(exe), "%s/asbctl", bindir);
	ASSERT_EQ(0, pipe(pfd));
	p = fork();
	if (p == 0) {
		dup2(pfd[1], 2);
		if (setgid(65534) || setuid(65534))
			_exit(99);
		execl(exe, "asbctl", "--socket", DIR "/agentd.sock", "approve", "1", NULL);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	waitpid(p, &st, 0);
	EXPECT_EQ(1, WEXITSTATUS(st));
	EXPECT_NE(NULL, strstr(out, "root only")) TH_LOG("%s", out);
}

/* ---- robustness ---- */

/* The tid that host thread @tid has in its innermost PID namespace. */
static int ns_tid(int tid)
{
	char path[64], line[256];
	int last = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		for (long v; (v = strtol(p, &end, 10)), end != p; p = end)
			last = (int)v;
	}
	if (f)
		fclose(f);
	return last;
}

TEST_F(appr, hundred_pending_from_four_sandboxes)
{
	static char buf[65536];
	char outs[4][64], res[8192];
	bool allow[1 << 16] = { false };
	pid_t p[4];
	int ok = 0, bad = 0, n;

	for (int i = 0; i < 4; i++) {
		snprintf(outs[i], sizeof(outs[i]), DIR "/out%d", i);
		p[i] = RUN("askslow", outs[i], "threads", "25");
	}
	wait_pending(100);
	n = pending(buf, sizeof(buf));
	ASSERT_EQ(100, n) TH_LOG("%s", buf);
	/* answer each: odd thread ids allowed, even denied */
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned int id;
		int tid;

		ASSERT_EQ(2, sscanf(l, "%u %*s %d", &id, &tid));
		/* the thread knows itself by its tid in the sandbox's PID
		 * namespace, the last of NSpid */
		tid = ns_tid(tid);
		ASSERT_LT(0, tid);
		allow[tid & 0xffff] = tid & 1;
		EXPECT_EQ(0, answer(id, tid & 1 ? "approve" : "deny"));
		/* a second answer finds nothing */
		EXPECT_EQ(1, answer(id, "approve"));
	}
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(0, wait_exit(p[i]));
		asb_slurp(outs[i], res, sizeof(res));
		for (char *l = res; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			int tid, r;

			if (sscanf(l, "%d %d", &tid, &r) != 2)
				continue;
			if ((r == 0) == allow[tid & 0xffff] &&
			    (r == 0 || r == -EACCES))
				ok++;
			else
				bad++;
		}
	}
	EXPECT_EQ(100, ok);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, pending(buf, sizeof(buf)));
}

/* One sandbox holds at most ASB_APPROVAL_PER_SANDBOX requests; the rest
 * are denied at once and recorded, and other sandboxes still ask. */
TEST_F(appr, pending_capped_per_sandbox)
{
	static char buf[65536];
	char res[8192];
	pid_t p, q;
	int denied = 0;

	p = RUN("askslow", DIR "/out0", "threads", "72");
	ASSERT_NE(0, wait_pending(64));
	for (int i = 0; i < 100 && denied < 8; i++) {
		denied = 0;
		asb_slurp(DIR "/out0", res, sizeof(res));
		for (char *l = strstr(res, " -13"); l; l = strstr(l + 1, " -13"))
			denied++;
		usleep(50000);
	}
	EXPECT_EQ(8, denied) TH_LOG("%s", res);
	EXPECT_EQ(64, pending(buf, sizeof(buf)));
	EXPECT_TRUE(AUDIT_HAS("\"by\":\"overload\""));
	/* another sandbox is not crowded out */
	q = RUN("askslow", DIR "/out1", "write", WHELD);
	ASSERT_NE(0, wait_pending(65));
	kill(p, SIGKILL);
	kill(q, SIGKILL);
	wait_exit(p);
	wait_exit(q);
}

TEST_F(appr, killed_waiter_is_dropped)
{
	char buf[4096];
	pid_t p = RUN("askslow", DIR "/out", "write", WHELD);
	unsigned int id = wait_pending(1);
	int tid = 0;

	ASSERT_NE(0, id);
	pending(buf, sizeof(buf));
	ASSERT_EQ(1, sscanf(buf, "%*u %*s %d", &tid));
	/* the waiting process can be killed */
	ASSERT_EQ(0, kill(tid, SIGKILL));
	EXPECT_EQ(128 + SIGKILL, wait_exit(p));
	for (int i = 0; i < 20 && pending(buf, sizeof(buf)); i++)
		usleep(100000);
	EXPECT_EQ(0, pending(buf, sizeof(buf))) TH_LOG("%s", buf);
	EXPECT_TRUE(AUDIT_HAS("\"verdict\":\"gone\"", "\"by\":\"kernel\""));
	EXPECT_EQ(1, answer(id, "approve"));
}

TEST_F(appr, agentd_killed_fails_closed)
{
	char out[4096];
	bool kernel = strstr(self->via, "asb.ko");
	pid_t p = kernel ? RUN("askmid", DIR "/out", "connect", "18181") :
			   RUN("askslow", DIR "/out", "write", WHELD);

	ASSERT_NE(0, wait_pending(1));
	kill(self->agentd, SIGKILL);
	waitpid(self->agentd, NULL, 0);
	self->agentd = 0;
	/*
	 * seccomp: the listener died with agentd, the held open fails (ENOSYS);
	 * asb.ko: nobody answers, the kernel denies at its own timeout
	 */
	EXPECT_EQ(1, wait_exit(p));
	EXPECT_NE(NULL, strstr(asb_slurp(DIR "/out", out, sizeof(out)),
			       kernel ? "err=1\n" : "err=38")) TH_LOG("%s", out);
	EXPECT_NE(0, access(WHELD, F_OK));
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	if (n <= 0)
		return 1;
	self_exe[n] = 0;
	if (argc >= 3 && !strcmp(argv[1], "--helper"))
		return helper(argc - 2, argv + 2);
	asb_bindir(bindir, sizeof(bindir));
	return test_harness_run(argc, argv);
}
