#!/usr/bin/env python3
"""Writes a Zeek conn.log (TSV) of a big network, deterministically: LINES connections, one
every 0.5 ms, from HOSTS machines in turn (10.0.0.0/8) to as many servers of 93.184.0.0/16 on
port 443, each 8 packets each way. For bench/compare.sh's "5 M-line conn.log" memory check:

    python3 bench/make_connlog.py --lines 5000000 --out bench/out/conn-5000000.log
    tomskype analyze bench/out/conn-5000000.log

Usage: bench/make_connlog.py [--lines 5000000] [--hosts 1000000] [--out FILE]
Default output: bench/out/conn-<lines>.log (bench/out is gitignored).
"""

import argparse
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2012-06-01-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"
    "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\t"
    "bool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n"
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--hosts", type=int, default=1_000_000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if not 0 < a.hosts < 1 << 24:
        raise SystemExit("--hosts: 1 to 16777215 (10.0.0.0/8)")
    out = a.out or os.path.join(ROOT, "bench", "out", f"conn-{a.lines}.log")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    t_us = 1_338_508_800 * 1_000_000  # 2012-06-01
    with open(out, "w") as f:
        f.write(HEADER)
        lines = []
        for i in range(a.lines):
            h = i % a.hosts
            host = f"10.{(h >> 16) & 255}.{(h >> 8) & 255}.{h & 255}"
            server = f"93.184.{(i >> 8) & 255}.{i & 255}"
            ts = f"{t_us // 1_000_000}.{t_us % 1_000_000:06d}"
            lines.append(
                f"{ts}\tC{i:017d}\t{host}\t{40000 + i % 20000}\t{server}\t443\ttcp\tssl\t1.5\t"
                "500\t4000\tSF\tT\tF\t0\tShADadFf\t8\t900\t8\t4400\t(empty)\n"
            )
            t_us += 500
            if len(lines) >= 100_000:
                f.write("".join(lines))
                lines = []
        f.write("".join(lines))
    print(out)


if __name__ == "__main__":
    main()
