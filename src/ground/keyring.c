/*
 * keyring.c - the secret bytes: brand root keys and named server secrets,
 * in one small text file with mode 0600, kept out of the LMDB files.
 *
 * Why a separate file: a copied or backed-up database must not be enough
 * to mint codes or forge cookies, and the keyring must be backed up (and
 * guarded) on its own. docs/codes.md "Where keys live" says the same to
 * operators. Key metadata (creation time, revocation) is the store's job;
 * only the bytes live here.
 *
 * What it owns: the file, and the in-memory copy of its secrets, which is
 * wiped with OPENSSL_cleanse before any buffer holding it is freed (growth
 * copies by hand rather than realloc so no stale copy is left behind).
 * It may call libc, OpenSSL (cleanse) and code.c (derivation) and util.c
 * (hex, CSPRNG). It must never log, print or return a root key: callers
 * get derived working keys only.
 *
 * Blobs ("blob <name> <base64>") are secrets of any length that are made
 * elsewhere and only kept here: a brand's WeChat Pay merchant private key
 * (PEM) and its APIv3 key. They follow the keys' rules (0600, durable
 * rewrite, wiped copies) with one difference on reload: a blob the file
 * holds replaces the loaded one of the same name, because the merchant
 * replaces a WeChat Pay key by setting it again, and nothing already
 * made depends on the old one the way codes depend on a root key.
 *
 * Durability: a rewrite goes to "<path>.tmp" created with O_EXCL and mode
 * 0600, is fsynced, renamed over the old file, and the directory is
 * fsynced, so a crash leaves the old or the new keyring, never a mix. A
 * failed rewrite undoes the in-memory change, so memory and disk agree.
 *
 * Refusals: a file any group or other bit set is refused outright, as
 * OpenSSH refuses loose private keys: a keyring readable by others is
 * already compromised and silence would hide that. The file is bounded
 * (65536 keys, 64 secrets, 8 MiB) and every line is checked strictly.
 *
 * Concurrency: readers (keyring_key_get) may run in parallel; a call that
 * can rewrite the file (generate, secret with create) must not run
 * alongside any other call on the same keyring. The server loads secrets
 * at start-up, before its threads exist.
 *
 * Keys made while a server runs (`sigil key new`, `sigil brand add` write
 * the file from another process): keyring_reload adds what the file
 * holds and memory lacks, never changing or dropping a loaded key. With
 * keyring_watch on, a key id keyring_key_get does not know makes it look
 * at the file (a stat, at most every KEYRING_CHECK_US) and reload it
 * (at most every KEYRING_RELOAD_US, and only when its inode, size or
 * mtime changed), so codes with made-up key ids cannot make every scan
 * read the file. Lookups and reloads hold the keyring's lock, so a
 * reload never moves the key array under a reader.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sigil/code.h"
#include "sigil/keyring.h"
#include "sigil/util.h"

#define KEYRING_MAX_KEYS	65536
#define KEYRING_MAX_SECRETS	64
#define KEYRING_NAME_MAX	32
#define KEYRING_FILE_MAX	(8u << 20)
#define KEYRING_HEX_LEN		(2 * CODE_KEY_BYTES)
#define KEYRING_CHECK_US	100000
#define KEYRING_RELOAD_US	1000000
#define KEYRING_MAX_BLOBS	4096

struct keyring_key {
	uint16_t	id;
	uint32_t	brand_id;
	uint8_t		root[CODE_KEY_BYTES];
	struct code_key	*derived;	/* made on first use, then kept:
					   sigild verifies with it per scan */
};

struct keyring_secret {
	char		name[KEYRING_NAME_MAX + 1];
	uint8_t		bytes[32];
};

struct keyring_blob {
	char		name[KEYRING_BLOB_NAME_MAX + 1];
	uint8_t		*bytes;
	size_t		len;
};

/* What the file looked like when last read. */
struct keyring_seen {
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtime;
};

struct keyring {
	pthread_mutex_t		 lock;		/* derivation, lookups, reloads */
	char			*path;
	int			 watch;		/* reload on an unknown key id */
	void			(*reloaded)(int added, void *arg);
	void			*reloaded_arg;
	int64_t			 checked_us, reloaded_us;	/* monotonic */
	struct keyring_seen	 seen;
	struct keyring_key	*keys;		/* sorted by id */
	size_t			 nkeys, capkeys;
	struct keyring_secret	 secrets[KEYRING_MAX_SECRETS];
	size_t			 nsecrets;
	struct keyring_blob	*blobs;		/* unordered, few */
	size_t			 nblobs, capblobs;
};

static const char keyring_header[] =
    "# sigil keyring: secret keys. Keep mode 0600; back it up apart from\n"
    "# the data directory. Lines: key <key-id> <brand-id> <hex>,\n"
    "# secret <name> <hex>, blob <name> <base64>.\n";

static int
name_valid(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strnlen(name, KEYRING_NAME_MAX + 1);
	if (n == 0 || n > KEYRING_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return 0;
	return 1;
}

static int
blob_name_valid(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strnlen(name, KEYRING_BLOB_NAME_MAX + 1);
	if (n == 0 || n > KEYRING_BLOB_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		    name[i] == '/'))
			return 0;
	return 1;
}

static struct keyring_blob *
blob_find(const struct keyring *kr, const char *name)
{
	for (size_t i = 0; i < kr->nblobs; i++)
		if (strcmp(kr->blobs[i].name, name) == 0)
			return &kr->blobs[i];
	return NULL;
}

static void
blob_wipe(struct keyring_blob *b)
{
	if (b->bytes != NULL) {
		OPENSSL_cleanse(b->bytes, b->len);
		free(b->bytes);
	}
	OPENSSL_cleanse(b, sizeof(*b));
}

/* Sets name to a copy of len bytes (len > 0), adding or replacing. */
static int
blob_set(struct keyring *kr, const char *name, const uint8_t *bytes,
    size_t len)
{
	struct keyring_blob *b = blob_find(kr, name);
	uint8_t *copy;

	if (len == 0 || len > KEYRING_BLOB_MAX)
		return SIGIL_EINVAL;
	if ((copy = malloc(len)) == NULL)
		return SIGIL_ENOMEM;
	memcpy(copy, bytes, len);
	if (b == NULL) {
		if (kr->nblobs == KEYRING_MAX_BLOBS) {
			OPENSSL_cleanse(copy, len);
			free(copy);
			return SIGIL_EFULL;
		}
		if (kr->nblobs == kr->capblobs) {
			size_t cap = kr->capblobs ? kr->capblobs * 2 : 8;
			struct keyring_blob *n = calloc(cap, sizeof(*n));

			if (n == NULL) {
				OPENSSL_cleanse(copy, len);
				free(copy);
				return SIGIL_ENOMEM;
			}
			if (kr->nblobs > 0)
				memcpy(n, kr->blobs, kr->nblobs * sizeof(*n));
			free(kr->blobs);	/* pointers moved, no bytes */
			kr->blobs = n;
			kr->capblobs = cap;
		}
		b = &kr->blobs[kr->nblobs++];
		strcpy(b->name, name);
	} else if (b->bytes != NULL) {
		OPENSSL_cleanse(b->bytes, b->len);
		free(b->bytes);
	}
	b->bytes = copy;
	b->len = len;
	return 0;
}

static void
blob_remove(struct keyring *kr, struct keyring_blob *b)
{
	blob_wipe(b);
	*b = kr->blobs[--kr->nblobs];
	memset(&kr->blobs[kr->nblobs], 0, sizeof(*b));
}

/* Index of id, or of where it would go (with *found = 0). */
static size_t
key_find(const struct keyring *kr, uint16_t id, int *found)
{
	size_t lo = 0, hi = kr->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (kr->keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < kr->nkeys && kr->keys[lo].id == id;
	return lo;
}

static struct keyring_secret *
secret_find(struct keyring *kr, const char *name)
{
	for (size_t i = 0; i < kr->nsecrets; i++)
		if (strcmp(kr->secrets[i].name, name) == 0)
			return &kr->secrets[i];
	return NULL;
}

/* Grows the key array by copying, so old secret bytes can be wiped. */
static int
keys_reserve(struct keyring *kr, size_t want)
{
	struct keyring_key *n;
	size_t cap;

	if (want <= kr->capkeys)
		return 0;
	if (want > KEYRING_MAX_KEYS)
		return SIGIL_EFULL;
	cap = kr->capkeys ? kr->capkeys * 2 : 16;
	if (cap < want)
		cap = want;
	if (cap > KEYRING_MAX_KEYS)
		cap = KEYRING_MAX_KEYS;
	if ((n = calloc(cap, sizeof(*n))) == NULL)
		return SIGIL_ENOMEM;
	if (kr->nkeys > 0)
		memcpy(n, kr->keys, kr->nkeys * sizeof(*n));
	if (kr->keys != NULL) {
		/* The derived keys move with their entries (pointers). */
		OPENSSL_cleanse(kr->keys, kr->capkeys * sizeof(*kr->keys));
		free(kr->keys);
	}
	kr->keys = n;
	kr->capkeys = cap;
	return 0;
}

static int
key_insert(struct keyring *kr, uint16_t id, uint32_t brand_id,
    const uint8_t root[CODE_KEY_BYTES])
{
	size_t at;
	int found, err;

	at = key_find(kr, id, &found);
	if (found)
		return SIGIL_EEXIST;
	if ((err = keys_reserve(kr, kr->nkeys + 1)) != 0)
		return err;
	memmove(&kr->keys[at + 1], &kr->keys[at],
	    (kr->nkeys - at) * sizeof(*kr->keys));
	kr->keys[at].id = id;
	kr->keys[at].brand_id = brand_id;
	memcpy(kr->keys[at].root, root, CODE_KEY_BYTES);
	kr->keys[at].derived = NULL;
	kr->nkeys++;
	return 0;
}

static void
key_remove(struct keyring *kr, uint16_t id)
{
	size_t at;
	int found;

	at = key_find(kr, id, &found);
	if (!found)
		return;
	if (kr->keys[at].derived != NULL) {
		OPENSSL_cleanse(kr->keys[at].derived,
		    sizeof(*kr->keys[at].derived));
		free(kr->keys[at].derived);
	}
	memmove(&kr->keys[at], &kr->keys[at + 1],
	    (kr->nkeys - at - 1) * sizeof(*kr->keys));
	kr->nkeys--;
	OPENSSL_cleanse(&kr->keys[kr->nkeys], sizeof(*kr->keys));
}

/* ---- reading ------------------------------------------------------------ */

/* Splits line in place on blanks; at most max fields, else -1. */
static int
split_fields(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return -1;
		f[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

static int
hex_root(const char *hex, uint8_t out[CODE_KEY_BYTES])
{
	if (strlen(hex) != KEYRING_HEX_LEN)
		return SIGIL_EINVAL;
	return sigil_hex_decode(hex, CODE_KEY_BYTES, out);
}

/* A blob's base64 (sigil_b64_decode) into a malloc'd buffer. */
static int
b64_decode(const char *s, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s), len;
	uint8_t *buf;
	int rc;

	if (n / 4 * 3 > KEYRING_BLOB_MAX + 2)
		return SIGIL_EINVAL;
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL)
		return SIGIL_ENOMEM;
	if ((rc = sigil_b64_decode(s, n, buf, KEYRING_BLOB_MAX, &len)) != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int
parse_line(struct keyring *kr, char *line)
{
	char *f[4];
	uint8_t bytes[CODE_KEY_BYTES];
	uint64_t id, brand;
	int n, err = SIGIL_EINVAL;

	if (strchr(line, '\r') != NULL)
		line[strcspn(line, "\r")] = '\0';
	if (line[0] == '#')
		return 0;
	if ((n = split_fields(line, f, 4)) == 0)
		return 0;
	if (n == 4 && strcmp(f[0], "key") == 0) {
		if (sigil_parse_u64(f[1], CODE_KEY_ID_MAX, &id) != 0 ||
		    sigil_parse_u64(f[2], UINT32_MAX, &brand) != 0 ||
		    hex_root(f[3], bytes) != 0)
			goto cleanup;
		/* A repeated id is a damaged file, not a choice to make. */
		err = key_insert(kr, (uint16_t)id, (uint32_t)brand, bytes);
		if (err == SIGIL_EEXIST || err == SIGIL_EFULL)
			err = SIGIL_EINVAL;
	} else if (n == 3 && strcmp(f[0], "secret") == 0) {
		struct keyring_secret *s;

		if (!name_valid(f[1]) || secret_find(kr, f[1]) != NULL ||
		    kr->nsecrets == KEYRING_MAX_SECRETS ||
		    hex_root(f[2], bytes) != 0)
			goto cleanup;
		s = &kr->secrets[kr->nsecrets++];
		strcpy(s->name, f[1]);
		memcpy(s->bytes, bytes, sizeof(s->bytes));
		err = 0;
	} else if (n == 3 && strcmp(f[0], "blob") == 0) {
		uint8_t *blob;
		size_t len;

		if (!blob_name_valid(f[1]) || blob_find(kr, f[1]) != NULL ||
		    b64_decode(f[2], &blob, &len) != 0)
			goto cleanup;
		err = blob_set(kr, f[1], blob, len);
		if (err == SIGIL_EFULL)
			err = SIGIL_EINVAL;
		OPENSSL_cleanse(blob, len);
		free(blob);
	}
cleanup:
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return err;
}

/* Reads the whole (bounded) file into a NUL-terminated buffer. */
static int
file_read(int fd, size_t size, char **out)
{
	char *buf;
	size_t got = 0;

	if ((buf = malloc(size + 2)) == NULL)
		return SIGIL_ENOMEM;
	/* One byte past st_size notices a file that grew under us. */
	while (got < size + 1) {
		ssize_t r = read(fd, buf + got, size + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			OPENSSL_cleanse(buf, got);
			free(buf);
			return SIGIL_EIO;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != size) {
		OPENSSL_cleanse(buf, got);
		free(buf);
		return SIGIL_EIO;
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

static int
keyring_load(struct keyring *kr, int fd)
{
	struct stat st;
	char *buf = NULL, *line, *nl;
	size_t size;
	int err;

	if (fstat(fd, &st) != 0)
		return SIGIL_EIO;
	if (!S_ISREG(st.st_mode))
		return SIGIL_EINVAL;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return SIGIL_EDENIED;
	if (st.st_size < 0 || (uint64_t)st.st_size > KEYRING_FILE_MAX)
		return SIGIL_EINVAL;
	size = (size_t)st.st_size;
	if ((err = file_read(fd, size, &buf)) != 0)
		return err;
	kr->seen = (struct keyring_seen){ st.st_dev, st.st_ino, st.st_size,
	    st.st_mtim };
	if (memchr(buf, '\0', size) != NULL) {
		err = SIGIL_EINVAL;
		goto cleanup;
	}
	for (line = buf; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((err = parse_line(kr, line)) != 0)
			goto cleanup;
		if (nl == NULL)
			break;
	}
	err = 0;
cleanup:
	OPENSSL_cleanse(buf, size);
	free(buf);
	return err;
}

void
keyring_free(struct keyring *kr)
{
	if (kr == NULL)
		return;
	if (kr->keys != NULL) {
		for (size_t i = 0; i < kr->nkeys; i++)
			if (kr->keys[i].derived != NULL) {
				OPENSSL_cleanse(kr->keys[i].derived,
				    sizeof(*kr->keys[i].derived));
				free(kr->keys[i].derived);
			}
		OPENSSL_cleanse(kr->keys, kr->capkeys * sizeof(*kr->keys));
		free(kr->keys);
	}
	for (size_t i = 0; i < kr->nblobs; i++)
		blob_wipe(&kr->blobs[i]);
	free(kr->blobs);
	free(kr->path);
	pthread_mutex_destroy(&kr->lock);
	OPENSSL_cleanse(kr, sizeof(*kr));
	free(kr);
}

int
keyring_open(const char *path, int create, struct keyring **out)
{
	struct keyring *kr;
	size_t plen;
	int fd, err;

	if (path == NULL || out == NULL)
		return SIGIL_EINVAL;
	plen = strnlen(path, PATH_MAX);
	if (plen == 0 || plen + sizeof(".tmp") > PATH_MAX)
		return SIGIL_EINVAL;
	if ((kr = calloc(1, sizeof(*kr))) == NULL)
		return SIGIL_ENOMEM;
	pthread_mutex_init(&kr->lock, NULL);
	if ((kr->path = strdup(path)) == NULL) {
		err = SIGIL_ENOMEM;
		goto fail;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && create)
			goto done;
		err = errno == ENOENT ? SIGIL_ENOTFOUND :
		    errno == EACCES ? SIGIL_EDENIED : SIGIL_EIO;
		goto fail;
	}
	err = keyring_load(kr, fd);
	close(fd);
	if (err != 0)
		goto fail;
done:
	*out = kr;
	return 0;
fail:
	keyring_free(kr);
	return err;
}

/* ---- writing ------------------------------------------------------------ */

/* The file's text; the caller wipes and frees it. */
static int
keyring_render(const struct keyring *kr, char **out, size_t *outlen)
{
	/* "key 65535 4294967295 <64>\n" and "secret <32> <64>\n" */
	size_t cap = sizeof(keyring_header) + kr->nkeys * 90 +
	    kr->nsecrets * 110, len;
	char *buf, hex[KEYRING_HEX_LEN + 1];

	for (size_t i = 0; i < kr->nblobs; i++)
		cap += 8 + KEYRING_BLOB_NAME_MAX + (kr->blobs[i].len + 2) / 3 * 4;
	/* A file keyring_open would refuse to read must not be written. */
	if (cap > KEYRING_FILE_MAX)
		return SIGIL_EFULL;

	if ((buf = malloc(cap)) == NULL)
		return SIGIL_ENOMEM;
	len = strlen(keyring_header);
	memcpy(buf, keyring_header, len);
	for (size_t i = 0; i < kr->nkeys; i++) {
		sigil_hex_encode(kr->keys[i].root, CODE_KEY_BYTES, hex);
		len += (size_t)snprintf(buf + len, cap - len, "key %u %lu %s\n",
		    (unsigned)kr->keys[i].id,
		    (unsigned long)kr->keys[i].brand_id, hex);
	}
	for (size_t i = 0; i < kr->nsecrets; i++) {
		sigil_hex_encode(kr->secrets[i].bytes, 32, hex);
		len += (size_t)snprintf(buf + len, cap - len, "secret %s %s\n",
		    kr->secrets[i].name, hex);
	}
	for (size_t i = 0; i < kr->nblobs; i++) {
		len += (size_t)snprintf(buf + len, cap - len, "blob %s ",
		    kr->blobs[i].name);
		len += (size_t)EVP_EncodeBlock((unsigned char *)buf + len,
		    kr->blobs[i].bytes, (int)kr->blobs[i].len);
		buf[len++] = '\n';
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	*out = buf;
	*outlen = len;
	return 0;
}

static int
dir_sync(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, err = 0;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return SIGIL_EIO;
	if (fsync(fd) != 0)
		err = SIGIL_EIO;
	close(fd);
	return err;
}

static int
keyring_save(const struct keyring *kr)
{
	char tmp[PATH_MAX], *text = NULL;
	size_t len = 0;
	int fd = -1, err;

	snprintf(tmp, sizeof(tmp), "%s.tmp", kr->path);
	if ((err = keyring_render(kr, &text, &len)) != 0)
		return err;
	/* A stale temporary from a crash would make O_EXCL fail forever. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		err = SIGIL_EIO;
		goto cleanup;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		err = SIGIL_EIO;
		goto cleanup;
	}
	if ((err = sigil_pwrite_all(fd, text, len, 0)) != 0)
		goto unlink_tmp;
	if (fsync(fd) != 0) {
		err = SIGIL_EIO;
		goto unlink_tmp;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = SIGIL_EIO;
		goto unlink_tmp;
	}
	fd = -1;
	if (rename(tmp, kr->path) != 0) {
		err = SIGIL_EIO;
		goto unlink_tmp;
	}
	err = dir_sync(kr->path);
	goto cleanup;
unlink_tmp:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
cleanup:
	OPENSSL_cleanse(text, len);
	free(text);
	return err;
}

/* ---- the API -------------------------------------------------------------- */

int
keyring_key_generate(struct keyring *kr, uint16_t key_id, uint32_t brand_id)
{
	uint8_t root[CODE_KEY_BYTES];
	int found, err;

	if (kr == NULL)
		return SIGIL_EINVAL;
	key_find(kr, key_id, &found);
	if (found)
		return SIGIL_EEXIST;
	if ((err = sigil_random(root, sizeof(root))) != 0)
		return err;
	if ((err = key_insert(kr, key_id, brand_id, root)) != 0)
		goto cleanup;
	if ((err = keyring_save(kr)) != 0)
		key_remove(kr, key_id);
cleanup:
	OPENSSL_cleanse(root, sizeof(root));
	return err;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Adds what the file holds and kr lacks; the number of keys added. */
static int
reload_locked(struct keyring *kr)
{
	struct keyring *disk;
	int fd, err, added = 0;

	if ((disk = calloc(1, sizeof(*disk))) == NULL)
		return SIGIL_ENOMEM;
	pthread_mutex_init(&disk->lock, NULL);
	if ((fd = open(kr->path, O_RDONLY | O_CLOEXEC)) < 0) {
		err = errno == ENOENT ? SIGIL_ENOTFOUND : errno == EACCES ?
		    SIGIL_EDENIED : SIGIL_EIO;
		goto out;
	}
	err = keyring_load(disk, fd);
	close(fd);
	if (err != 0)
		goto out;
	for (size_t i = 0; i < disk->nkeys; i++) {
		int found;

		key_find(kr, disk->keys[i].id, &found);
		/* A loaded key is never replaced: codes already verified
		 * with it must keep verifying. */
		if (found)
			continue;
		if ((err = key_insert(kr, disk->keys[i].id,
		    disk->keys[i].brand_id, disk->keys[i].root)) != 0)
			goto out;
		added++;
	}
	for (size_t i = 0; i < disk->nsecrets; i++)
		if (secret_find(kr, disk->secrets[i].name) == NULL &&
		    kr->nsecrets < KEYRING_MAX_SECRETS)
			kr->secrets[kr->nsecrets++] = disk->secrets[i];
	for (size_t i = 0; i < disk->nblobs; i++) {
		const struct keyring_blob *d = &disk->blobs[i];
		const struct keyring_blob *b = blob_find(kr, d->name);

		if (b != NULL && b->len == d->len &&
		    CRYPTO_memcmp(b->bytes, d->bytes, d->len) == 0)
			continue;
		if ((err = blob_set(kr, d->name, d->bytes, d->len)) != 0)
			goto out;
	}
	kr->seen = disk->seen;
	err = added;
out:
	kr->reloaded_us = mono_us();
	keyring_free(disk);
	return err;
}

int
keyring_reload(struct keyring *kr)
{
	int rc;

	if (kr == NULL)
		return SIGIL_EINVAL;
	pthread_mutex_lock(&kr->lock);
	rc = reload_locked(kr);
	pthread_mutex_unlock(&kr->lock);
	return rc;
}

void
keyring_watch(struct keyring *kr, int on,
    void (*reloaded)(int added, void *arg), void *arg)
{
	kr->watch = on;
	kr->reloaded = reloaded;
	kr->reloaded_arg = arg;
}

/* Reloads when the file changed, within the rate limits; keys added. */
static int
refresh_locked(struct keyring *kr)
{
	struct stat st;
	int64_t now = mono_us();
	int added;

	if (now - kr->checked_us < KEYRING_CHECK_US ||
	    now - kr->reloaded_us < KEYRING_RELOAD_US)
		return 0;
	kr->checked_us = now;
	if (stat(kr->path, &st) != 0 || (st.st_dev == kr->seen.dev &&
	    st.st_ino == kr->seen.ino && st.st_size == kr->seen.size &&
	    st.st_mtim.tv_sec == kr->seen.mtime.tv_sec &&
	    st.st_mtim.tv_nsec == kr->seen.mtime.tv_nsec))
		return 0;
	added = reload_locked(kr);
	if (kr->reloaded != NULL)
		kr->reloaded(added, kr->reloaded_arg);
	return added;
}

static int
key_get_locked(struct keyring *kr, uint16_t key_id, struct code_key *out,
    uint32_t *brand_id)
{
	size_t at;
	int found, err;

	at = key_find(kr, key_id, &found);
	if (!found)
		return SIGIL_ENOTFOUND;
	/*
	 * Derivation (HKDF) costs more than verifying a code, so it is done
	 * once per key, on first use.
	 */
	if (kr->keys[at].derived == NULL) {
		struct keyring_key *k = &kr->keys[at];
		struct code_key *d = malloc(sizeof *d);

		err = d == NULL ? SIGIL_ENOMEM : code_key_derive(key_id, k->root,
		    d);
		if (err != 0) {
			free(d);
			return err;
		}
		k->derived = d;
	}
	*out = *kr->keys[at].derived;
	if (brand_id != NULL)
		*brand_id = kr->keys[at].brand_id;
	return 0;
}

int
keyring_key_get(const struct keyring *ckr, uint16_t key_id,
    struct code_key *out, uint32_t *brand_id)
{
	/* Derived keys and reloads are caches: logically const. */
	struct keyring *kr = (struct keyring *)ckr;
	int err;

	if (kr == NULL || out == NULL)
		return SIGIL_EINVAL;
	pthread_mutex_lock(&kr->lock);
	err = key_get_locked(kr, key_id, out, brand_id);
	if (err == SIGIL_ENOTFOUND && kr->watch && refresh_locked(kr) > 0)
		err = key_get_locked(kr, key_id, out, brand_id);
	pthread_mutex_unlock(&kr->lock);
	return err;
}

int
keyring_secret(struct keyring *kr, const char *name, int create,
    uint8_t out[32])
{
	struct keyring_secret *s;
	int err;

	if (kr == NULL || out == NULL || !name_valid(name))
		return SIGIL_EINVAL;
	if ((s = secret_find(kr, name)) != NULL) {
		memcpy(out, s->bytes, sizeof(s->bytes));
		return 0;
	}
	if (!create)
		return SIGIL_ENOTFOUND;
	if (kr->nsecrets == KEYRING_MAX_SECRETS)
		return SIGIL_EFULL;
	s = &kr->secrets[kr->nsecrets];
	if ((err = sigil_random(s->bytes, sizeof(s->bytes))) != 0)
		goto undo;
	strcpy(s->name, name);
	kr->nsecrets++;
	if ((err = keyring_save(kr)) != 0) {
		kr->nsecrets--;
		goto undo;
	}
	memcpy(out, s->bytes, sizeof(s->bytes));
	return 0;
undo:
	OPENSSL_cleanse(s, sizeof(*s));
	return err;
}

/* ---- blobs ------------------------------------------------------------- */

/* Sets (len > 0) or removes (len 0) name, then saves; undone on failure. */
static int
blob_put_locked(struct keyring *kr, const char *name, const void *bytes,
    size_t len)
{
	struct keyring_blob *b = blob_find(kr, name), old = { 0 };
	int err;

	if (b == NULL && len == 0)
		return SIGIL_ENOTFOUND;
	if (b != NULL) {
		/* Kept until the file agrees, to undo a failed rewrite. */
		if ((old.bytes = malloc(b->len)) == NULL)
			return SIGIL_ENOMEM;
		memcpy(old.bytes, b->bytes, b->len);
		old.len = b->len;
	}
	if (len == 0)
		blob_remove(kr, b);
	else if ((err = blob_set(kr, name, bytes, len)) != 0)
		goto out;
	if ((err = keyring_save(kr)) != 0) {
		if (old.bytes != NULL)
			blob_set(kr, name, old.bytes, old.len);
		else
			blob_remove(kr, blob_find(kr, name));
	}
out:
	blob_wipe(&old);
	return err;
}

int
keyring_blob_put(struct keyring *kr, const char *name, const void *bytes,
    size_t len)
{
	int err;

	if (kr == NULL || !blob_name_valid(name) || len > KEYRING_BLOB_MAX ||
	    (len > 0 && bytes == NULL))
		return SIGIL_EINVAL;
	pthread_mutex_lock(&kr->lock);
	/* What another process wrote since the load must survive the
	 * rewrite; a file that cannot be read is not overwritten. */
	err = reload_locked(kr);
	if (err >= 0 || err == SIGIL_ENOTFOUND)
		err = blob_put_locked(kr, name, bytes, len);
	pthread_mutex_unlock(&kr->lock);
	return err;
}

int
keyring_blob_get(const struct keyring *ckr, const char *name, uint8_t **out,
    size_t *len)
{
	/* Reloads are caches, as in keyring_key_get. */
	struct keyring *kr = (struct keyring *)ckr;
	const struct keyring_blob *b;
	uint8_t *copy;
	int err = 0;

	if (kr == NULL || out == NULL || len == NULL || !blob_name_valid(name))
		return SIGIL_EINVAL;
	pthread_mutex_lock(&kr->lock);
	if (kr->watch)
		refresh_locked(kr);
	if ((b = blob_find(kr, name)) == NULL)
		err = SIGIL_ENOTFOUND;
	else if ((copy = malloc(b->len + 1)) == NULL)
		err = SIGIL_ENOMEM;
	else {
		memcpy(copy, b->bytes, b->len);
		copy[b->len] = '\0';	/* a PEM reads as a string */
		*out = copy;
		*len = b->len;
	}
	pthread_mutex_unlock(&kr->lock);
	return err;
}

void
keyring_blob_free(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}
