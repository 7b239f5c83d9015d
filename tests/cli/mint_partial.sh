#!/bin/sh
# Output appears only when complete: an interrupted mint leaves neither
# PATH nor PATH.partial; an existing PATH is refused without --force.
. "$(dirname "$0")/common.inc"

setup 1099511627000
# A shell starts background jobs with SIGINT ignored (and sigil keeps an
# ignored SIGINT ignored, as nohup users expect), so env restores the
# default. The --limit and the SIGKILL watchdog bound the disk used if
# the interruption failed.
for fmt in csv png; do
	out="$T/big.$fmt"
	env --default-signal=INT "$S" mint --data "$D" --batch "$batch" \
	    --format $fmt --out "$out" --limit 20000000 >"$T/o" 2>"$T/e" &
	pid=$!
	( sleep 20; kill -KILL $pid 2>/dev/null ) &
	dog=$!
	i=0
	until [ -e "$out.partial" ] || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$out.partial" ] || fail "$fmt: no $out.partial while minting"
	sleep 0.3
	[ -e "$out" ] && fail "$fmt: $out exists before the mint finished"
	kill -INT $pid
	wait $pid
	rc=$?
	kill $dog 2>/dev/null
	[ $rc -eq 130 ] || fail "$fmt: interrupted mint exit $rc, want 130 (died of SIGINT): $(cat "$T/e")"
	[ -e "$out" ] && fail "$fmt: interrupted mint left $out"
	[ -e "$out.partial" ] && fail "$fmt: interrupted mint left $out.partial"
	grep -q '^sigil: interrupted' "$T/e" || fail "$fmt: no interruption message: $(cat "$T/e")"
done

# A complete output replaces nothing unless --force.
ok small "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/a.csv" --limit 10
sum=$(sha256sum <"$T/a.csv")
bad 2 "existing --out" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/a.csv" --limit 20
[ "$(sha256sum <"$T/a.csv")" = "$sum" ] || fail "refused mint changed the existing file"
ok force "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/a.csv" --limit 20 --force
[ "$(wc -l <"$T/a.csv")" -eq 21 ] || fail "--force did not replace the file"
ok imgs "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/img" --limit 5
bad 2 "existing --out dir" "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/img" --limit 3
ok forcedir "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/img" --limit 3 --force
[ "$(ls "$T/img" | wc -l)" -eq 3 ] || fail "--force left $(ls "$T/img" | wc -l) files"
# A stale partial from a killed run does not block the next mint.
mkdir "$T/s.csv.partial" 2>/dev/null; rmdir "$T/s.csv.partial"; echo junk >"$T/s.csv.partial"
ok stale "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/s.csv" --limit 2
[ ! -e "$T/s.csv.partial" ] && [ "$(wc -l <"$T/s.csv")" -eq 3 ] || fail "stale partial not replaced"

# --out - streams with no partial file and no summary on stdout.
ok stdout "$S" mint --data "$D" --batch "$batch" --format csv --out - --limit 3
[ "$(wc -l <"$T/out")" -eq 4 ] && [ ! -s "$T/err" ] || fail "--out -: $(cat "$T/out" "$T/err")"
echo "mint_partial: ok"
