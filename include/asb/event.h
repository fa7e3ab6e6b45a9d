/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * asb socket filter (portable backend, bpf/sock.bpf.c): the ring-buffer
 * event record and the BPF map key/value layouts, shared by the BPF
 * programs and agentd (agentd/sockfilter.c). One definition each.
 */
#ifndef ASB_EVENT_H
#define ASB_EVENT_H

#ifdef __bpf__
/* BPF side: the types come from vmlinux.h. */
#else
#include <linux/types.h>
#endif

/* Rule index values that are not an index into the image's rule array. */
#define ASB_RULE_NONE		0xffffffffu	/* the sandbox's default deny */
#define ASB_RULE_FAMILIES	0xfffffffeu	/* net.deny_families / raw */

/* Sandbox id of an event from a cgroup that no sandbox is registered for. */
#define ASB_SB_NONE		0xffffffffu

#define ASB_COMM_LEN		16
#define ASB_UNIX_PATH_MAX	108	/* sizeof(sockaddr_un.sun_path) */

/* What the process tried. */
enum asb_sock_action {
	ASB_ACT_CONNECT4 = 1,
	ASB_ACT_CONNECT6,
	ASB_ACT_SENDMSG4,
	ASB_ACT_SENDMSG6,
	ASB_ACT_BIND4,
	ASB_ACT_BIND6,
	ASB_ACT_SOCKET,
	ASB_ACT_UNIX_CONNECT,
	ASB_ACT_UNIX_SENDMSG,
	ASB_ACT_MAX = ASB_ACT_UNIX_SENDMSG,
};

/* asb_event.verdict */
enum asb_event_verdict {
	ASB_EV_ALLOW = 0,
	ASB_EV_DENY = 1,
};

/*
 * asb_event.flags. ASB_EVF_ASK: allowed by an ask.connect rule; the
 * approval itself happened before the syscall ran (seccomp user
 * notification), this filter only lets the approved call through.
 */
#define ASB_EVF_ASK		(1u << 0)
#define ASB_EVF_ABSTRACT	(1u << 1)	/* path: abstract unix name */

/*
 * One event in the ring buffer. addr is in network order (IPv4 in the first
 * four bytes), port in host order. path is the unix socket name, NUL
 * terminated; an abstract name is shown with a leading '@'. For
 * ASB_ACT_SOCKET, family/sock_type/protocol are socket()'s arguments.
 */
struct asb_event {
	__u64 time_ns;		/* CLOCK_BOOTTIME */
	__u32 sandbox;		/* sandbox id or ASB_SB_NONE */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 uid;
	__u32 rule;		/* image rule index, ASB_RULE_NONE/_FAMILIES */
	__u16 action;		/* enum asb_sock_action */
	__u8 verdict;		/* enum asb_event_verdict */
	__u8 flags;		/* ASB_EVF_* */
	__u16 family;		/* AF_* */
	__u16 port;
	__u16 sock_type;
	__u16 protocol;
	__u8 addr[16];
	char comm[ASB_COMM_LEN];
	char path[ASB_UNIX_PATH_MAX];
	__u32 reserved;
};

/*
 * Maps (pinned under agentd's pin directory with these names):
 *
 *   asb_member   hash    __u64 cgroup id -> __u32 sandbox id
 *   asb_sandbox  hash    __u32 sandbox id -> struct asb_sb_conf
 *   asb_net4     lpm     struct asb_net4_key -> struct asb_net_val
 *   asb_net6     lpm     struct asb_net6_key -> struct asb_net_val
 *   asb_unix     lpm     struct asb_unix_key -> __u32 rule index
 *   asb_denies   percpu hash  __u32 sandbox id -> __u64 denies
 *   asb_drops    percpu array [1] -> __u64 events lost (ring buffer full)
 *   asb_events   ringbuf of struct asb_event
 *
 * A task belongs to the sandbox of its cgroup or of the nearest ancestor
 * cgroup that is registered in asb_member (at most ASB_CGROUP_DEPTH deep).
 *
 * Rule entries are keyed by a rule *set* id, not the sandbox id: each
 * sandbox has two banks, set = sbid * 2 + bank, and asb_sb_conf.set names
 * the live one. A replacement fills the other bank, then flips conf.set
 * with one map update, then empties the old bank.
 */
#define ASB_CGROUP_DEPTH	16
#define ASB_SBID_MAX		0x7fffffffu	/* so that sbid * 2 + 1 fits */

struct asb_sb_conf {
	__u64 deny_families;	/* bit n: socket(AF n) refused */
	__u32 flags;		/* ASB_SB_* of include/asb/image.h */
	__u32 set;		/* live rule set: sbid * 2 + bank */
	__u32 default_rule;	/* rule index reported for the default deny */
	__u32 reserved;
};

/*
 * LPM keys: prefixlen counts the bits of set and kind too (always fully
 * matched: ASB_NET_KEY_BITS) plus the address prefix. kind is
 * ASB_RULE_NET_CONNECT (which also holds ask.connect rules) or
 * ASB_RULE_NET_BIND.
 */
#define ASB_NET_KEY_BITS	64

struct asb_net4_key {
	__u32 prefixlen;
	__u32 set;
	__u32 kind;
	__u8 addr[4];
};

struct asb_net6_key {
	__u32 prefixlen;
	__u32 set;
	__u32 kind;
	__u8 addr[16];
};

/*
 * Port ranges of one prefix, with those of every shorter covering prefix
 * merged in by agentd, most specific prefix first: the first range that
 * holds the port decides and names the rule.
 */
#define ASB_NET_RANGES		16

struct asb_port_range {
	__u16 lo;		/* host order, inclusive */
	__u16 hi;
	__u32 rule;		/* image rule index */
};

struct asb_net_val {
	__u32 n;		/* ranges in use */
	__u32 ask;		/* bit i: r[i] is an ask.connect rule */
	struct asb_port_range r[ASB_NET_RANGES];
};

/*
 * Unix socket names. path holds a pathname ("/run/x.sock") or, for an
 * abstract name, a NUL byte then the name ("\0name"); the rest is zero.
 * An exact entry includes the terminating NUL in its prefix; a subtree
 * entry ends with '/' and no NUL. prefixlen counts set's 32 bits.
 */
#define ASB_UNIX_KEY_BITS	32

struct asb_unix_key {
	__u32 prefixlen;
	__u32 set;
	char path[ASB_UNIX_PATH_MAX];
};

#endif /* ASB_EVENT_H */
