#!/usr/bin/env bash
# Checks that two tomskype binaries write byte-identical reports: for every shipped sample and
# every file of the shared corpora (one at a time), and for the corpora folder as a whole, the
# JSON (--all-hosts), text (--verbose, English and zh-CN), JSON lines and HTML reports. For
# changes that must not change output (restructuring, speed work).
# Usage: ci/same_reports.sh OLD_BINARY NEW_BINARY [CORPORA]
# Prints one line per differing report and exits 1 if any differ; 0 and a count if none do.
set -euo pipefail
old=$1 new=$2
root=$(cd "$(dirname "$0")/.." && pwd)
corpora=${3:-$root/../shared/corpora}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inputs=("$root"/captures/*.pcap "$root"/captures/*.pcapng "$root"/captures/*.pcap.gz)
if [ -d "$corpora" ]; then
    while IFS= read -r f; do inputs+=("$f"); done < <(find "$corpora" -type f ! -name MANIFEST.tsv ! -name '*.md' | sort)
    inputs+=("$corpora")
fi
differ=0 checked=0
run() { # BINARY INPUT FORMAT... -> stdout and exit code, stderr dropped (it has timings)
    local bin=$1 input=$2; shift 2
    TZ=UTC LANG=C.UTF-8 "$bin" analyze --geoip-db embedded --no-progress "$@" "$input" 2>/dev/null
    echo "exit $?"
}
for input in "${inputs[@]}"; do
    for args in "--format json --all-hosts" "--format text --verbose" "--format text --lang zh-CN" \
                "--format jsonl" "--format html"; do
        # shellcheck disable=SC2086
        run "$old" "$input" $args >"$work/old" || true
        # shellcheck disable=SC2086
        run "$new" "$input" $args >"$work/new" || true
        checked=$((checked + 1))
        if ! cmp -s "$work/old" "$work/new"; then
            differ=$((differ + 1))
            echo "differs: ${input#"$root"/} ($args)"
        fi
    done
done
echo "same_reports: $checked reports compared, $differ differ"
[ "$differ" = 0 ]
