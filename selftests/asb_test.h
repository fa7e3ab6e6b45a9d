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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
