/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy compiler: INI policy file -> validated, compiled image
 * (include/asb/image.h), and the read side of an image: verification,
 * lookups and printing.
 */
#ifndef ASB_POLICY_H
#define ASB_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <asb/image.h>

struct asb_image {
	struct asb_image_hdr *hdr;	/* malloc'ed, hdr->size bytes */
	size_t size;
};

/*
 * Compile the policy file at @path. Every error and warning is written to
 * @diag as "FILE:LINE: message" (warnings as "FILE:LINE: warning: ..."),
 * sorted by line. On success returns 0 and fills @img (free with
 * asb_image_free); on any error returns -1 and leaves @img empty.
 * @nwarn, if not NULL, receives the number of warnings.
 */
int asb_policy_compile(const char *path, struct asb_image *img, FILE *diag,
		       unsigned int *nwarn);

/* The same for a policy held in memory; @name is used in diagnostics. */
int asb_policy_compile_mem(const char *name, const char *buf, size_t len,
			   struct asb_image *img, FILE *diag,
			   unsigned int *nwarn);

/*
 * From now on, compiling adds the rules that granted programs need to run,
 * flagged ASB_RULE_F_IMPLIED, each with the FILE:LINE of the rule that
 * needs it: the ELF interpreter of every program an fs.exec rule grants
 * (a file, or the files of a directory), flagged ASB_RULE_F_INTERP; and
 * fs.exec of @helper (asb-secret, by which agentd injects env: secrets) in
 * a sandbox with an env: secret. agentd and asbctl call this; the tests and
 * the fuzzer see the policy as written.
 */
void asb_policy_imply(const char *helper);

/* sys.caps names: "net_raw" for CAP_NET_RAW; NULL past ASB_CAP_MAX. */
const char *asb_cap_name(int cap);

/* The default policy embedded in the binaries. */
extern const char asb_default_policy[];
extern const size_t asb_default_policy_len;
#define ASB_DEFAULT_POLICY_NAME "<default>"

void asb_image_free(struct asb_image *img);

/*
 * Check that @len bytes at @buf are a well-formed image: magic, version,
 * size, checksum, every offset and string in bounds. Returns 0, or -1 with
 * a reason in @why.
 */
int asb_image_verify(const void *buf, size_t len, char *why, size_t whylen);
uint32_t asb_crc32(const void *buf, size_t len);
uint32_t asb_crc32_update(uint32_t crc, const void *buf, size_t len);

/* Write an image to / read an image from a file (verified). */
int asb_image_save(const struct asb_image *img, const char *path);
int asb_image_load(const char *path, struct asb_image *img, char *why,
		   size_t whylen);

const char *asb_image_str(const struct asb_image *img, uint32_t off);
const struct asb_image_sandbox *asb_image_sandboxes(const struct asb_image *img);
const struct asb_image_rule *asb_image_rules(const struct asb_image *img);
const struct asb_image_secret *asb_image_secrets(const struct asb_image *img);
const struct asb_image_sandbox *asb_image_find_sandbox(const struct asb_image *img,
						       const char *name);

/*
 * Lookups, O(log n) in the number of rules: the most specific rule of
 * @kind in sandbox @sb that covers @path (a path rule covers its subtree),
 * or the address and port (@addr is 4 or 16 bytes in network order).
 */
const struct asb_image_rule *
asb_image_match_path(const struct asb_image *img,
		     const struct asb_image_sandbox *sb, enum asb_rule_kind kind,
		     const char *path);
const struct asb_image_rule *
asb_image_match_net(const struct asb_image *img,
		    const struct asb_image_sandbox *sb, enum asb_rule_kind kind,
		    int family, const uint8_t *addr, uint16_t port);

/* Names of rule kinds ("fs.read", ...) and socket families ("packet"). */
const char *asb_rule_kind_name(enum asb_rule_kind kind);
const char *asb_family_name(int af);

/* Format a network rule's object as the policy spells it. */
void asb_rule_format_net(const struct asb_image_rule *r, char *buf,
			 size_t len);

/* Print the compiled rules, readable or as JSON, each with FILE:LINE. */
void asb_image_print(const struct asb_image *img, FILE *out, bool json);

#endif /* ASB_POLICY_H */
