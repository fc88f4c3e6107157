#!/usr/bin/env python3
"""Builds a large benchmark capture, deterministically, from the real captures in the corpora.

Reads every pcap and pcapng file under the corpus folders ndpi/, other/, suricata-verify/,
zeek/ and tcpdump/all (sorted by path), keeps the packets of interfaces whose link type is
Ethernet or raw IP (raw IP gets a fake Ethernet header), and writes them as one classic
little-endian microsecond pcap of link type Ethernet. The packets of all files form one "pass";
passes are repeated until the output reaches --mb megabytes (10^6 bytes), each pass varied so
that it adds traffic of its own (checksums are left as they are; no tool here checks them):

  --vary ports (default): pass r xors the low byte of every TCP/UDP port >= 1024 with r & 0xff,
      so every pass opens new connections between the same hosts and servers, as more time of
      the same network would: the flow table grows with the size, the report does not.
  --vary hosts: pass r xors the host octet of every IPv4 address (the last byte of every IPv6
      address) with r & 0xff and the octet before it with r >> 8: every pass adds its own hosts,
      so the report grows with the size too (tens of thousands of hosts per 200 MB).
  --vary none: plain repetition (the same flows again and again).
Timestamps increase strictly: gaps inside a file are kept (clamped to 1 us .. 1 s), files and
passes follow one another.

Usage: bench/make_capture.py [--mb 1600] [--vary ports|hosts|none] [--corpora ../shared/corpora] [--out FILE]
Default output: bench/out/bench-<mb>mb[-hosts|-none].pcap (bench/out is gitignored).
"""

import argparse
import os
import struct
import sys

FOLDERS = ["ndpi", "other", "suricata-verify", "zeek", "tcpdump/all"]
ETHERNET = 1
RAW_TYPES = {101, 12, 14, 228, 229}
MAX_CAPLEN = 262144
START_SECS = 1_338_508_800  # 2012-06-01T00:00:00Z: inside the years the indicators speak of.


def pcap_packets(data):
    """Yields (link_type, ts_us, orig_len, bytes) from a classic pcap; stops at the first damage."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    if len(data) < 24:
        return
    link = struct.unpack_from(end + "I", data, 20)[0] & 0xFFFF
    pos = 24
    rec = struct.Struct(end + "IIII")
    while pos + 16 <= len(data):
        secs, frac, incl, orig = rec.unpack_from(data, pos)
        pos += 16
        if incl > MAX_CAPLEN or pos + incl > len(data):
            return
        us = secs * 1_000_000 + (frac // 1000 if nanos else frac)
        yield link, us, max(orig, incl), data[pos : pos + incl]
        pos += incl


def pcapng_packets(data):
    """Yields (link_type, ts_us, orig_len, bytes) from a pcapng; stops at the first damage."""
    pos = 0
    end = "<"
    ifaces = []  # (link_type, units per second)
    while pos + 12 <= len(data):
        btype = struct.unpack_from(end + "I", data, pos)[0]
        if btype == 0x0A0D0D0A:
            bom = data[pos + 8 : pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                end = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                end = ">"
            else:
                return
            ifaces = []
        blen = struct.unpack_from(end + "I", data, pos + 4)[0]
        if blen < 12 or blen % 4 or pos + blen > len(data):
            return
        body = data[pos + 8 : pos + blen - 4]
        pos += blen
        if btype == 1 and len(body) >= 8:
            link = struct.unpack_from(end + "H", body, 0)[0]
            ifaces.append((link, iface_tsresol(body[8:], end)))
        elif btype == 6 and len(body) >= 20:
            iface, hi, lo, cap, orig = struct.unpack_from(end + "IIIII", body, 0)
            if iface >= len(ifaces) or cap > MAX_CAPLEN or 20 + cap > len(body):
                continue
            link, per_sec = ifaces[iface]
            ts = (hi << 32) | lo
            yield link, ts * 1_000_000 // per_sec, max(orig, cap), body[20 : 20 + cap]
        elif btype == 3 and len(body) >= 4 and ifaces:
            orig = struct.unpack_from(end + "I", body, 0)[0]
            cap = min(orig, len(body) - 4)
            yield ifaces[0][0], None, orig, body[4 : 4 + cap]


def iface_tsresol(options, end):
    """Timestamp units per second of an interface (option if_tsresol, default microseconds)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(end + "HH", options, pos)
        if code == 0:
            break
        value = options[pos + 4 : pos + 4 + length]
        if code == 9 and length >= 1:
            r = value[0]
            return 2 ** (r & 0x7F) if r & 0x80 else 10 ** r
        pos += 4 + ((length + 3) & ~3)
    return 1_000_000


def ip_offsets(frame, vary):
    """Offsets of the bytes to vary in an Ethernet frame, as (offset, high) pairs: `high` says
    the byte takes the pass number's high byte. For "hosts": the host octet and the octet before
    of source and destination (IPv4 or IPv6 behind up to two VLAN tags); for "ports": the low
    byte of each TCP/UDP port >= 1024 (unfragmented packets only); () when not IP."""
    if vary == "none":
        return ()
    pos = 12
    for _ in range(3):
        if pos + 2 > len(frame):
            return ()
        et = (frame[pos] << 8) | frame[pos + 1]
        if et in (0x8100, 0x88A8, 0x9100):
            pos += 4
            continue
        ip = pos + 2
        if et == 0x0800:
            offs = ((ip + 15, 0), (ip + 14, 1), (ip + 19, 0), (ip + 18, 1))
            if ip + 20 > len(frame):
                return ()
            ihl = (frame[ip] & 0x0F) * 4
            frag = ((frame[ip + 6] & 0x1F) << 8) | frame[ip + 7]
            proto = frame[ip + 9] if frag == 0 else None
            th = ip + ihl
        elif et == 0x86DD:
            offs = ((ip + 23, 0), (ip + 22, 1), (ip + 39, 0), (ip + 38, 1))
            proto = frame[ip + 6] if ip + 40 <= len(frame) else None
            th = ip + 40
        else:
            return ()
        if vary == "ports":
            offs = ()
            if proto in (6, 17) and th + 4 <= len(frame):
                ports = [(frame[th] << 8 | frame[th + 1], th), (frame[th + 2] << 8 | frame[th + 3], th + 2)]
                offs = tuple((at + 1, 0) for port, at in ports if port >= 1024)
        return tuple(o for o in offs if o[0] < len(frame))
    return ()


def load_pass(corpora, vary):
    """Every usable packet of the corpora, in path order: (gap_us, orig_len, frame, offsets)."""
    files = []
    for folder in FOLDERS:
        root = os.path.join(corpora, folder)
        for dirpath, dirnames, names in os.walk(root):
            dirnames.sort()
            for name in names:
                files.append(os.path.join(dirpath, name))
    files.sort()
    packets = []
    used = 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] == b"\x0a\x0d\x0d\x0a":
            source = pcapng_packets(data)
        else:
            source = pcap_packets(data)
        prev = None
        kept = 0
        try:
            for link, ts, orig, frame in source:
                if link == ETHERNET:
                    pass
                elif link in RAW_TYPES:
                    ver = frame[0] >> 4 if frame else 4
                    et = b"\x86\xdd" if ver == 6 else b"\x08\x00"
                    frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" + et + frame
                    orig += 14
                else:
                    continue
                if ts is None or prev is None:
                    gap = 1000
                else:
                    gap = min(max(ts - prev, 1), 1_000_000)
                if ts is not None:
                    prev = ts
                packets.append((gap, orig, bytes(frame), ip_offsets(frame, vary)))
                kept += 1
        except (struct.error, IndexError, ZeroDivisionError, OverflowError):
            pass
        if kept:
            used += 1
    return packets, used, len(files)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=1600, help="output size in 10^6 bytes")
    default_corpora = os.path.join(here, "..", "..", "shared", "corpora")
    if not os.path.isdir(default_corpora):
        default_corpora = "/work/shared/corpora"
    parser.add_argument(
        "--corpora",
        default=default_corpora,
        help="the corpora folder (default: ../shared/corpora beside the crate, else "
        "/work/shared/corpora)",
    )
    parser.add_argument(
        "--vary",
        choices=["hosts", "ports", "none"],
        default="ports",
        help="what each pass changes (default ports: the ephemeral ports)",
    )
    parser.add_argument("--out", help="output file (default bench/out/bench-<mb>mb.pcap)")
    args = parser.parse_args()
    suffix = "" if args.vary == "ports" else f"-{args.vary}"
    out_path = args.out or os.path.join(here, "out", f"bench-{args.mb}mb{suffix}.pcap")
    if not os.path.isdir(args.corpora):
        sys.exit(f"make_capture: no corpora at {args.corpora}")
    packets, used, seen = load_pass(args.corpora, args.vary)
    if not packets:
        sys.exit("make_capture: no usable packets in the corpora")
    pass_bytes = sum(16 + len(p[2]) for p in packets)
    print(
        f"make_capture: {len(packets)} packets, {pass_bytes} bytes per pass "
        f"from {used} of {seen} files",
        file=sys.stderr,
    )
    target = args.mb * 1_000_000
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".part"
    rec = struct.Struct("<IIII")
    written = 24
    count = 0
    ts = START_SECS * 1_000_000
    rep = 0
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, MAX_CAPLEN, ETHERNET))
        while written < target:
            lo, hi = rep & 0xFF, (rep >> 8) & 0xFF
            chunk = []
            for gap, orig, frame, offs in packets:
                if written >= target:
                    break
                ts += gap
                if rep and offs:
                    b = bytearray(frame)
                    for o, high in offs:
                        b[o] ^= hi if high else lo
                    frame = b
                chunk.append(rec.pack(ts // 1_000_000, ts % 1_000_000, len(frame), orig))
                chunk.append(frame)
                written += 16 + len(frame)
                count += 1
            out.write(b"".join(chunk))
            rep += 1
            ts += 1_000_000
    os.replace(tmp, out_path)
    print(
        f"make_capture: wrote {out_path}: {written} bytes, {count} packets, {rep} passes",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
