// SPDX-License-Identifier: BSD-3-Clause
/*
 * libFuzzer target for the policy parser and compiler: any input either is
 * refused or compiles to an image that verifies and can be looked up and
 * printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static FILE *null;
	const struct asb_image_sandbox *sb;
	struct asb_image img;
	char why[128];
	uint8_t addr[16] = { 127, 0, 0, 1 };

	if (!null)
		null = fopen("/dev/null", "w");
	if (asb_policy_compile_mem("fuzz.ini", (const char *)data, size, &img,
				   null, NULL) < 0)
		return 0;
	if (asb_image_verify(img.hdr, img.size, why, sizeof(why)) < 0) {
		fprintf(stderr, "compiled image does not verify: %s\n", why);
		abort();
	}
	sb = asb_image_sandboxes(&img);
	for (uint32_t i = 0; i < img.hdr->n_sandboxes; i++) {
		asb_image_match_path(&img, &sb[i], ASB_RULE_FS_READ,
				     "/usr/lib/x86_64-linux-gnu/libc.so.6");
		asb_image_match_net(&img, &sb[i], ASB_RULE_NET_CONNECT,
				    ASB_NET_IP4, addr, 80);
		asb_image_match_net(&img, &sb[i], ASB_RULE_NET_BIND,
				    ASB_NET_IP6, addr, 443);
	}
	asb_image_print(&img, null, true);
	asb_image_free(&img);
	return 0;
}
