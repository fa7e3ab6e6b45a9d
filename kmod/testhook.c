// SPDX-License-Identifier: GPL-2.0
/*
 * Test hook: with the module parameter test_hook=1, /proc/fs/asb/gate_test
 * (root only) lets the selftests drive the gate without a BPF program.
 * Writing "SANDBOX ACTION TIMEOUT_MS OBJECT" asks exactly as the kfunc
 * bpf_asb_gate_ask() does, in the writing thread: the write returns its
 * length if allowed, and the gate's error (-EACCES, -EINTR, -EINVAL) if
 * denied. Exec asks need an exec's argv: refused here (-EINVAL) as there.
 *
 * procfs rather than debugfs: a proc entry does not pin the module while
 * open, and remove_proc_entry() waits for writers and releases open files,
 * so the module can be unloaded with test asks pending (they are denied).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asb/gate.h>

#include "asb.h"

static bool test_hook;
module_param(test_hook, bool, 0444);
MODULE_PARM_DESC(test_hook, "create /proc/fs/asb/gate_test (selftests only)");

static struct proc_dir_entry *asb_proc_dir;

static ssize_t asb_gate_test_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	u32 sandbox, action, timeout_ms;
	int n = 0, ret;
	char *buf;

	if (len == 0 || len >= ASB_GATE_OBJECT_SZ + 64)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (sscanf(buf, "%u %u %u %n", &sandbox, &action, &timeout_ms, &n) != 3 ||
	    !n) {
		kfree(buf);
		return -EINVAL;
	}
	strim(buf + n);
	ret = asb_gate_ask(sandbox, action, timeout_ms, buf + n,
			   ASB_GATE_OBJECT_SZ);
	kfree(buf);
	return ret ? ret : len;
}

static const struct proc_ops asb_gate_test_ops = {
	.proc_write = asb_gate_test_write,
	.proc_lseek = noop_llseek,
};

int asb_testhook_init(void)
{
	if (!test_hook)
		return 0;
	asb_proc_dir = proc_mkdir("fs/asb", NULL);
	if (!asb_proc_dir)
		return -ENOMEM;
	if (!proc_create("gate_test", 0200, asb_proc_dir, &asb_gate_test_ops)) {
		proc_remove(asb_proc_dir);
		asb_proc_dir = NULL;
		return -ENOMEM;
	}
	pr_notice("test hook enabled: /proc/fs/asb/gate_test\n");
	return 0;
}

/* Waits for writers still inside asb_gate_test_write(). */
void asb_testhook_exit(void)
{
	proc_remove(asb_proc_dir);
	asb_proc_dir = NULL;
}
