// SPDX-License-Identifier: BSD-3-Clause
/*
 * Audit log writer. The file is append-only and root-only; a record that
 * cannot be written is counted, never retried at enforcement's expense.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

static int audit_fd = -1;
static uint64_t audit_errors;

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int asb_audit_open(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	mkdir_p(dirname(dir));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = fd;
	return 0;
}

uint64_t asb_audit_errors(void)
{
	return audit_errors;
}

uint64_t asb_audit_boot_to_real(uint64_t boot_ns)
{
	struct timespec b, r;
	uint64_t bn, rn;

	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_REALTIME, &r);
	bn = b.tv_sec * 1000000000ull + b.tv_nsec;
	rn = r.tv_sec * 1000000000ull + r.tv_nsec;
	return rn - (bn > boot_ns ? bn - boot_ns : 0);
}

/* Append @s as a JSON string. */
static size_t jstr(char *buf, size_t off, size_t cap, const char *s)
{
	if (!s)
		s = "";
	if (off < cap)
		buf[off++] = '"';
	for (; *s && off + 8 < cap; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			off += snprintf(buf + off, cap - off, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			off += snprintf(buf + off, cap - off, "\\u%04x", c);
		else
			buf[off++] = c;
	}
	if (off < cap)
		buf[off++] = '"';
	return off;
}

void asb_audit_write(const struct asb_audit_rec *r)
{
	char buf[4096], exe[PATH_MAX] = "", ts[64], proc[64];
	size_t off = 0, cap = sizeof(buf) - 2;
	time_t sec = r->time_ns / 1000000000ull;
	struct tm tm;
	ssize_t n;

	if (audit_fd < 0)
		return;
	if (r->exe) {
		snprintf(exe, sizeof(exe), "%s", r->exe);
	} else if (r->pid > 0) {
		snprintf(proc, sizeof(proc), "/proc/%d/exe", r->pid);
		n = readlink(proc, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
	}
	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	off += snprintf(buf + off, cap - off, "{\"time\":\"%s.%06lluZ\",\"sandbox\":",
			ts, (unsigned long long)(r->time_ns % 1000000000ull) / 1000);
	off = jstr(buf, off, cap, r->sandbox);
	off += snprintf(buf + off, cap - off, ",\"pid\":%d,\"comm\":", r->pid);
	off = jstr(buf, off, cap, r->comm);
	off += snprintf(buf + off, cap - off, ",\"exe\":");
	off = jstr(buf, off, cap, exe);
	off += snprintf(buf + off, cap - off, ",\"action\":");
	off = jstr(buf, off, cap, r->action);
	off += snprintf(buf + off, cap - off, ",\"object\":");
	off = jstr(buf, off, cap, r->object);
	off += snprintf(buf + off, cap - off, ",\"verdict\":");
	off = jstr(buf, off, cap, r->verdict);
	off += snprintf(buf + off, cap - off, ",\"rule\":");
	off = jstr(buf, off, cap, r->rule);
	off += snprintf(buf + off, cap - off, ",\"source\":");
	off = jstr(buf, off, cap, r->source);
	if (r->request && off < cap)
		off += snprintf(buf + off, cap - off, ",\"request\":%u",
				r->request);
	if (r->via && off < cap) {
		off += snprintf(buf + off, cap - off, ",\"via\":");
		off = jstr(buf, off, cap, r->via);
	}
	if (r->by && off < cap) {
		off += snprintf(buf + off, cap - off, ",\"by\":");
		off = jstr(buf, off, cap, r->by);
	}
	if (off > cap)
		off = cap;
	buf[off++] = '}';
	buf[off++] = '\n';
	if (write(audit_fd, buf, off) != (ssize_t)off)
		audit_errors++;
}
