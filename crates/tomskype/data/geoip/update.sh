#!/bin/sh
# Refresh the embedded GeoIP country database from the npm registry.
#
# Usage: data/geoip/update.sh [VERSION]
#   VERSION defaults to the newest published version of the package.
# Needs: npm, tar, python3 (only to print the build date). Run from anywhere.
# After it: update the version, build date and checksum in data/geoip/README.md,
# run `cargo test --lib knowledge::geoip`, and commit.
set -eu

pkg='@ip-location-db/geo-whois-asn-country-mmdb'
file='geo-whois-asn-country.mmdb'
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
spec="$pkg"
if [ $# -ge 1 ]; then spec="$pkg@$1"; fi
tarball=$(npm pack --silent "$spec" | tail -n 1)
tar -xzf "$tarball"
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package/package.json)
cp package/"$file" "$here/$file"
if ! cmp -s package/NRO_LICENSE "$here/NRO_LICENSE"; then
    echo "warning: the package's licence note changed; review it and LICENSE" >&2
fi
cp package/NRO_LICENSE "$here/NRO_LICENSE"

echo "package:  $pkg@$version"
echo "file:     $here/$file ($(wc -c <"$here/$file") bytes)"
echo "sha256:   $(sha256sum "$here/$file" | cut -d' ' -f1)"
# build_epoch is a uint64 right after its key in the metadata map at the end of the file.
python3 - "$here/$file" <<'PY'
import datetime, sys
data = open(sys.argv[1], "rb").read()
meta = data[data.rfind(b"\xab\xcd\xefMaxMind.com"):]
at = meta.find(b"build_epoch") + len(b"build_epoch")
ctrl, ext = meta[at], meta[at + 1]
if ctrl >> 5 != 0 or ext != 2:
    sys.exit("build_epoch: unexpected encoding, read it with another mmdb tool")
size = ctrl & 0x1F
epoch = int.from_bytes(meta[at + 2:at + 2 + size], "big")
when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
print(f"built:    {when:%Y-%m-%d} (build_epoch {epoch})")
PY
