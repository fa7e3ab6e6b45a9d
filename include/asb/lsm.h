/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * asb BPF-LSM backend (bpf/lsm.bpf.c, agentd/lsm.c): the file-rule map
 * layout, shared by the BPF programs and agentd. One definition each.
 *
 * Path rules are bound to inodes, as Landlock binds them: at sandbox
 * creation agentd resolves every fs.* / approve.* rule path (following
 * symlinks) to the (dev, ino) of the directory or file it names, as the
 * kernel sees it, and stores {sandbox, dev, ino} -> rights. A hook walks
 * from the object's dentry up through d_parent, and at a mount's root on
 * to the mount point in the parent mount (struct mount: mnt_parent,
 * mnt_mountpoint), until the root of the mount tree; the access is granted
 * if the union of the rights found on the way holds every right it needs.
 * Chroot and the process's mount namespace do not stop the walk; names do
 * not matter, so symlinks, renames and bind mounts cannot reach around it.
 *
 *   asb_fs  hash  struct asb_fs_key -> struct asb_fs_val   (pinned)
 *
 * Membership (cgroup -> sandbox id), the sandbox's socket configuration,
 * the socket rule tries, the deny counters and the ring buffer are the
 * socket filter's maps (include/asb/event.h), shared by fd.
 */
#ifndef ASB_LSM_H
#define ASB_LSM_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* asb_fs_val.rights */
#define ASB_FS_READ		(1u << 0)	/* open for reading, list */
#define ASB_FS_WRITE		(1u << 1)	/* write, create, remove, ... */
#define ASB_FS_EXEC		(1u << 2)	/* execute */
#define ASB_FS_ASK_EXEC		(1u << 3)	/* execute after approval */
#define ASB_FS_ASK_WRITE	(1u << 4)	/* write after approval */
#define ASB_FS_RIGHTS		0x1fu

/* Levels walked at most (dentries plus mount crossings): deeper is denied. */
#define ASB_FS_WALK_MAX		128

struct asb_fs_key {
	__u32 sandbox;
	__u32 dev;		/* kernel encoding: MAJOR << 20 | MINOR */
	__u64 ino;
};

struct asb_fs_val {
	__u32 rights;		/* ASB_FS_* */
	__u32 rule;		/* image rule index of the first grant here */
};

/*
 * File events in struct asb_event: action ASB_ACT_FILE_*, path the file's
 * full path where the hook can have it (open, truncate), else its last
 * component; addr holds ino (8 bytes, host order) then dev (4 bytes).
 */

/*
 * The approval gate of asb.ko (backend 1): a sleepable kfunc that the
 * BPF-LSM programs call for an *ask* verdict. It sends the request to
 * agentd and sleeps (killable, timeout, default deny). Returns 0 to allow,
 * a negative errno to deny. Declared __weak by the programs: without the
 * module the call is skipped and the ask is a deny with an audit record.
 */
#define ASB_ASK_KFUNC		"bpf_asb_ask"

struct asb_ask_req {
	__u32 sandbox;
	__u32 kind;		/* ASB_RULE_ASK_* of include/asb/image.h */
	__u32 rule;		/* image rule index */
	__u32 reserved;
	__u64 ino;
	__u32 dev;
	__u32 port;		/* ask.connect */
	__u8 addr[16];
};

#endif /* ASB_LSM_H */
