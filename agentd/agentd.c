// SPDX-License-Identifier: BSD-3-Clause
/*
 * agentd: the asb daemon.
 */
#include <stdio.h>

#include "policy.h"

int main(void)
{
	fprintf(stderr, "agentd: not built yet\n");
	return 1;
}
