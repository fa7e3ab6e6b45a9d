// SPDX-License-Identifier: BSD-3-Clause
/*
 * The control socket: unix SOCK_SEQPACKET, one request and one reply per
 * connection, root peers only (checked with SO_PEERCRED, besides the
 * 0700 directory and 0600 socket).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
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
#include "policy.h"

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

static int send_req(int fd, const struct asb_ctl_req *req, int pass)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)req, sizeof(*req) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (pass >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == sizeof(*req) ? 0 : -1;
}

static int open_req(const char *path, const struct asb_ctl_req *req,
		    int pass)
{
	struct sockaddr_un sun;
	struct timeval tv = { .tv_sec = 30 };
	int fd, err;

	err = addr_of(path, &sun);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send_req(fd, req, pass) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int asb_ctl_open(const char *path, const struct asb_ctl_req *req)
{
	int fd = open_req(path, req, -1);
	struct timeval tv = { 0 };

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int asb_ctl_call(const char *path, const struct asb_ctl_req *req,
		 char **payload, size_t *len)
{
	return asb_ctl_call_fd(path, req, -1, payload, len);
}

int asb_ctl_call_fd(const char *path, const struct asb_ctl_req *req, int pass,
		    char **payload, size_t *len)
{
	struct asb_ctl_rep *rep;
	char *buf;
	ssize_t n;
	int fd, err;

	*payload = NULL;
	*len = 0;
	fd = open_req(path, req, pass);
	if (fd < 0)
		return fd;
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

int asb_ctl_pass_listener(const char *path, uint32_t sbid, pid_t child,
			  int fd, char *err, size_t errlen)
{
	struct asb_ctl_req req;
	char *out = NULL;
	size_t len = 0;
	int ret;

	asb_ctl_req_init(&req, ASB_CTL_NOTIFY);
	req.id = sbid;
	req.pid = (uint32_t)child;
	ret = asb_ctl_call_fd(path, &req, fd, &out, &len);
	close(fd);
	snprintf(err, errlen, "%s", out && len ? out : ret < 0 ? strerror(-ret) : "");
	free(out);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

int asb_ctl_bind(int fd, const char *path, mode_t mode, int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s~", path);
	int err;

	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(sun.sun_path, mode) < 0 || listen(fd, backlog) < 0 ||
	    rename(sun.sun_path, path) < 0) {
		err = -errno;
		unlink(sun.sun_path);
		return err;
	}
	return 0;
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
	umask(077);
	err = asb_ctl_bind(fd, path, 0600, 64);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Whether @pid is in a sandbox: its cgroup v2 path is below /asb/. The
 * control plane is never a sandbox's, whatever path reached the socket.
 * Unreadable means yes (fail closed).
 */
static bool in_sandbox(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	for (char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "0::/asb/", 8))
			return true;
	return false;
}

int asb_ctl_accept(int lfd, unsigned int *peer_uid)
{
	struct timeval tv = { .tv_sec = 5 };
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
	if (in_sandbox(cred.pid)) {
		asb_ctl_reply(fd, -EPERM, "agentd: not from a sandbox", 26);
		close(fd);
		return -EPERM;
	}
	/* a client of root's that does not send holds agentd at most this */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int asb_ctl_recv(int fd, struct asb_ctl_req *req, int *rfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { req, sizeof(*req) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	int got = -1;
	ssize_t n;

	if (rfd)
		*rfd = -1;
	n = recvmsg(fd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	/* at most one descriptor, and only as the whole of the control data */
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	if (got >= 0 && (!rfd || (msg.msg_flags & MSG_CTRUNC))) {
		close(got);
		got = -1;
	}
	if (msg.msg_flags & MSG_CTRUNC)
		return -EINVAL;
	if (n != sizeof(*req) || req->magic != ASB_CTL_MAGIC)
		goto inval;
	if (req->version != ASB_CTL_VERSION) {
		if (got >= 0)
			close(got);
		return -EPROTO;
	}
	if (req->cmd < 1 || req->cmd > ASB_CTL_CMD_MAX ||
	    !memchr(req->sandbox, 0, sizeof(req->sandbox)) ||
	    !memchr(req->policy, 0, sizeof(req->policy)) ||
	    (req->policy[0] && req->policy[0] != '/'))
		goto inval;
	if (rfd)
		*rfd = got;
	return 0;
inval:
	if (got >= 0)
		close(got);
	return -EINVAL;
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

void asb_ctl_helper(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 16);
	char *slash;

	buf[n > 0 ? n : 0] = 0;
	slash = strrchr(buf, '/');
	if (slash)
		strcpy(slash + 1, "asb-secret");
	asb_policy_imply(buf);
}
