/*
 * payments.c - `sigil payments key`: a brand's WeChat Pay secrets into
 * the keyring (issue 22). The merchant's API private key
 * (apiclient_key.pem, from the merchant platform's API 安全 page) and its
 * APIv3 key (32 characters set on the same page) become the keyring
 * blobs wxpay.h names, "wxpay-key/<brand-id>" and "wxpay-v3/<brand-id>",
 * which a running sigild picks up through its keyring watch.
 *
 * Both files are checked before anything is written: the key must be an
 * unencrypted RSA private key of 2048 bits or more, the APIv3 key
 * exactly 32 printable characters (one trailing newline, as `echo`
 * leaves, is dropped). Nothing secret reaches stdout, stderr or the
 * audit trail: the tool prints the key's public fingerprint only, the
 * one the dashboard shows. When the second write fails, the first is
 * undone, so the keyring never pairs one brand's new key with its old
 * APIv3 key.
 *
 * May call cli.c, the keyring, wxpay.c (checks) and the store (brand,
 * audit). Never prints, logs or keeps a copy of the secrets beyond the
 * call: every buffer is wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "sigil/wxpay.h"

/* Reads a whole small file (at most max bytes) into buf. */
static int
read_small(const char *flag, const char *path, char *buf, size_t max,
    size_t *len)
{
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_fail(EXIT_USAGE, "--%s: cannot open %s: %s", flag,
		    path, strerror(errno));
	/* One byte past max tells a file that is too long. */
	while (n <= max && (r = read(fd, buf + n, max + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return cli_fail(EXIT_USAGE, "--%s: cannot read %s: %s",
			    flag, path, strerror(errno));
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > max)
		return cli_fail(EXIT_USAGE, "--%s: %s is longer than %zu bytes",
		    flag, path, max);
	*len = n;
	return 0;
}

/* Sets blob name to len bytes (0: removes it) and says so on failure. */
static int
blob_set(struct keyring *kr, const char *name, const void *bytes,
    size_t len)
{
	int rc = keyring_blob_put(kr, name, bytes, len);

	return rc == SIGIL_ENOTFOUND && len == 0 ? 0 : rc;
}

int
cmd_payments_key(struct opts *o)
{
	char pem[WXPAY_PEM_MAX + 1], v3[WXPAY_APIV3_KEY_LEN + 3];
	char krpath[4096], kname[WXPAY_BLOB_NAME_MAX + 1];
	char vname[WXPAY_BLOB_NAME_MAX + 1], fp[65];
	struct store *st = NULL;
	struct keyring *kr = NULL;
	struct brand b;
	EVP_PKEY *key = NULL;
	uint8_t *old = NULL;
	size_t pemlen = 0, v3len = 0, oldlen = 0;
	int rc, ret = EXIT_USAGE;

	if (cli_require(o->brand, "brand") || cli_require(o->key, "key") ||
	    cli_require(o->apiv3_key_file, "apiv3-key-file"))
		return EXIT_USAGE;
	if (read_small("key", o->key, pem, WXPAY_PEM_MAX, &pemlen) ||
	    read_small("apiv3-key-file", o->apiv3_key_file, v3,
	    WXPAY_APIV3_KEY_LEN + 2, &v3len))
		goto wipe;
	if (wxpay_key_load(pem, pemlen, &key) != 0) {
		cli_fail(EXIT_USAGE, "--key: %s is not an unencrypted RSA "
		    "private key of 2048 bits or more in PEM (apiclient_key.pem)",
		    o->key);
		goto wipe;
	}
	if (v3len > 0 && v3[v3len - 1] == '\n')
		v3len--;
	if (v3len > 0 && v3[v3len - 1] == '\r')
		v3len--;
	if (wxpay_apiv3_key_check(v3, v3len) != 0) {
		cli_fail(EXIT_USAGE, "--apiv3-key-file: %s does not hold an "
		    "APIv3 key (exactly 32 printable characters)",
		    o->apiv3_key_file);
		goto wipe;
	}
	if (wxpay_key_fingerprint(key, fp) != 0) {
		cli_fail(EXIT_USAGE, "--key: cannot read the key's public half");
		goto wipe;
	}
	if (cli_open_brand(o, 0, &st, &b))
		goto wipe;
	if ((rc = keyring_open(cli_keyring_path(o, krpath, sizeof krpath), 0,
	    &kr)) != 0) {
		cli_fail(EXIT_USAGE, "cannot open keyring '%s': %s", krpath,
		    sigil_strerror(rc));
		goto out;
	}
	wxpay_blob_names(b.id, kname, vname);
	rc = keyring_blob_get(kr, kname, &old, &oldlen);
	if (rc != 0 && rc != SIGIL_ENOTFOUND) {
		cli_fail(EXIT_USAGE, "cannot read keyring '%s': %s", krpath,
		    sigil_strerror(rc));
		goto out;
	}
	cli_audit_arm(st, b.id, "payments_key", "brand", NULL, NULL);
	if ((rc = keyring_blob_put(kr, kname, pem, pemlen)) == 0 &&
	    (rc = keyring_blob_put(kr, vname, v3, v3len)) != 0 &&
	    blob_set(kr, kname, old, oldlen) != 0)
		fprintf(stderr, "sigil: warning: the merchant key was written "
		    "but the APIv3 key was not; run the command again\n");
	cli_audit_done(st, rc, NULL);
	if (rc != 0) {
		cli_fail(EXIT_USAGE, "cannot write keyring '%s': %s", krpath,
		    sigil_strerror(rc));
		goto out;
	}
	if (o->json)
		printf("{\"brand_id\": %u, \"key_fingerprint\": \"%s\", "
		    "\"apiv3_key\": \"set\"}\n", (unsigned)b.id, fp);
	else
		printf("WeChat Pay keys set for brand '%s': merchant key sha256 "
		    "%s, APIv3 key set\n", b.name, fp);
	ret = EXIT_OK;
out:
	keyring_blob_free(old, oldlen);
	keyring_free(kr);
	store_close(st);
wipe:
	EVP_PKEY_free(key);
	OPENSSL_cleanse(pem, sizeof pem);
	OPENSSL_cleanse(v3, sizeof v3);
	return ret;
}
