// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench/lsm: the cost of the BPF-LSM backend, as ratios against a baseline
 * measured in the same run before any program is attached (in the VM lane:
 * emulated, so only the ratios mean anything).
 *
 *   open+close (a granted workspace file, and a file 4 levels under /usr:
 *   a longer ancestry walk), stat, connect (loopback), fork+exec /bin/true
 *   in a sandbox with 10 and with 10,000 rules vs no BPF-LSM at all, plus
 *   a process outside every sandbox with the programs attached.
 *   Target: <= 1.10x and flat from 10 to 10,000 rules.
 *
 * The sandboxed child only joins the cgroup: no Landlock, no seccomp, so
 * the figures are the BPF-LSM programs' (and the cgroup socket programs')
 * own. Each figure is the best (minimum) of several rounds. SKIPs (exit 0)
 * where BPF-LSM programs cannot load (the development hosts).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lsm.h"
#include "policy.h"
#include "sockfilter.h"

#define DIR	"/tmp/asb-bench-lsm"
#define PORT	18310
#define ROUNDS	3
#define DEEP	"/usr/lib/x86_64-linux-gnu/libc.so.6"

extern char **environ;

enum op { OP_OPEN, OP_OPEN_DEEP, OP_STAT, OP_CONNECT, OP_EXEC, OP_MAX };
static const char *const op_name[] = { "open+close", "open-deep", "stat",
				       "connect", "fork+exec" };
static const int op_iters[] = { 4000, 4000, 4000, 400, 40 };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double run_op(enum op op)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(PORT) };
	char *const argv[] = { "/bin/true", NULL };
	struct stat st;
	double t = now();

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < op_iters[op]; i++) {
		int fd, status;
		pid_t pid;

		switch (op) {
		case OP_OPEN:
		case OP_OPEN_DEEP:
			fd = open(op == OP_OPEN ? DIR "/ws/file" : DEEP, O_RDONLY);
			if (fd < 0)
				return -1;
			close(fd);
			break;
		case OP_STAT:
			if (stat(DIR "/ws/file", &st) < 0)
				return -1;
			break;
		case OP_CONNECT:
			fd = socket(AF_INET, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, (void *)&sin, sizeof(sin)) < 0)
				return -1;
			close(fd);
			break;
		case OP_EXEC:
			if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) ||
			    waitpid(pid, &status, 0) != pid || status)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return (now() - t) / op_iters[op] * 1e9;
}

/* As bench/confine: about @n rules through a chain of extended sandboxes. */
static char *make_policy(int n)
{
	size_t cap = 64 * (size_t)n + 4096, off = 0;
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
			off += sprintf(buf + off, " " DIR "/rules/d%d", made);
		off += sprintf(buf + off, "\nnet.connect =");
		for (int i = 0; i < 30; i++, made++)
			off += sprintf(buf + off, " 10.%d.%d.%d:%d", (made >> 16) & 255,
				       (made >> 8) & 255, made & 255, 1000 + i);
		off += sprintf(buf + off, "\n");
	}
	off += sprintf(buf + off, "[sandbox.b]\n");
	if (k)
		off += sprintf(buf + off, "extends = p%d\n", k - 1);
	sprintf(buf + off, "fs.read = /usr /lib /lib64 /bin /etc /proc\n"
		"fs.write = " DIR "/ws /dev/null\n"
		"fs.exec = /usr/bin /bin /usr/lib /lib /lib64\n"
		"net.connect = 127.0.0.1:%d\n", PORT);
	return buf;
}

struct sandbox {
	struct asb_image img;
	const struct asb_image_sandbox *sb;
	char cgroup[128];
	int cg_fd;
	__u32 id;
};

static int sandbox_up(struct sandbox *s, struct asb_sockfilter *sf,
		      struct asb_lsm *lsm, int nrules, __u32 id)
{
	char *text = make_policy(nrules), err[256] = "";
	struct stat st;
	int ret;

	if (asb_policy_compile_mem("bench.ini", text, strlen(text), &s->img,
				   stderr, NULL) < 0)
		return -1;
	free(text);
	s->id = id;
	s->sb = asb_image_find_sandbox(&s->img, "b");
	snprintf(s->cgroup, sizeof(s->cgroup),
		 "/sys/fs/cgroup/unified/asb-bench-lsm-%d", nrules);
	rmdir(s->cgroup);
	if (mkdir(s->cgroup, 0700) < 0)
		return -1;
	s->cg_fd = open(s->cgroup, O_RDONLY | O_DIRECTORY);
	fstat(s->cg_fd, &st);
	ret = asb_sockfilter_set_sandbox(sf, id, &s->img, s->sb);
	if (!ret)
		ret = asb_lsm_set_sandbox(lsm, id, &s->img, s->sb, err, sizeof(err));
	if (!ret)
		ret = asb_sockfilter_attach(sf, s->cg_fd, st.st_ino, id);
	if (ret)
		fprintf(stderr, "bench/lsm: sandbox %d: %s %s\n", nrules,
			strerror(-ret), err);
	return ret;
}

/* ns/op of @op in a child, in @s's cgroup unless @s is NULL. */
static double measure(struct sandbox *s, enum op op)
{
	double v = -1;
	int p[2], status;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (s) {
			char buf[32];
			int fd = openat(s->cg_fd, "cgroup.procs", O_WRONLY);
			int n = snprintf(buf, sizeof(buf), "%d", getpid());

			if (fd < 0 || write(fd, buf, n) != n)
				_exit(1);
		}
		v = run_op(op);
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

static double best(struct sandbox *s, enum op op)
{
	double b = 1e18;

	for (int r = 0; r < ROUNDS; r++) {
		double v = measure(s, op);

		if (v < 0)
			return -1;
		if (v < b)
			b = v;
	}
	return b;
}

int main(void)
{
	struct sandbox sb10 = { 0 }, sb10k = { 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	double base[OP_MAX];
	struct asb_sockfilter *sf;
	struct asb_lsm *lsm;
	int fail = 0, lfd, one = 1, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid()) {
		fprintf(stderr, "bench/lsm: needs root\n");
		return 1;
	}
	if (system("rm -rf " DIR " && mkdir -p " DIR "/ws " DIR "/rules && "
		   "echo x > " DIR "/ws/file && cd " DIR "/rules && "
		   "seq -f 'd%g' 0 10001 | xargs mkdir -p"))
		return 1;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (void *)&sin, sizeof(sin)) < 0 || listen(lfd, 4096) < 0) {
		perror("listen");
		return 1;
	}
	if (fork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			int c = accept(lfd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	/* warm the caches (9p and page cache in the VM), then the baseline:
	 * nothing of ours attached */
	for (int op = 0; op < OP_MAX; op++)
		measure(NULL, op);
	for (int op = 0; op < OP_MAX; op++)
		base[op] = best(NULL, op);
	ret = asb_sockfilter_open(&sf, NULL);
	if (ret) {
		fprintf(stderr, "bench/lsm: socket filter: %s\n", strerror(-ret));
		return 1;
	}
	ret = asb_lsm_open(&lsm, sf, NULL, NULL);
	if (ret) {
		printf("SKIP: BPF-LSM programs do not load or attach here (%s): "
		       "run in the VM lane\n", strerror(-ret));
		return 0;
	}
	if (sandbox_up(&sb10, sf, lsm, 10, 1) ||
	    sandbox_up(&sb10k, sf, lsm, 10000, 2)) {
		fprintf(stderr, "bench/lsm: cannot set up the sandboxes\n");
		return 1;
	}
	printf("rules: %u and %u in the sandbox (%d inodes in asb_fs)\n",
	       sb10.sb->n_rules, sb10k.sb->n_rules, asb_lsm_count(lsm));
	printf("%-11s %10s %10s %10s %10s %8s %8s %8s\n", "op", "bare_ns",
	       "outside_ns", "10rules_ns", "10krules_ns", "outside", "ratio10",
	       "ratio10k");
	for (int op = 0; op < OP_MAX; op++) {
		double o = best(NULL, op), a = best(&sb10, op), b = best(&sb10k, op);

		printf("%-11s %10.0f %10.0f %10.0f %10.0f %8.3f %8.3f %8.3f\n",
		       op_name[op], base[op], o, a, b, o / base[op], a / base[op],
		       b / base[op]);
		if (base[op] <= 0 || a <= 0 || b <= 0) {
			printf("FAIL: %s did not run confined\n", op_name[op]);
			fail = 1;
		} else if (a / base[op] > 1.10 || b / base[op] > 1.10) {
			printf("MISS: %s above target 1.10x\n", op_name[op]);
		}
	}
	asb_lsm_close(lsm);
	asb_sockfilter_detach(sf, sb10.cg_fd, 0);
	asb_sockfilter_detach(sf, sb10k.cg_fd, 0);
	asb_sockfilter_close(sf);
	rmdir(sb10.cgroup);
	rmdir(sb10k.cgroup);
	return fail;
}
