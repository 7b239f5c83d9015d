/*
 * loyalty_util.c - the terms every loyalty module uses: China days, the
 * claim role names, the JSON field checks of the configuration parsers.
 *
 * Owns no state. May call util and jansson. Never calls another loyalty
 * module (they all call it), never knows about HTTP.
 */
#include <string.h>

#include <jansson.h>

#include "sigil/loyalty_util.h"
#include "sigil/util.h"

static const char *const role_names[4] = { NULL, "consumer", "retailer",
    "sales" };

int64_t
loyalty_day(int64_t now)
{
	return (now + CN_OFFSET_US) / US_PER_DAY;
}

int64_t
loyalty_day_start(int64_t now)
{
	return loyalty_day(now) * US_PER_DAY - CN_OFFSET_US;
}

int
loyalty_role_parse(const char *s)
{
	for (int i = 1; i < 4; i++)
		if (s != NULL && strcmp(s, role_names[i]) == 0)
			return i;
	return 0;
}

const char *
loyalty_role_name(int role)
{
	return role > 0 && role < 4 ? role_names[role] : NULL;
}

int
loyalty_int_in(json_t *v, int64_t lo, int64_t hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo &&
	    json_integer_value(v) <= hi;
}

int
loyalty_name_ok(json_t *v, size_t max, const char *field, char *err,
    size_t esize)
{
	struct sigil_text_err te = { .why = -1 };

	if (json_is_string(v) && sigil_text_check(json_string_value(v),
	    json_string_length(v), max, 0, &te) == 0)
		return 1;
	if (err != NULL)
		sigil_text_explain(field, max, 0, &te, err, esize);
	return 0;
}
