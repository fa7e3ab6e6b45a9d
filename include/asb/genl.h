/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The "asb" generic netlink family of asb.ko (kmod/genl.c) and agentd
 * (agentd/kgate.c): one definition, used by the kernel and userspace.
 *
 * Every command needs CAP_NET_ADMIN (GENL_ADMIN_PERM), works in the
 * initial network namespace only, and carries ASB_A_VERSION equal to
 * ASB_GENL_VERSION (else -EPROTONOSUPPORT). Attributes are validated
 * strictly against one policy: unknown attributes, wrong lengths and
 * strings longer than the limits below are refused with -EINVAL or
 * -ERANGE before any handler runs.
 *
 *   REGISTER    agentd -> kernel  VERSION
 *               The sending socket's port id becomes the agent; one at a
 *               time (-EBUSY). Dropped when that socket closes.
 *   UNREGISTER  agentd -> kernel  VERSION            (agent only: -EPERM)
 *   ASK         kernel -> agent   REQ_ID SANDBOX PID EXE ACTION OBJECT
 *                                 TIMEOUT_MS, unicast to the agent's port;
 *                                 an exec ask also ARGC CWD, ARGV_LEN when
 *                                 its argv was read to the end, and ARGV
 *                                 ARGV_HASH when that also fits
 *                                 ASB_GENL_ARGV_MAX (without ARGV the
 *                                 kernel refuses the exec with E2BIG,
 *                                 whatever the verdict)
 *   VERDICT     agentd -> kernel  VERSION REQ_ID VERDICT
 *               agent only (-EPERM); unknown or already answered
 *               request: -ENOENT
 *   STATUS      anyone (admin) -> kernel  VERSION; the reply is a STATUS
 *               message with VERSION AGENT_PID PENDING and the counters
 */
#ifndef ASB_GENL_H
#define ASB_GENL_H

#define ASB_GENL_NAME		"asb"
#define ASB_GENL_VERSION	2	/* 2: the argv and cwd of exec asks */

/* Limits of the string attributes, without the terminating NUL. */
#define ASB_GENL_EXE_MAX	4095
#define ASB_GENL_OBJECT_MAX	4095
#define ASB_GENL_CWD_MAX	4095
/*
 * An exec ask's argv, all argc strings each with its NUL, in one
 * attribute: a netlink attribute holds at most 65531 bytes, so just under
 * 64 KiB. A longer argv is not sent and the exec is refused (E2BIG).
 */
#define ASB_GENL_ARGV_MAX	(64 * 1024 - 512)
#define ASB_GENL_ARGV_HASH_LEN	32	/* SHA-256 */

enum asb_genl_cmd {
	ASB_CMD_UNSPEC,
	ASB_CMD_REGISTER,
	ASB_CMD_UNREGISTER,
	ASB_CMD_ASK,
	ASB_CMD_VERDICT,
	ASB_CMD_STATUS,
	__ASB_CMD_MAX,
};
#define ASB_CMD_MAX (__ASB_CMD_MAX - 1)

enum asb_genl_attr {
	ASB_A_UNSPEC,
	ASB_A_VERSION,		/* u32: ASB_GENL_VERSION */
	ASB_A_REQ_ID,		/* u32: request id, never 0 */
	ASB_A_SANDBOX,		/* u32: sandbox id */
	ASB_A_PID,		/* u32: the waiting thread (tid) */
	ASB_A_TGID,		/* u32: its process */
	ASB_A_EXE,		/* string: its executable */
	ASB_A_ACTION,		/* u32: enum asb_rule_kind (ASB_RULE_ASK_*) */
	ASB_A_OBJECT,		/* string: path, address, ... */
	ASB_A_TIMEOUT_MS,	/* u32: when the kernel denies by itself */
	ASB_A_VERDICT,		/* u32: enum asb_verdict */
	ASB_A_AGENT_PORTID,	/* u32: 0 when no agent is registered */
	ASB_A_PENDING,		/* u32: asks waiting now */
	ASB_A_ASKS,		/* u64 counters from here on */
	ASB_A_ALLOWED,
	ASB_A_DENIED,
	ASB_A_TIMEOUTS,		/* denied: no verdict in time */
	ASB_A_NO_AGENT,		/* denied at once: no agent */
	ASB_A_KILLED,		/* denied: fatal signal while waiting */
	ASB_A_SEND_FAILED,	/* denied: the ask could not be sent */
	ASB_A_BAD_VERDICTS,	/* verdicts refused (unknown id, ...) */
	ASB_A_COMM,		/* string: the waiting thread's comm */
	ASB_A_PAD,		/* alignment of the u64 attributes */
	ASB_A_ARGV,		/* binary: exec: argc strings, each with its NUL */
	ASB_A_ARGC,		/* u32: exec: the number of strings */
	ASB_A_ARGV_LEN,		/* u32: exec: their bytes in all (may exceed
				 * ASB_GENL_ARGV_MAX: then no ARGV; absent:
				 * the argv could not be read) */
	ASB_A_ARGV_HASH,	/* binary, 32: exec: SHA-256 of the whole argv */
	ASB_A_CWD,		/* string: exec: the caller's working directory */
	__ASB_A_MAX,
};
#define ASB_A_MAX (__ASB_A_MAX - 1)

enum asb_verdict {
	ASB_VERDICT_ALLOW = 1,
	ASB_VERDICT_DENY = 2,
};

#endif
