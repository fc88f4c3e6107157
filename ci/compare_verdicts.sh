#!/usr/bin/env bash
# Compares the verdicts of two tomskype binaries on every file of the shared corpora, one file at
# a time: which host's label changed, which hosts only one of them reports. For reviewing a
# change to how verdicts are made ("no verdict changes without a stated reason").
# Usage: ci/compare_verdicts.sh OLD_BINARY NEW_BINARY [CORPORA]   (prints the differences)
set -euo pipefail
old=$1 new=$2
corpora=${3:-$(cd "$(dirname "$0")/.." && pwd)/../shared/corpora}
work=$(mktemp -d)
labels() { # BINARY OUT: file<TAB>host<TAB>label for every file; the old binary may lack --all-hosts
    local bin=$1 out=$2 all=--all-hosts
    "$bin" analyze --help | grep -q -- --all-hosts || all=
    (cd "$corpora" && find . -type f ! -name MANIFEST.tsv ! -name '*.md' | sed 's#^\./##' | sort) |
    while read -r f; do
        "$bin" analyze --geoip-db embedded --format json $all --no-progress "$corpora/$f" 2>/dev/null |
            python3 -c 'import json,sys
try: r=json.load(sys.stdin)
except Exception: sys.exit(0)
for h in r.get("hosts",[]): print(sys.argv[1]+"\t"+h["address"]+"\t"+h["verdict"]["label"])' "$f" || true
    done >"$out"
}
labels "$old" "$work/old.tsv"
labels "$new" "$work/new.tsv"
python3 - "$work/old.tsv" "$work/new.tsv" <<'PY'
import sys, collections
def read(p):
    return {tuple(l.rstrip("\n").split("\t")[:2]): l.rstrip("\n").split("\t")[2] for l in open(p) if l.strip()}
old, new = read(sys.argv[1]), read(sys.argv[2])
changed = sorted(k for k in old.keys() & new.keys() if old[k] != new[k])
gone = sorted(old.keys() - new.keys())
added = sorted(new.keys() - old.keys())
print(f"hosts: {len(old)} before, {len(new)} after; {len(changed)} labels changed, {len(gone)} hosts gone, {len(added)} hosts new")
for k in changed:
    print(f"changed\t{k[0]}\t{k[1]}\t{old[k]} -> {new[k]}")
for k in gone:
    print(f"gone\t{k[0]}\t{k[1]}\t{old[k]}")
print("new hosts by label:", dict(collections.Counter(new[k] for k in added)))
PY
rm -rf "$work"
