/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * agentd control socket protocol (unix SOCK_SEQPACKET, root only).
 *
 * One request per connection: a struct asb_ctl_req message; agentd
 * answers with one message, struct asb_ctl_rep followed by rep.len bytes
 * of payload (text, or the struct named by the command). A malformed
 * request gets status -EINVAL and changes nothing.
 */
#ifndef ASB_CTL_H
#define ASB_CTL_H

#include <linux/types.h>
#include <asb/image.h>

#define ASB_CTL_MAGIC		0x4c544341u	/* "ACTL" */
#define ASB_CTL_VERSION		1
#define ASB_CTL_REPLY_MAX	(256u << 10)

enum asb_ctl_cmd {
	ASB_CTL_STATUS = 1,	/* -> text */
	ASB_CTL_RUN,		/* sandbox, policy -> struct asb_ctl_run */
	ASB_CTL_RELOAD,		/* re-read the policy file, as SIGHUP */
	ASB_CTL_ATTACH,		/* sandbox, pid: move a running process in */
	ASB_CTL_VAULT,		/* flags: ASB_CTL_VAULT_*; UNLOCK: a second
				 * message of 32 bytes, the derived key */
	ASB_CTL_NOTIFY,		/* id: sandbox id (RUN reply), pid: the
				 * child; the seccomp listener rides on the
				 * request as SCM_RIGHTS -> text */
	ASB_CTL_PENDING,	/* flags: ASB_CTL_F_JSON -> text, one
				 * request a line, id first */
	ASB_CTL_ANSWER,		/* id: request, flags: ASB_CTL_ANSWER_* */
	ASB_CTL_WATCH,		/* the connection stays open: agentd sends
				 * one text message per request held (those
				 * already pending first), "ID ...", and
				 * one per request no longer pending,
				 * "-ID VERDICT BY". The watcher may send
				 * ASB_CTL_ANSWER requests on it: each gets
				 * one text message, "=SUMMARY" (instead of
				 * that request's "-ID") or "!WHY"; any
				 * other message ends the watch */
	ASB_CTL_CMD_MAX = ASB_CTL_WATCH,
};

#define ASB_CTL_F_JSON		1

#define ASB_CTL_ANSWER_DENY	0
#define ASB_CTL_ANSWER_ALLOW	1
#define ASB_CTL_ANSWER_ALWAYS	2	/* allow, and every identical action
					 * for the rest of the sandbox's life */

#define ASB_CTL_VAULT_UNLOCK	1
#define ASB_CTL_VAULT_LOCK	2
#define ASB_CTL_VAULT_WHERE	3	/* -> the vault file agentd reads */

struct asb_ctl_req {
	__u32 magic;
	__u16 version;
	__u16 cmd;		/* enum asb_ctl_cmd */
	char sandbox[ASB_NAME_MAX];
	char policy[ASB_PATH_MAX];	/* absolute path, or empty */
	__u32 pid;
	__u32 id;
	__u32 flags;
	__u32 reserved;
};

struct asb_ctl_rep {
	__s32 status;		/* 0 or -errno */
	__u32 len;		/* payload bytes that follow */
};

/* ASB_CTL_RUN reply payload. */
#define ASB_CTL_RUN_KERNEL_FS	(1u << 0)	/* BPF-LSM enforces the file and
						 * exec rules: no Landlock */
#define ASB_CTL_RUN_KERNEL_ASK	(1u << 1)	/* asb.ko holds approve.*
						 * actions: no seccomp asks */
struct asb_ctl_run {
	__u32 sbid;
	__u32 flags;		/* ASB_CTL_RUN_* */
	char cgroup[256];	/* the sandbox's cgroup directory */
	char image[256];	/* the compiled policy it runs under */
};

#endif /* ASB_CTL_H */
