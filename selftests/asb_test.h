/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kselftest harness as asb's tests use it. The same tests run on the
 * host and in emulated guests (the VM lane, qemu TCG, 10-50x slower), so
 * the per-test limit is generous: a test that passes never waits for it.
 */
#ifndef ASB_TEST_H
#define ASB_TEST_H

#include "kselftest/kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 180

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The build's bin/ (agentd, asbctl, asb-secret), beside selftests/. */
static inline void asb_bindir(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		abort();
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	snprintf(buf, len, "%s/../bin", exe);
}

/* @path's first @len - 1 bytes into @buf, NUL-ended ("" if unreadable). */
static inline char *asb_slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Make @pid the next pid fork() tries (root): 0 or -1. */
static inline int asb_next_pid(pid_t pid)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", pid - 1);
	int ret = fd >= 0 && write(fd, buf, n) == n ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

/* @text as the whole of @path: 0 or -1. */
static inline int asb_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

/*
 * Run @cmd with sh, stdout and stderr into @out (may be NULL): its exit
 * status, or 128 + the signal that ended it.
 */
static inline int asb_sh(const char *cmd, char *out, size_t len)
{
	char full[16384];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (out)
		n = fread(out, 1, len - 1, p);
	else
		while (fgetc(p) != EOF)
			;
	if (out)
		out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Start @bindir/agentd with @args (NULL-ended, after "agentd"), output to
 * @log, and wait up to 60 s (slow guests) for @sock. It gets SIGTERM when
 * the test process ends, so that an assertion needs no teardown.
 */
static inline pid_t asb_start_agentd(const char *bindir, const char *log,
				     const char *sock, const char *const *args)
{
	char exe[PATH_MAX + 16];
	const char *argv[32] = { "agentd" };
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/agentd", bindir);
	for (int i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600);

		dup2(fd, 2);
		dup2(fd, 1);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(exe, (char **)argv);
		_exit(127);
	}
	/* up to a minute (guests are slow), unless agentd gave up */
	for (int i = 0; i < 1200 && access(sock, F_OK); i++) {
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	return pid;
}

/*
 * Whether a line of @path contains every one of @needles (NULL-ended),
 * waiting up to 15 s for it: records are written after the fact, and
 * guests are slow.
 */
static inline bool asb_file_has_line(const char *path,
				     const char *const *needles)
{
	char line[4096];

	for (int tries = 0; tries < 300; tries++) {
		FILE *f = fopen(path, "r");

		while (f && fgets(line, sizeof(line), f)) {
			bool all = true;

			for (int i = 0; needles[i] && all; i++)
				all = strstr(line, needles[i]) != NULL;
			if (all) {
				fclose(f);
				return true;
			}
		}
		if (f)
			fclose(f);
		usleep(50000);
	}
	return false;
}

#define ASB_AUDIT_HAS(path, ...) \
	asb_file_has_line(path, (const char *const[]){ __VA_ARGS__, NULL })

/*
 * Whether the agentd behind @sock runs the backend the lane expects
 * (ASB_EXPECT_BACKEND, set by scripts/vm-check: "kmod+bpf-lsm" on 6.12):
 * a suite that quietly ran on a fallback would prove nothing. True when
 * nothing is expected. @why gets agentd's status line.
 */
#define ASSERT_BACKEND_EXPECTED(asbctl, sock) do {			\
	char why_[512];							\
	int ok_ = asb_backend_expected(asbctl, sock, why_, sizeof(why_)); \
									\
	ASSERT_TRUE(ok_) TH_LOG("%s", why_);				\
} while (0)

static inline int asb_backend_expected(const char *asbctl, const char *sock,
				       char *why, size_t len)
{
	const char *want = getenv("ASB_EXPECT_BACKEND");
	char cmd[8192], line[256] = "";
	FILE *p;

	if (!want || !*want)
		return 1;
	snprintf(cmd, sizeof(cmd), "%s --socket %s status", asbctl, sock);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	pclose(p);
	line[strcspn(line, "\n")] = 0;
	snprintf(why, len, "want backend %s, agentd says \"%s\"", want, line);
	/* "backend: NAME (mechanisms)" */
	return !strncmp(line, "backend: ", 9) &&
	       !strncmp(line + 9, want, strlen(want)) &&
	       (line[9 + strlen(want)] == ' ' || !line[9 + strlen(want)]);
}

#endif
