#!/usr/bin/env bash
# Linux, any distribution: builds the static binary (x86_64-unknown-linux-musl, no live
# capture: libpcap is not linked statically), checks that it needs no shared library at all,
# and requires its reports on every sample to be byte for byte those of the glibc build.
#   usage: ci/musl.sh [LINUX_BINARY] [PROFILE]    (defaults: target/debug/tomskype, dev)
# Needs: rustup target x86_64-unknown-linux-musl, musl-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
linux=${1:-target/debug/tomskype}
profile=${2:-dev}
target=x86_64-unknown-linux-musl
dir=target/$target/$([[ $profile == dev ]] && echo debug || echo "$profile")

cargo build --target "$target" --profile "$profile"
bin=$dir/tomskype
# Static: no program interpreter and no shared library needed (a static-pie still has a
# dynamic section, for its own relocations, but no NEEDED entry).
if readelf -lW "$bin" | grep -q 'INTERP' || readelf -dW "$bin" | grep -q '(NEEDED)'; then
  echo "musl: $bin is not static:" >&2
  readelf -dW "$bin" | grep '(NEEDED)' >&2 || true
  exit 1
fi

[[ -d target/ci/linux ]] || bash ci/samples.sh target/ci/linux "$linux"
bash ci/samples.sh target/ci/musl "$bin"
if ! diff -r target/ci/linux target/ci/musl; then
  echo "musl: the static binary's reports differ from the glibc build's (above)" >&2
  exit 1
fi
echo "musl: static binary, $(ls target/ci/musl/*.json | wc -l) samples, reports identical to the glibc build"
