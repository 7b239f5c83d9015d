/*
 * fuzz_segment.c - libFuzzer target for segment criteria (src/domain/
 * segment.c), which every count, saved segment and campaign audience
 * parses from a brand's JSON.
 *
 * The input, as JSON text, goes to segment_parse and, wrapped as
 * {"name": "n", "criteria": input}, to segment_body_parse. Invariants:
 * the two agree; a refusal says why (a NUL-terminated message of some
 * length) and gives no definition; an accepted definition keeps the
 * criteria as given, uses only what they name (segment_uses), and the
 * saved JSON parses again to criteria that are accepted too.
 *
 *	sh fuzz/run.sh 30 segment
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sigil/segment.h"
#include "sigil/util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segment_def *d = NULL, *d2 = NULL;
	char err[512], err2[512], *saved = NULL;
	json_t *j, *body, *back;
	int rc, rc2;

	j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		return 0;
	memset(err, 'x', sizeof err);
	err[sizeof err - 1] = '\0';
	rc = segment_parse(j, &d, err, sizeof err);
	if (rc == 0) {
		unsigned u = segment_uses(d);

		if (d == NULL || !json_equal((json_t *)segment_criteria(d), j))
			abort();
		if ((u & SEG_USES_CONSENT) && !json_object_get(j, "consent"))
			abort();
		if ((u & SEG_USES_CLAIMS) && !json_object_get(j,
		    "products_claimed") && !json_object_get(j,
		    "campaigns_claimed"))
			abort();
		if (json_object_size(j) == 0 && u != 0)
			abort();
	} else {
		if (d != NULL || (rc != SIGIL_EINVAL && rc != SIGIL_ENOMEM) ||
		    strlen(err) < 10 || strlen(err) >= sizeof err)
			abort();
	}
	body = json_pack("{s:s,s:O}", "name", "n", "criteria", j);
	rc2 = segment_body_parse(body, &saved, err2, sizeof err2);
	/* the same verdict, but for a saved JSON too large to keep */
	if (rc != 0 && rc2 == 0)
		abort();
	if (rc == 0 && rc2 != 0 && rc2 != SIGIL_ENOMEM &&
	    strstr(err2, "too large") == NULL)
		abort();
	if (rc == 0 && rc2 == 0) {
		back = json_loads(saved, 0, NULL);
		if (back == NULL || segment_parse(json_object_get(back,
		    "criteria"), &d2, err2, sizeof err2) != 0)
			abort();
		json_decref(back);
	}
	free(saved);
	segment_def_free(d);
	segment_def_free(d2);
	json_decref(body);
	json_decref(j);
	return 0;
}
