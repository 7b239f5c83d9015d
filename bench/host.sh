#!/usr/bin/env bash
# What this machine does when its disk is kept busy: whether it stops its
# CPUs, and at how many syncs a second. No sigild involved; run it on a box
# before reading bench/scan.sh's latency figures from it.
#
# Core 0 plays a server under load (`loadgen burn`, busy 60 % of every
# millisecond) and writes 4 KiB + fdatasync at a fixed rate (`loadgen
# flush`: overwrites in a pre-filled file, so every sync is one data write
# and one cache flush, no journal). Core 1 runs `loadgen watch` at nice 19,
# which counts the times it got no CPU for more than 4 ms. One line per
# rate, the last one back to back (the disk kept busy), after a line for
# the disk alone (back to back, nothing else running) and a control with no
# disk I/O at all:
#
#   host_flush rate=R achieved=A sync_p50_ms=.. sync_p90_ms=.. sync_p99_ms=..
#              sync_max_ms=.. gaps=N gap_total_ms=T gap_max_ms=M end_phase_ms=E
#
# On a machine that is not throttled every line says gaps=0 (or close to
# it). On the development VM (2026-12-03) the control and rates up to
# ~1,000 syncs/s gave 0-3 gaps, and back to back (~1,400-1,750/s) 11-59
# gaps of up to ~11 ms, every one ending at the same point of a 100 ms
# period: the host stops the whole VM when its disk is kept busy. A scan
# server that syncs every group commit keeps the disk busy under load,
# so on such a machine its p99 is that stall (docs/storage.md).
#
# Usage: bench/host.sh   (DIR= a directory on the disk to test, default the
# repository; SECS= seconds per line, default 8; RATES= default
# "250 500 1000 0", 0 meaning back to back)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${DIR:-$ROOT}
SECS=${SECS:-8}
RATES=${RATES:-250 500 1000 0}
BUSY_CPU=${BUSY_CPU:-0}
WATCH_CPU=${WATCH_CPU:-1}

for t in cc taskset nice; do
	command -v "$t" >/dev/null || { echo "host.sh: $t missing" >&2; exit 1; }
done
TMP=$(mktemp -d "$DIR/.sigil-host.XXXXXX")
cleanup() {
	# shellcheck disable=SC2046
	kill -KILL $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -Wall -Wextra -o "$TMP/loadgen" "$ROOT/bench/loadgen.c"
LG=$TMP/loadgen

# loadgen flush's line with its fields named for this report
flush_fields() {
	sed -e 's/flushes=[0-9]* //' -e 's/^rate=/achieved=/' \
		-e 's/\(p[0-9]*_ms\|max_ms\)/sync_\1/g'
}

# one RATE: burn + flush on the busy core, watch on the other; RATE "-"
# is the control (burn and watch only)
line() {
	local rate=$1 wpid bpid f="" g
	taskset -c "$WATCH_CPU" nice -n 19 "$LG" watch -d "$SECS" >"$TMP/watch" &
	wpid=$!
	taskset -c "$BUSY_CPU" "$LG" burn -d "$SECS" -u 60 &
	bpid=$!
	if [ "$rate" != - ]; then
		f=$(taskset -c "$BUSY_CPU" "$LG" flush -f "$TMP/file" -d "$SECS" -r "$rate")
	fi
	wait "$bpid"
	wait "$wpid"
	g=$(sed -e 's/total_ms/gap_total_ms/' -e 's/max_ms/gap_max_ms/' \
		-e 's/over_ms=[^ ]* //' "$TMP/watch")
	if [ "$rate" = - ]; then
		echo "host_flush control (no disk I/O) $g"
	else
		echo "host_flush rate=$([ "$rate" = 0 ] && echo max || echo "$rate") $(echo "$f" | flush_fields) $g"
	fi
}

# the disk's own sync cost, nothing else running
f=$(taskset -c "$BUSY_CPU" "$LG" flush -f "$TMP/file" -d "$SECS")
echo "host_flush idle, back to back: $(echo "$f" | flush_fields)"
line -
for r in $RATES; do
	line "$r"
done
