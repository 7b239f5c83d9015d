/*
 * sigil/store/idents.h - the storage of customers' WeChat identities and
 * of the brands' WeChat applications (src/store/store_idents.c,
 * src/store/store_wechat.c).
 *
 * An identity is a keyed hash (identities: brand || kind || hash ->
 * customer) and a sealed value (customer_idents: brand || customer ||
 * kind || hash -> app id, time, ciphertext). The store never sees an
 * openid or a unionid in the clear: the domain (identity.c) hashes and
 * seals them before they come here.
 *
 * A part of sigil/store.h, which includes it after the limits and the
 * types it uses: include sigil/store.h, not this.
 */
#ifndef SIGIL_STORE_IDENTS_H
#define SIGIL_STORE_IDENTS_H

#ifndef SIGIL_STORE_H
#error "include sigil/store.h"
#endif

/* Kinds of identity (the byte after the brand in every key). */
enum ident_kind {
	IDENT_WECHAT_OA = 1,	/* official-account openid */
	IDENT_WECHAT_MP = 2,	/* mini-program openid */
	IDENT_WECHAT_UNION = 3,	/* unionid (across the brand's apps) */
};

#define STORE_WX_APPID_MAX	32	/* "wx" and 16 hex digits today */
#define STORE_IDENT_CT_MAX	256	/* a sealed openid or unionid */
#define STORE_IDENT_PROF_MAX	1024	/* a sealed nickname and avatar */
#define STORE_WX_SECRET_CT_MAX	96	/* a sealed AppSecret */

struct ident {
	uint32_t	brand_id;
	uint64_t	customer_id;
	int		kind;
	uint8_t		hash[32];	/* HMAC(app id || 0 || openid) */
	char		app[STORE_WX_APPID_MAX + 1];	/* "" for unionid */
	int64_t		at;		/* bound, or last updated */
	uint8_t		ct[STORE_IDENT_CT_MAX];		/* the identifier */
	size_t		ct_len;
	uint8_t		prof[STORE_IDENT_PROF_MAX];	/* the profile, */
	size_t		prof_len;			/* 0: none */
};

/* The customer holding identity (kind, hash): 0 or SIGIL_ENOTFOUND. */
int store_ident_find(struct store *st, uint32_t brand_id, int kind,
    const uint8_t hash[32], uint64_t *customer_id);
/* The customer's identities, in kind order; fn stops the walk (returned). */
int store_idents_of(struct store *st, uint32_t brand_id,
    uint64_t customer_id, int (*fn)(void *arg, const struct ident *i),
    void *arg);

/*
 * A WeChat login (store_wechat_link, one transaction): the identities
 * the WeChat answer gave (unionid first when there is one), sealed;
 * device the session (0: none). The customer is the unionid's, else
 * the openid's; else the device's customer when it holds no identity of
 * the same kind and app (a phone customer gains its WeChat identity);
 * else a new customer. What is new is bound to it; a value already
 * bound to it gets the new profile when update is set (a nickname
 * fetched);
 * an identity already bound to another customer is left as it is. When
 * the identity's customer is found and the device is another live
 * customer's, the two are made one by the merge rule (store_merge.c;
 * *merged names the one that went) unless they conflict (two phones,
 * two openids of one app). The device is linked to the customer (a
 * device still another's is switched over: *from says whose it was).
 * SIGIL_ESTATE when the customer found is erased or merged.
 */
struct ident_bind {
	int		kind;
	uint8_t		hash[32];
	char		app[STORE_WX_APPID_MAX + 1];
	uint8_t		ct[STORE_IDENT_CT_MAX];
	size_t		ct_len;
	uint8_t		prof[STORE_IDENT_PROF_MAX];	/* with update */
	size_t		prof_len;
	int		update;		/* replace the profile kept */
};
struct wechat_link {
	uint32_t		brand_id;
	uint64_t		device;
	int64_t			now;
	struct ident_bind	ids[2];
	int			n;
	struct customer		cu;		/* out */
	int			created;	/* out: a new customer */
	int			bound;		/* out: identities bound */
	uint64_t		from;		/* out: the device's customer
						   before, when another */
	uint64_t		merged;		/* out: the customer merged
						   into cu, or 0 */
	/* in: the registration bonuses a login that makes the customer
	 * pays, in its transaction (store_bonus_pay's rules; dropped set) */
	struct claim_credit	bonus[STORE_REG_BONUS_MAX];
	size_t			nbonus;
	int64_t			bonus_expires;
};
int store_wechat_link(struct store *st, struct wechat_link *l);

/* ---- the brand's WeChat applications ---- */

struct wechat_app {
	char		appid[STORE_WX_APPID_MAX + 1];	/* "": none */
	uint8_t		secret_ct[STORE_WX_SECRET_CT_MAX];	/* sealed */
	size_t		secret_ct_len;
};
struct wechat_config {
	uint32_t		brand_id;
	struct wechat_app	oa;	/* the official account */
	struct wechat_app	mp;	/* the mini-program */
	int			userinfo;	/* ask for nickname, avatar */
	int64_t			updated;
};
/* SIGIL_ENOTFOUND when the brand has none. */
int store_wechat_config_get(struct store *st, uint32_t brand_id,
    struct wechat_config *out);
/*
 * Replaces the brand's configuration. An app id is one brand's
 * (SIGIL_EEXIST when another brand's, or the same id for both apps:
 * SIGIL_EINVAL); the index of app ids follows.
 */
int store_wechat_config_put(struct store *st, const struct wechat_config *c);
/* The brand and kind (IDENT_WECHAT_OA, _MP) of an app id: ENOTFOUND. */
int store_wechat_appid(struct store *st, const char *appid,
    uint32_t *brand_id, int *kind);

/*
 * The single use of an OAuth state: nonce (8 bytes) of brand_id,
 * expiring at expires, spent now. 0 the first time, SIGIL_EEXIST when
 * it was spent before. Spent states past their expiry are dropped a few
 * at a time (they are refused by their expiry by then).
 */
int store_wechat_state_spend(struct store *st, uint32_t brand_id,
    int64_t expires, const uint8_t nonce[8], int64_t now);

#endif
