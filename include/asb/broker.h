/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The secret broker protocol (unix SOCK_SEQPACKET, reachable from every
 * sandbox that has secrets; served by agentd; client: asb-secret).
 *
 * One request per connection. The client sends struct asb_broker_req,
 * followed in the same message by req.len bytes of payload:
 *   ASB_BROKER_GET   no payload. Reply: struct asb_broker_rep, then
 *                    rep.len bytes: the value (status 0), or a refusal
 *                    (status = enum asb_broker_reason, no value).
 *   ASB_BROKER_EXEC  payload = req.argc NUL-terminated argv strings, then
 *                    req.envc NUL-terminated "NAME=value" strings; the
 *                    message carries the client's fds 0, 1, 2
 *                    (SCM_RIGHTS). argv[0] must be an absolute path.
 *                    agentd starts argv[0] itself inside the client's
 *                    sandbox, with every env: secret granted to that
 *                    program added to the environment. Reply: one
 *                    asb_broker_rep (status 0: started; else a refusal);
 *                    after a start, a second asb_broker_rep whose
 *                    status is ASB_BR_EXITED and whose len is the exit
 *                    code (128+N for signal N). While waiting the client
 *                    may send struct asb_broker_sig messages to forward a
 *                    signal; closing the connection terminates the program.
 *                    With ASB_BROKER_F_DIVERTED (sent by asb-secret when
 *                    agentd diverted an execve of a granted program to it):
 *                    the program is the one agentd recorded for this very
 *                    process when it diverted the exec, not argv[0]
 *                    (which stays what the caller passed).
 * The value itself never appears anywhere but in a GET reply.
 */
#ifndef ASB_BROKER_H
#define ASB_BROKER_H

#include <linux/types.h>
#include <asb/image.h>

#define ASB_BROKER_SOCKET_DEFAULT	"/run/asb-broker/broker.sock"
#define ASB_BROKER_MAGIC	0x52425341u	/* "ASBR" */
#define ASB_BROKER_VERSION	1
#define ASB_SECRET_VALUE_MAX	(64u << 10)	/* bytes */
#define ASB_BROKER_EXEC_MAX	(128u << 10)	/* argv + env bytes */

enum asb_broker_op {
	ASB_BROKER_GET = 1,
	ASB_BROKER_EXEC,
};

/* Reply status: 0 granted, else why not. Stable numbers: exit codes. */
enum asb_broker_reason {
	ASB_BR_OK = 0,
	ASB_BR_MALFORMED = 1,	/* request not understood */
	ASB_BR_NOT_SANDBOXED,	/* peer is in no sandbox agentd runs */
	ASB_BR_NO_GRANT,	/* the sandbox's policy has no such secret */
	ASB_BR_WRONG_EXE,	/* granted to another program */
	ASB_BR_PEER_GONE,	/* the peer exited (or its pid was reused) */
	ASB_BR_NOT_IN_VAULT,	/* granted, but the vault has no value */
	ASB_BR_LOCKED,		/* vault locked (passphrase not given yet) */
	ASB_BR_VAULT_ERROR,	/* vault unreadable: tampered, wrong key */
	ASB_BR_PRELOAD,		/* peer started with LD_PRELOAD & co */
	ASB_BR_INTERNAL,	/* agentd could not complete the request */
	ASB_BR_NOT_STARTED,	/* get: not in a launch agentd started for
				 * the program (an exec by its path) */
	ASB_BR_BUSY,		/* exec: too many programs of the sandbox
				 * running */
	ASB_BR_EXITED = 100,	/* exec: the program ended; len = exit code */
	ASB_BR_REASON_MAX = ASB_BR_EXITED,
};

struct asb_broker_req {
	__u32 magic;
	__u16 version;
	__u16 op;		/* enum asb_broker_op */
	char name[ASB_SECRET_NAME_MAX];	/* GET: the secret */
	__u32 argc;		/* EXEC */
	__u32 envc;
	__u32 len;		/* payload bytes after this struct */
	__u32 flags;		/* ASB_BROKER_F_*; 0 for GET */
};

#define ASB_BROKER_F_DIVERTED	1u	/* EXEC of a diverted execve */

struct asb_broker_rep {
	__u32 magic;
	__s32 status;		/* enum asb_broker_reason */
	__u32 len;		/* value bytes that follow, or exit code */
	__u32 reserved;
};

struct asb_broker_sig {
	__u32 magic;
	__u32 sig;		/* SIGINT, SIGTERM, SIGHUP, SIGQUIT, ... */
};

#endif /* ASB_BROKER_H */
