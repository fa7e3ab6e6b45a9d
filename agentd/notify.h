/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The seccomp side of human approval (portable backend).
 *
 * `asbctl run` hands agentd the listener of the ask filter it installed
 * (seccomp.h: execve/execveat with approve.exec, connect with
 * approve.connect, write-intent open/openat/creat with approve.write).
 * For each notification agentd reads the target's arguments with
 * process_vm_readv, checks SECCOMP_IOCTL_NOTIF_ID_VALID before trusting them,
 * resolves paths against the target's root, cwd or dirfd, and looks the
 * action up in the sandbox's approve.* rules and runtime rules. What it
 * lets happen is pinned so that a thread rewriting the arguments after
 * the decision cannot swap the action (the kernel holds the final check):
 *  - write: agentd opens the file itself (openat2, RESOLVE_NO_MAGICLINKS,
 *    RESOLVE_IN_ROOT for absolute paths, resolved and opened with the
 *    target's credentials (fscred.h), umask and flags) and injects the fd with SECCOMP_IOCTL_NOTIF_ADDFD and
 *    SECCOMP_ADDFD_FLAG_SEND; this holds for every write-intent open of
 *    the sandbox, asked or not, so no path is reopened by the kernel;
 *    writes outside fs.write/approve.write get EACCES, as Landlock would;
 *  - connect: a one-shot entry {sandbox, thread, address, port} that the
 *    cgroup connect hook compares with the kernel's copy of the address
 *    (sockfilter.h); every connect notification resets the thread's entry;
 *  - exec: the (dev, ino) of the checked program (and for a script, its
 *    interpreter and the filename string) for the exec guard (execguard.h),
 *    which kills a process that executes anything else.
 * Deny: EACCES for exec and write, EPERM for connect.
 *
 * Secrets (docs/secrets.md): in a sandbox with secrets the filter also
 * holds every execve. When the program is one a secret is granted to,
 * agentd diverts the exec to asb-secret: it
 * adds an fd of the asb-secret binary to the process (ADDFD, close-on-
 * exec), rewrites the path string in the process's memory to /dev/fd/N,
 * points the exec guard at asb-secret, records the diversion for the
 * broker and lets the syscall go on. asb-secret then asks the broker to
 * start the recorded program with its env: secrets, as `asb-secret exec`
 * does, in a launch of its own: only there does `asb-secret get` serve
 * the program. A thread that rewrites the path back makes the exec guard kill
 * the process; the agent's memory never holds a value.
 */
#ifndef ASB_NOTIFY_H
#define ASB_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fscred.h"

struct asb_approvals;
struct asb_execguard;
struct asb_sandboxes;
struct asb_notify;

#define ASB_NOTIFY_STATUS_FDS	32	/* /proc/TID/status kept open */

struct asb_notifier {
	struct asb_notify *head;
	struct asb_sandboxes *sbs;
	struct asb_approvals *ap;
	struct asb_execguard *eg;	/* NULL: approve.exec refused */
	int epfd;
	int helper_fd;			/* asb-secret, for diverted execs */
	dev_t helper_dev;
	ino_t helper_ino;
	size_t notif_size, resp_size;
	unsigned int n;
	int status_fd[ASB_NOTIFY_STATUS_FDS];	/* a slot by tid */
	pid_t status_tid[ASB_NOTIFY_STATUS_FDS];
	struct asb_fscred self;		/* agentd's own credentials */
};

int asb_notify_init(struct asb_notifier *nt, struct asb_sandboxes *sbs,
		    struct asb_approvals *ap, struct asb_execguard *eg,
		    int epfd);
/* The asb-secret binary that execs of env: programs are diverted to. */
int asb_notify_set_helper(struct asb_notifier *nt, const char *path);
/*
 * Take listener @fd of sandbox @sbid (child @pid). @own: the launch is one
 * the broker started for that program (asb_broker_launch_exe), whose own
 * execs of it are not diverted again. 0 or -errno + @err.
 */
int asb_notify_add(struct asb_notifier *nt, int fd, uint32_t sbid, pid_t pid,
		   const char *own, char *err, size_t errlen);
/*
 * The target waits while its supervisor works: listener @fd hands over on
 * one CPU, each way (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6; an
 * older kernel refuses it and the usual wakeups stay).
 */
void asb_notify_sync_wake(int fd);
/* epoll: true if @fd was a listener (and was handled). */
bool asb_notify_handle(struct asb_notifier *nt, int fd, uint32_t events);

#endif
