// SPDX-License-Identifier: BSD-3-Clause
/*
 * Landlock confinement of a sandbox (portable backend), by raw syscalls.
 *
 * Decisions:
 * - Every fs right of the running ABI is handled; a policy path rule adds
 *   rights beneath the inode it names (symlinks in the policy path are
 *   followed: Landlock rules bind inodes, not names, so /bin -> usr/bin
 *   grants /usr/bin). A rule naming a non-directory only gets file rights
 *   (Landlock refuses directory rights there with EINVAL).
 * - fs.write never grants MAKE_CHAR/MAKE_BLOCK: a privileged agent could
 *   otherwise mknod a node for a disk and read it raw, around every path
 *   rule. It grants IOCTL_DEV, as writing to a device is already allowed.
 * - approve.exec / approve.write paths are granted here; the seccomp-notify
 *   ask mechanism holds the syscall before it reaches Landlock.
 * - No Landlock TCP rules: socket rules are enforced by cgroup BPF with
 *   address and port; Landlock could only add a port-only layer, which
 *   cannot express address rules, the ask verdict on connect, UDP or port
 *   ranges (a range would need one rule per port). Not handling the net
 *   rights leaves sockets to the cgroup programs.
 * - Scoping (ABI 6): abstract unix sockets and signals, so the sandbox can
 *   neither signal nor reach abstract sockets of processes outside it.
 *   ptrace of processes outside the domain is refused by Landlock itself
 *   on every ABI.
 * - Audit (ABI 7): by default Landlock logs denials only until the next
 *   execve (LOG_SAME_EXEC on, LOG_NEW_EXEC off); the agent is what runs
 *   after our execve, so LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON is set.
 *   Records are emitted only while audit is enabled (see landlock_audit.c).
 * - What an older ABI cannot enforce is said in the report, line by line;
 *   no Landlock at all is an error (EOPNOTSUPP): fail closed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

#include "landlock.h"

/* The system headers may be older than the kernel. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset	444
#define __NR_landlock_add_rule		445
#define __NR_landlock_restrict_self	446
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION	(1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL			(1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF	(1U << 0)
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON		(1U << 1)
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF	(1U << 2)
#endif

/* The ruleset attribute of ABI 6; older kernels accept it zero-extended. */
struct asb_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct asb_ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_RULE_PATH_BENEATH	1

#define LL_FS_V1 (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
		  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
		  LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		  LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
		  LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
		  LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
		  LANDLOCK_ACCESS_FS_MAKE_SYM)

/* Rights that apply to a non-directory. */
#define LL_FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
		    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
		    LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define LL_READ  (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_EXEC  (LL_READ | LANDLOCK_ACCESS_FS_EXECUTE)
#define LL_WRITE (LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | \
		  LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		  LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
		  LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
		  LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | \
		  LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

struct report {
	char *buf;
	size_t len;
	size_t used;
};

__attribute__((format(printf, 2, 3)))
static void report_add(struct report *rp, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!rp->buf || rp->len == 0 || rp->used >= rp->len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(rp->buf + rp->used, rp->len - rp->used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	rp->used += (size_t)n;
	if (rp->used >= rp->len)
		rp->used = rp->len - 1;
}

int asb_landlock_abi(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0)
		return -1;
	return (int)abi;
}

static uint64_t handled_fs(int abi)
{
	uint64_t fs = LL_FS_V1;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

static uint64_t rule_access(uint16_t kind)
{
	switch (kind) {
	case ASB_RULE_FS_READ:
		return LL_READ;
	case ASB_RULE_FS_EXEC:
	case ASB_RULE_ASK_EXEC:
		return LL_EXEC;
	case ASB_RULE_FS_WRITE:
		return LL_WRITE;
	case ASB_RULE_ASK_WRITE:
		return LL_READ;	/* agentd opens what is approved */
	default:
		return 0;	/* network rules: cgroup BPF */
	}
}

static void report_abi(struct report *rp, int abi, unsigned int *ndeg)
{
	if (abi < 2)
		report_add(rp, "landlock: ABI %d has no REFER: renaming or linking across directories is always denied\n",
			   abi);
	if (abi < 3) {
		report_add(rp, "landlock: ABI %d cannot restrict truncate(2): files that are only readable can be truncated\n",
			   abi);
		(*ndeg)++;
	}
	if (abi < 5) {
		report_add(rp, "landlock: ABI %d cannot restrict ioctl(2) on devices\n",
			   abi);
		(*ndeg)++;
	}
	if (abi < 6) {
		report_add(rp, "landlock: ABI %d cannot scope signals and abstract unix sockets: the sandbox can signal and connect to processes outside it\n",
			   abi);
		(*ndeg)++;
	}
	if (abi < 7) {
		report_add(rp, "landlock: ABI %d cannot log denials to audit\n",
			   abi);
		(*ndeg)++;
	}
}

static int add_path_rule(int ruleset_fd, const char *path, uint64_t access,
			 uint64_t handled, struct report *rp)
{
	struct asb_ll_path_beneath_attr pb = { 0 };
	struct stat st;
	int fd, err;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES ||
		    errno == ELOOP) {
			report_add(rp, "landlock: %s: %s: skipped, grants nothing\n",
				   path, strerror(errno));
			return 0;
		}
		err = errno;
		report_add(rp, "landlock: %s: %s\n", path, strerror(err));
		errno = err;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		report_add(rp, "landlock: %s: %s\n", path, strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	access &= handled;
	if (!S_ISDIR(st.st_mode))
		access &= LL_FS_FILE;
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (access && syscall(__NR_landlock_add_rule, ruleset_fd,
			      LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
		err = errno;
		report_add(rp, "landlock: %s: add rule: %s\n", path,
			   strerror(err));
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

int asb_landlock_prepare(const struct asb_image *img,
			 const struct asb_image_sandbox *sb, char *report,
			 size_t len, unsigned int *ndegraded)
{
	struct report rp = { .buf = report, .len = len };
	struct asb_ll_ruleset_attr attr = { 0 };
	const struct asb_image_rule *rules;
	unsigned int ndeg = 0, nrules = 0;
	int abi, fd, err;
	uint32_t i;

	if (report && len)
		report[0] = '\0';
	if (!img || !img->hdr || !sb) {
		errno = EINVAL;
		return -1;
	}
	abi = asb_landlock_abi();
	if (abi < 1) {
		err = errno ? errno : EOPNOTSUPP;
		report_add(&rp, "landlock: not available: %s\n", strerror(err));
		errno = EOPNOTSUPP;
		return -1;
	}
	attr.handled_access_fs = handled_fs(abi);
	if (abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
			      LANDLOCK_SCOPE_SIGNAL;
	report_abi(&rp, abi, &ndeg);

	fd = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		err = errno;
		report_add(&rp, "landlock: create ruleset: %s\n", strerror(err));
		errno = err;
		return -1;
	}

	rules = asb_image_rules(img);
	for (i = 0; i < sb->n_rules; i++) {
		const struct asb_image_rule *r = &rules[sb->first_rule + i];
		uint64_t access = rule_access(r->kind);
		const char *path;

		if (!access)
			continue;
		path = asb_image_str(img, r->path);
		if (!path || path[0] != '/') {
			report_add(&rp, "landlock: rule %u of sandbox %.*s has no absolute path\n",
				   i, ASB_NAME_MAX, sb->name);
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (add_path_rule(fd, path, access, attr.handled_access_fs,
				  &rp) < 0) {
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		nrules++;
	}
	report_add(&rp, "landlock: ABI %d, %u path rules, %u not enforceable\n",
		   abi, nrules, ndeg);
	if (ndegraded)
		*ndegraded = ndeg;
	return fd;
}

int asb_landlock_add_proc(int ruleset_fd, const struct asb_image *img,
			  const struct asb_image_sandbox *sb)
{
	const struct asb_image_rule *r = asb_image_rules(img) + sb->first_rule;
	struct report rp = { 0 };
	uint64_t handled = handled_fs(asb_landlock_abi());

	for (uint32_t i = 0; i < sb->n_rules; i++) {
		const char *path = asb_image_str(img, r[i].path);
		uint64_t access = rule_access(r[i].kind);

		if (!access || !path || strncmp(path, "/proc", 5) ||
		    (path[5] && path[5] != '/'))
			continue;
		if (add_path_rule(ruleset_fd, path, access, handled, &rp) < 0)
			return -1;
	}
	return 0;
}

int asb_landlock_prepare_scope(void)
{
	struct asb_ll_ruleset_attr attr = {
		.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
			  LANDLOCK_SCOPE_SIGNAL,
	};

	if (asb_landlock_abi() < 6)
		return -1;
	return (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr),
			    0);
}

int asb_landlock_enforce(int ruleset_fd)
{
	unsigned int flags = 0;
	int abi = asb_landlock_abi();

	if (abi < 1) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (abi >= 7)
		flags |= LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	if (syscall(__NR_landlock_restrict_self, ruleset_fd, flags) < 0)
		return -1;
	return 0;
}

int asb_landlock_apply(const struct asb_image *img,
		       const struct asb_image_sandbox *sb, char *report,
		       size_t len)
{
	unsigned int ndeg = 0;
	int fd, err;

	fd = asb_landlock_prepare(img, sb, report, len, &ndeg);
	if (fd < 0)
		return -1;
	if (asb_landlock_enforce(fd) < 0) {
		err = errno;
		if (report && len) {
			size_t u = strnlen(report, len - 1);

			snprintf(report + u, len - u,
				 "landlock: restrict_self: %s\n",
				 strerror(err));
		}
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return (int)ndeg;
}
