// SPDX-License-Identifier: BSD-3-Clause
/*
 * The escape suite: what a hostile agent, root or not, tries from inside a
 * sandbox to get around its rules, by concern. One body per attempt; it
 * runs on whatever backend agentd chose (portable on the host lane,
 * kmod+bpf-lsm in the VM lane, which ASB_EXPECT_BACKEND makes sure of).
 * Each test is an attempt that worked once. Root only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <bpf/bpf.h>

#include "asb/event.h"
#include "asb_test.h"

#define DIR	"/tmp/asb-esc"
#define SOCK	DIR "/agentd.sock"
#define POLICY	"selftests/policies/escape.ini"
#define TOKEN	"esc-TOKEN-7731-unique-Qv2"
#define LIBM	"/usr/lib/x86_64-linux-gnu/libm.so.6"

static char bindir[PATH_MAX];

/*
 * asbctl run --sandbox @sb -- the words of @cmd, for "exact" (which has no
 * shell); in the other sandboxes @cmd is a shell script, run as root or,
 * in the user variant, by an agent that made itself nobody first.
 */
static int run_as(const char *sb, const char *as, const char *cmd, char *out,
		  size_t len)
{
	char line[16384];
	FILE *f;

	if (strcmp(sb, "exact")) {
		f = fopen(DIR "/ro/try.sh", "w");
		if (!f)
			return -1;
		fputs(cmd, f);
		fclose(f);
		cmd = DIR "/ro/try.sh";
	}
	snprintf(line, sizeof(line),
		 "ASB_BROKER_SOCKET=" DIR "/broker.sock %s/asbctl --socket "
		 SOCK " run --sandbox %s -- %s%s", bindir, sb,
		 strcmp(sb, "exact") ? as : "",
		 strcmp(sb, "exact") ? " /bin/sh " DIR "/ro/try.sh" : cmd);
	return asb_sh(line, out, len);
}

#define run_in(name_, cmd_, out_, len_)					\
	run_as(strcmp(name_, "esc") ? name_ : variant->sb, variant->as,	\
	       cmd_, out_, len_)

FIXTURE(esc) {
	pid_t agentd;
};

FIXTURE_VARIANT(esc) {
	const char *sb;
	const char *as;
};

FIXTURE_VARIANT_ADD(esc, root) {
	.sb = "esc",
	.as = "",
};

FIXTURE_VARIANT_ADD(esc, user) {
	.sb = "escuser",
	.as = "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --",
};

/* A fresh agentd on escape.ini, and API_TOKEN in the vault it reads. */
static pid_t escape_start(struct __test_metadata *_metadata)
{
	static const char *const args[] = {
		"--policy", DIR "/escape.ini", "--socket", SOCK,
		"--state-dir", DIR "/state", "--audit-log", DIR "/audit.jsonl",
		"--broker", DIR "/broker.sock", NULL,
	};
	char cmd[PATH_MAX + 256];
	pid_t agentd;

	if (geteuid())
		SKIP(return -1, "needs root");
	ASSERT_EQ(0, flock(open("/tmp/asb-esc.lock", O_RDWR | O_CREAT |
				O_CLOEXEC, 0600), LOCK_EX));
	asb_bindir(bindir, sizeof(bindir));
	ASSERT_EQ(0, system("rm -rf " DIR " && mkdir -p " DIR "/ro " DIR "/rw "
			    DIR "/bin " DIR "/hidden && chmod 777 " DIR "/rw && "
			    "echo data > " DIR "/ro/file && "
			    "echo secret > " DIR "/hidden/file && "
			    "cp selftests/escape_probe.py " DIR "/ro/probe.py && "
			    "cp selftests/code_probe.py " DIR "/ro/code.py && "
			    "cp " POLICY " " DIR "/escape.ini"));
	agentd = asb_start_agentd(bindir, DIR "/agentd.log", SOCK, args);
	ASSERT_EQ(0, access(SOCK, F_OK));
	snprintf(cmd, sizeof(cmd), "%s/asbctl", bindir);
	ASSERT_BACKEND_EXPECTED(cmd, SOCK);
	/* the vault agentd reads, found by asking it (no --vault) */
	snprintf(cmd, sizeof(cmd), "printf %%s " TOKEN " | %s/asbctl --socket "
		 SOCK " vault put API_TOKEN", bindir);
	ASSERT_EQ(0, asb_sh(cmd, NULL, 0));
	return agentd;
}

static void escape_stop(pid_t agentd)
{
	if (geteuid() || agentd <= 0)
		return;
	kill(agentd, SIGTERM);
	waitpid(agentd, NULL, 0);
}

FIXTURE_SETUP(esc)
{
	self->agentd = escape_start(_metadata);
}

FIXTURE_TEARDOWN(esc)
{
	escape_stop(self->agentd);
}

/* Attempts whose outcome does not depend on who the agent is. */
FIXTURE(one) {
	pid_t agentd;
};

FIXTURE_SETUP(one)
{
	self->agentd = escape_start(_metadata);
}

FIXTURE_TEARDOWN(one)
{
	escape_stop(self->agentd);
}

/* ---- programs: only what an exec rule grants runs ---- */

/* fs.exec = /usr/bin/cat alone runs cat: its interpreter is implied. */
TEST_F(one, granted_program_runs_with_its_interpreter)
{
	char out[4096];

	ASSERT_EQ(0, run_as("exact", "", "/usr/bin/cat " DIR "/ro/file", out,
			    sizeof(out)));
	ASSERT_STREQ("data\n", out);
}

/* The loader as a program runs nothing, granted or copied. */
TEST_F(esc, loader_as_program_killed)
{
	char out[4096];

	EXPECT_EQ(128 + SIGKILL, run_in("exact",
		  "/lib64/ld-linux-x86-64.so.2 /usr/bin/cat " DIR "/ro/file",
		  out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "data"));
	ASSERT_EQ(0, run_in("esc", "cp /usr/bin/id " DIR "/rw/id && "
			    "/lib64/ld-linux-x86-64.so.2 " DIR "/rw/id; "
			    "echo status $?", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "status 137")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "uid=")) TH_LOG("%s", out);
	ASSERT_EQ(0, run_in("esc", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "
			    "--list /usr/bin/id; echo status $?", out,
			    sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "status 137")) TH_LOG("%s", out);
}

/*
 * The exec guard's entry for a thread agentd let exec (an approved or a
 * diverted exec) can outlive it: the thread exits before agentd writes
 * it. Another process that gets the pid is not the one it was meant for:
 * it once was killed at its next exec, wherever it ran.
 */
TEST_F(one, stale_exec_entry_kills_nobody)
{
	struct asb_exec_val v = { .ino = 1, .dev = 1, .sandbox = 1 };
	pid_t a, c = -1;
	int map, ws = 0;

	map = bpf_obj_get("/sys/fs/bpf/asb-v6/exec/asb_exec");
	ASSERT_LE(0, map);
	a = fork();
	if (a == 0)
		_exit(0);
	ASSERT_EQ(a, waitpid(a, NULL, 0));
	ASSERT_EQ(0, bpf_map_update_elem(map, &(__u32){ (__u32)a }, &v, BPF_ANY));
	for (int tries = 0; tries < 20 && c != a; tries++) {
		if (c > 0)
			waitpid(c, NULL, 0);
		ASSERT_EQ(0, asb_next_pid(a));
		c = fork();
		if (c == 0) {
			execl("/bin/true", "true", NULL);
			_exit(127);
		}
	}
	ASSERT_EQ(a, c);
	ASSERT_EQ(c, waitpid(c, &ws, 0));
	bpf_map_delete_elem(map, &(__u32){ (__u32)a });
	close(map);
	EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) TH_LOG("status %#x", ws);
}

/*
 * Code runs from the exec rules' paths and the loader's directories only,
 * neither executed nor mapped (LD_PRELOAD, dlopen, mmap PROT_EXEC, mmap
 * then mprotect): what the sandbox wrote is on a noexec subtree, and so is
 * what it may only read. A library of the loader's directories loads.
 */
TEST_F(esc, code_only_from_exec_rules_and_libraries)
{
	char out[8192];

	ASSERT_EQ(0, system("cp " LIBM " " DIR
			    "/ro/m.so && cp /usr/bin/id " DIR "/ro/id"));
	ASSERT_EQ(0, run_in("esc", "cp " DIR "/ro/m.so " DIR "/rw/m.so && "
			    "cp /usr/bin/id " DIR "/rw/id && chmod 755 " DIR
			    "/rw/id; " DIR "/rw/id && echo ran-id; "
			    DIR "/ro/id && echo ran-id; "
			    "LD_PRELOAD=" DIR "/rw/m.so /bin/true 2>&1; "
			    "/usr/bin/python3 " DIR "/ro/code.py " LIBM " "
			    DIR "/ro/m.so " DIR "/rw/m.so " DIR "/ro/id",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "ran-id")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "cannot be preloaded")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "loaded " LIBM "\nmapped " LIBM
			       "\nmade code " LIBM "\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "refused " DIR "/ro/m.so\nunmapped " DIR
			       "/ro/m.so 1\nstays data " DIR "/ro/m.so 13\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "refused " DIR "/rw/m.so\nunmapped " DIR
			       "/rw/m.so 1\nstays data " DIR "/rw/m.so 13\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "refused " DIR "/ro/id\nunmapped " DIR
			       "/ro/id 1\nstays data " DIR "/ro/id 13\n"))
		TH_LOG("%s", out);
}

/*
 * The caller's `> out` and `< in`: a file descriptor of the caller's mount,
 * where the view's noexec does not reach. What the agent wrote to its
 * stdout, reopened through /proc/self/fd, was dlopen'ed; a file on stdin
 * was mapped PROT_EXEC as it was. Such streams reach the sandbox as pipes,
 * relayed whole both ways.
 */
TEST_F(esc, stdio_files_reach_the_sandbox_as_pipes)
{
	char out[8192], line[PATH_MAX + 1024], probe[4096] = "";
	struct stat lib;

	ASSERT_EQ(0, stat(LIBM, &lib));
	ASSERT_EQ(0, system("cp " LIBM " " DIR "/ro/m.so && : > " DIR "/ro/out"));
	ASSERT_EQ(0, asb_write_file(DIR "/ro/try.sh",
		"exec 3>&1; cat " LIBM " >&3; /usr/bin/python3 " DIR "/ro/code.py "
		"/proc/self/fd/3 /proc/self/fd/0 fd:0 > " DIR "/rw/probe 2>&1; "
		"echo stdin $(wc -c) >> " DIR "/rw/probe\n"));
	snprintf(line, sizeof(line), "%s/asbctl --socket " SOCK " run --sandbox "
		 "%s -- %s /bin/sh " DIR "/ro/try.sh > " DIR "/ro/out < " DIR
		 "/ro/m.so", bindir, variant->sb, variant->as);
	ASSERT_EQ(0, asb_sh(line, out, sizeof(out))) TH_LOG("%s", out);
	asb_slurp(DIR "/rw/probe", probe, sizeof(probe));
	EXPECT_NE(NULL, strstr(probe, "not a file /proc/self/fd/3\n"
			       "not a file /proc/self/fd/0\nunmapped fd:0 "))
		TH_LOG("%s", probe);
	snprintf(line, sizeof(line), "stdin %lld\n", (long long)lib.st_size);
	EXPECT_NE(NULL, strstr(probe, line)) TH_LOG("%s", probe);
	EXPECT_EQ(0, system("cmp -s " LIBM " " DIR "/ro/out"));
}

/*
 * A library directory is code for the loader, not a grant to write code:
 * fs.write inside one stays noexec (it once became writable and exec).
 */
TEST_F(one, library_dir_makes_nothing_writable_exec)
{
	char out[8192];

	ASSERT_EQ(0, system("mkdir -p /usr/local/lib/asb-esc"));
	EXPECT_EQ(0, run_as("libw", "", "cp " LIBM " /usr/local/lib/asb-esc/m.so"
			    " && /usr/bin/python3 " DIR "/ro/code.py "
			    "/usr/local/lib/asb-esc/m.so", out, sizeof(out)));
	asb_sh("rm -rf /usr/local/lib/asb-esc", NULL, 0);
	EXPECT_NE(NULL, strstr(out, "refused /usr/local/lib/asb-esc/m.so\n"
			       "unmapped /usr/local/lib/asb-esc/m.so 1\n"))
		TH_LOG("%s", out);
}

/*
 * The host's own read-only and noexec mounts stay so under the paths the
 * view makes writable or code: a read-only bind inside fs.write once
 * became writable, a noexec mount inside an exec rule's path exec.
 */
TEST_F(one, host_mount_flags_kept_under_rules)
{
	char out[8192];
	int ret;

	ASSERT_EQ(0, asb_sh("mkdir -p " DIR "/rw/robind " DIR "/bin/nx && "
			    "mount --bind " DIR "/ro " DIR "/rw/robind && "
			    "mount -o remount,bind,ro " DIR "/rw/robind && "
			    "mount -t tmpfs -o noexec tmpfs " DIR "/bin/nx && "
			    "cp " LIBM " " DIR "/bin/nx/m.so && cp " LIBM " "
			    DIR "/bin/m.so", out, sizeof(out))) TH_LOG("%s", out);
	ret = run_as("esc", "", "touch " DIR "/rw/robind/x && echo ro-wrote; "
		     "touch " DIR "/rw/x && echo control-wrote; "
		     "/usr/bin/python3 " DIR "/ro/code.py " DIR "/bin/nx/m.so "
		     DIR "/bin/m.so", out, sizeof(out));
	asb_sh("umount " DIR "/rw/robind; umount " DIR "/bin/nx", NULL, 0);
	ASSERT_EQ(0, ret) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "ro-wrote")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "control-wrote")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "refused " DIR "/bin/nx/m.so\nunmapped "
			       DIR "/bin/nx/m.so 1\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "loaded " DIR "/bin/m.so\nmapped " DIR
			       "/bin/m.so\n")) TH_LOG("%s", out);
}

/* Nor does it lift the flags of the host mount a rule's path lies in. */
TEST_F(one, host_mount_above_a_rule_stays_read_only)
{
	char out[8192];
	int ret;

	ASSERT_EQ(0, asb_sh("mkdir -p " DIR "/robind/inner && "
			    "mount --bind " DIR "/robind " DIR "/robind && "
			    "mount -o remount,bind,ro " DIR "/robind", out,
			    sizeof(out))) TH_LOG("%s", out);
	ret = run_as("roabove", "", "touch " DIR "/robind/inner/x && echo ro-wrote; "
		     "touch " DIR "/rw/x && echo control-wrote", out, sizeof(out));
	asb_sh("umount " DIR "/robind", NULL, 0);
	ASSERT_EQ(0, ret) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "ro-wrote")) TH_LOG("%s", out);
	EXPECT_EQ(0, access(DIR "/robind/inner/x", F_OK) == 0);
	EXPECT_NE(NULL, strstr(out, "control-wrote")) TH_LOG("%s", out);
}

/*
 * The working directory is the view's: a program started in a writable
 * subtree writes there by relative paths (the inherited directory was on
 * the covered mount, read-only), and one started elsewhere still cannot.
 */
TEST_F(one, working_directory_is_the_views)
{
	char out[8192], line[PATH_MAX + 512];

	snprintf(line, sizeof(line), "cd " DIR "/rw && %s/asbctl --socket " SOCK
		 " run --sandbox esc -- /bin/sh -c 'touch rel-x && echo rel-wrote; "
		 "pwd; cd " DIR "/ro && touch rel-y && echo ro-wrote; true'",
		 bindir);
	ASSERT_EQ(0, asb_sh(line, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "rel-wrote\n" DIR "/rw\n")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "ro-wrote")) TH_LOG("%s", out);
	EXPECT_EQ(0, access(DIR "/rw/rel-x", F_OK));
}

/*
 * ...and only if it is the directory that was left: a path the agent may
 * write along, swapped for a symlink between the launcher's two looks
 * (renameat2 RENAME_EXCHANGE in a loop), once put an ordinary user inside
 * a root-only directory, whose files it then read by relative paths.
 */
TEST_F(one, working_directory_not_swapped_under_the_launch)
{
	char out[16384], line[PATH_MAX + 2048];

	snprintf(line, sizeof(line),
		 "mkdir -p " DIR "/ro/priv/w " DIR "/rw/op/w && chmod 700 " DIR "/ro/priv && "
		 "echo root-only > " DIR "/ro/priv/w/f && echo own > " DIR "/rw/op/w/f && "
		 "chmod 644 " DIR "/ro/priv/w/f " DIR "/rw/op/w/f && "
		 "ln -sfn " DIR "/ro/priv " DIR "/rw/op_l && cd " DIR "/rw/op/w && "
		 "{ /usr/bin/python3 -c 'import ctypes, sys\n"
		 "c = ctypes.CDLL(None)\n"
		 "while True: c.renameat2(-100, b\"" DIR "/rw/op\", -100, b\"" DIR "/rw/op_l\", 2)' & } && "
		 "S=$! && for i in $(seq 20); do %s/asbctl --socket " SOCK " run --sandbox escuser -- "
		 "setpriv --reuid=65534 --regid=65534 --clear-groups -- /bin/cat f; done 2>&1; "
		 "kill $S; wait; true", bindir);
	ASSERT_EQ(0, asb_sh(line, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "root-only")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "own")) TH_LOG("%s", out);
}

/* Is agentd running the portable backend (asbctl status' first line)? */
static bool portable(void)
{
	char cmd[PATH_MAX + 64], line[256] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " SOCK " status", bindir);
	p = popen(cmd, "r");
	if (!p)
		return false;
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	pclose(p);
	return strstr(line, "portable") != NULL;
}

/* ---- files: writing metadata is writing the file ---- */

/* A terminal on stdio stays the caller's: no fchmod of the caller's pty. */
TEST_F(esc, caller_terminal_unchanged)
{
	char out[4096], line[PATH_MAX + 512];
	FILE *f;

	f = fopen(DIR "/ro/try.sh", "w");
	ASSERT_NE(NULL, f);
	fputs("/usr/bin/python3 -c '\n"
	      "import os\n"
	      "print(\"tty\", os.isatty(0), os.isatty(1))\n"
	      "for fd in (0, 1):\n"
	      "    try: os.fchmod(fd, 0o666); print(\"changed\")\n"
	      "    except OSError as e: print(\"kept\", e.errno)\n'\n", f);
	fclose(f);
	snprintf(line, sizeof(line), "/usr/bin/script -qec '%s/asbctl --socket "
		 SOCK " run --sandbox %s -- %s /bin/sh " DIR "/ro/try.sh' "
		 "/dev/null", bindir, variant->sb, variant->as);
	ASSERT_EQ(0, asb_sh(line, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "tty True True")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "kept")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "changed")) TH_LOG("%s", out);
}


/*
 * chmod, chown, setxattr (file capabilities too), utimes and inode flags
 * on a file the sandbox may only read, and on one it may not see: refused,
 * and nothing changed.
 */
TEST_F(esc, metadata_outside_fs_write)
{
	struct stat before[2], after[2];
	const char *files[2] = { DIR "/ro/file", DIR "/hidden/file" };
	char out[8192];
	ssize_t n;

	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, stat(files[i], &before[i]));
	ASSERT_EQ(0, run_in("esc", "/usr/bin/python3 " DIR "/ro/probe.py "
			    DIR "/ro/file " DIR "/hidden/file", out,
			    sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, ":ok")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "chmod:")) TH_LOG("%s", out);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, stat(files[i], &after[i]));
		EXPECT_EQ(before[i].st_mode, after[i].st_mode);
		EXPECT_EQ(before[i].st_uid, after[i].st_uid);
		EXPECT_EQ(before[i].st_mtim.tv_sec, after[i].st_mtim.tv_sec);
		n = getxattr(files[i], "security.capability", NULL, 0);
		EXPECT_EQ(-1, n);
		n = getxattr(files[i], "user.asb", NULL, 0);
		EXPECT_EQ(-1, n);
	}
	/* a device node in fs.write is written, never changed */
	ASSERT_EQ(0, stat("/dev/null", &before[0]));
	EXPECT_NE(0, run_in("esc", "echo x > /dev/null && chmod 0667 /dev/null",
			    out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "Read-only file system")) TH_LOG("%s", out);
	ASSERT_EQ(0, stat("/dev/null", &after[0]));
	EXPECT_EQ(before[0].st_mode, after[0].st_mode);
	/* no setuid or setgid file, not even of its own, by any call */
	ASSERT_EQ(0, run_in("esc", "cd " DIR "/rw && echo x > f && "
			    "chmod 4755 f; chmod g+s f; /usr/bin/python3 -c '\n"
			    "import os\n"
			    "for call in (lambda: os.open(\"s\", os.O_CREAT | os.O_WRONLY, 0o4755),\n"
			    "             lambda: os.mknod(\"m\", 0o102755),\n"
			    "             lambda: os.chmod(\"f\", 0o2755)):\n"
			    "    try: call(); print(\"made\")\n"
			    "    except OSError as e: print(\"no\", e.errno)\n'; "
			    "ls -l " DIR "/rw", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "made")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "rws")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "r-s")) TH_LOG("%s", out);
	/* inside fs.write the agent's own files are its to change */
	ASSERT_EQ(0, run_in("esc", "echo x > " DIR "/rw/mine && "
			    "chmod 700 " DIR "/rw/mine && touch -d @0 " DIR
			    "/rw/mine", out, sizeof(out))) TH_LOG("%s", out);
}

/*
 * A file system the host mounts under a read-only path while the sandbox
 * runs: not seen there (with propagation it came in writable, and its
 * times and mode were the sandbox's to change).
 */
TEST_F(esc, host_mount_made_later_not_writable)
{
	char out[4096], line[PATH_MAX + 512];
	struct stat st;
	FILE *f;
	int ret;

	ASSERT_EQ(0, asb_sh("mkdir -p " DIR "/ro/prop && mount -t tmpfs "
			    "tmpfs " DIR "/ro/prop && mount --make-shared "
			    DIR "/ro/prop && mkdir " DIR "/ro/prop/mnt",
			    NULL, 0));
	f = fopen(DIR "/ro/try.sh", "w");
	ASSERT_NE(NULL, f);
	fputs("sleep 2; touch " DIR "/ro/prop/mnt && echo touched; "
	      "chmod 0700 " DIR "/ro/prop/mnt && echo changed; echo done\n", f);
	fclose(f);
	snprintf(line, sizeof(line), "ASB_BROKER_SOCKET=" DIR "/broker.sock "
		 "%s/asbctl --socket " SOCK " run --sandbox %s -- %s /bin/sh " DIR "/ro/try.sh & sleep 0.5; "
		 "mount -t tmpfs -o mode=0777 tmpfs " DIR "/ro/prop/mnt && "
		 "touch -d @1000 " DIR "/ro/prop/mnt; wait", bindir,
		 variant->sb, variant->as);
	ret = asb_sh(line, out, sizeof(out));
	ASSERT_EQ(0, stat(DIR "/ro/prop/mnt", &st));
	asb_sh("umount -R -l " DIR "/ro/prop", NULL, 0);
	ASSERT_EQ(0, ret) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "done")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "touched")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "changed")) TH_LOG("%s", out);
	EXPECT_EQ(1000, st.st_mtim.tv_sec);
	EXPECT_EQ(0777, st.st_mode & 07777);
}

/* ---- namespaces and privilege ---- */

TEST_F(esc, no_namespace_of_any_kind)
{
	char out[4096];

	ASSERT_EQ(0, run_in("esc", "for f in m u i n p C T U; do "
			    "/usr/bin/unshare -$f /bin/true 2>/dev/null && "
			    "echo made-$f; done; echo done", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_STREQ("done\n", out);
}

TEST_F(esc, no_capabilities)
{
	char out[4096];

	ASSERT_EQ(0, run_in("esc", "grep ^Cap /proc/self/status", out,
			    sizeof(out)));
	/* the user variant's sandbox keeps setuid and setgid (to drop to
	 * nobody) in its bounding set, and nothing after that */
	EXPECT_STREQ(!strcmp(variant->sb, "esc") ?
		     "CapInh:\t0000000000000000\n"
		     "CapPrm:\t0000000000000000\n"
		     "CapEff:\t0000000000000000\n"
		     "CapBnd:\t0000000000000000\n"
		     "CapAmb:\t0000000000000000\n" :
		     "CapInh:\t0000000000000000\n"
		     "CapPrm:\t0000000000000000\n"
		     "CapEff:\t0000000000000000\n"
		     "CapBnd:\t00000000000000c0\n"
		     "CapAmb:\t0000000000000000\n", out);
	/* real-time scheduling needs CAP_SYS_NICE */
	EXPECT_NE(0, run_in("esc", "/usr/bin/chrt -f 99 /bin/true", out,
			    sizeof(out)));
}

/* ---- resources: a sandbox spends only its own ---- */

/*
 * A fork bomb gets limits.pids tasks and no more, cannot raise its limit
 * or leave its cgroups (read-only), and agentd answers throughout.
 */
/* 400 forks in an emulated guest beside other load: more than 30 s */
TEST_F_TIMEOUT(esc, fork_bomb_stays_in_its_sandbox, 120)
{
	char out[8192], cmd[PATH_MAX + 64];

	ASSERT_EQ(0, run_in("esc", "( i=0; while [ $i -lt 400 ]; do "
			    "/bin/sleep 20 & i=$((i+1)); done ) 2>/dev/null; "
			    /* builtins only from here: no task is left */
			    "set -- /proc/[0-9]*; echo procs $#; "
			    "for f in /sys/fs/cgroup/pids/asb/*/pids.max "
			    "/sys/fs/cgroup/asb/*/pids.max "
			    "/sys/fs/cgroup/unified/asb/*/pids.max; do "
			    "echo max 2>/dev/null >$f && echo raised; done; "
			    "for f in /sys/fs/cgroup/*/cgroup.procs "
			    "/sys/fs/cgroup/cgroup.procs; do "
			    "echo $$ 2>/dev/null >$f && echo moved; done; "
			    "echo end", out, sizeof(out))) TH_LOG("%s", out);
	/*
	 * limits.pids = 128: the init, the shell, the sleeps it got before a
	 * fork failed (on cgroup v2 the kernel memory of each task is
	 * charged to limits.memory too, which may stop it a little earlier)
	 */
	EXPECT_NE(NULL, strstr(out, "procs ")) TH_LOG("%s", out);
	if (strstr(out, "procs ")) {
		EXPECT_LE(atoi(strstr(out, "procs ") + 6), 128) TH_LOG("%s", out);
		EXPECT_GE(atoi(strstr(out, "procs ") + 6), 50) TH_LOG("%s", out);
	}
	EXPECT_EQ(NULL, strstr(out, "raised")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "moved")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "end")) TH_LOG("%s", out);
	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " SOCK " status", bindir);
	EXPECT_EQ(0, asb_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
}

/* A program past limits.memory (RAM, no swap beyond it) is killed in its
 * sandbox; one below it runs. */
TEST_F(esc, memory_hog_killed_in_its_sandbox)
{
	char out[4096];

	ASSERT_EQ(0, run_in("esc", "/usr/bin/python3 -c 'b = b\"x\" * (64 << 20); "
			    "print(\"small\", len(b) >> 20)'; "
			    "/usr/bin/python3 -c 'b = b\"x\" * (1 << 30); "
			    "print(\"big\", len(b) >> 20)'; echo rc $?",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "small 64")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "big")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "rc 137")) TH_LOG("%s", out);
}

/*
 * limits.cpu = 10%: a second of spinning gets about a tenth of a second
 * (counted from the loop's start: python's own start-up, slow on a busy
 * emulated guest, is not part of that second).
 */
TEST_F(one, cpu_held_to_its_share)
{
	char out[4096];

	ASSERT_EQ(0, run_as("slow", "", "/usr/bin/python3 -c '"
			    "import os, time\n"
			    "b = os.times()\n"
			    "t = time.monotonic()\n"
			    "while time.monotonic() - t < 1: pass\n"
			    "c = os.times()\n"
			    "print(\"ms\", int((c.user + c.system - b.user - b.system) * 1000))'",
			    out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "ms ")) TH_LOG("%s", out);
	EXPECT_LT(atoi(strstr(out, "ms ") + 3), 500) TH_LOG("%s", out);
}

/* ---- processes outside: not there at all ---- */

TEST_F(esc, outside_processes_invisible)
{
	char out[8192], script[1024];

	snprintf(script, sizeof(script),
		 "ls /proc | grep -c \"^[0-9]*$\"; "
		 "kill -STOP %d; echo kill $?; "
		 "/usr/bin/prlimit --pid %d --fsize=0 && echo prlimit-ok; "
		 "/usr/bin/renice 19 -p %d && echo renice-ok; "
		 "cat /proc/%d/environ && echo environ-ok; echo end",
		 self->agentd, self->agentd, self->agentd, self->agentd);
	ASSERT_EQ(0, run_in("esc", script, out, sizeof(out))) TH_LOG("%s", out);
	/* init, the shell, ls, grep */
	EXPECT_LE(atoi(out), 5) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "kill 1")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "-ok")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "end")) TH_LOG("%s", out);
	EXPECT_EQ(0, kill(self->agentd, 0));
}

/* ---- network outside the socket rules ---- */

/* xdp, packet, raw inet, vsock, tipc, rds, alg, smc, bluetooth; SIOCSIFMTU */
TEST_F(esc, no_raw_xdp_packet_or_interface_config)
{
	char out[4096];

	ASSERT_EQ(0, run_in("esc", "/usr/bin/python3 -c '\n"
			    "import socket, fcntl, struct\n"
			    "for fam, typ in ((44, 3), (17, 3), (2, 3), (40, 1), (30, 4), (21, 5), (38, 5), (43, 1), (31, 1)):\n"
			    "    try:\n"
			    "        socket.socket(fam, typ); print(\"made\", fam)\n"
			    "    except OSError as e: print(\"no\", fam, e.errno)\n"
			    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
			    "try:\n"
			    "    fcntl.ioctl(s, 0x8922, struct.pack(\"16si12x\", b\"lo\", 1280)); print(\"mtu set\")\n"
			    "except OSError as e: print(\"no mtu\", e.errno)\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "made")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "mtu set")) TH_LOG("%s", out);
}

/* Whether a TCP connection to 127.0.0.1:@port is made within 2 s. */
static bool connects(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = -1;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		err = 0;
	else if (errno == EINPROGRESS && poll(&p, 1, 2000) == 1)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	close(fd);
	return err == 0;
}

/*
 * listen() on a socket never bound takes an ephemeral port past the bind
 * hooks: no connection reaches it. A listener on a granted port does.
 */
TEST_F(esc, listen_without_bind_gets_no_connection)
{
	char out[4096], line[PATH_MAX + 512];
	int port = 0;
	FILE *f;

	f = fopen(DIR "/ro/try.sh", "w");
	ASSERT_NE(NULL, f);
	fputs("/usr/bin/python3 -c '\n"
	      "import os, socket\n"
	      "a = socket.socket()\n"
	      /* an earlier run's connection may be in TIME_WAIT on the port */
	      "a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
	      "a.bind((\"127.0.0.1\", 18091)); a.listen()\n"
	      "b = socket.socket(); b.listen()\n"
	      "open(\"" DIR "/rw/p\", \"w\").write(str(b.getsockname()[1]))\n"
	      "os.rename(\"" DIR "/rw/p\", \"" DIR "/rw/port\")\n"
	      "for s, n in ((a, \"bound\"), (b, \"unbound\")):\n"
	      "    s.settimeout(6)\n"
	      "    try: s.accept(); print(n, \"accepted\")\n"
	      "    except OSError: print(n, \"none\")\n'\n", f);
	fclose(f);
	snprintf(line, sizeof(line), "%s/asbctl --socket " SOCK " run --sandbox "
		 "%s -- %s /bin/sh " DIR "/ro/try.sh > " DIR "/listen.out 2>&1 &",
		 bindir, variant->sb, variant->as);
	ASSERT_EQ(0, system(line));
	for (int i = 0; i < 600 && !port; i++) {
		f = fopen(DIR "/rw/port", "r");
		if (!f || fscanf(f, "%d", &port) != 1)
			usleep(100000);
		if (f)
			fclose(f);
	}
	if (!port) {
		f = fopen(DIR "/listen.out", "r");
		out[f ? fread(out, 1, sizeof(out) - 1, f) : 0] = 0;
		if (f)
			fclose(f);
	}
	ASSERT_NE(0, port) TH_LOG("%s", out);
	EXPECT_TRUE(connects(18091));
	EXPECT_FALSE(connects(port));
	for (int i = 0; i < 300; i++) {
		out[0] = 0;
		f = fopen(DIR "/listen.out", "r");
		if (f) {
			out[fread(out, 1, sizeof(out) - 1, f)] = 0;
			fclose(f);
		}
		if (strstr(out, "unbound none\n") ||
		    strstr(out, "unbound accepted\n"))
			break;
		usleep(100000);
	}
	EXPECT_NE(NULL, strstr(out, "bound accepted")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "unbound none")) TH_LOG("%s", out);
	sleep(1);	/* records come after the fact */
	EXPECT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "\"action\":\"listen\"",
				  "\"verdict\":\"deny\""));
}

/* A UDP socket on 127.0.0.1:@port, or -1 */
static int udp_at(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 30 };

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void udp_send(int fd, const char *msg, const struct sockaddr_in *to)
{
	sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)to,
	       sizeof(*to));
}

/*
 * A UDP socket got its port by sending to a granted address: it hears
 * back from that address only, not from anyone else on the host who
 * learnt the port, nor through its error queue (IP_RECVERR: ICMP errors
 * from anyone, with their sender's bytes). A socket bound by a net.bind
 * rule (a server) hears from anyone.
 */
TEST_F(esc, udp_hears_only_from_granted_sources)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	char out[4096], buf[64];
	int granted, stranger;
	pid_t helper;

	granted = udp_at(9);		/* net.connect = 127.0.0.1/32:9 */
	stranger = udp_at(18093);
	ASSERT_LE(0, granted);
	ASSERT_LE(0, stranger);
	helper = fork();
	ASSERT_LE(0, helper);
	if (helper == 0) {
		struct sockaddr_in server;

		if (recvfrom(granted, buf, sizeof(buf), 0,
			     (struct sockaddr *)&peer, &plen) < 0)
			_exit(1);
		usleep(200000);
		udp_send(stranger, "from-stranger", &peer);
		usleep(200000);
		udp_send(granted, "from-granted", &peer);
		server = peer;
		server.sin_port = htons(18091);
		udp_send(stranger, "to-server", &server);
		_exit(0);
	}
	ASSERT_EQ(0, run_in("esc", "/usr/bin/python3 -c '\n"
			    "import socket\n"
			    "srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
			    "srv.bind((\"127.0.0.1\", 18091)); srv.settimeout(5)\n"
			    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
			    "s.settimeout(5); s.sendto(b\"hi\", (\"127.0.0.1\", 9))\n"
			    "try:\n"
			    "    while s.recv(64) != b\"from-granted\": print(\"stranger heard\")\n"
			    "    print(\"granted heard\")\n"
			    "except OSError: print(\"nothing\")\n"
			    "try: srv.recv(64); print(\"server heard\")\n"
			    "except OSError: print(\"server deaf\")\n"
			    "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)\n"
			    "for lvl, opt in ((0, 11), (0, 26), (41, 25), (41, 31)):\n"
			    "    t = socket.socket(socket.AF_INET if lvl == 0 else socket.AF_INET6, socket.SOCK_DGRAM)\n"
			    "    try: t.setsockopt(lvl, opt, 1); print(\"recverr on\", opt)\n"
			    "    except OSError as e: print(\"recverr refused\", e.errno)\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	waitpid(helper, NULL, 0);
	close(granted);
	close(stranger);
	EXPECT_NE(NULL, strstr(out, "granted heard")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "stranger heard")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "server heard")) TH_LOG("%s", out);
	/* ICMP errors reach the error queue past the ingress program */
	EXPECT_EQ(NULL, strstr(out, "recverr on")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "recverr refused 1\nrecverr refused 1\n"
			       "recverr refused 1\nrecverr refused 1\n"))
		TH_LOG("%s", out);
	sleep(1);
	EXPECT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "\"action\":\"recv\"",
				  "\"object\":\"127.0.0.1:18093\""));
}

/*
 * An abstract unix name bound inside is one a host client may connect to:
 * refused where a hook sees unix binds (BPF-LSM); an autobind's random
 * name is not a squat.
 */
TEST_F(esc, abstract_unix_name_not_taken)
{
	char out[4096];

	if (portable())
		SKIP(return, "portable backend: no hook sees a unix bind "
		     "(docs/threat-model.md); the VM lane runs this on BPF-LSM");
	ASSERT_EQ(0, run_in("esc", "/usr/bin/python3 -c '\n"
			    "import socket\n"
			    "s = socket.socket(socket.AF_UNIX)\n"
			    "try: s.bind(\"\\0asb-esc-squat\"); print(\"taken\")\n"
			    "except OSError as e: print(\"refused\", e.errno)\n"
			    "s = socket.socket(socket.AF_UNIX); s.bind(\"\")\n"
			    "print(\"autobind\", len(s.getsockname()))\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "refused 1\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "autobind 6")) TH_LOG("%s", out);
	EXPECT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "@asb-esc-squat",
				  "\"action\":\"bind\""));
}

/* A watch shows names and accesses below it: only where it may read. */
TEST_F(esc, no_watch_where_it_may_not_read)
{
	char out[4096];

	if (portable())
		SKIP(return, "portable backend: Landlock does not check inotify "
		     "(docs/threat-model.md); the VM lane runs this on BPF-LSM");
	ASSERT_EQ(0, run_in("esc", "/usr/bin/python3 -c '\n"
			    "import ctypes, os\n"
			    "libc = ctypes.CDLL(None, use_errno=True)\n"
			    "fd = libc.inotify_init1(0)\n"
			    "for d in (b\"" DIR "/ro\", b\"" DIR "/hidden\", b\"/root\"):\n"
			    "    wd = libc.inotify_add_watch(fd, d, 0xfff)\n"
			    "    print(d.decode(), wd if wd >= 0 else -ctypes.get_errno())\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, DIR "/ro 1\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, DIR "/hidden -13\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "/root -13\n")) TH_LOG("%s", out);
}

/*
 * A flood of denials costs the flooding sandbox its own records (counted
 * in one "suppressed" record a second), not another sandbox's.
 */
TEST_F(one, denial_flood_stays_in_its_sandbox)
{
	char out[4096], cmd[PATH_MAX + 512];
	long lines = 0;
	FILE *f;
	int c;

	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " SOCK " run --sandbox "
		 "esc -- /usr/bin/python3 -c '\n"
		 "import socket, time\n"
		 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		 "end = time.time() + 2\n"
		 "while time.time() < end:\n"
		 "    try: s.sendto(b\"x\", (\"127.0.0.2\", 7))\n"
		 "    except OSError: pass\n' &", bindir);
	ASSERT_EQ(0, system(cmd));
	usleep(800000);
	/* another sandbox's one denial, in the middle of the flood */
	EXPECT_NE(0, run_as("esc", "", "/usr/bin/python3 -c '\n"
			    "import socket\n"
			    "socket.create_connection((\"127.0.0.3\", 4444))\n'",
			    out, sizeof(out)));
	sleep(3);
	EXPECT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "127.0.0.3:4444"));
	EXPECT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl", "\"action\":\"suppressed\""));
	f = fopen(DIR "/audit.jsonl", "r");
	ASSERT_NE(NULL, f);
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	/* two seconds of one sandbox: 2 CPUs x 64 a 100 ms, and the rest */
	EXPECT_GT(4000, lines);
}

/* ---- the control plane ---- */

/*
 * A process put in the sandbox with asbctl attach shares the host's PID
 * namespace: it still signals, traces, reads /proc/PID of, or reschedules
 * no process outside.
 */
TEST_F(esc, attached_process_leaves_outside_alone)
{
	char out[4096] = "", line[PATH_MAX + 1024];
	FILE *f;

	if (portable())
		SKIP(return, "portable backend: an attached process gets the "
		     "cgroup's socket rules only (docs/threat-model.md); the VM "
		     "lane runs this on BPF-LSM");
	ASSERT_EQ(0, mkfifo(DIR "/ro/go", 0666));
	/* a running sandbox to attach to; the attacker waits on the FIFO
	 * until it is in (and is let go if the attach fails) */
	snprintf(line, sizeof(line),
		 "sleep 30 | %s/asbctl --socket " SOCK " run --sandbox %s -- "
		 "/bin/cat > /dev/null 2>&1 & s=$!; "
		 "sleep 60 & v=$!; (read x < " DIR "/ro/go; %s "
		 "/bin/sh -c \"kill -STOP $v && echo stopped; "
		 "cat /proc/$v/environ > /dev/null && echo read; "
		 "renice -n 5 -p $v > /dev/null && echo reniced; echo end\") "
		 "> " DIR "/out 2>&1 & a=$!; i=0; "
		 "until %s/asbctl --socket " SOCK " attach --sandbox %s $a "
		 "2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && break; "
		 "sleep 0.1; done; echo go > " DIR "/ro/go; wait $a; "
		 "grep State /proc/$v/status; kill $v $s", bindir, variant->sb,
		 variant->as, bindir, variant->sb);
	ASSERT_EQ(0, asb_sh(line, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "stopped")) TH_LOG("%s", out);
	f = fopen(DIR "/out", "r");
	ASSERT_NE(NULL, f);
	out[fread(out, 1, sizeof(out) - 1, f)] = 0;
	fclose(f);
	EXPECT_NE(NULL, strstr(out, "end")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "stopped")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "read\n")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "reniced")) TH_LOG("%s", out);
	/* as nobody, the permissions refuse first: nothing to record */
	if (!*variant->as)
		EXPECT_TRUE(ASB_AUDIT_HAS(DIR "/audit.jsonl",
					  "\"action\":\"process\"",
					  "signal 19 to pid"));
}

/* agentd's control socket, by its path or a link made in fs.write */
TEST_F(esc, control_socket_out_of_reach)
{
	char out[4096];

	ASSERT_EQ(0, run_in("esc", "ln -s " SOCK " " DIR "/rw/ctl; "
			    "/usr/bin/python3 -c '\n"
			    "import socket\n"
			    "for p in (\"" SOCK "\", \"" DIR "/rw/ctl\"):\n"
			    "    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
			    "    try:\n"
			    "        s.connect(p); s.send(b\"x\" * 16); print(\"reached\", s.recv(64))\n"
			    "    except OSError as e: print(\"no\", e.errno)\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "reached")) TH_LOG("%s", out);
}

/* Ordinary programs start under the default policy without a denial. */
TEST_F(one, default_policy_starts_programs_quietly)
{
	char cmd[PATH_MAX + 512], out[4096], cwd[PATH_MAX], line[4096];
	FILE *f;

	ASSERT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	snprintf(cmd, sizeof(cmd), "%s/asbctl --socket " SOCK " run --policy "
		 "%s/policy/default.ini --sandbox agent -- /bin/sh -c "
		 "'id; /usr/bin/python3 -c pass; ls /tmp >/dev/null'", bindir,
		 cwd);
	ASSERT_EQ(0, asb_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	sleep(2);	/* records come after the fact */
	f = fopen(DIR "/audit.jsonl", "r");
	while (f && fgets(line, sizeof(line), f))
		EXPECT_EQ(NULL, strstr(line, "\"sandbox\":\"agent\"")) TH_LOG("%s", line);
	if (f)
		fclose(f);
}

/* ---- secrets ---- */

/* The program a secret was injected into is not the agent's to read. */
TEST_F(esc, injected_environ_invisible)
{
	char out[8192];

	ASSERT_EQ(0, run_in("esc", "/usr/bin/sleep 3 & sleep 1; "
			    "cat /proc/[0-9]*/environ 2>/dev/null | tr \"\\0\" \"\\n\" | "
			    "grep -c " TOKEN "; wait", out, sizeof(out)) & ~1)
		TH_LOG("%s", out);
	EXPECT_STREQ("0\n", out);
}


/* An env: secret reaches its program with only what the policy grants:
 * agentd's asb-secret is implied by the secret's rule. */
TEST_F(one, env_secret_with_exactly_the_grants)
{
	char out[4096];

	ASSERT_EQ(0, run_as("exact", "", "/usr/bin/printenv API_TOKEN", out,
			    sizeof(out))) TH_LOG("%s", out);
	ASSERT_STREQ(TOKEN "\n", out);
}

/*
 * The agent's environment is not the secret holder's: only inert names
 * pass (TERM, plain locale names...), as sudo's env_reset; PATH and HOME
 * are agentd's, so a helper run by name is the system's, not the agent's.
 */
TEST_F(one, env_program_gets_a_reset_environment)
{
	char out[8192], line[PATH_MAX + 512];

	snprintf(line, sizeof(line), "PYTHONPATH=/x GCONV_PATH=/x LANG=/x "
		 "LANGUAGE=../../x LC_ALL=C.UTF-8 FOO=agent PATH=" DIR "/rw:/usr/bin:/bin "
		 "HOME=" DIR "/rw ASB_BROKER_SOCKET=" DIR
		 "/broker.sock %s/asbctl --socket "
		 SOCK " run --sandbox exact -- /usr/bin/printenv", bindir);
	ASSERT_EQ(0, asb_sh(line, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "API_TOKEN=" TOKEN "\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\nPATH=/usr/local/sbin:/usr/local/bin:"
				    "/usr/sbin:/usr/bin:/sbin:/bin\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\nHOME=/root\n")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, DIR "/rw")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "LC_ALL=C.UTF-8\n")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "PYTHONPATH")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "GCONV_PATH")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "LANG")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "FOO")) TH_LOG("%s", out);
}

/*
 * Data, not code, read the secret out: a message catalog the agent wrote,
 * found by the program with the secret through LANGUAGE=../../..,
 * translated its error message into a format string that printed its
 * environment. The catalog here only says "read".
 */
TEST_F(esc, env_program_reads_no_catalog_of_the_agent)
{
	char out[8192];

	ASSERT_EQ(0, run_in("esc", "mkdir -p " DIR "/rw/loc/LC_MESSAGES && "
			    "/usr/bin/python3 -c '\n"
			    "import struct\n"
			    "m = [(b\"\", b\"Content-Type: text/plain; charset=UTF-8\\n\"),\n"
			    "     (b\"invalid time interval %s\", b\"CATALOG-OF-THE-AGENT %s\")]\n"
			    "o, t = 28, 28 + 8 * len(m)\n"
			    "at, tab, data = t + 8 * len(m), [], b\"\"\n"
			    "for s in [k for k, v in m] + [v for k, v in m]:\n"
			    "    tab.append(struct.pack(\"<II\", len(s), at + len(data)))\n"
			    "    data += s + bytes(1)\n"
			    "hdr = struct.pack(\"<7I\", 0x950412de, 0, len(m), o, t, 0, at)\n"
			    "open(\"" DIR "/rw/loc/LC_MESSAGES/coreutils.mo\", \"wb\").write(hdr + b\"\".join(tab) + data)\n"
			    "' && LC_ALL=C.UTF-8 LANGUAGE=../../../.." DIR "/rw/loc "
			    "/usr/bin/sleep x 2>&1; true", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "CATALOG-OF-THE-AGENT")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "invalid time interval")) TH_LOG("%s", out);
}

/* ---- approvals inside a writable subtree ---- */

#define HELD(v_)	(strcmp((v_)->sb, "esc") ? "helduser" : "held")
#define HOOKS		DIR "/rw/proj/.git/hooks"

static int held_setup(void)
{
	return system("mkdir -p " HOOKS " && echo orig > " HOOKS
	       "/pre-commit && echo real > " DIR "/rw/proj/conf.real && "
	       "ln -sf conf.real " DIR "/rw/proj/conf.yml && "
	       "chmod -R a+rwX " DIR "/rw");
}

/*
 * An approve.write subtree nested in fs.write: renaming a directory above
 * it once moved it from under its rule (the mount went along) to where
 * agentd, opening in its own writable view, wrote without a prompt; or let
 * a directory of the sandbox's making take its place.
 */
TEST_F(esc, held_write_not_moved_from_under_its_rule)
{
	char out[4096], buf[64] = "";
	FILE *f;

	ASSERT_EQ(0, held_setup());
	ASSERT_EQ(0, run_as(HELD(variant), variant->as, "cd " DIR "/rw/proj; "
			    "mv .git g2; echo PWNED > g2/hooks/pre-commit; "
			    "echo x > g2/hooks/post-checkout; mv g2 .git; "
			    "echo done", out, sizeof(out))) TH_LOG("%s", out);
	f = fopen(HOOKS "/pre-commit", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("orig\n", buf);
	EXPECT_NE(0, access(HOOKS "/post-checkout", F_OK));
}

/* A held path that is a symlink would have its mount on the link's
 * target, and the link replaced: the run is refused, nothing written. */
TEST_F(esc, held_write_symlinked_path)
{
	char out[4096], buf[64] = "";
	struct stat st;
	FILE *f;

	ASSERT_EQ(0, held_setup());
	EXPECT_NE(0, run_as("heldlink", variant->as, "cd " DIR "/rw/proj; "
			    "echo THROUGH > conf.yml; echo EVIL > n; "
			    "mv -f n conf.yml; echo done", out, sizeof(out)))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "no symlink")) TH_LOG("%s", out);
	f = fopen(DIR "/rw/proj/conf.real", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("real\n", buf);
	ASSERT_EQ(0, lstat(DIR "/rw/proj/conf.yml", &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(esc, tmpfile_open_leaves_agentd_running)
{
	char out[4096];

	ASSERT_EQ(0, held_setup());
	ASSERT_EQ(0, run_as(HELD(variant), variant->as, "/usr/bin/python3 -c '\n"
			    "import os\n"
			    "try: os.open(\"" DIR "/rw\", os.O_TMPFILE | os.O_RDWR, 0o600); print(\"tmpfile\")\n"
			    "except OSError as e: print(\"no\", e.errno)\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "no 38")) TH_LOG("%s", out);
	EXPECT_EQ(0, waitpid(self->agentd, NULL, WNOHANG));
	/* and the exec guard is still there for the next sandbox */
	ASSERT_EQ(0, run_in("esc", "/lib64/ld-linux-x86-64.so.2 /usr/sbin/nologin; "
			    "echo status $?", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "status 137")) TH_LOG("%s", out);
}

/*
 * A root agent has no CAP_DAC_OVERRIDE: a file of another user in fs.write
 * that it cannot read is not opened for it by agentd (as uid 0 with all
 * of agentd's capabilities) either.
 */
TEST_F(one, root_gets_no_dac_override_through_agentd)
{
	char out[4096];

	ASSERT_EQ(0, held_setup());
	ASSERT_EQ(0, system("echo private > " DIR "/rw/priv && chown 1000:1000 "
			    DIR "/rw/priv && chmod 600 " DIR "/rw/priv"));
	ASSERT_EQ(0, run_as("held", "", "/usr/bin/python3 -c '\n"
			    "import os\n"
			    "try: print(\"read\", os.read(os.open(\"" DIR "/rw/priv\", os.O_RDWR), 64))\n"
			    "except OSError as e: print(\"no\", e.errno)\n'",
			    out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "private")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "no 13")) TH_LOG("%s", out);
}

/*
 * The exec guard stays when agentd is gone (its links are pinned, as the
 * BPF-LSM programs' are): an ELF interpreter run as a program is still
 * killed in a sandbox that outlives agentd.
 */
TEST_F(esc, exec_guard_outlives_agentd)
{
	char out[4096] = "", line[PATH_MAX + 512];
	FILE *f;
	int fd = -1, i;

	ASSERT_EQ(0, held_setup());
	ASSERT_EQ(0, mkfifo(DIR "/ro/go", 0666));
	f = fopen(DIR "/ro/try.sh", "w");
	ASSERT_NE(NULL, f);
	fputs("read x < " DIR "/ro/go; /lib64/ld-linux-x86-64.so.2 "
	      "/usr/bin/true; echo status $?\n", f);
	fclose(f);
	snprintf(line, sizeof(line), "%s/asbctl --socket " SOCK " run "
		 "--sandbox %s -- %s /bin/sh " DIR "/ro/try.sh > " DIR
		 "/out 2>&1 &", bindir, HELD(variant), variant->as);
	ASSERT_EQ(0, asb_sh(line, NULL, 0));
	/* the sandbox waits on the FIFO: it has a reader */
	for (i = 0; i < 200 && fd < 0; i++) {
		fd = open(DIR "/ro/go", O_WRONLY | O_NONBLOCK);
		if (fd < 0)
			usleep(50000);
	}
	ASSERT_LE(0, fd);
	kill(self->agentd, SIGKILL);
	waitpid(self->agentd, NULL, 0);
	self->agentd = 0;
	ASSERT_EQ(3, write(fd, "go\n", 3));
	close(fd);
	for (i = 0; i < 200 && !strstr(out, "status"); i++) {
		usleep(50000);
		f = fopen(DIR "/out", "r");
		if (f) {
			out[fread(out, 1, sizeof(out) - 1, f)] = 0;
			fclose(f);
		}
	}
	EXPECT_NE(NULL, strstr(out, "status 137")) TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
