#!/bin/sh
# Bad usage and hostile input: each is one stderr line, exit 2, and leaves
# the data directory exactly as it was.
. "$(dirname "$0")/common.inc"

ok help "$S" help
grep -q 'mint --batch' "$T/out" || fail "help does not list mint"
ok "mint --help" "$S" mint --help
grep -q -- '--format' "$T/out" || fail "mint --help lacks --format"
"$S" help | grep -Eq '^  user add' || fail "help does not list user add"
"$S" help | grep -Eq '^  token new' || fail "help does not list token new"
# `sigil help FAMILY` shows every subcommand of it, in full; every
# command `sigil help` lists answers `sigil help CMD` and `CMD --help`.
ok "help token" "$S" help token
for sub in new list revoke; do
	grep -q "sigil token $sub" "$T/out" || fail "help token lacks $sub"
done
ok "help user" "$S" help user
for sub in add list disable enable remove password passwd; do
	grep -q "sigil user $sub " "$T/out" || fail "help user lacks $sub"
done
ok "help mint" "$S" help mint
grep -q -- '--jobs    threads' "$T/out" || fail "help mint does not explain --jobs"
"$S" help | sed -n 's/^  \([a-z]*\( [a-z]*\)\?\) .*/\1/p' | sed 's/ --.*//; s/ [A-Z].*//' |
    sort -u >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 25 ] || fail "help lists too few commands: $(cat "$T/cmds")"
while read -r cmd; do
	# shellcheck disable=SC2086
	"$S" help $cmd >"$T/h" 2>&1 || fail "sigil help $cmd: $(cat "$T/h")"
	grep -q "sigil $cmd" "$T/h" || fail "sigil help $cmd lacks its usage"
	"$S" $cmd --help >"$T/h" 2>&1 || fail "sigil $cmd --help: $(cat "$T/h")"
done <"$T/cmds"
bad 2 "help of no command" "$S" help nosuch
ok qr "$S" qr HTTPS://EXAMPLE.COM/S/1
[ "$(wc -l <"$T/out")" -ge 10 ] && grep -q '█' "$T/out" || fail "qr draws no symbol"
bad 2 "qr without text" "$S" qr
bad 2 "qr bad level" "$S" qr X --level Z

bad 2 "no command" "$S"
bad 2 "unknown command" "$S" frobnicate
bad 2 "token is not available" "$S" token new --brand Acme --role admin
bad 2 "unknown subcommand" "$S" batch explode --batch 1
bad 2 "missing subcommand" "$S" batch

# init: bad input changes nothing, not even a new directory.
bad 2 "init without --brand" "$S" init --data "$D" --base-url https://a.example
bad 2 "init without --base-url" "$S" init --data "$D" --brand Acme
for u in ftp://a.example https:// "https://a.example/?x=1" "https://a.example/#f" \
    "https://a b.example" "javascript:alert(1)" "https://user@a.example" \
    "https://$(printf 'a%.0s' $(seq 1 200)).example"; do
	bad 2 "init with base url '$u'" "$S" init --data "$D" --brand Acme --base-url "$u"
done
[ -e "$D" ] && fail "a refused init created $D"
bad 2 "init with an empty brand" "$S" init --data "$D" --brand "" --base-url https://a.example
bad 2 "init with a control character" "$S" init --data "$D" --brand "$(printf 'a\tb')" --base-url https://a.example
[ -e "$D" ] && fail "a refused init created $D"

setup 100
before=$(snap)
bad 2 "second init" "$S" init --data "$D" --brand Other --base-url https://b.example
[ "$(snap)" = "$before" ] || fail "second init changed the data dir"
mkdir "$T/d2" && cp "$D/keyring" "$T/d2/keyring"
bad 2 "init over an existing keyring" "$S" init --data "$T/d2" --brand X --base-url https://x.example
[ ! -e "$T/d2/data.mdb" ] || fail "init over a keyring created a store"

check_unchanged() {
	[ "$(snap)" = "$before" ] || fail "$1 changed the data dir"
}
b() { bad 2 "$@"; check_unchanged "$1"; }

b "unknown flag" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --expire 2026-01-01
b "single-dash flag" "$S" stats --data "$D" -x
b "flag without value" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count
b "flag given twice" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --count 6
b "value on a switch" "$S" stats --data "$D" --json=yes
b "stray argument" "$S" stats --data "$D" extra
b "missing data dir" "$S" stats --data "$T/nowhere"
b "unknown brand" "$S" batch new --data "$D" --brand Nope --sku TEA1 --count 5
b "unknown sku" "$S" batch new --data "$D" --brand Acme --sku NOPE --count 5
b "missing --sku" "$S" batch new --data "$D" --brand Acme --count 5
b "count 0" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 0
b "count 2^40" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 1099511627776
b "count negative" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count -5
b "count garbage" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 12abc
b "count huge" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 99999999999999999999999
b "date 2026-02-30" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --expires 2026-02-30
b "date garbage" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --expires tomorrow
b "date 2026-13-01" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --expires 2026-13-01
b "lot too long" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --lot ABCDEFGHIJKLMNOPQRSTU
b "lot with a space" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --lot "A B"
b "lot with non-ASCII" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5 --lot "批次"
b "gtin check digit" "$S" product add --data "$D" --brand Acme --sku T2 --name x --gtin 4006381333932
b "gtin length" "$S" product add --data "$D" --brand Acme --sku T2 --name x --gtin 400638133393
b "gtin letters" "$S" product add --data "$D" --brand Acme --sku T2 --name x --gtin 4006381333A31
b "gs1 without gtin" "$S" product add --data "$D" --brand Acme --sku T2 --name x --gs1
b "max-scanners 0" "$S" product add --data "$D" --brand Acme --sku T2 --name x --max-scanners 0
b "max-scanners 1001" "$S" product add --data "$D" --brand Acme --sku T2 --name x --max-scanners 1001
b "duplicate sku" "$S" product add --data "$D" --brand Acme --sku TEA1 --name x
b "duplicate brand" "$S" brand add --data "$D" --brand Acme --base-url https://c.example
b "brand bad url" "$S" brand add --data "$D" --brand B --base-url http:/c.example
b "unknown batch" "$S" batch activate --data "$D" --batch 999
b "batch id garbage" "$S" batch show --data "$D" --batch 1x
b "already active" "$S" batch activate --data "$D" --batch "$batch"
b "unknown key" "$S" key revoke --data "$D" --brand Acme --key 77
b "mint unknown batch" "$S" mint --data "$D" --batch 999 --format csv --out "$T/x.csv"
b "mint bad format" "$S" mint --data "$D" --batch "$batch" --format gif --out "$T/x.gif"
b "mint without --out" "$S" mint --data "$D" --batch "$batch" --format csv
b "mint bad level" "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/x" --level X
b "mint --from outside" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/x.csv" --from 101
b "mint --limit too long" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/x.csv" --limit 101
b "mint --jobs 0" "$S" mint --data "$D" --batch "$batch" --format png --out "$T/x" --jobs 0
# Never aim these at the real /dev/null: a regression would replace it.
mkfifo "$T/fifo" && ln -s "$T/target" "$T/link"
b "mint over a fifo" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/fifo" --force
b "mint over a symlink" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/link" --force
[ -p "$T/fifo" ] && [ -L "$T/link" ] || fail "a refused mint replaced a fifo or symlink"
b "mint png to stdout" "$S" mint --data "$D" --batch "$batch" --format png --out -
b "mint into a missing dir" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/no/such/x.csv"
mkdir "$T/ro" && chmod 0555 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
	b "mint into an unwritable dir" "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/ro/x.csv"
fi
b "mint into a file's subdir" "$S" mint --data "$D" --batch "$batch" --format csv --out "$D/keyring/x.csv"
[ -e "$T/x.csv" ] || [ -e "$T/x.csv.partial" ] && fail "a refused mint left output"
b "export bad since" "$S" export scans --data "$D" --since 2026-02-30
b "export over a fifo" "$S" export scans --data "$D" --out "$T/fifo" --force
[ -p "$T/fifo" ] || fail "a refused export replaced a fifo"
b "export bad format" "$S" export scans --data "$D" --format xml
b "backup into non-empty dir" "$S" backup --data "$D" --out "$D"
b "verify without code" "$S" verify --data "$D"
b "verify empty code" "$S" verify --data "$D" ""
b "verify oversize input" "$S" verify --data "$D" "$(head -c 3000 /dev/zero | tr '\0' A)"

# A keyring readable by others is refused, not silently used.
chmod 0644 "$D/keyring"
bad 2 "world-readable keyring" "$S" mint --data "$D" --batch "$batch" --format csv --out -
chmod 0600 "$D/keyring"
# token and user lists have a header row; token revoke takes --id (or
# --key, as before), not both.
ok "token new" "$S" token new --data "$D" --brand Acme --role analyst --json
tid=$(sed 's/.*"id": *\([0-9]*\).*/\1/' "$T/out")
ok "token list" "$S" token list --data "$D" --brand Acme
[ "$(head -n 1 "$T/out")" = "$(printf 'id\trole\tcreated\trevoked\texpires')" ] || fail "token list header: $(cat "$T/out")"
grep -q "^$tid	analyst	" "$T/out" || fail "token list row: $(cat "$T/out")"
bad 2 "token revoke both" "$S" token revoke --data "$D" --brand Acme --id "$tid" --key "$tid"
bad 2 "token revoke none" "$S" token revoke --data "$D" --brand Acme
bad 2 "token revoke zero" "$S" token revoke --data "$D" --brand Acme --id 0
ok "token revoke --id" "$S" token revoke --data "$D" --brand Acme --id "$tid"
ok "user list" "$S" user list --data "$D" --brand Acme
[ "$(head -n 1 "$T/out")" = "$(printf 'id\temail\trole\tcreated\tstate')" ] || fail "user list header: $(cat "$T/out")"
echo "usage: all bad input refused with one line, exit 2, nothing changed"
