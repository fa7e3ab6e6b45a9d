/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Landlock denial records from the kernel audit subsystem (NETLINK_AUDIT).
 *
 * The reader joins the read-only multicast group AUDIT_NLGRP_READLOG
 * (CAP_AUDIT_READ) instead of registering as the audit daemon, so it
 * coexists with auditd. Landlock emits records only while audit is
 * enabled: asb_ll_audit_open(enable=true) turns it on (AUDIT_SET
 * enabled=1, CAP_AUDIT_CONTROL; host-wide: without auditd the kernel also
 * prints the records to the kernel log, rate-limited).
 *
 * Records of one event (same serial) are merged into one asb_ll_denial:
 * AUDIT_LANDLOCK_ACCESS (1423) gives domain, blockers and path or name,
 * AUDIT_SYSCALL (1300) gives the denied process's pid and comm, and
 * AUDIT_LANDLOCK_DOMAIN (1424, with the first denial of a domain) the pid
 * of the process that created the domain.
 */
#ifndef ASB_LANDLOCK_AUDIT_H
#define ASB_LANDLOCK_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef AUDIT_LANDLOCK_ACCESS
#define AUDIT_LANDLOCK_ACCESS	1423
#define AUDIT_LANDLOCK_DOMAIN	1424
#endif

struct asb_ll_denial {
	uint64_t serial;	/* audit event serial */
	pid_t pid;		/* denied process, 0 if no record said */
	pid_t domain_pid;	/* creator, first denial of a domain only */
	char domain[24];	/* Landlock domain id, hex */
	char blockers[128];	/* e.g. "fs.read_file" or "scope.signal" */
	char object[1024];	/* path=, else name=, else opid=..., or "" */
	char comm[32];
};

struct asb_ll_audit;

/* NULL with errno set and a reason in @why when audit is unavailable. */
struct asb_ll_audit *asb_ll_audit_open(bool enable, char *why, size_t len);

/* The socket, for poll(2). */
int asb_ll_audit_fd(const struct asb_ll_audit *a);

/*
 * Wait up to @timeout_ms (-1: forever) for the next Landlock denial.
 * 1: *@d filled; 0: timeout; -1: error (errno).
 */
int asb_ll_audit_next(struct asb_ll_audit *a, struct asb_ll_denial *d,
		      int timeout_ms);

void asb_ll_audit_close(struct asb_ll_audit *a);

#endif /* ASB_LANDLOCK_AUDIT_H */
