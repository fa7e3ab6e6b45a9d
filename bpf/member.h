/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sandbox membership, shared by the BPF objects: a task belongs to the
 * sandbox of its cgroup or of the nearest ancestor cgroup registered in
 * asb_member (at most ASB_CGROUP_DEPTH deep). The socket filter
 * (sock.bpf.c) owns the map; agentd hands its fd to the other objects
 * with bpf_map__reuse_fd before they load.
 */
#ifndef ASB_BPF_MEMBER_H
#define ASB_BPF_MEMBER_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} asb_member SEC(".maps");

/* The current task's sandbox id into @sbid; false: in no sandbox. */
static __always_inline bool member(__u32 *sbid)
{
	__u64 id = bpf_get_current_cgroup_id();
	__u32 *sb = bpf_map_lookup_elem(&asb_member, &id);
	int lvl;

	for (lvl = ASB_CGROUP_DEPTH - 1; !sb && lvl > 0; lvl--) {
		id = bpf_get_current_ancestor_cgroup_id(lvl);
		if (id)
			sb = bpf_map_lookup_elem(&asb_member, &id);
	}
	if (!sb)
		return false;
	*sbid = *sb;
	return true;
}

#endif
