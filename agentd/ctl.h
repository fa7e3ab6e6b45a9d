/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket, both ends (protocol: include/asb/ctl.h). */
#ifndef ASB_AGENTD_CTL_H
#define ASB_AGENTD_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <asb/ctl.h>

#define ASB_CTL_SOCKET_DEFAULT "/run/asb/agentd.sock"

/* asbctl: one request, one reply. Returns rep->status or -errno;
 * *payload (malloc'ed, NUL-terminated) holds rep->len bytes. */
int asb_ctl_call(const char *path, const struct asb_ctl_req *req,
		 char **payload, size_t *len);
void asb_ctl_req_init(struct asb_ctl_req *req, int cmd);
/* The same, sending @fd (>= 0) with the request (SCM_RIGHTS). */
int asb_ctl_call_fd(const char *path, const struct asb_ctl_req *req, int fd,
		    char **payload, size_t *len);
/* Connect and send @req; the connected socket, or -errno (watch). */
int asb_ctl_open(const char *path, const struct asb_ctl_req *req);
/*
 * Hand agentd the ask filter's listener @fd of sandbox @sbid's launch
 * (child @child), for asb_launch_opts.notify_cb; @fd is closed. 0, or
 * -1 with errno and agentd's reason in @err.
 */
int asb_ctl_pass_listener(const char *path, uint32_t sbid, pid_t child,
			  int fd, char *err, size_t errlen);

/*
 * asb-secret beside this program (agentd, asbctl): the broker's client and
 * agentd's exec diversion; made a rule implied by env: secrets at compile
 * time (asb_policy_imply), which this also turns on.
 */
void asb_ctl_helper(char *buf, size_t len);

/*
 * Bind @fd to @path, ready before it is seen: bound under a temporary
 * name beside it (@path~), its mode set and listening, then renamed into
 * place. Between bind and listen a connect is refused: a client that
 * finds the path must find it ready. 0 or -errno.
 */
int asb_ctl_bind(int fd, const char *path, mode_t mode, int backlog);

/* agentd: the listening socket, root only (directory 0700, socket 0600). */
int asb_ctl_listen(const char *path);
/* Accept one client; refuses (closes) peers that are not uid 0 or are in
 * a sandbox (cgroup below /asb/, however they reached the socket). The
 * connection gets a 5 s receive timeout. */
int asb_ctl_accept(int lfd, unsigned int *peer_uid);
/*
 * Read and validate one request: 0, or -EINVAL/-EPROTO. A descriptor
 * passed with it goes to *@rfd (-1 if none) when @rfd is not NULL, and is
 * closed otherwise.
 */
int asb_ctl_recv(int fd, struct asb_ctl_req *req, int *rfd);
int asb_ctl_reply(int fd, int status, const void *payload, size_t len);

#endif
