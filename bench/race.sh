#!/usr/bin/env bash
# Times two tomskype binaries on the same captures, alternating run by run (the machine's speed
# drifts; alternating shares the drift) and swapping which runs first every round, reading
# each capture into the page cache before every run; prints each binary's median, their
# ratio, and the median of the ratios within each round. For "is it slower than before?"
# on one machine in one run. The JSON report is written to /dev/null, listing every host
# (--all-hosts where the binary has it) so that both do the same work.
# Usage: bench/race.sh OLD_BINARY NEW_BINARY ROUNDS CAPTURE...
#   e.g. python3 bench/make_capture.py --mb 400 --out /tmp/b400.pcap
#        python3 bench/make_capture.py --mb 200 --vary hosts --out /tmp/b200h.pcap
#        bash bench/race.sh /tmp/old/tomskype target/release/tomskype 5 /tmp/b400.pcap /tmp/b200h.pcap
set -euo pipefail
old=$1 new=$2 rounds=$3
shift 3
out=$(mktemp)
for f in "$@"; do
    for r in $(seq "$rounds"); do
        # Odd rounds run the old binary first, even rounds the new one (ABBA): whatever the
        # first or second run of a round gains from the other, both get it equally.
        order=("$old" "$new")
        [ $((r % 2)) = 1 ] || order=("$new" "$old")
        for bin in "${order[@]}"; do
            all=--all-hosts
            "$bin" analyze --help | grep -q -- --all-hosts || all=
            cat "$f" >/dev/null
            s=$(date +%s.%N)
            "$bin" analyze --geoip-db embedded --format json $all --threads 1 --no-progress "$f" >/dev/null || true
            e=$(date +%s.%N)
            echo "$f $r $bin $(echo "$e - $s" | bc)" >>"$out"
        done
    done
done
python3 - "$out" "$old" "$new" <<'PY'
import statistics, sys, collections
runs = collections.defaultdict(list)
rounds = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    f, r, b, t = line.split()
    runs[(f, b)].append(float(t))
    rounds[(f, r)][b] = float(t)
old, new = sys.argv[2], sys.argv[3]
for f in dict.fromkeys(k[0] for k in runs):
    a, b = statistics.median(runs[(f, old)]), statistics.median(runs[(f, new)])
    per = statistics.median(t[new] / t[old] for (g, _), t in rounds.items() if g == f)
    print(f"{f}: old {a:.3f} s, new {b:.3f} s (median of {len(runs[(f, new)])}), new/old {b / a:.2f}; "
          f"median of the rounds' new/old {per:.2f}")
PY
rm -f "$out"
