// SPDX-License-Identifier: BSD-3-Clause
/*
 * Process-side confinement of the portable backend (Landlock + seccomp +
 * launcher), on this host, as root: real programs are launched through
 * asb_launch with a policy compiled from text, and errno / exit status are
 * asserted. C snippets run in the sandbox as "launch_test --helper CMD
 * ARGS" (this binary, re-executed through asb_launch): the helper exits
 * with the errno of the operation, 0 if it worked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <linux/seccomp.h>

#include "asb_test.h"

#include "landlock.h"
#include "launch.h"
#include "policy.h"
#include "seccomp.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static char self_exe[PATH_MAX];

/* snprintf without -Wformat-truncation guesses about fixture sizes. */
__attribute__((format(printf, 3, 4)))
static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- helper side: runs inside the sandbox ---- */

static int copy_fd(int from, int to)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

#define RET_ERRNO(expr) return (expr) < 0 ? errno : 0

static int helper(int argc, char **argv)
{
	const char *cmd = argv[0];
	char p[PATH_MAX];
	int fd;

	if (!strcmp(cmd, "open") && argc == 3) {
		int fl = argv[2][0] == 'w' ? O_WRONLY :
			 argv[2][0] == 'c' ? O_WRONLY | O_CREAT :
			 argv[2][0] == 'd' ? O_RDONLY | O_DIRECTORY : O_RDONLY;

		RET_ERRNO(open(argv[1], fl | O_CLOEXEC, 0600));
	}
	if (!strcmp(cmd, "openat2") && argc == 3) {
		struct open_how how = { .flags = O_RDONLY,
					.resolve = strtoull(argv[2], NULL, 0) };
		int root = open("/", O_PATH | O_CLOEXEC);

		/* Relative to "/", so that BENEATH and IN_ROOT apply. */
		RET_ERRNO(syscall(SYS_openat2, root, argv[1] + 1, &how,
				  sizeof(how)));
	}
	if (!strcmp(cmd, "reopen") && argc == 2) {
		fd = open(argv[1], O_PATH | O_CLOEXEC);
		if (fd < 0)
			return 200;	/* O_PATH itself is not checked */
		xsnprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		RET_ERRNO(open(p, O_RDONLY | O_CLOEXEC));
	}
	if (!strcmp(cmd, "proc_root") && argc == 2) {
		xsnprintf(p, sizeof(p), "/proc/self/root%s", argv[1]);
		RET_ERRNO(open(p, O_RDONLY | O_CLOEXEC));
	}
	if (!strcmp(cmd, "link") && argc == 3)
		RET_ERRNO(link(argv[1], argv[2]));
	if (!strcmp(cmd, "rename") && argc == 3)
		RET_ERRNO(rename(argv[1], argv[2]));
	if (!strcmp(cmd, "truncate") && argc == 2)
		RET_ERRNO(truncate(argv[1], 0));
	if (!strcmp(cmd, "mknod") && argc == 2)
		RET_ERRNO(mknod(argv[1], S_IFCHR | 0600, makedev(1, 3)));
	if (!strcmp(cmd, "fexec") && argc == 2) {
		/* A readable, non-executable file through its fd. */
		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 200;
		syscall(SYS_execveat, fd, "", (char *[]){ "x", NULL },
			(char *[]){ NULL }, AT_EMPTY_PATH);
		return errno;
	}
	if (!strcmp(cmd, "memfd") && argc == 3) {
		int src = open(argv[1], O_RDONLY | O_CLOEXEC);
		unsigned int fl = argv[2][0] == 's' ? MFD_NOEXEC_SEAL : 0;

		if (src < 0)
			return 200;
		fd = memfd_create("x", MFD_CLOEXEC | fl);
		if (fd < 0)
			return errno;
		if (copy_fd(src, fd) < 0)
			return 201;
		syscall(SYS_execveat, fd, "", (char *[]){ "x", NULL },
			(char *[]){ NULL }, AT_EMPTY_PATH);
		return errno;
	}
	if (!strcmp(cmd, "io_uring")) {
		char params[120] = { 0 };

		RET_ERRNO(syscall(__NR_io_uring_setup, 4, params));
	}
	if (!strcmp(cmd, "mount") && argc == 2)
		RET_ERRNO(mount("none", argv[1], "tmpfs", 0, NULL));
	if (!strcmp(cmd, "unshare_user"))
		RET_ERRNO(unshare(CLONE_NEWUSER));
	if (!strcmp(cmd, "clone_user")) {
		/* High bits must not hide the flag. */
		long r = syscall(SYS_clone, 0xff00000000000000UL |
				 CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);

		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		return r < 0 ? errno : 0;
	}
	if (!strcmp(cmd, "clone3")) {
		char args[88] = { 0 };

		RET_ERRNO(syscall(SYS_clone3, args, sizeof(args)));
	}
	if (!strcmp(cmd, "ptrace") && argc == 2)
		RET_ERRNO(ptrace(PTRACE_ATTACH, atoi(argv[1]), 0, 0));
	if (!strcmp(cmd, "ptrace_child")) {
		pid_t c = fork();
		int r;

		if (c == 0) {
			pause();
			_exit(0);
		}
		r = ptrace(PTRACE_ATTACH, c, 0, 0) < 0 ? errno : 0;
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		return r;
	}
	if (!strcmp(cmd, "bpf")) {
		char attr[128] = { 0 };

		RET_ERRNO(syscall(__NR_bpf, 0, attr, sizeof(attr)));
	}
	if (!strcmp(cmd, "kill") && argc == 2)
		RET_ERRNO(kill(atoi(argv[1]), SIGUSR1));
	if (!strcmp(cmd, "abstract") && argc == 2) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		size_t n = strlen(argv[1]);

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memcpy(sun.sun_path + 1, argv[1], n);
		RET_ERRNO(connect(fd, (struct sockaddr *)&sun,
				  (socklen_t)(offsetof(struct sockaddr_un,
						       sun_path) + 1 + n)));
	}
	if (!strcmp(cmd, "personality"))
		RET_ERRNO(personality(PER_LINUX | ADDR_NO_RANDOMIZE));
	if (!strcmp(cmd, "tiocsti")) {
		char c = 'x';

		RET_ERRNO(ioctl(0, TIOCSTI, &c));
	}
	if (!strcmp(cmd, "x32")) {
		syscall(0x40000000 | SYS_getpid);
		return 0;
	}
	if (!strcmp(cmd, "int80")) {
		long ret;

		/* i386 getpid through the compat entry. */
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
		return 0;
	}
	if (!strcmp(cmd, "fd") && argc == 2)
		RET_ERRNO(fcntl(atoi(argv[1]), F_GETFD));
	if (!strcmp(cmd, "cgroup") && argc == 2) {
		char buf[512] = { 0 }, want[300];
		ssize_t n;

		fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0)
			return errno;
		xsnprintf(want, sizeof(want), "0::/%s\n", argv[1]);
		return strstr(buf, want) ? 0 : 202;
	}
	if (!strcmp(cmd, "fork_open") && argc == 2) {
		/* Double fork: the grandchild's errno comes back as status. */
		pid_t c = fork();
		int st;

		if (c == 0) {
			pid_t g = fork();

			if (g == 0)
				_exit(open(argv[1], O_RDONLY) < 0 ? errno : 0);
			waitpid(g, &st, 0);
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 203);
		}
		waitpid(c, &st, 0);
		return WIFEXITED(st) ? WEXITSTATUS(st) : 203;
	}
	fprintf(stderr, "helper: bad command %s\n", cmd);
	return 250;
}

/* ---- test side ---- */

struct sbx {
	char dir[64];
	char ro[96], rw[96], secret[96];
	char ro_file[128], secret_file[128], ro_true[128];
	struct asb_image img;
	const struct asb_image_sandbox *sb;
	char report[4096];
};

static void put_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, data, strlen(data)) < 0 || close(fd) < 0) {
		perror(path);
		exit(1);
	}
}

static void copy_file(const char *from, const char *to)
{
	int src = open(from, O_RDONLY | O_CLOEXEC);
	int dst = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	if (src < 0 || dst < 0 || copy_fd(src, dst) < 0) {
		perror(to);
		exit(1);
	}
	close(src);
	close(dst);
}

/*
 * Tree: DIR/ro (fs.read), DIR/rw (fs.write), DIR/secret (nothing).
 * Landlock checks EXECUTE on the ELF interpreter too: the dynamic loader
 * is granted as a file rule.
 */
static int sbx_init(struct sbx *s, const char *extra)
{
	char policy[4096];
	int n;

	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/asb-launch-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	xsnprintf(s->ro, sizeof(s->ro), "%s/ro", s->dir);
	xsnprintf(s->rw, sizeof(s->rw), "%s/rw", s->dir);
	xsnprintf(s->secret, sizeof(s->secret), "%s/secret", s->dir);
	xsnprintf(s->ro_file, sizeof(s->ro_file), "%s/file", s->ro);
	xsnprintf(s->secret_file, sizeof(s->secret_file), "%s/file", s->secret);
	xsnprintf(s->ro_true, sizeof(s->ro_true), "%s/true", s->ro);
	if (mkdir(s->ro, 0755) || mkdir(s->rw, 0755) || mkdir(s->secret, 0755))
		return -1;
	put_file(s->ro_file, "ro-data\n", 0644);
	put_file(s->secret_file, "secret-data\n", 0644);
	copy_file("/usr/bin/true", s->ro_true);

	n = snprintf(policy, sizeof(policy),
		     "[sandbox.t]\n"
		     "fs.read = /usr /lib /lib64 /etc /proc /dev/urandom %s\n"
		     "fs.write = %s /dev/null\n"
		     "fs.exec = /usr/bin /bin /lib64/ld-linux-x86-64.so.2 %s\n"
		     "%s\n",
		     s->ro, s->rw, self_exe, extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(policy))
		return -1;
	if (asb_policy_compile_mem("launch_test", policy, (size_t)n, &s->img,
				   stderr, NULL) < 0)
		return -1;
	s->sb = asb_image_find_sandbox(&s->img, "t");
	return s->sb ? 0 : -1;
}

static void sbx_fini(struct sbx *s)
{
	char cmd[128];

	asb_image_free(&s->img);
	if (s->dir[0]) {
		xsnprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", s->dir);
	}
}

static struct asb_launch_opts sbx_opts(struct sbx *s, char **argv)
{
	struct asb_launch_opts o = {
		.argv = argv,
		.cgroup_fd = -1,
		.img = &s->img,
		.sb = s->sb,
		.sb_flags = s->sb->flags,
		.report = s->report,
		.report_len = sizeof(s->report),
	};
	return o;
}

/* Launch argv in the sandbox; the shell-style status, or -1000 - errno. */
static int run_argv(struct sbx *s, char **argv)
{
	struct asb_launch_opts o = sbx_opts(s, argv);
	int st = -1;

	if (asb_launch(&o, &st) < 0 && st == ASB_LAUNCH_EXIT_SETUP) {
		fprintf(stderr, "launch failed: %s", s->report);
		return -1000 - errno;
	}
	return st;
}

/* Run "launch_test --helper ARGS..." in the sandbox. */
#define HELPER(s, ...) \
	run_argv((s), (char *[]){ self_exe, "--helper", __VA_ARGS__, NULL })
#define SH(s, script) \
	run_argv((s), (char *[]){ "/bin/sh", "-c", (script), NULL })

/*
 * A process outside the sandbox, in @dir, waiting for SIGKILL (it dies
 * with the test, whatever happens). Returns once it is in place.
 */
static pid_t spawn_outside(const char *dir)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGUSR1, SIG_IGN);
		if (chdir(dir) < 0)
			_exit(1);
		close(p[0]);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 0)
		pid = -1;
	close(p[0]);
	return pid;
}

FIXTURE(launch) {
	struct sbx s;
};

FIXTURE_SETUP(launch)
{
	ASSERT_EQ(0, sbx_init(&self->s, NULL));
}

FIXTURE_TEARDOWN(launch)
{
	sbx_fini(&self->s);
}

TEST_F(launch, report_full_enforcement)
{
	ASSERT_GE(asb_landlock_abi(), 1);
	/* Landlock ABI 7 here: nothing is degraded. */
	ASSERT_EQ(0, HELPER(&self->s, "open", self->s.ro_file, "r"));
	if (asb_landlock_abi() >= 7)
		ASSERT_NE(NULL, strstr(self->s.report, " 0 not enforceable"))
			TH_LOG("report: %s", self->s.report);
}

TEST_F(launch, read_inside_and_outside)
{
	char cmd[512];

	ASSERT_EQ(0, HELPER(&self->s, "open", self->s.ro_file, "r"));
	ASSERT_EQ(0, HELPER(&self->s, "open", self->s.ro, "d"));
	ASSERT_EQ(EACCES, HELPER(&self->s, "open", self->s.secret_file, "r"));
	ASSERT_EQ(EACCES, HELPER(&self->s, "open", self->s.secret, "d"));
	ASSERT_EQ(EACCES, HELPER(&self->s, "open", "/root", "d"));
	/* A real program: cat works inside and fails outside. */
	xsnprintf(cmd, sizeof(cmd), "cat %s >/dev/null", self->s.ro_file);
	ASSERT_EQ(0, SH(&self->s, cmd));
	xsnprintf(cmd, sizeof(cmd), "cat %s", self->s.secret_file);
	ASSERT_EQ(1, SH(&self->s, cmd));
}

TEST_F(launch, write_rules)
{
	char path[256], cmd[512];

	/*
	 * Read-only subtree: no write, no create, no truncate, no unlink.
	 * Outside fs.write the sandbox's mounts are read-only.
	 */
	ASSERT_EQ(EROFS, HELPER(&self->s, "open", self->s.ro_file, "w"));
	xsnprintf(path, sizeof(path), "%s/new", self->s.ro);
	ASSERT_EQ(EROFS, HELPER(&self->s, "open", path, "c"));
	ASSERT_EQ(EROFS, HELPER(&self->s, "truncate", self->s.ro_file));
	xsnprintf(cmd, sizeof(cmd), "rm -f %s", self->s.ro_file);
	ASSERT_EQ(1, SH(&self->s, cmd));
	ASSERT_EQ(0, access(self->s.ro_file, F_OK));

	/* fs.write: create, write, truncate, rename, unlink, mkdir. */
	xsnprintf(cmd, sizeof(cmd),
		 "cd %s && echo hi > a && cat a >/dev/null && mv a b && "
		 "mkdir d && mv b d/c && : > d/c && rm d/c && rmdir d && "
		 "mkfifo f && rm f",
		 self->s.rw);
	ASSERT_EQ(0, SH(&self->s, cmd));
	xsnprintf(path, sizeof(path), "%s/x", self->s.rw);
	ASSERT_EQ(0, HELPER(&self->s, "open", path, "c"));
	ASSERT_EQ(0, HELPER(&self->s, "truncate", path));
	/* Never a device node, even in fs.write. */
	xsnprintf(path, sizeof(path), "%s/null", self->s.rw);
	ASSERT_EQ(EACCES, HELPER(&self->s, "mknod", path));
	/* Moving a read-only file into the writable tree is refused (the
	 * writable tree is a mount of its own). */
	xsnprintf(path, sizeof(path), "%s/moved", self->s.rw);
	ASSERT_EQ(EXDEV, HELPER(&self->s, "rename", self->s.ro_file, path));
}

TEST_F(launch, exec_rules)
{
	char cmd[512];
	int st = -1;
	struct asb_launch_opts o;

	ASSERT_EQ(0, run_argv(&self->s, (char *[]){ "true", NULL }));
	/* A copy of true in a read-only tree: found, not executable. */
	o = sbx_opts(&self->s, (char *[]){ self->s.ro_true, NULL });
	errno = 0;
	ASSERT_EQ(-1, asb_launch(&o, &st));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(126, st);
	ASSERT_NE(NULL, strstr(self->s.report, "Permission denied"));
	o = sbx_opts(&self->s, (char *[]){ "/nonexistent/x", NULL });
	ASSERT_EQ(-1, asb_launch(&o, &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(127, st);
	/* The same from a shell inside. */
	xsnprintf(cmd, sizeof(cmd), "%s", self->s.ro_true);
	ASSERT_EQ(126, SH(&self->s, cmd));
	/* fexecve of a readable file is not an exec grant. */
	ASSERT_EQ(EACCES, HELPER(&self->s, "fexec", self->s.ro_true));
}

TEST_F(launch, fileless_exec)
{
	/* An executable memfd is refused... */
	ASSERT_EQ(EPERM, HELPER(&self->s, "memfd", self->s.ro_true, "x"));
	/* ...and a sealed-noexec one cannot be executed. */
	ASSERT_EQ(EACCES, HELPER(&self->s, "memfd", self->s.ro_true, "s"));
}

TEST_F(launch, inherited_through_fork_and_exec)
{
	char cmd[512];

	ASSERT_EQ(EACCES, HELPER(&self->s, "fork_open", self->s.secret_file));
	ASSERT_EQ(0, HELPER(&self->s, "fork_open", self->s.ro_file));
	xsnprintf(cmd, sizeof(cmd), "sh -c 'sh -c \"cat %s\"'",
		 self->s.secret_file);
	ASSERT_EQ(1, SH(&self->s, cmd));
	xsnprintf(cmd, sizeof(cmd), "(cat %s &) ; wait; cat %s", self->s.ro_file,
		 self->s.secret_file);
	ASSERT_EQ(1, SH(&self->s, cmd));
}

TEST_F(launch, symlink_and_hardlink)
{
	char lnk[256], cmd[512];

	xsnprintf(lnk, sizeof(lnk), "%s/link", self->s.rw);
	xsnprintf(cmd, sizeof(cmd), "ln -s %s %s", self->s.secret_file, lnk);
	ASSERT_EQ(0, SH(&self->s, cmd));
	ASSERT_EQ(EACCES, HELPER(&self->s, "open", lnk, "r"));
	ASSERT_EQ(EROFS, HELPER(&self->s, "open", lnk, "w"));

	xsnprintf(lnk, sizeof(lnk), "%s/hard", self->s.rw);
	/*
	 * Linking across directories is a Landlock "refer": refused with
	 * EXDEV when the file would gain rights in the new place.
	 */
	ASSERT_EQ(EXDEV, HELPER(&self->s, "link", self->s.secret_file, lnk));
	ASSERT_EQ(-1, access(lnk, F_OK));
	ASSERT_EQ(EXDEV, HELPER(&self->s, "link", self->s.ro_file, lnk));
	ASSERT_EQ(-1, access(lnk, F_OK));
	/* Within the writable tree, links work. */
	xsnprintf(cmd, sizeof(cmd), "cd %s && : > f && mkdir d && ln f d/g",
		  self->s.rw);
	ASSERT_EQ(0, SH(&self->s, cmd));
}

TEST_F(launch, proc_tricks)
{
	char path[256], pidbuf[16];
	pid_t out;

	ASSERT_EQ(EACCES, HELPER(&self->s, "proc_root", self->s.secret_file));
	ASSERT_EQ(0, HELPER(&self->s, "proc_root", self->s.ro_file));
	ASSERT_EQ(EACCES, HELPER(&self->s, "reopen", self->s.secret_file));
	ASSERT_EQ(0, HELPER(&self->s, "reopen", self->s.ro_file));
	/* openat2 (its mode is in memory, out of seccomp's sight): ENOSYS,
	 * whatever its resolve flags; libc's open never uses it */
	ASSERT_EQ(ENOSYS, HELPER(&self->s, "openat2", self->s.secret_file,
				 "0x10" /* RESOLVE_IN_ROOT */));
	ASSERT_EQ(ENOSYS, HELPER(&self->s, "openat2", self->s.ro_file, "0x08"));

	/* A process outside whose cwd is the forbidden directory. */
	out = spawn_outside(self->s.secret);
	ASSERT_LE(0, out);
	/* not even there: the sandbox has a PID namespace of its own */
	xsnprintf(path, sizeof(path), "/proc/%d/cwd/file", out);
	ASSERT_EQ(ENOENT, HELPER(&self->s, "open", path, "r"));
	xsnprintf(path, sizeof(path), "/proc/%d/root%s", out,
		 self->s.secret_file);
	ASSERT_EQ(ENOENT, HELPER(&self->s, "open", path, "r"));
	xsnprintf(pidbuf, sizeof(pidbuf), "%d", out);
	kill(out, SIGKILL);
	waitpid(out, NULL, 0);
}

/*
 * Does int $0x80 work outside the sandbox? (Not on this host: the i386
 * entry is disabled and int $0x80 is a SIGSEGV even unconfined.)
 */
static __attribute__((noinline)) int int80_works(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		long ret;

		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

TEST_F(launch, dangerous_syscalls)
{
	ASSERT_EQ(EPERM, HELPER(&self->s, "io_uring"));
	ASSERT_EQ(EPERM, HELPER(&self->s, "mount", self->s.rw));
	ASSERT_EQ(EPERM, HELPER(&self->s, "unshare_user"));
	ASSERT_EQ(EPERM, HELPER(&self->s, "clone_user"));
	ASSERT_EQ(ENOSYS, HELPER(&self->s, "clone3"));
	ASSERT_EQ(EPERM, HELPER(&self->s, "bpf"));
	ASSERT_EQ(EPERM, HELPER(&self->s, "personality"));
	ASSERT_EQ(EPERM, HELPER(&self->s, "tiocsti"));
	ASSERT_EQ(EPERM, HELPER(&self->s, "ptrace_child"));
	/* Non-native syscalls kill the process (SIGSYS). */
	ASSERT_EQ(128 + SIGSYS, HELPER(&self->s, "x32"));
	/* The i386 entry, if this kernel has it enabled at all. */
	ASSERT_EQ(128 + SIGSYS, int80_works() ? HELPER(&self->s, "int80") :
					      128 + SIGSYS);
}

TEST(sys_allow)
{
	struct sbx s;

	ASSERT_EQ(0, sbx_init(&s, "sys.allow = userns ptrace"));
	ASSERT_EQ(ASB_SB_ALLOW_USERNS | ASB_SB_ALLOW_PTRACE,
		  s.sb->flags & (ASB_SB_ALLOW_USERNS | ASB_SB_ALLOW_PTRACE));
	/* io_uring stays refused: no sys.allow item lifts it */
	EXPECT_EQ(EPERM, HELPER(&s, "io_uring"));
	EXPECT_EQ(0, HELPER(&s, "unshare_user"));
	/* ptrace inside the sandbox works... */
	EXPECT_EQ(0, HELPER(&s, "ptrace_child"));
	/* ...and still not outside: Landlock, below. */
	sbx_fini(&s);
}

TEST_F(launch, outside_processes)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char pidbuf[16], name[64];
	int st, lfd;
	pid_t out;

	out = spawn_outside("/");
	ASSERT_LE(0, out);
	xsnprintf(pidbuf, sizeof(pidbuf), "%d", out);
	ASSERT_EQ(EPERM, HELPER(&self->s, "ptrace", pidbuf));
	/* no such process in the sandbox's PID namespace */
	ASSERT_EQ(ESRCH, HELPER(&self->s, "kill", pidbuf));

	/* Abstract unix socket of a process outside. */
	xsnprintf(name, sizeof(name), "asb-launch-test-%d", getpid());
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	memcpy(sun.sun_path + 1, name, strlen(name));
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&sun,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      1 + strlen(name))));
	ASSERT_EQ(0, listen(lfd, 4));
	ASSERT_EQ(EPERM, HELPER(&self->s, "abstract", name));
	close(lfd);

	/* With sys.allow = ptrace, outside is not even there. */
	{
		struct sbx s2;

		ASSERT_EQ(0, sbx_init(&s2, "sys.allow = ptrace"));
		EXPECT_EQ(ESRCH, HELPER(&s2, "ptrace", pidbuf));
		sbx_fini(&s2);
	}
	kill(out, SIGKILL);
	ASSERT_EQ(out, waitpid(out, &st, 0));
}

TEST_F(launch, no_fd_leak)
{
	char fdbuf[16];
	int fd = open(self->s.secret_file, O_RDONLY);	/* no O_CLOEXEC */

	ASSERT_LE(3, fd);
	xsnprintf(fdbuf, sizeof(fdbuf), "%d", fd);
	ASSERT_EQ(EBADF, HELPER(&self->s, "fd", fdbuf));
	ASSERT_EQ(0, HELPER(&self->s, "fd", "2"));
	close(fd);
}

TEST_F(launch, exit_status_and_signals)
{
	struct asb_launch_opts o;
	int st, ws;
	pid_t l;

	ASSERT_EQ(0, SH(&self->s, "exit 0"));
	ASSERT_EQ(7, SH(&self->s, "exit 7"));
	ASSERT_EQ(128 + SIGTERM, SH(&self->s, "kill -TERM $$"));
	ASSERT_EQ(128 + SIGKILL, SH(&self->s, "kill -KILL $$"));

	/* SIGTERM to the launcher reaches the sandboxed program. */
	l = fork();
	ASSERT_LE(0, l);
	if (l == 0) {
		o = sbx_opts(&self->s, (char *[]){ "sleep", "30", NULL });
		st = -1;
		asb_launch(&o, &st);
		_exit(st);
	}
	usleep(300000);
	ASSERT_EQ(0, kill(l, SIGTERM));
	ASSERT_EQ(l, waitpid(l, &ws, 0));
	ASSERT_TRUE(WIFEXITED(ws));
	ASSERT_EQ(128 + SIGTERM, WEXITSTATUS(ws));
}

TEST_F(launch, joins_cgroup)
{
	char cg[128], name[64];
	struct asb_launch_opts o;
	int st = -1;

	xsnprintf(name, sizeof(name), "asb-launch-test-%d", getpid());
	xsnprintf(cg, sizeof(cg), "/sys/fs/cgroup/unified/%s", name);
	if (mkdir(cg, 0755) < 0)
		SKIP(return, "cgroup v2 not writable: %s", strerror(errno));
	o = sbx_opts(&self->s, (char *[]){ self_exe, "--helper", "cgroup",
					     name, NULL });
	o.cgroup_path = cg;
	EXPECT_EQ(0, asb_launch(&o, &st));
	EXPECT_EQ(0, st);
	/* A cgroup that does not exist: refused before anything runs. */
	o.cgroup_path = "/sys/fs/cgroup/unified/asb-no-such-cgroup";
	EXPECT_EQ(-1, asb_launch(&o, &st));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(125, st);
	rmdir(cg);
}

/* ---- the ask filter: a trivial supervisor thread ---- */

struct sup {
	int fd;
	int deny_exec;		/* answer execve with EACCES */
	int count;
	pthread_t th;
};

static void *sup_main(void *arg)
{
	struct sup *s = arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	for (;;) {
		memset(&req, 0, sizeof(req));
		if (ioctl(s->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ENOENT: the target died; or closed */
		}
		__atomic_add_fetch(&s->count, 1, __ATOMIC_SEQ_CST);
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		if (s->deny_exec && req.data.nr == SYS_execve) {
			resp.error = -EACCES;
		} else {
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		ioctl(s->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	return NULL;
}

static int sup_cb(int fd, pid_t child, void *arg)
{
	struct sup *s = arg;

	(void)child;
	s->fd = fd;
	if (pthread_create(&s->th, NULL, sup_main, s)) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

TEST_F(launch, ask_filter)
{
	struct sup sup = { .fd = -1 };
	struct asb_launch_opts o;
	char cmd[512];
	int st = -1;

	xsnprintf(cmd, sizeof(cmd), "cat %s >/dev/null", self->s.ro_file);
	o = sbx_opts(&self->s, (char *[]){ "/bin/sh", "-c", cmd, NULL });
	o.notify_cb = sup_cb;
	o.notify_arg = &sup;
	ASSERT_EQ(0, asb_launch(&o, &st));
	ASSERT_EQ(0, st);
	pthread_join(sup.th, NULL);
	close(sup.fd);
	/* At least: exec sh, exec cat, the opens of the libraries. */
	ASSERT_LE(4, sup.count);

	/* The supervisor says no to exec: 126, EACCES. */
	memset(&sup, 0, sizeof(sup));
	sup.deny_exec = 1;
	o = sbx_opts(&self->s, (char *[]){ "/usr/bin/true", NULL });
	o.notify_cb = sup_cb;
	o.notify_arg = &sup;
	ASSERT_EQ(-1, asb_launch(&o, &st));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(126, st);
	pthread_join(sup.th, NULL);
	close(sup.fd);
	ASSERT_EQ(1, sup.count);
}

TEST(landlock_missing_path_and_file_rule)
{
	static const char pol[] =
		"[sandbox.t]\n"
		"fs.read = /usr /nonexistent/asb-path\n"
		"fs.write = /dev/null\n"
		"fs.exec = /usr/bin/true\n";
	struct asb_image img = { 0 };
	char report[2048];
	unsigned int ndeg = 99;
	int fd;

	ASSERT_EQ(0, asb_policy_compile_mem("t", pol, sizeof(pol) - 1, &img,
					    stderr, NULL));
	fd = asb_landlock_prepare(&img, asb_image_find_sandbox(&img, "t"),
				  report, sizeof(report), &ndeg);
	ASSERT_LE(0, fd) TH_LOG("report: %s", report);
	EXPECT_NE(NULL, strstr(report, "/nonexistent/asb-path: No such file or directory: skipped"))
		TH_LOG("report: %s", report);
	if (asb_landlock_abi() >= 7)
		EXPECT_EQ(0U, ndeg);
	close(fd);
	asb_image_free(&img);
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	if (n < 0)
		return 1;
	self_exe[n] = '\0';
	if (argc >= 3 && !strcmp(argv[1], "--helper"))
		return helper(argc - 2, argv + 2);
	return test_harness_run(argc, argv);
}
