/*
 * identity.h - a customer's WeChat identity (domain layer, src/domain/
 * identity.c): openids and unionids hashed for lookup and sealed for
 * display, the writer op of a WeChat login, and the identities as a
 * customer's JSON shows them (masked).
 */
#ifndef SIGIL_IDENTITY_H
#define SIGIL_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "sigil/store.h"

struct app;
struct json_t;
struct writer_op;

#define IDENT_ID_MAX		128	/* an openid or unionid, bytes */
#define IDENT_NICK_MAX		96	/* a nickname kept, bytes of UTF-8 */
#define IDENT_AVATAR_MAX	512	/* an avatar URL kept */

/* HMAC-SHA256 of app id, a zero byte and value under the keyring secret
 * "ident-hash" (app->wechat, wechat.h). */
void identity_hash(struct app *app, const char *appid, const char *value,
    uint8_t out[32]);

/* "oAbC****wXyZ": the first and last four of an identifier. */
void identity_mask(const char *value, char *out, size_t size);

/*
 * What a WeChat answer gave, made into one login (struct wechat_link,
 * store/idents.h): the unionid (NULL or "" when none) first, the openid
 * of app (kind IDENT_WECHAT_OA or _MP), each hashed and sealed with the
 * nickname and avatar URL when given (update is then set: a fetched
 * profile replaces the one kept). device: the session to link, or 0.
 * 0, SIGIL_EINVAL (an empty or oversize identifier), SIGIL_ECRYPTO.
 */
int identity_wechat_prepare(struct app *app, uint32_t brand_id, int kind,
    const char *appid, const char *openid, const char *unionid,
    const char *nickname, const char *avatar, uint64_t device,
    struct wechat_link *out);

/* The writer op of a login: arg a struct wechat_link, store_wechat_link. */
extern const struct writer_op identity_wechat_op;

/*
 * The customer's identities as JSON: [{kind: "wechat_oa" | "wechat_mp" |
 * "wechat_union", app, masked, nickname?, avatar?, bound_at}] (a new
 * reference; an empty array when none or unreadable). full adds the
 * openid or unionid in the clear (the PIPL export only).
 */
struct json_t *identity_json(struct app *app, uint32_t brand_id,
    uint64_t customer_id, int full);

/*
 * The payee of a claim's cash (issue 22): the appid the brand's merchant
 * transfers under (its payment settings' "appid", store/payouts.h;
 * before those are set, its official account's, else its
 * mini-program's) and the customer's openid for it, in the clear, bound
 * at *bound. 0, SIGIL_ENOTFOUND (no such appid, or the customer has no
 * openid of it), or a store error. Personal data: never log the openid.
 */
int identity_payee(struct app *app, uint32_t brand_id, uint64_t customer_id,
    char appid[PAYOUT_APPID_MAX + 1], char openid[PAYOUT_OPENID_MAX + 1],
    int64_t *bound);

/* The kind's name in JSON and CSV. */
const char *identity_kind_name(int kind);

#endif
