// SPDX-License-Identifier: BSD-3-Clause
/*
 * The BPF-LSM backend (bpf/lsm.bpf.c): a real agentd on a kernel where LSM
 * programs load (the VM lane), processes moved into the sandbox with
 * `asbctl attach` (so neither Landlock nor seccomp is on them: what is
 * refused here is refused by the BPF-LSM programs), the errno they see and
 * the audit line. SKIPs where BPF-LSM is not available (the development
 * hosts refuse LSM programs with EPERM). Root only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asb_test.h"

#define DIR	"/tmp/asb-lsm"
#define POLICY	"selftests/policies/lsm.ini"
#define SOCK	DIR "/agentd.sock"
#define AUDIT	DIR "/audit.jsonl"

static char bindir[PATH_MAX];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

FIXTURE(lsm) {
	pid_t agentd;
	pid_t holder;	/* keeps the sandbox alive */
	int server;
};

static int backend_is_lsm(void)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd),
		 "%s/asbctl --socket " SOCK " status | grep -q '^backend: .*bpf-lsm'",
		 bindir);
	return system(cmd) == 0;
}

FIXTURE_SETUP(lsm)
{
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(18180) };
	char exe[PATH_MAX + 16], ctl[PATH_MAX + 16];
	int one = 1;

	self->agentd = self->holder = -1;
	self->server = -1;
	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_EQ(0, flock(open("/tmp/asb-lsm.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600),
			   LOCK_EX));
	asb_bindir(bindir, sizeof(bindir));
	sh("umount -l " DIR "/bind-secret " DIR "-bind-ro " DIR "/out " DIR "/ro/mnt 2>/dev/null");
	ASSERT_EQ(0, sh("rm -rf " DIR " " DIR "-bind-ro && mkdir -p " DIR "/ro " DIR "/ws "
			DIR "/secret " DIR "/bind-secret " DIR "-bind-ro && "
			"echo data > " DIR "/ro/file && echo TOPSECRET > " DIR "/secret/key && "
			"cp /bin/true " DIR "/secret/tool && cp " POLICY " " DIR "/policy.ini"));
	self->server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(self->server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	ASSERT_EQ(0, bind(self->server, (void *)&in, sizeof(in)));
	ASSERT_EQ(0, listen(self->server, 16));

	snprintf(exe, sizeof(exe), "%s/agentd", bindir);
	self->agentd = fork();
	if (self->agentd == 0) {
		int fd = open(DIR "/agentd.log", O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* an assertion skips teardown */
		dup2(fd, 1);
		dup2(fd, 2);
		execl(exe, "agentd", "--policy", DIR "/policy.ini", "--socket", SOCK,
		      "--state-dir", DIR "/state", "--audit-log", AUDIT, NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200 && access(SOCK, F_OK); i++)
		usleep(50000);
	ASSERT_EQ(0, access(SOCK, F_OK));
	snprintf(ctl, sizeof(ctl), "%s/asbctl", bindir);
	ASSERT_BACKEND_EXPECTED(ctl, SOCK);
	if (!backend_is_lsm()) {
		/* the harness runs no teardown after a skip in setup */
		kill(self->agentd, SIGTERM);
		waitpid(self->agentd, NULL, 0);
		self->agentd = -1;
		SKIP(return, "BPF-LSM programs cannot load and attach on this kernel "
		     "(the development hosts refuse them with EPERM): these tests run "
		     "in the VM lane (scripts/vm-check)");
	}
	/* a sandbox to attach to */
	self->holder = fork();
	if (self->holder == 0) {
		snprintf(exe, sizeof(exe), "%s/asbctl", bindir);
		execl(exe, "asbctl", "--socket", SOCK, "run", "--sandbox", "lsm",
		      "--", "/bin/sleep", "1000", NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (sh("%s/asbctl --socket " SOCK " status | grep -q '^[0-9].* lsm .*[0-9]$'",
		       bindir) == 0)
			break;
		usleep(100000);
	}
}

FIXTURE_TEARDOWN(lsm)
{
	if (self->holder > 0) {
		kill(self->holder, SIGTERM);
		waitpid(self->holder, NULL, 0);
	}
	if (self->agentd > 0) {
		kill(self->agentd, SIGTERM);
		waitpid(self->agentd, NULL, 0);
	}
	if (self->server >= 0)
		close(self->server);
	sh("umount -l " DIR "/bind-secret " DIR "-bind-ro " DIR "/out " DIR "/ro/mnt 2>/dev/null");
}

/*
 * Fork; the child waits until it has been attached to the sandbox, then
 * runs @fn (which returns the exit status) or, with @fn NULL, bash -c
 * @script. Returns the status; output in @out.
 */
static int attached(int (*fn)(void), const char *script, char *out, size_t len)
{
	int go[2], o[2], st;
	char b;
	pid_t pid;
	ssize_t n, got = 0;

	if (pipe2(go, O_CLOEXEC) || pipe2(o, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(o[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(99);
		dup2(o[1], 1);
		dup2(o[1], 2);
		if (fn)
			_exit(fn());
		execl("/bin/bash", "bash", "-c", script, NULL);
		_exit(127);
	}
	close(go[0]);
	close(o[1]);
	/* the holder's sandbox may still be starting (TCG is slow) */
	for (int i = 0; sh("%s/asbctl --socket " SOCK " attach --sandbox lsm %d >/dev/null 2>&1",
			   bindir, pid); i++) {
		if (i == 300) {
			kill(pid, SIGKILL);
			break;
		}
		usleep(100000);
	}
	if (write(go[1], "g", 1) != 1)
		kill(pid, SIGKILL);
	close(go[1]);
	while (len && (n = read(o[0], out + got, len - 1 - got)) > 0)
		got += n;
	if (len)
		out[got] = 0;
	close(o[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define AUDIT_HAS(...) ASB_AUDIT_HAS(AUDIT, __VA_ARGS__)
#define RUN(script) attached(NULL, script, out, sizeof(out))

TEST_F(lsm, files_read_write)
{
	char out[4096];

	EXPECT_EQ(0, RUN("cat " DIR "/ro/file")) TH_LOG("%s", out);
	EXPECT_STREQ("data\n", out);
	EXPECT_EQ(1, RUN("cat " DIR "/secret/key"));
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
	EXPECT_TRUE(AUDIT_HAS("\"sandbox\":\"lsm\"", "\"action\":\"open\"",
			      "\"object\":\"" DIR "/secret/key\"", "\"verdict\":\"deny\"",
			      "\"rule\":\"" DIR "/policy.ini:4\"", "\"source\":\"bpf-lsm\""));
	EXPECT_EQ(1, RUN("cat /etc/shadow"));
	/* a rule on a file, in a directory without one */
	EXPECT_EQ(0, RUN("cat /etc/passwd >/dev/null")) TH_LOG("%s", out);
	EXPECT_NE(0, RUN("cat /etc/hostname /etc/group >/dev/null"));
	EXPECT_NE(0, RUN("echo x > " DIR "/ro/file"));
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	EXPECT_EQ(0, RUN("echo x > " DIR "/ws/a && mkdir " DIR "/ws/d && mv " DIR
			 "/ws/a " DIR "/ws/d/b && ln " DIR "/ws/d/b " DIR "/ws/c && "
			 "truncate -s 0 " DIR "/ws/c && rm " DIR "/ws/c " DIR
			 "/ws/d/b && rmdir " DIR "/ws/d")) TH_LOG("%s", out);
	/* create, mkdir, unlink, truncate, rename, link outside fs.write */
	EXPECT_NE(0, RUN("touch " DIR "/ro/new"));
	EXPECT_NE(0, access(DIR "/ro/new", F_OK));
	EXPECT_NE(0, RUN("mkdir " DIR "/ro/d"));
	EXPECT_NE(0, RUN("rm -f " DIR "/ro/file"));
	EXPECT_EQ(0, access(DIR "/ro/file", F_OK));
	EXPECT_NE(0, RUN("truncate -s 0 " DIR "/ro/file"));
	EXPECT_NE(0, RUN(": > " DIR "/ro/file"));
	EXPECT_EQ(0, sh("grep -q data " DIR "/ro/file"));
	EXPECT_NE(0, RUN("mv " DIR "/secret/key " DIR "/ws/key"));
	EXPECT_EQ(0, access(DIR "/secret/key", F_OK));
	EXPECT_NE(0, RUN("mknod " DIR "/ws/null c 1 3"));
}

TEST_F(lsm, exec)
{
	char out[4096];

	EXPECT_EQ(126, RUN(DIR "/secret/tool")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"exec\"", "\"verdict\":\"deny\"",
			      "\"source\":\"bpf-lsm\""));
	EXPECT_EQ(0, RUN("/usr/bin/true"));
	/* copied into the workspace: writable, not executable */
	EXPECT_EQ(126, RUN("cp /bin/true " DIR "/ws/t && " DIR "/ws/t"));
}

TEST_F(lsm, escape_symlink_hardlink_rename)
{
	char out[4096];

	EXPECT_EQ(1, RUN("ln -s " DIR "/secret/key " DIR "/ws/l && cat " DIR "/ws/l"));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET")) TH_LOG("%s", out);
	EXPECT_NE(0, RUN("ln " DIR "/secret/key " DIR "/ws/h"));
	EXPECT_NE(0, access(DIR "/ws/h", F_OK));
	EXPECT_NE(0, RUN("cat /proc/self/root" DIR "/secret/key"));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
	/* rules follow the inode: a granted directory renamed stays granted,
	 * a name that used to be granted grants nothing */
	ASSERT_EQ(0, sh("mv " DIR "/ro " DIR "/ro2 && mkdir " DIR "/ro && "
			"cp " DIR "/secret/key " DIR "/ro/key"));
	EXPECT_EQ(0, RUN("cat " DIR "/ro2/file")) TH_LOG("%s", out);
	EXPECT_EQ(1, RUN("cat " DIR "/ro/key"));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
}

TEST_F(lsm, escape_bind_mount)
{
	char out[4096];

	/* the secret bind-mounted elsewhere is still the secret */
	ASSERT_EQ(0, sh("mount --bind " DIR "/secret " DIR "/bind-secret"));
	EXPECT_EQ(1, RUN("cat " DIR "/bind-secret/key"));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET")) TH_LOG("%s", out);
	/* a granted directory bind-mounted outside every rule stays granted */
	ASSERT_EQ(0, sh("mount --bind " DIR "/ro " DIR "-bind-ro"));
	EXPECT_EQ(0, RUN("cat " DIR "-bind-ro/file")) TH_LOG("%s", out);
	/* and the sandbox cannot mount */
	EXPECT_NE(0, RUN("mount --bind " DIR "/secret " DIR "/ws"));
	EXPECT_NE(0, sh("test -e " DIR "/ws/key"));
}

/*
 * The programs remember a directory's walk (memo_find in bpf/lsm.bpf.c):
 * a directory renamed out of a granted tree, or a mount moved out from
 * under one, must not keep what was remembered for it.
 */
TEST_F(lsm, remembered_walks_follow_renames_and_mounts)
{
	char out[4096];

	ASSERT_EQ(0, sh("mkdir -p " DIR "/ro/sub/dir " DIR "/ro/mnt " DIR "/out && "
			"echo RENAMED > " DIR "/ro/sub/dir/f && "
			"mount -t tmpfs asb-memo " DIR "/ro/mnt && mkdir " DIR "/ro/mnt/d && "
			"echo MOVED > " DIR "/ro/mnt/d/f"));
	/* granted from /ro (across the mount point), and remembered */
	EXPECT_EQ(0, RUN("cat " DIR "/ro/sub/dir/f " DIR "/ro/sub/dir/f "
			 DIR "/ro/mnt/d/f " DIR "/ro/mnt/d/f")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "MOVED")) TH_LOG("%s", out);
	/* moved two levels up: the remembered directory keeps its parent */
	ASSERT_EQ(0, sh("mv " DIR "/ro/sub " DIR "/out/sub"));
	EXPECT_EQ(1, RUN("cat " DIR "/out/sub/dir/f"));
	EXPECT_EQ(NULL, strstr(out, "RENAMED")) TH_LOG("%s", out);
	/* and moved back, granted again */
	ASSERT_EQ(0, sh("mv " DIR "/out/sub " DIR "/ro/sub"));
	EXPECT_EQ(0, RUN("cat " DIR "/ro/sub/dir/f")) TH_LOG("%s", out);
	ASSERT_EQ(0, sh("mount --move " DIR "/ro/mnt " DIR "/out"));
	EXPECT_EQ(1, RUN("cat " DIR "/out/d/f"));
	EXPECT_EQ(NULL, strstr(out, "MOVED")) TH_LOG("%s", out);
}

static int chroot_child(void)
{
	int ok = 0;

	if (chroot(DIR) || chdir("/"))
		return 10;
	/* "/ro/file" matches no rule as a string; the inode is granted */
	if (open("/ro/file", O_RDONLY) >= 0)
		ok |= 1;
	if (open("/secret/key", O_RDONLY) < 0 && errno == EACCES)
		ok |= 2;
	return ok;
}

TEST_F(lsm, escape_chroot)
{
	char out[64];

	EXPECT_EQ(3, attached(chroot_child, NULL, out, sizeof(out)));
}

static int mntns_child(void)
{
	int ok = 0;

	if (unshare(CLONE_NEWNS))
		return 10;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) && errno == EPERM)
		ok |= 1;
	if (mount(DIR "/secret", DIR "/ws", NULL, MS_BIND, NULL) && errno == EPERM)
		ok |= 2;
	if (open(DIR "/secret/key", O_RDONLY) < 0 && errno == EACCES)
		ok |= 4;
	if (open(DIR "/ro/file", O_RDONLY) >= 0)
		ok |= 8;
	return ok;
}

TEST_F(lsm, escape_mount_namespace)
{
	char out[64];

	EXPECT_EQ(15, attached(mntns_child, NULL, out, sizeof(out)));
}

TEST_F(lsm, sockets)
{
	char out[4096];

	EXPECT_EQ(0, RUN("exec 3<>/dev/tcp/127.0.0.1/18180")) TH_LOG("%s", out);
	EXPECT_NE(0, RUN("exec 3<>/dev/tcp/127.0.0.1/18181"));
	EXPECT_NE(NULL, strstr(out, "Operation not permitted")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"connect\"", "\"object\":\"127.0.0.1:18181\"",
			      "\"verdict\":\"deny\""));
	EXPECT_NE(0, RUN("python3 -c 'import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)'"));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
}

TEST_F(lsm, attach_confines_a_running_process)
{
	int go[2], res[2], st;
	char b = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	pid = fork();
	if (pid == 0) {
		int fd = open(DIR "/secret/key", O_RDONLY);

		/* outside any sandbox: readable */
		b = fd >= 0;
		close(fd);
		if (write(res[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(99);
		fd = open(DIR "/secret/key", O_RDONLY);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(1, read(res[0], &b, 1));
	EXPECT_EQ(1, b);
	ASSERT_EQ(0, sh("%s/asbctl --socket " SOCK " attach --sandbox lsm %d", bindir, pid));
	ASSERT_EQ(1, write(go[1], "g", 1));
	waitpid(pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A cgroup below a sandbox's own is in the sandbox (the nearest
 * registered ancestor wins). */
TEST_F(lsm, nested_cgroup_is_confined)
{
	char cg[512], rel[256] = "", procs[600];
	int go[2], res[2], st;
	char b = 0;
	FILE *f;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(res));
	pid = fork();
	if (pid == 0) {
		int fd;

		if (write(res[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(99);
		fd = open(DIR "/secret/key", O_RDONLY);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(1, read(res[0], &b, 1));
	ASSERT_EQ(0, sh("%s/asbctl --socket " SOCK " attach --sandbox lsm %d", bindir, pid));
	/* its cgroup now: the sandbox's; make a child of it and move in */
	snprintf(procs, sizeof(procs), "/proc/%d/cgroup", pid);
	f = fopen(procs, "r");
	ASSERT_NE(NULL, f);
	while (fgets(cg, sizeof(cg), f))
		if (!strncmp(cg, "0::", 3))
			snprintf(rel, sizeof(rel), "%.*s", (int)strcspn(cg + 3, "\n"), cg + 3);
	fclose(f);
	ASSERT_NE(0, rel[0]);
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/unified%s/nested", rel);
	if (mkdir(cg, 0755) < 0) {
		snprintf(cg, sizeof(cg), "/sys/fs/cgroup%s/nested", rel);
		ASSERT_EQ(0, mkdir(cg, 0755)) TH_LOG("%s: %s", cg, strerror(errno));
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	f = fopen(procs, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%d\n", pid);
	ASSERT_EQ(0, fclose(f));
	ASSERT_EQ(1, write(go[1], "g", 1));
	waitpid(pid, &st, 0);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("a process in %s could open the secret", cg);
	rmdir(cg);
}

TEST_F(lsm, kill_agentd_stays_confined)
{
	char out[4096];
	int st;

	kill(self->agentd, SIGKILL);
	waitpid(self->agentd, &st, 0);
	self->agentd = -1;
	EXPECT_EQ(0, access("/sys/fs/bpf/asb-v6/lsm/asb_file_open", F_OK));
	/* the holder is still in the sandbox: a child of it is confined */
	EXPECT_EQ(0, sh("test -n \"$(cat /sys/fs/cgroup/unified/asb/lsm-*/cgroup.procs "
			"/sys/fs/cgroup/asb/lsm-*/cgroup.procs 2>/dev/null)\""));
	/* move a fresh process into that cgroup by hand: no agentd involved */
	EXPECT_EQ(1, sh("sh -c 'for d in /sys/fs/cgroup/unified/asb/lsm-* /sys/fs/cgroup/asb/lsm-*; do "
			"[ -d \"$d\" ] && echo $$ > $d/cgroup.procs && break; done; "
			"exec cat " DIR "/secret/key' > " DIR "/out 2>&1"));
	EXPECT_NE(0, sh("grep -q TOPSECRET " DIR "/out"));
	(void)out;
}

TEST_HARNESS_MAIN
