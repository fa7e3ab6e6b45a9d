/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The secret broker: agentd's unix socket (protocol: include/asb/broker.h)
 * that hands a vault secret to a process only if the kernel says it is a
 * live process of a sandbox whose policy grants that secret to its
 * executable. See docs/secrets.md.
 */
#ifndef ASB_BROKER_INT_H
#define ASB_BROKER_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <asb/broker.h>

#include "sandbox.h"
#include "vault.h"

struct broker_job;

/*
 * Accepted connections whose request has not arrived yet: agentd waits
 * for them in its epoll set, never blocked on one, each at most
 * ASB_BROKER_WAIT_MS; when all slots are taken the oldest is dropped.
 */
#define ASB_BROKER_WAITING	64
/* Programs with secrets running at once, per sandbox: each holds agentd
 * fds and a spawner outside the sandbox's limits. */
#define ASB_BROKER_JOBS_MAX	32
#define ASB_BROKER_WAIT_MS	2000

struct asb_broker_wait {
	int conn;			/* -1: free */
	uint64_t since_ms;		/* asb_now_ms() at accept */
};

struct asb_broker {
	int lfd;
	int epfd;			/* agentd's epoll set, or -1 */
	char path[108];
	char cgroup_mount[160];		/* cgroup v2 mount root */
	struct stat client_st;		/* the asb-secret binary, if found */
	struct stat own_ns;		/* agentd's PID namespace */
	bool have_client;
	struct asb_sandboxes *sbs;
	const char *ctl_socket;		/* agentd's: hidden from programs */
	struct asb_vault_cache vault;
	struct broker_job *jobs;	/* running EXEC requests */
	struct asb_broker_wait wait[ASB_BROKER_WAITING];
	uint64_t grants, refusals;
};

/* A peer as the kernel names it, and what agentd read about it. */
struct asb_peer {
	pid_t pid;			/* at connect time */
	int pidfd;			/* the connecting process */
	pid_t ppid;			/* from the pidfd (Linux 6.13), or 0 */
	uint64_t cgid;			/* its cgroup's id, likewise */
	bool via_client;		/* identity is what asb-secret's process
					 * was before it ran asb-secret */
	bool ino_only;			/* exe_st's dev is overlayfs's */
	pid_t id_pid;			/* the process whose identity counts */
	char exe[PATH_MAX];		/* /proc/id_pid/exe */
	struct stat exe_st;
	struct asb_sandbox *s;		/* NULL: in no sandbox */
};

/*
 * Listen on @path (directory 0755, socket 0666: any local process may ask;
 * the answer depends on who it is). @client_path: the asb-secret binary
 * (a process running it is judged by its parent, the program that called
 * it), or NULL.
 */
int asb_broker_open(struct asb_broker *b, const char *path,
		    const char *vault_path, const char *cgroup_mount,
		    const char *client_path, struct asb_sandboxes *sbs,
		    int epfd);
/* Handle an epoll event on @fd; false if @fd is not the broker's. */
bool asb_broker_handle(struct asb_broker *b, int fd, uint32_t events);
void asb_broker_status(struct asb_broker *b, FILE *out);
void asb_broker_close(struct asb_broker *b);
/* The program a running launch was started for, by the launch's first
 * process (a child of the broker's spawner); NULL: not the broker's. */
const char *asb_broker_launch_exe(const struct asb_broker *b, pid_t child);

/*
 * Peer verification, in steps (exposed for the tests):
 * identify: pidfd (SO_PEERPIDFD, else SO_PEERCRED + pidfd_open); pid,
 *           parent and cgroup id from the pidfd where the kernel tells;
 * check:    the sandbox by that cgroup id (else /proc/PID/cgroup), exe
 *           read through /proc/PID, then the pidfd must still be alive,
 *           else ASB_BR_PEER_GONE (the pid may name another process by
 *           now).
 * Both return an enum asb_broker_reason.
 */
int asb_peer_identify(int conn, struct asb_peer *p);
#define ASB_PEER_ENV	1u	/* refuse a process started with LD_PRELOAD & co */
#define ASB_PEER_CALLER	2u	/* an asb-secret process: judge its parent */
int asb_peer_check(const struct asb_broker *b, struct asb_peer *p,
		   unsigned int flags);
void asb_peer_release(struct asb_peer *p);
/* Which secret of @p's sandbox is @name, and may @p have it? */
int asb_broker_decide(const struct asb_peer *p, const char *name,
		      const struct asb_image_secret **sec);
const char *asb_broker_reason_str(int reason);

#endif
