#!/bin/sh
# Installs the Debian packages sigil needs, only those missing.
#   deps.sh build   - compilers and libraries, test tools
#   deps.sh bench   - also nginx, wrk, h2load for bench/
#   deps.sh browser - also chromium and node for the browser tests
set -eu
want="build-essential pkg-config libevent-dev liblmdb-dev lmdb-utils
libssl-dev libqrencode-dev libpng-dev zlib1g-dev libjansson-dev
libcmocka-dev zbar-tools poppler-utils librsvg2-bin curl python3 procps
iproute2 openssl util-linux"
for extra in "$@"; do
	case $extra in
	build) ;;
	bench) want="$want nginx-light wrk nghttp2-client" ;;
	browser)
		want="$want chromium fonts-noto-cjk"
		# A node/npm already on PATH (not from Debian) is used as is.
		command -v node >/dev/null && command -v npm >/dev/null ||
			want="$want nodejs npm" ;;
	*) echo "deps.sh: unknown set '$extra'" >&2; exit 2 ;;
	esac
done
missing=""
for p in $want; do
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
