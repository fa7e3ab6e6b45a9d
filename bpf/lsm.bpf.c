// SPDX-License-Identifier: GPL-2.0
/*
 * asb BPF-LSM backend (backends 1 and 2 of DESIGN.md).
 *
 * Every task whose cgroup (or an ancestor cgroup, ASB_CGROUP_DEPTH deep) is
 * registered in asb_member belongs to that sandbox and is confined here,
 * whoever started it. Tasks of no sandbox are not looked at further.
 *
 * Files and exec: inode ancestry (include/asb/lsm.h). Rights mean what
 * they mean to the portable backend's Landlock rules: fs.read opens for
 * reading (files and directories), fs.write also writes, creates, removes,
 * renames, links and truncates beneath, fs.exec also executes. mknod of
 * character and block devices is never granted. A rename or link must not
 * give the object more rights at its destination than it had at its
 * source (Landlock's REFER). Files of internal filesystems (pipes, sockets,
 * anonymous inodes) and private inodes are not path-checked.
 *
 * Sockets: socket() of a family in net.deny_families, for every family but
 * inet. Inet sockets, connect, bind, sendmsg and unix names are the cgroup
 * programs' of bpf/sock.bpf.c, attached to every sandbox cgroup on both
 * backends (they also see TCP Fast Open's connect, which socket_connect
 * does not). mount, umount, move_mount, pivot_root: refused.
 *
 * Denials: -EACCES for files and exec, -EPERM for sockets and mounts, a
 * ring-buffer record (struct asb_event) and one trace-pipe line:
 *   asb: deny sb=3 pid=123 open /etc/shadow rule=-1
 *
 * Ask verdicts (approve.exec on bprm_check_security, approve.write on
 * file_open, approve.connect on socket_connect) call asb.ko's sleepable
 * kfuncs bpf_asb_gate_ask, or for exec bpf_asb_gate_ask_exec with the
 * linux_binprm, whose argv the module adds to the ask
 * (include/asb/gate.h), when the module was loaded
 * before these programs (asb_kernel_ask): the thread sleeps in the hook,
 * on the very file or address the syscall uses, until agentd's verdict.
 * Without it, approve.exec is allowed only for the exact file agentd's
 * seccomp broker approved for this thread (asb_exec of bpf/exec.bpf.c),
 * approve.connect only for the one-shot entry agentd left, and
 * approve.write only through the descriptor agentd itself opens (its
 * opens are outside every sandbox): everything else is denied and audited.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include <asb/image.h>
#include <asb/event.h>
#include <asb/lsm.h>
#include <asb/gate.h>


/* A BTF pointer of @type from any pointer: plain loads instead of helper
 * calls; the verifier turns the call into a move. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define BTF_PTR(p, type) \
	((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))

#define ASB_MEMBER_BTF
#include "audit.h"
#include "member.h"

#define EACCES		13
#define E2BIG		7
#define EPERM		1
#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define SOCK_RAW	3
#define FMODE_READ	0x1
#define FMODE_WRITE	0x2
#define __FMODE_EXEC	0x20
#define FMODE_BACKING	(1u << 24)	/* 6.6+, with struct backing_file */
#define S_IFMT		00170000
#define S_IFDIR		0040000
#define S_IFCHR		0020000
#define S_IFBLK		0060000
#define S_PRIVATE	(1u << 9)
#define PROC_SUPER_MAGIC	0x9fa0
#define SB_NOUSER	(1ul << 31)
#define RENAME_EXCHANGE	(1u << 1)


char LICENSE[] SEC("license") = "GPL";

/* Set by agentd from ASB_LSM_DEBUG=1: each walk step on the trace pipe. */
const volatile bool asb_debug = false;
/* Set by agentd when asb.ko's gate kfunc is there: asks go to the kernel. */
const volatile bool asb_kernel_ask = false;

/* The socket filter's maps: agentd hands their fds over (bpf_map__reuse_fd). */

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

/* The exec guard's map (bpf/exec.bpf.c): what agentd approved, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct asb_exec_val);
} asb_exec SEC(".maps");

/* Ours: the file rules. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct asb_fs_key);
	__type(value, struct asb_fs_val);
} asb_fs SEC(".maps");

/*
 * Ours (pinned with asb_fs): the generation of the file rules, which
 * agentd bumps after every change to asb_fs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} asb_fs_gen SEC(".maps");

/*
 * The rights a walk found from a directory up, remembered on the
 * directory's inode (see memo_find).
 */
struct asb_memo {
	__u64 seq;	/* odd while written */
	__u64 gen;	/* asb_fs_gen */
	__u64 dentry;
	__u64 parent;
	__u64 mnt;
	__u64 cgid;	/* the cgroup of the task that walked */
	__u32 renames;	/* rename_lock's sequence */
	__u32 mounts;	/* mount_lock's sequence */
	__u32 rights;
};

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct asb_memo);
} asb_memo SEC(".maps");

/* The object of a kernel ask, per task: it stays put while the task sleeps. */
struct asb_ask_obj {
	char s[ASB_GATE_OBJECT_SZ];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct asb_ask_obj);
} asb_ask_obj SEC(".maps");

/*
 * approve.connect with the kernel gate: socket_connect's rule lookup (LPM
 * tries, which sleepable programs may not use) leaves the address here for
 * this thread and lets the hook go on to asb_socket_connect_ask, which runs
 * after it and asks. The cgroup connect program (bpf/sock.bpf.c) runs after
 * both and lets an approve.connect address through only with the one-shot
 * entry that an allow leaves: whatever the order, no ask means no connect.
 */
struct asb_net_ask {
	__u32 sandbox;
	__u32 rule;
	__u16 family;
	__u16 port;
	__u32 alen;
	__u32 addr[4];		/* as inet_addr() leaves it */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct asb_net_ask);
} asb_net_ask SEC(".maps");

extern int bpf_asb_gate_ask(const struct asb_gate_req *req, __u32 req__sz,
			    const char *object, __u32 object__sz) __ksym __weak;
/* exec asks: the kernel adds the argv from @bprm and the caller's cwd */
extern int bpf_asb_gate_ask_exec(const struct asb_gate_req *req,
				 __u32 req__sz, const char *object,
				 __u32 object__sz,
				 struct linux_binprm *bprm) __ksym __weak;

static __always_inline __u32 sb_flags(__u32 sbid)
{
	const struct asb_sb_conf *conf = bpf_map_lookup_elem(&asb_sandbox,
							     &sbid);

	return conf ? conf->flags : 0;
}

/* ---- events ---- */

static __always_inline void count_deny(__u32 sbid)
{
	__u64 *n = bpf_map_lookup_elem(&asb_denies, &sbid);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void count_drop(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&asb_drops, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline struct asb_event *ev_new(__u32 sbid, __u32 action,
						__u32 rule, bool deny)
{
	struct asb_event *ev;

	if (deny)
		count_deny(sbid);
	if (!audit_budget(sbid))
		return NULL;
	ev = bpf_ringbuf_reserve(&asb_events, sizeof(*ev), 0);
	if (!ev) {
		count_drop();
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = bpf_ktime_get_boot_ns();
	ev->sandbox = sbid;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->tid = (__u32)bpf_get_current_pid_tgid();
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->rule = rule;
	ev->action = action;
	ev->verdict = deny ? ASB_EV_DENY : ASB_EV_ALLOW;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	return ev;
}


static __always_inline void ev_send(struct asb_event *ev)
{
	const char *verdict = ev->verdict == ASB_EV_DENY ? "deny" : "allow";

	switch (ev->action) {
	case ASB_ACT_FILE_READ:
		bpf_printk("asb: %s sb=%d pid=%u open %s rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, ev->path, (int)ev->rule);
		break;
	case ASB_ACT_FILE_WRITE:
		bpf_printk("asb: %s sb=%d pid=%u write %s rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, ev->path, (int)ev->rule);
		break;
	case ASB_ACT_FILE_EXEC:
		bpf_printk("asb: %s sb=%d pid=%u exec %s rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, ev->path, (int)ev->rule);
		break;
	case ASB_ACT_CONNECT4:
		bpf_printk("asb: %s sb=%d pid=%u lsm %pI4:%u rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, ev->addr, ev->port,
			   (int)ev->rule);
		break;
	case ASB_ACT_CONNECT6:
		bpf_printk("asb: %s sb=%d pid=%u lsm [%pI6]:%u rule=%d", verdict,
			   (int)ev->sandbox, ev->pid, ev->addr, ev->port,
			   (int)ev->rule);
		break;
	case ASB_ACT_SOCKET:
		bpf_printk("asb: %s sb=%d pid=%u socket family=%u type=%u rule=%d",
			   verdict, (int)ev->sandbox, ev->pid, ev->family,
			   ev->sock_type, (int)ev->rule);
		break;
	case ASB_ACT_UNIX_BIND:
		bpf_printk("asb: %s sb=%d pid=%u bind %s", verdict,
			   (int)ev->sandbox, ev->pid, ev->path);
		break;
	case ASB_ACT_FILE_CREATE:
		bpf_printk("asb: %s sb=%d pid=%u create %s", verdict,
			   (int)ev->sandbox, ev->pid, ev->path);
		break;
	case ASB_ACT_FILE_REMOVE:
		bpf_printk("asb: %s sb=%d pid=%u remove %s", verdict,
			   (int)ev->sandbox, ev->pid, ev->path);
		break;
	case ASB_ACT_FILE_RENAME:
	case ASB_ACT_FILE_LINK:
		bpf_printk("asb: %s sb=%d pid=%u rename/link %s", verdict,
			   (int)ev->sandbox, ev->pid, ev->path);
		break;
	default:
		bpf_printk("asb: %s sb=%d pid=%u mount", verdict,
			   (int)ev->sandbox, ev->pid);
		break;
	}
	bpf_ringbuf_submit(ev, 0);
}

/* ---- inode ancestry ---- */

struct walk {
	struct vfsmount *mnt;
	struct dentry *d;
	__u32 sbid;
	__u32 need;	/* stop early once all of these are found */
	__u32 got;	/* union of the rights on the way */
	__u32 rule;	/* first rule that contributed */
	__u32 skip;	/* d is a covered mount point: not checked */
	__u32 done;
};

/*
 * One level up, reading the pointers as BTF pointers (BTF_PTR).
 */
static long walk_step(__u32 idx, void *arg)
{
	struct walk *w = arg;
	struct dentry *d = BTF_PTR(w->d, struct dentry);
	struct vfsmount *mnt = BTF_PTR(w->mnt, struct vfsmount);
	struct dentry *parent;
	struct asb_fs_key key = { .sandbox = w->sbid };
	struct asb_fs_val *v;

	if (!w->skip) {
		struct inode *inode = d->d_inode;

		key.dev = d->d_sb->s_dev;
		key.ino = inode ? inode->i_ino : 0;
		v = bpf_map_lookup_elem(&asb_fs, &key);
		if (!v && d->d_sb->s_magic == PROC_SUPER_MAGIC) {
			key.dev = ASB_FS_DEV_PROC;
			v = bpf_map_lookup_elem(&asb_fs, &key);
		}
		if (asb_debug)
			bpf_printk("asb: walk %u dev=%x ino=%lu", idx, key.dev,
				   key.ino);
		if (v) {
			if (!w->got)
				w->rule = v->rule;
			w->got |= v->rights;
			if ((w->got & w->need) == w->need) {
				w->done = 1;
				return 1;
			}
		}
	}
	if (d == mnt->mnt_root) {
		/* the root of its mount: on to the mount point, unchecked */
		struct mount *m = BTF_PTR((char *)mnt -
				bpf_core_field_offset(struct mount, mnt),
				struct mount);
		struct mount *up = m->mnt_parent;

		if (!up || up == m) {
			w->done = 1;	/* the root of the mount tree */
			return 1;
		}
		w->d = m->mnt_mountpoint;
		w->mnt = (void *)((char *)up +
				  bpf_core_field_offset(struct mount, mnt));
		w->skip = 1;
		return 0;
	}
	parent = d->d_parent;
	if (!parent || parent == d) {
		w->done = 1;	/* a disconnected root */
		return 1;
	}
	w->d = parent;
	w->skip = 0;
	return 0;
}

/*
 * A directory's walk, remembered. The union of rights from a directory up
 * depends on the rules, on the dentries above it and on the mounts they
 * cross. The kernel counts every change of the latter two: rename_lock's
 * sequence moves on each d_move (rename, exchange, a directory alias
 * spliced), mount_lock's on each change of the mount tree (mount, move,
 * umount, a mount freed); agentd bumps asb_fs_gen after the former. A memo
 * is stamped with all three as read before its walk, and with the
 * walking task's cgroup, the mount and the dentry and its parent; it
 * counts only while every stamp is current. The cgroup stands for its
 * sandbox (agentd registers a cgroup once, empty, and bumps asb_fs_gen
 * when its sandbox goes), so a read open asks the memo before the
 * membership lookup. A memo is a lower bound (a walk may stop once it
 * has what it needs): it answers only when it holds every right needed,
 * never for an ask; otherwise the walk runs, and leaves a fresher memo.
 * Writers and readers agree through seq, fully ordered atomics.
 */
extern const void rename_lock __ksym __weak;
extern const void mount_lock __ksym __weak;

struct memo_stamp {
	__u64 gen;
	__u32 renames;
	__u32 mounts;
};

static __always_inline bool memo_stamp(struct memo_stamp *t)
{
	__u32 zero = 0;
	__u64 *gen;

	if (!&rename_lock || !&mount_lock)
		return false;
	gen = bpf_map_lookup_elem(&asb_fs_gen, &zero);
	if (!gen)
		return false;
	/* a seqlock_t begins with its struct seqcount_spinlock */
	t->renames = BTF_PTR(&rename_lock, struct seqcount_spinlock)
			     ->seqcount.sequence;
	t->mounts = BTF_PTR(&mount_lock, struct seqcount_spinlock)
			    ->seqcount.sequence;
	t->gen = *gen;
	return !((t->renames | t->mounts) & 1);	/* odd: a change under way */
}

static __always_inline bool memo_matches(const struct asb_memo *m,
					 const struct memo_stamp *t,
					 __u64 cgid, struct vfsmount *mnt,
					 struct dentry *d, struct dentry *parent)
{
	return m->gen == t->gen && m->renames == t->renames &&
	       m->mounts == t->mounts && m->cgid == cgid &&
	       m->mnt == (__u64)mnt && m->dentry == (__u64)d &&
	       m->parent == (__u64)parent;
}

/* The remembered rights of (@cgid, @mnt, directory @d), or 0. */
static __always_inline __u32 memo_find(struct inode *inode,
				       const struct memo_stamp *t, __u64 cgid,
				       struct vfsmount *mnt, struct dentry *d,
				       struct dentry *parent)
{
	struct asb_memo *m;
	__u64 s1, s2;
	__u32 rights;
	bool same;

	m = bpf_inode_storage_get(&asb_memo, inode, NULL, 0);
	if (!m)
		return 0;
	s1 = __sync_fetch_and_add(&m->seq, 0);
	same = memo_matches(m, t, cgid, mnt, d, parent);
	rights = m->rights;
	s2 = __sync_fetch_and_add(&m->seq, 0);
	return same && s1 == s2 && !(s1 & 1) ? rights : 0;
}

static __always_inline void memo_keep(struct inode *inode,
				      const struct memo_stamp *t, __u64 cgid,
				      struct vfsmount *mnt, struct dentry *d,
				      struct dentry *parent, __u32 rights)
{
	struct asb_memo *m;
	__u64 s;

	m = bpf_inode_storage_get(&asb_memo, inode, NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!m)
		return;
	s = m->seq;
	if ((s & 1) || __sync_val_compare_and_swap(&m->seq, s, s + 1) != s)
		return;		/* another writer: let it */
	m->gen = t->gen;
	m->renames = t->renames;
	m->mounts = t->mounts;
	m->cgid = cgid;
	m->mnt = (__u64)mnt;
	m->dentry = (__u64)d;
	m->parent = (__u64)parent;
	m->rights = rights;
	__sync_fetch_and_add(&m->seq, 1);
}

/*
 * What a file hook read of its file's dentry under bpf_rcu_read_lock(),
 * as pointers the verifier lets a helper take: the inodes a memo hangs on.
 */
struct file_view {
	struct dentry *parent;
	struct inode *inode;
	struct inode *parent_inode;
	__u64 cgid;		/* the task's cgroup: what memos are kept for */
};

/*
 * The rights the sandbox has on (@mnt, @d): union over its ancestors.
 * For a file that is not a directory (nor a mount root) its directories
 * are walked first and the file's own entry looked up only if they do not
 * already give @need (or an ask is looked for, whose nearest rule is
 * reported): most rules name directories, and the union is the same.
 * With @fv (file hooks), the walk of the directories is remembered, and
 * @sbid ASB_SB_NONE (membership not looked up yet) asks only the memo: 0
 * unless it has @need.
 */
static __always_inline __u32 rights_of(__u32 sbid, struct vfsmount *mnt,
				       struct dentry *d, __u32 need,
				       __u32 *rule,
				       const struct file_view *fv)
{
	struct walk w = {
		.mnt = mnt, .d = d, .sbid = sbid, .need = need,
		.rule = ASB_RULE_NONE,
	};
	struct dentry *dd = BTF_PTR(d, struct dentry), *parent, *start, *up;
	bool leaf, asking = need & (ASB_FS_ASK_EXEC | ASB_FS_ASK_WRITE);
	struct inode *inode, *memo = NULL;
	struct memo_stamp t;

	if (!mnt || !d)
		return 0;
	inode = dd->d_inode;
	parent = dd->d_parent;
	leaf = inode && (inode->i_mode & S_IFMT) != S_IFDIR && parent &&
	       parent != d && d != BTF_PTR(mnt, struct vfsmount)->mnt_root;
	if (leaf)
		w.d = parent;
	start = w.d;
	if (fv && (leaf ? fv->parent == parent : fv->inode == inode))
		memo = leaf ? fv->parent_inode : fv->inode;
	if (memo && !memo_stamp(&t))
		memo = NULL;
	up = memo ? BTF_PTR(start, struct dentry)->d_parent : NULL;
	if (memo && !asking) {
		__u32 got = memo_find(memo, &t, fv->cgid, mnt, start, up);

		if ((got & need) == need) {
			*rule = ASB_RULE_NONE;
			return got;
		}
	}
	*rule = ASB_RULE_NONE;
	if (sbid == ASB_SB_NONE)
		return 0;
	bpf_loop(ASB_FS_WALK_MAX, walk_step, &w, 0);
	if (memo)
		memo_keep(memo, &t, fv->cgid, mnt, start, up, w.got);
	if (leaf && ((w.got & need) != need || asking)) {
		struct asb_fs_key key = {
			.sandbox = sbid, .dev = dd->d_sb->s_dev,
			.ino = inode->i_ino,
		};
		struct asb_fs_val *v = bpf_map_lookup_elem(&asb_fs, &key);

		if (v) {
			w.got |= v->rights;
			w.rule = v->rule;	/* the nearest */
		}
	}
	*rule = w.rule;
	return w.got;
}

/* @file's view, under bpf_rcu_read_lock(). */
static __always_inline void file_view_of(struct file *file, __u64 cgid,
					 struct file_view *fv)
{
	struct dentry *d = file->f_path.dentry;

	fv->cgid = cgid;
	fv->inode = d->d_inode;
	fv->parent = d->d_parent;
	fv->parent_inode = fv->parent ? fv->parent->d_inode : NULL;
}

/* rights_of() of an open file, remembering the walk for cgroup @cgid. */
static __always_inline __u32 file_rights(__u32 sbid, __u64 cgid,
					 struct file *file, __u32 need,
					 __u32 *rule)
{
	struct file_view fv;
	__u32 got;

	bpf_rcu_read_lock();
	file_view_of(file, cgid, &fv);
	got = rights_of(sbid, file->f_path.mnt, file->f_path.dentry, need,
			rule, &fv);
	bpf_rcu_read_unlock();
	return got;
}

/*
 * Whether a file hook has anything to check: the task is in a sandbox
 * (*@sbid, and its cgroup's id in *@cgid, which file_rights keeps its
 * memos for). With @read (a read-only open), a cgroup that looks like a
 * sandbox's first asks the remembered walk of the file's directory, and a
 * memo that grants the read leaves nothing to check, without the
 * membership lookup. A memo is only ever kept for a sandbox's cgroup: a
 * cgroup's sandbox is fixed while it is registered, and agentd bumps
 * asb_fs_gen when it goes. "Looks like": a cgroup program of its own on
 * inet socket creation, as every sandbox cgroup has (the socket filter's);
 * other cgroups at a sandbox's depth (services, sessions) mostly have
 * none, and go straight to the membership lookup.
 */
/* A cgroup program of @cg's own on inet socket creation (under RCU). */
static __always_inline bool sock_filtered(struct cgroup *cg)
{
	if (!bpf_core_enum_value_exists(enum cgroup_bpf_attach_type,
					CGROUP_INET_SOCK_CREATE))
		return false;
	return cg->bpf.progs[bpf_core_enum_value(enum cgroup_bpf_attach_type,
						 CGROUP_INET_SOCK_CREATE)].first;
}

static __always_inline bool to_check(struct file *read, __u32 *sbid,
				     __u64 *cgid)
{
	__u32 mask = levels_mask(), *sb = NULL, granted = 0, rule;
	struct file_view fv;
	struct cgroup *cg;
	int lvl;

	if (!mask)
		return false;
	bpf_rcu_read_lock();
	cg = task_cgroup();
	lvl = cg ? cg->level : -1;
	/* above every registered level: in no sandbox */
	if (lvl >= 0 && lvl < ASB_CGROUP_DEPTH && (mask & ((2u << lvl) - 1))) {
		if (read && sock_filtered(cg)) {
			file_view_of(read, cg->kn->id, &fv);
			granted = rights_of(ASB_SB_NONE, read->f_path.mnt,
					    read->f_path.dentry, ASB_FS_READ,
					    &rule, &fv);
		}
		if (!granted)
			sb = member_of(cg, mask);
		if (sb)
			*cgid = cg->kn->id;
	}
	bpf_rcu_read_unlock();
	if (!sb)
		return false;
	*sbid = *sb;
	return true;
}

/* Internal filesystems and private inodes are not path-checked (Landlock). */
static __always_inline bool unchecked(struct dentry *dentry)
{
	struct dentry *d = BTF_PTR(dentry, struct dentry);
	struct inode *inode = d->d_inode;

	if (d->d_sb->s_flags & SB_NOUSER)
		return true;
	return inode && (inode->i_flags & S_PRIVATE);
}

/*
 * A mount of no namespace (clone_private_mount: overlayfs's layers, which
 * it opens directories of for itself, MNT_NS_INTERNAL): no process can
 * name a path there; the overlay's own file was checked.
 */
#define MNT_NS_INTERNAL ((void *)-22L)

static __always_inline bool internal_mount(struct vfsmount *mnt)
{
	struct mount *m = BTF_PTR((char *)mnt -
				  bpf_core_field_offset(struct mount, mnt),
				  struct mount);

	return (void *)m->mnt_ns == MNT_NS_INTERNAL;
}

static __always_inline void ev_file(struct asb_event *ev, struct dentry *d)
{
	__u64 ino = BPF_CORE_READ(d, d_inode, i_ino);
	__u32 dev = BPF_CORE_READ(d, d_sb, s_dev);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);

	__builtin_memcpy(ev->addr, &ino, 8);
	__builtin_memcpy(ev->addr + 8, &dev, 4);
	if (!ev->path[0])
		bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), name);
}

/*
 * Decide an access that needs @need on (@mnt, @d); on deny send an event
 * naming @name_d (the object; @d may be its parent directory).
 */
static __always_inline int check_path(__u32 sbid, struct vfsmount *mnt,
				      struct dentry *d, struct dentry *name_d,
				      __u32 need, __u32 action)
{
	struct asb_event *ev;
	__u32 rule, got;

	got = rights_of(sbid, mnt, d, need, &rule, NULL);
	if ((got & need) == need)
		return 0;
	ev = ev_new(sbid, action, ASB_RULE_NONE, true);
	if (ev) {
		ev_file(ev, name_d);
		ev_send(ev);
	}
	return -EACCES;
}

static __always_inline struct vfsmount *path_mnt(const struct path *p)
{
	return BPF_CORE_READ(p, mnt);
}

static __always_inline struct dentry *path_dentry(const struct path *p)
{
	return BPF_CORE_READ(p, dentry);
}

/* ---- ask ---- */

static __always_inline char *ask_buf(void)
{
	struct asb_ask_obj *o;

	o = bpf_task_storage_get(&asb_ask_obj, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	return o ? o->s : NULL;
}

/*
 * Only the read-only asb_kernel_ask decides: with it false, the verifier
 * drops the kfunc calls as dead code (libbpf 1.1 cannot resolve
 * bpf_ksym_exists() of a module's kfunc).
 */
static __always_inline bool kernel_ask(void)
{
	return asb_kernel_ask;
}

/*
 * Hold the thread until agentd's verdict on @obj (an ask_buf()).
 * 0: the operator allowed it. The kernel waits approve.timeout plus
 * ASB_ASK_SLACK_MS, so that agentd's approve.default decides a timeout.
 */
static __always_inline bool gate_req(struct asb_gate_req *req, __u32 sbid,
				     __u32 kind)
{
	const struct asb_sb_conf *conf = bpf_map_lookup_elem(&asb_sandbox,
							     &sbid);
	__u64 ms;

	if (!conf)
		return false;
	req->sandbox = sbid;
	req->action = kind;
	ms = (__u64)conf->ask_timeout * 1000 + ASB_ASK_SLACK_MS;
	req->timeout_ms = ms < ASB_GATE_TIMEOUT_MS_MAX ? ms :
			  ASB_GATE_TIMEOUT_MS_MAX;
	return true;
}

static __always_inline int gate_ask(__u32 sbid, __u32 kind, char *obj)
{
	struct asb_gate_req req = {};

	if (!obj || !gate_req(&req, sbid, kind))
		return -EACCES;
	return bpf_asb_gate_ask(&req, sizeof(req), obj, ASB_GATE_OBJECT_SZ);
}

/* An exec: the module reads its argv from @bprm (-E2BIG: not shown). */
static __always_inline int gate_ask_exec(__u32 sbid, char *obj,
					 struct linux_binprm *bprm)
{
	struct asb_gate_req req = {};

	if (!obj || !gate_req(&req, sbid, ASB_RULE_ASK_EXEC))
		return -EACCES;
	return bpf_asb_gate_ask_exec(&req, sizeof(req), obj,
				     ASB_GATE_OBJECT_SZ, bprm);
}

/* The full path of @path in the task's ask buffer, or NULL. */
static __always_inline char *full_path(const struct path *path)
{
	char *obj = ask_buf();

	if (!obj || bpf_d_path((struct path *)path, obj, ASB_GATE_OBJECT_SZ) < 0)
		return NULL;
	return obj;
}

struct path_scan {
	char *buf;
	__u64 h;	/* FNV-1a 64 of buf[0..i) */
	__u32 sbid;
	__u32 bit;	/* ASB_FS_ASK_* looked for */
	__u32 rule;
	__u32 hit;
};

static long scan_step(__u32 i, void *arg)
{
	struct path_scan *p = arg;
	struct asb_fs_key key = { .sandbox = p->sbid, .dev = ASB_FS_DEV_PATH };
	struct asb_fs_val *v;
	char c;

	if (i >= ASB_GATE_OBJECT_SZ)
		return 1;
	c = p->buf[i];
	if ((c == '/' || !c) && i > 0) {
		key.ino = p->h;
		v = bpf_map_lookup_elem(&asb_fs, &key);
		if (v && (v->rights & p->bit)) {
			p->hit = 1;
			p->rule = v->rule;
			return 1;
		}
	}
	if (!c)
		return 1;
	p->h = (p->h ^ (__u8)c) * ASB_FNV64_PRIME;
	return 0;
}

/*
 * Does an approve.* path entry (include/asb/lsm.h) cover @path or one of
 * its directories? Then the task's ask buffer, holding the full path (the
 * ask's object), else NULL.
 */
static __always_inline char *ask_by_path(__u32 sbid, const struct path *path,
					 __u32 bit, __u32 *rule)
{
	struct path_scan p = {
		.h = ASB_FNV64_OFFSET, .sbid = sbid, .bit = bit,
	};

	p.buf = full_path(path);
	if (!p.buf)
		return NULL;
	bpf_loop(ASB_GATE_OBJECT_SZ, scan_step, &p, 0);
	if (!p.hit)
		return NULL;
	*rule = p.rule;
	return p.buf;
}

/* Without the module: the exec agentd approved for this very thread, of
 * sandbox @sbid (an entry outlives a thread that exits first). */
static __always_inline bool exec_approved(__u32 sbid, struct inode *inode)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct asb_exec_val *v = bpf_map_lookup_elem(&asb_exec, &tid);
	__u64 ino = BPF_CORE_READ(inode, i_ino);
	__u32 dev = BPF_CORE_READ(inode, i_sb, s_dev);

	if (!v || !v->ino || v->sandbox != sbid)
		return false;
	return (v->ino == ino && v->dev == dev) ||
	       (v->interp_ino == ino && v->interp_dev == dev);
}

/* @name: the name exec was called with (bprm_check: no bpf_d_path there) */
static __always_inline int deny_file_ev(__u32 sbid, __u32 action, __u32 rule,
					struct file *file, bool ask,
					const char *name)
{
	struct asb_event *ev = ev_new(sbid, action, rule, true);
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry);

	if (ev) {
		if (ask)
			ev->flags |= ASB_EVF_ASK;
		if (name) {
			if (bpf_probe_read_kernel_str(ev->path,
						      sizeof(ev->path), name) < 0)
				ev->path[0] = 0;
		} else if (bpf_d_path((struct path *)&file->f_path, ev->path,
				      sizeof(ev->path)) < 0) {
			ev->path[0] = 0;
		}
		ev_file(ev, d);
		ev_send(ev);
	}
	return -EACCES;
}

/* ---- hooks: files ---- */

SEC("lsm.s/file_open")
int BPF_PROG(asb_file_open, struct file *file, int ret)
{
	struct dentry *d = file->f_path.dentry;
	struct vfsmount *mnt = file->f_path.mnt;
	__u32 sbid, rule, need = 0, got, action;
	unsigned int fmode = file->f_mode, fflags = file->f_flags;
	bool ro = (fmode & (FMODE_READ | FMODE_WRITE)) == FMODE_READ &&
		  !(fflags & __FMODE_EXEC);
	char *obj = NULL;
	__u64 cgid;
	bool ask;

	/* a read-only open may be granted by a remembered walk at once (what
	 * the checks below let through is granted either way) */
	if (ret || !to_check(ro ? file : NULL, &sbid, &cgid))
		return ret;
	/*
	 * overlayfs opening its real file: the overlay's own file was checked
	 * (6.6+: the backing file's f_path is the layer's, outside the tree)
	 */
	if (bpf_core_type_exists(struct backing_file) &&
	    (fmode & FMODE_BACKING))
		return 0;
	if (internal_mount(mnt) || unchecked(d))
		return 0;
	if (fflags & __FMODE_EXEC) {
		/* approve.exec: decided at bprm_check_security */
		got = file_rights(sbid, cgid, file, ASB_FS_EXEC, &rule);
		if (got & (ASB_FS_EXEC | ASB_FS_ASK_EXEC))
			return 0;
		return deny_file_ev(sbid, ASB_ACT_FILE_EXEC, ASB_RULE_NONE,
				    file, false, NULL);
	}
	if (fmode & FMODE_READ)
		need |= ASB_FS_READ;
	if (fmode & FMODE_WRITE)
		need |= ASB_FS_WRITE;
	if (!need)
		return 0;
	action = need & ASB_FS_WRITE ? ASB_ACT_FILE_WRITE : ASB_ACT_FILE_READ;
	/* approve.write wins over fs.write: look for it all the way up */
	ask = need & ASB_FS_WRITE && sb_flags(sbid) & ASB_SBC_ASK_WRITE;
	got = file_rights(sbid, cgid, file,
			  ask ? need | ASB_FS_ASK_WRITE : need, &rule);
	if (ask && !(got & ASB_FS_ASK_WRITE) && kernel_ask() &&
	    (obj = ask_by_path(sbid, &file->f_path, ASB_FS_ASK_WRITE, &rule)))
		got |= ASB_FS_ASK_WRITE;
	if ((need & ASB_FS_WRITE) && (got & ASB_FS_ASK_WRITE) &&
	    ((got | ASB_FS_WRITE) & need) == need) {
		/* approve.exec, approve.write: the full path is the object */
		if (kernel_ask() && !gate_ask(sbid, ASB_RULE_ASK_WRITE,
					      obj ?: full_path(&file->f_path)))
			return 0;
		return deny_file_ev(sbid, action, rule, file, true, NULL);
	}
	if ((got & need) == need)
		return 0;
	return deny_file_ev(sbid, action, ASB_RULE_NONE, file, false,
			    NULL);
}

SEC("lsm.s/bprm_check_security")
int BPF_PROG(asb_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct file *file = bprm->file;
	struct inode *inode = file->f_inode;
	__u32 sbid, rule, got;
	char *obj = NULL;
	__u64 cgid;
	bool ask;

	if (ret || !to_check(NULL, &sbid, &cgid))
		return ret;
	/* approve.exec wins over fs.exec: look for it all the way up */
	ask = sb_flags(sbid) & ASB_SBC_ASK_EXEC;
	got = file_rights(sbid, cgid, file,
			  ask ? ASB_FS_EXEC | ASB_FS_ASK_EXEC : ASB_FS_EXEC, &rule);
	if (ask && !(got & ASB_FS_ASK_EXEC) && kernel_ask() &&
	    (obj = ask_by_path(sbid, &file->f_path, ASB_FS_ASK_EXEC, &rule)))
		got |= ASB_FS_ASK_EXEC;
	if (got & ASB_FS_ASK_EXEC) {
		int err = -EACCES;

		if (kernel_ask()) {
			err = gate_ask_exec(sbid, obj ?: full_path(&file->f_path),
					    bprm);
			if (!err)
				return 0;
		} else if (exec_approved(sbid, inode)) {
			return 0;
		}
		deny_file_ev(sbid, ASB_ACT_FILE_EXEC, rule, file, true,
			     bprm->filename);
		/* an argv the operator could not be shown */
		return err == -E2BIG ? -E2BIG : -EACCES;
	}
	if (got & ASB_FS_EXEC)
		return 0;
	return deny_file_ev(sbid, ASB_ACT_FILE_EXEC, ASB_RULE_NONE, file,
			    false, bprm->filename);
}

/* Creating, removing: fs.write on the directory. */
/*
 * inotify, fanotify and dnotify watches: only where the sandbox may read
 * (a watch shows the names and the accesses of what is below it).
 */
SEC("lsm/path_notify")
int BPF_PROG(asb_path_notify, const struct path *path, __u64 mask,
	     unsigned int obj_type, int ret)
{
	struct dentry *d = path_dentry(path);
	__u32 sbid;

	if (ret || !member(&sbid) || unchecked(d))
		return ret;
	return check_path(sbid, path_mnt(path), d, d, ASB_FS_READ,
			  ASB_ACT_FILE_READ);
}

static __always_inline int dir_write(const struct path *dir, struct dentry *d,
				     __u32 action)
{
	__u32 sbid;

	if (!member(&sbid))
		return 0;
	return check_path(sbid, path_mnt(dir), path_dentry(dir), d,
			  ASB_FS_WRITE, action);
}

SEC("lsm/path_mknod")
int BPF_PROG(asb_path_mknod, const struct path *dir, struct dentry *dentry,
	     umode_t mode, unsigned int dev, int ret)
{
	__u32 sbid;
	struct asb_event *ev;

	if (ret)
		return ret;
	if (((mode & S_IFMT) == S_IFCHR || (mode & S_IFMT) == S_IFBLK) &&
	    member(&sbid)) {
		ev = ev_new(sbid, ASB_ACT_FILE_CREATE, ASB_RULE_NONE, true);
		if (ev) {
			ev_file(ev, dentry);
			ev_send(ev);
		}
		return -EACCES;	/* device nodes: never */
	}
	return dir_write(dir, dentry, ASB_ACT_FILE_CREATE);
}

SEC("lsm/path_mkdir")
int BPF_PROG(asb_path_mkdir, const struct path *dir, struct dentry *dentry,
	     umode_t mode, int ret)
{
	return ret ?: dir_write(dir, dentry, ASB_ACT_FILE_CREATE);
}

SEC("lsm/path_symlink")
int BPF_PROG(asb_path_symlink, const struct path *dir, struct dentry *dentry,
	     const char *old_name, int ret)
{
	return ret ?: dir_write(dir, dentry, ASB_ACT_FILE_CREATE);
}

SEC("lsm/path_unlink")
int BPF_PROG(asb_path_unlink, const struct path *dir, struct dentry *dentry,
	     int ret)
{
	return ret ?: dir_write(dir, dentry, ASB_ACT_FILE_REMOVE);
}

SEC("lsm/path_rmdir")
int BPF_PROG(asb_path_rmdir, const struct path *dir, struct dentry *dentry,
	     int ret)
{
	return ret ?: dir_write(dir, dentry, ASB_ACT_FILE_REMOVE);
}

SEC("lsm/path_truncate")
int BPF_PROG(asb_path_truncate, const struct path *path, int ret)
{
	__u32 sbid;
	struct dentry *d = path_dentry(path);

	if (ret || !member(&sbid) || unchecked(d))
		return ret;
	return check_path(sbid, path_mnt(path), d, d, ASB_FS_WRITE,
			  ASB_ACT_FILE_WRITE);
}

/* 6.2+: ftruncate and O_TRUNC; agentd disables it where it is missing. */
SEC("lsm/file_truncate")
int BPF_PROG(asb_file_truncate, struct file *file, int ret)
{
	__u32 sbid;
	struct dentry *d = file->f_path.dentry;

	if (ret || !member(&sbid) || unchecked(d))
		return ret;
	return check_path(sbid, file->f_path.mnt, d, d, ASB_FS_WRITE,
			  ASB_ACT_FILE_WRITE);
}

#define RW	(ASB_FS_READ | ASB_FS_WRITE | ASB_FS_EXEC)

/*
 * Moving @obj (in @src) to @dst: fs.write on both directories, and the
 * rights the object gets from @dst's ancestors must be ones it had at its
 * source (inherited from @src's, or on the object itself, which moves along).
 */
static __always_inline int refer(__u32 sbid, struct vfsmount *mnt,
				 struct dentry *src, struct dentry *dst,
				 struct dentry *obj, __u32 action)
{
	__u32 r1, r2, rs, rd, rule;
	struct asb_event *ev;

	rs = rights_of(sbid, mnt, src, ~0u, &r1, NULL);
	rd = rights_of(sbid, mnt, dst, ~0u, &r2, NULL);
	if ((rs & ASB_FS_WRITE) && (rd & ASB_FS_WRITE) &&
	    !((rd & RW) & ~(rights_of(sbid, mnt, obj, ~0u, &rule, NULL) & RW)))
		return 0;
	ev = ev_new(sbid, action, ASB_RULE_NONE, true);
	if (ev) {
		ev_file(ev, obj);
		ev_send(ev);
	}
	return -EACCES;
}

SEC("lsm/path_link")
int BPF_PROG(asb_path_link, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, int ret)
{
	__u32 sbid;
	struct vfsmount *mnt = path_mnt(new_dir);

	if (ret || !member(&sbid))
		return ret;
	return refer(sbid, mnt, BPF_CORE_READ(old_dentry, d_parent),
		     path_dentry(new_dir), old_dentry, ASB_ACT_FILE_LINK);
}

SEC("lsm/path_rename")
int BPF_PROG(asb_path_rename, const struct path *old_dir,
	     struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags, int ret)
{
	__u32 sbid;
	struct vfsmount *mnt = path_mnt(old_dir);
	int err;

	if (ret || !member(&sbid))
		return ret;
	err = refer(sbid, mnt, path_dentry(old_dir), path_dentry(new_dir),
		    old_dentry, ASB_ACT_FILE_RENAME);
	if (err || !(flags & RENAME_EXCHANGE))
		return err;
	return refer(sbid, mnt, path_dentry(new_dir), path_dentry(old_dir),
		     new_dentry, ASB_ACT_FILE_RENAME);
}

/* ---- hooks: processes outside the sandbox ---- */

/*
 * A sandbox acts on its own processes only: a signal, ptrace or a private
 * file of /proc/PID (environ, mem, maps, fd), a priority, a scheduling
 * policy, an I/O priority or the memory placement of a process of another
 * sandbox or of none is refused, whatever /proc shows; processes put in
 * with `asbctl attach`, which share the host's PID namespace, included.
 */
static __always_inline int own_task(struct task_struct *p, __u16 what,
				    __u16 arg)
{
	__u32 sbid, tgid, *sb;
	struct asb_event *ev;
	bool same;

	if (!member(&sbid))
		return 0;
	bpf_rcu_read_lock();
	sb = member_of(BTF_PTR(p->cgroups->dfl_cgrp, struct cgroup),
		       levels_mask());
	same = sb && *sb == sbid;
	bpf_rcu_read_unlock();
	if (same)
		return 0;
	ev = ev_new(sbid, ASB_ACT_TASK, ASB_RULE_NONE, true);
	if (ev) {
		tgid = p->tgid;
		__builtin_memcpy(ev->addr, &tgid, sizeof(tgid));
		ev->sock_type = what;
		ev->protocol = arg;
		bpf_probe_read_kernel_str(ev->path, ASB_COMM_LEN, p->comm);
		ev_send(ev);
	}
	return -EPERM;
}

SEC("lsm/task_kill")
int BPF_PROG(asb_task_kill, struct task_struct *p, struct kernel_siginfo *info,
	     int sig, const struct cred *cred, int ret)
{
	return ret ?: own_task(p, ASB_TASK_SIGNAL, (__u16)sig);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(asb_ptrace_access_check, struct task_struct *child,
	     unsigned int mode, int ret)
{
	return ret ?: own_task(child, ASB_TASK_PTRACE, (__u16)mode);
}

SEC("lsm/task_setnice")
int BPF_PROG(asb_task_setnice, struct task_struct *p, int nice, int ret)
{
	return ret ?: own_task(p, ASB_TASK_SCHED, 0);
}

SEC("lsm/task_setioprio")
int BPF_PROG(asb_task_setioprio, struct task_struct *p, int ioprio, int ret)
{
	return ret ?: own_task(p, ASB_TASK_SCHED, 0);
}

SEC("lsm/task_setscheduler")
int BPF_PROG(asb_task_setscheduler, struct task_struct *p, int ret)
{
	return ret ?: own_task(p, ASB_TASK_SCHED, 0);
}

SEC("lsm/task_movememory")
int BPF_PROG(asb_task_movememory, struct task_struct *p, int ret)
{
	return ret ?: own_task(p, ASB_TASK_SCHED, 0);
}

/* ---- hooks: mounts ---- */

static __always_inline int no_mount(void)
{
	struct asb_event *ev;
	__u32 sbid;

	if (!member(&sbid))
		return 0;
	ev = ev_new(sbid, ASB_ACT_MOUNT, ASB_RULE_NONE, true);
	if (ev)
		ev_send(ev);
	return -EPERM;
}

SEC("lsm/sb_mount")
int BPF_PROG(asb_sb_mount, const char *dev_name, const struct path *path,
	     const char *type, unsigned long flags, void *data, int ret)
{
	return ret ?: no_mount();
}

SEC("lsm/sb_umount")
int BPF_PROG(asb_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	return ret ?: no_mount();
}

SEC("lsm/move_mount")
int BPF_PROG(asb_move_mount, const struct path *from, const struct path *to,
	     int ret)
{
	return ret ?: no_mount();
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(asb_sb_pivotroot, const struct path *old, const struct path *new,
	     int ret)
{
	return ret ?: no_mount();
}

/* ---- hooks: sockets ---- */

/*
 * socket() of every family but inet, which the cgroup sock_create program
 * (bpf/sock.bpf.c) decides together with its protocol: that hook runs only
 * for AF_INET and AF_INET6.
 */
SEC("lsm/socket_create")
int BPF_PROG(asb_socket_create, int family, int type, int protocol, int kern,
	     int ret)
{
	const struct asb_sb_conf *conf;
	struct asb_event *ev;
	__u32 sbid;

	if (ret || kern || family == AF_INET || family == AF_INET6 ||
	    !member(&sbid))
		return ret;
	conf = bpf_map_lookup_elem(&asb_sandbox, &sbid);
	if (conf && family >= 0 && family < 64 &&
	    !((conf->deny_families >> family) & 1))
		return 0;
	ev = ev_new(sbid, ASB_ACT_SOCKET, ASB_RULE_FAMILIES, true);
	if (ev) {
		ev->family = family;
		ev->sock_type = type & 0xf;
		ev->protocol = protocol;
		ev_send(ev);
	}
	return -EPERM;
}

/*
 * bind() of an abstract unix name. A sandbox shares the host's network
 * namespace, so a name it binds is one a host client may connect to (a
 * display's, a bus's) and then talk to the sandbox. No rule grants one
 * (net.unix names paths, and the socket filter refuses every connect to
 * an abstract name): refused. An autobind (the family alone, a random
 * name) is allowed; pathname sockets are files, which the file rules
 * decide.
 */
SEC("lsm/socket_bind")
int BPF_PROG(asb_socket_bind, struct socket *sock, struct sockaddr *address,
	     int addrlen, int ret)
{
	struct asb_event *ev;
	char first = 1;
	__u32 sbid;

	if (ret || addrlen <= 2 || BPF_CORE_READ(address, sa_family) != AF_UNIX)
		return ret;
	bpf_probe_read_kernel(&first, 1, (char *)address + 2);
	if (first || !member(&sbid))
		return 0;
	ev = ev_new(sbid, ASB_ACT_UNIX_BIND, ASB_RULE_NONE, true);
	if (ev) {
		ev->family = AF_UNIX;
		ev->flags |= ASB_EVF_ABSTRACT;
		ev->path[0] = '@';
		bpf_probe_read_kernel(ev->path + 1, ASB_UNIX_PATH_MAX - 2,
				      (char *)address + 3);
		ev_send(ev);
	}
	return -EPERM;
}

/* Whether @port is in an ask range of @v (the first range holding it). */
static __always_inline bool ask_port(const struct asb_net_val *v, __u16 port,
				     __u32 *rule)
{
	int i;

	if (!v)
		return false;
	for (i = 0; i < ASB_NET_RANGES; i++) {
		if (i >= v->n)
			break;
		if (port >= v->r[i].lo && port <= v->r[i].hi) {
			*rule = v->r[i].rule;
			return v->ask & (1u << i);
		}
	}
	return false;
}

/*
 * The IPv4 or IPv6 address and port of @address into @w (network order;
 * IPv4 and v4-mapped IPv6 in w[0], the rest zero) and @port (host order).
 * Returns the address length (4 or 16), 0 if not an inet address the
 * kernel would take.
 */
static __always_inline int inet_addr(struct sockaddr *address, int addrlen,
				     __u32 w[4], __u16 *port)
{
	__u16 family = BPF_CORE_READ(address, sa_family);

	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)address;

		if (addrlen < (int)sizeof(*in))
			return 0;	/* the kernel refuses it */
		*port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
		w[0] = BPF_CORE_READ(in, sin_addr.s_addr);
		return 4;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)address;

		if (addrlen < 24)
			return 0;
		*port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
		bpf_probe_read_kernel(w, 16, &in6->sin6_addr);
		if (w[0] || w[1] || w[2] != bpf_htonl(0xffff))
			return 16;
		w[0] = w[3];
		w[1] = w[2] = w[3] = 0;
		return 4;
	}
	return 0;
}

/*
 * approve.connect through asb.ko, first half. The cgroup connect programs
 * decide every inet connect (they also see TCP Fast Open's, which does not
 * pass this hook); one refuses an approve.connect address unless it finds
 * the one-shot entry of an approval. This program finds the ask verdict
 * (the LPM tries are not for sleepable programs) and leaves the address
 * in asb_net_ask for asb_socket_connect_ask, which runs after it on the
 * same hook and asks. agentd attaches the two only while a sandbox has an
 * approve.connect rule.
 */
SEC("lsm/socket_connect")
int BPF_PROG(asb_socket_connect, struct socket *sock,
	     struct sockaddr *address, int addrlen, int ret)
{
	const struct asb_sb_conf *conf;
	const struct asb_net_val *v;
	__u32 sbid, tid, rule = ASB_RULE_NONE, w[4] = {};
	__u16 port = 0;
	int alen;

	if (ret || !member(&sbid))
		return ret;
	alen = inet_addr(address, addrlen, w, &port);
	conf = bpf_map_lookup_elem(&asb_sandbox, &sbid);
	if (!alen || !conf)
		return 0;
	if (alen == 4) {
		struct asb_net4_key k4 = {
			.prefixlen = ASB_NET_KEY_BITS + 32,
			.set = conf->set, .kind = ASB_RULE_NET_CONNECT,
		};

		__builtin_memcpy(k4.addr, w, 4);
		v = bpf_map_lookup_elem(&asb_net4, &k4);
	} else {
		struct asb_net6_key k6 = {
			.prefixlen = ASB_NET_KEY_BITS + 128,
			.set = conf->set, .kind = ASB_RULE_NET_CONNECT,
		};

		__builtin_memcpy(k6.addr, w, 16);
		v = bpf_map_lookup_elem(&asb_net6, &k6);
	}
	if (ask_port(v, port, &rule)) {
		struct asb_net_ask q = {
			.sandbox = sbid, .rule = rule, .port = port,
			.family = alen == 4 ? AF_INET : AF_INET6, .alen = alen,
		};

		tid = (__u32)bpf_get_current_pid_tgid();
		__builtin_memcpy(q.addr, w, 16);
		bpf_map_update_elem(&asb_net_ask, &tid, &q, BPF_ANY);
	}
	return 0;
}

/*
 * approve.connect through asb.ko: after asb_socket_connect (which left
 * asb_net_ask), on the kernel's copy of the address. An allow leaves the
 * one-shot entry the cgroup connect program consumes; a deny is EPERM here.
 */
SEC("lsm.s/socket_connect")
int BPF_PROG(asb_socket_connect_ask, struct socket *sock,
	     struct sockaddr *address, int addrlen, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), w[4] = {};
	struct asb_net_ask *p = bpf_map_lookup_elem(&asb_net_ask, &tid), q;
	struct asb_oneshot_key key = { .tid = tid };
	struct asb_oneshot_val one = {};
	struct asb_event *ev;
	__u16 port = 0;
	__u64 args[2];
	char *obj;
	int act, alen;

	if (!p)
		return ret;
	q = *p;
	bpf_map_delete_elem(&asb_net_ask, &tid);
	if (ret)
		return ret;
	/* left by this very connect(): the same address, else not ours */
	alen = inet_addr(address, addrlen, w, &port);
	if (alen != (int)q.alen || port != q.port || w[0] != q.addr[0] ||
	    w[1] != q.addr[1] || w[2] != q.addr[2] || w[3] != q.addr[3])
		return ret;
	obj = ask_buf();
	if (!obj || !kernel_ask())
		goto deny;
	args[0] = (__u64)(long)q.addr;
	args[1] = q.port;
	if (q.family == AF_INET)
		bpf_snprintf(obj, ASB_GATE_OBJECT_SZ, "%pI4:%u", args, 16);
	else
		bpf_snprintf(obj, ASB_GATE_OBJECT_SZ, "[%pI6]:%u", args, 16);
	if (gate_ask(q.sandbox, ASB_RULE_ASK_CONNECT, obj))
		goto deny;
	key.sandbox = q.sandbox;
	one.family = q.family;
	one.port = q.port;
	__builtin_memcpy(one.addr, q.addr, 16);
	if (bpf_map_update_elem(&asb_oneshot, &key, &one, BPF_ANY))
		goto deny;
	return 0;
deny:
	act = q.family == AF_INET ? ASB_ACT_CONNECT4 : ASB_ACT_CONNECT6;
	ev = ev_new(q.sandbox, act, q.rule, true);
	if (ev) {
		ev->flags |= ASB_EVF_ASK;
		ev->family = q.family;
		ev->port = q.port;
		__builtin_memcpy(ev->addr, q.addr, 16);
		ev_send(ev);
	}
	return -EPERM;
}
