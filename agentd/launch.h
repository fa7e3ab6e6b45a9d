/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Launch a program confined as a sandbox (every backend).
 *
 * The parent builds the Landlock ruleset (so policy errors are reported
 * before anything runs; under BPF-LSM one that only scopes signals and
 * abstract unix sockets), then clones a child into new PID and mount
 * namespaces (a sandbox sees no process outside it). The child, PID 1
 * there, in this order:
 *   1. asks for SIGKILL when the launcher dies (PR_SET_PDEATHSIG; the agent
 *      is never left running unsupervised),
 *   2. makes its mounts: / read-only but the fs.write and approve.write
 *      subtrees, /proc of its PID namespace, @hide covered by /dev/null,
 *   3. joins the sandbox cgroup (writes its pid to cgroup.procs), after
 *      the v1 cgroups that hold its limits on a hybrid host,
 *   4. marks every fd above 2 close-on-exec (nothing from the launcher
 *      leaks into the sandbox; the status pipe closes at exec),
 *   5. drops every capability but sys.caps from its bounding, ambient,
 *      inheritable, permitted and effective sets (switching to @uid/@gid
 *      first when @set_ids),
 *   6. enforces Landlock, installs the seccomp filters and, when asked
 *      for, passes the notify listener to the parent (SCM_RIGHTS) and
 *      closes its own copy,
 *   7. forks the program, which restores the caller's signal mask and
 *      execvp()s argv[0] (execvpe with @envp), and stays as its init:
 *      forwards the launcher's signals, reaps, exits with its status.
 * Without a sandbox (@sb NULL), 2, 5 and 7 are skipped and the child
 * execs itself. The program stays in the caller's session and process
 * group, like env(1): the terminal and its signals reach it directly.
 * Any failure in the child is sent to the parent as (stage, errno) through
 * a close-on-exec pipe.
 */
#ifndef ASB_LAUNCH_H
#define ASB_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

/* Exit statuses the way a shell gives them. */
#define ASB_LAUNCH_EXIT_SETUP		125	/* the launcher failed */
#define ASB_LAUNCH_EXIT_NOEXEC		126	/* found, not executable */
#define ASB_LAUNCH_EXIT_NOTFOUND	127

struct asb_launch_opts {
	char *const *argv;		/* argv[0] is looked up in PATH */
	char *const *envp;		/* NULL: the caller's environ */
	int cgroup_fd;			/* cgroup directory to join, or -1 */
	const char *cgroup_path;	/* its path (opened when cgroup_fd < 0;
					 * its name finds the v1 cgroups of
					 * limits.*, cglimits.h); NULL: none */
	bool kernel_fs;			/* the BPF-LSM backend enforces the
					 * file rules: no Landlock (img and sb
					 * still give seccomp and asks) */
	const struct asb_image *img;	/* Landlock rules: both, or */
	const struct asb_image_sandbox *sb;	/* both NULL (no Landlock) */
	uint32_t sb_flags;		/* ASB_SB_*, for seccomp */
	/*
	 * If set, the ask filter is installed and this is called in the
	 * parent with its listener before the child execs; it owns the fd
	 * and must answer notifications (the child's execve is the first).
	 * Returning -1 kills the child and fails the launch.
	 */
	int (*notify_cb)(int notify_fd, pid_t child, void *arg);
	void *notify_arg;
	uint32_t ask;			/* ASB_ASK_* of seccomp.h; 0: all */
	char *report;			/* may be NULL: Landlock report, then */
	size_t report_len;		/* what failed, one line each */
	const char *const *hide;	/* NULL-ended: files to cover with
					 * /dev/null (agentd's control socket) */
	bool set_ids;			/* run as uid/gid/groups (the
					 * broker's launch, whose streams,
					 * a sandbox's, are not reopened): */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
};

/*
 * Start the program, forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2 and SIGWINCH to it (except the ones the terminal already sent to
 * the whole foreground group, si_code SI_KERNEL) and wait for it. A
 * sandbox's standard streams that are files of the caller's reach it as
 * pipes, copied until it ends.
 * 0: *@status is its exit code, or 128 + the signal that killed it.
 * -1 with errno set: nothing runs (the child, if any, is reaped);
 * *@status (if not NULL) is 127 when exec said ENOENT, 126 for another
 * exec error, 125 when the setup failed. Uses process-wide signal
 * handlers: one asb_launch at a time per process.
 */
int asb_launch(const struct asb_launch_opts *o, int *status);

/* One fd over a unix socket (SCM_RIGHTS, one byte): 0 or -1. */
int asb_send_fd(int sock, int fd);
/* The fd (close-on-exec), or -1 with errno (0: the peer closed without
 * sending one). */
int asb_recv_fd(int sock);

/* A wait status as a shell exit code. */
int asb_launch_exit_code(int wstatus);

#endif /* ASB_LAUNCH_H */
