#!/bin/sh
# Labels a print shop can use (issue 19 item 8): `sigil mint` captions in
# Chinese and Latin (product name, lot, serial) printed with an embedded
# font, on every label stock, with cut marks; SVG with its size in mm and
# the caption; PNG with its DPI. Every symbol is read back with zbarimg,
# every caption with pdftotext (PDF) or from the SVG's title. Bad label
# options are refused with one line and leave nothing behind.
. "$(dirname "$0")/common.inc"
for tool in zbarimg rsvg-convert pdftoppm pdftotext pdfinfo pdffonts; do
	command -v $tool >/dev/null || fail "$tool missing (apt-get install zbar-tools librsvg2-bin poppler-utils)"
done
name="明前龙井 Longjing tea 250 g"
ok init "$S" init --data "$D" --brand Acme --base-url HTTPS://ACME.EXAMPLE/
ok product "$S" product add --data "$D" --brand Acme --sku TEA1 --name "$name"
ok batch "$S" batch new --data "$D" --brand Acme --sku TEA1 --count 8 --lot L2026A
batch=$(cat "$T/out")
ok csv "$S" mint --data "$D" --batch "$batch" --format csv --out "$T/codes.csv"

# Every stock: a PDF whose pages decode to exactly the batch and whose
# text holds each label's product name, lot and serial.
for stock in a4-4x6 a4-3x7 a4-2x7 a4-3x8 a4-4x10 40x30 50x30 60x40 100x50; do
	ok "pdf $stock" "$S" mint --data "$D" --batch "$batch" --format pdf \
	    --stock "$stock" --cut-marks --out "$T/$stock.pdf"
	grep -q "^labels: " "$T/out" || fail "$stock: no labels line: $(cat "$T/out")"
	grep -q "^caption font: Noto Sans CJK SC" "$T/out" || fail "$stock: font: $(cat "$T/out")"
	pdfinfo "$T/$stock.pdf" >"$T/info" 2>&1 || fail "$stock: pdfinfo"
	! grep -q rror "$T/info" || fail "$stock: pdfinfo complains: $(cat "$T/info")"
	case $stock in
	a4-*) grep -q "595 x 842 pts" "$T/info" || fail "$stock: not A4: $(cat "$T/info")" ;;
	50x30) grep -q "142 x 85 pts" "$T/info" && grep -q "^Pages: *8$" "$T/info" ||
		fail "50x30: not one 50 x 30 mm label a page: $(cat "$T/info")" ;;
	esac
	pdffonts "$T/$stock.pdf" | grep -q "Type 3 .* yes .* yes" ||
		fail "$stock: caption font not embedded with a ToUnicode map: $(pdffonts "$T/$stock.pdf")"
	# Every font in the file is embedded (a print shop's preflight).
	! pdffonts "$T/$stock.pdf" | tail -n +3 | grep -q " no  *no  *no " ||
		fail "$stock: a font is not embedded: $(pdffonts "$T/$stock.pdf")"
	rm -f "$T"/pg*.png
	pdftoppm -r 300 -png "$T/$stock.pdf" "$T/pg" || fail "$stock: pdftoppm"
	pdftoppm -r 400 -png "$T/$stock.pdf" "$T/pg4" || fail "$stock: pdftoppm"
	zbarimg --raw -q "$T"/pg*.png 2>/dev/null | sort -u >"$T/urls"
	tail -n +2 "$T/codes.csv" | cut -d, -f2 | sort | cmp -s - "$T/urls" ||
		fail "$stock: labels decode to other URLs than the batch's: $(cat "$T/urls")"
	pdftotext "$T/$stock.pdf" "$T/text" || fail "$stock: pdftotext"
	# A narrow label wraps the name: compare without line breaks.
	tr -d '\n ' <"$T/text" >"$T/flat"
	n=$(grep -o "明前龙井Longjingtea250g批号LOTL2026A" "$T/flat" | wc -l)
	[ "$n" -eq 8 ] || fail "$stock: $n captions of 8 with name and lot: $(head -20 "$T/text")"
	for serial in $(tail -n +2 "$T/codes.csv" | cut -d, -f1); do
		grep -qx "$serial" "$T/text" || fail "$stock: serial $serial missing"
	done
done
# A subset: the file holds only the glyphs used, not the 19 MB font.
[ "$(wc -c <"$T/a4-4x6.pdf")" -lt 100000 ] || fail "the font is not subset"

# SVG: size in mm, the caption drawn (glyph outlines) and in <title>.
ok svg "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/svg" --module-mm 0.6
grep -q "module 0.60 mm" "$T/out" || fail "svg summary: $(cat "$T/out")"
tail -n +2 "$T/codes.csv" | while IFS=, read -r serial url; do
	f="$T/svg/$serial.svg"
	grep -q 'width="22.20mm"' "$f" || fail "svg $serial: width not 37 x 0.6 mm: $(head -c 300 "$f")"
	grep -q "<title>$name / 批号 LOT L2026A / $serial</title>" "$f" ||
		fail "svg $serial: caption missing: $(head -c 400 "$f")"
	grep -q '<use href="#g' "$f" || fail "svg $serial: caption not drawn"
	# The name wraps at a space to a second line: 4 lines in all.
	[ "$(grep -o '<g transform' "$f" | wc -l)" -eq 4 ] || fail "svg $serial: not 4 caption lines"
	rsvg-convert -d 600 -p 600 -o "$T/svg.png" "$f" || fail "rsvg-convert $serial.svg"
	got=$(zbarimg --raw -q "$T/svg.png" 2>/dev/null)
	[ "$got" = "$url" ] || fail "svg $serial decodes to '$got', want '$url'"
done || exit 1
ok "svg no caption" "$S" mint --data "$D" --batch "$batch" --format svg --out "$T/svg0" --caption none
! grep -q "<title>" "$T/svg0/1.svg" || fail "--caption none still captions"

# PNG: pHYs = 8 px / 0.5 mm = 16000 pixels a metre (406 dpi).
ok png "$S" mint --data "$D" --batch "$batch" --format png --out "$T/png"
python3 - "$T/png/1.png" <<'PY' || fail "png pHYs"
import struct, sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"pHYs")
assert i > 0, "no pHYs chunk"
x, y, unit = struct.unpack(">IIB", d[i + 4:i + 13])
assert (x, y, unit) == (16000, 16000, 1), (x, y, unit)
PY
got=$(zbarimg --raw -q "$T/png/1.png" 2>/dev/null)
[ "$got" = "$(sed -n 2p "$T/codes.csv" | cut -d, -f2)" ] || fail "png decodes to '$got'"
# The caption is drawn under the symbol: 37 modules of 8 px wide, taller
# by the 4 lines; without a caption, square.
python3 - "$T/png/1.png" <<'PY' || fail "png caption size"
import struct, sys
w, h = struct.unpack(">II", open(sys.argv[1], "rb").read()[16:24])
assert w == 296 and h > 296 + 4 * 30, (w, h)
PY
ok "png no caption" "$S" mint --data "$D" --batch "$batch" --format png --out "$T/png0" --caption none
python3 - "$T/png0/1.png" <<'PY' || fail "png without caption is not square"
import struct, sys
w, h = struct.unpack(">II", open(sys.argv[1], "rb").read()[16:24])
assert w == h == 296, (w, h)
PY

# Bad label options: one line, exit 2, nothing written.
bad 2 "unknown stock" "$S" mint --data "$D" --batch "$batch" --format pdf --stock a5-9x9 --out "$T/x.pdf"
grep -q "a4-3x7" "$T/err" || fail "unknown stock does not list the stocks: $(cat "$T/err")"
bad 2 "stock for png" "$S" mint --data "$D" --batch "$batch" --format png --stock 50x30 --out "$T/x"
bad 2 "cut marks for svg" "$S" mint --data "$D" --batch "$batch" --format svg --cut-marks --out "$T/x"
bad 2 "module-mm zero" "$S" mint --data "$D" --batch "$batch" --format png --module-mm 0 --out "$T/x"
bad 2 "module-mm text" "$S" mint --data "$D" --batch "$batch" --format png --module-mm 1mm --out "$T/x"
bad 2 "module-mm for pdf" "$S" mint --data "$D" --batch "$batch" --format pdf --module-mm 1 --out "$T/x"
bad 2 "caption word" "$S" mint --data "$D" --batch "$batch" --format pdf --caption all --out "$T/x"
bad 2 "caption for csv" "$S" mint --data "$D" --batch "$batch" --format csv --caption none --out "$T/x"
bad 2 "missing font" "$S" mint --data "$D" --batch "$batch" --format pdf --font /nonexistent.ttf --out "$T/x.pdf"
bad 2 "not a font" "$S" mint --data "$D" --batch "$batch" --format pdf --font /etc/hostname --out "$T/x.pdf"
[ ! -e "$T/x.pdf" ] && [ ! -e "$T/x" ] && [ -z "$(ls "$T" | grep partial)" ] || fail "a refused mint left output"
echo "mint_labels: ok"
