/*
 * user.c - `sigil user add`: dashboard users (email, role, password).
 *
 * The password never travels on the command line (other users of the
 * machine can read argv from /proc): it is read from --password-file or
 * from standard input, with echo off when that is a terminal. One
 * trailing newline is dropped; everything else counts. The password
 * buffer is wiped before exit; only the scrypt hash is stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sigil/api.h"
#include "sigil/dashboard.h"
#include "sigil/store.h"
#include "sigil/util.h"
#include "cli.h"

/* Reads at most size - 1 bytes from fd up to EOF; -1 when too long. */
static int
read_secret(int fd, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	ssize_t r;

	while (n < size) {
		r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
		/* A terminal ends the password with its newline. */
		if (isatty(fd) && memchr(buf, '\n', n) != NULL)
			break;
	}
	if (n == size)
		return -1;
	if (isatty(fd) && memchr(buf, '\n', n) != NULL)
		n = (size_t)((char *)memchr(buf, '\n', n) - buf) + 1;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

static int
password_get(const struct opts *o, char *buf, size_t size, size_t *len)
{
	struct termios old, quiet;
	int fd = STDIN_FILENO, tty = 0, rc;

	if (o->password_file != NULL) {
		if ((fd = open(o->password_file, O_RDONLY | O_CLOEXEC)) < 0)
			return cli_fail(EXIT_USAGE, "cannot open %s: %s",
			    o->password_file, strerror(errno));
	} else if (isatty(fd) && tcgetattr(fd, &old) == 0) {
		tty = 1;
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
		fprintf(stderr, "password (at least %d characters): ",
		    DASHBOARD_PASSWORD_MIN);
	}
	rc = read_secret(fd, buf, size, len);
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "password unreadable or longer than "
		    "%d bytes", DASHBOARD_PASSWORD_MAX);
	return 0;
}

int
cmd_user_add(struct opts *o)
{
	char pw[DASHBOARD_PASSWORD_MAX + 2], err[160];
	struct store *st;
	struct brand br;
	struct user u;
	size_t len = 0;
	int role, rc, ret = EXIT_USAGE;

	if (o->brand == NULL || o->email == NULL || o->role == NULL)
		return cli_fail(EXIT_USAGE, "user add needs --brand, --email "
		    "and --role");
	if ((role = api_role_parse(o->role)) == 0)
		return cli_fail(EXIT_USAGE, "--role must be admin, operator or "
		    "analyst");
	if (password_get(o, pw, sizeof pw, &len) != 0)
		return EXIT_USAGE;
	if (cli_store_open(o, 0, &st)) {
		OPENSSL_cleanse(pw, sizeof pw);
		return EXIT_USAGE;
	}
	if (store_brand_find(st, o->brand, &br) != 0) {
		cli_fail(EXIT_USAGE, "no brand '%.64s'", o->brand);
		goto out;
	}
	if ((rc = dashboard_user_new(st, br.id, o->email, role, pw, len, &u,
	    err, sizeof err)) != 0) {
		cli_fail(EXIT_USAGE, "cannot add user: %s", err);
		goto out;
	}
	if (o->json)
		printf("{\"id\": %u, \"email\": \"%s\", \"role\": \"%s\", "
		    "\"brand\": %u}\n", u.id, u.email, api_role_name(u.role),
		    u.brand_id);
	else
		printf("user %u %s (%s) of brand '%s' added\n", u.id, u.email,
		    api_role_name(u.role), br.name);
	ret = EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof pw);
	store_close(st);
	return ret;
}
