// SPDX-License-Identifier: BSD-3-Clause
/*
 * Policy compiler: INI file -> validated rules -> compiled image.
 *
 * iniparser gives the values but keeps no line numbers and silently merges
 * duplicate sections and keys, so a scanner that follows iniparser's own
 * line grammar first maps every section and key to its line and finds the
 * structural errors. Lines in error are blanked in the copy handed to
 * iniparser, so that one bad line never hides the errors of the others:
 * every error in the file is reported, then nothing is produced.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <elf.h>

#include <iniparser/iniparser.h>

#include "policy.h"

#define LINE_MAX_BYTES	1000		/* iniparser reads lines of < 1024 */
#define FILE_MAX_BYTES	(64u << 20)

enum sect_kind { SECT_AGENTD, SECT_SANDBOX, SECT_UNKNOWN, SECT_DUP };

struct sect {
	char *name;		/* as written, without brackets */
	unsigned int line;
	enum sect_kind kind;
	int sbx;		/* index in ctx.sbx for SECT_SANDBOX */
};

struct entry {
	int sect;		/* -1: before any section */
	char *key;		/* as written */
	unsigned int line;
};

struct diag {
	unsigned int line;
	unsigned int seq;
	bool warn;
	char *msg;
};

struct crule {
	struct asb_image_rule r;	/* file/path filled at emit time */
	const char *path;
	bool own;			/* written in this sandbox's section */
};

struct csecret {
	struct asb_image_secret s;
	const char *exe;
};

struct sbx {
	char name[ASB_NAME_MAX];
	unsigned int line;
	const char *extends;
	unsigned int extends_line;
	struct crule *rules;		/* own, then (after flatten) all */
	size_t nrules, caprules;
	struct csecret *secrets;
	size_t nsecrets, capsecrets;
	__u64 families;
	__u64 caps;			/* sys.caps */
	__u32 flags, flags_set;		/* ASB_SB_* values and which are set */
	int timeout;			/* -1: unset */
	long long limit[3];		/* limits.*: -1 unset, 0 none */
	__u32 audit_line;
	int state;			/* flatten: 0 new, 1 visiting, 2 done */
	bool bad;
};

struct ctx {
	const char *file;
	struct diag *diags;
	size_t ndiags, capdiags;
	unsigned int nerr, nwarn;
	struct sect *sects;
	size_t nsects;
	struct entry *ents;
	size_t nents;
	struct sbx *sbx;
	size_t nsbx;
	char **values;			/* strdup'ed values, freed at the end */
	size_t nvalues, capvalues;
	char *agentd[4];		/* socket, state_dir, audit_log, vault */
	struct interp_dir *idirs;	/* fs.exec paths read for interpreters */
	size_t nidirs, capidirs;
	const char **interps;		/* their interpreters, real paths */
	size_t ninterps, capinterps;
	char last_raw[ASB_PATH_MAX];	/* the last PT_INTERP read, and */
	const char *last_real;		/* its real path (NULL: none) */
};

/*
 * An fs.exec directory (or file) whose programs' ELF interpreters were
 * read: once per compile, however many sandboxes name it or its aliases
 * (/bin and /usr/bin). Its interpreters are interps[first, first + n).
 */
struct interp_dir {
	dev_t dev;
	ino_t ino;
	size_t first, n;
};

static const char *const agentd_keys[] = {
	"socket", "state_dir", "audit_log", "vault",
};

static void *xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		abort();
	p = realloc(p, (n && size) ? n * size : 1);
	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

#define GROW(arr, n, cap) do {						\
	if ((n) == (cap)) {						\
		(cap) = (cap) ? 2 * (cap) : 16;				\
		(arr) = xrealloc((arr), (cap), sizeof(*(arr)));		\
	}								\
} while (0)

__attribute__((format(printf, 4, 5)))
static void report(struct ctx *c, unsigned int line, bool warn,
		   const char *fmt, ...)
{
	struct diag *d;
	va_list ap;
	size_t cap = c->capdiags;

	GROW(c->diags, c->ndiags, cap);
	c->capdiags = cap;
	d = &c->diags[c->ndiags];
	d->line = line;
	d->seq = c->ndiags++;
	d->warn = warn;
	va_start(ap, fmt);
	if (vasprintf(&d->msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (warn)
		c->nwarn++;
	else
		c->nerr++;
}

#define error(c, line, ...) report(c, line, false, __VA_ARGS__)
#define warning(c, line, ...) report(c, line, true, __VA_ARGS__)

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush_diags(struct ctx *c, FILE *out)
{
	size_t i;

	if (c->ndiags)
		qsort(c->diags, c->ndiags, sizeof(*c->diags), diag_cmp);
	for (i = 0; i < c->ndiags; i++) {
		if (out)
			fprintf(out, "%s:%u: %s%s\n", c->file, c->diags[i].line,
				c->diags[i].warn ? "warning: " : "",
				c->diags[i].msg);
		free(c->diags[i].msg);
	}
}

/* ---- scanner: iniparser's line grammar, with line numbers ---- */

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static bool ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * Scan @buf. Returns a copy for iniparser in which lines in error are
 * blanked (line count kept).
 */
static char *scan(struct ctx *c, const char *buf, size_t len, size_t *outlen)
{
	char *out = xrealloc(NULL, len + 2, 1);
	size_t olen = 0, pos = 0, ncap = 0, ecap = 0;
	unsigned int lineno = 0;
	int cur = -1;		/* current section */
	bool skip_sect = false;	/* inside a duplicate section */

	while (pos < len) {
		size_t start = pos, end, llen;
		unsigned int first = lineno + 1, nphys = 0;
		char *logical = NULL;
		size_t loglen = 0;
		bool bad = false, blank = false;
		char *l;

		/* One logical line: physical lines joined on a trailing '\'. */
		for (;;) {
			size_t s = pos, e;

			while (pos < len && buf[pos] != '\n')
				pos++;
			e = pos;
			if (pos < len)
				pos++;
			lineno++;
			nphys++;
			if (memchr(buf + s, 0, e - s)) {
				error(c, lineno, "NUL byte in line");
				bad = true;
			}
			while (e > s && isspace((unsigned char)buf[e - 1]))
				e--;
			logical = xrealloc(logical, loglen + (e - s) + 1, 1);
			memcpy(logical + loglen, buf + s, e - s);
			loglen += e - s;
			logical[loglen] = 0;
			if (loglen && logical[loglen - 1] == '\\' && pos < len) {
				logical[--loglen] = 0;
				continue;
			}
			break;
		}
		end = pos;
		llen = strlen(logical);
		if (!bad && llen > LINE_MAX_BYTES) {
			error(c, first, "line too long (%zu bytes, max %d)",
			      llen, LINE_MAX_BYTES);
			bad = true;
		}
		for (l = logical; !bad && *l; l++) {
			if (iscntrl((unsigned char)*l) && *l != '\t' &&
			    *l != '\r') {
				error(c, first, "control character 0x%02x in line",
				      (unsigned char)*l);
				bad = true;
			}
		}
		l = strip(logical);
		if (bad || !*l || *l == '#' || *l == ';') {
			/* blank, comment, or already reported */
		} else if (*l == '[') {
			char *close = strchr(l, ']');
			char *name;

			if (!close) {
				error(c, first, "unterminated section header");
				bad = true;
			} else if (*strip(close + 1)) {
				error(c, first, "unexpected text after section header");
				bad = true;
			} else {
				*close = 0;
				name = strip(l + 1);
				GROW(c->sects, c->nsects, ncap);
				c->sects[c->nsects] = (struct sect){
					.name = xstrdup(name), .line = first,
					.kind = SECT_UNKNOWN, .sbx = -1 };
				skip_sect = false;
				for (size_t i = 0; i < c->nsects; i++) {
					if (!ieq(c->sects[i].name, name))
						continue;
					error(c, first, "duplicate section [%s] (first at line %u)",
					      name, c->sects[i].line);
					c->sects[c->nsects].kind = SECT_DUP;
					skip_sect = true;
					blank = true;
					break;
				}
				cur = c->nsects++;
			}
		} else {
			char *eq = strchr(l, '=');
			char *key;

			if (!eq) {
				error(c, first, "expected 'key = value', '[section]' or a comment");
				bad = true;
			} else {
				*eq = 0;
				key = strip(l);
				if (!*key) {
					error(c, first, "missing key before '='");
					bad = true;
				} else if (cur < 0) {
					error(c, first, "key '%s' outside any section", key);
					bad = true;
				} else if (skip_sect) {
					blank = true;
				} else {
					for (size_t i = 0; i < c->nents; i++) {
						if (c->ents[i].sect != cur ||
						    !ieq(c->ents[i].key, key))
							continue;
						error(c, first, "duplicate key '%s' (first at line %u)",
						      key, c->ents[i].line);
						bad = true;
						break;
					}
					if (!bad) {
						GROW(c->ents, c->nents, ecap);
						c->ents[c->nents++] = (struct entry){
							.sect = cur, .key = xstrdup(key),
							.line = first };
					}
				}
			}
		}
		free(logical);
		if (bad || blank) {
			memset(out + olen, '\n', nphys);
			olen += nphys;
		} else {
			memcpy(out + olen, buf + start, end - start);
			olen += end - start;
		}
	}
	out[olen++] = '\n';
	*outlen = olen;
	return out;
}

/* ---- values ---- */

static bool valid_path(struct ctx *c, unsigned int line, const char *key,
		       const char *p)
{
	size_t n = strlen(p);
	const char *s;

	if (p[0] != '/') {
		error(c, line, "%s: '%s' is not an absolute path", key, p);
		return false;
	}
	if (n >= ASB_PATH_MAX) {
		error(c, line, "%s: path too long (%zu bytes, max %d)", key, n,
		      ASB_PATH_MAX - 1);
		return false;
	}
	for (s = p; *s; s++) {
		if (*s == '/' && (s[1] == '/' || (s[1] == 0 && s != p)) ) {
			error(c, line, "%s: '%s' is not normalized (empty component or trailing '/')",
			      key, p);
			return false;
		}
		if (*s == '/' && s[1] == '.' &&
		    (s[2] == '/' || s[2] == 0 ||
		     (s[2] == '.' && (s[3] == '/' || s[3] == 0)))) {
			error(c, line, "%s: '%s' is not normalized ('.' or '..' component)",
			      key, p);
			return false;
		}
	}
	for (s = p; *s; s++) {
		const char *e = strchr(s + 1, '/');
		size_t clen = e ? (size_t)(e - s - 1) : strlen(s + 1);

		if (clen > NAME_MAX) {
			error(c, line, "%s: path component too long in '%s' (max %d)",
			      key, p, NAME_MAX);
			return false;
		}
		if (!e)
			break;
		s = e - 1;
	}
	return true;
}

static bool parse_u32(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v <= max && (s[0] != '0' || !s[1]);
}

enum { LIMIT_PIDS, LIMIT_MEMORY, LIMIT_CPU };

/*
 * limits.pids = N (tasks), limits.memory = N[K|M|G] (bytes, RAM and swap),
 * limits.cpu = N% (of one CPU); "max" lifts a limit the sandbox extends.
 */
static void parse_limit(struct ctx *c, unsigned int line, struct sbx *s,
			const char *key, const char *v)
{
	static const struct {
		const char *key, *form;
		unsigned long long lo, hi;
	} lim[] = {
		[LIMIT_PIDS] = { "limits.pids", "a number of tasks (8-4194304)",
				 8, ASB_LIMIT_PIDS_MAX },
		[LIMIT_MEMORY] = { "limits.memory", "a size (16M-1T: N, NK, NM or NG)",
				   16ull << 20, 1ull << 40 },
		[LIMIT_CPU] = { "limits.cpu", "a share of one CPU (1%-102400%)",
				1, ASB_LIMIT_CPU_MAX },
	};
	unsigned long long n, mul = 1;
	char *end;
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(key, lim[i].key))
			break;
	if (i == 3) {
		error(c, line, "unknown key '%s' in [sandbox.%s] (expected limits.pids, limits.memory or limits.cpu)",
		      key, s->name);
		return;
	}
	if (!strcmp(v, "max")) {
		s->limit[i] = 0;
		return;
	}
	errno = 0;
	n = isdigit((unsigned char)*v) ? strtoull(v, &end, 10) : 0;
	if (!n || errno)
		mul = 0;
	else if (i == LIMIT_CPU)
		mul = strcmp(end, "%") ? 0 : 1;
	else if (i == LIMIT_MEMORY && *end && !end[1])
		mul = strchr("Kk", *end) ? 1ull << 10 :
		      strchr("Mm", *end) ? 1ull << 20 :
		      strchr("Gg", *end) ? 1ull << 30 : 0;
	else if (*end)
		mul = 0;
	if (!mul || n > lim[i].hi / mul || n * mul < lim[i].lo) {
		error(c, line, "%s: '%s' is not %s or max", key, v, lim[i].form);
		return;
	}
	s->limit[i] = (long long)(n * mul);
}

/* "ADDR/PREFIX:PORT", "ADDR/PREFIX:LO-HI", "[V6]/PREFIX:PORT", host forms
 * without "/PREFIX", "any" and "any:PORT[-HI]". Fills one or two rules. */
static int parse_net(struct ctx *c, unsigned int line, const char *key,
		     const char *tok, struct asb_image_rule out[2])
{
	char buf[128], *addr, *pfx = NULL, *port;
	unsigned long lo, hi, plen;
	int n = 1, max;

	memset(out, 0, 2 * sizeof(*out));
	if (strlen(tok) >= sizeof(buf)) {
		error(c, line, "%s: address too long: '%.40s...'", key, tok);
		return -1;
	}
	strcpy(buf, tok);
	if (!strcmp(buf, "any")) {
		lo = 0;
		hi = 65535;
		goto any;
	}
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close) {
			error(c, line, "%s: '%s': missing ']'", key, tok);
			return -1;
		}
		*close = 0;
		addr = buf + 1;
		port = close + 1;
		if (*port == '/') {
			pfx = port + 1;
			port = strchr(pfx, ':');
			if (port)
				*port++ = 0;
		} else if (*port == ':') {
			port++;
		} else {
			port = NULL;
		}
		out->family = ASB_NET_IP6;
	} else {
		addr = buf;
		port = strrchr(buf, ':');
		if (port && strchr(buf, ':') != port) {
			error(c, line, "%s: '%s': IPv6 addresses go in brackets: [ADDR]/PREFIX:PORT",
			      key, tok);
			return -1;
		}
		if (port)
			*port++ = 0;
		pfx = strchr(addr, '/');
		if (pfx)
			*pfx++ = 0;
		out->family = strcmp(addr, "any") ? ASB_NET_IP4 : ASB_NET_NONE;
	}
	if (!port || !*port) {
		error(c, line, "%s: '%s': missing ':PORT' or ':LO-HI'", key, tok);
		return -1;
	}
	{
		char *dash = strchr(port, '-');

		if (dash)
			*dash = 0;
		if (!parse_u32(port, 65535, &lo) || lo == 0 ||
		    (dash && (!parse_u32(dash + 1, 65535, &hi) || hi == 0))) {
			error(c, line, "%s: '%s': bad port (1-65535)", key, tok);
			return -1;
		}
		if (!dash)
			hi = lo;
		if (lo > hi) {
			error(c, line, "%s: '%s': port range %lu-%lu is reversed",
			      key, tok, lo, hi);
			return -1;
		}
	}
	if (out->family == ASB_NET_NONE) {
		if (pfx) {
			error(c, line, "%s: '%s': 'any' takes no prefix", key, tok);
			return -1;
		}
any:
		out[0].family = ASB_NET_IP4;
		out[1].family = ASB_NET_IP6;
		n = 2;
		for (int i = 0; i < 2; i++) {
			out[i].port_lo = lo;
			out[i].port_hi = hi;
		}
		return n;
	}
	max = out->family == ASB_NET_IP4 ? 32 : 128;
	if (inet_pton(out->family == ASB_NET_IP4 ? AF_INET : AF_INET6, addr,
		      out->addr) != 1) {
		error(c, line, "%s: '%s': bad IPv%d address '%s'", key, tok,
		      out->family, addr);
		return -1;
	}
	plen = max;
	if (pfx && !parse_u32(pfx, max, &plen)) {
		error(c, line, "%s: '%s': bad prefix length (0-%d)", key, tok, max);
		return -1;
	}
	for (int b = plen; b < max; b++) {
		if (out->addr[b / 8] & (0x80 >> (b % 8))) {
			error(c, line, "%s: '%s': host bits set after /%lu", key,
			      tok, plen);
			return -1;
		}
	}
	out->prefix = plen;
	out->port_lo = lo;
	out->port_hi = hi;
	return n;
}

static const struct {
	const char *name;
	int af;
} families[] = {
	{ "unix", AF_UNIX }, { "local", AF_UNIX }, { "inet", AF_INET },
	{ "inet6", AF_INET6 }, { "ax25", AF_AX25 }, { "ipx", AF_IPX },
	{ "appletalk", AF_APPLETALK }, { "x25", AF_X25 }, { "key", AF_KEY },
	{ "netlink", AF_NETLINK }, { "packet", AF_PACKET }, { "rds", AF_RDS },
	{ "llc", AF_LLC }, { "can", AF_CAN }, { "tipc", AF_TIPC },
	{ "bluetooth", AF_BLUETOOTH }, { "rxrpc", AF_RXRPC },
	{ "isdn", AF_ISDN }, { "phonet", AF_PHONET },
	{ "ieee802154", AF_IEEE802154 }, { "caif", AF_CAIF }, { "alg", AF_ALG },
	{ "nfc", AF_NFC }, { "vsock", AF_VSOCK }, { "kcm", AF_KCM },
	{ "qipcrtr", AF_QIPCRTR }, { "smc", AF_SMC }, { "xdp", AF_XDP },
	{ "mctp", 45 },
};

const char *asb_family_name(int af)
{
	if (af == -1)
		return "raw";
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].af == af)
			return families[i].name;
	return NULL;
}

static const char *const kind_names[] = {
	[ASB_RULE_FS_READ] = "fs.read",
	[ASB_RULE_FS_WRITE] = "fs.write",
	[ASB_RULE_FS_EXEC] = "fs.exec",
	[ASB_RULE_NET_CONNECT] = "net.connect",
	[ASB_RULE_NET_BIND] = "net.bind",
	[ASB_RULE_NET_UNIX] = "net.unix",
	[ASB_RULE_ASK_EXEC] = "approve.exec",
	[ASB_RULE_ASK_CONNECT] = "approve.connect",
	[ASB_RULE_ASK_WRITE] = "approve.write",
};

const char *asb_rule_kind_name(enum asb_rule_kind kind)
{
	if (kind < 1 || kind > ASB_RULE_KIND_MAX)
		return "?";
	return kind_names[kind];
}

static int kind_of(const char *key)
{
	for (int k = 1; k <= ASB_RULE_KIND_MAX; k++)
		if (!strcmp(kind_names[k], key))
			return k;
	return 0;
}

static bool is_net_kind(int k)
{
	return k == ASB_RULE_NET_CONNECT || k == ASB_RULE_NET_BIND ||
	       k == ASB_RULE_ASK_CONNECT;
}

static void add_rule(struct sbx *s, const struct asb_image_rule *r,
		     const char *path, unsigned int line)
{
	GROW(s->rules, s->nrules, s->caprules);
	s->rules[s->nrules] = (struct crule){ .r = *r, .path = path,
					      .own = true };
	s->rules[s->nrules].r.line = line;
	s->nrules++;
}

static bool valid_ident(const char *s, size_t max)
{
	if (!*s || strlen(s) >= max || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static void parse_secret(struct ctx *c, struct sbx *s, const char *name,
			 char *val, unsigned int line)
{
	struct csecret sec = { 0 };
	char *save, *tok;
	bool ok = true;

	if (!valid_ident(name, ASB_SECRET_NAME_MAX)) {
		error(c, line, "secret name '%s' is invalid (letters, digits, '_', max %d)",
		      name, ASB_SECRET_NAME_MAX - 1);
		return;
	}
	strcpy(sec.s.name, name);
	for (tok = strtok_r(val, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (!strncmp(tok, "exe:", 4)) {
			if (sec.exe) {
				error(c, line, "secret.%s: more than one exe:", name);
				ok = false;
			} else if (!valid_path(c, line, "secret exe", tok + 4)) {
				ok = false;
			}
			sec.exe = tok + 4;
		} else if (!strncmp(tok, "env:", 4)) {
			if (sec.s.env[0]) {
				error(c, line, "secret.%s: more than one env:", name);
				ok = false;
			} else if (!valid_ident(tok + 4, ASB_ENV_NAME_MAX)) {
				error(c, line, "secret.%s: bad environment variable name '%s'",
				      name, tok + 4);
				ok = false;
			} else {
				strcpy(sec.s.env, tok + 4);
			}
		} else {
			error(c, line, "secret.%s: unknown item '%s' (expected exe:PATH or env:VAR)",
			      name, tok);
			ok = false;
		}
	}
	if (!sec.exe && ok) {
		error(c, line, "secret.%s: missing exe:/path/to/program", name);
		ok = false;
	}
	if (!ok)
		return;
	sec.s.line = line;
	GROW(s->secrets, s->nsecrets, s->capsecrets);
	s->secrets[s->nsecrets++] = sec;
}

static const struct {
	const char *name;
	__u32 flag;
} sys_allow[] = {
	{ "userns", ASB_SB_ALLOW_USERNS },
	{ "ptrace", ASB_SB_ALLOW_PTRACE },
};

/* Capability names, by number (linux/capability.h), without "cap_". */
static const char *const cap_names[ASB_CAP_MAX + 1] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid",
	"kill", "setgid", "setuid", "setpcap", "linux_immutable",
	"net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
	"audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};

const char *asb_cap_name(int cap)
{
	return cap >= 0 && cap <= ASB_CAP_MAX ? cap_names[cap] : NULL;
}

static void set_flag(struct sbx *s, __u32 flag, bool on)
{
	s->flags_set |= flag;
	if (on)
		s->flags |= flag;
	else
		s->flags &= ~flag;
}

/* One key of a [sandbox.NAME] section. @val is ours to tokenize. */
static void sandbox_key(struct ctx *c, struct sbx *s, const char *key,
			char *val, unsigned int line)
{
	char *save, *tok, *first, *second;
	int kind = kind_of(key);
	size_t ntok = 0;

	if (!strncasecmp(key, "secret.", 7)) {
		parse_secret(c, s, key + 7, val, line);
		return;
	}
	first = strtok_r(val, " \t", &save);
	if (!first) {
		error(c, line, "%s: empty value", key);
		return;
	}
	if (kind) {
		for (tok = first; tok; tok = strtok_r(NULL, " \t", &save)) {
			struct asb_image_rule r[2];
			int n;

			ntok++;
			if (is_net_kind(kind)) {
				n = parse_net(c, line, key, tok, r);
				for (int i = 0; i < n; i++) {
					r[i].kind = kind;
					add_rule(s, &r[i], NULL, line);
				}
				continue;
			}
			if (!valid_path(c, line, key, tok))
				continue;
			memset(r, 0, sizeof(r[0]));
			r[0].kind = kind;
			r[0].path_len = strlen(tok);
			add_rule(s, &r[0], tok, line);
		}
		return;
	}
	if (!strcmp(key, "net.deny_families")) {
		for (tok = first; tok; tok = strtok_r(NULL, " \t", &save)) {
			size_t i;

			if (!strcmp(tok, "raw")) {
				set_flag(s, ASB_SB_DENY_RAW, true);
				continue;
			}
			for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
				if (!strcmp(families[i].name, tok))
					break;
			if (i == sizeof(families) / sizeof(families[0]))
				error(c, line, "net.deny_families: unknown family '%s'", tok);
			else
				s->families |= 1ull << families[i].af;
		}
		return;
	}
	if (!strcmp(key, "sys.caps")) {
		for (tok = first; tok; tok = strtok_r(NULL, " \t", &save)) {
			const char *n = strncasecmp(tok, "cap_", 4) ? tok : tok + 4;
			int i;

			for (i = 0; i <= ASB_CAP_MAX; i++)
				if (!strcasecmp(cap_names[i], n))
					break;
			if (i > ASB_CAP_MAX)
				error(c, line, "sys.caps: unknown capability '%s'", tok);
			else
				s->caps |= 1ull << i;
		}
		return;
	}
	if (!strcmp(key, "sys.allow")) {
		for (tok = first; tok; tok = strtok_r(NULL, " \t", &save)) {
			size_t i;

			for (i = 0; i < sizeof(sys_allow) / sizeof(sys_allow[0]); i++)
				if (!strcmp(sys_allow[i].name, tok))
					break;
			if (!strcmp(tok, "io_uring"))
				error(c, line, "sys.allow: io_uring is never allowed: its operations (socket, setsockopt, open, connect) are no system calls, so the filter and the approvals never see them");
			else if (i == sizeof(sys_allow) / sizeof(sys_allow[0]))
				error(c, line, "sys.allow: unknown item '%s' (expected userns, ptrace)",
				      tok);
			else
				set_flag(s, sys_allow[i].flag, true);
		}
		return;
	}

	/* Scalars. */
	second = strtok_r(NULL, " \t", &save);
	if (!strcmp(key, "extends") || !strcmp(key, "approve.timeout") ||
	    !strcmp(key, "approve.default") || !strcmp(key, "audit") ||
	    !strncmp(key, "limits.", 7)) {
		if (second) {
			error(c, line, "%s takes one value", key);
			return;
		}
	}
	if (!strcmp(key, "extends")) {
		s->extends = first;
		s->extends_line = line;
	} else if (!strcmp(key, "approve.timeout")) {
		unsigned long v;

		if (!parse_u32(first, ASB_ASK_TIMEOUT_MAX, &v) || v == 0)
			error(c, line, "approve.timeout: '%s' is not a number of seconds (1-%d)",
			      first, ASB_ASK_TIMEOUT_MAX);
		else
			s->timeout = v;
	} else if (!strcmp(key, "approve.default")) {
		if (strcmp(first, "deny") && strcmp(first, "allow"))
			error(c, line, "approve.default: '%s' is not deny or allow", first);
		else
			set_flag(s, ASB_SB_ASK_ALLOW, !strcmp(first, "allow"));
	} else if (!strcmp(key, "audit")) {
		if (strcmp(first, "deny") && strcmp(first, "all"))
			error(c, line, "audit: '%s' is not deny or all", first);
		else
			set_flag(s, ASB_SB_AUDIT_ALL, !strcmp(first, "all"));
		s->audit_line = line;
	} else if (!strncmp(key, "limits.", 7)) {
		parse_limit(c, line, s, key, first);
	} else {
		error(c, line, "unknown key '%s' in [sandbox.%s]", key, s->name);
	}
}

static bool valid_sandbox_name(const char *n)
{
	if (!*n || strlen(n) >= ASB_NAME_MAX || !isalnum((unsigned char)*n))
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_' && *n != '-')
			return false;
	return true;
}

static void classify_sections(struct ctx *c)
{
	size_t cap = 0;

	for (size_t i = 0; i < c->nsects; i++) {
		struct sect *sc = &c->sects[i];
		const char *name;

		if (sc->kind == SECT_DUP)
			continue;
		if (ieq(sc->name, "agentd")) {
			sc->kind = SECT_AGENTD;
			continue;
		}
		if (strncasecmp(sc->name, "sandbox.", 8)) {
			error(c, sc->line, "unknown section [%s] (expected [agentd] or [sandbox.NAME])",
			      sc->name);
			continue;
		}
		name = sc->name + 8;
		if (!valid_sandbox_name(name)) {
			error(c, sc->line, "bad sandbox name '%s' (letters, digits, '_', '-', max %d)",
			      name, ASB_NAME_MAX - 1);
			continue;
		}
		sc->kind = SECT_SANDBOX;
		sc->sbx = c->nsbx;
		GROW(c->sbx, c->nsbx, cap);
		c->sbx[c->nsbx] = (struct sbx){ .line = sc->line, .timeout = -1,
						.limit = { -1, -1, -1 } };
		for (size_t j = 0; name[j]; j++)
			c->sbx[c->nsbx].name[j] = tolower((unsigned char)name[j]);
		c->nsbx++;
	}
}

static char *lower_dup(const char *s)
{
	char *d = xstrdup(s);

	for (char *p = d; *p; p++)
		*p = tolower((unsigned char)*p);
	return d;
}

static void read_values(struct ctx *c, dictionary *d)
{
	for (size_t i = 0; i < c->nents; i++) {
		struct entry *e = &c->ents[i];
		struct sect *sc = &c->sects[e->sect];
		char *lkey, *ikey, *val;
		const char *v;

		if (sc->kind != SECT_AGENTD && sc->kind != SECT_SANDBOX)
			continue;
		lkey = lower_dup(e->key);
		if (asprintf(&ikey, "%s:%s", sc->name, lkey) < 0)
			abort();
		v = iniparser_getstring(d, ikey, NULL);
		free(ikey);
		val = xstrdup(v ? v : "");
		GROW(c->values, c->nvalues, c->capvalues);
		c->values[c->nvalues++] = val;
		if (sc->kind == SECT_SANDBOX) {
			/* secret names keep their case */
			sandbox_key(c, &c->sbx[sc->sbx],
				    strncmp(lkey, "secret.", 7) ? lkey : e->key,
				    val, e->line);
			free(lkey);
			continue;
		}
		size_t k;

		for (k = 0; k < 4; k++)
			if (!strcmp(lkey, agentd_keys[k]))
				break;
		if (k == 4)
			error(c, e->line, "unknown key '%s' in [agentd]", e->key);
		else if (!*strip(val))
			error(c, e->line, "%s: empty value", lkey);
		else if (valid_path(c, e->line, lkey, strip(val)))
			c->agentd[k] = strip(val);
		free(lkey);
	}
}

/* ---- extends: flatten ---- */

static struct sbx *find_sbx(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nsbx; i++)
		if (ieq(c->sbx[i].name, name))
			return &c->sbx[i];
	return NULL;
}

static void flatten(struct ctx *c, struct sbx *s, struct sbx **stack,
		    size_t depth)
{
	struct sbx *b;

	if (s->state == 2)
		return;
	s->state = 1;
	stack[depth] = s;
	if (!s->extends)
		goto done;
	b = find_sbx(c, s->extends);
	if (!b) {
		error(c, s->extends_line, "extends: no sandbox named '%s'",
		      s->extends);
		s->bad = true;
		goto done;
	}
	if (b->state == 1) {
		char chain[1024] = "";
		size_t i = 0, off = 0;

		while (stack[i] != b)
			i++;
		for (; i <= depth; i++)
			off += snprintf(chain + off, sizeof(chain) - off > 0 ?
					sizeof(chain) - off : 0, "%s -> ",
					stack[i]->name);
		error(c, s->extends_line, "extends cycle: %s%s", chain, b->name);
		s->bad = true;
		goto done;
	}
	flatten(c, b, stack, depth + 1);
	if (b->bad) {
		s->bad = true;
		goto done;
	}
	/* base rules first, then ours */
	{
		struct crule *all = xrealloc(NULL, b->nrules + s->nrules + 1,
					     sizeof(*all));

		for (size_t i = 0; i < b->nrules; i++) {
			all[i] = b->rules[i];
			all[i].own = false;
		}
		if (s->nrules)
			memcpy(all + b->nrules, s->rules,
			       s->nrules * sizeof(*all));
		free(s->rules);
		s->rules = all;
		s->nrules += b->nrules;
		s->caprules = s->nrules + 1;
	}
	for (size_t i = 0; i < b->nsecrets; i++) {
		bool mine = false;

		for (size_t j = 0; j < s->nsecrets; j++)
			mine |= !strcmp(s->secrets[j].s.name, b->secrets[i].s.name);
		if (mine)
			continue;
		GROW(s->secrets, s->nsecrets, s->capsecrets);
		s->secrets[s->nsecrets++] = b->secrets[i];
	}
	s->families |= b->families;
	s->caps |= b->caps;
	s->flags |= b->flags & ~s->flags_set & ~ASB_SB_DENY_RAW;
	s->flags |= b->flags & ASB_SB_DENY_RAW;
	if (s->timeout < 0)
		s->timeout = b->timeout;
	for (int i = 0; i < 3; i++)
		if (s->limit[i] < 0)
			s->limit[i] = b->limit[i];
	if (!s->audit_line)
		s->audit_line = b->audit_line;
done:
	s->state = 2;
}

/* ---- implied rules ---- */

static char *imply_helper;
static bool imply_on;

void asb_policy_imply(const char *helper)
{
	free(imply_helper);
	imply_helper = helper ? xstrdup(helper) : NULL;
	imply_on = true;
}

/* The PT_INTERP of the ELF file at @dirfd/@name into @buf, or false. */
static bool elf_interp(int dirfd, const char *name, char *buf, size_t len)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	bool found = false;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(ph) || eh.e_phnum > 64)
		goto out;
	for (unsigned int i = 0; i < eh.e_phnum && !found; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph))
			break;
		if (ph.p_type != PT_INTERP || !ph.p_filesz ||
		    ph.p_filesz > len || ph.p_filesz > ASB_PATH_MAX)
			continue;
		found = pread(fd, buf, ph.p_filesz, ph.p_offset) ==
			(ssize_t)ph.p_filesz && !buf[ph.p_filesz - 1] &&
			buf[0] == '/' && strlen(buf) == ph.p_filesz - 1;
	}
out:
	close(fd);
	return found;
}

static bool has_rule(const struct sbx *s, int kind, const char *path,
		     __u32 flags)
{
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i].r.kind == kind && s->rules[i].path &&
		    (s->rules[i].r.flags & flags) == flags &&
		    !strcmp(s->rules[i].path, path))
			return true;
	return false;
}

/* An implied fs.exec rule for the real path @p (kept by the caller). */
static void add_implied_real(struct sbx *s, const char *p, unsigned int line,
			     __u32 flags)
{
	struct asb_image_rule r = { .kind = ASB_RULE_FS_EXEC,
				    .flags = ASB_RULE_F_IMPLIED | flags };

	if (has_rule(s, ASB_RULE_FS_EXEC, p, flags))
		return;
	r.path_len = strlen(p);
	add_rule(s, &r, p, line);
	s->rules[s->nrules - 1].own = false;
}

/* The real path of @path, kept until the end of the compile, or NULL. */
static const char *keep_real(struct ctx *c, const char *path)
{
	char *p = realpath(path, NULL);

	if (!p)
		return NULL;
	GROW(c->values, c->nvalues, c->capvalues);
	c->values[c->nvalues++] = p;
	return p;
}

static void add_implied(struct ctx *c, struct sbx *s, const char *path,
			unsigned int line, __u32 flags)
{
	/* the file itself, not a link to it (/lib64 -> usr/lib64 ...) */
	const char *p = keep_real(c, path);

	if (p)
		add_implied_real(s, p, line, flags);
}

/* Directories hold at most this many programs whose interpreter is read. */
#define IMPLY_DIR_MAX	8192

/* @raw, a PT_INTERP of a program of @d, as a real path in @d's list. */
static void interp_add(struct ctx *c, struct interp_dir *d, const char *raw)
{
	if (strcmp(raw, c->last_raw)) {
		snprintf(c->last_raw, sizeof(c->last_raw), "%s", raw);
		c->last_real = keep_real(c, raw);
	}
	if (!c->last_real)
		return;
	for (size_t j = d->first; j < d->first + d->n; j++)
		if (!strcmp(c->interps[j], c->last_real))
			return;
	GROW(c->interps, c->ninterps, c->capinterps);
	c->interps[c->ninterps++] = c->last_real;
	d->n++;
}

/* The interpreters of the programs at @path, read once per compile. */
static const struct interp_dir *interp_dir(struct ctx *c, const char *path)
{
	char interp[ASB_PATH_MAX];
	struct interp_dir *d;
	struct dirent *de;
	unsigned int n = 0;
	struct stat st;
	DIR *dir;

	if (stat(path, &st) < 0)
		return NULL;
	for (size_t i = 0; i < c->nidirs; i++)
		if (c->idirs[i].dev == st.st_dev && c->idirs[i].ino == st.st_ino)
			return &c->idirs[i];
	GROW(c->idirs, c->nidirs, c->capidirs);
	d = &c->idirs[c->nidirs++];
	*d = (struct interp_dir){ .dev = st.st_dev, .ino = st.st_ino,
				  .first = c->ninterps };
	if (!S_ISDIR(st.st_mode)) {
		if (elf_interp(AT_FDCWD, path, interp, sizeof(interp)))
			interp_add(c, d, interp);
		return d;
	}
	dir = opendir(path);
	while (dir && (de = readdir(dir)) && n++ < IMPLY_DIR_MAX)
		if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) &&
		    elf_interp(dirfd(dir), de->d_name, interp, sizeof(interp)))
			interp_add(c, d, interp);
	if (dir)
		closedir(dir);
	return d;
}

static void imply(struct ctx *c, struct sbx *s)
{
	size_t n = s->nrules;

	for (size_t i = 0; i < n; i++) {
		const struct crule *r = &s->rules[i];
		const struct interp_dir *d;

		if (r->r.kind != ASB_RULE_FS_EXEC ||
		    (r->r.flags & ASB_RULE_F_IMPLIED))
			continue;
		d = interp_dir(c, r->path);
		for (size_t j = 0; d && j < d->n; j++)
			add_implied_real(s, c->interps[d->first + j],
					 s->rules[i].r.line, ASB_RULE_F_INTERP);
	}
	/* every secret's program is diverted to asb-secret (agentd/notify.h) */
	for (size_t i = 0; imply_helper && i < s->nsecrets; i++)
		add_implied(c, s, imply_helper, s->secrets[i].s.line, 0);
}

/* ---- ordering, lookups and warnings ---- */

static int rule_cmp_key(const struct asb_image_rule *a, const char *ap,
			const struct asb_image_rule *b, const char *bp)
{
	int d;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (!a->family)
		return strcmp(ap, bp);
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	d = memcmp(a->addr, b->addr, 16);
	return d;
}

static int crule_cmp(const void *x, const void *y)
{
	const struct crule *a = x, *b = y;
	int d = rule_cmp_key(&a->r, a->path, &b->r, b->path);

	if (d)
		return d;
	if (a->r.port_lo != b->r.port_lo)
		return a->r.port_lo < b->r.port_lo ? -1 : 1;
	if (a->r.port_hi != b->r.port_hi)
		return a->r.port_hi > b->r.port_hi ? -1 : 1;
	return a->r.line < b->r.line ? -1 : a->r.line > b->r.line;
}

/* First index whose key is >= (@key, @path). */
static size_t lower_bound(const struct crule *v, size_t n,
			  const struct asb_image_rule *key, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rule_cmp_key(&v[mid].r, v[mid].path, key, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool same_key(const struct crule *a, const struct crule *b)
{
	return !rule_cmp_key(&a->r, a->path, &b->r, b->path);
}

/* An equal rule that comes first (earlier line, or from the base). */
static const struct crule *earlier_twin(const struct sbx *s, size_t i)
{
	const struct crule *r = &s->rules[i];

	for (size_t j = i; j-- > 0 && same_key(&s->rules[j], r);) {
		const struct crule *o = &s->rules[j];

		if (o->r.port_lo == r->r.port_lo && o->r.port_hi == r->r.port_hi)
			return o;
	}
	return NULL;
}

/* The nearest rule of @kind at a proper ancestor of @path, or NULL. */
static const struct crule *path_ancestor(const struct sbx *s, int kind,
					 const char *path, bool self)
{
	char buf[ASB_PATH_MAX];
	struct asb_image_rule key = { .kind = kind };
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len + 1);
	if (!self)
		goto up;
	for (;;) {
		size_t at = lower_bound(s->rules, s->nrules, &key, buf);

		if (at < s->nrules && s->rules[at].r.kind == kind &&
		    !s->rules[at].r.family && !strcmp(s->rules[at].path, buf))
			return &s->rules[at];
up:
		if (!strcmp(buf, "/"))
			return NULL;
		*strrchr(buf, '/') = 0;
		if (!buf[0])
			strcpy(buf, "/");
	}
}

static void mask_addr(__u8 *a, unsigned int prefix)
{
	for (unsigned int b = prefix; b < 128; b++)
		a[b / 8] &= ~(0x80 >> (b % 8));
}

/* A rule of @kind other than @self whose prefix and ports cover @r. */
static const struct crule *net_cover(const struct sbx *s, int kind,
				     const struct crule *r,
				     const struct crule *self,
				     const __u8 present[129])
{
	int max = r->r.family == ASB_NET_IP4 ? 32 : 128;

	for (int p = r->r.prefix; p >= 0 && p <= max; p--) {
		struct asb_image_rule key = { .kind = kind,
					      .family = r->r.family,
					      .prefix = p };
		size_t at;

		if (!present[p])
			continue;
		memcpy(key.addr, r->r.addr, 16);
		mask_addr(key.addr, p);
		at = lower_bound(s->rules, s->nrules, &key, NULL);
		for (; at < s->nrules &&
		       !rule_cmp_key(&s->rules[at].r, NULL, &key, NULL); at++) {
			const struct crule *o = &s->rules[at];

			if (o != self && o->r.port_lo <= r->r.port_lo &&
			    o->r.port_hi >= r->r.port_hi)
				return o;
		}
	}
	return NULL;
}

/* Is one of the paths @a and @b the other or below it? */
static bool path_related(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (strncmp(a, b, n))
		return false;
	return la == lb || (la < lb ? b[n] == '/' || n == 1 :
				      a[n] == '/' || n == 1);
}

/*
 * net.unix is matched on the name a process gives connect(): where the
 * sandbox may write (fs.write, approve.write) at, above or below a net.unix
 * path, a link it makes there could name any socket on the host. Such a
 * rule cannot be enforced: refused.
 */
static void check_unix_rules(struct ctx *c, struct sbx *s)
{
	for (size_t i = 0; i < s->nrules; i++) {
		const struct crule *u = &s->rules[i];

		if (u->r.kind != ASB_RULE_NET_UNIX || !u->path)
			continue;
		for (size_t j = 0; j < s->nrules; j++) {
			const struct crule *w = &s->rules[j];

			if ((w->r.kind != ASB_RULE_FS_WRITE &&
			     w->r.kind != ASB_RULE_ASK_WRITE) || !w->path ||
			    !path_related(u->path, w->path))
				continue;
			error(c, u->r.line, "net.unix: '%s': the sandbox may write at '%s' (line %u): a link made there could name any socket",
			      u->path, w->path, w->r.line);
			s->bad = true;
			break;
		}
	}
}

/*
 * approve.exec is matched by path, and by inode for a file: at or below a
 * path the sandbox may write, it could rename the program or its directory
 * away and run it from there unasked, or change what runs. Refused.
 */
static void check_exec_rules(struct ctx *c, struct sbx *s)
{
	for (size_t i = 0; i < s->nrules; i++) {
		const struct crule *x = &s->rules[i];

		if (x->r.kind != ASB_RULE_ASK_EXEC || !x->path)
			continue;
		for (size_t j = 0; j < s->nrules; j++) {
			const struct crule *w = &s->rules[j];
			size_t n = w->path ? strlen(w->path) : 0;

			if (w->r.kind != ASB_RULE_FS_WRITE || !w->path ||
			    !path_related(x->path, w->path) ||
			    strlen(x->path) < n)
				continue;
			error(c, x->r.line, "approve.exec: '%s': the sandbox may write at '%s' (line %u): it could move the program away and run it unasked",
			      x->path, w->path, w->r.line);
			s->bad = true;
			break;
		}
	}
}

static void warn_shadowing(struct ctx *c, struct sbx *s)
{
	__u8 (*present)[2][129] = calloc(ASB_RULE_KIND_MAX + 1,
					 sizeof(*present));

	if (!present)
		abort();
	for (size_t i = 0; i < s->nrules; i++) {
		const struct asb_image_rule *r = &s->rules[i].r;

		if (r->family)
			present[r->kind][r->family == ASB_NET_IP6][r->prefix] = 1;
	}
	for (size_t i = 0; i < s->nrules; i++) {
		const struct crule *r = &s->rules[i], *o;
		const char *kn = kind_names[r->r.kind];
		char what[96], other[96];

		if (!r->own)
			continue;
		if (!r->r.family) {
			o = earlier_twin(s, i);
			if (o) {
				warning(c, r->r.line, "%s %s: duplicate of line %u",
					kn, r->path, o->r.line);
				continue;
			}
			o = path_ancestor(s, r->r.kind, r->path, false);
			if (o)
				warning(c, r->r.line, "%s %s is already covered by %s (line %u)",
					kn, r->path, o->path, o->r.line);
			continue;
		}
		asb_rule_format_net(&r->r, what, sizeof(what));
		if ((r->r.kind == ASB_RULE_NET_CONNECT ||
		     r->r.kind == ASB_RULE_NET_BIND) &&
		    s->families & (1ull << (r->r.family == ASB_NET_IP4 ?
					     AF_INET : AF_INET6)))
			warning(c, r->r.line, "%s %s can never match: %s is in net.deny_families",
				kn, what,
				r->r.family == ASB_NET_IP4 ? "inet" : "inet6");
		o = earlier_twin(s, i);
		if (o) {
			warning(c, r->r.line, "%s %s: duplicate of line %u", kn,
				what, o->r.line);
			continue;
		}
		o = net_cover(s, r->r.kind, r, r,
			      present[r->r.kind][r->r.family == ASB_NET_IP6]);
		if (o) {
			asb_rule_format_net(&o->r, other, sizeof(other));
			warning(c, r->r.line, "%s %s is already covered by %s (line %u)",
				kn, what, other, o->r.line);
		}
	}
	free(present);
}

/* ---- image ---- */

struct strtab {
	char *buf;
	size_t len, cap;
};

static __u32 str_add(struct strtab *t, const char *s)
{
	size_t n = strlen(s) + 1;
	__u32 off = t->len;

	while (t->len + n > t->cap) {
		t->cap = t->cap ? 2 * t->cap : 4096;
		t->buf = xrealloc(t->buf, t->cap, 1);
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	return off;
}

static int sbx_name_cmp(const void *a, const void *b)
{
	return strcmp((*(struct sbx *const *)a)->name,
		      (*(struct sbx *const *)b)->name);
}

static int secret_cmp(const void *a, const void *b)
{
	return strcmp(((const struct csecret *)a)->s.name,
		      ((const struct csecret *)b)->s.name);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void emit(struct ctx *c, struct asb_image *img)
{
	struct strtab st = { 0 };
	struct sbx **order = xrealloc(NULL, c->nsbx + 1, sizeof(*order));
	size_t nrules = 0, nsecrets = 0, off, size;
	struct asb_image_hdr *h;
	struct asb_image_sandbox *sbs;
	struct asb_image_rule *rules;
	struct asb_image_secret *secs;
	__u32 file, agentd[4] = { 0 };
	size_t ri = 0, si = 0;

	str_add(&st, "");
	file = str_add(&st, c->file);
	for (int k = 0; k < 4; k++)
		if (c->agentd[k])
			agentd[k] = str_add(&st, c->agentd[k]);
	for (size_t i = 0; i < c->nsbx; i++) {
		order[i] = &c->sbx[i];
		nrules += c->sbx[i].nrules;
		nsecrets += c->sbx[i].nsecrets;
	}
	qsort(order, c->nsbx, sizeof(*order), sbx_name_cmp);

	off = align8(sizeof(*h));
	size = off + c->nsbx * sizeof(*sbs) + nrules * sizeof(*rules) +
	       nsecrets * sizeof(*secs);
	/* strings are added while the tables are filled: fill first */
	sbs = xrealloc(NULL, c->nsbx + 1, sizeof(*sbs));
	rules = xrealloc(NULL, nrules + 1, sizeof(*rules));
	secs = xrealloc(NULL, nsecrets + 1, sizeof(*secs));
	for (size_t i = 0; i < c->nsbx; i++) {
		struct sbx *s = order[i];
		struct asb_image_sandbox *o = &sbs[i];

		memset(o, 0, sizeof(*o));
		memcpy(o->name, s->name, sizeof(o->name));
		o->first_rule = ri;
		o->n_rules = s->nrules;
		o->first_secret = si;
		o->n_secrets = s->nsecrets;
		o->flags = s->flags;
		o->ask_timeout = s->timeout > 0 ? s->timeout :
				 ASB_ASK_TIMEOUT_DEFAULT;
		o->deny_families = s->families;
		o->caps = s->caps;
		o->pids_max = s->limit[LIMIT_PIDS] > 0 ? s->limit[LIMIT_PIDS] : 0;
		o->mem_max = s->limit[LIMIT_MEMORY] > 0 ? s->limit[LIMIT_MEMORY] : 0;
		o->cpu_pct = s->limit[LIMIT_CPU] > 0 ? s->limit[LIMIT_CPU] : 0;
		o->file = file;
		o->line = s->line;
		o->audit_file = s->audit_line ? file : 0;
		o->audit_line = s->audit_line;
		for (size_t j = 0; j < s->nrules; j++) {
			struct asb_image_rule *r = &rules[ri++];

			*r = s->rules[j].r;
			r->file = file;
			if (s->rules[j].path)
				r->path = str_add(&st, s->rules[j].path);
		}
		if (s->nsecrets)
			qsort(s->secrets, s->nsecrets, sizeof(*s->secrets),
			      secret_cmp);
		for (size_t j = 0; j < s->nsecrets; j++) {
			struct asb_image_secret *x = &secs[si++];

			*x = s->secrets[j].s;
			x->exe = str_add(&st, s->secrets[j].exe);
			x->file = file;
		}
	}
	size += st.len;
	h = calloc(1, size);
	if (!h)
		abort();
	*h = (struct asb_image_hdr){
		.magic = ASB_IMAGE_MAGIC, .version = ASB_IMAGE_VERSION,
		.hdr_size = sizeof(*h), .size = size,
		.n_sandboxes = c->nsbx, .sandbox_off = off,
		.n_rules = nrules,
		.rule_off = off + c->nsbx * sizeof(*sbs),
		.n_secrets = nsecrets,
		.secret_off = off + c->nsbx * sizeof(*sbs) +
			      nrules * sizeof(*rules),
		.strtab_off = size - st.len, .strtab_size = st.len,
		.source = file,
		.agentd_socket = agentd[0], .agentd_state_dir = agentd[1],
		.agentd_audit_log = agentd[2], .agentd_vault = agentd[3],
	};
	memcpy((char *)h + h->sandbox_off, sbs, c->nsbx * sizeof(*sbs));
	memcpy((char *)h + h->rule_off, rules, nrules * sizeof(*rules));
	memcpy((char *)h + h->secret_off, secs, nsecrets * sizeof(*secs));
	memcpy((char *)h + h->strtab_off, st.buf, st.len);
	h->checksum = asb_crc32(h, size);
	img->hdr = h;
	img->size = size;
	free(sbs);
	free(rules);
	free(secs);
	free(order);
	free(st.buf);
}

/* ---- entry points ---- */

static int silent(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

static void ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < c->nsects; i++)
		free(c->sects[i].name);
	for (size_t i = 0; i < c->nents; i++)
		free(c->ents[i].key);
	for (size_t i = 0; i < c->nsbx; i++) {
		free(c->sbx[i].rules);
		free(c->sbx[i].secrets);
	}
	for (size_t i = 0; i < c->nvalues; i++)
		free(c->values[i]);
	free(c->sects);
	free(c->ents);
	free(c->sbx);
	free(c->values);
	free(c->diags);
	free(c->idirs);
	free(c->interps);
}

static dictionary *ini_load(const char *text, size_t len)
{
	char path[64];
	dictionary *d = NULL;
	int fd = memfd_create("asb-policy", MFD_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (write(fd, text, len) == (ssize_t)len) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		iniparser_set_error_callback(silent);
		d = iniparser_load(path);
	}
	close(fd);
	return d;
}

int asb_policy_compile_mem(const char *name, const char *buf, size_t len,
			   struct asb_image *img, FILE *diag,
			   unsigned int *nwarn)
{
	struct ctx c = { .file = name };
	struct sbx **stack;
	dictionary *d;
	char *clean;
	size_t clean_len;
	int ret = -1;

	memset(img, 0, sizeof(*img));
	if (len > FILE_MAX_BYTES) {
		error(&c, 1, "file too large (%zu bytes, max %u)", len,
		      FILE_MAX_BYTES);
		goto out;
	}
	clean = scan(&c, buf, len, &clean_len);
	d = ini_load(clean, clean_len);
	free(clean);
	if (!d) {
		error(&c, 1, "cannot parse: %s", strerror(errno ? errno : EINVAL));
		goto out;
	}
	classify_sections(&c);
	read_values(&c, d);
	iniparser_freedict(d);
	if (!c.nsbx && !c.nerr)
		error(&c, 1, "no [sandbox.NAME] section");
	stack = xrealloc(NULL, c.nsbx + 1, sizeof(*stack));
	for (size_t i = 0; i < c.nsbx; i++)
		flatten(&c, &c.sbx[i], stack, 0);
	free(stack);
	for (size_t i = 0; i < c.nsbx; i++) {
		struct sbx *s = &c.sbx[i];

		if (s->nrules)
			qsort(s->rules, s->nrules, sizeof(*s->rules), crule_cmp);
		if (!s->bad)
			check_unix_rules(&c, s);
		if (!s->bad)
		if (!s->bad)
			check_exec_rules(&c, s);
		if (!s->bad)
			warn_shadowing(&c, s);
		if (!s->bad && imply_on) {
			imply(&c, s);
			if (s->nrules)
				qsort(s->rules, s->nrules, sizeof(*s->rules),
				      crule_cmp);
		}
	}
	if (!c.nerr) {
		emit(&c, img);
		ret = 0;
	}
out:
	if (nwarn)
		*nwarn = c.nwarn;
	flush_diags(&c, diag);
	ctx_free(&c);
	return ret;
}

int asb_policy_compile(const char *path, struct asb_image *img, FILE *diag,
		       unsigned int *nwarn)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, ret = -1;

	memset(img, 0, sizeof(*img));
	if (nwarn)
		*nwarn = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (diag)
			fprintf(diag, "%s: cannot open: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		if (diag)
			fprintf(diag, "%s: not a regular file\n", path);
		goto out;
	}
	if ((size_t)st.st_size > FILE_MAX_BYTES) {
		if (diag)
			fprintf(diag, "%s:1: file too large (%lld bytes, max %u)\n",
				path, (long long)st.st_size, FILE_MAX_BYTES);
		goto out;
	}
	buf = xrealloc(NULL, st.st_size + 1, 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (diag)
				fprintf(diag, "%s: cannot read: %s\n", path,
					n ? strerror(errno) : "file shrank");
			goto out;
		}
		len += n;
	}
	ret = asb_policy_compile_mem(path, buf, len, img, diag, nwarn);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}
