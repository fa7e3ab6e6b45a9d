/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cgroup BPF socket filter of the portable backend (bpf/sock.bpf.c):
 * loading and pinning, per-sandbox rules, cgroup attachment, events and
 * counters. Every function returns 0 (or a count) on success and -errno on
 * failure.
 */
#ifndef ASB_SOCKFILTER_H
#define ASB_SOCKFILTER_H

#include <linux/types.h>

#include <asb/event.h>
#include "policy.h"

struct asb_sockfilter;

/*
 * Load the programs and maps, or, if @pin_dir (a directory on bpffs, e.g.
 * /sys/fs/bpf/asb) already holds them, reuse the pinned ones so that a
 * restarted agentd keeps the same maps and attachments. A fresh load is
 * pinned there. @pin_dir NULL: no pinning (the attachments still outlive
 * the process; only the maps then become unreachable for updates).
 */
int asb_sockfilter_open(struct asb_sockfilter **sf, const char *pin_dir);

/*
 * Replace the socket rules of sandbox @sbid (<= ASB_SBID_MAX) with those
 * of @sb in @img. The new rules are written to the sandbox's spare rule
 * bank; one map update then switches the sandbox over, and the old bank is
 * emptied. On any error before the switch the old rules stay in force and
 * nothing of the new ones is visible. A rule this backend cannot enforce
 * (e.g. too many port ranges for one prefix, a unix path too long) is an
 * error. Rule indexes reported in events index asb_image_rules(@img).
 */
int asb_sockfilter_set_sandbox(struct asb_sockfilter *sf, __u32 sbid,
			       const struct asb_image *img,
			       const struct asb_image_sandbox *sb);

/*
 * The secret broker's socket path: every sandbox that has secrets may
 * connect to it (an implicit exact net.unix rule, added by set_sandbox).
 */
int asb_sockfilter_set_broker(struct asb_sockfilter *sf, const char *path);

/* Drop the rules and counters of @sbid; its cgroups then deny everything. */
int asb_sockfilter_remove_sandbox(struct asb_sockfilter *sf, __u32 sbid);

/*
 * Register @cgroup_id as sandbox @sbid and attach every program to the
 * cgroup (legacy attach, BPF_F_ALLOW_MULTI): the attachment stays as long
 * as the cgroup exists, whether or not agentd lives.
 */
int asb_sockfilter_attach(struct asb_sockfilter *sf, int cgroup_fd,
			  __u64 cgroup_id, __u32 sbid);

/* Detach the programs from the cgroup and forget its registration. */
int asb_sockfilter_detach(struct asb_sockfilter *sf, int cgroup_fd,
			  __u64 cgroup_id);

/*
 * Consume events, waiting at most @timeout_ms (0: do not wait, -1:
 * forever). @cb is called for each; a negative return stops and is
 * returned. Else returns the number of events consumed.
 */
int asb_sockfilter_events(struct asb_sockfilter *sf,
			  int (*cb)(void *ctx, const struct asb_event *ev),
			  void *ctx, int timeout_ms);

/* An fd that polls readable when events are waiting (for epoll). */
int asb_sockfilter_event_fd(struct asb_sockfilter *sf);

/* Denies counted for @sbid since set_sandbox created it. */
int asb_sockfilter_counters(struct asb_sockfilter *sf, __u32 sbid,
			    __u64 *denies);

/* Events lost because the ring buffer was full. */
int asb_sockfilter_drops(struct asb_sockfilter *sf, __u64 *drops);

/*
 * approve.connect: set (@v) or delete (@v NULL) the one-shot entry of
 * thread @tid of sandbox @sbid (see asb_oneshot in include/asb/event.h).
 */
int asb_sockfilter_oneshot(struct asb_sockfilter *sf, __u32 sbid, __u32 tid,
			   const struct asb_oneshot_val *v);

/* The fd of map @name (e.g. "asb_member"), for programs that share it. */
int asb_sockfilter_map_fd(struct asb_sockfilter *sf, const char *name);
/* Records of sandbox @sbid left out over its audit budget (bpf/audit.h)
 * since the last call: into *@n, and the count starts again. */
int asb_sockfilter_suppressed(struct asb_sockfilter *sf, __u32 sbid,
			      __u64 *n);

/* Remove the pins of @pin_dir (programs stay attached where they are). */
int asb_sockfilter_unpin(const char *pin_dir);

/* Close fds and free; rules and attachments stay in the kernel. */
void asb_sockfilter_close(struct asb_sockfilter *sf);

#endif /* ASB_SOCKFILTER_H */
