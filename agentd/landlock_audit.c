// SPDX-License-Identifier: BSD-3-Clause
/*
 * Landlock denial records from NETLINK_AUDIT, with libmnl. See
 * landlock_audit.h. Every record is parsed defensively: it is kernel text,
 * but paths and names inside are chosen by the sandboxed program.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "landlock_audit.h"

struct asb_ll_audit {
	struct mnl_socket *nl;
	struct asb_ll_denial pending;
	bool have_pending;
	char buf[65536] __attribute__((aligned(8)));
	size_t len, off;	/* unread messages in buf */
};

struct status_ctx {
	struct audit_status st;
	bool got;
};

static int status_cb(const struct nlmsghdr *nlh, void *data)
{
	struct status_ctx *c = data;

	if (nlh->nlmsg_type == AUDIT_GET &&
	    mnl_nlmsg_get_payload_len(nlh) >= offsetof(struct audit_status,
						       lost)) {
		size_t n = mnl_nlmsg_get_payload_len(nlh);

		memcpy(&c->st, mnl_nlmsg_get_payload(nlh),
		       n < sizeof(c->st) ? n : sizeof(c->st));
		c->got = true;
	}
	return MNL_CB_OK;
}

/* One request on a fresh control socket; AUDIT_GET's reply in @ctx. */
static int audit_request(uint16_t type, const void *payload, size_t plen,
			 struct status_ctx *ctx)
{
	char buf[16384] __attribute__((aligned(8)));
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t n;
	int ret = -1, err;

	nl = mnl_socket_open(NETLINK_AUDIT);
	if (!nl)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	/* AUDIT_GET: no ack, the kernel sends it before the status. */
	nlh->nlmsg_flags = NLM_F_REQUEST | (type == AUDIT_GET ? 0 : NLM_F_ACK);
	nlh->nlmsg_seq = seq;
	if (plen)
		memcpy(mnl_nlmsg_put_extra_header(nlh, plen), payload, plen);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			goto out;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, status_cb, ctx);
		if (ret <= MNL_CB_STOP || (type == AUDIT_GET && ctx->got))
			break;
	}
	ret = ret < 0 ? -1 : 0;
out:
	err = errno;
	mnl_socket_close(nl);
	errno = err;
	return ret;
}

struct asb_ll_audit *asb_ll_audit_open(bool enable, char *why, size_t len)
{
	struct status_ctx ctx = { 0 };
	struct asb_ll_audit *a;
	int err;

	if (why && len)
		why[0] = '\0';
	if (audit_request(AUDIT_GET, NULL, 0, &ctx) < 0 || !ctx.got) {
		err = errno ? errno : EPROTO;
		if (why)
			snprintf(why, len, "audit: AUDIT_GET: %s%s",
				 strerror(err),
				 err == EPROTONOSUPPORT ?
				 " (kernel without CONFIG_AUDIT)" : "");
		errno = err;
		return NULL;
	}
	if (!ctx.st.enabled) {
		struct audit_status st = { .mask = AUDIT_STATUS_ENABLED,
					   .enabled = 1 };

		if (!enable) {
			if (why)
				snprintf(why, len, "audit: disabled: Landlock logs nothing");
			errno = ENODATA;
			return NULL;
		}
		if (audit_request(AUDIT_SET, &st, sizeof(st), &ctx) < 0) {
			err = errno;
			if (why)
				snprintf(why, len, "audit: enable: %s",
					 strerror(err));
			errno = err;
			return NULL;
		}
	}

	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->nl = mnl_socket_open(NETLINK_AUDIT);
	if (!a->nl ||
	    mnl_socket_bind(a->nl, 1u << (AUDIT_NLGRP_READLOG - 1),
			    MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		if (why)
			snprintf(why, len, "audit: join READLOG group: %s",
				 strerror(err));
		asb_ll_audit_close(a);
		errno = err;
		return NULL;
	}
	return a;
}

int asb_ll_audit_fd(const struct asb_ll_audit *a)
{
	return mnl_socket_get_fd(a->nl);
}

void asb_ll_audit_close(struct asb_ll_audit *a)
{
	if (!a)
		return;
	if (a->nl)
		mnl_socket_close(a->nl);
	free(a);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Value of field @key in record text @s (length @n) into @out: "quoted",
 * or untrusted strings the kernel hex-encoded, or a bare token.
 */
static bool field(const char *s, size_t n, const char *key, char *out,
		  size_t outlen, bool maybe_hex)
{
	size_t klen = strlen(key), i = 0, j, o = 0;

	if (!outlen)
		return false;
	while (i + klen + 1 <= n) {
		if ((i == 0 || s[i - 1] == ' ') && !memcmp(s + i, key, klen) &&
		    s[i + klen] == '=')
			break;
		i++;
	}
	if (i + klen + 1 > n)
		return false;
	i += klen + 1;
	if (i < n && s[i] == '"') {
		for (j = i + 1; j < n && s[j] != '"' && o + 1 < outlen; j++)
			out[o++] = s[j];
	} else {
		for (j = i; j < n && s[j] != ' ' && s[j] != '\n'; j++)
			;
		if (maybe_hex && (j - i) % 2 == 0 && j > i) {
			size_t k;

			for (k = i; k < j && hexval(s[k]) >= 0; k++)
				;
			if (k == j) {
				for (k = i; k < j && o + 1 < outlen; k += 2) {
					int c = hexval(s[k]) << 4 | hexval(s[k + 1]);

					out[o++] = c ? (char)c : '?';
				}
				out[o] = '\0';
				return true;
			}
		}
		for (j = i; j < n && s[j] != ' ' && s[j] != '\n' &&
		     o + 1 < outlen; j++)
			out[o++] = s[j];
	}
	out[o] = '\0';
	return true;
}

/* "audit(SEC.MSEC:SERIAL): " -> serial; the rest in *@body. */
static bool record_head(const char *s, size_t n, uint64_t *serial,
			const char **body, size_t *blen)
{
	const char *colon, *end;
	char *e;

	if (n < 8 || memcmp(s, "audit(", 6))
		return false;
	end = memchr(s, ')', n);
	if (!end)
		return false;
	colon = memchr(s, ':', (size_t)(end - s));
	if (!colon || !isdigit((unsigned char)colon[1]))
		return false;
	*serial = strtoull(colon + 1, &e, 10);
	if (e != end)
		return false;
	end++;
	if (end < s + n && *end == ':')
		end++;
	while (end < s + n && *end == ' ')
		end++;
	*body = end;
	*blen = (size_t)(s + n - end);
	return true;
}

/* Merge one record; returns true when a finished denial is in *@out. */
static bool feed(struct asb_ll_audit *a, uint16_t type, const char *s,
		 size_t n, struct asb_ll_denial *out)
{
	struct asb_ll_denial *p = &a->pending;
	const char *body;
	uint64_t serial;
	size_t blen;
	bool done = false;
	char num[24];

	if (!record_head(s, n, &serial, &body, &blen))
		return false;
	if (a->have_pending && serial != p->serial) {
		*out = *p;
		a->have_pending = false;
		done = true;
	}
	switch (type) {
	case AUDIT_LANDLOCK_ACCESS:
		if (!a->have_pending) {
			memset(p, 0, sizeof(*p));
			p->serial = serial;
			a->have_pending = true;
		}
		field(body, blen, "domain", p->domain, sizeof(p->domain), false);
		field(body, blen, "blockers", p->blockers, sizeof(p->blockers),
		      false);
		if (!field(body, blen, "path", p->object, sizeof(p->object),
			   true) &&
		    !field(body, blen, "name", p->object, sizeof(p->object),
			   true))
			field(body, blen, "opid", p->object, sizeof(p->object),
			      false);
		break;
	case AUDIT_LANDLOCK_DOMAIN:
		/* pid= and comm= here are the domain's creator. */
		if (!a->have_pending || serial != p->serial)
			break;
		if (field(body, blen, "pid", num, sizeof(num), false))
			p->domain_pid = (pid_t)strtol(num, NULL, 10);
		break;
	case AUDIT_SYSCALL:
		if (!a->have_pending || serial != p->serial)
			break;
		if (field(body, blen, "pid", num, sizeof(num), false))
			p->pid = (pid_t)strtol(num, NULL, 10);
		field(body, blen, "comm", p->comm, sizeof(p->comm), true);
		break;
	case AUDIT_EOE:
		if (a->have_pending && serial == p->serial && !done) {
			*out = *p;
			a->have_pending = false;
			done = true;
		}
		break;
	}
	return done;
}

int asb_ll_audit_next(struct asb_ll_audit *a, struct asb_ll_denial *d,
		      int timeout_ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(a->nl), .events = POLLIN };
	int r;

	for (;;) {
		while (a->off < a->len) {
			const struct nlmsghdr *nlh =
				(const void *)(a->buf + a->off);
			int rest = (int)(a->len - a->off);

			if (!mnl_nlmsg_ok(nlh, rest)) {
				a->off = a->len;
				break;
			}
			a->off += NLMSG_ALIGN(nlh->nlmsg_len);
			if (feed(a, nlh->nlmsg_type, mnl_nlmsg_get_payload(nlh),
				 mnl_nlmsg_get_payload_len(nlh), d))
				return 1;
		}
		r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			/* Quiet: a held denial is complete by now. */
			if (a->have_pending) {
				*d = a->pending;
				a->have_pending = false;
				return 1;
			}
			return 0;
		}
		r = (int)mnl_socket_recvfrom(a->nl, a->buf, sizeof(a->buf));
		if (r < 0) {
			if (errno == ENOBUFS)	/* overrun: records lost */
				continue;
			return -1;
		}
		a->len = (size_t)r;
		a->off = 0;
	}
}
