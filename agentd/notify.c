// SPDX-License-Identifier: BSD-3-Clause
/*
 * Seccomp user notification for human approval. See notify.h.
 *
 * Nothing read from the target is trusted before SECCOMP_IOCTL_NOTIF_ID_VALID
 * says the notification (hence the thread behind /proc/TID) is still the
 * one that asked; and nothing read is what the kernel later acts on: the
 * kernel holds the final check (file injected, one-shot address, exec
 * guard), see notify.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <linux/seccomp.h>

#include <asb/event.h>

#include "approval.h"
#include "audit.h"
#include "execguard.h"
#include "fscred.h"
#include "lsm.h"
#include "notify.h"
#include "sandbox.h"
#include "seccomp.h"
#include "sockfilter.h"

#define ARGV_MAX	64

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS	/* <linux/seccomp.h> of Linux 6.6 */
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS		SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP	(1UL << 0)
#endif

struct asb_notify {
	int fd;
	uint32_t sbid;
	pid_t pid;
	bool own;		/* a launch the broker started for a program: */
	dev_t own_dev;		/* that program, not diverted again inside it */
	ino_t own_ino;
	unsigned int refs;	/* the list's, and one per held syscall */
	struct asb_notify *next;
};

/* A held syscall, what the mechanism needs to carry out the verdict. */
struct held {
	struct asb_notifier *nt;
	struct asb_notify *ch;	/* its channel (referenced): the listener */
	__u64 id;
	pid_t tid;
	int kind;
	struct asb_exec_val ev;		/* exec */
	const char *divert;		/* exec: a secret's program (sandbox img) */
	__u64 path_addr;		/* exec: the path string, in the */
	size_t path_len;		/* target's memory, and its length */
	char *argv;			/* exec: its argv (argv_buf, valid in */
	unsigned int argc;		/* on_exec only; agentd is one */
	size_t argv_len;		/* thread) */
	struct asb_oneshot_val ov;	/* connect */
	int fd, pfd;			/* write: the file (O_PATH), or */
	char name[NAME_MAX + 1];	/* the parent and the new name */
	int flags;
	mode_t mode;
	bool ro;			/* write: on a read-only mount of the
					 * sandbox's view (approve.write) */
	bool who;			/* these read from status, trusted */
	mode_t umask;			/* once the target is found */
	char comm[17];			/* waiting after that */
	struct asb_fscred cred;		/* write: resolve and open as */
};

static int sys_seccomp(unsigned int op, unsigned int flags, void *args)
{
	return (int)syscall(__NR_seccomp, op, flags, args);
}

int asb_notify_init(struct asb_notifier *nt, struct asb_sandboxes *sbs,
		    struct asb_approvals *ap, struct asb_execguard *eg,
		    int epfd)
{
	struct seccomp_notif_sizes sz;
	int err;

	memset(nt, 0, sizeof(*nt));
	nt->helper_fd = -1;
	for (int i = 0; i < ASB_NOTIFY_STATUS_FDS; i++)
		nt->status_fd[i] = -1;
	nt->sbs = sbs;
	nt->ap = ap;
	nt->eg = eg;
	nt->epfd = epfd;
	err = asb_fscred_self(&nt->self);
	if (err)
		return err;
	if (sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
		return -errno;
	nt->notif_size = sz.seccomp_notif > sizeof(struct seccomp_notif) ?
			 sz.seccomp_notif : sizeof(struct seccomp_notif);
	nt->resp_size = sz.seccomp_notif_resp >
			sizeof(struct seccomp_notif_resp) ?
			sz.seccomp_notif_resp : sizeof(struct seccomp_notif_resp);
	return 0;
}

int asb_notify_set_helper(struct asb_notifier *nt, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOEXEC;
	}
	if (nt->helper_fd >= 0)
		close(nt->helper_fd);
	nt->helper_fd = fd;
	nt->helper_dev = st.st_dev;
	nt->helper_ino = st.st_ino;
	return 0;
}

void asb_notify_sync_wake(int fd)
{
	ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
	      (__u64)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

int asb_notify_add(struct asb_notifier *nt, int fd, uint32_t sbid, pid_t pid,
		   const char *own, char *err, size_t errlen)
{
	struct stat own_st;
	struct asb_sandbox *s = asb_sandbox_by_id(nt->sbs, sbid);
	struct epoll_event ev = { .events = EPOLLIN };
	struct asb_notify *ch;
	__u64 probe = 0;

	if (!s) {
		snprintf(err, errlen, "no sandbox with id %u", sbid);
		return -ENOENT;
	}
	if ((s->ask & ASB_ASK_EXEC) && !nt->eg) {
		snprintf(err, errlen, "approve.exec cannot be enforced on this host: the exec guard (tp_btf) did not load");
		return -EOPNOTSUPP;
	}
	/* it must be a seccomp listener: ID_VALID answers ENOENT, not ENOTTY */
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &probe) == 0 ||
	    errno != ENOENT) {
		snprintf(err, errlen, "not a seccomp listener");
		return -EINVAL;
	}
	asb_notify_sync_wake(fd);
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ch->fd = fd;
	ch->refs = 1;
	ch->sbid = sbid;
	ch->pid = pid;
	if (own && stat(own, &own_st) == 0) {
		ch->own = true;
		ch->own_dev = own_st.st_dev;
		ch->own_ino = own_st.st_ino;
	}
	ev.data.fd = fd;
	if (epoll_ctl(nt->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		free(ch);
		return -errno;
	}
	ch->next = nt->head;
	nt->head = ch;
	nt->n++;
	snprintf(err, errlen, "sandbox %u: approvals of pid %d through agentd",
		 sbid, pid);
	return 0;
}

static void put(struct asb_notify *ch)
{
	if (--ch->refs)
		return;
	close(ch->fd);
	free(ch);
}

/* Off the list; the listener stays open while a syscall it holds waits. */
static void drop(struct asb_notifier *nt, struct asb_notify *ch)
{
	for (struct asb_notify **pp = &nt->head; *pp; pp = &(*pp)->next) {
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	}
	epoll_ctl(nt->epfd, EPOLL_CTL_DEL, ch->fd, NULL);
	nt->n--;
	put(ch);
}

/* ---- answers ---- */

static void reply(int lfd, __u64 id, int err, bool cont)
{
	struct seccomp_notif_resp r = { .id = id };

	if (cont)
		r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		r.error = -err;
	/* ENOENT: the target is gone (killed); nothing to answer */
	ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

static bool id_valid(int lfd, __u64 id)
{
	return ioctl(lfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---- reading the target ---- */

/*
 * Up to @len (<= PATH_MAX) bytes at @addr in @tid's memory, one remote
 * vector a page, so that a string ending before an unmapped page is read
 * whole: the count read, or -EFAULT.
 */
static int read_mem(pid_t tid, __u64 addr, void *buf, size_t len)
{
	const size_t page = 4096;
	struct iovec local = { buf, len }, remote[PATH_MAX / 4096 + 1];
	unsigned long n = 0;
	ssize_t got;

	if (addr > (__u64)LLONG_MAX || len > PATH_MAX)
		return -EFAULT;
	for (size_t off = 0, chunk; off < len; off += chunk, n++) {
		chunk = page - ((addr + off) & (page - 1));
		if (chunk > len - off)
			chunk = len - off;
		remote[n].iov_base = (void *)(uintptr_t)(addr + off);
		remote[n].iov_len = chunk;
	}
	got = process_vm_readv(tid, &local, 1, remote, n, 0);
	return got < 0 ? -EFAULT : (int)got;
}

/* A NUL-terminated string of at most @len - 1 bytes. */
static int read_str(pid_t tid, __u64 addr, char *buf, size_t len)
{
	int n = read_mem(tid, addr, buf, len);

	if (n <= 0)
		return -EFAULT;
	if (!memchr(buf, 0, (size_t)n))
		return n == (int)len ? -ENAMETOOLONG : -EFAULT;
	return 0;
}

static void proc_str(pid_t tid, const char *what, char *buf, size_t len,
		     bool link)
{
	char path[64], raw[PATH_MAX];
	ssize_t n;
	int fd;

	buf[0] = raw[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/%s", tid, what);
	if (link) {
		n = readlink(path, raw, sizeof(raw) - 1);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, raw, sizeof(raw) - 1);
		if (fd >= 0)
			close(fd);
	}
	raw[n > 0 ? n : 0] = 0;
	raw[strcspn(raw, "\n")] = 0;
	asb_printable(buf, len, raw);
}

/*
 * /proc/TID/status, in one read: 0 or -errno. A thread that opens for
 * writing once mostly does again: its status file stays open in a slot
 * by tid. The open file stays that thread's: once it is gone the read
 * fails (ESRCH), so a tid reused meanwhile is opened afresh.
 */
static int proc_status(struct asb_notifier *nt, pid_t tid, char *buf,
		       size_t len)
{
	unsigned int slot = (unsigned int)tid % ASB_NOTIFY_STATUS_FDS;
	int *fd = &nt->status_fd[slot];
	char path[64];
	ssize_t n = -1;

	if (*fd >= 0 && nt->status_tid[slot] == tid)
		n = pread(*fd, buf, len - 1, 0);
	if (n <= 0) {
		if (*fd >= 0)
			close(*fd);
		snprintf(path, sizeof(path), "/proc/%d/status", tid);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return -errno;
		nt->status_tid[slot] = tid;
		n = pread(*fd, buf, len - 1, 0);
	}
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	return 0;
}

/*
 * The target's comm (for the record), umask and credentials (for a
 * write), to be trusted only once the notification is found valid after
 * this. The comm is there even when the credentials are not (-errno).
 */
static int proc_who(struct held *h)
{
	char buf[8192];
	const char *name;
	unsigned int m;
	int err = proc_status(h->nt, h->tid, buf, sizeof(buf));

	if (err)
		return err;
	name = asb_status_field(buf, "Name");
	snprintf(h->comm, sizeof(h->comm), "%.*s", (int)strcspn(name, "\n"),
		 name);
	h->umask = sscanf(asb_status_field(buf, "Umask"), "%o", &m) == 1 ?
		   m & 0777 : 022;
	return asb_fscred_parse(&h->cred, buf);
}

/* The directory @path starts from: the target's root, cwd or @dirfd. */
static int base_dir(pid_t tid, int dirfd, const char *path, bool *abs)
{
	char p[64];
	int fd;

	*abs = path[0] == '/';
	if (*abs)
		snprintf(p, sizeof(p), "/proc/%d/root", tid);
	else if (dirfd == AT_FDCWD)
		snprintf(p, sizeof(p), "/proc/%d/cwd", tid);
	else
		snprintf(p, sizeof(p), "/proc/%d/fd/%d", tid, dirfd);
	fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int resolve_at(int base, const char *path, bool abs, int oflags)
{
	struct open_how how = {
		.flags = (__u64)(oflags | O_PATH | O_CLOEXEC),
		.resolve = RESOLVE_NO_MAGICLINKS | (abs ? RESOLVE_IN_ROOT : 0),
	};
	int fd = (int)syscall(__NR_openat2, base, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

static int fd_path(int fd, char *buf, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static const struct asb_image_rule *
match_path(const struct asb_sandbox *s, int kind, const char *path)
{
	return asb_image_match_path(&s->img, s->sb, kind, path);
}

/* ---- the ask protocol's side of a held syscall ---- */

static void held_release(struct asb_ask *a)
{
	struct held *h = a->priv;

	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	if (h->pfd >= 0)
		close(h->pfd);
	put(h->ch);
	free(h);
	a->priv = NULL;
}

static void held_free(struct held *h)
{
	struct asb_ask tmp = { .priv = h };

	held_release(&tmp);
}

static bool held_alive(struct asb_ask *a)
{
	struct held *h = a->priv;

	return id_valid(h->ch->fd, h->id);
}

/*
 * Once the operator was told, off the path the target waits on: comm for
 * the record (a write has it already, read with its credentials before
 * the path was resolved; trusted: an allow comes only after held_alive
 * found the target still waiting).
 */
static void held_prepare(struct asb_ask *a)
{
	struct held *h = a->priv;

	if (!h->who)
		h->who = !proc_who(h);
	asb_printable(a->comm, sizeof(a->comm), h->comm);
}

/*
 * The file (or the directory to create in) that was resolved in the
 * sandbox's view, found again in agentd's own: the sandbox's mounts of
 * approve.write are read-only. By its path, with no symlink on the way, and
 * only if it is the same inode: an O_PATH fd, or -errno (EACCES: the path
 * names something else in agentd's view).
 */
static int here_of(const struct held *h)
{
	int src = h->fd >= 0 ? h->fd : h->pfd;
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (h->fd >= 0 ? 0 : O_DIRECTORY),
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	char path[PATH_MAX];
	struct stat want, got;
	int fd;

	if (fd_path(src, path, sizeof(path)) || path[0] != '/' ||
	    fstat(src, &want) < 0)
		return -EACCES;
	fd = (int)syscall(__NR_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &got) < 0 || got.st_dev != want.st_dev ||
	    got.st_ino != want.st_ino) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

/*
 * Open the approved file for the target, as its credentials (fscred.h)
 * and umask (agentd's own umask is 077); its fd, or -errno. Never
 * blocking: a FIFO with no reader gives ENXIO rather than hold agentd;
 * the target's own O_NONBLOCK is restored on the file after the open.
 */
static int open_for(const struct held *h)
{
	bool creat = h->fd < 0;
	unsigned int undo;
	mode_t old;
	char p[64];
	int fd, err, here;

	err = asb_fscred_enter(&h->nt->self, &h->cred, &undo);
	if (err)
		return err;
	old = creat ? umask(h->umask) : 0;
	/* approve.write is read-only in the sandbox's view: agentd's own */
	here = h->ro ? here_of(h) : h->fd >= 0 ? h->fd : h->pfd;
	if (here < 0) {
		fd = -1;
		errno = -here;
	} else if (h->fd >= 0) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", here);
		fd = open(p, (h->flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) |
			 O_CLOEXEC | O_NOCTTY | O_NONBLOCK, h->mode);
	} else {
		fd = openat(here, h->name, h->flags | O_NOFOLLOW | O_CLOEXEC |
			    O_NOCTTY | O_NONBLOCK, h->mode);
	}
	err = errno;
	if (h->ro && here >= 0)
		close(here);
	if (fd >= 0 && !(h->flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err = errno;
		close(fd);
		fd = -1;
	}
	if (creat)
		umask(old);
	asb_fscred_leave(&h->nt->self, undo);
	return fd < 0 ? -err : fd;
}

static void write_go(const struct held *h)
{
	struct seccomp_notif_addfd add = {
		.id = h->id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.newfd_flags = h->flags & O_CLOEXEC,
	};
	int fd = h->who ? open_for(h) : -EACCES;

	if (fd < 0) {
		reply(h->ch->fd, h->id, -fd, false);
		return;
	}
	add.srcfd = (__u32)fd;
	/* the syscall returns this fd: the file checked, whatever memory says */
	ioctl(h->ch->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
	close(fd);
}

static pid_t tgid_of(struct asb_notifier *nt, pid_t tid)
{
	char buf[4096];

	return proc_status(nt, tid, buf, sizeof(buf)) ? -1 :
	       (pid_t)strtol(asb_status_field(buf, "Tgid"), NULL, 10);
}

/*
 * Divert the held exec to asb-secret (notify.h); false: not done, the
 * exec goes on as the caller asked, without secrets.
 */
static bool divert_go(const struct held *h)
{
	struct asb_notifier *nt = h->nt;
	struct asb_sandbox *s = asb_sandbox_by_id(nt->sbs, h->ch->sbid);
	struct seccomp_notif_addfd add = {
		.id = h->id,
		.srcfd = (__u32)nt->helper_fd,
		.newfd_flags = O_CLOEXEC,
	};
	struct asb_exec_val ev = {
		.sandbox = h->ev.sandbox,
		.dev = asb_kdev(nt->helper_dev),
		.ino = nt->helper_ino,
	};
	char path[32], mem[64];
	int n, tfd, mfd;
	bool ok;

	if (!s || nt->helper_fd < 0 || h->path_len < sizeof("/dev/fd/N") - 1)
		return false;
	tfd = ioctl(h->ch->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
	if (tfd < 0)
		return false;
	n = snprintf(path, sizeof(path), "/dev/fd/%d", tfd);
	if ((size_t)n > h->path_len ||
	    (nt->eg && asb_execguard_expect(nt->eg, h->tid, &ev) < 0))
		return false;
	snprintf(mem, sizeof(mem), "/proc/%d/mem", h->tid);
	mfd = open(mem, O_WRONLY | O_CLOEXEC);
	ok = mfd >= 0 && pwrite(mfd, path, (size_t)n + 1, (off_t)h->path_addr) ==
			 n + 1;
	if (mfd >= 0)
		close(mfd);
	if (!ok)
		return false;
	asb_sandbox_divert_add(s, tgid_of(h->nt, h->tid), h->divert);
	return true;
}

static void exec_go(const struct held *h)
{
	const struct asb_sandbox *s;

	if (h->divert && id_valid(h->ch->fd, h->id) && divert_go(h)) {
		reply(h->ch->fd, h->id, 0, true);
		return;
	}
	/*
	 * Held only for secrets' programs (approve.exec is not asked here): what
	 * runs instead of the checked file gets no secret, nothing to guard.
	 */
	s = asb_sandbox_by_id(h->nt->sbs, h->ch->sbid);
	if (s && (!(s->ask & ASB_ASK_EXEC) ||
		  asb_lsm_kernel_ask(h->nt->sbs->lsm))) {
		reply(h->ch->fd, h->id, 0, true);
		return;
	}
	if (asb_execguard_expect(h->nt->eg, h->tid, &h->ev) < 0)
		reply(h->ch->fd, h->id, EACCES, false);
	else
		reply(h->ch->fd, h->id, 0, true);
}

static void connect_go(const struct held *h)
{
	if (asb_sockfilter_oneshot(h->nt->sbs->sf, h->ch->sbid, (__u32)h->tid,
				   &h->ov) < 0)
		reply(h->ch->fd, h->id, EPERM, false);
	else
		reply(h->ch->fd, h->id, 0, true);
}

static void held_resolve(struct asb_ask *a, bool allow)
{
	struct held *h = a->priv;

	switch (h->kind) {
	case ASB_RULE_ASK_EXEC:
		if (allow)
			exec_go(h);
		else
			reply(h->ch->fd, h->id, EACCES, false);
		break;
	case ASB_RULE_ASK_CONNECT:
		if (allow)
			connect_go(h);
		else
			reply(h->ch->fd, h->id, EPERM, false);
		break;
	default:
		if (allow)
			write_go(h);
		else
			reply(h->ch->fd, h->id, EACCES, false);
	}
}

static const struct asb_ask_ops held_ops = {
	.via = "seccomp",
	.resolve = held_resolve,
	.alive = held_alive,
	.prepare = held_prepare,
	.release = held_release,
};

static void audit_now(const struct asb_sandbox *s, pid_t tid, int kind,
		      const char *object, const char *verdict,
		      const char *rule, const char *by)
{
	struct timespec ts;
	char comm[32];
	struct asb_audit_rec r = {
		.sandbox = s->name,
		.pid = tid,
		.comm = comm,
		.action = asb_ask_action(kind),
		.object = object,
		.verdict = verdict,
		.rule = rule,
		.source = "seccomp",
		.by = by,
	};

	clock_gettime(CLOCK_REALTIME, &ts);
	r.time_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	proc_str(tid, "comm", comm, sizeof(comm), false);
	asb_audit_write(&r);
}

/*
 * @h is decided: either it matches no approve.* rule (@rule NULL), or a
 * runtime rule allows it, or it is held for a human.
 */
static void decide(struct asb_notifier *nt, struct asb_sandbox *s,
		   struct held *h, const struct asb_image_rule *rule,
		   const char *object, const char *key)
{
	struct asb_ask *a;
	struct asb_ask tmp = { .priv = h };

	a = rule ? calloc(1, sizeof(*a)) : NULL;
	if (!a) {
		held_resolve(&tmp, !rule);
		held_release(&tmp);
		return;
	}
	a->sbid = s->id;
	snprintf(a->sandbox, sizeof(a->sandbox), "%s", s->name);
	a->pid = h->tid;
	proc_str(h->tid, "exe", a->exe, sizeof(a->exe), true);
	a->kind = h->kind;
	snprintf(a->object, sizeof(a->object), "%s", object);
	snprintf(a->key, sizeof(a->key), "%s", key);
	asb_sandbox_rule_src(s, (uint32_t)(rule - asb_image_rules(&s->img)),
			     a->rule, sizeof(a->rule));
	a->default_allow = s->sb->flags & ASB_SB_ASK_ALLOW;
	a->timeout = s->sb->ask_timeout;
	a->ops = &held_ops;
	a->priv = h;
	if (asb_sandbox_rt_match(s, h->kind, key)) {
		held_prepare(a);
		asb_approval_audit(a, "allow", "runtime-rule");
		free(a);
		held_resolve(&tmp, true);
		held_release(&tmp);
		return;
	}
	asb_approval_add(nt->ap, a);
}

/* ---- exec ---- */

/*
 * "#!" scripts, as fs/binfmt_script.c reads them: the first BINPRM_BUF_SIZE
 * bytes, zero-padded; the interpreter's name and its optional argument.
 * The kernel follows up to SCRIPT_DEPTH interpreters that are scripts too.
 */
#define SCRIPT_BUF	256
#define SCRIPT_DEPTH	5

struct script_chain {
	int depth;				/* 0: not a script */
	char line[SCRIPT_DEPTH][SCRIPT_BUF];
	const char *name[SCRIPT_DEPTH];		/* level d's interpreter */
	const char *arg[SCRIPT_DEPTH];		/* and its argument, or NULL */
	int fd[SCRIPT_DEPTH];			/* O_PATH, in the target's view */
};

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static char *next_non_spacetab(char *p, char *last)
{
	for (; p <= last; p++)
		if (!spacetab(*p))
			return p;
	return NULL;
}

static char *next_terminator(char *p, char *last)
{
	for (; p <= last; p++)
		if (spacetab(*p) || !*p)
			return p;
	return NULL;
}

/* load_script()'s parse of @buf (SCRIPT_BUF bytes, zero-padded). */
static bool shebang(char *buf, const char **name, const char **arg)
{
	char *last = buf + SCRIPT_BUF - 1, *end, *nm, *sep;

	if (buf[0] != '#' || buf[1] != '!')
		return false;
	end = memchr(buf, '\n', SCRIPT_BUF);
	if (!end) {
		end = next_non_spacetab(buf + 2, last);
		if (!end || !next_terminator(end, last))
			return false;	/* the name may be cut: ENOEXEC */
		end = last;
	}
	while (spacetab(end[-1]))
		end--;
	nm = next_non_spacetab(buf + 2, end);
	if (!nm || nm == end)
		return false;
	sep = next_terminator(nm, end);
	*arg = sep && *sep ? next_non_spacetab(sep, end) : NULL;
	*end = 0;
	if (*arg)
		*sep = 0;
	*name = nm;
	return true;
}

/*
 * The "#!" chain from the file @fd (O_PATH) as @tid's exec will follow it:
 * each interpreter resolved in @tid's view (relative to its cwd if not
 * absolute, as open_exec() does). Levels whose interpreter cannot be found
 * end the chain: the exec fails, or the exec guard kills what runs.
 */
static void script_chain(pid_t tid, int fd, struct script_chain *c)
{
	char p[64];
	int cur = fd, rfd, base;
	bool abs;

	c->depth = 0;
	while (c->depth < SCRIPT_DEPTH) {
		char *buf = c->line[c->depth];
		int d = c->depth;

		snprintf(p, sizeof(p), "/proc/self/fd/%d", cur);
		rfd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (rfd < 0)
			return;
		memset(buf, 0, SCRIPT_BUF);
		if (read(rfd, buf, SCRIPT_BUF) < 2 ||
		    !shebang(buf, &c->name[d], &c->arg[d])) {
			close(rfd);
			return;
		}
		close(rfd);
		base = base_dir(tid, AT_FDCWD, c->name[d], &abs);
		c->fd[d] = base < 0 ? -1 : resolve_at(base, c->name[d], abs, 0);
		if (base >= 0)
			close(base);
		if (c->fd[d] < 0)
			return;
		cur = c->fd[d];
		c->depth++;
	}
}

static void script_chain_free(struct script_chain *c)
{
	for (int d = 0; d < c->depth; d++)
		close(c->fd[d]);
	c->depth = 0;
}

/* The filename exactly as fs/exec.c builds it; false if too long. */
static bool exec_filename(struct held *h, int dirfd, const char *path)
{
	int n;

	if (path[0] == '/' || dirfd == AT_FDCWD)
		n = snprintf(h->ev.name, sizeof(h->ev.name), "%s", path);
	else if (!path[0])
		n = snprintf(h->ev.name, sizeof(h->ev.name), "/dev/fd/%d", dirfd);
	else
		n = snprintf(h->ev.name, sizeof(h->ev.name), "/dev/fd/%d/%s",
			     dirfd, path);
	if (n < 0 || (size_t)n >= sizeof(h->ev.name))
		return false;
	h->ev.name_len = (__u32)n;
	return true;
}

static __u64 fnv(__u64 hash, const void *p, size_t len, size_t *total)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		hash = (hash ^ b[i]) * ASB_FNV64_PRIME;
	*total += len;
	return hash;
}

/*
 * The argv the new image gets, into h->ev for the exec guard: the caller's
 * (an empty one becomes { "" }); for a script, load_script()'s at each
 * level: the interpreter, its argument, the filename (then the previous
 * interpreter), in place of argv[0]. False if over ASB_ARGV_MAX.
 */
static bool exec_argv(struct held *h, const struct script_chain *c)
{
	__u64 hash = ASB_FNV64_OFFSET;
	size_t total = 0, first = h->argc ? strlen(h->argv) + 1 : 0;

	if (!c->depth) {
		if (h->argc)
			hash = fnv(hash, h->argv, h->argv_len, &total);
		else
			hash = fnv(hash, "", 1, &total);
	} else {
		for (int d = c->depth - 1; d >= 0; d--) {
			hash = fnv(hash, c->name[d], strlen(c->name[d]) + 1, &total);
			if (c->arg[d])
				hash = fnv(hash, c->arg[d], strlen(c->arg[d]) + 1,
					   &total);
		}
		hash = fnv(hash, h->ev.name, h->ev.name_len + 1, &total);
		hash = fnv(hash, h->argv + first, h->argv_len - first, &total);
	}
	if (total > ASB_ARGV_MAX)
		return false;
	h->ev.argv_hash = hash;
	h->ev.argv_len = (__u32)total;
	return true;
}

/*
 * The approve.exec rule for the file @st at @canon: by its path, or by its
 * inode where a rule names a file, so that a hard link or a symlink of
 * another name is the same program.
 */
static const struct asb_image_rule *exec_rule(const struct asb_sandbox *s,
					      const char *canon,
					      const struct stat *st)
{
	const struct asb_image_rule *r = asb_image_rules(&s->img) +
					 s->sb->first_rule;
	const struct asb_image_rule *m = match_path(s, ASB_RULE_ASK_EXEC, canon);
	struct stat rst;

	for (uint32_t i = 0; !m && i < s->sb->n_rules; i++) {
		const char *p = asb_image_str(&s->img, r[i].path);

		if (r[i].kind == ASB_RULE_ASK_EXEC && p && !stat(p, &rst) &&
		    S_ISREG(rst.st_mode) && rst.st_dev == st->st_dev &&
		    rst.st_ino == st->st_ino)
			m = &r[i];
	}
	return m;
}

/*
 * The approve.exec rule the interpreters of @c reach, and the interpreter
 * it names in @via; NULL when none asks.
 */
static const struct asb_image_rule *chain_rule(const struct asb_sandbox *s,
					       const struct script_chain *c,
					       char *via, size_t len)
{
	const struct asb_image_rule *m = NULL;
	struct stat st;

	for (int d = 0; !m && d < c->depth; d++)
		if (!fstat(c->fd[d], &st) && S_ISREG(st.st_mode) &&
		    !fd_path(c->fd[d], via, len))
			m = exec_rule(s, via, &st);
	return m;
}

/* The exe: path of a secret of @s granted to file @st, or NULL. */
static const char *secret_program(const struct asb_sandbox *s,
				  const struct stat *st)
{
	const struct asb_image_secret *secs = asb_image_secrets(&s->img);

	for (uint32_t i = 0; i < s->sb->n_secrets; i++) {
		const struct asb_image_secret *sec = &secs[s->sb->first_secret + i];
		const char *exe = asb_image_str(&s->img, sec->exe);
		struct stat est;

		if (!stat(exe, &est) &&
		    est.st_dev == st->st_dev && est.st_ino == st->st_ino)
			return exe;
	}
	return NULL;
}

/*
 * The whole argv of @tid's exec at @argv, kept in h->argv (ASB_ARGV_MAX
 * bytes, each string with its NUL, as the kernel copies them).
 * -E2BIG past ASB_ARGV_MAX, -EFAULT when unreadable.
 */
static char argv_buf[ASB_ARGV_MAX];

static int read_argv(struct held *h, __u64 argv)
{
	size_t used = 0;
	__u64 ap;

	h->argv = argv_buf;
	h->argc = 0;
	h->argv_len = 0;
	for (int i = 0; argv; i++) {
		int n;

		if (read_mem(h->tid, argv + 8ull * i, &ap, 8) != 8)
			return -EFAULT;
		if (!ap)
			break;
		/* one string, a page-bounded read at a time */
		do {
			size_t want = ASB_ARGV_MAX - used;
			char *nul;

			if (!want)
				return -E2BIG;
			if (want > PATH_MAX)
				want = PATH_MAX;
			n = read_mem(h->tid, ap, h->argv + used, want);
			if (n <= 0)
				return -EFAULT;
			nul = memchr(h->argv + used, 0, (size_t)n);
			if (nul)
				n = (int)(nul - (h->argv + used)) + 1;
			used += (size_t)n;
			ap += (__u64)n;
			if (nul)
				break;
		} while (1);
		h->argc++;
	}
	h->argv_len = used;
	return 0;
}

/*
 * What the operator is shown (asb_exec_object): the resolved program, the
 * arguments, cut where the object is full with the digest of the whole
 * (the one the exec guard checks), the cwd.
 */
static void exec_object(const struct held *h, const char *prog, bool argv_ok,
			char *obj, size_t len)
{
	char cwd[PATH_MAX], link[64], digest[32];
	struct asb_exec_show x = {
		.prog = prog,
		.argv = argv_ok ? h->argv : NULL,
		.argv_len = h->argv_len,
		.argc = h->argc,
		.cap = ASB_ARGV_MAX,
		.digest = digest,
		.cwd = cwd,
	};
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/cwd", h->tid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = 0;
	snprintf(digest, sizeof(digest), "fnv64 %016llx",
		 (unsigned long long)h->ev.argv_hash);
	asb_exec_object(&x, obj, len);
}

static void on_exec(struct asb_notifier *nt, struct asb_sandbox *s,
		    struct held *h, const struct seccomp_notif *req)
{
	bool at = req->data.nr == __NR_execveat;
	int dirfd = at ? (int)req->data.args[0] : AT_FDCWD;
	__u64 argv = at ? req->data.args[2] : req->data.args[1];
	int flags = at ? (int)req->data.args[4] : 0;
	char path[PATH_MAX], canon[PATH_MAX] = "", via[PATH_MAX] = "";
	char object[ASB_ASK_OBJECT_MAX] = "", prog[PATH_MAX + 32];
	const struct asb_image_rule *rule = NULL;
	struct script_chain chain = { .depth = 0 };
	struct stat st;
	int fd = -1, base;
	bool abs, argv_ok;

	h->kind = ASB_RULE_ASK_EXEC;
	h->path_addr = at ? req->data.args[1] : req->data.args[0];
	if (read_str(h->tid, h->path_addr, path, sizeof(path)) < 0)
		path[0] = 0;	/* ino 0: whatever runs is killed */
	h->path_len = strlen(path);
	if (path[0] || (at && (flags & AT_EMPTY_PATH))) {
		char p[64];

		if (!path[0]) {
			snprintf(p, sizeof(p), "/proc/%d/fd/%d", h->tid, dirfd);
			fd = open(p, O_PATH | O_CLOEXEC);
		} else {
			base = base_dir(h->tid, dirfd, path, &abs);
			fd = base < 0 ? -1 :
			     resolve_at(base, path, abs,
					flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0);
			if (base >= 0)
				close(base);
		}
	}
	argv_ok = read_argv(h, argv) == 0;
	if (!id_valid(h->ch->fd, h->id)) {
		if (fd >= 0)
			close(fd);
		held_free(h);
		return;
	}
	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    !fd_path(fd, canon, sizeof(canon))) {
		struct stat ist;

		h->ev.dev = asb_kdev(st.st_dev);
		h->ev.ino = st.st_ino;
		script_chain(h->tid, fd, &chain);
		/* a script: what runs is its last interpreter, given the
		 * filename; a name too long to compare matches nothing */
		if (chain.depth && exec_filename(h, dirfd, path) &&
		    !fstat(chain.fd[chain.depth - 1], &ist)) {
			h->ev.interp_dev = asb_kdev(ist.st_dev);
			h->ev.interp_ino = ist.st_ino;
		}
		/* asb.ko asks for approve.exec in the kernel: not here too;
		 * a script whose interpreter asks asks too */
		if (!asb_lsm_kernel_ask(nt->sbs->lsm)) {
			rule = exec_rule(s, canon, &st);
			if (!rule)
				rule = chain_rule(s, &chain, via, sizeof(via));
			if (!rule)
				via[0] = 0;
		}
		h->divert = secret_program(s, &st);
		if (h->ch->own && st.st_dev == h->ch->own_dev &&
		    st.st_ino == h->ch->own_ino)
			h->divert = NULL;
	}
	if (fd >= 0)
		close(fd);
	/* the argv the new image gets, checked by the exec guard */
	argv_ok = argv_ok && exec_argv(h, &chain);
	script_chain_free(&chain);
	/* what the operator sees is what runs: the file itself, its whole
	 * argv or a marked cut with the digest the kernel checks, the cwd */
	snprintf(prog, sizeof(prog), "%s%s%s%s",
		 canon[0] ? canon : path[0] ? path : "(fd)",
		 via[0] ? " (run by " : "", via, via[0] ? ")" : "");
	exec_object(h, prog, argv_ok, object, sizeof(object));
	if (rule && !argv_ok) {
		audit_now(s, h->tid, ASB_RULE_ASK_EXEC, object, "deny", "",
			  "argv too long to show");
		reply(h->ch->fd, h->id, E2BIG, false);
		held_free(h);
		return;
	}
	h->ev.sandbox = s->id;
	decide(nt, s, h, rule, object, canon);
}

/* ---- connect ---- */

static void on_connect(struct asb_notifier *nt, struct asb_sandbox *s,
		       struct held *h, const struct seccomp_notif *req)
{
	struct sockaddr_storage ss = { 0 };
	__u32 len = (__u32)req->data.args[2];
	const struct asb_image_rule *rule = NULL;
	char a[INET6_ADDRSTRLEN], key[96] = "";
	int n;

	h->kind = ASB_RULE_ASK_CONNECT;
	n = read_mem(h->tid, req->data.args[1], &ss,
		     len < sizeof(ss) ? len : sizeof(ss));
	if (!id_valid(h->ch->fd, h->id)) {
		held_free(h);
		return;
	}
	/* whatever this notification decides, the last one is void */
	asb_sockfilter_oneshot(nt->sbs->sf, s->id, (__u32)h->tid, NULL);
	if (ss.ss_family == AF_INET && n >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (void *)&ss;

		h->ov.family = AF_INET;
		memcpy(h->ov.addr, &in->sin_addr, 4);
		h->ov.port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6 &&
		   n >= (int)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (void *)&ss;

		h->ov.port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			h->ov.family = AF_INET;
			memcpy(h->ov.addr, &in6->sin6_addr.s6_addr[12], 4);
		} else {
			h->ov.family = AF_INET6;
			memcpy(h->ov.addr, &in6->sin6_addr, 16);
		}
	}
	if (h->ov.family) {
		rule = asb_image_match_net(&s->img, s->sb, ASB_RULE_ASK_CONNECT,
					   h->ov.family == AF_INET ?
					   ASB_NET_IP4 : ASB_NET_IP6,
					   h->ov.addr, h->ov.port);
		inet_ntop(h->ov.family, h->ov.addr, a, sizeof(a));
		snprintf(key, sizeof(key), h->ov.family == AF_INET ?
			 "%s:%u" : "[%s]:%u", a, h->ov.port);
	}
	if (!rule) {
		/* not an approve.connect destination, or not inet at all */
		reply(h->ch->fd, h->id, 0, true);
		held_free(h);
		return;
	}
	decide(nt, s, h, rule, key, key);
}

/* ---- write ---- */

/* "/dev/stdout", "/dev/fd/N", "/proc/self/fd/N": the target's fd N, or -1. */
static int fd_alias(const char *path, pid_t tgid)
{
	static const char *const pre[] = {
		"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/",
	};
	char own[64];
	const char *num = NULL;
	char *end;
	long v;

	if (!strcmp(path, "/dev/stdin"))
		return 0;
	if (!strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]) && !num; i++)
		if (!strncmp(path, pre[i], strlen(pre[i])))
			num = path + strlen(pre[i]);
	snprintf(own, sizeof(own), "/proc/%d/fd/", tgid);
	if (!num && !strncmp(path, own, strlen(own)))
		num = path + strlen(own);
	if (!num || !*num)
		return -1;
	v = strtol(num, &end, 10);
	return *end || v < 0 || v > INT_MAX ? -1 : (int)v;
}

/*
 * Whether the resolved write target lies on a read-only mount of the
 * sandbox's view, where the kernel would refuse it (EROFS): a regular file,
 * or a file to be made (O_CREAT, O_TMPFILE) in a directory there. Devices,
 * FIFOs and sockets are written on read-only mounts all the same.
 */
static bool read_only(const struct held *h)
{
	struct statfs sfs;
	struct stat st;
	int fd = h->fd >= 0 ? h->fd : h->pfd;

	if (fd < 0 || fstat(fd, &st) < 0 ||
	    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return false;
	return fstatfs(fd, &sfs) < 0 || (sfs.f_flags & ST_RDONLY);
}

/*
 * What the kernel checks before it opens (may_open, may_create), asked as
 * the caller's current credentials: the operator is not asked about an
 * open that is refused anyway, as the kernel's own hook never is.
 */
static int may_access(int fd, int mode)
{
	return syscall(__NR_faccessat2, fd, "", mode,
		       AT_EMPTY_PATH | AT_EACCESS) < 0 ? -errno : 0;
}

/* The access an open with @flags needs of an existing file. */
static int open_access(int flags)
{
	int acc = (flags & O_ACCMODE) == O_WRONLY ? W_OK :
		  (flags & O_ACCMODE) == O_RDONLY ? R_OK : R_OK | W_OK;

	return acc | (flags & O_TRUNC ? W_OK : 0);
}

/*
 * @path from @base: h->fd (an existing file, O_PATH) or h->pfd + h->name
 * (to be created). Called with the target's credentials: every directory
 * on the way must be searchable by it; whether it may open the file, or
 * create one in the parent: @denied. 0 or -errno.
 */
static int resolve_write(struct held *h, int base, const char *path,
			 bool abs, int *denied)
{
	const char *slash, *name;
	char dir[PATH_MAX];
	struct stat st;
	int err;

	h->fd = resolve_at(base, path, abs, h->flags & O_NOFOLLOW);
	if (h->fd >= 0) {
		/* only O_NOFOLLOW can leave a symlink at the end */
		if (h->flags & O_NOFOLLOW) {
			if (fstat(h->fd, &st) < 0)
				return -errno;
			if (S_ISLNK(st.st_mode))
				return -ELOOP;
		}
		if ((h->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
			return -EEXIST;
		*denied = may_access(h->fd, open_access(h->flags));
		return 0;
	}
	err = h->fd;
	h->fd = -1;
	if (err != -ENOENT || !(h->flags & O_CREAT))
		return err;
	/* to be created: the parent must exist, the name is one component */
	slash = strrchr(path, '/');
	if (slash && !slash[1])
		return -EISDIR;
	name = slash ? slash + 1 : path;
	if (strlen(name) >= sizeof(h->name))
		return -ENAMETOOLONG;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EISDIR;
	strcpy(h->name, name);
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
	else
		snprintf(dir, sizeof(dir), ".");
	h->pfd = resolve_at(base, dir, abs, O_DIRECTORY);
	if (h->pfd < 0) {
		err = h->pfd;
		h->pfd = -1;
		return err;
	}
	*denied = may_access(h->pfd, W_OK | X_OK);
	return 0;
}

/*
 * Resolve @path for a write, as the target (h->cred): h->fd or h->pfd +
 * h->name, its canonical path, and in @denied whether the target may not
 * open it (0 or -errno, for after the rules). 0 or -errno. agentd itself
 * opens the starting point only: the target's root, cwd, dirfd or fd.
 */
static int write_target(struct held *h, int dirfd, const char *path,
			char *canon, size_t len, int *denied)
{
	char dir[PATH_MAX];
	unsigned int undo;
	bool abs;
	int base, n, err;

	n = fd_alias(path, strncmp(path, "/proc/", 6) ? -1 :
		     tgid_of(h->nt, h->tid));
	if (n >= 0) {
		snprintf(dir, sizeof(dir), "/proc/%d/fd/%d", h->tid, n);
		h->fd = open(dir, O_PATH | O_CLOEXEC);
		if (h->fd < 0)
			return -errno;
		return fd_path(h->fd, canon, len);
	}
	base = base_dir(h->tid, dirfd, path, &abs);
	if (base < 0)
		return base;
	err = asb_fscred_enter(&h->nt->self, &h->cred, &undo);
	if (!err) {
		err = resolve_write(h, base, path, abs, denied);
		asb_fscred_leave(&h->nt->self, undo);
	}
	close(base);
	if (err)
		return err;
	if (h->fd >= 0)
		return fd_path(h->fd, canon, len);
	err = fd_path(h->pfd, dir, sizeof(dir));
	if (err)
		return err;
	n = snprintf(canon, len, "%s/%s", strcmp(dir, "/") ? dir : "", h->name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void on_write(struct asb_notifier *nt, struct asb_sandbox *s,
		     struct held *h, const struct seccomp_notif *req)
{
	const __u64 *a = req->data.args;
	int dirfd = AT_FDCWD, err, denied = 0;
	char path[PATH_MAX], canon[PATH_MAX] = "";
	char object[ASB_ASK_OBJECT_MAX] = "";
	const struct asb_image_rule *rule;
	__u64 paddr;

	h->kind = ASB_RULE_ASK_WRITE;
	switch (req->data.nr) {
	case __NR_open:
		paddr = a[0];
		h->flags = (int)a[1];
		h->mode = (mode_t)a[2];
		break;
	case __NR_openat:
		dirfd = (int)a[0];
		paddr = a[1];
		h->flags = (int)a[2];
		h->mode = (mode_t)a[3];
		break;
	default:	/* creat */
		paddr = a[0];
		h->flags = O_CREAT | O_WRONLY | O_TRUNC;
		h->mode = (mode_t)a[1];
	}
	h->mode &= 07777;
	if (!(h->flags & ASB_ASK_WRITE_FLAGS)) {
		/* the filter only sends these; flags are a register */
		reply(h->ch->fd, h->id, 0, true);
		held_free(h);
		return;
	}
	/* the credentials to resolve and open with, first */
	err = proc_who(h);
	h->who = !err;
	if (!err)
		err = read_str(h->tid, paddr, path, sizeof(path));
	if (!err)
		err = write_target(h, dirfd, path, canon, sizeof(canon),
				   &denied);
	if (!err && !strncmp(canon, "/proc/", 6))
		err = -EACCES;	/* never resolved in agentd's own /proc */
	rule = err ? NULL : match_path(s, ASB_RULE_ASK_WRITE, canon);
	if (!id_valid(h->ch->fd, h->id)) {
		held_free(h);
		return;
	}
	asb_printable(object, sizeof(object), canon[0] ? canon : path);
	/* what the sandbox's read-only view refuses, refused here: an
	 * approve.write subtree is asked by its rule's path only */
	h->ro = !err && read_only(h);
	if (!err && !rule && h->ro) {
		audit_now(s, h->tid, ASB_RULE_ASK_WRITE, object, "deny", "",
			  "read-only");
		err = -EROFS;
	}
	/* what Landlock would refuse, refused here (no fd is opened) */
	if (!err && !rule && canon[0] == '/' &&
	    !match_path(s, ASB_RULE_FS_WRITE, canon)) {
		audit_now(s, h->tid, ASB_RULE_ASK_WRITE, object, "deny", "",
			  NULL);
		err = -EACCES;
	}
	/* what the kernel would refuse the target: nobody is asked (the
	 * read-only mount of approve.write aside: faccessat reports EROFS
	 * only where the permissions allow) */
	if (!err && !(rule && h->ro && denied == -EROFS))
		err = denied;
	if (err) {
		reply(h->ch->fd, h->id, -err, false);
		held_free(h);
		return;
	}
	decide(nt, s, h, rule, object, canon);
}

/* ---- the listener ---- */

static void on_notif(struct asb_notifier *nt, struct asb_notify *ch,
		     const struct seccomp_notif *req)
{
	struct asb_sandbox *s = asb_sandbox_by_id(nt->sbs, ch->sbid);
	struct held *h;

	if (!s) {
		reply(ch->fd, req->id, EPERM, false);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		reply(ch->fd, req->id, ENOMEM, false);
		return;
	}
	h->nt = nt;
	h->id = req->id;
	h->tid = (pid_t)req->pid;
	h->fd = h->pfd = -1;
	/* a held syscall keeps the listener open if the channel is dropped
	 * while it waits */
	h->ch = ch;
	ch->refs++;
	switch (req->data.nr) {
	case __NR_execve:
	case __NR_execveat:
		on_exec(nt, s, h, req);
		break;
	case __NR_connect:
		on_connect(nt, s, h, req);
		break;
	case __NR_open:
	case __NR_openat:
	case __NR_creat:
		on_write(nt, s, h, req);
		break;
	default:
		reply(ch->fd, req->id, ENOSYS, false);
		held_free(h);
	}
}

bool asb_notify_handle(struct asb_notifier *nt, int fd, uint32_t events)
{
	struct asb_notify *ch;
	struct seccomp_notif *req;

	for (ch = nt->head; ch && ch->fd != fd; ch = ch->next)
		;
	if (!ch)
		return false;
	if (events & EPOLLIN) {
		req = calloc(1, nt->notif_size);
		if (req && ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0)
			on_notif(nt, ch, req);
		free(req);
		return true;
	}
	/* no task uses the filter any more */
	if (events & (EPOLLHUP | EPOLLERR))
		drop(nt, ch);
	return true;
}
