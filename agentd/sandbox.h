/* SPDX-License-Identifier: BSD-3-Clause */
/* agentd's sandboxes: one cgroup each, the policy they were started with. */
#ifndef ASB_SANDBOX_H
#define ASB_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "cglimits.h"
#include "policy.h"

struct asb_sockfilter;
struct asb_lsm;

/*
 * A runtime rule: `asbctl approve ID --always` allows every identical
 * action (same kind, same object) for the rest of the sandbox's life. Kept
 * here only, never written to the policy; shown by `asbctl status`.
 */
struct asb_rt_rule {
	int kind;		/* ASB_RULE_ASK_* */
	char object[ASB_PATH_MAX];	/* exec: program, connect: addr:port,
					 * write: path */
	unsigned int uid;	/* who added it */
	time_t added;
	struct asb_rt_rule *next;
};

/*
 * An execve of a program with env: secrets that agentd diverted to
 * asb-secret (notify.c): the broker starts the program for that process.
 */
struct asb_divert {
	pid_t tgid;			/* the process that called execve */
	const char *exe;		/* the policy's exe: path (in img) */
	uint64_t at_ms;			/* CLOCK_MONOTONIC; 0: free slot */
};
#define ASB_DIVERT_MAX		16
#define ASB_DIVERT_TTL_MS	10000

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
	bool changed;		/* cgroup.events fired since it was read */
	uint64_t emptied_ms;	/* CLOCK_MONOTONIC when found empty, or 0 */
	uint32_t ask;		/* ASB_ASK_* of its approve.* rules */
	struct asb_divert divert[ASB_DIVERT_MAX];
	struct asb_rt_rule *rt;	/* runtime rules, newest first */
	unsigned int n_rt;
	struct asb_sandbox *next;
};

struct asb_sandboxes {
	struct asb_sandbox *head;
	uint32_t next_id;
	const char *cgroup_root;	/* .../asb */
	const char *state_dir;
	struct asb_sockfilter *sf;
	struct asb_lsm *lsm;	/* BPF-LSM backend, or NULL */
	struct asb_execguard *eg;	/* exec and exit in the kernel */
	struct asb_limits lim;		/* controllers for limits.* */
};

/* CLOCK_MONOTONIC in milliseconds: agentd's lingering, waits, deadlines. */
uint64_t asb_now_ms(void);

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
/*
 * Remove sandboxes whose cgroup is empty: at once when @now, else once
 * empty for ASB_SANDBOX_LINGER_MS, so that records the kernel delivers
 * after the last process is gone (Landlock's audit, ring-buffer events)
 * are still attributed to the sandbox and its rules.
 */
#define ASB_SANDBOX_LINGER_MS	2000
void asb_sandbox_reap(struct asb_sandboxes *all, bool now);
void asb_sandbox_destroy(struct asb_sandboxes *all, struct asb_sandbox *s);
struct asb_sandbox *asb_sandbox_by_id(struct asb_sandboxes *all, uint32_t id);
struct asb_sandbox *asb_sandbox_by_events_fd(struct asb_sandboxes *all, int fd);
struct asb_sandbox *asb_sandbox_by_name(struct asb_sandboxes *all,
					const char *name);
/* Move process @pid into @s. */
int asb_sandbox_attach_pid(struct asb_sandbox *s, pid_t pid);
/* Print "ID NAME PIDS DENIES CGROUP" lines. */
void asb_sandbox_print(struct asb_sandboxes *all, FILE *out);
/* Add a runtime rule (0, -ENOMEM, -E2BIG past 1024 of them). */
int asb_sandbox_rt_add(struct asb_sandbox *s, int kind, const char *object,
		       unsigned int uid);
const struct asb_rt_rule *asb_sandbox_rt_match(const struct asb_sandbox *s,
					       int kind, const char *object);

/* Record a diverted exec (the oldest or an expired slot is reused). */
void asb_sandbox_divert_add(struct asb_sandbox *s, pid_t tgid, const char *exe);
/* The exe: path of @tgid's diverted exec, consumed; NULL: none. */
const char *asb_sandbox_divert_take(struct asb_sandbox *s, pid_t tgid);

/* FILE:LINE of image rule @idx in @s (or of the sandbox for a default). */
void asb_sandbox_rule_src(const struct asb_sandbox *s, uint32_t idx,
			  char *buf, size_t len);

#endif
