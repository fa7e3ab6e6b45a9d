/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BPF-LSM backend (bpf/lsm.bpf.c): loading, attaching and pinning the
 * programs, per-sandbox file rules resolved to inodes. Functions return 0
 * (or a count) on success and -errno on failure.
 *
 * The programs share the socket filter's maps (membership, socket rules,
 * counters, ring buffer: events arrive through asb_sockfilter_events) and
 * the exec guard's map (approve.exec without asb.ko). The file-rule map and
 * the links are pinned under PIN_DIR/lsm: enforcement outlives agentd, and
 * a restarted agentd reuses the map (its sandboxes keep their rules) and
 * replaces the links with its own, attached before the old ones go.
 */
#ifndef ASB_LSM_LOADER_H
#define ASB_LSM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <asb/lsm.h>
#include "policy.h"

struct asb_lsm;
struct asb_sockfilter;
struct asb_execguard;

/*
 * Load and attach. @eg may be NULL (then approve.exec cannot be approved
 * without asb.ko). @pin_dir NULL: nothing pinned (tests, benchmarks): the
 * programs are detached by asb_lsm_close.
 */
int asb_lsm_open(struct asb_lsm **lsm, struct asb_sockfilter *sf,
		 struct asb_execguard *eg, const char *pin_dir);

/*
 * Resolve the path rules of @sb in @img to inodes and store them for
 * sandbox @sbid, replacing what it had. All or nothing. A rule path that
 * does not exist grants nothing (as on the portable backend). @err gets a
 * message on failure.
 */
int asb_lsm_set_sandbox(struct asb_lsm *lsm, __u32 sbid,
			const struct asb_image *img,
			const struct asb_image_sandbox *sb, char *err,
			size_t errlen);

/* Drop every file rule of @sbid (its cgroups then may open nothing). */
int asb_lsm_remove_sandbox(struct asb_lsm *lsm, __u32 sbid);

/* Entries of asb_fs (all sandboxes). */
int asb_lsm_count(struct asb_lsm *lsm);

/* The kernel's (dev, ino) key of @path as the hooks see it. */
int asb_lsm_resolve(const char *path, __u32 *dev, __u64 *ino, int *is_dir);

/*
 * Whether the programs ask through asb.ko's approval kfunc (backend 1):
 * the module was there when they were loaded. Then the kernel holds every
 * approve.* action, of launched and attached processes alike, and the
 * seccomp ask filter is not needed.
 */
bool asb_lsm_kernel_ask(const struct asb_lsm *lsm);


/* Close; pinned links stay attached. */
void asb_lsm_close(struct asb_lsm *lsm);

#endif
