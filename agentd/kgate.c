// SPDX-License-Identifier: BSD-3-Clause
/*
 * agentd <-> asb.ko over generic netlink (libnl-genl-3); see kgate.h.
 *
 * One socket: the registered agent's port id is the only one whose
 * verdicts the kernel takes, so asks, acks and errors all arrive here.
 * Sequence checks are off (asks are unsolicited, seq 0); requests are
 * synchronous, and an ask that arrives while waiting for an ack is queued.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "approval.h"
#include "audit.h"
#include "kgate.h"
#include "sandbox.h"

struct kask {
	struct asb_kgate_ask a;
	struct kask *next;
};

#define KGATE_QUEUE_MAX 65536
#define KGATE_BUF (128 << 10)	/* an exec ask: ASB_GENL_ARGV_MAX and more */

struct asb_kgate {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;
	int err;		/* errno of the last NLMSG_ERROR, 0: ack */
	uint32_t seq;		/* of the request waiting for its ack */
	bool done;		/* the ack or error of the request came */
	struct asb_kgate_status *st;	/* STATUS reply goes here */
	struct kask *head, *tail;
	unsigned int n;
	char *buf;		/* KGATE_BUF */
};

static struct nla_policy kgate_policy[ASB_A_MAX + 1] = {
	[ASB_A_VERSION] = { .type = NLA_U32 },
	[ASB_A_REQ_ID] = { .type = NLA_U32 },
	[ASB_A_SANDBOX] = { .type = NLA_U32 },
	[ASB_A_PID] = { .type = NLA_U32 },
	[ASB_A_TGID] = { .type = NLA_U32 },
	[ASB_A_ACTION] = { .type = NLA_U32 },
	[ASB_A_TIMEOUT_MS] = { .type = NLA_U32 },
	[ASB_A_EXE] = { .type = NLA_STRING, .maxlen = ASB_GENL_EXE_MAX + 1 },
	[ASB_A_COMM] = { .type = NLA_STRING, .maxlen = 16 },
	[ASB_A_OBJECT] = { .type = NLA_STRING,
			   .maxlen = ASB_GENL_OBJECT_MAX + 1 },
	[ASB_A_AGENT_PORTID] = { .type = NLA_U32 },
	[ASB_A_PENDING] = { .type = NLA_U32 },
	[ASB_A_ASKS] = { .type = NLA_U64 },
	[ASB_A_ALLOWED] = { .type = NLA_U64 },
	[ASB_A_DENIED] = { .type = NLA_U64 },
	[ASB_A_TIMEOUTS] = { .type = NLA_U64 },
	[ASB_A_NO_AGENT] = { .type = NLA_U64 },
	[ASB_A_KILLED] = { .type = NLA_U64 },
	[ASB_A_SEND_FAILED] = { .type = NLA_U64 },
	[ASB_A_BAD_VERDICTS] = { .type = NLA_U64 },
	[ASB_A_ARGV] = { .type = NLA_UNSPEC, .minlen = 1,
			 .maxlen = ASB_GENL_ARGV_MAX },
	[ASB_A_ARGC] = { .type = NLA_U32 },
	[ASB_A_ARGV_LEN] = { .type = NLA_U32 },
	[ASB_A_ARGV_HASH] = { .type = NLA_UNSPEC,
			      .minlen = ASB_GENL_ARGV_HASH_LEN,
			      .maxlen = ASB_GENL_ARGV_HASH_LEN },
	[ASB_A_CWD] = { .type = NLA_STRING, .maxlen = ASB_GENL_CWD_MAX + 1 },
};

bool asb_kgate_available(void)
{
	return access("/sys/module/asb", F_OK) == 0;
}

static uint32_t get32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static uint64_t get64(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u64(tb[a]) : 0;
}

static void getstr(char *dst, size_t len, struct nlattr **tb, int a)
{
	dst[0] = 0;
	if (tb[a])
		nla_strlcpy(dst, tb[a], len);
}

/*
 * An exec ask's argv, kept only if it is what the kernel says: argv_len
 * bytes holding exactly argc strings, each with its NUL, and a digest.
 */
static void get_argv(struct asb_kgate_ask *a, struct nlattr **tb)
{
	const char *p, *end;
	uint32_t n = 0;

	a->argc = get32(tb, ASB_A_ARGC);
	a->argv_len = get32(tb, ASB_A_ARGV_LEN);
	getstr(a->cwd, sizeof(a->cwd), tb, ASB_A_CWD);
	if (!tb[ASB_A_ARGV] || !tb[ASB_A_ARGV_HASH] ||
	    (uint32_t)nla_len(tb[ASB_A_ARGV]) != a->argv_len)
		return;
	p = nla_data(tb[ASB_A_ARGV]);
	end = p + a->argv_len;
	if (end[-1])
		return;
	for (; p < end; p = (const char *)memchr(p, 0, (size_t)(end - p)) + 1)
		n++;
	if (n != a->argc)
		return;
	a->argv = malloc(a->argv_len);
	if (!a->argv)
		return;
	memcpy(a->argv, nla_data(tb[ASB_A_ARGV]), a->argv_len);
	memcpy(a->argv_hash, nla_data(tb[ASB_A_ARGV_HASH]),
	       sizeof(a->argv_hash));
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct asb_kgate *g = arg;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[ASB_A_MAX + 1];
	struct kask *k;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ASB_A_MAX, kgate_policy) < 0)
		return NL_SKIP;	/* malformed: ignored, the kernel times out */
	if (get32(tb, ASB_A_VERSION) != ASB_GENL_VERSION)
		return NL_SKIP;
	if (gh->cmd == ASB_CMD_STATUS && g->st) {
		struct asb_kgate_status *st = g->st;

		st->version = get32(tb, ASB_A_VERSION);
		st->agent_portid = get32(tb, ASB_A_AGENT_PORTID);
		st->pending = get32(tb, ASB_A_PENDING);
		st->asks = get64(tb, ASB_A_ASKS);
		st->allowed = get64(tb, ASB_A_ALLOWED);
		st->denied = get64(tb, ASB_A_DENIED);
		st->timeouts = get64(tb, ASB_A_TIMEOUTS);
		st->no_agent = get64(tb, ASB_A_NO_AGENT);
		st->killed = get64(tb, ASB_A_KILLED);
		st->send_failed = get64(tb, ASB_A_SEND_FAILED);
		st->bad_verdicts = get64(tb, ASB_A_BAD_VERDICTS);
		return NL_OK;
	}
	if (gh->cmd != ASB_CMD_ASK || !tb[ASB_A_REQ_ID] || g->n >= KGATE_QUEUE_MAX)
		return NL_SKIP;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NL_SKIP;
	k->a.id = get32(tb, ASB_A_REQ_ID);
	k->a.sandbox = get32(tb, ASB_A_SANDBOX);
	k->a.pid = get32(tb, ASB_A_PID);
	k->a.tgid = get32(tb, ASB_A_TGID);
	k->a.action = get32(tb, ASB_A_ACTION);
	k->a.timeout_ms = get32(tb, ASB_A_TIMEOUT_MS);
	getstr(k->a.comm, sizeof(k->a.comm), tb, ASB_A_COMM);
	getstr(k->a.exe, sizeof(k->a.exe), tb, ASB_A_EXE);
	getstr(k->a.object, sizeof(k->a.object), tb, ASB_A_OBJECT);
	if (k->a.action == ASB_RULE_ASK_EXEC)
		get_argv(&k->a, tb);
	if (g->tail)
		g->tail->next = k;
	else
		g->head = k;
	g->tail = k;
	g->n++;
	return NL_OK;
}

int asb_kgate_open(struct asb_kgate **out)
{
	struct asb_kgate *g;
	int ret;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->sk = nl_socket_alloc();
	g->cb = nl_cb_alloc(NL_CB_DEFAULT);
	g->buf = malloc(KGATE_BUF);
	if (!g->sk || !g->cb || !g->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	nl_socket_disable_seq_check(g->sk);
	if (genl_connect(g->sk) < 0) {
		ret = -errno ? -errno : -EIO;
		goto fail;
	}
	/* a sandboxed child must never inherit the agent's socket */
	if (fcntl(nl_socket_get_fd(g->sk), F_SETFD, FD_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	nl_socket_set_buffer_size(g->sk, 4 << 20, 0);
	g->family = genl_ctrl_resolve(g->sk, ASB_GENL_NAME);
	if (g->family < 0) {
		ret = -ENOENT;
		goto fail;
	}
	if (nl_socket_set_nonblocking(g->sk) < 0) {
		ret = -EIO;
		goto fail;
	}
	*out = g;
	return 0;
fail:
	asb_kgate_close(g);
	return ret;
}

void asb_kgate_close(struct asb_kgate *g)
{
	struct kask *k;

	if (!g)
		return;
	while ((k = g->head)) {
		g->head = k->next;
		free(k->a.argv);
		free(k);
	}
	if (g->sk)
		nl_socket_free(g->sk);
	if (g->cb)
		nl_cb_put(g->cb);
	free(g->buf);
	free(g);
}

int asb_kgate_fd(const struct asb_kgate *g)
{
	return nl_socket_get_fd(g->sk);
}

uint32_t asb_kgate_portid(const struct asb_kgate *g)
{
	return nl_socket_get_local_port(g->sk);
}

int asb_kgate_family(const struct asb_kgate *g)
{
	return g->family;
}

/*
 * One datagram: acks and errors of our request, asks, the status reply.
 * 0, -EAGAIN when nothing is there, or -errno. The socket's own recv, not
 * libnl's: nl_recvmsgs() does not tell "nothing to read" from "read".
 */
static int kgate_read(struct asb_kgate *g)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)g->buf;
	ssize_t n = recv(asb_kgate_fd(g), g->buf, KGATE_BUF, MSG_DONTWAIT);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		/* overrun: asks were lost; the kernel denies them at their
		 * timeout */
		if (errno == EINTR || errno == ENOBUFS)
			return 0;
		return -errno;
	}
	for (; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) ||
			    nh->nlmsg_seq != g->seq)
				continue;
			g->err = e->error;
			g->done = true;
		} else if (nh->nlmsg_type == g->family &&
			   nh->nlmsg_len >= NLMSG_LENGTH(GENL_HDRLEN)) {
			struct nl_msg *m = nlmsg_convert(nh);

			if (m) {
				on_valid(m, g);
				nlmsg_free(m);
			}
		}
	}
	return 0;
}

static int kgate_wait_fd(struct asb_kgate *g, int timeout_ms)
{
	struct pollfd p = { .fd = asb_kgate_fd(g), .events = POLLIN };
	int ret;

	do
		ret = poll(&p, 1, timeout_ms);
	while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

/* Send @msg (consumed) and wait for its ack or error, queueing asks. */
static int kgate_request(struct asb_kgate *g, struct nl_msg *msg)
{
	int ret, tries;

	g->done = false;
	g->err = 0;
	ret = nl_send_auto(g->sk, msg);
	g->seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0)
		return -EIO;
	for (tries = 0; !g->done && tries < 100; tries++) {
		ret = kgate_read(g);
		if (ret == -EAGAIN) {
			if (kgate_wait_fd(g, 100) < 0)
				return -EIO;
			continue;
		}
		if (ret < 0)
			return ret;
	}
	return g->done ? g->err : -ETIMEDOUT;
}

static struct nl_msg *kgate_msg(struct asb_kgate *g, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
			 NLM_F_REQUEST | NLM_F_ACK, cmd, ASB_GENL_VERSION) ||
	    nla_put_u32(msg, ASB_A_VERSION, ASB_GENL_VERSION) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int kgate_simple(struct asb_kgate *g, uint8_t cmd)
{
	struct nl_msg *msg = kgate_msg(g, cmd);

	return msg ? kgate_request(g, msg) : -ENOMEM;
}

int asb_kgate_register(struct asb_kgate *g)
{
	return kgate_simple(g, ASB_CMD_REGISTER);
}

int asb_kgate_unregister(struct asb_kgate *g)
{
	return kgate_simple(g, ASB_CMD_UNREGISTER);
}

int asb_kgate_verdict(struct asb_kgate *g, uint32_t id, bool allow)
{
	struct nl_msg *msg = kgate_msg(g, ASB_CMD_VERDICT);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, ASB_A_REQ_ID, id) < 0 ||
	    nla_put_u32(msg, ASB_A_VERDICT,
			allow ? ASB_VERDICT_ALLOW : ASB_VERDICT_DENY) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return kgate_request(g, msg);
}

int asb_kgate_status(struct asb_kgate *g, struct asb_kgate_status *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	g->st = st;
	ret = kgate_simple(g, ASB_CMD_STATUS);
	g->st = NULL;
	if (!ret && st->version != ASB_GENL_VERSION)
		ret = -EPROTO;
	return ret;
}

int asb_kgate_recv(struct asb_kgate *g)
{
	int ret, i;

	/* bounded: a flood of asks must not starve the caller's loop */
	for (i = 0, ret = 0; ret == 0 && i < 4096; i++)
		ret = kgate_read(g);
	if (ret == 0)
		return (int)g->n;
	if (ret != -EAGAIN)
		return ret;
	return (int)g->n;
}

int asb_kgate_wait(struct asb_kgate *g, int timeout_ms)
{
	int ret;

	if (g->n)
		return (int)g->n;
	ret = kgate_wait_fd(g, timeout_ms);
	if (ret < 0)
		return ret;
	return asb_kgate_recv(g);
}

unsigned int asb_kgate_queued(const struct asb_kgate *g)
{
	return g ? (unsigned int)g->n : 0;
}

int asb_kgate_next(struct asb_kgate *g, struct asb_kgate_ask *a)
{
	struct kask *k = g->head;

	if (!k)
		return 0;
	g->head = k->next;
	if (!g->head)
		g->tail = NULL;
	g->n--;
	*a = k->a;
	free(k);
	return 1;
}

/* ---- asks from the gate, held in agentd's approval queue ---- */

struct held_ask {
	struct asb_kgate *g;
	uint32_t id;
};

static void kask_resolve(struct asb_ask *a, bool allow)
{
	struct held_ask *k = a->priv;

	asb_kgate_verdict(k->g, k->id, allow);
}

/* The kernel ends the wait itself (timeout, fatal signal): until the
 * thread is gone the request stands; a late verdict is refused by id. */
static bool kask_alive(struct asb_ask *a)
{
	return kill(a->pid, 0) == 0 || errno == EPERM;
}

static void kask_release(struct asb_ask *a)
{
	free(a->priv);
}

static const struct asb_ask_ops kask_ops = {
	.via = "asb.ko",
	.resolve = kask_resolve,
	.alive = kask_alive,
	.release = kask_release,
};

/*
 * A connect ask's object as bpf/lsm.bpf.c prints it, "1.2.3.4:443" or
 * "[0000:...:0001]:443", rewritten in place to agentd's own form
 * ("[::1]:443", as the seccomp path and --always rules spell it), and the
 * approve.connect rule it falls under. NULL if it does not parse.
 */
static const struct asb_image_rule *connect_object(const struct asb_sandbox *s,
						   char *obj, size_t len)
{
	char host[INET6_ADDRSTRLEN + 2], a[INET6_ADDRSTRLEN], *colon, *end;
	unsigned char addr[16] = { 0 };
	unsigned long port;
	int v6 = obj[0] == '[';

	colon = strrchr(obj, ':');
	if (!colon || (size_t)(colon - obj) >= sizeof(host))
		return NULL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port > 65535)
		return NULL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - obj - 2 * v6),
		 obj + v6);
	if (v6 && colon[-1] != ']')
		return NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1 ||
	    !inet_ntop(v6 ? AF_INET6 : AF_INET, addr, a, sizeof(a)))
		return NULL;
	snprintf(obj, len, v6 ? "[%s]:%lu" : "%s:%lu", a, port);
	return asb_image_match_net(&s->img, s->sb, ASB_RULE_ASK_CONNECT,
				   v6 ? ASB_NET_IP6 : ASB_NET_IP4, addr,
				   (uint16_t)port);
}

/*
 * The object the operator sees for @k in @obj: an exec's program, argv and
 * cwd as the seccomp path shows them (asb_exec_object), else the object
 * itself; every byte printable. False for an exec whose argv is missing:
 * the kernel refuses it whatever the verdict.
 */
static bool shown_object(const struct asb_kgate_ask *k, char *obj, size_t len)
{
	char digest[8 + 2 * ASB_GENL_ARGV_HASH_LEN];
	struct asb_exec_show x = {
		.prog = k->object,
		.argv = k->argv,
		.argv_len = k->argv_len,
		.argc = k->argc,
		.cap = ASB_GENL_ARGV_MAX,
		.digest = digest,
		.cwd = k->cwd,
	};
	size_t off;

	if (k->action != ASB_RULE_ASK_EXEC) {
		obj[0] = 0;
		asb_printable(obj, len, k->object);
		return true;
	}
	off = (size_t)snprintf(digest, sizeof(digest), "sha256 ");
	for (size_t i = 0; i < sizeof(k->argv_hash); i++)
		off += (size_t)snprintf(digest + off, sizeof(digest) - off,
					"%02x", k->argv_hash[i]);
	asb_exec_object(&x, obj, len);
	return k->argv != NULL;
}

int asb_kgate_serve(struct asb_kgate *g, struct asb_approvals *ap,
		    struct asb_sandboxes *sbs)
{
	struct asb_kgate_ask k;
	int ret = asb_kgate_recv(g);

	while (asb_kgate_next(g, &k) > 0) {
		struct asb_sandbox *s = asb_sandbox_by_id(sbs, k.sandbox);
		const struct asb_image_rule *r = NULL;
		struct asb_ask *a;
		struct held_ask *priv;
		unsigned int secs;
		bool shown;

		/* not ours, or not an ask: deny */
		if (!s || k.action < ASB_RULE_ASK_EXEC ||
		    k.action > ASB_RULE_ASK_WRITE) {
			asb_kgate_verdict(g, k.id, false);
			free(k.argv);
			continue;
		}
		if (k.action == ASB_RULE_ASK_CONNECT)
			r = connect_object(s, k.object, sizeof(k.object));
		else
			r = asb_image_match_path(&s->img, s->sb, k.action,
						 k.object);
		a = calloc(1, sizeof(*a));
		priv = malloc(sizeof(*priv));
		if (!a || !priv) {
			free(a);
			free(priv);
			free(k.argv);
			asb_kgate_verdict(g, k.id, false);
			continue;
		}
		*priv = (struct held_ask){ .g = g, .id = k.id };
		a->sbid = s->id;
		snprintf(a->sandbox, sizeof(a->sandbox), "%s", s->name);
		a->pid = k.pid;
		asb_printable(a->exe, sizeof(a->exe), k.exe);
		asb_printable(a->comm, sizeof(a->comm), k.comm);
		a->kind = k.action;
		shown = shown_object(&k, a->object, sizeof(a->object));
		free(k.argv);
		/* raw: what rules and --always match */
		snprintf(a->key, sizeof(a->key), "%.*s", (int)sizeof(a->key) - 1,
			 k.object);
		asb_sandbox_rule_src(s, r ? (uint32_t)(r - asb_image_rules(&s->img)) :
				     UINT32_MAX, a->rule, sizeof(a->rule));
		a->default_allow = s->sb->flags & ASB_SB_ASK_ALLOW;
		/* the kernel denies at its own timeout: answer before it */
		secs = k.timeout_ms / 1000;
		a->timeout = secs && secs < s->sb->ask_timeout ? secs :
			     s->sb->ask_timeout;
		a->ops = &kask_ops;
		a->priv = priv;
		if (!shown || asb_sandbox_rt_match(s, k.action, k.object)) {
			/* an argv nobody can be shown: never run (E2BIG) */
			asb_approval_audit(a, shown ? "allow" : "deny",
					   shown ? "runtime-rule" :
					   "argv too long to show");
			free(a);
			free(priv);
			asb_kgate_verdict(g, k.id, shown);
			continue;
		}
		asb_approval_add(ap, a);
	}
	return ret;
}
