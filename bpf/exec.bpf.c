// SPDX-License-Identifier: GPL-2.0
/*
 * asb portable backend: approve.exec, the kernel's final check.
 *
 * agentd records, per thread, the file it checked before it lets a held
 * execve/execveat go on (asb_exec, layout in include/asb/event.h). At
 * sched_process_exec the exec is past its point of no return and the new
 * image has not run a single instruction: if the file the kernel executed
 * is not the one agentd checked, the process gets SIGKILL, which is
 * delivered before it returns to user mode. The entry is consumed.
 *
 * When the leader thread of a process of a sandbox exits, it leaves its
 * sandbox id in asb_exited (LRU, by tgid): Landlock's audit records reach
 * agentd after the process that was denied may have been reaped, and its sandbox is no
 * longer in /proc then.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <asb/event.h>

#include "member.h"

#define SIGKILL		9

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct asb_exec_val);
} asb_exec SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} asb_exec_kills SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} asb_exited SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct asb_exe_val);
} asb_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct asb_exe_val);
} asb_exe_prev SEC(".maps");

/* The socket programs' ring buffer (agentd reuses its fd). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} asb_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct asb_interp_key);
	__type(value, __u8);
} asb_interp SEC(".maps");

/* Per-CPU scratch for the filename (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[ASB_EXEC_NAME_MAX]);
} asb_exec_name SEC(".maps");

static __always_inline __u32 kdev(const struct inode *inode)
{
	return inode->i_sb->s_dev;
}

static __always_inline bool same_name(const struct asb_exec_val *v,
				      const char *filename)
{
	__u32 zero = 0;
	char *buf = bpf_map_lookup_elem(&asb_exec_name, &zero);
	long n;
	int i;

	if (!buf)
		return false;
	n = bpf_probe_read_kernel_str(buf, ASB_EXEC_NAME_MAX, filename);
	if (n <= 0 || n - 1 != v->name_len)
		return false;
	for (i = 0; i < ASB_EXEC_NAME_MAX; i++) {
		if (i >= n)
			break;
		if (buf[i] != v->name[i])
			return false;
	}
	return true;
}

#define OVERLAYFS_SUPER_MAGIC	0x794c7630

/*
 * Is the executed file the one agentd checked with stat()? stat() reports
 * the real inode's number and device; on overlayfs the device is a pseudo
 * device of the layer that no inode carries, so there the inode number of
 * the real file decides alone.
 */
static __always_inline bool same_file(__u64 ino, __u32 dev,
				      const struct linux_binprm *bprm)
{
	const struct inode *real = bprm->file->f_inode;
	const struct inode *named = bprm->file->f_path.dentry->d_inode;

	if (!ino || real->i_ino != ino)
		return false;
	return kdev(real) == dev ||
	       named->i_sb->s_magic == OVERLAYFS_SUPER_MAGIC;
}

static __always_inline void kill_counted(void)
{
	__u32 zero = 0;
	__u64 *kills;

	bpf_send_signal(SIGKILL);
	kills = bpf_map_lookup_elem(&asb_exec_kills, &zero);
	if (kills)
		__sync_fetch_and_add(kills, 1);
}

/*
 * Is the executed file an ELF interpreter? Keyed as stat() reports it: the
 * real inode's number and device; on overlayfs, whose stat() device is a
 * pseudo device of the layer that no inode carries, by number alone (dev
 * 0, as agentd also enters it there), as same_file() decides.
 */
static __always_inline bool is_interp(const struct linux_binprm *bprm)
{
	const struct inode *real = bprm->file->f_inode;
	const struct inode *named = bprm->file->f_path.dentry->d_inode;
	struct asb_interp_key k = { .ino = real->i_ino, .dev = kdev(real) };

	if (bpf_map_lookup_elem(&asb_interp, &k))
		return true;
	if (named->i_sb->s_magic != OVERLAYFS_SUPER_MAGIC)
		return false;
	k.dev = 0;
	return bpf_map_lookup_elem(&asb_interp, &k) != NULL;
}

/* The audit record of a loader killed in sandbox @sbid. */
static __always_inline void record_interp(__u32 sbid,
					  const struct linux_binprm *bprm)
{
	struct asb_event *ev = bpf_ringbuf_reserve(&asb_events, sizeof(*ev), 0);

	if (!ev)
		return;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->time_ns = bpf_ktime_get_boot_ns();
	ev->sandbox = sbid;
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->tid = (__u32)bpf_get_current_pid_tgid();
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->rule = ASB_RULE_NONE;
	ev->action = ASB_ACT_EXEC_INTERP;
	ev->verdict = ASB_EV_DENY;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), bprm->filename);
	bpf_ringbuf_submit(ev, 0);
}

/* ---- identity for the broker ---- */

static __always_inline void exe_of_file(struct asb_exe_val *v,
					const struct file *f)
{
	const struct inode *real = f->f_inode;
	const struct inode *named = f->f_path.dentry->d_inode;

	v->ino = real->i_ino;
	v->dev = kdev(real);
	v->flags = named->i_sb->s_magic == OVERLAYFS_SUPER_MAGIC ?
		   ASB_EXE_OVERLAY : 0;
}

#define ENV_CHUNK	256
#define ENV_MAX		(64 * 1024)	/* more environment than this taints */

struct env_scan {
	unsigned long p, end;
	__u32 pos;		/* offset in the current string, up to 3 */
	__u32 ld;		/* it starts "L", "LD", "LD_" so far */
	bool bad;
};

/*
 * Byte @i of [@p, @end) of the current task's memory, read through the
 * per-CPU scratch buffer, which is refilled every ENV_CHUNK bytes: 0-255,
 * -1 past the end, -2 when unreadable.
 */
static __always_inline int user_byte(unsigned long p, unsigned long end,
				     __u32 i)
{
	__u32 zero = 0, j = i & (ENV_CHUNK - 1);
	char *buf = bpf_map_lookup_elem(&asb_exec_name, &zero);
	unsigned long at = p + i, n;

	if (!buf || at >= end)
		return -1;
	if (!j) {
		n = end - at;
		if (n > ENV_CHUNK)
			n = ENV_CHUNK;
		if (bpf_probe_read_user(buf, n & (2 * ENV_CHUNK - 1),
					(void *)at))
			return -2;
	}
	return (__u8)buf[j];
}

/* One byte of the environment (bpf_loop callback). */
static long env_byte(__u32 i, void *arg)
{
	struct env_scan *e = arg;
	int c = user_byte(e->p, e->end, i);

	if (c < 0) {
		e->bad = c == -2;
		return 1;
	}
	if (!c) {
		e->pos = 0;
		e->ld = 0;
		return 0;
	}
	/* pos stops at 3: few states for the verifier */
	if (e->pos < 3 && e->ld == e->pos &&
	    c == (e->pos == 0 ? 'L' : e->pos == 1 ? 'D' : '_'))
		e->ld++;
	if (e->pos < 3)
		e->pos++;
	if (e->ld == 3) {
		e->bad = true;
		return 1;
	}
	return 0;
}

struct argv_scan {
	unsigned long p, end;
	__u64 hash;
	bool bad;
};

/* One byte of the new image's argv into the FNV-1a hash. */
static long argv_byte(__u32 i, void *arg)
{
	struct argv_scan *a = arg;
	int c = user_byte(a->p, a->end, i);

	if (c < 0) {
		a->bad = c == -2;
		return 1;
	}
	a->hash = (a->hash ^ (__u8)c) * ASB_FNV64_PRIME;
	return 0;
}

/* Are the arguments the new image got the ones agentd showed? */
static __noinline bool argv_matches(struct task_struct *p, __u64 hash,
				    __u32 len)
{
	struct mm_struct *mm = p->mm;
	struct argv_scan a = { .hash = ASB_FNV64_OFFSET };

	if (!mm)
		return false;
	a.p = mm->arg_start;
	a.end = mm->arg_end;
	if (a.end < a.p || a.end - a.p != len || len > ASB_ARGV_MAX)
		return false;
	bpf_loop(len, argv_byte, &a, 0);
	return !a.bad && a.hash == hash;
}

/* Was the image just exec'd given an LD_* variable (the kernel's copy of
 * the environment, before any code of it ran)? */
static __always_inline bool env_tainted(const struct task_struct *p)
{
	struct mm_struct *mm = p->mm;
	struct env_scan e = { 0 };

	if (!mm)
		return true;
	e.p = mm->env_start;
	e.end = mm->env_end;
	if (e.end < e.p || e.end - e.p > ENV_MAX)
		return true;
	bpf_loop(e.end - e.p, env_byte, &e, 0);
	return e.bad;
}

/* At exec: what the process was becomes asb_exe_prev, what it runs now
 * asb_exe. A process of unknown past gets no asb_exe_prev. */
static __noinline void track_exec(struct task_struct *p,
				  const struct linux_binprm *bprm)
{
	__u32 key = p->tgid;
	struct asb_exe_val *now = bpf_map_lookup_elem(&asb_exe, &key), v;

	if (now)
		bpf_map_update_elem(&asb_exe_prev, &key, now, BPF_ANY);
	else
		bpf_map_delete_elem(&asb_exe_prev, &key);
	exe_of_file(&v, bprm->file);
	if (env_tainted(p))
		v.flags |= ASB_EXE_TAINTED;
	bpf_map_update_elem(&asb_exe, &key, &v, BPF_ANY);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(asb_exec_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 key = parent->tgid, ckey = child->tgid, sbid;
	struct asb_exe_val *v, own;
	struct file *f;

	if (child->pid != child->tgid || !member(&sbid))
		return 0;	/* a thread, or outside every sandbox */
	v = bpf_map_lookup_elem(&asb_exe, &key);
	if (!v) {
		/* the sandbox's init: what the launcher was */
		f = parent->mm ? parent->mm->exe_file : NULL;
		if (!f)
			return 0;
		exe_of_file(&own, f);
		own.flags |= ASB_EXE_TAINTED;	/* not known how it started */
		v = &own;
	}
	bpf_map_update_elem(&asb_exe, &ckey, v, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(asb_exec_check, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 key = (__u32)old_pid, sbid;
	struct asb_exec_val *v = bpf_map_lookup_elem(&asb_exec, &key);
	bool in = member(&sbid);
	struct inode *inode;
	__u64 ino;
	__u32 dev;
	bool ok;


	if (in)
		track_exec(p, bprm);
	if (in && is_interp(bprm)) {
		if (v)
			bpf_map_delete_elem(&asb_exec, &key);
		kill_counted();
		record_interp(sbid, bprm);
		bpf_printk("asb: ELF interpreter run as a program killed pid=%d sandbox=%u",
			   old_pid, sbid);
		return 0;
	}
	if (!v)
		return 0;
	/* agentd's entry outlived its process (it exited before agentd wrote
	 * it) and the pid went to another: not the process it was meant for */
	if (!in || v->sandbox != sbid) {
		bpf_map_delete_elem(&asb_exec, &key);
		return 0;
	}
	ok = same_file(v->ino, v->dev, bprm);
	/* a script: its last interpreter runs, given the checked filename */
	if (!ok && same_file(v->interp_ino, v->interp_dev, bprm))
		ok = same_name(v, bprm->filename);
	/* the arguments shown are the arguments run (another thread may
	 * have rewritten them after agentd read them) */
	if (ok && v->argv_len)
		ok = argv_matches(p, v->argv_hash, v->argv_len);
	inode = bprm->file->f_inode;
	ino = inode->i_ino;
	dev = kdev(inode);
	bpf_map_delete_elem(&asb_exec, &key);
	if (ok)
		return 0;
	kill_counted();
	bpf_printk("asb: exec of unapproved file killed pid=%d dev=%u ino=%llu",
		   old_pid, dev, ino);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(asb_exec_exit, struct task_struct *p)
{
	__u32 key = (__u32)p->pid, sbid;

	bpf_map_delete_elem(&asb_exec, &key);
	/* once per process: when its first thread, whose pid is the tgid, ends */
	if (p->pid == p->tgid && member(&sbid)) {
		bpf_map_update_elem(&asb_exited, &key, &sbid, BPF_ANY);
		bpf_map_delete_elem(&asb_exe, &key);
		bpf_map_delete_elem(&asb_exe_prev, &key);
	}
	return 0;
}
