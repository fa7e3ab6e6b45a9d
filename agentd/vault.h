/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vault: one root-only file of secrets, each record sealed with
 * XChaCha20-Poly1305 under a 256-bit master key. The key is either kept
 * in a root-only key file (made on first use) or derived from a
 * passphrase with Argon2id. See docs/secrets.md for the file format.
 *
 * Plaintext (keys, values) lives only in sodium_malloc'ed memory: guarded,
 * locked, excluded from core dumps, wiped when freed. Every function that
 * fails returns -errno and writes a one-line reason into @err; a vault that
 * fails any check (wrong key, tampered, truncated, trailing bytes) is
 * refused whole: nothing of it is returned.
 */
#ifndef ASB_VAULT_H
#define ASB_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <linux/types.h>
#include <asb/image.h>

#define ASB_VAULT_KEY_BYTES	32
#define ASB_VAULT_KEYS_MAX	2	/* a key file holds the key (+ the old one during rekey) */
#define ASB_VAULT_MAX_RECORDS	4096

enum asb_vault_kdf {
	ASB_VAULT_KDF_KEYFILE = 0,
	ASB_VAULT_KDF_ARGON2ID = 1,
};

/* On-disk header, little-endian, 136 bytes. */
struct asb_vault_hdr {
	char magic[8];		/* "ASBVAULT" */
	__u32 version;		/* 1 */
	__u32 kdf;		/* enum asb_vault_kdf */
	__u64 opslimit;		/* Argon2id parameters (kdf 1) */
	__u64 memlimit;
	__u8 salt[16];		/* Argon2id salt (kdf 1) */
	__u8 key_id[16];	/* BLAKE2b-128 keyed by the master key */
	__u8 gen[16];		/* random, new at every write */
	__u64 written;		/* unix time of the write */
	__u32 n_records;
	__u32 reserved;
	__u8 nonce[24];		/* header seal: XChaCha20-Poly1305 of "" */
	__u8 tag[16];		/* with everything above as additional data */
};

/* Master keys, in sodium_malloc'ed memory. */
struct asb_vault_keys {
	unsigned int n;
	unsigned char k[ASB_VAULT_KEYS_MAX][ASB_VAULT_KEY_BYTES];
};

struct asb_vault_rec {
	char name[ASB_SECRET_NAME_MAX];
	uint64_t created, updated;	/* unix time */
	uint32_t len;
	unsigned char *val;		/* sodium_malloc'ed, len bytes */
};

struct asb_vault {
	struct asb_vault_hdr hdr;
	unsigned char *key;		/* sodium_malloc'ed: the sealing key */
	struct asb_vault_rec *recs;	/* sorted by name */
	uint32_t n, cap;
};

/* sodium_init(); 0 or -1. Idempotent. */
int asb_vault_init(void);

struct asb_vault_keys *asb_vault_keys_new(void);
void asb_vault_keys_free(struct asb_vault_keys *k);
/* Key file: "ASBVKEY1", __u32 count, count keys. Root-owned, 0600. */
int asb_vault_keyfile_read(const char *path, struct asb_vault_keys *k,
			   char *err, size_t errlen);
int asb_vault_keyfile_write(const char *path, const struct asb_vault_keys *k,
			    char *err, size_t errlen);
/* Argon2id(passphrase, hdr's salt and limits) -> k->k[0], k->n = 1. */
int asb_vault_key_derive(const char *pass, size_t passlen,
			 const struct asb_vault_hdr *hdr,
			 struct asb_vault_keys *k, char *err, size_t errlen);

/* The default key file of vault @path: "@path.key". */
void asb_vault_keyfile_path(const char *vault, char *buf, size_t len);

/*
 * A new, empty vault sealed under @key. @kdf ARGON2ID: a fresh salt and
 * the limits are set in the header; derive the key afterwards with
 * asb_vault_key_derive(..., &v->hdr, ...) and asb_vault_set_key().
 */
int asb_vault_create(struct asb_vault **out, enum asb_vault_kdf kdf,
		     uint64_t opslimit, uint64_t memlimit);
void asb_vault_set_key(struct asb_vault *v, const unsigned char *key);

/* Read the header only (no key needed): kdf, salt, limits. */
int asb_vault_read_header(const char *path, struct asb_vault_hdr *hdr,
			  char *err, size_t errlen);

/*
 * Open and verify the whole vault with whichever of @keys it was sealed
 * under. -ENOENT: no file. -EKEYREJECTED: none of the keys is the
 * vault's. -EBADMSG: tampered or truncated. -EINVAL: not a vault.
 */
int asb_vault_open(const char *path, const struct asb_vault_keys *keys,
		   struct asb_vault **out, char *err, size_t errlen);
/* Same, from @len bytes at @buf (for tests and the fuzzer). */
int asb_vault_open_mem(const unsigned char *buf, size_t len,
		       const struct asb_vault_keys *keys,
		       struct asb_vault **out, char *err, size_t errlen);

/* Seal and write atomically: temp file, fsync, rename, fsync of the dir. */
int asb_vault_save(struct asb_vault *v, const char *path, char *err,
		   size_t errlen);

const struct asb_vault_rec *asb_vault_find(const struct asb_vault *v,
					   const char *name);
/* Insert or replace @name (the value is copied into locked memory). */
int asb_vault_put(struct asb_vault *v, const char *name,
		  const unsigned char *val, size_t len);
int asb_vault_rm(struct asb_vault *v, const char *name);
void asb_vault_free(struct asb_vault *v);

/* Secret names: [A-Za-z0-9_]+, shorter than ASB_SECRET_NAME_MAX. */
bool asb_vault_name_ok(const char *name);

/*
 * agentd's view: the vault file at @path, reopened whenever the file
 * changes (new inode, size or mtime), with the keys from the key file or
 * those given by asb_vault_cache_unlock() (passphrase mode).
 */
struct asb_vault_cache {
	char path[ASB_PATH_MAX];
	char keyfile[ASB_PATH_MAX + 8];
	struct asb_vault_keys *keys;	/* passphrase mode: given by unlock */
	struct asb_vault *v;		/* NULL: not open */
	struct stat st;			/* of the open file */
	int state;			/* enum asb_broker_reason of the last open */
	char why[256];			/* and its reason */
};

int asb_vault_cache_init(struct asb_vault_cache *c, const char *path);
/*
 * Refresh if the file changed; returns ASB_BR_OK with c->v open, or the
 * refusal (ASB_BR_LOCKED, ASB_BR_VAULT_ERROR, ASB_BR_NOT_IN_VAULT when
 * there is no vault file).
 */
int asb_vault_cache_refresh(struct asb_vault_cache *c);
/* Passphrase mode: take @key (32 bytes) if it opens the vault. */
int asb_vault_cache_unlock(struct asb_vault_cache *c, const unsigned char *key,
			   char *err, size_t errlen);
void asb_vault_cache_lock(struct asb_vault_cache *c);
void asb_vault_cache_free(struct asb_vault_cache *c);

/* asbctl vault ... (agentd/vaultctl.c); @ctl_socket: agentd, for unlock. */
int asb_vaultctl(int argc, char **argv, const char *ctl_socket);

#endif
