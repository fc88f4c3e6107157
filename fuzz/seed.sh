#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds (see fuzz/README.md). Idempotent: seeds are named by
# content hash. Uses the project's own reader and decoder (examples/seed.rs) to pull DNS, TLS
# and HTTP payloads, QUIC Initial datagrams, STUN/Skype UDP payloads and whole frames out of the sample captures and the shared test corpora.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpora=${TOMSKYPE_CORPORA:-$root/../shared/corpora}
out=$here/corpus
mkdir -p "$out"/{capture_read,decode_packet,dns,tls,http,quic,skype,indicators,geoip}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Captures: the repo's samples (gzip ones both as they are and decompressed).
caps=()
for f in "$root"/captures/*.pcap "$root"/captures/*.pcapng "$root"/captures/*.pcap.gz; do
  [ -e "$f" ] || continue
  caps+=("$f")
  case $f in
    *.gz) gunzip -c "$f" > "$tmp/$(basename "${f%.gz}")"; caps+=("$tmp/$(basename "${f%.gz}")") ;;
  esac
done
repo=("${caps[@]}")
# The shared corpora: the small files (under 64 KiB) for capture_read, all for payloads.
small=()
if [ -d "$corpora" ]; then
  while IFS= read -r -d '' f; do
    case $f in *.tsv|*.md|*.log|*.json) continue ;; esac
    caps+=("$f")
    if [ "$(stat -c %s "$f")" -le 65536 ]; then small+=("$f"); fi
  done < <(find "$corpora" -type f ! -path '*/zeek-logs/*' -print0 | sort -z)
else
  echo "seed.sh: $corpora absent: seeding from captures/ only" >&2
fi

# Whole files for the reader: the repo's samples and the shared corpora's small files.
for f in "${repo[@]}"; do cp "$f" "$out/capture_read/$(sha1sum "$f" | cut -c1-16)"; done
for f in "${small[@]}"; do cp "$f" "$out/capture_read/$(sha1sum "$f" | cut -c1-16)"; done

cargo run --quiet --release --manifest-path "$here/Cargo.toml" --example seed -- "$out" "${caps[@]}"

# Indicators: the shipped file, and each of its lines with the header (small seeds).
tsv=$root/crates/tomskype/data/indicators/tomskype.tsv
cp "$tsv" "$out/indicators/tomskype.tsv"
header=$(grep -m1 '^id	' "$tsv")
n=0
grep -v '^#' "$tsv" | grep -v '^id	' | grep -v '^$' | while IFS= read -r line; do
  n=$((n + 1))
  printf '%s\n%s\n' "$header" "$line" > "$out/indicators/line-$n"
done
# GeoIP databases: the two MaxMind test databases the unit tests read.
cp "$root"/tests/data/geoip/*.mmdb "$out/geoip/"
# Zeek logs (TSV and JSON), generated: see seed_zeek.sh.
bash "$here/seed_zeek.sh" "$out"
for t in capture_read decode_packet dns tls http quic skype indicators geoip; do
  echo "$t: $(ls "$out/$t" | wc -l) files"
done
