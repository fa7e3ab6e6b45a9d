/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * asb compiled-policy image: the one binary form of a policy, shared by the
 * compiler (policy/), agentd's loaders and the tests.
 *
 * Layout, all little-endian, every offset from the start of the image:
 *
 *   struct asb_image_hdr
 *   struct asb_image_sandbox  [n_sandboxes]   sorted by name
 *   struct asb_image_rule     [n_rules]       grouped by sandbox, then sorted
 *                                             by (kind, family, key) so that
 *                                             lookups are binary searches
 *   struct asb_image_secret   [n_secrets]     grouped by sandbox
 *   char                      strtab[]        NUL-terminated strings
 *
 * Strings (paths, file names, secret names) are offsets into strtab.
 * Every rule and secret carries the FILE:LINE it was compiled from.
 */
#ifndef ASB_IMAGE_H
#define ASB_IMAGE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define ASB_IMAGE_MAGIC		0x49425341u	/* "ASBI" */
#define ASB_IMAGE_VERSION	3

#define ASB_NAME_MAX		32	/* sandbox name, with NUL */
#define ASB_SECRET_NAME_MAX	64	/* secret name, with NUL */
#define ASB_ENV_NAME_MAX	64	/* environment variable, with NUL */
#define ASB_PATH_MAX		1024	/* policy path, with NUL */

/* What a rule grants or holds. */
enum asb_rule_kind {
	ASB_RULE_FS_READ = 1,
	ASB_RULE_FS_WRITE,
	ASB_RULE_FS_EXEC,
	ASB_RULE_NET_CONNECT,
	ASB_RULE_NET_BIND,
	ASB_RULE_NET_UNIX,
	ASB_RULE_ASK_EXEC,
	ASB_RULE_ASK_CONNECT,
	ASB_RULE_ASK_WRITE,
	ASB_RULE_KIND_MAX = ASB_RULE_ASK_WRITE,
};

/* Address family of a network rule (asb_image_rule.family). */
enum asb_net_family {
	ASB_NET_NONE = 0,	/* path rule */
	ASB_NET_IP4 = 4,
	ASB_NET_IP6 = 6,
};

/* Sandbox flags. */
#define ASB_SB_AUDIT_ALL	(1u << 0)	/* audit = all (else deny only) */
#define ASB_SB_ASK_ALLOW	(1u << 1)	/* approve.default = allow */
/* (1u << 2): was sys.allow = io_uring, refused since */
#define ASB_SB_ALLOW_USERNS	(1u << 3)	/* sys.allow = userns */
#define ASB_SB_ALLOW_PTRACE	(1u << 4)	/* sys.allow = ptrace (inside) */
#define ASB_SB_DENY_RAW		(1u << 5)	/* net.deny_families = raw */

#define ASB_ASK_TIMEOUT_DEFAULT	60	/* seconds */
#define ASB_ASK_TIMEOUT_MAX	86400

/* Socket families that net.deny_families can name (bit = AF_* number). */
#define ASB_FAMILY_MAX		64

struct asb_image_hdr {
	__u32 magic;
	__u16 version;
	__u16 hdr_size;		/* sizeof(struct asb_image_hdr) */
	__u32 size;		/* whole image, bytes */
	__u32 checksum;		/* CRC-32 of the image with this field zero */
	__u32 n_sandboxes;
	__u32 sandbox_off;
	__u32 n_rules;
	__u32 rule_off;
	__u32 n_secrets;
	__u32 secret_off;
	__u32 strtab_off;
	__u32 strtab_size;
	__u32 source;		/* strtab: the policy file */
	__u32 agentd_socket;	/* strtab: [agentd] settings, 0 if unset */
	__u32 agentd_state_dir;
	__u32 agentd_audit_log;
	__u32 agentd_vault;
	__u32 reserved;
};

struct asb_image_sandbox {
	char name[ASB_NAME_MAX];
	__u32 first_rule;	/* index into the rule array */
	__u32 n_rules;
	__u32 first_secret;
	__u32 n_secrets;
	__u32 flags;		/* ASB_SB_* */
	__u32 ask_timeout;	/* seconds */
	__u64 deny_families;	/* bit n: socket(AF n) refused */
	__u32 file;		/* strtab: where [sandbox.NAME] is */
	__u32 line;
	__u32 audit_file;	/* strtab: where audit= is, or 0 */
	__u32 audit_line;
	__u64 caps;		/* sys.caps: bit n = capability n that a
				 * root sandbox keeps (all others dropped) */
	__u64 mem_max;		/* limits.memory: bytes; 0: none */
	__u32 pids_max;		/* limits.pids: tasks; 0: none */
	__u32 cpu_pct;		/* limits.cpu: percent of one CPU; 0: none */
};

#define ASB_LIMIT_PIDS_MAX	4194304		/* PID_MAX_LIMIT */
#define ASB_LIMIT_CPU_MAX	102400		/* 1024 CPUs */

#define ASB_CAP_MAX		40	/* CAP_CHECKPOINT_RESTORE */

struct asb_image_rule {
	__u16 kind;		/* enum asb_rule_kind */
	__u8 family;		/* enum asb_net_family */
	__u8 prefix;		/* network prefix length */
	__u16 port_lo;		/* network rules: port range, host order */
	__u16 port_hi;
	__u8 addr[16];		/* network rules: address, network order */
	__u32 path;		/* path rules: strtab offset */
	__u32 path_len;
	__u32 file;		/* strtab: source file */
	__u32 line;		/* source line (of the rule that implies it) */
	__u32 flags;		/* ASB_RULE_F_* */
};

/* Rule flags. */
#define ASB_RULE_F_IMPLIED	(1u << 0)	/* not written: needed by the rule
						 * at line (asb_policy_imply) */
#define ASB_RULE_F_INTERP	(1u << 1)	/* an ELF interpreter (PT_INTERP)
						 * of a granted program: it runs
						 * only as their interpreter,
						 * never as a program itself */

struct asb_image_secret {
	char name[ASB_SECRET_NAME_MAX];
	char env[ASB_ENV_NAME_MAX];	/* empty: fetched over the broker only */
	__u32 exe;		/* strtab: absolute path of the granted program */
	__u32 file;
	__u32 line;
	__u32 reserved;
};

#endif /* ASB_IMAGE_H */
