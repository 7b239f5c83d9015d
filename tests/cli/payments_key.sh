#!/bin/sh
# sigil payments key: a brand's WeChat Pay merchant key and APIv3 key
# into the keyring as blobs (wxpay-key/<id>, wxpay-v3/<id>), replaced by
# a second run, never echoed; every malformed input (a PEM that is not a
# key, a public key, an encrypted key, a 1024-bit key, an APIv3 key of
# 31 or 33 characters, missing flags and files, an unknown brand) is one
# stderr line, exit 2, and leaves the data directory exactly as it was.
. "$(dirname "$0")/common.inc"

setup 10
ok "brand add" "$S" brand add --data "$D" --brand Beta --base-url https://beta.example
K="$T/keys"
mkdir -m 700 "$K"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/a.pem" 2>/dev/null ||
	fail "openssl cannot make a key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/b.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$K/weak.pem" 2>/dev/null
openssl pkey -in "$K/a.pem" -pubout -out "$K/pub.pem" 2>/dev/null
openssl pkey -in "$K/a.pem" -aes256 -passout pass:pw -out "$K/enc.pem" 2>/dev/null
openssl pkey -in "$K/a.pem" -traditional -out "$K/pkcs1.pem" 2>/dev/null
printf '0123456789abcdefghijklmnopqrstuv\n' >"$K/v3"
printf '0123456789abcdefghijklmnopqrstu' >"$K/v3short"
printf '0123456789abcdefghijklmnopqrstuvw' >"$K/v3long"
printf '0123456789abcdef 123456789abcdef' >"$K/v3space"
printf 'just text\n' >"$K/text.pem"
fp_a=$(openssl pkey -in "$K/a.pem" -pubout -outform DER 2>/dev/null | sha256sum | cut -c1-64)
fp_b=$(openssl pkey -in "$K/b.pem" -pubout -outform DER 2>/dev/null | sha256sum | cut -c1-64)

ok "payments key --help" "$S" payments key --help
grep -q -- '--apiv3-key-file' "$T/out" || fail "payments key --help lacks --apiv3-key-file"
ok "help payments" "$S" help payments
grep -q 'sigil payments key' "$T/out" || fail "help payments lacks payments key"
"$S" help | grep -q '^  payments key' || fail "help does not list payments key"

before=$(snap)
b() { bad 2 "$@"; [ "$(snap)" = "$before" ] || fail "$1 changed the data dir"; }
b "no --brand" "$S" payments key --data "$D" --key "$K/a.pem" --apiv3-key-file "$K/v3"
b "no --key" "$S" payments key --data "$D" --brand Acme --apiv3-key-file "$K/v3"
b "no --apiv3-key-file" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem"
b "a missing key file" "$S" payments key --data "$D" --brand Acme --key "$K/none.pem" --apiv3-key-file "$K/v3"
b "a missing APIv3 file" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/none"
b "a text file as key" "$S" payments key --data "$D" --brand Acme --key "$K/text.pem" --apiv3-key-file "$K/v3"
b "a public key" "$S" payments key --data "$D" --brand Acme --key "$K/pub.pem" --apiv3-key-file "$K/v3"
b "an encrypted key" "$S" payments key --data "$D" --brand Acme --key "$K/enc.pem" --apiv3-key-file "$K/v3"
b "a 1024-bit key" "$S" payments key --data "$D" --brand Acme --key "$K/weak.pem" --apiv3-key-file "$K/v3"
b "an APIv3 key of 31" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/v3short"
b "an APIv3 key of 33" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/v3long"
b "an APIv3 key with a space" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/v3space"
b "an APIv3 file that is the key" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/a.pem"
b "an unknown brand" "$S" payments key --data "$D" --brand Nope --key "$K/a.pem" --apiv3-key-file "$K/v3"
b "an unknown flag" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/v3" --count 1
b "a stray argument" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/v3" extra
grep -q 'abcdefghij' "$T/err" && fail "an error echoed the APIv3 key"

# Set: the keyring holds both blobs; nothing secret is printed.
ok "payments key" "$S" payments key --data "$D" --brand Acme --key "$K/a.pem" --apiv3-key-file "$K/v3"
grep -q "$fp_a" "$T/out" || fail "payments key does not print the key's fingerprint: $(cat "$T/out")"
cat "$T/out" "$T/err" | grep -q -e 'PRIVATE' -e 'abcdefghij' -e 'MII' && fail "payments key echoed a secret"
[ "$(stat -c %a "$D/keyring")" = 600 ] || fail "keyring mode is $(stat -c %a "$D/keyring")"
[ ! -e "$D/keyring.tmp" ] || fail "a temporary keyring was left"
grep -q '^blob wxpay-key/1 ' "$D/keyring" || fail "no wxpay-key/1 blob"
grep -q '^blob wxpay-v3/1 MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXY=$' "$D/keyring" ||
	fail "wxpay-v3/1 is not the 32 characters without the newline"
grep '^blob wxpay-key/1 ' "$D/keyring" | cut -d' ' -f3 | base64 -d | cmp -s - "$K/a.pem" ||
	fail "wxpay-key/1 is not the PEM file"
grep -q '^key ' "$D/keyring" || fail "the brand keys were lost"

# Another brand, JSON, a PKCS#1 PEM; a second run replaces.
ok "payments key beta" "$S" payments key --data "$D" --brand Beta --key "$K/pkcs1.pem" --apiv3-key-file "$K/v3" --json
python3 - "$T/out" "$fp_a" <<'PY' || fail "payments key --json: $(cat "$T/out")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o == {"brand_id": 2, "key_fingerprint": sys.argv[2], "apiv3_key": "set"}, o
PY
printf 'vutsrqponmlkjihgfedcba9876543210' >"$K/v3b"
ok "payments key again" "$S" payments key --data "$D" --brand Acme --key "$K/b.pem" --apiv3-key-file "$K/v3b"
grep -q "$fp_b" "$T/out" || fail "the second run does not print the new fingerprint"
[ "$(grep -c '^blob wxpay-key/1 ' "$D/keyring")" = 1 ] || fail "wxpay-key/1 is not replaced"
grep '^blob wxpay-key/1 ' "$D/keyring" | cut -d' ' -f3 | base64 -d | cmp -s - "$K/b.pem" ||
	fail "wxpay-key/1 is not the new PEM"
grep -q '^blob wxpay-v3/1 dnV0c3JxcG9ubWxramloZ2ZlZGNiYTk4NzY1NDMyMTA=$' "$D/keyring" ||
	fail "wxpay-v3/1 is not replaced"
grep -q '^blob wxpay-key/2 ' "$D/keyring" || fail "brand 2's key was lost"

# The keys still mint and verify: the keyring as a whole still loads.
ok "key new after blobs" "$S" key new --data "$D" --brand Acme
ok mint "$S" mint --data "$D" --batch "$batch" --format txt --out "$T/c.txt"
ok verify "$S" verify --data "$D" "$(sed -n 1p "$T/c.txt")"
echo "PASS payments_key"
