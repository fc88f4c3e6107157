#!/usr/bin/env bash
# Renders the HTML report in a real browser (Debian's chromium, headless) as a person would open
# it: from a file, with no network. Checks that the page renders to a screenshot, that the DOM
# Chromium built holds the verdicts and the map, and that no script is in it (that the page
# references nothing outside itself is checked by tests/cli.rs).
# Usage: ci/html_render.sh TOMSKYPE_BINARY [OUT_DIR]
set -euo pipefail
bin=$1
out=${2:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
fail() { echo "html_render: FAIL: $*" >&2; exit 1; }
chromium_run() {
    # The flags the workplace's probe found necessary as root, offline.
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d)" "$@" 2>>"$out/chromium.log"
}
for lang in en zh-CN; do
    page="$out/lan-$lang.html"
    set +e
    TZ=UTC "$bin" analyze --geoip-db embedded --lang "$lang" --format html \
        "$root/captures/lan-several-hosts.pcapng" >"$page"
    rc=$?
    set -e
    [[ $rc -eq 1 ]] || fail "analyze exited $rc, expected 1 (a TOM-Skype host)"
    chromium_run --dump-dom "file://$page" >"$out/lan-$lang.dom"
    chromium_run --window-size=1100,1800 --screenshot="$out/lan-$lang.png" "file://$page" >/dev/null
    [[ -s $out/lan-$lang.png ]] || fail "no screenshot for $lang"
    head -c 8 "$out/lan-$lang.png" | od -An -c | grep -q 'P   N   G' || fail "the screenshot is not a PNG"
    dom="$out/lan-$lang.dom"
    grep -q 'class="machine tom-skype" id="m-192-168-10-21"' "$dom" || fail "$lang: no TOM-Skype card in the DOM"
    grep -q 'class="machine regular-skype" id="m-192-168-10-22"' "$dom" || fail "$lang: no regular Skype card"
    grep -q '<use href="#world"' "$dom" || fail "$lang: no map"
    # The DOM is made from the file alone: no script ran, nothing was added.
    ! grep -q '<script' "$dom" || fail "$lang: a script in the page"
done
grep -q '1 of 5 machines ran TOM-Skype: 192.168.10.21' "$out/lan-en.dom" || fail "en: the answer is not first"
grep -q '5 台机器中有 1 台运行了 TOM-Skype：192.168.10.21' "$out/lan-zh-CN.dom" || fail "zh-CN: the answer is not first"
echo "html_render: ok (screenshots and DOM in $out)"
