// SPDX-License-Identifier: BSD-3-Clause
/*
 * Secret fetch latency: one GET over agentd's broker (connect, request,
 * peer checks through the pidfd and /proc, vault lookup, reply, audit
 * record) beside a bare unix SOCK_SEQPACKET round trip (connect, request,
 * reply from an echo server outside the sandbox) in the same run, from
 * the same sandboxed process. Target: broker p99 < 100 us. Root only.
 *
 *   secret-fetch [N]        (default 20000 fetches of each)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <asb/broker.h>

#define DIR	"/tmp/asb-bench-secret"
#define VALUE	"bench-secret-value-0123456789abcdef"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int dial(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One request, one reply; 0 if the reply is what @expect says. */
static int round_trip(const char *path, bool broker)
{
	struct asb_broker_req req = {
		.magic = ASB_BROKER_MAGIC, .version = ASB_BROKER_VERSION,
		.op = ASB_BROKER_GET, .name = "BENCH",
	};
	char buf[512];
	ssize_t n;
	int fd = dial(path);

	if (fd < 0)
		return -1;
	if (send(fd, &req, sizeof(req), 0) != sizeof(req)) {
		close(fd);
		return -1;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (!broker)
		return n == sizeof(req) ? 0 : -1;
	return n == (ssize_t)(sizeof(struct asb_broker_rep) + strlen(VALUE)) &&
	       !memcmp(buf + sizeof(struct asb_broker_rep), VALUE,
		       strlen(VALUE)) ? 0 : -1;
}

static void stats(const char *what, double *t, int n, double *p50, double *p99)
{
	qsort(t, n, sizeof(*t), cmp);
	*p50 = t[n / 2];
	*p99 = t[n * 99 / 100];
	printf("%-34s %8.1f %8.1f %8.1f\n", what, *p50, *p99, t[n - 1]);
}

/* In the sandbox: measure both, interleaved. */
static int child(int n)
{
	double *b = calloc(n, sizeof(double)), *e = calloc(n, sizeof(double));
	double bp50, bp99, ep50, ep99, t0;

	for (int i = 0; i < 200; i++)	/* warm up */
		if (round_trip(DIR "/broker.sock", true) ||
		    round_trip(DIR "/echo.sock", false)) {
			fprintf(stderr, "secret-fetch: a fetch failed (warm-up %d)\n", i);
			return 1;
		}
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		if (round_trip(DIR "/broker.sock", true))
			return 1;
		b[i] = now_us() - t0;
		t0 = now_us();
		if (round_trip(DIR "/echo.sock", false))
			return 1;
		e[i] = now_us() - t0;
	}
	printf("%-34s %8s %8s %8s   (us, %d each)\n", "", "p50", "p99", "max", n);
	stats("bare unix round trip", e, n, &ep50, &ep99);
	stats("broker fetch (pidfd checks)", b, n, &bp50, &bp99);
	printf("ratio broker/bare: p50 %.1fx, p99 %.1fx\n", bp50 / ep50, bp99 / ep99);
	printf("target broker p99 < 100 us: %s\n", bp99 < 100 ? "met" : "MISSED");
	return bp99 < 100 ? 0 : 1;
}

static void *echo(void *arg)
{
	int lfd = *(int *)arg;
	char buf[512];

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ssize_t n;

		if (fd < 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0 && send(fd, buf, n, MSG_NOSIGNAL) < 0)
			(void)0;
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], bin[PATH_MAX], binrel[PATH_MAX + 8];
	char selfdir[PATH_MAX], cmd[3 * PATH_MAX + 256];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	pthread_t th;
	pid_t agentd;
	int n = 20000, lfd, st;
	FILE *f;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child(atoi(argv[2]));
	if (argc == 2)
		n = atoi(argv[1]);
	if (geteuid()) {
		printf("secret-fetch: needs root, skipped\n");
		return 0;
	}
	if (!realpath("/proc/self/exe", self))
		return 1;
	snprintf(selfdir, sizeof(selfdir), "%s", self);
	*strrchr(selfdir, '/') = 0;
	snprintf(binrel, sizeof(binrel), "%s/../bin", selfdir);
	if (!realpath(binrel, bin))
		return 1;
	snprintf(cmd, sizeof(cmd), "rm -rf " DIR " && mkdir -p " DIR "/state");
	if (system(cmd))
		return 1;
	f = fopen(DIR "/bench.ini", "w");
	if (!f)
		return 1;
	fprintf(f, "[sandbox.bench]\n"
		"fs.read = /usr /lib /lib64 /bin /etc /proc /dev/null %s\n"
		"fs.write = /dev/null\n"
		"fs.exec = /usr/bin /bin /usr/lib /lib /lib64 %s\n"
		"net.unix = " DIR "/echo.sock\n"
		"secret.BENCH = exe:%s\n", selfdir, selfdir, self);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "printf %%s '" VALUE "' | %s/asbctl vault "
		 "--vault " DIR "/state/vault put BENCH >/dev/null", bin);
	if (system(cmd))
		return 1;
	/* the echo server, outside the sandbox */
	snprintf(sun.sun_path, sizeof(sun.sun_path), DIR "/echo.sock");
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(lfd, 256) < 0)
		return 1;
	pthread_create(&th, NULL, echo, &lfd);
	agentd = fork();
	if (agentd == 0) {
		int fd = open(DIR "/agentd.log", O_WRONLY | O_CREAT, 0600);
		char exe[PATH_MAX + 16];

		dup2(fd, 1);
		dup2(fd, 2);
		snprintf(exe, sizeof(exe), "%s/agentd", bin);
		execl(exe, "agentd", "--policy", DIR "/bench.ini", "--socket",
		      DIR "/agentd.sock", "--state-dir", DIR "/state",
		      "--audit-log", DIR "/audit.jsonl", "--broker",
		      DIR "/broker.sock", NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(DIR "/broker.sock", F_OK); i++)
		usleep(50000);
	/* the granted program is started by agentd (diverted), as in use */
	snprintf(cmd, sizeof(cmd), "ASB_BROKER_SOCKET=" DIR "/broker.sock "
		 "%s/asbctl --socket " DIR "/agentd.sock run "
		 "--sandbox bench -- %s --child %d", bin, self, n);
	st = system(cmd);
	kill(agentd, SIGTERM);
	waitpid(agentd, NULL, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
