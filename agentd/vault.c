// SPDX-License-Identifier: BSD-3-Clause
/*
 * The vault file (see vault.h and docs/secrets.md).
 *
 *   struct asb_vault_hdr                       sealed: AEAD("" , AD = hdr
 *                                              up to nonce)
 *   n_records x { __u32 ct_len; __u8 nonce[24]; __u8 ct[ct_len]; }
 *
 * A record's plaintext is struct rec_plain followed by the value; its
 * additional data is (gen, index, n_records), so records cannot be moved,
 * dropped, or carried over from another write of the vault. The file must
 * end exactly after the last record.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <asb/broker.h>

#include "vault.h"

#define VAULT_MAGIC	"ASBVAULT"
#define VAULT_VERSION	1
#define KEYFILE_MAGIC	"ASBVKEY1"
#define AEAD_ABYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AEAD_NPUBBYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define VAULT_FILE_MAX	(ASB_VAULT_MAX_RECORDS * (size_t)(ASB_SECRET_VALUE_MAX + 256))

_Static_assert(sizeof(struct asb_vault_hdr) == 136, "vault header layout");

struct rec_plain {
	__u64 created;
	__u64 updated;
	__u32 len;
	__u32 reserved;
	char name[ASB_SECRET_NAME_MAX];
};

struct rec_ad {
	__u8 gen[16];
	__u32 index;
	__u32 n_records;
};

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

int asb_vault_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

bool asb_vault_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return i > 0 && i < ASB_SECRET_NAME_MAX;
}

void asb_vault_keyfile_path(const char *vault, char *buf, size_t len)
{
	snprintf(buf, len, "%s.key", vault);
}

/* ---- keys ---- */

struct asb_vault_keys *asb_vault_keys_new(void)
{
	struct asb_vault_keys *k;

	if (asb_vault_init() < 0)
		return NULL;
	k = sodium_malloc(sizeof(*k));
	if (k)
		sodium_memzero(k, sizeof(*k));
	return k;
}

void asb_vault_keys_free(struct asb_vault_keys *k)
{
	if (k)
		sodium_free(k);	/* wipes */
}

static void key_id(const unsigned char *key, __u8 id[16])
{
	static const char ctx[] = "asb vault key id";

	crypto_generichash(id, 16, (const unsigned char *)ctx, sizeof(ctx) - 1,
			   key, ASB_VAULT_KEY_BYTES);
}

/* Read exactly @len bytes at @off; -EBADMSG on a short file. */
static int read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		got += n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

/* Root-owned regular file, no access for group or others. */
static int check_private(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		ERR("%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		ERR("%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077)) {
		ERR("%s: must be owned by uid %u and mode 0600 (is uid %u, mode %04o)",
		    path, geteuid(), st.st_uid, st.st_mode & 07777);
		return -EPERM;
	}
	return 0;
}

int asb_vault_keyfile_read(const char *path, struct asb_vault_keys *k,
			   char *err, size_t errlen)
{
	char magic[8];
	__u32 n;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		ERR("key file %s: %s", path, strerror(errno));
		return ret;
	}
	ret = check_private(fd, path, err, errlen);
	if (ret)
		goto out;
	fstat(fd, &st);
	ret = read_all(fd, magic, sizeof(magic));
	if (!ret)
		ret = read_all(fd, &n, sizeof(n));
	if (ret || memcmp(magic, KEYFILE_MAGIC, 8) || n < 1 ||
	    n > ASB_VAULT_KEYS_MAX ||
	    (size_t)st.st_size != 12 + n * (size_t)ASB_VAULT_KEY_BYTES) {
		ERR("key file %s: malformed", path);
		ret = -EINVAL;
		goto out;
	}
	ret = read_all(fd, k->k, n * ASB_VAULT_KEY_BYTES);
	if (ret) {
		sodium_memzero(k, sizeof(*k));
		ERR("key file %s: truncated", path);
		goto out;
	}
	k->n = n;
out:
	close(fd);
	return ret;
}

/* Write @len bytes to @path atomically: temp, fsync, rename, fsync dir. */
static int atomic_write(const char *path, const void *a, size_t alen,
			const void *b, size_t blen, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		ERR("%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* writers hold the vault lock, so one fixed temp name is enough */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		ret = -errno;
		ERR("%s: %s", tmp, strerror(errno));
		return ret;
	}
	ret = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (!ret)
		ret = write_all(fd, a, alen);
	if (!ret && blen)
		ret = write_all(fd, b, blen);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		ERR("%s: %s", tmp, strerror(-ret));
		unlink(tmp);
		return ret;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		ret = -errno;
		ERR("%s: fsync of the directory: %s", path, strerror(errno));
	}
	if (dfd >= 0)
		close(dfd);
	return ret;
}

int asb_vault_keyfile_write(const char *path, const struct asb_vault_keys *k,
			    char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len = 12 + k->n * (size_t)ASB_VAULT_KEY_BYTES;
	__u32 n = k->n;
	int ret;

	if (k->n < 1 || k->n > ASB_VAULT_KEYS_MAX) {
		ERR("key file %s: bad key count", path);
		return -EINVAL;
	}
	buf = sodium_malloc(len);
	if (!buf) {
		ERR("out of memory");
		return -ENOMEM;
	}
	memcpy(buf, KEYFILE_MAGIC, 8);
	memcpy(buf + 8, &n, 4);
	memcpy(buf + 12, k->k, n * ASB_VAULT_KEY_BYTES);
	ret = atomic_write(path, buf, len, NULL, 0, err, errlen);
	sodium_free(buf);
	return ret;
}

int asb_vault_key_derive(const char *pass, size_t passlen,
			 const struct asb_vault_hdr *hdr,
			 struct asb_vault_keys *k, char *err, size_t errlen)
{
	if (hdr->kdf != ASB_VAULT_KDF_ARGON2ID) {
		ERR("this vault has no passphrase (it uses a key file)");
		return -EINVAL;
	}
	if (hdr->opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    hdr->opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE * 4 ||
	    hdr->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    hdr->memlimit > (4ull << 30)) {
		ERR("vault header: Argon2id limits out of range");
		return -EINVAL;
	}
	if (crypto_pwhash(k->k[0], ASB_VAULT_KEY_BYTES, pass, passlen,
			  hdr->salt, hdr->opslimit, hdr->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) < 0) {
		ERR("Argon2id: out of memory");
		return -ENOMEM;
	}
	k->n = 1;
	return 0;
}

/* ---- the vault in memory ---- */

int asb_vault_create(struct asb_vault **out, enum asb_vault_kdf kdf,
		     uint64_t opslimit, uint64_t memlimit)
{
	struct asb_vault *v;

	if (asb_vault_init() < 0)
		return -ENOMEM;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->key = sodium_malloc(ASB_VAULT_KEY_BYTES);
	if (!v->key) {
		free(v);
		return -ENOMEM;
	}
	sodium_memzero(v->key, ASB_VAULT_KEY_BYTES);
	memcpy(v->hdr.magic, VAULT_MAGIC, 8);
	v->hdr.version = VAULT_VERSION;
	v->hdr.kdf = kdf;
	if (kdf == ASB_VAULT_KDF_ARGON2ID) {
		v->hdr.opslimit = opslimit;
		v->hdr.memlimit = memlimit;
		randombytes_buf(v->hdr.salt, sizeof(v->hdr.salt));
	}
	*out = v;
	return 0;
}

void asb_vault_set_key(struct asb_vault *v, const unsigned char *key)
{
	memcpy(v->key, key, ASB_VAULT_KEY_BYTES);
	key_id(v->key, v->hdr.key_id);
}

static void rec_free(struct asb_vault_rec *r)
{
	if (r->val)
		sodium_free(r->val);
	r->val = NULL;
}

void asb_vault_free(struct asb_vault *v)
{
	if (!v)
		return;
	for (uint32_t i = 0; i < v->n; i++)
		rec_free(&v->recs[i]);
	free(v->recs);
	if (v->key)
		sodium_free(v->key);
	free(v);
}

static int rec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct asb_vault_rec *)a)->name,
		      ((const struct asb_vault_rec *)b)->name);
}

const struct asb_vault_rec *asb_vault_find(const struct asb_vault *v,
					   const char *name)
{
	struct asb_vault_rec key;

	if (!v || !v->n || strlen(name) >= sizeof(key.name))
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, v->recs, v->n, sizeof(*v->recs), rec_cmp);
}

static int grow(struct asb_vault *v)
{
	struct asb_vault_rec *r;
	uint32_t cap;

	if (v->n < v->cap)
		return 0;
	if (v->n >= ASB_VAULT_MAX_RECORDS)
		return -E2BIG;
	cap = v->cap ? v->cap * 2 : 16;
	r = realloc(v->recs, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	v->recs = r;
	v->cap = cap;
	return 0;
}

int asb_vault_put(struct asb_vault *v, const char *name,
		  const unsigned char *val, size_t len)
{
	struct asb_vault_rec *r = (struct asb_vault_rec *)asb_vault_find(v, name);
	unsigned char *copy;
	uint64_t now = time(NULL);
	int ret;

	if (!asb_vault_name_ok(name))
		return -EINVAL;
	if (len > ASB_SECRET_VALUE_MAX)
		return -EFBIG;
	copy = sodium_malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, val, len);
	if (r) {
		rec_free(r);
		r->val = copy;
		r->len = len;
		r->updated = now;
		return 0;
	}
	ret = grow(v);
	if (ret) {
		sodium_free(copy);
		return ret;
	}
	r = &v->recs[v->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->val = copy;
	r->len = len;
	r->created = r->updated = now;
	qsort(v->recs, v->n, sizeof(*v->recs), rec_cmp);
	return 0;
}

int asb_vault_rm(struct asb_vault *v, const char *name)
{
	struct asb_vault_rec *r = (struct asb_vault_rec *)asb_vault_find(v, name);
	size_t i;

	if (!r)
		return -ENOENT;
	rec_free(r);
	i = r - v->recs;
	memmove(r, r + 1, (v->n - i - 1) * sizeof(*r));
	v->n--;
	return 0;
}

/* ---- sealing ---- */

#define HDR_AD_LEN	offsetof(struct asb_vault_hdr, nonce)

static void seal_header(struct asb_vault_hdr *h, const unsigned char *key)
{
	unsigned char none[1] = { 0 }, out[1];

	randombytes_buf(h->nonce, sizeof(h->nonce));
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
		out, h->tag, NULL, none, 0, (const unsigned char *)h,
		HDR_AD_LEN, NULL, h->nonce, key);
}

static int open_header(const struct asb_vault_hdr *h, const unsigned char *key)
{
	unsigned char none[1] = { 0 }, out[1];

	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		out, NULL, none, 0, h->tag, (const unsigned char *)h,
		HDR_AD_LEN, h->nonce, key);
}

int asb_vault_save(struct asb_vault *v, const char *path, char *err,
		   size_t errlen)
{
	unsigned char *body = NULL, *pt = NULL;
	size_t blen = 0, off = 0;
	__u8 nonce[AEAD_NPUBBYTES];
	struct rec_ad ad;
	int ret;

	for (uint32_t i = 0; i < v->n; i++)
		blen += 4 + AEAD_NPUBBYTES + sizeof(struct rec_plain) +
			v->recs[i].len + AEAD_ABYTES;
	body = malloc(blen ? blen : 1);	/* ciphertext only */
	pt = sodium_malloc(sizeof(struct rec_plain) + ASB_SECRET_VALUE_MAX);
	if (!body || !pt) {
		ERR("out of memory");
		ret = -ENOMEM;
		goto out;
	}
	randombytes_buf(v->hdr.gen, sizeof(v->hdr.gen));
	v->hdr.written = time(NULL);
	v->hdr.n_records = v->n;
	key_id(v->key, v->hdr.key_id);
	memcpy(ad.gen, v->hdr.gen, sizeof(ad.gen));
	ad.n_records = v->n;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct asb_vault_rec *r = &v->recs[i];
		struct rec_plain rp = {
			.created = r->created, .updated = r->updated,
			.len = r->len,
		};
		size_t ptlen = sizeof(rp) + r->len;
		__u32 ctlen = ptlen + AEAD_ABYTES;

		memcpy(rp.name, r->name, sizeof(rp.name));
		memcpy(pt, &rp, sizeof(rp));
		memcpy(pt + sizeof(rp), r->val, r->len);
		ad.index = i;
		randombytes_buf(nonce, sizeof(nonce));
		memcpy(body + off, &ctlen, 4);
		memcpy(body + off + 4, nonce, sizeof(nonce));
		off += 4 + sizeof(nonce);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			body + off, NULL, pt, ptlen, (const unsigned char *)&ad,
			sizeof(ad), NULL, nonce, v->key);
		off += ctlen;
		sodium_memzero(pt, ptlen);
	}
	seal_header(&v->hdr, v->key);
	ret = atomic_write(path, &v->hdr, sizeof(v->hdr), body, blen, err,
			   errlen);
out:
	free(body);
	if (pt)
		sodium_free(pt);
	return ret;
}

static const unsigned char *pick_key(const struct asb_vault_hdr *h,
				     const struct asb_vault_keys *keys)
{
	__u8 id[16];

	for (unsigned int i = 0; keys && i < keys->n && i < ASB_VAULT_KEYS_MAX; i++) {
		key_id(keys->k[i], id);
		if (!sodium_memcmp(id, h->key_id, sizeof(id)))
			return keys->k[i];
	}
	return NULL;
}

static int check_header(const struct asb_vault_hdr *h, size_t len, char *err,
			size_t errlen)
{
	if (len < sizeof(*h) || memcmp(h->magic, VAULT_MAGIC, 8)) {
		ERR("not a vault file (%s)", len < sizeof(*h) ?
		    "shorter than a header" : "bad magic");
		return -EINVAL;
	}
	if (h->version != VAULT_VERSION) {
		ERR("unsupported vault version %u", h->version);
		return -EINVAL;
	}
	if (h->kdf != ASB_VAULT_KDF_KEYFILE && h->kdf != ASB_VAULT_KDF_ARGON2ID) {
		ERR("vault header: unknown key type %u (tampered?)", h->kdf);
		return -EBADMSG;
	}
	return 0;
}

int asb_vault_open_mem(const unsigned char *buf, size_t len,
		       const struct asb_vault_keys *keys,
		       struct asb_vault **out, char *err, size_t errlen)
{
	struct asb_vault_hdr h;
	const unsigned char *key;
	struct asb_vault *v = NULL;
	unsigned char *pt = NULL;
	struct rec_ad ad;
	size_t off = sizeof(h);
	int ret;

	*out = NULL;
	if (len >= sizeof(h))
		memcpy(&h, buf, sizeof(h));
	ret = check_header(&h, len, err, errlen);
	if (ret)
		return ret;
	key = pick_key(&h, keys);
	if (!key) {
		ERR("wrong key: the vault was sealed under another %s",
		    h.kdf == ASB_VAULT_KDF_ARGON2ID ? "passphrase" : "key");
		return -EKEYREJECTED;
	}
	if (open_header(&h, key)) {
		ERR("vault header fails authentication: tampered");
		return -EBADMSG;
	}
	if (h.n_records > ASB_VAULT_MAX_RECORDS) {
		ERR("vault header: too many records");
		return -EBADMSG;
	}
	ret = asb_vault_create(&v, h.kdf, h.opslimit, h.memlimit);
	if (ret) {
		ERR("out of memory");
		return ret;
	}
	v->hdr = h;
	memcpy(v->key, key, ASB_VAULT_KEY_BYTES);
	pt = sodium_malloc(sizeof(struct rec_plain) + ASB_SECRET_VALUE_MAX);
	if (!pt) {
		ERR("out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	memcpy(ad.gen, h.gen, sizeof(ad.gen));
	ad.n_records = h.n_records;
	for (uint32_t i = 0; i < h.n_records; i++) {
		struct rec_plain rp;
		unsigned long long ptlen;
		__u32 ctlen;

		if (len - off < 4 + AEAD_NPUBBYTES) {
			ERR("vault truncated in record %u of %u", i + 1,
			    h.n_records);
			ret = -EBADMSG;
			goto fail;
		}
		memcpy(&ctlen, buf + off, 4);
		if (ctlen < sizeof(rp) + AEAD_ABYTES ||
		    ctlen > sizeof(rp) + ASB_SECRET_VALUE_MAX + AEAD_ABYTES ||
		    len - off - 4 - AEAD_NPUBBYTES < ctlen) {
			ERR("vault truncated or corrupt in record %u of %u",
			    i + 1, h.n_records);
			ret = -EBADMSG;
			goto fail;
		}
		ad.index = i;
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(
			    pt, &ptlen, NULL, buf + off + 4 + AEAD_NPUBBYTES,
			    ctlen, (const unsigned char *)&ad, sizeof(ad),
			    buf + off + 4, key)) {
			ERR("vault record %u of %u fails authentication: tampered",
			    i + 1, h.n_records);
			ret = -EBADMSG;
			goto fail;
		}
		off += 4 + AEAD_NPUBBYTES + ctlen;
		memcpy(&rp, pt, sizeof(rp));
		if (rp.len != ptlen - sizeof(rp) ||
		    !memchr(rp.name, 0, sizeof(rp.name)) ||
		    !asb_vault_name_ok(rp.name) || asb_vault_find(v, rp.name)) {
			ERR("vault record %u: malformed", i + 1);
			ret = -EBADMSG;
			goto fail;
		}
		ret = asb_vault_put(v, rp.name, pt + sizeof(rp), rp.len);
		sodium_memzero(pt, ptlen);
		if (ret) {
			ERR("out of memory");
			goto fail;
		}
		((struct asb_vault_rec *)asb_vault_find(v, rp.name))->created =
			rp.created;
		((struct asb_vault_rec *)asb_vault_find(v, rp.name))->updated =
			rp.updated;
	}
	if (off != len) {
		ERR("vault has %zu bytes after its last record: tampered",
		    len - off);
		ret = -EBADMSG;
		goto fail;
	}
	sodium_free(pt);
	*out = v;
	return 0;
fail:
	if (pt)
		sodium_free(pt);
	asb_vault_free(v);
	return ret;
}

static int read_file(const char *path, unsigned char **buf, size_t *len,
		     struct stat *st, char *err, size_t errlen)
{
	int fd, ret;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		ERR("%s: %s", path, strerror(errno));
		return ret;
	}
	ret = check_private(fd, path, err, errlen);
	if (ret)
		goto out;
	fstat(fd, st);
	if ((size_t)st->st_size > VAULT_FILE_MAX) {
		ERR("%s: too large for a vault", path);
		ret = -EFBIG;
		goto out;
	}
	*len = st->st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_all(fd, *buf, *len);
	if (ret) {
		ERR("%s: %s", path, ret == -EBADMSG ? "shrank while read" :
		    strerror(-ret));
		free(*buf);
		*buf = NULL;
	}
out:
	close(fd);
	return ret;
}

int asb_vault_read_header(const char *path, struct asb_vault_hdr *hdr,
			  char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	int ret;

	if (fd < 0) {
		ret = -errno;
		ERR("%s: %s", path, strerror(errno));
		return ret;
	}
	n = read(fd, hdr, sizeof(*hdr));
	close(fd);
	return check_header(hdr, n < 0 ? 0 : (size_t)n, err, errlen);
}

static int vault_open_st(const char *path, const struct asb_vault_keys *keys,
			 struct asb_vault **out, struct stat *st, char *err,
			 size_t errlen)
{
	unsigned char *buf;
	size_t len = 0;
	int ret;
	char why[200];

	*out = NULL;
	ret = read_file(path, &buf, &len, st, err, errlen);
	if (ret)
		return ret;
	ret = asb_vault_open_mem(buf, len, keys, out, why, sizeof(why));
	if (ret)
		ERR("%s: %s", path, why);
	free(buf);	/* ciphertext only */
	return ret;
}

int asb_vault_open(const char *path, const struct asb_vault_keys *keys,
		   struct asb_vault **out, char *err, size_t errlen)
{
	struct stat st;

	return vault_open_st(path, keys, out, &st, err, errlen);
}

/* ---- agentd's cache ---- */

int asb_vault_cache_init(struct asb_vault_cache *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	if (asb_vault_init() < 0)
		return -ENOMEM;
	if (snprintf(c->path, sizeof(c->path), "%s", path) >= (int)sizeof(c->path))
		return -ENAMETOOLONG;
	asb_vault_keyfile_path(path, c->keyfile, sizeof(c->keyfile));
	c->state = ASB_BR_NOT_IN_VAULT;
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void cache_drop(struct asb_vault_cache *c)
{
	asb_vault_free(c->v);
	c->v = NULL;
	memset(&c->st, 0, sizeof(c->st));
}

int asb_vault_cache_refresh(struct asb_vault_cache *c)
{
	struct asb_vault_hdr h;
	struct asb_vault_keys *kf = NULL;
	struct asb_vault *v;
	struct stat st;
	int ret;

	if (stat(c->path, &st) < 0) {
		cache_drop(c);
		c->state = errno == ENOENT ? ASB_BR_NOT_IN_VAULT :
			   ASB_BR_VAULT_ERROR;
		snprintf(c->why, sizeof(c->why), "%.200s: %s", c->path,
			 strerror(errno));
		return c->state;
	}
	if (c->state == ASB_BR_OK && c->v && same_file(&st, &c->st))
		return ASB_BR_OK;
	if (c->state == ASB_BR_VAULT_ERROR && same_file(&st, &c->st))
		return c->state;	/* same broken file: do not retry */
	cache_drop(c);
	ret = asb_vault_read_header(c->path, &h, c->why, sizeof(c->why));
	if (ret) {
		c->st = st;
		return c->state = ASB_BR_VAULT_ERROR;
	}
	if (h.kdf == ASB_VAULT_KDF_ARGON2ID) {
		if (!c->keys || !c->keys->n) {
			snprintf(c->why, sizeof(c->why),
				 "vault is locked: asbctl vault unlock");
			return c->state = ASB_BR_LOCKED;
		}
		ret = vault_open_st(c->path, c->keys, &v, &st, c->why,
				    sizeof(c->why));
	} else {
		kf = asb_vault_keys_new();
		if (!kf)
			return c->state = ASB_BR_INTERNAL;
		ret = asb_vault_keyfile_read(c->keyfile, kf, c->why,
					     sizeof(c->why));
		if (!ret)
			ret = vault_open_st(c->path, kf, &v, &st, c->why,
					    sizeof(c->why));
		asb_vault_keys_free(kf);
	}
	if (ret) {
		c->st = st;
		/* after a passphrase rekey the old key no longer fits */
		if (ret == -EKEYREJECTED && h.kdf == ASB_VAULT_KDF_ARGON2ID)
			return c->state = ASB_BR_LOCKED;
		return c->state = ASB_BR_VAULT_ERROR;
	}
	c->v = v;
	c->st = st;
	c->why[0] = 0;
	return c->state = ASB_BR_OK;
}

int asb_vault_cache_unlock(struct asb_vault_cache *c, const unsigned char *key,
			   char *err, size_t errlen)
{
	struct asb_vault_keys *k = asb_vault_keys_new();
	struct asb_vault *v;
	int ret;

	if (!k) {
		ERR("out of memory");
		return -ENOMEM;
	}
	memcpy(k->k[0], key, ASB_VAULT_KEY_BYTES);
	k->n = 1;
	ret = asb_vault_open(c->path, k, &v, err, errlen);
	if (ret) {
		asb_vault_keys_free(k);
		return ret;
	}
	if (v->hdr.kdf != ASB_VAULT_KDF_ARGON2ID) {
		ERR("%s uses a key file: nothing to unlock", c->path);
		asb_vault_free(v);
		asb_vault_keys_free(k);
		return -EINVAL;
	}
	asb_vault_free(v);
	asb_vault_keys_free(c->keys);
	c->keys = k;
	cache_drop(c);
	c->state = ASB_BR_LOCKED;
	return asb_vault_cache_refresh(c) == ASB_BR_OK ? 0 : -EIO;
}

void asb_vault_cache_lock(struct asb_vault_cache *c)
{
	asb_vault_keys_free(c->keys);
	c->keys = NULL;
	cache_drop(c);
	c->state = ASB_BR_LOCKED;
}

void asb_vault_cache_free(struct asb_vault_cache *c)
{
	asb_vault_keys_free(c->keys);
	c->keys = NULL;
	cache_drop(c);
}
