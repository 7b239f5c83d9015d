#!/bin/sh
# The black-box scripts that drive sigild's threads (the writer, the
# write-ahead log's checkpoint thread, the dashboard's prewarm thread and
# password hashing) against a ThreadSanitizer build (make TSAN=1). Any
# report makes sigild exit 66, which the scripts' "SIGTERM: exit 0" checks
# turn into a FAIL; tests/tsan.supp says what is suppressed and why.
# server/wal.py is not among them: its replaced-data.mdb check assumes a
# checkpoint has begun within 15 scans, which TSan's slowdown defeats.
cd "$(dirname "$0")/.." || exit 2
BIN=$(pwd)/build/tsan/bin
export BIN
TSAN_OPTIONS="halt_on_error=0 exitcode=66 history_size=4 suppressions=$(pwd)/tests/tsan.supp"
export TSAN_OPTIONS
exec env TESTS="${TSAN_TESTS:-server/scan.py server/loyalty.py server/conns.py server/webhooks.py server/dashboard.py server/accounts_hash.py server/limits.py}" \
    sh tests/run.sh
