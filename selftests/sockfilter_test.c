// SPDX-License-Identifier: BSD-3-Clause
/*
 * Tests of the cgroup BPF socket filter (bpf/sock.bpf.c, agentd/sockfilter.c).
 * Root only: each test makes its own cgroups under /sys/fs/cgroup/unified,
 * its own pin directory on bpffs, compiles a policy, and runs real
 * syscalls from children placed in those cgroups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include "asb_test.h"

#include "policy.h"
#include "sockfilter.h"

#define CG_ROOT		"/sys/fs/cgroup/unified"
#define PORT_OK		18001	/* inside 18000-18010 */
#define PORT_OK2	18002
#define PORT_OUT	18020	/* outside every range */
#define PING_RANGE	"/proc/sys/net/ipv4/ping_group_range"

struct cg {
	char path[128];
	int fd;
	__u64 id;
};

static int cg_make(struct cg *cg, const char *tag)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = sizeof(__u64) };
	int mnt;

	snprintf(cg->path, sizeof(cg->path), CG_ROOT "/asb-test-%d-%s",
		 getpid(), tag);
	if (mkdir(cg->path, 0755) && errno != EEXIST)
		return -errno;
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0)
		return -errno;
	if (name_to_handle_at(AT_FDCWD, cg->path, &h.fh, &mnt, 0))
		return -errno;
	memcpy(&cg->id, h.fh.f_handle, sizeof(cg->id));
	return 0;
}

static void cg_drop(struct cg *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (cg->path[0])
		rmdir(cg->path);
}

static int join(const struct cg *cg)
{
	char p[PATH_MAX + 16];
	int fd, ok;

	snprintf(p, sizeof(p), "%s/cgroup.procs", cg->path);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, "0", 1) == 1;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Run @fn in a child, inside @cg (NULL: where we are). Returns what @fn
 * returned (0 or an errno), 255 if the child could not join.
 */
static int run_in(const struct cg *cg, int (*fn)(const void *), const void *a)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		if (cg && join(cg))
			_exit(255);
		_exit(fn(a));
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

struct target {
	int family;		/* AF_INET, AF_INET6, AF_UNIX */
	int type;
	const char *addr;	/* IP text or unix path ('@' = abstract) */
	int port;
};

static socklen_t mkaddr(const struct target *t, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == AF_INET) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(t->port);
		inet_pton(AF_INET, t->addr, &in->sin_addr);
		return sizeof(*in);
	}
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(t->port);
		inet_pton(AF_INET6, t->addr, &in6->sin6_addr);
		return sizeof(*in6);
	}
	struct sockaddr_un *un = (void *)ss;
	size_t len = strlen(t->addr);

	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, t->addr, len);
	if (t->addr[0] == '@') {
		un->sun_path[0] = 0;
		return offsetof(struct sockaddr_un, sun_path) + len;
	}
	return offsetof(struct sockaddr_un, sun_path) + len + 1;
}

static int do_connect(const void *a)
{
	const struct target *t = a;
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(t, &ss);
	int fd = socket(t->family, t->type, 0);

	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&ss, len))
		return errno;
	close(fd);
	return 0;
}

static int do_sendto(const void *a)
{
	const struct target *t = a;
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(t, &ss);
	int fd = socket(t->family, t->type, 0);

	if (fd < 0)
		return errno;
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) != 1)
		return errno;
	close(fd);
	return 0;
}

static int do_bind(const void *a)
{
	const struct target *t = a;
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(t, &ss);
	int fd = socket(t->family, t->type, 0), one = 1;

	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len))
		return errno;
	close(fd);
	return 0;
}

static int do_socket(const void *a)
{
	const int *v = a;	/* family, type, protocol */
	int fd = socket(v[0], v[1], v[2]);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int listen_on(int family, const char *addr, int port, int type)
{
	struct target t = { family, type, addr, port };
	struct sockaddr_storage ss;
	socklen_t len = mkaddr(&t, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	/* REUSEPORT: two runs of this test at once share the listeners. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 64))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int ensure_mount(const char *dir, const char *type, long magic)
{
	struct statfs sfs;

	if (!statfs(dir, &sfs) && sfs.f_type == magic)
		return 0;
	return mount(type, dir, type, 0, NULL) ? -errno : 0;
}

static int compile(struct asb_image *img, const char *text)
{
	return asb_policy_compile_mem("sockfilter_test", text, strlen(text),
				      img, stderr, NULL);
}

/* Install sandbox @name of @img as @sbid on @cg. */
static int install(struct asb_sockfilter *sf, const struct asb_image *img,
		   const char *name, __u32 sbid, const struct cg *cg)
{
	const struct asb_image_sandbox *sb = asb_image_find_sandbox(img, name);
	int err;

	if (!sb)
		return -ENOENT;
	err = asb_sockfilter_set_sandbox(sf, sbid, img, sb);
	if (err)
		return err;
	return cg ? asb_sockfilter_attach(sf, cg->fd, cg->id, sbid) : 0;
}

FIXTURE(sock) {
	struct asb_sockfilter *sf;
	struct asb_image img;
	char pin[PATH_MAX];
	char dir[64];		/* for unix sockets */
	char ok_sock[96], other_sock[96], dgram_sock[96];
	char text[4096];
	struct cg a, b;
	int srv[16], nsrv;
	bool made_dir;
	const char *why;
};

/* Every step can fail; fini() undoes whatever init() got to. */
#define STEP(cond, what) do { if (!(cond)) { self->why = what; return -1; } } while (0)

static int fixture_init(FIXTURE_DATA(sock) *self)
{
	static const struct { int fam; const char *addr; int port; } l[] = {
		{ AF_INET, "127.0.0.1", PORT_OK },
		{ AF_INET, "127.0.0.1", PORT_OK2 },
		{ AF_INET, "127.0.0.1", PORT_OUT },
		{ AF_INET, "127.0.0.2", PORT_OK },
		{ AF_INET6, "::1", PORT_OK },
		{ AF_INET6, "::1", PORT_OUT },
	};
	unsigned int i;
	int n;

	mkdir("/sys/fs/bpf", 0755);
	STEP(!ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC), "mount bpffs");
	ensure_mount("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);

	snprintf(self->pin, sizeof(self->pin), "/sys/fs/bpf/asb-test-%d",
		 getpid());
	STEP(!asb_sockfilter_open(&self->sf, self->pin), "sockfilter_open");
	STEP(!cg_make(&self->a, "a"), "cgroup a");
	STEP(!cg_make(&self->b, "b"), "cgroup b");

	snprintf(self->dir, sizeof(self->dir), "/tmp/asb-sf-%d", getpid());
	STEP(!mkdir(self->dir, 0700), "mkdir unix dir");
	self->made_dir = true;
	snprintf(self->ok_sock, sizeof(self->ok_sock), "%s/ok.sock", self->dir);
	snprintf(self->other_sock, sizeof(self->other_sock), "%s/other.sock",
		 self->dir);
	snprintf(self->dgram_sock, sizeof(self->dgram_sock), "%s/dgram.sock",
		 self->dir);

	for (i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		self->srv[self->nsrv] = listen_on(l[i].fam, l[i].addr,
						  l[i].port, SOCK_STREAM);
		STEP(self->srv[self->nsrv] >= 0, "listen on loopback");
		self->nsrv++;
	}
	self->srv[self->nsrv] = listen_on(AF_UNIX, self->ok_sock, 0,
					  SOCK_STREAM);
	STEP(self->srv[self->nsrv++] >= 0, "listen ok.sock");
	self->srv[self->nsrv] = listen_on(AF_UNIX, self->other_sock, 0,
					  SOCK_STREAM);
	STEP(self->srv[self->nsrv++] >= 0, "listen other.sock");
	self->srv[self->nsrv] = listen_on(AF_UNIX, self->dgram_sock, 0,
					  SOCK_DGRAM);
	STEP(self->srv[self->nsrv++] >= 0, "bind dgram.sock");

	n = snprintf(self->text, sizeof(self->text),
		     "[sandbox.t]\n"
		     "net.connect = 127.0.0.1/32:18000-18010 [::1]/128:18000-18010\n"
		     "net.bind = 127.0.0.1:19000\n"
		     "net.unix = %s\n"
		     "net.deny_families = raw packet netlink\n"
		     "\n"
		     "[sandbox.u]\n"
		     "net.connect = 127.0.0.1/32:18002 127.0.0.2/32:18001\n",
		     self->ok_sock);
	STEP(n > 0 && n < (int)sizeof(self->text), "policy text");
	STEP(!compile(&self->img, self->text), "compile policy");
	return 0;
}

static void fixture_fini(FIXTURE_DATA(sock) *self)
{
	int i;

	for (i = 0; i < self->nsrv; i++)
		if (self->srv[i] >= 0)
			close(self->srv[i]);
	self->nsrv = 0;
	asb_sockfilter_close(self->sf);
	self->sf = NULL;
	if (self->pin[0])
		asb_sockfilter_unpin(self->pin);
	cg_drop(&self->a);
	cg_drop(&self->b);
	if (self->made_dir) {
		unlink(self->ok_sock);
		unlink(self->other_sock);
		unlink(self->dgram_sock);
		rmdir(self->dir);
	}
	asb_image_free(&self->img);
}

FIXTURE_SETUP(sock)
{
	int err;

	ASSERT_EQ(0U, getuid()) TH_LOG("must run as root");
	memset(self, 0, sizeof(*self));
	self->a.fd = self->b.fd = -1;
	err = fixture_init(self);
	if (err)
		fixture_fini(self);
	ASSERT_EQ(0, err) TH_LOG("setup failed: %s: %s", self->why,
				 strerror(errno));
}

FIXTURE_TEARDOWN(sock)
{
	fixture_fini(self);
}

TEST_F(sock, tcp4)
{
	struct target ok = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct target port = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OUT };
	struct target addr = { AF_INET, SOCK_STREAM, "127.0.0.2", PORT_OK };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &port));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &addr));
	/* The same targets are reachable from outside the cgroup. */
	EXPECT_EQ(0, run_in(NULL, do_connect, &port));
	EXPECT_EQ(0, run_in(NULL, do_connect, &addr));
}

TEST_F(sock, tcp6)
{
	struct target ok = { AF_INET6, SOCK_STREAM, "::1", PORT_OK };
	struct target port = { AF_INET6, SOCK_STREAM, "::1", PORT_OUT };
	struct target addr = { AF_INET6, SOCK_STREAM, "::2", PORT_OK };
	/* IPv4-mapped: decided by the IPv4 rules. */
	struct target m_ok = { AF_INET6, SOCK_STREAM, "::ffff:127.0.0.1",
			       PORT_OK };
	struct target m_no = { AF_INET6, SOCK_STREAM, "::ffff:127.0.0.2",
			       PORT_OK };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &port));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &addr));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &m_ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &m_no));
	EXPECT_EQ(0, run_in(NULL, do_connect, &port));
	EXPECT_EQ(0, run_in(NULL, do_connect, &m_no));
}

TEST_F(sock, udp)
{
	struct target ok = { AF_INET, SOCK_DGRAM, "127.0.0.1", PORT_OK };
	struct target no = { AF_INET, SOCK_DGRAM, "127.0.0.1", PORT_OUT };
	struct target no6 = { AF_INET6, SOCK_DGRAM, "::1", PORT_OUT };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_sendto, &ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_sendto, &no));
	EXPECT_EQ(EPERM, run_in(&self->a, do_sendto, &no6));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &no));
	EXPECT_EQ(0, run_in(NULL, do_sendto, &no));
}

TEST_F(sock, bind)
{
	struct target ok = { AF_INET, SOCK_STREAM, "127.0.0.1", 19000 };
	struct target port = { AF_INET, SOCK_STREAM, "127.0.0.1", 19001 };
	struct target any = { AF_INET, SOCK_STREAM, "0.0.0.0", 19000 };
	struct target eph = { AF_INET, SOCK_STREAM, "127.0.0.1", 0 };
	struct target v6 = { AF_INET6, SOCK_STREAM, "::1", 19000 };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_bind, &ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_bind, &port));
	EXPECT_EQ(EPERM, run_in(&self->a, do_bind, &any));
	/* Port 0: only a rule without ports vouches for an ephemeral port. */
	EXPECT_EQ(EPERM, run_in(&self->a, do_bind, &eph));
	EXPECT_EQ(EPERM, run_in(&self->a, do_bind, &v6));
	EXPECT_EQ(0, run_in(NULL, do_bind, &port));
}

TEST_F(sock, unix_paths)
{
	struct target ok = { AF_UNIX, SOCK_STREAM, self->ok_sock, 0 };
	struct target other = { AF_UNIX, SOCK_STREAM, self->other_sock, 0 };
	struct target dgram = { AF_UNIX, SOCK_DGRAM, self->dgram_sock, 0 };
	struct target abs = { AF_UNIX, SOCK_STREAM, "@asb-test-abstract", 0 };
	char dotdot[108];
	struct target up = { AF_UNIX, SOCK_STREAM, dotdot, 0 };

	/* Escapes the granted name through "..": must not match it. */
	ASSERT_GT((int)sizeof(dotdot),
		  snprintf(dotdot, sizeof(dotdot), "%s/../%s/ok.sock",
			   self->dir, strrchr(self->dir, '/') + 1));
	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &other));
	EXPECT_EQ(EPERM, run_in(&self->a, do_sendto, &dgram));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &abs));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &up));
	EXPECT_EQ(0, run_in(NULL, do_connect, &other));
	EXPECT_EQ(0, run_in(NULL, do_connect, &up));
}

/* A directory grants the sockets below it, and only those. */
TEST_F(sock, unix_subtree)
{
	struct target other = { AF_UNIX, SOCK_STREAM, self->other_sock, 0 };
	struct target dgram = { AF_UNIX, SOCK_DGRAM, self->dgram_sock, 0 };
	struct target dir = { AF_UNIX, SOCK_STREAM, self->dir, 0 };
	char up[108], sib[108], text[256];
	struct target t_up = { AF_UNIX, SOCK_STREAM, up, 0 };
	struct target t_sib = { AF_UNIX, SOCK_STREAM, sib, 0 };
	struct asb_image img = {};
	int fd;

	/* dir/../<dir's name>/other.sock is the same socket, but leaves the
	 * granted subtree on the way: refused. */
	ASSERT_GT((int)sizeof(up),
		  snprintf(up, sizeof(up), "%s/../%s/other.sock", self->dir,
			   strrchr(self->dir, '/') + 1));
	/* A sibling whose name only starts like the directory. */
	ASSERT_GT((int)sizeof(sib),
		  snprintf(sib, sizeof(sib), "%sx.sock", self->dir));
	fd = listen_on(AF_UNIX, sib, 0, SOCK_STREAM);
	ASSERT_LE(0, fd);
	ASSERT_GT((int)sizeof(text),
		  snprintf(text, sizeof(text), "[sandbox.d]\nnet.unix = %s\n",
			   self->dir));
	ASSERT_EQ(0, compile(&img, text));
	ASSERT_EQ(0, install(self->sf, &img, "d", 3, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &other));
	EXPECT_EQ(0, run_in(&self->a, do_sendto, &dgram));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &t_up));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &t_sib));
	EXPECT_EQ(0, run_in(NULL, do_connect, &t_up));
	EXPECT_EQ(0, run_in(NULL, do_connect, &t_sib));
	/* The directory itself is no socket: the kernel says so, not us. */
	EXPECT_EQ(ECONNREFUSED, run_in(&self->a, do_connect, &dir));
	close(fd);
	unlink(sib);
	asb_image_free(&img);
}

TEST_F(sock, unix_relative)
{
	struct target rel = { AF_UNIX, SOCK_STREAM, "ok.sock", 0 };
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ASSERT_LE(0, cwd);
	ASSERT_EQ(0, chdir(self->dir));
	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	/* Same socket, but relative names never match an absolute rule. */
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &rel));
	EXPECT_EQ(0, run_in(NULL, do_connect, &rel));
	ASSERT_EQ(0, fchdir(cwd));
	close(cwd);
}

TEST_F(sock, families)
{
	int raw[3] = { AF_INET, SOCK_RAW, IPPROTO_ICMP };
	int raw6[3] = { AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 };
	int ping[3] = { AF_INET, SOCK_DGRAM, IPPROTO_ICMP };
	int tcp[3] = { AF_INET, SOCK_STREAM, 0 };
	int udp6[3] = { AF_INET6, SOCK_DGRAM, 0 };

	char saved[64] = "";
	int fd, n;

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(EPERM, run_in(&self->a, do_socket, raw));
	EXPECT_EQ(EPERM, run_in(&self->a, do_socket, raw6));
	EXPECT_EQ(0, run_in(&self->a, do_socket, tcp));
	EXPECT_EQ(0, run_in(&self->a, do_socket, udp6));
	EXPECT_EQ(0, run_in(NULL, do_socket, raw));

	/* Ping sockets (their sends bypass sendmsg4): let root have them. */
	fd = open(PING_RANGE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, flock(fd, LOCK_EX));	/* concurrent runs */
	n = read(fd, saved, sizeof(saved) - 1);
	ASSERT_LT(0, n);
	ASSERT_EQ(4, pwrite(fd, "0 0\n", 4, 0));
	EXPECT_EQ(0, run_in(NULL, do_socket, ping));
	EXPECT_EQ(EPERM, run_in(&self->a, do_socket, ping));
	EXPECT_EQ(n, pwrite(fd, saved, n, 0));
	close(fd);
}

/*
 * The kernel runs cgroup/sock_create for inet sockets only: AF_PACKET and
 * AF_NETLINK in net.deny_families must be refused by the seccomp filter.
 * This pins the fact down so that a kernel that changes it is noticed.
 */
TEST_F(sock, families_not_inet)
{
	int inet6[3] = { AF_INET6, SOCK_STREAM, 0 };
	int packet[3] = { AF_PACKET, SOCK_RAW, 0 };
	int nl[3] = { AF_NETLINK, SOCK_RAW, 0 };
	struct asb_image img = {};
	char text[256];

	snprintf(text, sizeof(text),
		 "[sandbox.v]\nnet.deny_families = inet6 packet netlink\n");
	ASSERT_EQ(0, compile(&img, text));
	ASSERT_EQ(0, install(self->sf, &img, "v", 5, &self->a));
	EXPECT_EQ(EPERM, run_in(&self->a, do_socket, inet6));
	EXPECT_EQ(0, run_in(&self->a, do_socket, packet));
	EXPECT_EQ(0, run_in(&self->a, do_socket, nl));
	asb_image_free(&img);
}

TEST_F(sock, merged_prefixes)
{
	struct asb_image img = {};
	struct target t = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct target t2 = { AF_INET, SOCK_STREAM, "127.0.0.2", PORT_OK };
	struct target t3 = { AF_INET, SOCK_STREAM, "127.0.0.2", PORT_OUT };
	const char *text =
		"[sandbox.m]\n"
		"net.connect = 127.0.0.0/8:18020 127.0.0.1/32:18001\n";

	/* 127.0.0.1 gets its own port and the /8's; 127.0.0.2 the /8's. */
	ASSERT_EQ(0, compile(&img, text));
	ASSERT_EQ(0, install(self->sf, &img, "m", 2, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &t));
	t.port = PORT_OUT;
	EXPECT_EQ(0, run_in(&self->a, do_connect, &t));
	t.port = PORT_OK2;
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &t));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &t2));
	EXPECT_EQ(ECONNREFUSED, run_in(&self->a, do_connect, &t3));
	asb_image_free(&img);
}

TEST_F(sock, two_sandboxes)
{
	struct target p1 = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct target p2 = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK2 };
	struct target p3 = { AF_INET, SOCK_STREAM, "127.0.0.2", PORT_OK };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	ASSERT_EQ(0, install(self->sf, &self->img, "u", 2, &self->b));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p1));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p2));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &p3));
	EXPECT_EQ(EPERM, run_in(&self->b, do_connect, &p1));
	EXPECT_EQ(0, run_in(&self->b, do_connect, &p2));
	EXPECT_EQ(0, run_in(&self->b, do_connect, &p3));
}

TEST_F(sock, unknown_sandbox)
{
	int tcp[3] = { AF_INET, SOCK_STREAM, 0 };
	struct target p1 = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	__u64 n = 0;

	/* Attached, but sandbox 9 has no rules: everything is denied. */
	ASSERT_EQ(0, asb_sockfilter_attach(self->sf, self->a.fd, self->a.id, 9));
	EXPECT_EQ(EPERM, run_in(&self->a, do_socket, tcp));
	/* Rules arrive: allowed; removed: denied again. */
	ASSERT_EQ(0, install(self->sf, &self->img, "t", 9, NULL));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p1));
	ASSERT_EQ(0, asb_sockfilter_counters(self->sf, 9, &n));
	EXPECT_EQ(0ULL, n);
	ASSERT_EQ(0, asb_sockfilter_remove_sandbox(self->sf, 9));
	EXPECT_EQ(EPERM, run_in(&self->a, do_socket, tcp));
	EXPECT_EQ(-ENOENT, asb_sockfilter_counters(self->sf, 9, &n));
}

TEST_F(sock, replace_rules)
{
	struct target p1 = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct target p3 = { AF_INET, SOCK_STREAM, "127.0.0.2", PORT_OK };
	struct asb_image bad = {};
	char text[1024];
	int i;

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p1));
	/* Swap t's rules for u's, on the same sandbox id. */
	ASSERT_EQ(0, install(self->sf, &self->img, "u", 1, NULL));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &p1));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p3));
	/* A set the backend cannot hold fails whole; u's rules stay. */
	i = snprintf(text, sizeof(text), "[sandbox.x]\nnet.connect =");
	for (int p = 0; p < ASB_NET_RANGES + 1; p++)
		i += snprintf(text + i, sizeof(text) - i, " 127.0.0.1:%d",
			      20000 + 2 * p);
	snprintf(text + i, sizeof(text) - i, "\n");
	ASSERT_EQ(0, compile(&bad, text));
	EXPECT_EQ(-E2BIG, install(self->sf, &bad, "x", 1, NULL));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &p1));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p3));
	asb_image_free(&bad);
}

struct seen {
	int n;
	struct asb_event ev[32];
};

static int collect(void *ctx, const struct asb_event *ev)
{
	struct seen *s = ctx;

	if (s->n < 32)
		s->ev[s->n++] = *ev;
	return 0;
}

static const struct asb_event *find_ev(const struct seen *s, int action,
				       int port, int verdict)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->ev[i].action == action && s->ev[i].port == port &&
		    s->ev[i].verdict == verdict)
			return &s->ev[i];
	return NULL;
}

static int trace_has(const char *needle)
{
	char line[1024];
	FILE *f = fopen("/sys/kernel/tracing/trace", "re");
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

TEST_F(sock, events)
{
	struct target no = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OUT };
	struct target ok = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct target other = { AF_UNIX, SOCK_STREAM, self->other_sock, 0 };
	struct asb_image img = {};
	const struct asb_image_sandbox *sb;
	const struct asb_image_rule *r;
	const struct asb_event *ev;
	struct seen s = {};
	char text[512], needle[128];
	__u64 n = 0, drops = 1;
	__u8 lo[4] = { 127, 0, 0, 1 };

	snprintf(text, sizeof(text),
		 "[sandbox.e]\nnet.connect = 127.0.0.1/32:18000-18010\n"
		 "audit = all\n");
	ASSERT_EQ(0, compile(&img, text));
	sb = asb_image_find_sandbox(&img, "e");
	ASSERT_NE(NULL, sb);
	r = asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT, 4, lo, PORT_OK);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, install(self->sf, &img, "e", 7, &self->a));
	ASSERT_LE(0, asb_sockfilter_event_fd(self->sf));

	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &no));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &ok));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &other));
	ASSERT_LE(3, asb_sockfilter_events(self->sf, collect, &s, 1000));

	ev = find_ev(&s, ASB_ACT_CONNECT4, PORT_OUT, ASB_EV_DENY);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(7U, ev->sandbox);
	EXPECT_EQ(ASB_RULE_NONE, ev->rule);
	EXPECT_EQ(AF_INET, (int)ev->family);
	EXPECT_EQ(0, memcmp(ev->addr, lo, 4));
	EXPECT_NE(0U, ev->pid);
	EXPECT_NE(0ULL, ev->time_ns);

	ev = find_ev(&s, ASB_ACT_CONNECT4, PORT_OK, ASB_EV_ALLOW);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ((__u32)(r - asb_image_rules(&img)), ev->rule);

	ev = find_ev(&s, ASB_ACT_UNIX_CONNECT, 0, ASB_EV_DENY);
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ(self->other_sock, ev->path);

	ASSERT_EQ(0, asb_sockfilter_counters(self->sf, 7, &n));
	EXPECT_EQ(2ULL, n);
	ASSERT_EQ(0, asb_sockfilter_drops(self->sf, &drops));
	EXPECT_EQ(0ULL, drops);

	snprintf(needle, sizeof(needle),
		 "asb: deny sb=7 pid=%u connect4 127.0.0.1:%d rule=-1",
		 find_ev(&s, ASB_ACT_CONNECT4, PORT_OUT, ASB_EV_DENY)->pid,
		 PORT_OUT);
	EXPECT_EQ(1, trace_has(needle)) TH_LOG("no trace line '%s'", needle);
	asb_image_free(&img);
}

/* agentd dies: the attachment and the rules stay; a new agentd takes over. */
TEST_F(sock, survives_close)
{
	struct target ok = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct target no = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OUT };
	struct target p3 = { AF_INET, SOCK_STREAM, "127.0.0.2", PORT_OK };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	asb_sockfilter_close(self->sf);
	self->sf = NULL;
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &no));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &ok));

	/* Reopen from the pins: same maps, same programs. */
	ASSERT_EQ(0, asb_sockfilter_open(&self->sf, self->pin));
	ASSERT_EQ(0, install(self->sf, &self->img, "u", 1, &self->a));
	EXPECT_EQ(EPERM, run_in(&self->a, do_connect, &ok));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &p3));

	/* Detach lifts it. */
	ASSERT_EQ(0, asb_sockfilter_detach(self->sf, self->a.fd, self->a.id));
	EXPECT_EQ(0, run_in(&self->a, do_connect, &no));
}

/* A child cgroup of a sandbox's cgroup is in the sandbox. */
TEST_F(sock, nested_cgroup)
{
	struct target no = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OUT };
	struct target ok = { AF_INET, SOCK_STREAM, "127.0.0.1", PORT_OK };
	struct cg sub = { .fd = -1 };

	ASSERT_EQ(0, install(self->sf, &self->img, "t", 1, &self->a));
	ASSERT_GT((int)sizeof(sub.path),
		  snprintf(sub.path, sizeof(sub.path), "%s/inner", self->a.path));
	ASSERT_EQ(0, mkdir(sub.path, 0755));
	EXPECT_EQ(EPERM, run_in(&sub, do_connect, &no));
	EXPECT_EQ(0, run_in(&sub, do_connect, &ok));
	rmdir(sub.path);
}

TEST_HARNESS_MAIN
