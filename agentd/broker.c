// SPDX-License-Identifier: BSD-3-Clause
/*
 * The secret broker (see broker.h, include/asb/broker.h, docs/secrets.md).
 *
 * Who is asking is decided from kernel facts only: the connecting
 * process's pidfd (SO_PEERPIDFD), the sender of the request message
 * (SCM_CREDENTIALS, filled in by the kernel), the process's cgroup (from
 * the pidfd, PIDFD_GET_INFO, or /proc/PID/cgroup) and executable read
 * through /proc/PID, and a liveness check of the pidfd after those reads:
 * if the process is still alive then, the pid still named it while we
 * read. Nothing the client says about itself counts.
 *
 * A secret value leaves agentd only in a GET reply (or in the environment
 * of a program agentd starts for EXEC); it is never formatted, logged or
 * audited: records name the secret.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "broker.h"
#include "ctl.h"
#include "execguard.h"
#include "launch.h"
#include "lsm.h"
#include "seccomp.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif
#ifndef P_PIDFD
#define P_PIDFD		3
#endif
#ifndef PIDFD_GET_INFO			/* <linux/pidfd.h> of Linux 6.13 */
struct pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid;
	uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	uint32_t spare0[1];
};
#define PIDFD_GET_INFO		_IOWR(0xFF, 11, struct pidfd_info)
#define PIDFD_INFO_CGROUPID	(1UL << 2)
#endif

struct broker_job {
	int conn;
	int pidfd;
	pid_t pid;			/* the spawner */
	int req_pidfd;			/* the process that asked, or -1 */
	uint32_t sbid;			/* the sandbox it runs in */
	char *exe;			/* the program, as the policy names it */
	int init_pidfd;			/* its launch's init, once known */
	dev_t ns_dev;			/* and that init's PID namespace */
	ino_t ns_ino;
	struct broker_job *next;
};

static int sys_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

const char *asb_broker_reason_str(int reason)
{
	switch (reason) {
	case ASB_BR_OK: return "granted";
	case ASB_BR_MALFORMED: return "malformed request";
	case ASB_BR_NOT_SANDBOXED: return "not in a sandbox";
	case ASB_BR_NO_GRANT: return "not granted to this sandbox";
	case ASB_BR_WRONG_EXE: return "granted to another program";
	case ASB_BR_PEER_GONE: return "requesting process gone";
	case ASB_BR_NOT_IN_VAULT: return "not in the vault";
	case ASB_BR_LOCKED: return "vault locked";
	case ASB_BR_VAULT_ERROR: return "vault unreadable";
	case ASB_BR_PRELOAD: return "requester runs with LD_PRELOAD or similar";
	case ASB_BR_INTERNAL: return "internal error";
	case ASB_BR_NOT_STARTED: return "the program was not started by agentd";
	case ASB_BR_BUSY: return "too many programs with secrets running";
	default: return "?";
	}
}

/* ---- peer verification ---- */

/*
 * What the kernel says of a pidfd's process (PIDFD_GET_INFO, Linux 6.13):
 * its pid, parent and cgroup, bound to the process, not to its pid number.
 * 0; -1 with errno ESRCH once it is gone, ENOTTY or EINVAL before 6.13.
 */
static int pidfd_info(int pidfd, pid_t *pid, pid_t *ppid, uint64_t *cgid)
{
	struct pidfd_info info = { .mask = PIDFD_INFO_CGROUPID };

	if (ioctl(pidfd, PIDFD_GET_INFO, &info) < 0)
		return -1;
	*pid = info.pid;
	*ppid = info.ppid;
	*cgid = info.mask & PIDFD_INFO_CGROUPID ? info.cgroupid : 0;
	return 0;
}

int asb_peer_identify(int conn, struct asb_peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int pidfd = -1;

	memset(p, 0, sizeof(*p));
	p->pidfd = -1;
	len = sizeof(pidfd);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
		p->pidfd = pidfd;
		if (pidfd_info(pidfd, &p->pid, &p->ppid, &p->cgid) == 0)
			return ASB_BR_OK;
		if (errno == ESRCH)
			return ASB_BR_PEER_GONE;
	} else if (errno == ESRCH || errno == EINVAL) {
		return ASB_BR_PEER_GONE;
	}
	/* before 6.13: the pid from SO_PEERCRED (and before 6.5 a pidfd
	 * opened for it); asb_peer_check() confirms it is still that process */
	len = sizeof(cred);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return ASB_BR_INTERNAL;
	/* pid 0: the peer's pid no longer exists in our namespace */
	if (cred.pid <= 0)
		return ASB_BR_PEER_GONE;
	p->pid = cred.pid;
	if (p->pidfd < 0)
		p->pidfd = sys_pidfd_open(cred.pid);
	return p->pidfd < 0 ? ASB_BR_PEER_GONE : ASB_BR_OK;
}

void asb_peer_release(struct asb_peer *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

static ssize_t read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* "0::/asb/x-1" -> "<mount>/asb/x-1" */
static int proc_cgroup(const char *mount, pid_t pid, char *out, size_t len)
{
	char buf[4096], *l, *save;

	if (read_proc(pid, "cgroup", buf, sizeof(buf)) < 0)
		return -1;
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "0::", 3))
			continue;
		if (l[3] != '/' ||
		    snprintf(out, len, "%s%s", mount, strcmp(l + 3, "/") ?
			     l + 3 : "") >= (int)len)
			return -1;
		return 0;
	}
	return -1;
}

static int proc_exe(pid_t pid, char *exe, size_t len, struct stat *st)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, len - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	return stat(path, st);
}

/* Did @pid start with a variable that loads foreign code into it? */
static bool proc_preload(pid_t pid)
{
	static const char *const bad[] = {
		"LD_PRELOAD=", "LD_LIBRARY_PATH=", "LD_AUDIT=",
	};
	static char buf[ASB_BROKER_EXEC_MAX + 1];	/* agentd is one thread */
	ssize_t n;
	bool found = false;

	n = read_proc(pid, "environ", buf, ASB_BROKER_EXEC_MAX + 1);
	for (ssize_t off = 0; n > 0 && off < n && !found;
	     off += strlen(buf + off) + 1)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (!strncmp(buf + off, bad[i], strlen(bad[i])))
				found = true;
	return found;
}

static struct asb_sandbox *sandbox_of(const struct asb_broker *b,
				      const char *cg)
{
	for (struct asb_sandbox *s = b->sbs->head; s; s = s->next) {
		size_t n = strlen(s->cgroup);

		if (!strncmp(cg, s->cgroup, n) && (!cg[n] || cg[n] == '/'))
			return s;
	}
	return NULL;
}

/*
 * The sandbox of @pid: by the cgroup id the kernel gave for its pidfd
 * (@cgid, 0 if none), else, and for a cgroup below a sandbox's own, by
 * /proc/PID/cgroup. 0 with *out (NULL: in none), or -1: gone.
 */
static int sandbox_of_pid(const struct asb_broker *b, pid_t pid, uint64_t cgid,
			  struct asb_sandbox **out)
{
	char cg[PATH_MAX];

	for (struct asb_sandbox *s = b->sbs->head; cgid && s; s = s->next)
		if (s->cgid == cgid) {
			*out = s;
			return 0;
		}
	if (proc_cgroup(b->cgroup_mount, pid, cg, sizeof(cg)))
		return -1;
	*out = sandbox_of(b, cg);
	return 0;
}

static void read_comm(pid_t pid, char *comm)
{
	char buf[32];

	comm[0] = 0;
	if (read_proc(pid, "comm", buf, sizeof(buf)) > 0)
		snprintf(comm, 17, "%.*s", (int)strcspn(buf, "\n"), buf);
}

/* Whether @st is the asb-secret binary installed next to agentd. */
static bool is_client(const struct asb_broker *b, const struct stat *st)
{
	return b->have_client && st->st_dev == b->client_st.st_dev &&
	       st->st_ino == b->client_st.st_ino;
}

/*
 * Who asks, from the kernel's view (bpf/exec.bpf.c tracks every exec and
 * fork in a sandbox): a program asks as what it runs; asb-secret asks as
 * what its own process was when it executed asb-secret (a granted program
 * that ran it, directly or in a child forked after it started), never as
 * its parent, and never from strings the process can rewrite. A process
 * whose program was executed with an LD_* variable (code loaded into it
 * by whoever started it) gets nothing that needs its identity.
 */
int asb_peer_check(const struct asb_broker *b, struct asb_peer *p,
		   unsigned int flags)
{
	struct asb_sandbox *s = NULL;
	struct asb_exe_val v;
	int ret = ASB_BR_OK;
	struct stat st;
	char exe[PATH_MAX];
	bool known;

	p->id_pid = p->pid;
	if (sandbox_of_pid(b, p->pid, p->cgid, &s) ||
	    proc_exe(p->pid, exe, sizeof(exe), &st)) {
		ret = ASB_BR_PEER_GONE;
		goto recheck;
	}
	if (!s) {
		ret = ASB_BR_NOT_SANDBOXED;
		goto recheck;
	}
	if ((flags & ASB_PEER_CALLER) && is_client(b, &st)) {
		p->via_client = true;
		if (asb_execguard_exe(b->sbs->eg, p->pid, true, &v)) {
			ret = ASB_BR_WRONG_EXE;	/* no known past */
			goto recheck;
		}
		snprintf(p->exe, sizeof(p->exe), "(before asb-secret: inode %u:%u:%llu)",
			 v.dev >> 20, v.dev & 0xfffff, (unsigned long long)v.ino);
		memset(&p->exe_st, 0, sizeof(p->exe_st));
		p->exe_st.st_dev = makedev(v.dev >> 20, v.dev & 0xfffff);
		p->exe_st.st_ino = v.ino;
		p->ino_only = v.flags & ASB_EXE_OVERLAY;
		known = true;
	} else {
		snprintf(p->exe, sizeof(p->exe), "%s", exe);
		p->exe_st = st;
		known = !asb_execguard_exe(b->sbs->eg, p->pid, false, &v);
	}
	if (flags & ASB_PEER_ENV) {
		/* attached with asbctl attach, not started in the sandbox:
		 * its environment is all there is to go by */
		if (known ? v.flags & ASB_EXE_TAINTED : proc_preload(p->pid))
			ret = ASB_BR_PRELOAD;
	}
recheck:
	/*
	 * The reads above went through a pid number. The process holding the
	 * pidfd is still alive now, so that number named it all along.
	 */
	if (!pidfd_alive(p->pidfd))
		ret = ASB_BR_PEER_GONE;
	if (ret)
		return ret;
	p->s = s;
	return s ? ASB_BR_OK : ASB_BR_NOT_SANDBOXED;
}

static bool exe_matches(const struct asb_peer *p, const char *exe)
{
	struct stat st;

	if (!strcmp(p->exe, exe))
		return true;
	/* a symlinked path in the policy: same file? (by inode number alone
	 * where the kernel saw it through overlayfs, as bpf/exec.bpf.c) */
	return stat(exe, &st) == 0 && st.st_ino == p->exe_st.st_ino &&
	       (p->ino_only || st.st_dev == p->exe_st.st_dev);
}

int asb_broker_decide(const struct asb_peer *p, const char *name,
		      const struct asb_image_secret **sec)
{
	const struct asb_image_secret *secs;

	*sec = NULL;
	if (!p->s)
		return ASB_BR_NOT_SANDBOXED;
	secs = asb_image_secrets(&p->s->img);
	for (uint32_t i = 0; i < p->s->sb->n_secrets; i++) {
		const struct asb_image_secret *x = &secs[p->s->sb->first_secret + i];

		if (strcmp(x->name, name))
			continue;
		*sec = x;
		return exe_matches(p, asb_image_str(&p->s->img, x->exe)) ?
		       ASB_BR_OK : ASB_BR_WRONG_EXE;
	}
	return ASB_BR_NO_GRANT;
}

/* ---- audit ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void audit(struct asb_broker *b, const struct asb_peer *p,
		  const char *action, const char *object,
		  const struct asb_image_secret *sec, int reason)
{
	char verdict[80], rule[ASB_PATH_MAX + 16] = "", comm[17];
	struct asb_audit_rec r = {
		.time_ns = now_ns(),
		.sandbox = p->s ? p->s->name : "-",
		.pid = p->id_pid ? p->id_pid : p->pid,
		.comm = comm,
		.exe = p->exe[0] ? p->exe : "?",
		.action = action,
		.object = object,
		.verdict = verdict,
		.rule = rule,
		.source = "broker",
	};

	/* read after the reply: only the record needs it */
	read_comm(p->pid, comm);
	if (reason == ASB_BR_OK) {
		b->grants++;
		snprintf(verdict, sizeof(verdict), "grant");
	} else {
		b->refusals++;
		snprintf(verdict, sizeof(verdict), "refuse: %s",
			 asb_broker_reason_str(reason));
	}
	if (sec && p->s)
		snprintf(rule, sizeof(rule), "%s:%u",
			 asb_image_str(&p->s->img, sec->file), sec->line);
	asb_audit_write(&r);
}

/* ---- requests ---- */

static int reply(int fd, int status, const void *val, size_t len)
{
	struct asb_broker_rep rep = {
		.magic = ASB_BROKER_MAGIC, .status = status, .len = len,
	};
	struct iovec iov[2] = {
		{ &rep, sizeof(rep) }, { (void *)val, val ? len : 0 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = val ? 2 : 1 };

	return sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

struct request {
	struct asb_broker_req req;
	char *payload;		/* req.len bytes */
	pid_t sender;		/* SCM_CREDENTIALS of the message */
	int fds[3];		/* EXEC: the client's stdio */
	int nfds;
};

static void request_free(struct request *r)
{
	for (int i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	r->nfds = 0;
	free(r->payload);
	r->payload = NULL;
}

static int recv_request(int fd, struct request *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	static char buf[sizeof(struct asb_broker_req) + ASB_BROKER_EXEC_MAX];
	struct iovec iov = { buf, sizeof(r->req) + ASB_BROKER_EXEC_MAX };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	struct cmsghdr *c;
	bool extra = false;
	ssize_t n;
	int ret = ASB_BR_MALFORMED;

	memset(r, 0, sizeof(*r));
	r->sender = -1;
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;		/* not sent yet */
	for (c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			r->sender = uc.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			/* every fd the kernel installed is ours to close:
			 * the space for three has room for a fourth */
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int got;

				memcpy(&got, CMSG_DATA(c) + i * sizeof(int),
				       sizeof(got));
				if (r->nfds < 3)
					r->fds[r->nfds++] = got;
				else {
					close(got);
					extra = true;
				}
				/* an O_PATH fd grants no access: never
				 * a stream (the launcher reopened it) */
				if (fcntl(got, F_GETFL) & O_PATH)
					extra = true;
			}
		}
	}
	if (n < (ssize_t)sizeof(r->req) || extra ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		goto out;
	memcpy(&r->req, buf, sizeof(r->req));
	if (r->req.magic != ASB_BROKER_MAGIC ||
	    r->req.version != ASB_BROKER_VERSION ||
	    r->req.len != n - sizeof(r->req) ||
	    !memchr(r->req.name, 0, sizeof(r->req.name)))
		goto out;
	if (r->req.op == ASB_BROKER_GET) {
		if (r->req.len || r->req.flags || r->nfds ||
		    !asb_vault_name_ok(r->req.name))
			goto out;
	} else if (r->req.op == ASB_BROKER_EXEC) {
		if (!r->req.len || r->req.argc < 1 || r->nfds != 3 ||
		    (r->req.flags & ~ASB_BROKER_F_DIVERTED) ||
		    r->req.argc > ASB_BROKER_EXEC_MAX / 2 ||
		    r->req.envc > ASB_BROKER_EXEC_MAX / 2 ||
		    buf[n - 1] != 0)
			goto out;
		r->payload = malloc(r->req.len);
		if (!r->payload) {
			ret = ASB_BR_INTERNAL;
			goto out;
		}
		memcpy(r->payload, buf + sizeof(r->req), r->req.len);
	} else {
		goto out;
	}
	ret = ASB_BR_OK;
out:
	return ret;
}

/* The kernel's answer to "who sent this message" must be the peer. */
static int who(struct asb_broker *b, int conn, const struct request *r,
	       struct asb_peer *p, unsigned int flags)
{
	int ret = asb_peer_identify(conn, p);

	if (ret)
		return ret;
	if (r->sender != p->pid)
		return ASB_BR_PEER_GONE;
	return asb_peer_check(b, p, flags);
}

static pid_t proc_ppid(pid_t pid)
{
	char buf[4096];
	const char *p;

	if (read_proc(pid, "status", buf, sizeof(buf)) < 0)
		return 0;
	p = strstr(buf, "\nPPid:");
	return p ? (pid_t)strtol(p + 6, NULL, 10) : 0;
}

static struct broker_job *job_by_spawner(const struct asb_broker *b,
					 pid_t spawner)
{
	struct broker_job *j = b->jobs;

	while (j && j->pid != spawner)
		j = j->next;
	return j;
}

static bool same_pidns(pid_t a, const struct stat *b)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", a);
	return stat(path, &st) == 0 && st.st_dev == b->st_dev &&
	       st.st_ino == b->st_ino;
}

/*
 * Does @p run in the launch a job started for @exe? That launch is a PID
 * namespace of its own, whose init is the spawner's child: the agent's
 * processes, in the run's namespace, are never in it, and a process that
 * is (the program, what it runs) cannot leave it. A secret served over
 * the broker thus reaches only a program agentd started, which the agent
 * can neither see nor trace, never one the agent ran itself (its memory
 * was read through /proc/PID/mem, or it was ptrace'd into asking).
 *
 * The first time, a walk up @p's parents finds the candidate; what
 * decides is read after: the candidate has @p's namespace, and once a
 * pidfd holds it, it is still the spawner's child (the spawner forks
 * nothing after its launch, so the pid named the init). That pidfd keeps
 * the answer for later requests: while the init lives, so does its
 * namespace, and its inode number is no other's.
 */
static bool in_job(struct asb_broker *b, const struct asb_peer *p,
		   const char *exe)
{
	struct broker_job *j;
	char path[64];
	struct stat ns;
	pid_t cur = p->pid;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", p->pid);
	if (stat(path, &ns) || (ns.st_dev == b->own_ns.st_dev &&
				ns.st_ino == b->own_ns.st_ino))
		return false;
	for (j = b->jobs; j; j = j->next)
		if (j->init_pidfd >= 0 && j->ns_dev == ns.st_dev &&
		    j->ns_ino == ns.st_ino)
			return j->sbid == p->s->id && !strcmp(j->exe, exe) &&
			       pidfd_alive(j->init_pidfd);
	for (int depth = 0; depth < 256 && cur > 1; depth++) {
		pid_t up = proc_ppid(cur);
		int fd;

		j = job_by_spawner(b, up);
		if (!j) {
			cur = up;
			continue;
		}
		if (j->sbid != p->s->id || strcmp(j->exe, exe) ||
		    j->init_pidfd >= 0 || !same_pidns(cur, &ns))
			return false;
		fd = sys_pidfd_open(cur);
		if (fd < 0 || proc_ppid(cur) != up) {
			if (fd >= 0)
				close(fd);
			return false;
		}
		j->init_pidfd = fd;
		j->ns_dev = ns.st_dev;
		j->ns_ino = ns.st_ino;
		return true;
	}
	return false;
}

static void handle_get(struct asb_broker *b, int conn, struct request *r)
{
	const struct asb_image_secret *sec = NULL;
	const struct asb_vault_rec *rec;
	struct asb_peer p;
	int ret;

	ret = who(b, conn, r, &p, ASB_PEER_ENV | ASB_PEER_CALLER);
	if (!ret)
		ret = asb_broker_decide(&p, r->req.name, &sec);
	if (!ret && !in_job(b, &p, asb_image_str(&p.s->img, sec->exe)))
		ret = ASB_BR_NOT_STARTED;
	if (!ret && !pidfd_alive(p.pidfd))
		ret = ASB_BR_PEER_GONE;
	if (!ret)
		ret = asb_vault_cache_refresh(&b->vault);
	if (!ret) {
		rec = asb_vault_find(b->vault.v, r->req.name);
		if (!rec)
			ret = ASB_BR_NOT_IN_VAULT;
		else if (reply(conn, 0, rec->val, rec->len) < 0)
			ret = ASB_BR_INTERNAL;
	}
	if (ret)
		reply(conn, ret, NULL, 0);
	audit(b, &p, "secret", r->req.name, sec, ret);
	asb_peer_release(&p);
}

/* ---- EXEC: start the granted program with its env: secrets ---- */

/*
 * What of the requester's environment the program with a secret gets:
 * a reset, as sudo's env_reset, not a list of known-bad names. Libraries
 * and interpreters read many variables that load code or data from a
 * path the agent chose (LD_*, GCONV_PATH, LOCPATH, NLSPATH, PYTHONPATH,
 * PERL5OPT, NODE_OPTIONS, BASH_ENV, GIT_*...); a message catalog the agent
 * wrote, found through LANGUAGE=../../.., once turned the program's error
 * message into a format string that printed its environment, the secret
 * included. Only inert names pass; locale and time-zone names only when
 * they name no file. PATH and HOME are agentd's, as sudo's secure_path: a
 * program that runs a helper by name (gh runs git, docker its credential
 * helpers) ran the agent's file of that name, with the secret.
 */
static const char *const env_keep[] = {
	"PWD", "USER", "LOGNAME", "TERM", "COLORTERM", "NO_COLOR", "COLUMNS",
	"LINES",
};

#define ASB_SECURE_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const env_keep_name[] = {
	"LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME",
	"LC_COLLATE", "LC_MONETARY", "LC_MESSAGES", "LC_PAPER", "LC_NAME",
	"LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
	"TZ",
};

static bool env_is(const char *e, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(e, name, n) && e[n] == '=';
}

static bool env_blocked(const char *e)
{
	size_t i;

	for (i = 0; i < sizeof(env_keep) / sizeof(env_keep[0]); i++)
		if (env_is(e, env_keep[i]))
			return false;
	for (i = 0; i < sizeof(env_keep_name) / sizeof(env_keep_name[0]); i++)
		if (env_is(e, env_keep_name[i]))
			return strchr(e, '/') || strstr(e, "..");
	return true;
}

struct exec_plan {
	char **argv;
	char **envp;		/* the injected entries are sodium_malloc'ed */
	unsigned int n_inject, first_inject;
	uid_t uid, gid;
	gid_t groups[64];
	int ngroups;
	int cwd;
	char sock_env[sizeof("ASB_BROKER_SOCKET=") + 108];
	char home_env[sizeof("HOME=") + PATH_MAX];
};

static void plan_free(struct exec_plan *x)
{
	if (x->envp)
		for (unsigned int i = 0; i < x->n_inject; i++)
			sodium_free(x->envp[x->first_inject + i]);
	free(x->argv);
	free(x->envp);
	if (x->cwd >= 0)
		close(x->cwd);
}

static int proc_ids(pid_t pid, struct exec_plan *x)
{
	char buf[4096], *p, *end;
	unsigned long r, e, s;

	if (read_proc(pid, "status", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%lu %lu %lu", &r, &e, &s) != 3)
		return -1;
	x->uid = e;
	p = strstr(buf, "\nGid:");
	if (!p || sscanf(p + 5, "%lu %lu %lu", &r, &e, &s) != 3)
		return -1;
	x->gid = e;
	p = strstr(buf, "\nGroups:");
	x->ngroups = 0;
	if (p) {
		p += 8;
		while (*p != '\n' && *p && x->ngroups < 64) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			x->groups[x->ngroups++] = g;
			p = end;
		}
	}
	return 0;
}

/*
 * argv, env from the payload; every env: secret of @prog (NULL: argv[0])
 * injected.
 */
static int make_plan(struct asb_broker *b, const struct asb_peer *p,
		     struct request *r, const char *prog, struct exec_plan *x,
		     char *names, size_t nlen,
		     const struct asb_image_secret **first)
{
	const struct asb_image_secret *secs = asb_image_secrets(&p->s->img);
	const struct asb_image_secret *inj[64];
	struct asb_peer target = *p;
	unsigned int n = 0, ne = 0, ninj = 0;
	const char *s = r->payload, *end = r->payload + r->req.len, *exe = NULL;
	struct passwd *pw;
	int ret;

	x->cwd = -1;
	x->argv = calloc(r->req.argc + 1, sizeof(char *));
	x->envp = calloc(r->req.envc + 68, sizeof(char *));
	if (!x->argv || !x->envp)
		return ASB_BR_INTERNAL;
	for (; s < end && n < r->req.argc; s += strlen(s) + 1)
		x->argv[n++] = (char *)s;
	if (n != r->req.argc || (!prog && x->argv[0][0] != '/'))
		return ASB_BR_MALFORMED;
	if (!prog)
		prog = x->argv[0];
	/* the program as the policy names it: same file as @prog? */
	if (stat(prog, &target.exe_st) < 0)
		return ASB_BR_NO_GRANT;
	snprintf(target.exe, sizeof(target.exe), "%s", prog);
	for (uint32_t i = 0; i < p->s->sb->n_secrets; i++) {
		const struct asb_image_secret *sec = &secs[p->s->sb->first_secret + i];
		const char *sexe = asb_image_str(&p->s->img, sec->exe);

		if (!exe_matches(&target, sexe))
			continue;
		if (!*first)
			*first = sec;
		exe = sexe;
		snprintf(names + strlen(names), nlen - strlen(names), "%s%s",
			 strlen(names) ? "," : "", sec->name);
		if (sec->env[0] && ninj < 64)
			inj[ninj++] = sec;
	}
	if (!exe)
		return ASB_BR_NO_GRANT;
	x->argv[0] = (char *)exe;	/* run the policy's path, not the client's */
	for (; s < end && ne < r->req.envc; s += strlen(s) + 1, ne++) {
		bool mine = env_blocked(s);

		for (unsigned int i = 0; i < ninj && !mine; i++)
			mine = env_is(s, inj[i]->env);
		if (!mine)
			x->envp[x->first_inject++] = (char *)s;
	}
	if (ne != r->req.envc)
		return ASB_BR_MALFORMED;
	/* the program's own asb-secret asks this broker; its helpers are
	 * found where the system keeps them; its home is its user's */
	snprintf(x->sock_env, sizeof(x->sock_env), "ASB_BROKER_SOCKET=%s", b->path);
	x->envp[x->first_inject++] = x->sock_env;
	x->envp[x->first_inject++] = "PATH=" ASB_SECURE_PATH;
	pw = getpwuid(x->uid);
	snprintf(x->home_env, sizeof(x->home_env), "HOME=%s",
		 pw && pw->pw_dir[0] == '/' ? pw->pw_dir : "/");
	x->envp[x->first_inject++] = x->home_env;
	ret = asb_vault_cache_refresh(&b->vault);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < ninj; i++) {
		const struct asb_vault_rec *rec =
			asb_vault_find(b->vault.v, inj[i]->name);
		size_t vl = strlen(inj[i]->env);
		char *e;

		if (!rec || memchr(rec->val, 0, rec->len))
			return rec ? ASB_BR_VAULT_ERROR : ASB_BR_NOT_IN_VAULT;
		e = sodium_malloc(vl + 1 + rec->len + 1);
		if (!e)
			return ASB_BR_INTERNAL;
		memcpy(e, inj[i]->env, vl);
		e[vl] = '=';
		memcpy(e + vl + 1, rec->val, rec->len);
		e[vl + 1 + rec->len] = 0;
		x->envp[x->first_inject + x->n_inject++] = e;
	}
	return ASB_BR_OK;
}

struct listener_to {
	const char *ctl_socket;
	uint32_t sbid;
};

/* The launch's ask filter is agentd's, as for asbctl run's. */
static int pass_listener(int fd, pid_t child, void *arg)
{
	const struct listener_to *t = arg;
	char err[256];

	return asb_ctl_pass_listener(t->ctl_socket, t->sbid, child, fd, err,
				     sizeof(err));
}

/*
 * In the spawner (a child of agentd): become the requester, launch, wait.
 * The launch is the sandbox's, asks included: what the program runs is
 * held for approval and diverted as in the agent's own launch.
 */
static __attribute__((noreturn)) void spawner(struct asb_broker *b,
					      const struct asb_peer *p,
					      struct request *r,
					      struct exec_plan *x)
{
	const char *hide[2] = { b->ctl_socket, NULL };
	struct listener_to to = { b->ctl_socket, p->s->id };
	struct asb_launch_opts lo = { .cgroup_fd = p->s->cg_fd,
				      .cgroup_path = p->s->cgroup,
				      .hide = hide };
	sigset_t none;
	int status = ASB_LAUNCH_EXIT_SETUP;

	/* nothing of agentd's vault stays in this process */
	asb_vault_cache_free(&b->vault);
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(r->fds[0], 0) < 0 || dup2(r->fds[1], 1) < 0 ||
	    dup2(r->fds[2], 2) < 0 || (x->cwd >= 0 && fchdir(x->cwd) < 0))
		_exit(ASB_LAUNCH_EXIT_SETUP);
	/* the launcher joins the cgroup and takes the requester's ids */
	lo.set_ids = true;
	lo.uid = x->uid;
	lo.gid = x->gid;
	lo.groups = x->groups;
	lo.ngroups = x->ngroups;
	lo.argv = x->argv;
	lo.envp = x->envp;
	lo.img = &p->s->img;
	lo.sb = p->s->sb;
	lo.sb_flags = p->s->sb->flags;
	lo.ask = asb_seccomp_ask_mask(&p->s->img, p->s->sb,
				      asb_lsm_kernel_ask(b->sbs->lsm));
	if (lo.ask) {
		lo.notify_cb = pass_listener;
		lo.notify_arg = &to;
	}
	if (asb_launch(&lo, &status) < 0 && status == 0)
		status = ASB_LAUNCH_EXIT_SETUP;
	_exit(status);
}

static unsigned int jobs_of(const struct asb_broker *b, uint32_t sbid)
{
	unsigned int n = 0;

	for (const struct broker_job *j = b->jobs; j; j = j->next)
		n += j->sbid == sbid;
	return n;
}

static void handle_exec(struct asb_broker *b, int conn, struct request *r)
{
	const struct asb_image_secret *first = NULL;
	struct exec_plan x = { .cwd = -1 };
	struct broker_job *job = NULL;
	struct epoll_event ev;
	struct asb_peer p;
	char names[512] = "", cwd[64];
	const char *prog = NULL;
	uint32_t sbid = 0;
	pid_t pid = -1;
	int ret, pidfd = -1, req_pidfd = -1;

	/* any process of the sandbox may start the program: it is the
	 * program, run by agentd, that gets the secrets */
	ret = who(b, conn, r, &p, 0);
	/* a diverted execve: asb-secret itself, in the process that called
	 * execve, asks for the program agentd recorded for it */
	if (!ret && (r->req.flags & ASB_BROKER_F_DIVERTED)) {
		if (!is_client(b, &p.exe_st))
			ret = ASB_BR_WRONG_EXE;
		else if (!(prog = asb_sandbox_divert_take(p.s, p.pid)))
			ret = ASB_BR_NO_GRANT;
	}
	if (!ret && jobs_of(b, p.s->id) >= ASB_BROKER_JOBS_MAX)
		ret = ASB_BR_BUSY;
	if (!ret && proc_ids(p.pid, &x) < 0)
		ret = ASB_BR_PEER_GONE;
	if (!ret)
		ret = make_plan(b, &p, r, prog, &x, names, sizeof(names), &first);
	if (!ret) {
		sbid = p.s->id;
		snprintf(cwd, sizeof(cwd), "/proc/%d/cwd", p.pid);
		x.cwd = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (!pidfd_alive(p.pidfd))
			ret = ASB_BR_PEER_GONE;
	}
	if (!ret) {
		job = calloc(1, sizeof(*job));
		if (job && !(job->exe = strdup(x.argv[0]))) {
			free(job);
			job = NULL;
		}
		pid = job ? fork() : -1;
		if (pid == 0)
			spawner(b, &p, r, &x);
		if (pid > 0)
			pidfd = sys_pidfd_open(pid);
		if (pid < 0 || pidfd < 0) {
			if (pid > 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
			}
			ret = ASB_BR_INTERNAL;
		}
	}
	if (!first && names[0] == 0 && r->req.argc)
		snprintf(names, sizeof(names), "%s", "-");
	audit(b, &p, "secret-exec", names, first, ret);
	plan_free(&x);
	if (!ret) {
		req_pidfd = p.pidfd;	/* the job lives no longer than it */
		p.pidfd = -1;
	}
	asb_peer_release(&p);
	if (ret) {
		reply(conn, ret, NULL, 0);
		if (job)
			free(job->exe);
		free(job);
		close(conn);
		return;
	}
	job->sbid = sbid;
	job->init_pidfd = -1;
	job->req_pidfd = req_pidfd;
	job->conn = conn;
	job->pidfd = pidfd;
	job->pid = pid;
	job->next = b->jobs;
	b->jobs = job;
	reply(conn, 0, NULL, 0);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = pidfd };
	epoll_ctl(b->epfd, EPOLL_CTL_ADD, pidfd, &ev);
	ev.data.fd = conn;
	epoll_ctl(b->epfd, EPOLL_CTL_ADD, conn, &ev);
	ev.data.fd = req_pidfd;
	epoll_ctl(b->epfd, EPOLL_CTL_ADD, req_pidfd, &ev);
}

static void forget_requester(struct asb_broker *b, struct broker_job *job)
{
	if (job->req_pidfd < 0)
		return;
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, job->req_pidfd, NULL);
	close(job->req_pidfd);
	job->req_pidfd = -1;
}

static void job_end(struct asb_broker *b, struct broker_job *job)
{
	struct broker_job **pp;
	siginfo_t si = { 0 };
	unsigned int code = ASB_LAUNCH_EXIT_SETUP;

	if (syscall(SYS_waitid, P_PIDFD, job->pidfd, &si, WEXITED, NULL) == 0)
		code = si.si_code == CLD_EXITED ? (unsigned int)si.si_status :
		       128 + (unsigned int)si.si_status;
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, job->pidfd, NULL);
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, job->conn, NULL);
	forget_requester(b, job);
	reply(job->conn, ASB_BR_EXITED, NULL, code);
	close(job->conn);
	close(job->pidfd);
	for (pp = &b->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == job) {
			*pp = job->next;
			break;
		}
	}
	if (job->init_pidfd >= 0)
		close(job->init_pidfd);
	free(job->exe);
	free(job);
}

/*
 * The client is gone, or the process that asked: so is the program, at
 * once. It holds the caller's streams and terminal; a program that waited
 * out a SIGTERM outlived the run and read what was typed after it, and
 * one given the request's own connection as a stream kept that open.
 * The spawner's death takes its launch with it.
 */
static void job_kill(struct asb_broker *b, struct broker_job *job)
{
	syscall(SYS_pidfd_send_signal, job->pidfd, SIGKILL, NULL, 0);
	forget_requester(b, job);
}

static void job_input(struct asb_broker *b, struct broker_job *job,
		      uint32_t events)
{
	struct asb_broker_sig sig;
	ssize_t n = recv(job->conn, &sig, sizeof(sig), MSG_DONTWAIT);

	if (n == sizeof(sig) && sig.magic == ASB_BROKER_MAGIC) {
		switch (sig.sig) {
		case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT:
		case SIGUSR1: case SIGUSR2: case SIGWINCH:
			syscall(SYS_pidfd_send_signal, job->pidfd, sig.sig,
				NULL, 0);
		}
		return;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN) || (events & EPOLLHUP)) {
		job_kill(b, job);
		epoll_ctl(b->epfd, EPOLL_CTL_DEL, job->conn, NULL);
	}
}

static void wait_drop(struct asb_broker *b, struct asb_broker_wait *w)
{
	epoll_ctl(b->epfd, EPOLL_CTL_DEL, w->conn, NULL);
	close(w->conn);
	w->conn = -1;
}

/* @conn's request is not there yet: wait for it in the epoll set. */
static void wait_add(struct asb_broker *b, int conn)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = conn };
	struct asb_broker_wait *slot = NULL, *oldest = NULL;
	uint64_t now = asb_now_ms();

	for (int i = 0; i < ASB_BROKER_WAITING; i++) {
		struct asb_broker_wait *w = &b->wait[i];

		if (w->conn >= 0 && now - w->since_ms >= ASB_BROKER_WAIT_MS)
			wait_drop(b, w);
		if (w->conn < 0)
			slot = slot ? slot : w;
		else if (!oldest || w->since_ms < oldest->since_ms)
			oldest = w;
	}
	if (!slot) {
		wait_drop(b, oldest);
		slot = oldest;
	}
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, conn, &ev) < 0) {
		close(conn);
		return;
	}
	*slot = (struct asb_broker_wait){ .conn = conn, .since_ms = now };
}

static void serve(struct asb_broker *b, int conn)
{
	struct request r;
	int ret = recv_request(conn, &r);

	if (ret == -EAGAIN) {
		wait_add(b, conn);
		return;
	}
	if (ret) {
		reply(conn, ret, NULL, 0);
		request_free(&r);
		close(conn);
		return;
	}
	if (r.req.op == ASB_BROKER_GET) {
		handle_get(b, conn, &r);
		close(conn);
	} else {
		handle_exec(b, conn, &r);	/* keeps conn while it runs */
	}
	request_free(&r);
}

bool asb_broker_handle(struct asb_broker *b, int fd, uint32_t events)
{
	if (fd < 0)
		return false;
	if (fd == b->lfd) {
		int conn = accept4(b->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (conn >= 0)
			serve(b, conn);
		return true;
	}
	for (int i = 0; i < ASB_BROKER_WAITING; i++) {
		if (b->wait[i].conn == fd) {
			epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
			b->wait[i].conn = -1;
			serve(b, fd);
			return true;
		}
	}
	for (struct broker_job *j = b->jobs; j; j = j->next) {
		if (fd == j->pidfd) {
			job_end(b, j);
			return true;
		}
		if (fd == j->conn) {
			job_input(b, j, events);
			return true;
		}
		if (fd == j->req_pidfd) {
			job_kill(b, j);
			return true;
		}
	}
	return false;
}

int asb_broker_open(struct asb_broker *b, const char *path,
		    const char *vault_path, const char *cgroup_mount,
		    const char *client_path, struct asb_sandboxes *sbs,
		    int epfd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	int one = 1, fd, err;

	memset(b, 0, sizeof(*b));
	b->lfd = -1;
	for (int i = 0; i < ASB_BROKER_WAITING; i++)
		b->wait[i].conn = -1;
	b->epfd = epfd;
	b->sbs = sbs;
	if (strlen(path) >= sizeof(sun.sun_path) ||
	    strlen(cgroup_mount) >= sizeof(b->cgroup_mount))
		return -ENAMETOOLONG;
	snprintf(b->path, sizeof(b->path), "%s", path);
	snprintf(b->cgroup_mount, sizeof(b->cgroup_mount), "%s", cgroup_mount);
	err = asb_vault_cache_init(&b->vault, vault_path);
	if (err)
		return err;
	if (stat("/proc/self/ns/pid", &b->own_ns) < 0)
		return -errno;
	if (client_path && stat(client_path, &b->client_st) == 0)
		b->have_client = true;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* every request message then carries its sender, as the kernel saw it
	 * (accepted connections inherit SO_PASSCRED) */
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	err = asb_ctl_bind(fd, path, 0666, 256);
	if (err) {
		close(fd);
		return err;
	}
	b->lfd = fd;
	if (epfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
	asb_vault_cache_refresh(&b->vault);
	return 0;
}

void asb_broker_status(struct asb_broker *b, FILE *out)
{
	int st = asb_vault_cache_refresh(&b->vault);

	fprintf(out, "broker: %s\n  vault %s: %s%s%s\n  grants: %llu, refusals: %llu\n",
		b->path, b->vault.path,
		st == ASB_BR_OK ? "open" : st == ASB_BR_NOT_IN_VAULT ?
		"none yet" : asb_broker_reason_str(st),
		b->vault.why[0] && st != ASB_BR_OK ? ": " : "",
		st != ASB_BR_OK ? b->vault.why : "",
		(unsigned long long)b->grants,
		(unsigned long long)b->refusals);
	if (st == ASB_BR_OK)
		fprintf(out, "  %u secrets\n", b->vault.v->n);
}

void asb_broker_close(struct asb_broker *b)
{
	while (b->jobs) {
		syscall(SYS_pidfd_send_signal, b->jobs->pidfd, SIGTERM, NULL, 0);
		job_end(b, b->jobs);
	}
	for (int i = 0; i < ASB_BROKER_WAITING; i++)
		if (b->wait[i].conn >= 0)
			wait_drop(b, &b->wait[i]);
	if (b->lfd >= 0) {
		close(b->lfd);
		unlink(b->path);
	}
	b->lfd = -1;
	asb_vault_cache_free(&b->vault);
}

const char *asb_broker_launch_exe(const struct asb_broker *b, pid_t child)
{
	const struct broker_job *j = job_by_spawner(b, proc_ppid(child));

	return j ? j->exe : NULL;
}
