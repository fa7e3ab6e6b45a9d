// SPDX-License-Identifier: BSD-3-Clause
/*
 * The escape suite: what a hostile agent, root or not, tries from inside a
 * sandbox to get around its rules, by concern. One body per attempt; it
 * runs on whatever backend agentd chose (portable on the host lane,
 * kmod+bpf-lsm in the VM lane, which ASB_EXPECT_BACKEND makes sure of).
 * Each test is an attempt that worked once. Root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "asb_test.h"

#define DIR	"/tmp/asb-esc"
#define SOCK	DIR "/agentd.sock"
#define POLICY	"selftests/policies/escape.ini"
#define TOKEN	"esc-TOKEN-7731-unique-Qv2"

static char bindir[PATH_MAX];

/* asbctl run --sandbox @sb -- sh -c @script (or @script's words when
 * @sb is "exact", which has no shell). */
static int run_in(const char *sb, const char *script, char *out, size_t len)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
		 "ASB_BROKER_SOCKET=" DIR "/broker.sock %s/asbctl --socket "
		 SOCK " run --sandbox %s -- %s%s%s", bindir, sb,
		 strcmp(sb, "exact") ? "/bin/sh -c '" : "", script,
		 strcmp(sb, "exact") ? "'" : "");
	return asb_sh(cmd, out, len);
}

FIXTURE(esc) {
	pid_t agentd;
};

FIXTURE_SETUP(esc)
{
	static const char *const args[] = {
		"--policy", DIR "/escape.ini", "--socket", SOCK,
		"--state-dir", DIR "/state", "--audit-log", DIR "/audit.jsonl",
		"--broker", DIR "/broker.sock", NULL,
	};
	char cmd[PATH_MAX + 256];

	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_EQ(0, flock(open("/tmp/asb-esc.lock", O_RDWR | O_CREAT |
				O_CLOEXEC, 0600), LOCK_EX));
	asb_bindir(bindir, sizeof(bindir));
	ASSERT_EQ(0, system("rm -rf " DIR " && mkdir -p " DIR "/ro " DIR "/rw "
			    DIR "/bin && chmod 777 " DIR "/rw && "
			    "echo data > " DIR "/ro/file && "
			    "cp " POLICY " " DIR "/escape.ini"));
	self->agentd = asb_start_agentd(bindir, DIR "/agentd.log", SOCK, args);
	ASSERT_EQ(0, access(SOCK, F_OK));
	snprintf(cmd, sizeof(cmd), "%s/asbctl", bindir);
	ASSERT_BACKEND_EXPECTED(cmd, SOCK);
	/* the vault agentd reads, found by asking it (no --vault) */
	snprintf(cmd, sizeof(cmd), "printf %%s " TOKEN " | %s/asbctl --socket "
		 SOCK " vault put API_TOKEN", bindir);
	ASSERT_EQ(0, asb_sh(cmd, NULL, 0));
}

FIXTURE_TEARDOWN(esc)
{
	if (geteuid())
		return;
	if (self->agentd > 0) {
		kill(self->agentd, SIGTERM);
		waitpid(self->agentd, NULL, 0);
	}
}

/* ---- programs: only what an exec rule grants runs ---- */

/* fs.exec = /usr/bin/cat alone runs cat: its interpreter is implied. */
TEST_F(esc, granted_program_runs_with_its_interpreter)
{
	char out[4096];

	ASSERT_EQ(0, run_in("exact", "/usr/bin/cat " DIR "/ro/file", out,
			    sizeof(out)));
	ASSERT_STREQ("data\n", out);
}

/* The loader as a program runs nothing, granted or copied. */
TEST_F(esc, loader_as_program_killed)
{
	char out[4096];

	EXPECT_EQ(128 + SIGKILL, run_in("exact",
		  "/lib64/ld-linux-x86-64.so.2 /usr/bin/cat " DIR "/ro/file",
		  out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "data"));
	ASSERT_EQ(0, run_in("esc", "cp /usr/bin/id " DIR "/rw/id && "
			    "/lib64/ld-linux-x86-64.so.2 " DIR "/rw/id; "
			    "echo status $?", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "status 137")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "uid=")) TH_LOG("%s", out);
	ASSERT_EQ(0, run_in("esc", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "
			    "--list /usr/bin/id; echo status $?", out,
			    sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "status 137")) TH_LOG("%s", out);
}

/* ---- secrets ---- */

/* An env: secret reaches its program with only what the policy grants:
 * agentd's asb-secret is implied by the secret's rule. */
TEST_F(esc, env_secret_with_exactly_the_grants)
{
	char out[4096];

	ASSERT_EQ(0, run_in("exact", "/usr/bin/printenv API_TOKEN", out,
			    sizeof(out))) TH_LOG("%s", out);
	ASSERT_STREQ(TOKEN "\n", out);
}

TEST_HARNESS_MAIN
