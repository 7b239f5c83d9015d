/*
 * gs1_ai.c - GS1 Application Identifiers: which AIs exist, what each
 * value must look like, which are GS1 Digital Link primary keys (and
 * their key qualifiers), and which may appear in a Digital Link's query
 * as data attributes.
 *
 * The table below is written from the GS1 Barcode Syntax Dictionary (the
 * "Specification" and "dlpkey" columns, and its "?" flag for "permitted
 * as a Digital Link data attribute") and the GS1 General Specifications,
 * field by field. A specification is a list of components: a type (N
 * digits, X the AI encodable set 82, Y set 39, Z base64url), a length
 * (fixed "6" or up to "..20"), optional components in brackets, and the
 * checks ("linters") named after a comma. Every check a resolver needs
 * to tell a well-formed value from a malformed one is implemented here
 * in C: GS1 mod-10 check digits, dates (YYMMDD with real month lengths,
 * DD=00 where the dictionary says yymmd0), hours and minutes, piece of
 * total, no zero prefix, the importer index set, yes/no, ISO 5218.
 * Checks that need an external list (ISO 3166 and 4217 codes, the GMN
 * and CPID check pairs, coupon layouts) are syntactic only: the length
 * and character set, never a guess at a list.
 *
 * Pure functions; no state, no I/O. May call libc and util.c only.
 */
#include <stdlib.h>
#include <string.h>

#include "sigil/code.h"
#include "sigil/util.h"

/* Flags of an entry. */
#define ATTR	1	/* may be a Digital Link data attribute (query) */

struct ai_def {
	const char	*lo, *hi;	/* an AI or a range, same length */
	int		flags;
	const char	*spec;
	const char	*dlpkey;	/* NULL: not a primary key; "": no
					   qualifiers; "22,10,21|235" */
};

static const struct ai_def ai_defs[] = {
	{ "00", "00", ATTR, "N18,csum", "" },
	{ "01", "01", ATTR, "N14,csum", "22,10,21|235" },
	{ "02", "02", ATTR, "N14,csum", NULL },
	{ "03", "03", 0, "N14,csum", NULL },
	{ "10", "10", ATTR, "X..20", NULL },
	{ "11", "13", ATTR, "N6,yymmd0", NULL },
	{ "15", "17", ATTR, "N6,yymmd0", NULL },
	{ "20", "20", ATTR, "N2", NULL },
	{ "21", "22", 0, "X..20", NULL },
	{ "235", "235", 0, "X..28", NULL },
	{ "240", "241", ATTR, "X..30", NULL },
	{ "242", "242", ATTR, "N..6", NULL },
	{ "243", "243", ATTR, "X..20", NULL },
	{ "250", "251", ATTR, "X..30", NULL },
	{ "253", "253", ATTR, "N13,csum [X..17]", "" },
	{ "254", "254", 0, "X..20", NULL },
	{ "255", "255", ATTR, "N13,csum [N..12]", "" },
	{ "30", "30", ATTR, "N..8", NULL },
	/* 31nn-36nn: measures, N6; the ranges are checked in measure_ai() */
	{ "37", "37", ATTR, "N..8", NULL },
	{ "3900", "3909", ATTR, "N..15", NULL },
	{ "3910", "3919", ATTR, "N3 N..15", NULL },
	{ "3920", "3929", ATTR, "N..15", NULL },
	{ "3930", "3939", ATTR, "N3 N..15", NULL },
	{ "3940", "3943", ATTR, "N4", NULL },
	{ "3950", "3955", ATTR, "N6", NULL },
	{ "400", "400", ATTR, "X..30", NULL },
	{ "401", "401", ATTR, "X..30", "" },
	{ "402", "402", ATTR, "N17,csum", "" },
	{ "403", "403", ATTR, "X..30", NULL },
	{ "410", "413", ATTR, "N13,csum", NULL },
	{ "414", "414", ATTR, "N13,csum", "254|7040" },
	{ "415", "415", ATTR, "N13,csum", "8020" },
	{ "416", "416", ATTR, "N13,csum", NULL },
	{ "417", "417", ATTR, "N13,csum", "7040" },
	{ "420", "420", ATTR, "X..20", NULL },
	{ "421", "421", ATTR, "N3 X..9", NULL },
	{ "422", "422", ATTR, "N3", NULL },
	{ "423", "423", ATTR, "N3 [N3] [N3] [N3] [N3]", NULL },
	{ "424", "424", ATTR, "N3", NULL },
	{ "425", "425", ATTR, "N3 [N3] [N3] [N3] [N3]", NULL },
	{ "426", "426", ATTR, "N3", NULL },
	{ "427", "427", ATTR, "X..3", NULL },
	{ "4300", "4301", ATTR, "X..35,pcenc", NULL },
	{ "4302", "4306", ATTR, "X..70,pcenc", NULL },
	{ "4307", "4307", ATTR, "X2,alpha2", NULL },
	{ "4308", "4308", ATTR, "X..30", NULL },
	{ "4309", "4309", ATTR, "N10,latitude N10,longitude", NULL },
	{ "4310", "4311", ATTR, "X..35,pcenc", NULL },
	{ "4312", "4316", ATTR, "X..70,pcenc", NULL },
	{ "4317", "4317", ATTR, "X2,alpha2", NULL },
	{ "4318", "4318", ATTR, "X..20", NULL },
	{ "4319", "4319", ATTR, "X..30", NULL },
	{ "4320", "4320", ATTR, "X..35,pcenc", NULL },
	{ "4321", "4323", ATTR, "N1,yesno", NULL },
	{ "4324", "4325", ATTR, "N6,yymmd0 N4,hhmi", NULL },
	{ "4326", "4326", ATTR, "N6,yymmdd", NULL },
	{ "4330", "4333", ATTR, "N6 [X1],hyphen", NULL },
	{ "7001", "7001", ATTR, "N13", NULL },
	{ "7002", "7002", ATTR, "X..30", NULL },
	{ "7003", "7003", ATTR, "N6,yymmdd N4,hhmi", NULL },
	{ "7004", "7004", ATTR, "N..4", NULL },
	{ "7005", "7005", ATTR, "X..12", NULL },
	{ "7006", "7006", ATTR, "N6,yymmdd", NULL },
	{ "7007", "7007", ATTR, "N6,yymmdd [N6],yymmdd", NULL },
	{ "7008", "7008", ATTR, "X..3", NULL },
	{ "7009", "7009", ATTR, "X..10", NULL },
	{ "7010", "7010", ATTR, "X..2", NULL },
	{ "7011", "7011", ATTR, "N6,yymmdd [N4],hhmi", NULL },
	{ "7020", "7022", ATTR, "X..20", NULL },
	{ "7023", "7023", ATTR, "X..30", NULL },
	{ "7030", "7039", ATTR, "N3 X..27", NULL },
	{ "7040", "7040", 0, "N1 X1 X1 X1,importeridx", NULL },
	{ "7041", "7041", 0, "X..4", NULL },
	{ "710", "716", ATTR, "X..20", NULL },
	{ "7230", "7239", ATTR, "X2 X..28", NULL },
	{ "7240", "7240", ATTR, "X..20", NULL },
	{ "7241", "7241", ATTR, "N2", NULL },
	{ "7242", "7242", ATTR, "X..25", NULL },
	{ "7250", "7250", ATTR, "N8,yyyymmdd", NULL },
	{ "7251", "7251", ATTR, "N8,yyyymmdd N4,hhmi", NULL },
	{ "7252", "7252", ATTR, "N1,iso5218", NULL },
	{ "7253", "7254", ATTR, "X..40,pcenc", NULL },
	{ "7255", "7255", ATTR, "X..10", NULL },
	{ "7256", "7256", ATTR, "X..90,pcenc", NULL },
	{ "7257", "7257", ATTR, "X..70,pcenc", NULL },
	{ "7258", "7258", ATTR, "X3", NULL },
	{ "7259", "7259", ATTR, "X..40,pcenc", NULL },
	{ "8001", "8001", ATTR, "N4,nonzero N5,nonzero N3,nonzero N1,winding N1",
	    NULL },
	{ "8002", "8002", ATTR, "X..20", NULL },
	{ "8003", "8003", ATTR, "N1,zero N13,csum [X..16]", "" },
	{ "8004", "8004", ATTR, "X..30", "7040" },
	{ "8005", "8005", ATTR, "N6", NULL },
	{ "8006", "8006", ATTR, "N14,csum N4,pieceoftotal", "22,10,21" },
	{ "8007", "8007", ATTR, "X..34", NULL },
	{ "8008", "8008", ATTR, "N6,yymmdd N2,hh [N2],mi [N2],ss", NULL },
	{ "8009", "8009", ATTR, "X..50", NULL },
	{ "8010", "8010", ATTR, "Y..30", "8011" },
	{ "8011", "8011", 0, "N..12,nozeroprefix", NULL },
	{ "8012", "8012", ATTR, "X..20", NULL },
	{ "8013", "8013", ATTR, "X..25", "" },
	{ "8014", "8014", 0, "X..25", NULL },
	{ "8017", "8018", ATTR, "N18,csum", "8019" },
	{ "8019", "8019", 0, "N..10", NULL },
	{ "8020", "8020", 0, "X..25", NULL },
	{ "8026", "8026", ATTR, "N14,csum N4,pieceoftotal", NULL },
	{ "8030", "8030", ATTR, "Z..90", NULL },
	{ "8110", "8110", ATTR, "X..70", NULL },
	{ "8111", "8111", ATTR, "N4", NULL },
	{ "8112", "8112", ATTR, "X..70", NULL },
	{ "8200", "8200", 0, "X..70", NULL },
	{ "90", "90", ATTR, "X..30", NULL },
	{ "91", "99", ATTR, "X..90", NULL },
};

/* The 31nn..36nn measures: N6, decimal point position 0..5. */
static const struct ai_def measure_def = { "3100", "3695", ATTR, "N6",
    NULL };

static int
measure_ai(const char *ai)
{
	/* The third digits that exist after 31..36 (310-316, 320-329, ...). */
	static const char *const thirds[] = { "0123456", "0123456789",
	    "01234567", "0123456789", "01234567", "0123456789" };

	if (strlen(ai) != 4 || ai[0] != '3' || ai[1] < '1' || ai[1] > '6')
		return 0;
	return strchr(thirds[ai[1] - '1'], ai[2]) != NULL && ai[2] != '\0' &&
	    ai[3] >= '0' && ai[3] <= '5';
}

static int
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static const struct ai_def *
ai_find(const char *ai)
{
	size_t n = strlen(ai);

	if (n < 2 || n > 4 || !all_digits(ai, n))
		return NULL;
	if (measure_ai(ai))
		return &measure_def;
	for (size_t i = 0; i < sizeof ai_defs / sizeof ai_defs[0]; i++) {
		const struct ai_def *d = &ai_defs[i];

		if (strlen(d->lo) == n && strcmp(ai, d->lo) >= 0 &&
		    strcmp(ai, d->hi) <= 0)
			return d;
	}
	return NULL;
}

/* ---- the checks ---- */

/* GS1 mod-10 over n digits, the last one being the check digit. */
static int
csum_ok(const char *s, size_t n)
{
	int sum = 0;

	if (n < 2)
		return 0;
	/* Weight 3 for the digit just before the check digit, then 1, 3... */
	for (size_t i = 0; i + 1 < n; i++)
		sum += (s[i] - '0') * (((n - 1 - i) % 2 == 1) ? 3 : 1);
	return (10 - sum % 10) % 10 == s[n - 1] - '0';
}

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * YYMMDD: month 01..12, day 01..the month's length (00 too when
 * day0 is set: "the last day of the month" in GS1's yymmd0). A two-digit
 * year names a year within 49 years back and 50 forward (GS1 General
 * Specifications 7.12); leap years there are exactly the multiples of 4.
 */
static int
date_ok(int yy, int mm, int dd, int day0)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mm < 1 || mm > 12)
		return 0;
	if (dd == 0)
		return day0;
	if (dd > mdays[mm - 1])
		return 0;
	return !(mm == 2 && dd == 29 && yy % 4 != 0);
}

static int
cset39(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
	    ch == '#' || ch == '-' || ch == '/';
}

static int
cset64(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_';
}

int
code_ai82(unsigned char ch)
{
	return ch >= '!' && ch <= 'z' && strchr("#$@[\\]^`", ch) == NULL;
}

/* One linter on the component s[0..n). */
static int
lint(const char *name, size_t nl, const char *s, size_t n)
{
#define IS(x)	(nl == sizeof(x) - 1 && memcmp(name, x, nl) == 0)
	if (IS("csum"))
		return csum_ok(s, n);
	if (IS("yymmd0") || IS("yymmdd"))
		return n == 6 && date_ok(num2(s), num2(s + 2), num2(s + 4),
		    IS("yymmd0"));
	if (IS("yyyymmdd")) {
		int y = num2(s) * 100 + num2(s + 2);

		return n == 8 && date_ok(y % 4 == 0 && (y % 100 != 0 ||
		    y % 400 == 0) ? 0 : 1, num2(s + 4), num2(s + 6), 0);
	}
	if (IS("hhmi"))
		return n == 4 && num2(s) <= 23 && num2(s + 2) <= 59;
	if (IS("hh"))
		return n == 2 && num2(s) <= 23;
	if (IS("mi") || IS("ss"))
		return n == 2 && num2(s) <= 59;
	if (IS("zero"))
		return n == 1 && s[0] == '0';
	if (IS("nonzero")) {
		for (size_t i = 0; i < n; i++)
			if (s[i] != '0')
				return 1;
		return 0;
	}
	if (IS("yesno"))
		return n == 1 && (s[0] == '0' || s[0] == '1');
	if (IS("winding"))
		return n == 1 && (s[0] == '0' || s[0] == '1' || s[0] == '9');
	if (IS("iso5218"))
		return n == 1 && strchr("0129", s[0]) != NULL;
	if (IS("nozeroprefix"))
		return n == 1 || s[0] != '0';
	if (IS("pieceoftotal"))
		return n == 4 && num2(s) >= 1 && num2(s + 2) >= 1 &&
		    num2(s) <= num2(s + 2);
	if (IS("hyphen"))
		return n == 1 && s[0] == '-';
	if (IS("alpha2"))
		return n == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
		    s[1] <= 'Z';
	if (IS("importeridx"))
		return n == 1 && cset64((unsigned char)s[0]);
	if (IS("latitude"))
		return n == 10 && strncmp(s, "1800000000", 10) <= 0;
	if (IS("longitude"))
		return n == 10 && strncmp(s, "3600000000", 10) <= 0;
	if (IS("pcenc")) {
		for (size_t i = 0; i < n; i++)
			if (s[i] == '%' && (i + 2 >= n ||
			    sigil_hex_digit((unsigned char)s[i + 1]) < 0 ||
			    sigil_hex_digit((unsigned char)s[i + 2]) < 0))
				return 0;
		return 1;
	}
	return 0;
#undef IS
}

/*
 * Checks value against spec: 0 when every mandatory component is there,
 * optional ones take what is left, and nothing remains; SIGIL_EINVAL.
 */
static int
spec_check(const char *spec, const char *value)
{
	const char *p = spec, *v = value;
	size_t left = strlen(value);

	while (*p != '\0') {
		const char *e = p + strcspn(p, " "), *q = p;
		int optional = 0, type;
		size_t min, max, take;

		if (*q == '[') {
			optional = 1;
			q++;
		}
		type = *q++;
		if (q[0] == '.' && q[1] == '.') {
			q += 2;
			min = 1;
		} else
			min = 0;
		max = (size_t)strtoul(q, (char **)&q, 10);
		if (min == 0)
			min = max;
		if (*q == ']')
			q++;
		if (left == 0 && optional)
			return 0;	/* optional ones may all be absent */
		if (left < min)
			return SIGIL_EINVAL;
		take = left < max ? left : max;
		for (size_t i = 0; i < take; i++) {
			unsigned char ch = (unsigned char)v[i];

			if ((type == 'N' && (ch < '0' || ch > '9')) ||
			    (type == 'X' && !code_ai82(ch)) ||
			    (type == 'Y' && !cset39(ch)) ||
			    (type == 'Z' && !cset64(ch) && ch != '='))
				return SIGIL_EINVAL;
		}
		while (*q == ',') {
			const char *ln = q + 1;
			size_t nl = strcspn(ln, ", ");

			if (!lint(ln, nl, v, take))
				return SIGIL_EINVAL;
			q = ln + nl;
		}
		v += take;
		left -= take;
		p = *e == ' ' ? e + 1 : e;
	}
	return left == 0 ? 0 : SIGIL_EINVAL;
}

int
code_ai_check(const char *ai, const char *value, int *flags)
{
	const struct ai_def *d;

	if (ai == NULL || value == NULL || (d = ai_find(ai)) == NULL)
		return SIGIL_ENOTFOUND;
	if (flags != NULL)
		*flags = ((d->flags & ATTR) ? CODE_AI_ATTR : 0) |
		    (d->dlpkey != NULL ? CODE_AI_KEY : 0);
	return spec_check(d->spec, value);
}

const char *
code_ai_qualifiers(const char *ai)
{
	const struct ai_def *d = ai == NULL ? NULL : ai_find(ai);

	return d == NULL ? NULL : d->dlpkey;
}
