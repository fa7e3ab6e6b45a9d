// SPDX-License-Identifier: BSD-3-Clause
/* Human approval: pending requests, answers, deadlines. See approval.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asb/ctl.h>

#include "approval.h"
#include "audit.h"
#include "ctl.h"
#include "sandbox.h"

static uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

const char *asb_ask_action(int kind)
{
	switch (kind) {
	case ASB_RULE_ASK_EXEC: return "exec";
	case ASB_RULE_ASK_CONNECT: return "connect";
	case ASB_RULE_ASK_WRITE: return "write";
	default: return "?";
	}
}

bool asb_printable(char *dst, size_t len, const char *src)
{
	size_t off;

	if (!len)
		return !*src;
	off = strnlen(dst, len - 1);
	for (; *src && off + 5 < len; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			off += (size_t)snprintf(dst + off, len - off, "\\x%02x", c);
		else
			dst[off++] = (char)c;
	}
	dst[off] = 0;
	return !*src;
}

/*
 * One argument for the prompt: as it is when plain, else in single quotes
 * with a quote inside shown as \x27 (a backslash is always escaped), so
 * that where an argument ends, and that "rule=..." in one is no field of
 * the line, cannot be mistaken.
 */
static bool put_arg(char *dst, size_t len, const char *arg)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_-./:@%+,";
	char one[2] = "";
	size_t off;

	if (*arg && arg[strspn(arg, plain)] == 0)
		return asb_printable(dst, len, arg);
	if (!asb_printable(dst, len, "'"))
		return false;
	for (; *arg; arg++) {
		off = strnlen(dst, len - 1);
		if (*arg == '\'') {
			if (off + 5 >= len)
				return false;
			memcpy(dst + off, "\\x27", 5);
			continue;
		}
		one[0] = *arg;
		if (!asb_printable(dst, len, one))
			return false;
	}
	return asb_printable(dst, len, "'");
}

#define EXEC_CWD_SHOWN	256	/* bytes of the escaped cwd */

void asb_exec_object(const struct asb_exec_show *x, char *obj, size_t len)
{
	char cwd[EXEC_CWD_SHOWN + 4] = "", tail[EXEC_CWD_SHOWN + 16];
	char mark[160];
	const char *a = x->argv, *end = x->argv + x->argv_len;
	size_t room;

	if (!len)
		return;
	obj[0] = 0;
	if (!asb_printable(cwd, EXEC_CWD_SHOWN, x->cwd ? x->cwd : ""))
		strcat(cwd, "...");
	snprintf(tail, sizeof(tail), " (cwd %s)", cwd);
	if (x->argv)
		snprintf(mark, sizeof(mark), " ...[cut: %zu argv bytes, %s]",
			 x->argv_len, x->digest ? x->digest : "no digest");
	else
		snprintf(mark, sizeof(mark),
			 " ...[argv unreadable or over %zu bytes]", x->cap);
	if (len < strlen(tail) + strlen(mark) + 64)
		return;
	room = len - strlen(tail) - strlen(mark);
	if (!asb_printable(obj, room, x->prog)) {
		strcat(obj, mark);
	} else if (x->argv) {
		/* argv[0] is not shown: the program is */
		for (unsigned int i = 0; i < x->argc && a < end; i++) {
			const char *s = a;

			a = memchr(a, 0, (size_t)(end - a));
			if (!a)
				break;
			a++;
			if (!i)
				continue;
			if (!asb_printable(obj, room, " ") ||
			    !put_arg(obj, room, s)) {
				strcat(obj, mark);
				break;
			}
		}
	} else {
		strcat(obj, mark);
	}
	strcat(obj, tail);
}

void asb_approval_init(struct asb_approvals *ap, struct asb_sandboxes *sbs)
{
	memset(ap, 0, sizeof(*ap));
	ap->sbs = sbs;
	for (int i = 0; i < ASB_APPROVAL_WATCHERS; i++)
		ap->watch[i] = -1;
}

void asb_approval_audit(const struct asb_ask *a, const char *verdict,
			const char *by)
{
	struct asb_audit_rec r = {
		.time_ns = now_real_ns(),
		.sandbox = a->sandbox,
		.pid = a->pid,
		.comm = a->comm,
		.exe = a->exe,
		.action = asb_ask_action(a->kind),
		.object = a->object,
		.verdict = verdict,
		.rule = a->rule,
		.source = "approval",
		.request = a->id,
		.by = by,
		.via = a->ops->via,
	};

	asb_audit_write(&r);
}

/* One line: ID SANDBOX PID ACTION OBJECT rule=.. exe=.. left=..s default=.. */
static void format_line(const struct asb_ask *a, FILE *out, bool json)
{
	uint64_t now = asb_now_ms();
	unsigned int left = a->deadline_ms > now ?
			    (unsigned int)((a->deadline_ms - now + 999) / 1000) : 0;

	if (!json) {
		fprintf(out, "%u %s %d %s %s rule=%s exe=%s left=%us default=%s\n",
			a->id, a->sandbox, a->pid, asb_ask_action(a->kind),
			a->object, a->rule, a->exe, left,
			a->default_allow ? "allow" : "deny");
		return;
	}
	/* every string field was made printable ASCII by the mechanism */
	fprintf(out, "{\"id\":%u,\"sandbox\":\"%s\",\"sbid\":%u,\"pid\":%d,"
		"\"exe\":\"", a->id, a->sandbox, a->sbid, a->pid);
	for (const char *p = a->exe; *p; p++)
		fprintf(out, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	fprintf(out, "\",\"action\":\"%s\",\"object\":\"",
		asb_ask_action(a->kind));
	for (const char *p = a->object; *p; p++)
		fprintf(out, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	fprintf(out, "\",\"rule\":\"");
	for (const char *p = a->rule; *p; p++)
		fprintf(out, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	fprintf(out, "\",\"left\":%u,\"default\":\"%s\"}\n", left,
		a->default_allow ? "allow" : "deny");
}

/* A watcher that does not keep up is dropped, never waited for. */
static void tell_one(struct asb_approvals *ap, int i, const char *msg,
		     size_t len)
{
	if (send(ap->watch[i], msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)len) {
		close(ap->watch[i]);
		ap->watch[i] = -1;
	}
}

/* Every watcher but @except (-1: none). */
static void tell_watchers(struct asb_approvals *ap, const char *msg,
			  size_t len, int except)
{
	for (int i = 0; i < ASB_APPROVAL_WATCHERS; i++)
		if (ap->watch[i] >= 0 && ap->watch[i] != except)
			tell_one(ap, i, msg, len);
}

static void announce(struct asb_approvals *ap, const struct asb_ask *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	format_line(a, f, false);
	fclose(f);
	tell_watchers(ap, buf, len, -1);
	free(buf);
}

/* "-ID VERDICT BY": request ID is no longer pending (the watcher whose
 * answer ended it, @except, is told "=SUMMARY" instead). */
static void announce_gone(struct asb_approvals *ap, const struct asb_ask *a,
			  const char *verdict, const char *by, int except)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), "-%u %s %s\n", a->id, verdict, by);

	tell_watchers(ap, buf, (size_t)n, except);
}

static void unlink_ask(struct asb_approvals *ap, struct asb_ask *a)
{
	for (struct asb_ask **pp = &ap->head; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			ap->n--;
			return;
		}
	}
}

/*
 * Off the list first: whatever resolve does, nobody answers it again.
 * Recorded before it is carried out: a verdict never takes effect unlogged.
 */
static void finish(struct asb_approvals *ap, struct asb_ask *a, bool allow,
		   const char *verdict, const char *by, int watcher)
{
	unlink_ask(ap, a);
	asb_approval_audit(a, verdict, by);
	a->ops->resolve(a, allow);
	announce_gone(ap, a, allow ? "allow" : "deny", by, watcher);
	a->ops->release(a);
	free(a);
}

static unsigned int pending_of(const struct asb_approvals *ap, uint32_t sbid)
{
	unsigned int n = 0;

	for (const struct asb_ask *a = ap->head; a; a = a->next)
		n += a->sbid == sbid;
	return n;
}

void asb_approval_add(struct asb_approvals *ap, struct asb_ask *a)
{
	if (!++ap->next_id)
		ap->next_id = 1;
	a->id = ap->next_id;
	a->asked_ns = now_real_ns();
	a->deadline_ms = asb_now_ms() + (uint64_t)(a->timeout ? a->timeout :
					       ASB_ASK_TIMEOUT_DEFAULT) * 1000;
	if (ap->n >= ASB_APPROVAL_MAX ||
	    pending_of(ap, a->sbid) >= ASB_APPROVAL_PER_SANDBOX) {
		if (a->ops->prepare)
			a->ops->prepare(a);
		asb_approval_audit(a, "deny", "overload");
		a->ops->resolve(a, false);
		a->ops->release(a);
		free(a);
		return;
	}
	a->next = ap->head;
	ap->head = a;
	ap->n++;
	announce(ap, a);
	/* the operator reads while we finish: agentd is one thread, so this
	 * is done and recorded before any answer can be read */
	if (a->ops->prepare)
		a->ops->prepare(a);
	asb_approval_audit(a, "ask", NULL);
}

int asb_approval_answer(struct asb_approvals *ap, uint32_t id, int answer,
			unsigned int uid, int watcher, char *msg, size_t len)
{
	struct asb_ask *a;
	char by[32];
	bool allow = answer != ASB_CTL_ANSWER_DENY;

	for (a = ap->head; a && a->id != id; a = a->next)
		;
	if (!a) {
		snprintf(msg, len, "no pending request %u", id);
		return -ENOENT;
	}
	if (!a->ops->alive(a)) {
		snprintf(msg, len, "request %u: the process is gone", id);
		finish(ap, a, false, "gone", "kernel", watcher);
		return -ENOENT;
	}
	snprintf(by, sizeof(by), "uid:%u", uid);
	if (answer == ASB_CTL_ANSWER_ALWAYS) {
		struct asb_sandbox *s = asb_sandbox_by_id(ap->sbs, a->sbid);
		int err = s ? asb_sandbox_rt_add(s, a->kind, a->key, uid) :
			      -ENOENT;

		if (err) {
			snprintf(msg, len, "request %u: runtime rule: %s", id,
				 strerror(-err));
			return err;
		}
	}
	snprintf(msg, len, "request %u: %s %s %s%s", id,
		 allow ? "allowed" : "denied", asb_ask_action(a->kind),
		 a->object, answer == ASB_CTL_ANSWER_ALWAYS ?
		 " (and from now on, runtime rule)" : "");
	finish(ap, a, allow, allow ? "allow" : "deny", by, watcher);
	return 0;
}

int asb_approval_tick(struct asb_approvals *ap)
{
	uint64_t now = asb_now_ms(), next = UINT64_MAX;
	/* waiters are looked at for life a few times a second, not per event */
	bool sweep = now - ap->swept_ms >= ASB_APPROVAL_SWEEP_MS;
	struct asb_ask *a, *nx;

	if (sweep)
		ap->swept_ms = now;
	for (a = ap->head; a; a = nx) {
		bool expired = a->deadline_ms <= now;

		nx = a->next;
		if ((sweep || expired) && !a->ops->alive(a)) {
			/* killed while waiting: nothing to answer */
			unlink_ask(ap, a);
			asb_approval_audit(a, "gone", "kernel");
			announce_gone(ap, a, "gone", "kernel", -1);
			a->ops->release(a);
			free(a);
			continue;
		}
		if (expired) {
			finish(ap, a, a->default_allow,
			       a->default_allow ? "allow" : "deny", "timeout", -1);
			continue;
		}
		if (a->deadline_ms < next)
			next = a->deadline_ms;
	}
	if (next == UINT64_MAX)
		return -1;
	if (next > ap->swept_ms + ASB_APPROVAL_SWEEP_MS)
		next = ap->swept_ms + ASB_APPROVAL_SWEEP_MS;
	return next > now ? (int)(next - now) : 0;
}

void asb_approval_list(struct asb_approvals *ap, FILE *out, bool json)
{
	/* oldest first */
	struct asb_ask *v[ASB_APPROVAL_MAX];
	unsigned int n = 0;

	for (struct asb_ask *a = ap->head; a && n < ASB_APPROVAL_MAX; a = a->next)
		v[n++] = a;
	while (n--)
		format_line(v[n], out, json);
}

int asb_approval_watch(struct asb_approvals *ap, int fd, unsigned int uid)
{
	struct asb_ask *v[ASB_APPROVAL_MAX];
	unsigned int n = 0;
	int slot = -1;

	for (int i = 0; i < ASB_APPROVAL_WATCHERS; i++)
		if (ap->watch[i] < 0 && slot < 0)
			slot = i;
	if (slot < 0)
		return -EBUSY;
	ap->watch[slot] = fd;
	ap->watch_uid[slot] = uid;
	for (struct asb_ask *a = ap->head; a && n < ASB_APPROVAL_MAX; a = a->next)
		v[n++] = a;
	while (n--) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			break;
		format_line(v[n], f, false);
		fclose(f);
		if (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
		    (ssize_t)len) {
			free(buf);
			ap->watch[slot] = -1;	/* the caller closes it */
			return -EIO;
		}
		free(buf);
	}
	return 0;
}

bool asb_approval_watch_input(struct asb_approvals *ap, int fd)
{
	char msg[ASB_ASK_OBJECT_MAX + 128];
	struct asb_ctl_req req;
	int i, ret;

	for (i = 0; i < ASB_APPROVAL_WATCHERS && ap->watch[i] != fd; i++)
		;
	if (fd < 0 || i == ASB_APPROVAL_WATCHERS)
		return false;
	/* only answers come this way; anything else ends the watch */
	if (asb_ctl_recv(fd, &req, NULL) < 0 || req.cmd != ASB_CTL_ANSWER ||
	    req.flags > ASB_CTL_ANSWER_ALWAYS) {
		close(fd);
		ap->watch[i] = -1;
		return true;
	}
	msg[0] = '=';
	ret = asb_approval_answer(ap, req.id, (int)req.flags, ap->watch_uid[i],
				  fd, msg + 1, sizeof(msg) - 2);
	if (ret < 0)
		msg[0] = '!';
	strcat(msg, "\n");
	/* the watcher may have been dropped while the verdict was told */
	if (ap->watch[i] == fd)
		tell_one(ap, i, msg, strlen(msg));
	return true;
}

void asb_approval_shutdown(struct asb_approvals *ap)
{
	while (ap->head)
		finish(ap, ap->head, false, "deny", "shutdown", -1);
	for (int i = 0; i < ASB_APPROVAL_WATCHERS; i++) {
		if (ap->watch[i] >= 0)
			close(ap->watch[i]);
		ap->watch[i] = -1;
	}
}
