// SPDX-License-Identifier: BSD-3-Clause
/*
 * Policy compiler tests: every bad policy is refused with the exact
 * FILE:LINE: message, good ones compile, images round-trip and lookups
 * find the most specific rule.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asb_test.h"
#include "policy.h"

/* Compile @text as the file "t.ini" in a fresh directory; diagnostics go
 * to *diag (malloc'ed). */
static int compile_text(const char *text, struct asb_image *img, char **diag,
			unsigned int *nwarn)
{
	char dir[] = "/tmp/asb-policy-XXXXXX", cwd[PATH_MAX];
	size_t len;
	FILE *f, *d;
	int ret;

	if (!mkdtemp(dir) || !getcwd(cwd, sizeof(cwd)) || chdir(dir))
		return -2;
	f = fopen("t.ini", "w");
	if (!f)
		return -2;
	fputs(text, f);
	fclose(f);
	d = open_memstream(diag, &len);
	ret = asb_policy_compile("t.ini", img, d, nwarn);
	fclose(d);
	unlink("t.ini");
	if (chdir(cwd))
		return -2;
	rmdir(dir);
	return ret;
}

/* ---- 1. bad policies: refused, exact FILE:LINE: message ---- */

FIXTURE(bad) {};
FIXTURE_SETUP(bad) {}
FIXTURE_TEARDOWN(bad) {}
FIXTURE_VARIANT(bad) {
	const char *text;
	const char *expect;
};

#define BAD(name, t, e) \
	FIXTURE_VARIANT_ADD(bad, name) { .text = t, .expect = e }

#define SB "[sandbox.a]\n"

BAD(unknown_section, SB "fs.read = /usr\n[foo]\n",
    "t.ini:3: unknown section [foo] (expected [agentd] or [sandbox.NAME])\n");
BAD(unknown_sandbox_key, SB "fs.raed = /usr\n",
    "t.ini:2: unknown key 'fs.raed' in [sandbox.a]\n");
BAD(unknown_agentd_key, "[agentd]\nsockett = /run/x\n" SB "fs.read = /usr\n",
    "t.ini:2: unknown key 'sockett' in [agentd]\n");
BAD(agentd_relative, "[agentd]\nsocket = run/x.sock\n" SB "fs.read = /usr\n",
    "t.ini:2: socket: 'run/x.sock' is not an absolute path\n");
BAD(empty_sandbox_name, "[sandbox.]\nfs.read = /usr\n",
    "t.ini:1: bad sandbox name '' (letters, digits, '_', '-', max 31)\n");
BAD(bad_sandbox_name, "[sandbox.a/b]\nfs.read = /usr\n",
    "t.ini:1: bad sandbox name 'a/b' (letters, digits, '_', '-', max 31)\n");
BAD(long_sandbox_name, "[sandbox.abcdefghijabcdefghijabcdefghijab]\nfs.read = /usr\n",
    "t.ini:1: bad sandbox name 'abcdefghijabcdefghijabcdefghijab' (letters, digits, '_', '-', max 31)\n");
BAD(duplicate_sandbox, SB "fs.read = /usr\n[sandbox.A]\nfs.read = /etc\n",
    "t.ini:3: duplicate section [sandbox.A] (first at line 1)\n");
BAD(duplicate_key, SB "fs.read = /usr\nfs.read = /etc\n",
    "t.ini:3: duplicate key 'fs.read' (first at line 2)\n");
BAD(key_outside_section, "fs.read = /usr\n" SB "fs.read = /usr\n",
    "t.ini:1: key 'fs.read' outside any section\n");
BAD(syntax_no_equals, SB "fs.read /usr\n",
    "t.ini:2: expected 'key = value', '[section]' or a comment\n");
BAD(syntax_missing_key, SB "= /usr\n",
    "t.ini:2: missing key before '='\n");
BAD(unterminated_section, "[sandbox.a\nfs.read = /usr\n",
    "t.ini:1: unterminated section header\n"
    "t.ini:2: key 'fs.read' outside any section\n");
BAD(junk_after_section, "[sandbox.a] x\nfs.read = /usr\n",
    "t.ini:1: unexpected text after section header\n"
    "t.ini:2: key 'fs.read' outside any section\n");
BAD(no_sandbox, "; nothing\n[agentd]\nsocket = /run/x.sock\n",
    "t.ini:1: no [sandbox.NAME] section\n");
BAD(empty_value, SB "fs.read =\n",
    "t.ini:2: fs.read: empty value\n");
BAD(relative_path, SB "fs.read = usr/lib\n",
    "t.ini:2: fs.read: 'usr/lib' is not an absolute path\n");
BAD(dotdot_path, SB "fs.write = /tmp/../etc\n",
    "t.ini:2: fs.write: '/tmp/../etc' is not normalized ('.' or '..' component)\n");
BAD(dot_path, SB "fs.exec = /usr/./bin\n",
    "t.ini:2: fs.exec: '/usr/./bin' is not normalized ('.' or '..' component)\n");
BAD(double_slash, SB "fs.read = /usr//lib\n",
    "t.ini:2: fs.read: '/usr//lib' is not normalized (empty component or trailing '/')\n");
BAD(trailing_slash, SB "fs.read = /usr/\n",
    "t.ini:2: fs.read: '/usr/' is not normalized (empty component or trailing '/')\n");
#define A16 "aaaaaaaaaaaaaaaa"
#define A256 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16 A16
BAD(long_component, SB "fs.read = /x/" A256 "\n",
    "t.ini:2: fs.read: path component too long in '/x/" A256 "' (max 255)\n");
BAD(bad_prefix4, SB "net.connect = 10.0.0.0/33:80\n",
    "t.ini:2: net.connect: '10.0.0.0/33:80': bad prefix length (0-32)\n");
BAD(bad_addr4, SB "net.connect = 300.1.1.1/32:80\n",
    "t.ini:2: net.connect: '300.1.1.1/32:80': bad IPv4 address '300.1.1.1'\n");
BAD(missing_port, SB "net.connect = 10.0.0.0/8\n",
    "t.ini:2: net.connect: '10.0.0.0/8': missing ':PORT' or ':LO-HI'\n");
BAD(port_zero, SB "net.bind = 127.0.0.1/32:0\n",
    "t.ini:2: net.bind: '127.0.0.1/32:0': bad port (1-65535)\n");
BAD(port_too_big, SB "net.connect = 127.0.0.1/32:65536\n",
    "t.ini:2: net.connect: '127.0.0.1/32:65536': bad port (1-65535)\n");
BAD(port_not_number, SB "net.connect = 127.0.0.1:http\n",
    "t.ini:2: net.connect: '127.0.0.1:http': bad port (1-65535)\n");
BAD(port_range_reversed, SB "net.connect = 127.0.0.1/32:90-80\n",
    "t.ini:2: net.connect: '127.0.0.1/32:90-80': port range 90-80 is reversed\n");
BAD(host_bits, SB "net.connect = 10.0.0.1/8:80\n",
    "t.ini:2: net.connect: '10.0.0.1/8:80': host bits set after /8\n");
BAD(v6_no_brackets, SB "net.connect = ::1/128:80\n",
    "t.ini:2: net.connect: '::1/128:80': IPv6 addresses go in brackets: [ADDR]/PREFIX:PORT\n");
BAD(v6_missing_bracket, SB "net.connect = [::1/128:80\n",
    "t.ini:2: net.connect: '[::1/128:80': missing ']'\n");
BAD(v6_bad_prefix, SB "net.bind = [::1]/129:80\n",
    "t.ini:2: net.bind: '[::1]/129:80': bad prefix length (0-128)\n");
BAD(v6_bad_addr, SB "net.connect = [fe80::zz]/64:80\n",
    "t.ini:2: net.connect: '[fe80::zz]/64:80': bad IPv6 address 'fe80::zz'\n");
BAD(any_with_prefix, SB "net.connect = any/0:80\n",
    "t.ini:2: net.connect: 'any/0:80': 'any' takes no prefix\n");
BAD(unix_under_write, SB "fs.write = /tmp/ws\nnet.unix = /tmp/ws/s.sock\n",
    "t.ini:3: net.unix: '/tmp/ws/s.sock': the sandbox may write at '/tmp/ws' (line 2): a link made there could name any socket\n");
BAD(ask_exec_under_write, SB "fs.write = /tmp/ws\napprove.exec = /tmp/ws/tools\n",
    "t.ini:3: approve.exec: '/tmp/ws/tools': the sandbox may write at '/tmp/ws' (line 2): it could move the program away and run it unasked\n");
BAD(io_uring_refused, SB "sys.allow = io_uring\n",
    "t.ini:2: sys.allow: io_uring is never allowed: its operations (socket, setsockopt, open, connect) are no system calls, so the filter and the approvals never see them\n");
BAD(unix_above_write, SB "fs.write = /run/user/1\nnet.unix = /run\n",
    "t.ini:3: net.unix: '/run': the sandbox may write at '/run/user/1' (line 2): a link made there could name any socket\n");
BAD(unix_relative, SB "net.unix = run/x.sock\n",
    "t.ini:2: net.unix: 'run/x.sock' is not an absolute path\n");
BAD(unknown_family, SB "net.deny_families = raw packet ipv9\n",
    "t.ini:2: net.deny_families: unknown family 'ipv9'\n");
BAD(approve_exec_relative, SB "approve.exec = curl\n",
    "t.ini:2: approve.exec: 'curl' is not an absolute path\n");
BAD(approve_connect_bad, SB "approve.connect = 1.2.3/24:443\n",
    "t.ini:2: approve.connect: '1.2.3/24:443': bad IPv4 address '1.2.3'\n");
BAD(approve_timeout_nan, SB "approve.timeout = soon\n",
    "t.ini:2: approve.timeout: 'soon' is not a number of seconds (1-86400)\n");
BAD(approve_timeout_zero, SB "approve.timeout = 0\n",
    "t.ini:2: approve.timeout: '0' is not a number of seconds (1-86400)\n");
BAD(approve_timeout_big, SB "approve.timeout = 86401\n",
    "t.ini:2: approve.timeout: '86401' is not a number of seconds (1-86400)\n");
BAD(approve_default_bad, SB "approve.default = maybe\n",
    "t.ini:2: approve.default: 'maybe' is not deny or allow\n");
BAD(audit_bad, SB "audit = some\n",
    "t.ini:2: audit: 'some' is not deny or all\n");
BAD(scalar_two_values, SB "audit = all deny\n",
    "t.ini:2: audit takes one value\n");
BAD(limit_unknown, SB "limits.files = 10\n",
    "t.ini:2: unknown key 'limits.files' in [sandbox.a] (expected limits.pids, limits.memory or limits.cpu)\n");
BAD(limit_pids_small, SB "limits.pids = 7\n",
    "t.ini:2: limits.pids: '7' is not a number of tasks (8-4194304) or max\n");
BAD(limit_pids_word, SB "limits.pids = lots\n",
    "t.ini:2: limits.pids: 'lots' is not a number of tasks (8-4194304) or max\n");
BAD(limit_memory_unit, SB "limits.memory = 2T\n",
    "t.ini:2: limits.memory: '2T' is not a size (16M-1T: N, NK, NM or NG) or max\n");
BAD(limit_memory_small, SB "limits.memory = 1M\n",
    "t.ini:2: limits.memory: '1M' is not a size (16M-1T: N, NK, NM or NG) or max\n");
BAD(limit_memory_overflow, SB "limits.memory = 99999999999999999999G\n",
    "t.ini:2: limits.memory: '99999999999999999999G' is not a size (16M-1T: N, NK, NM or NG) or max\n");
BAD(limit_cpu_no_percent, SB "limits.cpu = 50\n",
    "t.ini:2: limits.cpu: '50' is not a share of one CPU (1%-102400%) or max\n");
BAD(limit_two_values, SB "limits.cpu = 50% 60%\n",
    "t.ini:2: limits.cpu takes one value\n");
BAD(extends_unknown, SB "extends = nope\n",
    "t.ini:2: extends: no sandbox named 'nope'\n");
BAD(extends_self, SB "extends = a\n",
    "t.ini:2: extends cycle: a -> a\n");
BAD(extends_cycle, SB "extends = b\n[sandbox.b]\nextends = c\n[sandbox.c]\nextends = a\n",
    "t.ini:6: extends cycle: a -> b -> c -> a\n");
BAD(secret_relative_exe, SB "secret.TOKEN = exe:bin/gh env:GH_TOKEN\n",
    "t.ini:2: secret exe: 'bin/gh' is not an absolute path\n");
BAD(secret_no_exe, SB "secret.TOKEN = env:GH_TOKEN\n",
    "t.ini:2: secret.TOKEN: missing exe:/path/to/program\n");
BAD(secret_bad_name, SB "secret.9TOKEN = exe:/usr/bin/gh\n",
    "t.ini:2: secret name '9TOKEN' is invalid (letters, digits, '_', max 63)\n");
BAD(secret_bad_env, SB "secret.TOKEN = exe:/usr/bin/gh env:GH-TOKEN\n",
    "t.ini:2: secret.TOKEN: bad environment variable name 'GH-TOKEN'\n");
BAD(secret_unknown_item, SB "secret.TOKEN = exe:/usr/bin/gh file:/x\n",
    "t.ini:2: secret.TOKEN: unknown item 'file:/x' (expected exe:PATH or env:VAR)\n");
BAD(secret_two_exe, SB "secret.TOKEN = exe:/usr/bin/gh exe:/usr/bin/git\n",
    "t.ini:2: secret.TOKEN: more than one exe:\n");
BAD(secret_duplicate, SB "secret.TOKEN = exe:/usr/bin/gh\nsecret.token = exe:/usr/bin/git\n",
    "t.ini:3: duplicate key 'secret.token' (first at line 2)\n");
BAD(sys_allow_unknown, SB "sys.allow = userns kexec\n",
    "t.ini:2: sys.allow: unknown item 'kexec' (expected userns, ptrace)\n");
BAD(line_too_long, SB "fs.read = /x/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
    "t.ini:2: line too long (1022 bytes, max 1000)\n");
BAD(control_char, SB "fs.read = /usr\x01\n",
    "t.ini:2: control character 0x01 in line\n");
BAD(every_error_reported,
    SB "fs.read = relative\nnet.connect = 1.2.3.4/40:80\n[bogus]\n"
    "[sandbox.b]\nextends = missing\naudit = loud\n",
    "t.ini:2: fs.read: 'relative' is not an absolute path\n"
    "t.ini:3: net.connect: '1.2.3.4/40:80': bad prefix length (0-32)\n"
    "t.ini:4: unknown section [bogus] (expected [agentd] or [sandbox.NAME])\n"
    "t.ini:6: extends: no sandbox named 'missing'\n"
    "t.ini:7: audit: 'loud' is not deny or all\n");
BAD(continuation_error_line, SB "fs.read = /usr \\\n  /etc \\\n  etc/x\nfs.write = /tmp\nfs.exec = bin\n",
    "t.ini:2: fs.read: 'etc/x' is not an absolute path\n"
    "t.ini:6: fs.exec: 'bin' is not an absolute path\n");

TEST_F(bad, refused)
{
	struct asb_image img = { .hdr = (void *)1 };
	char *diag = NULL;

	ASSERT_EQ(-1, compile_text(variant->text, &img, &diag, NULL));
	ASSERT_EQ(NULL, img.hdr);
	EXPECT_STREQ(variant->expect, diag);
	free(diag);
}

/* The command line: status 1, the message on stderr, nothing on stdout. */
TEST(asbctl_check_refuses_bad_file)
{
	char dir[] = "/tmp/asb-policy-XXXXXX", cmd[PATH_MAX + 256], out[4096];
	char exe[PATH_MAX];
	ssize_t n;
	FILE *f, *p;
	int status;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_GT(n, 0);
	exe[n] = 0;
	*strrchr(exe, '/') = 0;		/* build/selftests */
	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "%s/bad.ini", dir);
	f = fopen(cmd, "w");
	ASSERT_NE(NULL, f);
	fputs("[sandbox.a]\nfs.read = /usr\nnet.bind = 127.0.0.1:99999\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && %s/../bin/asbctl policy check bad.ini 2>&1 >/dev/null",
		 dir, exe);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n > 0 ? n : 0] = 0;
	status = pclose(p);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_STREQ("bad.ini:3: net.bind: '127.0.0.1:99999': bad port (1-65535)\n", out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(0, system(cmd));
}

/* Options before or after the operand, as the README writes them. */
TEST(asbctl_options_after_operands)
{
	char bin[PATH_MAX], cmd[PATH_MAX + 256], out[65536];

	asb_bindir(bin, sizeof(bin));
	snprintf(cmd, sizeof(cmd), "%s/asbctl policy show policy/default.ini --json",
		 bin);
	ASSERT_EQ(0, asb_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "{", 1)) TH_LOG("%.200s", out);
	snprintf(cmd, sizeof(cmd), "%s/asbctl policy show --json policy/default.ini",
		 bin);
	ASSERT_EQ(0, asb_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(0, strncmp(out, "{", 1)) TH_LOG("%.200s", out);
}

/*
 * Implied rules: the ELF interpreter of a granted program (file or
 * directory), as interpreter only, and the helper for an env: secret, each
 * with the line of the rule that needs it; not without asb_policy_imply.
 */
TEST(implied_rules)
{
	static const char text[] =
		"[sandbox.a]\n"
		"fs.read = /usr/lib\n"
		"fs.exec = /usr/bin/cat\n"
		"secret.T = exe:/usr/bin/printenv env:T\n";
	const struct asb_image_sandbox *sb;
	const struct asb_image_rule *r;
	char interp[PATH_MAX], *diag = NULL;
	struct asb_image img;
	int n_interp = 0, n_helper = 0;

	ASSERT_NE(NULL, realpath("/lib64/ld-linux-x86-64.so.2", interp));
	ASSERT_EQ(0, compile_text(text, &img, &diag, NULL)) TH_LOG("%s", diag);
	free(diag);
	EXPECT_EQ(2, img.hdr->n_rules);
	asb_image_free(&img);

	/* any existing file stands for asb-secret here */
	asb_policy_imply("/usr/bin/env");
	ASSERT_EQ(0, compile_text(text, &img, &diag, NULL)) TH_LOG("%s", diag);
	free(diag);
	asb_policy_imply(NULL);
	sb = asb_image_find_sandbox(&img, "a");
	ASSERT_NE(NULL, sb);
	r = asb_image_rules(&img) + sb->first_rule;
	for (uint32_t i = 0; i < sb->n_rules; i++) {
		const char *path = asb_image_str(&img, r[i].path);

		if (r[i].flags & ASB_RULE_F_INTERP) {
			n_interp++;
			EXPECT_EQ(ASB_RULE_FS_EXEC, r[i].kind);
			EXPECT_STREQ(interp, path);
			EXPECT_EQ(3, r[i].line);
			EXPECT_TRUE(r[i].flags & ASB_RULE_F_IMPLIED);
		} else if (r[i].flags & ASB_RULE_F_IMPLIED) {
			n_helper++;
			EXPECT_EQ(ASB_RULE_FS_EXEC, r[i].kind);
			EXPECT_STREQ("/usr/bin/env", path);
			EXPECT_EQ(4, r[i].line);
		}
	}
	EXPECT_EQ(1, n_interp);
	EXPECT_EQ(1, n_helper);
	asb_image_free(&img);
}

/* ---- 2. good policies ---- */

TEST(examples_compile)
{
	static const char *const files[] = {
		"policy/default.ini", "policy/examples/coding-agent.ini",
		"policy/examples/research-agent.ini",
		"policy/examples/ci-runner.ini",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct asb_image img;

		ASSERT_EQ(0, asb_policy_compile(files[i], &img, stderr, NULL))
			TH_LOG("%s", files[i]);
		ASSERT_EQ(0, asb_image_verify(img.hdr, img.size, NULL, 0));
		asb_image_free(&img);
	}
}

TEST(embedded_default_is_the_file)
{
	struct asb_image a, b;

	ASSERT_EQ(0, asb_policy_compile_mem("x", asb_default_policy,
					    asb_default_policy_len, &a, stderr, NULL));
	ASSERT_EQ(0, asb_policy_compile("policy/default.ini", &b, stderr, NULL));
	EXPECT_EQ(a.hdr->n_rules, b.hdr->n_rules);
	EXPECT_EQ(a.hdr->n_sandboxes, b.hdr->n_sandboxes);
	EXPECT_NE(NULL, asb_image_find_sandbox(&a, "agent"));
	asb_image_free(&a);
	asb_image_free(&b);
}

TEST(warnings_for_shadowed_rules)
{
	struct asb_image img;
	unsigned int nwarn;
	char *diag;

	ASSERT_EQ(0, compile_text(
		"[sandbox.base]\nfs.read = /usr\n"
		"[sandbox.a]\nextends = base\nfs.read = /usr/lib /usr/lib\n"
		"net.connect = 10.0.0.0/8:1-1000 10.1.0.0/16:80\n"
		"net.bind = 127.0.0.1:80\nnet.deny_families = inet\n",
		&img, &diag, &nwarn));
	EXPECT_EQ(6, nwarn);
	EXPECT_STREQ(
		"t.ini:5: warning: fs.read /usr/lib is already covered by /usr (line 2)\n"
		"t.ini:5: warning: fs.read /usr/lib: duplicate of line 5\n"
		"t.ini:6: warning: net.connect 10.0.0.0/8:1-1000 can never match: inet is in net.deny_families\n"
		"t.ini:6: warning: net.connect 10.1.0.0/16:80 can never match: inet is in net.deny_families\n"
		"t.ini:6: warning: net.connect 10.1.0.0/16:80 is already covered by 10.0.0.0/8:1-1000 (line 6)\n"
		"t.ini:7: warning: net.bind 127.0.0.1/32:80 can never match: inet is in net.deny_families\n",
		diag);
	free(diag);
	asb_image_free(&img);
}

TEST(extends_inherits)
{
	const struct asb_image_sandbox *sb;
	const struct asb_image_rule *r;
	struct asb_image img;
	char *diag;

	ASSERT_EQ(0, compile_text(
		"[sandbox.base]\nfs.read = /usr\nnet.deny_families = packet\n"
		"approve.timeout = 5\naudit = all\n"
		"secret.K = exe:/usr/bin/a env:K\n"
		"[sandbox.kid]\nextends = base\nfs.write = /tmp\n"
		"net.deny_families = raw\naudit = deny\n",
		&img, &diag, NULL));
	EXPECT_STREQ("", diag);
	free(diag);
	sb = asb_image_find_sandbox(&img, "kid");
	ASSERT_NE(NULL, sb);
	EXPECT_EQ(2, sb->n_rules);
	EXPECT_EQ(5, sb->ask_timeout);
	EXPECT_EQ(1ull << AF_PACKET, sb->deny_families);
	EXPECT_TRUE(sb->flags & ASB_SB_DENY_RAW);
	EXPECT_FALSE(sb->flags & ASB_SB_AUDIT_ALL);
	EXPECT_EQ(1, sb->n_secrets);
	r = asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "/usr/bin/ls");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(2, r->line);		/* the base's line */
	EXPECT_STREQ("t.ini", asb_image_str(&img, r->file));
	asb_image_free(&img);
}

/* limits.*: inherited, overridden, lifted with "max" */
TEST(limits)
{
	const struct asb_image_sandbox *sb;
	struct asb_image img;
	char *diag;

	ASSERT_EQ(0, compile_text(
		"[sandbox.base]\nlimits.pids = 512\nlimits.memory = 2G\n"
		"limits.cpu = 150%\n"
		"[sandbox.kid]\nextends = base\nlimits.memory = 65536K\n"
		"limits.cpu = max\n",
		&img, &diag, NULL));
	EXPECT_STREQ("", diag);
	free(diag);
	sb = asb_image_find_sandbox(&img, "base");
	ASSERT_NE(NULL, sb);
	EXPECT_EQ(512, sb->pids_max);
	EXPECT_EQ(2ull << 30, sb->mem_max);
	EXPECT_EQ(150, sb->cpu_pct);
	sb = asb_image_find_sandbox(&img, "kid");
	ASSERT_NE(NULL, sb);
	EXPECT_EQ(512, sb->pids_max);
	EXPECT_EQ(64ull << 20, sb->mem_max);
	EXPECT_EQ(0, sb->cpu_pct);
	asb_image_free(&img);
}

TEST(path_lookup)
{
	const struct asb_image_sandbox *sb;
	const struct asb_image_rule *r;
	struct asb_image img;
	char *diag;

	ASSERT_EQ(0, compile_text("[sandbox.a]\nfs.read = /usr /srv/data/x\n"
				  "fs.write = /srv/data\nfs.exec = /\n",
				  &img, &diag, NULL));
	free(diag);
	sb = asb_image_find_sandbox(&img, "a");
	ASSERT_NE(NULL, sb);
	EXPECT_EQ(NULL, asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "/usrx"));
	EXPECT_EQ(NULL, asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "/"));
	EXPECT_EQ(NULL, asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "/srv/data"));
	EXPECT_EQ(NULL, asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "relative"));
	r = asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "/usr");
	ASSERT_NE(NULL, r);
	r = asb_image_match_path(&img, sb, ASB_RULE_FS_READ, "/srv/data/x/y/z");
	ASSERT_NE(NULL, r);
	EXPECT_STREQ("/srv/data/x", asb_image_str(&img, r->path));
	r = asb_image_match_path(&img, sb, ASB_RULE_FS_WRITE, "/srv/data/x/y");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(3, r->line);
	r = asb_image_match_path(&img, sb, ASB_RULE_FS_EXEC, "/anything/at/all");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(4, r->line);
	asb_image_free(&img);
}

TEST(net_lookup)
{
	const struct asb_image_sandbox *sb;
	const struct asb_image_rule *r;
	struct asb_image img;
	uint8_t a4[4], a6[16];
	char *diag;

	ASSERT_EQ(0, compile_text("[sandbox.a]\n"
				  "net.connect = 10.0.0.0/8:443 10.1.2.0/24:80-90 [2001:db8::]/32:22\n"
				  "net.bind = any:8080\n",
				  &img, &diag, NULL));
	EXPECT_STREQ("", diag);
	free(diag);
	sb = asb_image_find_sandbox(&img, "a");
	ASSERT_NE(NULL, sb);
	inet_pton(AF_INET, "10.1.2.3", a4);
	r = asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT, ASB_NET_IP4, a4, 85);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(24, r->prefix);
	r = asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT, ASB_NET_IP4, a4, 443);
	ASSERT_NE(NULL, r);
	EXPECT_EQ(8, r->prefix);
	EXPECT_EQ(NULL, asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT,
					    ASB_NET_IP4, a4, 91));
	inet_pton(AF_INET, "11.0.0.1", a4);
	EXPECT_EQ(NULL, asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT,
					    ASB_NET_IP4, a4, 443));
	inet_pton(AF_INET6, "2001:db8:1::5", a6);
	EXPECT_NE(NULL, asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT,
					    ASB_NET_IP6, a6, 22));
	EXPECT_EQ(NULL, asb_image_match_net(&img, sb, ASB_RULE_NET_CONNECT,
					    ASB_NET_IP6, a6, 23));
	EXPECT_NE(NULL, asb_image_match_net(&img, sb, ASB_RULE_NET_BIND,
					    ASB_NET_IP6, a6, 8080));
	EXPECT_NE(NULL, asb_image_match_net(&img, sb, ASB_RULE_NET_BIND,
					    ASB_NET_IP4, a4, 8080));
	asb_image_free(&img);
}

/* ---- 3. the image format ---- */

TEST(image_round_trip)
{
	char path[] = "/tmp/asb-img-XXXXXX", why[128];
	struct asb_image a, b;
	int fd;

	ASSERT_EQ(0, asb_policy_compile("policy/examples/research-agent.ini",
					&a, stderr, NULL));
	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	close(fd);
	ASSERT_EQ(0, asb_image_save(&a, path));
	ASSERT_EQ(0, asb_image_load(path, &b, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(a.size, b.size);
	EXPECT_EQ(0, memcmp(a.hdr, b.hdr, a.size));
	unlink(path);
	asb_image_free(&a);
	asb_image_free(&b);
}

TEST(image_corruption_refused)
{
	char why[128];
	struct asb_image img;
	uint8_t *copy;

	ASSERT_EQ(0, asb_policy_compile("policy/default.ini", &img, stderr, NULL));
	copy = malloc(img.size);
	ASSERT_NE(NULL, copy);
	/* every single flipped byte is caught */
	for (size_t i = 0; i < img.size; i++) {
		memcpy(copy, img.hdr, img.size);
		copy[i] ^= 0x41;
		ASSERT_EQ(-1, asb_image_verify(copy, img.size, why, sizeof(why)))
			TH_LOG("byte %zu", i);
	}
	EXPECT_EQ(-1, asb_image_verify(img.hdr, img.size - 1, why, sizeof(why)));
	EXPECT_EQ(0, strncmp(why, "size mismatch", 13)) TH_LOG("%s", why);
	EXPECT_EQ(-1, asb_image_verify(img.hdr, 10, why, sizeof(why)));
	EXPECT_STREQ("truncated header (10 bytes)", why);
	memcpy(copy, img.hdr, img.size);
	((struct asb_image_hdr *)copy)->magic = 0;
	EXPECT_EQ(-1, asb_image_verify(copy, img.size, why, sizeof(why)));
	EXPECT_STREQ("bad magic 0x00000000", why);
	free(copy);
	asb_image_free(&img);
}

TEST_HARNESS_MAIN
