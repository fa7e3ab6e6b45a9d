// SPDX-License-Identifier: BSD-3-Clause
/*
 * Backend probing. Nothing is trusted from configuration lists: BPF-LSM is
 * "usable" only if an LSM program really loads and attaches here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "landlock.h"
#include "probe.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef SECURITYFS_MAGIC
#define SECURITYFS_MAGIC 0x73636673
#endif

__attribute__((format(printf, 2, 3)))
static void note(struct asb_probe *p, const char *fmt, ...)
{
	size_t off = strlen(p->why);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why + off, sizeof(p->why) - off, fmt, ap);
	va_end(ap);
	off = strlen(p->why);
	if (off + 2 < sizeof(p->why)) {
		p->why[off] = '\n';
		p->why[off + 1] = 0;
	}
}

static void ensure_mount(const char *dir, const char *type, long magic)
{
	struct statfs sfs;

	if (statfs(dir, &sfs) == 0 && sfs.f_type == magic)
		return;
	mkdir(dir, 0755);
	mount(type, dir, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

static void find_cgroup2(struct asb_probe *p)
{
	static const char *const cands[] = {
		"/sys/fs/cgroup/unified", "/sys/fs/cgroup",
	};
	struct statfs sfs;

	for (size_t i = 0; i < 2; i++) {
		if (statfs(cands[i], &sfs) == 0 &&
		    sfs.f_type == CGROUP2_SUPER_MAGIC) {
			snprintf(p->cgroup_root, sizeof(p->cgroup_root), "%s",
				 cands[i]);
			return;
		}
	}
}

/* Load and attach a no-op BPF-LSM program on file_open. */
static bool try_bpf_lsm(void)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_LSM_MAC);
	int id, fd, link;

	id = libbpf_find_vmlinux_btf_id("file_open", BPF_LSM_MAC);
	if (id < 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_LSM, "asb_probe", "GPL", prog, 2,
			   &opts);
	if (fd < 0)
		return false;
	link = bpf_link_create(fd, 0, BPF_LSM_MAC, NULL);
	close(fd);
	if (link < 0)
		return false;
	close(link);
	return true;
}

static bool file_has(const char *path, const char *word)
{
	char buf[512] = "";
	FILE *f = fopen(path, "re");
	bool found;

	if (!f)
		return false;
	found = fgets(buf, sizeof(buf), f) && strstr(buf, word);
	fclose(f);
	return found;
}

void asb_probe(struct asb_probe *p)
{
	char buf[64];

	memset(p, 0, sizeof(*p));
	ensure_mount("/sys/fs/bpf", "bpf", BPF_FS_MAGIC);
	ensure_mount("/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC);
	ensure_mount("/sys/kernel/security", "securityfs", SECURITYFS_MAGIC);
	libbpf_set_print(NULL);

	p->kmod = access("/sys/module/asb", F_OK) == 0;
	note(p, "asb.ko: %s", p->kmod ? "loaded" : "not loaded");
	p->bpf_lsm = try_bpf_lsm();
	note(p, "BPF-LSM: %s", p->bpf_lsm ? "an LSM program loads and attaches" :
	     "an LSM program does not load or attach here");
	p->landlock_abi = asb_landlock_abi();
	snprintf(buf, sizeof(buf), "%d", p->landlock_abi);
	note(p, "Landlock: ABI %s", p->landlock_abi > 0 ? buf : "none");
	p->seccomp_notify = file_has("/proc/sys/kernel/seccomp/actions_avail",
				     "user_notif");
	note(p, "seccomp user notification: %s",
	     p->seccomp_notify ? "yes" : "no");
	find_cgroup2(p);
	p->cgroup_bpf = p->cgroup_root[0] != 0;
	note(p, "cgroup v2: %s", p->cgroup_root[0] ? p->cgroup_root : "none");

	/*
	 * BPF-LSM when an LSM program really loads and attaches (with asb.ko:
	 * backend 1, asks go to the module), else the portable backend. Both
	 * need cgroup v2 (membership, socket programs) and seccomp (the
	 * dangerous-syscall filter and the launcher's ask path); Landlock is
	 * a second layer under BPF-LSM, the only file layer without it.
	 */
	if (p->bpf_lsm && p->cgroup_bpf && p->seccomp_notify)
		p->backend = p->kmod ? ASB_BACKEND_FULL : ASB_BACKEND_BPF_LSM;
	else if (p->landlock_abi >= 1 && p->cgroup_bpf && p->seccomp_notify)
		p->backend = ASB_BACKEND_PORTABLE;
	note(p, "backend: %s", asb_backend_name(p->backend));
}

const char *asb_backend_name(enum asb_backend b)
{
	switch (b) {
	case ASB_BACKEND_FULL:
		return "kmod+bpf-lsm (bpf-lsm+asb.ko approval gate+cgroup-bpf+seccomp)";
	case ASB_BACKEND_BPF_LSM:
		return "bpf-lsm (bpf-lsm+cgroup-bpf+seccomp, asks via seccomp)";
	case ASB_BACKEND_PORTABLE:
		return "portable (landlock+cgroup-bpf+seccomp)";
	default:
		return "none";
	}
}
