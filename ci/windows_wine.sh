#!/usr/bin/env bash
# Windows, tested on Linux: cross-compiles tomskype.exe (x86_64-pc-windows-gnu, Debian's mingw),
# runs it under Wine on every sample capture and requires the reports (JSON and text), the
# messages and the exit codes to be byte for byte those of the Linux build. Then runs the unit
# tests of the Windows socket-owner tables under Wine, and checks what a build without live
# capture tells a Windows user.
#   usage: ci/windows_wine.sh [LINUX_BINARY]     (default target/debug/tomskype)
# Needs: rustup target x86_64-pc-windows-gnu, gcc-mingw-w64-x86-64, wine (Debian 12: Wine 8.0).
# The .exe is built without the `live` feature: linking it needs Npcap's wpcap library, which is
# not available here (the release workflow builds the live .exe on Windows with the Npcap SDK).
set -euo pipefail
cd "$(dirname "$0")/.."
linux=${1:-target/debug/tomskype}
target=x86_64-pc-windows-gnu
dir=target/$target/debug

wine=$(command -v wine64 || true)
[[ -n $wine ]] || { [[ -x /usr/lib/wine/wine64 ]] && wine=/usr/lib/wine/wine64; } || wine=$(command -v wine)
export WINEPREFIX="$PWD/target/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="

cargo build --target "$target"
# Wine 8 lacks bcryptprimitives.dll, which Rust's standard library imports (see the file).
mkdir -p "$dir/deps"
x86_64-w64-mingw32-gcc -shared -O2 -o "$dir/bcryptprimitives.dll" ci/wine/bcryptprimitives.c -ladvapi32
cp "$dir/bcryptprimitives.dll" "$dir/deps/"
"$wine" wineboot --init >/dev/null 2>&1 || true

bash ci/samples.sh target/ci/linux "$linux"
bash ci/samples.sh target/ci/windows "$wine" "$dir/tomskype.exe"
if ! diff -r target/ci/linux target/ci/windows; then
  echo "windows: the reports of tomskype.exe under Wine differ from Linux's (above)" >&2
  exit 1
fi
echo "windows: $(ls target/ci/windows/*.json | wc -l) samples, JSON and text reports, messages and exit codes identical to Linux"

# A build without live capture says so in Windows terms, not Debian's.
set +e
msg=$("$wine" "$dir/tomskype.exe" live 2>&1 >/dev/null)
rc=$?
set -e
if [[ $rc != 2 || $msg != *"tomskype.exe was built without live capture"* || $msg == *apt-get* ]]; then
  echo "windows: \`tomskype.exe live\` without the feature: exit $rc, said: $msg" >&2
  exit 1
fi
echo "windows: \`tomskype.exe live\` without the feature says: $msg"

# The socket-owner tables (GetExtendedTcpTable/GetExtendedUdpTable) for real, as Wine has them.
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" cargo test --target "$target" --lib -- capture::owners
ws="$(dirname "$wine")/wineserver"
[[ -x $ws ]] && "$ws" -k 2>/dev/null || true
