#!/bin/sh
# stats.sh - the dashboard's stats endpoints over a big store.
#
# Builds a data dir with SCANS scans (default 10,000,000) over 3 brands,
# 24 products and 240 batches, spread over DAYS days (default 365), by
# driving store_scans_commit directly (bench/stats_fill.c, NOSYNC batches
# of 100,000, one store_sync at the end), so the counters are the ones
# the writer keeps. Then starts sigild on it, logs in as a dashboard user
# and times every stats endpoint (best and worst of 5 requests, by curl),
# printing a table. Goal: every request answers in <= 200 ms.
#
#   sh bench/stats.sh [SCANS] [DAYS]
#   BIN=build/x/bin LIB=build/x/libsigil.a sh bench/stats.sh   (no make)
#   KEEP=1 keeps the data dir; REUSE=DIR times a dir kept earlier.
#
# KEEP=1 keeps the data dir. Takes a few minutes for 10 million scans. Exit 1 if any endpoint
# is over the goal.
set -eu
cd "$(dirname "$0")/.."
SCANS=${1:-10000000}
DAYS=${2:-365}
GOAL_MS=200
# BIN and LIB name another build (binaries, libsigil.a) than make's.
if [ -z "${BIN:-}" ]; then
	make -s all >&2 || { echo "stats.sh: build failed" >&2; exit 1; }
fi
BIN=${BIN:-$PWD/bin}
LIB=${LIB:-build/rel/libsigil.a}
S=$BIN/sigil
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM
D=${REUSE:-$tmp/data}
q() { "$@" >/dev/null; }
if [ -z "${REUSE:-}" ]; then

cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
    -o "$tmp/stats_fill" bench/stats_fill.c "$LIB" \
    -levent -levent_openssl -levent_pthreads -llmdb -lqrencode -lpng \
    -ljansson -lssl -lcrypto -lz -lm -pthread

q "$S" init --data "$D" --brand brand1 --base-url https://b1.example
q "$S" brand add --data "$D" --brand brand2 --base-url https://b2.example
q "$S" brand add --data "$D" --brand brand3 --base-url https://b3.example
for b in 1 2 3; do
	for p in 1 2 3 4 5 6 7 8; do
		q "$S" product add --data "$D" --brand brand$b --sku "P$b-$p" \
		    --name "Product $b-$p"
		for l in 0 1 2 3 4 5 6 7 8 9; do
			id=$("$S" batch new --data "$D" --brand brand$b \
			    --sku "P$b-$p" --count 100000 --lot "L$p$l")
			q "$S" batch activate --data "$D" --batch "$id"
		done
	done
done
printf 'bench password 1234\n' | q "$S" user add --data "$D" --brand brand1 \
    --email bench@b1.example --role analyst

t0=$(date +%s)
"$tmp/stats_fill" "$D" "$SCANS" "$DAYS" >&2
t1=$(date +%s)
size=$(du -sm "$D" | cut -f1)
echo "filled: $SCANS scans in $((t1 - t0)) s, data dir ${size} MiB"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/sigild" --data "$D" --listen "127.0.0.1:$port" --rate-limit 0 \
    --api-rate-limit 0 >"$tmp/sigild.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
i=0
until curl -s -o /dev/null "$base/healthz"; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "sigild did not start" >&2; exit 1; }
	sleep 0.1
done
# sigild maps the counter table in the background at start (see
# dashboard_prewarm_start); the first request would otherwise pay for it.
i=0
until grep -q dashboard_prewarm "$tmp/sigild.log"; do
	i=$((i + 1)); [ $i -lt 600 ] || break
	sleep 0.1
done
grep -o 'dashboard_prewarm ms=[0-9]*' "$tmp/sigild.log" || true
curl -s -o /dev/null -c "$tmp/jar" -H 'Content-Type: application/json' \
    -d '{"email":"bench@b1.example","password":"bench password 1234"}' \
    "$base/admin/login"

today=$(date -u +%F)
y1=$(date -u -d "-364 days" +%F)
d90=$(date -u -d "-89 days" +%F)
h7=$(date -u -d "-7 days" +%Y-%m-%dT%H:00:00Z)
fail=0
printf '%-58s %8s %8s %8s %s\n' endpoint best_ms worst_ms bytes ok
for ep in \
    "overview?bucket=day" \
    "overview?bucket=day&from=$y1&to=$today" \
    "overview?bucket=day&from=$y1&to=$today&tz=8" \
    "overview?bucket=hour" \
    "overview?bucket=hour&from=$h7" \
    "products?from=$y1&to=$today" \
    "batches?from=$y1&to=$today&limit=1000" \
    "campaigns?from=$y1&to=$today" \
    "regions?from=$d90&to=$today" \
    "regions?from=$y1&to=$today"; do
	best=999999 worst=0 bytes=0
	for r in 1 2 3 4 5; do
		out=$(curl -s -b "$tmp/jar" -o "$tmp/body" \
		    -w '%{http_code} %{time_total} %{size_download}' \
		    "$base/api/v1/stats/$ep")
		code=${out%% *}
		ms=$(echo "$out" | awk '{ printf "%d", $2 * 1000 }')
		bytes=${out##* }
		[ "$code" = 200 ] || { echo "stats/$ep: HTTP $code" >&2; fail=1; }
		[ "$ms" -lt "$best" ] && best=$ms
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
	ok=yes
	[ "$worst" -le $GOAL_MS ] || { ok=NO; fail=1; }
	printf '%-58s %8d %8d %8d %s\n' "$ep" "$best" "$worst" "$bytes" "$ok"
done
scans=$(curl -s -b "$tmp/jar" "$base/api/v1/stats/overview?bucket=day&from=$y1&to=$today" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["scans"])')
echo "brand1 scans counted over the year: $scans (of $SCANS over 3 brands)"
echo "goal: every request <= ${GOAL_MS} ms: $([ $fail -eq 0 ] && echo met || echo NOT met)"
exit $fail
