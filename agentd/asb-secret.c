// SPDX-License-Identifier: BSD-3-Clause
/*
 * asb-secret: the client of agentd's secret broker, for programs inside a
 * sandbox.
 *
 *   asb-secret get NAME             the value on stdout. The broker judges
 *                                   the program that ran asb-secret (its
 *                                   parent): that program must be the one
 *                                   secret.NAME = exe:... grants.
 *   asb-secret exec -- PROG ARGS    agentd starts PROG in this sandbox with
 *                                   every env: secret granted to PROG in its
 *                                   environment; stdio are ours; we wait
 *                                   and exit with its status.
 *
 * And, without arguments, as the program an execve was diverted to: when
 * a sandboxed process executes a program that has env: secrets, agentd
 * makes that execve run this binary instead (through /dev/fd/N), and we
 * ask the broker to start the program agentd recorded for this process,
 * with our argv and environment: `exec` above, done transparently.
 *
 * Exit status: 0; a refusal: its reason code (include/asb/broker.h, 1..11)
 * with a message on stderr; 64 usage; 69 broker unreachable.
 * The socket is $ASB_BROKER_SOCKET or /run/asb-broker/broker.sock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <asb/broker.h>

#define EXIT_USAGE	64
#define EXIT_UNAVAIL	69

extern char **environ;

static const char *reason(int r)
{
	static const char *const s[] = {
		[ASB_BR_MALFORMED] = "malformed request",
		[ASB_BR_NOT_SANDBOXED] = "the caller is not in a sandbox",
		[ASB_BR_NO_GRANT] = "the sandbox's policy does not grant it",
		[ASB_BR_WRONG_EXE] = "granted to another program",
		[ASB_BR_PEER_GONE] = "the requesting process is gone",
		[ASB_BR_NOT_IN_VAULT] = "granted, but not in the vault",
		[ASB_BR_LOCKED] = "the vault is locked (asbctl vault unlock)",
		[ASB_BR_VAULT_ERROR] = "the vault is unreadable (see agentd's log)",
		[ASB_BR_PRELOAD] = "the caller runs with LD_PRELOAD, LD_LIBRARY_PATH or LD_AUDIT",
		[ASB_BR_INTERNAL] = "agentd could not complete the request",
		[ASB_BR_NOT_STARTED] = "the program was not started by agentd: run it by its absolute path",
		[ASB_BR_BUSY] = "too many programs with secrets running in this sandbox",
	};

	return r > 0 && r < (int)(sizeof(s) / sizeof(s[0])) && s[r] ? s[r] :
	       "refused";
}

static int connect_broker(void)
{
	const char *path = getenv("ASB_BROKER_SOCKET") ?: ASB_BROKER_SOCKET_DEFAULT;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "asb-secret: %s: path too long\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "asb-secret: broker %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void req_init(struct asb_broker_req *req, int op)
{
	memset(req, 0, sizeof(*req));
	req->magic = ASB_BROKER_MAGIC;
	req->version = ASB_BROKER_VERSION;
	req->op = op;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

static int cmd_get(const char *name)
{
	struct asb_broker_req req;
	struct asb_broker_rep rep;
	size_t cap = sizeof(rep) + ASB_SECRET_VALUE_MAX;
	char *buf;
	ssize_t n;
	int fd, ret;

	if (strlen(name) >= sizeof(req.name)) {
		fprintf(stderr, "asb-secret: secret name too long\n");
		return EXIT_USAGE;
	}
	req_init(&req, ASB_BROKER_GET);
	strcpy(req.name, name);
	fd = connect_broker();
	if (fd < 0)
		return EXIT_UNAVAIL;
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
		fprintf(stderr, "asb-secret: send: %s\n", strerror(errno));
		close(fd);
		return EXIT_UNAVAIL;
	}
	buf = malloc(cap);
	if (!buf)
		return EXIT_UNAVAIL;
	n = recv(fd, buf, cap, 0);
	close(fd);
	if (n < (ssize_t)sizeof(rep)) {
		fprintf(stderr, "asb-secret: no reply from the broker\n");
		free(buf);
		return EXIT_UNAVAIL;
	}
	memcpy(&rep, buf, sizeof(rep));
	if (rep.magic != ASB_BROKER_MAGIC ||
	    (rep.status == 0 && rep.len != n - sizeof(rep))) {
		fprintf(stderr, "asb-secret: malformed reply\n");
		ret = EXIT_UNAVAIL;
	} else if (rep.status) {
		fprintf(stderr, "asb-secret: %s: refused: %s\n", name,
			reason(rep.status));
		ret = rep.status > 0 && rep.status < 64 ? rep.status : 1;
	} else {
		ret = write_all(1, buf + sizeof(rep), rep.len) ? 1 : 0;
	}
	explicit_bzero(buf, cap);
	free(buf);
	return ret;
}

/* argv[0] as an absolute path, looked up in PATH like execvp. */
static int resolve(const char *prog, char *out)
{
	const char *path = getenv("PATH") ?: "/usr/bin:/bin";
	char cand[PATH_MAX];

	if (strchr(prog, '/'))
		return realpath(prog, out) ? 0 : -1;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, prog);
		if (access(cand, X_OK) == 0 && realpath(cand, out))
			return 0;
		p += n + (p[n] == ':');
	}
	errno = ENOENT;
	return -1;
}

static int broker_fd = -1;

static void forward(int sig)
{
	struct asb_broker_sig m = { ASB_BROKER_MAGIC, sig };

	if (send(broker_fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0;
}

/*
 * Run @argv[0] through the broker. @diverted: argv is what the caller of
 * the diverted execve passed, and the program is the one agentd recorded.
 */
static int cmd_exec(int argc, char **argv, bool diverted)
{
	static const int sigs[] = {
		SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
	};
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct asb_broker_req req;
	struct asb_broker_rep rep;
	char exe[PATH_MAX], *payload;
	size_t len, off = 0;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2,
			      .msg_control = cm.buf,
			      .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	struct sigaction sa = { .sa_handler = forward };
	int fds[3] = { 0, 1, 2 }, envc = 0;
	ssize_t n;

	if (diverted) {
		snprintf(exe, sizeof(exe), "%s", argc ? argv[0] : "");
		argc = argc ? argc : 1;
	} else if (resolve(argv[0], exe) < 0) {
		fprintf(stderr, "asb-secret: %s: %s\n", argv[0], strerror(errno));
		return 127;
	}
	len = strlen(exe) + 1;
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	for (char **e = environ; *e; e++, envc++)
		len += strlen(*e) + 1;
	if (len > ASB_BROKER_EXEC_MAX) {
		fprintf(stderr, "asb-secret: arguments and environment too large\n");
		return EXIT_USAGE;
	}
	payload = malloc(len);
	if (!payload)
		return EXIT_UNAVAIL;
	off = stpcpy(payload, exe) - payload + 1;
	for (int i = 1; i < argc; i++)
		off = stpcpy(payload + off, argv[i]) - payload + 1;
	for (char **e = environ; *e; e++)
		off = stpcpy(payload + off, *e) - payload + 1;
	req_init(&req, ASB_BROKER_EXEC);
	req.argc = argc;
	req.envc = envc;
	req.len = len;
	req.flags = diverted ? ASB_BROKER_F_DIVERTED : 0;
	iov[0] = (struct iovec){ &req, sizeof(req) };
	iov[1] = (struct iovec){ payload, len };
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	broker_fd = connect_broker();
	if (broker_fd < 0)
		return EXIT_UNAVAIL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	if (sendmsg(broker_fd, &msg, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "asb-secret: send: %s\n", strerror(errno));
		return EXIT_UNAVAIL;
	}
	free(payload);
	for (int stage = 0; stage < 2; stage++) {
		do
			n = recv(broker_fd, &rep, sizeof(rep), 0);
		while (n < 0 && errno == EINTR);
		if (n != sizeof(rep) || rep.magic != ASB_BROKER_MAGIC) {
			fprintf(stderr, "asb-secret: lost the broker\n");
			return EXIT_UNAVAIL;
		}
		if (rep.status == ASB_BR_EXITED)
			return rep.len > 255 ? 255 : (int)rep.len;
		if (rep.status) {
			fprintf(stderr, "asb-secret: %s: refused: %s\n", exe,
				reason(rep.status));
			return rep.status;
		}
	}
	return EXIT_UNAVAIL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: asb-secret get NAME\n"
		     "       asb-secret exec -- PROGRAM [ARGS]\n");
}

int main(int argc, char **argv)
{
	const char *execfn = (const char *)getauxval(AT_EXECFN);

	/* our memory holds a value for a moment: keep same-uid peers out */
	prctl(PR_SET_DUMPABLE, 0);
	if (execfn && !strncmp(execfn, "/dev/fd/", 8))
		return cmd_exec(argc, argv, true);
	if (argc == 3 && !strcmp(argv[1], "get"))
		return cmd_get(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "exec")) {
		int i = 2;

		if (!strcmp(argv[i], "--"))
			i++;
		if (i < argc)
			return cmd_exec(argc - i, argv + i, false);
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
