// SPDX-License-Identifier: BSD-3-Clause
/*
 * asbctl vault: the operator's side of the vault. Works on the vault file
 * directly (root only); agentd notices a changed file at its next fetch.
 * Values are read from stdin only, never from argv, and never printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <asb/broker.h>

#include "ctl.h"
#include "policy.h"
#include "vault.h"

struct vctl {
	const char *vault;
	const char *policy;
	const char *ctl_socket;
	int pass_fd;		/* -1: /dev/tty */
	char keyfile[ASB_PATH_MAX + 8];
	int lock_fd;
};

static void vusage(FILE *out)
{
	fprintf(out,
		"usage: asbctl vault [--vault FILE] [--policy FILE] [--passphrase-fd N] COMMAND\n"
		"  init [--passphrase]   new vault: key file FILE.key, or a passphrase (Argon2id)\n"
		"  put NAME              store the value read from stdin (one trailing newline dropped)\n"
		"  ls                    names, sizes, dates and the policy's grants (never values)\n"
		"  rm NAME\n"
		"  rekey                 new key (or new passphrase); every record resealed\n"
		"  unlock | lock         passphrase mode: give agentd the key / take it back\n");
}

/* A passphrase line into locked memory. */
static char *read_pass(struct vctl *c, const char *prompt, size_t *len)
{
	char *buf = sodium_malloc(1024);
	struct termios t, old;
	int fd = c->pass_fd, tty = -1;
	size_t n = 0;
	char ch;

	if (!buf)
		return NULL;
	if (fd < 0) {
		tty = fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "asbctl: no terminal for the passphrase: use --passphrase-fd N\n");
			sodium_free(buf);
			return NULL;
		}
		if (write(fd, prompt, strlen(prompt)) < 0)
			(void)0;
		tcgetattr(fd, &old);
		t = old;
		t.c_lflag &= ~ECHO;
		tcsetattr(fd, TCSAFLUSH, &t);
	}
	while (n < 1023 && read(fd, &ch, 1) == 1 && ch != '\n')
		buf[n++] = ch;
	buf[n] = 0;
	if (tty >= 0) {
		tcsetattr(tty, TCSAFLUSH, &old);
		if (write(tty, "\n", 1) < 0)
			(void)0;
		close(tty);
	}
	if (!n) {
		fprintf(stderr, "asbctl: empty passphrase\n");
		sodium_free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* The vault's directory, made root's and 0700 if it is missing. */
static int make_dir(const char *file)
{
	char dir[ASB_PATH_MAX], *p;

	snprintf(dir, sizeof(dir), "%s", file);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = 0;
	for (p = dir + 1; ; p++) {
		bool last = !*p;

		if (!last && *p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "asbctl: %s: %s\n", dir, strerror(errno));
			return -1;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static int lock_vault(struct vctl *c)
{
	char path[ASB_PATH_MAX + 8];

	if (make_dir(c->vault))
		return -1;
	snprintf(path, sizeof(path), "%s.lock", c->vault);
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX) < 0) {
		fprintf(stderr, "asbctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The key of an existing vault: key file, or passphrase -> Argon2id. */
static struct asb_vault_keys *get_keys(struct vctl *c,
				       const struct asb_vault_hdr *h)
{
	struct asb_vault_keys *k = asb_vault_keys_new();
	char err[300], *pass;
	size_t plen;
	int ret;

	if (!k)
		return NULL;
	if (h->kdf == ASB_VAULT_KDF_KEYFILE) {
		ret = asb_vault_keyfile_read(c->keyfile, k, err, sizeof(err));
	} else {
		pass = read_pass(c, "vault passphrase: ", &plen);
		if (!pass) {
			asb_vault_keys_free(k);
			return NULL;
		}
		ret = asb_vault_key_derive(pass, plen, h, k, err, sizeof(err));
		sodium_free(pass);
	}
	if (ret) {
		fprintf(stderr, "asbctl: %s\n", err);
		asb_vault_keys_free(k);
		return NULL;
	}
	return k;
}

static struct asb_vault *open_vault(struct vctl *c, bool create)
{
	struct asb_vault_hdr h;
	struct asb_vault_keys *k;
	struct asb_vault *v;
	char err[400];
	int ret;

	ret = asb_vault_read_header(c->vault, &h, err, sizeof(err));
	if (ret == -ENOENT && create) {
		/* first use: a new vault under a new key file */
		k = asb_vault_keys_new();
		if (!k || asb_vault_create(&v, ASB_VAULT_KDF_KEYFILE, 0, 0)) {
			asb_vault_keys_free(k);
			return NULL;
		}
		ret = asb_vault_keyfile_read(c->keyfile, k, err, sizeof(err));
		if (ret == -ENOENT) {
			randombytes_buf(k->k[0], ASB_VAULT_KEY_BYTES);
			k->n = 1;
			ret = asb_vault_keyfile_write(c->keyfile, k, err,
						      sizeof(err));
			if (!ret)
				fprintf(stderr, "asbctl: new vault %s, key file %s\n",
					c->vault, c->keyfile);
		}
		if (!ret)
			asb_vault_set_key(v, k->k[0]);
		asb_vault_keys_free(k);
		if (ret) {
			fprintf(stderr, "asbctl: %s\n", err);
			asb_vault_free(v);
			return NULL;
		}
		return v;
	}
	if (ret) {
		fprintf(stderr, "asbctl: %s%s\n", err, ret == -ENOENT ?
			" (no vault yet: asbctl vault init, or vault put)" : "");
		return NULL;
	}
	k = get_keys(c, &h);
	if (!k)
		return NULL;
	ret = asb_vault_open(c->vault, k, &v, err, sizeof(err));
	asb_vault_keys_free(k);
	if (ret) {
		fprintf(stderr, "asbctl: %s\n", err);
		return NULL;
	}
	return v;
}

static int save(struct vctl *c, struct asb_vault *v)
{
	char err[400];

	if (asb_vault_save(v, c->vault, err, sizeof(err))) {
		fprintf(stderr, "asbctl: %s\n", err);
		return 1;
	}
	return 0;
}

/* Tell a running agentd the key (passphrase mode); quiet if none runs. */
static int send_unlock(struct vctl *c, const unsigned char *key, bool quiet)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct asb_ctl_req req;
	struct timeval tv = { .tv_sec = 30 };
	char buf[sizeof(struct asb_ctl_rep) + 512];
	struct asb_ctl_rep rep;
	ssize_t n;
	int fd;

	asb_ctl_req_init(&req, ASB_CTL_VAULT);
	req.flags = key ? ASB_CTL_VAULT_UNLOCK : ASB_CTL_VAULT_LOCK;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->ctl_socket);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req) ||
	    (key && send(fd, key, ASB_VAULT_KEY_BYTES, MSG_NOSIGNAL) !=
	     ASB_VAULT_KEY_BYTES)) {
		if (!quiet)
			fprintf(stderr, "asbctl: %s: %s\n", c->ctl_socket,
				strerror(errno));
		close(fd);
		return 1;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n < (ssize_t)sizeof(rep)) {
		fprintf(stderr, "asbctl: no reply from agentd\n");
		return 1;
	}
	memcpy(&rep, buf, sizeof(rep));
	buf[n] = 0;
	fprintf(rep.status ? stderr : stdout, "agentd: %s\n", buf + sizeof(rep));
	return rep.status ? 1 : 0;
}

/*
 * Which vault: --vault; else the one the running agentd reads; else the
 * [agentd] settings of --policy or of the default policy, as agentd
 * resolves them (vault, else state_dir/vault).
 */
static int where(struct vctl *c, char *buf, size_t size)
{
	struct asb_ctl_req req;
	struct asb_image img;
	char *out = NULL;
	size_t len;
	int ret;

	if (c->vault)
		return 0;
	asb_ctl_req_init(&req, ASB_CTL_VAULT);
	req.flags = ASB_CTL_VAULT_WHERE;
	ret = asb_ctl_call(c->ctl_socket, &req, &out, &len);
	if (!ret && len > 0 && len < size && out[0] == '/') {
		memcpy(buf, out, len);
		buf[len] = 0;
		free(out);
		c->vault = buf;
		return 0;
	}
	free(out);
	if (c->policy ? asb_policy_compile(c->policy, &img, stderr, NULL) :
	    asb_policy_compile_mem(ASB_DEFAULT_POLICY_NAME, asb_default_policy,
				   asb_default_policy_len, &img, stderr, NULL)) {
		fprintf(stderr, "asbctl: no agentd to ask and the policy does not compile: use --vault FILE\n");
		return -1;
	}
	if (img.hdr->agentd_vault)
		snprintf(buf, size, "%s", asb_image_str(&img, img.hdr->agentd_vault));
	else
		snprintf(buf, size, "%s/vault", img.hdr->agentd_state_dir ?
			 asb_image_str(&img, img.hdr->agentd_state_dir) :
			 "/var/lib/asb");
	asb_image_free(&img);
	c->vault = buf;
	return 0;
}

static int cmd_init(struct vctl *c, bool pass)
{
	struct asb_vault_keys *k;
	struct asb_vault *v;
	char err[400], *p1, *p2;
	size_t l1, l2;
	int ret;

	if (access(c->vault, F_OK) == 0) {
		fprintf(stderr, "asbctl: %s exists: refusing to overwrite (vault rekey changes the key)\n",
			c->vault);
		return 1;
	}
	if (!pass) {
		v = open_vault(c, true);
		if (!v)
			return 1;
		ret = save(c, v);
		asb_vault_free(v);
		if (!ret)
			printf("vault %s: key file %s\n", c->vault, c->keyfile);
		return ret;
	}
	if (asb_vault_create(&v, ASB_VAULT_KDF_ARGON2ID,
			     crypto_pwhash_OPSLIMIT_MODERATE,
			     crypto_pwhash_MEMLIMIT_MODERATE))
		return 1;
	p1 = read_pass(c, "new vault passphrase: ", &l1);
	p2 = p1 && c->pass_fd < 0 ? read_pass(c, "again: ", &l2) : NULL;
	k = asb_vault_keys_new();
	ret = 1;
	if (!p1 || !k || (c->pass_fd < 0 && (!p2 || l1 != l2 ||
					      memcmp(p1, p2, l1)))) {
		if (p1 && c->pass_fd < 0)
			fprintf(stderr, "asbctl: passphrases differ\n");
	} else if (asb_vault_key_derive(p1, l1, &v->hdr, k, err, sizeof(err))) {
		fprintf(stderr, "asbctl: %s\n", err);
	} else {
		asb_vault_set_key(v, k->k[0]);
		ret = save(c, v);
		if (!ret) {
			printf("vault %s: passphrase (Argon2id)\n", c->vault);
			send_unlock(c, k->k[0], true);
		}
	}
	if (p1)
		sodium_free(p1);
	if (p2)
		sodium_free(p2);
	asb_vault_keys_free(k);
	asb_vault_free(v);
	return ret;
}

static int cmd_put(struct vctl *c, const char *name)
{
	unsigned char *val = sodium_malloc(ASB_SECRET_VALUE_MAX + 2);
	struct asb_vault *v;
	size_t len = 0;
	ssize_t n;
	int ret = 1;

	if (!val)
		return 1;
	if (!asb_vault_name_ok(name)) {
		fprintf(stderr, "asbctl: bad secret name '%s' (letters, digits, '_')\n",
			name);
		goto out;
	}
	if (isatty(0))
		fprintf(stderr, "value for %s (end with ^D):\n", name);
	while (len <= ASB_SECRET_VALUE_MAX &&
	       (n = read(0, val + len, ASB_SECRET_VALUE_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "asbctl: stdin: %s\n", strerror(errno));
			goto out;
		}
		len += n;
	}
	if (len > ASB_SECRET_VALUE_MAX) {
		fprintf(stderr, "asbctl: value longer than %u bytes\n",
			ASB_SECRET_VALUE_MAX);
		goto out;
	}
	if (len && val[len - 1] == '\n')
		len--;
	if (lock_vault(c))
		goto out;
	v = open_vault(c, true);
	if (!v)
		goto out;
	if (asb_vault_put(v, name, val, len)) {
		fprintf(stderr, "asbctl: cannot store %s\n", name);
	} else {
		ret = save(c, v);
		if (!ret)
			printf("%s: stored, %zu bytes\n", name, len);
	}
	asb_vault_free(v);
out:
	sodium_free(val);
	return ret;
}

static void print_grants(const struct asb_image *img, const char *name)
{
	const struct asb_image_sandbox *sbs = asb_image_sandboxes(img);
	const struct asb_image_secret *secs = asb_image_secrets(img);
	int n = 0;

	for (uint32_t i = 0; img->hdr && i < img->hdr->n_sandboxes; i++) {
		for (uint32_t j = 0; j < sbs[i].n_secrets; j++) {
			const struct asb_image_secret *s =
				&secs[sbs[i].first_secret + j];

			if (strcmp(s->name, name))
				continue;
			printf("%s%s:%s%s%s", n++ ? ", " : "", sbs[i].name,
			       asb_image_str(img, s->exe),
			       s->env[0] ? " env:" : "", s->env);
		}
	}
	if (!n)
		printf("(not granted)");
}

static int cmd_ls(struct vctl *c)
{
	struct asb_image img = { 0 };
	struct asb_vault *v = open_vault(c, false);
	char t1[32], t2[32];

	if (!v)
		return 1;
	if (c->policy ? asb_policy_compile(c->policy, &img, stderr, NULL) :
	    asb_policy_compile_mem(ASB_DEFAULT_POLICY_NAME, asb_default_policy,
				   asb_default_policy_len, &img, stderr, NULL))
		fprintf(stderr, "asbctl: policy does not compile: grants not shown\n");
	printf("%-24s %8s  %-20s %-20s %s\n", "NAME", "BYTES", "CREATED",
	       "UPDATED", "GRANTS (sandbox:program)");
	for (uint32_t i = 0; i < v->n; i++) {
		const struct asb_vault_rec *r = &v->recs[i];
		time_t a = r->created, b = r->updated;

		strftime(t1, sizeof(t1), "%F %T", localtime(&a));
		strftime(t2, sizeof(t2), "%F %T", localtime(&b));
		printf("%-24s %8u  %-20s %-20s ", r->name, r->len, t1, t2);
		print_grants(&img, r->name);
		putchar('\n');
	}
	asb_image_free(&img);
	asb_vault_free(v);
	return 0;
}

static int cmd_rm(struct vctl *c, const char *name)
{
	struct asb_vault *v;
	int ret;

	if (lock_vault(c))
		return 1;
	v = open_vault(c, false);
	if (!v)
		return 1;
	if (asb_vault_rm(v, name)) {
		fprintf(stderr, "asbctl: no secret '%s' in %s\n", name, c->vault);
		asb_vault_free(v);
		return 1;
	}
	ret = save(c, v);
	if (!ret)
		printf("%s: removed\n", name);
	asb_vault_free(v);
	return ret;
}

/*
 * Key file mode, crash-safe in three atomic steps: the key file holds
 * (new, old); the vault is resealed under new; the key file holds new.
 * Whenever it stops, the key file has the key the vault is sealed under.
 */
static int cmd_rekey(struct vctl *c)
{
	struct asb_vault_keys *k;
	struct asb_vault *v;
	char err[400], *p;
	size_t plen;
	int ret = 1;

	if (lock_vault(c))
		return 1;
	v = open_vault(c, false);
	if (!v)
		return 1;
	k = asb_vault_keys_new();
	if (!k)
		goto out;
	if (v->hdr.kdf == ASB_VAULT_KDF_KEYFILE) {
		randombytes_buf(k->k[0], ASB_VAULT_KEY_BYTES);
		memcpy(k->k[1], v->key, ASB_VAULT_KEY_BYTES);
		k->n = 2;
		if (asb_vault_keyfile_write(c->keyfile, k, err, sizeof(err)))
			goto fail;
		asb_vault_set_key(v, k->k[0]);
		if (asb_vault_save(v, c->vault, err, sizeof(err)))
			goto fail;
		k->n = 1;
		if (asb_vault_keyfile_write(c->keyfile, k, err, sizeof(err)))
			goto fail;
		printf("vault %s: new key in %s, %u records resealed\n",
		       c->vault, c->keyfile, v->n);
		ret = 0;
		goto out;
	}
	p = read_pass(c, "new vault passphrase: ", &plen);
	if (!p)
		goto out;
	randombytes_buf(v->hdr.salt, sizeof(v->hdr.salt));
	ret = asb_vault_key_derive(p, plen, &v->hdr, k, err, sizeof(err));
	sodium_free(p);
	if (ret)
		goto fail;
	asb_vault_set_key(v, k->k[0]);
	if (asb_vault_save(v, c->vault, err, sizeof(err)))
		goto fail;
	printf("vault %s: new passphrase, %u records resealed\n", c->vault, v->n);
	send_unlock(c, k->k[0], true);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "asbctl: rekey: %s\n", err);
	ret = 1;
out:
	asb_vault_keys_free(k);
	asb_vault_free(v);
	return ret;
}

static int cmd_unlock(struct vctl *c)
{
	struct asb_vault_hdr h;
	struct asb_vault_keys *k;
	struct asb_vault *v;
	char err[400];
	int ret;

	if (asb_vault_read_header(c->vault, &h, err, sizeof(err))) {
		fprintf(stderr, "asbctl: %s\n", err);
		return 1;
	}
	if (h.kdf != ASB_VAULT_KDF_ARGON2ID) {
		fprintf(stderr, "asbctl: %s uses a key file: nothing to unlock\n",
			c->vault);
		return 1;
	}
	k = get_keys(c, &h);
	if (!k)
		return 1;
	/* check here first: a wrong passphrase gets a clear error */
	ret = asb_vault_open(c->vault, k, &v, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "asbctl: %s\n", err);
		asb_vault_keys_free(k);
		return 1;
	}
	asb_vault_free(v);
	ret = send_unlock(c, k->k[0], false);
	asb_vault_keys_free(k);
	return ret;
}

int asb_vaultctl(int argc, char **argv, const char *ctl_socket)
{
	static const struct option opts[] = {
		{ "vault", required_argument, NULL, 'v' },
		{ "policy", required_argument, NULL, 'p' },
		{ "passphrase-fd", required_argument, NULL, 'f' },
		{ "passphrase", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct vctl c = {
		.ctl_socket = ctl_socket,
		.pass_fd = -1, .lock_fd = -1,
	};
	char path[ASB_PATH_MAX];
	bool pass = false;
	int ch, ret;

	if (asb_vault_init() < 0)
		return 1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "v:p:f:", opts, NULL)) != -1) {
		switch (ch) {
		case 'v': c.vault = optarg; break;
		case 'p': c.policy = optarg; break;
		case 'f': c.pass_fd = atoi(optarg); break;
		case 'P': pass = true; break;
		default: vusage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (pass && strcmp(argv[0], "init"))) {
		vusage(stderr);
		return 2;
	}
	umask(077);
	if (where(&c, path, sizeof(path)))
		return 1;
	asb_vault_keyfile_path(c.vault, c.keyfile, sizeof(c.keyfile));
	if (!strcmp(argv[0], "init") && argc == 1)
		ret = cmd_init(&c, pass);
	else if (!strcmp(argv[0], "put") && argc == 2)
		ret = cmd_put(&c, argv[1]);
	else if (!strcmp(argv[0], "ls") && argc == 1)
		ret = cmd_ls(&c);
	else if (!strcmp(argv[0], "rm") && argc == 2)
		ret = cmd_rm(&c, argv[1]);
	else if (!strcmp(argv[0], "rekey") && argc == 1)
		ret = cmd_rekey(&c);
	else if (!strcmp(argv[0], "unlock") && argc == 1)
		ret = cmd_unlock(&c);
	else if (!strcmp(argv[0], "lock") && argc == 1)
		ret = send_unlock(&c, NULL, false);
	else {
		vusage(stderr);
		ret = 2;
	}
	if (c.lock_fd >= 0)
		close(c.lock_fd);
	return ret;
}
