#!/bin/sh
# Fetches the dashboard's vendored libraries (scripts/vendor.lock) into
# web/admin/vendor/ without node: each tarball from the npm registry with
# curl, checked against the pinned sha512 integrity before anything is
# extracted, then only the files named in the lock (MEMBER=FILE, or
# MEMBER=FILE:geo2 for GeoJSON cut to 0.01 degree), each also gzipped
# (sigild serves FILE.gz to clients that accept gzip).
#   vendor.sh [LOCK [OUTDIR [CACHEDIR]]]
# SIGIL_NPM_REGISTRY overrides https://registry.npmjs.org (the test of a
# wrong hash serves tarballs from loopback). Tarballs are kept in
# CACHEDIR (build/vendor-cache) and checked again on every use.
set -eu
lock=${1:-scripts/vendor.lock}
out=${2:-web/admin/vendor}
cache=${3:-build/vendor-cache}
registry=${SIGIL_NPM_REGISTRY:-https://registry.npmjs.org}

die() {
	echo "vendor.sh: $*" >&2
	exit 1
}

[ -r "$lock" ] || die "cannot read $lock"
mkdir -p "$cache"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sigil-vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/out"

grep -v '^[[:space:]]*\(#\|$\)' "$lock" | while read -r name version integrity members; do
	case $integrity in
	sha512-*) want=${integrity#sha512-} ;;
	*) die "$name@$version: integrity must be sha512-... (got '$integrity')" ;;
	esac
	base=${name##*/}
	tgz="$cache/$(echo "$name" | tr / +)-$version.tgz"
	if [ ! -s "$tgz" ]; then
		echo "fetching $name@$version" >&2
		curl -fsS --retry 2 --max-time 300 -o "$tgz.part" \
		    "$registry/$name/-/$base-$version.tgz" ||
			{ rm -f "$tgz.part"; die "$name@$version: download failed"; }
		mv "$tgz.part" "$tgz"
	fi
	got=$(openssl dgst -sha512 -binary "$tgz" | base64 | tr -d '\n')
	if [ "$got" != "$want" ]; then
		rm -f "$tgz"
		die "$name@$version: sha512 mismatch: the lock says $want, the tarball is $got; nothing extracted"
	fi
	for m in $members; do
		member=${m%%=*}
		file=${m#*=}
		how=
		case $file in
		*:geo2) how=geo2; file=${file%:geo2} ;;
		*:*) die "$name: unknown transform in '$file'" ;;
		esac
		case $file in
		*/* | .* | "") die "$name: bad file name '$file'" ;;
		esac
		tar -xzOf "$tgz" "$member" >"$tmp/out/$file" ||
			die "$name@$version: no $member in the tarball"
		# geo2: GeoJSON for an overview map: coordinates cut to 0.01
		# degree (about 1 km) and no full_name property; a third smaller.
		if [ "$how" = geo2 ]; then
			sed -E 's/"full_name":"[^"]*",//g; s/(-?[0-9]+\.[0-9]{2})[0-9]+/\1/g' \
			    "$tmp/out/$file" >"$tmp/out/$file.t" &&
				mv "$tmp/out/$file.t" "$tmp/out/$file"
		fi
	done
done

# Every file the lock names is there (a failure in the loop's subshell
# stops the script through set -e and its exit status).
for f in "$tmp"/out/*; do
	case $f in
	*.js | *.json) gzip -9 -n -k "$f" ;;
	esac
done
cp "$lock" "$tmp/out/.lock"
rm -rf "$out.new"
mkdir -p "$(dirname "$out")"
cp -R "$tmp/out" "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
echo "vendored into $out: $(cd "$out" && ls | tr '\n' ' ')" >&2
