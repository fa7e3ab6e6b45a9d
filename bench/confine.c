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
 * Each figure is the best (minimum) of several rounds, the three columns
 * measured in turn in every round (bench.h), so that noise from the rest
 * of the machine does not masquerade as overhead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "bench.h"
#include "landlock.h"
#include "policy.h"
#include "seccomp.h"
#include "sockfilter.h"

#define DIR	"/tmp/asb-bench"
#define PORT	18300
#define ROUNDS	5

static const enum bench_op ops[] = { OP_OPEN, OP_STAT, OP_CONNECT, OP_EXEC };
static const char *const op_name[] = { "open+close", "stat", "connect", "fork+exec" };
static const int op_iters[] = { 20000, 20000, 2000, 200 };
static const double op_target[] = { 1.10, 1.10, 1.10, 1.05 };

struct sandbox {
	struct asb_image img;
	const struct asb_image_sandbox *sb;
	struct asb_sockfilter *sf;
	char cgroup[128];
	int cg_fd;
};

static int sandbox_up(struct sandbox *s, int nrules)
{
	char *text = bench_policy(DIR, PORT, nrules);
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

/* In the child: the cgroup, Landlock and seccomp, as the launcher does. */
static int confine(void *arg)
{
	struct sandbox *s = arg;
	char buf[32];
	int fd = openat(s->cg_fd, "cgroup.procs", O_WRONLY);
	int n = snprintf(buf, sizeof(buf), "%d", getpid());

	if (fd < 0 || write(fd, buf, n) != n ||
	    asb_landlock_apply(&s->img, s->sb, NULL, 0) < 0 ||
	    asb_seccomp_install(s->sb->flags, s->sb->deny_families, NULL) < 0)
		return -1;
	return 0;
}

static double spawn_time(char *const argv[], int n)
{
	double t = bench_now();

	for (int i = 0; i < n; i++) {
		int status;
		pid_t pid;

		if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) ||
		    waitpid(pid, &status, 0) != pid || status)
			return -1;
	}
	return (bench_now() - t) / n * 1e6;
}

int main(int argc, char **argv)
{
	const struct bench_env env = { .file = DIR "/ws/file", .port = PORT };
	struct sandbox sb10 = { 0 }, sb10k = { 0 };
	struct bench_col cols[3] = { { NULL, NULL }, { confine, &sb10 },
				     { confine, &sb10k } };
	char bindir[PATH_MAX], asbctl[PATH_MAX + 16], agentd[PATH_MAX + 16];
	pid_t agentd_pid;
	int fail = 0;
	ssize_t n;

	if (geteuid()) {
		fprintf(stderr, "bench/confine: needs root\n");
		return 1;
	}
	if (system("rm -rf " DIR " && mkdir -p " DIR "/ws " DIR "/rules && "
		   "echo x > " DIR "/ws/file && cd " DIR "/rules && "
		   "seq -f 'd%g' 0 10001 | xargs mkdir -p"))
		return 1;
	if (sandbox_up(&sb10, 10) || sandbox_up(&sb10k, 10000)) {
		fprintf(stderr, "bench/confine: cannot set up the sandboxes\n");
		return 1;
	}
	printf("rules: %u and %u in the sandbox\n", sb10.sb->n_rules, sb10k.sb->n_rules);
	printf("%-12s %12s %12s %12s %8s %8s %8s\n", "op", "bare_ns",
	       "10rules_ns", "10krules_ns", "ratio10", "ratio10k", "target");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		double t[3];

		if (bench_best(&env, 3, cols, ops[i], op_iters[i], ROUNDS, t) < 0) {
			printf("FAIL: %s did not run confined\n", op_name[i]);
			fail = 1;
			continue;
		}
		printf("%-12s %12.0f %12.0f %12.0f %8.3f %8.3f %8.2f\n",
		       op_name[i], t[0], t[1], t[2], t[1] / t[0], t[2] / t[0],
		       op_target[i]);
		if (t[1] / t[0] > op_target[i] || t[2] / t[0] > op_target[i])
			printf("MISS: %s above target %.2fx\n", op_name[i],
			       op_target[i]);
	}
	sandbox_down(&sb10);
	sandbox_down(&sb10k);

	/* start-up: asbctl run vs bwrap */
	n = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);
	bindir[n > 0 ? n : 0] = 0;
	*strrchr(bindir, '/') = 0;
	snprintf(asbctl, sizeof(asbctl), "%s/../bin/asbctl", bindir);
	snprintf(agentd, sizeof(agentd), "%s/../bin/agentd", bindir);
	agentd_pid = fork();
	if (agentd_pid == 0) {
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
	if (agentd_pid > 0) {
		kill(agentd_pid, SIGTERM);
		waitpid(agentd_pid, NULL, 0);
	}
	(void)argc;
	(void)argv;
	return fail;
}
