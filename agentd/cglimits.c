// SPDX-License-Identifier: BSD-3-Clause
/*
 * Resource limits by cgroup controllers, v2 where the v2 root has the
 * controller, else its v1 hierarchy (cglimits.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cglimits.h"

static const char *const ctrl[ASB_CTRL_N] = { "pids", "memory", "cpu" };
static const char *const key[ASB_CTRL_N] = {
	"limits.pids", "limits.memory", "limits.cpu",
};

/* "NAME-ID" of a sandbox cgroup's path */
static const char *leaf(const char *cg)
{
	const char *p = strrchr(cg, '/');

	return p ? p + 1 : cg;
}

/* @word in the comma-separated @list */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (!strncmp(p, word, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

/* @word in the space-separated contents of file @path */
static bool in_file(const char *path, const char *word)
{
	char buf[512], *save, *tok;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, word))
			return true;
	return false;
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	ssize_t n, len = (ssize_t)strlen(val);
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = n == len ? 0 : n < 0 ? -errno : -EIO;
	close(fd);
	return err;
}

/* The mount point of each controller's v1 hierarchy ("" where none). */
static void v1_mounts(char mnt[ASB_CTRL_N][200])
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	memset(mnt, 0, ASB_CTRL_N * sizeof(mnt[0]));
	if (!f)
		return;
	/* ID PARENT MAJ:MIN ROOT MOUNT OPTS [TAGS...] - TYPE SOURCE SUPER */
	while (getline(&line, &cap, f) > 0) {
		char root[200], point[200], type[32], super[256];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %199s %199s", root,
				    point) != 2 ||
		    sscanf(dash, " - %31s %*s %255s", type, super) != 2 ||
		    strcmp(type, "cgroup") || strcmp(root, "/"))
			continue;
		for (int c = 0; c < ASB_CTRL_N; c++)
			if (!mnt[c][0] && in_list(super, ctrl[c]))
				snprintf(mnt[c], sizeof(mnt[c]), "%s", point);
	}
	free(line);
	fclose(f);
}

void asb_limits_init(struct asb_limits *l, const char *v2_asb)
{
	char mnt[ASB_CTRL_N][200], root[256], path[512], sub[16];

	memset(l, 0, sizeof(*l));
	snprintf(root, sizeof(root), "%.*s", (int)(leaf(v2_asb) - v2_asb - 1),
		 v2_asb);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	v1_mounts(mnt);
	for (int c = 0; c < ASB_CTRL_N; c++) {
		if (in_file(path, ctrl[c])) {
			snprintf(sub, sizeof(sub), "+%s", ctrl[c]);
			write_file(root, "cgroup.subtree_control", sub);
			write_file(v2_asb, "cgroup.subtree_control", sub);
			snprintf(path, sizeof(path),
				 "%s/cgroup.subtree_control", v2_asb);
			l->v2[c] = in_file(path, ctrl[c]);
			snprintf(path, sizeof(path), "%s/cgroup.controllers",
				 root);
		}
		if (l->v2[c] || !mnt[c][0])
			continue;
		snprintf(l->v1[c], sizeof(l->v1[c]), "%.199s/asb", mnt[c]);
		if (mkdir(l->v1[c], 0755) < 0 && errno != EEXIST)
			l->v1[c][0] = 0;
	}
}

/* The value each controller's files take for @sb, or 0: none. */
static unsigned long long wanted(const struct asb_image_sandbox *sb, int c)
{
	return c == ASB_CTRL_PIDS ? sb->pids_max :
	       c == ASB_CTRL_MEMORY ? sb->mem_max : sb->cpu_pct;
}

static int set_v2(const char *dir, int c, unsigned long long v)
{
	char buf[64];
	int err;

	switch (c) {
	case ASB_CTRL_PIDS:
		snprintf(buf, sizeof(buf), "%llu", v);
		return write_file(dir, "pids.max", buf);
	case ASB_CTRL_MEMORY:
		snprintf(buf, sizeof(buf), "%llu", v);
		err = write_file(dir, "memory.max", buf);
		if (err)
			return err;
		/* RAM only: no swap beyond it (no file: no swap here) */
		err = write_file(dir, "memory.swap.max", "0");
		return err == -ENOENT ? 0 : err;
	default:
		snprintf(buf, sizeof(buf), "%llu 100000", v * 1000);
		return write_file(dir, "cpu.max", buf);
	}
}

static int set_v1(const char *dir, int c, unsigned long long v)
{
	char buf[64];
	int err;

	switch (c) {
	case ASB_CTRL_PIDS:
		snprintf(buf, sizeof(buf), "%llu", v);
		return write_file(dir, "pids.max", buf);
	case ASB_CTRL_MEMORY:
		snprintf(buf, sizeof(buf), "%llu", v);
		err = write_file(dir, "memory.limit_in_bytes", buf);
		if (err)
			return err;
		/* with swap accounting, RAM and swap together */
		err = write_file(dir, "memory.memsw.limit_in_bytes", buf);
		return err == -ENOENT ? 0 : err;
	default:
		err = write_file(dir, "cpu.cfs_period_us", "100000");
		snprintf(buf, sizeof(buf), "%llu", v * 1000);
		return err ? err : write_file(dir, "cpu.cfs_quota_us", buf);
	}
}

int asb_limits_apply(const struct asb_limits *l, const char *cg,
		     const struct asb_image_sandbox *sb, char *err,
		     size_t errlen)
{
	char dir[512];
	int ret = 0;

	for (int c = 0; c < ASB_CTRL_N && !ret; c++) {
		unsigned long long v = wanted(sb, c);

		if (!v)
			continue;
		if (l->v2[c]) {
			ret = set_v2(cg, c, v);
		} else if (l->v1[c][0]) {
			snprintf(dir, sizeof(dir), "%s/%s", l->v1[c],
				 leaf(cg));
			ret = mkdir(dir, 0700) < 0 ? -errno : set_v1(dir, c, v);
		} else {
			snprintf(err, errlen, "%s: no %s controller on this host (cgroup v2 or v1)",
				 key[c], ctrl[c]);
			ret = -EOPNOTSUPP;
			break;
		}
		if (ret)
			snprintf(err, errlen, "%s: %s cgroup of %s: %s", key[c],
				 ctrl[c], cg, strerror(-ret));
	}
	if (ret)
		asb_limits_remove(l, cg);
	return ret;
}

void asb_limits_remove(const struct asb_limits *l, const char *cg)
{
	char dir[512];

	for (int c = 0; c < ASB_CTRL_N; c++) {
		if (!l->v1[c][0])
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", l->v1[c],
			 leaf(cg));
		rmdir(dir);
	}
}

int asb_limits_open_v1(const char *cg, int fd[ASB_CTRL_N])
{
	char mnt[ASB_CTRL_N][200], dir[512];
	int n = 0;

	v1_mounts(mnt);
	for (int c = 0; c < ASB_CTRL_N; c++) {
		fd[c] = -1;
		if (!mnt[c][0])
			continue;
		snprintf(dir, sizeof(dir), "%.199s/asb/%.255s", mnt[c],
			 leaf(cg));
		fd[c] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd[c] >= 0) {
			n++;
		} else if (errno != ENOENT) {
			int err = -errno;

			while (c--)
				if (fd[c] >= 0)
					close(fd[c]);
			return err;
		}
	}
	return n;
}

int asb_limits_join_v1(const char *cg, pid_t pid)
{
	int fd[ASB_CTRL_N], ret = asb_limits_open_v1(cg, fd);
	char buf[24];

	if (ret < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%d", pid);
	ret = 0;
	for (int c = 0; c < ASB_CTRL_N; c++) {
		if (fd[c] < 0)
			continue;
		if (!ret) {
			int procs = openat(fd[c], "cgroup.procs",
					   O_WRONLY | O_CLOEXEC);

			if (procs < 0 || write(procs, buf, strlen(buf)) < 0)
				ret = -errno;
			if (procs >= 0)
				close(procs);
		}
		close(fd[c]);
	}
	return ret;
}

void asb_limits_print(const struct asb_limits *l, FILE *out)
{
	fputs("limits:", out);
	for (int c = 0; c < ASB_CTRL_N; c++)
		fprintf(out, "%s %s %s", c ? "," : "", ctrl[c],
			l->v2[c] ? "v2" : l->v1[c][0] ? "v1" : "none");
	fputc('\n', out);
}
