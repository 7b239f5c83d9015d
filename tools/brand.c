/*
 * brand.c - `sigil init`, `sigil brand add|list`, `sigil key new|list|
 * revoke`: the brands of a data directory and their signing keys.
 *
 * A key lives in two places: its metadata (id, brand, created, revoked)
 * in the store, its secret bytes in the keyring file. Adding a brand
 * adds its first key; the keyring is opened before the store changes,
 * so a keyring problem fails with the data directory as it was. `init`
 * is `brand add` on a data directory and keyring it creates.
 *
 * Owns: the checks of a brand's name and base URL (the base URL goes
 * into every code printed for the brand, so it is checked here once).
 * May call: cli.c, the store (brands, keys) and the keyring.
 * Must never: print or log a key's secret bytes, or write a key's
 * metadata without its secret (the key would sign codes no one can
 * verify).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sigil/code.h"
#include "sigil/keyring.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

/* ---- brands ---- */

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

	if (cli_require(s, "base-url"))
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
	cli_audit_arm(st, 0, "brand_add", "brand", NULL, json_pack("{s:s,s:s}",
	    "name", name, "base_url", base_url));
	rc = store_brand_add(st, &b);
	if (rc == 0) {
		char tid[16];

		snprintf(tid, sizeof tid, "%u", (unsigned)b.id);
		cli_audit_brand(b.id);
		cli_audit_done(st, 0, tid);
	} else
		cli_audit_done(st, rc, NULL);
	if (rc != 0) {
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
	if (cli_check_text("brand", o->brand, STORE_NAME_MAX))
		return EXIT_USAGE;
	return check_base_url(o->base_url, url);
}

int
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

int
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
		    b->base_url, "created", cli_time(b->created, t)));
	else
		printf("%-4u %-24s %-40s %s\n", (unsigned)b->id, b->name,
		    b->base_url, cli_time(b->created, t));
	return 0;
}

static int
brand_rows(struct store *st, const struct brand *unused, json_t *arr)
{
	(void)unused;
	if (arr == NULL)
		printf("%-4s %-24s %-40s %s\n", "ID", "NAME", "BASE URL",
		    "CREATED");
	return store_brand_each(st, print_brand, arr);
}

int
cmd_brand_list(struct opts *o)
{
	return cli_list(o, 0, "brands", brand_rows);
}

/* ---- keys ---- */

int
cmd_key_new(struct opts *o)
{
	char krpath[4096];
	struct store *st;
	struct keyring *kr = NULL;
	struct brand b;
	struct key_meta km;
	int rc, ret = EXIT_USAGE;

	if (cli_require(o->brand, "brand") || cli_open_brand(o, 0, &st, &b))
		return EXIT_USAGE;
	if ((rc = keyring_open(cli_keyring_path(o, krpath, sizeof(krpath)), 0,
	    &kr)) != 0) {
		cli_fail(EXIT_USAGE, "cannot open keyring '%s': %s", krpath,
		    sigil_strerror(rc));
		goto out;
	}
	cli_audit_arm(st, b.id, "key_new", "key", NULL, NULL);
	if ((rc = store_key_add(st, b.id, &km)) != 0 ||
	    (rc = keyring_key_generate(kr, km.id, b.id)) != 0) {
		cli_audit_done(st, rc, NULL);
		cli_fail(EXIT_USAGE, "cannot add key: %s", sigil_strerror(rc));
		goto out;
	}
	{
		char tid[16];

		snprintf(tid, sizeof tid, "%u", (unsigned)km.id);
		cli_audit_done(st, 0, tid);
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
		    (json_int_t)k->id, "created", cli_time(k->created, t1),
		    "revoked", k->revoked ?
		    json_string(cli_time(k->revoked, t2)) : json_null()));
	else
		printf("%-6u %-26s %s\n", (unsigned)k->id,
		    cli_time(k->created, t1), cli_time(k->revoked, t2));
	return 0;
}

static int
key_rows(struct store *st, const struct brand *b, json_t *arr)
{
	if (arr == NULL)
		printf("%-6s %-26s %s\n", "KEY", "CREATED", "REVOKED");
	return store_key_each(st, b->id, print_key, arr);
}

int
cmd_key_list(struct opts *o)
{
	return cli_list(o, 1, "keys", key_rows);
}

int
cmd_key_revoke(struct opts *o)
{
	struct store *st;
	struct brand b;
	struct key_meta km;
	uint64_t id;
	int rc, ret = EXIT_USAGE;

	if (cli_require(o->brand, "brand") ||
	    cli_parse_num("key", o->key, CODE_KEY_ID_MAX, &id) ||
	    cli_open_brand(o, 0, &st, &b))
		return EXIT_USAGE;
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
	{
		char tid[16];

		snprintf(tid, sizeof tid, "%llu", (unsigned long long)id);
		cli_audit_arm(st, b.id, "key_revoke", "key", tid, NULL);
	}
	rc = store_key_revoke(st, (uint16_t)id);
	cli_audit_done(st, rc, NULL);
	if (rc != 0) {
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

