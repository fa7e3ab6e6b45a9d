/* SPDX-License-Identifier: BSD-3-Clause */
/* agentd's sandboxes: one cgroup each, the policy they were started with. */
#ifndef ASB_SANDBOX_H
#define ASB_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy.h"

struct asb_sockfilter;

struct asb_sandbox {
	uint32_t id;
	char name[ASB_NAME_MAX];
	char cgroup[256];	/* cgroup directory */
	char image_path[256];	/* state_dir/sandbox-ID.img */
	int cg_fd;
	int events_fd;		/* cgroup.events, POLLPRI when emptied */
	uint64_t cgid;
	struct asb_image img;	/* fixed at creation */
	const struct asb_image_sandbox *sb;
	time_t started;
	bool seen;		/* has been populated */
	struct asb_sandbox *next;
};

struct asb_sandboxes {
	struct asb_sandbox *head;
	uint32_t next_id;
	const char *cgroup_root;	/* .../asb */
	const char *state_dir;
	struct asb_sockfilter *sf;
};

/* Adopt the cgroup tree: remove empty sandboxes of an earlier agentd. */
int asb_sandbox_init(struct asb_sandboxes *all);
/*
 * Create sandbox @name from @img (copied): cgroup, socket filter rules and
 * attachment, image file for the launcher. Returns 0 or -errno with a
 * message in @err.
 */
int asb_sandbox_create(struct asb_sandboxes *all, const struct asb_image *img,
		       const char *name, struct asb_sandbox **out, char *err,
		       size_t errlen);
/* Remove sandboxes whose cgroup is empty. */
void asb_sandbox_reap(struct asb_sandboxes *all);
void asb_sandbox_destroy(struct asb_sandboxes *all, struct asb_sandbox *s);
struct asb_sandbox *asb_sandbox_by_id(struct asb_sandboxes *all, uint32_t id);
struct asb_sandbox *asb_sandbox_by_events_fd(struct asb_sandboxes *all, int fd);
struct asb_sandbox *asb_sandbox_by_name(struct asb_sandboxes *all,
					const char *name);
/* Move process @pid into @s. */
int asb_sandbox_attach_pid(struct asb_sandbox *s, pid_t pid);
/* Print "ID NAME PIDS DENIES CGROUP" lines. */
void asb_sandbox_print(struct asb_sandboxes *all, FILE *out);
/* FILE:LINE of image rule @idx in @s (or of the sandbox for a default). */
void asb_sandbox_rule_src(const struct asb_sandbox *s, uint32_t idx,
			  char *buf, size_t len);

#endif
