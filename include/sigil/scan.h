/*
 * scan.h - judging a scan: verdicts, bots, clone signals, the device
 * cookie and the public scan id. Pure functions over values: nothing here
 * does I/O, so the writer can call scan_judge() inside its transaction.
 */
#ifndef SIGIL_SCAN_H
#define SIGIL_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

#define SCAN_MAX_SPEED_KMH	1000.0	/* faster than any airliner */
#define SCAN_TRAVEL_SLACK_KM	50.0	/* ignore jitter below this */
#define SCAN_COOKIE_NAME	"sg_d"
#define SCAN_COOKIE_LEN		33	/* 16 hex id '.' 16 hex mac */
#define SCAN_ID_LEN		32	/* 16 hex id, 16 hex mac */
#define SCAN_NETS_MIN		3	/* networks before scanners are a clone */

/* "genuine", "suspicious", ... for enum scan_verdict; "counterfeit" else. */
const char *scan_verdict_name(int verdict);

/*
 * 1 when the request is a link previewer, crawler or prefetch rather than
 * a person: HEAD, a Purpose/Sec-Purpose/X-Purpose/X-Moz prefetch header,
 * or a User-Agent naming a known bot or previewer (WeChat's own in-app
 * browser is a person; its link-preview fetcher is not). ua and the
 * prefetch headers may be NULL.
 */
int scan_is_bot(int is_head, const char *ua, const char *purpose);

/*
 * The judgement, called inside the commit with the code's current state.
 * rec->verdict arrives as VERDICT_GENUINE (a valid, active code) or as a
 * final verdict (REVOKED/INACTIVE) that only gets recorded. Human scans
 * of valid codes update count, first scan, distinct scanners and the last
 * place (store_state_first, store_state_scanner); a code becomes (and
 * stays) suspicious when distinct scanners exceed max_scanners and came
 * from SCAN_NETS_MIN networks or more, or two located scans imply travel
 * faster than SCAN_MAX_SPEED_KMH. Bots change nothing but the bot count. fresh is 1
 * for a new scan and 0 when a location arrives for a logged one (then
 * only the travel check runs).
 */
void scan_judge(struct scan_rec *rec, struct code_state *state,
    uint32_t max_scanners, int fresh);

/* Great-circle distance in km. */
double scan_distance_km(double lat1, double lng1, double lat2, double lng2);

/*
 * Device cookie: "<16 hex id>.<16 hex HMAC>" under the server's cookie
 * key. scan_cookie_check() returns 0 and sets *device for an authentic
 * value, SIGIL_EFORGED otherwise (anything malformed included).
 */
void scan_cookie_make(const uint8_t key[32], uint64_t device,
    char out[SCAN_COOKIE_LEN + 1]);
int scan_cookie_check(const uint8_t key[32], const char *value,
    uint64_t *device);

/*
 * Public scan id: the log id and a MAC, so ids cannot be guessed to post
 * locations for other people's scans. scan_id_parse: 0 or SIGIL_EFORGED.
 */
void scan_id_format(const uint8_t key[32], uint64_t id,
    char out[SCAN_ID_LEN + 1]);
int scan_id_parse(const uint8_t key[32], const char *s, uint64_t *id);

/*
 * The check id a person reads out to the brand's support line: the scan's
 * log id in decimal, "-", and a Luhn check digit over it ("1234-7"), so
 * that a digit misheard or two swapped is caught. It names a scan, and
 * proves nothing: the brand finds the scan with it (GET
 * /api/v1/codes/{check id}), within its own scans only.
 * scan_check_parse takes the same with spaces anywhere; 0 or
 * SIGIL_EINVAL (not that form, a wrong check digit, or id 0).
 */
#define SCAN_CHECK_LEN		22	/* 20 digits, "-", the check digit */
void scan_check_format(uint64_t id, char out[SCAN_CHECK_LEN + 1]);
int scan_check_parse(const char *s, uint64_t *id);

#endif
