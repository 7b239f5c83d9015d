/*
 * cash_guard.c - the anti-abuse judgement of a claim that may pay cash
 * (issue 22): reward farmers (羊毛党) script claims from many phones and
 * accounts on few networks, with fresh accounts, at machine speed.
 *
 * The limits that refuse (the claim path answers 429 with Retry-After):
 *   - network velocity: cash claims per campaign per network (an IPv4
 *     address, an IPv6 /64: ratelimit_client_key's) per UTC hour;
 *   - cool-down: a customer, or the WeChat identity that would be paid,
 *     younger than the campaign's cooldown_hours (cash_cooldown_wait).
 * The day caps per customer and per device are the store's, counted in
 * the claim's own transaction (store/payouts.h), so parallel claims
 * cannot pass them together.
 *
 * The score that holds: 0..100 from the reasons cash.h lists, kept with
 * the payout; a score at the campaign's hold_score, or an amount above
 * hold_above_fen, makes the payout wait for the brand (HELD).
 *
 * Memory. The counts and the places live in one fixed table allocated on
 * first use: sets of WAYS entries picked by a keyed hash (SipHash under
 * a key from the OS, as ratelimit.c), so a flood of new keys costs no
 * memory. A velocity count is never lost to a newcomer: a key that finds
 * no free or stale entry in its set inherits the highest count of the
 * hour there (keys that share a set beyond its ways share a count: the
 * error refuses, never lets through). A device's customers and a
 * customer's last place are hints: the oldest gives way. One mutex
 * guards the table, so every thread shares one view.
 *
 * Owns the table. May call ratelimit (the keys and the hash) and util.
 * Never touches the store, never knows about HTTP.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/cash.h"
#include "sigil/ratelimit.h"
#include "sigil/util.h"

#define SETS		4096
#define WAYS		4
#define US_PER_HOUR	(3600LL * 1000000)
#define DEVICE_WINDOW	(24 * US_PER_HOUR)
#define WHO_MAX		4

enum { KIND_NET = 1, KIND_DEVICE, KIND_PLACE };

struct entry {
	uint64_t	tag;		/* 0: unused */
	int64_t		at;		/* hour start (net); last seen */
	uint32_t	count;		/* net: claims this hour */
	float		lat, lng;	/* place */
	uint64_t	who[WHO_MAX];	/* device: customers seen */
	int64_t		who_at[WHO_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static uint8_t hkey[16];

/* The table, made on first use; NULL when memory or randomness fails. */
static struct entry *
table_get(void)
{
	if (table == NULL && sigil_random(hkey, sizeof hkey) == 0)
		table = calloc((size_t)SETS * WAYS, sizeof *table);
	return table;
}

static uint64_t
tag_of(int kind, uint32_t brand_id, uint64_t a, const void *more,
    size_t len)
{
	uint8_t buf[1 + 4 + 8 + RATELIMIT_CLIENT_KEY];
	uint64_t h;

	buf[0] = (uint8_t)kind;
	sigil_be32_put(buf + 1, brand_id);
	sigil_be64_put(buf + 5, a);
	memcpy(buf + 13, more, len);
	h = ratelimit_siphash(hkey, buf, 13 + len);
	return h ? h : 1;
}

/*
 * The entry of tag, or the one it takes over: unused or stale (at older
 * than stale_before) first, else by the kind's rule. *fresh says it was
 * taken over.
 */
static struct entry *
entry_of(uint64_t tag, int kind, int64_t stale_before, int *fresh)
{
	struct entry *set = &table[(tag & (SETS - 1)) * WAYS], *pick = NULL;

	*fresh = 0;
	for (int i = 0; i < WAYS; i++)
		if (set[i].tag == tag)
			return &set[i];
	*fresh = 1;
	for (int i = 0; i < WAYS; i++)
		if (set[i].tag == 0 || set[i].at < stale_before)
			return &set[i];
	for (int i = 0; i < WAYS; i++)
		if (pick == NULL || (kind == KIND_NET ? set[i].count >
		    pick->count : set[i].at < pick->at))
			pick = &set[i];
	return pick;
}

int64_t
cash_guard_network(uint32_t brand_id, uint32_t campaign_id,
    const uint8_t addr[16], uint32_t limit, int64_t now, uint32_t *count)
{
	uint8_t net[RATELIMIT_CLIENT_KEY];
	int64_t hour = now - now % US_PER_HOUR;
	struct entry *e;
	uint32_t n = 0;
	int fresh;

	ratelimit_client_key(addr, 64, net);
	pthread_mutex_lock(&lock);
	if (table_get() == NULL) {
		pthread_mutex_unlock(&lock);
		*count = 0;
		/* no memory for the count: refuse rather than pay blind */
		return limit ? hour + US_PER_HOUR - now : 0;
	}
	e = entry_of(tag_of(KIND_NET, brand_id, campaign_id, net, sizeof net),
	    KIND_NET, hour, &fresh);
	if (fresh) {
		/* a count of this hour taken over is inherited, never reset */
		n = e->at == hour ? e->count : 0;
		e->tag = tag_of(KIND_NET, brand_id, campaign_id, net,
		    sizeof net);
		e->at = hour;
		e->count = n;
	} else if (e->at != hour) {
		e->at = hour;
		e->count = 0;
	}
	if (limit != 0 && e->count >= limit) {
		*count = e->count;
		pthread_mutex_unlock(&lock);
		return hour + US_PER_HOUR - now;
	}
	*count = ++e->count;
	pthread_mutex_unlock(&lock);
	return 0;
}

int64_t
cash_cooldown_wait(uint32_t cooldown_hours, int64_t created, int64_t bound,
    int64_t now)
{
	int64_t young = created > bound ? created : bound;
	int64_t until = young + (int64_t)cooldown_hours * US_PER_HOUR;

	return cooldown_hours == 0 || until <= now ? 0 : until - now;
}

/* Great-circle distance in km (haversine, mean Earth radius). */
static double
km_between(double lat1, double lng1, double lat2, double lng2)
{
	double r = M_PI / 180, dlat = (lat2 - lat1) * r,
	    dlng = (lng2 - lng1) * r;
	double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * r) *
	    cos(lat2 * r) * sin(dlng / 2) * sin(dlng / 2);

	return 2 * 6371.0 * asin(sqrt(a < 1 ? a : 1));
}

/* How many customers claimed from the device in 24 h, this one counted. */
static int
device_customers(const struct cash_facts *f)
{
	uint8_t none[1] = { 0 };
	uint64_t tag = tag_of(KIND_DEVICE, f->brand_id, f->device, none, 0);
	struct entry *e;
	int fresh, n = 0, slot = -1;

	e = entry_of(tag, KIND_DEVICE, f->now - DEVICE_WINDOW, &fresh);
	if (fresh) {
		memset(e, 0, sizeof *e);
		e->tag = tag;
	}
	e->at = f->now;
	for (int i = 0; i < WHO_MAX; i++) {
		if (e->who[i] == f->customer_id)
			slot = i;
		else if (e->who[i] != 0 && e->who_at[i] >= f->now -
		    DEVICE_WINDOW)
			n++;
	}
	if (slot < 0)	/* the oldest gives way */
		for (int i = 0; i < WHO_MAX; i++)
			if (slot < 0 || e->who_at[i] < e->who_at[slot])
				slot = i;
	e->who[slot] = f->customer_id;
	e->who_at[slot] = f->now;
	return n + 1;
}

/* Whether the customer was too far too soon; remembers this place. */
static int
travelled(const struct cash_facts *f)
{
	uint8_t none[1] = { 0 };
	uint64_t tag = tag_of(KIND_PLACE, f->brand_id, f->customer_id, none,
	    0);
	struct entry *e;
	double km, hours;
	int fresh, far = 0;

	if (!f->located)
		return 0;
	e = entry_of(tag, KIND_PLACE, 0, &fresh);
	if (!fresh) {
		km = km_between(e->lat, e->lng, f->lat, f->lng);
		hours = (double)(f->now - e->at) / (double)US_PER_HOUR;
		far = km > CASH_TRAVEL_KM && km > CASH_TRAVEL_KMH * hours;
	}
	memset(e, 0, sizeof *e);
	e->tag = tag;
	e->at = f->now;
	e->lat = f->lat;
	e->lng = f->lng;
	return far;
}

static void
reason(char *out, const char *why, uint32_t weight, uint32_t *score)
{
	size_t n = strlen(out);

	snprintf(out + n, PAYOUT_REASONS_MAX + 1 - n, "%s%s", n ? "," : "",
	    why);
	*score += weight;
}

uint32_t
cash_score(const struct cash_facts *f, char reasons[PAYOUT_REASONS_MAX + 1])
{
	uint32_t score = 0, busy = f->network_limit ? f->network_limit / 2 :
	    CASH_NETWORK_BUSY;
	int shared = 0, far = 0;

	reasons[0] = '\0';
	pthread_mutex_lock(&lock);
	if (table_get() != NULL) {
		shared = device_customers(f) >= CASH_SHARED_DEVICE_CUSTOMERS;
		far = travelled(f);
	}
	pthread_mutex_unlock(&lock);
	if (f->fresh_device)
		reason(reasons, "new_device", CASH_SCORE_NEW_DEVICE, &score);
	if (shared)
		reason(reasons, "shared_device", CASH_SCORE_SHARED_DEVICE,
		    &score);
	if (f->network_count > busy)
		reason(reasons, "network_busy", CASH_SCORE_NETWORK_BUSY, &score);
	if (f->pin_fails > 0)
		reason(reasons, "pin_tries", CASH_SCORE_PIN_TRIES, &score);
	if (far)
		reason(reasons, "travel", CASH_SCORE_TRAVEL, &score);
	if (f->scan_at > 0 && f->now - f->scan_at < CASH_FAST_US)
		reason(reasons, "fast", CASH_SCORE_FAST, &score);
	return score > 100 ? 100 : score;
}

int
cash_hold(const struct cash_config *cc, uint32_t score, int64_t fen)
{
	return (cc->hold_score > 0 && score >= cc->hold_score) ||
	    (cc->hold_above_fen > 0 && fen > cc->hold_above_fen);
}

void
cash_guard_reset(void)
{
	pthread_mutex_lock(&lock);
	if (table != NULL)
		memset(table, 0, (size_t)SETS * WAYS * sizeof *table);
	pthread_mutex_unlock(&lock);
}

