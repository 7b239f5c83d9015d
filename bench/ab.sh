#!/usr/bin/env bash
# Two builds of sigild side by side on the scan path (GET /S/<code>), for a
# change that must not cost speed (a refactor, a new layer):
#
#   A=DIR B=DIR bench/ab.sh
#
# A and B name directories holding sigil and sigild (say, a worktree of the
# old commit's bin/ and this tree's bin/). Each build gets its own data dir
# (one active batch, minted by its own sigil) and runs twice, --no-sync
# (the CPU cost of a scan: decode, verify, judge, commit, page) and durable
# (sigild's default, group commit with the write-ahead log); rounds are
# interleaved A, B, A, B so that a machine that gets busier or quieter
# during the run moves both alike. Each figure is the best of ROUNDS
# rounds, and the line ends with B/A. Same cores as bench/scan.sh: the
# server on SERVER_CPU, wrk on LOAD_CPU, every request a phone user agent
# and a different code, in shuffled order.
#
# Everything listens on 127.0.0.1; everything started is killed on exit.
# Usage: A=../old/bin B=bin bench/ab.sh      (needs `sh scripts/deps.sh bench`)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
: "${A:?A must name the first build's bin directory}"
: "${B:?B must name the second build's bin directory}"
DUR=${DUR:-10}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SLICE=${SLICE:-400000}		# codes per round: more than 30,000/s x DUR
UA='Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40'

for t in wrk curl python3 taskset; do
	command -v "$t" >/dev/null || { echo "ab.sh: $t missing; run: sh scripts/deps.sh bench" >&2; exit 1; }
done
for d in "$A" "$B"; do
	[ -x "$d/sigild" ] && [ -x "$d/sigil" ] || { echo "ab.sh: no sigil and sigild in $d" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/sigil-ab.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
log() { printf '== %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# make_data BIN NAME: a data dir with one active batch; NAME.paths shuffled
make_data() {
	local bin=$1 d=$TMP/$2 id
	"$bin/sigil" init --brand bench --base-url http://127.0.0.1 --data "$d" >/dev/null
	"$bin/sigil" product add --brand bench --sku B1 --name "Bench item" --data "$d" >/dev/null
	id=$("$bin/sigil" batch new --brand bench --sku B1 --count $((ROUNDS * SLICE)) --json --data "$d" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	"$bin/sigil" batch activate --batch "$id" --data "$d" >/dev/null
	"$bin/sigil" mint --batch "$id" --format txt --out - --data "$d" |
		sed 's#^https\?://[^/]*##' | python3 -c 'import random, sys
l = sys.stdin.readlines()
random.Random(1).shuffle(l)
sys.stdout.writelines(l)' >"$TMP/$2.paths"
}

# start BIN NAME ARGS...: prints the port once sigild answers
start() {
	local bin=$1 name=$2 port
	shift 2
	port=$(free_port)
	taskset -c "$SERVER_CPU" "$bin/sigild" --data "$TMP/$name" --listen "127.0.0.1:$port" \
		--rate-limit 0 --quiet "$@" >>"$TMP/sigild.log" 2>&1 &
	PIDS+=("$!")
	for _ in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && { echo "$port"; return; }
		sleep 0.1
	done
	echo "ab.sh: sigild $name did not start (see $TMP/sigild.log)" >&2
	exit 1
}

# rps PORT NAME ROUND: wrk on one slice of NAME's codes, requests/s
rps() {
	local paths=$TMP/$2.r$3 out
	sed -n "$((($3 - 1) * SLICE + 1)),$(($3 * SLICE))p" "$TMP/$2.paths" >"$paths"
	out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DUR}s" -H "User-Agent: $UA" \
		-s "$ROOT/bench/scan.lua" "http://127.0.0.1:$1" -- "$paths")
	if echo "$out" | grep -qE 'Non-2xx|Socket errors'; then
		echo "ab.sh: wrk saw errors:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "$out" | awk '/Requests\/sec/ { printf "%d\n", $2 }'
}

log "minting $((ROUNDS * SLICE)) codes for each of 4 servers"
make_data "$A" a_nosync
make_data "$A" a_durable
make_data "$B" b_nosync
make_data "$B" b_durable
AN=$(start "$A" a_nosync --no-sync)
AD=$(start "$A" a_durable)
BN=$(start "$B" b_nosync --no-sync)
BD=$(start "$B" b_durable)

best_an=0 best_bn=0 best_ad=0 best_bd=0
max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }
for r in $(seq 1 "$ROUNDS"); do
	x=$(rps "$AN" a_nosync "$r"); best_an=$(max "$x" "$best_an"); log "round $r: A no-sync $x"
	x=$(rps "$BN" b_nosync "$r"); best_bn=$(max "$x" "$best_bn"); log "round $r: B no-sync $x"
	x=$(rps "$AD" a_durable "$r"); best_ad=$(max "$x" "$best_ad"); log "round $r: A durable $x"
	x=$(rps "$BD" b_durable "$r"); best_bd=$(max "$x" "$best_bd"); log "round $r: B durable $x"
done
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
echo "ab_nosync A rps=$best_an B rps=$best_bn B/A=$(ratio "$best_bn" "$best_an") (best of $ROUNDS, ${DUR}s each, $CONNS conns)"
echo "ab_durable A rps=$best_ad B rps=$best_bd B/A=$(ratio "$best_bd" "$best_ad")"
