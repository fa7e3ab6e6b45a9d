/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Landlock confinement of a sandbox's processes (portable backend).
 *
 * Path rules of the sandbox become one Landlock ruleset:
 *   fs.read                  read files, list directories
 *   fs.exec, approve.exec    execute and read
 *   fs.write, approve.write  read, write, create, remove, rename, link,
 *                            truncate, device ioctl (never mknod of char or
 *                            block devices: see landlock.c)
 * Every fs access right the running kernel knows is handled, so anything
 * not granted is denied. With ABI >= 6 the domain is also scoped: it can
 * neither signal nor reach the abstract unix sockets of processes outside.
 * With ABI >= 7 denials are logged to the audit subsystem, including after
 * execve. TCP port rules are not used (see landlock.c).
 */
#ifndef ASB_LANDLOCK_H
#define ASB_LANDLOCK_H

#include <stddef.h>

#include "policy.h"

/* The Landlock ABI version of the running kernel, or -1 (errno set). */
int asb_landlock_abi(void);

/*
 * Build the ruleset of sandbox @sb in @img without enforcing it. Returns
 * a ruleset fd (O_CLOEXEC) and the number of degradations (things the
 * kernel cannot enforce, and policy paths absent on this host) in
 * *@ndegraded; or -1 with errno set. @report (may be NULL) receives one
 * line per degradation and a summary line, always NUL-terminated.
 */
int asb_landlock_prepare(const struct asb_image *img,
			 const struct asb_image_sandbox *sb, char *report,
			 size_t len, unsigned int *ndegraded);

/*
 * Enforce a prepared ruleset on the calling thread (and so on everything
 * it later forks and execs): sets no_new_privs, then landlock_restrict_self
 * with audit logging of denials across execve when the ABI has it.
 * Does not close @ruleset_fd. Returns 0 or -1 with errno set.
 */
int asb_landlock_enforce(int ruleset_fd);

/*
 * Add @sb's rules on /proc and below to @ruleset_fd again, once the
 * sandbox's own /proc is mounted (the first ones name the host's): in the
 * launched child, before asb_landlock_enforce. 0 or -1 with errno set.
 */
int asb_landlock_add_proc(int ruleset_fd, const struct asb_image *img,
			  const struct asb_image_sandbox *sb);

/* A ruleset that handles no access and only scopes signals and abstract
 * unix sockets (ABI 6), for sandboxes whose files BPF-LSM decides: its fd,
 * or -1 where Landlock cannot scope. */
int asb_landlock_prepare_scope(void);

/*
 * asb_landlock_prepare + asb_landlock_enforce on the calling thread.
 * Returns the number of degradations (0: everything the policy says is
 * enforced), or -1 with errno set and the reason in @report.
 */
int asb_landlock_apply(const struct asb_image *img,
		       const struct asb_image_sandbox *sb, char *report,
		       size_t len);

#endif /* ASB_LANDLOCK_H */
