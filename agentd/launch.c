// SPDX-License-Identifier: BSD-3-Clause
/*
 * Launch a program confined as a sandbox (portable backend). See launch.h.
 *
 * The child runs only async-signal-safe code between fork and exec (the
 * caller may be multi-threaded): raw syscalls, no stdio, no malloc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock.h"
#include "launch.h"
#include "seccomp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

extern char **environ;

enum stage {
	ST_CGROUP = 1,
	ST_PDEATHSIG,
	ST_FDS,
	ST_LANDLOCK,
	ST_SECCOMP,
	ST_NOTIFY,
	ST_EXEC,
};

static const char *const stage_name[] = {
	[ST_CGROUP] = "join cgroup",
	[ST_PDEATHSIG] = "parent death signal",
	[ST_FDS] = "close file descriptors",
	[ST_LANDLOCK] = "landlock",
	[ST_SECCOMP] = "seccomp",
	[ST_NOTIFY] = "pass notify fd",
	[ST_EXEC] = "exec",
};

struct child_err {
	int stage;
	int err;
};

static const int fwd_sigs[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

#define NFWD	(int)(sizeof(fwd_sigs) / sizeof(fwd_sigs[0]))

static void report_line(const struct asb_launch_opts *o, const char *what,
			const char *why)
{
	size_t used;

	if (!o->report || !o->report_len)
		return;
	used = strnlen(o->report, o->report_len - 1);
	snprintf(o->report + used, o->report_len - used, "launch: %s: %s\n",
		 what, why);
}

static __attribute__((noreturn)) void child_fail(int errfd, int stage,
						 int err)
{
	struct child_err ce = { .stage = stage, .err = err };
	ssize_t n;

	do
		n = write(errfd, &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	if (stage != ST_EXEC)
		_exit(ASB_LAUNCH_EXIT_SETUP);
	_exit(err == ENOENT ? ASB_LAUNCH_EXIT_NOTFOUND : ASB_LAUNCH_EXIT_NOEXEC);
}

static int join_cgroup(int cgfd)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long v = (unsigned long)getpid();
	ssize_t n;
	int fd;

	*--p = '\n';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	fd = openat(cgfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, p, (size_t)(buf + sizeof(buf) - p));
	if (n < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

static int cloexec_all(void)
{
	long max;
	int fd;

	if (syscall(__NR_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* Before 5.11. */
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > INT_MAX)
		max = 1024;
	for (fd = 3; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			return -1;
	}
	return 0;
}

int asb_send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte = 'N';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int asb_recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;
	int fd;

	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			errno = 0;
		return -1;
	}
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & MSG_CTRUNC)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

struct child_args {
	const struct asb_launch_opts *o;
	int cgfd;
	int ruleset_fd;
	int errfd;
	int sock;		/* -1: no ask filter */
	pid_t parent;
	const sigset_t *mask;	/* NULL: leave the mask */
};

static __attribute__((noreturn)) void child_run(const struct child_args *a)
{
	const struct asb_launch_opts *o = a->o;
	int nfd = -1;

	if (a->cgfd >= 0 && join_cgroup(a->cgfd) < 0)
		child_fail(a->errfd, ST_CGROUP, errno);
	if (a->mask)
		sigprocmask(SIG_SETMASK, a->mask, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(a->errfd, ST_PDEATHSIG, errno);
	if (getppid() != a->parent)	/* the launcher died before prctl */
		_exit(ASB_LAUNCH_EXIT_SETUP);
	if (cloexec_all() < 0)
		child_fail(a->errfd, ST_FDS, errno);
	if (a->ruleset_fd >= 0 && asb_landlock_enforce(a->ruleset_fd) < 0)
		child_fail(a->errfd, ST_LANDLOCK, errno);
	if (asb_seccomp_install_ask(o->sb_flags,
				    o->sb ? o->sb->deny_families : 0, o->ask,
				    a->sock >= 0 ? &nfd : NULL) < 0)
		child_fail(a->errfd, ST_SECCOMP, errno);
	if (a->sock >= 0) {
		/* The listener must not stay in the sandbox. */
		if (asb_send_fd(a->sock, nfd) < 0)
			child_fail(a->errfd, ST_NOTIFY, errno);
		close(nfd);
		close(a->sock);
	}
	if (o->envp)
		execvpe(o->argv[0], o->argv, o->envp);
	else
		execvp(o->argv[0], o->argv);
	child_fail(a->errfd, ST_EXEC, errno);
}

static void close_if(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int spawn(const struct asb_launch_opts *o, pid_t *pidp, int *status,
		 const sigset_t *child_mask)
{
	struct child_args a = { .o = o, .cgfd = -1, .ruleset_fd = -1,
				.errfd = -1, .sock = -1 };
	int ep[2] = { -1, -1 }, sv[2] = { -1, -1 }, own_cgfd = -1;
	struct child_err ce;
	int err = 0, code = ASB_LAUNCH_EXIT_SETUP;
	pid_t pid;
	ssize_t n;

	if (o->report && o->report_len)
		o->report[0] = '\0';
	if (!o->argv || !o->argv[0] || !!o->img != !!o->sb) {
		err = EINVAL;
		goto fail;
	}
	if (o->sb && !o->kernel_fs) {
		unsigned int ndeg = 0;

		a.ruleset_fd = asb_landlock_prepare(o->img, o->sb, o->report,
						    o->report_len, &ndeg);
		if (a.ruleset_fd < 0) {
			err = errno;
			goto fail;
		}
	}
	if (o->cgroup_fd >= 0) {
		a.cgfd = o->cgroup_fd;
	} else if (o->cgroup_path) {
		own_cgfd = open(o->cgroup_path,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (own_cgfd < 0) {
			err = errno;
			report_line(o, o->cgroup_path,
				    strerror(err));
			goto fail;
		}
		a.cgfd = own_cgfd;
	}
	if (pipe2(ep, O_CLOEXEC) < 0 ||
	    (o->notify_cb &&
	     socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)) {
		err = errno;
		goto fail;
	}
	a.errfd = ep[1];
	a.sock = sv[1];
	a.parent = getpid();
	a.mask = child_mask;

	pid = fork();
	if (pid < 0) {
		err = errno;
		goto fail;
	}
	if (pid == 0)
		child_run(&a);

	close_if(&ep[1]);
	close_if(&sv[1]);
	if (o->notify_cb) {
		int nfd = asb_recv_fd(sv[0]);

		if (nfd >= 0 && o->notify_cb(nfd, pid, o->notify_arg) < 0) {
			err = errno ? errno : ECANCELED;
			report_line(o, "notify handler",
				    strerror(err));
			kill(pid, SIGKILL);
			reap(pid);
			goto fail;
		}
		/* No fd: the child failed; its reason is on the pipe. */
	}

	do
		n = read(ep[0], &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		if (n == (ssize_t)sizeof(ce) && ce.stage >= ST_CGROUP &&
		    ce.stage <= ST_EXEC) {
			err = ce.err;
			if (ce.stage == ST_EXEC) {
				code = err == ENOENT ? ASB_LAUNCH_EXIT_NOTFOUND :
						       ASB_LAUNCH_EXIT_NOEXEC;
				report_line(o, o->argv[0], strerror(err));
			} else {
				report_line(o, stage_name[ce.stage], strerror(err));
			}
		} else {
			err = n < 0 ? errno : EPROTO;
		}
		reap(pid);
		goto fail;
	}
	close_if(&ep[0]);
	close_if(&sv[0]);
	close_if(&own_cgfd);
	close_if(&a.ruleset_fd);
	*pidp = pid;
	return 0;

fail:
	close_if(&ep[0]);
	close_if(&ep[1]);
	close_if(&sv[0]);
	close_if(&sv[1]);
	close_if(&own_cgfd);
	close_if(&a.ruleset_fd);
	if (status)
		*status = code;
	errno = err ? err : EIO;
	return -1;
}

int asb_launch_spawn(const struct asb_launch_opts *o, pid_t *pid,
		     int *status)
{
	return spawn(o, pid, status, NULL);
}

int asb_launch_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return ASB_LAUNCH_EXIT_SETUP;
}

static volatile sig_atomic_t fwd_pid;

static void fwd_handler(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)uc;
	/* The terminal signals the whole foreground group: not twice. */
	if (si->si_code != SI_KERNEL && fwd_pid > 0)
		kill((pid_t)fwd_pid, sig);
	errno = saved;
}

int asb_launch(const struct asb_launch_opts *o, int *status)
{
	struct sigaction sa, old_sa[NFWD];
	sigset_t set, old_mask;
	int i, ws, r, err;
	pid_t pid;

	sigemptyset(&set);
	for (i = 0; i < NFWD; i++)
		sigaddset(&set, fwd_sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, &old_mask) < 0)
		return -1;

	fwd_pid = 0;
	if (spawn(o, &pid, status, &old_mask) < 0) {
		err = errno;
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		errno = err;
		return -1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fwd_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFWD; i++)
		sigaction(fwd_sigs[i], &sa, &old_sa[i]);
	fwd_pid = pid;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);

	do
		r = waitpid(pid, &ws, 0);
	while (r < 0 && errno == EINTR);
	err = errno;

	sigprocmask(SIG_BLOCK, &set, NULL);
	fwd_pid = 0;
	for (i = 0; i < NFWD; i++)
		sigaction(fwd_sigs[i], &old_sa[i], NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);

	if (r < 0) {
		if (status)
			*status = ASB_LAUNCH_EXIT_SETUP;
		errno = err;
		return -1;
	}
	if (status)
		*status = asb_launch_exit_code(ws);
	return 0;
}
