// SPDX-License-Identifier: BSD-3-Clause
/*
 * The secret broker end to end: a real agentd, its vault, sandboxes started
 * by `asbctl run`, asb-secret inside them. Which process gets a value and
 * which gets which refusal; the pid-reuse re-check; 100 concurrent fetches;
 * injection at exec; and that no value reaches any log. Root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asb_test.h"

#include "broker.h"
#include "policy.h"

#define DIR	"/tmp/asb-sec"
#define BIN	DIR "/bin"
#define POLICY	"selftests/policies/secrets.ini"
#define TOKEN	"tok-VALUE-1234-unique-Zq8"
#define APIKEY	"api-VALUE-5678-unique-Wx3"
#define OTHER	"oth-VALUE-9012-unique-Pk5"

static char bindir[PATH_MAX];

/* Run @script with PROG -c in sandbox @sb. */
static int run_in(const char *sb, const char *prog, const char *script,
		  char *out, size_t len)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd),
		 "ASB_BROKER_SOCKET=" DIR "/broker.sock " BIN "/asbctl --socket "
		 DIR "/agentd.sock run --sandbox %s -- %s -c '%s'", sb, prog,
		 script);
	return asb_sh(cmd, out, len);
}

static int put(const char *name, const char *val)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "printf %%s '%s' | " BIN "/asbctl vault --vault "
		 DIR "/state/vault put %s >> " DIR "/asbctl.out", val, name);
	return system(cmd);
}

static bool file_has(const char *path, const char *needle)
{
	char *buf = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && getdelim(&buf, &cap, 0, f) > 0)
		found = strstr(buf, needle) != NULL;
	free(buf);
	fclose(f);
	return found;
}

FIXTURE(broker) {
	pid_t agentd;
};

static pid_t start_agentd(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(DIR "/agentd.log", O_WRONLY | O_CREAT | O_APPEND,
			      0600);

		dup2(fd, 2);
		dup2(fd, 1);
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* no teardown after an assertion */
		execl(BIN "/agentd", "agentd", "--policy", DIR "/secrets.ini",
		      "--socket", DIR "/agentd.sock", "--state-dir",
		      DIR "/state", "--audit-log", DIR "/audit.jsonl",
		      "--broker", DIR "/broker.sock", NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200; i++) {	/* 60 s: slow guests */
		if (access(DIR "/broker.sock", F_OK) == 0 &&
		    access(DIR "/agentd.sock", F_OK) == 0)
			return pid;
		usleep(50000);
	}
	return pid;
}

FIXTURE_SETUP(broker)
{
	char cmd[2048];

	if (geteuid())
		SKIP(return, "needs root");
	asb_bindir(bindir, sizeof(bindir));
	/* agentd and asb-secret side by side: agentd knows its client */
	snprintf(cmd, sizeof(cmd),
		 "rm -rf " DIR " && mkdir -p " BIN " " DIR "/out " DIR "/state && "
		 "chmod 777 " DIR "/out && "
		 "cp %s/agentd %s/asbctl %s/asb-secret " BIN "/ && "
		 "cp /bin/bash " BIN "/granted && cp /bin/bash " BIN "/other && "
		 "cp /bin/bash " BIN "/injected && "
		 "cp selftests/broker_probe.py " BIN "/probe.py && "
		 "cp " POLICY " " DIR "/secrets.ini", bindir, bindir, bindir);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, put("TOKEN", TOKEN));
	ASSERT_EQ(0, put("API_KEY", APIKEY));
	ASSERT_EQ(0, put("OTHER_ONLY", OTHER));
	self->agentd = start_agentd();
	ASSERT_EQ(0, access(DIR "/broker.sock", F_OK));
}

FIXTURE_TEARDOWN(broker)
{
	if (geteuid())
		return;
	if (self->agentd > 0) {
		kill(self->agentd, SIGTERM);
		waitpid(self->agentd, NULL, 0);
	}
}

TEST_F(broker, grant_to_the_granted_program)
{
	char out[4096];

	/* "; true" keeps bash the parent of asb-secret */
	ASSERT_EQ(0, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_STREQ(TOKEN, out);
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "\"object\":\"TOKEN\",\"verdict\":\"grant\""));
}

TEST_F(broker, refuse_wrong_exe)
{
	char out[4096];

	ASSERT_EQ(ASB_BR_WRONG_EXE, run_in("sec", "/bin/bash",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	ASSERT_NE(NULL, strstr(out, "granted to another program"));
	/* another granted program of the same sandbox is another program */
	ASSERT_EQ(ASB_BR_WRONG_EXE, run_in("sec", BIN "/other",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "refuse: granted to another program"));
}

TEST_F(broker, refuse_outside_any_sandbox)
{
	char out[4096];

	/* the right program, but not in a sandbox */
	ASSERT_EQ(ASB_BR_NOT_SANDBOXED,
		  asb_sh("ASB_BROKER_SOCKET=" DIR "/broker.sock " BIN "/granted -c '"
		     BIN "/asb-secret get TOKEN; exit $?'", out, sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "refuse: not in a sandbox"));
}

TEST_F(broker, refuse_another_sandbox)
{
	char out[4096];

	/* sandbox "plain" does not grant TOKEN, even to the right program */
	ASSERT_EQ(ASB_BR_NO_GRANT, run_in("plain", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	/* OTHER_ONLY is granted to "other" in sandbox sec only */
	ASSERT_EQ(ASB_BR_NO_GRANT, run_in("plain", BIN "/other",
			    BIN "/asb-secret get OTHER_ONLY; exit $?", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, OTHER));
	/* a sandbox without secrets cannot even reach the broker */
	ASSERT_EQ(69, run_in("nosecrets", BIN "/granted",
			     BIN "/asb-secret get TOKEN; exit $?", out,
			     sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	/* and in sec, "other" gets its own secret */
	ASSERT_EQ(0, run_in("sec", BIN "/other",
			    BIN "/asb-secret get OTHER_ONLY; exit $?", out,
			    sizeof(out)));
	ASSERT_STREQ(OTHER, out);
}

/*
 * The identity is the requester's own: a child forked before its parent
 * executed the granted program is not that program, whoever its parent
 * is now.
 */
TEST_F(broker, refuse_child_forked_before_the_exec)
{
	char out[4096], leak[256];

	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "(sleep 0.5; " BIN "/asb-secret get TOKEN > " DIR
			    "/out/leak 2>&1; echo $? > " DIR "/out/rc) & "
			    "(sleep 0.5; exec " BIN "/asb-secret get TOKEN > "
			    DIR "/out/leak2 2>&1) & "
			    "exec " BIN "/granted -c \"sleep 2; true\"", out,
			    sizeof(out))) TH_LOG("%s", out);
	for (int i = 0; i < 100 && access(DIR "/out/rc", F_OK); i++)
		usleep(50000);
	usleep(500000);
	asb_slurp(DIR "/out/leak", leak, sizeof(leak));
	EXPECT_EQ(NULL, strstr(leak, TOKEN)) TH_LOG("%s", leak);
	/* asb-secret in the very child, whose parent is now the program */
	asb_slurp(DIR "/out/leak2", leak, sizeof(leak));
	EXPECT_EQ(NULL, strstr(leak, TOKEN)) TH_LOG("%s", leak);
	asb_slurp(DIR "/out/rc", leak, sizeof(leak));
	EXPECT_EQ(ASB_BR_WRONG_EXE, atoi(leak)) TH_LOG("%s", leak);
}

/*
 * A preloaded library that hides its LD_PRELOAD from the environment
 * (renamed in memory): the kernel saw it at exec, the broker refuses. The
 * agent's exec of the program is diverted and its environment reset, so
 * the preload is tried from inside the program's own launch.
 */
TEST_F(broker, refuse_preload_that_hides_itself)
{
	char out[4096];

	snprintf(out, sizeof(out), "cp %s/../selftests/preload_hide.so "
		 BIN "/hide.so", bindir);
	ASSERT_EQ(0, system(out));
	ASSERT_EQ(ASB_BR_PRELOAD, run_in("sec", BIN "/granted",
			    "LD_PRELOAD=" BIN "/hide.so " BIN "/granted -c \""
			    "tr \\\"\\\\0\\\" \\\"\\\\n\\\" < /proc/\\$\\$/environ | "
			    "grep -c ^LD_PRELOAD= >&2; "
			    BIN "/asb-secret get TOKEN; exit \\$?\"", out,
			    sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	/* it did hide: the program's environment shows no LD_PRELOAD */
	ASSERT_EQ(0, strncmp(out, "0", 1)) TH_LOG("%s", out);
}

TEST_F(broker, refuse_preload_and_unknown)
{
	char out[4096];

	ASSERT_EQ(ASB_BR_PRELOAD, run_in("sec", BIN "/granted",
			    "LD_LIBRARY_PATH=/nonexistent " BIN "/granted -c \""
			    BIN "/asb-secret get TOKEN; exit \\$?\"", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	/* the agent's LD_* never reach the program agentd starts */
	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "LD_LIBRARY_PATH=/nonexistent " BIN "/granted -c \""
			    "echo llp=\\$LD_LIBRARY_PATH; "
			    BIN "/asb-secret get TOKEN; exit \\$?\"", out,
			    sizeof(out)));
	ASSERT_STREQ("llp=\n" TOKEN, out);
	ASSERT_EQ(ASB_BR_NO_GRANT, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get NO_SUCH; exit $?", out,
			    sizeof(out)));
}

TEST_F(broker, tampered_vault_refused_at_fetch)
{
	char out[4096], c;
	off_t at;
	int fd;

	fd = open(DIR "/state/vault", O_RDWR);
	ASSERT_LE(0, fd);
	/* flip the bits of one byte of the last record's ciphertext, in
	 * place (writing a fixed byte would change nothing 1 time in 256) */
	at = lseek(fd, 0, SEEK_END) - 20;
	ASSERT_EQ(1, pread(fd, &c, 1, at));
	c = (char)~c;
	ASSERT_EQ(1, pwrite(fd, &c, 1, at));
	close(fd);
	ASSERT_EQ(ASB_BR_VAULT_ERROR, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	ASSERT_EQ(0, asb_sh(BIN "/asbctl --socket " DIR "/agentd.sock status | "
			"grep -q 'fails authentication: tampered'", NULL, 0));
}

static int dial_broker(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sun.sun_path, DIR "/broker.sock");
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connections that never send do not hold up anyone else's request. */
TEST_F(broker, silent_clients_do_not_stall)
{
	struct asb_broker_req req = {
		.magic = ASB_BROKER_MAGIC, .version = ASB_BROKER_VERSION,
		.op = ASB_BROKER_GET, .name = "TOKEN",
	};
	int fds[ASB_BROKER_WAITING + 6], last;
	char out[4096], buf[64];
	struct asb_broker_rep *rep = (void *)buf;
	struct timeval tv = { .tv_sec = 5 };
	struct timespec a, b;

	for (int i = 0; i < 10; i++) {
		fds[i] = dial_broker();
		ASSERT_LE(0, fds[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	ASSERT_EQ(0, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	clock_gettime(CLOCK_MONOTONIC, &b);
	ASSERT_STREQ(TOKEN, out);
	/* not after the 10 silent peers had their 2 s each */
	EXPECT_GT(10.0, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);

	/* more silent peers than agentd keeps: the oldest are let go */
	for (int i = 10; i < ASB_BROKER_WAITING + 6; i++) {
		fds[i] = dial_broker();
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_STREQ(TOKEN, out);
	last = fds[ASB_BROKER_WAITING + 5];
	setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	EXPECT_EQ(0, recv(fds[0], buf, sizeof(buf), 0));	/* closed */
	/* a late request on a kept connection is still answered (this
	 * process is in no sandbox) */
	setsockopt(last, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ASSERT_EQ(sizeof(req), send(last, &req, sizeof(req), 0));
	ASSERT_LE((ssize_t)sizeof(*rep), recv(last, buf, sizeof(buf), 0));
	EXPECT_EQ(ASB_BR_NOT_SANDBOXED, rep->status);
	for (int i = 0; i < ASB_BROKER_WAITING + 6; i++)
		close(fds[i]);
}

static int count_fds(pid_t pid)
{
	char cmd[64], out[32];

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", pid);
	return asb_sh(cmd, out, sizeof(out)) ? -1 : atoi(out);
}

/*
 * Every fd a request passes is closed, however many: the control space
 * for three has room for a fourth, which agentd once kept for good (one
 * fd per request: the caller's stdout parked in agentd, or agentd out of
 * fds after a few hundred requests).
 */
TEST_F(broker, passed_fds_never_kept)
{
	struct asb_broker_req req = {
		.magic = ASB_BROKER_MAGIC, .version = ASB_BROKER_VERSION,
		.op = ASB_BROKER_EXEC, .argc = 1, .len = 2,
	};
	char buf[sizeof(req) + 2], cbuf[CMSG_SPACE(4 * sizeof(int))];
	int before, after, fds[4];

	memcpy(buf, &req, sizeof(req));
	memcpy(buf + sizeof(req), "x", 2);
	for (int i = 0; i < 4; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_fds(self->agentd);
	ASSERT_LT(0, before);
	for (int round = 0; round < 40; round++) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		int fd = dial_broker();
		char rbuf[64];

		ASSERT_LE(0, fd);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((round % 2 ? 4 : 3) * sizeof(int));
		msg.msg_controllen = CMSG_SPACE((round % 2 ? 4 : 3) * sizeof(int));
		memcpy(CMSG_DATA(c), fds, 4 * sizeof(int));
		ASSERT_EQ((ssize_t)sizeof(buf), sendmsg(fd, &msg, 0));
		recv(fd, rbuf, sizeof(rbuf), 0);	/* answered, closed */
		close(fd);
	}
	after = count_fds(self->agentd);
	EXPECT_GT(before + 5, after) TH_LOG("agentd fds %d -> %d", before, after);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* A program with a secret that waits out SIGTERM and SIGHUP; @tag in argv. */
#define LINGERING(tag) BIN "/injected -c \"trap \\\"\\\" TERM HUP; " \
	"while :; do sleep 0.2; done\" " tag

/* Is a process with @tag ("asb-...") in its argv still there after 5 s?
 * (@out: what pgrep saw.) It is killed either way. */
static bool lingers(const char *tag, char *out, size_t len)
{
	char pgrep[128], pkill[128];
	bool alive;

	/* [a]sb-...: the pattern does not match the shell that runs it */
	snprintf(pgrep, sizeof(pgrep), "pgrep -f '[%c]%s'", tag[0], tag + 1);
	snprintf(pkill, sizeof(pkill), "pkill -KILL -f '[%c]%s'", tag[0], tag + 1);
	for (int i = 0; i < 50 && asb_sh(pgrep, NULL, 0) == 0; i++)
		usleep(100000);
	alive = asb_sh(pgrep, out, len) == 0;
	asb_sh(pkill, NULL, 0);
	return alive;
}

/*
 * Not even when the request passed its own connection as the program's
 * stdin, so that the broker never sees the client hang up: the program
 * lives no longer than the process that asked.
 */
TEST_F_TIMEOUT(broker, exec_program_dies_with_its_requester, 90)
{
	char out[4096];

	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "/usr/bin/python3 " BIN "/probe.py self "
			    LINGERING("asb-lingering-two"), out, sizeof(out)));
	ASSERT_STREQ("status 0\n", out);
	EXPECT_FALSE(lingers("asb-lingering-two", out, sizeof(out)))
		TH_LOG("still running: %s", out);
}

/*
 * Nor when the agent is an ordinary user: the launch takes its ids, which
 * cleared the parent-death signal that ties the launch to its spawner.
 */
TEST_F_TIMEOUT(broker, exec_program_of_a_user_dies_with_the_run, 90)
{
	char out[4096];

	ASSERT_EQ(0, run_in("secuser", "/bin/bash",
			    "setpriv --reuid=65534 --regid=65534 --clear-groups -- "
			    LINGERING("asb-lingering-user") " & "
			    "sleep 1; echo started", out, sizeof(out)));
	ASSERT_STREQ("started\n", out);
	EXPECT_FALSE(lingers("asb-lingering-user", out, sizeof(out)))
		TH_LOG("still running: %s", out);
}

/*
 * An O_PATH fd grants no access, and the launcher reopened stdio devices
 * as root before Landlock: passed as a stream, it gave the program a
 * device the agent could not open (another user's terminal, /dev/kmsg).
 */
TEST_F(broker, exec_refuses_an_o_path_stream)
{
	char out[4096];

	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "/usr/bin/python3 " BIN "/probe.py opath:/dev/zero " BIN "/injected "
			    "-c \"head -c 4 | od -An -tx1; echo read-the-device\"; sleep 1",
			    out, sizeof(out)));
	EXPECT_STREQ("status 1\n", out);
	EXPECT_EQ(NULL, strstr(out, "read-the-device"));
}

/*
 * The program's launch is the sandbox's, asks included: an approve.exec
 * program it runs is held as in the agent's own launch (here nobody
 * answers and the default denies).
 */
TEST_F(broker, exec_program_is_asked_like_the_agent)
{
	char out[4096];

	ASSERT_EQ(0, run_in("secask", "/bin/bash",
			    BIN "/injected -c \"/usr/bin/id -u; echo rc=\\$?\"; true",
			    out, sizeof(out)));
	EXPECT_EQ(NULL, strstr(out, "\n0\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "rc=126")) TH_LOG("%s", out);
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "/usr/bin/id"));
}

/*
 * A program started with a secret dies with the process that asked for
 * it: one that ignores SIGTERM does not outlive the run, holding the
 * caller's streams and terminal.
 */
TEST_F_TIMEOUT(broker, exec_program_dies_with_the_run, 90)
{
	char out[4096];

	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "(" LINGERING("asb-lingering-prog") " &); "
			    "sleep 1; echo started", out, sizeof(out)));
	ASSERT_STREQ("started\n", out);
	EXPECT_FALSE(lingers("asb-lingering-prog", out, sizeof(out)))
		TH_LOG("still running: %s", out);
}

TEST_F(broker, exec_injects_only_into_the_program)
{
	char out[8192];

	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    BIN "/asb-secret exec -- " BIN "/injected -c "
			    "\"echo prog=\\$API_KEY; tr \\\"\\\\0\\\" \\\"\\\\n\\\" < /proc/\\$\\$/environ | grep -c ^API_KEY=\"; "
			    "echo rc=$?; echo agent=$API_KEY; "
			    "tr \"\\0\" \"\\n\" < /proc/$$/environ | grep -c API_KEY; true",
			    out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "prog=" APIKEY "\n1\n"));
	ASSERT_NE(NULL, strstr(out, "rc=0\nagent=\n0\n"));
	/* exit status passes through */
	ASSERT_EQ(7, run_in("sec", "/bin/bash",
			    BIN "/asb-secret exec -- " BIN "/injected -c \"exit 7\"",
			    out, sizeof(out)));
	/* a program with broker-only secrets runs too, with none injected */
	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    BIN "/asb-secret exec -- " BIN "/other -c \"echo other=\\$API_KEY\"",
			    out, sizeof(out)));
	ASSERT_STREQ("other=\n", out);
	ASSERT_EQ(ASB_BR_NO_GRANT, run_in("sec", "/bin/bash",
			    BIN "/asb-secret exec -- /bin/true", out,
			    sizeof(out)));
	/*
	 * the agent cannot read the program's environment through /proc:
	 * the program (bash, kept alive by "; true") is not even in the
	 * agent's PID namespace; the agent's own processes are
	 */
	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "(" BIN "/asb-secret exec -- " BIN "/injected -c "
			    "\"sleep 2; true\" &); sleep 0.7; "
			    "ls -d /proc/[0-9]* | wc -l; "
			    "cat /proc/[0-9]*/environ 2>/dev/null | tr \"\\0\" \"\\n\" | "
			    "grep -c ^API_KEY=; true", out, sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, APIKEY));
	ASSERT_LE(3, atoi(out)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "\n0\n")) TH_LOG("%s", out);
}

/*
 * The agent runs the program itself (no asb-secret in the command): the
 * execve is diverted, the program gets its env: secret, the agent not.
 */
TEST_F(broker, direct_exec_gets_its_env_secret)
{
	char out[8192];

	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    BIN "/injected -c \"echo prog=\\$API_KEY arg=\\$0\" x; "
			    "echo rc=$?; echo agent=$API_KEY; "
			    "tr \"\\0\" \"\\n\" < /proc/$$/environ | grep -c API_KEY; true",
			    out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "prog=" APIKEY " arg=x\nrc=0\nagent=\n0\n"))
		TH_LOG("%s", out);
	/* exit status passes through, and so does the launcher's own exec */
	ASSERT_EQ(7, run_in("sec", "/bin/bash", BIN "/injected -c \"exit 7\"",
			    out, sizeof(out)));
	ASSERT_EQ(0, run_in("sec", BIN "/injected", "echo prog=$API_KEY", out,
			    sizeof(out)));
	ASSERT_STREQ("prog=" APIKEY "\n", out);
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl",
			     "\"action\":\"secret-exec\",\"object\":\"API_KEY\",\"verdict\":\"grant\""));
	/* asb-secret run as /dev/fd/N by the agent itself: no diversion was
	 * recorded for it, so the broker refuses and nothing is injected */
	ASSERT_EQ(ASB_BR_NO_GRANT, run_in("sec", "/bin/bash",
			    "exec 3<" BIN "/asb-secret; /dev/fd/3 " BIN "/injected "
			    "-c \"echo prog=\\$API_KEY\"", out, sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, APIKEY)) TH_LOG("%s", out);
	/* run from inside another secret's program, it is diverted too */
	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    BIN "/granted -c \"" BIN "/injected -c \\\"echo nested=\\\\\\$API_KEY\\\"\"",
			    out, sizeof(out)));
	ASSERT_STREQ("nested=" APIKEY "\n", out);
	/* a program without secrets runs as asked, undiverted */
	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "/bin/bash -c \"echo ppid-is-agent=\\$((PPID == $$))\"; true",
			    out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "ppid-is-agent=1")) TH_LOG("%s", out);
}

/*
 * A secret served over the broker goes only to a program agentd started:
 * run by the agent itself (by a relative path, which is not diverted) it
 * is the agent's child, whose memory the agent reads through
 * /proc/PID/mem and which it can ptrace into asking. Started by agentd,
 * the agent does not even see it.
 */
TEST_F(broker, get_only_in_the_launch_agentd_started)
{
	char out[4096];

	ASSERT_EQ(ASB_BR_NOT_STARTED, run_in("sec", "/bin/bash",
			    "cd " BIN " && exec python3 -c \"import os; "
			    "os.execv(\\\"granted\\\", [\\\"g\\\", \\\"-c\\\", "
			    "\\\"" BIN "/asb-secret get TOKEN\\\"])\"",
			    out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl",
			     "\"object\":\"TOKEN\",\"verdict\":\"refuse: the program was not started by agentd\""));
	/* by its path: served, and the program is out of the agent's sight */
	ASSERT_EQ(0, run_in("sec", "/bin/bash",
			    "(" BIN "/granted -c \"v=\\$(" BIN "/asb-secret get TOKEN); "
			    "echo got=\\${#v}; sleep 2\" &); sleep 1; "
			    "grep -l granted /proc/[0-9]*/comm | wc -l; wait",
			    out, sizeof(out)));
	ASSERT_STREQ("got=25\n0\n", out);
}

TEST_F(broker, hundred_concurrent_fetches)
{
	char out[4096], path[64], buf[128];

	ASSERT_EQ(0, run_in("sec", BIN "/granted",
			    "for i in $(seq 100); do " BIN "/asb-secret get TOKEN > "
			    DIR "/out/$i & done; wait; true", out, sizeof(out)));
	for (int i = 1; i <= 100; i++) {
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), DIR "/out/%d", i);
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
		ASSERT_STREQ(TOKEN, buf);
	}
	ASSERT_EQ(0, asb_sh("test $(grep -c '\"object\":\"TOKEN\",\"verdict\":\"grant\"' "
			DIR "/audit.jsonl) -ge 100", NULL, 0));
}

/*
 * The requester exits and its pid goes to a new process - in the same
 * sandbox and running the granted program - before agentd reads /proc.
 * The reads then describe the newcomer; only the pidfd re-check refuses.
 */
TEST_F(broker, pid_reuse_refused)
{
	static const char pol[] =
		"[sandbox.sec]\nsecret.TOKEN = exe:" BIN "/granted\n";
	struct asb_sandboxes sbs = { 0 };
	struct asb_sandbox s = { 0 };
	struct asb_broker b = { 0 };
	struct asb_peer p = { 0 };
	const struct asb_image_secret *sec;
	char cg[256], buf[32];
	pid_t a, c = -1;
	int pidfd, tries;

	ASSERT_EQ(0, asb_policy_compile_mem("t", pol, sizeof(pol) - 1, &s.img,
					    stderr, NULL));
	s.sb = asb_image_find_sandbox(&s.img, "sec");
	ASSERT_NE(NULL, s.sb);
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/unified/asb-brtest-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", cg);
	snprintf(s.name, sizeof(s.name), "sec");
	sbs.head = &s;
	b.sbs = &sbs;
	snprintf(b.cgroup_mount, sizeof(b.cgroup_mount), "/sys/fs/cgroup/unified");

	/* the requester: a process of another program, then gone */
	a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	pidfd = syscall(SYS_pidfd_open, a, 0);
	ASSERT_LE(0, pidfd);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	/* the newcomer takes its pid: granted exe, in the sandbox */
	for (tries = 0; tries < 20 && c != a; tries++) {
		if (c > 0) {
			kill(c, SIGKILL);
			waitpid(c, NULL, 0);
		}
		ASSERT_EQ(0, asb_next_pid(a));
		c = fork();
		if (c == 0) {
			char procs[300];
			int cfd;

			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
			cfd = open(procs, O_WRONLY);
			if (cfd < 0 || write(cfd, "0", 1) != 1)
				_exit(1);
			close(cfd);
			execl(BIN "/granted", "granted", "-c", "sleep 30; true", NULL);
			_exit(127);
		}
	}
	ASSERT_EQ(a, c);
	/* let it exec: a slow guest takes more than a moment */
	snprintf(buf, sizeof(buf), "/proc/%d/exe", c);
	for (tries = 0; tries < 200; tries++) {
		char exe[PATH_MAX];
		ssize_t n = readlink(buf, exe, sizeof(exe) - 1);

		if (n > 0 && (exe[n] = 0, !strcmp(exe, BIN "/granted")))
			break;
		usleep(50000);
	}

	/* control: the newcomer itself, with its own pidfd, is granted */
	p.pid = c;
	p.pidfd = syscall(SYS_pidfd_open, c, 0);
	ASSERT_EQ(ASB_BR_OK, asb_peer_check(&b, &p, ASB_PEER_ENV));
	TH_LOG("newcomer %d runs %s", c, p.exe);
	ASSERT_EQ(ASB_BR_OK, asb_broker_decide(&p, "TOKEN", &sec));
	close(p.pidfd);

	/* the stale request: same pid number, the dead requester's pidfd */
	memset(&p, 0, sizeof(p));
	p.pid = a;
	p.pidfd = pidfd;
	ASSERT_EQ(ASB_BR_PEER_GONE, asb_peer_check(&b, &p, ASB_PEER_ENV));
	ASSERT_EQ(NULL, p.s);

	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	close(pidfd);
	rmdir(cg);
	asb_image_free(&s.img);
}

/* Passphrase mode: locked until unlock, then served. */
TEST_F(broker, passphrase_lock_unlock)
{
	char out[4096];

	kill(self->agentd, SIGTERM);
	waitpid(self->agentd, NULL, 0);
	ASSERT_EQ(0, system("rm -f " DIR "/state/vault*"));
	ASSERT_EQ(0, asb_sh("echo 'correct horse' | " BIN "/asbctl vault --vault "
			DIR "/state/vault --passphrase-fd 0 init --passphrase",
			out, sizeof(out)));
	self->agentd = start_agentd();
	ASSERT_EQ(0, asb_sh("printf %s '" TOKEN "' > " DIR "/v && exec 3<<EOF\n"
			"correct horse\nEOF\n" BIN "/asbctl vault --vault " DIR
			"/state/vault --passphrase-fd 3 put TOKEN < " DIR "/v",
			out, sizeof(out)));
	unlink(DIR "/v");
	ASSERT_EQ(ASB_BR_LOCKED, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_EQ(NULL, strstr(out, TOKEN));
	/* a wrong passphrase is refused with a clear error */
	ASSERT_EQ(1, asb_sh("echo wrong | " BIN "/asbctl --socket " DIR "/agentd.sock "
			"vault --vault " DIR "/state/vault --passphrase-fd 0 unlock",
			out, sizeof(out)));
	ASSERT_NE(NULL, strstr(out, "wrong key"));
	ASSERT_EQ(0, asb_sh("echo 'correct horse' | " BIN "/asbctl --socket " DIR
			"/agentd.sock vault --vault " DIR "/state/vault "
			"--passphrase-fd 0 unlock", out, sizeof(out)));
	ASSERT_EQ(0, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN; exit $?", out,
			    sizeof(out)));
	ASSERT_STREQ(TOKEN, out);
}

static int grep_value(const char *path)
{
	return file_has(path, TOKEN) || file_has(path, APIKEY) ||
	       file_has(path, OTHER);
}

/* After grants, refusals, exec and listing: no value in any log. */
TEST_F(broker, values_absent_from_every_log)
{
	char out[16384], trace[64] = "/sys/kernel/tracing/trace";
	FILE *f;

	if (access(trace, R_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	ASSERT_EQ(0, run_in("sec", BIN "/granted",
			    BIN "/asb-secret get TOKEN >/dev/null; exit $?",
			    out, sizeof(out)));
	run_in("sec", "/bin/bash", BIN "/asb-secret get TOKEN; "
	       BIN "/asb-secret exec -- " BIN "/injected -c true; true", out,
	       sizeof(out));
	ASSERT_EQ(0, asb_sh(BIN "/asbctl vault --vault " DIR "/state/vault --policy "
			DIR "/secrets.ini ls >> " DIR "/asbctl.out && " BIN
			"/asbctl --socket " DIR "/agentd.sock status >> " DIR
			"/asbctl.out", NULL, 0));
	ASSERT_TRUE(file_has(DIR "/asbctl.out", "TOKEN"));
	ASSERT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "TOKEN"));
	ASSERT_FALSE(grep_value(DIR "/audit.jsonl"));
	ASSERT_FALSE(grep_value(DIR "/agentd.log"));
	ASSERT_FALSE(grep_value(DIR "/asbctl.out"));
	/* nor in agentd's stderr after it exits */
	kill(self->agentd, SIGTERM);
	waitpid(self->agentd, NULL, 0);
	self->agentd = 0;
	ASSERT_FALSE(grep_value(DIR "/agentd.log"));
	f = fopen(trace, "r");
	if (f) {
		fclose(f);
		ASSERT_FALSE(grep_value(trace));
	}
	/* and the vault file itself holds no plaintext */
	ASSERT_FALSE(grep_value(DIR "/state/vault"));
}

TEST_HARNESS_MAIN
