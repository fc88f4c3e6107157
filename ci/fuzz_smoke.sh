#!/usr/bin/env bash
# Fuzz smoke test for CI: builds the cargo-fuzz targets once, then runs each for a short
# while (FUZZ_SMOKE_SECONDS, default 20) on its committed seeds (fuzz/seeds/<target>, plus the
# repo's sample captures for capture_read, the shipped indicator file for indicators and the
# MaxMind test databases of tests/data/geoip for geoip).
# Fails on any crash, leak, timeout or out-of-memory, printing the reproducer's path.
#
# The build is unoptimised and without a sanitizer (FUZZ_SMOKE_BUILD, default `--dev -s none`):
# it builds in a third of the time of the default ASan release build, keeps overflow checks
# and debug assertions, and the code under test is safe Rust. The long runs (fuzz/README.md)
# use the default ASan build.
#
# The toolchain is stable: cargo-fuzz needs -Z flags, so RUSTC_BOOTSTRAP=1 lets stable rustc
# accept them. Installs cargo-fuzz when it is missing (about 2 minutes, once per machine).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SMOKE_SECONDS:-20}
read -r -a build <<<"${FUZZ_SMOKE_BUILD---dev -s none}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz_smoke: installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

start=$(date +%s)
# One build for every target; `cargo fuzz run` below then finds them up to date.
cargo fuzz build "${build[@]}"
echo "fuzz_smoke: build took $(( $(date +%s) - start )) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds/capture_read" "$work/seeds/indicators" "$work/seeds/geoip"
cp captures/*.pcap captures/*.pcapng captures/*.pcap.gz "$work/seeds/capture_read/"
cp crates/tomskype/data/indicators/tomskype.tsv "$work/seeds/indicators/"
cp tests/data/geoip/*.mmdb "$work/seeds/geoip/"

failed=()
for target in capture_read decode_packet dns tls http quic skype indicators zeek_tsv zeek_json tracker_sequence tunnel_decap geoip gather_verdicts; do
  seeds=fuzz/seeds/$target
  # gather_verdicts reads tracker_sequence's records: its seeds serve.
  [ "$target" != gather_verdicts ] || seeds=fuzz/seeds/tracker_sequence
  [ -d "$seeds" ] || seeds=$work/seeds/$target
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
  log=$work/$target.log
  # New inputs go to the scratch corpus (first folder); the seeds are only read.
  if cargo fuzz run "${build[@]}" "$target" "$work/corpus/$target" "$seeds" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$work/artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz_smoke: $target ok: ${runs:-?} runs in ${seconds} s"
  else
    echo "fuzz_smoke: $target FAILED; the end of its log:"
    tail -n 40 "$log"
    for a in "$work/artifacts/$target"/*; do
      [ -e "$a" ] || continue
      mkdir -p fuzz/artifacts/$target
      cp "$a" fuzz/artifacts/$target/
      echo "fuzz_smoke: reproducer kept as fuzz/artifacts/$target/$(basename "$a")"
    done
    failed+=("$target")
  fi
done
echo "fuzz_smoke: total $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz_smoke: crashes in: ${failed[*]}"
  exit 1
fi
