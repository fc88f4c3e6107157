#!/usr/bin/env bash
# Times several tomskype commands on one capture, interleaved round by round so that they share
# the machine's state, and prints each one's fastest and median wall time and CPU (user+sys).
# For comparing builds or settings of one change on a noisy machine; bench/compare.sh is the
# benchmark of record.
#
# Usage: bench/interleave.sh CAPTURE ROUNDS 'LABEL|ENV|BINARY|THREADS'...
#   ENV is VAR=VALUE (space-separated for several; X=1 for none), passed to the run.
# Example: bench/interleave.sh /tmp/wt-b-1600.pcap 8 'old|X=1|/work/bins/old|2' 'new|X=1|target/release/tomskype|2'
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,/^set /p' "$0" | grep '^#'; exit 2; }
file=$1 rounds=$2
shift 2
declare -A wall cpu
t="$(mktemp)"
trap 'rm -f "$t"' EXIT
for _ in $(seq "$rounds"); do
    for spec in "$@"; do
        IFS='|' read -r label envs bin threads <<<"$spec"
        # shellcheck disable=SC2086 # ENV is a list of assignments
        env $envs /usr/bin/time -o "$t" -f "%e %U %S" "$bin" analyze --geoip-db embedded \
            --format json --threads "$threads" "$file" >/dev/null 2>/dev/null
        read -r e u s <"$t"
        wall[$label]+="$e "
        cpu[$label]+="$(echo "$u $s" | awk '{printf "%.2f", $1 + $2}') "
    done
done
# The median of an even count is the mean of the middle two, as Python's statistics.median.
stat() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{printf "fastest %.2f median %.3f", a[1], (a[int((NR+1)/2)] + a[int(NR/2)+1]) / 2}'; }
for spec in "$@"; do
    label=${spec%%|*}
    echo "$label: wall $(echo "${wall[$label]}" | stat) | cpu $(echo "${cpu[$label]}" | stat) | ${wall[$label]}"
done
