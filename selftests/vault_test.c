// SPDX-License-Identifier: BSD-3-Clause
/*
 * The vault file: round trip, and every way a vault must be refused whole
 * (wrong key, any flipped byte, any truncation, trailing bytes, a record
 * carried over from another write), the key file, Argon2id, and crash
 * safety of `asbctl vault put/rekey` killed at random points.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "asb_test.h"

#include "vault.h"

#define DIR	"/tmp/asb-vault-test"

static int slurp(const char *path, unsigned char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	*len = st.st_size;
	*buf = malloc(*len + 1);
	if (read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

FIXTURE(vault) {
	struct asb_vault_keys *k;
	unsigned char *file;
	size_t len;
};

FIXTURE_SETUP(vault)
{
	struct asb_vault *v;
	char err[256];

	ASSERT_EQ(0, asb_vault_init());
	ASSERT_EQ(0, system("rm -rf " DIR " && mkdir -p " DIR));
	self->k = asb_vault_keys_new();
	ASSERT_NE(NULL, self->k);
	randombytes_buf(self->k->k[0], ASB_VAULT_KEY_BYTES);
	self->k->n = 1;
	ASSERT_EQ(0, asb_vault_create(&v, ASB_VAULT_KDF_KEYFILE, 0, 0));
	asb_vault_set_key(v, self->k->k[0]);
	ASSERT_EQ(0, asb_vault_put(v, "ALPHA", (const unsigned char *)"alpha-value", 11));
	ASSERT_EQ(0, asb_vault_put(v, "BETA", (const unsigned char *)"beta", 4));
	ASSERT_EQ(0, asb_vault_put(v, "EMPTY", (const unsigned char *)"", 0));
	ASSERT_EQ(0, asb_vault_save(v, DIR "/vault", err, sizeof(err)));
	asb_vault_free(v);
	ASSERT_EQ(0, slurp(DIR "/vault", &self->file, &self->len));
}

FIXTURE_TEARDOWN(vault)
{
	asb_vault_keys_free(self->k);
	free(self->file);
}

TEST_F(vault, round_trip_and_mode)
{
	const struct asb_vault_rec *r;
	struct asb_vault *v;
	struct stat st;
	char err[256];

	ASSERT_EQ(0, stat(DIR "/vault", &st));
	ASSERT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, asb_vault_open(DIR "/vault", self->k, &v, err, sizeof(err)));
	ASSERT_EQ(3, v->n);
	r = asb_vault_find(v, "ALPHA");
	ASSERT_NE(NULL, r);
	ASSERT_EQ(11, r->len);
	ASSERT_EQ(0, memcmp(r->val, "alpha-value", 11));
	ASSERT_EQ(0, asb_vault_find(v, "EMPTY")->len);
	ASSERT_EQ(NULL, asb_vault_find(v, "GAMMA"));
	ASSERT_EQ(0, asb_vault_rm(v, "BETA"));
	ASSERT_EQ(-ENOENT, asb_vault_rm(v, "BETA"));
	ASSERT_EQ(-EINVAL, asb_vault_put(v, "bad name", (const unsigned char *)"x", 1));
	asb_vault_free(v);
	/* no plaintext in the file */
	ASSERT_EQ(NULL, memmem(self->file, self->len, "alpha-value", 11));
}

TEST_F(vault, wrong_key_refused)
{
	struct asb_vault_keys *k = asb_vault_keys_new();
	struct asb_vault *v = (void *)1;
	char err[256];

	randombytes_buf(k->k[0], ASB_VAULT_KEY_BYTES);
	k->n = 1;
	ASSERT_EQ(-EKEYREJECTED, asb_vault_open(DIR "/vault", k, &v, err, sizeof(err)));
	ASSERT_EQ(NULL, v);
	ASSERT_NE(NULL, strstr(err, "wrong key"));
	asb_vault_keys_free(k);
}

TEST_F(vault, every_flipped_byte_refused)
{
	unsigned char *buf = malloc(self->len);
	char err[256];

	for (size_t i = 0; i < self->len; i++) {
		struct asb_vault *v = (void *)1;
		int ret;

		memcpy(buf, self->file, self->len);
		buf[i] ^= 0x01;
		ret = asb_vault_open_mem(buf, self->len, self->k, &v, err, sizeof(err));
		ASSERT_GT(0, ret) TH_LOG("byte %zu accepted", i);
		ASSERT_EQ(NULL, v);
	}
	free(buf);
}

TEST_F(vault, every_truncation_and_extension_refused)
{
	unsigned char *buf = malloc(self->len + 1);
	struct asb_vault *v;
	char err[256];

	for (size_t n = 0; n < self->len; n++) {
		v = (void *)1;
		ASSERT_GT(0, asb_vault_open_mem(self->file, n, self->k, &v, err,
						sizeof(err))) TH_LOG("length %zu accepted", n);
		ASSERT_EQ(NULL, v);
	}
	memcpy(buf, self->file, self->len);
	buf[self->len] = 0;
	v = (void *)1;
	ASSERT_EQ(-EBADMSG, asb_vault_open_mem(buf, self->len + 1, self->k, &v,
					       err, sizeof(err)));
	ASSERT_EQ(NULL, v);
	/* the untouched buffer opens: the refusals above are not a fluke */
	ASSERT_EQ(0, asb_vault_open_mem(self->file, self->len, self->k, &v, err,
					sizeof(err)));
	asb_vault_free(v);
	free(buf);
}

/* A record from an older write of the vault does not fit a newer one. */
TEST_F(vault, record_replay_refused)
{
	unsigned char *newer;
	size_t nlen;
	struct asb_vault *v;
	char err[256];

	ASSERT_EQ(0, asb_vault_open(DIR "/vault", self->k, &v, err, sizeof(err)));
	ASSERT_EQ(0, asb_vault_save(v, DIR "/vault", err, sizeof(err)));
	asb_vault_free(v);
	ASSERT_EQ(0, slurp(DIR "/vault", &newer, &nlen));
	ASSERT_EQ(self->len, nlen);
	/* the newer header with the older records */
	memcpy(newer + sizeof(struct asb_vault_hdr),
	       self->file + sizeof(struct asb_vault_hdr),
	       nlen - sizeof(struct asb_vault_hdr));
	v = (void *)1;
	ASSERT_EQ(-EBADMSG, asb_vault_open_mem(newer, nlen, self->k, &v, err, sizeof(err)));
	ASSERT_EQ(NULL, v);
	free(newer);
}

TEST_F(vault, keyfile_checks)
{
	struct asb_vault_keys *k = asb_vault_keys_new();
	char err[256];

	ASSERT_EQ(0, asb_vault_keyfile_write(DIR "/vault.key", self->k, err, sizeof(err)));
	ASSERT_EQ(0, asb_vault_keyfile_read(DIR "/vault.key", k, err, sizeof(err)));
	ASSERT_EQ(1, k->n);
	ASSERT_EQ(0, memcmp(k->k[0], self->k->k[0], ASB_VAULT_KEY_BYTES));
	ASSERT_EQ(0, chmod(DIR "/vault.key", 0644));
	ASSERT_EQ(-EPERM, asb_vault_keyfile_read(DIR "/vault.key", k, err, sizeof(err)));
	ASSERT_EQ(0, chmod(DIR "/vault.key", 0600));
	ASSERT_EQ(0, truncate(DIR "/vault.key", 20));
	ASSERT_EQ(-EINVAL, asb_vault_keyfile_read(DIR "/vault.key", k, err, sizeof(err)));
	asb_vault_keys_free(k);
}

TEST_F(vault, passphrase)
{
	struct asb_vault_keys *k = asb_vault_keys_new(), *k2 = asb_vault_keys_new();
	struct asb_vault *v;
	char err[256];

	ASSERT_EQ(0, asb_vault_create(&v, ASB_VAULT_KDF_ARGON2ID,
				      crypto_pwhash_OPSLIMIT_MIN,
				      crypto_pwhash_MEMLIMIT_MIN));
	ASSERT_EQ(0, asb_vault_key_derive("right", 5, &v->hdr, k, err, sizeof(err)));
	asb_vault_set_key(v, k->k[0]);
	ASSERT_EQ(0, asb_vault_put(v, "X", (const unsigned char *)"xv", 2));
	ASSERT_EQ(0, asb_vault_save(v, DIR "/pvault", err, sizeof(err)));
	asb_vault_free(v);
	ASSERT_EQ(0, asb_vault_open(DIR "/pvault", k, &v, err, sizeof(err)));
	asb_vault_free(v);
	{
		struct asb_vault_hdr h;

		ASSERT_EQ(0, asb_vault_read_header(DIR "/pvault", &h, err, sizeof(err)));
		ASSERT_EQ(0, asb_vault_key_derive("wrong", 5, &h, k2, err, sizeof(err)));
	}
	v = (void *)1;
	ASSERT_EQ(-EKEYREJECTED, asb_vault_open(DIR "/pvault", k2, &v, err, sizeof(err)));
	ASSERT_EQ(NULL, v);
	ASSERT_NE(NULL, strstr(err, "passphrase"));
	asb_vault_keys_free(k);
	asb_vault_keys_free(k2);
}

/*
 * `asbctl vault put` and `vault rekey`, killed with SIGKILL at random
 * points, 200 times: the vault always opens with the key file, and holds
 * the old or the new value, never anything else.
 */
/* The first put on a fresh machine makes the vault's directory, 0700. */
TEST(first_put_makes_the_directory)
{
	char bin[PATH_MAX], cmd[PATH_MAX + 256], out[1024];
	struct stat st;

	if (geteuid())
		SKIP(return, "needs root");
	asb_bindir(bin, sizeof(bin));
	ASSERT_EQ(0, system("rm -rf /tmp/asb-vault-fresh"));
	snprintf(cmd, sizeof(cmd), "printf v | %s/asbctl vault --vault "
		 "/tmp/asb-vault-fresh/state/vault put NAME", bin);
	ASSERT_EQ(0, asb_sh(cmd, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, stat("/tmp/asb-vault-fresh/state", &st));
	EXPECT_EQ(0700, st.st_mode & 07777);
	ASSERT_EQ(0, stat("/tmp/asb-vault-fresh/state/vault", &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, system("rm -rf /tmp/asb-vault-fresh"));
}

TEST(crash_during_write)
{
	char asbctl[PATH_MAX], exe[PATH_MAX], err[256], val[64];
	struct asb_vault_keys *k = asb_vault_keys_new();
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int last_done = -1, killed = 0;
	/* the quickest put seen to completion, the first one unkilled: kills
	 * at a random point of twice that land before and after the end */
	long put_us = 0, took;
	struct timespec t0, t1;

	ASSERT_LT(0, n);
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	snprintf(asbctl, sizeof(asbctl), "%s/../bin/asbctl", exe);
	ASSERT_EQ(0, system("rm -rf " DIR " && mkdir -p " DIR));
	srand(time(NULL));
	for (int i = 0; i < 200; i++) {
		bool rekey = i % 4 == 3;
		int pfd[2], st;
		pid_t pid;

		ASSERT_EQ(0, pipe(pfd));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid = fork();
		if (pid == 0) {
			dup2(pfd[0], 0);
			close(pfd[1]);
			int nul = open("/dev/null", O_WRONLY);

			dup2(nul, 1);
			dup2(nul, 2);
			if (rekey)
				execl(asbctl, "asbctl", "vault", "--vault", DIR "/vault",
				      "rekey", NULL);
			else
				execl(asbctl, "asbctl", "vault", "--vault", DIR "/vault",
				      "put", "S", NULL);
			_exit(127);
		}
		close(pfd[0]);
		snprintf(val, sizeof(val), "value-%d", i);
		if (write(pfd[1], val, strlen(val)) < 0)
			abort();
		close(pfd[1]);
		if (i > 0) {	/* the first one makes the vault and is timed */
			usleep(rand() % (2 * put_us + 1));
			kill(pid, SIGKILL);
		}
		waitpid(pid, &st, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		took = (t1.tv_sec - t0.tv_sec) * 1000000L +
		       (t1.tv_nsec - t0.tv_nsec) / 1000 + 1;
		if (WIFSIGNALED(st))
			killed++;
		if (!rekey && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			last_done = i;
			if (!put_us || took < put_us)
				put_us = took;
		}
		/* readable, old or new */
		{
			struct asb_vault *v;
			const struct asb_vault_rec *r;
			int ret, got;

			ASSERT_EQ(0, asb_vault_keyfile_read(DIR "/vault.key", k, err,
							    sizeof(err))) TH_LOG("%d: %s", i, err);
			ret = asb_vault_open(DIR "/vault", k, &v, err, sizeof(err));
			ASSERT_EQ(0, ret) TH_LOG("iteration %d: %s", i, err);
			r = asb_vault_find(v, "S");
			ASSERT_NE(NULL, r);
			ASSERT_EQ(0, memcmp(r->val, "value-", 6));
			got = atoi(strndupa((char *)r->val + 6, r->len - 6));
			/* not older than the last completed put, not newer than this one */
			ASSERT_LE(last_done, got);
			ASSERT_GE(i, got);
			asb_vault_free(v);
		}
	}
	TH_LOG("%d of 200 writers killed, last completed put: %d", killed, last_done);
	/* the kills must land both before and after completion */
	ASSERT_LT(20, killed);
	ASSERT_LT(20, last_done);
	asb_vault_keys_free(k);
}

TEST_HARNESS_MAIN
