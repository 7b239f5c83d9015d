/*
 * rewards.h - what a code's reward is and who may claim it (domain
 * layer): the reward the scan page shows, the clone signal of a claimed
 * code scanned by another phone, and the rules a claim passes before the
 * store records it (the scan by this device, the hidden PIN and its
 * locks, the territory, the prize draw).
 */
#ifndef SIGIL_REWARDS_H
#define SIGIL_REWARDS_H

#include <stdint.h>

#include "sigil/store.h"

struct app;
struct campaign_rules;
struct code_info;
struct json_t;
struct writer_op;

/* ---- what the consumer scan page shows ---- */

/*
 * What the scan JSON says under "reward" for this code and device: the
 * campaign that applies (points per role, PIN needed), which roles have
 * claimed, and whether the device is logged in. A new jansson object.
 */
struct json_t *loyalty_reward_json(struct app *app, uint32_t brand_id,
    uint64_t batch_id, const char *sku, uint64_t serial, uint64_t device);

/*
 * 1 when a consumer has claimed (brand_id, serial) and device is not one
 * of that customer's devices: a scan after another customer claimed is a
 * clone signal (SPEC §4). Reads only; 0 on any error.
 */
int loyalty_claimed_by_other(struct app *app, uint32_t brand_id,
    uint64_t serial, uint64_t device);

/* ---- the rules of a claim ---- */

/*
 * This device's (non-bot) scans of a code: any, where the last located
 * one was, and when the last was made (and whether its device cookie
 * was made by it: a new device).
 */
struct reward_scan {
	int		found;
	int		located;
	float		lat, lng;
	int64_t		at;
	int		anon;
};
void reward_scanned_by(struct app *app, uint32_t brand_id, uint64_t serial,
    uint64_t device, struct reward_scan *out);

/* Why a claim is refused (the store's refusals are SIGIL_E* codes). */
enum reward_refusal {
	REWARD_OK,
	REWARD_UNLOCATED,	/* regional, and the scan has no location */
	REWARD_OUTSIDE,		/* outside it (or the territory is unusable) */
	REWARD_PIN_CODE_LOCKED,	/* wrong PINs: until the brand lifts it */
	REWARD_PIN_MINE_LOCKED,	/* this customer, this code */
	REWARD_PIN_DAY_LOCKED,	/* this customer, until tomorrow */
};

/* Whether a claim of the scan fits the campaign's territory: REWARD_OK
 * (no territory, or inside it), REWARD_UNLOCATED, REWARD_OUTSIDE. */
int reward_where(struct app *app, uint32_t brand_id,
    const struct campaign_rules *camp, const struct reward_scan *scan);

/*
 * Wrong hidden PINs (SPEC §2/§4): a customer may try STORE_PIN_TRIES on
 * one code and STORE_PIN_DAY_TRIES on all codes per China day; the code
 * itself locks only after STORE_PIN_CODE_TRIES from anyone, so one
 * customer cannot lock the rewards of codes he does not hold, and the
 * brand can lift that lock (POST /api/v1/codes/{code}/pin-unlock).
 * reward_pin_lock: REWARD_OK, or the REWARD_PIN_*_LOCKED that applies
 * first.
 */
int reward_pin_lock(const struct pin_fails *pf);
/* How many more PINs may be tried (the least of the three counts). */
uint32_t reward_pin_tries_left(const struct pin_fails *pf);
/*
 * Checks the hidden PIN of the code: 0 when right, SIGIL_EFORGED when
 * wrong, SIGIL_ENOTFOUND when the batch's key is missing.
 */
int reward_pin_check(struct app *app, const struct code_info *info,
    const char *pin);
/*
 * A PIN try, right or wrong, after reward_pin_check: one writer op
 * (reward_pin_op). On the writer thread the counts are read again, so
 * that the tries of one customer are judged in queue order: when they
 * lock the try now, lock says which lock and nothing is counted; else a
 * wrong PIN is counted (store_pin_fail). pf: the counts after. run: 0
 * or a store error. reward_pin_tried, on the loop after it, logs a
 * wrong PIN that was counted.
 */
struct reward_pin_try {
	uint32_t	brand_id;
	uint64_t	serial, customer_id;
	uint32_t	day;		/* loyalty_day of the try */
	int		right;		/* in: reward_pin_check said 0 */
	int		lock;		/* out: REWARD_OK or the lock */
	int		counted;	/* out: a wrong PIN was counted */
	struct pin_fails pf;		/* out */
};
extern const struct writer_op reward_pin_op;
void reward_pin_tried(const struct reward_pin_try *x);

/*
 * The claim of the code for role by customer_id under camp at now, and
 * the limits the store checks it against; the prize, if the campaign has
 * a draw, drawn here. 0, or SIGIL_ECRYPTO (no randomness).
 */
int reward_claim_make(const struct campaign_rules *camp,
    const struct code_info *info, int role, uint64_t customer_id,
    int64_t now, struct claim *cl, struct claim_limits *lim);

#endif
