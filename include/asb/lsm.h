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
 *   asb_fs      hash   struct asb_fs_key -> struct asb_fs_val   (pinned)
 *   asb_fs_gen  array  0 -> __u64, bumped by agentd after each change
 *               to asb_fs: walks remembered before it no longer count
 *               (pinned)
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

/*
 * approve.* rules are also bound to their path: an inode binding alone
 * would miss a file created after the sandbox started, or one deleted and
 * made anew, and an ask that goes missing is an allow. Such an entry has
 * dev ASB_FS_DEV_PATH and ino the FNV-1a 64 hash of the rule's real path
 * (symlinks resolved; for a path that does not exist yet, its parent's
 * real path and the last component). With asb.ko asking, file_open and
 * bprm_check hash every prefix of bpf_d_path() of the object.
 */
#define ASB_FS_DEV_PATH		0xffffffffu
/*
 * A rule on a procfs directory is entered a second time with this dev: a
 * sandbox mounts a /proc of its own PID namespace (another superblock,
 * the same inode numbers for /proc itself), which the walk matches by it.
 */
#define ASB_FS_DEV_PROC		0xfffffffeu

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
 * Asks (approve.exec, approve.write, approve.connect) go to asb.ko's
 * sleepable kfuncs (include/asb/gate.h) when the module was loaded before
 * the programs and has both: bpf_asb_gate_ask, and for exec
 * bpf_asb_gate_ask_exec, which adds the argv and cwd. A module without the
 * second is treated as absent. The kernel's own wait outlasts agentd's
 * approve.timeout by ASB_ASK_SLACK_MS, so agentd's approve.default decides
 * a timeout; without agentd the module denies.
 */
#define ASB_ASK_KFUNC		"bpf_asb_gate_ask"
#define ASB_ASK_EXEC_KFUNC	"bpf_asb_gate_ask_exec"
#define ASB_ASK_SLACK_MS	5000

#endif /* ASB_LSM_H */
