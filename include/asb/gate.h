/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The approval gate of asb.ko: a sleepable kfunc for BPF-LSM programs
 * (bpf/lsm.bpf.c) to call on an *ask* verdict. It sends the request to
 * the registered agentd (include/asb/genl.h) and sleeps until the
 * verdict, the timeout, or a fatal signal.
 *
 *	int bpf_asb_gate_ask(const struct asb_gate_req *req, __u32 req__sz,
 *			     const char *object, __u32 object__sz);
 *	int bpf_asb_gate_ask_exec(const struct asb_gate_req *req,
 *				  __u32 req__sz, const char *object,
 *				  __u32 object__sz, struct linux_binprm *bprm);
 *
 * req__sz must be sizeof(struct asb_gate_req). object is the NUL-terminated
 * object (a path, "1.2.3.4:443", a command line), at most object__sz bytes
 * read (object__sz <= ASB_GATE_OBJECT_SZ; longer is cut). The waiting
 * thread's pid and executable are taken by the kernel from current.
 *
 * Exec asks (ASB_RULE_ASK_EXEC) go through bpf_asb_gate_ask_exec() only,
 * from bprm_check_security: the kernel adds the argv of the new image
 * (read from bprm's memory, all of it, with its SHA-256) and the caller's
 * working directory, so that the operator sees what will run.
 * bpf_asb_gate_ask() refuses them (-EINVAL); bpf_asb_gate_ask_exec()
 * refuses every other action.
 *
 * Returns 0 when the operator allowed the action; any other value means
 * deny: -EACCES (denied, timed out, no agent registered, the ask could
 * not be sent), -EINTR (fatal signal), -EINVAL (bad request), -E2BIG (an
 * exec whose argv could not be read or is longer than ASB_GENL_ARGV_MAX:
 * the operator is told, and the exec is refused whatever the answer).
 *
 * BPF programs declare it as
 *	extern int bpf_asb_gate_ask(const struct asb_gate_req *req,
 *				    __u32 req__sz, const char *object,
 *				    __u32 object__sz) __ksym __weak;
 * so that they load without the module (then bpf_asb_gate_ask is NULL:
 * check with bpf_ksym_exists() or `if (bpf_asb_gate_ask)`).
 * Program type: BPF_PROG_TYPE_LSM, sleepable ("lsm.s/..."). On 6.2 and
 * later bpf_asb_gate_ask_exec is KF_TRUSTED_ARGS: bprm must be the hook's
 * own argument.
 */
#ifndef ASB_GATE_H
#define ASB_GATE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define ASB_GATE_OBJECT_SZ	4096	/* with the NUL */
#define ASB_GATE_TIMEOUT_MS_DEFAULT	60000	/* timeout_ms == 0 */
#define ASB_GATE_TIMEOUT_MS_MAX		86400000

struct asb_gate_req {
	__u32 sandbox;		/* sandbox id */
	__u32 action;		/* enum asb_rule_kind: ASB_RULE_ASK_* */
	__u32 timeout_ms;	/* 0: ASB_GATE_TIMEOUT_MS_DEFAULT */
	__u32 flags;		/* must be 0 */
};

#endif
