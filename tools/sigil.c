/*
 * sigil.c - the `sigil` command-line tool: the option table, the command
 * table, help and main. The subcommands live in files by family (cli.h
 * lists them); this file only turns argv into a struct opts and calls the
 * row of the command table it names.
 *
 * The tool is a thin shell over the library: every state change goes
 * through the store (metadata) and the keyring (secret bytes); the
 * subcommands validate what a person typed before anything is written,
 * so that a bad flag or value leaves the data directory exactly as it
 * was. Every subcommand accepts an explicit allow-list of options; an
 * option that is not on it is a usage error rather than silently ignored,
 * because a mistyped `--expire` that is dropped would mint codes that
 * never expire.
 *
 * Errors are one line on stderr ("sigil: ..."), exit 2; negative answers
 * exit 1. Secret key bytes never reach stdout or stderr.
 *
 * Read-only subcommands (stats, verify, export, backup, mint) open the
 * store with STORE_RDONLY so that they run beside a live sigild.
 *
 * Owns: the command words, which options each accepts, the usage text.
 * May call: cli.c and the cmd_ entry points of cli.h.
 * Must never: open the store or the keyring itself, or accept an option
 * a subcommand did not list.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
	{ "apiv3-key-file", OPT_VALUE, offsetof(struct opts, apiv3_key_file) },
	{ "id", OPT_VALUE, offsetof(struct opts, id) },
	{ "stock", OPT_VALUE, offsetof(struct opts, stock) },
	{ "font", OPT_VALUE, offsetof(struct opts, font) },
	{ "module-mm", OPT_VALUE, offsetof(struct opts, module_mm) },
	{ "caption", OPT_VALUE, offsetof(struct opts, caption) },
	{ "cut-marks", OPT_FLAG, offsetof(struct opts, cut_marks) },
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
	cmd_fn		*run;
	const char	*usage;
};

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
	{ "mint", " batch format out pin jobs level module from limit force "
	  "stock cut-marks font module-mm caption ",
	  0, cmd_mint,
	  "mint --batch ID --format csv|txt|svg|png|pdf --out PATH|- [--pin]\n"
	  "    [--jobs N] [--level L|M|Q|H] [--module PX] [--from SERIAL]\n"
	  "    [--limit N] [--force] [--stock NAME] [--cut-marks]\n"
	  "    [--caption full|serial|none] [--font FILE[:INDEX]]\n"
	  "    [--module-mm MM]\n"
	  "    print files for a batch: csv (serial,url[,pin]) and txt (one\n"
	  "    URL a line) as one file, svg/png as a directory of one image a\n"
	  "    code, pdf as label sheets\n"
	  "    --pin     add each code's hidden PIN (csv only)\n"
	  "    --jobs    threads (default: the CPUs; 1 for images)\n"
	  "    --level   QR error correction, L 7% M 15% (default) Q 25% H 30%\n"
	  "    --module  size of one QR module: pixels (png, default 8) or\n"
	  "              SVG user units (svg, default 4)\n"
	  "    --from    first serial to print (default 1); --limit how many\n"
	  "    --force   replace an existing output\n"
	  "    --stock   pdf label stock: a4-4x6 (default), a4-3x7 (63.5x38.1\n"
	  "              mm, L7160), a4-2x7 (99.1x38.1, L7163), a4-3x8 (70x36),\n"
	  "              a4-4x10 (48.5x25.4); one label a page for thermal\n"
	  "              printers: 40x30, 50x30, 60x40, 100x50 (mm)\n"
	  "    --cut-marks  pdf: crop marks in the sheet margins at label edges\n"
	  "    --caption pdf/svg/png text: full (product name, lot, serial;\n"
	  "              default), serial, or none\n"
	  "    --font    caption font, any script (default Noto Sans CJK SC\n"
	  "              from fonts-noto-cjk); only the glyphs used go in\n"
	  "    --module-mm  png/svg printed module size (default 0.5): the\n"
	  "              svg's mm size, the png's dpi" },
	{ "qr", " level ", 1, cmd_qr,
	  "qr TEXT [--level L|M|Q|H]\n"
	  "    draws TEXT (a URL) as a QR symbol in the terminal, to scan\n"
	  "    from the screen" },
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
	  "token list --brand NAME [--json]\n"
	  "    id, role, created, expires and state of each token (never\n"
	  "    the token text)" },
	{ "token revoke", " brand id key ", 0, cmd_token_revoke,
	  "token revoke --brand NAME --id TOKEN_ID\n"
	  "    TOKEN_ID is the id 'token list' shows (--key ID works too);\n"
	  "    at once, also for a running sigild" },
	{ "user add", " brand email role password-file json ", 0, cmd_user_add,
	  "user add --brand NAME --email EMAIL --role admin|operator|analyst\n"
	  "    [--password-file FILE] [--json]\n"
	  "    a dashboard login; the password (10+ characters) is read from\n"
	  "    the file or standard input, never from the command line" },
	{ "user list", " brand json ", 0, cmd_user_list,
	  "user list --brand NAME [--json]\n"
	  "    id, email, role, created and enabled/disabled of each user" },
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
	{ "user passwd", " brand email password-file ", 0, cmd_user_password,
	  "user passwd ...   (the same as user password)" },
	{ "payments key", " brand key apiv3-key-file json ", 0,
	  cmd_payments_key,
	  "payments key --brand NAME --key FILE.pem --apiv3-key-file FILE\n"
	  "    [--json]\n"
	  "    the brand's WeChat Pay merchant API private key\n"
	  "    (apiclient_key.pem: unencrypted RSA, 2048 bits or more) and\n"
	  "    APIv3 key (a file of its 32 characters) into the keyring;\n"
	  "    replaces earlier ones; prints the key's sha256 fingerprint,\n"
	  "    never the keys (a running sigild picks them up)" },
	{ "help", " ", 2, cmd_help,
	  "help [COMMAND [SUBCOMMAND]]\n"
	  "    'sigil help' lists every command; 'sigil help user' shows all\n"
	  "    of user's subcommands in full" },
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
	    "Exit status: 0 success, 1 negative answer, 2 bad usage or input.\n"
	    "'sigil help COMMAND' (or COMMAND --help) shows one in full.\n");
}

static int
cmd_help(struct opts *o)
{
	if (o->npos == 0) {
		usage_all(stdout);
		return EXIT_OK;
	}
	char want[64];
	int found = 0;

	/* "help user", "help user add" and "help 'user add'" all work: every
	 * row whose words are the asked ones or start with them and a space. */
	if (snprintf(want, sizeof want, "%s%s%s", o->pos[0], o->npos > 1 ?
	    " " : "", o->npos > 1 ? o->pos[1] : "") >= (int)sizeof want)
		return cli_fail(EXIT_USAGE, "no command '%.40s' (see 'sigil "
		    "help')", o->pos[0]);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *w = commands[i].words;
		size_t n = strlen(want);

		if (!strncmp(w, want, n) && (w[n] == '\0' || w[n] == ' ')) {
			printf("%s sigil %s\n", found++ ? "      " : "usage:",
			    commands[i].usage);
		}
	}
	if (found)
		return EXIT_OK;
	return cli_fail(EXIT_USAGE, "no command '%.40s' (see 'sigil help')",
	    want);
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

