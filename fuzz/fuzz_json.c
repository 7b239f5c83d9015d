/*
 * fuzz_json.c - libFuzzer target for the JSON a consumer's browser posts
 * to /api/v1/scans/<id>/location: jansson's json_loadb() with
 * JSON_REJECT_DUPLICATES, then the same field checks handle_location() in
 * src/face/consumer.c makes (its number_in() is static, so the check is
 * restated here; keep the two in step): lat -90..90 and lng -180..180
 * required, accuracy 0..100000 optional, all finite numbers.
 *
 * Properties checked on an accepted body:
 * - lat, lng, accuracy are finite and in range, and the narrowing the
 *   handler then does (float lat/lng, uint16 accuracy clamped at 65535)
 *   is defined behaviour (UBSan would flag an out-of-range conversion);
 * - the object re-serialises and re-parses (with duplicates rejected) to
 *   an equal value, so what we accepted is what jansson means by it;
 * - the parsed keys are unique: JSON_REJECT_DUPLICATES held.
 *
 *	clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_json.c \
 *	    -ljansson -lm -o /tmp/fz && /tmp/fz -dict=fuzz/json.dict \
 *	    -max_total_time=20 fuzz/corpus/json
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define BODY_MAX	65536

/* consumer.c's number_in(), restated: 0 when acceptable, -1 otherwise. */
static int
number_in(json_t *o, const char *key, double lo, double hi, int required,
    double *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return required ? -1 : 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	if (!isfinite(*out) || *out < lo || *out > hi)
		return -1;
	return 0;
}

static void
check_location(json_t *o)
{
	double lat = 0, lng = 0, acc = 0;
	volatile float flat, flng;
	volatile uint16_t uacc;

	if (number_in(o, "lat", -90, 90, 1, &lat) != 0 ||
	    number_in(o, "lng", -180, 180, 1, &lng) != 0 ||
	    number_in(o, "accuracy", 0, 100000, 0, &acc) != 0)
		return;
	if (!(lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 &&
	    acc >= 0 && acc <= 100000))
		abort();
	/* What the handler does next; UBSan checks the conversions. */
	flat = (float)lat;
	flng = (float)lng;
	uacc = (uint16_t)(acc > 65535 ? 65535 : acc);
	if (!isfinite(flat) || !isfinite(flng) || (acc >= 65535 &&
	    uacc != 65535))
		abort();
}

static void
check_roundtrip(json_t *o)
{
	json_error_t err;
	json_t *again;
	char *text;
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach(o, key, v) {
		if (key == NULL || v == NULL)
			abort();
		n++;
	}
	if (n != json_object_size(o))
		abort();
	text = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		return;		/* out of memory, or a NaN jansson refuses */
	again = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &err);
	if (again == NULL || !json_equal(o, again))
		abort();
	json_decref(again);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *o;

	if (size > BODY_MAX)
		return 0;
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL)
		return 0;
	if (json_is_object(o)) {
		check_location(o);
		check_roundtrip(o);
	}
	json_decref(o);
	return 0;
}
