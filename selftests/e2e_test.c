// SPDX-License-Identifier: BSD-3-Clause
/*
 * End-to-end tests of the portable backend: a real agentd, unmodified
 * programs run through `asbctl run`, the errno they see and the audit line
 * (with the rule's FILE:LINE) that agentd writes. Root only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "asb_test.h"

#define DIR	"/tmp/asb-e2e"
#define POLICY	"selftests/policies/e2e.ini"

static char bindir[PATH_MAX];

static int listen_on(int family, const char *addr, int port, int type)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1, fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *in = (void *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		struct sockaddr_un *un = (void *)&ss;

		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", addr);
		unlink(addr);
		len = sizeof(*un);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 512) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

FIXTURE(e2e) {
	pid_t agentd;
	char sock[128];
	char audit[128];
	char policy[128];
	int servers[6];
};

static pid_t start_agentd(const char *policy, const char *sock,
			  const char *audit)
{
	char exe[PATH_MAX + 16];
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/agentd", bindir);
	pid = fork();
	if (pid == 0) {
		int fd = open(DIR "/agentd.log", O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 2);
		dup2(fd, 1);
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* no teardown after an assertion */
		execl(exe, "agentd", "--policy", policy, "--socket", sock,
		      "--state-dir", DIR "/state", "--audit-log", audit, NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200; i++) {	/* 60 s: slow guests */
		if (access(sock, F_OK) == 0)
			return pid;
		usleep(50000);
	}
	return pid;
}

FIXTURE_SETUP(e2e)
{
	char ctl[PATH_MAX + 16];

	if (geteuid())
		SKIP(return, "needs root");
	/* fixed paths and ports: one run at a time on this machine */
	ASSERT_EQ(0, flock(open("/tmp/asb-e2e.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600),
			   LOCK_EX));
	asb_bindir(bindir, sizeof(bindir));
	ASSERT_EQ(0, system("rm -rf " DIR " && mkdir -p " DIR "/ro " DIR "/ws "
			    DIR "/secret && echo data > " DIR "/ro/file && "
			    "echo TOPSECRET > " DIR "/secret/key && "
			    "cp /bin/true " DIR "/secret/tool"));
	snprintf(self->sock, sizeof(self->sock), DIR "/agentd.sock");
	snprintf(self->audit, sizeof(self->audit), DIR "/audit.jsonl");
	snprintf(self->policy, sizeof(self->policy), DIR "/policy.ini");
	ASSERT_EQ(0, system("cp " POLICY " " DIR "/policy.ini"));
	self->servers[0] = listen_on(AF_INET, "127.0.0.1", 18080, SOCK_STREAM);
	self->servers[1] = listen_on(AF_INET, "127.0.0.1", 18081, SOCK_STREAM);
	self->servers[2] = listen_on(AF_INET, "127.0.0.1", 18082, SOCK_STREAM);
	self->servers[3] = listen_on(AF_INET6, "::1", 18080, SOCK_STREAM);
	self->servers[4] = listen_on(AF_UNIX, DIR "/ok.sock", 0, SOCK_STREAM);
	self->servers[5] = listen_on(AF_UNIX, DIR "/no.sock", 0, SOCK_STREAM);
	for (int i = 0; i < 6; i++)
		ASSERT_LE(0, self->servers[i]);
	self->agentd = start_agentd(self->policy, self->sock, self->audit);
	ASSERT_EQ(0, access(self->sock, F_OK));
	snprintf(ctl, sizeof(ctl), "%s/asbctl", bindir);
	ASSERT_BACKEND_EXPECTED(ctl, self->sock);
}

FIXTURE_TEARDOWN(e2e)
{
	if (geteuid())
		return;
	if (self->agentd > 0) {
		kill(self->agentd, SIGCONT);
		kill(self->agentd, SIGTERM);
		waitpid(self->agentd, NULL, 0);
	}
	for (int i = 0; i < 6; i++)
		if (self->servers[i] >= 0)
			close(self->servers[i]);
}

/*
 * Run @script with /bin/bash in sandbox @sb; returns the exit status and
 * the combined output in @out.
 */
static int run_in(const char *sock, const char *sb, const char *script,
		  char *out, size_t len)
{
	char cmd[8192];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd),
		 "%s/asbctl --socket %s run --sandbox %s -- /bin/bash -c '%s' 2>&1",
		 bindir, sock, sb, script);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define AUDIT_HAS(...) ASB_AUDIT_HAS(self->audit, __VA_ARGS__)

/* ---- files ---- */

TEST_F(e2e, read_inside_allowed_outside_denied)
{
	char out[4096];

	EXPECT_EQ(0, run_in(self->sock, "base", "cat " DIR "/ro/file", out, sizeof(out)));
	EXPECT_STREQ("data\n", out);
	EXPECT_EQ(1, run_in(self->sock, "base", "cat " DIR "/secret/key", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
	/* Landlock names the path; BPF-LSM the last component and inode */
	EXPECT_TRUE(AUDIT_HAS("\"sandbox\":\"base\"", "\"comm\":\"cat\"",
			      "\"action\":\"open\"", "key", "\"verdict\":\"deny\"",
			      "\"rule\":\"" DIR "/policy.ini:4\""));
	EXPECT_EQ(1, run_in(self->sock, "base", "cat /etc/shadow", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "Permission denied"));
}

/*
 * The kernel's record of a denial may reach agentd after the process was
 * reaped: agentd is stopped until the denied cat, its shell and asbctl
 * are all gone, and must still name the sandbox.
 */
TEST_F(e2e, denial_audited_after_the_process_is_gone)
{
	char cmd[1024];
	FILE *p;
	int i;

	snprintf(cmd, sizeof(cmd),
		 "%s/asbctl --socket %s run --sandbox base -- /bin/bash -c "
		 "'echo > " DIR "/ws/up; read x; cat " DIR "/secret/key' "
		 ">/dev/null 2>&1", bindir, self->sock);
	p = popen(cmd, "w");
	ASSERT_NE(NULL, p);
	for (i = 0; i < 600 && access(DIR "/ws/up", F_OK); i++)
		usleep(50000);
	ASSERT_EQ(0, kill(self->agentd, SIGSTOP));
	fputs("go\n", p);
	EXPECT_EQ(1, WEXITSTATUS(pclose(p)));
	ASSERT_EQ(0, kill(self->agentd, SIGCONT));
	EXPECT_TRUE(AUDIT_HAS("\"sandbox\":\"base\"", "\"comm\":\"cat\"",
			      "key", "\"verdict\":\"deny\""));
}

TEST_F(e2e, write_readonly_denied_workspace_allowed)
{
	char out[4096];

	/* outside fs.write the sandbox's view is read-only */
	EXPECT_NE(0, run_in(self->sock, "base", "echo x > " DIR "/ro/file", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "Read-only file system")) TH_LOG("%s", out);
	EXPECT_EQ(0, run_in(self->sock, "base", "echo x > " DIR "/ws/new && mv "
			    DIR "/ws/new " DIR "/ws/b && rm " DIR "/ws/b", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(0, run_in(self->sock, "base", "touch /tmp/outside-e2e", out, sizeof(out)));
	EXPECT_NE(0, access("/tmp/outside-e2e", F_OK));
}

TEST_F(e2e, exec_not_granted_denied)
{
	char out[4096];

	EXPECT_EQ(126, run_in(self->sock, "base", DIR "/secret/tool", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	EXPECT_EQ(0, run_in(self->sock, "base", "/usr/bin/true", out, sizeof(out)));
}

TEST_F(e2e, escape_symlink_hardlink_proc)
{
	char out[4096];

	/* a symlink made inside the workspace still resolves outside */
	EXPECT_EQ(1, run_in(self->sock, "base", "ln -s " DIR "/secret/key " DIR
			    "/ws/l && cat " DIR "/ws/l", out, sizeof(out)));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET")) TH_LOG("%s", out);
	EXPECT_NE(0, run_in(self->sock, "base", "ln " DIR "/secret/key " DIR
			    "/ws/h", out, sizeof(out)));
	EXPECT_NE(0, access(DIR "/ws/h", F_OK));
	EXPECT_NE(0, run_in(self->sock, "base", "cat /proc/self/root" DIR
			    "/secret/key", out, sizeof(out)));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
	EXPECT_NE(0, run_in(self->sock, "base", "cd /proc/1/cwd && cat ." DIR
			    "/secret/key", out, sizeof(out)));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
}

/* ---- network ---- */

TEST_F(e2e, connect_granted_and_denied)
{
	char out[4096];

	EXPECT_EQ(0, run_in(self->sock, "base", "exec 3<>/dev/tcp/127.0.0.1/18080", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_EQ(0, run_in(self->sock, "base", "exec 3<>/dev/tcp/::1/18080", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_EQ(1, run_in(self->sock, "base", "exec 3<>/dev/tcp/127.0.0.1/18082", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "Operation not permitted")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"sandbox\":\"base\"", "\"action\":\"connect\"",
			      "\"object\":\"127.0.0.1:18082\"", "\"verdict\":\"deny\"",
			      "\"rule\":\"" DIR "/policy.ini:4\""));
}

/* TCP Fast Open connects from sendto(): the connect rules hold there too */
TEST_F(e2e, connect_by_tcp_fast_open)
{
#define TFO "/usr/bin/python3 -c \"import socket; s=socket.socket(); " \
	    "s.sendto(b\\\"x\\\", 0x20000000, (\\\"127.0.0.1\\\", %d))\""
	char out[4096], script[512];

	snprintf(script, sizeof(script), TFO, 18080);
	EXPECT_EQ(0, run_in(self->sock, "base", script, out, sizeof(out))) TH_LOG("%s", out);
	snprintf(script, sizeof(script), TFO, 18082);
	EXPECT_EQ(1, run_in(self->sock, "base", script, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"connect\"", "\"object\":\"127.0.0.1:18082\"",
			      "\"verdict\":\"deny\""));
#undef TFO
}

TEST_F(e2e, bind_granted_and_denied)
{
	char out[4096];

	EXPECT_EQ(0, run_in(self->sock, "base",
			    "/usr/bin/python3 -c \"import socket; s=socket.socket(); s.bind((\\\"127.0.0.1\\\", 18090))\"",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(1, run_in(self->sock, "base",
			    "/usr/bin/python3 -c \"import socket; s=socket.socket(); s.bind((\\\"127.0.0.1\\\", 18091))\"",
			    out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"bind\"", "\"object\":\"127.0.0.1:18091\"",
			      "\"verdict\":\"deny\""));
}

TEST_F(e2e, unix_socket_not_listed_denied)
{
	char out[4096];
#define PY "/usr/bin/python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.connect(\\\"%s\\\")\""
	char script[512];

	snprintf(script, sizeof(script), PY, DIR "/ok.sock");
	EXPECT_EQ(0, run_in(self->sock, "base", script, out, sizeof(out))) TH_LOG("%s", out);
	snprintf(script, sizeof(script), PY, DIR "/no.sock");
	EXPECT_EQ(1, run_in(self->sock, "base", script, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"object\":\"" DIR "/no.sock\"", "\"verdict\":\"deny\""));
	/* agentd's own control socket is out of reach */
	snprintf(script, sizeof(script), PY, self->sock);
	EXPECT_EQ(1, run_in(self->sock, "base", script, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
}

TEST_F(e2e, raw_and_packet_sockets_denied)
{
	char out[4096];

	EXPECT_EQ(1, run_in(self->sock, "base",
			    "/usr/bin/python3 -c \"import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\"",
			    out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
	EXPECT_EQ(1, run_in(self->sock, "base",
			    "/usr/bin/python3 -c \"import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)\"",
			    out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "PermissionError")) TH_LOG("%s", out);
	EXPECT_TRUE(AUDIT_HAS("\"action\":\"socket\"", "\"object\":\"raw\""));
}

/* ---- inheritance, scale, isolation ---- */

TEST_F(e2e, inherited_through_fork_exec_double_fork)
{
	char out[4096];

	EXPECT_EQ(0, run_in(self->sock, "base",
			    "( ( /bin/bash -c \"cat " DIR "/secret/key; exec 3<>/dev/tcp/127.0.0.1/18082\" ) & wait ) 2>&1; "
			    "/usr/bin/setsid /bin/bash -c \"cat /etc/shadow\" 2>&1; true",
			    out, sizeof(out)));
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
	EXPECT_NE(NULL, strstr(out, "/dev/tcp/127.0.0.1/18082: Operation not permitted")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "shadow: Permission denied")) TH_LOG("%s", out);
}

TEST_F(e2e, two_hundred_processes)
{
	char out[65536];
	int denied = 0;

	EXPECT_EQ(0, run_in(self->sock, "base",
			    "for i in $(seq 200); do (sleep 0.5; exec 3<>/dev/tcp/127.0.0.1/18082 || echo D) 2>/dev/null & done; "
			    "wait; true", out, sizeof(out)));
	for (char *p = out; (p = strstr(p, "D\n")); p++)
		denied++;
	EXPECT_EQ(200, denied);
}

TEST_F(e2e, two_sandboxes_side_by_side)
{
	char out[4096], cmd[1024];
	int st;

	/* both at once: each reaches its own port and not the other's */
	snprintf(cmd, sizeof(cmd),
		 "%s/asbctl --socket %s run --sandbox other -- /bin/bash -c "
		 "'sleep 0.3; exec 3<>/dev/tcp/127.0.0.1/18081 && ! (exec 3<>/dev/tcp/127.0.0.1/18080)' "
		 "2>/dev/null & %s/asbctl --socket %s run --sandbox base -- /bin/bash -c "
		 "'sleep 0.3; exec 3<>/dev/tcp/127.0.0.1/18080 && ! (exec 3<>/dev/tcp/127.0.0.1/18081)' "
		 "2>/dev/null; a=$?; wait $!; b=$?; exit $((a * 10 + b))",
		 bindir, self->sock, bindir, self->sock);
	st = system(cmd);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* other has no read access to what base may read, just read */
	EXPECT_EQ(0, run_in(self->sock, "base", "cat " DIR "/ro/file", out, sizeof(out)));
	EXPECT_EQ(1, run_in(self->sock, "other", "cat " DIR "/ro/file", out, sizeof(out)));
}

TEST_F(e2e, audit_all_logs_allowed_connects)
{
	char out[4096];

	EXPECT_EQ(0, run_in(self->sock, "noisy", "exec 3<>/dev/tcp/127.0.0.1/18080", out, sizeof(out)));
	EXPECT_TRUE(AUDIT_HAS("\"sandbox\":\"noisy\"", "\"object\":\"127.0.0.1:18080\"",
			      "\"verdict\":\"allow\"", "\"rule\":\"" DIR "/policy.ini:9\""));
}

/* ---- agentd's failures do not lift enforcement ---- */

TEST_F(e2e, kill_agentd_sandbox_stays_confined)
{
	char exe[PATH_MAX + 16], out[4096];
	int in[2], outfd, st;
	ssize_t n;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/asbctl", bindir);
	ASSERT_EQ(0, pipe(in));
	outfd = open(DIR "/kill.out", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, outfd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outfd, 1);
		dup2(outfd, 2);
		close(in[1]);
		execl(exe, "asbctl", "--socket", self->sock, "run", "--sandbox",
		      "base", "--", "/bin/bash", "-c",
		      "echo ready; read x; cat " DIR "/secret/key; exec 3<>/dev/tcp/127.0.0.1/18082",
		      NULL);
		_exit(127);
	}
	close(in[0]);
	/* wait until the sandboxed shell runs */
	for (int i = 0; i < 1200; i++) {
		n = pread(outfd, out, sizeof(out) - 1, 0);
		out[n > 0 ? n : 0] = 0;
		if (strstr(out, "ready"))
			break;
		usleep(50000);
	}
	ASSERT_NE(NULL, strstr(out, "ready"));
	/* the sandbox is running and waiting: agentd dies */
	kill(self->agentd, SIGKILL);
	waitpid(self->agentd, NULL, 0);
	self->agentd = 0;
	ASSERT_EQ(1, write(in[1], "\n", 1));
	close(in[1]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(1, WEXITSTATUS(st));
	n = pread(outfd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(outfd);
	EXPECT_EQ(NULL, strstr(out, "TOPSECRET"));
	EXPECT_NE(NULL, strstr(out, "key: Permission denied")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "18082: Operation not permitted")) TH_LOG("%s", out);
}

TEST_F(e2e, bad_policy_on_sighup_keeps_the_old_one)
{
	char out[4096], cmd[PATH_MAX + 64];
	FILE *p;
	size_t n;

	ASSERT_EQ(0, system("printf '[sandbox.base]\\nfs.read = relative\\n' > " DIR "/policy.ini"));
	ASSERT_EQ(0, kill(self->agentd, SIGHUP));
	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket %s status", bindir, self->sock);
	for (int i = 0; i < 300; i++) {
		p = popen(cmd, "r");
		ASSERT_NE(NULL, p);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		EXPECT_EQ(0, pclose(p));
		if (strstr(out, "REFUSED"))
			break;
		usleep(100000);
	}
	EXPECT_NE(NULL, strstr(out, "REFUSED")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "policy.ini:2: fs.read: 'relative' is not an absolute path")) TH_LOG("%s", out);
	/* the old policy is still the one sandboxes get */
	EXPECT_EQ(0, run_in(self->sock, "base", "cat " DIR "/ro/file", out, sizeof(out)));
	EXPECT_EQ(1, run_in(self->sock, "base", "cat " DIR "/secret/key", out, sizeof(out)));
	EXPECT_EQ(0, run_in(self->sock, "noisy", "true", out, sizeof(out)));
}

TEST_F(e2e, control_socket_refuses_garbage)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[64] = "garbage", out[256];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ssize_t n;

	ASSERT_LE(0, fd);
	strcpy(sun.sun_path, self->sock);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sun, sizeof(sun)));
	ASSERT_EQ(sizeof(buf), send(fd, buf, sizeof(buf), 0));
	n = recv(fd, out, sizeof(out), 0);
	ASSERT_GE(n, 8);
	EXPECT_EQ(-EINVAL, *(int *)out);
	close(fd);
	/* and agentd is still there */
	EXPECT_EQ(0, run_in(self->sock, "base", "true", out, sizeof(out)));
}

TEST_F(e2e, run_with_policy_file)
{
	char cmd[PATH_MAX + 256], out[4096];
	FILE *p;
	size_t n;
	int st;

	/* the sandbox comes from --policy, not from agentd's policy */
	ASSERT_EQ(0, system("printf '[sandbox.solo]\\nfs.read = /usr /lib /lib64 /bin /etc/ld.so.cache\\n"
			    "fs.exec = /usr/bin /bin /usr/lib /lib /lib64\\n' > " DIR "/solo.ini"));
	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket %s run --policy " DIR "/solo.ini "
		 "--sandbox solo -- /bin/cat " DIR "/ro/file 2>&1", bindir, self->sock);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	st = pclose(p);
	EXPECT_EQ(1, WEXITSTATUS(st)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	/* and a name that file does not have is refused */
	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket %s run --policy " DIR "/solo.ini "
		 "--sandbox base -- /bin/true 2>&1", bindir, self->sock);
	st = system(cmd);
	EXPECT_EQ(125, WEXITSTATUS(st));
}

TEST_HARNESS_MAIN
