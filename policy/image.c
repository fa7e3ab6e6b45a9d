// SPDX-License-Identifier: BSD-3-Clause
/*
 * The read side of a compiled image: verification, storage, lookups and
 * printing. An image is only used after asb_image_verify() accepted it, so
 * the accessors below trust offsets and counts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"

uint32_t asb_crc32(const void *buf, size_t len)
{
	return asb_crc32_update(0, buf, len);
}

uint32_t asb_crc32_update(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;

	crc ^= 0xffffffffu;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

void asb_image_free(struct asb_image *img)
{
	free(img->hdr);
	img->hdr = NULL;
	img->size = 0;
}

__attribute__((format(printf, 3, 4)))
static int bad(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool in_bounds(size_t size, size_t off, size_t n, size_t elem)
{
	return off <= size && (!elem || n <= (size - off) / elem);
}

static bool str_ok(const struct asb_image_hdr *h, uint32_t off)
{
	return off < h->strtab_size;
}

int asb_image_verify(const void *buf, size_t len, char *why, size_t whylen)
{
	const struct asb_image_hdr *h = buf;
	const struct asb_image_sandbox *sb;
	const struct asb_image_rule *r;
	const struct asb_image_secret *sec;
	struct asb_image_hdr copy;
	const char *st;
	uint32_t crc;
	size_t i;

	if (len < sizeof(*h))
		return bad(why, whylen, "truncated header (%zu bytes)", len);
	if (h->magic != ASB_IMAGE_MAGIC)
		return bad(why, whylen, "bad magic 0x%08x", h->magic);
	if (h->version != ASB_IMAGE_VERSION)
		return bad(why, whylen, "unsupported version %u (want %u)",
			   h->version, ASB_IMAGE_VERSION);
	if (h->hdr_size != sizeof(*h) || h->size != len)
		return bad(why, whylen, "size mismatch (header says %u, have %zu)",
			   h->size, len);
	/* CRC over the image with the checksum field zeroed */
	copy = *h;
	copy.checksum = 0;
	crc = asb_crc32_update(0, &copy, sizeof(copy));
	crc = asb_crc32_update(crc, (const char *)buf + sizeof(copy),
			       len - sizeof(copy));
	if (crc != h->checksum)
		return bad(why, whylen, "checksum mismatch (0x%08x, want 0x%08x)",
			   crc, h->checksum);
	if (!in_bounds(len, h->sandbox_off, h->n_sandboxes, sizeof(*sb)) ||
	    !in_bounds(len, h->rule_off, h->n_rules, sizeof(*r)) ||
	    !in_bounds(len, h->secret_off, h->n_secrets, sizeof(*sec)) ||
	    !in_bounds(len, h->strtab_off, h->strtab_size, 1) ||
	    h->sandbox_off % 8 || h->rule_off % 4 || h->secret_off % 4)
		return bad(why, whylen, "table out of bounds");
	st = (const char *)buf + h->strtab_off;
	if (!h->strtab_size || st[0] || st[h->strtab_size - 1])
		return bad(why, whylen, "bad string table");
	if (!str_ok(h, h->source) || !str_ok(h, h->agentd_socket) ||
	    !str_ok(h, h->agentd_state_dir) ||
	    !str_ok(h, h->agentd_audit_log) || !str_ok(h, h->agentd_vault))
		return bad(why, whylen, "header string out of bounds");
	sb = (const void *)((const char *)buf + h->sandbox_off);
	for (i = 0; i < h->n_sandboxes; i++) {
		if (!memchr(sb[i].name, 0, sizeof(sb[i].name)) || !sb[i].name[0])
			return bad(why, whylen, "sandbox %zu: bad name", i);
		if (i && strcmp(sb[i - 1].name, sb[i].name) >= 0)
			return bad(why, whylen, "sandboxes not sorted");
		if (sb[i].first_rule > h->n_rules ||
		    sb[i].n_rules > h->n_rules - sb[i].first_rule ||
		    sb[i].first_secret > h->n_secrets ||
		    sb[i].n_secrets > h->n_secrets - sb[i].first_secret ||
		    !str_ok(h, sb[i].file) || !str_ok(h, sb[i].audit_file))
			return bad(why, whylen, "sandbox %s: range out of bounds",
				   sb[i].name);
		if (sb[i].caps >> (ASB_CAP_MAX + 1))
			return bad(why, whylen, "sandbox %s: unknown capability",
				   sb[i].name);
		if (sb[i].pids_max > ASB_LIMIT_PIDS_MAX ||
		    sb[i].cpu_pct > ASB_LIMIT_CPU_MAX)
			return bad(why, whylen, "sandbox %s: limit out of range",
				   sb[i].name);
	}
	r = (const void *)((const char *)buf + h->rule_off);
	for (i = 0; i < h->n_rules; i++) {
		if (r[i].kind < 1 || r[i].kind > ASB_RULE_KIND_MAX ||
		    (r[i].flags & ~(ASB_RULE_F_IMPLIED | ASB_RULE_F_INTERP)) ||
		    !str_ok(h, r[i].file) || !str_ok(h, r[i].path) ||
		    (r[i].family && r[i].family != ASB_NET_IP4 &&
		     r[i].family != ASB_NET_IP6) ||
		    r[i].prefix > (r[i].family == ASB_NET_IP4 ? 32 : 128) ||
		    r[i].port_lo > r[i].port_hi ||
		    (!r[i].family &&
		     (r[i].path_len >= h->strtab_size - r[i].path ||
		      strlen(st + r[i].path) != r[i].path_len)))
			return bad(why, whylen, "rule %zu: malformed", i);
	}
	sec = (const void *)((const char *)buf + h->secret_off);
	for (i = 0; i < h->n_secrets; i++) {
		if (!memchr(sec[i].name, 0, sizeof(sec[i].name)) ||
		    !memchr(sec[i].env, 0, sizeof(sec[i].env)) ||
		    !str_ok(h, sec[i].exe) || !str_ok(h, sec[i].file))
			return bad(why, whylen, "secret %zu: malformed", i);
	}
	return 0;
}

int asb_image_save(const struct asb_image *img, const char *path)
{
	char tmp[4096];
	int fd, err = 0;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < img->size) {
		ssize_t n = write(fd, (char *)img->hdr + off, img->size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n ? -errno : -EIO;
			break;
		}
		off += n;
	}
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int asb_image_load(const char *path, struct asb_image *img, char *why,
		   size_t whylen)
{
	struct stat st;
	size_t off = 0;
	void *buf;
	int fd;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bad(why, whylen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (64 << 20)) {
		close(fd);
		return bad(why, whylen, "%s: not a policy image", path);
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		return bad(why, whylen, "out of memory");
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + off, st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	if (off != (size_t)st.st_size ||
	    asb_image_verify(buf, off, why, whylen) < 0) {
		free(buf);
		return -1;
	}
	img->hdr = buf;
	img->size = off;
	return 0;
}

const char *asb_image_str(const struct asb_image *img, uint32_t off)
{
	return (const char *)img->hdr + img->hdr->strtab_off + off;
}

const struct asb_image_sandbox *asb_image_sandboxes(const struct asb_image *img)
{
	return (const void *)((const char *)img->hdr + img->hdr->sandbox_off);
}

const struct asb_image_rule *asb_image_rules(const struct asb_image *img)
{
	return (const void *)((const char *)img->hdr + img->hdr->rule_off);
}

const struct asb_image_secret *asb_image_secrets(const struct asb_image *img)
{
	return (const void *)((const char *)img->hdr + img->hdr->secret_off);
}

const struct asb_image_sandbox *asb_image_find_sandbox(const struct asb_image *img,
						       const char *name)
{
	const struct asb_image_sandbox *sb = asb_image_sandboxes(img);
	size_t lo = 0, hi = img->hdr->n_sandboxes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(sb[mid].name, name);

		if (!d)
			return &sb[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Rules of a sandbox are sorted by (kind, family, path) for path rules and
 * (kind, family, prefix, addr, port_lo) for network rules.
 */
static int key_cmp(const struct asb_image *img, const struct asb_image_rule *r,
		   int kind, int family, const char *path, size_t plen,
		   int prefix, const uint8_t *addr)
{
	if (r->kind != kind)
		return r->kind < kind ? -1 : 1;
	if (r->family != family)
		return r->family < family ? -1 : 1;
	if (!family) {
		const char *rp = asb_image_str(img, r->path);
		int d = strncmp(rp, path, plen);

		if (d)
			return d;
		return rp[plen] ? 1 : 0;
	}
	if (r->prefix != prefix)
		return r->prefix < prefix ? -1 : 1;
	return memcmp(r->addr, addr, 16);
}

static size_t lower(const struct asb_image *img,
		    const struct asb_image_sandbox *sb, int kind, int family,
		    const char *path, size_t plen, int prefix,
		    const uint8_t *addr)
{
	const struct asb_image_rule *r = asb_image_rules(img) + sb->first_rule;
	size_t lo = 0, hi = sb->n_rules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(img, &r[mid], kind, family, path, plen, prefix,
			    addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct asb_image_rule *
asb_image_match_path(const struct asb_image *img,
		     const struct asb_image_sandbox *sb, enum asb_rule_kind kind,
		     const char *path)
{
	const struct asb_image_rule *r = asb_image_rules(img) + sb->first_rule;
	size_t plen = strlen(path);

	if (path[0] != '/')
		return NULL;
	/* each ancestor, most specific first: O(depth * log n) */
	for (;;) {
		size_t at = lower(img, sb, kind, 0, path, plen ? plen : 1, 0,
				  NULL);

		if (at < sb->n_rules &&
		    !key_cmp(img, &r[at], kind, 0, path, plen ? plen : 1, 0,
			     NULL))
			return &r[at];
		if (plen <= 1)
			return NULL;
		while (plen > 0 && path[plen - 1] != '/')
			plen--;
		if (plen > 1)
			plen--;	/* drop the '/' too, unless it is the root */
	}
}

const struct asb_image_rule *
asb_image_match_net(const struct asb_image *img,
		    const struct asb_image_sandbox *sb, enum asb_rule_kind kind,
		    int family, const uint8_t *addr, uint16_t port)
{
	const struct asb_image_rule *r = asb_image_rules(img) + sb->first_rule;
	int max = family == ASB_NET_IP4 ? 32 : 128;
	uint8_t key[16] = { 0 };

	if (family != ASB_NET_IP4 && family != ASB_NET_IP6)
		return NULL;
	/* each prefix length, longest first: O(129 * log n) */
	for (int p = max; p >= 0; p--) {
		size_t at;

		memcpy(key, addr, max / 8);
		for (int b = p; b < max; b++)
			key[b / 8] &= ~(0x80 >> (b % 8));
		at = lower(img, sb, kind, family, NULL, 0, p, key);
		for (; at < sb->n_rules &&
		       !key_cmp(img, &r[at], kind, family, NULL, 0, p, key);
		     at++) {
			if (r[at].port_lo > port)
				break;
			if (r[at].port_hi >= port)
				return &r[at];
		}
	}
	return NULL;
}

void asb_rule_format_net(const struct asb_image_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], ports[16];

	inet_ntop(r->family == ASB_NET_IP4 ? AF_INET : AF_INET6, r->addr, a,
		  sizeof(a));
	if (r->port_lo == r->port_hi)
		snprintf(ports, sizeof(ports), "%u", r->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
	if (r->family == ASB_NET_IP4)
		snprintf(buf, len, "%s/%u:%s", a, r->prefix, ports);
	else
		snprintf(buf, len, "[%s]/%u:%s", a, r->prefix, ports);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void json_src(FILE *out, const char *file, unsigned int line)
{
	char buf[ASB_PATH_MAX + 16];

	snprintf(buf, sizeof(buf), "%s:%u", file, line);
	fprintf(out, ",\"source\":");
	json_str(out, buf);
}

static void rule_object(const struct asb_image *img,
			const struct asb_image_rule *r, char *buf, size_t len)
{
	if (r->family)
		asb_rule_format_net(r, buf, len);
	else
		snprintf(buf, len, "%s", asb_image_str(img, r->path));
}

static void families_str(const struct asb_image_sandbox *sb, char *buf,
			 size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	if (sb->flags & ASB_SB_DENY_RAW)
		off += snprintf(buf + off, len - off, "raw ");
	for (int af = 0; af < ASB_FAMILY_MAX && off < len; af++)
		if (sb->deny_families & (1ull << af))
			off += snprintf(buf + off, len - off, "%s ",
					asb_family_name(af) ?: "?");
	if (off && off < len)
		buf[off - 1] = 0;
}

static const char *implied_why(const struct asb_image_rule *r)
{
	return r->flags & ASB_RULE_F_INTERP ?
	       "ELF interpreter of a program granted there, as interpreter only" :
	       "agentd's asb-secret, for an env: secret granted there";
}

/* "  limits.pids = 1024; limits.memory = 4G; limits.cpu = max" */
static void print_limits(const struct asb_image_sandbox *sb, FILE *out)
{
	unsigned long long m = sb->mem_max;
	int k = 0;

	if (!sb->pids_max && !sb->mem_max && !sb->cpu_pct)
		return;
	fputs("  limits.pids = ", out);
	if (sb->pids_max)
		fprintf(out, "%u", sb->pids_max);
	else
		fputs("max", out);
	fputs("; limits.memory = ", out);
	while (k < 3 && m && !(m & 1023)) {
		m >>= 10;
		k++;
	}
	if (sb->mem_max)
		fprintf(out, "%llu%.*s", m, k ? 1 : 0, " KMG" + k);
	else
		fputs("max", out);
	fputs("; limits.cpu = ", out);
	if (sb->cpu_pct)
		fprintf(out, "%u%%\n", sb->cpu_pct);
	else
		fputs("max\n", out);
}

void asb_image_print(const struct asb_image *img, FILE *out, bool json)
{
	const struct asb_image_hdr *h = img->hdr;
	const struct asb_image_sandbox *sbs = asb_image_sandboxes(img);
	const struct asb_image_rule *rules = asb_image_rules(img);
	const struct asb_image_secret *secs = asb_image_secrets(img);
	char obj[ASB_PATH_MAX + 64], fam[512];

	if (json)
		fprintf(out, "{\"source\":");
	else
		fprintf(out, "# %s: %u sandboxes, %u rules, %u secrets\n",
			asb_image_str(img, h->source), h->n_sandboxes,
			h->n_rules, h->n_secrets);
	if (json) {
		json_str(out, asb_image_str(img, h->source));
		fprintf(out, ",\"sandboxes\":[");
	}
	for (uint32_t i = 0; i < h->n_sandboxes; i++) {
		const struct asb_image_sandbox *sb = &sbs[i];
		const char *file = asb_image_str(img, sb->file);

		families_str(sb, fam, sizeof(fam));
		if (json) {
			fprintf(out, "%s{\"name\":", i ? "," : "");
			json_str(out, sb->name);
			json_src(out, file, sb->line);
			fprintf(out, ",\"audit\":\"%s\",\"approve_timeout\":%u,"
				"\"approve_default\":\"%s\",\"deny_families\":",
				sb->flags & ASB_SB_AUDIT_ALL ? "all" : "deny",
				sb->ask_timeout,
				sb->flags & ASB_SB_ASK_ALLOW ? "allow" : "deny");
			json_str(out, fam);
			fprintf(out, ",\"sys_caps\":[");
			for (int c = 0, n = 0; c <= ASB_CAP_MAX; c++)
				if (sb->caps & (1ull << c))
					fprintf(out, "%s\"%s\"", n++ ? "," : "",
						asb_cap_name(c));
			fprintf(out, "]");
			fprintf(out, ",\"sys_allow\":[%s%s%s]",
				sb->flags & ASB_SB_ALLOW_USERNS ? "\"userns\"" : "",
				(sb->flags & ASB_SB_ALLOW_USERNS) &&
				(sb->flags & ASB_SB_ALLOW_PTRACE) ? "," : "",
				sb->flags & ASB_SB_ALLOW_PTRACE ? "\"ptrace\"" : "");
			fprintf(out, ",\"limits\":{\"pids\":%u,\"memory\":%llu,"
				"\"cpu\":%u},\"rules\":[", sb->pids_max,
				(unsigned long long)sb->mem_max, sb->cpu_pct);
		} else {
			fprintf(out, "\n[sandbox.%s]  # %s:%u\n", sb->name, file,
				sb->line);
			fprintf(out, "  audit = %s; approve.timeout = %u; approve.default = %s\n",
				sb->flags & ASB_SB_AUDIT_ALL ? "all" : "deny",
				sb->ask_timeout,
				sb->flags & ASB_SB_ASK_ALLOW ? "allow" : "deny");
			if (fam[0])
				fprintf(out, "  net.deny_families = %s\n", fam);
			if (sb->caps) {
				fprintf(out, "  sys.caps =");
				for (int c = 0; c <= ASB_CAP_MAX; c++)
					if (sb->caps & (1ull << c))
						fprintf(out, " %s", asb_cap_name(c));
				fputc('\n', out);
			}
			if (sb->flags & (ASB_SB_ALLOW_USERNS | ASB_SB_ALLOW_PTRACE))
				fprintf(out, "  sys.allow =%s%s\n",
					sb->flags & ASB_SB_ALLOW_USERNS ? " userns" : "",
					sb->flags & ASB_SB_ALLOW_PTRACE ? " ptrace" : "");
			print_limits(sb, out);
		}
		for (uint32_t j = 0; j < sb->n_rules; j++) {
			const struct asb_image_rule *r = &rules[sb->first_rule + j];

			rule_object(img, r, obj, sizeof(obj));
			if (json) {
				fprintf(out, "%s{\"kind\":\"%s\",\"object\":",
					j ? "," : "", asb_rule_kind_name(r->kind));
				json_str(out, obj);
				json_src(out, asb_image_str(img, r->file), r->line);
				if (r->flags & ASB_RULE_F_IMPLIED)
					fprintf(out, ",\"implied\":\"%s\"",
						implied_why(r));
				fputc('}', out);
			} else {
				fprintf(out, "  %-16s %-40s %s:%u%s%s%s\n",
					asb_rule_kind_name(r->kind), obj,
					asb_image_str(img, r->file), r->line,
					r->flags & ASB_RULE_F_IMPLIED ?
					" (implied: " : "",
					r->flags & ASB_RULE_F_IMPLIED ?
					implied_why(r) : "",
					r->flags & ASB_RULE_F_IMPLIED ? ")" : "");
			}
		}
		if (json)
			fprintf(out, "],\"secrets\":[");
		for (uint32_t j = 0; j < sb->n_secrets; j++) {
			const struct asb_image_secret *s = &secs[sb->first_secret + j];

			if (json) {
				fprintf(out, "%s{\"name\":", j ? "," : "");
				json_str(out, s->name);
				fprintf(out, ",\"exe\":");
				json_str(out, asb_image_str(img, s->exe));
				fprintf(out, ",\"env\":");
				json_str(out, s->env);
				json_src(out, asb_image_str(img, s->file), s->line);
				fputc('}', out);
			} else {
				fprintf(out, "  %-16s exe:%s%s%s  %s:%u\n", s->name,
					asb_image_str(img, s->exe),
					s->env[0] ? " env:" : "", s->env,
					asb_image_str(img, s->file), s->line);
			}
		}
		if (json)
			fprintf(out, "]}");
	}
	if (json)
		fprintf(out, "]}\n");
}
