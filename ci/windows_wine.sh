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
# Every Windows program runs through ci/wine/run.sh, which runs it once more if Wine loses its
# server (see the file); what it did then is printed at the end.
run=(bash "$PWD/ci/wine/run.sh" "$wine")
export TOMSKYPE_WINE_RETRIES="$PWD/target/ci/wine-retries.txt"
mkdir -p target/ci
rm -f "$TOMSKYPE_WINE_RETRIES"

# Without live capture: what it says when asked to capture.
cargo build --target "$target"
cp "$dir/tomskype.exe" "$dir/tomskype-files-only.exe"

# With live capture, wpcap.dll delay-loaded.
npcap=$PWD/target/npcap-delay
mkdir -p "$npcap"
pcap_src=$(cargo metadata --format-version 1 --features live --filter-platform "$target" |
  python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "pcap").rsplit("/", 1)[0])')
{
  echo "LIBRARY wpcap.dll"
  echo "EXPORTS"
  grep -ho 'pub fn pcap_[a-z0-9_]*' "$pcap_src"/src/raw.rs | sed 's/pub fn //' | sort -u
} >"$npcap/wpcap.def"
x86_64-w64-mingw32-dlltool -d "$npcap/wpcap.def" -D wpcap.dll -y "$npcap/libwpcap.a"
LIBPCAP_LIBDIR=$npcap LIBPCAP_VER=1.10.4 cargo build --target "$target" --features live
if x86_64-w64-mingw32-objdump -p "$dir/tomskype.exe" | grep -q 'DLL Name: wpcap.dll'; then
  echo "windows: tomskype.exe imports wpcap.dll at start-up: it would not start without Npcap" >&2
  exit 1
fi

# Wine 8 lacks bcryptprimitives.dll, which Rust's standard library imports (see the file).
mkdir -p "$dir/deps"
x86_64-w64-mingw32-gcc -shared -O2 -o "$dir/bcryptprimitives.dll" ci/wine/bcryptprimitives.c -ladvapi32
cp "$dir/bcryptprimitives.dll" "$dir/deps/"
# One wineserver for the whole script (-p: it stays when no program is running), so that no
# program starts while the last one's server is shutting down; stopped when the script ends.
ws="$(dirname "$wine")/wineserver"
[[ -x $ws ]] || ws=$(command -v wineserver)
"$ws" -k 2>/dev/null || true
mkdir -p "$WINEPREFIX"
"$ws" -p
trap '"$ws" -k 2>/dev/null || true' EXIT
"$wine" wineboot --init >/dev/null 2>&1 || true

bash ci/samples.sh target/ci/linux "$linux"
bash ci/samples.sh target/ci/windows "${run[@]}" "$dir/tomskype.exe"
if ! diff -r target/ci/linux target/ci/windows; then
  echo "windows: the reports of tomskype.exe under Wine differ from Linux's (above)" >&2
  exit 1
fi
echo "windows: $(ls target/ci/windows/*.json | wc -l) samples, JSON and text reports, messages and exit codes identical to Linux"

# What a Windows user is told without Npcap (Wine's own wpcap.dll switched off) and by a build
# without live capture: in Windows terms, never Debian's.
expect_message() { # EXE SUBCOMMAND WANTED
  set +e
  msg=$(WINEDLLOVERRIDES="wpcap=;$WINEDLLOVERRIDES" "${run[@]}" "$1" "$2" 2>&1 >/dev/null)
  rc=$?
  set -e
  if [[ $rc != 2 || $msg != *"$3"* || $msg == *apt-get* || $msg == *setcap* ]]; then
    echo "windows: \`$(basename "$1") $2\`: exit $rc, said: $msg" >&2
    exit 1
  fi
  echo "windows: \`$(basename "$1") $2\` says: $msg"
}
expect_message "$dir/tomskype.exe" interfaces "install it from https://npcap.com"
expect_message "$dir/tomskype.exe" live "install it from https://npcap.com"
expect_message "$dir/tomskype-files-only.exe" live "tomskype.exe was built without live capture"

# With Wine's wpcap.dll (a bridge to this machine's libpcap, naming interfaces as Npcap does:
# \Device\NPF_{GUID}, described by the Linux name), the Windows live code runs for real:
# the listing by description, choosing the interface by its description, a capture.
if [[ $(id -u) == 0 ]]; then
  "${run[@]}" "$dir/tomskype.exe" interfaces | tee target/ci/wine-interfaces.txt
  grep -Eq '^  lo +.*\(\\+Device\\+NPF_\{' target/ci/wine-interfaces.txt ||
    { echo "windows: lo is not listed by its description with its NPF device name" >&2; exit 1; }
  python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
time.sleep(2.5)
for i in range(20):
    s.sendto(b"tomskype wine live test", ("127.0.0.1", 9))
    time.sleep(0.05)' &
  sender=$!
  set +e
  "${run[@]}" "$dir/tomskype.exe" live -i lo --duration 5 --format json >target/ci/wine-live.json
  rc=$?
  set -e
  wait "$sender"
  python3 - target/ci/wine-live.json "$rc" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
inp = doc["inputs"][0]
ok = rc == 0 and inp["path"] == "live:lo" and inp["packets"] >= 20 and not inp["problems"]
print(f"windows: live capture under Wine on lo: exit {rc}, {inp['path']}, {inp['packets']} packets")
sys.exit(0 if ok else 1)
PY
else
  echo "windows: not root: live capture under Wine skipped"
fi

# The socket-owner tables (GetExtendedTcpTable/GetExtendedUdpTable) for real, as Wine has them.
CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="${run[*]}" cargo test -p tomskype --target "$target" --lib -- live::owners
if [[ -s $TOMSKYPE_WINE_RETRIES ]]; then
  echo "windows: Wine lost its server and these were run once more:"
  cat "$TOMSKYPE_WINE_RETRIES"
fi
