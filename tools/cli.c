/*
 * cli.c - the helpers every `sigil` subcommand shares: the one-line error
 * reporter, opening the store and finding the keyring, and the checks of
 * what a person typed (numbers, text, a brand by name). Declared in cli.h.
 *
 * Owns: the wording of the errors these checks print, so that a missing
 * flag or an unknown brand reads the same in every subcommand.
 * May call: the library's ground and storage headers (util, store).
 * Must never: change the store or the keyring (the subcommand files do,
 * after every check has passed), print anything but errors (stdout is
 * the subcommands' output), or call a subcommand.
 */
#include <dirent.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "sigil/audit.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

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
	static const char *names[SCAN_VERDICTS] = { "genuine", "suspicious",
	    "counterfeit", "revoked", "inactive", "unverified" };

	return verdict >= 0 && verdict < SCAN_VERDICTS ? names[verdict] :
	    "unknown";
}

const char *
cli_time(int64_t t, char buf[SIGIL_TIME_LEN + 1])
{
	if (t == 0)
		return "-";
	return sigil_time_format(t, buf);
}

int
cli_require(const char *val, const char *flag)
{
	if (val == NULL)
		return cli_fail(EXIT_USAGE, "missing --%s", flag);
	return 0;
}

int
cli_check_text(const char *flag, const char *val, size_t max)
{
	struct sigil_text_err te;
	char msg[320], field[40];

	if (cli_require(val, flag))
		return EXIT_USAGE;
	if (sigil_text_check(val, strlen(val), max, 0, &te) != 0) {
		snprintf(field, sizeof field, "--%s", flag);
		sigil_text_explain(field, max, 0, &te, msg, sizeof msg);
		return cli_fail(EXIT_USAGE, "%s", msg);
	}
	return 0;
}

int
cli_find_brand(struct store *st, const char *name, struct brand *b)
{
	int rc;

	if (cli_require(name, "brand"))
		return EXIT_USAGE;
	rc = store_brand_find(st, name, b);
	if (rc == SIGIL_ENOTFOUND)
		return cli_fail(EXIT_USAGE, "no brand '%.64s'", name);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot read brand: %s",
		    sigil_strerror(rc));
	return 0;
}

int
cli_open_brand(const struct opts *o, int flags, struct store **st,
    struct brand *b)
{
	if (cli_store_open(o, flags, st))
		return EXIT_USAGE;
	if (cli_find_brand(*st, o->brand, b)) {
		store_close(*st);
		return EXIT_USAGE;
	}
	return 0;
}

int
cli_emit_json(json_t *v)
{
	int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	json_decref(v);
	putchar('\n');
	return rc == 0 ? EXIT_OK : cli_fail(EXIT_USAGE, "cannot write output");
}

int
cli_list(const struct opts *o, int by_brand, const char *what,
    cli_rows_fn *rows)
{
	struct store *st;
	struct brand b;
	json_t *arr;
	int rc;

	if (by_brand ? cli_require(o->brand, "brand") ||
	    cli_open_brand(o, STORE_RDONLY, &st, &b) :
	    cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	arr = o->json ? json_array() : NULL;
	rc = rows(st, by_brand ? &b : NULL, arr);
	store_close(st);
	if (rc != 0) {
		json_decref(arr);
		return cli_fail(EXIT_USAGE, "cannot list %s: %s", what,
		    sigil_strerror(rc));
	}
	return arr != NULL ? cli_emit_json(arr) : EXIT_OK;
}

int
cli_remove_dir(const char *dir)
{
	char p[4096];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	return rmdir(dir);
}

/* ---- the audit trail ---- */

static struct audit_entry cli_audit;
static int cli_audit_armed;

void
cli_audit_arm(struct store *st, uint32_t brand_id, const char *action,
    const char *ttype, const char *tid, json_t *detail)
{
	struct passwd *pw = getpwuid(geteuid());

	memset(&cli_audit, 0, sizeof cli_audit);
	cli_audit.brand_id = brand_id;
	cli_audit.actor_kind = AUDIT_ACTOR_CLI;
	if (pw != NULL && pw->pw_name != NULL &&
	    strlen(pw->pw_name) < sizeof cli_audit.actor)
		snprintf(cli_audit.actor, sizeof cli_audit.actor, "%s",
		    pw->pw_name);
	else
		snprintf(cli_audit.actor, sizeof cli_audit.actor, "uid%u",
		    (unsigned)geteuid());
	snprintf(cli_audit.action, sizeof cli_audit.action, "%s", action);
	snprintf(cli_audit.target_type, sizeof cli_audit.target_type, "%s",
	    ttype != NULL ? ttype : "");
	snprintf(cli_audit.target_id, sizeof cli_audit.target_id, "%s",
	    tid != NULL ? tid : "");
	audit_detail_set(&cli_audit, detail);
	cli_audit_armed = st != NULL;
	if (st != NULL && brand_id != 0)
		store_audit_arm(st, &cli_audit);
}

void
cli_audit_done(struct store *st, int rc, const char *tid)
{
	int recorded, err = 0;

	if (st == NULL || !cli_audit_armed)
		return;
	cli_audit_armed = 0;
	recorded = cli_audit.brand_id != 0 &&
	    store_audit_disarm(st, &cli_audit);
	if (tid != NULL)
		snprintf(cli_audit.target_id, sizeof cli_audit.target_id, "%s",
		    tid);
	if (rc != 0) {
		if (recorded) {
			cli_audit.outcome = rc;
			err = store_audit_update(st, &cli_audit);
		}
	} else if (!recorded)
		err = cli_audit.brand_id != 0 ?
		    store_audit_add(st, &cli_audit) : SIGIL_EINVAL;
	else if (tid != NULL)
		err = store_audit_update(st, &cli_audit);
	if (err != 0)
		fprintf(stderr, "sigil: warning: the audit trail did not "
		    "record %s: %s\n", cli_audit.action, sigil_strerror(err));
}

/* The brand of a change the CLI makes after the brand exists. */
void
cli_audit_brand(uint32_t brand_id)
{
	cli_audit.brand_id = brand_id;
}
