// SPDX-License-Identifier: BSD-3-Clause
/*
 * File access as another task. See fscred.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "fscred.h"

#define UNDO_GROUPS	0x1u
#define UNDO_FSGID	0x2u
#define UNDO_FSUID	0x4u
#define UNDO_CAPS	0x8u

#define ID_MAX		0xfffffffeull	/* (uid_t)-1 is no id */

const char *asb_status_field(const char *status, const char *name)
{
	size_t n = strlen(name);
	const char *p = status;

	while (strncmp(p, name, n) || p[n] != ':') {
		p = strchr(p, '\n');
		if (!p++)
			return "";
	}
	return p + n + 1 + strspn(p + n + 1, "\t ");
}

static bool digit(char c, int base)
{
	return (c >= '0' && c <= '9') ||
	       (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

/*
 * The numbers of one status line (@p: its value), blank separated, up to
 * @max of them, each at most @lim; a line not ending in '\n' (a buffer
 * cut short) is malformed. Their count, or -errno.
 */
static int numbers(const char *p, int base, unsigned long long lim,
		   unsigned long long *v, unsigned int max)
{
	unsigned int n = 0;
	char *end;

	for (;;) {
		p += strspn(p, " \t");
		if (*p == '\n')
			return (int)n;
		if (!digit(*p, base))
			return -EPROTO;
		if (n == max)
			return -E2BIG;
		errno = 0;
		v[n] = strtoull(p, &end, base);
		if (errno || end == p || v[n] > lim ||
		    (*end != ' ' && *end != '\t' && *end != '\n'))
			return -EPROTO;
		p = end;
		n++;
	}
}

/* The fourth of the four ids of a Uid: or Gid: line (the fs one). */
static int fs_id(const char *status, const char *name, unsigned int *id)
{
	unsigned long long v[4];
	int n = numbers(asb_status_field(status, name), 10, ID_MAX, v, 4);

	if (n != 4)
		return -EPROTO;
	*id = (unsigned int)v[3];
	return 0;
}

int asb_fscred_parse(struct asb_fscred *c, const char *status)
{
	unsigned long long v[ASB_FSCRED_GROUPS];
	const char *cap;
	int n, err;

	memset(c, 0, sizeof(*c));
	if ((err = fs_id(status, "Uid", &c->fsuid)) ||
	    (err = fs_id(status, "Gid", &c->fsgid)))
		return err;
	n = numbers(asb_status_field(status, "Groups"), 10, ID_MAX, v,
		    ASB_FSCRED_GROUPS);
	if (n < 0)
		return n;
	c->ngroups = (unsigned int)n;
	for (int i = 0; i < n; i++)
		c->groups[i] = (gid_t)v[i];
	/* 16 hex digits: a value cut short would be another set */
	cap = asb_status_field(status, "CapEff");
	if (strspn(cap, "0123456789abcdef") != 16 ||
	    numbers(cap, 16, UINT64_MAX, v, 1) != 1)
		return -EPROTO;
	c->eff = v[0];
	return 0;
}

static int caps_get(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

/* This thread's effective set: @eff; permitted and inheritable: @self's. */
static int caps_set(const struct asb_fscred *self, uint64_t eff)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)self->prm, (uint32_t)self->inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(self->prm >> 32),
		  (uint32_t)(self->inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* setfsuid() tells the old id only: asking with -1 tells the new one. */
static int fsuid_set(uid_t id)
{
	setfsuid(id);
	return (uid_t)setfsuid((uid_t)-1) == id ? 0 : -EPERM;
}

static int fsgid_set(gid_t id)
{
	setfsgid(id);
	return (gid_t)setfsgid((gid_t)-1) == id ? 0 : -EPERM;
}

/* This thread's groups only (glibc's setgroups() sets every thread's). */
static int groups_set(const struct asb_fscred *c)
{
	return syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) < 0 ?
	       -errno : 0;
}

int asb_fscred_self(struct asb_fscred *self)
{
	int n;

	memset(self, 0, sizeof(*self));
	self->fsuid = (uid_t)setfsuid((uid_t)-1);
	self->fsgid = (gid_t)setfsgid((gid_t)-1);
	n = getgroups(ASB_FSCRED_GROUPS, self->groups);
	if (n < 0)
		return -errno;
	self->ngroups = (unsigned int)n;
	return caps_get(&self->eff, &self->prm, &self->inh);
}

static bool same_groups(const struct asb_fscred *a, const struct asb_fscred *b)
{
	return a->ngroups == b->ngroups &&
	       !memcmp(a->groups, b->groups, a->ngroups * sizeof(a->groups[0]));
}

static void must(int err, const char *what)
{
	if (!err)
		return;
	fprintf(stderr, "agentd: cannot take back its own %s: %s\n", what,
		strerror(-err));
	abort();
}

void asb_fscred_leave(const struct asb_fscred *self, unsigned int undo)
{
	/* CAP_SETUID and CAP_SETGID first, to undo the rest */
	if (undo & (UNDO_CAPS | UNDO_FSUID))
		must(caps_set(self, self->eff), "capabilities");
	if (undo & UNDO_FSUID) {
		must(fsuid_set(self->fsuid), "fsuid");
		/* the kernel may have raised some from the permitted set */
		must(caps_set(self, self->eff), "capabilities");
	}
	if (undo & UNDO_FSGID)
		must(fsgid_set(self->fsgid), "fsgid");
	if (undo & UNDO_GROUPS)
		must(groups_set(self), "groups");
}

/*
 * Groups and fsgid while CAP_SETGID is there, fsuid, then the effective
 * set: what the kernel dropped when fsuid left 0 is back only if @as has
 * it too.
 */
int asb_fscred_enter(const struct asb_fscred *self,
		     const struct asb_fscred *as, unsigned int *undo)
{
	uint64_t eff = as->eff & self->eff;

	*undo = 0;
	if (!same_groups(self, as)) {
		*undo |= UNDO_GROUPS;
		if (groups_set(as))
			goto fail;
	}
	if (as->fsgid != self->fsgid) {
		*undo |= UNDO_FSGID;
		if (fsgid_set(as->fsgid))
			goto fail;
	}
	if (as->fsuid != self->fsuid) {
		*undo |= UNDO_FSUID;
		if (fsuid_set(as->fsuid))
			goto fail;
	}
	if ((*undo & UNDO_FSUID) || eff != self->eff) {
		*undo |= UNDO_CAPS;
		if (caps_set(self, eff))
			goto fail;
	}
	return 0;
fail:
	asb_fscred_leave(self, *undo);
	*undo = 0;
	return -EACCES;
}
