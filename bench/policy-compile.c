// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench/policy-compile: compile time and image size for policies of 10,
 * 1,000 and 100,000 rules, and the cost of a path and a network lookup in
 * a sandbox of 10 rules against one of 10,000 rules (the ratio is the
 * point: lookups must not grow with the rule count).
 *
 * Targets: 100,000 rules compile in under 1 s; lookup ratio 10,000/10
 * rules within the logarithmic growth of a binary search (< 3x).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

#define PER_LINE	40	/* rules per key line, well under 1000 bytes */
#define PER_SANDBOX	(PER_LINE * 5)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A policy of @n rules in sandboxes of up to PER_SANDBOX rules. With
 * @chain, every sandbox extends the previous one, so the last one holds
 * all @n rules.
 */
static char *make_policy(size_t n, bool chain, size_t *len)
{
	static const char *const keys[] = {
		"fs.read", "fs.write", "fs.exec", "net.connect", "net.bind",
	};
	size_t cap = n * 48 + 4096, off = 0, rule = 0;
	char *buf = malloc(cap);

	if (!buf)
		abort();
	for (size_t s = 0; rule < n; s++) {
		off += sprintf(buf + off, "[sandbox.s%zu]\n", s);
		if (chain && s)
			off += sprintf(buf + off, "extends = s%zu\n", s - 1);
		for (size_t k = 0; k < 5 && rule < n; k++) {
			off += sprintf(buf + off, "%s =", keys[k]);
			for (size_t i = 0; i < PER_LINE && rule < n; i++, rule++) {
				if (k < 3)
					off += sprintf(buf + off, " /d%zu/f%zu", s, i);
				else
					off += sprintf(buf + off, " 10.%zu.%zu.0/24:%zu",
						       (rule >> 8) & 255, rule & 255,
						       1000 + i);
			}
			buf[off++] = '\n';
		}
	}
	buf[off] = 0;
	*len = off;
	return buf;
}

static double compile_time(const char *text, size_t len, struct asb_image *img)
{
	double best = 1e9;

	for (int i = 0; i < 3; i++) {
		double t = now();

		if (asb_policy_compile_mem("bench.ini", text, len, img, stderr,
					   NULL) < 0)
			exit(1);
		t = now() - t;
		if (t < best)
			best = t;
		if (i < 2)
			asb_image_free(img);
	}
	return best;
}

/* ns per lookup (a path and an address) in the last sandbox of @img. */
static double lookup_ns(const struct asb_image *img)
{
	const struct asb_image_sandbox *sb = asb_image_sandboxes(img);
	const struct asb_image_sandbox *last = NULL;
	uint8_t addr[16] = { 10, 0, 3, 7 };
	const int iters = 200000;
	volatile const void *sink;
	double t;

	for (uint32_t i = 0; i < img->hdr->n_sandboxes; i++)
		if (!last || sb[i].n_rules > last->n_rules)
			last = &sb[i];
	t = now();
	for (int i = 0; i < iters; i++) {
		sink = asb_image_match_path(img, last, ASB_RULE_FS_READ,
					    "/d0/f3/some/deeper/file.txt");
		sink = asb_image_match_net(img, last, ASB_RULE_NET_CONNECT,
					   ASB_NET_IP4, addr, 1003);
	}
	(void)sink;
	return (now() - t) / iters * 1e9;
}

int main(void)
{
	static const size_t sizes[] = { 10, 1000, 100000 };
	double l10 = 0, l10k = 0;
	int fail = 0;

	printf("%-10s %12s %14s\n", "rules", "compile_ms", "image_bytes");
	for (size_t i = 0; i < 3; i++) {
		struct asb_image img;
		size_t len;
		char *text = make_policy(sizes[i], false, &len);
		double t = compile_time(text, len, &img);

		printf("%-10zu %12.2f %14zu\n", sizes[i], t * 1e3, img.size);
		if (sizes[i] == 100000 && t >= 1.0) {
			printf("FAIL: 100000 rules took %.2f s (target < 1 s)\n", t);
			fail = 1;
		}
		asb_image_free(&img);
		free(text);
	}

	for (size_t n = 10; n <= 10000; n *= 1000) {
		struct asb_image img;
		size_t len;
		char *text = make_policy(n, true, &len);

		compile_time(text, len, &img);
		if (n == 10)
			l10 = lookup_ns(&img);
		else
			l10k = lookup_ns(&img);
		asb_image_free(&img);
		free(text);
	}
	printf("lookup_ns  10 rules: %.0f  10000 rules: %.0f  ratio: %.2f\n",
	       l10, l10k, l10k / l10);
	if (l10k / l10 >= 3.0) {
		printf("FAIL: lookup ratio %.2f (target < 3)\n", l10k / l10);
		fail = 1;
	}
	return fail;
}
