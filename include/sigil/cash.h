/*
 * cash.h - cash prizes (issue 22, domain layer): a campaign's cash
 * settings and its prizes' amounts as configured (parsed by campaign.c
 * through cash_*_parse), the amount a claim wins drawn in whole fen from
 * the prize's declared distribution (src/domain/cash.c), and the
 * anti-abuse judgement of a claim that may pay money
 * (src/domain/cash_guard.c): the network velocity, the new-identity
 * cool-down, the score and its reasons, the hold.
 *
 * The money itself (the budget, the day caps, the payout row) is the
 * store's, in the claim's own transaction (store/payouts.h).
 */
#ifndef SIGIL_CASH_H
#define SIGIL_CASH_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct campaign_rules;
struct json_t;

/* ---- the configuration ---- */

/* A prize's amount: enum cash_dist, with its parameters in fen. */
enum cash_dist {
	CASH_NONE = 0,		/* the prize pays no cash */
	CASH_FIXED,		/* min == max, the amount */
	CASH_UNIFORM,		/* every fen of [min, max] alike */
	CASH_TRIANGULAR,	/* peak at mode */
	CASH_NORMAL,		/* mean, sd; truncated to [min, max] */
};
struct cash_prize {
	int		dist;		/* enum cash_dist */
	int64_t		min, max;	/* CASH_FEN_MIN <= min <= max <=
					   PAYOUT_FEN_MAX */
	int64_t		mode;		/* CASH_TRIANGULAR */
	int64_t		mean, sd;	/* CASH_NORMAL */
};

#define CASH_TEXT_MAX	32	/* characters: WeChat's transfer_remark */
#define CASH_FEN_MIN	10	/* WeChat Pay's least transfer: 0.1 yuan */

/* The campaign's "cash" object. Each 0 = none unless said. */
struct cash_config {
	int64_t		budget_fen;	/* required (> 0) with a cash prize */
	int64_t		hold_above_fen;	/* a payout above it waits */
	int64_t		customer_day_fen, device_day_fen;	/* day caps */
	uint32_t	network_per_hour;	/* cash claims per network */
	uint32_t	cooldown_hours;	/* a customer or WeChat identity
					   younger than this is refused */
	uint32_t	hold_score;	/* 1..100: a score this high waits */
	char		remark[CASH_TEXT_MAX * 4 + 1];	/* "" default */
	char		activity[CASH_TEXT_MAX * 4 + 1];	/* "" default */
};

/*
 * A draw prize's "cash" (v): {"fixed": fen} or {"min": fen, "max": fen,
 * "distribution": "uniform" | "triangular" (with "mode") | "normal"
 * (with "mean" and "sd")}, every amount an integer number of fen within
 * CASH_FEN_MIN..PAYOUT_FEN_MAX, min <= max, mode and mean inside [min, max], sd
 * from 1 to max - min; nothing else. 0 with *out set, or SIGIL_EINVAL
 * with err saying why.
 */
int cash_prize_parse(struct json_t *v, struct cash_prize *out, char *err,
    size_t esize);
/* The campaign's "cash" object (see struct cash_config): the same. */
int cash_config_parse(struct json_t *v, struct cash_config *out, char *err,
    size_t esize);

/* ---- the draw ---- */

/*
 * A xoshiro256** generator. Production seeds one per claim from the OS
 * (cash_rng_fresh); tests seed it (cash_rng_seed) for a known sequence.
 */
struct cash_rng {
	uint64_t	s[4];
};
void cash_rng_seed(struct cash_rng *r, uint64_t seed);
uint64_t cash_rng_next(struct cash_rng *r);
/*
 * A generator for one claim: from the OS CSPRNG; or, in a test build
 * (SIGIL_FAULT_INJECTION) started with SIGIL_CASH_SEED=n in its
 * environment, the next of one process-wide sequence seeded with n, so
 * a test can replay the draws. 0 or SIGIL_ECRYPTO.
 */
int cash_rng_fresh(struct cash_rng *r);

/*
 * An amount of p in fen, never outside [min, max]. The continuous
 * distributions are made whole fen so that every amount's chance is
 * cash_prize_p's: uniform, each fen alike; triangular, the density on
 * [min, max + 1) peaking at mode + 0.5, floored; normal, mean + sd * Z
 * rounded to the nearest fen, drawn again while outside [min, max].
 * 0 for CASH_NONE.
 */
int64_t cash_prize_draw(const struct cash_prize *p, struct cash_rng *r);
/* The chance that cash_prize_draw gives fen (what the tests compare). */
double cash_prize_p(const struct cash_prize *p, int64_t fen);
/* The cash of c's prize (-1: none drawn), drawn: fen, 0 for none. */
int64_t cash_draw(const struct campaign_rules *c, int prize,
    struct cash_rng *r);
/* The least and the most any prize of c pays: 0 when none pays cash. */
void cash_range(const struct campaign_rules *c, int64_t *min, int64_t *max);

/* ---- the guard (cash_guard.c) ---- */

/*
 * The network velocity: one cash claim on campaign of brand from the
 * network of addr (IPv4 address, IPv6 /64) at now, counted in the hour
 * (UTC hour) it falls in, shared by every thread. 0 when counted, *count
 * set to the hour's count with it; else the microseconds until the next
 * hour (the claim is not counted). limit 0: counted, never refused.
 */
int64_t cash_guard_network(uint32_t brand_id, uint32_t campaign_id,
    const uint8_t addr[16], uint32_t limit, int64_t now, uint32_t *count);

/*
 * The cool-down: microseconds until both the customer (created) and the
 * payee's WeChat identity (bound) are cooldown_hours old; 0 when they
 * are (or cooldown_hours is 0).
 */
int64_t cash_cooldown_wait(uint32_t cooldown_hours, int64_t created,
    int64_t bound, int64_t now);

/* What the score of one claim looks at. */
struct cash_facts {
	uint32_t	brand_id;
	uint64_t	customer_id, device;
	int64_t		now;
	int64_t		scan_at;	/* this device's last scan of the code */
	int		fresh_device;	/* its cookie was made by that scan */
	int		located;	/* that scan has a place: */
	float		lat, lng;
	uint32_t	pin_fails;	/* wrong PINs ever tried on the code */
	uint32_t	network_count;	/* cash_guard_network's count */
	uint32_t	network_limit;	/* the campaign's, 0 none */
};

/* Each reason's weight; the score is their sum, at most 100. */
#define CASH_SCORE_NEW_DEVICE		20
#define CASH_SCORE_SHARED_DEVICE	25
#define CASH_SCORE_NETWORK_BUSY		20
#define CASH_SCORE_PIN_TRIES		15
#define CASH_SCORE_TRAVEL		30
#define CASH_SCORE_FAST			20
#define CASH_SHARED_DEVICE_CUSTOMERS	3	/* customers in 24 h */
#define CASH_NETWORK_BUSY		20	/* an hour, without a limit */
#define CASH_TRAVEL_KM			100	/* farther, and faster than: */
#define CASH_TRAVEL_KMH			900
#define CASH_FAST_US			2000000	/* the claim after the scan */

/*
 * The score (0..100) of a claim and its reasons, comma-separated in
 * reasons ("" none): new_device (the device's cookie was made by its scan
 * of this code), shared_device (CASH_SHARED_DEVICE_CUSTOMERS or more
 * customers claimed cash from the device in 24 hours), network_busy
 * (the network's cash claims this hour over half its limit, or over
 * CASH_NETWORK_BUSY without one), pin_tries (wrong PINs on this code),
 * travel (more than CASH_TRAVEL_KM from the customer's last located
 * cash claim, faster than CASH_TRAVEL_KMH), fast (claimed within
 * CASH_FAST_US of the scan). Remembers the device's customer and the
 * customer's place for the next claims (shared by every thread).
 */
uint32_t cash_score(const struct cash_facts *f,
    char reasons[PAYOUT_REASONS_MAX + 1]);

/* Whether a payout of fen with score waits for the brand. */
int cash_hold(const struct cash_config *cc, uint32_t score, int64_t fen);

/* Forgets every count and place (the unit tests, between cases). */
void cash_guard_reset(void);

#endif
