/*
 * token.c - `sigil token new|list|revoke`: the brand API's bearer tokens
 * (SPEC: brand API), made here by whoever holds the data directory, with
 * a role (admin, operator, analyst) and an optional expiry.
 *
 * A token is shown once, when it is made; the store keeps only its hash,
 * and the text is wiped from memory once printed. Revoking is at once: a
 * running sigild reads tokens from the store on every request.
 *
 * Owns: the wording of the token commands' output.
 * May call: cli.c, the store (tokens), token.h (making a token, reading
 * an expiry) and role.h (role names).
 * Must never: print a token's text anywhere but stdout, once, or revoke
 * a token of another brand than --brand.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sigil/role.h"
#include "sigil/store.h"
#include "sigil/token.h"
#include "sigil/util.h"
#include "cli.h"

int
cmd_token_new(struct opts *o)
{
	char text[TOKEN_LEN + 1];
	struct store *st;
	struct brand br;
	struct token t;
	int64_t expires = 0;
	int role, rc, ret = EXIT_USAGE;

	if (cli_require(o->brand, "brand") || cli_require(o->role, "role"))
		return EXIT_USAGE;
	if ((role = role_parse(o->role)) == 0)
		return cli_fail(EXIT_USAGE, "--role must be admin, operator or "
		    "analyst");
	if (cli_open_brand(o, 0, &st, &br))
		return EXIT_USAGE;
	if (o->expires != NULL) {
		uint64_t secs;
		int is_text = cli_parse_num("expires", o->expires, UINT32_MAX,
		    &secs) != 0;

		if (token_expiry_parse(o->expires, is_text ? 0 :
		    (int64_t)secs, is_text, sigil_now_us(), &expires) != 0) {
			cli_fail(EXIT_USAGE, "--expires takes seconds from now "
			    "(1 to 10 years) or a future date (YYYY-MM-DD, "
			    "the end of that day in China time, or ISO-8601 "
			    "UTC)");
			goto out;
		}
	}
	cli_audit_arm(st, br.id, "token_new", "token", NULL,
	    json_pack("{s:s}", "role", role_name(role)));
	rc = token_new(st, br.id, role, expires, 0, text, &t);
	{
		char tid[16];

		snprintf(tid, sizeof tid, "%u", t.id);
		cli_audit_done(st, rc, rc == 0 ? tid : NULL);
	}
	if (rc != 0) {
		cli_fail(EXIT_USAGE, "cannot create token: %s",
		    sigil_strerror(rc));
		goto out;
	}
	if (o->json) {
		char e[SIGIL_TIME_LEN + 1];

		printf("{\"token\": \"%s\", \"id\": %u, \"role\": \"%s\", "
		    "\"expires\": %s%s%s}\n", text, t.id, role_name(role),
		    expires ? "\"" : "", expires ? sigil_time_format(expires, e) :
		    "null", expires ? "\"" : "");
	}
	else
		printf("%s\n(token %u, role %s, brand '%s': shown once, only "
		    "its hash is stored)\n", text, t.id, role_name(role),
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
		    "%u}\n", t->id, role_name(t->role), c,
		    t->revoked ? "\"" : "", t->revoked ? r : "null",
		    t->revoked ? "\"" : "", t->expires ? "\"" : "",
		    t->expires ? e : "null", t->expires ? "\"" : "", t->user_id);
	else
		printf("%u\t%s\t%s\t%s\t%s\n", t->id, role_name(t->role),
		    c, t->revoked ? r : "-", t->expires ? e : "-");
	return 0;
}

int
cmd_token_list(struct opts *o)
{
	struct store *st;
	struct brand br;
	int rc;

	if (cli_require(o->brand, "brand") ||
	    cli_open_brand(o, STORE_RDONLY, &st, &br))
		return EXIT_USAGE;
	if (!o->json)
		printf("id\trole\tcreated\trevoked\texpires\n");
	rc = store_token_each(st, br.id, token_print, o);
	store_close(st);
	return rc >= 0 ? EXIT_OK : EXIT_USAGE;
}

int
cmd_token_revoke(struct opts *o)
{
	struct store *st;
	struct brand br;
	struct token t;
	uint64_t id;
	int rc, ret = EXIT_USAGE;

	/* --id, or --key as it was first called. */
	if (o->id != NULL && o->key != NULL)
		return cli_fail(EXIT_USAGE, "give --id or --key, not both");
	if (cli_require(o->brand, "brand"))
		return EXIT_USAGE;
	if (o->id == NULL && o->key == NULL)
		return cli_fail(EXIT_USAGE, "missing --id (the token's id, as "
		    "'token list' shows it)");
	if (cli_parse_num("id", o->id ? o->id : o->key, UINT32_MAX, &id))
		return EXIT_USAGE;
	if (cli_open_brand(o, 0, &st, &br))
		return EXIT_USAGE;
	/* Another brand's token is no token of this brand. */
	if ((rc = store_token_get(st, (uint32_t)id, &t)) == 0 &&
	    t.brand_id != br.id)
		rc = SIGIL_ENOTFOUND;
	if (rc == 0) {
		char tid[16];

		snprintf(tid, sizeof tid, "%llu", (unsigned long long)id);
		cli_audit_arm(st, br.id, "token_revoke", "token", tid,
		    json_pack("{s:s}", "role", role_name(t.role)));
		rc = store_token_revoke(st, (uint32_t)id);
		cli_audit_done(st, rc, NULL);
	}
	if (rc != 0) {
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

