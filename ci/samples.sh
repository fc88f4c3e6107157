#!/usr/bin/env bash
# Runs one tomskype build on every shipped sample capture and keeps what it printed, so two
# builds (Linux and Windows under Wine, the static musl binary, the installed Debian package)
# can be compared byte for byte with `diff -r`. Paths are given relative to the repository, the
# same for every build, because the report names its inputs.
#   usage: ci/samples.sh OUT_DIR COMMAND...     e.g. ci/samples.sh target/ci/linux target/debug/tomskype
# Writes OUT_DIR/NAME.{json,text} (stdout), .stderr and .rc (exit code) for each sample; fails if
# an exit code is anything but 0 (no TOM-Skype) or 1 (TOM-Skype found).
set -uo pipefail
cd "$(dirname "$0")/.."
# Reports for people give times in the local zone: the same zone for every build.
export TZ=UTC
out=$1
shift
rm -rf "$out"
mkdir -p "$out"
bad=0
n=0
for f in captures/*.pcap captures/*.pcapng captures/*.pcap.gz; do
  [[ -e $f ]] || continue
  name=$(basename "$f")
  for format in json text; do
    "$@" analyze --geoip-db embedded --color never --no-progress --format "$format" "$f" \
      >"$out/$name.$format" 2>"$out/$name.$format.stderr"
    rc=$?
    echo "$rc" >"$out/$name.$format.rc"
    if [[ $rc != 0 && $rc != 1 ]]; then
      echo "samples: $f ($format): exit code $rc" >&2
      sed 's/^/  /' "$out/$name.$format.stderr" >&2
      bad=1
    fi
  done
  n=$((n + 1))
done
echo "samples: $n captures, 2 formats each, into $out"
((n > 0)) || { echo "samples: no captures found" >&2; exit 1; }
exit "$bad"
