// SPDX-License-Identifier: BSD-3-Clause
/*
 * Sandbox manager. A sandbox is a cgroup under <cgroup v2>/asb; its socket
 * rules are attached to the cgroup and outlive agentd; its file and exec
 * rules are applied by the launcher from the image saved here.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <asb/event.h>

#include "lsm.h"
#include "execguard.h"
#include "sandbox.h"
#include "seccomp.h"
#include "sockfilter.h"

#define RT_MAX	1024

static int copy_image(const struct asb_image *src, struct asb_image *dst)
{
	dst->hdr = malloc(src->size);
	if (!dst->hdr)
		return -ENOMEM;
	memcpy(dst->hdr, src->hdr, src->size);
	dst->size = src->size;
	return 0;
}

int asb_sandbox_create(struct asb_sandboxes *all, const struct asb_image *img,
		       const char *name, struct asb_sandbox **out, char *err,
		       size_t errlen)
{
	struct asb_sandbox *s;
	char path[300];
	struct stat st;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cg_fd = s->events_fd = -1;
	if (copy_image(img, &s->img) < 0) {
		free(s);
		return -ENOMEM;
	}
	s->sb = asb_image_find_sandbox(&s->img, name);
	if (!s->sb) {
		snprintf(err, errlen, "no sandbox '%s' in %s", name,
			 asb_image_str(&s->img, s->img.hdr->source));
		ret = -ENOENT;
		goto fail;
	}
	s->id = ++all->next_id;
	snprintf(s->name, sizeof(s->name), "%s", s->sb->name);
	snprintf(s->cgroup, sizeof(s->cgroup), "%s/%s-%u", all->cgroup_root,
		 s->name, s->id);
	snprintf(s->image_path, sizeof(s->image_path), "%s/sandbox-%u.img",
		 all->state_dir, s->id);
	if (mkdir(s->cgroup, 0700) < 0 ||
	    (s->cg_fd = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(s->cg_fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cgroup %s: %s", s->cgroup, strerror(errno));
		goto fail;
	}
	s->cgid = st.st_ino;
	ret = asb_limits_apply(&all->lim, s->cgroup, s->sb, err, errlen);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "%s/cgroup.events", s->cgroup);
	s->events_fd = open(path, O_RDONLY | O_CLOEXEC);
	/* interpreters before membership: ld.so never runs as a program */
	ret = asb_execguard_add_interps(all->eg, &s->img);
	if (ret) {
		snprintf(err, errlen, "exec guard: %s: ELF interpreters could "
			 "be run as programs", strerror(-ret));
		goto fail;
	}
	ret = asb_sockfilter_set_sandbox(all->sf, s->id, &s->img, s->sb);
	/* file rules before membership: the cgroup never runs unconfined */
	if (!ret && all->lsm) {
		ret = asb_lsm_set_sandbox(all->lsm, s->id, &s->img, s->sb, err,
					  errlen);
		if (ret)
			goto fail;
	}
	if (!ret)
		ret = asb_sockfilter_attach(all->sf, s->cg_fd, s->cgid, s->id);
	if (ret) {
		snprintf(err, errlen, "socket filter: %s", strerror(-ret));
		goto fail;
	}
	ret = asb_image_save(&s->img, s->image_path);
	if (ret) {
		snprintf(err, errlen, "%s: %s", s->image_path, strerror(-ret));
		goto fail;
	}
	for (uint32_t i = 0; i < s->sb->n_rules; i++) {
		switch (asb_image_rules(&s->img)[s->sb->first_rule + i].kind) {
		case ASB_RULE_ASK_EXEC: s->ask |= ASB_ASK_EXEC; break;
		case ASB_RULE_ASK_CONNECT: s->ask |= ASB_ASK_CONNECT; break;
		case ASB_RULE_ASK_WRITE: s->ask |= ASB_ASK_WRITE; break;
		}
	}
	s->started = time(NULL);
	s->next = all->head;
	all->head = s;
	*out = s;
	return 0;
fail:
	asb_limits_remove(&all->lim, s->cgroup);
	asb_sandbox_destroy(NULL, s);
	return ret;
}

void asb_sandbox_destroy(struct asb_sandboxes *all, struct asb_sandbox *s)
{
	struct asb_sandbox **pp;

	if (all) {
		for (pp = &all->head; *pp; pp = &(*pp)->next) {
			if (*pp == s) {
				*pp = s->next;
				break;
			}
		}
		asb_sockfilter_detach(all->sf, s->cg_fd, s->cgid);
		asb_sockfilter_remove_sandbox(all->sf, s->id);
		if (all->lsm)
			asb_lsm_remove_sandbox(all->lsm, s->id);
	}
	if (s->events_fd >= 0)
		close(s->events_fd);
	if (s->cg_fd >= 0)
		close(s->cg_fd);
	if (s->cgroup[0] && rmdir(s->cgroup) == 0 && all)
		asb_limits_remove(&all->lim, s->cgroup);
	if (s->image_path[0])
		unlink(s->image_path);
	while (s->rt) {
		struct asb_rt_rule *r = s->rt;

		s->rt = r->next;
		free(r);
	}
	asb_image_free(&s->img);
	free(s);
}

int asb_sandbox_rt_add(struct asb_sandbox *s, int kind, const char *object,
		       unsigned int uid)
{
	struct asb_rt_rule *r;

	if (asb_sandbox_rt_match(s, kind, object))
		return 0;
	if (s->n_rt >= RT_MAX)
		return -E2BIG;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->kind = kind;
	snprintf(r->object, sizeof(r->object), "%s", object);
	r->uid = uid;
	r->added = time(NULL);
	r->next = s->rt;
	s->rt = r;
	s->n_rt++;
	return 0;
}

const struct asb_rt_rule *asb_sandbox_rt_match(const struct asb_sandbox *s,
					       int kind, const char *object)
{
	for (const struct asb_rt_rule *r = s->rt; r; r = r->next)
		if (r->kind == kind && !strcmp(r->object, object))
			return r;
	return NULL;
}

static bool populated(struct asb_sandbox *s)
{
	char buf[256];
	ssize_t n;

	if (s->events_fd < 0)
		return true;
	n = pread(s->events_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return true;
	buf[n] = 0;
	if (strstr(buf, "populated 0"))
		return false;
	s->seen = true;
	return true;
}

uint64_t asb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void asb_sandbox_divert_add(struct asb_sandbox *s, pid_t tgid, const char *exe)
{
	struct asb_divert *slot = &s->divert[0];

	for (int i = 0; i < ASB_DIVERT_MAX; i++) {
		if (s->divert[i].tgid == tgid) {
			slot = &s->divert[i];
			break;
		}
		if (s->divert[i].at_ms < slot->at_ms)
			slot = &s->divert[i];
	}
	slot->tgid = tgid;
	slot->exe = exe;
	slot->at_ms = asb_now_ms();
}

const char *asb_sandbox_divert_take(struct asb_sandbox *s, pid_t tgid)
{
	uint64_t t = asb_now_ms();

	for (int i = 0; i < ASB_DIVERT_MAX; i++) {
		struct asb_divert *d = &s->divert[i];

		if (d->at_ms && d->tgid == tgid) {
			const char *exe = t - d->at_ms < ASB_DIVERT_TTL_MS ?
					  d->exe : NULL;

			*d = (struct asb_divert){ 0 };
			return exe;
		}
	}
	return NULL;
}

void asb_sandbox_reap(struct asb_sandboxes *all, bool now)
{
	struct asb_sandbox *s = all->head, *next;
	uint64_t t = asb_now_ms();

	for (; s; s = next) {
		next = s->next;
		/*
		 * cgroup.events is read again once it fires, or when time is
		 * up for a sandbox that never ran or has been empty a while
		 */
		if (!now && !s->changed &&
		    (s->seen ? !s->emptied_ms ||
			       t - s->emptied_ms < ASB_SANDBOX_LINGER_MS :
			       time(NULL) - s->started <= 30))
			continue;
		s->changed = false;
		if (populated(s)) {
			s->emptied_ms = 0;
			continue;
		}
		if (!s->emptied_ms)
			s->emptied_ms = t;
		/* empty a while after it ran, or never joined within 30 s */
		if (now || (s->seen && t - s->emptied_ms >= ASB_SANDBOX_LINGER_MS) ||
		    time(NULL) - s->started > 30)
			asb_sandbox_destroy(all, s);
	}
}

int asb_sandbox_init(struct asb_sandboxes *all)
{
	DIR *dir = opendir(all->cgroup_root);
	struct dirent *de;
	char path[512];

	if (!dir)
		return -errno;
	/*
	 * Sandboxes of an earlier agentd: empty ones are removed, running
	 * ones stay confined and keep their ids, which are never reused.
	 */
	while ((de = readdir(dir))) {
		const char *dash = strrchr(de->d_name, '-');
		unsigned long id;

		if (de->d_type != DT_DIR || !dash || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", all->cgroup_root,
			 de->d_name);
		if (rmdir(path) == 0) {
			asb_limits_remove(&all->lim, path);
			continue;
		}
		id = strtoul(dash + 1, NULL, 10);
		if (id > all->next_id && id < ASB_SBID_MAX)
			all->next_id = id;
	}
	closedir(dir);
	return 0;
}

struct asb_sandbox *asb_sandbox_by_id(struct asb_sandboxes *all, uint32_t id)
{
	for (struct asb_sandbox *s = all->head; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

struct asb_sandbox *asb_sandbox_by_events_fd(struct asb_sandboxes *all, int fd)
{
	for (struct asb_sandbox *s = all->head; s; s = s->next)
		if (s->events_fd == fd)
			return s;
	return NULL;
}

struct asb_sandbox *asb_sandbox_by_name(struct asb_sandboxes *all,
					const char *name)
{
	for (struct asb_sandbox *s = all->head; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

int asb_sandbox_attach_pid(struct asb_sandbox *s, pid_t pid)
{
	char buf[32];
	int fd, n, ret = asb_limits_join_v1(s->cgroup, pid);

	if (ret)
		return ret;

	fd = openat(s->cg_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d\n", pid);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static unsigned int count_pids(const struct asb_sandbox *s, char *list,
			       size_t len)
{
	char buf[4096];
	unsigned int n = 0;
	size_t off = 0;
	ssize_t got;
	int fd = openat(s->cg_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);

	list[0] = 0;
	if (fd < 0)
		return 0;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = 0;
	for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
		if (off + strlen(p) + 2 < len)
			off += snprintf(list + off, len - off, "%s%s",
					n ? "," : "", p);
		n++;
	}
	return n;
}

void asb_sandbox_print(struct asb_sandboxes *all, FILE *out)
{
	fprintf(out, "%-4s %-16s %-6s %-8s %-8s %s\n", "ID", "SANDBOX",
		"PROCS", "RULES", "DENIES", "PIDS");
	for (struct asb_sandbox *s = all->head; s; s = s->next) {
		char pids[128];
		unsigned int n = count_pids(s, pids, sizeof(pids));
		__u64 denies = 0;

		asb_sockfilter_counters(all->sf, s->id, &denies);
		fprintf(out, "%-4u %-16s %-6u %-8u %-8llu %s\n", s->id, s->name,
			n, s->sb->n_rules, (unsigned long long)denies, pids);
		for (const struct asb_rt_rule *r = s->rt; r; r = r->next) {
			char ts[32];

			strftime(ts, sizeof(ts), "%F %T", localtime(&r->added));
			fprintf(out, "     runtime rule: %s allow %s (asbctl approve --always, uid %u, %s)\n",
				asb_rule_kind_name(r->kind), r->object, r->uid,
				ts);
		}
	}
}

void asb_sandbox_rule_src(const struct asb_sandbox *s, uint32_t idx,
			  char *buf, size_t len)
{
	const struct asb_image_rule *r;

	if (idx >= s->img.hdr->n_rules) {
		snprintf(buf, len, "%s:%u", asb_image_str(&s->img, s->sb->file),
			 s->sb->line);
		return;
	}
	r = &asb_image_rules(&s->img)[idx];
	snprintf(buf, len, "%s:%u", asb_image_str(&s->img, r->file), r->line);
}
