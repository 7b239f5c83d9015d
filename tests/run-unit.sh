#!/bin/sh
# Runs each cmocka unit test binary; cmocka prints its own per-test lines.
fail=0
for t in "$@"; do
	"$t" || fail=1
done
exit $fail
