#!/usr/bin/env bash
# The systems CI cannot run, compiled with everything switched on: Windows (live capture through
# Npcap, socket owners through the IP Helper API) and macOS on Apple silicon and Intel (live
# capture through the system's libpcap, socket owners through libproc), with clippy's warnings
# as errors. Nothing is linked: `cargo clippy` stops after type-checking, so neither Npcap's SDK
# nor a macOS SDK is needed (pcap's build script takes the libpcap API version from this
# machine's libpcap, or from LIBPCAP_VER if set; libproc's uses its committed bindings off macOS).
#   usage: ci/cross_check.sh
# Needs: rustup targets x86_64-pc-windows-gnu, aarch64-apple-darwin, x86_64-apple-darwin.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in x86_64-pc-windows-gnu aarch64-apple-darwin x86_64-apple-darwin; do
  echo "cross-check: $target (live)"
  cargo clippy --target "$target" --features live --all-targets -- -D warnings
done
