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
T0_US = 1_338_508_800 * 1_000_000  # 2012-06-01, the logs' first time (us)


def header(path, fields, types):
    """A Zeek TSV log's header lines (bench/make_dnslog.py writes its logs with it too)."""
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        f"#path\t{path}\n#open\t2012-06-01-00-00-00\n"
        "#fields\t" + "\t".join(fields.split()) + "\n#types\t" + "\t".join(types.split()) + "\n"
    )


def machine(h):
    """Machine h (0 to 16777215) of 10.0.0.0/8."""
    if not 0 <= h < 1 << 24:
        raise SystemExit("--hosts: 1 to 16777215 (10.0.0.0/8)")
    return f"10.{(h >> 16) & 255}.{(h >> 8) & 255}.{h & 255}"


def seconds(t_us):
    """Zeek's time: epoch seconds with six decimals."""
    return f"{t_us // 1_000_000}.{t_us % 1_000_000:06d}"


def write_log(out, head, lines):
    """Writes `head`, then the lines of the iterable `lines`, in chunks; makes the folder."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(head)
        chunk = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= 100_000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))


HEADER = header(
    "conn",
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes "
    "resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes "
    "resp_pkts resp_ip_bytes tunnel_parents",
    "time string addr port addr port enum string interval count count string bool bool count "
    "string count count count count set[string]",
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=5_000_000)
    ap.add_argument("--hosts", type=int, default=1_000_000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    machine(a.hosts - 1)
    out = a.out or os.path.join(ROOT, "bench", "out", f"conn-{a.lines}.log")

    def lines():
        for i in range(a.lines):
            host = machine(i % a.hosts)
            server = f"93.184.{(i >> 8) & 255}.{i & 255}"
            ts = seconds(T0_US + 500 * i)
            yield (
                f"{ts}\tC{i:017d}\t{host}\t{40000 + i % 20000}\t{server}\t443\ttcp\tssl\t1.5\t"
                "500\t4000\tSF\tT\tF\t0\tShADadFf\t8\t900\t8\t4400\t(empty)\n"
            )

    write_log(out, HEADER, lines())
    print(out)


if __name__ == "__main__":
    main()
