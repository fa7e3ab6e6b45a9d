// SPDX-License-Identifier: GPL-2.0
/*
 * asb portable backend: cgroup socket filter.
 *
 * Attached to each sandbox's cgroup (agentd/sockfilter.c). Decides
 * connect/sendmsg/bind for IPv4 and IPv6, connect/sendmsg for unix
 * sockets and socket() creation from per-sandbox rule maps (layouts in
 * include/asb/event.h). Every decision is one LPM lookup plus a bounded
 * scan of a fixed array: the cost does not depend on the number of rules.
 * Everything not granted is denied (EPERM). A destination of an
 * approve.connect rule needs agentd's one-shot entry (asb_oneshot).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <asb/image.h>
#include <asb/event.h>

#include "audit.h"
#include "member.h"

#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define SOCK_RAW	3
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define IPPROTO_UDPLITE	136
#define IPPROTO_MPTCP	262

#define ALLOW		1
#define DENY		0

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct asb_sb_conf);
} asb_sandbox SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct asb_net4_key);
	__type(value, struct asb_net_val);
} asb_net4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct asb_net6_key);
	__type(value, struct asb_net_val);
} asb_net6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct asb_unix_key);
	__type(value, __u32);
} asb_unix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} asb_denies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} asb_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} asb_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct asb_oneshot_key);
	__type(value, struct asb_oneshot_val);
} asb_oneshot SEC(".maps");

/* Per-CPU scratch: the event being built (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct asb_event);
} asb_scratch SEC(".maps");

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

static __always_inline struct asb_event *ev_begin(__u32 action)
{
	__u32 zero = 0;
	struct asb_event *ev = bpf_map_lookup_elem(&asb_scratch, &zero);

	if (!ev)
		return NULL;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->action = action;
	ev->sandbox = ASB_SB_NONE;
	ev->rule = ASB_RULE_NONE;
	return ev;
}

/* The sandbox of the current task: its cgroup or the nearest ancestor's. */
static __always_inline const struct asb_sb_conf *find_sandbox(__u32 *sbid)
{
	if (!member(sbid))
		return NULL;
	return bpf_map_lookup_elem(&asb_sandbox, sbid);
}

/* One line per event: asb: deny sb=3 pid=123 connect4 10.0.0.1:80 rule=17 */
static __always_inline void log_line(const struct asb_event *ev,
				     const char *act)
{
	const char *verdict = ev->verdict == ASB_EV_DENY ? "deny" : "allow";
	int rule = (int)ev->rule;

	switch (ev->action) {
	case ASB_ACT_CONNECT4:
	case ASB_ACT_SENDMSG4:
	case ASB_ACT_BIND4:
	case ASB_ACT_LISTEN4:
	case ASB_ACT_RECV4:
		bpf_printk("asb: %s sb=%d pid=%u %s %pI4:%u rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, act, ev->addr, ev->port,
			   rule);
		break;
	case ASB_ACT_CONNECT6:
	case ASB_ACT_SENDMSG6:
	case ASB_ACT_BIND6:
	case ASB_ACT_LISTEN6:
	case ASB_ACT_RECV6:
		bpf_printk("asb: %s sb=%d pid=%u %s [%pI6]:%u rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, act, ev->addr, ev->port,
			   rule);
		break;
	case ASB_ACT_SOCKET:
		bpf_printk("asb: %s sb=%d pid=%u socket family=%u type=%u proto=%u rule=%d",
			   verdict, (int)ev->sandbox, ev->pid, ev->family,
			   ev->sock_type, ev->protocol, rule);
		break;
	default:
		bpf_printk("asb: %s sb=%d pid=%u %s %s rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, act, ev->path, rule);
		break;
	}
}

static __always_inline void count_deny(__u32 sbid)
{
	__u64 *n = bpf_map_lookup_elem(&asb_denies, &sbid);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/*
 * Record the verdict: denies and ask-rule allows always; other allowed
 * connect/bind when the sandbox audits everything (not sends nor socket(),
 * to keep the volume sane). Preemptible: counters use atomic adds.
 * @task: the event is the current task's (not in softirq, where the
 * ingress program runs and may not read it); a constant at each call.
 */
static __always_inline int record(struct asb_event *ev, const char *act,
				  const struct asb_sb_conf *conf, int verdict,
				  bool task)
{
	bool audit = verdict == DENY || (ev->flags & ASB_EVF_ASK);
	__u32 zero = 0;
	__u64 *drops;

	if (!audit && conf && (conf->flags & ASB_SB_AUDIT_ALL))
		audit = ev->action != ASB_ACT_SENDMSG4 &&
			ev->action != ASB_ACT_SENDMSG6 &&
			ev->action != ASB_ACT_UNIX_SENDMSG &&
			ev->action != ASB_ACT_SOCKET;
	if (verdict == DENY)
		count_deny(ev->sandbox);
	if (!audit || !audit_budget(ev->sandbox))
		return verdict;

	ev->verdict = verdict == DENY ? ASB_EV_DENY : ASB_EV_ALLOW;
	ev->time_ns = bpf_ktime_get_boot_ns();
	if (task) {
		ev->pid = bpf_get_current_pid_tgid() >> 32;
		ev->tid = (__u32)bpf_get_current_pid_tgid();
		ev->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	}
	if (bpf_ringbuf_output(&asb_events, ev, sizeof(*ev), 0)) {
		drops = bpf_map_lookup_elem(&asb_drops, &zero);
		if (drops)
			__sync_fetch_and_add(drops, 1);
	}
	log_line(ev, act);
	return verdict;
}

static __always_inline int finish(struct asb_event *ev, const char *act,
				  const struct asb_sb_conf *conf, int verdict)
{
	return record(ev, act, conf, verdict, true);
}

/* First range of @v that holds @port; sets the event's rule and flags. */
static __always_inline int match_ports(struct asb_event *ev,
				       const struct asb_net_val *v, __u16 port)
{
	int i;

	if (!v)
		return DENY;
	for (i = 0; i < ASB_NET_RANGES; i++) {
		if (i >= v->n)
			break;
		if (port >= v->r[i].lo && port <= v->r[i].hi) {
			ev->rule = v->r[i].rule;
			if (v->ask & (1u << i))
				ev->flags |= ASB_EVF_ASK;
			return ALLOW;
		}
	}
	return DENY;
}

/*
 * An approve.connect destination: allowed only by the one-shot entry agentd
 * left for this thread, for this address (the kernel's copy) and port. The
 * entry is consumed whatever the outcome: one approval, one connect.
 */
static __always_inline int oneshot(struct asb_event *ev, __u32 family,
				   const __u8 *addr, int alen)
{
	struct asb_oneshot_key key = {
		.sandbox = ev->sandbox,
		.tid = (__u32)bpf_get_current_pid_tgid(),
	};
	struct asb_oneshot_val *v = bpf_map_lookup_elem(&asb_oneshot, &key);
	int i, ok;

	if (!v)
		return DENY;
	ok = v->family == family && v->port == ev->port;
	for (i = 0; i < 16; i++)
		if (i < alen && v->addr[i] != addr[i])
			ok = 0;
	/* a racing connect of the same thread cannot reuse it */
	if (bpf_map_delete_elem(&asb_oneshot, &key))
		return DENY;
	return ok ? ALLOW : DENY;
}

static __always_inline int ask_check(struct asb_event *ev, int verdict,
				     __u32 family, const __u8 *addr, int alen)
{
	if (verdict != ALLOW || !(ev->flags & ASB_EVF_ASK))
		return verdict;
	return oneshot(ev, family, addr, alen);
}

static __always_inline int decide4(struct asb_event *ev, __u32 set,
				   __u32 kind, __u32 ip4, __u16 port)
{
	struct asb_net4_key key = {
		.prefixlen = ASB_NET_KEY_BITS + 32,
		.set = set,
		.kind = kind,
	};

	__builtin_memcpy(key.addr, &ip4, 4);
	return match_ports(ev, bpf_map_lookup_elem(&asb_net4, &key), port);
}

static __always_inline int check_inet4(struct bpf_sock_addr *ctx, __u32 action,
				       const char *act, __u32 kind)
{
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	__u32 sbid = ASB_SB_NONE;
	__u32 ip4;
	int verdict;

	ev = ev_begin(action);
	if (!ev)
		return DENY;
	ip4 = ctx->user_ip4;
	ev->family = AF_INET;
	ev->sock_type = ctx->type;
	ev->protocol = ctx->protocol;
	ev->port = bpf_ntohs(ctx->user_port);
	__builtin_memcpy(ev->addr, &ip4, 4);

	conf = find_sandbox(&sbid);
	ev->sandbox = sbid;
	if (!conf)
		return finish(ev, act, NULL, DENY);
	ev->rule = conf->default_rule;
	verdict = decide4(ev, conf->set, kind, ip4, ev->port);
	verdict = ask_check(ev, verdict, AF_INET, (__u8 *)&ip4, 4);
	return finish(ev, act, conf, verdict);
}

static __always_inline int check_inet6(struct bpf_sock_addr *ctx, __u32 action,
				       const char *act, __u32 kind)
{
	struct asb_net6_key key = {
		.prefixlen = ASB_NET_KEY_BITS + 128,
		.kind = kind,
	};
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	__u32 sbid = ASB_SB_NONE;
	__u32 w[4];
	int verdict;

	ev = ev_begin(action);
	if (!ev)
		return DENY;
	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	ev->family = AF_INET6;
	ev->sock_type = ctx->type;
	ev->protocol = ctx->protocol;
	ev->port = bpf_ntohs(ctx->user_port);
	__builtin_memcpy(ev->addr, w, 16);

	conf = find_sandbox(&sbid);
	ev->sandbox = sbid;
	if (!conf)
		return finish(ev, act, NULL, DENY);
	ev->rule = conf->default_rule;

	/* ::ffff:a.b.c.d reaches an IPv4 address: the IPv4 rules decide. */
	if (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff)) {
		verdict = decide4(ev, conf->set, kind, w[3], ev->port);
		verdict = ask_check(ev, verdict, AF_INET, (__u8 *)&w[3], 4);
		return finish(ev, act, conf, verdict);
	}
	key.set = conf->set;
	__builtin_memcpy(key.addr, w, 16);
	verdict = match_ports(ev, bpf_map_lookup_elem(&asb_net6, &key),
			      ev->port);
	verdict = ask_check(ev, verdict, AF_INET6, (__u8 *)w, 16);
	return finish(ev, act, conf, verdict);
}

SEC("cgroup/connect4")
int asb_connect4(struct bpf_sock_addr *ctx)
{
	return check_inet4(ctx, ASB_ACT_CONNECT4, "connect4",
			   ASB_RULE_NET_CONNECT);
}

SEC("cgroup/connect6")
int asb_connect6(struct bpf_sock_addr *ctx)
{
	return check_inet6(ctx, ASB_ACT_CONNECT6, "connect6",
			   ASB_RULE_NET_CONNECT);
}

SEC("cgroup/sendmsg4")
int asb_sendmsg4(struct bpf_sock_addr *ctx)
{
	return check_inet4(ctx, ASB_ACT_SENDMSG4, "sendmsg4",
			   ASB_RULE_NET_CONNECT);
}

SEC("cgroup/sendmsg6")
int asb_sendmsg6(struct bpf_sock_addr *ctx)
{
	return check_inet6(ctx, ASB_ACT_SENDMSG6, "sendmsg6",
			   ASB_RULE_NET_CONNECT);
}

/*
 * bind() to port 0 (an ephemeral port) is allowed only by a rule whose
 * range holds 0, i.e. a rule without a port: the kernel picks the port,
 * so a rule naming ports cannot vouch for it.
 */
SEC("cgroup/bind4")
int asb_bind4(struct bpf_sock_addr *ctx)
{
	return check_inet4(ctx, ASB_ACT_BIND4, "bind4",
			   ASB_RULE_NET_BIND);
}

SEC("cgroup/bind6")
int asb_bind6(struct bpf_sock_addr *ctx)
{
	return check_inet6(ctx, ASB_ACT_BIND6, "bind6",
			   ASB_RULE_NET_BIND);
}

/* @sk's local address and port (into the event) granted by a net.bind
 * rule */
static __always_inline int bound_by_rule(struct asb_event *ev,
					 const struct asb_sb_conf *conf,
					 struct bpf_sock *sk)
{
	struct asb_net6_key key = {
		.prefixlen = ASB_NET_KEY_BITS + 128,
		.set = conf->set,
		.kind = ASB_RULE_NET_BIND,
	};
	__u32 w[4];

	ev->port = (__u16)sk->src_port;
	if (sk->family == AF_INET) {
		w[0] = sk->src_ip4;
		__builtin_memcpy(ev->addr, w, 4);
		return decide4(ev, conf->set, ASB_RULE_NET_BIND, w[0],
			       ev->port);
	}
	w[0] = sk->src_ip6[0];
	w[1] = sk->src_ip6[1];
	w[2] = sk->src_ip6[2];
	w[3] = sk->src_ip6[3];
	__builtin_memcpy(ev->addr, w, 16);
	/* bound to ::ffff:a.b.c.d: the IPv4 rules decided the bind */
	if (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff))
		return decide4(ev, conf->set, ASB_RULE_NET_BIND, w[3],
			       ev->port);
	__builtin_memcpy(key.addr, w, 16);
	return match_ports(ev, bpf_map_lookup_elem(&asb_net6, &key), ev->port);
}

/*
 * TCP listeners. listen() on a socket never bound takes an ephemeral port
 * past the bind hooks (no cgroup hook runs at listen, and the portable
 * backend has no LSM one): a listener whose address and port no net.bind
 * rule grants gets no connection. The kernel filters a listener's segments
 * (SYNs, handshake ACKs, cookies) through its cgroup's ingress programs:
 * they are dropped here.
 */
static __always_inline int listener(struct __sk_buff *skb,
				    struct bpf_sock *sk)
{
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	__u32 sbid = ASB_SB_NONE;

	ev = ev_begin(sk->family == AF_INET ? ASB_ACT_LISTEN4 :
					      ASB_ACT_LISTEN6);
	if (!ev)
		return DENY;
	ev->family = sk->family;
	ev->sock_type = sk->type;
	ev->protocol = sk->protocol;
	if (!member_skb(skb, &sbid))
		return ALLOW;	/* attached above a sandbox: not ours */
	ev->sandbox = sbid;
	conf = bpf_map_lookup_elem(&asb_sandbox, &sbid);
	if (!conf)
		return record(ev, "listen", NULL, DENY, false);
	ev->rule = conf->default_rule;
	if (bound_by_rule(ev, conf, sk) == ALLOW)
		return ALLOW;
	return record(ev, "listen", conf, DENY, false);
}

struct udp_ports {
	__be16 source;
	__be16 dest;
};

/*
 * UDP. A socket that no net.bind rule binds (an ephemeral port, taken by
 * its first send) receives only from the addresses and ports it may send
 * to: net.connect and approve.connect (the answer to an approved send).
 * Anything else, from anyone on the network or the host, is dropped here,
 * before it is queued. The packet starts at its IP header; an IPv6 one
 * whose next header is not UDP (extension headers) is dropped too.
 */
static __always_inline int datagram(struct __sk_buff *skb,
				    struct bpf_sock *sk)
{
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	struct udp_ports up;
	__u32 sbid = ASB_SB_NONE;
	bool v4 = skb->protocol == bpf_htons(0x0800);	/* ETH_P_IP */
	int verdict;

	ev = ev_begin(v4 ? ASB_ACT_RECV4 : ASB_ACT_RECV6);
	if (!ev)
		return DENY;
	ev->family = sk->family;
	ev->sock_type = sk->type;
	ev->protocol = sk->protocol;
	if (!member_skb(skb, &sbid))
		return ALLOW;	/* attached above a sandbox: not ours */
	ev->sandbox = sbid;
	conf = bpf_map_lookup_elem(&asb_sandbox, &sbid);
	if (!conf)
		return record(ev, "recv", NULL, DENY, false);
	ev->rule = conf->default_rule;
	if (bound_by_rule(ev, conf, sk) == ALLOW)
		return ALLOW;
	ev->rule = conf->default_rule;
	ev->flags = 0;
	if (v4) {
		struct iphdr ip;
		__u32 saddr;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) ||
		    (ip.protocol != IPPROTO_UDP &&
		     ip.protocol != IPPROTO_UDPLITE) ||
		    bpf_skb_load_bytes(skb, ip.ihl * 4, &up, sizeof(up)))
			return record(ev, "recv", conf, DENY, false);
		saddr = ip.saddr;
		__builtin_memcpy(ev->addr, &saddr, 4);
		ev->port = bpf_ntohs(up.source);
		verdict = decide4(ev, conf->set, ASB_RULE_NET_CONNECT, saddr,
				  ev->port);
	} else {
		struct asb_net6_key key = {
			.prefixlen = ASB_NET_KEY_BITS + 128,
			.set = conf->set,
			.kind = ASB_RULE_NET_CONNECT,
		};
		struct ipv6hdr ip6;

		if (skb->protocol != bpf_htons(0x86dd) ||	/* ETH_P_IPV6 */
		    bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) ||
		    (ip6.nexthdr != IPPROTO_UDP &&
		     ip6.nexthdr != IPPROTO_UDPLITE) ||
		    bpf_skb_load_bytes(skb, sizeof(ip6), &up, sizeof(up)))
			return record(ev, "recv", conf, DENY, false);
		__builtin_memcpy(ev->addr, &ip6.saddr, 16);
		__builtin_memcpy(key.addr, &ip6.saddr, 16);
		ev->port = bpf_ntohs(up.source);
		verdict = match_ports(ev, bpf_map_lookup_elem(&asb_net6, &key),
				      ev->port);
	}
	if (verdict == ALLOW)
		return ALLOW;
	ev->flags = 0;
	return record(ev, "recv", conf, DENY, false);
}

/* Established TCP connections pass at the first test. */
SEC("cgroup_skb/ingress")
int asb_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return ALLOW;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return ALLOW;
	if (sk->state == BPF_TCP_LISTEN)
		return listener(skb, sk);
	if (sk->protocol == IPPROTO_UDP || sk->protocol == IPPROTO_UDPLITE)
		return datagram(skb, sk);
	return ALLOW;
}

/*
 * Unix sockets. The sockaddr is read from the kernel copy the hook sees
 * (bpf_sock_addr_kern.uaddr, uaddrlen bytes; the buffer behind it is a
 * sockaddr_storage, so sun_path can be read whole) and normalised into an
 * LPM key: a pathname up to its first NUL, an abstract name as "\0name".
 * Denied outright: unnamed addresses, relative pathnames (never match an
 * absolute rule), pathnames with a ".." component (could leave a subtree
 * rule) and abstract names containing a NUL byte.
 * The name is matched as a string: symlinks are not resolved here.
 */
static __always_inline int check_unix(struct bpf_sock_addr *ctx, __u32 action,
				      const char *act)
{
	struct bpf_sock_addr_kern *sa = bpf_cast_to_kern_ctx(ctx);
	struct asb_unix_key key = {
		.prefixlen = ASB_UNIX_KEY_BITS + ASB_UNIX_PATH_MAX * 8,
	};
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	__u32 sbid = ASB_SB_NONE;
	bool abstract, bad = false;
	int i, n, len;
	__u32 *rule;
	char c3;

	ev = ev_begin(action);
	if (!ev)
		return DENY;
	ev->family = AF_UNIX;
	ev->sock_type = ctx->type;

	len = (int)sa->uaddrlen - 2;	/* minus sun_family */
	if (len > ASB_UNIX_PATH_MAX)
		len = ASB_UNIX_PATH_MAX;
	if (len <= 0 || bpf_probe_read_kernel(key.path, sizeof(key.path),
					      (char *)sa->uaddr + 2)) {
		len = 0;
		bad = true;
	}
	abstract = !bad && key.path[0] == 0;

	/*
	 * Simple loops, one concern each, keep the verifier's state count
	 * low. The name is len bytes; a pathname also ends at its first NUL.
	 */
	n = len;
	if (!abstract) {
		for (i = 0; i < ASB_UNIX_PATH_MAX; i++)
			if (i >= len || !key.path[i])
				break;
		n = i;
	} else {
		for (i = 1; i < ASB_UNIX_PATH_MAX; i++)
			if (i < len && !key.path[i])
				bad = true;
	}
	for (i = 0; i < ASB_UNIX_PATH_MAX; i++)
		if (i >= n)
			key.path[i] = 0;
	if (!abstract) {
		if (key.path[0] != '/')
			bad = true;
		for (i = 0; i + 2 < ASB_UNIX_PATH_MAX; i++) {
			c3 = i + 3 < ASB_UNIX_PATH_MAX ? key.path[i + 3] : 0;
			if (key.path[i] == '/' && key.path[i + 1] == '.' &&
			    key.path[i + 2] == '.' && (c3 == '/' || !c3))
				bad = true;
		}
	}
	__builtin_memcpy(ev->path, key.path, sizeof(ev->path));
	if (abstract) {
		ev->path[0] = '@';
		ev->flags |= ASB_EVF_ABSTRACT;
	}
	ev->path[ASB_UNIX_PATH_MAX - 1] = 0;

	conf = find_sandbox(&sbid);
	ev->sandbox = sbid;
	if (!conf)
		return finish(ev, act, NULL, DENY);
	ev->rule = conf->default_rule;
	if (bad)
		return finish(ev, act, conf, DENY);

	key.set = conf->set;
	rule = bpf_map_lookup_elem(&asb_unix, &key);
	if (!rule)
		return finish(ev, act, conf, DENY);
	ev->rule = *rule;
	return finish(ev, act, conf, ALLOW);
}

/*
 * libbpf 1.1 has no section names for the unix hooks: agentd sets the
 * expected attach types (BPF_CGROUP_UNIX_CONNECT/SENDMSG) before load.
 */
SEC("cgroup/sock_addr")
int asb_unix_connect(struct bpf_sock_addr *ctx)
{
	return check_unix(ctx, ASB_ACT_UNIX_CONNECT, "unix_connect");
}

SEC("cgroup/sock_addr")
int asb_unix_sendmsg(struct bpf_sock_addr *ctx)
{
	return check_unix(ctx, ASB_ACT_UNIX_SENDMSG, "unix_sendmsg");
}

/*
 * socket(). The kernel runs this hook for AF_INET and AF_INET6 sockets
 * only; the other families of net.deny_families (packet, netlink, ...)
 * need the seccomp filter. Raw sockets are refused with ASB_SB_DENY_RAW.
 * Other inet protocols than TCP, UDP(-Lite) and MPTCP are refused: their
 * sends (ping sockets, SCTP) bypass the connect/sendmsg hooks, so
 * net.connect could not be enforced on them.
 */
/*
 * The error queue. ICMP errors are queued to a socket with IP_RECVERR
 * (IPV6_RECVERR) without passing the ingress program, each carrying the
 * bytes its sender chose from any address: a way in past the UDP filter.
 * Refused, and recorded.
 */
#define SOL_IP			0
#define SOL_IPV6		41
#define IP_RECVERR		11
#define IP_RECVERR_RFC4884	26
#define IPV6_RECVERR		25
#define IPV6_RECVERR_RFC4884	31

SEC("cgroup/setsockopt")
int asb_setsockopt(struct bpf_sockopt *ctx)
{
	int level = ctx->level, name = ctx->optname;
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	__u32 sbid = ASB_SB_NONE;

	if (!(level == SOL_IP && (name == IP_RECVERR ||
				  name == IP_RECVERR_RFC4884)) &&
	    !(level == SOL_IPV6 && (name == IPV6_RECVERR ||
				    name == IPV6_RECVERR_RFC4884))) {
		/* past a page the kernel uses the caller's buffer as is */
		if (ctx->optlen > 4096)
			ctx->optlen = 0;
		return ALLOW;
	}
	ev = ev_begin(ASB_ACT_SOCKOPT);
	if (!ev)
		return DENY;
	ev->sock_type = level;
	ev->protocol = name;
	conf = find_sandbox(&sbid);
	ev->sandbox = sbid;
	if (conf)
		ev->rule = conf->default_rule;
	return finish(ev, "setsockopt", conf, DENY);
}

SEC("cgroup/sock_create")
int asb_sock_create(struct bpf_sock *sk)
{
	const struct asb_sb_conf *conf;
	const char *act = "socket";
	struct asb_event *ev;
	__u32 sbid = ASB_SB_NONE;
	__u32 family = sk->family, type = sk->type, proto = sk->protocol;

	ev = ev_begin(ASB_ACT_SOCKET);
	if (!ev)
		return DENY;
	ev->family = family;
	ev->sock_type = type;
	ev->protocol = proto;

	conf = find_sandbox(&sbid);
	ev->sandbox = sbid;
	if (!conf)
		return finish(ev, act, NULL, DENY);

	ev->rule = ASB_RULE_FAMILIES;
	if (family < 64 && (conf->deny_families >> family) & 1)
		return finish(ev, act, conf, DENY);
	if (family != AF_INET && family != AF_INET6)
		return ALLOW;
	if (type == SOCK_RAW)
		return finish(ev, act, conf, conf->flags & ASB_SB_DENY_RAW ?
				      DENY : ALLOW);
	ev->rule = conf->default_rule;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
	    proto != IPPROTO_UDPLITE && proto != IPPROTO_MPTCP)
		return finish(ev, act, conf, DENY);
	return ALLOW;
}
