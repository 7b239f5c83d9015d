#!/bin/sh
# A million codes: unique, all genuine; forged, spliced, foreign,
# truncated and doubled codes are rejected; csv/txt/--pin/--out -/ranges.
. "$(dirname "$0")/common.inc"

setup 1000000
ok "mint 1M" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/all.csv"
grep -q "^minted 1000000 codes to $T/all.csv" "$T/out" || fail "summary: $(cat "$T/out")"
[ "$(head -n 1 "$T/all.csv")" = "serial,url" ] || fail "csv header: $(head -n 1 "$T/all.csv")"
[ "$(wc -l <"$T/all.csv")" -eq 1000001 ] || fail "csv has $(wc -l <"$T/all.csv") lines"
tail -n +2 "$T/all.csv" | cut -d, -f2 >"$T/urls"
[ "$(sort -u "$T/urls" | wc -l)" -eq 1000000 ] || fail "URLs are not unique"
[ "$(tail -n +2 "$T/all.csv" | cut -d, -f1 | sort -u | wc -l)" -eq 1000000 ] || fail "serials are not unique"
grep -qv '^HTTPS://ACME.EXAMPLE/S/[0-9A-HJKMNP-TV-Z]\{28\}$' "$T/urls" && fail "a URL has the wrong shape"
"$S" verify --data "$D" --stdin <"$T/urls" >"$T/v" 2>"$T/err" || fail "verify --stdin: $(tail -n 1 "$T/v") $(cat "$T/err")"
[ "$(tail -n 1 "$T/v")" = "checked 1000000: genuine 1000000, revoked 0, inactive 0, counterfeit 0" ] ||
	fail "verify --stdin summary: $(tail -n 1 "$T/v")"

# txt and --out - carry the same URLs; --from/--limit a sub-range.
ok txt "$S" mint --data "$D" --batch "$batch" --format txt --out - --from 500000 --limit 1000
[ "$(wc -l <"$T/out")" -eq 1000 ] || fail "txt sub-range length"
sed -n 500000,500999p "$T/urls" | cmp -s - "$T/out" || fail "txt sub-range differs from csv"
ok pin "$S" mint --data "$D" --batch "$batch" --format csv --pin --out - --limit 5
[ "$(head -n 1 "$T/out")" = "serial,url,pin" ] || fail "pin header"
tail -n +2 "$T/out" | grep -qv '^[0-9]*,HTTPS://[^,]*,[0-9]\{8\}$' && fail "pin rows: $(cat "$T/out")"
[ "$(tail -n +2 "$T/out" | cut -d, -f3 | sort -u | wc -l)" -eq 5 ] || fail "pins repeat"

# Forgeries. Compact layout: version|key id|serial|tag, 4+16+40+80 bits,
# so characters 1-12 name the item and 13-28 are its tag.
a=$(sed -n 10p "$T/urls" | sed 's|.*/S/||')
b=$(sed -n 20p "$T/urls" | sed 's|.*/S/||')
genuine() { "$S" verify --data "$D" "$1" >"$T/v1" 2>&1 || fail "genuine $1 rejected: $(cat "$T/v1")"; }
rejected() {	# DESC CODE
	"$S" verify --data "$D" "$2" >"$T/v1" 2>"$T/err"
	rc=$?
	[ $rc -eq 1 ] || fail "$1 ($2): exit $rc, want 1: $(cat "$T/v1" "$T/err")"
	grep -q '^verdict  counterfeit' "$T/v1" || fail "$1: $(cat "$T/v1")"
}
genuine "$a"
genuine "HTTPS://ACME.EXAMPLE/S/$b"
for pos in 1 5 12 13 20 28; do
	c=$(printf %s "$a" | cut -c$pos)
	if [ "$c" = 7 ]; then n=8; else n=7; fi
	flipped=$(printf %s "$a" | sed "s/./$n/$pos")
	rejected "flipped character $pos" "$flipped"
done
rejected "tag of another code" "$(printf %s "$a" | cut -c1-12)$(printf %s "$b" | cut -c13-28)"
rejected "truncated" "$(printf %s "$a" | cut -c1-27)"
rejected "doubled" "$a$a"
rejected "garbage" "not-a-code"
rejected "U is not Crockford" "$(printf %s "$a" | sed 's/./U/20')"
ok "other data dir" "$S" init --data "$T/other" --brand Acme --base-url HTTPS://ACME.EXAMPLE/
ok "other product" "$S" product add --data "$T/other" --brand Acme --sku TEA1 --name x
ok "other batch" "$S" batch new --data "$T/other" --brand Acme --sku TEA1 --count 100
ok "other activate" "$S" batch activate --data "$T/other" --batch 1
ok "other mint" "$S" mint --data "$T/other" --batch 1 --format txt --out - --from 10 --limit 1
rejected "code of another data dir's key" "$(cat "$T/out")"

# --stdin: exit 1 as soon as one code is bad, and says which.
{ sed -n 1,3p "$T/urls"; echo "$a$a"; } | "$S" verify --data "$D" --stdin >"$T/v" && fail "verify --stdin accepted a bad line"
[ "$(grep -c '^genuine ' "$T/v")" -eq 3 ] && grep -q '^counterfeit - - ' "$T/v" || fail "verify --stdin lines: $(cat "$T/v")"
echo "mint_verify: ok"
