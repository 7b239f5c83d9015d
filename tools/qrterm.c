/*
 * qrterm.c - `sigil qr TEXT`: a QR symbol drawn in the terminal with
 * UTF-8 half blocks (two modules a character cell, one module a column),
 * so that a phone can scan a URL straight off the screen (`make run`
 * shows a demo code this way).
 *
 * A block character stands for dark modules: U+2588 both, U+2580 the
 * upper, U+2584 the lower, a space neither, with a quiet zone of 2
 * modules (phones read a symbol on a screen with less than the 4 of
 * print). On a terminal every line is wrapped in ANSI black-on-white,
 * so the symbol reads the same on dark and light terminal themes; piped,
 * the art is plain text (tests turn it back into modules).
 *
 * Owns: the half-block drawing.
 * May call: cli.c and qr.h.
 * Must never: write anything but the symbol to stdout.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sigil/qr.h"
#include "sigil/util.h"
#include "cli.h"

#define QUIET	2

static int
dark(const struct qr *q, int x, int y)
{
	int w = qr_width(q);

	x -= QUIET;
	y -= QUIET;
	return x >= 0 && y >= 0 && x < w && y < w && qr_module(q, x, y);
}

int
cmd_qr(struct opts *o)
{
	struct qr *q;
	int level = QR_LEVEL_M, color, side, rc;

	if (o->npos != 1 || o->pos[0][0] == '\0')
		return cli_fail(EXIT_USAGE, "qr needs the text to encode "
		    "(see 'sigil help qr')");
	if (o->level != NULL && qr_level_parse(o->level, &level) != 0)
		return cli_fail(EXIT_USAGE, "--level must be L, M, Q or H");
	if ((rc = qr_encode(o->pos[0], level, &q)) != 0)
		return cli_fail(EXIT_USAGE, "cannot encode: %s",
		    sigil_strerror(rc));
	color = isatty(STDOUT_FILENO);
	side = qr_width(q) + 2 * QUIET;
	for (int y = 0; y < side; y += 2) {
		if (color)
			fputs("\033[30;47m", stdout);
		for (int x = 0; x < side; x++) {
			int up = dark(q, x, y), down = dark(q, x, y + 1);

			fputs(up && down ? "\xe2\x96\x88" : up ? "\xe2\x96\x80" : down ?
			    "\xe2\x96\x84" : " ", stdout);
		}
		fputs(color ? "\033[0m\n" : "\n", stdout);
	}
	qr_free(q);
	return fflush(stdout) == 0 ? EXIT_OK : cli_fail(EXIT_USAGE,
	    "cannot write the symbol");
}
