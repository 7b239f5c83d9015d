/*
 * retention.h - how long a brand keeps its scans' precise personal data,
 * and the daily job that cuts it (src/domain/retention.c).
 */
#ifndef SIGIL_RETENTION_H
#define SIGIL_RETENTION_H

#include <stdint.h>

#include "sigil/writer.h"

struct app;
struct retention;
struct store;

/* Days: 0 keeps for ever (the default), else 1..RETENTION_DAYS_MAX. */
#define RETENTION_DAYS_MAX	3650
/* The key in the brand's settings (brand_settings JSON). */
#define RETENTION_KEY		"retention_days"

/*
 * The brand's period in days (0 when none is set). 0, or the store's
 * error (a malformed settings row reads as 0).
 */
int retention_days(struct store *st, uint32_t brand_id, unsigned *out);

/*
 * The writer op that sets a brand's period (audited: before and after):
 * op_arg is a struct retention_set.
 */
struct retention_set {
	uint32_t	brand_id;
	unsigned	days;
};
extern const struct writer_op retention_set_op;

/* What the job has done since sigild started (for /metrics and the API). */
struct retention_stats {
	int		running;	/* a run is under way */
	uint32_t	run_brand;	/* the current or last run: 0 all */
	uint64_t	runs;		/* runs finished */
	uint64_t	errors;		/* runs that stopped on an error */
	uint64_t	chunks;		/* writer ops run (one transaction each) */
	uint64_t	reduced;	/* scans reduced, all runs */
	uint64_t	unlocated;	/* of those, precise locations dropped */
	uint64_t	backlog;	/* log records past a cutoff left */
	int64_t		last_start;	/* microseconds, 0 never */
	int64_t		last_end;
	double		last_seconds;	/* the last finished run */
	uint64_t	last_reduced;	/* scans reduced by it */
	int		last_err;	/* its result, 0 or SIGIL_E* */
	int		last_scrubbed;	/* 1: its scrub finished */
};

/*
 * Starts the scheduler on app->base: a run over every brand with a
 * period RETENTION_FIRST_S after start, then every 24 hours; with
 * unbranded_days (sigild --unbranded-retention), first over the scans
 * that count for no brand (the log's brand id 0). A run is a
 * chain of writer ops, each one bounded chunk (store_retention_step) of
 * one brand, queued behind whatever came meanwhile, then one scrub op
 * when it changed anything. 0 or SIGIL_ENOMEM.
 */
int retention_start(struct app *app, unsigned unbranded_days,
    struct retention **out);
/*
 * Runs the job for brand_id now (0: every brand). 0 when started,
 * SIGIL_EBUSY while a run is under way, the writer's error otherwise.
 */
int retention_run_now(struct retention *r, uint32_t brand_id);
void retention_stats(struct retention *r, struct retention_stats *out);
/* Stops the timer; a run's op in the writer still finishes. */
void retention_free(struct retention *r);

#endif
