#!/bin/sh
# `make run`: a demo data dir in ./data (made once), a few minted codes,
# then sigild in the foreground on http://127.0.0.1:8080 (Ctrl-C stops it).
#   DATA=dir LISTEN=host:port make run   to change either.
set -eu
bin=${1:-bin}
data=${DATA:-./data}
listen=${LISTEN:-127.0.0.1:8080}
base="http://$listen"
sigil="$bin/sigil"

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
csv=$(ls "$data"/demo-batch-*.csv | head -n 1)
echo
echo "Scan these (open in a browser; add -H 'Accept: application/json' to curl for JSON):"
sed -n '2,6p' "$csv" | cut -d, -f2
echo "Not yet activated (shows 'inactive'):"
head -n 1 "$data/demo-inactive.txt"
echo "A forged one (shows 'counterfeit'):"
sed -n '2p' "$csv" | cut -d, -f2 | sed 's/.$/0/'
echo
echo "Print file with hidden PINs: $csv"
echo "Metrics: $base/metrics   Stop: Ctrl-C"
echo
exec "$bin/sigild" --data "$data" --listen "$listen" --base-url "$base"
