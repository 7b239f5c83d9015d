#!/bin/sh
# mint.sh - minting speed and memory, each figure a ratio against a
# reference measured in the same run on the same machine:
#   mint_csv  2,000,000 codes to csv vs `openssl speed -hmac sha256
#             -bytes 32` (one HMAC per code is the floor)   goal >= 0.5
#   mint_svg  20,000 codes to svg files, --jobs 2, vs 2 x the one-core
#             qr.c rate of bench/qr_ref.sh (and vs npm qrcode)  goal >= 0.8
#   mint_rss  peak RSS minting 10,000,000 codes to csv      goal <= 32 MiB
# Takes about a minute. Needs /usr/bin/time (package `time`).
set -eu
cd "$(dirname "$0")/.."
make -s bin/sigil >&2 || { echo "mint.sh: build failed" >&2; exit 1; }
S=$PWD/bin/sigil
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
D=$tmp/data
q() { "$@" >/dev/null; }
q "$S" init --data "$D" --brand Bench --base-url HTTPS://EXAMPLE12.COM
q "$S" product add --data "$D" --brand Bench --sku B --name bench
batch=$("$S" batch new --data "$D" --brand Bench --sku B --count 10000000)
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# (1) csv vs HMAC-SHA256 of 32 bytes.
hmac=$(openssl speed -seconds 3 -hmac sha256 -bytes 32 2>/dev/null |
	awk '/^hmac\(sha256\)/ { v = $2; sub(/k$/, "", v); print int(v * 1000 / 32) }')
[ -n "$hmac" ] || { echo "mint.sh: cannot parse openssl speed output" >&2; exit 1; }
n=2000000
t0=$(now)
q "$S" mint --data "$D" --batch "$batch" --format csv --out "$tmp/a.csv" --limit $n
t1=$(now)
rate=$(awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
echo "mint_csv codes_per_s=$rate hmac_ref_per_s=$hmac ratio=$(ratio "$rate" "$hmac") (goal >= 0.5)"
rm -f "$tmp/a.csv"

# (2) svg files with two threads vs two cores of the qr.c reference.
# Minting first, then the reference; no files are deleted until the end
# (on ext4 without a journal, creating files right after deleting many is
# several times slower: see qr_ref.sh).
n=20000
t0=$(now)
q "$S" mint --data "$D" --batch "$batch" --format svg --out "$tmp/svg" --limit $n --jobs 2
t1=$(now)
if [ -x bench/qr_ref.sh ] || [ -f bench/qr_ref.sh ]; then
	QR_REF_FILES=$tmp/ref_files sh bench/qr_ref.sh $n >"$tmp/ref" \
	    2>"$tmp/ref.err" || true
fi
svg=$(awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }')
ref=$(sed -n 's/^qr_ref codes_per_s=//p' "$tmp/ref" 2>/dev/null || true)
node=$(sed -n 's/^node_qrcode codes_per_s=//p' "$tmp/ref" 2>/dev/null || true)
line="mint_svg jobs=2 codes_per_s=$svg"
if [ -n "$ref" ]; then
	line="$line qr_ref_x2_per_s=$((ref * 2)) ratio=$(ratio "$svg" $((ref * 2))) (goal >= 0.8)"
else
	line="$line qr_ref=unavailable ($(head -n 1 "$tmp/ref.err" 2>/dev/null))"
fi
[ -n "$node" ] && line="$line node_qrcode_per_s=$node vs_node=$(ratio "$svg" "$node")"
echo "$line load_avg=$(cut -d" " -f1 /proc/loadavg)"
# The same reference writing one file per code, as minting must: what is
# left of the gap once the file system's per-file cost is in both.
reff=$(sed -n 's/^qr_ref_files codes_per_s=//p' "$tmp/ref" 2>/dev/null || true)
[ -n "$reff" ] && echo "mint_svg_vs_files jobs=2 codes_per_s=$svg qr_ref_files_x2_per_s=$((reff * 2)) ratio=$(ratio "$svg" $((reff * 2))) (context: one file per code in both)"
rm -rf "$tmp/svg"

# (3) peak RSS for 10 million codes.
TIME=/usr/bin/time
[ -x $TIME ] || { echo "mint_rss skipped: install package 'time'"; exit 0; }
$TIME -f %M -o "$tmp/rss" "$S" mint --data "$D" --batch "$batch" --format csv --out "$tmp/big.csv" >/dev/null
kb=$(tail -n 1 "$tmp/rss")
mib=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
echo "mint_rss codes=10000000 peak_rss_mib=$mib (goal <= 32)"
