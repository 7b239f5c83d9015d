/*
 * sigil.c - the `sigil` command-line tool: argument parsing, dispatch, and
 * the administrative subcommands (init, brand, key, product, batch, stats,
 * backup). Minting lives in mint.c, verification and export in verify.c.
 *
 * The tool is a thin shell over the library: every state change goes
 * through store.c (metadata) and keyring.c (secret bytes); this file only
 * validates what a person typed before anything is written, so that a bad
 * flag or value leaves the data directory exactly as it was. Every
 * subcommand accepts an explicit allow-list of options; an option that is
 * not on it is a usage error rather than silently ignored, because a
 * mistyped `--expire` that is dropped would mint codes that never expire.
 *
 * Errors are one line on stderr ("sigil: ..."), exit 2; negative answers
 * exit 1. Secret key bytes never reach stdout or stderr.
 *
 * Read-only subcommands (stats, verify, export, backup, mint) open the
 * store with STORE_RDONLY so that they run beside a live sigild.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "sigil/accounts.h"
#include "sigil/api.h"
#include "sigil/code.h"
#include "sigil/keyring.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

/* ---- command line ---- */

enum optkind { OPT_VALUE, OPT_FLAG };

static const struct optdef {
	const char	*name;
	enum optkind	 kind;
	size_t		 off;
} optdefs[] = {
	{ "data", OPT_VALUE, offsetof(struct opts, data) },
	{ "keyring", OPT_VALUE, offsetof(struct opts, keyring) },
	{ "brand", OPT_VALUE, offsetof(struct opts, brand) },
	{ "base-url", OPT_VALUE, offsetof(struct opts, base_url) },
	{ "sku", OPT_VALUE, offsetof(struct opts, sku) },
	{ "name", OPT_VALUE, offsetof(struct opts, name) },
	{ "gtin", OPT_VALUE, offsetof(struct opts, gtin) },
	{ "max-scanners", OPT_VALUE, offsetof(struct opts, max_scanners) },
	{ "count", OPT_VALUE, offsetof(struct opts, count) },
	{ "lot", OPT_VALUE, offsetof(struct opts, lot) },
	{ "expires", OPT_VALUE, offsetof(struct opts, expires) },
	{ "batch", OPT_VALUE, offsetof(struct opts, batch) },
	{ "key", OPT_VALUE, offsetof(struct opts, key) },
	{ "format", OPT_VALUE, offsetof(struct opts, format) },
	{ "out", OPT_VALUE, offsetof(struct opts, out) },
	{ "jobs", OPT_VALUE, offsetof(struct opts, jobs) },
	{ "level", OPT_VALUE, offsetof(struct opts, level) },
	{ "module", OPT_VALUE, offsetof(struct opts, module) },
	{ "from", OPT_VALUE, offsetof(struct opts, from) },
	{ "limit", OPT_VALUE, offsetof(struct opts, limit) },
	{ "since", OPT_VALUE, offsetof(struct opts, since) },
	{ "role", OPT_VALUE, offsetof(struct opts, role) },
	{ "email", OPT_VALUE, offsetof(struct opts, email) },
	{ "password-file", OPT_VALUE, offsetof(struct opts, password_file) },
	{ "json", OPT_FLAG, offsetof(struct opts, json) },
	{ "pin", OPT_FLAG, offsetof(struct opts, pin) },
	{ "force", OPT_FLAG, offsetof(struct opts, force) },
	{ "gs1", OPT_FLAG, offsetof(struct opts, gs1) },
	{ "stdin", OPT_FLAG, offsetof(struct opts, use_stdin) },
	{ "help", OPT_FLAG, offsetof(struct opts, help) },
};

/* One subcommand: its words, allowed options, positional count, usage. */
struct command {
	const char	*words;		/* "batch new" */
	const char	*allow;		/* " brand sku " (data/keyring/help always) */
	int		 maxpos;
	int		(*run)(struct opts *o);
	const char	*usage;
};

int
cli_fail(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line, whatever the message quotes from the user. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "sigil: %s\n", msg);
	return code;
}

static int
allowed(const char *allow, const char *name)
{
	size_t n = strlen(name);

	if (!strcmp(name, "data") || !strcmp(name, "keyring") ||
	    !strcmp(name, "help"))
		return 1;
	for (const char *p = allow; (p = strstr(p, name)) != NULL; p += n)
		if (p[-1] == ' ' && p[n] == ' ')
			return 1;
	return 0;
}

static int
cli_parse(const struct command *cmd, int argc, char **argv, struct opts *o)
{
	int rest = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		char name[32];
		const struct optdef *d = NULL;

		if (!rest && !strcmp(a, "--")) {
			rest = 1;
			continue;
		}
		if (!rest && !strcmp(a, "-h")) {
			o->help = 1;
			continue;
		}
		if (!rest && a[0] == '-' && a[1] != '\0' && a[1] != '-')
			return cli_fail(EXIT_USAGE,
			    "unknown option '%.40s' (see 'sigil %s --help')", a,
			    cmd->words);
		if (rest || strncmp(a, "--", 2) != 0) {
			if (o->npos >= cmd->maxpos)
				return cli_fail(EXIT_USAGE,
				    "unexpected argument '%.40s' (see 'sigil %s "
				    "--help')", a, cmd->words);
			o->pos[o->npos++] = a;
			continue;
		}
		a += 2;
		size_t n = strcspn(a, "=");
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, a, n);
		name[n] = '\0';
		if (a[n] == '=')
			val = a + n + 1;
		for (size_t k = 0; k < sizeof(optdefs) / sizeof(optdefs[0]); k++)
			if (!strcmp(optdefs[k].name, name))
				d = &optdefs[k];
		if (d == NULL || !allowed(cmd->allow, name))
			return cli_fail(EXIT_USAGE,
			    "unknown option '--%s' for '%s' (see 'sigil %s --help')",
			    name, cmd->words, cmd->words);
		if (d->kind == OPT_FLAG) {
			if (val != NULL)
				return cli_fail(EXIT_USAGE,
				    "option '--%s' takes no value", name);
			*(int *)((char *)o + d->off) = 1;
			continue;
		}
		if (val == NULL) {
			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE,
				    "option '--%s' needs a value", name);
			val = argv[++i];
		}
		const char **slot = (const char **)((char *)o + d->off);
		if (*slot != NULL)
			return cli_fail(EXIT_USAGE, "option '--%s' given twice",
			    name);
		*slot = val;
	}
	return 0;
}

const char *
cli_keyring_path(const struct opts *o, char *buf, size_t size)
{
	const char *env = getenv("SIGIL_KEYRING");

	if (o->keyring != NULL)
		return o->keyring;
	if (env != NULL && *env != '\0')
		return env;
	snprintf(buf, size, "%s/keyring", o->data);
	return buf;
}

int
cli_store_open(const struct opts *o, int flags, struct store **out)
{
	struct stat sb;
	int rc;

	if (!(flags & STORE_CREATE) && stat(o->data, &sb) != 0)
		return cli_fail(EXIT_USAGE,
		    "no data directory '%s' (run 'sigil init' first)", o->data);
	rc = store_open(o->data, flags, out);
	if (rc == SIGIL_ENOTFOUND)
		return cli_fail(EXIT_USAGE,
		    "no sigil data in '%s' (run 'sigil init' first)", o->data);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot open data in '%s': %s%s",
		    o->data, sigil_strerror(rc), store_open_hint(rc));
	return 0;
}

int
cli_parse_num(const char *flag, const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (s == NULL)
		return cli_fail(EXIT_USAGE, "missing --%s", flag);
	if (sigil_parse_u64(s, UINT64_MAX, &v) != 0 || v == 0 || v > max)
		return cli_fail(EXIT_USAGE,
		    "--%s must be a whole number from 1 to %llu, not '%.40s'",
		    flag, (unsigned long long)max, s);
	*out = v;
	return 0;
}

const char *
cli_state_name(int state)
{
	switch (state) {
	case BATCH_INACTIVE:	return "inactive";
	case BATCH_ACTIVE:	return "active";
	case BATCH_REVOKED:	return "revoked";
	}
	return "unknown";
}

const char *
cli_verdict_name(int verdict)
{
	static const char *names[] = { "genuine", "suspicious", "counterfeit",
	    "revoked", "inactive" };

	return verdict >= 0 && verdict <= 4 ? names[verdict] : "unknown";
}

static const char *
fmt_time(int64_t t, char *buf)
{
	if (t == 0)
		return "-";
	return sigil_time_format(t, buf);
}

static int
require(const char *val, const char *flag)
{
	if (val == NULL)
		return cli_fail(EXIT_USAGE, "missing --%s", flag);
	return 0;
}

/* 1..max characters, no control or bidi control (sigil_text_check). */
static int
check_text(const char *flag, const char *s, size_t max)
{
	struct sigil_text_err te;
	char msg[320], field[40];

	if (require(s, flag))
		return EXIT_USAGE;
	if (sigil_text_check(s, strlen(s), max, 0, &te) != 0) {
		snprintf(field, sizeof field, "--%s", flag);
		sigil_text_explain(field, max, 0, &te, msg, sizeof msg);
		return cli_fail(EXIT_USAGE, "%s", msg);
	}
	return 0;
}

/*
 * http(s)://host[:port][/path], no query or fragment, at most 200 bytes
 * (so a code URL stays well inside CODE_URL_MAX); the trailing slash is
 * dropped into out.
 */
static int
check_base_url(const char *s, char out[STORE_URL_MAX + 1])
{
	const char *host;
	size_t n;

	if (require(s, "base-url"))
		return EXIT_USAGE;
	n = strlen(s);
	if (!strncasecmp(s, "https://", 8))
		host = s + 8;
	else if (!strncasecmp(s, "http://", 7))
		host = s + 7;
	else
		return cli_fail(EXIT_USAGE,
		    "--base-url must start with http:// or https://");
	if (n > 200)
		return cli_fail(EXIT_USAGE, "--base-url is longer than 200 bytes");
	if (*host == '\0' || *host == '/' || *host == ':')
		return cli_fail(EXIT_USAGE, "--base-url has no host");
	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' ||
		    c == '"' || c == '<' || c == '>' || c == '\\' || c == '@')
			return cli_fail(EXIT_USAGE,
			    "--base-url may not contain '%c' (no query, fragment, "
			    "user or spaces)", c > 0x20 && c < 0x7f ? c : '?');
	}
	while (n > (size_t)(host - s) && s[n - 1] == '/')
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int
find_brand(struct store *st, const char *name, struct brand *b)
{
	int rc;

	if (require(name, "brand"))
		return EXIT_USAGE;
	rc = store_brand_find(st, name, b);
	if (rc == SIGIL_ENOTFOUND)
		return cli_fail(EXIT_USAGE, "no brand '%.64s'", name);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read brand: %s",
		    sigil_strerror(rc));
	return 0;
}

static int
get_batch(struct store *st, const char *arg, struct batch *b)
{
	uint64_t id;
	int rc;

	if (cli_parse_num("batch", arg, UINT64_MAX, &id))
		return EXIT_USAGE;
	rc = store_batch_get(st, id, b);
	if (rc == SIGIL_ENOTFOUND)
		return cli_fail(EXIT_USAGE, "no batch %llu",
		    (unsigned long long)id);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read batch: %s",
		    sigil_strerror(rc));
	return 0;
}

/* ---- brands and keys ---- */

/*
 * Adds brand name with its first key: metadata in the store, secret in
 * the keyring (created 0600 when absent). The keyring is opened first so
 * a keyring problem fails before the store changes.
 */
static int
brand_create(struct store *st, const struct opts *o, const char *name,
    const char *base_url, int create_keyring)
{
	char krpath[4096];
	struct keyring *kr = NULL;
	struct brand b = { 0 };
	struct key_meta km;
	int rc, ret = EXIT_USAGE;

	rc = keyring_open(cli_keyring_path(o, krpath, sizeof(krpath)),
	    create_keyring, &kr);
	if (rc != 0) {
		cli_fail(EXIT_USAGE, "cannot open keyring '%s': %s", krpath,
		    sigil_strerror(rc));
		goto out;
	}
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.base_url, sizeof(b.base_url), "%s", base_url);
	if ((rc = store_brand_add(st, &b)) != 0) {
		if (rc == SIGIL_EEXIST)
			cli_fail(EXIT_USAGE, "brand '%s' already exists", name);
		else
			cli_fail(EXIT_USAGE, "cannot add brand: %s",
			    sigil_strerror(rc));
		goto out;
	}
	if ((rc = store_key_add(st, b.id, &km)) != 0 ||
	    (rc = keyring_key_generate(kr, km.id, b.id)) != 0) {
		cli_fail(EXIT_USAGE, "brand %u added but its key failed: %s "
		    "(run 'sigil key new --brand %s')", (unsigned)b.id,
		    sigil_strerror(rc), name);
		goto out;
	}
	if (o->json)
		printf("{\"brand_id\": %u, \"key_id\": %u}\n", (unsigned)b.id,
		    (unsigned)km.id);
	else
		printf("brand %u '%s' (%s), key %u\n", (unsigned)b.id, b.name,
		    b.base_url, (unsigned)km.id);
	ret = EXIT_OK;
out:
	keyring_free(kr);
	return ret;
}

static int
check_brand_args(const struct opts *o, char url[STORE_URL_MAX + 1])
{
	if (check_text("brand", o->brand, STORE_NAME_MAX))
		return EXIT_USAGE;
	return check_base_url(o->base_url, url);
}

static int
cmd_init(struct opts *o)
{
	char url[STORE_URL_MAX + 1], krpath[4096], p[4096];
	struct store *st = NULL;
	struct stat sb;
	int made = 0, ret;

	if (check_brand_args(o, url))
		return EXIT_USAGE;
	cli_keyring_path(o, krpath, sizeof(krpath));
	snprintf(p, sizeof(p), "%s/data.mdb", o->data);
	if (stat(p, &sb) == 0)
		return cli_fail(EXIT_USAGE, "'%s' already holds sigil data",
		    o->data);
	if (stat(krpath, &sb) == 0)
		return cli_fail(EXIT_USAGE, "keyring '%s' already exists",
		    krpath);
	if (mkdir(o->data, 0700) == 0)
		made = 1;
	else if (errno != EEXIST)
		return cli_fail(EXIT_USAGE, "cannot create '%s': %s", o->data,
		    strerror(errno));
	if (cli_store_open(o, STORE_CREATE, &st)) {
		if (made)
			rmdir(o->data);
		return EXIT_USAGE;
	}
	ret = brand_create(st, o, o->brand, url, 1);
	store_close(st);
	return ret;
}

static int
cmd_brand_add(struct opts *o)
{
	char url[STORE_URL_MAX + 1];
	struct store *st;
	int ret;

	if (check_brand_args(o, url) || cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	ret = brand_create(st, o, o->brand, url, 0);
	store_close(st);
	return ret;
}

static int
print_brand(void *arg, const struct brand *b)
{
	json_t *arr = arg;
	char t[SIGIL_TIME_LEN + 1];

	if (arr != NULL)
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}",
		    "id", (json_int_t)b->id, "name", b->name, "base_url",
		    b->base_url, "created", fmt_time(b->created, t)));
	else
		printf("%-4u %-24s %-40s %s\n", (unsigned)b->id, b->name,
		    b->base_url, fmt_time(b->created, t));
	return 0;
}

/* Prints a JSON value on stdout and frees it. */
static int
emit_json(json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(v);
	putchar('\n');
	return rc == 0 ? EXIT_OK : cli_fail(EXIT_USAGE, "cannot write output");
}

static int
cmd_brand_list(struct opts *o)
{
	struct store *st;
	json_t *arr = o->json ? json_array() : NULL;
	int rc;

	if (cli_store_open(o, STORE_RDONLY, &st)) {
		json_decref(arr);
		return EXIT_USAGE;
	}
	if (!o->json)
		printf("%-4s %-24s %-40s %s\n", "ID", "NAME", "BASE URL",
		    "CREATED");
	rc = store_brand_each(st, print_brand, arr);
	store_close(st);
	if (rc != 0) {
		json_decref(arr);
		return cli_fail(EXIT_USAGE, "cannot list brands: %s",
		    sigil_strerror(rc));
	}
	return arr != NULL ? emit_json(arr) : EXIT_OK;
}

static int
cmd_key_new(struct opts *o)
{
	char krpath[4096];
	struct store *st;
	struct keyring *kr = NULL;
	struct brand b;
	struct key_meta km;
	int rc, ret = EXIT_USAGE;

	if (require(o->brand, "brand") || cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &b))
		goto out;
	if ((rc = keyring_open(cli_keyring_path(o, krpath, sizeof(krpath)), 0,
	    &kr)) != 0) {
		cli_fail(EXIT_USAGE, "cannot open keyring '%s': %s", krpath,
		    sigil_strerror(rc));
		goto out;
	}
	if ((rc = store_key_add(st, b.id, &km)) != 0 ||
	    (rc = keyring_key_generate(kr, km.id, b.id)) != 0) {
		cli_fail(EXIT_USAGE, "cannot add key: %s", sigil_strerror(rc));
		goto out;
	}
	if (o->json)
		printf("{\"key_id\": %u, \"brand_id\": %u}\n",
		    (unsigned)km.id, (unsigned)b.id);
	else
		printf("key %u for brand '%s' (new batches use it)\n",
		    (unsigned)km.id, b.name);
	ret = EXIT_OK;
out:
	keyring_free(kr);
	store_close(st);
	return ret;
}

static int
print_key(void *arg, const struct key_meta *k)
{
	json_t *arr = arg;
	char t1[SIGIL_TIME_LEN + 1], t2[SIGIL_TIME_LEN + 1];

	if (arr != NULL)
		json_array_append_new(arr, json_pack("{s:I, s:s, s:o}", "id",
		    (json_int_t)k->id, "created", fmt_time(k->created, t1),
		    "revoked", k->revoked ?
		    json_string(fmt_time(k->revoked, t2)) : json_null()));
	else
		printf("%-6u %-26s %s\n", (unsigned)k->id,
		    fmt_time(k->created, t1), fmt_time(k->revoked, t2));
	return 0;
}

static int
cmd_key_list(struct opts *o)
{
	struct store *st;
	struct brand b;
	json_t *arr;
	int rc;

	if (require(o->brand, "brand") || cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &b)) {
		store_close(st);
		return EXIT_USAGE;
	}
	arr = o->json ? json_array() : NULL;
	if (!o->json)
		printf("%-6s %-26s %s\n", "KEY", "CREATED", "REVOKED");
	rc = store_key_each(st, b.id, print_key, arr);
	store_close(st);
	if (rc != 0) {
		json_decref(arr);
		return cli_fail(EXIT_USAGE, "cannot list keys: %s",
		    sigil_strerror(rc));
	}
	return arr != NULL ? emit_json(arr) : EXIT_OK;
}

static int
cmd_key_revoke(struct opts *o)
{
	struct store *st;
	struct brand b;
	struct key_meta km;
	uint64_t id;
	int rc, ret = EXIT_USAGE;

	if (require(o->brand, "brand") ||
	    cli_parse_num("key", o->key, CODE_KEY_ID_MAX, &id) ||
	    cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &b))
		goto out;
	rc = store_key_get(st, (uint16_t)id, &km);
	if (rc != 0 || km.brand_id != b.id) {
		cli_fail(EXIT_USAGE, "brand '%s' has no key %llu", b.name,
		    (unsigned long long)id);
		goto out;
	}
	if (km.revoked != 0) {
		cli_fail(EXIT_USAGE, "key %llu is already revoked",
		    (unsigned long long)id);
		goto out;
	}
	if ((rc = store_key_revoke(st, (uint16_t)id)) != 0) {
		cli_fail(EXIT_USAGE, "cannot revoke key: %s", sigil_strerror(rc));
		goto out;
	}
	printf("key %llu revoked: its codes now verify as revoked\n",
	    (unsigned long long)id);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

/* ---- products ---- */

static int
cmd_product_add(struct opts *o)
{
	struct store *st;
	struct brand b;
	struct product p = { 0 };
	uint64_t max = 5;
	int rc, ret = EXIT_USAGE;

	if (check_text("brand", o->brand, STORE_NAME_MAX) ||
	    check_text("sku", o->sku, STORE_NAME_MAX) ||
	    check_text("name", o->name, STORE_TEXT_MAX))
		return EXIT_USAGE;
	if (o->max_scanners != NULL &&
	    cli_parse_num("max-scanners", o->max_scanners,
	    STORE_SCANNERS_MAX - 1, &max))
		return EXIT_USAGE;
	if (o->gtin != NULL) {
		size_t n = strlen(o->gtin);

		if ((n != 8 && n != 12 && n != 13 && n != 14) ||
		    strspn(o->gtin, "0123456789") != n)
			return cli_fail(EXIT_USAGE,
			    "--gtin must be 8, 12, 13 or 14 digits");
		memset(p.gtin, '0', 14 - n);
		memcpy(p.gtin + 14 - n, o->gtin, n + 1);
		if (!code_gtin_valid(p.gtin))
			return cli_fail(EXIT_USAGE,
			    "--gtin %s has a wrong check digit", o->gtin);
	}
	if (o->gs1 && o->gtin == NULL)
		return cli_fail(EXIT_USAGE, "--gs1 needs --gtin");
	if (cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &b))
		goto out;
	p.brand_id = b.id;
	snprintf(p.sku, sizeof(p.sku), "%s", o->sku);
	snprintf(p.name, sizeof(p.name), "%s", o->name);
	p.max_scanners = (uint32_t)max;
	p.gs1_form = o->gs1;
	if ((rc = store_product_add(st, &p)) != 0) {
		if (rc == SIGIL_EEXIST)
			cli_fail(EXIT_USAGE, "product '%s' or GTIN already exists",
			    o->sku);
		else
			cli_fail(EXIT_USAGE, "cannot add product: %s",
			    sigil_strerror(rc));
		goto out;
	}
	printf("product '%s' of brand '%s'%s%s%s\n", p.sku, b.name,
	    p.gtin[0] ? ", GTIN " : "", p.gtin, p.gs1_form ?
	    " (GS1 Digital Link codes)" : "");
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

/* ---- batches ---- */

/* GS1 AI 82 characters (the set allowed in AI 10, batch/lot). */
static int
gs1_safe(const char *s)
{
	for (; *s; s++)
		if (!strchr("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
		    "abcdefghijklmnopqrstuvwxyz", *s))
			return 0;
	return 1;
}

static json_t *
batch_json(const struct batch *b)
{
	char t[4][SIGIL_TIME_LEN + 1];

	return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s, "
	    "s:o, s:o, s:o}",
	    "id", (json_int_t)b->id, "brand_id", (json_int_t)b->brand_id,
	    "key_id", (json_int_t)b->key_id, "sku", b->sku, "lot", b->lot,
	    "first_serial", (json_int_t)b->first_serial,
	    "last_serial", (json_int_t)(b->first_serial + b->count - 1),
	    "count", (json_int_t)b->count, "state", cli_state_name(b->state),
	    "created", fmt_time(b->created, t[0]),
	    "expires", b->expires ? json_string(fmt_time(b->expires, t[1])) :
	    json_null(),
	    "activated", b->activated ?
	    json_string(fmt_time(b->activated, t[2])) : json_null(),
	    "revoked", b->revoked ? json_string(fmt_time(b->revoked, t[3])) :
	    json_null());
}

static int
cmd_batch_new(struct opts *o)
{
	struct store *st;
	struct brand br;
	struct product p;
	struct key_meta km;
	struct batch b = { 0 };
	uint64_t count;
	int64_t expires = 0;
	int rc, ret = EXIT_USAGE;

	if (require(o->brand, "brand") || require(o->sku, "sku") ||
	    cli_parse_num("count", o->count, CODE_SERIAL_MAX, &count))
		return EXIT_USAGE;
	if (o->lot != NULL && (strlen(o->lot) == 0 ||
	    strlen(o->lot) > STORE_LOT_MAX || !gs1_safe(o->lot)))
		return cli_fail(EXIT_USAGE, "--lot must be 1 to %d GS1 "
		    "characters (letters, digits, -._ and similar)",
		    STORE_LOT_MAX);
	if (o->expires != NULL && sigil_time_parse(o->expires, &expires) != 0)
		return cli_fail(EXIT_USAGE,
		    "--expires '%.40s' is not a date (YYYY-MM-DD)", o->expires);
	if (cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &br))
		goto out;
	rc = store_product_get(st, br.id, o->sku, &p);
	if (rc != 0) {
		cli_fail(EXIT_USAGE, "brand '%s' has no product '%.64s'",
		    br.name, o->sku);
		goto out;
	}
	if ((rc = store_key_current(st, br.id, &km)) != 0) {
		cli_fail(EXIT_USAGE, "brand '%s' has no valid key (run 'sigil "
		    "key new')", br.name);
		goto out;
	}
	b.brand_id = br.id;
	b.key_id = km.id;
	snprintf(b.sku, sizeof(b.sku), "%s", p.sku);
	if (o->lot != NULL)
		snprintf(b.lot, sizeof(b.lot), "%s", o->lot);
	b.count = count;
	b.expires = expires;
	if ((rc = store_batch_new(st, &b)) != 0) {
		cli_fail(EXIT_USAGE, rc == SIGIL_EFULL ?
		    "brand '%s' has fewer than %llu serials left" :
		    "cannot create batch for '%s' (%llu codes)", br.name,
		    (unsigned long long)count);
		goto out;
	}
	if (o->json)
		printf("{\"id\": %llu, \"first_serial\": %llu, \"count\": %llu}\n",
		    (unsigned long long)b.id,
		    (unsigned long long)b.first_serial,
		    (unsigned long long)b.count);
	else
		printf("%llu\n", (unsigned long long)b.id);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

static int
batch_set(struct opts *o, int state)
{
	struct store *st;
	struct batch b;
	int rc, ret = EXIT_USAGE;

	if (require(o->batch, "batch") || cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (get_batch(st, o->batch, &b))
		goto out;
	if ((rc = store_batch_set_state(st, b.id, state)) != 0) {
		if (rc == SIGIL_ESTATE)
			cli_fail(EXIT_USAGE, "batch %llu is %s",
			    (unsigned long long)b.id, cli_state_name(b.state));
		else
			cli_fail(EXIT_USAGE, "cannot change batch: %s",
			    sigil_strerror(rc));
		goto out;
	}
	{
		/* The EPCIS commissioning/decommissioning event. */
		struct trace_event ev = { 0 };

		ev.type = state == BATCH_ACTIVE ? EVENT_COMMISSION :
		    EVENT_DECOMMISSION;
		ev.brand_id = b.brand_id;
		ev.at = sigil_now_us();
		ev.batch_id = b.id;
		if ((rc = store_event_add(st, &ev)) != 0)
			cli_fail(EXIT_USAGE, "batch %llu changed, but its "
			    "trace event was not recorded: %s",
			    (unsigned long long)b.id, sigil_strerror(rc));
	}
	printf("batch %llu %s (%llu codes)\n", (unsigned long long)b.id,
	    cli_state_name(state), (unsigned long long)b.count);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

static int cmd_batch_activate(struct opts *o) { return batch_set(o, BATCH_ACTIVE); }
static int cmd_batch_revoke(struct opts *o) { return batch_set(o, BATCH_REVOKED); }

static int
print_batch(void *arg, const struct batch *b)
{
	json_t *arr = arg;
	char t[SIGIL_TIME_LEN + 1];

	if (arr != NULL)
		json_array_append_new(arr, batch_json(b));
	else
		printf("%-6llu %-16s %-12s %-14llu %-12llu %-9s %s\n",
		    (unsigned long long)b->id, b->sku, b->lot[0] ? b->lot : "-",
		    (unsigned long long)b->first_serial,
		    (unsigned long long)b->count, cli_state_name(b->state),
		    fmt_time(b->created, t));
	return 0;
}

static int
cmd_batch_list(struct opts *o)
{
	struct store *st;
	struct brand b;
	json_t *arr;
	int rc;

	if (require(o->brand, "brand") || cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &b)) {
		store_close(st);
		return EXIT_USAGE;
	}
	arr = o->json ? json_array() : NULL;
	if (!o->json)
		printf("%-6s %-16s %-12s %-14s %-12s %-9s %s\n", "ID", "SKU",
		    "LOT", "FIRST SERIAL", "COUNT", "STATE", "CREATED");
	rc = store_batch_each(st, b.id, print_batch, arr);
	store_close(st);
	if (rc != 0) {
		json_decref(arr);
		return cli_fail(EXIT_USAGE, "cannot list batches: %s",
		    sigil_strerror(rc));
	}
	return arr != NULL ? emit_json(arr) : EXIT_OK;
}

static int
cmd_batch_show(struct opts *o)
{
	struct store *st;
	struct batch b;
	struct brand br;
	char t[4][SIGIL_TIME_LEN + 1];

	if (require(o->batch, "batch") || cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (get_batch(st, o->batch, &b)) {
		store_close(st);
		return EXIT_USAGE;
	}
	if (store_brand_get(st, b.brand_id, &br) != 0)
		snprintf(br.name, sizeof(br.name), "#%u", (unsigned)b.brand_id);
	store_close(st);
	if (o->json) {
		json_t *j = batch_json(&b);

		json_object_set_new(j, "brand", json_string(br.name));
		return emit_json(j);
	}
	printf("batch      %llu\nbrand      %s\nproduct    %s\nlot        %s\n"
	    "key        %u\nserials    %llu..%llu (%llu codes)\nstate      %s\n"
	    "created    %s\nexpires    %s\nactivated  %s\nrevoked    %s\n",
	    (unsigned long long)b.id, br.name, b.sku, b.lot[0] ? b.lot : "-",
	    (unsigned)b.key_id, (unsigned long long)b.first_serial,
	    (unsigned long long)(b.first_serial + b.count - 1),
	    (unsigned long long)b.count, cli_state_name(b.state),
	    fmt_time(b.created, t[0]), fmt_time(b.expires, t[1]),
	    fmt_time(b.activated, t[2]), fmt_time(b.revoked, t[3]));
	return EXIT_OK;
}

/* ---- stats and backup ---- */

/* The write-ahead log's line of `sigil stats`. */
static void
print_wal(const struct store_wal_info *w, uint64_t replayed)
{
	if (!w->present)
		printf("write-ahead log none yet (the store has not run under a "
		    "sigild with it)\n");
	else if (w->owned)
		printf("write-ahead log in use by a running sigild (checkpoint "
		    "at transaction %llu)\n",
		    (unsigned long long)w->checkpoint_txnid);
	else
		printf("write-ahead log %s, no sigild running (last checkpoint "
		    "at transaction %llu)\n", w->clean ? "clean" : "active",
		    (unsigned long long)w->checkpoint_txnid);
	if (replayed > 0)
		printf("  recovered: %llu transactions applied from it by this "
		    "open, after an unclean stop\n",
		    (unsigned long long)replayed);
}

static int
cmd_stats(struct opts *o)
{
	struct store *st;
	struct store_stats s;
	struct store_wal_info w;
	uint64_t replayed;
	int rc;

	if (cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	rc = store_stats(st, &s);
	store_wal_info(st, &w);
	replayed = store_replayed(st);
	store_close(st);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read stats: %s",
		    sigil_strerror(rc));
	if (o->json) {
		json_t *v = json_object();

		for (int i = 0; i < 5; i++)
			json_object_set_new(v, cli_verdict_name(i),
			    json_integer((json_int_t)s.by_verdict[i]));
		return emit_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, "
		    "s:I, s:o, s:{s:b, s:b, s:b, s:I, s:I}}", "brands",
		    (json_int_t)s.brands, "products",
		    (json_int_t)s.products, "batches", (json_int_t)s.batches,
		    "codes_issued", (json_int_t)s.codes_issued,
		    "codes_scanned", (json_int_t)s.codes_scanned,
		    "scans", (json_int_t)s.scans, "bots", (json_int_t)s.bots,
		    "by_verdict", v, "wal", "present", w.present, "owned",
		    w.owned, "clean", w.clean, "checkpoint_txnid",
		    (json_int_t)w.checkpoint_txnid, "replayed",
		    (json_int_t)replayed));
	}
	printf("brands         %llu\nproducts       %llu\nbatches        %llu\n"
	    "codes issued   %llu\ncodes scanned  %llu\nscans          %llu "
	    "(%llu by bots)\n", (unsigned long long)s.brands,
	    (unsigned long long)s.products, (unsigned long long)s.batches,
	    (unsigned long long)s.codes_issued,
	    (unsigned long long)s.codes_scanned, (unsigned long long)s.scans,
	    (unsigned long long)s.bots);
	for (int i = 0; i < 5; i++)
		printf("  %-12s %llu\n", cli_verdict_name(i),
		    (unsigned long long)s.by_verdict[i]);
	print_wal(&w, replayed);
	return EXIT_OK;
}

/* Copies the keyring file to dst (0600, fsynced). 0 or -1 with errno. */
static int
copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, ok = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	if (n == 0 && fsync(out) == 0)
		ok = 1;
	close(in);
	if (close(out) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* Removes dir's regular files and then dir (undoing a failed backup). */
static void
remove_tree(const char *dir)
{
	char p[4096];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int
cmd_backup(struct opts *o)
{
	char krpath[4096], dst[4096];
	struct store *st;
	struct stat sb;
	DIR *d;
	int rc, n = 0, have_keyring;

	if (require(o->out, "out"))
		return EXIT_USAGE;
	/*
	 * The copy holds personal data and the keyring sits beside it: an
	 * existing directory others may enter is refused, not chmod'ed (it
	 * may be shared on purpose; the user decides).
	 */
	if (stat(o->out, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return cli_fail(EXIT_USAGE, "'%s' is not a directory",
			    o->out);
		if (sb.st_mode & 077)
			return cli_fail(EXIT_USAGE, "'%s' is accessible to "
			    "group or others (mode %04o); use a new directory "
			    "or chmod 700 it first", o->out,
			    (unsigned)(sb.st_mode & 07777));
	}
	if ((d = opendir(o->out)) != NULL) {
		for (struct dirent *e; (e = readdir(d)) != NULL;)
			n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		closedir(d);
		if (n > 0)
			return cli_fail(EXIT_USAGE, "'%s' is not empty", o->out);
	}
	cli_keyring_path(o, krpath, sizeof(krpath));
	have_keyring = stat(krpath, &sb) == 0;
	if (cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
		store_close(st);
		return cli_fail(EXIT_USAGE, "cannot create '%s': %s", o->out,
		    strerror(errno));
	}
	rc = store_backup(st, o->out);
	store_close(st);
	if (rc != 0) {
		remove_tree(o->out);
		return cli_fail(EXIT_USAGE, "backup failed: %s",
		    sigil_strerror(rc));
	}
	printf("%s/data.mdb: consistent copy of %s\n", o->out, o->data);
	if (have_keyring) {
		snprintf(dst, sizeof(dst), "%s/keyring", o->out);
		if (copy_file(krpath, dst) != 0) {
			int e = errno;

			remove_tree(o->out);
			return cli_fail(EXIT_USAGE, "cannot copy keyring: %s",
			    strerror(e));
		}
		printf("%s: keyring (mode 0600; keep it secret)\n", dst);
	}
	return EXIT_OK;
}

/* ---- API tokens ---- */

static int
cmd_token_new(struct opts *o)
{
	char text[API_TOKEN_LEN + 1];
	struct store *st;
	struct brand br;
	struct token t;
	int64_t expires = 0;
	int role, rc, ret = EXIT_USAGE;

	if (require(o->brand, "brand") || require(o->role, "role"))
		return EXIT_USAGE;
	if ((role = api_role_parse(o->role)) == 0)
		return cli_fail(EXIT_USAGE, "--role must be admin, operator or "
		    "analyst");
	if (cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &br))
		goto out;
	if (o->expires != NULL) {
		uint64_t secs;
		int is_text = cli_parse_num("expires", o->expires, UINT32_MAX,
		    &secs) != 0;

		if (accounts_expiry_parse(o->expires, is_text ? 0 :
		    (int64_t)secs, is_text, sigil_now_us(), &expires) != 0) {
			cli_fail(EXIT_USAGE, "--expires takes seconds from now "
			    "(1 to 10 years) or a future date (YYYY-MM-DD, "
			    "the end of that day in China time, or ISO-8601 "
			    "UTC)");
			goto out;
		}
	}
	if ((rc = api_token_new_ex(st, br.id, role, expires, 0, text,
	    &t)) != 0) {
		cli_fail(EXIT_USAGE, "cannot create token: %s",
		    sigil_strerror(rc));
		goto out;
	}
	if (o->json) {
		char e[SIGIL_TIME_LEN + 1];

		printf("{\"token\": \"%s\", \"id\": %u, \"role\": \"%s\", "
		    "\"expires\": %s%s%s}\n", text, t.id, api_role_name(role),
		    expires ? "\"" : "", expires ? sigil_time_format(expires, e) :
		    "null", expires ? "\"" : "");
	}
	else
		printf("%s\n(token %u, role %s, brand '%s': shown once, only "
		    "its hash is stored)\n", text, t.id, api_role_name(role),
		    br.name);
	OPENSSL_cleanse(text, sizeof text);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

static int
token_print(void *arg, const struct token *t)
{
	struct opts *o = arg;
	char c[SIGIL_TIME_LEN + 1], r[SIGIL_TIME_LEN + 1];
	char e[SIGIL_TIME_LEN + 1];

	sigil_time_format(t->created, c);
	if (t->revoked)
		sigil_time_format(t->revoked, r);
	if (t->expires)
		sigil_time_format(t->expires, e);
	if (o->json)
		printf("{\"id\": %u, \"role\": \"%s\", \"created\": \"%s\", "
		    "\"revoked\": %s%s%s, \"expires\": %s%s%s, \"created_by\": "
		    "%u}\n", t->id, api_role_name(t->role), c,
		    t->revoked ? "\"" : "", t->revoked ? r : "null",
		    t->revoked ? "\"" : "", t->expires ? "\"" : "",
		    t->expires ? e : "null", t->expires ? "\"" : "", t->user_id);
	else
		printf("%u\t%s\t%s\t%s\t%s\n", t->id, api_role_name(t->role),
		    c, t->revoked ? r : "-", t->expires ? e : "-");
	return 0;
}

static int
cmd_token_list(struct opts *o)
{
	struct store *st;
	struct brand br;
	int ret = EXIT_USAGE;

	if (require(o->brand, "brand") || cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &br) == 0 &&
	    store_token_each(st, br.id, token_print, o) >= 0)
		ret = EXIT_OK;
	store_close(st);
	return ret;
}

static int
cmd_token_revoke(struct opts *o)
{
	struct store *st;
	struct brand br;
	struct token t;
	uint64_t id;
	int rc, ret = EXIT_USAGE;

	if (require(o->brand, "brand") ||
	    cli_parse_num("key", o->key, UINT32_MAX, &id) || id == 0)
		return cli_fail(EXIT_USAGE, "--key must name a token id");
	if (cli_store_open(o, 0, &st))
		return EXIT_USAGE;
	if (find_brand(st, o->brand, &br))
		goto out;
	/* Another brand's token is no token of this brand. */
	if ((rc = store_token_get(st, (uint32_t)id, &t)) == 0 &&
	    t.brand_id != br.id)
		rc = SIGIL_ENOTFOUND;
	if (rc != 0 || (rc = store_token_revoke(st, (uint32_t)id)) != 0) {
		cli_fail(EXIT_USAGE, "cannot revoke token %llu: %s",
		    (unsigned long long)id, sigil_strerror(rc));
		goto out;
	}
	printf("token %llu revoked\n", (unsigned long long)id);
	ret = EXIT_OK;
out:
	store_close(st);
	return ret;
}

/* ---- dispatch ---- */

static int cmd_help(struct opts *o);

static const struct command commands[] = {
	{ "init", " brand base-url json ", 0, cmd_init,
	  "init --brand NAME --base-url URL [--json]\n"
	  "    create the data directory, its first brand and key" },
	{ "brand add", " brand base-url json ", 0, cmd_brand_add,
	  "brand add --brand NAME --base-url URL [--json]\n"
	  "    another brand (with its first key) in the same data directory" },
	{ "brand list", " json ", 0, cmd_brand_list,
	  "brand list [--json]" },
	{ "key new", " brand json ", 0, cmd_key_new,
	  "key new --brand NAME [--json]\n"
	  "    a new signing key; new batches use the newest key" },
	{ "key list", " brand json ", 0, cmd_key_list,
	  "key list --brand NAME [--json]" },
	{ "key revoke", " brand key ", 0, cmd_key_revoke,
	  "key revoke --brand NAME --key ID\n"
	  "    codes signed by the key verify as revoked from now on" },
	{ "product add", " brand sku name gtin max-scanners gs1 ", 0,
	  cmd_product_add,
	  "product add --brand NAME --sku SKU --name TEXT [--gtin DIGITS]\n"
	  "    [--max-scanners N (1..15, default 5)] [--gs1 (needs --gtin)]" },
	{ "batch new", " brand sku count lot expires json ", 0, cmd_batch_new,
	  "batch new --brand NAME --sku SKU --count N [--lot LOT]\n"
	  "    [--expires YYYY-MM-DD] [--json]" },
	{ "batch activate", " batch ", 0, cmd_batch_activate,
	  "batch activate --batch ID" },
	{ "batch revoke", " batch ", 0, cmd_batch_revoke,
	  "batch revoke --batch ID" },
	{ "batch list", " brand json ", 0, cmd_batch_list,
	  "batch list --brand NAME [--json]" },
	{ "batch show", " batch json ", 0, cmd_batch_show,
	  "batch show --batch ID [--json]" },
	{ "mint", " batch format out pin jobs level module from limit force ",
	  0, cmd_mint,
	  "mint --batch ID --format csv|txt|svg|png|pdf --out PATH|- [--pin]\n"
	  "    [--jobs N] [--level L|M|Q|H] [--module PX] [--from SERIAL]\n"
	  "    [--limit N] [--force]" },
	{ "verify", " json stdin ", 1, cmd_verify,
	  "verify CODE_OR_URL [--json]    (exit 0 genuine, 1 otherwise)\n"
	  "verify --stdin                 (one code or URL a line)" },
	{ "stats", " json ", 0, cmd_stats, "stats [--json]" },
	{ "export scans", " since format out force ", 0, cmd_export,
	  "export scans [--since TIME] [--format ndjson|csv] [--out PATH|-]" },
	{ "backup", " out ", 0, cmd_backup,
	  "backup --out DIR\n"
	  "    consistent copy of the store and keyring (works beside sigild)" },
	{ "token new", " brand role expires json ", 0, cmd_token_new,
	  "token new --brand NAME --role admin|operator|analyst\n"
	  "    [--expires SECONDS|DATE] [--json]\n"
	  "    a brand API token, shown once (only its hash is stored)" },
	{ "token list", " brand json ", 0, cmd_token_list,
	  "token list --brand NAME [--json]" },
	{ "token revoke", " brand key ", 0, cmd_token_revoke,
	  "token revoke --brand NAME --key TOKEN_ID" },
	{ "user add", " brand email role password-file json ", 0, cmd_user_add,
	  "user add --brand NAME --email EMAIL --role admin|operator|analyst\n"
	  "    [--password-file FILE] [--json]\n"
	  "    a dashboard login; the password (10+ characters) is read from\n"
	  "    the file or standard input, never from the command line" },
	{ "user list", " brand json ", 0, cmd_user_list,
	  "user list --brand NAME [--json]" },
	{ "user disable", " brand email ", 0, cmd_user_disable,
	  "user disable --brand NAME --email EMAIL\n"
	  "    no more logins; live sessions and the tokens the user made\n"
	  "    from them stop at once" },
	{ "user enable", " brand email ", 0, cmd_user_enable,
	  "user enable --brand NAME --email EMAIL" },
	{ "user remove", " brand email ", 0, cmd_user_remove,
	  "user remove --brand NAME --email EMAIL   (as disable, for good)" },
	{ "user password", " brand email password-file ", 0, cmd_user_password,
	  "user password --brand NAME --email EMAIL [--password-file FILE]\n"
	  "    sets a new password (read like user add's)" },
	{ "help", " ", 1, cmd_help, "help [COMMAND]" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage_all(FILE *f)
{
	fprintf(f, "usage: sigil COMMAND [--data DIR] [--keyring PATH] "
	    "[options]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *u = commands[i].usage;

		fprintf(f, "  %.*s\n", (int)strcspn(u, "\n"), u);
	}
	fprintf(f, "\n--data DIR defaults to ./data; the keyring is DIR/keyring "
	    "unless --keyring\nor $SIGIL_KEYRING names another file.\n"
	    "Exit status: 0 success, 1 negative answer, 2 bad usage or input.\n");
}

static int
cmd_help(struct opts *o)
{
	if (o->npos == 0) {
		usage_all(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strncmp(commands[i].words, o->pos[0], strlen(o->pos[0]))) {
			printf("usage: sigil %s\n", commands[i].usage);
			return EXIT_OK;
		}
	return cli_fail(EXIT_USAGE, "no command '%.40s' (see 'sigil help')",
	    o->pos[0]);
}

int
main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct opts o = { 0 };
	int used = 1;

	if (argc < 2)
		return cli_fail(EXIT_USAGE, "no command given (see 'sigil help')");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage_all(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS && cmd == NULL; i++) {
		const char *w = commands[i].words, *sp = strchr(w, ' ');

		if (sp == NULL) {
			if (!strcmp(argv[1], w))
				cmd = &commands[i], used = 2;
		} else if (!strncmp(argv[1], w, (size_t)(sp - w)) &&
		    argv[1][sp - w] == '\0') {
			if (argc >= 3 && !strcmp(argv[2], sp + 1))
				cmd = &commands[i], used = 3;
			else if (argc < 3 || argv[2][0] == '-') {
				if (argc >= 3 && (!strcmp(argv[2], "--help") ||
				    !strcmp(argv[2], "-h"))) {
					printf("usage:\n");
					for (size_t k = i; k < NCOMMANDS; k++)
						if (!strncmp(commands[k].words,
						    w, (size_t)(sp - w) + 1))
							printf("  sigil %s\n",
							    commands[k].usage);
					return EXIT_OK;
				}
				return cli_fail(EXIT_USAGE, "'%s' needs a "
				    "subcommand (see 'sigil help')", argv[1]);
			}
		}
	}
	if (cmd == NULL) {
		if (argc >= 3 && strchr("bkpe", argv[1][0]) != NULL)
			for (size_t i = 0; i < NCOMMANDS; i++) {
				const char *w = commands[i].words;
				size_t n = strlen(argv[1]);

				if (!strncmp(w, argv[1], n) && w[n] == ' ')
					return cli_fail(EXIT_USAGE,
					    "unknown subcommand '%s %.40s' "
					    "(see 'sigil help')", argv[1],
					    argv[2]);
			}
		return cli_fail(EXIT_USAGE,
		    "unknown command '%.40s' (see 'sigil help')", argv[1]);
	}
	if (cli_parse(cmd, argc - used, argv + used, &o))
		return EXIT_USAGE;
	if (o.help) {
		printf("usage: sigil %s\n", cmd->usage);
		return EXIT_OK;
	}
	if (o.data == NULL)
		o.data = "./data";
	if (*o.data == '\0')
		return cli_fail(EXIT_USAGE, "--data must name a directory");
	return cmd->run(&o);
}
