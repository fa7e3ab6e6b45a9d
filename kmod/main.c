// SPDX-License-Identifier: GPL-2.0
/*
 * asb.ko: the kernel side of asb, the sandbox for AI agents. A generic
 * netlink control plane for agentd (genl.c), the approval gate that
 * BPF-LSM programs call (gate.c), trace events (trace.h) and a test hook
 * for the selftests (testhook.c). See docs/kernel.md.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "asb.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static int __init asb_init(void)
{
	int ret;

	ret = asb_genl_init();
	if (ret)
		return ret;
	ret = asb_testhook_init();
	if (ret)
		goto err_genl;
	/* last: once registered, BPF programs can call the gate */
	ret = asb_gate_init();
	if (ret)
		goto err_hook;
	pr_info("loaded\n");
	return 0;

err_hook:
	asb_testhook_exit();
err_genl:
	asb_genl_exit();
	asb_gate_free();
	return ret;
}

static void __exit asb_exit(void)
{
	asb_gate_exit();	/* deny what is pending, refuse new asks */
	asb_testhook_exit();	/* waits for the test hook's askers */
	asb_genl_exit();
	asb_gate_free();
	pr_info("unloaded\n");
}

module_init(asb_init);
module_exit(asb_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("asb");
MODULE_DESCRIPTION("asb: approval gate and genetlink control plane for agent sandboxes");
