// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench/approval: the round trip of an ask answered by an automatic
 * approver, beside the same syscall unflagged and beside the floor, in
 * the same run.
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
 *   floor    no agentd: a bare seccomp supervisor (handing over on one
 *            CPU, as agentd) relays each notification to a bare approver
 *            thread over a socketpair and lets the syscall continue on
 *            its answer: two context switches and a socket round trip,
 *            what no approval can go below;
 *   asked    the approve.write path: held, sent to the approver,
 *            approved, opened by agentd and injected.
 * The cases take turns in ROUNDS rounds, so that a host that gets busier
 * or quieter during the run weighs on each alike. Prints p50 and p99
 * (microseconds) of each, then the host's stalls, which make most of a
 * p99 here (docs/performance.md). Root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "bench.h"
#include "ctl.h"
#include "launch.h"
#include "notify.h"

#define DIR	"/tmp/asb-bench-appr"
#define SOCK	DIR "/agentd.sock"
#define N	20000		/* calls of each case */
#define ROUNDS	10
#define WARMUP	200

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * @n opens of @path after WARMUP untimed ones (a new process, its first
 * notifications: not what is measured), each one's microseconds on a
 * line of its own.
 */
static int child(const char *path, int n)
{
	double *t = calloc(n, sizeof(*t));

	if (!t)
		return 1;
	for (int i = -WARMUP; i < n; i++) {
		double a = bench_now() * 1e6;
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		double b = bench_now() * 1e6;

		if (fd < 0) {
			fprintf(stderr, "open %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
		if (i >= 0)
			t[i] = b - a;
	}
	for (int i = 0; i < n; i++)
		printf("%.2f\n", t[i]);
	return fflush(stdout) ? 1 : 0;
}

/* Up to @n samples from @f into @t; how many. */
static int collect(FILE *f, double *t, int n)
{
	int got = 0;

	while (got < n && fscanf(f, "%lf", &t[got]) == 1)
		got++;
	return got;
}

/*
 * The host's own stalls: spinning on the clock for @ms, a gap of STALL
 * us or more between two reads is time this CPU did not run us (on a
 * guest, mostly spent in the hypervisor). A round trip meets them in
 * proportion to its length: they make most of a p99 here.
 */
#define STALL	20.0
static void stalls(int ms)
{
	static double g[65536];
	double end = bench_now() + ms / 1e3, prev = bench_now(), sum = 0;
	int n = 0;

	while (prev < end) {
		double now = bench_now(), us = (now - prev) * 1e6;

		if (us >= STALL && n < 65536) {
			g[n++] = us;
			sum += us;
		}
		prev = now;
	}
	qsort(g, n, sizeof(double), cmp);
	printf("  host stalls of %.0f us or more: %.0f a second, p50 %.1f us, %.1f %% of the time\n",
	       STALL, n * 1e3 / ms, n ? g[n / 2] : 0.0, sum / (ms * 10.0));
}

/* ---- the floor ---- */

static void *bare_approver(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint64_t id;

	while (recv(fd, &id, sizeof(id), 0) == sizeof(id))
		if (send(fd, &id, sizeof(id), MSG_NOSIGNAL) != sizeof(id))
			break;
	return NULL;
}

/* Each notification to the approver and back, then CONTINUE. */
static void bare_supervisor(int lfd, int ap)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		_exit(1);
	asb_notify_sync_wake(lfd);	/* as agentd's listeners */
	while (epoll_wait(ep, &ev, 1, -1) == 1 && (ev.events & EPOLLIN)) {
		struct seccomp_notif req = { 0 };
		struct seccomp_notif_resp resp = { 0 };
		uint64_t id;

		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req))
			continue;
		if (send(ap, &req.id, sizeof(req.id), 0) != sizeof(req.id) ||
		    recv(ap, &id, sizeof(id), 0) != sizeof(id))
			_exit(1);
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	_exit(0);
}

/* A child whose openat(2) is held by a bare supervisor: its listener. */
static pid_t floor_child(const char *path, int n, int sock, int out)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	pid_t pid = fork();
	char go;
	int lfd;

	if (pid)
		return pid;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		_exit(1);
	lfd = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
			   SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0 || asb_send_fd(sock, lfd) || recv(sock, &go, 1, 0) != 1)
		_exit(1);
	close(lfd);
	dup2(out, 1);
	_exit(child(path, n));
}

static int floor_run(const char *path, double *t, int n)
{
	int sp[2], ap[2], out[2], lfd, got = -1;
	pid_t kid, sup = -1;
	pthread_t th;
	FILE *f;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ap) ||
	    pipe2(out, O_CLOEXEC))
		return -1;
	kid = floor_child(path, n, sp[1], out[1]);
	close(out[1]);
	lfd = kid < 0 ? -1 : asb_recv_fd(sp[0]);
	if (lfd < 0)
		goto out;
	sup = fork();
	if (sup == 0)
		bare_supervisor(lfd, ap[0]);
	close(lfd);
	close(ap[0]);
	ap[0] = -1;
	if (sup < 0 || pthread_create(&th, NULL, bare_approver,
				      (void *)(intptr_t)ap[1]))
		goto out;
	f = fdopen(out[0], "r");
	if (f) {
		out[0] = -1;
		if (send(sp[0], "g", 1, 0) == 1)
			got = collect(f, t, n);
		fclose(f);
	} else {
		kill(sup, SIGKILL);
	}
	waitpid(sup, NULL, 0);	/* the child's exit (or the kill) ends it */
	sup = -1;
	pthread_join(th, NULL);	/* and the supervisor's, the approver */
out:
	if (sup > 0)
		kill(sup, SIGKILL);
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
	}
	if (sup > 0)
		waitpid(sup, NULL, 0);
	if (out[0] >= 0)
		close(out[0]);
	if (ap[0] >= 0)
		close(ap[0]);
	close(ap[1]);
	close(sp[0]);
	close(sp[1]);
	return got == n ? 0 : -1;
}

/* ---- agentd ---- */

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
	       double *t, int n)
{
	char cmd[PATH_MAX * 2];
	FILE *p;
	int got;

	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " SOCK " run --sandbox %s -- "
		 DIR "/bin/approval --child %s %d", bindir, sb, path, n);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	got = collect(p, t, n);
	pclose(p);
	return got == n ? 0 : -1;
}

enum { PLAIN, NOTIFIED, FLOOR, ASKED, CASES };

int main(int argc, char **argv)
{
	static const char *const name[CASES] = {
		"plain", "notified", "floor", "asked",
	};
	static double t[CASES][N];
	char exe[PATH_MAX], bindir[PATH_MAX], cmd[PATH_MAX * 2];
	double p50[CASES], p99[CASES];
	const int chunk = N / ROUNDS;
	pthread_t th;
	ssize_t n;
	pid_t agentd;
	int err = 0;

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
	for (int r = 0; r < ROUNDS && !err; r++) {
		int at = r * chunk;

		err = run(bindir, "plain", DIR "/ws/free", &t[PLAIN][at], chunk) ||
		      run(bindir, "ask", DIR "/ws/free", &t[NOTIFIED][at], chunk) ||
		      floor_run(DIR "/ws/floor", &t[FLOOR][at], chunk) ||
		      run(bindir, "ask", DIR "/ws/held", &t[ASKED][at], chunk);
	}
	stop = 1;
	kill(agentd, SIGTERM);
	waitpid(agentd, NULL, 0);
	if (err) {
		fprintf(stderr, "approval: a run failed (see " DIR "/agentd.log)\n");
		return 1;
	}
	printf("approval: open(O_WRONLY), %d calls each in %d rounds, microseconds from the syscall's start to its return\n",
	       N, ROUNDS);
	for (int i = 0; i < CASES; i++) {
		qsort(t[i], N, sizeof(double), cmp);
		p50[i] = t[i][N / 2];
		p99[i] = t[i][N * 99 / 100];
		printf("  %-9s p50 %8.1f  p99 %8.1f\n", name[i], p50[i], p99[i]);
	}
	printf("  asked/floor: p50 %.2fx, p99 %.2fx; asked - floor: p50 %.1f, p99 %.1f us\n",
	       p50[ASKED] / p50[FLOOR], p99[ASKED] / p99[FLOOR],
	       p50[ASKED] - p50[FLOOR], p99[ASKED] - p99[FLOOR]);
	stalls(1000);
	printf("  target asked p99 < 200 us: %s\n", p99[ASKED] < 200 ? "met" : "MISSED");
	return p99[ASKED] < 200 ? 0 : 1;
}
