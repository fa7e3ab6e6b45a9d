// SPDX-License-Identifier: BSD-3-Clause
/*
 * Loader of the cgroup BPF socket filter (bpf/sock.bpf.c).
 *
 * Persistence: programs are attached with the legacy BPF_PROG_ATTACH and
 * BPF_F_ALLOW_MULTI, so an attachment lives as long as the cgroup, not as
 * long as agentd. Maps and programs are pinned under the pin directory; a
 * restarted agentd reopens them there and so keeps updating the very maps
 * the attached programs read, and can detach the very programs.
 *
 * Replacement of a sandbox's rules: see asb_sockfilter_set_sandbox().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sockfilter.h"
#include "sock.skel.h"

/* Debian's UAPI headers predate the unix sock_addr hooks. */
#define ASB_BPF_CGROUP_UNIX_CONNECT	49
#define ASB_BPF_CGROUP_UNIX_SENDMSG	50

enum {
	M_MEMBER, M_LEVELS, M_SANDBOX, M_NET4, M_NET6, M_UNIX, M_DENIES,
	M_DROPS, M_EVENTS, M_ONESHOT, M_BUDGET, N_MAPS
};

static const char *const map_names[N_MAPS] = {
	[M_MEMBER] = "asb_member",
	[M_LEVELS] = "asb_levels",
	[M_SANDBOX] = "asb_sandbox",
	[M_NET4] = "asb_net4",
	[M_NET6] = "asb_net6",
	[M_UNIX] = "asb_unix",
	[M_DENIES] = "asb_denies",
	[M_DROPS] = "asb_drops",
	[M_EVENTS] = "asb_events",
	[M_ONESHOT] = "asb_oneshot",
	[M_BUDGET] = "asb_budget",
};

#define SOCK_ADDR	BPF_PROG_TYPE_CGROUP_SOCK_ADDR

static const struct {
	const char *name;
	int prog_type;	/* enum bpf_prog_type */
	int type;	/* enum bpf_attach_type */
} progs[] = {
	{ "asb_connect4", SOCK_ADDR, BPF_CGROUP_INET4_CONNECT },
	{ "asb_connect6", SOCK_ADDR, BPF_CGROUP_INET6_CONNECT },
	{ "asb_sendmsg4", SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG },
	{ "asb_sendmsg6", SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG },
	{ "asb_bind4", SOCK_ADDR, BPF_CGROUP_INET4_BIND },
	{ "asb_bind6", SOCK_ADDR, BPF_CGROUP_INET6_BIND },
	{ "asb_unix_connect", SOCK_ADDR, ASB_BPF_CGROUP_UNIX_CONNECT },
	{ "asb_unix_sendmsg", SOCK_ADDR, ASB_BPF_CGROUP_UNIX_SENDMSG },
	{ "asb_sock_create", BPF_PROG_TYPE_CGROUP_SOCK,
	  BPF_CGROUP_INET_SOCK_CREATE },
	{ "asb_ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS },
	{ "asb_setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT,
	  BPF_CGROUP_SETSOCKOPT },
};

#define N_PROGS ((int)(sizeof(progs) / sizeof(progs[0])))

struct asb_sockfilter {
	int map_fd[N_MAPS];
	int prog_fd[N_PROGS];
	__u32 prog_id[N_PROGS];
	int ncpus;
	struct ring_buffer *rb;
	int (*cb)(void *ctx, const struct asb_event *ev);
	void *cb_ctx;
	char broker[ASB_UNIX_PATH_MAX];	/* implicit net.unix, or "" */
};

static void close_fds(struct asb_sockfilter *sf)
{
	int i;

	for (i = 0; i < N_MAPS; i++) {
		if (sf->map_fd[i] >= 0)
			close(sf->map_fd[i]);
		sf->map_fd[i] = -1;
	}
	for (i = 0; i < N_PROGS; i++) {
		if (sf->prog_fd[i] >= 0)
			close(sf->prog_fd[i]);
		sf->prog_fd[i] = -1;
	}
}

static const char *pin_name(int i)
{
	return i < N_MAPS ? map_names[i] : progs[i - N_MAPS].name;
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int dup_fd(int fd)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	return nfd < 0 ? -errno : nfd;
}

/* How many of our pins exist in @dir: 0, all, or something in between. */
static int count_pins(const char *dir, int *n)
{
	char path[PATH_MAX];
	struct stat st;
	int i, err;

	*n = 0;
	for (i = 0; i < N_MAPS + N_PROGS; i++) {
		err = pin_path(path, sizeof(path), dir, pin_name(i));
		if (err)
			return err;
		if (!stat(path, &st))
			(*n)++;
		else if (errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* A pinned map must have the layout this build's programs have. */
static int check_map(int fd, const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != bpf_map__type(map) ||
	    info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map))
		return -EPROTO;
	return 0;
}

static int reuse_pins(struct asb_sockfilter *sf, struct sock_bpf *skel,
		      const char *dir)
{
	struct bpf_prog_info info;
	char path[PATH_MAX];
	__u32 len;
	int i, err;

	for (i = 0; i < N_MAPS; i++) {
		err = pin_path(path, sizeof(path), dir, map_names[i]);
		if (err)
			return err;
		sf->map_fd[i] = bpf_obj_get(path);
		if (sf->map_fd[i] < 0)
			return -errno;
		err = check_map(sf->map_fd[i],
				bpf_object__find_map_by_name(skel->obj,
							     map_names[i]));
		if (err)
			return err;
	}
	for (i = 0; i < N_PROGS; i++) {
		err = pin_path(path, sizeof(path), dir, progs[i].name);
		if (err)
			return err;
		sf->prog_fd[i] = bpf_obj_get(path);
		if (sf->prog_fd[i] < 0)
			return -errno;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(sf->prog_fd[i], &info, &len))
			return -errno;
		if (info.type != (__u32)progs[i].prog_type)
			return -EPROTO;
		sf->prog_id[i] = info.id;
	}
	return 0;
}

static int unpin_all(const char *dir)
{
	char path[PATH_MAX];
	int i, err, ret = 0;

	for (i = 0; i < N_MAPS + N_PROGS; i++) {
		err = pin_path(path, sizeof(path), dir, pin_name(i));
		if (err)
			return err;
		if (unlink(path) && errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret;
}

int asb_sockfilter_unpin(const char *pin_dir)
{
	int err;

	if (!pin_dir)
		return -EINVAL;
	err = unpin_all(pin_dir);
	if (!err && rmdir(pin_dir) && errno != ENOENT && errno != ENOTEMPTY)
		err = -errno;
	return err;
}

static int pin_all(struct asb_sockfilter *sf, const char *dir)
{
	char path[PATH_MAX];
	int i, fd, err;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < N_MAPS + N_PROGS; i++) {
		err = pin_path(path, sizeof(path), dir, pin_name(i));
		if (err)
			goto fail;
		fd = i < N_MAPS ? sf->map_fd[i] : sf->prog_fd[i - N_MAPS];
		if (bpf_obj_pin(fd, path)) {
			err = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	unpin_all(dir);
	return err;
}

static int load_fresh(struct asb_sockfilter *sf, struct sock_bpf *skel)
{
	struct bpf_prog_info info;
	struct bpf_program *prog;
	struct bpf_map *map;
	__u32 len;
	int i, fd;

	for (i = 0; i < N_PROGS; i++) {
		prog = bpf_object__find_program_by_name(skel->obj,
							progs[i].name);
		if (!prog)
			return -ENOENT;
		if (bpf_program__set_type(prog, progs[i].prog_type) ||
		    bpf_program__set_expected_attach_type(prog, progs[i].type))
			return -EINVAL;
	}
	if (sock_bpf__load(skel))
		return -errno ? -errno : -EINVAL;

	for (i = 0; i < N_MAPS; i++) {
		map = bpf_object__find_map_by_name(skel->obj, map_names[i]);
		if (!map)
			return -ENOENT;
		fd = dup_fd(bpf_map__fd(map));
		if (fd < 0)
			return fd;
		sf->map_fd[i] = fd;
	}
	for (i = 0; i < N_PROGS; i++) {
		prog = bpf_object__find_program_by_name(skel->obj,
							progs[i].name);
		fd = dup_fd(bpf_program__fd(prog));
		if (fd < 0)
			return fd;
		sf->prog_fd[i] = fd;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		sf->prog_id[i] = info.id;
	}
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct asb_sockfilter *sf = ctx;
	struct asb_event ev;

	if (size < sizeof(ev))
		return 0;	/* not ours: skip */
	memcpy(&ev, data, sizeof(ev));
	ev.comm[sizeof(ev.comm) - 1] = 0;
	ev.path[sizeof(ev.path) - 1] = 0;
	return sf->cb ? sf->cb(sf->cb_ctx, &ev) : 0;
}

int asb_sockfilter_open(struct asb_sockfilter **out, const char *pin_dir)
{
	struct asb_sockfilter *sf;
	struct sock_bpf *skel;
	int i, n = 0, err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	for (i = 0; i < N_MAPS; i++)
		sf->map_fd[i] = -1;
	for (i = 0; i < N_PROGS; i++)
		sf->prog_fd[i] = -1;
	sf->ncpus = libbpf_num_possible_cpus();
	if (sf->ncpus <= 0) {
		err = sf->ncpus < 0 ? sf->ncpus : -EINVAL;
		free(sf);
		return err;
	}

	skel = sock_bpf__open();
	if (!skel) {
		err = -errno ? -errno : -EINVAL;
		free(sf);
		return err;
	}
	err = pin_dir ? count_pins(pin_dir, &n) : 0;
	if (err)
		goto out;
	if (n == N_MAPS + N_PROGS) {
		err = reuse_pins(sf, skel, pin_dir);
	} else if (n) {
		err = -ESTALE;	/* a partial set: refuse to guess */
	} else {
		err = load_fresh(sf, skel);
		if (!err && pin_dir)
			err = pin_all(sf, pin_dir);
	}
	if (err)
		goto out;

	sf->rb = ring_buffer__new(sf->map_fd[M_EVENTS], on_sample, sf, NULL);
	if (!sf->rb)
		err = -errno ? -errno : -ENOMEM;
out:
	sock_bpf__destroy(skel);
	if (err) {
		close_fds(sf);
		free(sf);
		return err;
	}
	*out = sf;
	return 0;
}

int asb_sockfilter_map_fd(struct asb_sockfilter *sf, const char *name)
{
	for (int i = 0; sf && i < N_MAPS; i++)
		if (!strcmp(map_names[i], name))
			return sf->map_fd[i];
	return -ENOENT;
}

void asb_sockfilter_close(struct asb_sockfilter *sf)
{
	if (!sf)
		return;
	ring_buffer__free(sf->rb);
	close_fds(sf);
	free(sf);
}

/* ---- rule sets ---- */

static __u32 key_set(const void *key)
{
	__u32 set;

	/* Every rule key is { __u32 prefixlen; __u32 set; ... }. */
	memcpy(&set, (const char *)key + sizeof(__u32), sizeof(set));
	return set;
}

/* Delete every entry of rule set @set from map @fd (key size @ksz). */
static int purge_set(int fd, size_t ksz, __u32 set)
{
	char prev[sizeof(struct asb_unix_key)], cur[sizeof(prev)];
	char *keys = NULL, *tmp;
	size_t n = 0, cap = 0, i;
	bool first = true;
	int err = 0;

	if (ksz > sizeof(cur))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, first ? NULL : prev, cur)) {
		first = false;
		memcpy(prev, cur, ksz);
		if (key_set(cur) != set)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(keys, cap * ksz);
			if (!tmp) {
				free(keys);
				return -ENOMEM;
			}
			keys = tmp;
		}
		memcpy(keys + n++ * ksz, cur, ksz);
	}
	if (errno != ENOENT)
		err = -errno;
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksz) &&
		    errno != ENOENT && !err)
			err = -errno;
	free(keys);
	return err;
}

static int purge_bank(struct asb_sockfilter *sf, __u32 set)
{
	int err, ret = 0;

	err = purge_set(sf->map_fd[M_NET4], sizeof(struct asb_net4_key), set);
	ret = ret ? ret : err;
	err = purge_set(sf->map_fd[M_NET6], sizeof(struct asb_net6_key), set);
	ret = ret ? ret : err;
	err = purge_set(sf->map_fd[M_UNIX], sizeof(struct asb_unix_key), set);
	return ret ? ret : err;
}

static bool is_connect(__u16 kind)
{
	return kind == ASB_RULE_NET_CONNECT || kind == ASB_RULE_ASK_CONNECT;
}

/* Does rule @r (prefix) cover address @addr? */
static bool covers(const struct asb_image_rule *r, const __u8 *addr)
{
	unsigned int full = r->prefix / 8, rest = r->prefix % 8;
	__u8 mask = (__u8)(0xff << (8 - rest));

	if (memcmp(r->addr, addr, full))
		return false;
	return !rest || !((r->addr[full] ^ addr[full]) & mask);
}

struct cand {
	__u8 prefix;
	bool ask;
	__u32 rule;
	__u16 lo, hi;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->prefix != y->prefix)
		return x->prefix > y->prefix ? -1 : 1;
	if (x->ask != y->ask)
		return x->ask ? 1 : -1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void mask_addr(__u8 *out, const __u8 *in, unsigned int prefix)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8)
			out[i] = in[i];
		else if (prefix)
			out[i] = in[i] & (__u8)(0xff << (8 - prefix));
		else
			out[i] = 0;
		prefix = prefix >= 8 ? prefix - 8 : 0;
	}
}

/*
 * One LPM entry per distinct (kind, family, prefix): its own port ranges
 * plus those of every shorter prefix of the same kind that covers it, most
 * specific first, so that the longest-prefix match alone decides.
 */
static int add_net(struct asb_sockfilter *sf, __u32 set,
		   const struct asb_image_rule *rules, __u32 first, __u32 n,
		   __u32 i)
{
	const struct asb_image_rule *r = &rules[first + i];
	bool v4 = r->family == ASB_NET_IP4;
	struct cand c[ASB_NET_RANGES];
	struct asb_net_val val = {};
	__u32 kind = is_connect(r->kind) ? ASB_RULE_NET_CONNECT : r->kind;
	__u8 addr[16];
	__u32 j, nc = 0;
	int err;

	mask_addr(addr, r->addr, r->prefix);
	for (j = 0; j < n; j++) {
		const struct asb_image_rule *o = &rules[first + j];
		__u8 oaddr[16];

		if (o->family != r->family ||
		    is_connect(o->kind) != is_connect(r->kind) ||
		    (!is_connect(o->kind) && o->kind != r->kind))
			continue;
		mask_addr(oaddr, o->addr, o->prefix);
		/* This group was already written by an earlier rule. */
		if (j < i && o->prefix == r->prefix &&
		    !memcmp(oaddr, addr, 16))
			return 0;
		if (o->prefix > r->prefix || !covers(o, addr))
			continue;
		if (nc == ASB_NET_RANGES)
			return -E2BIG;
		c[nc].prefix = o->prefix;
		c[nc].ask = o->kind == ASB_RULE_ASK_CONNECT;
		c[nc].rule = first + j;
		c[nc].lo = o->port_lo;
		c[nc].hi = o->port_hi;
		nc++;
	}
	qsort(c, nc, sizeof(c[0]), cand_cmp);
	val.n = nc;
	for (j = 0; j < nc; j++) {
		val.r[j].lo = c[j].lo;
		val.r[j].hi = c[j].hi;
		val.r[j].rule = c[j].rule;
		if (c[j].ask)
			val.ask |= 1u << j;
	}

	if (v4) {
		struct asb_net4_key k = {
			.prefixlen = ASB_NET_KEY_BITS + r->prefix,
			.set = set, .kind = kind,
		};

		memcpy(k.addr, addr, 4);
		err = bpf_map_update_elem(sf->map_fd[M_NET4], &k, &val,
					  BPF_NOEXIST);
	} else {
		struct asb_net6_key k = {
			.prefixlen = ASB_NET_KEY_BITS + r->prefix,
			.set = set, .kind = kind,
		};

		memcpy(k.addr, addr, 16);
		err = bpf_map_update_elem(sf->map_fd[M_NET6], &k, &val,
					  BPF_NOEXIST);
	}
	return err ? -errno : 0;
}

static int put_unix(struct asb_sockfilter *sf, __u32 set, const char *path,
		    size_t len, __u32 rule)
{
	struct asb_unix_key k = {
		.prefixlen = ASB_UNIX_KEY_BITS + len * 8,
		.set = set,
	};

	if (len > ASB_UNIX_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(k.path, path, len);
	if (bpf_map_update_elem(sf->map_fd[M_UNIX], &k, &rule, BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	return 0;	/* on EEXIST the earlier (lower) rule index stays */
}

/*
 * net.unix: "/a/b" grants the socket /a/b and every socket below /a/b/;
 * "/a/b/" only those below; "@name" the abstract socket "name" exactly.
 */
static int add_unix(struct asb_sockfilter *sf, __u32 set,
		    const struct asb_image *img, const struct asb_image_rule *r,
		    __u32 idx)
{
	char buf[ASB_UNIX_PATH_MAX + 1];
	const char *p = asb_image_str(img, r->path);
	size_t len;
	int err;

	if (!p || !*p)
		return -EINVAL;
	len = strlen(p);
	if (p[0] == '@') {
		if (len + 1 > ASB_UNIX_PATH_MAX)
			return -ENAMETOOLONG;
		buf[0] = 0;
		memcpy(buf + 1, p + 1, len - 1);
		buf[len] = 0;
		return put_unix(sf, set, buf, len + 1, idx);
	}
	if (p[0] != '/')
		return -EINVAL;
	if (len >= ASB_UNIX_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, p, len + 1);
	if (p[len - 1] == '/')
		return put_unix(sf, set, buf, len, idx);
	err = put_unix(sf, set, buf, len + 1, idx);
	if (err)
		return err;
	buf[len] = '/';
	return put_unix(sf, set, buf, len + 1, idx);
}

static int check_rule(const struct asb_image_rule *r)
{
	unsigned int bits;

	switch (r->kind) {
	case ASB_RULE_NET_CONNECT:
	case ASB_RULE_NET_BIND:
	case ASB_RULE_ASK_CONNECT:
		if (r->family != ASB_NET_IP4 && r->family != ASB_NET_IP6)
			return -EINVAL;
		bits = r->family == ASB_NET_IP4 ? 32 : 128;
		if (r->prefix > bits || r->port_lo > r->port_hi)
			return -EINVAL;
		return 1;
	case ASB_RULE_NET_UNIX:
		return 2;
	default:
		return 0;	/* not a socket rule */
	}
}

static int fill_bank(struct asb_sockfilter *sf, __u32 set,
		     const struct asb_image *img,
		     const struct asb_image_sandbox *sb)
{
	const struct asb_image_rule *rules = asb_image_rules(img);
	__u32 i;
	int t, err;

	for (i = 0; i < sb->n_rules; i++) {
		t = check_rule(&rules[sb->first_rule + i]);
		if (t < 0)
			return t;
		if (t == 1)
			err = add_net(sf, set, rules, sb->first_rule,
				      sb->n_rules, i);
		else if (t == 2)
			err = add_unix(sf, set, img, &rules[sb->first_rule + i],
				       sb->first_rule + i);
		else
			err = 0;
		if (err)
			return err;
	}
	/* a sandbox with secrets can always reach the secret broker */
	if (sb->n_secrets && sf->broker[0])
		return put_unix(sf, set, sf->broker, strlen(sf->broker) + 1,
				ASB_RULE_NONE);
	return 0;
}

int asb_sockfilter_set_broker(struct asb_sockfilter *sf, const char *path)
{
	if (!sf || !path || path[0] != '/' ||
	    strlen(path) + 1 > sizeof(sf->broker))
		return -EINVAL;
	strcpy(sf->broker, path);
	return 0;
}

int asb_sockfilter_set_sandbox(struct asb_sockfilter *sf, __u32 sbid,
			       const struct asb_image *img,
			       const struct asb_image_sandbox *sb)
{
	struct asb_sb_conf conf = {}, old;
	__u64 *zero = NULL;
	__u32 new_set, old_set;
	bool had;
	int err;

	if (!sf || !img || !img->hdr || !sb || sbid > ASB_SBID_MAX)
		return -EINVAL;
	if (!asb_image_rules(img) ||
	    sb->first_rule > img->hdr->n_rules ||
	    sb->n_rules > img->hdr->n_rules - sb->first_rule)
		return -EINVAL;

	had = !bpf_map_lookup_elem(sf->map_fd[M_SANDBOX], &sbid, &old);
	if (!had && errno != ENOENT)
		return -errno;
	old_set = had ? old.set : sbid * 2 + 1;
	new_set = old_set ^ 1;

	/* The spare bank may hold leftovers of an interrupted update. */
	err = purge_bank(sf, new_set);
	if (!err)
		err = fill_bank(sf, new_set, img, sb);
	if (err)
		goto undo;

	zero = calloc(sf->ncpus, sizeof(*zero));
	if (!zero) {
		err = -ENOMEM;
		goto undo;
	}
	if (bpf_map_update_elem(sf->map_fd[M_DENIES], &sbid, zero,
				BPF_NOEXIST) && errno != EEXIST) {
		err = -errno;
		goto undo;
	}

	conf.deny_families = sb->deny_families;
	conf.flags = sb->flags;
	for (__u32 i = 0; i < sb->n_rules; i++) {
		enum asb_rule_kind k = asb_image_rules(img)[sb->first_rule + i].kind;

		if (k == ASB_RULE_ASK_EXEC)
			conf.flags |= ASB_SBC_ASK_EXEC;
		else if (k == ASB_RULE_ASK_WRITE)
			conf.flags |= ASB_SBC_ASK_WRITE;
	}
	conf.set = new_set;
	conf.default_rule = ASB_RULE_NONE;
	conf.ask_timeout = sb->ask_timeout;
	/* The switch: one element replaced, seen whole or not at all. */
	if (bpf_map_update_elem(sf->map_fd[M_SANDBOX], &sbid, &conf, BPF_ANY)) {
		err = -errno;
		goto undo;
	}
	free(zero);
	/*
	 * A program that read the old conf just before the switch may miss
	 * now: it denies (fail closed). Leftovers, if this fails, are purged
	 * before the bank is used again.
	 */
	purge_bank(sf, old_set);
	return 0;
undo:
	free(zero);
	purge_bank(sf, new_set);
	return err;
}

int asb_sockfilter_remove_sandbox(struct asb_sockfilter *sf, __u32 sbid)
{
	__u64 key, next, *prev = NULL;
	__u64 *keys = NULL, *tmp;
	size_t n = 0, i;
	__u32 v;
	int err = 0, e;

	if (!sf || sbid > ASB_SBID_MAX)
		return -EINVAL;
	if (bpf_map_delete_elem(sf->map_fd[M_SANDBOX], &sbid) &&
	    errno != ENOENT)
		return -errno;
	e = purge_bank(sf, sbid * 2);
	err = err ? err : e;
	e = purge_bank(sf, sbid * 2 + 1);
	err = err ? err : e;
	if (bpf_map_delete_elem(sf->map_fd[M_DENIES], &sbid) &&
	    errno != ENOENT && !err)
		err = -errno;

	/* Forget the cgroups registered for it. */
	while (!bpf_map_get_next_key(sf->map_fd[M_MEMBER], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(sf->map_fd[M_MEMBER], &key, &v) ||
		    v != sbid)
			continue;
		tmp = realloc(keys, (n + 1) * sizeof(*keys));
		if (!tmp) {
			err = err ? err : -ENOMEM;
			break;
		}
		keys = tmp;
		keys[n++] = key;
	}
	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(sf->map_fd[M_MEMBER], &keys[i]) &&
		    errno != ENOENT && !err)
			err = -errno;
	free(keys);
	return err;
}

/* ---- attachment ---- */

static int attached(int cgroup_fd, int type, __u32 id, bool *yes)
{
	__u32 ids[64], cnt = 64, i;

	*yes = false;
	if (bpf_prog_query(cgroup_fd, type, 0, NULL, ids, &cnt))
		return -errno;
	for (i = 0; i < cnt; i++)
		if (ids[i] == id)
			*yes = true;
	return 0;
}

/*
 * The level of cgroup @fd below the root of its hierarchy: steps up until
 * the root, the one cgroup without a cgroup.type file.
 */
static int cgroup_level(int fd)
{
	int level = 0, dfd = dup(fd), up;

	while (dfd >= 0 && !faccessat(dfd, "cgroup.type", F_OK, 0)) {
		up = openat(dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(dfd);
		dfd = up;
		level++;
	}
	if (dfd < 0)
		return -EIO;
	close(dfd);
	return level;
}

/* Add @cgroup_fd's level to the mask the programs walk (bpf/member.h). */
static int add_level(struct asb_sockfilter *sf, int cgroup_fd)
{
	__u32 key = 0, mask = 0;
	int level = cgroup_level(cgroup_fd);

	if (level <= 0 || level >= ASB_CGROUP_DEPTH)
		return level < 0 ? level : -E2BIG;
	bpf_map_lookup_elem(sf->map_fd[M_LEVELS], &key, &mask);
	if (mask & (1u << level))
		return 0;
	mask |= 1u << level;
	return bpf_map_update_elem(sf->map_fd[M_LEVELS], &key, &mask,
				   BPF_ANY) ? -errno : 0;
}

int asb_sockfilter_attach(struct asb_sockfilter *sf, int cgroup_fd,
			  __u64 cgroup_id, __u32 sbid)
{
	bool done[N_PROGS] = {}, yes, had;
	__u32 old;
	int i, err;

	if (!sf || cgroup_fd < 0 || sbid > ASB_SBID_MAX)
		return -EINVAL;
	/* the level first: a registered cgroup is never skipped */
	err = add_level(sf, cgroup_fd);
	if (err)
		return err;
	had = !bpf_map_lookup_elem(sf->map_fd[M_MEMBER], &cgroup_id, &old);
	if (bpf_map_update_elem(sf->map_fd[M_MEMBER], &cgroup_id, &sbid,
				BPF_ANY))
		return -errno;
	for (i = 0; i < N_PROGS; i++) {
		err = attached(cgroup_fd, progs[i].type, sf->prog_id[i], &yes);
		if (err)
			goto undo;
		if (yes)
			continue;
		if (bpf_prog_attach(sf->prog_fd[i], cgroup_fd, progs[i].type,
				    BPF_F_ALLOW_MULTI)) {
			err = -errno;
			goto undo;
		}
		done[i] = true;
	}
	return 0;
undo:
	for (i = 0; i < N_PROGS; i++)
		if (done[i])
			bpf_prog_detach2(sf->prog_fd[i], cgroup_fd,
					 progs[i].type);
	if (had)
		bpf_map_update_elem(sf->map_fd[M_MEMBER], &cgroup_id, &old,
				    BPF_ANY);
	else
		bpf_map_delete_elem(sf->map_fd[M_MEMBER], &cgroup_id);
	return err;
}

int asb_sockfilter_detach(struct asb_sockfilter *sf, int cgroup_fd,
			  __u64 cgroup_id)
{
	int i, err = 0;

	if (!sf || cgroup_fd < 0)
		return -EINVAL;
	/* Programs first: a registered cgroup never runs unfiltered. */
	for (i = 0; i < N_PROGS; i++)
		if (bpf_prog_detach2(sf->prog_fd[i], cgroup_fd,
				     progs[i].type) && errno != ENOENT && !err)
			err = -errno;
	if (!err && bpf_map_delete_elem(sf->map_fd[M_MEMBER], &cgroup_id) &&
	    errno != ENOENT)
		err = -errno;
	return err;
}

/* ---- approve.connect one-shot entries ---- */

int asb_sockfilter_oneshot(struct asb_sockfilter *sf, __u32 sbid, __u32 tid,
			   const struct asb_oneshot_val *v)
{
	struct asb_oneshot_key k = { .sandbox = sbid, .tid = tid };

	if (!sf)
		return -EINVAL;
	if (!v)
		return bpf_map_delete_elem(sf->map_fd[M_ONESHOT], &k) &&
		       errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(sf->map_fd[M_ONESHOT], &k, v, BPF_ANY) ?
	       -errno : 0;
}

/* ---- events and counters ---- */

int asb_sockfilter_events(struct asb_sockfilter *sf,
			  int (*cb)(void *ctx, const struct asb_event *ev),
			  void *ctx, int timeout_ms)
{
	int n;

	if (!sf || !cb)
		return -EINVAL;
	sf->cb = cb;
	sf->cb_ctx = ctx;
	n = ring_buffer__poll(sf->rb, timeout_ms);
	sf->cb = NULL;
	sf->cb_ctx = NULL;
	return n;
}

int asb_sockfilter_event_fd(struct asb_sockfilter *sf)
{
	if (!sf)
		return -EINVAL;
	return ring_buffer__epoll_fd(sf->rb);
}

static int sum_percpu(struct asb_sockfilter *sf, int fd, const void *key,
		      __u64 *sum)
{
	__u64 *v;
	int i, err = 0;

	*sum = 0;
	v = calloc(sf->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, v))
		err = -errno;
	for (i = 0; !err && i < sf->ncpus; i++)
		*sum += v[i];
	free(v);
	return err;
}

int asb_sockfilter_counters(struct asb_sockfilter *sf, __u32 sbid,
			    __u64 *denies)
{
	if (!sf || !denies)
		return -EINVAL;
	return sum_percpu(sf, sf->map_fd[M_DENIES], &sbid, denies);
}

int asb_sockfilter_suppressed(struct asb_sockfilter *sf, __u32 sbid,
			      __u64 *n)
{
	struct asb_budget *v;
	int err = 0;

	*n = 0;
	if (!sf)
		return -EINVAL;
	v = calloc(sf->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(sf->map_fd[M_BUDGET], &sbid, v)) {
		err = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	for (int i = 0; i < sf->ncpus; i++) {
		*n += v[i].suppressed;
		v[i].suppressed = 0;
	}
	/* counted since: a few may land between the read and this write */
	if (*n && bpf_map_update_elem(sf->map_fd[M_BUDGET], &sbid, v, BPF_EXIST))
		err = -errno;
out:
	free(v);
	return err;
}

int asb_sockfilter_drops(struct asb_sockfilter *sf, __u64 *drops)
{
	__u32 zero = 0;

	if (!sf || !drops)
		return -EINVAL;
	return sum_percpu(sf, sf->map_fd[M_DROPS], &zero, drops);
}
