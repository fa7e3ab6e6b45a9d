// SPDX-License-Identifier: BSD-3-Clause
/*
 * agentd: probes the host, compiles the policy, creates and tracks
 * sandboxes for asbctl, turns kernel events into the audit log, and
 * answers the operator on a root-only control socket.
 *
 * Enforcement never depends on agentd being alive: sandboxes keep their
 * Landlock domain and seccomp filter, and their cgroup socket programs stay
 * attached, when agentd exits or is killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <asb/event.h>

#include "approval.h"
#include "audit.h"
#include "broker.h"
#include "ctl.h"
#include "execguard.h"
#include "lsm.h"
#include "kgate.h"
#include "landlock_audit.h"
#include "notify.h"
#include "policy.h"
#include "probe.h"
#include "sandbox.h"
#include "sockfilter.h"

/*
 * Pins of the socket filter. The name changes with the programs' layout
 * (v2: approve.connect one-shot entries): a restarted agentd must never
 * adopt programs of an older build that let approve.connect through.
 */
#define LOCK_FILE "/run/asb-agentd.lock"
#define PIN_DIR "/sys/fs/bpf/asb-v6"

static struct {
	const char *policy_path;	/* NULL: embedded default */
	const char *socket;
	const char *state_dir;
	const char *audit_log;
	const char *broker_path;
	const char *vault_path;
	struct asb_broker broker;
	struct asb_image img;
	char policy_status[512];
	struct asb_probe probe;
	struct asb_sandboxes sbs;
	struct asb_ll_audit *ll;	/* Landlock denials from kernel audit */
	struct asb_kgate *kg;		/* asb.ko's approval gate, if loaded */
	struct asb_approvals ap;	/* human approval: pending requests */
	struct asb_notifier nt;		/* their seccomp listeners */
	struct asb_execguard *eg;	/* approve.exec's final check */
	char cgroup_root[160];
	int epfd;
} d;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("agentd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int compile(const char *path, struct asb_image *img, FILE *diag)
{
	if (path)
		return asb_policy_compile(path, img, diag, NULL);
	return asb_policy_compile_mem(ASB_DEFAULT_POLICY_NAME,
				      asb_default_policy,
				      asb_default_policy_len, img, diag, NULL);
}

/* All or nothing: the running policy is replaced only by one that compiles. */
static int load_policy(void)
{
	struct asb_image img;
	char *diag = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&diag, &len);
	int ret = compile(d.policy_path, &img, f);
	char ts[32];
	time_t now = time(NULL);

	fclose(f);
	strftime(ts, sizeof(ts), "%F %T", localtime(&now));
	if (ret < 0) {
		fputs(diag, stderr);
		logmsg("policy %s refused, previous policy stays in force",
		       d.policy_path ?: ASB_DEFAULT_POLICY_NAME);
		snprintf(d.policy_status, sizeof(d.policy_status),
			 "reload at %s REFUSED (%s): %.*s", ts,
			 d.policy_path ?: ASB_DEFAULT_POLICY_NAME,
			 (int)strcspn(diag, "\n"), diag);
		free(diag);
		return -1;
	}
	free(diag);
	asb_image_free(&d.img);
	d.img = img;
	snprintf(d.policy_status, sizeof(d.policy_status),
		 "loaded at %s: %u sandboxes, %u rules", ts,
		 img.hdr->n_sandboxes, img.hdr->n_rules);
	logmsg("policy %s %s", d.policy_path ?: ASB_DEFAULT_POLICY_NAME,
	       d.policy_status);
	return 0;
}

static const char *action_name(int a)
{
	switch (a) {
	case ASB_ACT_CONNECT4:
	case ASB_ACT_CONNECT6:
	case ASB_ACT_UNIX_CONNECT:
		return "connect";
	case ASB_ACT_SENDMSG4:
	case ASB_ACT_SENDMSG6:
	case ASB_ACT_UNIX_SENDMSG:
		return "sendmsg";
	case ASB_ACT_BIND4:
	case ASB_ACT_BIND6:
		return "bind";
	case ASB_ACT_LISTEN4:
	case ASB_ACT_LISTEN6:
		return "listen";
	case ASB_ACT_RECV4:
	case ASB_ACT_RECV6:
		return "recv";
	case ASB_ACT_SOCKOPT:
		return "setsockopt";
	case ASB_ACT_UNIX_BIND:
		return "bind";
	case ASB_ACT_SOCKET:
		return "socket";
	case ASB_ACT_FILE_READ:
		return "open";
	case ASB_ACT_FILE_WRITE:
	case ASB_ACT_FILE_CREATE:
	case ASB_ACT_FILE_REMOVE:
	case ASB_ACT_FILE_RENAME:
	case ASB_ACT_FILE_LINK:
		return "write";
	case ASB_ACT_FILE_EXEC:
		return "exec";
	case ASB_ACT_MOUNT:
		return "mount";
	case ASB_ACT_EXEC_INTERP:
		return "exec-interp";
	case ASB_ACT_TASK:
		return "process";
	default:
		return "?";
	}
}

/*
 * Once a second, one record per sandbox for what its audit budget left
 * out (bpf/audit.h): a flood is seen, counted, and costs one line.
 */
static void record_suppressed(void)
{
	static uint64_t last_ms;
	uint64_t now = asb_now_ms();
	struct timespec ts;
	char obj[64];
	__u64 n;

	if (now - last_ms < 1000)
		return;
	last_ms = now;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (struct asb_sandbox *s = d.sbs.head; s; s = s->next) {
		struct asb_audit_rec r = {
			.time_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec,
			.sandbox = s->name, .comm = "-", .exe = "-",
			.action = "suppressed", .object = obj,
			.verdict = "deny", .source = "bpf",
		};

		if (asb_sockfilter_suppressed(d.sbs.sf, s->id, &n) || !n)
			continue;
		snprintf(obj, sizeof(obj), "%llu records over the audit budget",
			 (unsigned long long)n);
		asb_audit_write(&r);
	}
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

static int on_event(void *ctx, const struct asb_event *ev)
{
	struct asb_sandbox *s = asb_sandbox_by_id(&d.sbs, ev->sandbox);
	char obj[160], rule[ASB_PATH_MAX + 16] = "", comm[ASB_COMM_LEN + 1];
	char a[INET6_ADDRSTRLEN];
	struct asb_audit_rec r = {
		.time_ns = asb_audit_boot_to_real(ev->time_ns),
		.sandbox = s ? s->name : "?",
		.pid = ev->pid,
		.action = action_name(ev->action),
		.object = obj,
		.verdict = ev->verdict == ASB_EV_DENY ? "deny" : "allow",
		.rule = rule,
		.source = "bpf",
	};

	memcpy(comm, ev->comm, ASB_COMM_LEN);
	comm[ASB_COMM_LEN] = 0;
	r.comm = comm;
	switch (ev->action) {
	case ASB_ACT_CONNECT4:
	case ASB_ACT_SENDMSG4:
	case ASB_ACT_BIND4:
	case ASB_ACT_LISTEN4:
	case ASB_ACT_RECV4:
		inet_ntop(AF_INET, ev->addr, a, sizeof(a));
		snprintf(obj, sizeof(obj), "%s:%u", a, ev->port);
		break;
	case ASB_ACT_CONNECT6:
	case ASB_ACT_SENDMSG6:
	case ASB_ACT_BIND6:
	case ASB_ACT_LISTEN6:
	case ASB_ACT_RECV6:
		inet_ntop(AF_INET6, ev->addr, a, sizeof(a));
		snprintf(obj, sizeof(obj), "[%s]:%u", a, ev->port);
		break;
	case ASB_ACT_SOCKOPT:
		snprintf(obj, sizeof(obj), "%s",
			 ev->sock_type == 0 /* SOL_IP */ ?
			 (ev->protocol == 11 ? "IP_RECVERR" : "IP_RECVERR_RFC4884") :
			 (ev->protocol == 25 ? "IPV6_RECVERR" : "IPV6_RECVERR_RFC4884"));
		break;
	case ASB_ACT_SOCKET:
		snprintf(obj, sizeof(obj), "%s",
			 ev->sock_type == 3 /* SOCK_RAW */ &&
			 (ev->family == AF_INET || ev->family == AF_INET6) ?
			 "raw" : asb_family_name(ev->family) ?: "?");
		break;
	case ASB_ACT_FILE_READ:
	case ASB_ACT_FILE_WRITE:
	case ASB_ACT_FILE_EXEC:
	case ASB_ACT_FILE_CREATE:
	case ASB_ACT_FILE_REMOVE:
	case ASB_ACT_FILE_RENAME:
	case ASB_ACT_FILE_LINK:
	case ASB_ACT_MOUNT: {
		/* a full path, or the last component and the inode */
		__u64 ino;
		__u32 dev;

		memcpy(&ino, ev->addr, 8);
		memcpy(&dev, ev->addr + 8, 4);
		if (ev->path[0] == '/' || ev->action == ASB_ACT_MOUNT)
			snprintf(obj, sizeof(obj), "%.*s", ASB_UNIX_PATH_MAX,
				 ev->path);
		else
			snprintf(obj, sizeof(obj), "%.*s (dev %u:%u ino %llu)",
				 100, ev->path, dev >> 20, dev & 0xfffff,
				 (unsigned long long)ino);
		r.source = "bpf-lsm";
		break;
	}
	case ASB_ACT_EXEC_INTERP:
		snprintf(obj, sizeof(obj), "%.*s", ASB_UNIX_PATH_MAX, ev->path);
		break;
	case ASB_ACT_TASK: {
		static const char *const what[] = {
			[ASB_TASK_SIGNAL] = "signal", [ASB_TASK_PTRACE] = "ptrace",
			[ASB_TASK_SCHED] = "schedule",
		};
		__u32 tgid;

		memcpy(&tgid, ev->addr, sizeof(tgid));
		snprintf(obj, sizeof(obj), "%s %u to pid %u (%.*s)",
			 ev->sock_type < 3 ? what[ev->sock_type] : "?",
			 ev->protocol, tgid, ASB_COMM_LEN, ev->path);
		r.source = "bpf-lsm";
		break;
	}
	default:
		snprintf(obj, sizeof(obj), "%s%.*s",
			 ev->flags & ASB_EVF_ABSTRACT && ev->path[0] != '@' ?
			 "@" : "",
			 ASB_UNIX_PATH_MAX, ev->path);
		/*
		 * A refused connect to a socket that does not exist reached
		 * nothing: not a denial to explain (glibc tries nscd's socket
		 * at every user lookup). The refusal stands either way.
		 */
		if (!(ev->flags & ASB_EVF_ABSTRACT) && obj[0] == '/' &&
		    ev->verdict == ASB_EV_DENY && !path_exists(obj))
			return 0;
	}
	if (s)
		asb_sandbox_rule_src(s, ev->rule, rule, sizeof(rule));
	asb_audit_write(&r);
	return 0;
}

/*
 * The sandbox a process belongs to, from its cgroup; for a process that
 * is gone (or whose pid now names a process of no sandbox), the sandbox
 * it exited from.
 */
static struct asb_sandbox *sandbox_of(pid_t pid)
{
	char path[64], line[512];
	struct asb_sandbox *found = NULL;
	__u32 sbid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *cg = strstr(line, "::/");

		if (!cg)
			continue;
		cg[strcspn(cg, "\n")] = 0;
		for (struct asb_sandbox *s = d.sbs.head; s; s = s->next) {
			const char *rel = s->cgroup + strlen(d.probe.cgroup_root);
			size_t n = strlen(rel);

			if (!strncmp(cg + 2, rel, n) &&
			    (cg[2 + n] == 0 || cg[2 + n] == '/'))
				found = s;
		}
	}
	if (f)
		fclose(f);
	if (!found && !asb_execguard_exited(d.eg, pid, &sbid))
		found = asb_sandbox_by_id(&d.sbs, sbid);
	return found;
}

/* Landlock blockers ("fs.read_file", ...) as audit actions. */
static const char *ll_action(const char *blockers)
{
	if (strstr(blockers, "fs.execute"))
		return "exec";
	if (strstr(blockers, "fs.write_file") || strstr(blockers, "fs.make_") ||
	    strstr(blockers, "fs.remove_") || strstr(blockers, "fs.truncate") ||
	    strstr(blockers, "fs.refer"))
		return "write";
	if (strstr(blockers, "fs.read_") || strstr(blockers, "fs.ioctl_dev"))
		return "open";
	if (strstr(blockers, "scope.signal"))
		return "signal";
	if (strstr(blockers, "scope.abstract_unix_socket"))
		return "connect";
	if (strstr(blockers, "ptrace"))
		return "ptrace";
	return blockers;
}

static void on_landlock(void)
{
	struct asb_ll_denial dn;
	char rule[ASB_PATH_MAX + 16] = "";

	while (d.ll && asb_ll_audit_next(d.ll, &dn, 0) > 0) {
		struct asb_sandbox *s = sandbox_of(dn.pid);
		struct timespec now;
		struct asb_audit_rec r = {
			.pid = dn.pid,
			.comm = dn.comm,
			.action = ll_action(dn.blockers),
			.object = dn.object,
			.verdict = "deny",
			.rule = rule,
			.source = "landlock",
		};

		if (!s && dn.domain_pid)
			s = sandbox_of(dn.domain_pid);
		if (!s)
			continue;	/* not one of ours */
		clock_gettime(CLOCK_REALTIME, &now);
		r.time_ns = now.tv_sec * 1000000000ull + now.tv_nsec;
		r.sandbox = s->name;
		asb_sandbox_rule_src(s, UINT32_MAX, rule, sizeof(rule));
		asb_audit_write(&r);
	}
}

static void status(FILE *out)
{
	__u64 drops = 0, kills = 0;

	asb_sockfilter_drops(d.sbs.sf, &drops);
	fprintf(out, "backend: %s\n", asb_backend_name(d.probe.backend));
	for (char *p = d.probe.why, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		fprintf(out, "  %.*s\n", (int)(nl - p), p);
	}
	if (d.sbs.lsm)
		fprintf(out, "  BPF-LSM: file rules on %d inodes; Landlock kept as a second layer; asks: %s\n",
			asb_lsm_count(d.sbs.lsm), asb_lsm_kernel_ask(d.sbs.lsm) ?
			"asb.ko kfunc" : "seccomp (agentd-launched), else deny");
	asb_limits_print(&d.sbs.lim, out);
	fprintf(out, "policy: %s\n  %s\n",
		d.policy_path ?: ASB_DEFAULT_POLICY_NAME, d.policy_status);
	fprintf(out, "audit: %s\n  dropped events: %llu, write errors: %llu\n",
		d.audit_log, (unsigned long long)drops,
		(unsigned long long)asb_audit_errors());
	asb_broker_status(&d.broker, out);
	fprintf(out, "approvals: %u pending, %u listeners\n", d.ap.n, d.nt.n);
	if (d.eg && !asb_execguard_kills(d.eg, &kills))
		fprintf(out, "exec guard: loaded, %llu processes killed before their first instruction\n",
			(unsigned long long)kills);
	else
		fprintf(out, "exec guard: NOT loaded (approve.exec refused)\n");
	if (d.kg) {
		struct asb_kgate_status st;

		if (asb_kgate_status(d.kg, &st) == 0)
			fprintf(out, "asb.ko gate: version %u, %u pending, asks %llu, "
				"allowed %llu, denied %llu, timeouts %llu, no agent %llu, "
				"killed %llu\n", st.version, st.pending,
				(unsigned long long)st.asks,
				(unsigned long long)st.allowed,
				(unsigned long long)st.denied,
				(unsigned long long)st.timeouts,
				(unsigned long long)st.no_agent,
				(unsigned long long)st.killed);
	}
	fprintf(out, "sandboxes:\n");
	asb_sandbox_print(&d.sbs, out);
}

static void watch_sandbox(struct asb_sandbox *s)
{
	struct epoll_event ev = { .events = EPOLLPRI, .data.fd = s->events_fd };

	if (s->events_fd >= 0)
		epoll_ctl(d.epfd, EPOLL_CTL_ADD, s->events_fd, &ev);
}

static void handle_run(int fd, const struct asb_ctl_req *req)
{
	struct asb_ctl_run rep = { 0 };
	struct asb_sandbox *s;
	struct asb_image own, *img = &d.img;
	char err[512] = "", *diag = NULL;
	size_t len = 0;
	int ret;

	if (req->policy[0]) {
		FILE *f = open_memstream(&diag, &len);

		ret = asb_policy_compile(req->policy, &own, f, NULL);
		fclose(f);
		if (ret < 0) {
			asb_ctl_reply(fd, -EINVAL, diag, strlen(diag));
			free(diag);
			return;
		}
		free(diag);
		img = &own;
	}
	ret = asb_sandbox_create(&d.sbs, img, req->sandbox, &s, err,
				 sizeof(err));
	if (img == &own)
		asb_image_free(&own);
	if (ret < 0) {
		asb_ctl_reply(fd, ret, err, strlen(err));
		return;
	}
	watch_sandbox(s);
	rep.sbid = s->id;
	if (d.sbs.lsm)
		rep.flags |= ASB_CTL_RUN_KERNEL_FS;
	if (asb_lsm_kernel_ask(d.sbs.lsm))
		rep.flags |= ASB_CTL_RUN_KERNEL_ASK;
	snprintf(rep.cgroup, sizeof(rep.cgroup), "%s", s->cgroup);
	snprintf(rep.image, sizeof(rep.image), "%s", s->image_path);
	logmsg("sandbox %s-%u created", s->name, s->id);
	asb_ctl_reply(fd, 0, &rep, sizeof(rep));
}

static void handle_attach(int fd, const struct asb_ctl_req *req)
{
	struct asb_sandbox *s = asb_sandbox_by_name(&d.sbs, req->sandbox);
	char msg[128];
	int ret;

	if (!s) {
		snprintf(msg, sizeof(msg), "no running sandbox '%s'",
			 req->sandbox);
		asb_ctl_reply(fd, -ENOENT, msg, strlen(msg));
		return;
	}
	ret = asb_sandbox_attach_pid(s, req->pid);
	snprintf(msg, sizeof(msg), "pid %u: %s", req->pid,
		 ret ? strerror(-ret) : d.sbs.lsm ?
		 "attached (BPF-LSM: file, exec, socket and mount rules)" :
		 "attached (socket rules; file rules "
		 "apply to processes started by asbctl run)");
	asb_ctl_reply(fd, ret, msg, strlen(msg));
}

/* Passphrase mode: asbctl sends the Argon2id-derived key, never the phrase. */
static void handle_vault(int fd, const struct asb_ctl_req *req)
{
	unsigned char *key = sodium_malloc(ASB_VAULT_KEY_BYTES + 1);
	char err[300] = "vault locked";
	ssize_t n;
	int ret = 0;

	if (!key) {
		asb_ctl_reply(fd, -ENOMEM, "out of memory", 13);
		return;
	}
	if (req->flags == ASB_CTL_VAULT_UNLOCK) {
		n = recv(fd, key, ASB_VAULT_KEY_BYTES + 1, 0);
		if (n != ASB_VAULT_KEY_BYTES) {
			ret = -EINVAL;
			snprintf(err, sizeof(err), "unlock: malformed key message");
		} else {
			ret = asb_vault_cache_unlock(&d.broker.vault, key, err,
						     sizeof(err));
			if (!ret)
				snprintf(err, sizeof(err), "vault unlocked");
		}
	} else if (req->flags == ASB_CTL_VAULT_LOCK) {
		asb_vault_cache_lock(&d.broker.vault);
	} else if (req->flags == ASB_CTL_VAULT_WHERE) {
		sodium_free(key);
		asb_ctl_reply(fd, 0, d.vault_path, strlen(d.vault_path));
		return;
	} else {
		ret = -EINVAL;
		snprintf(err, sizeof(err), "unknown vault operation");
	}
	sodium_free(key);
	logmsg("%s", err);
	asb_ctl_reply(fd, ret, err, strlen(err));
}

/* asbctl run hands over the ask filter's listener of a sandbox it started. */
static void handle_notify(int fd, const struct asb_ctl_req *req, int nfd)
{
	char msg[256];
	int ret;

	if (nfd < 0) {
		asb_ctl_reply(fd, -EINVAL, "no listener passed", 18);
		return;
	}
	ret = asb_notify_add(&d.nt, nfd, req->id, (pid_t)req->pid,
			     asb_broker_launch_exe(&d.broker, (pid_t)req->pid),
			     msg, sizeof(msg));
	if (ret < 0)
		close(nfd);
	logmsg("%s", msg);
	asb_ctl_reply(fd, ret, msg, strlen(msg));
}

static void handle_answer(int fd, const struct asb_ctl_req *req,
			  unsigned int uid)
{
	char msg[ASB_ASK_OBJECT_MAX + 128];
	int ret;

	if (req->flags > ASB_CTL_ANSWER_ALWAYS) {
		asb_ctl_reply(fd, -EINVAL, "bad answer", 10);
		return;
	}
	ret = asb_approval_answer(&d.ap, req->id, (int)req->flags, uid, -1,
				  msg, sizeof(msg));
	asb_ctl_reply(fd, ret, msg, strlen(msg));
}

static void handle_client(int lfd)
{
	struct asb_ctl_req req;
	unsigned int uid;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int fd, ret, nfd = -1;

	fd = asb_ctl_accept(lfd, &uid);
	if (fd < 0) {
		if (fd == -EPERM)
			logmsg("control: refused a peer that is not root");
		return;
	}
	ret = asb_ctl_recv(fd, &req, &nfd);
	if (ret < 0) {
		const char *m = ret == -EPROTO ? "unsupported protocol version" :
				"malformed request";

		asb_ctl_reply(fd, ret, m, strlen(m));
		close(fd);
		return;
	}
	switch (req.cmd) {
	case ASB_CTL_STATUS:
		f = open_memstream(&buf, &len);
		status(f);
		fclose(f);
		asb_ctl_reply(fd, 0, buf, len);
		free(buf);
		break;
	case ASB_CTL_RUN:
		handle_run(fd, &req);
		break;
	case ASB_CTL_RELOAD:
		ret = load_policy();
		asb_ctl_reply(fd, ret < 0 ? -EINVAL : 0, d.policy_status,
			      strlen(d.policy_status));
		break;
	case ASB_CTL_ATTACH:
		handle_attach(fd, &req);
		break;
	case ASB_CTL_VAULT:
		handle_vault(fd, &req);
		break;
	case ASB_CTL_NOTIFY:
		handle_notify(fd, &req, nfd);
		nfd = -1;
		break;
	case ASB_CTL_PENDING:
		f = open_memstream(&buf, &len);
		asb_approval_list(&d.ap, f, req.flags & ASB_CTL_F_JSON);
		fclose(f);
		asb_ctl_reply(fd, 0, buf, len);
		free(buf);
		break;
	case ASB_CTL_ANSWER:
		handle_answer(fd, &req, uid);
		break;
	case ASB_CTL_WATCH:
		if (asb_ctl_reply(fd, 0, "watching", 8) == 0 &&
		    asb_approval_watch(&d.ap, fd, uid) == 0) {
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.fd = fd };

			/* kept: requests are sent as they come, answers
			 * may come back on it */
			epoll_ctl(d.epfd, EPOLL_CTL_ADD, fd, &ev);
			fd = -1;
		}
		break;
	}
	if (nfd >= 0)
		close(nfd);
	if (fd >= 0)
		close(fd);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: agentd [--policy FILE] [--socket PATH] "
		"[--state-dir DIR] [--audit-log FILE]\n"
		"              [--broker PATH] [--vault FILE]\n");
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(buf, 0755);
		*p = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -errno : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "audit-log", required_argument, NULL, 'a' },
		{ "broker", required_argument, NULL, 'b' },
		{ "vault", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct rlimit nocore = { 0, 0 };
	struct epoll_event ev;
	sigset_t mask;
	char client[PATH_MAX], vault[PATH_MAX];
	int c, lfd, sfd, rbfd, ret;

	while ((c = getopt_long(argc, argv, "p:s:d:a:b:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': d.policy_path = optarg; break;
		case 's': d.socket = optarg; break;
		case 'd': d.state_dir = optarg; break;
		case 'a': d.audit_log = optarg; break;
		case 'b': d.broker_path = optarg; break;
		case 'v': d.vault_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		logmsg("must run as root");
		return 1;
	}
	/*
	 * The kernel side (pinned BPF programs and maps, the ring buffer,
	 * asb.ko's agent slot) is one per host: so is agentd.
	 */
	{
		int lk = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (lk < 0 || flock(lk, LOCK_EX | LOCK_NB) < 0) {
			logmsg("%s: %s", LOCK_FILE, errno == EWOULDBLOCK ?
			       "another agentd is running on this host" :
			       strerror(errno));
			return 1;
		}
	}
	/* no core dumps, no ptrace by non-root, secrets stay in memory */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &nocore);

	asb_ctl_helper(client, sizeof(client));
	if (load_policy() < 0)
		return 1;
#define SETTING(field, hdrfield, def) \
	if (!d.field) \
		d.field = d.img.hdr->hdrfield ? \
			  strdup(asb_image_str(&d.img, d.img.hdr->hdrfield)) : def
	SETTING(socket, agentd_socket, ASB_CTL_SOCKET_DEFAULT);
	SETTING(state_dir, agentd_state_dir, "/var/lib/asb");
	SETTING(audit_log, agentd_audit_log, "/var/log/asb/audit.jsonl");
	SETTING(vault_path, agentd_vault, NULL);
#undef SETTING
	if (!d.broker_path)
		d.broker_path = ASB_BROKER_SOCKET_DEFAULT;
	if (!d.vault_path) {
		snprintf(vault, sizeof(vault), "%s/vault", d.state_dir);
		d.vault_path = vault;
	}

	asb_probe(&d.probe);
	fputs(d.probe.why, stderr);
	if (d.probe.backend == ASB_BACKEND_NONE) {
		logmsg("no enforcement backend on this host: refusing to run");
		return 1;
	}
	ret = mkdir_p(d.state_dir, 0700);
	if (ret < 0) {
		logmsg("%s: %s", d.state_dir, strerror(-ret));
		return 1;
	}
	ret = asb_audit_open(d.audit_log);
	if (ret < 0) {
		logmsg("%s: %s", d.audit_log, strerror(-ret));
		return 1;
	}
	snprintf(d.cgroup_root, sizeof(d.cgroup_root), "%s/asb",
		 d.probe.cgroup_root);
	if (mkdir(d.cgroup_root, 0755) < 0 && errno != EEXIST) {
		logmsg("%s: %s", d.cgroup_root, strerror(errno));
		return 1;
	}
	d.sbs.cgroup_root = d.cgroup_root;
	asb_limits_init(&d.sbs.lim, d.cgroup_root);
	d.sbs.state_dir = d.state_dir;
	asb_sandbox_init(&d.sbs);
	ret = asb_sockfilter_open(&d.sbs.sf, PIN_DIR);
	if (ret < 0) {
		logmsg("socket filter: %s", strerror(-ret));
		return 1;
	}
	ret = asb_sockfilter_set_broker(d.sbs.sf, d.broker_path);
	if (ret < 0) {
		logmsg("broker %s: %s", d.broker_path, strerror(-ret));
		return 1;
	}
	{
		char why[256];

		d.ll = asb_ll_audit_open(true, why, sizeof(why));
		if (!d.ll)
			logmsg("Landlock denials will not be audited: %s", why);
	}
	if (asb_kgate_available()) {
		ret = asb_kgate_open(&d.kg);
		if (!ret)
			ret = asb_kgate_register(d.kg);
		if (ret) {
			logmsg("asb.ko gate: %s: its asks are denied", strerror(-ret));
			asb_kgate_close(d.kg);
			d.kg = NULL;
		}
	}
	ret = asb_execguard_open(&d.eg,
				 asb_sockfilter_map_fd(d.sbs.sf, "asb_member"),
				 asb_sockfilter_map_fd(d.sbs.sf, "asb_levels"),
				 asb_sockfilter_map_fd(d.sbs.sf, "asb_events"),
				 PIN_DIR);
	if (ret < 0)
		logmsg("exec guard: %s: sandboxes cannot be created",
		       strerror(-ret));
	d.sbs.eg = d.eg;
	if (d.probe.backend == ASB_BACKEND_FULL ||
	    d.probe.backend == ASB_BACKEND_BPF_LSM) {
		ret = asb_lsm_open(&d.sbs.lsm, d.sbs.sf, d.eg, PIN_DIR);
		if (ret < 0) {
			logmsg("BPF-LSM programs: %s: using the portable backend",
			       strerror(-ret));
			d.probe.backend = d.probe.landlock_abi > 0 ?
				ASB_BACKEND_PORTABLE : ASB_BACKEND_NONE;
			if (d.probe.backend == ASB_BACKEND_NONE)
				return 1;
		} else {
			logmsg("BPF-LSM backend: programs attached, pinned under %s/lsm%s",
			       PIN_DIR, asb_lsm_kernel_ask(d.sbs.lsm) ?
			       ", asb.ko approval kfunc found" : "");
		}
	}
	asb_approval_init(&d.ap, &d.sbs);
	lfd = asb_ctl_listen(d.socket);
	if (lfd < 0) {
		logmsg("%s: %s", d.socket, strerror(-lfd));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	ret = asb_notify_init(&d.nt, &d.sbs, &d.ap, d.eg, d.epfd);
	if (ret < 0) {
		logmsg("seccomp notification: %s", strerror(-ret));
		return 1;
	}
	rbfd = asb_sockfilter_event_fd(d.sbs.sf);
	/* asb-secret next to agentd: its requests are judged by its caller */
	if (asb_notify_set_helper(&d.nt, client) < 0)
		logmsg("%s: not found: execs of env: secret programs run "
		       "without their secrets", client);
	ret = asb_broker_open(&d.broker, d.broker_path, d.vault_path,
			      d.probe.cgroup_root, client, &d.sbs, d.epfd);
	if (ret < 0) {
		logmsg("broker %s: %s", d.broker_path, strerror(-ret));
		return 1;
	}
	d.broker.ctl_socket = d.socket;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(d.epfd, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(d.epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = rbfd;
	epoll_ctl(d.epfd, EPOLL_CTL_ADD, rbfd, &ev);
	if (d.ll) {
		ev.data.fd = asb_ll_audit_fd(d.ll);
		epoll_ctl(d.epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	if (d.kg) {
		ev.data.fd = asb_kgate_fd(d.kg);
		epoll_ctl(d.epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	logmsg("ready on %s, audit log %s, broker %s, vault %s", d.socket,
	       d.audit_log, d.broker_path, d.vault_path);

	for (;;) {
		struct epoll_event evs[16];
		int next = asb_approval_tick(&d.ap);
		/* a killed waiter is noticed within 200 ms */
		int wait = next < 0 ? 1000 : next < 200 ? next + 1 : 200;
		int n = epoll_wait(d.epfd, evs, 16, wait);
		bool kg_ready = false;

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				handle_client(lfd);
			} else if (asb_notify_handle(&d.nt, fd, evs[i].events)) {
				continue;
			} else if (asb_broker_handle(&d.broker, fd,
						     evs[i].events)) {
				continue;
			} else if (asb_approval_watch_input(&d.ap, fd)) {
				continue;
			} else if (d.kg && fd == asb_kgate_fd(d.kg)) {
				kg_ready = true;	/* served below */
			} else if (d.ll && fd == asb_ll_audit_fd(d.ll)) {
				on_landlock();
			} else if (fd == rbfd) {
				asb_sockfilter_events(d.sbs.sf, on_event, NULL, 0);
			} else if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					logmsg("SIGHUP: reloading policy");
					load_policy();
					continue;
				}
				logmsg("exiting on signal %u; sandboxes stay confined",
				       si.ssi_signo);
				asb_sockfilter_events(d.sbs.sf, on_event, NULL, 0);
				/* fail closed: what waits is denied */
				asb_approval_shutdown(&d.ap);
				on_landlock();
				asb_sandbox_reap(&d.sbs, true);
				asb_broker_close(&d.broker);
				unlink(d.socket);
				return 0;
			} else {
				struct asb_sandbox *s =
					asb_sandbox_by_events_fd(&d.sbs, fd);

				if (s)		/* reaped below */
					s->changed = true;
			}
		}
		/* also the asks read while a verdict waited for its ack */
		if (kg_ready || asb_kgate_queued(d.kg))
			asb_kgate_serve(d.kg, &d.ap, &d.sbs);
		record_suppressed();
		asb_sandbox_reap(&d.sbs, false);
	}
}
