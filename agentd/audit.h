/* SPDX-License-Identifier: BSD-3-Clause */
/* The structured audit log: one JSON object per line. */
#ifndef ASB_AUDIT_H
#define ASB_AUDIT_H

#include <stdint.h>
#include <sys/types.h>

struct asb_audit_rec {
	uint64_t time_ns;	/* CLOCK_REALTIME */
	const char *sandbox;
	pid_t pid;
	const char *comm;
	const char *exe;	/* NULL: read from /proc/PID/exe */
	const char *action;	/* open, write, exec, connect, bind, socket, ... */
	const char *object;	/* path, address:port, family */
	const char *verdict;	/* allow, deny, ask, ... */
	const char *rule;	/* FILE:LINE, or NULL */
	const char *source;	/* landlock, bpf, seccomp, agentd */
	uint32_t request;	/* approval request id, 0: none */
	const char *by;		/* who decided it: "uid:0", "timeout", ... */
	const char *via;	/* what held the syscall: "asb.ko", "seccomp" */
};

int asb_audit_open(const char *path);
void asb_audit_write(const struct asb_audit_rec *r);
uint64_t asb_audit_errors(void);
/* CLOCK_BOOTTIME ns (BPF's clock) -> CLOCK_REALTIME ns */
uint64_t asb_audit_boot_to_real(uint64_t boot_ns);

#endif
