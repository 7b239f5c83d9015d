/*
 * test_epcis.c - every trace event type rendered as EPCIS 2.0 and checked
 * field by field; deterministic event IDs; hostile callbacks, times and
 * base URLs; document wrappers; and the whole output run through the
 * standard-derived validator tests/lib/epcis_check.py, which must accept
 * it and reject a broken copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#include "sigil/epcis.h"
#include "sigil/util.h"

#define BASE	"https://acme.example"
#define T0	INT64_C(1795420862345000)	/* 2026-11-23T08:01:02.345Z */

static const char *checker;	/* path of epcis_check.py */

/* What the fake callbacks do, so tests can turn them hostile. */
static struct fake {
	int		fail;		/* returned by the callbacks when set */
	const char	*literal;	/* written instead of a real URI */
	int		no_nul;		/* fill the buffer with no terminator */
	uint64_t	count;
	uint64_t	fail_serial;	/* SIGIL_EIO for this serial only */
	int		calls;
} fake;

/* Even serials have a GTIN (Digital Link), odd ones a compact URL. */
static int
code_uri(void *arg, uint32_t brand_id, uint64_t serial, char *buf, size_t cap)
{
	assert_ptr_equal(arg, &fake);
	fake.calls++;
	if (fake.fail)
		return fake.fail;
	if (fake.fail_serial && serial == fake.fail_serial)
		return SIGIL_EIO;
	if (fake.no_nul) {
		memset(buf, 'a', cap);
		return 0;
	}
	if (fake.literal) {
		snprintf(buf, cap, "%s", fake.literal);
		return 0;
	}
	if (serial % 2 == 0)
		snprintf(buf, cap, BASE "/01/09506000134352/21/%u-%llu",
		    (unsigned)brand_id, (unsigned long long)serial);
	else
		snprintf(buf, cap, BASE "/S/C%llX",
		    (unsigned long long)serial);
	return 0;
}

static int
batch_class(void *arg, uint32_t brand_id, uint64_t batch_id, char *buf,
    size_t cap, uint64_t *count)
{
	(void)brand_id;
	assert_ptr_equal(arg, &fake);
	if (fake.fail)
		return fake.fail;
	if (fake.literal) {
		snprintf(buf, cap, "%s", fake.literal);
		return 0;
	}
	snprintf(buf, cap, BASE "/01/09506000134352/10/LOT%llu",
	    (unsigned long long)batch_id);
	*count = fake.count;
	return 0;
}

/* Two installations' ids (store.h: 16 random bytes each). */
static const uint8_t INST[STORE_INSTALL_ID_LEN] = {
	0x5e, 0x11, 0x90, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
};
static const uint8_t INST2[STORE_INSTALL_ID_LEN] = {
	0x5e, 0x11, 0x90, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0e,
};

static const struct epcis_ctx ctx = {
	.base_url = BASE "/",
	.code_uri = code_uri,
	.batch_class = batch_class,
	.arg = &fake,
	.installation = INST,
};

static uint64_t kids[] = { 10, 11, 12 };

static struct trace_event
event_of(int type)
{
	struct trace_event ev = {
		.id = 40 + (uint64_t)type, .type = type, .brand_id = 7,
		.at = T0,
	};

	switch (type) {
	case EVENT_COMMISSION:
	case EVENT_DECOMMISSION:
		ev.batch_id = 5;
		break;
	case EVENT_AGGREGATE:
	case EVENT_DISAGGREGATE:
		ev.parent = 3;
		ev.n = 3;
		ev.serials = kids;
		break;
	case EVENT_SHIP:
	case EVENT_RECEIVE:
		ev.distributor = 9;
		ev.shipment = 77;
		ev.n = 2;
		ev.serials = kids;
		break;
	case EVENT_SCAN:
		ev.scan_id = 1234;
		ev.n = 1;
		ev.serials = kids;
		break;
	}
	return ev;
}

static int
setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof fake);
	fake.count = 1000;
	return 0;
}

static json_t *
render(int type)
{
	struct trace_event ev = event_of(type);
	json_t *out = NULL;

	assert_int_equal(epcis_event_json(&ctx, &ev, &out), 0);
	assert_non_null(out);
	return out;
}

static const char *
str_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

/* The fields every rendered event shares. */
static void
check_common(json_t *e, const char *type, const char *action,
    const char *step, const char *disp)
{
	const char *id;

	assert_string_equal(str_at(e, "type"), type);
	assert_string_equal(str_at(e, "action"), action);
	assert_string_equal(str_at(e, "bizStep"), step);
	assert_string_equal(str_at(e, "disposition"), disp);
	assert_string_equal(str_at(e, "eventTime"), "2026-11-23T08:01:02.345Z");
	/* sigil records each event as it happens: one instant (epcis.h). */
	assert_string_equal(str_at(e, "recordTime"),
	    "2026-11-23T08:01:02.345Z");
	assert_string_equal(str_at(e, "eventTimeZoneOffset"), "+00:00");
	id = str_at(e, "eventID");
	assert_int_equal(strlen(id), EPCIS_EVENT_ID_LEN);
	assert_memory_equal(id, "urn:uuid:", 9);
	assert_int_equal(id[9 + 14], '8');	/* UUID version 8 */
	assert_non_null(strchr("89ab", id[9 + 19]));	/* RFC variant */
	assert_null(json_object_get(e, "@context"));
}

static void
check_place(json_t *e, const char *key, const char *uri)
{
	json_t *p = json_object_get(e, key);

	assert_true(json_is_object(p));
	assert_int_equal(json_object_size(p), 1);
	assert_string_equal(str_at(p, "id"), uri);
}

static void
check_strings(json_t *arr, const char *const *want, size_t n)
{
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(arr, i)),
		    want[i]);
}

static const char *const kid_uris[] = {
	BASE "/01/09506000134352/21/7-10", BASE "/S/CB",
	BASE "/01/09506000134352/21/7-12",
};

static void
test_commission(void **state)
{
	json_t *e = render(EVENT_COMMISSION), *q;

	(void)state;
	check_common(e, "ObjectEvent", "ADD", "commissioning", "active");
	q = json_object_get(e, "quantityList");
	assert_int_equal(json_array_size(q), 1);
	q = json_array_get(q, 0);
	assert_string_equal(str_at(q, "epcClass"),
	    BASE "/01/09506000134352/10/LOT5");
	assert_int_equal(json_integer_value(json_object_get(q, "quantity")),
	    1000);
	assert_null(json_object_get(e, "epcList"));
	check_place(e, "readPoint", BASE "/");
	json_decref(e);
}

static void
test_decommission(void **state)
{
	json_t *e = render(EVENT_DECOMMISSION);

	(void)state;
	check_common(e, "ObjectEvent", "DELETE", "decommissioning", "inactive");
	assert_int_equal(json_array_size(json_object_get(e, "quantityList")),
	    1);
	json_decref(e);
}

static void
test_aggregate(void **state)
{
	json_t *e = render(EVENT_AGGREGATE);

	(void)state;
	check_common(e, "AggregationEvent", "ADD", "packing", "in_progress");
	assert_string_equal(str_at(e, "parentID"), BASE "/S/C3");
	check_strings(json_object_get(e, "childEPCs"), kid_uris, 3);
	json_decref(e);
}

static void
test_disaggregate(void **state)
{
	struct trace_event ev = event_of(EVENT_DISAGGREGATE);
	json_t *e = render(EVENT_DISAGGREGATE);

	(void)state;
	check_common(e, "AggregationEvent", "DELETE", "unpacking",
	    "in_progress");
	assert_string_equal(str_at(e, "parentID"), BASE "/S/C3");
	check_strings(json_object_get(e, "childEPCs"), kid_uris, 3);
	json_decref(e);

	/* No children named: every child is unpacked (EPCIS DELETE rule). */
	ev.n = 0;
	ev.serials = NULL;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
	assert_int_equal(json_array_size(json_object_get(e, "childEPCs")), 0);
	assert_string_equal(str_at(e, "parentID"), BASE "/S/C3");
	json_decref(e);
}

static void
test_ship(void **state)
{
	json_t *e = render(EVENT_SHIP), *d, *t, *s;

	(void)state;
	check_common(e, "ObjectEvent", "OBSERVE", "shipping", "in_transit");
	check_strings(json_object_get(e, "epcList"), kid_uris, 2);
	check_place(e, "readPoint", BASE "/");
	d = json_array_get(json_object_get(e, "destinationList"), 0);
	assert_string_equal(str_at(d, "type"), "owning_party");
	assert_string_equal(str_at(d, "destination"),
	    BASE "/api/v1/distributors/9");
	s = json_array_get(json_object_get(e, "sourceList"), 0);
	assert_string_equal(str_at(s, "type"), "owning_party");
	assert_string_equal(str_at(s, "source"), BASE "/");
	t = json_object_get(e, "bizTransactionList");
	assert_int_equal(json_array_size(t), 1);
	t = json_array_get(t, 0);
	assert_string_equal(str_at(t, "type"), "desadv");
	assert_string_equal(str_at(t, "bizTransaction"),
	    BASE "/api/v1/shipments/77");
	json_decref(e);
}

static void
test_receive(void **state)
{
	json_t *e = render(EVENT_RECEIVE), *t;

	(void)state;
	check_common(e, "ObjectEvent", "OBSERVE", "receiving", "in_progress");
	check_place(e, "readPoint", BASE "/api/v1/distributors/9");
	check_place(e, "bizLocation", BASE "/api/v1/distributors/9");
	assert_null(json_object_get(e, "destinationList"));
	t = json_array_get(json_object_get(e, "bizTransactionList"), 0);
	assert_string_equal(str_at(t, "bizTransaction"),
	    BASE "/api/v1/shipments/77");
	json_decref(e);
}

static void
test_scan(void **state)
{
	json_t *e = render(EVENT_SCAN);

	(void)state;
	check_common(e, "ObjectEvent", "OBSERVE", "inspecting", "active");
	check_strings(json_object_get(e, "epcList"), kid_uris, 1);
	/* The consumer's place is private: no readPoint, no bizLocation. */
	assert_null(json_object_get(e, "readPoint"));
	assert_null(json_object_get(e, "bizLocation"));
	json_decref(e);
}

static void
test_event_id(void **state)
{
	char a[EPCIS_EVENT_ID_LEN + 1], b[EPCIS_EVENT_ID_LEN + 1];
	struct trace_event ev = event_of(EVENT_SCAN);
	json_t *e;

	(void)state;
	epcis_event_id(INST, 7, 40 + EVENT_SCAN, a);
	epcis_event_id(INST, 7, 40 + EVENT_SCAN, b);
	assert_string_equal(a, b);
	e = render(EVENT_SCAN);
	assert_string_equal(str_at(e, "eventID"), a);
	json_decref(e);
	/* Another type, same id: still the same event, same ID. */
	ev.type = EVENT_RECEIVE;
	ev.distributor = 1;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
	assert_string_equal(str_at(e, "eventID"), a);
	json_decref(e);
	epcis_event_id(INST, 8, 40 + EVENT_SCAN, b);
	assert_string_not_equal(a, b);
	epcis_event_id(INST, 7, 41 + EVENT_SCAN, b);
	assert_string_not_equal(a, b);
	/* Another installation, the same brand and event: another id. */
	epcis_event_id(INST2, 7, 40 + EVENT_SCAN, b);
	assert_string_not_equal(a, b);
	{
		struct epcis_ctx c2 = ctx;

		c2.installation = INST2;
		assert_int_equal(epcis_event_json(&c2, &ev, &e), 0);
		assert_string_equal(str_at(e, "eventID"), b);
		json_decref(e);
		/* No installation: refused, never a shared id. */
		c2.installation = NULL;
		e = NULL;
		assert_int_equal(epcis_event_json(&c2, &ev, &e), SIGIL_EINVAL);
		assert_null(e);
	}
	epcis_event_id(INST, 0, 0, b);
	assert_int_equal(strlen(b), EPCIS_EVENT_ID_LEN);
	assert_int_equal(b[9 + 8], '-');
	assert_int_equal(b[9 + 13], '-');
	assert_int_equal(b[9 + 18], '-');
	assert_int_equal(b[9 + 23], '-');
}

/* A distributor with a GLN: 9 has one, every other none. */
static int
dist_gln(void *arg, uint32_t brand_id, uint32_t distributor, char gln[14])
{
	(void)brand_id;
	assert_ptr_equal(arg, &fake);
	if (fake.literal) {
		snprintf(gln, 14, "%s", fake.literal);
		return 0;
	}
	if (distributor != 9)
		return SIGIL_ENOTFOUND;
	memcpy(gln, "9520123456788", 14);	/* GS1 Digital Link's example */
	return 0;
}

static void
test_gln_places(void **state)
{
	struct epcis_ctx c = ctx;
	struct trace_event ev = event_of(EVENT_SHIP);
	json_t *e, *d;

	(void)state;
	c.distributor_gln = dist_gln;
	assert_int_equal(epcis_event_json(&c, &ev, &e), 0);
	d = json_object_get(e, "destinationList");
	assert_int_equal(json_array_size(d), 2);
	assert_string_equal(str_at(json_array_get(d, 0), "type"),
	    "owning_party");
	assert_string_equal(str_at(json_array_get(d, 1), "type"), "location");
	assert_string_equal(str_at(json_array_get(d, 1), "destination"),
	    "https://id.gs1.org/414/9520123456788");
	json_decref(e);
	ev = event_of(EVENT_RECEIVE);
	assert_int_equal(epcis_event_json(&c, &ev, &e), 0);
	check_place(e, "readPoint", "https://id.gs1.org/414/9520123456788");
	check_place(e, "bizLocation", "https://id.gs1.org/414/9520123456788");
	json_decref(e);
	/* Without a GLN: as before. */
	ev.distributor = 4;
	assert_int_equal(epcis_event_json(&c, &ev, &e), 0);
	check_place(e, "bizLocation", BASE "/api/v1/distributors/4");
	json_decref(e);
	/* A callback that hands back a bad GLN fails the render. */
	fake.literal = "9520123456789";
	ev.distributor = 9;
	e = NULL;
	assert_int_equal(epcis_event_json(&c, &ev, &e), SIGIL_EINVAL);
	assert_null(e);
}

static void
test_gs1_keys(void **state)
{
	char sscc[19];

	(void)state;
	assert_true(epcis_gln_ok("9520123456788"));
	assert_true(epcis_gln_ok("0614141000005"));
	assert_false(epcis_gln_ok("9520123456787"));	/* check digit */
	assert_false(epcis_gln_ok("952012345678"));	/* 12 digits */
	assert_false(epcis_gln_ok("95201234567880"));
	assert_false(epcis_gln_ok("952012345678a"));
	assert_false(epcis_gln_ok(""));
	assert_false(epcis_gln_ok(NULL));
	assert_true(epcis_gcp_ok("614141"));
	assert_true(epcis_gcp_ok("061414112345"));
	assert_false(epcis_gcp_ok("61414"));
	assert_false(epcis_gcp_ok("0614141123456"));
	assert_false(epcis_gcp_ok("06141a1"));
	assert_false(epcis_gcp_ok(NULL));
	/* GS1 General Specifications' example SSCC: (00) 1 0614141 ... 7. */
	assert_int_equal(epcis_sscc("0614141", 1123456789, sscc), 0);
	assert_string_equal(sscc, "106141411234567897");
	assert_true(epcis_gs1_check_ok(sscc, 18));
	/* A small serial: extension digit 0, serial reference padded. */
	assert_int_equal(epcis_sscc("0614141", 521, sscc), 0);
	assert_memory_equal(sscc, "00614141000000521", 17);
	assert_true(epcis_gs1_check_ok(sscc, 18));
	/* 12-digit prefix: 5 digits left, so 99999 fits and 100000 not. */
	assert_int_equal(epcis_sscc("061414112345", 99999, sscc), 0);
	assert_memory_equal(sscc, "90614141123459999", 17);
	assert_int_equal(epcis_sscc("061414112345", 100000, sscc),
	    SIGIL_EINVAL);
	assert_int_equal(epcis_sscc("0614141", 0, sscc), SIGIL_EINVAL);
	assert_int_equal(epcis_sscc("12345", 1, sscc), SIGIL_EINVAL);
	assert_int_equal(epcis_sscc(NULL, 1, sscc), SIGIL_EINVAL);
}

static void
test_time_bounds(void **state)
{
	struct trace_event ev = event_of(EVENT_SCAN);
	json_t *e = NULL;

	(void)state;
	ev.at = 0;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
	assert_string_equal(str_at(e, "eventTime"), "1970-01-01T00:00:00.000Z");
	json_decref(e);
	ev.at = INT64_C(253402300799999999);
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
	assert_string_equal(str_at(e, "eventTime"), "9999-12-31T23:59:59.999Z");
	json_decref(e);
	e = NULL;
	ev.at = -1;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);
	ev.at = INT64_C(253402300800000000);
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);
	ev.at = INT64_MAX;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);
	ev.at = INT64_MIN;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);
	assert_null(e);
}

static void
test_bad_input(void **state)
{
	struct trace_event ev = event_of(EVENT_AGGREGATE);
	struct epcis_ctx c = ctx;
	json_t *e = NULL;

	(void)state;
	assert_int_equal(epcis_event_json(NULL, &ev, &e), SIGIL_EINVAL);
	assert_int_equal(epcis_event_json(&ctx, NULL, &e), SIGIL_EINVAL);
	assert_int_equal(epcis_event_json(&ctx, &ev, NULL), SIGIL_EINVAL);
	for (int t = -1; t < 10; t++) {
		if (t >= EVENT_COMMISSION && t <= EVENT_DECOMMISSION)
			continue;
		ev.type = t;
		assert_int_equal(epcis_event_json(&ctx, &ev, &e),
		    SIGIL_EINVAL);
	}
	ev = event_of(EVENT_AGGREGATE);
	ev.n = 0;		/* packing nothing */
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);
	ev = event_of(EVENT_SHIP);
	ev.n = 0;		/* shipping nothing */
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);
	ev.n = 5;		/* a count with no array */
	ev.serials = NULL;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EINVAL);

	ev = event_of(EVENT_COMMISSION);
	c.batch_class = NULL;
	assert_int_equal(epcis_event_json(&c, &ev, &e), SIGIL_EINVAL);
	c = ctx;
	c.code_uri = NULL;
	assert_int_equal(epcis_event_json(&c, &ev, &e), SIGIL_EINVAL);

	static const char *const bad_bases[] = {
		NULL, "", "acme.example", "https://acme example",
		"https://acme.example/\"x", "https://acme.example/%zz",
		"1http://acme.example", "https:", "https://a\x7f",
		"https://\xe4\xb8\xad.example",
	};
	ev = event_of(EVENT_SHIP);
	for (size_t i = 0; i < sizeof bad_bases / sizeof *bad_bases; i++) {
		c = ctx;
		c.base_url = bad_bases[i];
		assert_int_equal(epcis_event_json(&c, &ev, &e), SIGIL_EINVAL);
	}
	/* A base URL too long to leave room for a shipment path. */
	{
		char longbase[EPCIS_URI_MAX];

		memset(longbase, 'a', sizeof longbase - 1);
		memcpy(longbase, "https://", 8);
		longbase[sizeof longbase - 1] = '\0';
		c = ctx;
		c.base_url = longbase;
		assert_int_equal(epcis_event_json(&c, &ev, &e), SIGIL_EINVAL);
		/* Fits alone, not with "/api/v1/distributors/9" after it. */
		longbase[500] = '\0';
		assert_int_equal(epcis_event_json(&c, &ev, &e), SIGIL_EINVAL);
		longbase[480] = '\0';
		assert_int_equal(epcis_event_json(&c, &ev, &e), 0);
		json_decref(e);
		e = NULL;
	}
	assert_null(e);
}

static void
test_hostile_callbacks(void **state)
{
	static const char *const bad[] = {
		"", "no-scheme/S/ABC", "https://acme.example/S/A B",
		"https://acme.example/S/<script>", "javascript", "S/ABC",
		"https://acme.example/\n", "https://acme.example/%4",
	};
	json_t *e = NULL;

	(void)state;
	for (int t = EVENT_COMMISSION; t <= EVENT_DECOMMISSION; t++) {
		struct trace_event ev = event_of(t);

		/* Every type asks a callback; its error comes back as is. */
		fake.fail = SIGIL_ENOTFOUND;
		assert_int_equal(epcis_event_json(&ctx, &ev, &e),
		    SIGIL_ENOTFOUND);
		fake.fail = 0;
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			fake.literal = bad[i];
			assert_int_equal(epcis_event_json(&ctx, &ev, &e),
			    SIGIL_EINVAL);
		}
		fake.literal = NULL;
		if (t != EVENT_COMMISSION && t != EVENT_DECOMMISSION) {
			fake.no_nul = 1;
			assert_int_equal(epcis_event_json(&ctx, &ev, &e),
			    SIGIL_EINVAL);
			fake.no_nul = 0;
		}
	}
	assert_null(e);

	/* A batch too large for a JSON number to carry exactly. */
	{
		struct trace_event ev = event_of(EVENT_COMMISSION);

		fake.count = (UINT64_C(1) << 53) + 1;
		assert_int_equal(epcis_event_json(&ctx, &ev, &e),
		    SIGIL_EINVAL);
		fake.count = UINT64_C(1) << 53;
		assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
		json_decref(e);
	}
}

/* A failure halfway through a long child list leaks nothing (ASan). */
static void
test_failure_midway(void **state)
{
	enum { N = 1000 };
	uint64_t *many = malloc(N * sizeof *many);
	struct trace_event ev = event_of(EVENT_AGGREGATE);
	json_t *e = NULL;

	(void)state;
	assert_non_null(many);
	for (size_t i = 0; i < N; i++)
		many[i] = 100 + i;
	ev.serials = many;
	ev.n = N;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
	assert_int_equal(json_array_size(json_object_get(e, "childEPCs")), N);
	json_decref(e);
	e = NULL;
	fake.calls = 0;
	fake.fail_serial = many[N - 2];
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), SIGIL_EIO);
	assert_int_equal(fake.calls, N);	/* the parent, N - 1 children */
	assert_null(e);
	free(many);
}

static json_t *
all_events(void)
{
	json_t *list = json_array();

	assert_non_null(list);
	for (int t = EVENT_COMMISSION; t <= EVENT_DECOMMISSION; t++)
		assert_int_equal(json_array_append_new(list, render(t)), 0);
	return list;
}

static void
test_document(void **state)
{
	json_t *doc = NULL, *c, *body, *list;

	(void)state;
	assert_int_equal(epcis_document(EPCIS_DOC_QUERY, all_events(), T0,
	    &doc), 0);
	c = json_object_get(doc, "@context");
	assert_true(json_is_array(c));
	assert_string_equal(json_string_value(json_array_get(c, 0)),
	    EPCIS_CONTEXT);
	assert_string_equal(str_at(doc, "type"), "EPCISQueryDocument");
	assert_string_equal(str_at(doc, "schemaVersion"), "2.0");
	assert_string_equal(str_at(doc, "creationDate"),
	    "2026-11-23T08:01:02.345Z");
	body = json_object_get(json_object_get(doc, "epcisBody"),
	    "queryResults");
	assert_string_equal(str_at(body, "queryName"), "SimpleEventQuery");
	list = json_object_get(json_object_get(body, "resultsBody"),
	    "eventList");
	assert_int_equal(json_array_size(list), 7);
	json_decref(doc);

	assert_int_equal(epcis_document(EPCIS_DOC_CAPTURE, json_array(), 0,
	    &doc), 0);
	assert_string_equal(str_at(doc, "type"), "EPCISDocument");
	list = json_object_get(json_object_get(doc, "epcisBody"), "eventList");
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(doc);

	/* Ownership passes even on failure: ASan's leak check holds us to it. */
	doc = NULL;
	assert_int_equal(epcis_document(0, json_array(), T0, &doc),
	    SIGIL_EINVAL);
	assert_int_equal(epcis_document(EPCIS_DOC_QUERY, json_object(), T0,
	    &doc), SIGIL_EINVAL);
	assert_int_equal(epcis_document(EPCIS_DOC_QUERY, NULL, T0, &doc),
	    SIGIL_EINVAL);
	assert_int_equal(epcis_document(EPCIS_DOC_QUERY, json_array(), -1,
	    &doc), SIGIL_EINVAL);
	assert_int_equal(epcis_document(EPCIS_DOC_QUERY, json_array(), T0,
	    NULL), SIGIL_EINVAL);
	assert_null(doc);
}

/* Runs the validator on doc; returns its exit status. */
static int
validate(json_t *doc, const char *name)
{
	char path[256], cmd[1024];
	int rc;

	snprintf(path, sizeof path, "%s/sigil-epcis-%ld-%s.json",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(), name);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2)), 0);
	snprintf(cmd, sizeof cmd, "python3 '%s' '%s' >&2", checker, path);
	rc = system(cmd);
	unlink(path);
	assert_true(rc != -1 && WIFEXITED(rc));
	return WEXITSTATUS(rc);
}

static void
test_validator_accepts(void **state)
{
	json_t *doc = NULL, *events = all_events();
	struct trace_event ev = event_of(EVENT_DISAGGREGATE);
	json_t *e;

	(void)state;
	ev.n = 0;	/* unpack-all form */
	ev.serials = NULL;
	ev.id = 99;
	assert_int_equal(epcis_event_json(&ctx, &ev, &e), 0);
	assert_int_equal(json_array_append_new(events, e), 0);
	assert_int_equal(epcis_document(EPCIS_DOC_QUERY, json_deep_copy(events),
	    T0, &doc), 0);
	assert_int_equal(validate(doc, "query"), 0);
	/* SIGIL_EPCIS_SAMPLE=FILE keeps the sample for people to read. */
	if (getenv("SIGIL_EPCIS_SAMPLE"))
		assert_int_equal(json_dump_file(doc,
		    getenv("SIGIL_EPCIS_SAMPLE"), JSON_INDENT(2)), 0);
	json_decref(doc);
	assert_int_equal(epcis_document(EPCIS_DOC_CAPTURE, events, T0, &doc),
	    0);
	assert_int_equal(validate(doc, "capture"), 0);
	json_decref(doc);
}

/* The same checker must reject our output once it is broken. */
static void
test_validator_rejects(void **state)
{
	static const char *const drop[] = {
		"eventTime", "eventTimeZoneOffset", "action", "parentID",
	};
	json_t *doc = NULL, *list, *e;

	(void)state;
	for (size_t i = 0; i < sizeof drop / sizeof *drop; i++) {
		assert_int_equal(epcis_document(EPCIS_DOC_CAPTURE,
		    all_events(), T0, &doc), 0);
		list = json_object_get(json_object_get(doc, "epcisBody"),
		    "eventList");
		e = json_array_get(list, EVENT_AGGREGATE - 1);
		assert_int_equal(json_object_del(e, drop[i]), 0);
		assert_int_equal(validate(doc, drop[i]), 1);
		json_decref(doc);
	}
	assert_int_equal(epcis_document(EPCIS_DOC_CAPTURE, all_events(), T0,
	    &doc), 0);
	list = json_object_get(json_object_get(doc, "epcisBody"), "eventList");
	json_object_set_new(json_array_get(list, 0), "bizStep",
	    json_string("consumer_scan"));
	assert_int_equal(validate(doc, "bizstep"), 1);
	json_decref(doc);
}

static void
test_validator_self_test(void **state)
{
	char cmd[512];
	int rc;

	(void)state;
	snprintf(cmd, sizeof cmd, "python3 '%s' --self-test >/dev/null",
	    checker);
	rc = system(cmd);
	assert_true(rc != -1 && WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
}

/* tests/lib/epcis_check.py from the repository root, or from argv[0]. */
static const char *
find_checker(const char *argv0)
{
	static char path[1024];
	const char *slash = strrchr(argv0, '/');

	if (access("tests/lib/epcis_check.py", R_OK) == 0)
		return "tests/lib/epcis_check.py";
	/* build/<mode>/tests/test_epcis -> ../../../tests/lib */
	if (slash && snprintf(path, sizeof path,
	    "%.*s/../../../tests/lib/epcis_check.py", (int)(slash - argv0),
	    argv0) < (int)sizeof path && access(path, R_OK) == 0)
		return path;
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_commission, setup),
		cmocka_unit_test_setup(test_decommission, setup),
		cmocka_unit_test_setup(test_aggregate, setup),
		cmocka_unit_test_setup(test_disaggregate, setup),
		cmocka_unit_test_setup(test_ship, setup),
		cmocka_unit_test_setup(test_receive, setup),
		cmocka_unit_test_setup(test_scan, setup),
		cmocka_unit_test_setup(test_event_id, setup),
		cmocka_unit_test_setup(test_gln_places, setup),
		cmocka_unit_test_setup(test_gs1_keys, setup),
		cmocka_unit_test_setup(test_time_bounds, setup),
		cmocka_unit_test_setup(test_bad_input, setup),
		cmocka_unit_test_setup(test_hostile_callbacks, setup),
		cmocka_unit_test_setup(test_failure_midway, setup),
		cmocka_unit_test_setup(test_document, setup),
		cmocka_unit_test_setup(test_validator_accepts, setup),
		cmocka_unit_test_setup(test_validator_rejects, setup),
		cmocka_unit_test_setup(test_validator_self_test, setup),
	};

	(void)argc;
	if (!(checker = find_checker(argv[0]))) {
		fprintf(stderr, "test_epcis: tests/lib/epcis_check.py not "
		    "found (run from the repository root)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("epcis", tests, NULL, NULL);
}
