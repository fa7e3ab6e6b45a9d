// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench/lsm: the cost of the BPF-LSM backend, as ratios against a baseline
 * measured in the same run with no program of ours attached, before they
 * are and after they are gone (its best of both; in the VM lane:
 * emulated, so only the ratios mean anything).
 *
 *   open+close (a granted workspace file, and a file 4 levels under the
 *   workspace: a longer ancestry walk), stat, connect (loopback),
 *   fork+exec of a static program on tmpfs (busybox as `true`: no
 *   dynamic loader, no 9p reads in the VM, so what is left is exec and
 *   the hooks), in a sandbox with 10 and with 10,000 rules vs no BPF-LSM
 *   at all, plus a process outside every sandbox with the programs
 *   attached.
 *   Target: <= 1.10x and flat from 10 to 10,000 rules.
 *
 * The sandboxed child only joins the cgroup: no Landlock, no seccomp, so
 * the figures are the BPF-LSM programs' (and the cgroup socket programs')
 * own. Each figure is the best (minimum) of several rounds; outside and
 * the two sandboxes are measured in turn in each round (bench.h). SKIPs (exit 0)
 * where BPF-LSM programs cannot load (the development hosts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "bench.h"
#include "lsm.h"
#include "policy.h"
#include "sockfilter.h"

#define DIR	"/tmp/asb-bench-lsm"
#define PORT	18310
#define ROUNDS	3
#define DEEP	DIR "/ws/a/b/c/file"	/* granted 4 levels up */

static const enum bench_op ops[] = { OP_OPEN, OP_OPEN_DEEP, OP_STAT,
				     OP_CONNECT, OP_EXEC };
static const char *const op_name[] = { "open+close", "open-deep", "stat",
				       "connect", "fork+exec" };
static const int op_iters[] = { 4000, 4000, 4000, 400, 40 };
#define N_OPS	(sizeof(ops) / sizeof(ops[0]))

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
	char *text = bench_policy(DIR, PORT, nrules), err[256] = "";
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

/* In the child: join the sandbox's cgroup, nothing else. */
static int join(void *arg)
{
	struct sandbox *s = arg;
	char buf[32];
	int fd = openat(s->cg_fd, "cgroup.procs", O_WRONLY);
	int n = snprintf(buf, sizeof(buf), "%d", getpid());

	return fd >= 0 && write(fd, buf, n) == n ? 0 : -1;
}

int main(void)
{
	const struct bench_env env = { .file = DIR "/ws/file", .deep = DEEP,
				       .port = PORT, .exe = DIR "/bin/true" };
	struct sandbox sb10 = { 0 }, sb10k = { 0 };
	const struct bench_col bare = { NULL, NULL };
	const struct bench_col cols[3] = { { NULL, NULL }, { join, &sb10 },
					   { join, &sb10k } };
	double before[N_OPS], after[N_OPS], t[N_OPS][3];
	struct asb_sockfilter *sf;
	struct asb_lsm *lsm;
	int fail = 0, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid()) {
		fprintf(stderr, "bench/lsm: needs root\n");
		return 1;
	}
	if (system("rm -rf " DIR " && mkdir -p " DIR "/ws/a/b/c " DIR "/rules "
		   DIR "/bin && cp /bin/busybox " DIR "/bin/true && "
		   "echo x > " DIR "/ws/file && echo x > " DEEP " && "
		   "cd " DIR "/rules && "
		   "seq -f 'd%g' 0 10001 | xargs mkdir -p"))
		return 1;
	/* warm the caches (9p and page cache in the VM), then the baseline:
	 * nothing of ours attached */
	for (size_t i = 0; i < N_OPS; i++)
		if (bench_best(&env, 1, &bare, ops[i], op_iters[i], 1, &before[i]) < 0 ||
		    bench_best(&env, 1, &bare, ops[i], op_iters[i], ROUNDS, &before[i]) < 0)
			return 1;
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
	/* "outside": the programs attached, the process in no sandbox */
	for (size_t i = 0; i < N_OPS; i++)
		if (bench_best(&env, 3, cols, ops[i], op_iters[i], ROUNDS, t[i]) < 0) {
			printf("FAIL: %s did not run confined\n", op_name[i]);
			fail = 1;
		}
	asb_lsm_close(lsm);
	asb_sockfilter_detach(sf, sb10.cg_fd, 0);
	asb_sockfilter_detach(sf, sb10k.cg_fd, 0);
	asb_sockfilter_close(sf);
	rmdir(sb10.cgroup);
	rmdir(sb10k.cgroup);
	/* the baseline again, programs gone: its best of before and after */
	for (size_t i = 0; i < N_OPS; i++)
		if (bench_best(&env, 1, &bare, ops[i], op_iters[i], ROUNDS, &after[i]) < 0)
			return 1;
	printf("%-11s %10s %10s %10s %10s %8s %8s %8s\n", "op", "bare_ns",
	       "outside_ns", "10rules_ns", "10krules_ns", "outside", "ratio10",
	       "ratio10k");
	for (size_t i = 0; !fail && i < N_OPS; i++) {
		double base = before[i] < after[i] ? before[i] : after[i];

		printf("%-11s %10.0f %10.0f %10.0f %10.0f %8.3f %8.3f %8.3f\n",
		       op_name[i], base, t[i][0], t[i][1], t[i][2],
		       t[i][0] / base, t[i][1] / base, t[i][2] / base);
		if (t[i][1] / base > 1.10 || t[i][2] / base > 1.10)
			printf("MISS: %s above target 1.10x\n", op_name[i]);
	}
	return fail;
}
