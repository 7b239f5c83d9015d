/*
 * loginguard.h - what stands between the internet and the dashboard's
 * password check: the login limits (per client, per account and client,
 * per account, global) and the worker threads that run scrypt off the
 * event loop. See src/face/http_login.c for the rule.
 */
#ifndef SIGIL_LOGINGUARD_H
#define SIGIL_LOGINGUARD_H

#include <stdint.h>

struct event_base;
struct http_call;

struct loginguard_config {
	unsigned	global_per_s;	/* logins/s, all clients; 0: default */
	unsigned	threads;	/* hashing threads; 0: by CPU count */
	int		rate_flags;	/* RATELIMIT_V6_56 or 0 */
};

#define LOGINGUARD_GLOBAL_DEFAULT	10	/* per second, burst 3x */
#define LOGINGUARD_QUEUE_MAX		16	/* hashes waiting */

/*
 * Makes the limit tables and starts the hashing threads on base (made
 * thread-aware). 0, SIGIL_ENOMEM, SIGIL_EIO, SIGIL_ECRYPTO. Without it
 * every login is answered 503.
 */
int loginguard_init(struct event_base *base,
    const struct loginguard_config *cfg);
/* Finishes the hashes under way (their done() runs here) and frees all. */
void loginguard_fini(void);

/*
 * Every limit for a login attempt by c's client on the (normalised)
 * email, known or not, before any hashing: 1 to go on, or 0 once c has
 * been answered 429 with Retry-After.
 */
int loginguard_admit(struct http_call *c, const char *email);

/* The outcome of an admitted attempt (ok: the right password). */
void loginguard_record(struct http_call *c, const char *email, int ok);

/*
 * Runs work(arg) on a hashing thread, then done(arg) on the loop thread.
 * 0, or SIGIL_EFULL (LOGINGUARD_QUEUE_MAX waiting, or not started):
 * nothing runs, answer 503.
 */
int loginguard_hash(void (*work)(void *), void (*done)(void *), void *arg);

/*
 * Password operations of the brand API (a user created, a password
 * changed or reset) by one caller (caller: "user:N" or "token:N"):
 * LOGINGUARD_PASSWORD_BURST, then one every LOGINGUARD_PASSWORD_EVERY_S
 * seconds, each hashed like a login (loginguard_hash). 0: work(arg) and
 * then done(arg) will run, and done answers c. -1: c has been answered
 * (429 with Retry-After beyond the limit, 503 busy with Retry-After when
 * the hashing queue is full; neither costs an attempt); nothing runs and
 * the caller frees arg.
 */
#define LOGINGUARD_PASSWORD_BURST	5
#define LOGINGUARD_PASSWORD_EVERY_S	10
int loginguard_password_hash(struct http_call *c, const char *caller,
    void (*work)(void *), void (*done)(void *), void *arg);

#endif
