// SPDX-License-Identifier: GPL-2.0
/*
 * The "asb" generic netlink family (include/asb/genl.h): agentd registers
 * itself, receives asks and answers them with verdicts; status and
 * counters for anyone with CAP_NET_ADMIN. Initial network namespace only.
 *
 * The agent is the port id of the socket that sent REGISTER; a netlink
 * notifier forgets it when that socket is released. Asks still pending
 * then are denied at their timeout.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include <asb/gate.h>
#include <asb/genl.h>
#include <asb/image.h>

#include "asb.h"

static DEFINE_SPINLOCK(asb_agent_lock);
static u32 asb_agent_portid;	/* 0: none */

static const struct nla_policy asb_genl_policy[ASB_A_MAX + 1] = {
	[ASB_A_VERSION]		= { .type = NLA_U32 },
	[ASB_A_REQ_ID]		= NLA_POLICY_MIN(NLA_U32, 1),
	[ASB_A_SANDBOX]		= { .type = NLA_U32 },
	[ASB_A_PID]		= { .type = NLA_U32 },
	[ASB_A_TGID]		= { .type = NLA_U32 },
	[ASB_A_EXE]		= { .type = NLA_NUL_STRING,
				    .len = ASB_GENL_EXE_MAX },
	[ASB_A_ACTION]		= NLA_POLICY_RANGE(NLA_U32, ASB_RULE_FS_READ,
						   ASB_RULE_KIND_MAX),
	[ASB_A_OBJECT]		= { .type = NLA_NUL_STRING,
				    .len = ASB_GENL_OBJECT_MAX },
	[ASB_A_TIMEOUT_MS]	= { .type = NLA_U32 },
	[ASB_A_VERDICT]		= NLA_POLICY_RANGE(NLA_U32, ASB_VERDICT_ALLOW,
						   ASB_VERDICT_DENY),
	[ASB_A_AGENT_PORTID]	= { .type = NLA_U32 },
	[ASB_A_PENDING]		= { .type = NLA_U32 },
	[ASB_A_ASKS]		= { .type = NLA_U64 },
	[ASB_A_ALLOWED]		= { .type = NLA_U64 },
	[ASB_A_DENIED]		= { .type = NLA_U64 },
	[ASB_A_TIMEOUTS]	= { .type = NLA_U64 },
	[ASB_A_NO_AGENT]	= { .type = NLA_U64 },
	[ASB_A_KILLED]		= { .type = NLA_U64 },
	[ASB_A_SEND_FAILED]	= { .type = NLA_U64 },
	[ASB_A_BAD_VERDICTS]	= { .type = NLA_U64 },
	[ASB_A_COMM]		= { .type = NLA_NUL_STRING,
				    .len = TASK_COMM_LEN - 1 },
	[ASB_A_ARGV]		= { .type = NLA_BINARY,
				    .len = ASB_GENL_ARGV_MAX },
	[ASB_A_ARGC]		= { .type = NLA_U32 },
	[ASB_A_ARGV_LEN]	= { .type = NLA_U32 },
	[ASB_A_ARGV_HASH]	= NLA_POLICY_EXACT_LEN(ASB_GENL_ARGV_HASH_LEN),
	[ASB_A_CWD]		= { .type = NLA_NUL_STRING,
				    .len = ASB_GENL_CWD_MAX },
};

static struct genl_family asb_genl_family;

static u32 asb_agent(void)
{
	u32 portid;

	spin_lock_bh(&asb_agent_lock);
	portid = asb_agent_portid;
	spin_unlock_bh(&asb_agent_lock);
	return portid;
}

bool asb_genl_have_agent(void)
{
	return asb_agent() != 0;
}

/* Every request carries the version of include/asb/genl.h. */
static int asb_genl_check_version(struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, ASB_A_VERSION))
		return -EINVAL;
	if (nla_get_u32(info->attrs[ASB_A_VERSION]) != ASB_GENL_VERSION) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ASB_A_VERSION],
				    "unsupported asb genetlink version");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/*
 * Only agentd may become the agent: a task of the initial PID namespace,
 * with CAP_SYS_ADMIN there and without no_new_privs. Every process that
 * agentd launches into a sandbox has a PID namespace of its own, no such
 * capability and no_new_privs (Landlock and seccomp need it).
 */
static bool asb_agent_candidate(void)
{
	return task_active_pid_ns(current) == &init_pid_ns &&
	       !task_no_new_privs(current) && capable(CAP_SYS_ADMIN);
}

static int asb_genl_register(struct sk_buff *skb, struct genl_info *info)
{
	int ret = asb_genl_check_version(info);

	if (ret)
		return ret;
	if (!asb_agent_candidate()) {
		NL_SET_ERR_MSG(info->extack, "not agentd: a sandboxed or unprivileged task");
		return -EPERM;
	}
	spin_lock_bh(&asb_agent_lock);
	if (asb_agent_portid && asb_agent_portid != info->snd_portid)
		ret = -EBUSY;
	else
		asb_agent_portid = info->snd_portid;
	spin_unlock_bh(&asb_agent_lock);
	if (ret)
		NL_SET_ERR_MSG(info->extack, "another agent is registered");
	else
		pr_info("agent registered (port %u, pid %d)\n",
			info->snd_portid, task_tgid_nr(current));
	return ret;
}

static int asb_genl_unregister(struct sk_buff *skb, struct genl_info *info)
{
	int ret = asb_genl_check_version(info);

	if (ret)
		return ret;
	spin_lock_bh(&asb_agent_lock);
	if (!asb_agent_portid || asb_agent_portid != info->snd_portid)
		ret = -EPERM;
	else
		asb_agent_portid = 0;
	spin_unlock_bh(&asb_agent_lock);
	if (ret)
		NL_SET_ERR_MSG(info->extack, "not the registered agent");
	else
		pr_info("agent unregistered (port %u)\n", info->snd_portid);
	return ret;
}

static int asb_genl_verdict(struct sk_buff *skb, struct genl_info *info)
{
	int ret = asb_genl_check_version(info);
	u32 id;

	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, ASB_A_REQ_ID) ||
	    GENL_REQ_ATTR_CHECK(info, ASB_A_VERDICT)) {
		atomic64_inc(&asb_counters.bad_verdicts);
		return -EINVAL;
	}
	if (info->snd_portid != asb_agent()) {
		atomic64_inc(&asb_counters.bad_verdicts);
		NL_SET_ERR_MSG(info->extack, "not the registered agent");
		return -EPERM;
	}
	id = nla_get_u32(info->attrs[ASB_A_REQ_ID]);
	ret = asb_gate_verdict(id, nla_get_u32(info->attrs[ASB_A_VERDICT]),
			       info->snd_portid);
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[ASB_A_REQ_ID],
				    "no such pending request");
	return ret;
}

static int asb_put_counter(struct sk_buff *skb, int attr, atomic64_t *c)
{
	return nla_put_u64_64bit(skb, attr, atomic64_read(c), ASB_A_PAD);
}

static int asb_genl_status(struct sk_buff *skb, struct genl_info *info)
{
	struct asb_counters *c = &asb_counters;
	struct sk_buff *msg;
	void *hdr;
	int ret = asb_genl_check_version(info);

	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &asb_genl_family, 0,
				ASB_CMD_STATUS);
	if (!hdr)
		goto nospace;
	if (nla_put_u32(msg, ASB_A_VERSION, ASB_GENL_VERSION) ||
	    nla_put_u32(msg, ASB_A_AGENT_PORTID, asb_agent()) ||
	    nla_put_u32(msg, ASB_A_PENDING, asb_gate_pending()) ||
	    asb_put_counter(msg, ASB_A_ASKS, &c->asks) ||
	    asb_put_counter(msg, ASB_A_ALLOWED, &c->allowed) ||
	    asb_put_counter(msg, ASB_A_DENIED, &c->denied) ||
	    asb_put_counter(msg, ASB_A_TIMEOUTS, &c->timeouts) ||
	    asb_put_counter(msg, ASB_A_NO_AGENT, &c->no_agent) ||
	    asb_put_counter(msg, ASB_A_KILLED, &c->killed) ||
	    asb_put_counter(msg, ASB_A_SEND_FAILED, &c->send_failed) ||
	    asb_put_counter(msg, ASB_A_BAD_VERDICTS, &c->bad_verdicts))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* An exec ask's argv and cwd (include/asb/genl.h). */
static int asb_put_exec(struct sk_buff *skb, const struct asb_ask_msg *m)
{
	if (nla_put_u32(skb, ASB_A_ARGC, m->argc) ||
	    nla_put_string(skb, ASB_A_CWD, m->cwd))
		return -EMSGSIZE;
	if (m->argv_len && nla_put_u32(skb, ASB_A_ARGV_LEN, m->argv_len))
		return -EMSGSIZE;
	if (m->argv && (nla_put(skb, ASB_A_ARGV, m->argv_len, m->argv) ||
			nla_put(skb, ASB_A_ARGV_HASH, sizeof(m->argv_hash),
				m->argv_hash)))
		return -EMSGSIZE;
	return 0;
}

int asb_genl_send_ask(const struct asb_ask_msg *m)
{
	size_t size = nla_total_size(sizeof(u32)) * 8 +
		      nla_total_size(strlen(m->exe) + 1) +
		      nla_total_size(strlen(m->comm) + 1) +
		      nla_total_size(strlen(m->object) + 1);
	struct sk_buff *skb;
	void *hdr;
	u32 portid;

	if (m->cwd)
		size += nla_total_size(sizeof(u32)) * 2 +
			nla_total_size(strlen(m->cwd) + 1) +
			(m->argv ? nla_total_size(m->argv_len) +
			 nla_total_size(sizeof(m->argv_hash)) : 0);
	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &asb_genl_family, 0, ASB_CMD_ASK);
	if (!hdr)
		goto nospace;
	if (nla_put_u32(skb, ASB_A_VERSION, ASB_GENL_VERSION) ||
	    nla_put_u32(skb, ASB_A_REQ_ID, m->id) ||
	    nla_put_u32(skb, ASB_A_SANDBOX, m->sandbox) ||
	    nla_put_u32(skb, ASB_A_PID, m->pid) ||
	    nla_put_u32(skb, ASB_A_TGID, m->tgid) ||
	    nla_put_u32(skb, ASB_A_ACTION, m->action) ||
	    nla_put_u32(skb, ASB_A_TIMEOUT_MS, m->timeout_ms) ||
	    nla_put_string(skb, ASB_A_EXE, m->exe) ||
	    nla_put_string(skb, ASB_A_COMM, m->comm) ||
	    nla_put_string(skb, ASB_A_OBJECT, m->object) ||
	    (m->cwd && asb_put_exec(skb, m)))
		goto nospace;
	genlmsg_end(skb, hdr);
	portid = asb_agent();
	if (!portid) {
		nlmsg_free(skb);
		return -ENOTCONN;
	}
	return genlmsg_unicast(&init_net, skb, portid);
nospace:
	nlmsg_free(skb);
	return -EMSGSIZE;
}

static const struct genl_small_ops asb_genl_ops[] = {
	{
		.cmd = ASB_CMD_REGISTER,
		.doit = asb_genl_register,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ASB_CMD_UNREGISTER,
		.doit = asb_genl_unregister,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ASB_CMD_VERDICT,
		.doit = asb_genl_verdict,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = ASB_CMD_STATUS,
		.doit = asb_genl_status,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family asb_genl_family __ro_after_init = {
	.name = ASB_GENL_NAME,
	.version = ASB_GENL_VERSION,
	.maxattr = ASB_A_MAX,
	.policy = asb_genl_policy,
	.module = THIS_MODULE,
	.small_ops = asb_genl_ops,
	.n_small_ops = ARRAY_SIZE(asb_genl_ops),
	.resv_start_op = ASB_CMD_REGISTER,
};

/* The agent's socket is gone: forget it (its asks time out). */
static int asb_netlink_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;
	bool gone = false;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;
	spin_lock_bh(&asb_agent_lock);
	if (asb_agent_portid && asb_agent_portid == n->portid) {
		asb_agent_portid = 0;
		gone = true;
	}
	spin_unlock_bh(&asb_agent_lock);
	if (gone)
		pr_info("agent socket closed (port %u)\n", n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block asb_netlink_nb = {
	.notifier_call = asb_netlink_event,
};

int asb_genl_init(void)
{
	int ret = netlink_register_notifier(&asb_netlink_nb);

	if (ret)
		return ret;
	ret = genl_register_family(&asb_genl_family);
	if (ret)
		netlink_unregister_notifier(&asb_netlink_nb);
	return ret;
}

void asb_genl_exit(void)
{
	genl_unregister_family(&asb_genl_family);
	netlink_unregister_notifier(&asb_netlink_nb);
}
