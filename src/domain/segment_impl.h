/*
 * segment_impl.h - what segment.c and segment_eval.c share: the parsed
 * criteria and the evaluation context (the claim and scan facts
 * gathered per customer, the region cache). Nothing else includes it.
 */
#ifndef SIGIL_SEGMENT_IMPL_H
#define SIGIL_SEGMENT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sigil/store.h"

struct seg_texts {
	char	**v;
	size_t	n;
};

enum { SEGD_AFTER = 1, SEGD_BEFORE = 2, SEGD_PMIN = 4, SEGD_PMAX = 8 };

struct segment_def {
	json_t		*criteria;	/* as given */
	unsigned	has;		/* SEGD_* */
	struct seg_texts tier, province, city, country, tags, scanned, claimed;
	unsigned	rfm;		/* bit i: rfm_names[i] */
	unsigned	genders;	/* bit i: genders[i] */
	unsigned	months;		/* bit m: month m (1..12) */
	unsigned	roles;		/* bit r - 1: enum claim_role r */
	unsigned	consent;	/* enum consent_purpose bits */
	uint32_t	*campaigns;
	size_t		ncampaigns;
	int64_t		scan_after, scan_before, points_min, points_max;
};

int seg_texts_has(const struct seg_texts *l, const char *s);

enum { FACT_CLAIMED = 1, FACT_CAMPAIGN = 2, FACT_SCANNED = 4 };

/* What the claims and the scan log say of one customer. */
struct seg_fact {
	uint64_t	customer;	/* 0: a free slot */
	int64_t		last_scan;	/* 0: none */
	int64_t		region_at;	/* the scan region came from */
	uint32_t	region;
	unsigned	flags;		/* FACT_* */
};

/* A small open-addressing map of uint64 keys to a value. */
struct seg_map {
	uint64_t	*keys;		/* 0: free */
	uint64_t	*vals;
	size_t		cap, n;
};

enum { REGION_PROVINCE = 1, REGION_CITY = 2, REGION_COUNTRY = 4 };

struct seg_eval {
	struct store		*st;
	uint32_t		brand_id;
	const struct segment_def *d;
	int64_t			now;
	json_t			*settings;
	struct seg_map		regions;	/* region -> bits + 1 */
};

/* Devices of one customer whose scan facts are read (the rest ignored). */
#define SEG_DEVICES_MAX	64

/* Reads what d needs (the settings). 0 or a store error. */
int seg_eval_open(struct seg_eval *ev, struct store *st, uint32_t brand_id,
    const struct segment_def *d, int64_t now);
void seg_eval_close(struct seg_eval *ev);
/* The scan and claim facts of one customer, from segment_facts (its
 * devices' and its own): 0 or a store error. */
int seg_fact_of(struct seg_eval *ev, uint64_t customer, struct seg_fact *out);
/* REGION_* bits of region id against d's lists: 0 or a store error. */
int seg_region_bits(struct seg_eval *ev, uint32_t region, unsigned *out);
/* 1 member, 0 not, <0 an error. */
int seg_judge(struct seg_eval *ev, const struct customer *cu);

#endif
