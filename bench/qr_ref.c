/*
 * qr_ref.c - reference rate for QR generation: URLs (one a line) on
 * stdin, each encoded with qr_encode (QRcode_encodeString underneath) at
 * level M and written as SVG with qr_write_svg to /dev/null, on one core.
 * The URLs are read into memory first so only encoding and writing are
 * timed. Prints one line: "qr_ref codes_per_s=N".
 *
 * qr_ref DIR: the same, but each SVG goes to a file of its own, DIR/N.svg
 * (open, one buffered write, close: what `sigil mint --format svg` does
 * per code), printing "qr_ref_files codes_per_s=N". The difference from
 * the first figure is what this file system charges per file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigil/qr.h"

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	char line[4096], **urls = NULL;
	size_t n = 0, cap = 0;
	struct timespec t0, t1;
	FILE *devnull;
	double secs;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			urls = realloc(urls, cap * sizeof(*urls));
			if (urls == NULL)
				return 1;
		}
		if ((urls[n++] = strdup(line)) == NULL)
			return 1;
	}
	if (n == 0) {
		fprintf(stderr, "qr_ref: no URLs on stdin\n");
		return 1;
	}
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++) {
		struct qr *q;
		FILE *f = devnull;
		char path[4096];
		int err;

		if (dir != NULL) {
			snprintf(path, sizeof(path), "%s/%zu.svg", dir, i);
			if ((f = fopen(path, "w")) == NULL) {
				perror(path);
				return 1;
			}
		}
		if ((err = qr_encode(urls[i], QR_LEVEL_M, &q)) != 0 ||
		    (err = qr_write_svg(q, 4, 4, f)) != 0) {
			fprintf(stderr, "qr_ref: %s: error %d\n", urls[i],
			    err);
			return 1;
		}
		qr_free(q);
		if (f != devnull && fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%s codes_per_s=%.0f\n", dir ? "qr_ref_files" : "qr_ref",
	    (double)n / secs);
	fclose(devnull);
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	return 0;
}
