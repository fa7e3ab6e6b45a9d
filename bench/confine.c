// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench/confine: the cost of confinement on the portable backend, as
 * ratios against an unconfined baseline measured in the same run.
 *
 *   open+close, stat, connect (loopback), fork+exec /bin/true
 *   inside a sandbox with 10 and with 10,000 rules vs unconfined.
 *   Targets: <= 1.10x (open, stat, connect), <= 1.05x (fork+exec), and
 *   flat from 10 to 10,000 rules.
 *
 *   `asbctl run -- /bin/true` vs `bwrap --ro-bind / / /bin/true`.
 *   Target: no slower than bwrap.
 *
 * Each figure is the best (minimum) of several rounds, so that noise from
 * the rest of the machine does not masquerade as overhead.
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

#include "landlock.h"
#include "policy.h"
#include "seccomp.h"
#include "sockfilter.h"

#define DIR	"/tmp/asb-bench"
#define PORT	18300
#define ROUNDS	5

extern char **environ;

enum op { OP_OPEN, OP_STAT, OP_CONNECT, OP_EXEC, OP_MAX };
static const char *const op_name[] = { "open+close", "stat", "connect", "fork+exec" };
static const int op_iters[] = { 20000, 20000, 2000, 200 };
static const double op_target[] = { 1.10, 1.10, 1.10, 1.05 };

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
			fd = open(DIR "/ws/file", O_RDONLY);
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

/*
 * A policy whose sandbox "b" holds its own few rules and, for @n > 100,
 * about @n more through a chain of sandboxes it extends: existing
 * directories (Landlock skips missing ones) and IPv4 connect rules.
 */
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
	struct asb_sockfilter *sf;
	char cgroup[128];
	int cg_fd;
};

static int sandbox_up(struct sandbox *s, int nrules)
{
	char *text = make_policy(nrules);
	struct stat st;
	int ret;

	if (asb_policy_compile_mem("bench.ini", text, strlen(text), &s->img,
				   stderr, NULL) < 0)
		return -1;
	free(text);
	s->sb = asb_image_find_sandbox(&s->img, "b");
	snprintf(s->cgroup, sizeof(s->cgroup),
		 "/sys/fs/cgroup/unified/asb-bench-%d", nrules);
	rmdir(s->cgroup);
	if (mkdir(s->cgroup, 0700) < 0)
		return -1;
	s->cg_fd = open(s->cgroup, O_RDONLY | O_DIRECTORY);
	fstat(s->cg_fd, &st);
	ret = asb_sockfilter_open(&s->sf, NULL);
	if (!ret)
		ret = asb_sockfilter_set_sandbox(s->sf, 1, &s->img, s->sb);
	if (!ret)
		ret = asb_sockfilter_attach(s->sf, s->cg_fd, st.st_ino, 1);
	return ret;
}

static void sandbox_down(struct sandbox *s)
{
	asb_sockfilter_close(s->sf);
	close(s->cg_fd);
	rmdir(s->cgroup);
	asb_image_free(&s->img);
}

/* ns/op of @op in a child: unconfined when @s is NULL. */
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

			if (fd < 0 || write(fd, buf, n) != n ||
			    asb_landlock_apply(&s->img, s->sb, NULL, 0) < 0 ||
			    asb_seccomp_install(s->sb->flags, s->sb->deny_families, NULL) < 0)
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

static double spawn_time(char *const argv[], int n)
{
	double t = now();

	for (int i = 0; i < n; i++) {
		int status;
		pid_t pid;

		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) ||
		    waitpid(pid, &status, 0) != pid || status)
			return -1;
	}
	return (now() - t) / n * 1e6;
}

int main(int argc, char **argv)
{
	struct sandbox sb10 = { 0 }, sb10k = { 0 };
	int fail = 0, lfd, one = 1;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char bindir[PATH_MAX], asbctl[PATH_MAX + 16], agentd[PATH_MAX + 16];
	ssize_t n;

	if (geteuid()) {
		fprintf(stderr, "bench/confine: needs root\n");
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
		/* accept and drop, so that the backlog never fills */
		for (;;) {
			int c = accept(lfd, NULL, NULL);

			if (c >= 0)
				close(c);
		}
	}
	if (sandbox_up(&sb10, 10) || sandbox_up(&sb10k, 10000)) {
		fprintf(stderr, "bench/confine: cannot set up the sandboxes\n");
		return 1;
	}
	printf("rules: %u and %u in the sandbox\n", sb10.sb->n_rules, sb10k.sb->n_rules);
	printf("%-12s %12s %12s %12s %8s %8s %8s\n", "op", "bare_ns",
	       "10rules_ns", "10krules_ns", "ratio10", "ratio10k", "target");
	for (int op = 0; op < OP_MAX; op++) {
		double base = best(NULL, op), a = best(&sb10, op),
		       b = best(&sb10k, op);

		printf("%-12s %12.0f %12.0f %12.0f %8.3f %8.3f %8.2f\n",
		       op_name[op], base, a, b, a / base, b / base, op_target[op]);
		if (base <= 0 || a <= 0 || b <= 0) {
			printf("FAIL: %s did not run confined\n", op_name[op]);
			fail = 1;
		} else if (a / base > op_target[op] || b / base > op_target[op]) {
			printf("MISS: %s above target %.2fx\n", op_name[op], op_target[op]);
		}
	}
	sandbox_down(&sb10);
	sandbox_down(&sb10k);

	/* start-up: asbctl run vs bwrap */
	n = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);
	bindir[n > 0 ? n : 0] = 0;
	*strrchr(bindir, '/') = 0;
	snprintf(asbctl, sizeof(asbctl), "%s/../bin/asbctl", bindir);
	snprintf(agentd, sizeof(agentd), "%s/../bin/agentd", bindir);
	if (fork() == 0) {
		int fd = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, 2);
		execl(agentd, "agentd", "--socket", DIR "/agentd.sock",
		      "--state-dir", DIR "/state", "--audit-log", DIR "/audit.jsonl",
		      NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(DIR "/agentd.sock", F_OK); i++)
		usleep(50000);
	{
		char *run[] = { asbctl, "--socket", DIR "/agentd.sock", "run",
				"--sandbox", "agent", "--", "/bin/true", NULL };
		char *bw[] = { "/usr/bin/bwrap", "--ro-bind", "/", "/",
			       "/bin/true", NULL };
		double a = 1e18, b = 1e18;

		for (int r = 0; r < ROUNDS; r++) {
			double x = spawn_time(run, 20), y = spawn_time(bw, 20);

			if (x > 0 && x < a)
				a = x;
			if (y > 0 && y < b)
				b = y;
		}
		printf("%-12s %12s %12s %8s\n", "start-up", "asbctl_us", "bwrap_us", "ratio");
		printf("%-12s %12.0f %12.0f %8.3f\n", "/bin/true", a, b, a / b);
		if (a >= 1e18 || b >= 1e18) {
			printf("FAIL: start-up not measured (asbctl or bwrap failed)\n");
			fail = 1;
		} else if (a > b) {
			printf("MISS: asbctl run slower than bwrap\n");
		}
	}
	signal(SIGTERM, SIG_IGN);
	kill(0, SIGTERM);
	(void)argc;
	(void)argv;
	return fail;
}
