// SPDX-License-Identifier: BSD-3-Clause
/*
 * The control socket: unix SOCK_SEQPACKET, one request and one reply per
 * connection, root peers only (checked with SO_PEERCRED, besides the
 * 0700 directory and 0600 socket).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

void asb_ctl_req_init(struct asb_ctl_req *req, int cmd)
{
	memset(req, 0, sizeof(*req));
	req->magic = ASB_CTL_MAGIC;
	req->version = ASB_CTL_VERSION;
	req->cmd = cmd;
}

static int addr_of(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

int asb_ctl_call(const char *path, const struct asb_ctl_req *req,
		 char **payload, size_t *len)
{
	struct sockaddr_un sun;
	struct asb_ctl_rep *rep;
	struct timeval tv = { .tv_sec = 30 };
	char *buf;
	ssize_t n;
	int fd, err;

	*payload = NULL;
	*len = 0;
	err = addr_of(path, &sun);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, req, sizeof(*req), MSG_NOSIGNAL) != sizeof(*req)) {
		err = -errno;
		close(fd);
		return err;
	}
	buf = malloc(sizeof(*rep) + ASB_CTL_REPLY_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = recv(fd, buf, sizeof(*rep) + ASB_CTL_REPLY_MAX, 0);
	err = n < 0 ? -errno : 0;
	close(fd);
	rep = (struct asb_ctl_rep *)buf;
	if (!err && ((size_t)n < sizeof(*rep) ||
		     rep->len != (size_t)n - sizeof(*rep)))
		err = -EPROTO;
	if (err) {
		free(buf);
		return err;
	}
	err = rep->status;
	*len = rep->len;
	memmove(buf, buf + sizeof(*rep), *len);
	buf[*len] = 0;
	*payload = buf;
	return err;
}

int asb_ctl_listen(const char *path)
{
	struct sockaddr_un sun;
	char dir[PATH_MAX];
	int fd, err;

	err = addr_of(path, &sun);
	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	umask(077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int asb_ctl_accept(int lfd, unsigned int *peer_uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return -EPERM;
	}
	*peer_uid = cred.uid;
	if (cred.uid != 0) {
		asb_ctl_reply(fd, -EPERM, "agentd: root only", 17);
		close(fd);
		return -EPERM;
	}
	return fd;
}

int asb_ctl_recv(int fd, struct asb_ctl_req *req)
{
	struct timeval tv = { .tv_sec = 5 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, req, sizeof(*req), MSG_TRUNC);
	if (n < 0)
		return -errno;
	if (n != sizeof(*req) || req->magic != ASB_CTL_MAGIC)
		return -EINVAL;
	if (req->version != ASB_CTL_VERSION)
		return -EPROTO;
	if (req->cmd < 1 || req->cmd > ASB_CTL_CMD_MAX ||
	    !memchr(req->sandbox, 0, sizeof(req->sandbox)) ||
	    !memchr(req->policy, 0, sizeof(req->policy)) ||
	    (req->policy[0] && req->policy[0] != '/'))
		return -EINVAL;
	return 0;
}

int asb_ctl_reply(int fd, int status, const void *payload, size_t len)
{
	struct asb_ctl_rep rep = { .status = status };
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (len > ASB_CTL_REPLY_MAX)
		len = ASB_CTL_REPLY_MAX;
	rep.len = len;
	iov[0] = (struct iovec){ &rep, sizeof(rep) };
	iov[1] = (struct iovec){ (void *)payload, len };
	return sendmsg(fd, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}
