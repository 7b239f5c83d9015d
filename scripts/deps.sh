#!/bin/sh
# Installs the Debian packages sigil needs, only those missing.
#   deps.sh run     - what building and running sigild and sigil need
#                     (compiler, libraries, curl and openssl for make run)
#   deps.sh build   - also the test tools and mint's caption font
#                     (the default)
#   deps.sh bench   - also nginx, wrk, h2load for bench/
#   deps.sh browser - also chromium and node for the browser tests
#   deps.sh --list SET...  prints the packages of those sets, installs
#                     nothing (tests/cli/firstrun.sh checks `run` with it)
set -eu
list=0
if [ "${1:-}" = "--list" ]; then
	list=1
	shift
fi
[ $# -gt 0 ] || set -- build
want="build-essential pkg-config libevent-dev liblmdb-dev libssl-dev
libqrencode-dev libpng-dev zlib1g-dev libjansson-dev libfreetype-dev
libmaxminddb-dev
curl openssl procps"
test_tools="lmdb-utils libcmocka-dev zbar-tools poppler-utils librsvg2-bin
python3 iproute2 util-linux libmaxmind-db-writer-perl"
# mint's PDF and SVG captions (CJK too) use this font, subset into the file.
mint_font="fonts-noto-cjk"
for extra in "$@"; do
	case $extra in
	run) ;;
	build) want="$want $test_tools $mint_font" ;;
	bench) want="$want $test_tools nginx-light wrk nghttp2-client" ;;
	browser)
		want="$want $test_tools chromium $mint_font"
		# A node/npm already on PATH (not from Debian) is used as is.
		command -v node >/dev/null && command -v npm >/dev/null ||
			want="$want nodejs npm" ;;
	*) echo "deps.sh: unknown set '$extra'" >&2; exit 2 ;;
	esac
done
if [ $list = 1 ]; then
	printf '%s\n' $want | sort -u
	exit 0
fi
missing=""
for p in $(printf '%s\n' $want | sort -u); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
