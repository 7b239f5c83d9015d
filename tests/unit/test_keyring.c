/*
 * test_keyring.c - the keyring file: creation, reload, durability details
 * (mode, no leftover temporary), refusal of loose permissions, malformed
 * and duplicate lines, secret persistence, rollback when a rewrite
 * fails, and keys another process adds picked up (watch, reload). Each test works in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sigil/code.h"
#include "sigil/keyring.h"
#include "sigil/util.h"

#define HEX64 "000102030405060708090a0b0c0d0e0f" \
	"101112131415161718191a1b1c1d1e1f"

struct fixture {
	char	dir[64];
	char	path[128];
	char	tmp[140];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/sigil-keyring-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/keyring", f->dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s/keyring.tmp", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	unlink(f->tmp);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp;

	unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *
read_file(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Field by field: padding bytes are not part of a key. */
static void
assert_key_same(const struct code_key *a, const struct code_key *b)
{
	assert_int_equal(a->id, b->id);
	assert_memory_equal(a->tag_key, b->tag_key, sizeof(a->tag_key));
	assert_memory_equal(a->pin_key, b->pin_key, sizeof(a->pin_key));
	assert_memory_equal(a->tag_mid, b->tag_mid, sizeof(a->tag_mid));
	assert_memory_equal(a->pin_mid, b->pin_mid, sizeof(a->pin_mid));
}

static void
test_create_and_reload(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL, *kr2 = NULL;
	struct code_key k1, k2, again;
	struct code c;
	struct stat st;
	uint32_t brand = 0;

	assert_int_equal(keyring_open(f->path, 0, &kr), SIGIL_ENOTFOUND);
	assert_null(kr);
	assert_int_equal(keyring_open(f->path, 1, &kr), 0);
	/* an empty keyring does not write a file until it holds something */
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(keyring_key_get(kr, 1, &k1, NULL), SIGIL_ENOTFOUND);

	assert_int_equal(keyring_key_generate(kr, 1, 7), 0);
	assert_int_equal(keyring_key_generate(kr, 1, 7), SIGIL_EEXIST);
	assert_int_equal(keyring_key_generate(kr, 1, 9), SIGIL_EEXIST);
	assert_int_equal(keyring_key_generate(kr, 65535, 8), 0);
	assert_int_equal(keyring_key_generate(kr, 0, 8), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(f->tmp, F_OK), -1);

	assert_int_equal(keyring_key_get(kr, 1, &k1, &brand), 0);
	assert_int_equal(brand, 7);
	assert_int_equal(k1.id, 1);
	assert_int_equal(keyring_key_get(kr, 65535, &k2, &brand), 0);
	assert_int_equal(brand, 8);
	/* fresh randomness: distinct keys */
	assert_memory_not_equal(k1.tag_key, k2.tag_key, 32);
	assert_int_equal(code_sign(&k1, 555, &c), 0);
	keyring_free(kr);

	assert_int_equal(keyring_open(f->path, 0, &kr2), 0);
	assert_int_equal(keyring_key_get(kr2, 1, &again, &brand), 0);
	assert_int_equal(brand, 7);
	assert_key_same(&again, &k1);
	assert_int_equal(code_verify(&again, &c), 0);
	assert_int_equal(keyring_key_get(kr2, 65535, &again, NULL), 0);
	assert_key_same(&again, &k2);
	assert_int_equal(keyring_key_get(kr2, 0, &again, &brand), 0);
	assert_int_equal(brand, 8);
	assert_int_equal(keyring_key_get(kr2, 2, &again, NULL),
	    SIGIL_ENOTFOUND);
	/* the file lists keys in id order with the documented syntax */
	assert_non_null(strstr(read_file(f->path), "\nkey 0 8 "));
	assert_non_null(strstr(read_file(f->path), "\nkey 65535 8 "));
	keyring_free(kr2);
	keyring_free(NULL);
}

static void
test_permissions(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	static const mode_t loose[] = { 0640, 0604, 0660, 0644, 0610, 0601,
	    0620, 0602, 0666 };

	write_file(f->path, "key 1 2 " HEX64 "\n", 0600);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	keyring_free(kr);
	kr = NULL;
	for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
		assert_int_equal(chmod(f->path, loose[i]), 0);
		assert_int_equal(keyring_open(f->path, 0, &kr), SIGIL_EDENIED);
		assert_int_equal(keyring_open(f->path, 1, &kr), SIGIL_EDENIED);
		assert_null(kr);
	}
	assert_int_equal(chmod(f->path, 0400), 0);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	keyring_free(kr);
	/* a directory is not a keyring */
	assert_int_equal(keyring_open(f->dir, 1, &kr), SIGIL_EINVAL);
	assert_int_equal(keyring_open("", 1, &kr), SIGIL_EINVAL);
	assert_int_equal(keyring_open(NULL, 1, &kr), SIGIL_EINVAL);
}

static void
test_malformed(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	static const char *const bad[] = {
		"key 1 2 " HEX64 "\nkey 1 3 " HEX64 "\n",	/* dup id */
		"secret cookie " HEX64 "\nsecret cookie " HEX64 "\n",
		"key 1 2 " HEX64 "00\n",
		"key 1 2 " HEX64 "\nkey 2 2 0001\n",
		"key 1 2 0g0102030405060708090a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e1f\n",
		"key 65536 2 " HEX64 "\n",
		"key -1 2 " HEX64 "\n",
		"key +1 2 " HEX64 "\n",
		"key 1 4294967296 " HEX64 "\n",
		"key x 2 " HEX64 "\n",
		"key 1 2\n",
		"key 1 2 " HEX64 " extra\n",
		"secret Cookie " HEX64 "\n",
		"secret a_b " HEX64 "\n",
		"secret abcdefghijklmnopqrstuvwxyz0123456 " HEX64 "\n",
		"secret cookie\n",
		"KEY 1 2 " HEX64 "\n",
		"garbage\n",
	};
	char text[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f->path, bad[i], 0600);
		if (keyring_open(f->path, 1, &kr) != SIGIL_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(kr);
	}
	/* no final newline, comments, blank lines and CRLF are tolerated */
	write_file(f->path, "# note\n\n  \nkey 1 2 " HEX64 "\r\n"
	    "secret phone-hash " HEX64 "\nkey 3 4 " HEX64, 0600);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	keyring_free(kr);
	kr = NULL;
	/* an embedded NUL */
	snprintf(text, sizeof(text), "key 1 2 %s\n", HEX64);
	{
		FILE *fp = fopen(f->path, "w");

		assert_non_null(fp);
		fwrite(text, 1, strlen(text), fp);
		fputc('\0', fp);
		fputs("key 2 2 " HEX64 "\n", fp);
		fclose(fp);
	}
	assert_int_equal(keyring_open(f->path, 0, &kr), SIGIL_EINVAL);
	assert_null(kr);
}

/* A known root gives code_key_derive()'s key: nothing else is mixed in. */
static void
test_known_root(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	struct code_key got, want;
	uint8_t root[CODE_KEY_BYTES];
	uint32_t brand = 0;

	write_file(f->path, "key 4660 99 " HEX64 "\n", 0600);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	assert_int_equal(keyring_key_get(kr, 4660, &got, &brand), 0);
	assert_int_equal(brand, 99);
	for (int i = 0; i < CODE_KEY_BYTES; i++)
		root[i] = (uint8_t)i;
	assert_int_equal(code_key_derive(4660, root, &want), 0);
	assert_key_same(&got, &want);
	keyring_free(kr);
}

static void
test_secrets(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	uint8_t a[32], b[32], c[32];
	char name[40];

	assert_int_equal(keyring_open(f->path, 1, &kr), 0);
	assert_int_equal(keyring_secret(kr, "cookie", 0, a), SIGIL_ENOTFOUND);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(keyring_secret(kr, "cookie", 1, a), 0);
	assert_int_equal(keyring_secret(kr, "cookie", 1, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(keyring_secret(kr, "cookie", 0, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(keyring_secret(kr, "phone-hash", 1, c), 0);
	assert_memory_not_equal(a, c, 32);
	assert_int_equal(keyring_key_generate(kr, 5, 1), 0);
	for (const char *const *n = (const char *const[]){ "", "Cookie",
	    "a_b", "a b", "abcdefghijklmnopqrstuvwxyz0123456", NULL }; *n; n++)
		assert_int_equal(keyring_secret(kr, *n, 1, b), SIGIL_EINVAL);
	assert_int_equal(keyring_secret(kr, NULL, 1, b), SIGIL_EINVAL);
	assert_int_equal(keyring_secret(kr, "abcdefghijklmnopqrstuvwxyz012345",
	    1, b), 0);
	keyring_free(kr);
	kr = NULL;

	/* persisted, next to the key */
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	assert_int_equal(keyring_secret(kr, "cookie", 0, b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(keyring_secret(kr, "phone-hash", 0, b), 0);
	assert_memory_equal(c, b, 32);
	assert_int_equal(keyring_key_get(kr, 5, &(struct code_key){ 0 },
	    NULL), 0);
	/* the bound: 64 secrets in all */
	for (int i = 3; i < 64; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(keyring_secret(kr, name, 1, b), 0);
	}
	assert_int_equal(keyring_secret(kr, "one-too-many", 1, b),
	    SIGIL_EFULL);
	assert_int_equal(keyring_secret(kr, "s63", 0, b), 0);
	keyring_free(kr);
}

static void
test_stale_tmp_and_rollback(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	struct code_key k;
	uint8_t s[32];
	struct stat st;
	char missing[160];

	/* a crash left a temporary behind, even a world-readable one */
	write_file(f->tmp, "half a keyring", 0644);
	assert_int_equal(keyring_open(f->path, 1, &kr), 0);
	assert_int_equal(keyring_key_generate(kr, 1, 1), 0);
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	keyring_free(kr);
	kr = NULL;

	/* a rewrite that cannot happen leaves memory as it was */
	snprintf(missing, sizeof(missing), "%s/no-such-dir/keyring", f->dir);
	assert_int_equal(keyring_open(missing, 1, &kr), 0);
	assert_int_equal(keyring_key_generate(kr, 1, 1), SIGIL_EIO);
	assert_int_equal(keyring_key_get(kr, 1, &k, NULL), SIGIL_ENOTFOUND);
	assert_int_equal(keyring_secret(kr, "cookie", 1, s), SIGIL_EIO);
	assert_int_equal(keyring_secret(kr, "cookie", 0, s), SIGIL_ENOTFOUND);
	keyring_free(kr);
}

/* The whole key-id space loads; one byte past 8 MiB does not. */
static void
test_bounds(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	struct code_key k;
	uint32_t brand = 0;
	/* Under valgrind (SIGIL_TEST_QUICK) a slice of the id space will do. */
	unsigned top = getenv("SIGIL_TEST_QUICK") ? 40959 : 65535;
	FILE *fp;

	fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (unsigned id = top;; id--) {
		fprintf(fp, "key %u %u %s\n", id, id + 1, HEX64);
		if (id == 0)
			break;
	}
	fclose(fp);
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	assert_int_equal(keyring_key_get(kr, 40000, &k, &brand), 0);
	assert_int_equal(brand, 40001);
	assert_int_equal(keyring_key_generate(kr, 123, 1), SIGIL_EEXIST);
	keyring_free(kr);
	kr = NULL;

	fp = fopen(f->path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 8 * 1024; i++)
		fprintf(fp, "#%01022d\n", 0);
	fputc('\n', fp);
	fclose(fp);
	assert_int_equal(keyring_open(f->path, 0, &kr), SIGIL_EINVAL);
	assert_null(kr);
}

static void
count_reload(int added, void *arg)
{
	assert_int_equal(added, 1);
	(*(int *)arg)++;
}

/* Keys another process adds while a server runs (review F17). */
static void
test_watch(void **state)
{
	struct fixture *f = *state;
	int reloads = 0;
	struct keyring *srv = NULL, *cli = NULL;
	struct code_key k1, again, k9;
	uint32_t brand = 0;
	char text[512];

	write_file(f->path, "key 1 1 " HEX64 "\n", 0600);
	assert_int_equal(keyring_open(f->path, 0, &srv), 0);
	assert_int_equal(keyring_key_get(srv, 1, &k1, NULL), 0);
	/* Without watch an unknown id stays unknown. */
	assert_int_equal(keyring_open(f->path, 0, &cli), 0);
	assert_int_equal(keyring_key_generate(cli, 2, 5), 0);
	assert_int_equal(keyring_key_get(srv, 2, &again, NULL),
	    SIGIL_ENOTFOUND);
	keyring_watch(srv, 1, count_reload, &reloads);
	assert_int_equal(keyring_key_get(srv, 2, &again, &brand), 0);
	assert_int_equal(brand, 5);
	/* Right after a reload another new key waits for the rate limit. */
	assert_int_equal(keyring_key_generate(cli, 3, 5), 0);
	assert_int_equal(keyring_key_get(srv, 3, &again, NULL),
	    SIGIL_ENOTFOUND);
	usleep(1100000);
	assert_int_equal(keyring_key_get(srv, 3, &again, NULL), 0);
	/* An unknown id on an unchanged file stays unknown. */
	assert_int_equal(reloads, 2);
	usleep(1100000);
	assert_int_equal(keyring_key_get(srv, 4000, &again, NULL),
	    SIGIL_ENOTFOUND);
	assert_int_equal(reloads, 2);
	keyring_free(cli);

	/* A loaded key is never replaced, even by a different root. */
	snprintf(text, sizeof text, "key 1 1 %s\nkey 9 2 %s\n",
	    "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff",
	    HEX64);
	write_file(f->path, text, 0600);
	assert_int_equal(keyring_reload(srv), 1);
	assert_int_equal(keyring_key_get(srv, 1, &again, NULL), 0);
	assert_memory_equal(&again, &k1, sizeof k1);
	assert_int_equal(keyring_key_get(srv, 9, &k9, &brand), 0);
	assert_int_equal(brand, 2);
	assert_int_equal(keyring_key_get(srv, 2, &again, NULL), 0);
	assert_int_equal(keyring_reload(srv), 0);
	/* A broken file changes nothing. */
	write_file(f->path, "key 1 1 zz\n", 0600);
	assert_int_equal(keyring_reload(srv), SIGIL_EINVAL);
	write_file(f->path, "key 1 1 " HEX64 "\n", 0644);
	assert_int_equal(keyring_reload(srv), SIGIL_EDENIED);
	assert_int_equal(keyring_key_get(srv, 9, &again, NULL), 0);
	assert_memory_equal(&again, &k9, sizeof k9);
	keyring_free(srv);
}

/* Blobs: round trip, the file's line, replace, remove, reload by another
 * instance, bounds and names, what another process wrote kept by a put,
 * a blob set or replaced by another process seen through the watch. */
static void
test_blobs(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL, *kr2 = NULL;
	struct code_key k;
	static uint8_t big[KEYRING_BLOB_MAX + 1];
	const char *pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n"
	    "-----END PRIVATE KEY-----\n";
	uint8_t *out = NULL;
	size_t len = 0;
	struct stat st;

	assert_int_equal(keyring_open(f->path, 1, &kr), 0);
	assert_int_equal(keyring_blob_get(kr, "wxpay-key/1", &out, &len),
	    SIGIL_ENOTFOUND);
	assert_int_equal(keyring_blob_put(kr, "wxpay-key/1", pem, strlen(pem)),
	    0);
	assert_int_equal(keyring_blob_put(kr, "wxpay-v3/1",
	    "0123456789abcdefghijklmnopqrstuv", 32), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_non_null(strstr(read_file(f->path), "\nblob wxpay-v3/1 "
	    "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=\n"));
	assert_null(strstr(read_file(f->path), "0123456789abcdefghij"));
	assert_int_equal(keyring_blob_get(kr, "wxpay-key/1", &out, &len), 0);
	assert_int_equal(len, strlen(pem));
	assert_string_equal((char *)out, pem);	/* NUL-terminated copy */
	keyring_blob_free(out, len);

	/* Another instance reads them; a replace and a remove persist. */
	assert_int_equal(keyring_open(f->path, 0, &kr2), 0);
	assert_int_equal(keyring_blob_get(kr2, "wxpay-v3/1", &out, &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(out, "0123456789abcdefghijklmnopqrstuv", 32);
	keyring_blob_free(out, len);
	keyring_free(kr2);
	assert_int_equal(keyring_blob_put(kr, "wxpay-v3/1",
	    "vutsrqponmlkjihgfedcba9876543210", 32), 0);
	assert_int_equal(keyring_blob_put(kr, "wxpay-key/1", NULL, 0), 0);
	assert_int_equal(keyring_blob_put(kr, "wxpay-key/1", NULL, 0),
	    SIGIL_ENOTFOUND);
	keyring_free(kr);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	assert_int_equal(keyring_blob_get(kr, "wxpay-key/1", &out, &len),
	    SIGIL_ENOTFOUND);
	assert_int_equal(keyring_blob_get(kr, "wxpay-v3/1", &out, &len), 0);
	assert_memory_equal(out, "vutsrqponmlkjihgfedcba9876543210", 32);
	keyring_blob_free(out, len);

	/* Names and bounds: refused, nothing written. */
	memset(big, 'k', sizeof big);
	assert_int_equal(keyring_blob_put(kr, "Wxpay", "x", 1), SIGIL_EINVAL);
	assert_int_equal(keyring_blob_put(kr, "wx pay", "x", 1), SIGIL_EINVAL);
	assert_int_equal(keyring_blob_put(kr, "", "x", 1), SIGIL_EINVAL);
	assert_int_equal(keyring_blob_put(kr,
	    "a123456789012345678901234567890123456789012345678", "x", 1),
	    SIGIL_EINVAL);
	assert_int_equal(keyring_blob_put(kr, "big", big, sizeof big),
	    SIGIL_EINVAL);
	assert_int_equal(keyring_blob_put(kr, "big", big, sizeof big - 1), 0);
	assert_int_equal(keyring_blob_get(kr, "big", &out, &len), 0);
	assert_int_equal(len, KEYRING_BLOB_MAX);
	keyring_blob_free(out, len);

	/* A key another process made survives this one's blob put. */
	assert_int_equal(keyring_open(f->path, 0, &kr2), 0);
	assert_int_equal(keyring_key_generate(kr2, 77, 3), 0);
	assert_int_equal(keyring_blob_put(kr, "wxpay-key/2", "pem", 3), 0);
	keyring_free(kr2);
	assert_int_equal(keyring_open(f->path, 0, &kr2), 0);
	assert_int_equal(keyring_key_get(kr2, 77, &k, NULL), 0);
	assert_int_equal(keyring_blob_get(kr2, "wxpay-key/2", &out, &len), 0);
	keyring_blob_free(out, len);

	/* kr2 ("the CLI") replaces a blob and adds one; kr ("sigild")
	 * sees both through the watch once the rate limit allows. */
	keyring_watch(kr, 1, NULL, NULL);
	usleep(1100000);
	assert_int_equal(keyring_blob_put(kr2, "wxpay-key/2", "new", 3), 0);
	assert_int_equal(keyring_blob_put(kr2, "wxpay-v3/2",
	    "0123456789abcdefghijklmnopqrstuv", 32), 0);
	assert_int_equal(keyring_blob_get(kr, "wxpay-key/2", &out, &len), 0);
	assert_memory_equal(out, "new", 3);
	keyring_blob_free(out, len);
	assert_int_equal(keyring_blob_get(kr, "wxpay-v3/2", &out, &len), 0);
	keyring_blob_free(out, len);
	keyring_free(kr2);
	keyring_free(kr);
}

/* Malformed blob lines refuse the whole file. */
static void
test_blob_malformed(void **state)
{
	struct fixture *f = *state;
	struct keyring *kr = NULL;
	static const char *const bad[] = {
		"blob wxpay-v3/1 MDEy=Mzq\n",		/* padding inside */
		"blob wxpay-v3/1 MDEyM\n",		/* not a multiple of 4 */
		"blob wxpay-v3/1 MD!y\n",		/* not base64 */
		"blob WXPAY MDEy\n",			/* name */
		"blob wxpay-v3/1\n",			/* no value */
		"blob wxpay-v3/1 MDEy\nblob wxpay-v3/1 MDEy\n",	/* twice */
		"blob wxpay-v3/1 MDEy extra\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_file(f->path, bad[i], 0600);
		assert_int_equal(keyring_open(f->path, 0, &kr), SIGIL_EINVAL);
		assert_null(kr);
	}
	write_file(f->path, "blob wxpay-v3/1 MDEy\n", 0600);
	assert_int_equal(keyring_open(f->path, 0, &kr), 0);
	keyring_free(kr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_known_root, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_tmp_and_rollback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_malformed, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
