// SPDX-License-Identifier: BSD-3-Clause
/*
 * seccomp filters of a sandbox (portable backend), classic BPF by hand.
 *
 * Decisions (see also seccomp.h):
 * - Arch first: anything but AUDIT_ARCH_X86_64 (int 0x80 i386 entry) and
 *   any x32 syscall number kill the process; nr -1 (a syscall skipped by a
 *   tracer, or syscall(-1)) is let through to get ENOSYS.
 * - Arguments are compared on their low 32 bits, as the kernel reads them
 *   (clone flags: lower_32_bits; unshare rejects high bits; personality,
 *   ioctl cmd and landlock flags are 32-bit), so high garbage cannot dodge.
 * - ptrace stays denied unless sys.allow = ptrace. With it, Landlock still
 *   refuses to ptrace (and process_vm_*, kcmp, pidfd_getfd, /proc/PID/mem,
 *   which all go through ptrace_may_access) any process outside the
 *   sandbox's domain or in a less restricted one, on every Landlock ABI,
 *   whatever Yama says (Yama is not in this host's LSM list anyway).
 * - kcmp, pidfd_getfd, process_madvise are ptrace-class: allowed with
 *   ptrace only.
 * - memfd_create must carry MFD_NOEXEC_SEAL: Landlock does not check
 *   execution of memfds (measured on 6.18: execveat(memfd, "",
 *   AT_EMPTY_PATH) of a copied binary runs), so an executable memfd would
 *   be fileless exec around fs.exec. Programs that fall back to shm_open
 *   or tmpfile on failure keep working.
 * - The ask filter is installed last: a filter's EPERM beats USER_NOTIF.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>

#include <asb/image.h>

#include "policy.h"
#include "seccomp.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT	0x40000000
#endif
#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr	467
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2		452
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self	446
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV	(1UL << 5)
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL		0x0008U
#endif
#ifndef TIOCLINUX
#define TIOCLINUX		0x541C
#endif
/* landlock_restrict_self flags that turn audit logging off. */
#define LL_LOG_OFF_FLAGS	((1U << 0) | (1U << 2))

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME		0x00000080
#endif
#define CLONE_NEW_ANY	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
			 CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
			 CLONE_NEWNET | CLONE_NEWTIME)

#define MAX_INSNS	512

struct prog {
	struct sock_filter insn[MAX_INSNS];
	unsigned int n;
	int overflow;
};

#define NR_OFF		offsetof(struct seccomp_data, nr)
#define ARCH_OFF	offsetof(struct seccomp_data, arch)
/* Low 32 bits of argument @i (little endian). */
#define ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i))

#define RET_ERRNO(e)	(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

static void emit(struct prog *p, struct sock_filter f)
{
	if (p->n >= MAX_INSNS) {
		p->overflow = 1;
		return;
	}
	p->insn[p->n++] = f;
}

static void stmt(struct prog *p, __u16 code, __u32 k)
{
	emit(p, (struct sock_filter)BPF_STMT(code, k));
}

static void jump(struct prog *p, __u16 code, __u32 k, __u8 jt, __u8 jf)
{
	emit(p, (struct sock_filter)BPF_JUMP(code, k, jt, jf));
}

/* Arch check; leaves the syscall number in A. */
static void emit_arch(struct prog *p, __u32 bad_arch_action)
{
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARCH_OFF);
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	stmt(p, BPF_RET | BPF_K, bad_arch_action);
	stmt(p, BPF_LD | BPF_W | BPF_ABS, NR_OFF);
}

/* nr == @nr: return @action. A holds nr and keeps it. */
static void emit_nr(struct prog *p, int nr, __u32 action)
{
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, (__u32)nr, 0, 1);
	stmt(p, BPF_RET | BPF_K, action);
}

/* nr == @nr and (arg @i & @mask) != 0: EPERM; nr == @nr otherwise: allow. */
static void emit_arg_bits(struct prog *p, int nr, int i, __u32 mask)
{
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, (__u32)nr, 0, 4);
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i));
	jump(p, BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
	stmt(p, BPF_RET | BPF_K, RET_ERRNO(EPERM));
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

/* nr == @nr: allow if arg @i is one of @vals, else EPERM. */
static void emit_arg_in(struct prog *p, int nr, int i, const __u32 *vals,
			unsigned int nvals)
{
	unsigned int j;

	jump(p, BPF_JMP | BPF_JEQ | BPF_K, (__u32)nr, 0, (__u8)(nvals + 3));
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i));
	for (j = 0; j < nvals; j++)
		jump(p, BPF_JMP | BPF_JEQ | BPF_K, vals[j],
		     (__u8)(nvals - j), 0);
	stmt(p, BPF_RET | BPF_K, RET_ERRNO(EPERM));
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

/* nr == @nr: EPERM if arg @i is one of @vals, else allow. */
static void emit_arg_not_in(struct prog *p, int nr, int i, const __u32 *vals,
			    unsigned int nvals)
{
	unsigned int j;

	jump(p, BPF_JMP | BPF_JEQ | BPF_K, (__u32)nr, 0, (__u8)(nvals + 3));
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i));
	for (j = 0; j < nvals; j++)
		jump(p, BPF_JMP | BPF_JEQ | BPF_K, vals[j],
		     (__u8)(nvals - j), 0);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	stmt(p, BPF_RET | BPF_K, RET_ERRNO(EPERM));
}

static const int deny_always[] = {
	__NR_init_module, __NR_finit_module, __NR_delete_module,
	__NR_create_module, __NR_kexec_load, __NR_kexec_file_load,
	__NR_bpf, __NR_mount, __NR_umount2, __NR_pivot_root, __NR_move_mount,
	__NR_open_tree, __NR_open_tree_attr, __NR_fsopen, __NR_fsmount,
	__NR_fsconfig, __NR_fspick, __NR_mount_setattr, __NR_chroot,
	__NR_swapon, __NR_swapoff, __NR_reboot,
	__NR_settimeofday, __NR_clock_settime, __NR_adjtimex,
	__NR_clock_adjtime, __NR_acct, __NR_quotactl, __NR_quotactl_fd,
	__NR_keyctl, __NR_add_key, __NR_request_key, __NR_perf_event_open,
	__NR_userfaultfd, __NR_open_by_handle_at, __NR_name_to_handle_at,
	__NR_setns, __NR_sethostname, __NR_setdomainname, __NR_iopl,
	__NR_ioperm, __NR_syslog, __NR_vhangup, __NR_fanotify_init,
	__NR_lookup_dcookie, __NR_nfsservctl, __NR_uselib,
	/* io_uring's socket and open operations are no system calls */
	__NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
};

static const int deny_ptrace[] = {
	__NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
	__NR_kcmp, __NR_pidfd_getfd, __NR_process_madvise,
};

/* PER_LINUX, PER_LINUX32, UNAME26 and their mix, and the query. */
static const __u32 personality_ok[] = {
	0x0000, 0x0008, 0x20000, 0x20008, 0xffffffff,
};

static const __u32 ioctl_bad[] = { TIOCSTI, TIOCLINUX };

static const __u32 families_ok[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

static const int ask_nrs[] = {
	__NR_execve, __NR_execveat, __NR_connect, __NR_open, __NR_openat,
	__NR_openat2, __NR_creat,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void build_deny(struct prog *p, uint32_t sb_flags,
		       uint64_t deny_families)
{
	__u32 fams[64];
	unsigned int i, nfams = 0;

	emit_arch(p, SECCOMP_RET_KILL_PROCESS);
	/* x32 numbers: kill; nr -1: let the kernel say ENOSYS. */
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 2, 0);
	jump(p, BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);

	for (i = 0; i < ARRAY_SIZE(deny_always); i++)
		emit_nr(p, deny_always[i], RET_ERRNO(EPERM));
	if (!(sb_flags & ASB_SB_ALLOW_PTRACE))
		for (i = 0; i < ARRAY_SIZE(deny_ptrace); i++)
			emit_nr(p, deny_ptrace[i], RET_ERRNO(EPERM));

	emit_arg_in(p, __NR_personality, 0, personality_ok,
		    ARRAY_SIZE(personality_ok));
	emit_arg_not_in(p, __NR_ioctl, 1, ioctl_bad, ARRAY_SIZE(ioctl_bad));
	emit_arg_bits(p, __NR_landlock_restrict_self, 1, LL_LOG_OFF_FLAGS);
	/* memfd_create without MFD_NOEXEC_SEAL: EPERM. */
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_create, 0, 4);
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
	jump(p, BPF_JMP | BPF_JSET | BPF_K, MFD_NOEXEC_SEAL, 1, 0);
	stmt(p, BPF_RET | BPF_K, RET_ERRNO(EPERM));
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	/*
	 * Socket families: only those the socket rules govern (unix, inet,
	 * inet6) and netlink, less net.deny_families. Every other family that
	 * can carry data off the host (vsock, tipc, rds, smc, bluetooth, can,
	 * packet, xdp, ...) is refused whatever capabilities are left.
	 */
	for (i = 0; i < ARRAY_SIZE(families_ok); i++)
		if (!(deny_families & (1ull << families_ok[i])))
			fams[nfams++] = families_ok[i];
	emit_arg_in(p, __NR_socket, 0, fams, nfams);
	emit_arg_in(p, __NR_socketpair, 0, fams, nfams);
	/*
	 * No setuid or setgid file: the writable subtrees are the host's
	 * too, where a root agent's set-id file would work. The mode of
	 * chmod, creat, mknod and of open with O_CREAT is in a
	 * register; openat2's is in memory, so openat2 is ENOSYS (libc's
	 * open never uses it).
	 */
	emit_arg_bits(p, __NR_chmod, 1, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_fchmod, 1, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_fchmodat, 2, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_fchmodat2, 2, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_creat, 1, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_mknod, 1, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_mknodat, 2, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_open, 2, S_ISUID | S_ISGID);
	emit_arg_bits(p, __NR_openat, 3, S_ISUID | S_ISGID);
	emit_nr(p, __NR_openat2, RET_ERRNO(ENOSYS));
	/* Namespaces: none of any kind, unless sys.allow = userns (inside a
	 * user namespace of its own, the others are its to make). */
	if (!(sb_flags & ASB_SB_ALLOW_USERNS)) {
		emit_arg_bits(p, __NR_clone, 0, CLONE_NEW_ANY);
		emit_arg_bits(p, __NR_unshare, 0, CLONE_NEW_ANY);
	}
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

static void build_clone3(struct prog *p)
{
	emit_arch(p, SECCOMP_RET_ALLOW);	/* the deny filter kills */
	emit_nr(p, __NR_clone3, RET_ERRNO(ENOSYS));
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

/* nr == @nr: notify if arg @i has any of @mask, else allow. */
static void emit_notify_bits(struct prog *p, int nr, int i, __u32 mask)
{
	jump(p, BPF_JMP | BPF_JEQ | BPF_K, (__u32)nr, 0, 4);
	stmt(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(i));
	jump(p, BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

static void build_ask(struct prog *p, uint32_t ask)
{
	unsigned int i;

	emit_arch(p, SECCOMP_RET_ALLOW);	/* the deny filter kills */
	if (!ask) {
		for (i = 0; i < ARRAY_SIZE(ask_nrs); i++)
			emit_nr(p, ask_nrs[i], SECCOMP_RET_USER_NOTIF);
		stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		return;
	}
	if (ask & ASB_ASK_EXEC) {
		emit_nr(p, __NR_execve, SECCOMP_RET_USER_NOTIF);
		emit_nr(p, __NR_execveat, SECCOMP_RET_USER_NOTIF);
	}
	if (ask & ASB_ASK_CONNECT)
		emit_nr(p, __NR_connect, SECCOMP_RET_USER_NOTIF);
	if (ask & ASB_ASK_WRITE) {
		/* flags are a register: what is checked is what runs */
		emit_notify_bits(p, __NR_open, 1, ASB_ASK_WRITE_FLAGS);
		emit_notify_bits(p, __NR_openat, 2, ASB_ASK_WRITE_FLAGS);
		emit_nr(p, __NR_creat, SECCOMP_RET_USER_NOTIF);
		/*
		 * openat2's flags are in user memory: a thread could turn a
		 * read-only open let through into a write after the check.
		 * ENOSYS makes callers fall back to openat (glibc's open()
		 * never uses openat2).
		 */
		emit_nr(p, __NR_openat2, RET_ERRNO(ENOSYS));
	}
	stmt(p, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

static int load(struct prog *p, unsigned long flags)
{
	struct sock_fprog fprog = {
		.len = (unsigned short)p->n,
		.filter = p->insn,
	};

	if (p->overflow) {
		errno = E2BIG;
		return -1;
	}
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags,
			    &fprog);
}

int asb_seccomp_install(uint32_t sb_flags, uint64_t deny_families,
			int *notify_fd)
{
	return asb_seccomp_install_ask(sb_flags, deny_families, 0, notify_fd);
}

int asb_seccomp_install_ask(uint32_t sb_flags, uint64_t deny_families,
			    uint32_t ask, int *notify_fd)
{
	static struct prog p;	/* 4 KiB: not on a small child stack */
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;

	memset(&p, 0, sizeof(p));
	build_deny(&p, sb_flags, deny_families);
	if (load(&p, SECCOMP_FILTER_FLAG_LOG) < 0)
		return -1;

	if (!(sb_flags & ASB_SB_ALLOW_USERNS)) {
		memset(&p, 0, sizeof(p));
		build_clone3(&p);
		if (load(&p, 0) < 0)
			return -1;
	}

	if (!notify_fd)
		return 0;
	memset(&p, 0, sizeof(p));
	build_ask(&p, ask);
	fd = load(&p, SECCOMP_FILTER_FLAG_NEW_LISTENER |
		      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
	if (fd < 0 && errno == EINVAL)	/* before 5.19 */
		fd = load(&p, SECCOMP_FILTER_FLAG_NEW_LISTENER);
	if (fd < 0)
		return -1;
	*notify_fd = fd;
	return 0;
}

/*
 * The syscalls agentd holds for @sb: those of its approve.* rules, exec and
 * connect only unless asb.ko asks for them in the kernel (@kernel_ask);
 * open for writing always, since the sandbox's own view of approve.write
 * is read-only and agentd opens what was approved (docs/approval.md); and
 * execve when the sandbox has secrets: agentd diverts the execs of their
 * programs (notify.h).
 */
uint32_t asb_seccomp_ask_mask(const struct asb_image *img,
			      const struct asb_image_sandbox *sb, bool kernel_ask)
{
	uint32_t m = 0;

	if (sb->n_secrets)
		m |= ASB_ASK_EXEC;
	for (uint32_t i = 0; i < sb->n_rules; i++) {
		switch (asb_image_rules(img)[sb->first_rule + i].kind) {
		case ASB_RULE_ASK_EXEC:
			m |= kernel_ask ? 0 : ASB_ASK_EXEC;
			break;
		case ASB_RULE_ASK_CONNECT:
			m |= kernel_ask ? 0 : ASB_ASK_CONNECT;
			break;
		case ASB_RULE_ASK_WRITE:
			m |= ASB_ASK_WRITE;
			break;
		}
	}
	return m;
}
