// SPDX-License-Identifier: BSD-3-Clause
/*
 * A library an attacker preloads into a granted program (broker_test.c):
 * its constructor renames LD_PRELOAD in the process's own environment, so
 * that /proc/PID/environ and every child's environment no longer show it.
 */
#include <string.h>

extern char **environ;

__attribute__((constructor)) static void hide(void)
{
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "LD_PRELOAD=", 11))
			memcpy(*e, "XX", 2);
}
