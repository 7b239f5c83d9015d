/*
 * ratelimit.c - the one rate limiter of sigild.
 *
 * A limit is a token bucket per key (a client's address, a token id, an
 * account...): rate tokens a second, at most burst, one per request. The
 * buckets live in a fixed table allocated once, so a flood of new keys
 * costs no memory, and the table is set-associative: a key's keyed hash
 * picks a set of `ways` entries, and the entry whose 64-bit tag equals
 * the hash is the key's bucket.
 *
 * Keyed hash. SipHash-2-4 under a 128-bit key drawn from the OS CSPRNG
 * when the table is made, so which keys share a set cannot be computed
 * offline, and differs between tables and between runs. Two keys are
 * the same bucket only when their 64-bit hashes are equal (2^-64).
 *
 * Take-over rule (the security property). When a key has no entry in its
 * set, it takes, in this order:
 *   1. an unused entry, or one whose bucket has refilled completely (its
 *      owner has been idle at least (burst - tokens) / rate): that owner
 *      lost nothing, since a returning key would start full anyway;
 *   2. otherwise the entry with the FEWEST tokens, and it inherits that
 *      level, not a full bucket. The previous owner, when it comes back,
 *      takes an entry under the same rule.
 * So a bucket is never refilled by a change of owner: keys that share a
 * set beyond its ways share buckets, and k keys never get more than k
 * buckets' worth. Two keys that collide on a one-way set alternating get
 * exactly one key's rate (tests/unit/test_ratelimit.c proves both). The
 * cost falls on a key that lands in a set full of busy buckets: it
 * inherits a low level, which only happens when an attacker already
 * keeps sets*ways keys busy, and then errs on the side of refusing.
 *
 * Client keys. IPv4 clients are limited per address, IPv6 clients per
 * /64 (one subscriber gets a /64 or more; per address would give every
 * client 2^64 buckets), and with RATELIMIT_V6_56 also per /56 at
 * RATELIMIT_V56_FACTOR times the limit, for sites that hand out /56s.
 *
 * Time is the caller's (microseconds, any origin > 0), so tests control
 * it; a clock that goes back refills nothing. Used from one thread only.
 *
 * Owns each limiter's table and hash key. Calls util (randomness) and
 * nothing else. Must never allocate after ratelimit_new, nor hand a key
 * a fuller bucket than the rule above gives it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/ratelimit.h"
#include "sigil/util.h"

/* Refills add up in floating point (ten 0.1s are 0.999...): a token is
 * there when the level is within EPS of it. */
#define EPS	1e-6

struct rl_entry {
	uint64_t	tag;
	double		tokens;
	int64_t		last_us;	/* 0: unused */
	uint8_t		kind;		/* 0 plain, 1 coarse (/56) */
};

struct ratelimit {
	uint8_t		key[16];
	size_t		mask;		/* nsets - 1 */
	unsigned	ways;
	double		rate, burst;
	int		flags;
	struct rl_entry	*e;
};

/* ---- SipHash-2-4 (Aumasson, Bernstein), 64-bit output ---- */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t
ratelimit_siphash(const uint8_t key[16], const void *p, size_t n)
{
	const uint8_t *in = p;
	uint64_t k0 = le64(key), k1 = le64(key + 8), m, b;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
	uint64_t v3 = 0x7465646279746573ULL ^ k1;
	size_t i, left = n & 7;

	for (i = 0; i + 8 <= n; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	b = (uint64_t)n << 56;
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl);
}

/* ---- the table ---- */

int
ratelimit_new(size_t nsets, unsigned ways, double rate, double burst,
    int flags, struct ratelimit **out)
{
	struct ratelimit *rl;
	size_t n = 1;

	if (!(rate > 0) || !(burst >= 1) || ways == 0 || ways > 16 ||
	    nsets == 0 || nsets > ((size_t)1 << 24))
		return SIGIL_EINVAL;
	while (n < nsets)
		n <<= 1;
	if ((rl = calloc(1, sizeof *rl)) == NULL)
		return SIGIL_ENOMEM;
	if ((rl->e = calloc(n * ways, sizeof *rl->e)) == NULL) {
		free(rl);
		return SIGIL_ENOMEM;
	}
	if (sigil_random(rl->key, sizeof rl->key) != 0) {
		ratelimit_free(rl);
		return SIGIL_ECRYPTO;
	}
	rl->mask = n - 1;
	rl->ways = ways;
	rl->rate = rate;
	rl->burst = burst;
	rl->flags = flags;
	*out = rl;
	return 0;
}

uint64_t
ratelimit_hash(const struct ratelimit *rl, const void *key, size_t len)
{
	return ratelimit_siphash(rl->key, key, len);
}

static double
kind_rate(const struct ratelimit *rl, int kind)
{
	return kind ? rl->rate * RATELIMIT_V56_FACTOR : rl->rate;
}

static double
kind_burst(const struct ratelimit *rl, int kind)
{
	return kind ? rl->burst * RATELIMIT_V56_FACTOR : rl->burst;
}

/* Brings an entry's level up to now. */
static void
refill(const struct ratelimit *rl, struct rl_entry *e, int64_t now)
{
	double burst = kind_burst(rl, e->kind);

	if (now > e->last_us) {
		e->tokens += (double)(now - e->last_us) / 1e6 *
		    kind_rate(rl, e->kind);
		if (e->tokens > burst)
			e->tokens = burst;
		e->last_us = now;
	}
}

/* The key's entry at now, taking one over by the rule above if needed. */
static struct rl_entry *
entry_get(struct ratelimit *rl, uint64_t h, int kind, int64_t now)
{
	struct rl_entry *set = &rl->e[(h & rl->mask) * rl->ways], *e;
	struct rl_entry *fewest = NULL;

	for (unsigned i = 0; i < rl->ways; i++) {
		e = &set[i];
		if (e->last_us != 0 && e->tag == h && e->kind == kind) {
			refill(rl, e, now);
			return e;
		}
	}
	for (unsigned i = 0; i < rl->ways; i++) {
		e = &set[i];
		if (e->last_us != 0)
			refill(rl, e, now);
		if (e->last_us == 0 ||
		    e->tokens >= kind_burst(rl, e->kind) - EPS) {
			e->tag = h;
			e->kind = (uint8_t)kind;
			e->tokens = kind_burst(rl, kind);
			e->last_us = now > 0 ? now : 1;
			return e;
		}
		if (fewest == NULL || e->tokens < fewest->tokens)
			fewest = e;
	}
	/* Every way is busy: inherit the lowest level, never a full one. */
	fewest->tag = h;
	if (fewest->kind != kind) {
		/* Scale between the plain and coarse limits. */
		fewest->tokens = fewest->tokens / kind_burst(rl, fewest->kind) *
		    kind_burst(rl, kind);
		fewest->kind = (uint8_t)kind;
	}
	return fewest;
}

static int
take_h(struct ratelimit *rl, uint64_t h, int kind, int64_t now, int dry)
{
	struct rl_entry *e = entry_get(rl, h, kind, now);

	if (e->tokens < 1.0 - EPS)
		return 0;
	if (!dry)
		e->tokens = e->tokens > 1.0 ? e->tokens - 1.0 : 0.0;
	return 1;
}

static int64_t
wait_h(struct ratelimit *rl, uint64_t h, int kind, int64_t now)
{
	struct rl_entry *e = entry_get(rl, h, kind, now);

	if (e->tokens >= 1.0 - EPS)
		return 0;
	return (int64_t)ceil((1.0 - e->tokens) / kind_rate(rl, kind) * 1e6);
}

int
ratelimit_take(struct ratelimit *rl, const void *key, size_t len,
    int64_t now_us)
{
	return take_h(rl, ratelimit_hash(rl, key, len), 0, now_us, 0);
}

int
ratelimit_peek(struct ratelimit *rl, const void *key, size_t len,
    int64_t now_us)
{
	return take_h(rl, ratelimit_hash(rl, key, len), 0, now_us, 1);
}

int64_t
ratelimit_wait_us(struct ratelimit *rl, const void *key, size_t len,
    int64_t now_us)
{
	return wait_h(rl, ratelimit_hash(rl, key, len), 0, now_us);
}

void
ratelimit_reset(struct ratelimit *rl, const void *key, size_t len)
{
	uint64_t h = ratelimit_hash(rl, key, len);
	struct rl_entry *set = &rl->e[(h & rl->mask) * rl->ways];

	for (unsigned i = 0; i < rl->ways; i++)
		if (set[i].last_us != 0 && set[i].tag == h &&
		    set[i].kind == 0)
			set[i].tokens = rl->burst;
}

/* ---- client addresses ---- */

static int
is_v4(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	return memcmp(a, mapped, 12) == 0;
}

void
ratelimit_client_key(const uint8_t addr[16], int prefix_bits,
    uint8_t out[RATELIMIT_CLIENT_KEY])
{
	memset(out, 0, RATELIMIT_CLIENT_KEY);
	if (is_v4(addr)) {
		out[0] = 4;
		memcpy(out + 1, addr + 12, 4);
		return;
	}
	out[0] = (uint8_t)prefix_bits;
	memcpy(out + 1, addr, (size_t)prefix_bits / 8);
}

static int
client_take(struct ratelimit *rl, const uint8_t addr[16], int64_t now_us,
    int dry)
{
	uint8_t k64[RATELIMIT_CLIENT_KEY], k56[RATELIMIT_CLIENT_KEY];
	uint64_t h64, h56;

	ratelimit_client_key(addr, 64, k64);
	h64 = ratelimit_hash(rl, k64, sizeof k64);
	if (!(rl->flags & RATELIMIT_V6_56) || is_v4(addr))
		return take_h(rl, h64, 0, now_us, dry);
	ratelimit_client_key(addr, 56, k56);
	h56 = ratelimit_hash(rl, k56, sizeof k56);
	if (!take_h(rl, h64, 0, now_us, 1) || !take_h(rl, h56, 1, now_us, 1))
		return 0;
	if (!dry) {
		take_h(rl, h64, 0, now_us, 0);
		take_h(rl, h56, 1, now_us, 0);
	}
	return 1;
}

int
ratelimit_client_take(struct ratelimit *rl, const uint8_t addr[16],
    int64_t now_us)
{
	return client_take(rl, addr, now_us, 0);
}

int
ratelimit_client_peek(struct ratelimit *rl, const uint8_t addr[16],
    int64_t now_us)
{
	return client_take(rl, addr, now_us, 1);
}

int64_t
ratelimit_client_wait_us(struct ratelimit *rl, const uint8_t addr[16],
    int64_t now_us)
{
	uint8_t k[RATELIMIT_CLIENT_KEY];
	int64_t w64, w56;

	ratelimit_client_key(addr, 64, k);
	w64 = wait_h(rl, ratelimit_hash(rl, k, sizeof k), 0, now_us);
	if (!(rl->flags & RATELIMIT_V6_56) || is_v4(addr))
		return w64;
	ratelimit_client_key(addr, 56, k);
	w56 = wait_h(rl, ratelimit_hash(rl, k, sizeof k), 1, now_us);
	return w64 > w56 ? w64 : w56;
}
