/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the confinement benchmarks share (bench/confine, bench/lsm; the
 * clock also bench/approval): the timed system-call loops, the
 * rule-heavy policy, and best-of rounds over columns that are measured
 * in turn, so that a machine that slows down (or speeds up) during the
 * run weighs on every column alike.
 *
 * Each loop runs in a fresh child that first enters what is measured (a
 * cgroup, Landlock, seccomp): the parent stays unconfined. connect goes
 * to a granted loopback port where nothing listens: every check runs
 * before the kernel refuses with ECONNREFUSED (a denial is EPERM or
 * EACCES, which fails the loop), and nothing else is involved: no server
 * process to schedule, no backlog, no TIME_WAIT that grows during the run.
 */
#ifndef ASB_BENCH_H
#define ASB_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum bench_op { OP_OPEN, OP_OPEN_DEEP, OP_STAT, OP_CONNECT, OP_EXEC };

/* What the loops touch. */
struct bench_env {
	const char *file;	/* open+close and stat */
	const char *deep;	/* open-deep: a file several levels down */
	int port;		/* granted, nothing listening */
	const char *exe;	/* fork+exec runs it; NULL: /bin/true */
};

/* One column: a child that calls @enter(@arg) first (NULL: bare). */
struct bench_col {
	int (*enter)(void *arg);
	void *arg;
};

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ns per call of @op, @iters calls in this process; -1 on a failure. */
static inline double bench_loop(const struct bench_env *e, enum bench_op op,
				int iters)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(e->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char *const argv[] = { "true", NULL };
	const char *exe = e->exe ? e->exe : "/bin/true";
	struct stat st;
	double t = bench_now();

	for (int i = 0; i < iters; i++) {
		int fd, status;
		pid_t pid;

		switch (op) {
		case OP_OPEN:
		case OP_OPEN_DEEP:
			fd = open(op == OP_OPEN ? e->file : e->deep, O_RDONLY);
			if (fd < 0)
				return -1;
			close(fd);
			break;
		case OP_STAT:
			if (stat(e->file, &st) < 0)
				return -1;
			break;
		case OP_CONNECT:
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, (void *)&sin, sizeof(sin)) == 0 ||
			    errno != ECONNREFUSED)
				return -1;
			close(fd);
			break;
		case OP_EXEC:
			if (posix_spawn(&pid, exe, NULL, NULL, argv, environ) ||
			    waitpid(pid, &status, 0) != pid || status)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return (bench_now() - t) / iters * 1e9;
}

/* bench_loop in a child that enters @c first. */
static inline double bench_measure(const struct bench_env *e,
				   const struct bench_col *c,
				   enum bench_op op, int iters)
{
	double v = -1;
	int p[2], status;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		if (c->enter && c->enter(c->arg) < 0)
			_exit(1);
		v = bench_loop(e, op, iters);
		if (write(p[1], &v, sizeof(v)) != sizeof(v))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &v, sizeof(v)) != sizeof(v))
		v = -1;
	close(p[0]);
	waitpid(pid, &status, 0);
	return v;
}

/*
 * The best (minimum) ns/op of each of @n columns into @best over @rounds
 * rounds, each round measuring every column once, in turn. -1 when a
 * column failed.
 */
static inline int bench_best(const struct bench_env *e, int n,
			     const struct bench_col *cols, enum bench_op op,
			     int iters, int rounds, double *best)
{
	for (int i = 0; i < n; i++)
		best[i] = 1e18;
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++) {
			double v = bench_measure(e, &cols[i], op, iters);

			if (v < 0)
				return -1;
			if (v < best[i])
				best[i] = v;
		}
	return 0;
}

/*
 * A policy whose sandbox "b" holds its own few rules (reads of the system,
 * writes to @dir/ws, connect to 127.0.0.1:@port) and, for @n > 100, about
 * @n more through a chain of sandboxes it extends: @dir/rules/dK
 * directories (they must exist: Landlock skips missing ones) and IPv4
 * connect rules. Caller frees.
 */
static inline char *bench_policy(const char *dir, int port, int n)
{
	size_t cap = 96 * (size_t)n + 4096, off = 0;
	char *buf = malloc(cap);
	int k = 0, made = 0;

	if (!buf)
		abort();
	for (; n > 100 && made < n; k++) {
		off += sprintf(buf + off, "[sandbox.p%d]\n", k);
		if (k)
			off += sprintf(buf + off, "extends = p%d\n", k - 1);
		off += sprintf(buf + off, "fs.read =");
		for (int i = 0; i < 30; i++, made++)
			off += sprintf(buf + off, " %s/rules/d%d", dir, made);
		off += sprintf(buf + off, "\nnet.connect =");
		for (int i = 0; i < 30; i++, made++)
			off += sprintf(buf + off, " 10.%d.%d.%d:%d",
				       (made >> 16) & 255, (made >> 8) & 255,
				       made & 255, 1000 + i);
		off += sprintf(buf + off, "\n");
	}
	off += sprintf(buf + off, "[sandbox.b]\n");
	if (k)
		off += sprintf(buf + off, "extends = p%d\n", k - 1);
	sprintf(buf + off, "fs.read = /usr /lib /lib64 /bin /etc /proc\n"
		"fs.write = %s/ws /dev/null\n"
		"fs.exec = /usr/bin /bin /usr/lib /lib /lib64 %s/bin\n"
		"net.connect = 127.0.0.1:%d\n", dir, dir, port);
	return buf;
}

#endif
