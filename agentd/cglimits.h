/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A sandbox's resource limits (limits.pids, limits.memory, limits.cpu), by
 * the cgroup controllers pids, memory and cpu.
 *
 * A controller the cgroup v2 root offers is enabled down to the sandboxes'
 * own cgroups (<v2>/asb/NAME-ID) and limits there. One that is bound to a
 * v1 hierarchy instead (the hybrid layout) limits in a cgroup of the same
 * name in that hierarchy (<v1 mount>/asb/NAME-ID), which every process of
 * the sandbox joins before it joins the v2 one: the launcher for what it
 * starts, agentd for what `asbctl attach` moves in. Children inherit both.
 * A limit that no controller can hold fails the sandbox: it never runs
 * without what its policy says.
 *
 * The cpu controller is enabled on v2 even without limits.cpu: sandboxes
 * then compete for the CPU as groups, however many threads they spin.
 */
#ifndef ASB_CGLIMITS_H
#define ASB_CGLIMITS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy.h"

enum { ASB_CTRL_PIDS, ASB_CTRL_MEMORY, ASB_CTRL_CPU, ASB_CTRL_N };

struct asb_limits {
	bool v2[ASB_CTRL_N];		/* enabled on the v2 asb cgroup */
	char v1[ASB_CTRL_N][256];	/* else <v1 mount>/asb, or "" */
};

/*
 * Find each controller, enable the v2 ones in the v2 root and @v2_asb
 * (the asb cgroup under it), make the v1 asb cgroups. Never fails: what is
 * missing is missing (asb_limits_print says what).
 */
void asb_limits_init(struct asb_limits *l, const char *v2_asb);

/*
 * Apply @sb's limits to sandbox cgroup @cg (a directory in @v2_asb, made
 * and still empty): 0, or -errno with "limits.X: why" in @err (the v1
 * cgroups made so far are removed).
 */
int asb_limits_apply(const struct asb_limits *l, const char *cg,
		     const struct asb_image_sandbox *sb, char *err,
		     size_t errlen);

/* Remove the v1 cgroups of sandbox cgroup @cg (once it is empty). */
void asb_limits_remove(const struct asb_limits *l, const char *cg);

/*
 * The v1 cgroups of sandbox cgroup @cg that exist, opened (O_DIRECTORY),
 * into @fd (-1 where none): what a process joins beside @cg. Returns how
 * many, or -errno. Needs no asb_limits: the launcher calls it.
 */
int asb_limits_open_v1(const char *cg, int fd[ASB_CTRL_N]);

/* Move @pid into the v1 cgroups of @cg: 0 or -errno. */
int asb_limits_join_v1(const char *cg, pid_t pid);

/* "limits: pids v2, memory v1, cpu none" */
void asb_limits_print(const struct asb_limits *l, FILE *out);

#endif /* ASB_CGLIMITS_H */
