/* SPDX-License-Identifier: GPL-2.0 */
/*
 * asb.ko internals shared by main.c, genl.c, gate.c and testhook.c.
 */
#ifndef ASB_KMOD_H
#define ASB_KMOD_H

#include <linux/atomic.h>
#include <linux/types.h>

struct asb_gate_req;
struct linux_binprm;

struct asb_counters {
	atomic64_t asks;
	atomic64_t allowed;
	atomic64_t denied;
	atomic64_t timeouts;
	atomic64_t no_agent;
	atomic64_t killed;
	atomic64_t send_failed;
	atomic64_t bad_verdicts;
};

extern struct asb_counters asb_counters;

/* What the gate sends to agentd. */
struct asb_ask_msg {
	u32 id;
	u32 sandbox;
	u32 action;
	u32 timeout_ms;
	pid_t pid;
	pid_t tgid;
	const char *exe;
	const char *comm;
	const char *object;
	/* exec asks only (ASB_RULE_ASK_EXEC) */
	const char *cwd;	/* NULL: not an exec ask */
	const char *argv;	/* argc strings; NULL: unreadable or too long */
	u32 argc;
	u32 argv_len;		/* the whole argv's bytes, 0: unreadable */
	u8 argv_hash[32];	/* SHA-256 of the whole argv */
};

/* genl.c */
int asb_genl_init(void);
void asb_genl_exit(void);
bool asb_genl_have_agent(void);
int asb_genl_send_ask(const struct asb_ask_msg *m);

/* gate.c */
int asb_gate_init(void);
void asb_gate_exit(void);
void asb_gate_free(void);
int bpf_asb_gate_ask(const struct asb_gate_req *req, u32 req__sz,
		     const char *object, u32 object__sz);
int bpf_asb_gate_ask_exec(const struct asb_gate_req *req, u32 req__sz,
			  const char *object, u32 object__sz,
			  struct linux_binprm *bprm);
int asb_gate_ask(u32 sandbox, u32 action, u32 timeout_ms, const char *object,
		 size_t object_len);
int asb_gate_verdict(u32 id, u32 verdict, u32 portid);
u32 asb_gate_pending(void);

/* testhook.c: the debugfs test hook (module parameter test_hook) */
int asb_testhook_init(void);
void asb_testhook_exit(void);

#endif
