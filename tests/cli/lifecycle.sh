#!/bin/sh
# init -> brand/key/product/batch -> verify verdicts through the states;
# key rotation and revocation; stats, export and backup.
. "$(dirname "$0")/common.inc"

ok init "$S" init --data "$D" --brand Acme --base-url HTTPS://ACME.EXAMPLE/
[ "$(stat -c %a "$D")" = 700 ] || fail "data dir mode is $(stat -c %a "$D")"
[ "$(stat -c %a "$D/keyring")" = 600 ] || fail "keyring mode is $(stat -c %a "$D/keyring")"
ok "brand add" "$S" brand add --data "$D" --brand Beta --base-url https://beta.example
ok "brand list" "$S" brand list --data "$D" --json
[ "$(jq -r '.[1].name' "$T/out" 2>/dev/null || python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[1]["name"])' "$T/out")" = Beta ] || fail "brand list: $(cat "$T/out")"
grep -q 'HTTPS://ACME.EXAMPLE"' "$T/out" || fail "trailing slash kept: $(cat "$T/out")"

ok product "$S" product add --data "$D" --brand Acme --sku TEA1 --name "Green tea, 50g \"special\"" --max-scanners 3
ok "batch json" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 10 --lot L-001 --expires 2030-12-31 --json
python3 - "$T/out" <<'PY' || fail "batch new --json: $(cat "$T/out")"
import json, sys
b = json.load(open(sys.argv[1]))
assert set(b) == {"id", "first_serial", "count"}, b
assert b["id"] == 1 and b["first_serial"] == 1 and b["count"] == 10, b
PY
ok "batch 2" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 5
[ "$(cat "$T/out")" = 2 ] || fail "second batch id: $(cat "$T/out")"
ok show "$S" batch show --data "$D" --batch 2 --json
grep -q '"first_serial": 11' "$T/out" || fail "batch 2 does not start at 11: $(cat "$T/out")"

ok mint "$S" mint --data "$D" --batch 1 --format txt --out "$T/b1.txt"
code1=$(sed -n 1p "$T/b1.txt")
ok mint2 "$S" mint --data "$D" --batch 2 --format txt --out -
code2=$(sed -n 1p "$T/out")

verdict() {	# verdict WANT_EXIT WANT_VERDICT CODE
	"$S" verify --data "$D" --json "$3" >"$T/v" 2>"$T/err"
	rc=$?
	[ $rc -eq "$1" ] || fail "verify $3: exit $rc, want $1 ($(cat "$T/v" "$T/err"))"
	grep -q "\"verdict\": \"$2\"" "$T/v" || fail "verify $3: want $2, got $(cat "$T/v")"
}
verdict 1 inactive "$code1"
ok activate "$S" batch activate --data "$D" --batch 1
verdict 0 genuine "$code1"
"$S" verify --data "$D" "$code1" >"$T/h" || fail "human verify failed"
grep -q 'serial   1' "$T/h" && grep -q 'batch    1' "$T/h" && grep -q 'Acme' "$T/h" ||
	fail "human verify output: $(cat "$T/h")"
# Any letter case and Crockford aliases, as typed by a person.
lower=$(echo "$code1" | sed 's|.*/S/||' | tr 'A-Z' 'a-z')
verdict 0 genuine "$lower"
ok revoke "$S" batch revoke --data "$D" --batch 1
verdict 1 revoked "$code1"
bad 2 "revoke twice" "$S" batch revoke --data "$D" --batch 1

# Rotation: new batches use the new key, old codes keep verifying until
# their key is revoked.
ok activate2 "$S" batch activate --data "$D" --batch 2
ok "key new" "$S" key new --data "$D" --brand Acme
ok "batch 3" "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 3 --json
ok "show 3" "$S" batch show --data "$D" --batch 3 --json
grep -q '"key_id": 3' "$T/out" || fail "batch 3 not on the new key: $(cat "$T/out")"
ok activate3 "$S" batch activate --data "$D" --batch 3
ok mint3 "$S" mint --data "$D" --batch 3 --format txt --out -
code3=$(sed -n 1p "$T/out")
verdict 0 genuine "$code2"
ok "key list" "$S" key list --data "$D" --brand Acme
grep -Eiq '[0-9a-f]{64}' "$T/out" && fail "key list shows secret bytes"
[ "$(grep -c '^[0-9]' "$T/out")" -eq 2 ] || fail "key list: $(cat "$T/out")"
ok "key revoke" "$S" key revoke --data "$D" --brand Acme --key 1
verdict 1 revoked "$code2"
verdict 0 genuine "$code3"
bad 2 "key of another brand" "$S" key revoke --data "$D" --brand Beta --key 3

ok stats "$S" stats --data "$D" --json
python3 - "$T/out" <<'PY' || fail "stats: $(cat "$T/out")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["brands"] == 2 and s["batches"] == 3 and s["codes_issued"] == 18, s
assert s["scans"] == 0 and s["by_verdict"]["genuine"] == 0, s
PY
ok "export ndjson" "$S" export scans --data "$D"
[ -s "$T/out" ] && fail "export of an empty log printed $(cat "$T/out")"
ok "export csv" "$S" export scans --data "$D" --format csv --since 2020-01-01 --out "$T/scans.csv"
[ "$(cat "$T/scans.csv")" = "scan_id,brand,serial,batch,time,verdict,bot,first_scan,device,ip,lat,lng,accuracy_m,diversion,country,province,city,province_zh,city_zh,region_source" ] ||
	fail "export csv header: $(cat "$T/scans.csv")"

# Backup: a working copy of store and keyring.
ok backup "$S" backup --data "$D" --out "$T/bk"
[ "$(stat -c %a "$T/bk/keyring")" = 600 ] || fail "backup keyring mode"
cmp -s "$D/keyring" "$T/bk/keyring" || fail "backup keyring differs"
"$S" verify --data "$T/bk" "$code3" >/dev/null || fail "code does not verify against the backup"
ok "stats of backup" "$S" stats --data "$T/bk" --json
grep -q '"codes_issued": 18' "$T/out" || fail "backup stats: $(cat "$T/out")"
bad 2 "backup over itself" "$S" backup --data "$D" --out "$T/bk"

# --keyring and SIGIL_KEYRING move the secrets out of the data dir.
ok "init elsewhere" "$S" init --data "$T/d3" --keyring "$T/k3" --brand K --base-url https://k.example
[ -f "$T/k3" ] && [ ! -e "$T/d3/keyring" ] || fail "--keyring not honoured"
ok "product k" "$S" product add --data "$T/d3" --brand K --sku S --name n
ok "batch k" "$S" batch new --data "$T/d3" --brand K --sku S --count 1
SIGIL_KEYRING="$T/k3" "$S" mint --data "$T/d3" --batch 1 --format txt --out - >"$T/k.txt" ||
	fail "SIGIL_KEYRING not honoured"
echo "lifecycle: ok"
