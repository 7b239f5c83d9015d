/*
 * cash.c - cash prizes (issue 22): their configuration and the draw of
 * an amount.
 *
 * A draw prize may carry "cash": a fixed amount, or a range [min, max]
 * of whole fen with a declared distribution. The campaign's "cash"
 * object holds the budget (required with any cash prize: the store
 * reserves every amount from it in the claim's transaction and never
 * lets it go below zero), the hold threshold, the day caps, the network
 * velocity, the cool-down and the texts WeChat Pay shows. Both are
 * checked strictly (unknown keys, integer fen, ranges), like the rest
 * of the campaign (campaign.c calls these parsers).
 *
 * The draw. Money is integers: an amount is a whole number of fen, and
 * each distribution is defined on whole fen so that every amount has an
 * exact chance (cash_prize_p), which the statistical tests compare the
 * draws with. The continuous ones are discretised as cash.h says
 * (triangular floored from [min, max + 1), normal rounded and drawn
 * again outside the range), so no amount can leave [min, max].
 *
 * The generator is xoshiro256** (Blackman, Vigna), seeded per claim from
 * the OS CSPRNG, so amounts cannot be predicted from earlier ones. A
 * test build (SIGIL_FAULT_INJECTION) honours SIGIL_CASH_SEED: every
 * claim's generator is then seeded from one process-wide sequence, so a
 * test can replay what sigild drew. Any other build has no such hook.
 *
 * Owns the cash configuration's format and the draw. May call util and
 * jansson. Never touches the store, never knows about HTTP.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/campaign.h"
#include "sigil/cash.h"
#include "sigil/loyalty_util.h"
#include "sigil/util.h"

#define CASH_HOURS_MAX		(24 * 366)
#define CASH_NET_MAX		1000000
#define NORMAL_TRIES		1000

/* ---- the configuration ---- */

static int
fail(char *err, size_t esize, const char *msg)
{
	snprintf(err, esize, "%s", msg);
	return SIGIL_EINVAL;
}

/* Whether every key of o is one of keys (NULL-terminated). */
static int
keys_only(json_t *o, const char *const *keys, char *err, size_t esize,
    const char *where)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (keys[i] == NULL) {
			snprintf(err, esize, "unknown field '%.40s' in '%s'", key,
			    where);
			return 0;
		}
	}
	return 1;
}

/* An amount in whole fen that WeChat Pay can transfer. */
static int
fen_of(json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!loyalty_int_in(v, CASH_FEN_MIN, PAYOUT_FEN_MAX))
		return 0;
	*out = json_integer_value(v);
	return 1;
}

int
cash_prize_parse(json_t *v, struct cash_prize *out, char *err, size_t esize)
{
	static const char *const keys[] = { "fixed", "min", "max",
	    "distribution", "mode", "mean", "sd", NULL };
	const char *d;

	memset(out, 0, sizeof *out);
	if (!json_is_object(v))
		return fail(err, esize, "a prize's 'cash' is {\"fixed\": fen} or "
		    "{\"min\": fen, \"max\": fen, \"distribution\": \"uniform\"|"
		    "\"triangular\"|\"normal\"}");
	if (!keys_only(v, keys, err, esize, "draw[].cash"))
		return SIGIL_EINVAL;
	if (json_object_get(v, "fixed") != NULL) {
		if (json_object_size(v) != 1 || !fen_of(v, "fixed", &out->min))
			return fail(err, esize, "'cash': {\"fixed\": fen} alone, "
			    "10 (0.1 yuan, WeChat Pay's least) to 20000000 fen");
		out->max = out->min;
		out->dist = CASH_FIXED;
		return 0;
	}
	if (!fen_of(v, "min", &out->min) || !fen_of(v, "max", &out->max) ||
	    out->min > out->max)
		return fail(err, esize, "'cash' needs \"min\" <= \"max\", whole "
		    "fen from 10 (0.1 yuan, WeChat Pay's least) to 20000000");
	d = json_string_value(json_object_get(v, "distribution"));
	if (d != NULL && strcmp(d, "uniform") == 0) {
		out->dist = CASH_UNIFORM;
		if (json_object_size(v) != 3)
			return fail(err, esize, "a uniform 'cash' has only min, "
			    "max and distribution");
	} else if (d != NULL && strcmp(d, "triangular") == 0) {
		out->dist = CASH_TRIANGULAR;
		if (json_object_size(v) != 4 || !fen_of(v, "mode",
		    &out->mode) || out->mode < out->min || out->mode > out->max)
			return fail(err, esize, "a triangular 'cash' needs "
			    "\"mode\" (fen) from min to max, and nothing else");
	} else if (d != NULL && strcmp(d, "normal") == 0) {
		out->dist = CASH_NORMAL;
		if (json_object_size(v) != 5 || !fen_of(v, "mean",
		    &out->mean) || out->mean < out->min ||
		    out->mean > out->max)
			return fail(err, esize, "a normal 'cash' needs \"mean\" "
			    "(fen) from min to max and \"sd\", and nothing else");
		if (!loyalty_int_in(json_object_get(v, "sd"), 1,
		    out->max - out->min))
			return fail(err, esize, "a normal 'cash' needs \"sd\" "
			    "from 1 fen to max - min");
		out->sd = json_integer_value(json_object_get(v, "sd"));
	} else
		return fail(err, esize, "'cash.distribution' must be "
		    "\"uniform\", \"triangular\" (with \"mode\") or \"normal\" "
		    "(with \"mean\" and \"sd\")");
	return 0;
}

/* An optional text of 1 to CASH_TEXT_MAX characters into out. */
static int
text_of(json_t *o, const char *key, char *out, size_t size, char *err,
    size_t esize)
{
	json_t *v = json_object_get(o, key);
	char field[32];

	if (v == NULL)
		return 1;
	snprintf(field, sizeof field, "cash.%s", key);
	if (!loyalty_name_ok(v, CASH_TEXT_MAX, field, err, esize))
		return 0;
	snprintf(out, size, "%s", json_string_value(v));
	return 1;
}

int
cash_config_parse(json_t *v, struct cash_config *out, char *err,
    size_t esize)
{
	static const char *const keys[] = { "budget_fen", "hold_above_fen",
	    "customer_day_fen", "device_day_fen", "network_per_hour",
	    "cooldown_hours", "hold_score", "remark", "activity", NULL };
	static const struct {
		const char	*key;
		int64_t		 hi;
		const char	*msg;
	} ints[] = {
		{ "budget_fen", LOYALTY_AMOUNT_MAX, "'cash.budget_fen' must be "
		    "1 to 10^12 fen" },
		{ "hold_above_fen", PAYOUT_FEN_MAX, "'cash.hold_above_fen' must "
		    "be 0 (none) to 20000000 fen" },
		{ "customer_day_fen", LOYALTY_AMOUNT_MAX, "'cash.customer_day_"
		    "fen' must be 0 (none) to 10^12 fen" },
		{ "device_day_fen", LOYALTY_AMOUNT_MAX, "'cash.device_day_fen' "
		    "must be 0 (none) to 10^12 fen" },
		{ "network_per_hour", CASH_NET_MAX, "'cash.network_per_hour' "
		    "must be 0 (none) to 1000000 claims" },
		{ "cooldown_hours", CASH_HOURS_MAX, "'cash.cooldown_hours' must "
		    "be 0 (none) to 8784" },
		{ "hold_score", 100, "'cash.hold_score' must be 0 (never) to "
		    "100" },
	};
	int64_t n[sizeof ints / sizeof ints[0]] = { 0 };

	memset(out, 0, sizeof *out);
	if (!json_is_object(v))
		return fail(err, esize, "'cash' must be an object: {\"budget_"
		    "fen\", \"hold_above_fen\", \"customer_day_fen\", \"device_"
		    "day_fen\", \"network_per_hour\", \"cooldown_hours\", "
		    "\"hold_score\", \"remark\", \"activity\"}");
	if (!keys_only(v, keys, err, esize, "cash"))
		return SIGIL_EINVAL;
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		json_t *x = json_object_get(v, ints[i].key);

		if (x == NULL && i == 0)
			return fail(err, esize, ints[i].msg);
		if (x != NULL && !loyalty_int_in(x, i == 0, ints[i].hi))
			return fail(err, esize, ints[i].msg);
		n[i] = json_integer_value(x);
	}
	out->budget_fen = n[0];
	out->hold_above_fen = n[1];
	out->customer_day_fen = n[2];
	out->device_day_fen = n[3];
	out->network_per_hour = (uint32_t)n[4];
	out->cooldown_hours = (uint32_t)n[5];
	out->hold_score = (uint32_t)n[6];
	if (!text_of(v, "remark", out->remark, sizeof out->remark, err,
	    esize) || !text_of(v, "activity", out->activity,
	    sizeof out->activity, err, esize))
		return SIGIL_EINVAL;
	return 0;
}

/* ---- the generator ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
cash_rng_seed(struct cash_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
cash_rng_next(struct cash_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

#ifdef SIGIL_FAULT_INJECTION
/* The test build's replayable sequence (SIGIL_CASH_SEED). */
static pthread_once_t seq_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static int seq_on;
static uint64_t seq_state;

static void
seq_init(void)
{
	const char *e = getenv("SIGIL_CASH_SEED");

	if (e != NULL && sigil_parse_u64(e, UINT64_MAX, &seq_state) == 0)
		seq_on = 1;
}
#endif

int
cash_rng_fresh(struct cash_rng *r)
{
#ifdef SIGIL_FAULT_INJECTION
	pthread_once(&seq_once, seq_init);
	if (seq_on) {
		uint64_t seed;

		pthread_mutex_lock(&seq_lock);
		seed = splitmix64(&seq_state);
		pthread_mutex_unlock(&seq_lock);
		cash_rng_seed(r, seed);
		return 0;
	}
#endif
	do {
		if (sigil_random(r->s, sizeof r->s) != 0)
			return SIGIL_ECRYPTO;
	} while ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0);
	return 0;
}

/* Uniform in [0, 1) from 53 bits. */
static double
unit(struct cash_rng *r)
{
	return (double)(cash_rng_next(r) >> 11) / 9007199254740992.0;
}

/* Uniform in [0, n), n >= 1, without modulo bias. */
static uint64_t
below(struct cash_rng *r, uint64_t n)
{
	uint64_t x, limit = UINT64_MAX - UINT64_MAX % n;

	do
		x = cash_rng_next(r);
	while (x >= limit);
	return x % n;
}

/* ---- the distributions ---- */

static int64_t
clamp(const struct cash_prize *p, int64_t v)
{
	return v < p->min ? p->min : v > p->max ? p->max : v;
}

/* The triangular CDF on [a, b) peaking at c, at x. */
static double
tri_cdf(double a, double c, double b, double x)
{
	if (x <= a)
		return 0;
	if (x >= b)
		return 1;
	if (x <= c)
		return (x - a) * (x - a) / ((b - a) * (c - a));
	return 1 - (b - x) * (b - x) / ((b - a) * (b - c));
}

static double
phi(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

int64_t
cash_prize_draw(const struct cash_prize *p, struct cash_rng *r)
{
	double a, b, c, u, x;

	switch (p->dist) {
	case CASH_FIXED:
		return p->min;
	case CASH_UNIFORM:
		return p->min + (int64_t)below(r, (uint64_t)(p->max - p->min +
		    1));
	case CASH_TRIANGULAR:
		a = (double)p->min;
		b = (double)p->max + 1;
		c = (double)p->mode + 0.5;
		u = unit(r);
		if (u < (c - a) / (b - a))
			x = a + sqrt(u * (b - a) * (c - a));
		else
			x = b - sqrt((1 - u) * (b - a) * (b - c));
		return clamp(p, (int64_t)floor(x));
	case CASH_NORMAL:
		for (int i = 0; i < NORMAL_TRIES; i++) {
			/* Box-Muller; 1 - unit is in (0, 1], so the log is
			 * finite */
			double u1 = 1 - unit(r), u2 = unit(r);
			int64_t v;

			x = (double)p->mean + (double)p->sd *
			    sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
			v = (int64_t)floor(x + 0.5);
			if (v >= p->min && v <= p->max)
				return v;
		}
		/* sd <= max - min and the mean inside: about one try in
		 * three succeeds at worst, so this is never reached */
		return p->mean;
	default:
		return 0;
	}
}

double
cash_prize_p(const struct cash_prize *p, int64_t fen)
{
	double a, b, c, z;

	if (p->dist == CASH_NONE || fen < p->min || fen > p->max)
		return 0;
	switch (p->dist) {
	case CASH_FIXED:
		return 1;
	case CASH_UNIFORM:
		return 1.0 / (double)(p->max - p->min + 1);
	case CASH_TRIANGULAR:
		a = (double)p->min;
		b = (double)p->max + 1;
		c = (double)p->mode + 0.5;
		return tri_cdf(a, c, b, (double)fen + 1) -
		    tri_cdf(a, c, b, (double)fen);
	case CASH_NORMAL:
		z = phi(((double)p->max + 0.5 - (double)p->mean) /
		    (double)p->sd) - phi(((double)p->min - 0.5 -
		    (double)p->mean) / (double)p->sd);
		return (phi(((double)fen + 0.5 - (double)p->mean) /
		    (double)p->sd) - phi(((double)fen - 0.5 -
		    (double)p->mean) / (double)p->sd)) / z;
	}
	return 0;
}

int64_t
cash_draw(const struct campaign_rules *c, int prize, struct cash_rng *r)
{
	if (prize < 0 || prize >= c->nprizes)
		return 0;
	return cash_prize_draw(&c->cash[prize], r);
}

void
cash_range(const struct campaign_rules *c, int64_t *min, int64_t *max)
{
	*min = *max = 0;
	for (int i = 0; i < c->nprizes; i++) {
		const struct cash_prize *p = &c->cash[i];

		if (p->dist == CASH_NONE)
			continue;
		if (*min == 0 || p->min < *min)
			*min = p->min;
		if (p->max > *max)
			*max = p->max;
	}
}
