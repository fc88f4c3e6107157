#!/usr/bin/env bash
# Times `tomskype analyze` against the tools analysts use today (ndpiReader, tcpdump, tshark) on
# the same capture, in one run, alternating the tools round by round so that they share the
# machine's state; then times tomskype on two copies of the capture with --threads 1 and
# --threads 2 (the parallel speed-up) and checks both give the same verdicts; then on the one
# capture alone with --threads 1 and --threads 2 (one large file read in shards by address
# pair on both cores, see crates/tomskype/src/analyze/shard.rs), beside two --threads 1 at
# once (what the machine's two cores give two independent runs, the ceiling of --threads 2),
# and checks both give the same verdicts; last, times tomskype on a capture an eighth of the size, made the same way (cost
# linear in size?).
#
# Installs nothing: says what is missing
#   (apt-get install -y libndpi-bin tcpdump tshark time; DEBIAN_FRONTEND=noninteractive for tshark).
#
# Usage: bench/compare.sh [--mb 1600] [--vary ports|hosts|none] [--rounds 3] [--tshark-rounds 1] [--skip-tshark]
#                         [--one-file-rounds 9]
#                         [--skip-tools] [--skip-parallel] [--skip-one-file] [--skip-linear]
#                         [--file CAPTURE] [--bin PATH] [--before PATH]
# --one-file-rounds: the rounds of the one-file part (default 9; a round is three short runs,
# about 5 s on the 1.6 GB capture). Its figure is a ratio of two runs within a round, and a
# shared machine slows some rounds, often two in a row: with more rounds, one slowed stretch
# moves its median less (bench/RESULTS.md, "How many rounds for two cores; the tools' ratios
# within rounds"). ndpiReader's times are also divided by ours round by round, for the same
# reason.
# --skip-tools times tomskype alone (no ndpiReader, tcpdump, tshark): a quick run.
# --before PATH also times another tomskype binary (say, a build from before a change) in the
# same rounds, each round swapping which of the two runs first, and prints its figures beside
# the others' and the ratio of the two within each round ("is it slower than before?").
# The capture defaults to bench/out/bench-<mb>mb.pcap, made by bench/make_capture.py if absent.
# Beside it, unless skipped: a capture of many hosts (--hosts-mb, default 1000: make_capture.py
# --vary hosts, each pass its own hosts), timed against ndpiReader too; and a stream of
# --stream-hosts machines (default 3000000, bench/make_stream.py) on stdin, and a Zeek conn.log
# of --connlog-lines connections (default 5000000, bench/make_connlog.py): time and peak memory
# (--skip-hosts, --skip-stream, --skip-connlog to leave them out).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
mb=1600
vary=ports
rounds=3
one_file_rounds=9
tshark_rounds=1
skip_tshark=0
skip_tools=0
skip_parallel=0
skip_one_file=0
skip_linear=0
skip_hosts=0
skip_stream=0
skip_connlog=0
connlog_lines=5000000
hosts_mb=1000
stream_hosts=3000000
file=""
bin=""
before=""
while [ $# -gt 0 ]; do
    case "$1" in
        --mb) mb="$2"; shift 2 ;;
        --vary) vary="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --tshark-rounds) tshark_rounds="$2"; shift 2 ;;
        --one-file-rounds) one_file_rounds="$2"; shift 2 ;;
        --skip-tshark) skip_tshark=1; shift ;;
        --skip-tools) skip_tools=1; skip_tshark=1; shift ;;
        --skip-parallel) skip_parallel=1; shift ;;
        --skip-one-file) skip_one_file=1; shift ;;
        --skip-linear) skip_linear=1; shift ;;
        --skip-hosts) skip_hosts=1; shift ;;
        --skip-stream) skip_stream=1; shift ;;
        --skip-connlog) skip_connlog=1; shift ;;
        --connlog-lines) connlog_lines="$2"; shift 2 ;;
        --hosts-mb) hosts_mb="$2"; shift 2 ;;
        --stream-hosts) stream_hosts="$2"; shift 2 ;;
        --file) file="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --before) before="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set /p' "$0" | grep '^#'; exit 0 ;;
        *) echo "compare: unknown argument $1" >&2; exit 2 ;;
    esac
done

missing=()
# have TOOL: whether TOOL is installed and to be timed.
have() { { [ "$skip_tools" = 0 ] || [ "$1" = python3 ]; } && command -v "$1" >/dev/null 2>&1; }
[ "$skip_tools" = 1 ] || have ndpiReader || missing+=("libndpi-bin (ndpiReader)")
[ "$skip_tools" = 1 ] || have tcpdump || missing+=("tcpdump")
[ "$skip_tshark" = 1 ] || have tshark || missing+=("tshark")
[ -x /usr/bin/time ] || missing+=("time (/usr/bin/time, for peak memory)")
have python3 || missing+=("python3 (to make the capture)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "compare: missing: ${missing[*]}" >&2
    echo "compare: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libndpi-bin tcpdump tshark time" >&2
    echo "compare: the missing tools are left out of the comparison" >&2
fi

if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet)
    bin="$root/target/release/tomskype"
fi
if [ -z "$file" ]; then
    suffix=""
    [ "$vary" = ports ] || suffix="-$vary"
    file="$here/out/bench-${mb}mb${suffix}.pcap"
    [ -f "$file" ] || python3 "$here/make_capture.py" --mb "$mb" --vary "$vary" --out "$file"
fi
out="$(dirname "$file")"
work="$(mktemp -d "${TMPDIR:-/tmp}/tomskype-compare.XXXXXX")"
trap 'rm -rf "$work"' EXIT

bytes=$(stat -L -c %s "$file")
# Packet count: the records of the classic pcap, as tomskype reads them.
packets=$("$bin" analyze --geoip-db embedded --format json --threads 1 "$file" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(i["packets"] for i in r["inputs"]))')
echo "capture: $file ($bytes bytes, $packets packets)"

# warm FILE...: reads the files so that they are in the page cache (the kernel may have
# reclaimed cold pages since the last run: DAMON does on these machines).
warm() { cat "$@" >/dev/null; }

# run NAME CMD...: warms the files among CMD's arguments (the captures), runs once, appends
# "NAME seconds maxrss_kb" to $work/times.
run() {
    local name="$1" a
    shift
    for a in "${@:2}"; do
        [ ! -f "$a" ] || warm "$a"
    done
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
        echo "compare: $name failed:" >&2
        tail -5 "$work/err" >&2
        return 0
    }
    echo "$name $(cat "$work/t")" >>"$work/times"
}

tom=("$bin" analyze --geoip-db embedded --format json --threads 1 "$file")
tom_before=("$before" analyze --geoip-db embedded --format json --threads 1 "$file")
for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds"
    if [ -z "$before" ]; then
        run tomskype "${tom[@]}"
    elif [ $((r % 2)) = 1 ]; then
        run tomskype-before "${tom_before[@]}"
        run tomskype "${tom[@]}"
    else
        run tomskype "${tom[@]}"
        run tomskype-before "${tom_before[@]}"
    fi
    have ndpiReader && run ndpiReader ndpiReader -i "$file" -q
    have tcpdump && run tcpdump tcpdump -n -r "$file"
    if [ "$skip_tshark" = 0 ] && have tshark && [ "$r" -le "$tshark_rounds" ]; then
        run tshark tshark -r "$file" -q -z conv,ip
    fi
done

# hosts JSON: the hosts of a report, keys sorted, to compare verdicts.
hosts() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["hosts"], sort_keys=True))' "$1"; }
# verdicts REPORT: each host's address, label, evidence, advisories and roles.
verdicts() { python3 -c 'import json,sys; print(json.dumps([[h["address"], h["verdict"]["label"], h["evidence"], h["advisories"], h.get("roles")] for h in json.load(open(sys.argv[1]))["hosts"]], sort_keys=True))' "$1"; }
# differing A B: how many hosts of A are not exactly as in B.
differing() { python3 -c 'import json,sys; a, b = (json.load(open(p))["hosts"] for p in sys.argv[1:]); print(sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b)))' "$1" "$2"; }

if [ "$skip_parallel" = 0 ]; then
    # Two copies (a second file, so the inputs are two), both in the page cache.
    copy="$out/$(basename "$file" .pcap)-copy.pcap"
    [ -f "$copy" ] && [ "$(stat -L -c %s "$copy")" = "$bytes" ] || cp "$file" "$copy"
    for r in $(seq 1 "$rounds"); do
        echo "parallel round $r/$rounds"
        run two-t1 "$bin" analyze --geoip-db embedded --format json --threads 1 "$file" "$copy"
        run two-t2 "$bin" analyze --geoip-db embedded --format json --threads 2 "$file" "$copy"
    done
    "$bin" analyze --geoip-db embedded --format json --all-hosts --threads 1 "$file" "$copy" >"$work/t1.json"
    "$bin" analyze --geoip-db embedded --format json --all-hosts --threads 2 "$file" "$copy" >"$work/t2.json"
    if [ "$(hosts "$work/t1.json")" = "$(hosts "$work/t2.json")" ]; then
        echo "verdicts: --threads 1 and --threads 2 give identical hosts"
    else
        echo "verdicts: --threads 1 and --threads 2 DIFFER" >&2
        echo "different" >"$work/verdicts"
    fi
fi

if [ "$skip_one_file" = 0 ]; then
    # The one capture: read by one thread, and in two shards on two (it is above the 64 MiB
    # a file must have to be split). Alternating, as above.
    # Each round also runs two `--threads 1` at once on the file, sharing nothing but the
    # machine: 2 x (--threads 1 alone) / (both at once) is the most two cores of this machine
    # gave two independent copies of the one-thread work in that round (its neighbours, its
    # shared cache and memory, its clock under two busy cores), the ceiling of --threads 2.
    one=("$bin" analyze --geoip-db embedded --format json --threads 1 "$file")
    for r in $(seq 1 "$one_file_rounds"); do
        echo "one-file round $r/$one_file_rounds"
        if [ $((r % 2)) = 1 ]; then
            run one-t1 "${one[@]}"
            run one-t2 "$bin" analyze --geoip-db embedded --format json --threads 2 "$file"
            run one-pair bash -c '"$@" >/dev/null & p=$!; "$@" >/dev/null && wait "$p"' pair "${one[@]}"
        else
            run one-pair bash -c '"$@" >/dev/null & p=$!; "$@" >/dev/null && wait "$p"' pair "${one[@]}"
            run one-t2 "$bin" analyze --geoip-db embedded --format json --threads 2 "$file"
            run one-t1 "${one[@]}"
        fi
    done
    "$bin" analyze --geoip-db embedded --format json --all-hosts --threads 1 "$file" >"$work/o1.json"
    "$bin" analyze --geoip-db embedded --format json --all-hosts --threads 2 "$file" >"$work/o2.json"
    if [ "$(hosts "$work/o1.json")" = "$(hosts "$work/o2.json")" ]; then
        echo "verdicts: one file, --threads 1 and --threads 2 give identical hosts"
    elif [ "$(verdicts "$work/o1.json")" = "$(verdicts "$work/o2.json")" ]; then
        # The known exceptions of a split file (crates/tomskype/src/analyze/shard.rs): a flow
        # seen through two tunnels, bounds per shard, quiet hosts summarised per shard.
        echo "verdicts: one file, --threads 1 and --threads 2 give identical verdicts; $(differing "$work/o1.json" "$work/o2.json") host(s) differ in counts or listed endpoints (shard.rs's known exceptions)"
    else
        echo "verdicts: one file, --threads 1 and --threads 2 DIFFER" >&2
        echo "different" >"$work/verdicts"
    fi
fi

hosts_file=""
if [ "$skip_hosts" = 0 ]; then
    # Many hosts: every pass of the corpora with its own addresses. Timed as the main capture.
    hosts_file="$out/bench-${hosts_mb}mb-hosts.pcap"
    [ -f "$hosts_file" ] || python3 "$here/make_capture.py" --mb "$hosts_mb" --vary hosts --out "$hosts_file"
    many=("$bin" analyze --geoip-db embedded --format json --threads 1 "$hosts_file")
    for r in $(seq 1 "$rounds"); do
        echo "many-hosts round $r/$rounds"
        if [ -n "$before" ] && [ $((r % 2)) = 1 ]; then
            run hosts-tomskype-before "$before" analyze --geoip-db embedded --format json --threads 1 "$hosts_file"
        fi
        run hosts-tomskype "${many[@]}"
        if [ -n "$before" ] && [ $((r % 2)) = 0 ]; then
            run hosts-tomskype-before "$before" analyze --geoip-db embedded --format json --threads 1 "$hosts_file"
        fi
        have ndpiReader && run hosts-ndpiReader ndpiReader -i "$hosts_file" -q
    done
    "${many[@]}" | wc -c | awk '{print "many hosts: the default JSON report is " $1 " bytes"}'
fi

stream_file=""
if [ "$skip_stream" = 0 ]; then
    # A big network's stream on stdin: one datagram per new machine, then a TOM-Skype login.
    stream_file="$out/stream-${stream_hosts}.pcap"
    [ -f "$stream_file" ] || python3 "$here/make_stream.py" --hosts "$stream_hosts" --out "$stream_file"
    # Exit code 1 is the verdict (a TOM-Skype host), not a failure.
    # shellcheck disable=SC2016
    piped='"$0" analyze --geoip-db embedded --format json - < "$1"; [ $? -le 1 ]'
    for r in $(seq 1 "$rounds"); do
        echo "stream round $r/$rounds"
        if [ -n "$before" ] && [ $((r % 2)) = 1 ]; then
            run stream-tomskype-before sh -c "$piped" "$before" "$stream_file"
        fi
        run stream-tomskype sh -c "$piped" "$bin" "$stream_file"
        if [ -n "$before" ] && [ $((r % 2)) = 0 ]; then
            run stream-tomskype-before sh -c "$piped" "$before" "$stream_file"
        fi
    done
fi

connlog_file=""
if [ "$skip_connlog" = 0 ]; then
    # A big network's Zeek conn.log: a million machines, five connections each.
    connlog_file="$out/conn-${connlog_lines}.log"
    [ -f "$connlog_file" ] || python3 "$here/make_connlog.py" --lines "$connlog_lines" --out "$connlog_file" >/dev/null
    for r in $(seq 1 "$rounds"); do
        echo "conn.log round $r/$rounds"
        if [ -n "$before" ] && [ $((r % 2)) = 1 ]; then
            run connlog-tomskype-before "$before" analyze --geoip-db embedded --format json "$connlog_file"
        fi
        run connlog-tomskype "$bin" analyze --geoip-db embedded --format json "$connlog_file"
        if [ -n "$before" ] && [ $((r % 2)) = 0 ]; then
            run connlog-tomskype-before "$before" analyze --geoip-db embedded --format json "$connlog_file"
        fi
    done
fi

small_bytes=0
if [ "$skip_linear" = 0 ]; then
    # The same traffic, an eighth of the passes: timed alternating with the full capture.
    small="$out/$(basename "$file" .pcap)-eighth.pcap"
    if [ ! -f "$small" ]; then
        python3 "$here/make_capture.py" --mb $((bytes / 8000000)) --vary "$vary" --out "$small"
    fi
    small_bytes=$(stat -L -c %s "$small")
    for r in $(seq 1 "$rounds"); do
        echo "linear round $r/$rounds"
        run linear-full "${tom[@]}"
        run linear-eighth "$bin" analyze --geoip-db embedded --format json --threads 1 "$small"
    done
fi

python3 - "$work/times" "$bytes" "$packets" "$small_bytes" "$hosts_file" "$stream_file" "$connlog_file" <<'EOF'
import os, statistics, sys
path, size, packets, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
hosts_file, stream_file, connlog_file = sys.argv[5], sys.argv[6], sys.argv[7]
runs = {}
for line in open(path):
    name, secs, rss = line.split()
    runs.setdefault(name, []).append((float(secs), int(rss)))
def med(name):
    return statistics.median(s for s, _ in runs[name])
base = med("tomskype") if "tomskype" in runs else None
print()
print(f"| tool | runs | median s | MB/s | Mpkt/s | x slower than tomskype | peak RSS MB |")
print(f"|---|---|---|---|---|---|---|")
for name in ["tomskype", "tomskype-before", "ndpiReader", "tcpdump", "tshark"]:
    if name not in runs:
        continue
    m = med(name)
    rss = max(r for _, r in runs[name]) / 1024
    ratio = f"{m / base:.1f}" if base else "-"
    print(f"| {name} | {len(runs[name])} | {m:.2f} | {size / m / 1e6:.0f} | "
          f"{packets / m / 1e6:.2f} | {ratio} | {rss:.0f} |")
if "tomskype-before" in runs:
    pairs = [a / b for (a, _), (b, _) in zip(runs["tomskype"], runs["tomskype-before"])]
    print()
    print(f"tomskype / tomskype-before: {base / med('tomskype-before'):.2f} (medians); "
          f"within each round {' '.join(f'{p:.2f}' for p in pairs)}, "
          f"median {statistics.median(pairs):.2f}")
def table(label, file, names, base_name):
    """Median time, speed and peak memory of `names` on `file`, against `base_name`."""
    if base_name not in runs:
        return
    fsize = os.path.getsize(file)
    print()
    print(f"{label}: {file} ({fsize} bytes)")
    print()
    print("| tool | runs | median s | MB/s | x slower than tomskype | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    b = med(base_name)
    for name in names:
        if name not in runs:
            continue
        m = med(name)
        rss = max(r for _, r in runs[name]) / 1024
        print(f"| {name} | {len(runs[name])} | {m:.2f} | {fsize / m / 1e6:.0f} | {m / b:.1f} | {rss:.0f} |")
def within(tool, ours):
    """`tool`'s time over ours, within each round (the two ran one after the other): the
    machine's speed drifts between rounds, and the ratio of the medians may set our run of
    one round against the tool's of another."""
    if tool not in runs or ours not in runs:
        return
    pairs = [t / o for (t, _), (o, _) in zip(runs[tool], runs[ours])]
    print()
    print(f"{tool} / {ours} within each round: {' '.join(f'{p:.1f}' for p in pairs)}; "
          f"median {statistics.median(pairs):.1f}x")
within("ndpiReader", "tomskype")
if hosts_file:
    table("many hosts", hosts_file, ["hosts-tomskype", "hosts-tomskype-before", "hosts-ndpiReader"], "hosts-tomskype")
    within("hosts-ndpiReader", "hosts-tomskype")
if stream_file:
    table("stream on stdin", stream_file, ["stream-tomskype", "stream-tomskype-before"], "stream-tomskype")
if connlog_file:
    table("Zeek conn.log", connlog_file, ["connlog-tomskype", "connlog-tomskype-before"], "connlog-tomskype")
def speedup(label, t1name, t2name, files):
    """--threads 1 against --threads 2 over `files` copies of the capture."""
    t1, t2 = med(t1name), med(t2name)
    rss1 = max(r for _, r in runs[t1name]) / 1024
    rss2 = max(r for _, r in runs[t2name]) / 1024
    print()
    print(f"{label}: --threads 1 {t1:.2f} s ({files * size / t1 / 1e6:.0f} MB/s, {rss1:.0f} MB), "
          f"--threads 2 {t2:.2f} s ({files * size / t2 / 1e6:.0f} MB/s, {rss2:.0f} MB): "
          f"speed-up {t1 / t2:.2f}x")
    # The machine's speed drifts between rounds: the ratio within each round (the two runs
    # back to back) is steadier than the ratio of the medians.
    pairs = [a / b for (a, _), (b, _) in zip(runs[t1name], runs[t2name])]
    print(f"speed-up within each round: {' '.join(f'{p:.2f}' for p in pairs)}; "
          f"median {statistics.median(pairs):.2f}x")
    # Noise on a shared machine only ever slows a run: the fastest of the rounds is the
    # steadiest estimate of what the program itself costs (Python's timeit documentation).
    best1, best2 = min(s for s, _ in runs[t1name]), min(s for s, _ in runs[t2name])
    print(f"fastest of the rounds: --threads 1 {best1:.2f} s, --threads 2 {best2:.2f} s: "
          f"{best1 / best2:.2f}x")
    pair_name = t1name.replace("t1", "pair")
    if pair_name in runs:
        # Two one-thread runs at once: 2 x alone / together, within each round.
        ceil = [2 * a / p for (a, _), (p, _) in zip(runs[t1name], runs[pair_name])]
        print(f"the machine's two cores, two --threads 1 at once (2 x alone / together) within "
              f"each round: {' '.join(f'{c:.2f}' for c in ceil)}; median "
              f"{statistics.median(ceil):.2f}x; --threads 2 gave "
              f"{statistics.median(p / c for p, c in zip(pairs, ceil)):.0%} of it (median)")
if "two-t1" in runs and "two-t2" in runs:
    speedup("two files", "two-t1", "two-t2", 2)
if "one-t1" in runs and "one-t2" in runs:
    speedup("one file", "one-t1", "one-t2", 1)
if "linear-full" in runs and "linear-eighth" in runs:
    full, eighth = med("linear-full"), med("linear-eighth")
    print()
    print(f"linear: {size} bytes {full:.2f} s ({size / full / 1e6:.0f} MB/s), "
          f"{small} bytes {eighth:.3f} s ({small / eighth / 1e6:.0f} MB/s): "
          f"time per byte, full / small = {(full / size) / (eighth / small):.2f}")
EOF
[ ! -f "$work/verdicts" ]
