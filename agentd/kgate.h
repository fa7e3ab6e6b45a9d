/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * agentd's side of asb.ko's generic netlink family (include/asb/genl.h),
 * with libnl-genl-3: register as the agent, receive the gate's asks,
 * answer them, read the module's status and counters.
 *
 *	struct asb_kgate *g;
 *	if (asb_kgate_open(&g) == 0 && asb_kgate_register(g) == 0)
 *		poll asb_kgate_fd(g) for POLLIN, then
 *		asb_kgate_recv(g); while (asb_kgate_next(g, &ask)) ...;
 *		asb_kgate_verdict(g, ask.id, allow);
 *
 * Closing the socket (asb_kgate_close, or agentd dying) unregisters: the
 * asks still pending are then denied by the kernel at their timeout.
 * Every function returns 0 or a negative errno as the kernel gave it
 * (-EPERM, -ENOENT, -EBUSY, -EPROTONOSUPPORT, ...).
 */
#ifndef ASB_KGATE_H
#define ASB_KGATE_H

#include <stdbool.h>
#include <stdint.h>

#include <asb/genl.h>

struct asb_kgate;

struct asb_kgate_ask {
	uint32_t id;
	uint32_t sandbox;
	uint32_t pid;		/* the waiting thread */
	uint32_t tgid;
	uint32_t action;	/* ASB_RULE_* of include/asb/image.h */
	uint32_t timeout_ms;	/* the kernel denies by itself after it */
	char comm[16];
	char exe[ASB_GENL_EXE_MAX + 1];
	char object[ASB_GENL_OBJECT_MAX + 1];
	/* exec asks: the new image's argv and the caller's cwd */
	char *argv;		/* argc strings (malloc'ed, the receiver's to
				 * free); NULL: not sent or not consistent
				 * (unreadable, over ASB_GENL_ARGV_MAX) */
	uint32_t argc;
	uint32_t argv_len;	/* the whole argv's bytes; 0: unknown */
	uint8_t argv_hash[ASB_GENL_ARGV_HASH_LEN];	/* SHA-256 */
	char cwd[ASB_GENL_CWD_MAX + 1];
};

struct asb_kgate_status {
	uint32_t version;
	uint32_t agent_portid;	/* 0: no agent */
	uint32_t pending;
	uint64_t asks, allowed, denied, timeouts, no_agent, killed;
	uint64_t send_failed, bad_verdicts;
};

/* Is asb.ko loaded (/sys/module/asb)? */
bool asb_kgate_available(void);
/* Connect and resolve the family; -ENOENT: the module is not loaded. */
int asb_kgate_open(struct asb_kgate **out);
void asb_kgate_close(struct asb_kgate *g);
/* The socket, non-blocking: poll it for asks. */
int asb_kgate_fd(const struct asb_kgate *g);
uint32_t asb_kgate_portid(const struct asb_kgate *g);
int asb_kgate_family(const struct asb_kgate *g);

int asb_kgate_register(struct asb_kgate *g);
int asb_kgate_unregister(struct asb_kgate *g);
int asb_kgate_verdict(struct asb_kgate *g, uint32_t id, bool allow);
int asb_kgate_status(struct asb_kgate *g, struct asb_kgate_status *st);

/* Read what the socket holds (never blocks); asks are queued. Returns the
 * number of asks queued so far, or a negative errno. */
int asb_kgate_recv(struct asb_kgate *g);
/* Wait up to timeout_ms for something to read, then asb_kgate_recv. */
int asb_kgate_wait(struct asb_kgate *g, int timeout_ms);
/*
 * Asks already read but not yet served: they arrived while a request (a
 * verdict) waited for its ack. The caller's loop serves them, since the
 * socket will not wake it for them.
 */
unsigned int asb_kgate_queued(const struct asb_kgate *g);

/* Pop the oldest queued ask into *a: 1, or 0 if none. a->argv is then
 * the caller's to free. */
int asb_kgate_next(struct asb_kgate *g, struct asb_kgate_ask *a);

/*
 * Drain the socket and hold every ask in @ap, agentd's approval queue
 * (agentd/approval.h): an operator's answer, the sandbox's approve.default
 * at the deadline, or a runtime --always rule decides, and the verdict goes
 * back to the gate. Asks for unknown sandboxes are denied at once.
 */
struct asb_approvals;
struct asb_sandboxes;
int asb_kgate_serve(struct asb_kgate *g, struct asb_approvals *ap,
		    struct asb_sandboxes *sbs);

#endif
