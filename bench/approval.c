// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench/approval: the round trip of an ask answered by an automatic
 * approver, beside the same syscall unflagged, in the same run.
 *
 * A real agentd; an approver thread holds an `asbctl watch` connection
 * and answers every request the moment it arrives (ASB_CTL_ANSWER on that
 * connection, as asbctl watch does). The sandboxed side is this
 * binary (--child), timing open(2) with O_WRONLY from its start to its
 * return:
 *   plain    sandbox without approve.* rules: no notification at all;
 *   notified sandbox with approve.write, a path that does not ask (with
 *            asb.ko asking, no notification: the BPF check only): the
 *            notification, agentd's own open and the fd injection;
 *   asked    the approve.write path: held, sent to the approver,
 *            approved, opened by agentd and injected.
 * Prints p50 and p99 (microseconds) of each. Root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define DIR	"/tmp/asb-bench-appr"
#define SOCK	DIR "/agentd.sock"
#define N	20000

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int child(const char *path, int n)
{
	double *t = calloc(n, sizeof(*t));

	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		int fd;

		clock_gettime(CLOCK_MONOTONIC, &a);
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (fd < 0) {
			printf("open %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
		t[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
	}
	qsort(t, n, sizeof(*t), cmp);
	printf("%.1f %.1f\n", t[n / 2], t[n * 99 / 100]);
	return 0;
}

static volatile int stop;

static void *approver(void *arg)
{
	struct asb_ctl_req req;
	char buf[4096];
	int fd;

	(void)arg;
	asb_ctl_req_init(&req, ASB_CTL_WATCH);
	fd = asb_ctl_open(SOCK, &req);
	if (fd < 0 || recv(fd, buf, sizeof(buf), 0) <= 0)
		return NULL;
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n <= 0)
			break;
		buf[n] = 0;
		if (buf[0] < '0' || buf[0] > '9')
			continue;	/* "-ID" gone, "=" / "!" our answer's outcome */
		asb_ctl_req_init(&req, ASB_CTL_ANSWER);
		req.id = (uint32_t)strtoul(buf, NULL, 10);
		req.flags = ASB_CTL_ANSWER_ALLOW;
		if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) < 0)
			break;
	}
	close(fd);
	return NULL;
}

static int run(const char *bindir, const char *sb, const char *path,
	       double *p50, double *p99)
{
	char cmd[PATH_MAX * 2];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " SOCK " run --sandbox %s -- "
		 DIR "/bin/approval --child %s %d", bindir, sb, path, N);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fscanf(p, "%lf %lf", p50, p99) == 2;
	pclose(p);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	char exe[PATH_MAX], bindir[PATH_MAX], cmd[PATH_MAX * 2];
	double r[3][2];
	const char *name[3] = { "plain", "notified", "asked" };
	pthread_t th;
	ssize_t n;
	pid_t agentd;

	if (argc == 4 && !strcmp(argv[1], "--child"))
		return child(argv[2], atoi(argv[3]));
	if (geteuid()) {
		fprintf(stderr, "approval: needs root, skipped\n");
		return 0;
	}
	/* same pins and cgroups as the e2e and approval tests */
	if (flock(open("/tmp/asb-e2e.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600),
		  LOCK_EX))
		return 1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 1;
	exe[n] = 0;
	snprintf(bindir, sizeof(bindir), "%s", exe);
	*strrchr(bindir, '/') = 0;
	strcat(bindir, "/../bin");
	snprintf(cmd, sizeof(cmd),
		 "rm -rf " DIR " && mkdir -p " DIR "/bin " DIR "/ws " DIR "/state && "
		 "cp %s " DIR "/bin/approval && printf '"
		 "[sandbox.plain]\\nfs.read = /usr /lib /lib64 /bin /etc /proc " DIR "\\n"
		 "fs.write = " DIR "/ws\\nfs.exec = /usr /bin /lib /lib64 " DIR "/bin\\n"
		 "[sandbox.ask]\\nextends = plain\\napprove.write = " DIR "/ws/held\\n' > "
		 DIR "/policy.ini", exe);
	if (system(cmd))
		return 1;
	agentd = fork();
	if (agentd == 0) {
		int fd = open(DIR "/agentd.log", O_WRONLY | O_CREAT, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		snprintf(exe, sizeof(exe), "%s/agentd", bindir);
		execl(exe, "agentd", "--policy", DIR "/policy.ini", "--socket", SOCK,
		      "--state-dir", DIR "/state", "--audit-log", DIR "/audit.jsonl",
		      NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200 && access(SOCK, F_OK); i++)	/* guests: slow */
		usleep(50000);
	pthread_create(&th, NULL, approver, NULL);
	usleep(100000);
	if (run(bindir, "plain", DIR "/ws/free", &r[0][0], &r[0][1]) ||
	    run(bindir, "ask", DIR "/ws/free", &r[1][0], &r[1][1]) ||
	    run(bindir, "ask", DIR "/ws/held", &r[2][0], &r[2][1])) {
		fprintf(stderr, "approval: a run failed (see " DIR "/agentd.log)\n");
		kill(agentd, SIGTERM);
		return 1;
	}
	printf("approval: open(O_WRONLY), %d calls each, microseconds from the syscall's start to its return\n", N);
	for (int i = 0; i < 3; i++)
		printf("  %-9s p50 %8.1f  p99 %8.1f\n", name[i], r[i][0], r[i][1]);
	printf("  asked/plain: p50 %.0fx, p99 %.0fx; target p99 < 200 us: %s\n",
	       r[2][0] / r[0][0], r[2][1] / r[0][1], r[2][1] < 200 ? "met" : "MISSED");
	stop = 1;
	kill(agentd, SIGTERM);
	waitpid(agentd, NULL, 0);
	return r[2][1] < 200 ? 0 : 1;
}
