/*
 * cli.h - what the files of the `sigil` command-line tool share: the
 * parsed command line, the one-line error reporter, and the entry points
 * of the subcommands that live outside sigil.c (mint.c, verify.c).
 *
 * Exit status everywhere (SPEC §3): EXIT_OK success, EXIT_NO a negative
 * answer (verify of a bad code), EXIT_USAGE bad usage, bad input, or a
 * failure that left nothing changed.
 */
#ifndef SIGIL_CLI_H
#define SIGIL_CLI_H

#include <stdint.h>

#include "sigil/store.h"
#include "sigil/keyring.h"

#define EXIT_OK		0
#define EXIT_NO		1
#define EXIT_USAGE	2

/* Every option any subcommand knows; which ones a subcommand accepts is
 * decided by the allow-list it passes to cli_parse(). */
struct opts {
	const char	*data, *keyring;
	const char	*brand, *base_url, *sku, *name, *gtin, *max_scanners;
	const char	*count, *lot, *expires, *batch, *key;
	const char	*format, *out, *jobs, *level, *module, *from, *limit;
	const char	*since;
	const char	*role;
	const char	*email, *password_file;
	int		 json, pin, force, gs1, help, use_stdin;
	const char	*pos[4];	/* positional arguments */
	int		 npos;
};

/* Prints "sigil: <message>" on stderr (one line) and returns code. */
int cli_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The keyring path: --keyring, then $SIGIL_KEYRING, then DIR/keyring. */
const char *cli_keyring_path(const struct opts *o, char *buf, size_t size);

/* Opens the store of --data (flags as store_open); prints the error. */
int cli_store_open(const struct opts *o, int flags, struct store **out);

/* Parses a decimal id/count in 1..max, naming the flag in the error. */
int cli_parse_num(const char *flag, const char *s, uint64_t max,
    uint64_t *out);

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

int cmd_mint(struct opts *o);
int cmd_verify(struct opts *o);
int cmd_export(struct opts *o);
int cmd_user_add(struct opts *o);
int cmd_user_list(struct opts *o);
int cmd_user_disable(struct opts *o);
int cmd_user_enable(struct opts *o);
int cmd_user_remove(struct opts *o);
int cmd_user_password(struct opts *o);

#endif
