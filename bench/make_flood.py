#!/usr/bin/env python3
"""Writes a capture that keeps one of the reader's bounded stores full, deterministically, as a
spoofer could (or one direction of a busy network's traffic): PACKETS packets, 10 µs apart
(--gap-us), each adding an entry that never completes.

    dns   machine n (100.64.0.0/10, one per packet) asks 100.64.0.53 for skypetools.tom.com
          (a name an indicator watches); no answer (with --answers, each is answered).
          Fills the DNS questions waiting for their answers (65,536).
    tcp   a TLS handshake record's first segment (its length says 4 KiB follow), each from a
          new port of one of 1,000 machines to 93.184.216.1:443; the rest never comes.
          Fills the TCP directions being reassembled (4,096).
    frag  the first fragment of a 3,000-byte UDP datagram from one of 1,000 machines; the
          others never come. Fills the datagrams waiting for reassembly (1,024).

For bench/RESULTS.md, "Stores full of waiting entries":

    python3 bench/make_flood.py dns 100000 > /tmp/flood-dns.pcap
    /usr/bin/time -f "%e s %M KB" tomskype analyze --format json /tmp/flood-dns.pcap > /dev/null

Usage: bench/make_flood.py dns|tcp|frag PACKETS [--answers] [--gap-us 10] > FILE
Classic little-endian microsecond pcap, Ethernet.
"""

import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_stream as m  # noqa: E402 (the packet builders of the stream benchmark)

NAME = m.qname(b"skypetools", b"tom", b"com")
SERVER = 0x5DB8D801  # 93.184.216.1
HELLO = bytes([0x16, 3, 1, 0x10, 0x00, 1, 0, 0x0F, 0xFC, 3, 3]) + bytes(32)


def dns(n, answers):
    frames = m.lookup_frames(n, 0x64400000 + 1 + n, NAME, 0x3D87A001)
    return frames if answers else frames[:1]


def tcp(n):
    host = 0x64400000 + 1 + n % 1000
    sport = 1024 + n // 1000 % 60000
    segment = struct.pack("!HHIIBBHHH", sport, 443, n, 0, 5 << 4, 0x18, 65535, 0, 0) + HELLO
    return [m.ipv4_frame(n, 6, host, SERVER, segment)]


def frag(n):
    host = 0x64400000 + 1 + n % 1000
    udp = struct.pack("!HHHH", 40000, 5000, 8 + 3000, 0) + bytes(1200)
    return [m.ipv4_frame(n, 17, host, SERVER + n % 200, udp, frag=0x2000)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=["dns", "tcp", "frag"])
    ap.add_argument("packets", type=int)
    ap.add_argument("--answers", action="store_true", help="dns: answer each question")
    ap.add_argument("--gap-us", type=int, default=10, help="capture time between packets")
    a = ap.parse_args()
    if a.kind == "dns" and not 0 < a.packets < (1 << 22) - 2:
        sys.exit("dns: 1 to 4194300 packets (one machine each, in 100.64.0.0/10)")
    out = sys.stdout.buffer
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    rec = struct.Struct("<IIII")
    t_us = m.START_SECS * 1_000_000
    chunk = []
    for n in range(a.packets):
        frames = dns(n, a.answers) if a.kind == "dns" else tcp(n) if a.kind == "tcp" else frag(n)
        for f in frames:
            chunk.append(rec.pack(t_us // 1_000_000, t_us % 1_000_000, len(f), len(f)) + f)
        t_us += a.gap_us
        if len(chunk) >= 4096:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))
    out.flush()


if __name__ == "__main__":
    main()
