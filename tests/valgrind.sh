#!/bin/sh
# tests/valgrind.sh [BINARY...] - the unit tests under valgrind memcheck.
#
# Runs each cmocka binary (default: build/rel/tests/test_*, built by
# `make unit`) under valgrind with definite leaks counted as errors, and
# prints PASS or FAIL per binary with valgrind's error summary; the full
# output of a failing one goes to build/valgrind/NAME.log. Exits 1 when
# any binary fails (a test failure or a memcheck error).
# SIGIL_TEST_QUICK=1 shortens tests that would take minutes under
# valgrind's ~30x slowdown (test_store's million-scan run).
#
#	make unit && sh tests/valgrind.sh
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: not installed (apt-get install valgrind)" >&2
	exit 2
fi
if [ $# -gt 0 ]; then
	bins="$*"
else
	bins=$(ls build/rel/tests/test_* 2>/dev/null | grep -v '\.d$')
fi
if [ -z "$bins" ]; then
	echo "valgrind: no test binaries; run 'make unit' first" >&2
	exit 2
fi
mkdir -p build/valgrind || exit 2
export SIGIL_TEST_QUICK=1

fail=0 pass=0 nfail=0
for t in $bins; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log=build/valgrind/$name.log
	start=$(date +%s)
	valgrind --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite --track-origins=yes \
	    --num-callers=30 "$t" >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" |
	    tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "PASS $name (${secs}s, ${errs:-?} errors)"
		pass=$((pass + 1))
	else
		echo "FAIL $name (exit $rc, ${errs:-?} valgrind errors, ${secs}s;" \
		    "log $log)"
		grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|.*definitely lost)|\[  FAILED  \]' \
		    "$log" | head -5 | sed 's/^/  /'
		nfail=$((nfail + 1))
		fail=1
	fi
done
echo "valgrind: $pass passed, $nfail failed"
exit $fail
