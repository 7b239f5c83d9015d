/*
 * keyring.h - where secret keys live: a 0600 file beside (or away from)
 * the LMDB files, never inside them. See docs/codes.md "Where keys live".
 *
 * The file holds one line per secret:
 *     key <key-id> <brand-id> <64 hex digits>
 *     secret <name> <64 hex digits>
 *     blob <name> <base64>
 * Named secrets are server-wide (e.g. "cookie", "phone-hash", "phone-enc").
 * Blobs are named secrets of any length made elsewhere (a brand's WeChat
 * Pay merchant key "wxpay-key/<brand-id>" and APIv3 key "wxpay-v3/...").
 * Writes go to a temporary file that is fsynced and renamed over the old
 * one, so a crash leaves either the old or the new keyring, never half.
 * Key metadata (created, revoked) lives in the store; only bytes live here.
 */
#ifndef SIGIL_KEYRING_H
#define SIGIL_KEYRING_H

#include <stdint.h>

#include "sigil/code.h"

struct keyring;

/*
 * Loads path. A missing file gives an empty keyring when create is
 * nonzero, SIGIL_ENOTFOUND otherwise. Refuses (SIGIL_EDENIED) a file
 * readable or writable by group or others. SIGIL_EINVAL for a malformed
 * line, SIGIL_EIO, SIGIL_ENOMEM. The caller frees *out with keyring_free().
 */
int keyring_open(const char *path, int create, struct keyring **out);
void keyring_free(struct keyring *kr);

/*
 * Generates a fresh 256-bit root from the CSPRNG for key_id of brand_id,
 * adds it and rewrites the file durably. SIGIL_EEXIST if key_id is there.
 */
int keyring_key_generate(struct keyring *kr, uint16_t key_id,
    uint32_t brand_id);

/*
 * Derived working keys for key_id into *out. SIGIL_ENOTFOUND if absent
 * (after a reload when keyring_watch is on). Also sets *brand_id when
 * not NULL.
 */
int keyring_key_get(const struct keyring *kr, uint16_t key_id,
    struct code_key *out, uint32_t *brand_id);

/*
 * Reads the file again and adds the keys (and named secrets) it holds
 * that kr lacks, for keys made by another process (`sigil key new`)
 * while a server runs. A key already loaded is never changed or
 * dropped. The number of keys added (>= 0), or what keyring_open would
 * return for the file (kr unchanged).
 */
int keyring_reload(struct keyring *kr);

/*
 * With on nonzero, keyring_key_get meeting an unknown key id looks at
 * the file (at most every 100 ms) and reloads it (at most once a second,
 * only when its inode, size or mtime changed) before answering
 * SIGIL_ENOTFOUND. reloaded, when not NULL, is told what each such
 * reload returned (keys added or an error), under the keyring's lock:
 * it must not call back into kr. Set before other threads use kr.
 */
void keyring_watch(struct keyring *kr, int on,
    void (*reloaded)(int added, void *arg), void *arg);

/*
 * The named 32-byte server secret, generated (and the file rewritten) on
 * first use when create is nonzero. SIGIL_ENOTFOUND otherwise.
 */
int keyring_secret(struct keyring *kr, const char *name, int create,
    uint8_t out[32]);

/*
 * Blobs: secret bytes of up to KEYRING_BLOB_MAX, by a name of 1..
 * KEYRING_BLOB_NAME_MAX characters [a-z0-9/-].
 *
 * keyring_blob_put first adds what the file holds and kr lacks (as
 * keyring_reload, so a key or blob another process wrote is kept), then
 * sets name to len bytes of bytes (replacing a blob of that name) and
 * rewrites the file durably; a failed rewrite leaves kr as it was.
 * len 0 removes the blob (SIGIL_ENOTFOUND if there was none). It holds
 * kr's lock, so it may run beside lookups on other threads, never
 * beside another put or a generate. 0, SIGIL_EINVAL, SIGIL_EFULL,
 * SIGIL_EIO, SIGIL_ENOMEM.
 *
 * keyring_blob_get copies the blob into a malloc'd buffer (*out, *len;
 * the caller wipes it with OPENSSL_cleanse and frees it, or calls
 * keyring_blob_free). With keyring_watch on it first reloads the file
 * when it changed (rate-limited as for keys), so a blob another process
 * (`sigil payments key`) set or replaced is seen; keyring_reload also
 * replaces a loaded blob by the file's. SIGIL_ENOTFOUND, SIGIL_EINVAL,
 * SIGIL_ENOMEM.
 */
#define KEYRING_BLOB_MAX	16384
#define KEYRING_BLOB_NAME_MAX	48
int keyring_blob_put(struct keyring *kr, const char *name, const void *bytes,
    size_t len);
int keyring_blob_get(const struct keyring *kr, const char *name,
    uint8_t **out, size_t *len);
void keyring_blob_free(uint8_t *p, size_t len);

#endif
