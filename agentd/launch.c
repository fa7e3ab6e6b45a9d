// SPDX-License-Identifier: BSD-3-Clause
/*
 * Launch a program confined as a sandbox (portable backend). See launch.h.
 *
 * The caller is single-threaded (asbctl, the broker's spawner): the child
 * reads the mount table and realpath()s the rules between fork and exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>

#include "landlock.h"
#include "launch.h"
#include "cglimits.h"
#include "seccomp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

extern char **environ;

enum stage {
	ST_MOUNT = 1,
	ST_HELD,
	ST_HELD_EXEC,
	ST_CGROUP,
	ST_CAPS,
	ST_PDEATHSIG,
	ST_FDS,
	ST_LANDLOCK,
	ST_SECCOMP,
	ST_NOTIFY,
	ST_EXEC,
};

static const char *const stage_name[] = {
	[ST_MOUNT] = "mount namespace",
	[ST_HELD] = "an approve.write path must be its own real path (no symlink on the way) and, inside fs.write, exist: it is kept read-only",
	[ST_HELD_EXEC] = "an approve.exec path must not be inside fs.write (a symlink on the way included), nor a #! script: an interpreter the sandbox runs reads a script without asking (name the interpreter in approve.exec)",
	[ST_CGROUP] = "join cgroup",
	[ST_CAPS] = "drop capabilities and switch ids",
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

/*
 * The standard streams of a sandbox. A device (a terminal, /dev/null) is
 * reopened in the sandbox's view (reopen_devs); the caller's pipe or
 * socket passes as it is; anything else - a file, a directory, a named
 * FIFO: the caller's `> out.log` or `< in` - names the caller's mount,
 * where the view's read-only and noexec do not reach (mapped PROT_EXEC,
 * or reopened through /proc/self/fd and dlopen'ed, fchmod'ed). That one
 * reaches the sandbox as a pipe, and a process of the launcher copies
 * between the two until the sandbox's end closes.
 */
struct relay {
	int inner[3];		/* the sandbox's end of fd N's pipe, or -1 */
	int outer[3];		/* the relay's end, or -1 */
	pid_t pid[3];
};

struct child_args {
	const struct asb_launch_opts *o;
	int cgfd;
	int v1fd[ASB_CTRL_N];	/* v1 cgroups of limits.*, or -1 */
	int ruleset_fd;
	int errfd;
	int sock;		/* -1: no ask filter */
	int alive;		/* read end; the launcher holds the write end */
	const sigset_t *mask;	/* NULL: leave the mask */
	struct relay *relay;
};

/* Is one of @a and @b (absolute, canonical) at or below the other? */
static bool nested(const char *a, const char *b);

/*
 * The outermost fs.write path of @o above @path (a real path), at it too
 * if @at, itself as a real path in @top (PATH_MAX): the mounts and
 * Landlock follow a symlink in a rule's path, so the comparison must too.
 * NULL if none.
 */
static const char *write_over(const struct asb_launch_opts *o,
			      const char *path, bool at, char *top)
{
	const struct asb_image_rule *r = asb_image_rules(o->img) +
					 o->sb->first_rule;
	char real[PATH_MAX];
	bool found = false;

	for (uint32_t j = 0; j < o->sb->n_rules; j++) {
		const char *w = asb_image_str(o->img, r[j].path);
		size_t n;

		if (r[j].kind != ASB_RULE_FS_WRITE || !w)
			continue;
		if (!realpath(w, real))
			snprintf(real, sizeof(real), "%s", w);
		n = strlen(real);
		if ((n < strlen(path) || (at && n == strlen(path))) &&
		    nested(real, path) && (!found || n < strlen(top))) {
			memcpy(top, real, n + 1);
			found = true;
		}
	}
	return found ? top : NULL;
}

/*
 * approve.write paths that cannot be kept read-only: one that is not its
 * own real path (the mount would land on the link's target, and the link
 * could be replaced), or one inside fs.write that does not exist (the
 * sandbox could make it by renaming a file onto it). Refused.
 */
static bool held_unsound(const struct asb_launch_opts *o)
{
	const struct asb_image_rule *r = asb_image_rules(o->img) +
					 o->sb->first_rule;
	char real[PATH_MAX], top[PATH_MAX];

	for (uint32_t i = 0; i < o->sb->n_rules; i++) {
		const char *p = asb_image_str(o->img, r[i].path);

		if (r[i].kind != ASB_RULE_ASK_WRITE || !p)
			continue;
		if (realpath(p, real) ? strcmp(real, p) != 0 :
		    errno != ENOENT || write_over(o, p, false, top))
			return true;
	}
	return false;
}

/*
 * approve.exec paths that cannot be held: one the sandbox may write at (it
 * could put a program of its own there, or move the held one away and run
 * it unasked; the compiler refuses the plain case, this one sees symlinks),
 * and a "#!" script: exec runs its interpreter, which the sandbox may run
 * on the script's text without any exec of the script. Refused.
 */
static bool held_exec_unsound(const struct asb_launch_opts *o)
{
	const struct asb_image_rule *r = asb_image_rules(o->img) +
					 o->sb->first_rule;
	char real[PATH_MAX], top[PATH_MAX], head[2];
	const char *p;
	int fd;

	for (uint32_t i = 0; i < o->sb->n_rules; i++) {
		p = asb_image_str(o->img, r[i].path);
		if (r[i].kind != ASB_RULE_ASK_EXEC || !p)
			continue;
		if (!realpath(p, real))
			continue;	/* nothing there to run */
		if (write_over(o, real, true, top))
			return true;
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd >= 0 && read(fd, head, 2) == 2 && !memcmp(head, "#!", 2)) {
			close(fd);
			return true;
		}
		if (fd >= 0)
			close(fd);
	}
	return false;
}

/*
 * The directories between an fs.write subtree and an approve.write path
 * inside it become mount points of their own, which the sandbox cannot
 * rename or remove (EBUSY): else it could move the read-only subtree away
 * and put a directory of its own making in its place.
 */
static int pin_ancestors(const struct asb_launch_opts *o)
{
	const struct asb_image_rule *r = asb_image_rules(o->img) +
					 o->sb->first_rule;
	char dir[PATH_MAX], top[PATH_MAX];

	for (uint32_t i = 0; i < o->sb->n_rules; i++) {
		const char *p = asb_image_str(o->img, r[i].path);
		const char *w = p && r[i].kind == ASB_RULE_ASK_WRITE ?
				write_over(o, p, false, top) : NULL;

		if (!w || strlen(p) >= sizeof(dir))
			continue;
		for (size_t n = strlen(w) + 1; p[n]; n++) {
			if (p[n] != '/')
				continue;
			memcpy(dir, p, n);
			dir[n] = 0;
			if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
				return -1;
		}
	}
	return 0;
}

static bool nested(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (strncmp(a, b, n))
		return false;
	if (la == lb)
		return true;
	/* "/" is the parent of everything; otherwise a '/' must follow */
	return n == 1 || (la > lb ? a[n] : b[n]) == '/';
}

/* Is @path at or below @top (both absolute, canonical)? */
static bool below(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(path, top, n) &&
	       (!path[n] || path[n] == '/' || n == 1);
}

/*
 * Where code comes from besides the exec rules: the loader's directories,
 * whose shared objects every dynamically linked program maps PROT_EXEC.
 * What else the sandbox may read is data: exec'd, mapped as code or handed
 * to the loader, it is refused by the noexec mount it is on.
 */
static const char *const lib_dirs[] = {
	"/lib", "/lib32", "/lib64", "/libx32", "/usr/lib", "/usr/lib32",
	"/usr/lib64", "/usr/libx32", "/usr/local/lib",
};

/*
 * A path of the sandbox's view with a mount of its own: code (an exec
 * rule, a library directory: the one place where noexec is lifted), a
 * fs.write subtree (writable), an approve.write path (read-only, even
 * nested in fs.write). A directory or a regular file: a device node
 * (/dev/null, /dev/tty) is written on a read-only mount all the same,
 * and a writable one would let the sandbox change the host's node (its
 * mode, its owner, its times).
 */
struct view_mount {
	char *path;		/* real path */
	int kind;		/* ASB_RULE_FS_EXEC, _FS_WRITE, _ASK_WRITE,
				 * VIEW_LIB */
	bool skip;		/* code inside code, or a library directory
				 * inside fs.write: no mount of its own */
};

#define VIEW_LIB	(-1)	/* a library directory: code, not a grant */

struct view {
	struct view_mount *m;
	size_t n;
};

static int view_add(struct view *v, const char *path, int kind)
{
	struct stat st;
	char *real;

	if (!path || stat(path, &st) < 0 ||
	    !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
		return 0;
	real = realpath(path, NULL);
	if (!real)
		return errno == ENOENT ? 0 : -1;
	v->m[v->n++] = (struct view_mount){ .path = real, .kind = kind };
	return 0;
}

/*
 * Is @path at or below a code mount of @v: an exec rule's, or, with
 * @libs, a library directory's? What the sandbox writes is code only
 * under an exec rule: a library directory makes nothing writable exec.
 */
static bool code_over(const struct view *v, const char *path, bool libs)
{
	for (size_t i = 0; i < v->n; i++)
		if ((v->m[i].kind == ASB_RULE_FS_EXEC ||
		     (libs && v->m[i].kind == VIEW_LIB)) && !v->m[i].skip &&
		    below(path, v->m[i].path))
			return true;
	return false;
}

/* Is @path at or below a fs.write path of @v? */
static bool in_write(const struct view *v, const char *path)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->m[i].kind == ASB_RULE_FS_WRITE &&
		    below(path, v->m[i].path))
			return true;
	return false;
}

static int outer_first(const void *a, const void *b)
{
	size_t la = strlen(((const struct view_mount *)a)->path);
	size_t lb = strlen(((const struct view_mount *)b)->path);

	return (la > lb) - (la < lb);
}

/*
 * The paths of @o's view, outer first: what is nested has the last say.
 * Code inside code needs no mount: a writable subtree under an exec rule
 * keeps exec (the policy says so on purpose), so nothing between re-adds
 * noexec. A library directory inside fs.write gets none either: it stays
 * the writable subtree's, noexec.
 */
static int view_collect(const struct asb_launch_opts *o, struct view *v)
{
	const struct asb_image_rule *r = asb_image_rules(o->img) +
					 o->sb->first_rule;
	size_t nlib = sizeof(lib_dirs) / sizeof(lib_dirs[0]);

	v->n = 0;
	v->m = calloc(o->sb->n_rules + nlib, sizeof(*v->m));
	if (!v->m)
		return -1;
	for (size_t i = 0; i < nlib; i++)
		if (view_add(v, lib_dirs[i], VIEW_LIB) < 0)
			return -1;
	for (uint32_t i = 0; i < o->sb->n_rules; i++) {
		const char *path = asb_image_str(o->img, r[i].path);
		int kind = r[i].kind == ASB_RULE_ASK_EXEC ? ASB_RULE_FS_EXEC :
			   r[i].kind;

		if (kind != ASB_RULE_FS_EXEC && kind != ASB_RULE_FS_WRITE &&
		    kind != ASB_RULE_ASK_WRITE)
			continue;
		if (view_add(v, path, kind) < 0)
			return -1;
	}
	qsort(v->m, v->n, sizeof(*v->m), outer_first);
	for (size_t i = 0; i < v->n; i++) {
		struct view tail = { v->m, i };

		v->m[i].skip = (v->m[i].kind == ASB_RULE_FS_EXEC ||
				v->m[i].kind == VIEW_LIB) &&
			       code_over(&tail, v->m[i].path, true);
		if (v->m[i].kind == VIEW_LIB && in_write(v, v->m[i].path))
			v->m[i].skip = true;
	}
	return 0;
}

static bool passes(int fd)
{
	struct statfs sf;
	struct stat st;

	if (fstat(fd, &st) < 0 || S_ISCHR(st.st_mode) || S_ISSOCK(st.st_mode))
		return true;
	return S_ISFIFO(st.st_mode) && fstatfs(fd, &sf) == 0 &&
	       sf.f_type == PIPEFS_MAGIC;
}

static void relay_close(struct relay *r)
{
	for (int i = 0; i < 3; i++) {
		if (r->inner[i] >= 0)
			close(r->inner[i]);
		if (r->outer[i] >= 0)
			close(r->outer[i]);
		r->inner[i] = r->outer[i] = -1;
	}
}

/* The pipes for the standard streams of a sandbox (@sb) that do not pass. */
static int relay_open(struct relay *r, bool sb)
{
	struct stat out, err;
	int p[2];

	for (int i = 0; i < 3; i++) {
		r->inner[i] = r->outer[i] = -1;
		r->pid[i] = 0;
	}
	for (int i = 0; i < 3; i++) {
		if (!sb || passes(i))
			continue;
		/* 2>&1 stays one stream, in order */
		if (i == 2 && r->inner[1] >= 0 && fstat(1, &out) == 0 &&
		    fstat(2, &err) == 0 && out.st_dev == err.st_dev &&
		    out.st_ino == err.st_ino) {
			r->inner[2] = fcntl(r->inner[1], F_DUPFD_CLOEXEC, 3);
			if (r->inner[2] < 0)
				goto fail;
			continue;
		}
		if (pipe2(p, O_CLOEXEC) < 0)
			goto fail;
		r->inner[i] = p[i == 0 ? 0 : 1];
		r->outer[i] = p[i == 0 ? 1 : 0];
	}
	return 0;
fail:
	relay_close(r);
	return -1;
}

/* In the sandbox's first process: the pipes become its streams. */
static int relay_take(struct relay *r)
{
	for (int i = 0; i < 3; i++)
		if (r->inner[i] >= 0 && dup2(r->inner[i], i) < 0)
			return -1;
	relay_close(r);
	return 0;
}

static __attribute__((noreturn)) void relay_run(int from, int to)
{
	char buf[65536];
	ssize_t n, w;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		for (ssize_t off = 0; off < n; off += w) {
			w = write(to, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				_exit(0);
		}
	}
}

/*
 * Once the sandbox holds its ends: one copying process per pipe, holding
 * its two descriptors only (another one kept open would keep a pipe from
 * its end of file, or the launcher waiting).
 */
static void relay_start(struct relay *r)
{
	for (int i = 0; i < 3; i++) {
		if (r->outer[i] < 0)
			continue;
		r->pid[i] = fork();
		if (r->pid[i] == 0) {
			int end = fcntl(r->outer[i], F_DUPFD, 5);

			/* a launcher killed takes its copies with it */
			prctl(PR_SET_PDEATHSIG, SIGKILL);

			if (end < 0 || dup2(i, 3) < 0 || dup2(end, 4) < 0 ||
			    syscall(__NR_close_range, 5U, ~0U, 0U) < 0)
				_exit(1);
			for (int fd = 0; fd < 3; fd++)
				close(fd);
			if (i)
				relay_run(4, 3);
			relay_run(3, 4);
		}
	}
	relay_close(r);
}

/* After the sandbox: what it wrote last is in the caller's file. */
static void relay_end(struct relay *r)
{
	relay_close(r);
	for (int i = 0; i < 3; i++)
		if (r->pid[i] > 0)
			while (waitpid(r->pid[i], NULL, 0) < 0 && errno == EINTR)
				;
}

/*
 * The host's mounts and their read-only and noexec flags (mountinfo's
 * per-mount options), taken before the view changes anything: lifting
 * RDONLY or NOEXEC for a rule's subtree must not lift the host's, on a
 * mount nested in it (a read-only bind under /tmp, a noexec tmpfs under
 * /usr/lib) nor on the mount the rule's path lies in (fs.write inside a
 * read-only bind).
 */
struct host_mount {
	char *path;
	uint64_t attr;		/* MOUNT_ATTR_RDONLY, _NOEXEC, or 0 */
};

struct host_mounts {
	struct host_mount *m;
	size_t n;
};

/* mountinfo's octal escapes (\040 for a space), in place */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				    (s[3] - '0'));
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = 0;
}

static int host_mounts_read(struct host_mounts *h)
{
	char *line = NULL, *f[6], *save, *opt;
	size_t cap = 0, room = 0;
	FILE *in = fopen("/proc/self/mountinfo", "re");
	int ret = 0;

	h->m = NULL;
	h->n = 0;
	if (!in)
		return -1;
	while (getline(&line, &cap, in) > 0) {
		uint64_t attr = 0;
		int i = 0;

		for (char *t = strtok_r(line, " ", &save); t && i < 6;
		     t = strtok_r(NULL, " ", &save))
			f[i++] = t;
		if (i < 6) {
			ret = -1;
			break;
		}
		for (opt = strtok_r(f[5], ",", &save); opt;
		     opt = strtok_r(NULL, ",", &save)) {
			if (!strcmp(opt, "ro"))
				attr |= MOUNT_ATTR_RDONLY;
			else if (!strcmp(opt, "noexec"))
				attr |= MOUNT_ATTR_NOEXEC;
		}
		if (h->n == room) {
			struct host_mount *m;

			room = room ? 2 * room : 32;
			m = realloc(h->m, room * sizeof(*m));
			if (!m) {
				ret = -1;
				break;
			}
			h->m = m;
		}
		unescape(f[4]);
		h->m[h->n].path = strdup(f[4]);
		h->m[h->n].attr = attr;
		if (!h->m[h->n++].path) {
			ret = -1;
			break;
		}
	}
	free(line);
	fclose(in);
	return ret;
}

static int set_attr(const char *path, uint64_t attr)
{
	struct mount_attr a = { .attr_set = attr };

	if (syscall(__NR_mount_setattr, AT_FDCWD, path,
		    AT_NO_AUTOMOUNT | AT_SYMLINK_NOFOLLOW, &a, sizeof(a)) < 0 &&
	    errno != ENOENT && errno != EINVAL)
		return -1;
	return 0;
}

/*
 * Put back the host's flags where the view lifted them: on the view's
 * code and fs.write paths, those of the host mount each lies in (the
 * deepest at or above it; of two at one path, the later covers), and on
 * the host's mounts below them. A mount no longer seen at its path
 * (covered by another) is out of reach: nothing to restore.
 */
static int host_mounts_restore(const struct host_mounts *h,
			       const struct view *v)
{
	for (size_t j = 0; j < v->n; j++) {
		const struct host_mount *in = NULL;

		if (v->m[j].skip)
			continue;
		for (size_t i = 0; i < h->n; i++)
			if (below(v->m[j].path, h->m[i].path) &&
			    (!in || strlen(h->m[i].path) >= strlen(in->path)))
				in = &h->m[i];
		if (in && in->attr && set_attr(v->m[j].path, in->attr) < 0)
			return -1;
	}
	for (size_t i = 0; i < h->n; i++) {
		bool lifted = false;

		if (!h->m[i].attr)
			continue;
		for (size_t j = 0; j < v->n && !lifted; j++)
			lifted = !v->m[j].skip && below(h->m[i].path,
							v->m[j].path);
		if (lifted && set_attr(h->m[i].path, h->m[i].attr) < 0)
			return -1;
	}
	return 0;
}

/* The standard streams that are devices, reopened in the sandbox's own
 * view: the inherited ones are files of the caller's mounts, where the
 * read-only view does not reach (fchmod 0666 on the caller's pty, or on
 * the host's /dev/null). */
static int reopen_devs(void)
{
	char link[] = "/proc/self/fd/N", path[PATH_MAX];
	struct stat was, now;
	ssize_t n;
	int fd, nfd, fl;

	for (fd = 0; fd <= 2; fd++) {
		if (fstat(fd, &was) < 0 || !S_ISCHR(was.st_mode))
			continue;
		link[sizeof(link) - 2] = (char)('0' + fd);
		n = readlink(link, path, sizeof(path) - 1);
		fl = fcntl(fd, F_GETFL);
		/* an O_PATH fd was opened with no access to reopen with */
		if (n <= 0 || path[0] != '/' || fl < 0 || (fl & O_PATH)) {
			errno = EBADF;
			return -1;
		}
		path[n] = 0;
		nfd = open(path, (fl & (O_ACCMODE | O_APPEND | O_NONBLOCK)) |
			  O_NOCTTY | O_CLOEXEC);
		if (nfd < 0)
			return -1;
		if (fstat(nfd, &now) < 0 || now.st_rdev != was.st_rdev ||
		    !S_ISCHR(now.st_mode) || dup2(nfd, fd) < 0) {
			close(nfd);
			errno = EXDEV;
			return -1;
		}
		close(nfd);
	}
	return 0;
}

/*
 * The working directory again, in the view: the one inherited is on the
 * mount the view covered, read-only and noexec. Taken by its path, with
 * no symlink on the way and only if it is the very directory (@was) that
 * was left: a sandbox that may write along the path could swap a part of
 * it between the two, and this runs as root.
 */
static void view_cwd(const char *cwd, const struct stat *was)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat now;
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, cwd, &how, sizeof(how));

	if (fd < 0)
		return;
	if (fstat(fd, &now) == 0 && now.st_dev == was->st_dev &&
	    now.st_ino == was->st_ino && fchdir(fd) < 0)
		now.st_ino = 0;		/* keeps the inherited one */
	close(fd);
}

/*
 * The sandbox's view of the file system, in its own mount namespace:
 * everything read-only (so that chmod, chown, xattrs, times and inode
 * flags fail with EROFS, whoever the agent is) and noexec (nothing the
 * sandbox may only read runs or maps as code, however it is started) but
 * for the exec rules' paths and the loader's directories; the fs.write
 * subtrees writable, nosuid and, unless code lies at or above them,
 * noexec; approve.write paths read-only, even inside fs.write: what is
 * written there is opened by agentd once approved, and nothing else
 * changes them; a /proc of its own PID namespace only, agentd's control
 * socket covered by /dev/null, and devices on stdio reopened in this view.
 */
static int setup_mounts(const struct asb_launch_opts *o)
{
	struct mount_attr hidden = { .attr_set = MOUNT_ATTR_RDONLY |
						  MOUNT_ATTR_NOEXEC };
	struct mount_attr code = { .attr_clr = MOUNT_ATTR_NOEXEC };
	struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY,
				 .attr_set = MOUNT_ATTR_NOSUID };
	struct mount_attr rw_noexec = { .attr_clr = MOUNT_ATTR_RDONLY,
					.attr_set = MOUNT_ATTR_NOSUID |
						    MOUNT_ATTR_NOEXEC };
	struct mount_attr held = { .attr_set = MOUNT_ATTR_RDONLY |
						MOUNT_ATTR_NOSUID };
	struct mount_attr held_noexec = { .attr_set = MOUNT_ATTR_RDONLY |
						       MOUNT_ATTR_NOSUID |
						       MOUNT_ATTR_NOEXEC };
	struct host_mounts h;
	struct view v;
	char *cwd = getcwd(NULL, 0);
	struct stat was;
	size_t i;

	/* private: a mount made on the host later never shows up here with
	 * the host's flags (a writable file system under a read-only path) */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return -1;
	for (i = 0; o->hide && o->hide[i]; i++)
		if (mount("/dev/null", o->hide[i], NULL, MS_BIND, NULL) < 0 &&
		    errno != ENOENT)
			return -1;
	if (host_mounts_read(&h) < 0 || pin_ancestors(o) < 0 ||
	    view_collect(o, &v) < 0)
		return -1;
	for (i = 0; i < v.n; i++)
		if (!v.m[i].skip &&
		    mount(v.m[i].path, v.m[i].path, NULL, MS_BIND | MS_REC,
			  NULL) < 0)
			return -1;
	if (syscall(__NR_mount_setattr, AT_FDCWD, "/", AT_RECURSIVE, &hidden,
		    sizeof(hidden)) < 0)
		return -1;
	for (i = 0; i < v.n; i++) {
		struct mount_attr *a = &code;
		struct view outer = { v.m, i };
		bool exec = code_over(&outer, v.m[i].path, false);

		if (v.m[i].skip)
			continue;
		if (v.m[i].kind == ASB_RULE_FS_WRITE)
			a = exec ? &rw : &rw_noexec;
		else if (v.m[i].kind == ASB_RULE_ASK_WRITE)
			a = exec ? &held : &held_noexec;
		if (syscall(__NR_mount_setattr, AT_FDCWD, v.m[i].path,
			    AT_RECURSIVE, a, sizeof(*a)) < 0)
			return -1;
	}
	if (host_mounts_restore(&h, &v) < 0)
		return -1;
	if (cwd && stat(".", &was) == 0)
		view_cwd(cwd, &was);
	free(cwd);
	/* the broker's launch: its streams are a sandbox's, opened in that
	 * sandbox's view already; reopened here, as root and before
	 * Landlock, they would lose the device-ioctl right they lacked */
	return o->set_ids ? 0 : reopen_devs();
}

/*
 * Capabilities: the bounding set keeps only sys.caps, so that no exec
 * gains another, not even root's; then the caller's ids if asked for;
 * then nothing ambient or inheritable, and sys.caps at most.
 */
static int drop_caps(const struct asb_launch_opts *o)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = { { 0 } };
	uint64_t keep = o->sb ? o->sb->caps : 0;

	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(keep & (1ull << cap)) &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	if (o->set_ids &&
	    (setgroups(o->ngroups, o->groups) < 0 ||
	     setresgid(o->gid, o->gid, o->gid) < 0 ||
	     setresuid(o->uid, o->uid, o->uid) < 0))
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -1;
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].permitted &= (uint32_t)keep;
	d[1].permitted &= (uint32_t)(keep >> 32);
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	d[0].inheritable = d[1].inheritable = 0;
	return (int)syscall(SYS_capset, &h, d);
}

/* Did the launcher die before PR_SET_PDEATHSIG took? (its pid is not
 * visible from a new PID namespace: its end of a pipe tells) */
static bool launcher_gone(int alive)
{
	char c;

	return read(alive, &c, 1) == 0;
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

static void exec_program(const struct child_args *a)
{
	const struct asb_launch_opts *o = a->o;

	if (a->mask)
		sigprocmask(SIG_SETMASK, a->mask, NULL);
	if (o->envp)
		execvpe(o->argv[0], o->argv, o->envp);
	else
		execvp(o->argv[0], o->argv);
	child_fail(a->errfd, ST_EXEC, errno);
}

/*
 * PID 1 of the sandbox's PID namespace: starts the program, passes on the
 * signals the launcher forwards, reaps orphans, and ends with the
 * program's status. Its end takes every process of the namespace with it.
 */
static __attribute__((noreturn)) void init_run(const struct child_args *a)
{
	struct sigaction sa = { .sa_sigaction = fwd_handler,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	pid_t prog, w;
	int ws;

	prog = fork();
	if (prog < 0)
		child_fail(a->errfd, ST_EXEC, errno);
	if (prog == 0)
		exec_program(a);
	close(a->errfd);
	/* its memory and /proc files are not the program's to touch */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	fwd_pid = prog;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NFWD; i++)
		sigaction(fwd_sigs[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, a->mask ? a->mask : &(sigset_t){ 0 }, NULL);
	for (;;) {
		w = waitpid(-1, &ws, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(ASB_LAUNCH_EXIT_SETUP);
		if (w == prog)
			_exit(asb_launch_exit_code(ws));
	}
}

static __attribute__((noreturn)) void child_run(const struct child_args *a)
{
	const struct asb_launch_opts *o = a->o;
	int nfd = -1;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(a->errfd, ST_PDEATHSIG, errno);
	if (launcher_gone(a->alive))
		_exit(ASB_LAUNCH_EXIT_SETUP);
	if (a->relay && relay_take(a->relay) < 0)
		child_fail(a->errfd, ST_FDS, errno);
	/* before the cgroup: BPF-LSM refuses mounts to a sandbox's tasks */
	if (o->sb && held_unsound(o))
		child_fail(a->errfd, ST_HELD, EINVAL);
	if (o->sb && held_exec_unsound(o))
		child_fail(a->errfd, ST_HELD_EXEC, EINVAL);
	if (o->sb && setup_mounts(o) < 0)
		child_fail(a->errfd, ST_MOUNT, errno);
	if (o->sb && !o->kernel_fs && a->ruleset_fd >= 0 &&
	    asb_landlock_add_proc(a->ruleset_fd, o->img, o->sb) < 0)
		child_fail(a->errfd, ST_LANDLOCK, errno);
	/* v1 limits first: the v2 cgroup's rules come with no limit gap */
	for (int c = 0; c < ASB_CTRL_N; c++)
		if (a->v1fd[c] >= 0 && join_cgroup(a->v1fd[c]) < 0)
			child_fail(a->errfd, ST_CGROUP, errno);
	if (a->cgfd >= 0 && join_cgroup(a->cgfd) < 0)
		child_fail(a->errfd, ST_CGROUP, errno);
	if (cloexec_all() < 0)
		child_fail(a->errfd, ST_FDS, errno);
	if (o->sb && drop_caps(o) < 0)
		child_fail(a->errfd, ST_CAPS, errno);
	/*
	 * Taking the caller's ids cleared the parent-death signal (the
	 * kernel does at every change of uid or gid): set again, or the
	 * broker's launch for a non-root agent outlived its spawner, and
	 * with it the run. A launcher that died meanwhile shows on the pipe.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(a->errfd, ST_PDEATHSIG, errno);
	if (launcher_gone(a->alive))
		_exit(ASB_LAUNCH_EXIT_SETUP);
	close(a->alive);
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
	if (o->sb)
		init_run(a);
	exec_program(a);
	_exit(ASB_LAUNCH_EXIT_SETUP);
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
		 const sigset_t *child_mask, struct relay *relay)
{
	struct child_args a = { .o = o, .cgfd = -1, .ruleset_fd = -1,
				.errfd = -1, .sock = -1,
				.v1fd = { -1, -1, -1 } };
	int ep[2] = { -1, -1 }, sv[2] = { -1, -1 }, own_cgfd = -1;
	int alive[2] = { -1, -1 };
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
	} else if (o->sb) {
		/* BPF-LSM decides files; Landlock still scopes signals and
		 * abstract unix sockets where it can (ABI 6) */
		a.ruleset_fd = asb_landlock_prepare_scope();
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
	if (o->cgroup_path) {
		int ret = asb_limits_open_v1(o->cgroup_path, a.v1fd);

		if (ret < 0) {
			err = -ret;
			report_line(o, "v1 cgroups of limits", strerror(err));
			goto fail;
		}
	}
	if (pipe2(ep, O_CLOEXEC) < 0 || pipe2(alive, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    (o->notify_cb &&
	     socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)) {
		err = errno;
		goto fail;
	}
	a.errfd = ep[1];
	a.sock = sv[1];
	a.alive = alive[0];
	a.mask = child_mask;
	a.relay = relay;

	/* a sandbox gets its own PID and mount namespaces (raw clone: fork) */
	pid = (pid_t)syscall(SYS_clone, SIGCHLD | (o->sb ? CLONE_NEWPID |
			     CLONE_NEWNS : 0), NULL, NULL, NULL, 0);
	if (pid < 0) {
		err = errno;
		goto fail;
	}
	if (pid == 0)
		child_run(&a);
	relay_start(relay);

	close_if(&ep[1]);
	close_if(&sv[1]);
	close_if(&alive[0]);
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
		if (n == (ssize_t)sizeof(ce) && ce.stage >= ST_MOUNT &&
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
	close_if(&alive[1]);
	close_if(&own_cgfd);
	close_if(&a.ruleset_fd);
	for (int c = 0; c < ASB_CTRL_N; c++)
		close_if(&a.v1fd[c]);
	*pidp = pid;
	return 0;

fail:
	close_if(&alive[0]);
	close_if(&alive[1]);
	close_if(&ep[0]);
	close_if(&ep[1]);
	close_if(&sv[0]);
	close_if(&sv[1]);
	close_if(&own_cgfd);
	close_if(&a.ruleset_fd);
	for (int c = 0; c < ASB_CTRL_N; c++)
		close_if(&a.v1fd[c]);
	if (status)
		*status = code;
	errno = err ? err : EIO;
	return -1;
}

int asb_launch_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return ASB_LAUNCH_EXIT_SETUP;
}

int asb_launch(const struct asb_launch_opts *o, int *status)
{
	struct sigaction sa, old_sa[NFWD];
	struct relay relay;
	sigset_t set, old_mask;
	int i, ws, r, err;
	pid_t pid;

	if (relay_open(&relay, o->sb) < 0) {
		if (status)
			*status = ASB_LAUNCH_EXIT_SETUP;
		return -1;
	}
	sigemptyset(&set);
	for (i = 0; i < NFWD; i++)
		sigaddset(&set, fwd_sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, &old_mask) < 0) {
		relay_end(&relay);
		return -1;
	}

	fwd_pid = 0;
	if (spawn(o, &pid, status, &old_mask, &relay) < 0) {
		err = errno;
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		relay_end(&relay);
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
	relay_end(&relay);

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
