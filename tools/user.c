/*
 * user.c - `sigil user add|list|disable|enable|remove|password`:
 * dashboard users (email, role, password). Disabling or removing a user
 * also revokes the API tokens they made from a dashboard session (as the
 * API does, src/face/accounts.c); a running sigild sees every change at the
 * next request, since it reads users from the store each time.
 *
 * The password never travels on the command line (other users of the
 * machine can read argv from /proc): it is read from --password-file or
 * from standard input, with echo off when that is a terminal. One
 * trailing newline is dropped; everything else counts. The password
 * buffer is wiped before exit; only the scrypt hash is stored.
 *
 * Owns: reading a password from a file or a terminal.
 * May call: cli.c, the store (users), user.h (making a user, hashing a
 * password), token.h (revoking a user's tokens) and role.h (role names).
 * Must never: take a password from argv, or print or keep one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sigil/role.h"
#include "sigil/store.h"
#include "sigil/token.h"
#include "sigil/user.h"
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
		    USER_PASSWORD_MIN);
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
		    "%d bytes", USER_PASSWORD_MAX);
	return 0;
}

int
cmd_user_add(struct opts *o)
{
	char pw[USER_PASSWORD_MAX + 2], err[160];
	struct store *st;
	struct brand br;
	struct user u;
	size_t len = 0;
	int role, rc, ret = EXIT_USAGE;

	if (o->brand == NULL || o->email == NULL || o->role == NULL)
		return cli_fail(EXIT_USAGE, "user add needs --brand, --email "
		    "and --role");
	if ((role = role_parse(o->role)) == 0)
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
	cli_audit_arm(st, br.id, "user_add", "user", NULL,
	    json_pack("{s:s}", "role", role_name(role)));
	rc = user_new(st, br.id, o->email, role, pw, len, &u, err, sizeof err);
	{
		char tid[16];

		snprintf(tid, sizeof tid, "%u", u.id);
		cli_audit_done(st, rc, rc == 0 ? tid : NULL);
	}
	if (rc != 0) {
		cli_fail(EXIT_USAGE, "cannot add user: %s", err);
		goto out;
	}
	if (o->json)
		printf("{\"id\": %u, \"email\": \"%s\", \"role\": \"%s\", "
		    "\"brand\": %u}\n", u.id, u.email, role_name(u.role),
		    u.brand_id);
	else
		printf("user %u %s (%s) of brand '%s' added\n", u.id, u.email,
		    role_name(u.role), br.name);
	ret = EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof pw);
	store_close(st);
	return ret;
}

/* ---- list, disable, enable, remove, password ---- */

struct user_pick {
	char		email[STORE_NAME_MAX * 2 + 1];
	struct user	u;
	int		found;
};

static int
user_pick_one(void *arg, const struct user *u)
{
	struct user_pick *p = arg;

	if (strcmp(u->email, p->email) == 0) {
		p->u = *u;
		p->found = 1;
		return 1;
	}
	return 0;
}

/* Opens the store and finds --brand's user --email (disabled ones too). */
static int
user_open(struct opts *o, struct store **st, struct user *u)
{
	struct user_pick p = { 0 };
	struct brand br;
	size_t n;

	if (o->brand == NULL || o->email == NULL)
		return cli_fail(EXIT_USAGE, "needs --brand and --email");
	if ((n = strlen(o->email)) >= sizeof p.email)
		return cli_fail(EXIT_USAGE, "no such user");
	for (size_t i = 0; i <= n; i++)
		p.email[i] = (char)(o->email[i] >= 'A' && o->email[i] <= 'Z' ?
		    o->email[i] - 'A' + 'a' : o->email[i]);
	if (cli_store_open(o, 0, st))
		return EXIT_USAGE;
	if (store_brand_find(*st, o->brand, &br) != 0) {
		store_close(*st);
		return cli_fail(EXIT_USAGE, "no brand '%.64s'", o->brand);
	}
	store_user_each(*st, br.id, user_pick_one, &p);
	if (!p.found) {
		store_close(*st);
		return cli_fail(EXIT_USAGE, "brand '%.64s' has no user '%.128s'",
		    o->brand, o->email);
	}
	*u = p.u;
	return EXIT_OK;
}

static int
user_print(void *arg, const struct user *u)
{
	struct opts *o = arg;
	char c[SIGIL_TIME_LEN + 1];

	sigil_time_format(u->created, c);
	if (o->json)
		printf("{\"id\": %u, \"email\": \"%s\", \"role\": \"%s\", "
		    "\"created\": \"%s\", \"disabled\": %s}\n", u->id,
		    u->email, role_name(u->role), c, u->disabled ? "true" :
		    "false");
	else
		printf("%u\t%s\t%s\t%s\t%s\n", u->id, u->email,
		    role_name(u->role), c, u->disabled ? "disabled" :
		    "enabled");
	return 0;
}

int
cmd_user_list(struct opts *o)
{
	struct store *st;
	struct brand br;
	int ret = EXIT_USAGE;

	if (o->brand == NULL)
		return cli_fail(EXIT_USAGE, "user list needs --brand");
	if (cli_store_open(o, STORE_RDONLY, &st))
		return EXIT_USAGE;
	if (store_brand_find(st, o->brand, &br) != 0)
		cli_fail(EXIT_USAGE, "no brand '%.64s'", o->brand);
	else {
		if (!o->json)
			printf("id\temail\trole\tcreated\tstate\n");
		if (store_user_each(st, br.id, user_print, o) >= 0)
			ret = EXIT_OK;
	}
	store_close(st);
	return ret;
}

/* disabled: 1 disable, 0 enable, -1 remove. */
static int
user_change(struct opts *o, int disabled)
{
	struct store *st;
	struct user u;
	unsigned revoked = 0;
	int rc;

	if (user_open(o, &st, &u) != EXIT_OK)
		return EXIT_USAGE;
	{
		char tid[16];

		snprintf(tid, sizeof tid, "%u", u.id);
		cli_audit_arm(st, u.brand_id, disabled < 0 ? "user_remove" :
		    disabled ? "user_disable" : "user_enable", "user", tid,
		    json_pack("{s:s,s:b}", "role", role_name(u.role),
		    "disabled_before", u.disabled));
	}
	rc = disabled != 0 ? token_revoke_user(st, u.brand_id, u.id,
	    &revoked) : 0;
	if (rc == 0)
		rc = disabled < 0 ? store_user_del(st, u.id) :
		    store_user_set_disabled(st, u.id, disabled);
	cli_audit_done(st, rc, NULL);
	store_close(st);
	OPENSSL_cleanse(&u, sizeof u);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "cannot change the user: %s",
		    sigil_strerror(rc));
	printf("user %s %s%s", o->email, disabled < 0 ? "removed" : disabled ?
	    "disabled" : "enabled", revoked ? "" : "\n");
	if (revoked)
		printf(" (%u token%s made from its sessions revoked)\n", revoked,
		    revoked == 1 ? "" : "s");
	return EXIT_OK;
}

int
cmd_user_disable(struct opts *o)
{
	return user_change(o, 1);
}

int
cmd_user_enable(struct opts *o)
{
	return user_change(o, 0);
}

int
cmd_user_remove(struct opts *o)
{
	return user_change(o, -1);
}

int
cmd_user_password(struct opts *o)
{
	char pw[USER_PASSWORD_MAX + 2];
	struct store *st;
	struct user u;
	size_t len = 0;
	int rc, ret = EXIT_USAGE;

	if (o->brand == NULL || o->email == NULL)
		return cli_fail(EXIT_USAGE, "user password needs --brand and "
		    "--email");
	if (password_get(o, pw, sizeof pw, &len) != 0)
		return EXIT_USAGE;
	if (len < USER_PASSWORD_MIN || len > USER_PASSWORD_MAX ||
	    memchr(pw, '\0', len) != NULL) {
		OPENSSL_cleanse(pw, sizeof pw);
		return cli_fail(EXIT_USAGE, "the password must be %d to %d bytes",
		    USER_PASSWORD_MIN, USER_PASSWORD_MAX);
	}
	if (user_open(o, &st, &u) != EXIT_OK) {
		OPENSSL_cleanse(pw, sizeof pw);
		return EXIT_USAGE;
	}
	if ((rc = sigil_random(u.salt, sizeof u.salt)) != 0 ||
	    (rc = user_password_hash(pw, len, u.salt, u.hash)) != 0)
		cli_fail(EXIT_USAGE, "cannot hash the password: %s",
		    sigil_strerror(rc));
	else {
		char tid[16];

		snprintf(tid, sizeof tid, "%u", u.id);
		cli_audit_arm(st, u.brand_id, "password_reset", "user", tid,
		    NULL);
		if ((rc = store_user_update(st, &u)) == 0)
			rc = store_session_del_user(st, u.id, NULL);
		cli_audit_done(st, rc, NULL);
		if (rc != 0)
			cli_fail(EXIT_USAGE, "cannot store the password: %s",
			    sigil_strerror(rc));
		else {
			printf("user %s: password set\n", u.email);
			ret = EXIT_OK;
		}
	}
	OPENSSL_cleanse(pw, sizeof pw);
	OPENSSL_cleanse(&u, sizeof u);
	store_close(st);
	return ret;
}
