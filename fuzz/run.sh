#!/bin/sh
# fuzz/run.sh [SECONDS] [TARGET...] - build and run every libFuzzer target.
#
# Builds src/*/*.c (the library: all but src/sigild.c) once with coverage and ASan+UBSan
# into build/fuzz/libsigil.a, links each fuzz/fuzz_NAME.c against it with
# clang -fsanitize=fuzzer,address,undefined, then runs each target for
# SECONDS (default 30) on a scratch copy of fuzz/corpus/NAME, so the
# checked-in seeds are never rewritten; fuzz/NAME.dict is used when present.
# UBSan does not recover: undefined behaviour is a crash like any other.
#
# Prints one line per target with libFuzzer's final figures (runs, exec/s,
# cov, ft, corpus size). Crash, leak, timeout and OOM inputs are copied to
# build/fuzz-crashes/NAME-<kind>-<sha1> next to NAME.log, the full output.
# Exits 1 when any target failed to build or found anything.
#
#	sh fuzz/run.sh 30		# all targets, 30 s each
#	sh fuzz/run.sh 60 path json	# two targets, a minute each
#	FUZZ_CC=clang-14 sh fuzz/run.sh
set -u

secs=${1:-30}
[ $# -gt 0 ] && shift
case $secs in
''|*[!0-9]*) echo "usage: fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
CC=${FUZZ_CC:-clang}
B=build/fuzz
CRASH=build/fuzz-crashes
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -I/usr/include/freetype2 -pthread -Wall -Wextra"
LIBS="-levent -levent_openssl -levent_pthreads -llmdb -lqrencode -lpng \
    -ljansson -lssl -lcrypto -lz -lfreetype -lm -pthread"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (apt-get install clang)" >&2
	exit 2
fi
mkdir -p "$B/obj" "$CRASH" || exit 2

# The library. A source file that does not compile (someone's work in
# progress) is left out with a warning; only targets that need it fail.
objs=
for src in src/*/*.c; do
	obj=$B/obj/$(basename "$src" .c).o
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
	    [ -n "$(find include -newer "$obj" -name '*.h' 2>/dev/null)" ]; then
		# shellcheck disable=SC2086
		if ! $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$obj" \
		    "$src" 2>"$B/obj/$(basename "$src" .c).err"; then
			echo "fuzz: warning: $src does not build; left out" \
			    "(see $B/obj/$(basename "$src" .c).err)" >&2
			rm -f "$obj"
			continue
		fi
	fi
	objs="$objs $obj"
done
rm -f "$B/libsigil.a"
# shellcheck disable=SC2086
ar rcs "$B/libsigil.a" $objs || exit 2

if [ $# -gt 0 ]; then
	targets=
	for t in "$@"; do targets="$targets fuzz/fuzz_${t#fuzz_}.c"; done
else
	targets=$(ls fuzz/fuzz_*.c)
fi

fail=0
summary=
for f in $targets; do
	name=$(basename "$f" .c)
	name=${name#fuzz_}
	bin=$B/fuzz_$name
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS $SAN -fsanitize=fuzzer -o "$bin" "$f" \
	    "$B/libsigil.a" $LIBS >"$B/$name.build.log" 2>&1; then
		echo "fuzz: $name does not build:" >&2
		sed 's/^/  /' "$B/$name.build.log" | head -20 >&2
		summary="$summary$(printf '%-16s BUILD FAILED' "$name")
"
		fail=1
		continue
	fi

	work=$(mktemp -d "${TMPDIR:-/tmp}/sigil-fuzz-$name.XXXXXX") || exit 2
	mkdir -p "$work/corpus" "$work/art"
	[ -d "fuzz/corpus/$name" ] && cp -R "fuzz/corpus/$name/." "$work/corpus/"
	dict=
	[ -f "fuzz/$name.dict" ] && dict="-dict=$root/fuzz/$name.dict"
	echo "fuzz: $name for ${secs}s ($(ls "$work/corpus" | wc -l) seeds)" >&2
	# shellcheck disable=SC2086
	(cd "$work" && "$root/$bin" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=art/ \
	    $dict corpus) >"$work/log" 2>&1
	rc=$?
	cp "$work/log" "$CRASH/$name.log"
	found=$(ls "$work/art" 2>/dev/null)
	for a in $found; do
		cp "$work/art/$a" "$CRASH/$name-$a"
	done

	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1)
	runs=$(echo "$done_line" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	eps=$(echo "$done_line" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
	if [ $rc -eq 0 ] && [ -z "$found" ] && [ -n "$done_line" ]; then
		status=ok
	else
		status="FAILED (exit $rc)"
		fail=1
		echo "fuzz: $name FAILED; log $CRASH/$name.log" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' \
		    "$work/log" | head -5 | sed 's/^/  /' >&2
		for a in $found; do
			echo "  input: $CRASH/$name-$a" >&2
		done
	fi
	summary="$summary$(printf '%-16s runs %-9s exec/s %-7s cov %-5s ft %-6s corp %-5s %s' \
	    "$name" "${runs:--}" "${eps:--}" "${cov:--}" "${ft:--}" \
	    "${corp:--}" "$status")
"
	rm -rf "$work"
done

printf '%s' "$summary"
[ $fail -eq 0 ] && echo "fuzz: all targets clean" || echo "fuzz: FAILURES"
exit $fail
