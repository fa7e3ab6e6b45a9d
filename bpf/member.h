/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sandbox membership, shared by the BPF objects: a task belongs to the
 * sandbox of its cgroup or of the nearest ancestor cgroup registered in
 * asb_member (at most ASB_CGROUP_DEPTH deep). The socket filter
 * (sock.bpf.c) owns the map; agentd hands its fd to the other objects
 * with bpf_map__reuse_fd before they load.
 *
 * asb_levels[0] holds the levels at which cgroups are registered (bit n:
 * level n below the root): only those ancestors are looked up, so a task
 * of no sandbox, the common case on every hook, costs an array read and
 * one hash lookup per such level (usually one), not a helper call and a
 * lookup per level of the hierarchy.
 */
#ifndef ASB_BPF_MEMBER_H
#define ASB_BPF_MEMBER_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} asb_member SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} asb_levels SEC(".maps");

/* The levels at which cgroups are registered (bit n: level n); 0: none. */
static __always_inline __u32 levels_mask(void)
{
	__u32 zero = 0, *levels = bpf_map_lookup_elem(&asb_levels, &zero);

	return levels ? *levels : 0;
}

#ifdef ASB_MEMBER_BTF
/*
 * LSM programs (BPF-LSM kernels): the task's cgroup and its ancestors are
 * read as BTF pointers under RCU, from the task's cgroup up to the
 * shallowest registered level; the ancestor helper costs several hundred
 * instructions a call, on every open of every task on the host.
 */
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

/* The task's cgroup, under bpf_rcu_read_lock(). */
static __always_inline struct cgroup *task_cgroup(void)
{
	return BTF_PTR(bpf_get_current_task_btf()->cgroups->dfl_cgrp,
		       struct cgroup);
}

/*
 * Under bpf_rcu_read_lock(): the asb_member entry of @cg or of its nearest
 * registered ancestor, NULL if none.
 */
static __always_inline __u32 *member_of(struct cgroup *cg, __u32 mask)
{
	__u32 *sb = NULL;
	__u64 id;
	int i;

	/* deepest first: the nearest registered ancestor wins */
	for (i = 0; i < ASB_CGROUP_DEPTH && cg && !sb; i++) {
		int lvl = cg->level;

		if (lvl < 0 || lvl >= ASB_CGROUP_DEPTH ||
		    !(mask & ((2u << lvl) - 1)))
			break;		/* above every registered level */
		if (mask & (1u << lvl)) {
			id = cg->kn->id;
			sb = bpf_map_lookup_elem(&asb_member, &id);
		}
		cg = BTF_PTR((char *)cg->self.parent -
			     bpf_core_field_offset(struct cgroup, self),
			     struct cgroup);
	}
	return sb;
}

/* The current task's sandbox id into @sbid; false: in no sandbox. */
static __always_inline bool member(__u32 *sbid)
{
	__u32 mask = levels_mask(), *sb;

	if (!mask)
		return false;
	bpf_rcu_read_lock();
	sb = member_of(task_cgroup(), mask);
	bpf_rcu_read_unlock();
	if (!sb)
		return false;
	*sbid = *sb;
	return true;
}
#else
/*
 * The current task's sandbox id into @sbid; false: in no sandbox. The
 * task's own cgroup is looked up first: the socket programs, attached to
 * sandbox cgroups, run mostly in one (a cgroup helper and a lookup, where
 * the ancestor helper costs several hundred instructions a level).
 */
static __always_inline bool member(__u32 *sbid)
{
	__u64 id = bpf_get_current_cgroup_id();
	__u32 mask, *sb;
	int lvl;

	sb = bpf_map_lookup_elem(&asb_member, &id);
	if (sb) {
		*sbid = *sb;
		return true;
	}
	mask = levels_mask();
	/* deepest first: the nearest registered ancestor wins */
	for (lvl = ASB_CGROUP_DEPTH - 1; mask && !sb && lvl > 0; lvl--) {
		if (!(mask & (1u << lvl)))
			continue;
		id = bpf_get_current_ancestor_cgroup_id(lvl);
		if (id)
			sb = bpf_map_lookup_elem(&asb_member, &id);
	}
	if (!sb)
		return false;
	*sbid = *sb;
	return true;
}

/* The sandbox of the socket of @skb (cgroup_skb programs, which run in
 * softirq: the current task is anyone's). */
static __always_inline bool member_skb(struct __sk_buff *skb, __u32 *sbid)
{
	__u64 id = bpf_skb_cgroup_id(skb);
	__u32 mask, *sb;
	int lvl;

	sb = bpf_map_lookup_elem(&asb_member, &id);
	mask = sb ? 0 : levels_mask();
	for (lvl = ASB_CGROUP_DEPTH - 1; mask && !sb && lvl > 0; lvl--) {
		if (!(mask & (1u << lvl)))
			continue;
		id = bpf_skb_ancestor_cgroup_id(skb, lvl);
		if (id)
			sb = bpf_map_lookup_elem(&asb_member, &id);
	}
	if (!sb)
		return false;
	*sbid = *sb;
	return true;
}
#endif

#endif
