/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Human approval: the one place for the ask protocol inside agentd.
 *
 * A mechanism (seccomp user notification here, notify.c; the module's
 * gate on backend 1) holds a syscall and hands agentd a request: sandbox,
 * pid, exe, action, object, the rule's FILE:LINE. The request waits in the
 * pending list until an operator answers it (asbctl approve/deny/watch,
 * over the root-only control socket), its deadline passes (then the
 * sandbox's approve.default decides, deny unless set to allow) or the
 * waiting process goes away (it was killed: the request is dropped). Each
 * request is answered exactly once: the first answer removes it from the
 * list before the mechanism is told. Every request, who answered (uid),
 * when and the verdict go to the audit log.
 */
#ifndef ASB_APPROVAL_H
#define ASB_APPROVAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <asb/image.h>

struct asb_sandboxes;
struct asb_ask;

/* What the mechanism does with a verdict; called once per request. */
struct asb_ask_ops {
	const char *via;	/* the mechanism holding the syscall */
	/* carry out the verdict (allow: let the syscall go on); an allow
	 * comes only after prepare, then alive answering true */
	void (*resolve)(struct asb_ask *a, bool allow);
	/* is the syscall still waiting? (false: drop the request) */
	bool (*alive)(struct asb_ask *a);
	/* optional: what the record and the verdict need but the operator
	 * does not, gathered once the watchers were told */
	void (*prepare)(struct asb_ask *a);
	/* free priv; called after resolve, or when dropped */
	void (*release)(struct asb_ask *a);
};

#define ASB_ASK_OBJECT_MAX	1024

struct asb_ask {
	uint32_t id;			/* set by asb_approval_add */
	uint32_t sbid;
	char sandbox[ASB_NAME_MAX];
	pid_t pid;			/* the waiting thread */
	char exe[256];
	char comm[16];
	int kind;			/* ASB_RULE_ASK_* */
	char object[ASB_ASK_OBJECT_MAX];	/* shown: program + argv, ... */
	char key[ASB_PATH_MAX];		/* what --always remembers */
	char rule[ASB_PATH_MAX + 16];	/* FILE:LINE */
	bool default_allow;		/* approve.default = allow */
	unsigned int timeout;		/* seconds */
	uint64_t asked_ns;		/* CLOCK_REALTIME */
	uint64_t deadline_ms;		/* CLOCK_MONOTONIC */
	const struct asb_ask_ops *ops;
	void *priv;
	struct asb_ask *next;
};

#define ASB_APPROVAL_WATCHERS	16
#define ASB_APPROVAL_MAX	4096	/* pending at once; more: deny */
#define ASB_APPROVAL_PER_SANDBOX 64	/* pending of one sandbox; more: deny
					 * (one sandbox slows only itself) */
#define ASB_APPROVAL_SWEEP_MS	100	/* waiters checked for life */

struct asb_approvals {
	struct asb_ask *head;
	unsigned int n;
	uint32_t next_id;
	uint64_t swept_ms;		/* last check of the waiters' lives */
	struct asb_sandboxes *sbs;
	int watch[ASB_APPROVAL_WATCHERS];	/* asbctl watch connections */
	unsigned int watch_uid[ASB_APPROVAL_WATCHERS];	/* and their peers */
};

void asb_approval_init(struct asb_approvals *ap, struct asb_sandboxes *sbs);
/*
 * Hold @a (malloc'ed; the list owns it from now on). Fills id and the
 * deadline, tells the watchers, prepares, audits "ask". Past ASB_APPROVAL_MAX,
 * or ASB_APPROVAL_PER_SANDBOX of its sandbox, the request is denied at once
 * and recorded so ("by":"overload").
 */
void asb_approval_add(struct asb_approvals *ap, struct asb_ask *a);
/*
 * The audit record of @a (source "approval", via its mechanism): also for
 * an action a runtime rule allowed without holding it (@by "runtime-rule").
 */
void asb_approval_audit(const struct asb_ask *a, const char *verdict,
			const char *by);
/*
 * An operator's answer (ASB_CTL_ANSWER_*) from @uid. 0, or -ENOENT when
 * no such request is pending (already answered, timed out, or gone).
 * @msg gets a one-line summary. @watcher: the watch connection it came
 * on (-1: none), which is not sent the "-ID" notice.
 */
int asb_approval_answer(struct asb_approvals *ap, uint32_t id, int answer,
			unsigned int uid, int watcher, char *msg, size_t len);
/* Deadlines and vanished waiters; returns ms until the next deadline
 * (-1: nothing pending). */
int asb_approval_tick(struct asb_approvals *ap);
/* The pending list: "ID SANDBOX PID ACTION OBJECT ..." lines, or JSON. */
void asb_approval_list(struct asb_approvals *ap, FILE *out, bool json);
/* A watcher connection of @uid, owned from now on if 0 is returned:
 * pending requests are sent at once, new ones as they come. */
int asb_approval_watch(struct asb_approvals *ap, int fd, unsigned int uid);
/*
 * @fd readable: if it is a watcher's, read its ASB_CTL_ANSWER and answer
 * with one line, "=SUMMARY" or "!WHY" (anything else, or a hang-up, ends
 * the watch). False if @fd is not a watcher's.
 */
bool asb_approval_watch_input(struct asb_approvals *ap, int fd);
/* Deny and drop everything (agentd exits). */
void asb_approval_shutdown(struct asb_approvals *ap);
const char *asb_ask_action(int kind);

/*
 * Append @src to the string in @dst (@len bytes in all), bytes that are
 * not printable ASCII, and '\\', as \xHH: nothing shown to the operator
 * can drive a terminal or start a line. False if @src did not fit whole.
 */
bool asb_printable(char *dst, size_t len, const char *src);

/* What an exec ask shows, whichever mechanism holds it. */
struct asb_exec_show {
	const char *prog;	/* the resolved program */
	const char *argv;	/* argc strings, each with its NUL, argv_len
				 * bytes; NULL: unreadable or over @cap */
	size_t argv_len;
	unsigned int argc;
	size_t cap;		/* the longest argv that is asked */
	const char *digest;	/* of the whole argv: "fnv64 HEX", "sha256 HEX" */
	const char *cwd;	/* the caller's working directory */
};

/*
 * The object of an exec ask in @obj: "PROGRAM ARG1 ARG2 ... (cwd DIR)",
 * the program in place of argv[0], every byte printable (asb_printable).
 * An argv that does not fit is cut, marked with its length and digest:
 * " ...[cut: N argv bytes, DIGEST]"; one that is missing is marked
 * " ...[argv unreadable or over CAP bytes]".
 */
void asb_exec_object(const struct asb_exec_show *x, char *obj, size_t len);

#endif
