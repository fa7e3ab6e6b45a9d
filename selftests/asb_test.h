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

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
