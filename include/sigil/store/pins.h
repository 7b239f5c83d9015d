/*
 * sigil/store/pins.h - which batches have had a hidden-PIN print file
 * made. PINs are derived from the serial with the brand's PIN key, which
 * lives in the keyring beside the packaging line's `sigil mint`, and are
 * never served over the API (SPEC §8); so the server cannot make a PIN
 * file, only know that one was made: `sigil mint --format csv --pin`
 * notes it here once the file is complete. A campaign that requires a
 * PIN is refused for batches without one (loyalty_api.c). In
 * src/store/store_pins.c. Included by sigil/store.h.
 */
#ifndef SIGIL_STORE_PINS_H
#define SIGIL_STORE_PINS_H

#include <stdint.h>

struct store;

struct pin_file {
	int64_t		first_at;	/* the first PIN file of the batch */
	int64_t		last_at;	/* the latest */
	uint32_t	files;		/* how many were made */
	uint64_t	codes;		/* codes in the latest */
};

/*
 * Notes a PIN print file of codes codes of batch_id (of brand_id), made
 * at at. 0, SIGIL_EINVAL for codes 0, or a storage error.
 */
int store_pin_file_note(struct store *st, uint32_t brand_id,
    uint64_t batch_id, uint64_t codes, int64_t at);

/* The batch's PIN files: 0 with *out, or SIGIL_ENOTFOUND if none. */
int store_pin_file_get(struct store *st, uint32_t brand_id,
    uint64_t batch_id, struct pin_file *out);

#endif
