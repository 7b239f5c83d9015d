/*
 * redirect.h - a brand's redirect rules: what a rule may say (parsed and
 * checked from the brand API's JSON), whether it holds for a scan, and
 * which rule a genuine scan follows. See src/domain/redirect.c.
 *
 * A rule belongs to a product (sku) or to one batch of it. Its
 * conditions, each optional (an absent one holds), must all hold:
 *   lang    the scan's language, the Accept-Language tag of highest q,
 *           matches one of the rule's BCP 47 tags as a basic range (RFC
 *           4647 §3.3.1: "zh" matches "zh-CN", "zh-CN" not "zh"); no
 *           Accept-Language: no language, the condition does not hold;
 *   wechat  true: the User-Agent carries the MicroMessenger token (the
 *           WeChat in-app browser); false: it does not;
 *   from, until  from <= now < until (RFC 3339 times; either alone);
 *   region  the device's last consented location (the latest
 *           POST /api/v1/scans/{id}/location of that device cookie on a
 *           scan of this brand) lies inside the territory of one of the
 *           named distributors; no location known (a new device, one that
 *           never shared it, one erased), or a distributor without a
 *           territory: the condition does not hold.
 * The rules of the scan's batch are tried before those of its product,
 * each set by priority (lower first), then id; the first rule that holds
 * wins.
 *
 * Who is redirected is the caller's decision (consumer.c): only a
 * genuine scan, recorded first, by a person asking for HTML. Never a
 * counterfeit, revoked, suspicious, inactive or unverified verdict (a
 * redirect must not hide it), never Accept: application/json, and never
 * a bot or link previewer (User-Agent, HEAD, prefetch headers: scan.c's
 * scan_is_bot): a chat preview or a search engine shows the code's own
 * verification page, and fetches nothing of the brand's on the
 * consumer's behalf (the brand's analytics would count a visit nobody
 * made). The rules target people: their language, their browser, their
 * place.
 */
#ifndef SIGIL_REDIRECT_H
#define SIGIL_REDIRECT_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;

#define REDIRECT_PRIORITY_DEFAULT	100
#define REDIRECT_NOTE_MAX		STORE_TEXT_MAX	/* characters */
/* The longest Location: a rule's href and the query passed on. */
#define REDIRECT_URL_MAX		(REDIRECT_HREF_MAX + 2100)

/* What a scan brings to the rules. */
struct redirect_in {
	char		lang[REDIRECT_TAG_MAX + 1];	/* "" unknown */
	int		in_wechat;
	int64_t		now;		/* microseconds since the epoch */
	uint64_t	device;		/* its last location is looked up */
	int		located;	/* 1: lat, lng known (device unused) */
	double		lat, lng;
};

/*
 * in from a request's Accept-Language and User-Agent (either may be
 * NULL), the device cookie's id (0: none) and the time.
 */
void redirect_in_fill(struct redirect_in *in, const char *accept_language,
    const char *user_agent, uint64_t device, int64_t now);

/*
 * The rule (of brand, product sku, batch) the scan in follows: 0 with
 * its href in url, or SIGIL_ENOTFOUND (no rule holds, or the rules could
 * not be read: the scan then shows sigil's page). url must hold
 * REDIRECT_HREF_MAX + 1 bytes (SIGIL_EINVAL for less).
 */
int redirect_pick(struct app *app, uint32_t brand, const char *sku,
    uint64_t batch, const struct redirect_in *in, char *url, size_t size);

/*
 * Whether rule r holds for in; in_region(arg, distributor) says whether
 * the device is known to be inside that distributor's territory.
 */
typedef int (*redirect_region_fn)(void *arg, uint32_t distributor);
int redirect_holds(const struct redirect_rule *r,
    const struct redirect_in *in, redirect_region_fn in_region, void *arg);

/*
 * The Location of a redirect to href from a request whose URI is uri:
 * href with uri's query parameters appended, but for s and linkType
 * (and any holding bytes a URI may not), before href's fragment. 0, or
 * SIGIL_EFULL when it would not fit in size (out is then href alone, if
 * that fits).
 */
int redirect_location(const char *href, const char *uri, char *out,
    size_t size);

/* ---- the pieces, pure (tests/unit/test_redirect.c) ---- */

/* The Accept-Language tag of highest q (first of equals; not "*"), in
 * lower case: 0, or SIGIL_ENOTFOUND (none, or none well-formed). */
int redirect_lang_pick(const char *accept_language, char *out, size_t size);
/* A well-formed BCP 47 language tag (RFC 5646 §2.1, no grandfathered
 * ones), at most REDIRECT_TAG_MAX bytes: 0 with it in out in the
 * conventional case (zh-Hant-TW), or SIGIL_EINVAL. */
int redirect_lang_tag(const char *tag, char *out, size_t size);
/* Basic filtering (RFC 4647 §3.3.1), case-insensitive: 1 or 0. */
int redirect_lang_matches(const char *range, const char *tag);
/* The User-Agent names WeChat's in-app browser (MicroMessenger). */
int redirect_ua_wechat(const char *user_agent);
/*
 * An absolute http or https URL without user info, of printable ASCII
 * that a URI may hold, at most REDIRECT_HREF_MAX bytes: 0 with it in out
 * (scheme and host in lower case), or SIGIL_EINVAL with *why.
 */
int redirect_href_check(const char *href, char *out, size_t size,
    const char **why);
/* An RFC 3339 date-time (any offset): 0 with *out (microseconds, UTC),
 * or SIGIL_EINVAL. */
int redirect_time_parse(const char *s, int64_t *out);

/* ---- the brand API's JSON ---- */

/*
 * A rule from body (a JSON object) for brand: a new one (base NULL:
 * sku and href required) or base changed by the fields body has (a
 * PATCH: `when` and `batch` replace the old ones whole; null removes
 * batch, when or note). Every field is checked, the product, batch and
 * distributors against the store: 0 with *out, or SIGIL_EINVAL with a
 * message naming the field in msg.
 */
int redirect_parse(struct app *app, uint32_t brand,
    const struct json_t *body, const struct redirect_rule *base,
    struct redirect_rule *out, char *msg, size_t msgsize);
/* The API's JSON of r. */
struct json_t *redirect_json(const struct redirect_rule *r);

#endif
