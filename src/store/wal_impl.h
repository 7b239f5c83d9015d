/*
 * wal_impl.h - what the write-ahead log's two files share, and nothing
 * else includes: the file layout's constants, a header slot as decoded,
 * the record framing and the small I/O helpers. wal.c writes the log
 * (recording, commits, checkpoints, open and close); wal_replay.c reads
 * it back and applies it after a crash, and owns the record format both
 * use. Include after store_impl.h, with WAL_IMPL defined (the log sees
 * LMDB's own mdb_put, not the recording macros).
 */
#ifndef SIGIL_WAL_IMPL_H
#define SIGIL_WAL_IMPL_H

#include <stdint.h>
#include <sys/types.h>

#define WAL_MAGIC		"SIGILWAL"
#define WAL_VERSION		2	/* 1: no fingerprint */
#define WAL_SLOT_OFF(i)		(4096 + (off_t)(i) * 20480)
#define WAL_SLOT_FIXED		72	/* 56 in version 1 */
#define WAL_PSIZE_MAX		8192
#define WAL_REC_MAGIC		0x52574753u	/* "SGWR" */
#define WAL_REC_HDR		32
#define WAL_SEG_BYTES		((off_t)16 << 20)
#define WAL_CKPT_MS		100	/* SIGIL_WAL_CKPT_MS overrides */
#define WAL_TRICKLE_MS		5	/* SIGIL_WAL_TRICKLE_MS; 0 = off */
#define WAL_LOCK_OWNER		0
#define WAL_LOCK_OPEN		1

enum { WAL_CLEAN = 1, WAL_ACTIVE = 2 };
enum { OP_PUT = 1, OP_DEL = 2, OP_DELDUP = 3 };

/* A saved checkpoint: the header slot's contents. */
struct wal_hdr {
	uint64_t	 seq;		/* slot generation; higher wins */
	uint32_t	 state;		/* WAL_CLEAN or WAL_ACTIVE */
	uint32_t	 seg;		/* segment records after txnid go to */
	uint64_t	 gen;		/* their generation */
	uint64_t	 txnid;		/* M: the synced transaction */
	uint32_t	 psize;
	uint64_t	 fp_page;	/* a page of M (0: none) ... */
	uint32_t	 fp_crc;	/* ... and its CRC-32C */
	uint8_t		 meta[2 * WAL_PSIZE_MAX];
};

/* ---- small I/O helpers (wal_replay.c) ---- */

/* Bytes read (short at end of file), or -1. */
ssize_t pread_full(int fd, void *p, size_t n, off_t off);
/* dir/name into out: 0, or -1 when it does not fit. */
int path_in(char *out, size_t cap, const char *dir, const char *name);
int fsync_dir(const char *dir);

/* ---- the record format (wal_replay.c) ---- */

/* Writes a record (header and body, one pwritev) at off of fd: 0 or -1. */
int rec_write(int fd, off_t off, uint64_t gen, uint64_t txnid,
    const uint8_t *body, size_t len);

/*
 * Puts data.mdb in dir back at the checkpoint h describes and applies the
 * log after it (*applied: transactions). Runs with the recovery lock
 * held and no environment open in this process. 0, SIGIL_ESTATE (not
 * this store's log, or a gap), SIGIL_EIO, SIGIL_ENOMEM.
 */
int wal_replay(const char *dir, const struct wal_hdr *h, uint64_t *applied);

#endif
