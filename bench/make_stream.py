#!/usr/bin/env python3
"""Writes a capture of a big network's stream, deterministically: HOSTS distinct machines, each
sending one UDP datagram (a new flow, a new host), one after another at RATE packets per
second of capture time, then a sample capture (by default TOM-Skype's 2011 login) appended
after them, its times moved to follow. For bench/compare.sh's "3 M hosts on stdin" check:

    python3 bench/make_stream.py --hosts 3000000 --out - | tomskype analyze -

The machines are 100.64.0.0/10 addresses (shared address space: local hosts by default, and
apart from the sample's), each from port 40000 + (n mod 20000) to 93.184.216.1-250:5000 (IANA's
public block: no indicator matches it, and it is not local). Classic little-endian microsecond pcap,
Ethernet. At the default rate (10,000 packets per second, 3 M hosts in 5 minutes of capture
time) a flow is over (1 minute) long before the stream is, as in a real network's.

With --machines M, the packets come from M machines in turn (machine n mod M, each packet
from a new port: a new flow), so that a long stream is a network of a fixed size over hours:
its memory must not grow with the hours. With --dns, each packet is instead a DNS question of
its machine for a name never asked before (h<n>.example.com) to 100.64.0.53, and the answer
giving it an address never given before (in 198.18.0.0/15): a network's lookups over hours,
which the reader keeps per machine and address.

Usage: bench/make_stream.py [--hosts 3000000] [--rate 10000] [--machines M] [--dns]
                            [--tail CAPTURE] [--out FILE|-]
Default output: bench/out/stream-<hosts>.pcap (bench/out is gitignored).
"""

import argparse
import os
import struct
import sys

START_SECS = 1_307_585_000  # 2011-06-09, the day of the default tail.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TAIL = os.path.join(ROOT, "captures", "tom-skype-cn-2011-login-beacon.pcap")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_frame(n, proto, src, dst, payload, frag=0):
    """An IPv4 packet of protocol `proto` (IP id n, fragment field `frag`) in an Ethernet
    frame from a MAC address made of `src`."""
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(payload), n & 0xFFFF, frag, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    mac = struct.pack("!HI", 0x0200, src & 0xFFFFFFFF)
    return b"\x00\x1f\x33\x2a\x5c\x01" + mac + b"\x08\x00" + ip + payload


def datagram(n, src, sport, dst, dport, payload):
    """A UDP datagram in an Ethernet frame (IP id n)."""
    return ipv4_frame(n, 17, src, dst, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def frame(n, machines):
    """The n-th packet's datagram: from machine n (or n mod machines), as an Ethernet frame."""
    host = 0x64400000 + 1 + (n % machines if machines else n)  # 100.64.0.1 + ...
    server = 0x5DB8D800 + 1 + n % 250  # 93.184.216.1-250
    return datagram(n, host, 40000 + n % 20000, server, 5000, b"stream")


RESOLVER = 0x64400035  # 100.64.0.53


def qname(*labels):
    """A DNS name in wire form."""
    return b"".join(bytes([len(p)]) + p for p in labels) + b"\0"


def lookup_frames(n, host, name, addr):
    """Machine `host`'s n-th question to RESOLVER, for `name` (wire form), and the answer
    giving it `addr`: two frames."""
    tid, port = n & 0xFFFF, 40000 + n % 20000
    question = struct.pack("!HHHHHH", tid, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
    answer = (
        struct.pack("!HHHHHH", tid, 0x8180, 1, 1, 0, 0)
        + name
        + struct.pack("!HH", 1, 1)
        + struct.pack("!HHHIHI", 0xC00C, 1, 1, 300, 4, addr)
    )
    return [
        datagram(n, host, port, RESOLVER, 53, question),
        datagram(n, RESOLVER, 53, host, port, answer),
    ]


def dns_frames(n, machines):
    """The n-th lookup: the question of machine n (or n mod machines) and its answer."""
    host = 0x64400000 + 1 + (n % machines if machines else n)
    addr = 0xC6120000 + n % (1 << 17)  # 198.18.0.0/15
    return lookup_frames(n, host, qname(b"h%d" % n, b"example", b"com"), addr)


def tail_records(path):
    """The records of a classic microsecond Ethernet pcap: (secs, usecs, orig, bytes)."""
    data = open(path, "rb").read()
    end = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(data[:4])
    if end is None or struct.unpack_from(end + "I", data, 20)[0] != 1:
        sys.exit(f"{path}: not a microsecond Ethernet pcap")
    pos = 24
    while pos + 16 <= len(data):
        secs, usecs, incl, orig = struct.unpack_from(end + "IIII", data, pos)
        pos += 16
        if pos + incl > len(data):
            break
        yield secs, usecs, orig, data[pos : pos + incl]
        pos += incl


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=3_000_000)
    ap.add_argument("--rate", type=int, default=10_000, help="packets per second of capture time")
    ap.add_argument("--machines", type=int, default=0, help="packets from this many machines in turn")
    ap.add_argument("--dns", action="store_true", help="DNS lookups of new names instead of datagrams")
    ap.add_argument("--tail", default=DEFAULT_TAIL, help="capture appended after the stream ('' for none)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if not 0 < (a.machines or a.hosts) < (1 << 22) - 2:
        sys.exit("--hosts or --machines: 1 to 4194300 (100.64.0.0/10)")
    name = f"stream-{a.hosts}" + (f"-m{a.machines}" if a.machines else "") + ("-dns" if a.dns else "")
    out_path = a.out or os.path.join(ROOT, "bench", "out", f"{name}.pcap")
    if out_path == "-":
        out = sys.stdout.buffer
    else:
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        out = open(out_path, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    step_us = max(1, 1_000_000 // a.rate)
    t_us = START_SECS * 1_000_000
    rec = struct.Struct("<IIII")
    chunk = []
    for n in range(a.hosts):
        frames = dns_frames(n, a.machines) if a.dns else [frame(n, a.machines)]
        for f in frames:
            chunk.append(rec.pack(t_us // 1_000_000, t_us % 1_000_000, len(f), len(f)) + f)
        t_us += step_us
        if len(chunk) >= 4096:
            out.write(b"".join(chunk))
            chunk = []
    out.write(b"".join(chunk))
    if a.tail:
        records = list(tail_records(a.tail))
        if records:
            first = records[0][0] * 1_000_000 + records[0][1]
            shift = t_us + 1_000_000 - first
            for secs, usecs, orig, data in records:
                t = secs * 1_000_000 + usecs + shift
                out.write(rec.pack(t // 1_000_000, t % 1_000_000, len(data), orig) + data)
    out.flush()
    if out is not sys.stdout.buffer:
        out.close()
        print(out_path, file=sys.stderr)


if __name__ == "__main__":
    main()
