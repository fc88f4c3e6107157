#!/usr/bin/env python3
"""Traffic for ci/live_netns.sh: hand-built Ethernet frames sent on one end of a veth pair
(inside a throw-away network namespace) while `tomskype live` captures on the other end.

What it sends, from the stand-in host 192.0.2.2 (documentation addresses only, RFC 5737):
  * a DNS question for skypetools1.tom.com to 198.51.100.53 and its answer, 203.0.113.10;
  * a TCP handshake to 203.0.113.10:80 and the TOM-Skype login beacon
    GET /en_return_time.php?login_id=ci&code=<32 hex>, Host skypetools1.tom.com.

It also keeps a listening TCP socket on 192.0.2.2:40000, the local port of that HTTP flow,
so that tomskype's /proc sampling can attribute the flow to this process.

Usage: live_netns_send.py IFACE DST_MAC READY_FILE [DELAY_S [LINGER_S]]
Writes its pid to READY_FILE once the socket is listening, waits until a packet socket (the
capture) exists in the namespace and DELAY_S more, sends, then keeps the socket open LINGER_S
more seconds.
"""

import os
import socket
import struct
import sys
import time

HOST = "192.0.2.2"
RESOLVER = "198.51.100.53"
SERVER = "203.0.113.10"
NAME = "skypetools1.tom.com"
CLIENT_PORT = 40000
DNS_PORT = 53000
SRC_MAC = bytes.fromhex("020000000002")


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int) -> bytes:
    head = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
        socket.inet_aton(src), socket.inet_aton(dst),
    )
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    return head + payload


def udp(src: str, sport: int, dst: str, dport: int, payload: bytes, ident: int) -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(seg))
    csum = checksum(pseudo + seg) or 0xFFFF
    seg = seg[:6] + struct.pack("!H", csum) + seg[8:]
    return ipv4(src, dst, 17, seg, ident)


def tcp(src, sport, dst, dport, seq, ack, flags, payload, ident):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", checksum(pseudo + seg)) + seg[18:]
    return ipv4(src, dst, 6, seg, ident)


def qname(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns(ident: int, answer: bool) -> bytes:
    flags = 0x8180 if answer else 0x0100
    msg = struct.pack("!HHHHHH", ident, flags, 1, 1 if answer else 0, 0, 0)
    msg += qname(NAME) + struct.pack("!HH", 1, 1)
    if answer:
        msg += struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(SERVER)
    return msg


def frames():
    out = [
        udp(HOST, DNS_PORT, RESOLVER, 53, dns(0x1234, False), 1),
        udp(RESOLVER, 53, HOST, DNS_PORT, dns(0x1234, True), 2),
    ]
    request = (
        "GET /en_return_time.php?login_id=ci&code=0123456789abcdef0123456789abcdef HTTP/1.1\r\n"
        f"Host: {NAME}\r\n"
        "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    syn, ack, psh = 0x02, 0x10, 0x08
    cseq, sseq = 1000, 5000
    out += [
        tcp(HOST, CLIENT_PORT, SERVER, 80, cseq, 0, syn, b"", 3),
        tcp(SERVER, 80, HOST, CLIENT_PORT, sseq, cseq + 1, syn | ack, b"", 4),
        tcp(HOST, CLIENT_PORT, SERVER, 80, cseq + 1, sseq + 1, ack, b"", 5),
        tcp(HOST, CLIENT_PORT, SERVER, 80, cseq + 1, sseq + 1, psh | ack, request, 6),
        tcp(SERVER, 80, HOST, CLIENT_PORT, sseq + 1, cseq + 1 + len(request), ack, b"", 7),
    ]
    return out


def wait_for_capture(limit_s: float) -> bool:
    """Waits until /proc/net/packet (this namespace's packet sockets) lists one."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        with open("/proc/net/packet") as f:
            if len(f.read().splitlines()) > 1:
                return True
        time.sleep(0.05)
    return False


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    iface, dst_mac, ready = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3]
    delay = float(sys.argv[4]) if len(sys.argv) > 4 else 0.3
    linger = float(sys.argv[5]) if len(sys.argv) > 5 else 4.0
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, CLIENT_PORT))
    listener.listen(1)
    with open(ready + ".tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(ready + ".tmp", ready)
    if not wait_for_capture(15):
        print("live_netns_send: no capture started within 15 s; sending anyway", file=sys.stderr)
    time.sleep(delay)
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((iface, 0))
    for ip_packet in frames():
        raw.send(dst_mac + SRC_MAC + struct.pack("!H", 0x0800) + ip_packet)
        time.sleep(0.05)
    raw.close()
    time.sleep(linger)
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
