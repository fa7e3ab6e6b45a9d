// SPDX-License-Identifier: BSD-3-Clause
/* Loader of bpf/lsm.bpf.c, the BPF-LSM backend. See lsm.h, docs/bpf-lsm.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "execguard.h"
#include "lsm.h"
#include "sockfilter.h"
#include "lsm.skel.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

#define MAX_LINKS	32

/*
 * approve.connect through asb.ko takes two programs on socket_connect,
 * which every connect of every task on the host passes: they are loaded
 * only with the module, and attached only while a sandbox has such a
 * rule (until then the cgroup connect program refuses those addresses).
 * In attach order: a trampoline runs the newest link first, and
 * asb_socket_connect_ask must see asb_socket_connect's work.
 */
static const char *const connect_pair[] = {
	"asb_socket_connect_ask", "asb_socket_connect",
};
#define N_PAIR	(sizeof(connect_pair) / sizeof(connect_pair[0]))

/*
 * A restarted agentd of the same build adopts the programs an earlier one
 * attached (their links pinned under PIN_DIR/lsm) instead of loading them
 * again: the verifier's pass over every program costs seconds on a slow
 * machine. "Same" is the digest asb_build holds: the object's bytes, its
 * read-only settings, which programs load, and the identity (map ids) of
 * every map the programs share with agentd. Anything else loads afresh.
 */
#define BUILD_PIN	"asb_build"
#define PROG_PIN	"prog_"		/* + a pair program's name (bpffs: no dots) */

struct asb_lsm {
	struct lsm_bpf *skel;
	int links[MAX_LINKS];		/* link fds; pinned: they stay */
	int n_links;
	int pair_prog[N_PAIR];		/* the connect pair's programs */
	int pair[N_PAIR];		/* their links while attached, or -1 */
	__u32 *askers;		/* sandboxes with approve.connect */
	size_t n_askers;
	char pin[PATH_MAX];	/* PIN_DIR/lsm or "" */
	bool kernel_ask;	/* the programs call asb.ko's gate kfuncs */
};

/* Maps of the socket filter the programs share. */
static const char *const shared[] = {
	"asb_member", "asb_levels", "asb_sandbox", "asb_net4", "asb_net6",
	"asb_denies",
	"asb_drops", "asb_events", "asb_oneshot", "asb_budget",
};

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* asb.ko with both gate kfuncs (include/asb/lsm.h): else no kernel asks */
static bool has_ask_kfunc(void)
{
	struct btf *vmlinux, *mod;
	bool found = false;

	if (access("/sys/kernel/btf/asb", F_OK))
		return false;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return false;
	mod = btf__load_module_btf("asb", vmlinux);
	if (mod) {
		found = btf__find_by_name_kind(mod, ASB_ASK_KFUNC,
					       BTF_KIND_FUNC) > 0 &&
			btf__find_by_name_kind(mod, ASB_ASK_EXEC_KFUNC,
					       BTF_KIND_FUNC) > 0;
		btf__free(mod);
	}
	btf__free(vmlinux);
	return found;
}

/* libbpf's warnings while loading: the verifier's verdict when it refuses */
static char load_log[8192];
static size_t load_log_len;

static int log_warn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	char line[1024];
	int n;

	if (level != LIBBPF_WARN)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (load_log_len + n >= sizeof(load_log))	/* keep the tail */
		load_log_len = 0;
	memcpy(load_log + load_log_len, line, n);
	load_log_len += n;
	load_log[load_log_len] = 0;
	return 0;
}

static int reuse_shared(struct lsm_bpf *skel, struct asb_sockfilter *sf,
			struct asb_execguard *eg)
{
	struct bpf_map *m;
	int fd;

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		m = bpf_object__find_map_by_name(skel->obj, shared[i]);
		fd = asb_sockfilter_map_fd(sf, shared[i]);
		if (!m || fd < 0)
			return -ENOENT;
		if (bpf_map__reuse_fd(m, fd))
			return -errno ? -errno : -EINVAL;
	}
	fd = asb_execguard_map_fd(eg);
	if (fd >= 0 && bpf_map__reuse_fd(skel->maps.asb_exec, fd))
		return -errno ? -errno : -EINVAL;
	return 0;
}

static bool in_pair(const struct bpf_program *prog)
{
	for (size_t i = 0; i < N_PAIR; i++)
		if (!strcmp(bpf_program__name(prog), connect_pair[i]))
			return true;
	return false;
}

/* Attach program @fd as an LSM program; the link's fd in @out, pinned. */
static int attach_one(struct asb_lsm *lsm, int fd, const char *name, int *out)
{
	char path[PATH_MAX];
	int link, err;

	link = bpf_link_create(fd, 0, BPF_LSM_MAC, NULL);
	if (link < 0)
		return link;
	*out = link;
	if (!lsm->pin[0])
		return 0;
	err = pin_path(path, sizeof(path), lsm->pin, name);
	if (err)
		return err;
	/* ours is attached: the old link (an earlier agentd's) may go */
	if (unlink(path) && errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(link, path))
		return -errno;
	return 0;
}

/* An earlier agentd's pair goes: its sandboxes' asks are refused until
 * they are set up again. */
static void unpin_pair(struct asb_lsm *lsm)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < N_PAIR && lsm->pin[0]; i++)
		if (!pin_path(path, sizeof(path), lsm->pin, connect_pair[i]))
			unlink(path);
}

static int attach_all(struct asb_lsm *lsm)
{
	struct bpf_program *prog;
	char path[PATH_MAX];
	int err;

	bpf_object__for_each_program(prog, lsm->skel->obj) {
		if (!bpf_program__autoload(prog) || in_pair(prog))
			continue;
		if (lsm->n_links >= MAX_LINKS)
			return -E2BIG;
		err = attach_one(lsm, bpf_program__fd(prog),
				 bpf_program__name(prog),
				 &lsm->links[lsm->n_links]);
		if (err)
			return err;
		lsm->n_links++;
	}
	for (size_t i = 0; i < N_PAIR; i++) {
		prog = bpf_object__find_program_by_name(lsm->skel->obj,
							connect_pair[i]);
		if (!prog || !bpf_program__autoload(prog))
			continue;
		lsm->pair_prog[i] = fcntl(bpf_program__fd(prog),
					  F_DUPFD_CLOEXEC, 3);
		if (lsm->pair_prog[i] < 0)
			return -errno;
		/* pinned as programs, for an agentd that adopts these */
		if (lsm->pin[0] &&
		    (pin_path(path, sizeof(path), lsm->pin, PROG_PIN) ||
		     strlen(path) + strlen(connect_pair[i]) >= sizeof(path)))
			return -ENAMETOOLONG;
		if (lsm->pin[0]) {
			strcat(path, connect_pair[i]);
			unlink(path);
			if (bpf_obj_pin(lsm->pair_prog[i], path))
				return -errno;
		}
	}
	unpin_pair(lsm);
	return 0;
}

static void pair_detach(struct asb_lsm *lsm)
{
	char path[PATH_MAX];

	for (size_t i = N_PAIR; i-- > 0;) {
		if (lsm->pair[i] < 0)
			continue;
		if (lsm->pin[0] &&
		    !pin_path(path, sizeof(path), lsm->pin, connect_pair[i]))
			unlink(path);
		close(lsm->pair[i]);
		lsm->pair[i] = -1;
	}
}

static int pair_update(struct asb_lsm *lsm)
{
	int err;

	if (!lsm->n_askers) {
		pair_detach(lsm);
		return 0;
	}
	for (size_t i = 0; i < N_PAIR; i++) {
		if (lsm->pair[i] >= 0)
			continue;
		err = lsm->pair_prog[i] < 0 ? -ENOENT :
		      attach_one(lsm, lsm->pair_prog[i], connect_pair[i],
				 &lsm->pair[i]);
		if (err) {
			pair_detach(lsm);
			return err;
		}
	}
	return 0;
}

static int set_asker(struct asb_lsm *lsm, __u32 sbid, bool asks)
{
	size_t i;

	for (i = 0; i < lsm->n_askers && lsm->askers[i] != sbid; i++)
		;
	if (!asks && i < lsm->n_askers)
		lsm->askers[i] = lsm->askers[--lsm->n_askers];
	if (asks && i == lsm->n_askers) {
		__u32 *n = realloc(lsm->askers, (i + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		lsm->askers = n;
		lsm->askers[lsm->n_askers++] = sbid;
	}
	return pair_update(lsm);
}

/*
 * Maps of ours that outlive agentd (pinned): an earlier agentd's are taken
 * over, so that enforcement never lapses.
 */
static const char *const pinned[] = { "asb_fs", "asb_fs_gen" };

/* pinned[@i]: its map into *@map, its pin path into @path. */
static int pinned_map(struct asb_lsm *lsm, size_t i, struct bpf_map **map,
		      char *path)
{
	*map = bpf_object__find_map_by_name(lsm->skel->obj, pinned[i]);
	return pin_path(path, PATH_MAX, lsm->pin, pinned[i]);
}

/* Before load: reuse the pinned maps there are. */
static int reuse_pinned(struct asb_lsm *lsm)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int fd, err;

	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		err = pinned_map(lsm, i, &map, path);
		if (err)
			return err;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		err = bpf_map__reuse_fd(map, fd) ? (-errno ? -errno : -EINVAL) : 0;
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/* After load: pin those that were not reused. */
static int pin_new(struct asb_lsm *lsm)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		err = pinned_map(lsm, i, &map, path);
		if (err)
			return err;
		if (!access(path, F_OK))
			continue;
		if (bpf_map__pin(map, path))
			return -errno ? -errno : -EINVAL;
	}
	return 0;
}

#define N_SHARED	(sizeof(shared) / sizeof(shared[0]))
#define N_PINNED	(sizeof(pinned) / sizeof(pinned[0]))

/* The id of map @name (whose fd agentd set), into the digest @st. */
static int hash_map_id(crypto_generichash_state *st,
		       const struct bpf_object *obj, const char *name)
{
	const struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
	struct bpf_map_info info = { 0 };
	__u32 n = sizeof(info);
	int fd = m ? bpf_map__fd(m) : -1;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &n))
		return -ENOENT;
	crypto_generichash_update(st, (const void *)&info.id, sizeof(info.id));
	return 0;
}

/* The digest of what this agentd would load (BUILD_PIN above). */
static int build_id(struct asb_lsm *lsm, unsigned char id[32])
{
	crypto_generichash_state st;
	struct bpf_program *prog;
	const void *elf;
	size_t len;

	elf = lsm_bpf__elf_bytes(&len);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, elf, len);
	crypto_generichash_update(&st, (const void *)lsm->skel->rodata,
				  sizeof(*lsm->skel->rodata));
	bpf_object__for_each_program(prog, lsm->skel->obj) {
		unsigned char on = bpf_program__autoload(prog);

		crypto_generichash_update(&st, (const void *)bpf_program__name(prog),
					  strlen(bpf_program__name(prog)) + 1);
		crypto_generichash_update(&st, &on, 1);
	}
	for (size_t i = 0; i < N_SHARED + N_PINNED + 1; i++)
		if (hash_map_id(&st, lsm->skel->obj,
				i < N_SHARED ? shared[i] :
				i < N_SHARED + N_PINNED ? pinned[i - N_SHARED] :
				"asb_exec"))
			return -ENOENT;
	crypto_generichash_final(&st, id, 32);
	return 0;
}

/* Adopt the programs an earlier agentd of this build attached. */
static int adopt(struct asb_lsm *lsm, const unsigned char id[32])
{
	unsigned char was[32];
	struct bpf_program *prog;
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd, err;

	if (pin_path(path, sizeof(path), lsm->pin, BUILD_PIN))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_map_lookup_elem(fd, &zero, was) ? -errno : 0;
	close(fd);
	if (err || sodium_memcmp(was, id, sizeof(was)))
		return err ? err : -ESTALE;
	bpf_object__for_each_program(prog, lsm->skel->obj) {
		int *slot = NULL;
		size_t i;

		if (!bpf_program__autoload(prog))
			continue;
		for (i = 0; i < N_PAIR; i++)
			if (!strcmp(bpf_program__name(prog), connect_pair[i]))
				slot = &lsm->pair_prog[i];
		if (!slot && lsm->n_links >= MAX_LINKS)
			return -E2BIG;
		if (pin_path(path, sizeof(path), lsm->pin, slot ? PROG_PIN : "") ||
		    strlen(path) + strlen(bpf_program__name(prog)) >= sizeof(path))
			return -ENAMETOOLONG;
		strcat(path, bpf_program__name(prog));
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;
		if (slot)
			*slot = fd;
		else
			lsm->links[lsm->n_links++] = fd;
	}
	unpin_pair(lsm);
	return 0;
}

/* After a fresh load: the digest, pinned, for the next agentd. */
static void pin_build(struct asb_lsm *lsm, const char *path)
{
	unsigned char id[32];
	__u32 zero = 0;
	int fd;

	if (build_id(lsm, id))
		return;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "asb_build", sizeof(zero),
			    sizeof(id), 1, NULL);
	if (fd < 0)
		return;
	if (!bpf_map_update_elem(fd, &zero, id, BPF_ANY))
		bpf_obj_pin(fd, path);
	close(fd);
}

static void drop_fds(struct asb_lsm *lsm)
{
	for (int i = 0; i < lsm->n_links; i++)
		close(lsm->links[i]);	/* pinned: stays */
	lsm->n_links = 0;
	for (size_t i = 0; i < N_PAIR; i++) {
		if (lsm->pair[i] >= 0)
			close(lsm->pair[i]);
		if (lsm->pair_prog[i] >= 0)
			close(lsm->pair_prog[i]);
		lsm->pair[i] = lsm->pair_prog[i] = -1;
	}
}

int asb_lsm_open(struct asb_lsm **out, struct asb_sockfilter *sf,
		 struct asb_execguard *eg, const char *pin_dir)
{
	char build[PATH_MAX] = "";
	unsigned char id[32];
	struct asb_lsm *lsm;
	int err;

	*out = NULL;
	lsm = calloc(1, sizeof(*lsm));
	if (!lsm)
		return -ENOMEM;
	for (size_t i = 0; i < N_PAIR; i++)
		lsm->pair[i] = lsm->pair_prog[i] = -1;
	if (pin_dir) {
		err = pin_path(lsm->pin, sizeof(lsm->pin), pin_dir, "lsm");
		if (!err)
			err = pin_path(build, sizeof(build), lsm->pin, BUILD_PIN);
		if (err)
			goto fail_free;
		if (mkdir(pin_dir, 0700) && errno != EEXIST) {
			err = -errno;
			goto fail_free;
		}
		if (mkdir(lsm->pin, 0700) && errno != EEXIST) {
			err = -errno;
			goto fail_free;
		}
	}
	lsm->skel = lsm_bpf__open();
	if (!lsm->skel) {
		err = -errno ? -errno : -EINVAL;
		goto fail_free;
	}
	lsm->skel->rodata->asb_debug = getenv("ASB_LSM_DEBUG") != NULL;
	lsm->kernel_ask = has_ask_kfunc();
	lsm->skel->rodata->asb_kernel_ask = lsm->kernel_ask;
	err = reuse_shared(lsm->skel, sf, eg);
	if (err)
		goto fail;
	/* file_truncate is 6.2+: older kernels check O_TRUNC and ftruncate
	 * at path_truncate */
	if (libbpf_find_vmlinux_btf_id("file_truncate", BPF_LSM_MAC) < 0)
		bpf_program__set_autoload(lsm->skel->progs.asb_file_truncate,
					  false);
	/* approve.connect without the module: seccomp and the cgroup program */
	if (!lsm->kernel_ask) {
		bpf_program__set_autoload(lsm->skel->progs.asb_socket_connect,
					  false);
		bpf_program__set_autoload(lsm->skel->progs.asb_socket_connect_ask,
					  false);
	}
	if (lsm->pin[0]) {
		err = reuse_pinned(lsm);
		if (err)
			goto fail;
		if (!build_id(lsm, id) && !adopt(lsm, id)) {
			*out = lsm;
			return 0;
		}
		drop_fds(lsm);
		/* what follows replaces them: no adoption of a mix */
		unlink(build);
	}
	load_log_len = 0;
	load_log[0] = 0;
	libbpf_set_print(log_warn);
	err = lsm_bpf__load(lsm->skel) ? (-errno ? -errno : -EINVAL) : 0;
	libbpf_set_print(NULL);
	if (err) {
		fprintf(stderr, "agentd: BPF-LSM programs refused by the kernel:\n%s",
			load_log);
		goto fail;
	}
	if (lsm->pin[0]) {
		err = pin_new(lsm);
		if (err)
			goto fail;
	}
	err = attach_all(lsm);
	if (err)
		goto fail;
	if (lsm->pin[0])
		pin_build(lsm, build);
	*out = lsm;
	return 0;
fail:
	asb_lsm_close(lsm);
	return err;
fail_free:
	free(lsm);
	return err;
}

void asb_lsm_close(struct asb_lsm *lsm)
{
	if (!lsm)
		return;
	drop_fds(lsm);
	lsm_bpf__destroy(lsm->skel);
	free(lsm->askers);
	free(lsm);
}

int asb_lsm_resolve(const char *path, __u32 *dev, __u64 *ino, int *is_dir)
{
	struct statfs sfs;
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	*is_dir = S_ISDIR(st.st_mode);
	/*
	 * overlayfs reports a non-directory with the st_dev of the layer it
	 * lives on, while its inode belongs to the overlay's superblock,
	 * which is what its directories report: take the directory's.
	 */
	if (!*is_dir && statfs(path, &sfs) == 0 &&
	    sfs.f_type == OVERLAYFS_SUPER_MAGIC) {
		char parent[PATH_MAX], *slash;
		struct stat pst;

		if (!realpath(path, parent))
			return -errno;
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = 0;
		else if (slash)
			*slash = 0;
		if (stat(parent, &pst) == 0 && statfs(parent, &sfs) == 0 &&
		    sfs.f_type == OVERLAYFS_SUPER_MAGIC)
			st.st_dev = pst.st_dev;
	}
	*dev = (major(st.st_dev) << 20) | minor(st.st_dev);
	return 0;
}

static __u32 kind_rights(__u16 kind)
{
	switch (kind) {
	case ASB_RULE_FS_READ:
		return ASB_FS_READ;
	case ASB_RULE_FS_WRITE:
		return ASB_FS_READ | ASB_FS_WRITE;
	case ASB_RULE_FS_EXEC:
		return ASB_FS_READ | ASB_FS_EXEC;
	case ASB_RULE_ASK_EXEC:
		return ASB_FS_READ | ASB_FS_ASK_EXEC;
	case ASB_RULE_ASK_WRITE:
		return ASB_FS_READ | ASB_FS_ASK_WRITE;
	default:
		return 0;
	}
}

/*
 * After every change to asb_fs: the walks the programs remembered under the
 * old rules no longer count (bpf/lsm.bpf.c, memo_find).
 */
static int bump_gen(struct asb_lsm *lsm)
{
	int fd = bpf_map__fd(lsm->skel->maps.asb_fs_gen);
	__u32 zero = 0;
	__u64 gen;

	if (bpf_map_lookup_elem(fd, &zero, &gen))
		return -errno;
	gen++;
	return bpf_map_update_elem(fd, &zero, &gen, BPF_ANY) ? -errno : 0;
}

static int remove_rules(struct asb_lsm *lsm, __u32 sbid)
{
	int fd = bpf_map__fd(lsm->skel->maps.asb_fs);
	struct asb_fs_key key, next, *del = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (next.sandbox == sbid) {
			if (n == cap) {
				struct asb_fs_key *nd;

				cap = cap ? cap * 2 : 64;
				nd = realloc(del, cap * sizeof(*del));
				if (!nd) {
					free(del);
					return -ENOMEM;
				}
				del = nd;
			}
			del[n++] = next;
		}
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &del[i]) && errno != ENOENT)
			err = -errno;
	free(del);
	return err;
}

int asb_lsm_remove_sandbox(struct asb_lsm *lsm, __u32 sbid)
{
	int err = remove_rules(lsm, sbid), gerr = bump_gen(lsm);

	set_asker(lsm, sbid, false);
	return err ?: gerr;
}

static __u64 fnv64(const char *s)
{
	__u64 h = ASB_FNV64_OFFSET;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * ASB_FNV64_PRIME;
	return h;
}

/*
 * The real path of @path, which need not exist: its parent's, plus the
 * last component. -errno if not even the parent resolves.
 */
static int real_path(const char *path, char *out, size_t len)
{
	char dir[PATH_MAX], *slash, *r;
	int n;

	r = realpath(path, NULL);
	if (!r) {
		if (errno != ENOENT)
			return -errno;
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (!slash || !slash[1])
			return -ENOENT;
		*slash = 0;
		r = realpath(dir[0] ? dir : "/", NULL);
		if (!r)
			return -errno;
		n = snprintf(out, len, "%s/%s", strcmp(r, "/") ? r : "",
			     slash + 1);
	} else {
		n = snprintf(out, len, "%s", r);
	}
	free(r);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool on_procfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* The path entry of an approve.* rule (include/asb/lsm.h). */
static int set_path_entry(int fd, __u32 sbid, const char *path, __u32 rights,
			  __u32 idx)
{
	struct asb_fs_key key = { .sandbox = sbid, .dev = ASB_FS_DEV_PATH };
	struct asb_fs_val val = { .rights = rights, .rule = idx };
	char real[PATH_MAX];

	if (real_path(path, real, sizeof(real)))
		return 0;	/* nowhere to be reached: nothing to ask */
	key.ino = fnv64(real);
	if (bpf_map_lookup_elem(fd, &key, &val) == 0)
		val.rights |= rights;
	if (bpf_map_update_elem(fd, &key, &val, BPF_ANY))
		return -errno;
	return 0;
}

int asb_lsm_set_sandbox(struct asb_lsm *lsm, __u32 sbid,
			const struct asb_image *img,
			const struct asb_image_sandbox *sb, char *err,
			size_t errlen)
{
	int fd = bpf_map__fd(lsm->skel->maps.asb_fs);
	const struct asb_image_rule *rules = asb_image_rules(img);
	bool asks = false;
	int ret;

	ret = remove_rules(lsm, sbid);
	if (ret)
		goto fail;
	for (__u32 i = 0; i < sb->n_rules; i++) {
		__u32 idx = sb->first_rule + i;
		const struct asb_image_rule *r = &rules[idx];
		__u32 rights = kind_rights(r->kind);
		struct asb_fs_key key = { .sandbox = sbid };
		struct asb_fs_val val;
		const char *path;
		int is_dir;

		asks |= r->kind == ASB_RULE_ASK_CONNECT;
		if (!rights || r->family != ASB_NET_NONE)
			continue;
		path = asb_image_str(img, r->path);
		if (rights & (ASB_FS_ASK_EXEC | ASB_FS_ASK_WRITE)) {
			ret = set_path_entry(fd, sbid, path, rights, idx);
			if (ret) {
				snprintf(err, errlen, "%s: file rule map: %s",
					 path, strerror(-ret));
				goto fail;
			}
		}
		ret = asb_lsm_resolve(path, &key.dev, &key.ino, &is_dir);
		if (ret == -ENOENT || ret == -ENOTDIR || ret == -EACCES ||
		    ret == -ELOOP)
			continue;	/* grants nothing, as with Landlock */
		if (ret) {
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			goto fail;
		}
		if (bpf_map_lookup_elem(fd, &key, &val) == 0) {
			val.rights |= rights;
		} else {
			val.rights = rights;
			val.rule = idx;
		}
		if (bpf_map_update_elem(fd, &key, &val, BPF_ANY) ||
		    (on_procfs(path) && (key.dev = ASB_FS_DEV_PROC,
		     bpf_map_update_elem(fd, &key, &val, BPF_ANY)))) {
			ret = -errno;
			snprintf(err, errlen, "%s: file rule map: %s", path,
				 strerror(errno));
			goto fail;
		}
	}
	ret = bump_gen(lsm);
	if (!ret && lsm->kernel_ask) {
		ret = set_asker(lsm, sbid, asks);
		if (ret)
			snprintf(err, errlen, "approve.connect programs: %s",
				 strerror(-ret));
	}
	if (ret)
		goto fail;
	return 0;
fail:
	if (err[0] == 0)
		snprintf(err, errlen, "file rules: %s", strerror(-ret));
	asb_lsm_remove_sandbox(lsm, sbid);
	return ret;
}

bool asb_lsm_kernel_ask(const struct asb_lsm *lsm)
{
	return lsm && lsm->kernel_ask;
}

int asb_lsm_count(struct asb_lsm *lsm)
{
	int fd = bpf_map__fd(lsm->skel->maps.asb_fs), n = 0;
	struct asb_fs_key key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		n++;
		key = next;
		prev = &key;
	}
	return n;
}
