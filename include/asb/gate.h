/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The approval gate of asb.ko: a sleepable kfunc for BPF-LSM programs
 * (bpf/lsm.bpf.c) to call on an *ask* verdict. It sends the request to
 * the registered agentd (include/asb/genl.h) and sleeps until the
 * verdict, the timeout, or a fatal signal.
 *
 *	int bpf_asb_gate_ask(const struct asb_gate_req *req, __u32 req__sz,
 *			     const char *object, __u32 object__sz);
 *
 * req__sz must be sizeof(struct asb_gate_req). object is the NUL-terminated
 * object (a path, "1.2.3.4:443", a command line), at most object__sz bytes
 * read (object__sz <= ASB_GATE_OBJECT_SZ; longer is cut). The waiting
 * thread's pid and executable are taken by the kernel from current.
 *
 * Returns 0 when the operator allowed the action; any other value means
 * deny: -EACCES (denied, timed out, no agent registered, the ask could
 * not be sent), -EINTR (fatal signal), -EINVAL (bad request).
 *
 * BPF programs declare it as
 *	extern int bpf_asb_gate_ask(const struct asb_gate_req *req,
 *				    __u32 req__sz, const char *object,
 *				    __u32 object__sz) __ksym __weak;
 * so that they load without the module (then bpf_asb_gate_ask is NULL:
 * check with bpf_ksym_exists() or `if (bpf_asb_gate_ask)`).
 * Program type: BPF_PROG_TYPE_LSM, sleepable ("lsm.s/...").
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
