/*
 * epcis_query.c - the EPCIS 2.0 REST binding's query parameters, read:
 * times, business steps and event types, and the paging token.
 *
 * Pure logic: may call libc, OpenSSL's HMAC and util.c; never the store
 * or HTTP (src/face/api_epcis.c reads the request and walks the store).
 *
 * Written from the binding (GS1 EPCIS 2.0, REST Bindings/openapi.yaml:
 * parameters EQ_bizStep, EQ_disposition, EQ_action and eventType,
 * pipeDelimited; GE_/LT_eventTime and GE_/LT_recordTime, "format":
 * "date-time"; NextPageToken, opaque) and CBV 2.0's lists of business
 * steps (§7.1) and dispositions (§7.2).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "sigil/epcis_query.h"
#include "sigil/util.h"

int
epcis_time_parse(const char *s, int64_t *out)
{
	char buf[48];
	size_t n;

	/* A '+' before the offset arrives as ' ' from a form-decoded
	 * query string. */
	if (s == NULL || (n = strlen(s)) >= sizeof buf)
		return SIGIL_EINVAL;
	memcpy(buf, s, n + 1);
	if (n > 20 && buf[n - 6] == ' ')
		buf[n - 6] = '+';
	return sigil_time_parse_rfc3339(buf, out);
}

/* ---- business steps and event types ---- */

/* CBV 2.0 §7.1: every standard business step. */
static const char *const cbv_steps[] = {
	"accepting", "arriving", "assembling", "collecting", "commissioning",
	"consigning", "creating_class_instance", "cycle_counting",
	"decommissioning", "departing", "destroying", "disassembling",
	"dispensing", "encoding", "entering_exiting", "holding", "inspecting",
	"installing", "killing", "loading", "other", "packing", "picking",
	"receiving", "removing", "repackaging", "repairing", "replacing",
	"reserving", "retail_selling", "sampling", "sensor_reporting",
	"shipping", "staging_outbound", "stock_taking", "stocking", "storing",
	"transporting", "unloading", "unpacking", "void_shipping",
};

/* The steps sigil's events carry (epcis.c's mapping). */
static const struct {
	const char	*step;
	int		 type;
} own_steps[] = {
	{ "commissioning", EVENT_COMMISSION }, { "packing", EVENT_AGGREGATE },
	{ "unpacking", EVENT_DISAGGREGATE }, { "shipping", EVENT_SHIP },
	{ "receiving", EVENT_RECEIVE }, { "inspecting", EVENT_SCAN },
	{ "decommissioning", EVENT_DECOMMISSION },
};

/* CBV 2.0 §7.2: every standard disposition. */
static const char *const cbv_dispositions[] = {
	"active", "available", "completeness_inferred", "completeness_verified",
	"conformant", "container_closed", "container_open", "damaged",
	"destroyed", "dispensed", "disposed", "encoded", "expired",
	"in_progress", "in_transit", "inactive", "mismatch_class",
	"mismatch_instance", "mismatch_quantity", "needs_replacement",
	"no_pedigree_match", "non_conformant", "non_sellable_other",
	"partially_dispensed", "recalled", "reserved", "retail_sold",
	"returned", "sellable_accessible", "sellable_not_accessible", "stolen",
	"unavailable", "unknown",
};

/* The dispositions and actions sigil's events carry (epcis.c). */
static const struct {
	const char	*word;
	unsigned	 mask;
} own_dispositions[] = {
	{ "active", EPCIS_TYPE_BIT(EVENT_COMMISSION) |
	    EPCIS_TYPE_BIT(EVENT_SCAN) },
	{ "in_progress", EPCIS_TYPE_BIT(EVENT_AGGREGATE) |
	    EPCIS_TYPE_BIT(EVENT_DISAGGREGATE) | EPCIS_TYPE_BIT(EVENT_RECEIVE) },
	{ "in_transit", EPCIS_TYPE_BIT(EVENT_SHIP) },
	{ "inactive", EPCIS_TYPE_BIT(EVENT_DECOMMISSION) },
}, own_actions[] = {
	{ "ADD", EPCIS_TYPE_BIT(EVENT_COMMISSION) |
	    EPCIS_TYPE_BIT(EVENT_AGGREGATE) },
	{ "OBSERVE", EPCIS_TYPE_BIT(EVENT_SHIP) | EPCIS_TYPE_BIT(EVENT_RECEIVE) |
	    EPCIS_TYPE_BIT(EVENT_SCAN) },
	{ "DELETE", EPCIS_TYPE_BIT(EVENT_DISAGGREGATE) |
	    EPCIS_TYPE_BIT(EVENT_DECOMMISSION) },
};

/* An absolute URI: scheme ":" at least one printable non-space byte. */
static int
is_uri(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') ||
	    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
	    s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i == n || s[i] != ':' || i + 1 == n)
		return 0;
	for (i++; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    strchr("\"<>\\^`{|}", s[i]))
			return 0;
	return 1;
}

/* One step (s, n bytes): 0 with *mask |= its types, or SIGIL_EINVAL. */
static int
one_step(const char *s, size_t n, unsigned *mask)
{
	static const char *const prefixes[] = {
		"https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:",
	};
	const char *w = s;
	size_t wn = n, i;
	int cbv = 1;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t pl = strlen(prefixes[i]);

		if (n >= pl && memcmp(s, prefixes[i], pl) == 0) {
			w = s + pl;
			wn = n - pl;
			break;
		}
	}
	if (i == sizeof prefixes / sizeof prefixes[0] && memchr(s, ':', n))
		cbv = 0;
	if (!cbv)
		return is_uri(s, n) ? 0 : SIGIL_EINVAL;
	for (i = 0; i < sizeof cbv_steps / sizeof cbv_steps[0]; i++)
		if (strlen(cbv_steps[i]) == wn && memcmp(cbv_steps[i], w, wn) == 0)
			break;
	if (i == sizeof cbv_steps / sizeof cbv_steps[0])
		return SIGIL_EINVAL;
	for (i = 0; i < sizeof own_steps / sizeof own_steps[0]; i++)
		if (strlen(own_steps[i].step) == wn &&
		    memcmp(own_steps[i].step, w, wn) == 0)
			*mask |= EPCIS_TYPE_BIT(own_steps[i].type);
	return 0;
}

static int
one_disposition(const char *s, size_t n, unsigned *mask)
{
	static const char *const prefixes[] = {
		"https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:",
	};
	const char *w = s;
	size_t wn = n, i;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t pl = strlen(prefixes[i]);

		if (n >= pl && memcmp(s, prefixes[i], pl) == 0) {
			w = s + pl;
			wn = n - pl;
			break;
		}
	}
	if (i == sizeof prefixes / sizeof prefixes[0] && memchr(s, ':', n))
		return is_uri(s, n) ? 0 : SIGIL_EINVAL;
	for (i = 0; i < sizeof cbv_dispositions / sizeof cbv_dispositions[0];
	    i++)
		if (strlen(cbv_dispositions[i]) == wn &&
		    memcmp(cbv_dispositions[i], w, wn) == 0)
			break;
	if (i == sizeof cbv_dispositions / sizeof cbv_dispositions[0])
		return SIGIL_EINVAL;
	for (i = 0; i < sizeof own_dispositions / sizeof own_dispositions[0];
	    i++)
		if (strlen(own_dispositions[i].word) == wn &&
		    memcmp(own_dispositions[i].word, w, wn) == 0)
			*mask |= own_dispositions[i].mask;
	return 0;
}

static int
one_action(const char *s, size_t n, unsigned *mask)
{
	for (size_t i = 0; i < sizeof own_actions / sizeof own_actions[0]; i++)
		if (strlen(own_actions[i].word) == n &&
		    memcmp(own_actions[i].word, s, n) == 0) {
			*mask |= own_actions[i].mask;
			return 0;
		}
	return SIGIL_EINVAL;
}

static int
one_type(const char *s, size_t n, unsigned *mask)
{
	static const struct {
		const char	*name;
		unsigned	 mask;
	} types[] = {
		{ "ObjectEvent", EPCIS_TYPE_BIT(EVENT_COMMISSION) |
		    EPCIS_TYPE_BIT(EVENT_SHIP) | EPCIS_TYPE_BIT(EVENT_RECEIVE) |
		    EPCIS_TYPE_BIT(EVENT_SCAN) |
		    EPCIS_TYPE_BIT(EVENT_DECOMMISSION) },
		{ "AggregationEvent", EPCIS_TYPE_BIT(EVENT_AGGREGATE) |
		    EPCIS_TYPE_BIT(EVENT_DISAGGREGATE) },
		{ "TransactionEvent", 0 }, { "TransformationEvent", 0 },
		{ "AssociationEvent", 0 },
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == n &&
		    memcmp(types[i].name, s, n) == 0) {
			*mask |= types[i].mask;
			return 0;
		}
	return is_uri(s, n) ? 0 : SIGIL_EINVAL;
}

static int
each_item(const char *list, int (*fn)(const char *, size_t, unsigned *),
    unsigned *mask)
{
	unsigned m = 0;
	const char *p, *bar;
	int err;

	if (list == NULL)
		return SIGIL_EINVAL;
	for (p = list;; p = bar + 1) {
		bar = strchr(p, '|');
		if ((err = fn(p, bar ? (size_t)(bar - p) : strlen(p), &m)))
			return err;
		if (bar == NULL)
			break;
	}
	*mask = m;
	return 0;
}

int
epcis_biz_steps(const char *list, unsigned *mask)
{
	return each_item(list, one_step, mask);
}

int
epcis_event_types(const char *list, unsigned *mask)
{
	return each_item(list, one_type, mask);
}

int
epcis_actions(const char *list, unsigned *mask)
{
	return each_item(list, one_action, mask);
}

int
epcis_dispositions(const char *list, unsigned *mask)
{
	return each_item(list, one_disposition, mask);
}

/* ---- the paging token ---- */

#define TOKEN_VERSION	1
#define TOKEN_BYTES	33	/* version, two cursors, 16 bytes of MAC */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
epcis_token_key(const uint8_t *inst, uint8_t key[EPCIS_TOKEN_KEY_LEN])
{
	static const char label[] = "sigil/epcis/page-token/v1";
	uint8_t in[sizeof label + STORE_INSTALL_ID_LEN];

	memcpy(in, label, sizeof label);
	memcpy(in + sizeof label, inst, STORE_INSTALL_ID_LEN);
	SHA256(in, sizeof in, key);
}

/* HMAC-SHA-256(key, head[17] || SHA-256(bind)), its first 16 bytes. */
static void
token_mac(const uint8_t key[EPCIS_TOKEN_KEY_LEN], const char *bind,
    const uint8_t *head, uint8_t mac[16])
{
	uint8_t buf[17 + SHA256_DIGEST_LENGTH], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	memcpy(buf, head, 17);
	SHA256((const uint8_t *)bind, strlen(bind), buf + 17);
	HMAC(EVP_sha256(), key, EPCIS_TOKEN_KEY_LEN, buf, sizeof buf, md,
	    &mdlen);
	memcpy(mac, md, 16);
}

void
epcis_token_make(const uint8_t key[EPCIS_TOKEN_KEY_LEN], const char *bind,
    const struct epcis_cursor *c, char out[EPCIS_TOKEN_LEN + 1])
{
	uint8_t raw[TOKEN_BYTES];
	size_t o = 0;

	raw[0] = TOKEN_VERSION;
	sigil_be64_put(raw + 1, c->last_event);
	sigil_be64_put(raw + 9, c->last_scan);
	token_mac(key, bind, raw, raw + 17);
	for (size_t i = 0; i < TOKEN_BYTES; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

int
epcis_token_read(const uint8_t key[EPCIS_TOKEN_KEY_LEN], const char *bind,
    const char *token, struct epcis_cursor *out)
{
	uint8_t raw[TOKEN_BYTES], mac[16];
	size_t o = 0;

	if (token == NULL || strlen(token) != EPCIS_TOKEN_LEN)
		return SIGIL_EINVAL;
	for (size_t i = 0; i < EPCIS_TOKEN_LEN; i += 4) {
		uint32_t v = 0;

		for (size_t j = 0; j < 4; j++) {
			const char *c = token[i + j] ? strchr(b64url,
			    token[i + j]) : NULL;

			if (c == NULL)
				return SIGIL_EINVAL;
			v = v << 6 | (uint32_t)(c - b64url);
		}
		raw[o++] = (uint8_t)(v >> 16);
		raw[o++] = (uint8_t)(v >> 8);
		raw[o++] = (uint8_t)v;
	}
	if (raw[0] != TOKEN_VERSION)
		return SIGIL_EINVAL;
	token_mac(key, bind, raw, mac);
	if (CRYPTO_memcmp(mac, raw + 17, 16) != 0)
		return SIGIL_EINVAL;
	out->last_event = sigil_be64_get(raw + 1);
	out->last_scan = sigil_be64_get(raw + 9);
	return 0;
}
