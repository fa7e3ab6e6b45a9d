/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The audit budget of a sandbox, shared by the programs that record
 * (sock.bpf.c, lsm.bpf.c): at most ASB_AUDIT_PER_WINDOW records per CPU
 * per ASB_AUDIT_WINDOW_NS. Past it the verdict stands and is counted
 * (asb_denies), but nothing goes to the ring buffer or the trace pipe: one
 * sandbox that floods loses its own records, never another's. agentd
 * writes each sandbox's suppressed count as one record a second
 * (include/asb/event.h, struct asb_budget).
 */
#ifndef ASB_BPF_AUDIT_H
#define ASB_BPF_AUDIT_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct asb_budget);
} asb_budget SEC(".maps");

/* Whether sandbox @sbid may record one more event now. */
static __always_inline bool audit_budget(__u32 sbid)
{
	struct asb_budget *b = bpf_map_lookup_elem(&asb_budget, &sbid);
	struct asb_budget fresh = { .used = 1 };
	__u64 now = bpf_ktime_get_ns();

	if (!b) {
		fresh.window = now;
		bpf_map_update_elem(&asb_budget, &sbid, &fresh, BPF_NOEXIST);
		return true;
	}
	if (now - b->window >= ASB_AUDIT_WINDOW_NS) {
		b->window = now;
		b->used = 0;
	}
	if (b->used < ASB_AUDIT_PER_WINDOW) {
		b->used++;
		return true;
	}
	b->suppressed++;
	return false;
}

#endif
