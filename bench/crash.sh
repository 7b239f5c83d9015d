#!/bin/sh
# bench/crash.sh - the long crash test: kill -9 sigild again and again
# under mixed load (scans from 16 clients, consented locations, brand API
# aggregations with an operator token), restart, and check that every
# acknowledged write survived and the invariants hold. The reduced form
# (3 rounds of about 2 s) runs in `make test` as tests/server/crash.py;
# this is the same script with more and longer rounds.
#
#	bench/crash.sh			# 20 rounds of about 5 s (~3 minutes)
#	ROUNDS=50 ROUND_SECONDS=10 bench/crash.sh
#	BIN=build/san/bin bench/crash.sh	# against the ASan/UBSan build
#
# Prints each round's running totals, the checks, and a closing
# "acknowledged writes lost: N" (must be 0). Exit 0 only when every check
# passed.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/bin}
[ -x "$BIN/sigild" ] && [ -x "$BIN/sigil" ] || {
	echo "crash.sh: build first: make" >&2
	exit 2
}
export BIN
export ROUNDS=${ROUNDS:-20}
secs=${ROUND_SECONDS:-5}	# not SECONDS: bash's own counter
export CLIENTS=${CLIENTS:-16}
start=$(date +%s)
echo "crash.sh: $ROUNDS rounds of ~${secs}s, $CLIENTS scan clients," \
    "1 locator, 1 aggregator; kill -9 at a random point of each round"
rc=0
env SECONDS="$secs" python3 "$root/tests/server/crash.py" || rc=$?
echo "crash.sh: $(( $(date +%s) - start ))s, exit $rc"
exit $rc
