#!/usr/bin/env bash
# Debian/Ubuntu: builds the .deb with cargo-deb (release build with live capture, metadata in
# Cargo.toml [package.metadata.deb]), installs it with dpkg -i, and checks what a user gets:
# the dependency on libpcap's runtime, `man tomskype`, the bash/zsh/fish completions, and the
# installed `tomskype` giving the same reports as the development build on every sample.
# Removes the package at the end. Run as root.
#   usage: ci/deb.sh [LINUX_BINARY]     (default target/debug/tomskype; the reference reports)
#          ci/deb.sh --build-only      (the release workflow: build the .deb, install nothing)
# Needs: cargo-deb (`cargo install --locked cargo-deb`), dpkg-dev, man-db, libpcap-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
linux=${1:-target/debug/tomskype}
build_only=$([[ $linux == --build-only ]] && echo 1 || echo 0)

cargo build --release --features live
rm -rf target/assets
target/release/tomskype generate --out target/assets >/dev/null
gzip -9n target/assets/*.1
deb=$(cargo deb --no-build --output target/debian 2>&1 | tail -n 1)
[[ -f $deb ]] || { echo "deb: cargo deb did not say where the package is: $deb" >&2; exit 1; }
echo "deb: $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends
dpkg-deb --field "$deb" Depends | grep -q 'libpcap0.8' || { echo "deb: no dependency on libpcap0.8" >&2; exit 1; }
((build_only)) && exit 0

dpkg -i "$deb"
trap 'dpkg -r tomskype >/dev/null 2>&1 || true' EXIT
installed=/usr/bin/tomskype
[[ $(command -v tomskype) == "$installed" ]] || { echo "deb: tomskype is not $installed" >&2; exit 1; }

# The manual: through man-db, as a user would open it (MANPAGER/PAGER: no pager in CI).
MANPAGER=cat PAGER=cat MANWIDTH=80 man tomskype | head -n 12
MANPAGER=cat PAGER=cat man tomskype | grep -q 'analyze' || { echo "deb: man tomskype lists no sub-commands" >&2; exit 1; }
MANPAGER=cat PAGER=cat man tomskype-live | grep -q -- '--duration' || { echo "deb: man tomskype-live lacks --duration" >&2; exit 1; }

# The completions, where each shell looks for them.
for f in /usr/share/bash-completion/completions/tomskype \
         /usr/share/zsh/vendor-completions/_tomskype \
         /usr/share/fish/vendor_completions.d/tomskype.fish; do
  [[ -s $f ]] || { echo "deb: missing $f" >&2; exit 1; }
  echo "deb: $f ($(wc -l <"$f") lines)"
done
bash -c 'source /usr/share/bash-completion/completions/tomskype && complete -p tomskype' \
  || { echo "deb: the bash completion does not load" >&2; exit 1; }

# The installed program: live capture built in, and the same reports as the development build.
tomskype --version
tomskype interfaces >/dev/null || { echo "deb: tomskype interfaces failed" >&2; exit 1; }
[[ -d target/ci/linux ]] || bash ci/samples.sh target/ci/linux "$linux"
bash ci/samples.sh target/ci/deb "$installed"
if ! diff -r target/ci/linux target/ci/deb; then
  echo "deb: the installed tomskype's reports differ from the development build's (above)" >&2
  exit 1
fi
echo "deb: installed, man page and completions present, $(ls target/ci/deb/*.json | wc -l) samples with identical reports"
