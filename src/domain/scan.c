/*
 * scan.c - what a scan means.
 *
 * Owns the verdict rules of SPEC §4 and the two small signed tokens a
 * phone carries: the device cookie (an anonymous identity, so distinct
 * scanners can be counted without knowing anyone) and the public scan id
 * (so only the page that got a scan id can attach a location to it).
 *
 * scan_judge() runs inside the writer's transaction for every scan, so it
 * is pure and cheap: no allocation, no I/O, no locks. The order of checks
 * matters: bots are decided first and never touch per-code state, then
 * final verdicts (revoked, inactive) are recorded as they are, then a
 * human scan of a valid code updates the state and the clone signals
 * make the code suspicious, stickily: once a label has been cloned every
 * later scan of it is suspicious too.
 *
 * Who is a new scanner and which scan is the first are the store's pure
 * state rules (store_state_scanner, store_state_first), shared with the
 * log replay so the two cannot drift; the judge decides what they mean.
 *
 * May call util.c, OpenSSL and those pure rules; never the store's I/O,
 * never the network.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigil/code.h"
#include "sigil/scan.h"
#include "sigil/util.h"

const char *
scan_verdict_name(int verdict)
{
	switch (verdict) {
	case VERDICT_GENUINE:		return "genuine";
	case VERDICT_SUSPICIOUS:	return "suspicious";
	case VERDICT_REVOKED:		return "revoked";
	case VERDICT_INACTIVE:		return "inactive";
	case VERDICT_UNVERIFIED:	return "unverified";
	}
	return "counterfeit";
}

/* Lower-case substrings of User-Agents that are not a person looking. */
static const char *const bot_agents[] = {
	"bot", "crawler", "spider", "slurp", "preview", "facebookexternalhit",
	"whatsapp", "telegram", "skypeuripreview", "discord", "slack",
	"embedly", "curl/", "wget/", "python-requests", "go-http-client",
	"headlesschrome", "lighthouse", "pingdom", "uptime", "monitor",
	"feedfetcher", "mediapartners", "bingpreview", "yahoo! slurp",
	"baiduspider", "bytespider", "sogou", "360spider", "yisouspider",
	"linkchecker", "scrapy", "httpclient", "okhttp", "java/",
};

int
scan_is_bot(int is_head, const char *ua, const char *purpose)
{
	char low[512];
	size_t i;

	if (is_head)
		return 1;
	if (purpose != NULL && (strcasestr(purpose, "prefetch") != NULL ||
	    strcasestr(purpose, "preview") != NULL ||
	    strcasestr(purpose, "prerender") != NULL))
		return 1;
	if (ua == NULL || ua[0] == '\0')
		return 1;
	for (i = 0; ua[i] != '\0' && i < sizeof low - 1; i++)
		low[i] = (char)((ua[i] >= 'A' && ua[i] <= 'Z') ?
		    ua[i] - 'A' + 'a' : ua[i]);
	low[i] = '\0';
	/*
	 * WeChat's in-app browser says "MicroMessenger" and is a person; its
	 * server-side link fetcher for chat previews does not run scripts
	 * and identifies itself with "WeChat-Preview"-style agents caught by
	 * "preview" above.
	 */
	for (i = 0; i < sizeof bot_agents / sizeof bot_agents[0]; i++)
		if (strstr(low, bot_agents[i]) != NULL)
			return 1;
	return 0;
}

double
scan_distance_km(double lat1, double lng1, double lat2, double lng2)
{
	const double r = 6371.0088, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);

	return 2 * r * asin(sqrt(a < 1 ? a : 1));
}

static void
judge_travel(struct scan_rec *rec, struct code_state *state)
{
	double km, hours, slack;

	if (state->last_loc_at != 0) {
		km = scan_distance_km(state->last_lat, state->last_lng,
		    rec->lat, rec->lng);
		hours = (double)llabs(rec->at - state->last_loc_at) / 3.6e9;
		slack = SCAN_TRAVEL_SLACK_KM + rec->accuracy_m / 1000.0;
		if (km > slack && (km - slack) > SCAN_MAX_SPEED_KMH * hours) {
			state->flags |= SCAN_CLONE_TRAVEL;
			rec->flags |= SCAN_CLONE_TRAVEL;
		}
	}
	if (rec->at >= state->last_loc_at) {
		state->last_loc_at = rec->at;
		state->last_lat = rec->lat;
		state->last_lng = rec->lng;
	}
}

/*
 * Distinct scanners beyond max_scanners are clone evidence only when
 * they came from SCAN_NETS_MIN networks or more: one person in one shop
 * (or one script on one line) can make any number of devices, cookies
 * or not, but copies of a label sold in many places are scanned from
 * many networks. Who counts as a new scanner is store_state_scanner's
 * rule (cookie-less requests from one /24 or /64 within a day are one).
 */
static void
judge_scanner(struct scan_rec *rec, struct code_state *state,
    uint32_t max_scanners)
{
	int added = store_state_scanner(state, rec);

	/*
	 * The list holds STORE_SCANNERS_MAX devices, so thresholds are capped
	 * below that (sigil product add takes 1..15): once it is full, every
	 * new scanner is one more than any threshold allows.
	 */
	if (added != 0 && (state->n_scanners > max_scanners || added == 2) &&
	    state->n_nets >= SCAN_NETS_MIN) {
		state->flags |= SCAN_CLONE_SCANNERS;
		rec->flags |= SCAN_CLONE_SCANNERS;
	}
}

void
scan_judge(struct scan_rec *rec, struct code_state *state,
    uint32_t max_scanners, int fresh)
{
	if (rec->flags & SCAN_BOT) {
		state->bot_count++;
		if (rec->verdict == VERDICT_GENUINE &&
		    (state->flags & (SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL |
		    SCAN_CLAIMED_OTHER)))
			rec->verdict = VERDICT_SUSPICIOUS;
		return;
	}
	/* Fresh scans arrive GENUINE; a located old one may be SUSPICIOUS. */
	if (rec->verdict != VERDICT_GENUINE &&
	    rec->verdict != VERDICT_SUSPICIOUS)
		return;
	if (fresh) {
		state->scan_count++;
		if (store_state_first(state, rec))
			rec->flags |= SCAN_FIRST;
		judge_scanner(rec, state, max_scanners);
	}
	if (rec->flags & SCAN_HAS_LOC)
		judge_travel(rec, state);
	/* Set by the scan handler: a claimed label in a stranger's hand. */
	if (fresh && (rec->flags & SCAN_CLAIMED_OTHER))
		state->flags |= SCAN_CLAIMED_OTHER;
	if (state->flags & (SCAN_CLONE_SCANNERS | SCAN_CLONE_TRAVEL |
	    SCAN_CLAIMED_OTHER))
		rec->verdict = VERDICT_SUSPICIOUS;
}

/*
 * The first 8 bytes of HMAC-SHA256(key, label || v). Each thread keeps the
 * midstates of the last key it saw (sigild has one cookie key), so a MAC
 * costs two SHA-256 compressions instead of a fetch through OpenSSL's
 * provider tables, which took as long as the rest of the page.
 */
static uint64_t
mac64(const uint8_t key[32], const char *label, uint64_t v)
{
	static _Thread_local struct {
		uint8_t		 key[32];
		struct code_hmac hk;
		int		 ready;
	} last;
	uint8_t msg[32], md[32];
	size_t n = strlen(label);

	if (!last.ready || sigil_memeq_ct(last.key, key, 32) != 0) {
		if (code_hmac_init(key, &last.hk) != 0)
			abort();	/* SHA-256 itself failed */
		memcpy(last.key, key, 32);
		last.ready = 1;
	}
	memcpy(msg, label, n);
	sigil_be64_put(msg + n, v);
	code_hmac(&last.hk, msg, n + 8, md);
	return sigil_be64_get(md);
}

static int
hex64_parse(const char *s, uint64_t *out)
{
	uint8_t b[8];

	if (sigil_hex_decode(s, 8, b) != 0)
		return SIGIL_EINVAL;
	*out = sigil_be64_get(b);
	return 0;
}

/*
 * A device cookie and a scan id are the same thing under two labels: a
 * 64-bit id and the first 64 bits of its MAC, in hex, with sep ("." or
 * "") between them.
 */
static void
tagged_format(const uint8_t key[32], const char *label, const char *sep,
    uint64_t id, char *out, size_t size)
{
	snprintf(out, size, "%016llx%s%016llx", (unsigned long long)id, sep,
	    (unsigned long long)mac64(key, label, id));
}

/* The id of a tagged_format string whose MAC verifies; SIGIL_EFORGED. */
static int
tagged_parse(const uint8_t key[32], const char *label, const char *sep,
    const char *s, uint64_t *out)
{
	size_t seplen = strlen(sep);
	uint64_t id, mac;
	uint8_t a[8], b[8];

	if (s == NULL || strlen(s) != 32 + seplen ||
	    memcmp(s + 16, sep, seplen) != 0 || hex64_parse(s, &id) != 0 ||
	    hex64_parse(s + 16 + seplen, &mac) != 0 || id == 0)
		return SIGIL_EFORGED;
	sigil_be64_put(a, mac);
	sigil_be64_put(b, mac64(key, label, id));
	if (sigil_memeq_ct(a, b, 8) != 0)
		return SIGIL_EFORGED;
	*out = id;
	return 0;
}

void
scan_cookie_make(const uint8_t key[32], uint64_t device,
    char out[SCAN_COOKIE_LEN + 1])
{
	tagged_format(key, "sigil/cookie/v1", ".", device, out,
	    SCAN_COOKIE_LEN + 1);
}

int
scan_cookie_check(const uint8_t key[32], const char *value, uint64_t *device)
{
	return tagged_parse(key, "sigil/cookie/v1", ".", value, device);
}

void
scan_id_format(const uint8_t key[32], uint64_t id, char out[SCAN_ID_LEN + 1])
{
	tagged_format(key, "sigil/scan-id/v1", "", id, out, SCAN_ID_LEN + 1);
}

int
scan_id_parse(const uint8_t key[32], const char *s, uint64_t *id)
{
	return tagged_parse(key, "sigil/scan-id/v1", "", s, id);
}

/* The Luhn digit that makes digits[0..n) plus it pass the check. */
static int
luhn_digit(const char *digits, size_t n)
{
	int sum = 0, dbl = 1;

	for (size_t i = n; i-- > 0; dbl = !dbl) {
		int d = digits[i] - '0';

		if (dbl && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	return (10 - sum % 10) % 10;
}

void
scan_check_format(uint64_t id, char out[SCAN_CHECK_LEN + 1])
{
	int n = snprintf(out, SCAN_CHECK_LEN + 1, "%llu",
	    (unsigned long long)id);

	snprintf(out + n, (size_t)(SCAN_CHECK_LEN + 1 - n), "-%d",
	    luhn_digit(out, (size_t)n));
}

int
scan_check_parse(const char *s, uint64_t *id)
{
	char digits[21];
	size_t n = 0;
	int check = -1;
	uint64_t v = 0;

	if (s == NULL)
		return SIGIL_EINVAL;
	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (*s == '-' && check < 0 && n > 0) {
			check = 10;	/* the digit comes next */
			continue;
		}
		if (*s < '0' || *s > '9')
			return SIGIL_EINVAL;
		if (check == 10)
			check = *s - '0';
		else if (check >= 0 || n == sizeof digits - 1)
			return SIGIL_EINVAL;
		else {
			if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
				return SIGIL_EINVAL;
			v = v * 10 + (uint64_t)(*s - '0');
			digits[n++] = *s;
		}
	}
	if (n == 0 || check < 0 || check > 9 || v == 0 ||
	    luhn_digit(digits, n) != check)
		return SIGIL_EINVAL;
	*id = v;
	return 0;
}
