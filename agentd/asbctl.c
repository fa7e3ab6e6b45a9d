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
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "launch.h"
#include "policy.h"
#include "seccomp.h"
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
		"  pending [--json]\n"
		"  approve ID [--always]\n"
		"  deny ID\n"
		"  watch\n"
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
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
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

/*
 * notify_cb: the listener goes to agentd, which answers every held
 * syscall; our copy is closed, so if agentd dies the listener is gone and
 * the held syscalls fail (ENOSYS): fail closed.
 */
static int pass_listener(int fd, pid_t child, void *arg)
{
	char err[256];

	if (asb_ctl_pass_listener(ctl_socket, *(uint32_t *)arg, child, fd,
				  err, sizeof(err)) < 0) {
		fprintf(stderr, "asbctl: approvals: %s\n", err);
		return -1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	uint32_t sbid;
	static const struct option opts[] = {
		{ "sandbox", required_argument, NULL, 's' },
		{ "policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sandbox = NULL, *policy = NULL, *hide[2] = { NULL };
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
	if (policy) {
		char abs[PATH_MAX];

		if (!realpath(policy, abs)) {
			fprintf(stderr, "asbctl: %s: %s\n", policy, strerror(errno));
			return 1;
		}
		if (strlen(abs) >= sizeof(req.policy)) {
			fprintf(stderr, "asbctl: %s: path too long\n", policy);
			return 1;
		}
		strcpy(req.policy, abs);
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
	if (lo.sb && (lo.ask = asb_seccomp_ask_mask(&img, lo.sb,
					run->flags & ASB_CTL_RUN_KERNEL_ASK))) {
		sbid = run->sbid;
		lo.notify_cb = pass_listener;
		lo.notify_arg = &sbid;
	}
	lo.report = report;
	lo.report_len = sizeof(report);
	lo.kernel_fs = run->flags & ASB_CTL_RUN_KERNEL_FS;
	lo.hide = hide;
	if (!lo.sb) {
		fprintf(stderr, "asbctl: no sandbox '%s' in %s\n", sandbox,
			run->image);
		return ASB_LAUNCH_EXIT_SETUP;
	}
	hide[0] = ctl_socket;
	ret = asb_launch(&lo, &status);
	if (report[0] && (ret < 0 || getenv("ASB_VERBOSE")))
		fprintf(stderr, "%s", report);
	asb_image_free(&img);
	free(out);
	return ret < 0 ? ASB_LAUNCH_EXIT_SETUP : status;
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sandbox", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sandbox = NULL;
	char *end;
	long pid;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c != 's') {
			usage(stderr);
			return 2;
		}
		sandbox = optarg;
	}
	if (!sandbox || argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	pid = strtol(argv[optind], &end, 10);
	if (*end || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, "asbctl: bad pid '%s'\n", argv[optind]);
		return 2;
	}
	return simple_call(ASB_CTL_ATTACH, sandbox, pid);
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
	while ((c = getopt_long(argc, argv, "fjl:", opts, NULL)) != -1) {
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

static int root_only(void)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "asbctl: approving and denying is for root only: "
		"agentd's control socket (%s) accepts root peers only; "
		"run it with sudo\n", ctl_socket);
	return 1;
}

static int cmd_pending(int argc, char **argv)
{
	struct asb_ctl_req req;
	char *out;
	size_t len;
	int ret;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json"))) {
		usage(stderr);
		return 2;
	}
	if (root_only())
		return 1;
	asb_ctl_req_init(&req, ASB_CTL_PENDING);
	req.flags = argc == 2 ? ASB_CTL_F_JSON : 0;
	ret = asb_ctl_call(ctl_socket, &req, &out, &len);
	if (ret < 0)
		fprintf(stderr, "asbctl: %s\n", out && len ? out : strerror(-ret));
	else if (len)
		fwrite(out, 1, len, stdout);
	free(out);
	return ret < 0 ? 1 : 0;
}

static int answer(uint32_t id, int how, bool quiet)
{
	struct asb_ctl_req req;
	char *out;
	size_t len;
	int ret;

	asb_ctl_req_init(&req, ASB_CTL_ANSWER);
	req.id = id;
	req.flags = (uint32_t)how;
	ret = asb_ctl_call(ctl_socket, &req, &out, &len);
	if (ret < 0 || !quiet)
		fprintf(ret < 0 ? stderr : stdout, "%s%s\n",
			ret < 0 ? "asbctl: " : "",
			out && len ? out : strerror(-ret));
	free(out);
	return ret;
}

static int parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || !v || v > UINT32_MAX) {
		fprintf(stderr, "asbctl: bad request id '%s'\n", s);
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

static int cmd_answer(int argc, char **argv, bool allow)
{
	static const struct option opts[] = {
		{ "always", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool always = false;
	uint32_t id;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a' || !allow) {
			usage(stderr);
			return 2;
		}
		always = true;
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}
	if (root_only())
		return 1;
	if (parse_id(argv[optind], &id) < 0)
		return 2;
	return answer(id, !allow ? ASB_CTL_ANSWER_DENY : always ?
		      ASB_CTL_ANSWER_ALWAYS : ASB_CTL_ANSWER_ALLOW, false) < 0;
}

/* ---- asbctl watch: an interactive prompt, line by line (ssh-friendly) ---- */

#define WATCH_QUEUE	4096

struct wq {
	char *line[WATCH_QUEUE];
	unsigned int n;
	bool prompted;
};

static void wq_drop(struct wq *q, unsigned int i)
{
	free(q->line[i]);
	memmove(&q->line[i], &q->line[i + 1], (q->n - i - 1) * sizeof(char *));
	q->n--;
}

static void wq_prompt(struct wq *q)
{
	const char *l, *d;

	if (q->prompted || !q->n)
		return;
	l = q->line[0];
	d = strstr(l, " rule=");
	/* "ID SANDBOX PID ACTION OBJECT" then the details */
	printf("\nrequest %.*s\n  %s\n", d ? (int)(d - l) : (int)strlen(l), l,
	       d ? d + 1 : "");
	printf("allow? [y]es / [n]o / [a]lways (%u waiting): ", q->n);
	fflush(stdout);
	q->prompted = true;
}

static int cmd_watch(int argc, char **argv)
{
	struct asb_ctl_req req;
	struct wq q = { .n = 0 };
	char buf[8192], in[256];
	size_t inlen = 0;
	ssize_t n;
	int fd, ret = 0;

	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	if (root_only())
		return 1;
	asb_ctl_req_init(&req, ASB_CTL_WATCH);
	fd = asb_ctl_open(ctl_socket, &req);
	if (fd < 0) {
		fprintf(stderr, "asbctl: %s: %s\n", ctl_socket, strerror(-fd));
		return 1;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(struct asb_ctl_rep) ||
	    ((struct asb_ctl_rep *)buf)->status < 0) {
		fprintf(stderr, "asbctl: watch refused by agentd\n");
		close(fd);
		return 1;
	}
	printf("watching for approval requests (y = allow, n = deny, "
	       "a = always, q = quit)\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = 0, .events = POLLIN },
		};

		wq_prompt(&q);
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = 1;
			break;
		}
		if (p[0].revents) {
			unsigned long id;

			n = recv(fd, buf, sizeof(buf) - 1, 0);
			if (n <= 0) {
				printf("\nagentd closed the connection\n");
				ret = 1;
				break;
			}
			buf[n] = 0;
			buf[strcspn(buf, "\n")] = 0;
			if (buf[0] == '=' || buf[0] == '!') {
				/* the outcome of our own answer */
				fprintf(buf[0] == '=' ? stdout : stderr, "%s%s\n",
					buf[0] == '=' ? "" : "asbctl: ", buf + 1);
				fflush(stdout);
				continue;
			}
			if (buf[0] != '-') {
				if (q.n < WATCH_QUEUE && (q.line[q.n] = strdup(buf)))
					q.n++;
				if (q.n > 1 && q.prompted) {
					printf("\n(%u waiting) allow? [y/n/a]: ", q.n);
					fflush(stdout);
				}
				continue;
			}
			/* "-ID VERDICT BY": answered elsewhere, timed out, gone */
			id = strtoul(buf + 1, NULL, 10);
			for (unsigned int i = 0; i < q.n; i++) {
				if (strtoul(q.line[i], NULL, 10) != id)
					continue;
				if (i == 0 && q.prompted) {
					printf("\nrequest %lu: %s\n", id,
					       strchr(buf, ' ') ?
					       strchr(buf, ' ') + 1 : buf);
					q.prompted = false;
				}
				wq_drop(&q, i);
				break;
			}
			continue;
		}
		if (!p[1].revents)
			continue;
		n = read(0, in + inlen, sizeof(in) - 1 - inlen);
		if (n <= 0)
			break;	/* end of input: leave, nothing answered */
		inlen += (size_t)n;
		in[inlen] = 0;
		while (strchr(in, '\n') || inlen == sizeof(in) - 1) {
			char *nl = strchr(in, '\n');
			size_t used = nl ? (size_t)(nl - in + 1) : inlen;
			char c = in[strspn(in, " \t")];
			int how = -1;

			if (c == 'q' || c == 'Q') {
				close(fd);
				return 0;
			}
			if (c == 'y' || c == 'Y')
				how = ASB_CTL_ANSWER_ALLOW;
			else if (c == 'n' || c == 'N')
				how = ASB_CTL_ANSWER_DENY;
			else if (c == 'a' || c == 'A')
				how = ASB_CTL_ANSWER_ALWAYS;
			memmove(in, in + used, inlen - used + 1);
			inlen -= used;
			if (!q.n)
				continue;
			if (how < 0) {
				printf("answer y, n or a: ");
				fflush(stdout);
				continue;
			}
			asb_ctl_req_init(&req, ASB_CTL_ANSWER);
			req.id = (uint32_t)strtoul(q.line[0], NULL, 10);
			req.flags = (uint32_t)how;
			/* on the watch connection: "=SUMMARY" or "!WHY"
			 * comes back */
			if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) < 0) {
				printf("\nagentd closed the connection\n");
				ret = 1;
				goto out;
			}
			wq_drop(&q, 0);
			q.prompted = false;
		}
	}
out:
	while (q.n)
		wq_drop(&q, 0);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	char helper[PATH_MAX];

	asb_ctl_helper(helper, sizeof(helper));
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
	if (argc >= 2 && !strcmp(argv[1], "pending"))
		return cmd_pending(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "approve"))
		return cmd_answer(argc - 1, argv + 1, true);
	if (argc >= 2 && !strcmp(argv[1], "deny"))
		return cmd_answer(argc - 1, argv + 1, false);
	if (argc >= 2 && !strcmp(argv[1], "watch"))
		return cmd_watch(argc - 1, argv + 1);
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
