/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * seccomp confinement of a sandbox's processes (portable backend).
 *
 * asb_seccomp_install() sets no_new_privs and installs, on the calling
 * thread (single-threaded callers: no TSYNC):
 *  1. the deny filter (logged to audit with SECCOMP_FILTER_FLAG_LOG): kills
 *     the process on a non-x86_64 arch or an x32 syscall; EPERM for module,
 *     kexec, bpf, mount API, swap, reboot, clock, acct, quota, keyring,
 *     perf, userfaultfd, file handles, setns, chroot, host/domain name,
 *     iopl/ioperm, syslog, vhangup, fanotify_init, io_uring (its socket
 *     and open operations are no system calls), clone/unshare with any CLONE_NEW* (unless
 *     ASB_SB_ALLOW_USERNS), ptrace, process_vm_*, kcmp, pidfd_getfd,
 *     process_madvise (unless ASB_SB_ALLOW_PTRACE), personality other than
 *     the harmless ones, ioctl TIOCSTI/TIOCLINUX (terminal injection),
 *     memfd_create without MFD_NOEXEC_SEAL (fileless exec),
 *     landlock_restrict_self with the flags that mute audit logging, and
 *     socket/socketpair of any family but unix, inet, inet6 and netlink,
 *     and of those in @deny_families (bit n: AF n; the cgroup BPF socket
 *     hook sees only inet sockets);
 *  2. unless ASB_SB_ALLOW_USERNS, clone3 -> ENOSYS (not logged: libc falls
 *     back to clone(2), whose flags the deny filter can read);
 *  3. when @notify_fd is not NULL, the ask filter: SECCOMP_RET_USER_NOTIF
 *     for execve, execveat, connect, open, openat, openat2 and creat, with
 *     a new listener returned in *@notify_fd (O_CLOEXEC). Where the deny
 *     filter says EPERM it wins over the notification.
 * Returns 0, or -1 with errno set (nothing is half-installed on failure of
 * the first filter; a failure of a later one leaves the earlier ones).
 */
#ifndef ASB_SECCOMP_H
#define ASB_SECCOMP_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>

int asb_seccomp_install(uint32_t sb_flags, uint64_t deny_families,
			int *notify_fd);

/*
 * The same with an ask filter limited to what can ask (@ask, ASB_ASK_*;
 * 0 is the whole set above):
 *  - ASB_ASK_EXEC: execve, execveat;
 *  - ASB_ASK_CONNECT: connect;
 *  - ASB_ASK_WRITE: open/openat whose flags (a register, read by the
 *    filter) have ASB_ASK_WRITE_FLAGS, creat always; openat2 gets ENOSYS
 *    (its flags are in memory, see seccomp.c).
 */
#define ASB_ASK_EXEC		(1u << 0)
#define ASB_ASK_CONNECT		(1u << 1)
#define ASB_ASK_WRITE		(1u << 2)
#define ASB_ASK_WRITE_FLAGS	(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)

int asb_seccomp_install_ask(uint32_t sb_flags, uint64_t deny_families,
			    uint32_t ask, int *notify_fd);

struct asb_image;
struct asb_image_sandbox;

/*
 * What the ask filter holds for @sb, in every launch of it (asbctl run's
 * and the broker's): its approve.* rules, exec and connect only unless
 * asb.ko asks in the kernel (@kernel_ask); execve when it has secrets.
 */
uint32_t asb_seccomp_ask_mask(const struct asb_image *img,
			      const struct asb_image_sandbox *sb,
			      bool kernel_ask);

#endif /* ASB_SECCOMP_H */
