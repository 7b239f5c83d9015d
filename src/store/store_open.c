/*
 * store_open.c - a store put together, and taken apart.
 *
 * Owns: the list of named databases (dbdefs: which exist, which came
 * after schema 1 and may be missing from an older store), the schema
 * check, and the order in which an open assembles the parts: the
 * environment's locks and reader slots (store_env.c), the write-ahead log
 * and its recovery (wal.c), the LMDB environment and its databases, the
 * pending layer of per-code state (store_state.c). store_close undoes
 * them in reverse.
 * May call: libc, pthreads, LMDB, util.c, store_env.c, wal.c and
 * store_state.c's pend_init/pend_free. It is the top of the storage
 * module's call graph: no other store file calls into it, so it may name
 * every part without closing a circle.
 * Must never: read or write a table family's rows (that is the families'
 * business), or keep a handle or a pointer into the map past the open.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "sigil/store.h"
#include "sigil/util.h"
#include "store_impl.h"

#define STORE_MAP_INITIAL	((size_t)1 << 30)
#define STORE_MAP_MIN		((size_t)32 << 10)
#define STORE_MAXREADERS	512

/*
 * late: added after schema 1 shipped (1 trace, 2 the loyalty family:
 * store_customers.c, store_claims.c, ..., 3 code notes, 4 redirect rules
 * and device locations, 5 landing-page content and images).
 * and device locations, 5 links, 7 alert_codes: one alert per code and
 * signal, 8 pin_files: the PIN print files made, 9 code_revocations:
 * single codes revoked, 10 orders, 11 earn_campaigns: the campaigns of earned
 * points), 12 audit: the audit trail, 13 notices, consents and profiles:
 * store_consent.c), 20 regions, region_keys: the places scans come from),
 * 30 identities, customer_idents, wechat_config, wechat_appids,
 * wechat_states: WeChat identities, apps and spent OAuth states),
 * 42 outbox, outbox_due, outbox_cust: the message outbox),
 * 40 segments, segment_facts: the brands' saved customer segments, what
 * their criteria read per device and customer).
 * 41 bonuses: campaign bonuses paid and bonus/rebate totals).
 * 43 feedback, feedback_photos, feedback_alerts: the feedback loop).
 * 42 outbox, outbox_due, outbox_cust: the message outbox), 45
 * notify_rules: alert notification rules (store_notify.c).
 * 42 outbox, outbox_due, outbox_cust, messages, message_marks: the
 * message outbox, lifecycle message definitions and their marks).
 * 46 payouts, payout_due, payout_cust, cash_usage, cash_days,
 * pay_settings: cash rewards paid through WeChat Pay (store_payouts.c,
 * store_cash.c).
 * A read-write open creates it in an older store; a read-only open of such
 * a store sees it as empty.
 */
struct dbdef {
	const char	*name;
	unsigned	 flags;
	size_t		 off;
	int		 late;
};

static const struct dbdef dbdefs[] = {
	{ "meta", 0, offsetof(struct store, meta) },
	{ "brands", 0, offsetof(struct store, brands) },
	{ "brand_names", 0, offsetof(struct store, brand_names) },
	{ "keys", 0, offsetof(struct store, keys) },
	{ "products", 0, offsetof(struct store, products) },
	{ "gtins", 0, offsetof(struct store, gtins) },
	{ "batches", 0, offsetof(struct store, batches) },
	{ "batch_ranges", 0, offsetof(struct store, batch_ranges) },
	{ "scans", 0, offsetof(struct store, scans) },
	{ "code_state", 0, offsetof(struct store, code_state) },
	{ "code_scans", MDB_DUPSORT | MDB_DUPFIXED,
	    offsetof(struct store, code_scans) },
	{ "scan_locs", 0, offsetof(struct store, scan_locs) },
	{ "tokens", 0, offsetof(struct store, tokens), 1 },
	{ "token_ids", 0, offsetof(struct store, token_ids), 1 },
	{ "distributors", 0, offsetof(struct store, distributors), 1 },
	{ "parents", 0, offsetof(struct store, parents), 1 },
	{ "children", MDB_DUPSORT | MDB_DUPFIXED,
	    offsetof(struct store, children), 1 },
	{ "shipments", 0, offsetof(struct store, shipments), 1 },
	{ "shipped", 0, offsetof(struct store, shipped), 1 },
	{ "events", 0, offsetof(struct store, events), 1 },
	{ "brand_events", 0, offsetof(struct store, brand_events), 1 },
	{ "code_events", MDB_DUPSORT | MDB_DUPFIXED,
	    offsetof(struct store, code_events), 1 },
	{ "batch_events", MDB_DUPSORT | MDB_DUPFIXED,
	    offsetof(struct store, batch_events), 1 },
	{ "alerts", 0, offsetof(struct store, alerts), 1 },
	{ "brand_alerts", 0, offsetof(struct store, brand_alerts), 1 },
	{ "customers", 0, offsetof(struct store, customers), 2 },
	{ "customer_phones", 0, offsetof(struct store, customer_phones), 2 },
	{ "device_links", 0, offsetof(struct store, device_links), 2 },
	{ "customer_devices", 0, offsetof(struct store, customer_devices), 2 },
	{ "otps", 0, offsetof(struct store, otps), 2 },
	{ "campaigns", 0, offsetof(struct store, campaigns), 2 },
	{ "campaign_usage", 0, offsetof(struct store, campaign_usage), 2 },
	{ "claims", 0, offsetof(struct store, claims), 2 },
	{ "claim_days", 0, offsetof(struct store, claim_days), 2 },
	{ "pin_fails", 0, offsetof(struct store, pin_fails), 2 },
	{ "ledger", 0, offsetof(struct store, ledger), 2 },
	{ "items", 0, offsetof(struct store, items), 2 },
	{ "brand_settings", 0, offsetof(struct store, brand_settings), 2 },
	{ "activity", 0, offsetof(struct store, activity), 2 },
	{ "webhooks", 0, offsetof(struct store, webhooks), 2 },
	{ "users", 0, offsetof(struct store, users), 2 },
	{ "user_emails", 0, offsetof(struct store, user_emails), 2 },
	{ "sessions", 0, offsetof(struct store, sessions), 2 },
	{ "counters", 0, offsetof(struct store, counters), 2 },
	{ "device_days", MDB_DUPSORT | MDB_DUPFIXED,
	    offsetof(struct store, device_days), 2 },
	{ "code_notes", 0, offsetof(struct store, code_notes), 3 },
	{ "redirects", 0, offsetof(struct store, redirects), 4 },
	{ "redirect_ids", 0, offsetof(struct store, redirect_ids), 4 },
	{ "device_locs", 0, offsetof(struct store, device_locs), 4 },
	{ "content", 0, offsetof(struct store, content), 5 },
	{ "images", 0, offsetof(struct store, images), 5 },
	{ "links", 0, offsetof(struct store, links), 6 },
	{ "alert_codes", 0, offsetof(struct store, alert_codes), 7 },
	{ "pin_files", 0, offsetof(struct store, pin_files), 8 },
	{ "code_revocations", 0, offsetof(struct store, code_revocations), 9 },
	{ "orders", 0, offsetof(struct store, orders), 10 },
	{ "earn_campaigns", 0, offsetof(struct store, earn_campaigns), 11 },
	{ "audit", 0, offsetof(struct store, audit), 12 },
	{ "regions", 0, offsetof(struct store, regions), 20 },
	{ "region_keys", 0, offsetof(struct store, region_keys), 20 },
	{ "notices", 0, offsetof(struct store, notices), 13 },
	{ "consents", 0, offsetof(struct store, consents), 13 },
	{ "profiles", 0, offsetof(struct store, profiles), 13 },
	{ "identities", 0, offsetof(struct store, identities), 30 },
	{ "customer_idents", 0, offsetof(struct store, customer_idents), 30 },
	{ "wechat_config", 0, offsetof(struct store, wechat_config), 30 },
	{ "wechat_appids", 0, offsetof(struct store, wechat_appids), 30 },
	{ "wechat_states", 0, offsetof(struct store, wechat_states), 30 },
	{ "outbox", 0, offsetof(struct store, outbox), 42 },
	{ "outbox_due", 0, offsetof(struct store, outbox_due), 42 },
	{ "outbox_cust", 0, offsetof(struct store, outbox_cust), 42 },
	{ "segments", 0, offsetof(struct store, segments), 40 },
	{ "segment_facts", 0, offsetof(struct store, segment_facts), 40 },
	{ "bonuses", 0, offsetof(struct store, bonuses), 41 },
	{ "shops", 0, offsetof(struct store, shops), 44 },
	{ "sellers", 0, offsetof(struct store, sellers), 44 },
	{ "bindings", 0, offsetof(struct store, bindings), 44 },
	{ "seller_codes", 0, offsetof(struct store, seller_codes), 44 },
	{ "feedback", 0, offsetof(struct store, feedback), 43 },
	{ "feedback_photos", 0, offsetof(struct store, feedback_photos), 43 },
	{ "feedback_alerts", 0, offsetof(struct store, feedback_alerts), 43 },
	{ "notify_rules", 0, offsetof(struct store, notify_rules), 45 },
	{ "messages", 0, offsetof(struct store, messages), 42 },
	{ "message_marks", 0, offsetof(struct store, message_marks), 42 },
	{ "payouts", 0, offsetof(struct store, payouts), 46 },
	{ "payout_due", 0, offsetof(struct store, payout_due), 46 },
	{ "payout_cust", 0, offsetof(struct store, payout_cust), 46 },
	{ "cash_usage", 0, offsetof(struct store, cash_usage), 46 },
	{ "cash_days", 0, offsetof(struct store, cash_days), 46 },
	{ "pay_settings", 0, offsetof(struct store, pay_settings), 46 },
};

static int
initial_mapsize(size_t *out)
{
	const char *e = getenv("SIGIL_STORE_INITIAL_MAP");
	uint64_t v;

	if (e == NULL || *e == '\0') {
		*out = STORE_MAP_INITIAL;
		return 0;
	}
	if (sigil_parse_u64(e, STORE_MAP_MAX, &v) != 0 || v < STORE_MAP_MIN)
		return SIGIL_EINVAL;
	*out = (size_t)v;
	return 0;
}

/*
 * A store from before the pending layer (store_state.c) has a complete
 * code_state: record that as state/through, once, so that scans this
 * process commits are replayed after a crash.
 */
static int
state_mark(struct store *st, MDB_txn *txn)
{
	MDB_val k = meta_key("state/through"), v;
	uint64_t next;
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	if ((rc = meta_get(st, txn, meta_key("next_scan"), &next)) != 0 ||
	    (rc = meta_put(st, txn, k, next ? next - 1 : 0)) != 0)
		return map_err(rc);
	return 0;
}

/*
 * segment_facts (store_segments.c) are written with each scan and
 * claim; a store from before them gets them once, here, from the whole
 * scan log and every claim, in the open's transaction, and meta
 * "segfacts/through" says it was done (a new store: at once).
 */
static int
segfacts_fill(struct store *st, MDB_txn *txn, int create)
{
	MDB_val k = meta_key("segfacts/through"), v;
	MDB_cursor *cur;
	struct scan_rec r;
	struct claim c;
	uint64_t next = 0;
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	if (!create) {
		if ((rc = meta_get(st, txn, meta_key("next_scan"), &next)) != 0)
			return map_err(rc);
		for (uint64_t id = 1; id < next; id++) {
			rc = scan_load(st, txn, id, &r);
			if (rc == MDB_NOTFOUND || rc == SIGIL_ENOTFOUND)
				continue;
			if (rc != 0 || (rc = segfacts_scan(st, txn, &r)) != 0)
				return map_err(rc);
		}
		if ((rc = mdb_cursor_open(txn, st->claims, &cur)) != 0)
			return map_err(rc);
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
			if (claim_decode(k, v, &c) == 0 &&
			    (rc = segfacts_claim(st, txn, &c)) != 0)
				break;
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return map_err(rc);
	}
	return map_err(meta_put(st, txn, meta_key("segfacts/through"),
	    next ? next - 1 : 0));
}

/*
 * The installation id: 16 random bytes made once, at the first open by a
 * writer (a new store, or an older one that lacks it), and kept under
 * meta "installation_id". EPCIS event ids are derived from it, so two
 * installations never name two events alike (docs/storage.md). A
 * read-only open only reads it: an older store opened read-only has none
 * until a writer opens it.
 */
static int
install_mark(struct store *st, MDB_txn *txn, int writer)
{
	MDB_val k = meta_key("installation_id"), v;
	uint8_t id[STORE_INSTALL_ID_LEN];
	int rc = mdb_get(txn, st->meta, &k, &v);

	if (rc == 0) {
		if (v.mv_size != sizeof id)
			return SIGIL_ESTATE;
		memcpy(st->install_id, v.mv_data, sizeof id);
		st->install_known = 1;
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return map_err(rc);
	if (!writer)
		return 0;
	if (sigil_random(id, sizeof id) != 0)
		return SIGIL_EIO;
	v = mval(id, sizeof id);
	if ((rc = mdb_put(txn, st->meta, &k, &v, MDB_NOOVERWRITE)) != 0)
		return map_err(rc);
	memcpy(st->install_id, id, sizeof id);
	st->install_known = 1;
	return 0;
}

int
store_installation_id(struct store *st, uint8_t out[STORE_INSTALL_ID_LEN])
{
	if (st == NULL || !st->install_known)
		return SIGIL_ENOTFOUND;
	memcpy(out, st->install_id, STORE_INSTALL_ID_LEN);
	return 0;
}

static int
open_dbs(struct store *st, int create)
{
	unsigned tflags = (st->flags & STORE_RDONLY) ? MDB_RDONLY : 0;
	MDB_txn *txn;
	MDB_val k = meta_key("schema_version"), v;
	uint8_t ver[4];
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, tflags, &txn)) != 0)
		return map_err(rc);
	if (!tflags)
		wal_txn_begin(st);
	for (size_t i = 0; i < sizeof(dbdefs) / sizeof(dbdefs[0]); i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)st + dbdefs[i].off);
		unsigned f = dbdefs[i].flags;

		if (create || (dbdefs[i].late && !tflags))
			f |= MDB_CREATE;
		rc = mdb_dbi_open(txn, dbdefs[i].name, f, dbi);
		if (rc == MDB_NOTFOUND && dbdefs[i].late) {
			if (dbdefs[i].late == 11)
				continue;	/* written and read by writers only */
			else if (dbdefs[i].late == 46)
				st->payouts_absent = 1;
			else if (dbdefs[i].late == 42)
				st->messages_absent = 1;
			else if (dbdefs[i].late == 40)
				st->segments_absent = 1;
			else if (dbdefs[i].late == 41)
				st->bonuses_absent = 1;
			else if (dbdefs[i].late == 44)
				st->sellers_absent = 1;
			else if (dbdefs[i].late == 43)
				st->feedback_absent = 1;
			else if (dbdefs[i].late == 45)
				st->notify_absent = 1;
			else if (dbdefs[i].late == 20)
				st->regions_absent = 1;
			else if (dbdefs[i].late == 13)
				st->consent_absent = 1;
			else if (dbdefs[i].late == 30)
				st->idents_absent = 1;
			else if (dbdefs[i].late == 12)
				st->audit_absent = 1;
			else if (dbdefs[i].late == 10)
				st->orders_absent = 1;
			else if (dbdefs[i].late == 5)
				st->content_absent = 1;
			else if (dbdefs[i].late == 4)
				st->redirects_absent = 1;
			else if (dbdefs[i].late == 6)
				st->links_absent = 1;
			else if (dbdefs[i].late == 7)
				st->alert_codes_absent = 1;
			else if (dbdefs[i].late == 8)
				st->pin_files_absent = 1;
			else if (dbdefs[i].late == 9)
				st->code_revocations_absent = 1;
			else if (dbdefs[i].late == 3)
				st->notes_absent = 1;
			else if (dbdefs[i].late == 2)
				st->loyalty_absent = 1;
			else
				st->trace_absent = 1;
			continue;
		}
		if (rc != 0) {
			rc = rc == MDB_NOTFOUND ? SIGIL_ESTATE : map_err(rc);
			goto fail;
		}
		/* A handle past dbnames would be a table the log cannot
		 * name: refuse to open rather than fail its first write. */
		if (*dbi >= STORE_DBI_MAX + 2) {
			rc = SIGIL_EFULL;
			goto fail;
		}
		st->dbnames[*dbi] = dbdefs[i].name;
	}
	if (create) {
		le32_put(ver, STORE_SCHEMA_VERSION);
		v = mval(ver, 4);
		if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0) {
			rc = map_err(rc);
			goto fail;
		}
	} else {
		rc = mdb_get(txn, st->meta, &k, &v);
		if (rc != 0 || v.mv_size != 4 ||
		    le32_get(v.mv_data) != STORE_SCHEMA_VERSION) {
			rc = rc == 0 || rc == MDB_NOTFOUND ? SIGIL_ESTATE :
			    map_err(rc);
			goto fail;
		}
	}
	if (!tflags && (rc = state_mark(st, txn)) != 0)
		goto fail;
	if (!tflags && !st->segments_absent &&
	    (rc = segfacts_fill(st, txn, create)) != 0)
		goto fail;
	if ((rc = install_mark(st, txn, !tflags)) != 0)
		goto fail;
	/* Committing (even read-only) keeps the handles for the process. */
	return map_err(tflags ? mdb_txn_commit(txn) : wal_txn_commit(st, txn));
fail:
	mdb_txn_abort(txn);
	return rc;
}

const char *
store_open_hint(int err)
{
	switch (err) {
	case SIGIL_ENOTFOUND:
		return " (run `sigil init` first)";
	case SIGIL_EBUSY:
		return " (another sigild runs on it, or it needs recovery from "
		    "the log and another process has it open)";
	case SIGIL_ESTATE:
		return " (written by a newer sigil, or data.mdb does not match "
		    "its write-ahead log, as when data.mdb is replaced after "
		    "a crash: see docs/storage.md, \"The write-ahead log\")";
	}
	return "";
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	/* The reader slots' transactions end before the environment. */
	env_fini(st);
	wal_close(st);
	mdb_env_close(st->env);
	pend_free(st);
	free(st);
}

int
store_open(const char *dir, int flags, struct store **out)
{
	struct store *st;
	struct stat sb;
	char path[4096];
	size_t mapsize = 0;
	unsigned eflags = MDB_NOTLS;
	int create = flags & STORE_CREATE, rc;

	if (dir == NULL || out == NULL ||
	    (flags & ~(STORE_CREATE | STORE_RDONLY | STORE_NOSYNC |
	    STORE_NOMETASYNC | STORE_WAL)) ||
	    (create && (flags & STORE_RDONLY)) ||
	    ((flags & STORE_WAL) && (flags & (STORE_RDONLY | STORE_NOSYNC))))
		return SIGIL_EINVAL;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return SIGIL_ENOTFOUND;
	if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    sizeof(path))
		return SIGIL_EINVAL;
	if (stat(path, &sb) == 0) {
		if (create)
			return SIGIL_EEXIST;
	} else if (errno != ENOENT)
		return SIGIL_EIO;
	else if (!create)
		return SIGIL_ENOTFOUND;
	if (create && (rc = initial_mapsize(&mapsize)) != 0)
		return rc;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return SIGIL_ENOMEM;
	st->flags = flags & ~STORE_CREATE;
	if ((rc = env_init(st)) != 0) {
		free(st);
		return rc;
	}
	if ((rc = mdb_env_create(&st->env)) != 0) {
		rc = map_err(rc);
		goto fail;
	}
	if (mdb_env_set_maxdbs(st->env, STORE_DBI_MAX) != 0 ||
	    mdb_env_set_maxreaders(st->env, STORE_MAXREADERS) != 0 ||
	    (mapsize && mdb_env_set_mapsize(st->env, mapsize) != 0)) {
		rc = SIGIL_EIO;
		goto fail_env;
	}
	if (flags & (STORE_NOSYNC | STORE_WAL))
		eflags |= MDB_NOSYNC;
	if (flags & STORE_NOMETASYNC)
		eflags |= MDB_NOMETASYNC;
	if (flags & STORE_RDONLY)
		eflags |= MDB_RDONLY;
	/* Locks, and recovery after an unclean stop of a --wal sigild. */
	if (!create && (rc = wal_open(dir, flags, &st->wal, &st->replayed)))
		goto fail_env;
	if ((rc = mdb_env_open(st->env, dir, eflags, 0600)) != 0) {
		rc = rc == ENOENT ? SIGIL_ENOTFOUND : map_err(rc);
		goto fail_env;
	}
	mdb_env_set_userctx(st->env, st);
	if (create && (rc = wal_open(dir, flags, &st->wal, &st->replayed)))
		goto fail_env;
	if ((rc = open_dbs(st, create)) != 0)
		goto fail_env;
	if ((flags & STORE_WAL) && (rc = wal_own(st, st->env)) != 0)
		goto fail_env;
	if ((rc = pend_init(st)) != 0)
		goto fail_env;
	*out = st;
	return 0;

fail_env:
	wal_close(st);
	mdb_env_close(st->env);
	if (create) {
		/* Leave the directory as we found it. */
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/wal", dir);
		unlink(path);
	}
fail:
	env_fini(st);
	free(st);
	return rc;
}

uint64_t
store_replayed(struct store *st)
{
	return st->replayed;
}
