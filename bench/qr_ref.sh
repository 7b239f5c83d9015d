#!/bin/sh
# qr_ref.sh [N] - single-core QR generation rate, sigil's qr.c against the
# npm `qrcode` package, on the same N (default 20000) compact URLs
# ("HTTPS://EXAMPLE12.COM/S/" + 28 Crockford characters, version 3-M).
# Prints "qr_ref codes_per_s=N", "qr_ref_files codes_per_s=N" (each SVG to
# a file of its own, in a temp dir) and "node_qrcode codes_per_s=N".
# Needs node and npm for the last line (scripts/deps.sh browser).
set -eu
cd "$(dirname "$0")/.."
n=${1:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Link against the release library; if another module does not build right
# now, fall back to qr.o alone so the measurement still runs.
if make -s build/rel/libsigil.a >"$tmp/make.log" 2>&1; then
	objs=build/rel/libsigil.a
else
	echo "qr_ref.sh: libsigil.a did not build, linking qr.o alone" >&2
	make -s build/rel/src/ground/qr.o
	objs=build/rel/src/ground/qr.o
fi
gcc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
	-o "$tmp/qr_ref" bench/qr_ref.c $objs \
	-lqrencode -lpng -lz -lm -pthread

awk -v n="$n" 'BEGIN {
	srand(42)
	a = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	for (i = 0; i < n; i++) {
		s = ""
		for (j = 0; j < 28; j++)
			s = s substr(a, int(rand() * 32) + 1, 1)
		print "HTTPS://EXAMPLE12.COM/S/" s
	}
}' >"$tmp/urls"

"$tmp/qr_ref" <"$tmp/urls"
# QR_REF_FILES names a directory to write into and leave for the caller:
# deleting 20,000 files just before another run creates 20,000 makes that
# run pay for it (ext4 without a journal skips recently freed inodes one by
# one, reading each one's inode table block).
files=${QR_REF_FILES:-$tmp/files}
mkdir -p "$files"
"$tmp/qr_ref" "$files" <"$tmp/urls"

if [ ! -d bench/qrcode_node/node_modules ]; then
	(cd bench/qrcode_node && npm install --no-audit --no-fund >&2)
fi
node bench/qrcode_node/bench.js <"$tmp/urls"
