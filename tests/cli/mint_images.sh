#!/bin/sh
# Every image decodes to exactly the URL the csv gives for its serial:
# png directly, svg through rsvg-convert, pdf page 1 through pdftoppm.
# A GS1 product mints Digital Link URLs that verify.
. "$(dirname "$0")/common.inc"
for tool in zbarimg rsvg-convert pdftoppm; do
	command -v $tool >/dev/null || fail "$tool missing (apt-get install zbar-tools librsvg2-bin poppler-utils)"
done

setup 20
ok csv "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/codes.csv"
ok png "$S" mint --data "$D" --batch "$batch" --format png --out "$T/png" --jobs 3
grep -q "^minted 20 codes to $T/png (QR version [0-9]*, level M)$" "$T/out" || fail "png summary: $(cat "$T/out")"
ok svg "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/svg" --level Q
grep -q "level Q" "$T/out" || fail "svg summary: $(cat "$T/out")"
ok pdf "$S" mint --data "$D" --batch "$batch" --format pdf --out "$T/labels.pdf"
[ "$(ls "$T/png" | wc -l)" -eq 20 ] && [ "$(ls "$T/svg" | wc -l)" -eq 20 ] || fail "image count"

tail -n +2 "$T/codes.csv" | while IFS=, read -r serial url; do
	got=$(zbarimg --raw -q "$T/png/$serial.png" 2>/dev/null)
	[ "$got" = "$url" ] || fail "png $serial decodes to '$got', want '$url'"
	rsvg-convert -o "$T/svg.png" "$T/svg/$serial.svg" || fail "rsvg-convert $serial.svg"
	got=$(zbarimg --raw -q "$T/svg.png" 2>/dev/null)
	[ "$got" = "$url" ] || fail "svg $serial decodes to '$got', want '$url'"
done || exit 1

# zbar misses a symbol now and then at one resolution (module edges fall
# between pixels), so every page is rendered at two and the union taken.
pdftoppm -r 300 -png "$T/labels.pdf" "$T/p300" || fail "pdftoppm"
pdftoppm -r 400 -png "$T/labels.pdf" "$T/p400" || fail "pdftoppm"
pdftoppm -r 600 -png "$T/labels.pdf" "$T/p600" || fail "pdftoppm"
# zbar now and then misses one symbol of a 24-label page at one scale;
# the union of three scales must hold exactly the batch.
zbarimg --raw -q "$T"/p300*.png "$T"/p400*.png "$T"/p600*.png 2>/dev/null |
    sort -u >"$T/pdf.urls"
tail -n +2 "$T/codes.csv" | cut -d, -f2 | sort | cmp -s - "$T/pdf.urls" ||
	fail "pdf labels decode to other URLs than the batch's: $(cat "$T/pdf.urls")"
if command -v pdftotext >/dev/null; then
	pdftotext "$T/labels.pdf" - | grep -qx 17 || fail "caption 17 missing from the pdf"
fi

# GS1 Digital Link form.
ok gs1product "$S" product add --data "$D" --brand Acme --sku GS1 --name "Retail tea" --gtin 4006381333931 --gs1
ok gs1batch "$S" batch new --data "$D" --brand Acme --sku GS1 --count 5 --lot LOT42
b2=$(cat "$T/out")
ok gs1act "$S" batch activate --data "$D" --batch "$b2"
ok gs1csv "$S" mint --data "$D" --batch "$b2" --format csv --out -
tail -n +2 "$T/out" | cut -d, -f2 >"$T/gs1.urls"
grep -qv '^HTTPS://ACME.EXAMPLE/01/04006381333931/10/LOT42/21/[0-9]*?s=[0-9A-Z]\{20\}$' "$T/gs1.urls" &&
	fail "GS1 URL shape: $(cat "$T/gs1.urls")"
"$S" verify --data "$D" --stdin <"$T/gs1.urls" >"$T/v" || fail "GS1 URLs do not verify: $(cat "$T/v")"
u=$(head -n 1 "$T/gs1.urls")
"$S" verify --data "$D" "$(echo "$u" | sed 's|/10/LOT42/|/10/LOT43/|')" >/dev/null && fail "GS1 link with another lot verified"
"$S" verify --data "$D" "$(echo "$u" | sed 's|/01/04006381333931/|/01/09506000134352/|')" >/dev/null && fail "GS1 link with another GTIN verified"
ok gs1png "$S" mint --data "$D" --batch "$b2" --format png --out "$T/gs1png" --limit 1
got=$(zbarimg --raw -q "$T/gs1png"/*.png 2>/dev/null)
[ "$got" = "$u" ] || fail "GS1 png decodes to '$got', want '$u'"
echo "mint_images: ok"
