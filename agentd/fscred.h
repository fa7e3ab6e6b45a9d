/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File access as another task. agentd resolves and opens an approve.write
 * path for a sandboxed process (notify.c); the kernel must judge that as
 * it would judge the process's own open, not agentd's (root, every
 * capability). So agentd's calling thread takes on, for the resolution
 * and again for the open, the target's fsuid, fsgid, supplementary groups
 * and effective capabilities (those agentd has too), and then its own
 * again:
 *  - per thread, with raw syscalls: setfsuid/setfsgid, SYS_setgroups
 *    (glibc's setgroups() changes every thread), capset of the effective
 *    set only (the permitted set stays, so agentd can take its own back);
 *  - the kernel drops the file-system capabilities from the effective set
 *    when fsuid leaves 0 and raises them again (from the permitted set)
 *    when it returns: the effective set is set after fsuid, and set again
 *    to agentd's own after fsuid is back;
 *  - a step that fails undoes the steps before it, and the caller opens
 *    nothing (EACCES): never as agentd instead;
 *  - agentd that cannot take its own credentials back stops (abort): what
 *    it would do next as someone else is unknown; the seccomp listeners
 *    close with it and held syscalls fail (docs/approval.md).
 * Functions return 0 or -errno.
 */
#ifndef ASB_FSCRED_H
#define ASB_FSCRED_H

#include <stdint.h>
#include <sys/types.h>

#define ASB_FSCRED_GROUPS	256	/* more: refused, never a subset */

struct asb_fscred {
	uid_t fsuid;
	gid_t fsgid;
	uint64_t eff;			/* effective capabilities */
	uint64_t prm, inh;		/* agentd's own only */
	unsigned int ngroups;
	gid_t groups[ASB_FSCRED_GROUPS];
};

/*
 * The value of field @name of a /proc/PID/status buffer (after "NAME:" and
 * blanks), or "" when there is none.
 */
const char *asb_status_field(const char *status, const char *name);

/*
 * A task's credentials from its /proc/PID/status (Uid, Gid, Groups,
 * CapEff): -EPROTO for a field missing, cut short or malformed, -E2BIG for
 * more than ASB_FSCRED_GROUPS groups.
 */
int asb_fscred_parse(struct asb_fscred *c, const char *status);

/* The calling thread's own. */
int asb_fscred_self(struct asb_fscred *self);

/*
 * The calling thread (whose own credentials are @self) takes on @as for
 * file access; @undo says what to take back. 0, or -EACCES with nothing
 * changed.
 */
int asb_fscred_enter(const struct asb_fscred *self,
		     const struct asb_fscred *as, unsigned int *undo);

/* Back to @self after asb_fscred_enter; aborts if it cannot. */
void asb_fscred_leave(const struct asb_fscred *self, unsigned int undo);

#endif
