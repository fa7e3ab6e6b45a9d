/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Process exec and exit in the kernel (bpf/exec.bpf.c). approve.exec's
 * final check: agentd records the file it checked for a thread's exec; the
 * kernel kills the process if it executes another one. And the sandbox a
 * process was in when it exited, for records that arrive after it was
 * reaped. Functions return 0 or -errno.
 *
 * The programs are attached through bpf links held by agentd: they are
 * gone when agentd exits. That is fail closed for new execs (the seccomp
 * listener closes with agentd, so every held exec fails with ENOSYS); only
 * an exec that agentd let go on in the very instant it died goes unchecked.
 */
#ifndef ASB_EXECGUARD_H
#define ASB_EXECGUARD_H

#include <stdbool.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <asb/event.h>

struct asb_image;

/* A device number as the kernel encodes it in struct super_block. */
static inline __u32 asb_kdev(dev_t d)
{
	return (major(d) << 20) | minor(d);
}

struct asb_execguard;

/* The socket filter's asb_member and asb_levels maps (bpf/member.h) and
 * its ring buffer asb_events; with @pin_dir, the links are pinned under
 * @pin_dir/exec: the guard outlives agentd. */
int asb_execguard_open(struct asb_execguard **eg, int member_fd,
		       int levels_fd, int events_fd, const char *pin_dir);
/* Expect @v for the next exec of thread @tid (v->ino 0: nothing). */
int asb_execguard_expect(struct asb_execguard *eg, pid_t tid,
			 const struct asb_exec_val *v);
/* Processes killed so far (since agentd started): another file than the
 * checked one, or an ELF interpreter run as a program. */
int asb_execguard_kills(struct asb_execguard *eg, __u64 *n);

/* Add the ELF interpreters of @img (ASB_RULE_F_INTERP rules) to the set
 * that no sandbox process may run as a program. */
int asb_execguard_add_interps(struct asb_execguard *eg,
			      const struct asb_image *img);

/* What sandbox process @tgid runs (@before: what it was when it made its
 * last exec): 0, or -ENOENT when the kernel did not see it. */
int asb_execguard_exe(struct asb_execguard *eg, pid_t tgid, bool before,
		      struct asb_exe_val *v);

/* The sandbox process @pid was in when it exited lately (-ENOENT: none). */
int asb_execguard_exited(struct asb_execguard *eg, pid_t pid, __u32 *sbid);

/* The fd of asb_exec, shared with the BPF-LSM programs (agentd/lsm.c). */
int asb_execguard_map_fd(struct asb_execguard *eg);

#endif
