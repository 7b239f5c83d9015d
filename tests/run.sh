#!/bin/sh
# Black-box tests: every tests/cli/*.sh, tests/server/*.sh and
# tests/server/*.py, each a script that exits 0 on success. Prints PASS/FAIL per script and a
# closing "N passed, N failed" line. $BIN names the directory of binaries;
# WAL=0 starts every sigild with --no-wal (logs then end in -nowal.log).
# SKIP lists scripts (as "server/x.py") not to run this time; they are
# named as skipped.
: "${BIN:?BIN must name the directory holding sigil and sigild}"
export BIN
# Every store write goes through the writer thread; a write transaction
# begun on an event-loop thread aborts sigild with a stack (loop_guard.h),
# so a handler that writes on the loop fails its test loudly.
: "${SIGIL_LOOP_GUARD:=abort}"
export SIGIL_LOOP_GUARD
cd "$(dirname "$0")" || exit 2
pass=0 fail=0
mkdir -p ../build/test-logs
for t in ${TESTS:-cli/*.sh server/*.sh server/*.py}; do
	[ -f "$t" ] || continue
	case " ${SKIP:-} " in *" $t "*) echo "SKIP $t"; continue ;; esac
	name=$(echo "$t" | tr / -)
	name=${name%.*}
	[ "${WAL:-}" != 0 ] || name=$name-nowal
	log=../build/test-logs/$name.log
	start=$(date +%s)
	case $t in *.py) run="python3" ;; *) run="sh" ;; esac
	if $run "$t" >"$log" 2>&1; then
		pass=$((pass + 1)); echo "PASS $t ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1)); echo "FAIL $t (log: build/test-logs/$name.log)"
		tail -n 20 "$log" | sed 's/^/    /'
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
