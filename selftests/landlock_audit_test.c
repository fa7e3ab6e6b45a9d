// SPDX-License-Identifier: BSD-3-Clause
/*
 * Landlock denials reach the audit reader, including denials made by the
 * program exec'd after landlock_restrict_self (LOG_NEW_EXEC_ON). Root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "asb_test.h"

#include "landlock.h"
#include "landlock_audit.h"
#include "policy.h"

static const char pol[] =
	"[sandbox.t]\n"
	"fs.read = /usr /lib /lib64 /etc\n"
	"fs.exec = /usr/bin /bin /lib64/ld-linux-x86-64.so.2\n";

/* Wait for the denial of @path by @pid, up to 5 s. */
static int wait_denial(struct asb_ll_audit *a, pid_t pid, const char *path,
		       struct asb_ll_denial *d)
{
	time_t end = time(NULL) + 5;

	while (time(NULL) < end) {
		int r = asb_ll_audit_next(a, d, 500);

		if (r < 0)
			return -1;
		if (r == 1 && d->pid == pid && !strcmp(d->object, path))
			return 0;
	}
	return -1;
}

TEST(denial_after_exec_is_logged)
{
	char dir[] = "/tmp/asb-llaudit-XXXXXX", file[64], why[256];
	struct asb_image img = { 0 };
	struct asb_ll_denial d;
	struct asb_ll_audit *a;
	int fd, st;
	pid_t pid;

	if (asb_landlock_abi() < 7)
		SKIP(return, "Landlock ABI < 7: no audit logging");
	a = asb_ll_audit_open(true, why, sizeof(why));
	if (!a && (errno == EPROTONOSUPPORT || errno == ECONNREFUSED))
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, a) TH_LOG("%s", why);

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/secret", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, asb_policy_compile_mem("t", pol, sizeof(pol) - 1, &img,
					    stderr, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char rep[1024];

		if (asb_landlock_apply(&img, asb_image_find_sandbox(&img, "t"),
				       rep, sizeof(rep)) < 0)
			_exit(100);
		execl("/bin/cat", "cat", file, (char *)NULL);
		_exit(101);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(1, WEXITSTATUS(st));	/* cat: Permission denied */

	ASSERT_EQ(0, wait_denial(a, pid, file, &d));
	EXPECT_NE(NULL, strstr(d.blockers, "fs.read_file"))
		TH_LOG("blockers=%s", d.blockers);
	EXPECT_NE('\0', d.domain[0]);
	EXPECT_STREQ("cat", d.comm);

	asb_ll_audit_close(a);
	asb_image_free(&img);
	unlink(file);
	rmdir(dir);
}

TEST_HARNESS_MAIN
