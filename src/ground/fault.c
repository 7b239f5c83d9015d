/*
 * fault.c - named fault points for test builds (see fault.h).
 *
 * Why run-time arming instead of one build per fault: the interesting
 * property is recovery, so a test must be able to break one commit on a
 * server that has been serving, watch it answer 503, then watch the next
 * commit succeed without a restart. Arming from the environment covers
 * faults that must fire during start-up; POST /debug/faults covers the
 * rest.
 *
 * State is a small fixed table (one entry per known point) under one
 * mutex: fault_hit() runs on the event loop and on the writer thread, and
 * a test build has no reason to be clever about contention. Probability
 * mode uses its own xorshift generator, seeded from SIGIL_FAULT_SEED when
 * set (so a failing run can be replayed) and from the clock otherwise; it
 * must not touch rand(), whose state other code may rely on.
 *
 * A malformed spec changes nothing: it is parsed into a copy of the table
 * which replaces the live one only when every item was valid.
 *
 * In a build without SIGIL_FAULT_INJECTION this file compiles to nothing
 * and fault.h turns fault_hit() into the constant 0.
 *
 * Owns the table of points, its lock and its generator. May call libc
 * and pthreads only, since any layer may call it (the store's commits,
 * the log, the scrub; the debug endpoint arms it). Must never fire in a
 * build without the flag, nor fire a point nobody armed.
 */
#include "sigil/fault.h"

#ifdef SIGIL_FAULT_INJECTION
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigil/util.h"

static const char *const point_names[] = {
	"map_full", "commit", "fsync", "alloc_request", "wal_write", "wal_ckpt",
	"scrub", "audit",
};
#define NPOINTS (sizeof point_names / sizeof point_names[0])

struct point {
	uint64_t	checked, injected;
	uint32_t	remaining;
	double		probability;
};

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static struct point points[NPOINTS];
static uint64_t rng_state;

static int
point_index(const char *name, size_t len)
{
	for (size_t i = 0; i < NPOINTS; i++)
		if (strlen(point_names[i]) == len &&
		    memcmp(point_names[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* Parses "p0.25" (0 <= p <= 1). */
static int
parse_probability(const char *s, size_t len, double *out)
{
	char buf[32], *end;
	double p;

	if (len < 2 || len >= sizeof buf || s[0] != 'p')
		return SIGIL_EINVAL;
	memcpy(buf, s + 1, len - 1);
	buf[len - 1] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return SIGIL_EINVAL;
	p = strtod(buf, &end);
	if (*end != '\0' || !(p >= 0.0 && p <= 1.0))
		return SIGIL_EINVAL;
	*out = p;
	return 0;
}

/* Applies one "name:N" / "name:pP" item to table t. */
static int
parse_item(const char *s, size_t len, struct point *t)
{
	const char *colon = memchr(s, ':', len);
	char num[16];
	uint64_t n;
	double p;
	int i;

	if (colon == NULL)
		return SIGIL_EINVAL;
	if ((i = point_index(s, (size_t)(colon - s))) < 0)
		return SIGIL_EINVAL;
	len -= (size_t)(colon - s) + 1;
	s = colon + 1;
	if (len > 0 && s[0] == 'p') {
		if (parse_probability(s, len, &p) != 0)
			return SIGIL_EINVAL;
		t[i].probability = p;
		t[i].remaining = 0;
		return 0;
	}
	if (len == 0 || len >= sizeof num)
		return SIGIL_EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	if (sigil_parse_u64(num, UINT32_MAX, &n) != 0)
		return SIGIL_EINVAL;
	t[i].remaining = (uint32_t)n;
	t[i].probability = 0.0;
	return 0;
}

static int
arm_locked(const char *spec)
{
	struct point t[NPOINTS];
	const char *p = spec, *e;
	size_t len;

	memcpy(t, points, sizeof t);
	if (strcmp(spec, "off") == 0) {
		for (size_t i = 0; i < NPOINTS; i++) {
			t[i].remaining = 0;
			t[i].probability = 0.0;
		}
		memcpy(points, t, sizeof t);
		return 0;
	}
	while (*p != '\0') {
		while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ",\n");
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r' ||
		    p[len - 1] == '\t'))
			len--;
		if (parse_item(p, len, t) != 0)
			return SIGIL_EINVAL;
		p = *e != '\0' ? e + 1 : e;
	}
	memcpy(points, t, sizeof t);
	return 0;
}

/* A constructor: it runs once, before main() and any thread, and a
 * malformed $SIGIL_FAULTS stops the program at start-up rather than at its
 * first write. */
__attribute__((constructor)) static void
fault_init(void)
{
	const char *spec = getenv("SIGIL_FAULTS");
	const char *seed = getenv("SIGIL_FAULT_SEED");
	uint64_t s = 0;

	if (seed == NULL || sigil_parse_u64(seed, UINT64_MAX, &s) != 0)
		s = (uint64_t)time(NULL) ^ (uint64_t)clock();
	rng_state = s ? s : 0x9e3779b97f4a7c15ULL;
	if (spec != NULL && arm_locked(spec) != 0) {
		fprintf(stderr, "SIGIL_FAULTS: malformed spec \"%s\"\n", spec);
		abort();	/* a test that meant to arm faults must not pass */
	}
}

/* xorshift64*: plenty for "fail about one time in ten". */
static double
rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

int
fault_hit(const char *point)
{
	int i = point_index(point, strlen(point)), hit = 0;
	struct point *pt;

	if (i < 0)
		abort();	/* a fault point the table does not know */
	pthread_mutex_lock(&fault_lock);
	pt = &points[i];
	pt->checked++;
	if (pt->remaining > 0) {
		pt->remaining--;
		hit = 1;
	} else if (pt->probability > 0.0 && rng_next() < pt->probability) {
		hit = 1;
	}
	if (hit)
		pt->injected++;
	pthread_mutex_unlock(&fault_lock);
	return hit;
}

int
fault_arm(const char *spec)
{
	int rc;

	pthread_mutex_lock(&fault_lock);
	rc = arm_locked(spec);
	pthread_mutex_unlock(&fault_lock);
	return rc;
}

size_t
fault_counts(struct fault_count *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&fault_lock);
	for (; n < NPOINTS && n < max; n++) {
		out[n].point = point_names[n];
		out[n].checked = points[n].checked;
		out[n].injected = points[n].injected;
		out[n].remaining = points[n].remaining;
		out[n].probability = points[n].probability;
	}
	pthread_mutex_unlock(&fault_lock);
	return n;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int fault_disabled;
#endif
