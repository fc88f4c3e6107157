#!/usr/bin/env python3
"""Writes a Zeek dns.log (TSV) of a big network's lookups, or an ssl.log (--ssl),
deterministically: LINES lookups, one every 0.5 ms, by HOSTS machines in turn (10.0.0.0/8),
each of a name never asked before (h<n>.example.com) answered with an address of
198.18.0.0/15 (131,072 of them in turn), through 10.255.0.53. A dns.log is read whole before
any conn.log, so its names alone must stay within --max-memory:

    python3 bench/make_dnslog.py --lines 1000000 --out bench/out/dns-1000000.log
    tomskype analyze --max-memory 200M bench/out/dns-1000000.log

With --ssl, an ssl.log instead: LINES TLS connections of the same machines to 93.184.0.0/16
on port 443, each with a server name never seen before (s<n>.example.com) and no conn record
(an ssl.log is read before the conn.log too, and its names wait for their conn records).

Usage: bench/make_dnslog.py [--lines 1000000] [--hosts 200000] [--ssl] [--out FILE]
Default output: bench/out/dns-<lines>.log, or ssl-<lines>.log (bench/out is gitignored).
"""

import argparse
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SSL_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n"
    "#open\t2012-06-01-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\t"
    "server_name\testablished\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tbool\n"
)
HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#open\t2012-06-01-00-00-00\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\tquery\t"
    "qclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\t"
    "TTLs\trejected\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tstring\tcount\tstring\tcount\t"
    "string\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\t"
    "bool\n"
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=200_000)
    ap.add_argument("--ssl", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if not 0 < a.hosts < 1 << 24:
        raise SystemExit("--hosts: 1 to 16777215 (10.0.0.0/8)")
    if a.lines < 1:
        raise SystemExit("--lines: at least 1")
    kind = "ssl" if a.ssl else "dns"
    out = a.out or os.path.join(ROOT, "bench", "out", f"{kind}-{a.lines}.log")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    t_us = 1_338_508_800 * 1_000_000  # 2012-06-01
    with open(out, "w") as f:
        f.write(SSL_HEADER if a.ssl else HEADER)
        lines = []
        for i in range(a.lines):
            h = i % a.hosts
            host = f"10.{(h >> 16) & 255}.{(h >> 8) & 255}.{h & 255}"
            a_ = i % (1 << 17)
            answer = f"198.{18 + (a_ >> 16)}.{(a_ >> 8) & 255}.{a_ & 255}"
            ts = f"{t_us // 1_000_000}.{t_us % 1_000_000:06d}"
            if a.ssl:
                server = f"93.184.{(i >> 8) & 255}.{i & 255}"
                lines.append(
                    f"{ts}\tS{i:017d}\t{host}\t{40000 + i % 20000}\t{server}\t443\tTLSv12\t"
                    f"TLS_AES_128_GCM_SHA256\ts{i}.example.com\tT\n"
                )
            else:
                lines.append(
                    f"{ts}\tD{i:017d}\t{host}\t{40000 + i % 20000}\t10.255.0.53\t53\tudp\t"
                    f"{i & 65535}\th{i}.example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t"
                    f"0\t{answer}\t60.0\tF\n"
                )
            t_us += 500
            if len(lines) == 10_000:
                f.writelines(lines)
                lines = []
        f.writelines(lines)


if __name__ == "__main__":
    main()
