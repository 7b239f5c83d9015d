/*
 * verify.c - `sigil verify` (offline check of a code or URL) and
 * `sigil export scans` (the scan log as NDJSON or CSV).
 *
 * verify runs the same checks as a scan, minus everything that needs scan
 * history (clone signals, first scan): parse, find the key in the keyring,
 * check the tag, find the serial's batch by range lookup, then revoked /
 * inactive states. The order matters: nothing about a code is believed
 * (not even which brand it claims) before its tag verifies. Malformed
 * input is a counterfeit (exit 1), not a usage error, because a printed
 * code that does not parse is exactly what a forger produces; only no
 * input at all, or input too long to be a code URL, is exit 2.
 *
 * --stdin checks one code a line for bulk audits (a million codes in a
 * few seconds): derived keys and the last batch are cached, so the cost
 * per line is one HMAC and, when the batch changes, one range lookup.
 *
 * Both open the store read-only, so they work beside a running sigild.
 *
 * Owns: the offline verdict's wording. The export's lines are
 * scan_export.c's (shared with GET /api/v1/exports/scans).
 * May call: cli.c, the store (read-only), the keyring, code.h, scan.h.
 * Must never: write to the store, or call a code genuine before its tag
 * verifies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "sigil/code.h"
#include "sigil/keyring.h"
#include "sigil/region.h"
#include "sigil/scan.h"
#include "sigil/scan_export.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

#define VERIFY_INPUT_MAX	2048

struct verifier {
	struct store	*st;
	struct keyring	*kr;
	/* Derived keys by id: 0 unknown yet, 1 present, -1 absent. */
	signed char	 key_state[CODE_KEY_ID_MAX + 1];
	struct code_key	*keys;
	uint32_t	 key_brand[CODE_KEY_ID_MAX + 1];
	struct batch	 last;		/* last batch found (cache) */
	int		 have_last;
};

struct result {
	int		 verdict;	/* enum scan_verdict */
	const char	*reason;
	struct code	 code;
	int		 parsed, gs1;
	struct batch	 batch;
	int		 have_batch;
	uint32_t	 brand_id;
};

static int
verifier_key(struct verifier *v, uint16_t id, const struct code_key **k,
    uint32_t *brand_id)
{
	if (v->key_state[id] == 0) {
		v->key_state[id] = keyring_key_get(v->kr, id, &v->keys[id],
		    &v->key_brand[id]) == 0 ? 1 : -1;
	}
	if (v->key_state[id] < 0)
		return -1;
	*k = &v->keys[id];
	*brand_id = v->key_brand[id];
	return 0;
}

static void
verify_one(struct verifier *v, const char *input, struct result *r)
{
	struct gs1_link gs1;
	const struct code_key *k;
	struct key_meta km;
	struct product p;

	memset(r, 0, sizeof(*r));
	r->verdict = VERDICT_COUNTERFEIT;
	if (code_parse_any(input, &r->code, &gs1) != 0) {
		r->reason = "not a sigil code";
		return;
	}
	r->parsed = 1;
	r->gs1 = gs1.gtin[0] != '\0';
	if (verifier_key(v, r->code.key_id, &k, &r->brand_id) != 0) {
		r->reason = "unknown key";
		return;
	}
	if (code_verify(k, &r->code) != 0) {
		r->reason = "signature does not verify";
		return;
	}
	if (v->have_last && v->last.brand_id == r->brand_id &&
	    r->code.serial >= v->last.first_serial &&
	    r->code.serial - v->last.first_serial < v->last.count) {
		r->batch = v->last;
	} else if (store_batch_find_serial(v->st, r->brand_id, r->code.serial,
	    &r->batch) == 0) {
		v->last = r->batch;
		v->have_last = 1;
	} else {
		r->reason = "serial belongs to no batch";
		return;
	}
	r->have_batch = 1;
	if (r->batch.key_id != r->code.key_id) {
		r->reason = "batch is signed by another key";
		return;
	}
	if (r->gs1) {
		if (store_product_get(v->st, r->batch.brand_id, r->batch.sku,
		    &p) != 0 || strcmp(p.gtin, gs1.gtin) != 0) {
			r->reason = "GTIN does not match the batch's product";
			return;
		}
		if (gs1.lot[0] != '\0' && strcmp(gs1.lot, r->batch.lot) != 0) {
			r->reason = "lot does not match the batch";
			return;
		}
	}
	if (store_key_get(v->st, r->code.key_id, &km) == 0 && km.revoked) {
		r->verdict = VERDICT_REVOKED;
		r->reason = "key revoked";
		return;
	}
	if (r->batch.state == BATCH_REVOKED) {
		r->verdict = VERDICT_REVOKED;
		r->reason = "batch revoked";
		return;
	}
	if (r->batch.state != BATCH_ACTIVE) {
		r->verdict = VERDICT_INACTIVE;
		r->reason = "batch not activated";
		return;
	}
	r->verdict = VERDICT_GENUINE;
	r->reason = "signature and batch check out";
}

static int
verifier_open(struct verifier *v, const struct opts *o)
{
	char krpath[4096];
	int rc;

	memset(v, 0, sizeof(*v));
	if (cli_store_open(o, STORE_RDONLY, &v->st))
		return EXIT_USAGE;
	rc = keyring_open(cli_keyring_path(o, krpath, sizeof(krpath)), 0,
	    &v->kr);
	if (rc != 0) {
		store_close(v->st);
		return cli_fail(EXIT_USAGE, "cannot open keyring '%s': %s",
		    krpath, sigil_strerror(rc));
	}
	v->keys = calloc(CODE_KEY_ID_MAX + 1, sizeof(*v->keys));
	if (v->keys == NULL) {
		keyring_free(v->kr);
		store_close(v->st);
		return cli_fail(EXIT_USAGE, "out of memory");
	}
	return 0;
}

static void
verifier_close(struct verifier *v)
{
	explicit_bzero(v->keys, (CODE_KEY_ID_MAX + 1) * sizeof(*v->keys));
	free(v->keys);
	keyring_free(v->kr);
	store_close(v->st);
}

static int
verify_stdin(struct verifier *v)
{
	char line[VERIFY_INPUT_MAX + 2], num[2][24];
	uint64_t counts[SCAN_VERDICTS] = { 0 }, total = 0, bad_input = 0;
	static char obuf[1 << 16];
	struct result r;

	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t n = strlen(line);

		if (n > 0 && line[n - 1] != '\n' && !feof(stdin)) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
			bad_input++;
			total++;
			counts[VERDICT_COUNTERFEIT]++;
			printf("counterfeit - - input over %d bytes\n",
			    VERIFY_INPUT_MAX);
			continue;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		verify_one(v, line, &r);
		counts[r.verdict]++;
		total++;
		num[0][r.parsed ? cli_u64(num[0], r.code.serial) : 0] = '\0';
		num[1][r.have_batch ? cli_u64(num[1], r.batch.id) : 0] = '\0';
		printf("%s %s %s %s\n", cli_verdict_name(r.verdict),
		    r.parsed ? num[0] : "-", r.have_batch ? num[1] : "-",
		    r.reason);
	}
	if (ferror(stdin))
		return cli_fail(EXIT_USAGE, "cannot read standard input: %s",
		    strerror(errno));
	printf("checked %llu: genuine %llu, revoked %llu, inactive %llu, "
	    "counterfeit %llu\n", (unsigned long long)total,
	    (unsigned long long)counts[VERDICT_GENUINE],
	    (unsigned long long)counts[VERDICT_REVOKED],
	    (unsigned long long)counts[VERDICT_INACTIVE],
	    (unsigned long long)counts[VERDICT_COUNTERFEIT]);
	if (fflush(stdout) != 0)
		return cli_fail(EXIT_USAGE, "cannot write output");
	return total > 0 && counts[VERDICT_GENUINE] == total ? EXIT_OK : EXIT_NO;
}

int
cmd_verify(struct opts *o)
{
	struct verifier v;
	struct result r;
	struct brand b;
	struct product p;
	const char *in;
	size_t n;
	int have_b = 0, have_p = 0, ret;

	if (o->use_stdin) {
		if (o->npos != 0 || o->json)
			return cli_fail(EXIT_USAGE, "verify --stdin takes no code "
			    "argument and no --json");
		if (verifier_open(&v, o))
			return EXIT_USAGE;
		ret = verify_stdin(&v);
		verifier_close(&v);
		return ret;
	}
	if (o->npos != 1)
		return cli_fail(EXIT_USAGE, "verify needs a code or URL "
		    "(see 'sigil verify --help')");
	in = o->pos[0];
	n = strlen(in);
	if (n == 0)
		return cli_fail(EXIT_USAGE, "empty code");
	if (n > VERIFY_INPUT_MAX)
		return cli_fail(EXIT_USAGE, "input is longer than %d bytes",
		    VERIFY_INPUT_MAX);
	if (verifier_open(&v, o))
		return EXIT_USAGE;
	verify_one(&v, in, &r);
	if (r.have_batch) {
		have_b = store_brand_get(v.st, r.batch.brand_id, &b) == 0;
		have_p = store_product_get(v.st, r.batch.brand_id, r.batch.sku,
		    &p) == 0;
	}
	verifier_close(&v);
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:b}", "verdict",
		    cli_verdict_name(r.verdict), "reason", r.reason, "gs1",
		    r.gs1);

		if (r.parsed) {
			json_object_set_new(j, "serial",
			    json_integer((json_int_t)r.code.serial));
			json_object_set_new(j, "key_id",
			    json_integer(r.code.key_id));
		}
		if (r.have_batch) {
			json_object_set_new(j, "batch",
			    json_integer((json_int_t)r.batch.id));
			json_object_set_new(j, "lot", json_string(r.batch.lot));
		}
		if (have_b)
			json_object_set_new(j, "brand", json_string(b.name));
		if (have_p)
			json_object_set_new(j, "product", json_pack("{s:s, s:s, "
			    "s:s}", "sku", p.sku, "name", p.name, "gtin",
			    p.gtin));
		json_dumpf(j, stdout, JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		printf("verdict  %s (%s)\n", cli_verdict_name(r.verdict),
		    r.reason);
		if (r.parsed)
			printf("serial   %llu\nkey      %u\n",
			    (unsigned long long)r.code.serial,
			    (unsigned)r.code.key_id);
		if (r.have_batch)
			printf("batch    %llu%s%s\n",
			    (unsigned long long)r.batch.id,
			    r.batch.lot[0] ? "  lot " : "", r.batch.lot);
		if (have_b)
			printf("brand    %s\n", b.name);
		if (have_p)
			printf("product  %s (%s)\n", p.sku, p.name);
	}
	return r.verdict == VERDICT_GENUINE ? EXIT_OK : EXIT_NO;
}

/* ---- export scans ---- */

struct exporter {
	FILE		*f;
	int		 csv;
	struct store	*st;
	char		 brand_names[16][STORE_NAME_BYTES + 1];
	uint32_t	 brand_ids[16];
	int		 nbrands;
	uint64_t	 n;
	int		 err;
	int		 have_key;	/* scan ids in sigild's public form */
	uint8_t		 cookie_key[32];
	struct region_cache regions;	/* the scans' regions, by id */
};

static const char *
export_brand(struct exporter *e, uint32_t id)
{
	struct brand b;
	int slot;

	if (id == 0)
		return "";
	for (int i = 0; i < e->nbrands; i++)
		if (e->brand_ids[i] == id)
			return e->brand_names[i];
	if (store_brand_get(e->st, id, &b) != 0)
		return "";
	slot = e->nbrands < 16 ? e->nbrands++ : (int)(id % 16);
	e->brand_ids[slot] = id;
	memcpy(e->brand_names[slot], b.name, sizeof(b.name));
	return e->brand_names[slot];
}

static int
export_one(void *arg, const struct scan_rec *r)
{
	struct exporter *e = arg;
	char t[SIGIL_TIME_LEN + 1], id[SCAN_ID_LEN + 1];
	char line[SCAN_EXPORT_LINE_MAX];
	/* A forged code of a brand's key is that brand's (attr_brand). */
	struct scan_export_row row = { r, id, export_brand(e, r->attr_brand),
	    sigil_time_format(r->at, t), NULL };
	size_t n;

	/* The id sigild answered with, so clients can match their scans. */
	if (e->have_key)
		scan_id_format(e->cookie_key, r->id, id);
	else
		id[cli_u64(id, r->id)] = '\0';
	row.region = region_cached(&e->regions, e->st, r->region);
	if ((n = scan_export_line(line, sizeof line, &row, e->csv)) == 0) {
		e->err = ENOMEM;
		return 1;
	}
	fwrite(line, 1, n, e->f);
	e->n++;
	if (ferror(e->f)) {
		e->err = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

int
cmd_export(struct opts *o)
{
	struct exporter *e;
	char partial[4096];
	struct stat sb;
	int64_t since = 0;
	int to_stdout, rc, ret = EXIT_USAGE;

	if (o->since != NULL && sigil_time_parse(o->since, &since) != 0)
		return cli_fail(EXIT_USAGE, "--since '%.40s' is not a time "
		    "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", o->since);
	if (o->format != NULL && strcmp(o->format, "ndjson") != 0 &&
	    strcmp(o->format, "csv") != 0)
		return cli_fail(EXIT_USAGE, "--format must be ndjson or csv");
	to_stdout = o->out == NULL || !strcmp(o->out, "-");
	if (!to_stdout && lstat(o->out, &sb) == 0) {
		if (!S_ISREG(sb.st_mode))
			return cli_fail(EXIT_USAGE, "'%s' is not a regular file "
			    "(use --out - and redirect)", o->out);
		if (!o->force)
			return cli_fail(EXIT_USAGE, "'%s' exists (use --force "
			    "to replace it)", o->out);
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	e->csv = o->format != NULL && !strcmp(o->format, "csv");
	if (cli_store_open(o, STORE_RDONLY, &e->st))
		goto out;
	{
		char krpath[4096];
		struct keyring *kr;

		/* No keyring or no cookie secret: sigild never ran, ids are
		 * only the log's numbers. */
		if (keyring_open(cli_keyring_path(o, krpath, sizeof(krpath)), 0,
		    &kr) == 0) {
			e->have_key = keyring_secret(kr, "cookie", 0,
			    e->cookie_key) == 0;
			keyring_free(kr);
		}
	}
	if (to_stdout)
		e->f = stdout;
	else {
		snprintf(partial, sizeof(partial), "%s.partial", o->out);
		if ((e->f = fopen(partial, "w")) == NULL) {
			cli_fail(EXIT_USAGE, "cannot write '%s': %s", partial,
			    strerror(errno));
			goto close;
		}
	}
	if (e->csv) {
		char head[256];

		if (scan_export_header(head, sizeof head, 0) > 0)
			fputs(head, e->f);
	}
	rc = store_scan_each(e->st, since, export_one, e);
	if (fflush(e->f) != 0 && e->err == 0)
		e->err = errno ? errno : EIO;
	if (!to_stdout) {
		if (e->err == 0 && rc == 0 && fsync(fileno(e->f)) != 0)
			e->err = errno;
		if (fclose(e->f) != 0 && e->err == 0)
			e->err = errno;
		if (e->err == 0 && rc == 0 && rename(partial, o->out) != 0)
			e->err = errno;
		if (e->err != 0 || rc != 0)
			unlink(partial);
	}
	if (rc != 0 && e->err == 0)
		cli_fail(EXIT_USAGE, "cannot read scans: %s", sigil_strerror(rc));
	else if (e->err != 0)
		cli_fail(EXIT_USAGE, "cannot write export: %s",
		    strerror(e->err));
	else {
		if (!to_stdout)
			printf("exported %llu scans to %s\n",
			    (unsigned long long)e->n, o->out);
		ret = EXIT_OK;
	}
close:
	store_close(e->st);
out:
	OPENSSL_cleanse(e->cookie_key, sizeof(e->cookie_key));
	free(e);
	return ret;
}
