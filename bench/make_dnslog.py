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
With --http, an http.log the same way: LINES requests (a browser's GET of /index.html) of the
same machines to 93.184.0.0/16 on port 80, each for a host never seen before (w<n>.example.com),
with no conn record (they wait for them as an ssl.log's names do).

Usage: bench/make_dnslog.py [--lines 1000000] [--hosts 200000] [--ssl | --http] [--out FILE]
Default output: bench/out/dns-<lines>.log, ssl-<lines>.log or http-<lines>.log (bench/out is
gitignored).
"""

import argparse
import os

from make_connlog import ROOT, T0_US, header, machine, seconds, write_log

SSL_HEADER = header(
    "ssl",
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p version cipher server_name established",
    "time string addr port addr port string string string bool",
)
HTTP_HEADER = header(
    "http",
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p trans_depth method host uri referrer version "
    "user_agent request_body_len response_body_len status_code status_msg proxied",
    "time string addr port addr port count string string string string string string count "
    "count count string set[string]",
)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
HEADER = header(
    "dns",
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id query qclass qclass_name "
    "qtype qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected",
    "time string addr port addr port enum count string count string count string count string "
    "bool bool bool bool count vector[string] vector[interval] bool",
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--hosts", type=int, default=200_000)
    kinds = ap.add_mutually_exclusive_group()
    kinds.add_argument("--ssl", action="store_true")
    kinds.add_argument("--http", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    machine(a.hosts - 1)
    if a.lines < 1:
        raise SystemExit("--lines: at least 1")
    kind = "ssl" if a.ssl else "http" if a.http else "dns"
    out = a.out or os.path.join(ROOT, "bench", "out", f"{kind}-{a.lines}.log")

    def lines():
        for i in range(a.lines):
            host = machine(i % a.hosts)
            ts = seconds(T0_US + 500 * i)
            server = f"93.184.{(i >> 8) & 255}.{i & 255}"
            if a.http:
                yield (
                    f"{ts}\tH{i:017d}\t{host}\t{40000 + i % 20000}\t{server}\t80\t1\tGET\t"
                    f"w{i}.example.com\t/index.html\t-\t1.1\t{BROWSER}\t0\t1024\t200\tOK\t-\n"
                )
            elif a.ssl:
                yield (
                    f"{ts}\tS{i:017d}\t{host}\t{40000 + i % 20000}\t{server}\t443\tTLSv12\t"
                    f"TLS_AES_128_GCM_SHA256\ts{i}.example.com\tT\n"
                )
            else:
                n = i % (1 << 17)
                answer = f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"
                yield (
                    f"{ts}\tD{i:017d}\t{host}\t{40000 + i % 20000}\t10.255.0.53\t53\tudp\t"
                    f"{i & 65535}\th{i}.example.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t"
                    f"0\t{answer}\t60.0\tF\n"
                )

    write_log(out, SSL_HEADER if a.ssl else HTTP_HEADER if a.http else HEADER, lines())


if __name__ == "__main__":
    main()
