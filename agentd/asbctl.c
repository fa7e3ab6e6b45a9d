// SPDX-License-Identifier: BSD-3-Clause
/*
 * asbctl: the operator's command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "ctl.h"
#include "launch.h"
#include "policy.h"
#include "vault.h"

static const char *ctl_socket = ASB_CTL_SOCKET_DEFAULT;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: asbctl [--socket PATH] COMMAND\n"
		"  run --sandbox NAME [--policy FILE] -- CMD [ARGS]\n"
		"  attach --sandbox NAME PID\n"
		"  status\n"
		"  reload\n"
		"  audit [--follow] [--json] [--log FILE]\n"
		"  policy check FILE...\n"
		"  policy show [FILE] [--json]\n"
		"  vault [--vault FILE] [--policy FILE] init|put|ls|rm|rekey|unlock|lock\n");
}

/* Compile @path, or the embedded default policy when @path is NULL. */
static int compile(const char *path, struct asb_image *img, unsigned int *nwarn)
{
	if (path)
		return asb_policy_compile(path, img, stderr, nwarn);
	return asb_policy_compile_mem(ASB_DEFAULT_POLICY_NAME,
				      asb_default_policy,
				      asb_default_policy_len, img, stderr,
				      nwarn);
}

static int policy_check(int argc, char **argv)
{
	int ret = 0;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct asb_image img;
		unsigned int nwarn;

		if (compile(argv[i], &img, &nwarn) < 0) {
			ret = 1;
			continue;
		}
		printf("%s: ok, %u sandboxes, %u rules, %u secrets, %u warnings\n",
		       argv[i], img.hdr->n_sandboxes, img.hdr->n_rules,
		       img.hdr->n_secrets, nwarn);
		asb_image_free(&img);
	}
	return ret;
}

static int policy_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct asb_image img;
	bool json = false;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+j", opts, NULL)) != -1) {
		if (c != 'j') {
			usage(stderr);
			return 2;
		}
		json = true;
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	if (compile(optind < argc ? argv[optind] : NULL, &img, NULL) < 0)
		return 1;
	asb_image_print(&img, stdout, json);
	asb_image_free(&img);
	return 0;
}

static int cmd_policy(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "check"))
		return policy_check(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "show"))
		return policy_show(argc, argv);
	usage(stderr);
	return 2;
}

/* One request to agentd; prints its text reply. */
static int simple_call(int cmd, const char *sandbox, unsigned int pid)
{
	struct asb_ctl_req req;
	char *out;
	size_t len;
	int ret;

	asb_ctl_req_init(&req, cmd);
	if (sandbox)
		snprintf(req.sandbox, sizeof(req.sandbox), "%s", sandbox);
	req.pid = pid;
	ret = asb_ctl_call(ctl_socket, &req, &out, &len);
	if (out && len)
		fprintf(ret < 0 ? stderr : stdout, "%s%s", out,
			out[len - 1] == '\n' ? "" : "\n");
	else if (ret < 0)
		fprintf(stderr, "asbctl: %s: %s\n", ctl_socket, strerror(-ret));
	free(out);
	return ret < 0 ? 1 : 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sandbox", required_argument, NULL, 's' },
		{ "policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sandbox = NULL, *policy = NULL;
	struct asb_launch_opts lo = { .cgroup_fd = -1 };
	const struct asb_ctl_run *run;
	struct asb_image img;
	struct asb_ctl_req req;
	char *out, why[256], report[2048] = "";
	size_t len;
	int c, ret, status;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+s:p:", opts, NULL)) != -1) {
		switch (c) {
		case 's': sandbox = optarg; break;
		case 'p': policy = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (!sandbox || optind >= argc) {
		usage(stderr);
		return 2;
	}
	asb_ctl_req_init(&req, ASB_CTL_RUN);
	if (strlen(sandbox) >= sizeof(req.sandbox)) {
		fprintf(stderr, "asbctl: sandbox name too long\n");
		return 2;
	}
	strcpy(req.sandbox, sandbox);
	if (policy && !realpath(policy, req.policy)) {
		fprintf(stderr, "asbctl: %s: %s\n", policy, strerror(errno));
		return 1;
	}
	ret = asb_ctl_call(ctl_socket, &req, &out, &len);
	if (ret < 0) {
		if (out && len)
			fprintf(stderr, "%s%s", out, out[len - 1] == '\n' ? "" : "\n");
		else
			fprintf(stderr, "asbctl: %s: %s\n", ctl_socket,
				strerror(-ret));
		free(out);
		return ASB_LAUNCH_EXIT_SETUP;
	}
	if (len != sizeof(*run)) {
		fprintf(stderr, "asbctl: malformed reply from agentd\n");
		free(out);
		return ASB_LAUNCH_EXIT_SETUP;
	}
	run = (const struct asb_ctl_run *)out;
	if (asb_image_load(run->image, &img, why, sizeof(why)) < 0) {
		fprintf(stderr, "asbctl: %s\n", why);
		free(out);
		return ASB_LAUNCH_EXIT_SETUP;
	}
	lo.argv = argv + optind;
	lo.cgroup_path = run->cgroup;
	lo.img = &img;
	lo.sb = asb_image_find_sandbox(&img, sandbox);
	lo.sb_flags = lo.sb ? lo.sb->flags : 0;
	lo.report = report;
	lo.report_len = sizeof(report);
	if (!lo.sb) {
		fprintf(stderr, "asbctl: no sandbox '%s' in %s\n", sandbox,
			run->image);
		return ASB_LAUNCH_EXIT_SETUP;
	}
	ret = asb_launch(&lo, &status);
	if (report[0] && getenv("ASB_VERBOSE"))
		fprintf(stderr, "%s", report);
	asb_image_free(&img);
	free(out);
	return ret < 0 ? ASB_LAUNCH_EXIT_SETUP : status;
}

static int cmd_attach(int argc, char **argv)
{
	char *end;
	long pid;

	if (argc != 4 || strcmp(argv[1], "--sandbox")) {
		usage(stderr);
		return 2;
	}
	pid = strtol(argv[3], &end, 10);
	if (*end || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, "asbctl: bad pid '%s'\n", argv[3]);
		return 2;
	}
	return simple_call(ASB_CTL_ATTACH, argv[2], pid);
}

/* One audit record, readable: TIME SANDBOX PID COMM VERDICT ACTION OBJECT RULE */
static void print_audit_line(const char *line, bool json)
{
	static const char *const keys[] = {
		"time", "sandbox", "pid", "comm", "verdict", "action",
		"object", "rule",
	};

	if (json) {
		fputs(line, stdout);
		return;
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char pat[32];
		const char *p;
		size_t n = 0;

		snprintf(pat, sizeof(pat), "\"%s\":", keys[k]);
		p = strstr(line, pat);
		if (p) {
			p += strlen(pat);
			if (*p == '"') {
				p++;
				while (p[n] && !(p[n] == '"' && p[n - 1] != '\\'))
					n++;
			} else {
				n = strcspn(p, ",}");
			}
		}
		printf("%s%.*s", k ? " " : "", (int)n, p ? p : "-");
	}
	putchar('\n');
}

static int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *log = "/var/log/asb/audit.jsonl";
	bool follow = false, json = false;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+fjl:", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'j': json = true; break;
		case 'l': log = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	f = fopen(log, "re");
	if (!f) {
		fprintf(stderr, "asbctl: %s: %s\n", log, strerror(errno));
		return 1;
	}
	for (;;) {
		while (getline(&line, &cap, f) > 0)
			print_audit_line(line, json);
		if (!follow)
			break;
		fflush(stdout);
		clearerr(f);
		usleep(200000);
	}
	free(line);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--socket")) {
		ctl_socket = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc >= 2 && !strcmp(argv[1], "policy"))
		return cmd_policy(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "vault"))
		return asb_vaultctl(argc - 1, argv + 1, ctl_socket);
	if (argc >= 2 && !strcmp(argv[1], "audit"))
		return cmd_audit(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "status"))
		return simple_call(ASB_CTL_STATUS, NULL, 0);
	if (argc == 2 && !strcmp(argv[1], "reload"))
		return simple_call(ASB_CTL_RELOAD, NULL, 0);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
