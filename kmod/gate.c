// SPDX-License-Identifier: GPL-2.0
/*
 * The approval gate: bpf_asb_gate_ask(), a sleepable kfunc for BPF-LSM
 * programs (include/asb/gate.h). An ask is recorded in asb_reqs under a
 * fresh id, sent to the registered agentd, and the calling thread sleeps
 * killable until agentd's verdict, the timeout or a fatal signal. Every
 * outcome but an explicit allow is a deny.
 *
 * Lifetime: the waiting thread owns its struct asb_req. A verdict only
 * touches a request under the xarray lock while it is in asb_reqs; the
 * waiter erases it (under the same lock) before reading the verdict and
 * freeing it. On unload every pending request is denied and new asks are
 * refused (asb_closing).
 *
 * Exec asks come only through bpf_asb_gate_ask_exec() with the hook's
 * linux_binprm: the ask carries the new image's argv, read from its
 * memory (already copied in, not yet anyone's but this exec's), and the
 * caller's working directory. An argv that cannot be read whole or is
 * longer than ASB_GENL_ARGV_MAX is not sent; agentd is told, and the
 * exec fails with -E2BIG whatever the verdict.
 */
#include <crypto/sha2.h>
#include <linux/binfmts.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/mmap_lock.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <asb/gate.h>
#include <asb/genl.h>
#include <asb/image.h>

#include "asb.h"
#include "trace.h"

/* req->verdict besides ASB_VERDICT_*: denied because the module goes away */
#define ASB_VERDICT_UNLOAD	0x100

struct asb_req {
	wait_queue_head_t wq;
	u32 id;
	u32 verdict;		/* 0 while pending */
};

static DEFINE_XARRAY_ALLOC1(asb_reqs);
static u32 asb_next_id;
static bool asb_closing;	/* under xa_lock(&asb_reqs) */
static atomic_t asb_pending = ATOMIC_INIT(0);

struct asb_counters asb_counters;

u32 asb_gate_pending(void)
{
	return atomic_read(&asb_pending);
}

/* A reference to current's executable, or NULL. */
static struct file *asb_exe_file(void)
{
	struct mm_struct *mm = current->mm;
	struct file *exe;

	if (!mm)
		return NULL;
	rcu_read_lock();
#ifdef get_file_rcu	/* before 6.7: a macro taking the file */
	exe = rcu_dereference(mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
#else
	exe = get_file_rcu(&mm->exe_file);
#endif
	rcu_read_unlock();
	return exe;
}

static void asb_deny(u32 id, const struct asb_ask_msg *m, atomic64_t *counter,
		     const char *reason)
{
	atomic64_inc(counter);
	trace_asb_deny(id, m->sandbox, m->pid, m->action, reason);
}

/* Insert @req under a new id; -ESHUTDOWN once the module is going away. */
static int asb_req_insert(struct asb_req *req)
{
	int ret;

	xa_lock(&asb_reqs);
	if (asb_closing) {
		ret = -ESHUTDOWN;
	} else {
		/* may drop the lock to allocate: check asb_closing again */
		ret = __xa_alloc_cyclic(&asb_reqs, &req->id, req, xa_limit_32b,
					&asb_next_id, GFP_KERNEL);
		if (ret >= 0 && asb_closing) {
			__xa_erase(&asb_reqs, req->id);
			ret = -ESHUTDOWN;
		}
	}
	xa_unlock(&asb_reqs);
	return ret < 0 ? ret : 0;
}

/* Ask and wait; 0: allowed, else denied. Sleeps. */
static int asb_gate_wait(struct asb_ask_msg *m)
{
	struct asb_req *req;
	long left;
	u32 verdict;
	int ret;

	if (!asb_genl_have_agent()) {
		asb_deny(0, m, &asb_counters.no_agent, "no-agent");
		return -EACCES;
	}
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req) {
		asb_deny(0, m, &asb_counters.send_failed, "nomem");
		return -EACCES;
	}
	init_waitqueue_head(&req->wq);
	ret = asb_req_insert(req);
	if (ret) {
		asb_deny(0, m, &asb_counters.send_failed,
			 ret == -ESHUTDOWN ? "unload" : "nomem");
		kfree(req);
		return -EACCES;
	}
	atomic_inc(&asb_pending);
	m->id = req->id;
	trace_asb_ask(req->id, m->sandbox, m->pid, m->action, m->timeout_ms,
		      m->exe, m->object);
	ret = asb_genl_send_ask(m);
	if (ret) {
		xa_erase(&asb_reqs, req->id);
		atomic_dec(&asb_pending);
		if (ret == -ENOTCONN || ret == -ECONNREFUSED)
			asb_deny(req->id, m, &asb_counters.no_agent, "no-agent");
		else
			asb_deny(req->id, m, &asb_counters.send_failed,
				 "send-failed");
		kfree(req);
		return -EACCES;
	}

	left = wait_event_killable_timeout(req->wq, READ_ONCE(req->verdict),
					   msecs_to_jiffies(m->timeout_ms));
	/* after this, nobody else can see req: its verdict is final */
	xa_erase(&asb_reqs, req->id);
	atomic_dec(&asb_pending);
	verdict = req->verdict;
	kfree(req);

	switch (verdict) {
	case ASB_VERDICT_ALLOW:
		atomic64_inc(&asb_counters.allowed);
		return 0;
	case ASB_VERDICT_DENY:
		asb_deny(m->id, m, &asb_counters.denied, "verdict");
		return -EACCES;
	case ASB_VERDICT_UNLOAD:
		asb_deny(m->id, m, &asb_counters.denied, "unload");
		return -EACCES;
	}
	if (left < 0) {
		asb_deny(m->id, m, &asb_counters.killed, "killed");
		return -EINTR;
	}
	asb_deny(m->id, m, &asb_counters.timeouts, "timeout");
	return -EACCES;
}

/*
 * Fill in what the kernel knows of the caller (pid, exe, comm), copy
 * @object, ask and wait. 0: allowed.
 */
static int asb_gate_send(struct asb_ask_msg *m, u32 timeout_ms,
			 const char *object, size_t object_len)
{
	char comm[TASK_COMM_LEN];
	char *obj, *exe_buf = NULL;
	struct file *exe;
	int ret;

	m->pid = task_pid_nr(current);
	m->tgid = task_tgid_nr(current);
	atomic64_inc(&asb_counters.asks);
	if (!timeout_ms)
		timeout_ms = ASB_GATE_TIMEOUT_MS_DEFAULT;
	m->timeout_ms = min_t(u32, timeout_ms, ASB_GATE_TIMEOUT_MS_MAX);

	obj = kmemdup_nul(object ? object : "",
			  object ? strnlen(object, min_t(size_t, object_len,
							 ASB_GENL_OBJECT_MAX)) : 0,
			  GFP_KERNEL);
	if (!obj) {
		asb_deny(0, m, &asb_counters.send_failed, "nomem");
		return -EACCES;
	}
	m->object = obj;

	m->exe = "";
	exe = asb_exe_file();
	if (exe) {
		exe_buf = kmalloc(PATH_MAX, GFP_KERNEL);
		if (exe_buf) {
			char *p = file_path(exe, exe_buf, PATH_MAX);

			if (!IS_ERR(p))
				m->exe = p;
		}
		fput(exe);
	}
	get_task_comm(comm, current);
	m->comm = comm;

	ret = asb_gate_wait(m);
	kfree(exe_buf);
	kfree(obj);
	return ret;
}

/* Every action but exec, whose asks need the argv (asb_gate_ask_exec). */
int asb_gate_ask(u32 sandbox, u32 action, u32 timeout_ms, const char *object,
		 size_t object_len)
{
	struct asb_ask_msg m = { .sandbox = sandbox, .action = action };

	if (action < ASB_RULE_FS_READ || action > ASB_RULE_KIND_MAX ||
	    action == ASB_RULE_ASK_EXEC)
		return -EINVAL;
	return asb_gate_send(&m, timeout_ms, object, object_len);
}

/* The page of the new image's memory at @pos, referenced, or NULL. */
static struct page *asb_arg_page(struct mm_struct *mm, unsigned long pos)
{
	struct page *page;
	long n;

	/* as fs/exec.c's get_arg_page() */
	mmap_read_lock(mm);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	n = get_user_pages_remote(mm, pos, 1, FOLL_FORCE, &page, NULL);
#else
	n = get_user_pages_remote(mm, pos, 1, FOLL_FORCE, &page, NULL, NULL);
#endif
	mmap_read_unlock(mm);
	return n == 1 ? page : NULL;
}

/*
 * The argv of @bprm: argc NUL-terminated strings from bprm->p up, below
 * the environment and the file name (bprm->exec). All of it is read and
 * hashed, at most ASB_GENL_ARGV_MAX bytes kept in @buf. Sets m->argc,
 * m->argv_len and m->argv_hash; m->argv = @buf when it is whole and fits.
 */
static void asb_read_argv(struct linux_binprm *bprm, struct asb_ask_msg *m,
			  char *buf)
{
	struct mm_struct *mm = bprm->mm;
	unsigned long pos = bprm->p, end = bprm->exec;
	struct sha256_state sha;
	int left = bprm->argc;
	size_t total = 0;

	m->argc = bprm->argc > 0 ? bprm->argc : 0;
	m->argv_len = 0;
	m->argv = NULL;
	if (!mm || left <= 0 || pos >= end)
		return;
	sha256_init(&sha);
	while (left > 0 && pos < end) {
		size_t off = offset_in_page(pos), n, i;
		struct page *page = asb_arg_page(mm, pos);
		const char *kaddr;

		if (!page)
			return;
		n = min_t(size_t, PAGE_SIZE - off, end - pos);
		kaddr = kmap_local_page(page);
		for (i = 0; i < n && left > 0; ) {
			const char *nul = memchr(kaddr + off + i, 0, n - i);

			if (!nul) {
				i = n;
				break;
			}
			i = nul - (kaddr + off) + 1;
			left--;
		}
		sha256_update(&sha, (const u8 *)kaddr + off, i);
		if (total < ASB_GENL_ARGV_MAX)
			memcpy(buf + total, kaddr + off,
			       min_t(size_t, i, ASB_GENL_ARGV_MAX - total));
		kunmap_local(kaddr);
		put_page(page);
		total += i;
		pos += i;
		cond_resched();
	}
	if (left > 0)
		return;		/* not terminated below the environment */
	sha256_final(&sha, m->argv_hash);
	m->argv_len = total;
	if (total <= ASB_GENL_ARGV_MAX)
		m->argv = buf;
}

/* The caller's working directory into @buf (PATH_MAX); "" if unknown. */
static const char *asb_cwd(char *buf)
{
	struct path pwd;
	char *p;

	if (!current->fs)
		return "";
	get_fs_pwd(current->fs, &pwd);
	p = d_path(&pwd, buf, PATH_MAX);
	path_put(&pwd);
	return IS_ERR(p) ? "" : p;
}

/*
 * An exec ask from bprm_check_security: the program's path as @object,
 * and what the kernel adds from @bprm (its argv) and current (its cwd).
 * An argv that is not sent is a deny with -E2BIG, after agentd was told.
 */
static int asb_gate_ask_exec(u32 sandbox, u32 timeout_ms, const char *object,
			     size_t object_len, struct linux_binprm *bprm)
{
	struct asb_ask_msg m = {
		.sandbox = sandbox,
		.action = ASB_RULE_ASK_EXEC,
	};
	char *argv, *cwd;
	int ret;

	argv = kvmalloc(ASB_GENL_ARGV_MAX, GFP_KERNEL);
	cwd = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!argv || !cwd) {
		m.pid = task_pid_nr(current);
		atomic64_inc(&asb_counters.asks);
		asb_deny(0, &m, &asb_counters.send_failed, "nomem");
		ret = -EACCES;
		goto out;
	}
	asb_read_argv(bprm, &m, argv);
	m.cwd = asb_cwd(cwd);
	ret = asb_gate_send(&m, timeout_ms, object, object_len);
	if (!m.argv)
		ret = -E2BIG;	/* the operator could not see it: never run */
out:
	kfree(cwd);
	kvfree(argv);
	return ret;
}

int asb_gate_verdict(u32 id, u32 verdict, u32 portid)
{
	struct asb_req *req;
	int ret = -ENOENT;

	xa_lock(&asb_reqs);
	req = xa_load(&asb_reqs, id);
	if (req && !req->verdict) {
		WRITE_ONCE(req->verdict, verdict);
		wake_up(&req->wq);
		ret = 0;
	}
	xa_unlock(&asb_reqs);
	if (ret)
		atomic64_inc(&asb_counters.bad_verdicts);
	else
		trace_asb_verdict(id, verdict, portid);
	return ret;
}

#ifndef __bpf_kfunc
#define __bpf_kfunc noinline	/* before 6.5 */
#endif

/**
 * bpf_asb_gate_ask - hold an action until agentd's verdict
 * @req: sandbox, action, timeout
 * @req__sz: sizeof(*req)
 * @object: the object, NUL-terminated
 * @object__sz: at most this many bytes of @object are read
 *
 * Sleeps. Returns 0 if allowed, else a negative error (deny).
 */
__bpf_kfunc int bpf_asb_gate_ask(const struct asb_gate_req *req, u32 req__sz,
				 const char *object, u32 object__sz)
{
	if (!req || req__sz != sizeof(*req) || req->flags)
		return -EINVAL;
	return asb_gate_ask(req->sandbox, req->action, req->timeout_ms,
			    object, object ? object__sz : 0);
}

/**
 * bpf_asb_gate_ask_exec - hold an exec until agentd's verdict
 * @req: sandbox, action (ASB_RULE_ASK_EXEC), timeout
 * @req__sz: sizeof(*req)
 * @object: the program's path, NUL-terminated
 * @object__sz: at most this many bytes of @object are read
 * @bprm: the exec, as bprm_check_security has it
 *
 * Sleeps. Returns 0 if allowed, -E2BIG if the argv could not be shown,
 * else another negative error (deny).
 */
__bpf_kfunc int bpf_asb_gate_ask_exec(const struct asb_gate_req *req,
				      u32 req__sz, const char *object,
				      u32 object__sz,
				      struct linux_binprm *bprm)
{
	if (!req || req__sz != sizeof(*req) || req->flags ||
	    req->action != ASB_RULE_ASK_EXEC || !bprm)
		return -EINVAL;
	return asb_gate_ask_exec(req->sandbox, req->timeout_ms, object,
				 object ? object__sz : 0, bprm);
}

/* 6.2+: the LSM hook's own arguments are trusted pointers */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define ASB_KF_EXEC	(KF_SLEEPABLE | KF_TRUSTED_ARGS)
#else
#define ASB_KF_EXEC	KF_SLEEPABLE
#endif

#ifdef BTF_KFUNCS_START
BTF_KFUNCS_START(asb_kfunc_ids)
BTF_ID_FLAGS(func, bpf_asb_gate_ask, KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_asb_gate_ask_exec, ASB_KF_EXEC)
BTF_KFUNCS_END(asb_kfunc_ids)
#else
BTF_SET8_START(asb_kfunc_ids)
BTF_ID_FLAGS(func, bpf_asb_gate_ask, KF_SLEEPABLE)
BTF_ID_FLAGS(func, bpf_asb_gate_ask_exec, ASB_KF_EXEC)
BTF_SET8_END(asb_kfunc_ids)
#endif

static const struct btf_kfunc_id_set asb_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &asb_kfunc_ids,
};

int asb_gate_init(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_LSM, &asb_kfunc_set);
}

/*
 * Deny every pending ask and refuse new ones. BPF programs that call the
 * kfunc hold a reference on the module, so the waiters left here are the
 * test hook's (testhook.c waits for them to return).
 */
void asb_gate_exit(void)
{
	struct asb_req *req;
	unsigned long id;

	xa_lock(&asb_reqs);
	asb_closing = true;
	xa_for_each(&asb_reqs, id, req) {
		if (!req->verdict) {
			WRITE_ONCE(req->verdict, ASB_VERDICT_UNLOAD);
			wake_up(&req->wq);
		}
	}
	xa_unlock(&asb_reqs);
}

/* After the waiters are gone (asb_testhook_exit). */
void asb_gate_free(void)
{
	WARN_ON(!xa_empty(&asb_reqs));
	xa_destroy(&asb_reqs);
}
