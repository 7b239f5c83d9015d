/*
 * fuzz_cash.c - libFuzzer target for the cash parts of a campaign
 * (src/domain/cash.c), which a brand's JSON reaches through the
 * campaign API.
 *
 * The input, as JSON text, goes to cash_prize_parse and
 * cash_config_parse, and into a whole campaign as a prize's "cash" and
 * as the campaign's "cash" (loyalty_campaign_check). Invariants: a
 * refusal says why; an accepted prize has CASH_FEN_MIN <= min <= max <=
 * PAYOUT_FEN_MAX, its parameters inside, and its draws (a seeded
 * generator) never leave [min, max] and have a chance above zero; an
 * accepted configuration has a budget; a campaign accepted is accepted
 * again in its canonical form, unchanged.
 *
 *	sh fuzz/run.sh 30 cash
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/campaign.h"
#include "sigil/cash.h"
#include "sigil/util.h"

static void
prize_check(json_t *j)
{
	struct cash_prize p;
	struct cash_rng r;
	char err[320] = "";

	if (cash_prize_parse(j, &p, err, sizeof err) != 0) {
		if (strlen(err) < 10)
			abort();
		return;
	}
	if (p.min < CASH_FEN_MIN || p.min > p.max || p.max > PAYOUT_FEN_MAX ||
	    p.dist < CASH_FIXED || p.dist > CASH_NORMAL)
		abort();
	if (p.dist == CASH_TRIANGULAR && (p.mode < p.min || p.mode > p.max))
		abort();
	if (p.dist == CASH_NORMAL && (p.mean < p.min || p.mean > p.max ||
	    p.sd < 1 || p.sd > p.max - p.min))
		abort();
	cash_rng_seed(&r, (uint64_t)p.min * 31 + (uint64_t)p.max);
	for (int i = 0; i < 64; i++) {
		int64_t v = cash_prize_draw(&p, &r);

		if (v < p.min || v > p.max || !(cash_prize_p(&p, v) > 0))
			abort();
	}
}

static void
campaign_check(json_t *prize_cash, json_t *cash)
{
	json_t *o = json_pack("{s:s,s:[s],s:s,s:s,s:i}", "name", "c", "skus",
	    "W1", "starts", "2026-01-01", "ends", "2026-12-31", "points", 1);
	char err[320], err2[320], *text, *canon = NULL, *again = NULL;

	if (o == NULL)
		return;
	if (prize_cash != NULL)
		json_object_set_new(o, "draw", json_pack("[{s:s,s:f,s:i,s:O}]",
		    "name", "red", "odds", 0.5, "stock", 10, "cash",
		    prize_cash));
	if (cash != NULL)
		json_object_set(o, "cash", cash);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return;
	if (loyalty_campaign_check(text, &canon, err, sizeof err) == 0) {
		if (loyalty_campaign_check(canon, &again, err2,
		    sizeof err2) != 0 || strcmp(canon, again) != 0)
			abort();
	} else if (strlen(err) < 10)
		abort();
	free(again);
	free(canon);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cash_config c;
	char err[320] = "";
	json_t *j, *budget;

	j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		return 0;
	prize_check(j);
	if (cash_config_parse(j, &c, err, sizeof err) == 0) {
		if (c.budget_fen <= 0 || c.hold_score > 100)
			abort();
	} else if (strlen(err) < 10)
		abort();
	budget = json_pack("{s:i}", "budget_fen", 100000);
	campaign_check(j, budget);
	campaign_check(NULL, j);
	json_decref(budget);
	json_decref(j);
	return 0;
}
