// SPDX-License-Identifier: BSD-3-Clause
/* Loader of bpf/exec.bpf.c. See execguard.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "execguard.h"
#include "exec.skel.h"
#include "policy.h"

struct asb_execguard {
	struct exec_bpf *skel;
};

/*
 * Pin every link under @pin_dir/exec, in place of an earlier agentd's: the
 * guard keeps killing what it must when agentd is gone, until the next
 * agentd's replaces it.
 */
static int pin_links(struct exec_bpf *skel, const char *pin_dir)
{
	const struct bpf_object_skeleton *sk = skel->skeleton;
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX];

	if (snprintf(dir, sizeof(dir), "%s/exec", pin_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if ((mkdir(pin_dir, 0700) && errno != EEXIST) ||
	    (mkdir(dir, 0700) && errno != EEXIST))
		return -errno;
	for (int i = 0; i < sk->prog_cnt; i++) {
		struct bpf_link *link = *sk->progs[i].link;

		if (!link)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, sk->progs[i].name);
		if ((unlink(path) && errno != ENOENT) ||
		    bpf_link__pin(link, path))
			return -errno ? -errno : -EINVAL;
	}
	return 0;
}

/*
 * The expectations map (asb_exec) is pinned as @pin_dir/exec/asb_exec and
 * reused by the next agentd when its layout is this build's: an exec let
 * go on just before a restart is still checked, and the BPF-LSM programs,
 * which share it, stay those of an earlier agentd of the same build
 * (lsm.c adopts them only if every map they share is the same one).
 */
static int reuse_exec_map(struct exec_bpf *skel, const char *path)
{
	const struct bpf_map *m = skel->maps.asb_exec;
	struct bpf_map_info info = { 0 };
	__u32 n = sizeof(info);
	int fd = bpf_obj_get(path), err = 0;

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &n) ||
	    info.type != bpf_map__type(m) ||
	    info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m) ||
	    info.max_entries != bpf_map__max_entries(m))
		unlink(path);	/* another layout: a new map */
	else if (bpf_map__reuse_fd(skel->maps.asb_exec, fd))
		err = -errno ? -errno : -EINVAL;
	close(fd);
	return err;
}

int asb_execguard_open(struct asb_execguard **out, int member_fd,
		       int levels_fd, int events_fd, const char *pin_dir)
{
	struct asb_execguard *eg = calloc(1, sizeof(*eg));
	char map[PATH_MAX];
	int err;

	*out = NULL;
	if (!eg)
		return -ENOMEM;
	eg->skel = exec_bpf__open();
	if (!eg->skel) {
		err = errno ? -errno : -EINVAL;
		free(eg);
		return err;
	}
	map[0] = 0;
	if (pin_dir && snprintf(map, sizeof(map), "%s/exec/asb_exec", pin_dir) >=
		       (int)sizeof(map))
		err = -ENAMETOOLONG;
	else if (bpf_map__reuse_fd(eg->skel->maps.asb_member, member_fd) ||
		 bpf_map__reuse_fd(eg->skel->maps.asb_levels, levels_fd) ||
		 bpf_map__reuse_fd(eg->skel->maps.asb_events, events_fd))
		err = errno ? -errno : -EINVAL;
	else
		err = map[0] ? reuse_exec_map(eg->skel, map) : 0;
	if (!err && (exec_bpf__load(eg->skel) || exec_bpf__attach(eg->skel)))
		err = errno ? -errno : -EINVAL;
	if (!err && pin_dir)
		err = pin_links(eg->skel, pin_dir);
	if (!err && map[0] && access(map, F_OK) &&
	    bpf_map__pin(eg->skel->maps.asb_exec, map))
		err = -errno ? -errno : -EINVAL;
	if (err) {
		exec_bpf__destroy(eg->skel);
		free(eg);
		return err;
	}
	*out = eg;
	return 0;
}

int asb_execguard_expect(struct asb_execguard *eg, pid_t tid,
			 const struct asb_exec_val *v)
{
	__u32 key = (__u32)tid;

	if (!eg || !v || tid <= 0)
		return -EINVAL;
	if (bpf_map__update_elem(eg->skel->maps.asb_exec, &key, sizeof(key),
				 v, sizeof(*v), BPF_ANY))
		return -errno;
	return 0;
}

int asb_execguard_kills(struct asb_execguard *eg, __u64 *n)
{
	__u32 zero = 0;

	*n = 0;
	if (!eg)
		return -EINVAL;
	if (bpf_map__lookup_elem(eg->skel->maps.asb_exec_kills, &zero,
				 sizeof(zero), n, sizeof(*n), 0))
		return -errno;
	return 0;
}

int asb_execguard_exited(struct asb_execguard *eg, pid_t pid, __u32 *sbid)
{
	__u32 key = (__u32)pid;

	if (!eg || pid <= 0)
		return -EINVAL;
	if (bpf_map__lookup_elem(eg->skel->maps.asb_exited, &key, sizeof(key),
				 sbid, sizeof(*sbid), 0))
		return -errno;
	return 0;
}

int asb_execguard_map_fd(struct asb_execguard *eg)
{
	if (!eg)
		return -EINVAL;
	return bpf_map__fd(eg->skel->maps.asb_exec);
}

int asb_execguard_add_interps(struct asb_execguard *eg,
			      const struct asb_image *img)
{
	const struct asb_image_rule *r = asb_image_rules(img);
	const __u8 one = 1;
	struct statfs sf;
	struct stat st;

	if (!eg)
		return -EINVAL;
	for (uint32_t i = 0; i < img->hdr->n_rules; i++) {
		struct asb_interp_key k = { 0 };

		if (!(r[i].flags & ASB_RULE_F_INTERP) ||
		    stat(asb_image_str(img, r[i].path), &st) < 0)
			continue;
		k.ino = st.st_ino;
		k.dev = asb_kdev(st.st_dev);
		if (bpf_map__update_elem(eg->skel->maps.asb_interp, &k,
					 sizeof(k), &one, sizeof(one), BPF_ANY))
			return -errno;
		/* overlayfs: stat()'s device is no inode's (bpf/exec.bpf.c) */
		if (statfs(asb_image_str(img, r[i].path), &sf) == 0 &&
		    sf.f_type == OVERLAYFS_SUPER_MAGIC) {
			k.dev = 0;
			if (bpf_map__update_elem(eg->skel->maps.asb_interp, &k,
						 sizeof(k), &one, sizeof(one),
						 BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

int asb_execguard_exe(struct asb_execguard *eg, pid_t tgid, bool before,
		      struct asb_exe_val *v)
{
	__u32 key = (__u32)tgid;

	if (!eg || tgid <= 0)
		return -EINVAL;
	if (bpf_map__lookup_elem(before ? eg->skel->maps.asb_exe_prev :
				 eg->skel->maps.asb_exe, &key, sizeof(key), v,
				 sizeof(*v), 0))
		return -errno;
	return 0;
}
