/* SPDX-License-Identifier: BSD-3-Clause */
/* What the host can enforce, and which backend agentd uses. */
#ifndef ASB_PROBE_H
#define ASB_PROBE_H

#include <stdbool.h>

enum asb_backend {
	ASB_BACKEND_NONE = 0,	/* cannot confine: agentd refuses to run */
	ASB_BACKEND_FULL,	/* kmod + BPF-LSM */
	ASB_BACKEND_BPF_LSM,	/* BPF-LSM without the module */
	ASB_BACKEND_PORTABLE,	/* Landlock + cgroup BPF + seccomp */
};

struct asb_probe {
	enum asb_backend backend;
	bool kmod;		/* asb.ko loaded */
	bool bpf_lsm;		/* an LSM program loaded and attached */
	int landlock_abi;	/* 0: none */
	bool seccomp_notify;
	bool cgroup_bpf;
	char cgroup_root[128];	/* cgroup v2 mount */
	char why[512];		/* one line per finding */
};

/* Mount bpffs, tracefs and securityfs if absent; probe; pick a backend. */
void asb_probe(struct asb_probe *p);
const char *asb_backend_name(enum asb_backend b);

#endif
