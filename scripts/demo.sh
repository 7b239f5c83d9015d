#!/bin/sh
# `make run`: a demo data dir in ./data (made once), then sigild on
# http://127.0.0.1:8080 (Ctrl-C stops it) and everything a newcomer needs
# to try it: a dashboard login, codes to scan (one drawn as a QR code), a
# running scan-to-earn campaign with a reward to redeem, and where the
# consumer login codes (OTP) go.
#   DATA=dir LISTEN=host:port make run   to change either; the URLs
#   printed follow LISTEN on every run.
# The demo login's password is generated once and kept in
# DIR/demo-login.txt (mode 0600): demo data only, never a real brand's.
set -eu
bin=${1:-bin}
data=${DATA:-./data}
listen=${LISTEN:-127.0.0.1:8080}
base="http://$listen"
sigil="$bin/sigil"
login="$data/demo-login.txt"
email=demo@example.com

if [ ! -e "$data/data.mdb" ]; then
	echo "creating demo data in $data"
	"$sigil" init --data "$data" --brand demo --base-url "$base" >/dev/null
	"$sigil" product add --data "$data" --brand demo --sku TEA-250 \
	    --name "明前龙井 Longjing tea 250 g" --gtin 06901234567892 >/dev/null
	batch=$("$sigil" batch new --data "$data" --brand demo --sku TEA-250 \
	    --count 1000 --lot L2026A --expires 2028-12-31 --json |
	    sed 's/.*"id": *\([0-9]*\).*/\1/')
	"$sigil" batch activate --data "$data" --batch "$batch" >/dev/null
	"$sigil" mint --data "$data" --batch "$batch" --format csv --pin \
	    --out "$data/demo-batch-$batch.csv" >/dev/null
	inactive=$("$sigil" batch new --data "$data" --brand demo \
	    --sku TEA-250 --count 10 --json | sed 's/.*"id": *\([0-9]*\).*/\1/')
	"$sigil" mint --data "$data" --batch "$inactive" --format txt \
	    --out "$data/demo-inactive.txt" >/dev/null
fi
# The dashboard login: made once, its generated password kept for reruns.
if [ ! -e "$login" ]; then
	pw=$(openssl rand -base64 18 | tr -d '/+=\n' | cut -c1-16)
	# An older demo dir may have the user already: then set its password.
	printf '%s' "$pw" | "$sigil" user add --data "$data" --brand demo \
	    --email "$email" --role admin >/dev/null 2>&1 ||
	printf '%s' "$pw" | "$sigil" user password --data "$data" \
	    --brand demo --email "$email" >/dev/null
	(umask 077 && printf '%s\n%s\n' "$email" "$pw" >"$login.tmp")
	mv "$login.tmp" "$login"
fi
pw=$(sed -n 2p "$login")

"$bin/sigild" --data "$data" --listen "$listen" --base-url "$base" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' INT TERM
up=0
for _ in $(seq 100); do
	if curl -fs -o /dev/null "$base/healthz"; then up=1; break; fi
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
if [ $up = 0 ]; then
	echo "demo.sh: sigild did not start on $listen" >&2
	kill -TERM $pid 2>/dev/null || true
	wait $pid || exit $?
	exit 1
fi

# The demo campaign and catalog item go through the brand API (as a
# brand's own tools would), once, with a one-hour admin token revoked
# right after.
if [ ! -e "$data/demo-campaign.json" ]; then
	tok=$("$sigil" token new --data "$data" --brand demo --role admin \
	    --expires 3600 --json)
	secret=$(printf '%s' "$tok" | sed 's/.*"token": *"\([^"]*\)".*/\1/')
	tid=$(printf '%s' "$tok" | sed 's/.*"id": *\([0-9]*\).*/\1/')
	# The token goes to curl in a 0600 file, not on its command line
	# (which other users can read in /proc).
	auth="$data/demo-auth.tmp"
	(umask 077 && printf 'Authorization: Bearer %s\n' "$secret" >"$auth")
	ok=1
	curl -fsS "$base/api/v1/campaigns" -H "@$auth" \
	    -H 'Content-Type: application/json' -d '{"name": "明前茶扫码有礼 Spring tea points", "skus": ["TEA-250"], "starts": "'"$(date -u +%F)"'", "ends": "2099-12-31", "points": 50, "expiry_days": 365}' \
	    >"$data/demo-campaign.json.tmp" || ok=0
	[ $ok = 0 ] || curl -fsS "$base/api/v1/catalog/items" -H "@$auth" \
	    -H 'Content-Type: application/json' \
	    -d '{"name": "品鉴杯 Tasting cup", "cost": 30, "stock": 100}' \
	    >/dev/null || ok=0
	rm -f "$auth"
	"$sigil" token revoke --data "$data" --brand demo --id "$tid" \
	    >/dev/null
	if [ $ok = 1 ]; then
		mv "$data/demo-campaign.json.tmp" "$data/demo-campaign.json"
	else
		echo "demo.sh: could not create the demo campaign" >&2
	fi
fi

csv=$(ls "$data"/demo-batch-*.csv | head -n 1)
# Codes carry only a path: the host follows this run's LISTEN.
rebase() { sed "s#^[a-z]*://[^/]*#$base#"; }
first=$(sed -n 2p "$csv" | cut -d, -f2 | rebase)
echo
echo "== sigil demo is running at $base =="
echo
echo "Dashboard:  $base/admin/"
echo "  email:    $email"
echo "  password: $pw"
echo "  (brand 'demo'; more logins: $sigil user add --brand demo ...)"
echo
case $listen in
127.*|localhost:*|\[::1\]:*)
	echo "(${listen%:*} is this machine only: for a phone on your network, rerun"
	echo "with LISTEN=<this machine's LAN address>:${listen##*:}.)" ;;
0.0.0.0:*|\[::\]:*)
	echo "(Listening on every address: a phone on your network uses this"
	echo "machine's address in place of ${listen%:*}.)" ;;
esac
echo "Scan this code with a phone, or open the URL:"
"$sigil" qr "$first"
echo "$first"
echo "More genuine codes (add -H 'Accept: application/json' to curl for JSON):"
sed -n '3,6p' "$csv" | cut -d, -f2 | rebase
echo "Not yet activated (shows 'inactive'):"
head -n 1 "$data/demo-inactive.txt" | rebase
echo "A forged one (shows 'counterfeit'):"
# The last character changed (to 0, or to 1 when it is 0): the MAC fails.
sed -n '2p' "$csv" | cut -d, -f2 | sed 's/[^0]$/0/; t; s/0$/1/' | rebase
echo
echo "Reward: campaign '明前茶扫码有礼 Spring tea points' gives 50 points per"
echo "  code; the catalog's 品鉴杯 Tasting cup costs 30. Log in on the scan"
echo "  page with any phone number; the login code (OTP) is not sent by SMS"
echo "  in the demo but written to: $data/otp-outbox.log"
echo "  The code's hidden PIN (if asked) is in the print file: $csv"
echo "Member page (points, rewards): $base/member"
echo "Metrics: $base/metrics   Stop: Ctrl-C"
echo
st=0
wait $pid || st=$?
# Interrupted by a signal: the trap passed it on; wait for sigild to stop.
if kill -0 $pid 2>/dev/null; then st=0; wait $pid || st=$?; fi
exit $st
