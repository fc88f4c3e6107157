#!/usr/bin/env bash
# End-to-end test of `tomskype live`, run as root by .ci/run (which installs libpcap-dev,
# iproute2 and python3; this script installs nothing).
#
# It creates a throw-away network namespace holding BOTH ends of a veth pair, so nothing can
# leave it and no other interface is touched, captures on one end with `tomskype live` while
# ci/live_netns_send.py sends hand-built frames on the other (documentation addresses only:
# 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), then checks:
#   1. live exits 1 (a tom-skype host) and its JSON labels 192.0.2.2 `tom-skype`;
#   2. the HTTP flow is attributed to the sender's process (read from /proc);
#   3. `tomskype analyze` of the --write file gives the same verdicts, and also exits 1;
#   4. `tomskype live --interface does-not-exist` exits 2 and lists the real interfaces;
#   5. with `--format jsonl`, a `verdict-changed` line for 192.0.2.2 (no-skype to tom-skype)
#      comes while the capture runs, after the header and before the hosts' lines.
#
# The JSON checks are small Python snippets (python3 is needed for the sender anyway).
#
# Usage: ci/live_netns.sh   (env TOMSKYPE=path/to/binary built with --features live;
#                            default: builds target/debug/tomskype with cargo)
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ $(id -u) -ne 0 ]]; then
    echo "live_netns: must run as root (network namespaces, packet capture)" >&2
    exit 1
fi
for tool in ip python3 timeout; do
    command -v "$tool" >/dev/null || { echo "live_netns: $tool is missing" >&2; exit 1; }
done
if [[ -z ${TOMSKYPE:-} ]]; then
    timeout 900 cargo build --quiet --features live
    TOMSKYPE="${CARGO_TARGET_DIR:-target}/debug/tomskype"
fi
TOMSKYPE=$(realpath "$TOMSKYPE")
INDICATORS=$(realpath ci/live-test-indicators.tsv)
SENDER=$(realpath ci/live_netns_send.py)

NS="tomskype-ci-$$"
A="tsk${$}a" # interface names are at most 15 characters
B="tsk${$}b"
TMP=$(mktemp -d)
SENDER_PID=
cleanup() {
    if [[ -n $SENDER_PID ]]; then kill "$SENDER_PID" 2>/dev/null || true; fi
    # Deleting the namespace deletes the veth pair inside it.
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
    echo "live_netns: FAIL: $*" >&2
    exit 1
}
in_ns() { ip netns exec "$NS" "$@"; }
check() { # check NAME FILE... : runs the Python check NAME on the JSON files
    python3 - "$@" <<'PY'
import json
import os
import sys

name, files = sys.argv[1], sys.argv[2:]
docs = [json.load(open(f)) for f in files]
iface, py_pid = os.environ["A"], os.environ["PY_PID"]


def host(doc, addr):
    return next((h for h in doc["hosts"] if h["address"] == addr), None)


def verdicts(doc):
    return (
        [(h["address"], h["verdict"], [e.get("indicator") for e in h["evidence"]]) for h in doc["hosts"]],
        doc["totals"]["packets"],
        doc["totals"]["flows"],
    )


doc = docs[0]
h = host(doc, "192.0.2.2")
if name == "input":
    ins = doc["inputs"]
    ok = len(ins) == 1 and ins[0]["path"] == f"live:{iface}" and ins[0]["packets"] >= 7
    why = f"live input report: {ins}"
elif name == "label":
    ok = h is not None and h["verdict"]["label"] == "tom-skype"
    why = f"live labels 192.0.2.2 {h and h['verdict']['label']!r}, expected tom-skype"
elif name == "beacon":
    ok = h is not None and any(e.get("indicator") == "tom-url-return-time" for e in h["evidence"])
    why = "the login beacon is not in the evidence"
elif name == "program":
    eps = [e for e in (h or {}).get("endpoints", []) if e["address"] == "203.0.113.10"]
    progs = eps[0].get("programs", []) if eps else []
    ok = any(p.startswith("python") and p.endswith(f"(pid {py_pid})") for p in progs)
    why = f"203.0.113.10 not attributed to python pid {py_pid}: {progs}"
elif name == "same":
    ok = verdicts(docs[0]) == verdicts(docs[1])
    why = f"the replayed capture gives other verdicts:\n live:   {verdicts(docs[0])}\n replay: {verdicts(docs[1])}"
else:
    ok, why = False, f"unknown check {name}"
if not ok:
    print(f"live_netns: FAIL: {why}", file=sys.stderr)
    sys.exit(1)
PY
}

ip netns add "$NS"
# Created inside the namespace, both ends: the host's own interfaces are never involved.
ip -n "$NS" link add "$A" address 02:00:00:00:00:01 type veth peer name "$B" address 02:00:00:00:00:02
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
ip -n "$NS" addr add 192.0.2.1/24 dev "$A"
ip -n "$NS" addr add 192.0.2.2/24 dev "$B"
ip -n "$NS" link set lo up
ip -n "$NS" link set "$A" up
ip -n "$NS" link set "$B" up
# veth carriers come up at once, but give the kernel a moment.
for _ in $(seq 50); do
    [[ $(ip -n "$NS" -o link show "$A") == *LOWER_UP* ]] && break
    sleep 0.1
done

OPTS=(--format json --local-net 192.0.2.0/24 --indicators "$INDICATORS" --geoip-db embedded --color never)

# start_sender READY: the sender binds its socket, then waits for the capture's packet socket
# to appear in the namespace (and 0.3 s more) before sending; it keeps its socket 4 s after
# that. Sets SENDER_PID, and PY_PID (what it wrote to READY: its process id).
start_sender() {
    in_ns timeout 30 python3 "$SENDER" "$B" 02:00:00:00:00:01 "$1" 0.3 4 &
    SENDER_PID=$!
    for _ in $(seq 100); do
        [[ -s $1 ]] && break
        sleep 0.1
    done
    [[ -s $1 ]] || fail "the sender did not start"
    PY_PID=$(head -n1 "$1")
}

# 1. A capture while the sender sends.
start_sender "$TMP/ready"

set +e
in_ns timeout 30 "$TOMSKYPE" live --interface "$A" --duration 4 --write "$TMP/live.pcap" "${OPTS[@]}" \
    >"$TMP/live.json" 2>"$TMP/live.err"
LIVE_RC=$?
set -e
wait "$SENDER_PID" || fail "the sender failed"
SENDER_PID=
cat "$TMP/live.err" >&2
[[ $LIVE_RC -eq 1 ]] || fail "live exited $LIVE_RC, expected 1 (a tom-skype host)"
export A PY_PID
check input "$TMP/live.json"
check label "$TMP/live.json"
check beacon "$TMP/live.json"

# 2. The HTTP flow's local socket (192.0.2.2:40000) belongs to the sender.
check program "$TMP/live.json"

# 3. Replaying the written capture gives the same verdicts and exit code.
set +e
timeout 30 "$TOMSKYPE" analyze --no-progress "$TMP/live.pcap" "${OPTS[@]}" >"$TMP/replay.json" 2>"$TMP/replay.err"
REPLAY_RC=$?
set -e
cat "$TMP/replay.err" >&2
[[ $REPLAY_RC -eq 1 ]] || fail "analyze of the written capture exited $REPLAY_RC, expected 1"
check same "$TMP/live.json" "$TMP/replay.json"

# 4. An unknown interface: exit 2, and the message names the real ones.
set +e
in_ns timeout 10 "$TOMSKYPE" live --interface does-not-exist --duration 1 >/dev/null 2>"$TMP/bad.err"
BAD_RC=$?
set -e
[[ $BAD_RC -eq 2 ]] || fail "live --interface does-not-exist exited $BAD_RC, expected 2"
grep -q "does-not-exist" "$TMP/bad.err" && grep -q "$A" "$TMP/bad.err" && grep -q "$B" "$TMP/bad.err" ||
    fail "the error does not list the interfaces: $(cat "$TMP/bad.err")"

# 5. JSON lines: the verdict told as it changes, then the report's lines.
FIRST_PY_PID=$PY_PID
start_sender "$TMP/ready2"
PY_PID=$FIRST_PY_PID
JSONL_OPTS=("${OPTS[@]}")
JSONL_OPTS[1]=jsonl
set +e
in_ns timeout 30 "$TOMSKYPE" live --interface "$A" --duration 4 "${JSONL_OPTS[@]}" \
    >"$TMP/live.jsonl" 2>"$TMP/live2.err"
JSONL_RC=$?
set -e
wait "$SENDER_PID" || fail "the sender failed"
SENDER_PID=
[[ $JSONL_RC -eq 1 ]] || fail "live --format jsonl exited $JSONL_RC, expected 1: $(cat "$TMP/live2.err")"
python3 - "$TMP/live.jsonl" <<'PY' || fail "the JSON lines of live are not as expected: $(cut -c1-120 "$TMP/live.jsonl")"
import json
import sys

lines = [json.loads(l) for l in open(sys.argv[1])]
types = [l["type"] for l in lines]
assert types[0] == "header" and types[-1] == "footer", types
changed = [l for l in lines if l["type"] == "verdict-changed"]
assert [(c["host"]["address"], c["was"], c["host"]["verdict"]["label"]) for c in changed] == [
    ("192.0.2.2", "no-skype", "tom-skype")
], changed
assert types.index("verdict-changed") < types.index("host"), types
PY

echo "live_netns: ok (live and replay: 192.0.2.2 tom-skype, flow attributed to pid $PY_PID; told as it changed)"
