/*
 * cli.h - what the files of the `sigil` command-line tool share: the
 * parsed command line, the helpers every subcommand uses (tools/cli.c),
 * and the entry point of each subcommand, grouped by the file that owns
 * it. tools/sigil.c holds the one command table that maps words and
 * options to these entry points; it is the index of the tool.
 *
 *   sigil.c    options, the command table, help, main
 *   cli.c      errors, opening the store and keyring, checking values
 *   brand.c    init, brand, key
 *   batch.c    product, batch
 *   datadir.c  stats, backup
 *   token.c    token (brand API tokens)
 *   user.c     user (dashboard logins)
 *   mint.c     mint
 *   qrterm.c   qr (a symbol drawn in the terminal)
 *   verify.c   verify, export scans
 *   payments.c payments key (a brand's WeChat Pay secrets)
 *
 * The tool is the top layer (with src/sigild.c): its files may call any
 * library header in include/sigil/, and nothing in src/ may call them.
 * One subcommand file never calls another's cmd_ functions; what two of
 * them share lives in cli.c.
 *
 * Exit status everywhere (SPEC §3): EXIT_OK success, EXIT_NO a negative
 * answer (verify of a bad code), EXIT_USAGE bad usage, bad input, or a
 * failure that left nothing changed.
 */
#ifndef SIGIL_CLI_H
#define SIGIL_CLI_H

#include <stdint.h>

#include <jansson.h>

#include "sigil/store.h"
#include "sigil/keyring.h"
#include "sigil/util.h"

#define EXIT_OK		0
#define EXIT_NO		1
#define EXIT_USAGE	2

/* Every option any subcommand knows; which ones a subcommand accepts is
 * decided by the allow-list of its row in sigil.c's command table. */
struct opts {
	const char	*data, *keyring;
	const char	*brand, *base_url, *sku, *name, *gtin, *max_scanners;
	const char	*count, *lot, *expires, *batch, *key;
	const char	*format, *out, *jobs, *level, *module, *from, *limit;
	const char	*since;
	const char	*role;
	const char	*email, *password_file;
	const char	*apiv3_key_file;
	const char	*stock, *font, *module_mm, *caption, *id;
	int		 json, pin, force, gs1, help, use_stdin, cut_marks;
	const char	*pos[4];	/* positional arguments */
	int		 npos;
};

/* ---- cli.c ---- */

/* Prints "sigil: <message>" on stderr (one line) and returns code. */
int cli_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* EXIT_USAGE with "missing --flag" when val is NULL, else 0. */
int cli_require(const char *val, const char *flag);

/* Checks val is 1..max characters with no control or bidi control
 * character (sigil_text_check); the error names --flag. */
int cli_check_text(const char *flag, const char *val, size_t max);

/* Parses a decimal id/count in 1..max, naming the flag in the error. */
int cli_parse_num(const char *flag, const char *s, uint64_t max,
    uint64_t *out);

/*
 * The audit trail (sigil/store/audit.h): every change the tool makes is
 * an entry of actor cli:<Unix user>. cli_audit_arm, before the write,
 * arms it (detail: a JSON object, stolen, or NULL; audit.h's deny-list
 * applies), so the write's transaction records it too; cli_audit_done,
 * after, with the write's result: a success no transaction carried (a
 * brand that did not exist when armed) is recorded on its own; tid, if
 * not NULL, sets the target id a create made. Both ignore st NULL.
 */
void cli_audit_arm(struct store *st, uint32_t brand_id, const char *action,
    const char *ttype, const char *tid, json_t *detail);
void cli_audit_done(struct store *st, int rc, const char *tid);
/* Sets the brand of the armed entry (a brand the change just made). */
void cli_audit_brand(uint32_t brand_id);

/* The keyring path: --keyring, then $SIGIL_KEYRING, then DIR/keyring. */
const char *cli_keyring_path(const struct opts *o, char *buf, size_t size);

/* Opens the store of --data (flags as store_open); prints the error. */
int cli_store_open(const struct opts *o, int flags, struct store **out);

/* Finds brand name (--brand, required) into *b; prints the error. */
int cli_find_brand(struct store *st, const char *name, struct brand *b);

/*
 * cli_store_open, then cli_find_brand of --brand: 0 with *st open and *b
 * filled in, or EXIT_USAGE after printing the error, the store closed.
 */
int cli_open_brand(const struct opts *o, int flags, struct store **st,
    struct brand *b);

/* t as sigil_time_format() writes it into buf, or "-" when t is 0. */
const char *cli_time(int64_t t, char buf[SIGIL_TIME_LEN + 1]);

/* Prints v on stdout (indented, keys in order) and frees it. */
int cli_emit_json(json_t *v);

/*
 * The shape of every `list` subcommand that can answer in JSON: opens the
 * store read-only, finds --brand when by_brand (rows then gets it, else
 * NULL), and calls rows with a JSON array under --json (rows appends one
 * object a row; it is printed at the end) or NULL (rows prints its table
 * header and a line a row). A failure of rows reads "cannot list what".
 */
typedef int cli_rows_fn(struct store *st, const struct brand *b,
    json_t *arr);
int cli_list(const struct opts *o, int by_brand, const char *what,
    cli_rows_fn *rows);

/* Removes dir's entries (files only) and dir itself: 0, or -1 with
 * errno (dir not opened: nothing removed). */
int cli_remove_dir(const char *dir);

/* Writes v in decimal to p, returns the number of characters. */
static inline int cli_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (int i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

const char *cli_state_name(int state);
const char *cli_verdict_name(int verdict);

/* ---- the subcommands, by file ---- */

/* A subcommand: 0 (EXIT_OK) or an exit status, its error printed. */
typedef int cmd_fn(struct opts *o);

cmd_fn cmd_init, cmd_brand_add, cmd_brand_list;			/* brand.c */
cmd_fn cmd_key_new, cmd_key_list, cmd_key_revoke;
cmd_fn cmd_product_add;						/* batch.c */
cmd_fn cmd_batch_new, cmd_batch_activate, cmd_batch_revoke;
cmd_fn cmd_batch_list, cmd_batch_show;
cmd_fn cmd_stats, cmd_backup;					/* datadir.c */
cmd_fn cmd_token_new, cmd_token_list, cmd_token_revoke;		/* token.c */
cmd_fn cmd_user_add, cmd_user_list, cmd_user_disable;		/* user.c */
cmd_fn cmd_user_enable, cmd_user_remove, cmd_user_password;
cmd_fn cmd_mint;						/* mint.c */
cmd_fn cmd_qr;							/* qrterm.c */
cmd_fn cmd_verify, cmd_export;					/* verify.c */
cmd_fn cmd_payments_key;					/* payments.c */

#endif
