// SPDX-License-Identifier: BSD-3-Clause
/*
 * asbctl: the operator's command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: asbctl policy check FILE...\n"
		"       asbctl policy show [FILE] [--json]\n");
}

/* Compile @path, or the embedded default policy when @path is NULL. */
static int compile(const char *path, struct asb_image *img, unsigned int *nwarn)
{
	if (path)
		return asb_policy_compile(path, img, stderr, nwarn);
	return asb_policy_compile_mem(ASB_DEFAULT_POLICY_NAME,
				      asb_default_policy,
				      asb_default_policy_len, img, stderr,
				      nwarn);
}

static int policy_check(int argc, char **argv)
{
	int ret = 0;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct asb_image img;
		unsigned int nwarn;

		if (compile(argv[i], &img, &nwarn) < 0) {
			ret = 1;
			continue;
		}
		printf("%s: ok, %u sandboxes, %u rules, %u secrets, %u warnings\n",
		       argv[i], img.hdr->n_sandboxes, img.hdr->n_rules,
		       img.hdr->n_secrets, nwarn);
		asb_image_free(&img);
	}
	return ret;
}

static int policy_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct asb_image img;
	bool json = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+j", opts, NULL)) != -1) {
		if (c != 'j') {
			usage(stderr);
			return 2;
		}
		json = true;
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	if (compile(optind < argc ? argv[optind] : NULL, &img, NULL) < 0)
		return 1;
	asb_image_print(&img, stdout, json);
	asb_image_free(&img);
	return 0;
}

static int cmd_policy(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "check"))
		return policy_check(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "show"))
		return policy_show(argc, argv);
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "policy"))
		return cmd_policy(argc - 2, argv + 2);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
