//! Sample generator: packets. A fixed-seed PRNG, the trace of timed IP packets a scenario
//! builds (TCP segments and UDP datagrams; whole TCP connections are in `tcp`), and the
//! link-layer framing (Ethernet II with or without an 802.1Q tag, Linux SLL2, raw IP) applied
//! when the trace is written. IP, TCP and UDP headers come from `etherparse`, so lengths and
//! checksums are real; link headers are built by hand. Application payloads (DNS, TLS, HTTP)
//! are in `protocols`.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use etherparse::{IpHeaders, Ipv4Extensions, Ipv4Header, Ipv6Extensions, Ipv6Header};
use etherparse::{PacketBuilder, TcpHeader};

/// One millisecond in nanoseconds.
pub(crate) const MS: i64 = 1_000_000;
/// One second in nanoseconds.
pub(crate) const SEC: i64 = 1_000_000_000;

/// SplitMix64: a small PRNG with a fixed seed, so every run makes the same bytes.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (slightly biased, which does not matter here).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next_u64() % span) as i64
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    pub(crate) fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[(self.next_u64() % 16) as usize]))
            .collect()
    }
}

/// How packets of one interface are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    /// Ethernet II, untagged.
    Ethernet,
    /// Ethernet II with an 802.1Q tag of this VLAN id.
    Vlan(u16),
    /// Linux cooked capture v2 (`any` device).
    Sll2,
    /// Raw IP, no link header.
    Raw,
    /// Ethernet II carrying PPPoE session frames of this session id (an ADSL modem's link).
    Pppoe(u16),
}

impl Link {
    /// The `LINKTYPE_*` number.
    pub(crate) fn link_type(self) -> u32 {
        use crate::capture::linktype;
        match self {
            Link::Ethernet | Link::Vlan(_) | Link::Pppoe(_) => linktype::ETHERNET,
            Link::Sll2 => linktype::LINUX_SLL2,
            Link::Raw => linktype::RAW,
        }
    }
}

/// One IP packet at a time, captured on interface `iface`.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub(crate) ts: i64,
    pub(crate) iface: usize,
    pub(crate) ip: Vec<u8>,
}

impl Frame {
    /// The IP destination address, if the packet has a whole IP header.
    pub(crate) fn destination(&self) -> Option<IpAddr> {
        ip_ends(&self.ip).1
    }

    /// Source, destination and payload of a TCP segment or UDP datagram (for tests).
    #[cfg(test)]
    pub(crate) fn parts(&self) -> Option<(SocketAddr, SocketAddr, &[u8])> {
        use etherparse::{SlicedPacket, TransportSlice};
        let (src, dst, _) = ip_ends(&self.ip);
        let packet = SlicedPacket::from_ip(&self.ip).ok()?;
        let (sport, dport, payload) = match packet.transport? {
            TransportSlice::Udp(u) => (u.source_port(), u.destination_port(), u.payload()),
            TransportSlice::Tcp(t) => (t.source_port(), t.destination_port(), t.payload()),
            _ => return None,
        };
        Some((
            SocketAddr::new(src?, sport),
            SocketAddr::new(dst?, dport),
            payload,
        ))
    }
}

/// The packets of a scenario, in any order until [`Trace::finish`] sorts them.
#[derive(Debug)]
pub(crate) struct Trace {
    pub(crate) rng: Rng,
    frames: Vec<Frame>,
    /// The capturing side's hosts and their MAC addresses.
    locals: BTreeMap<IpAddr, [u8; 6]>,
    ports: BTreeMap<IpAddr, u16>,
    /// DNS forwarders on the capturing side and the upstream resolver each one asks.
    upstreams: BTreeMap<IpAddr, SocketAddr>,
    /// Interface new packets are put on.
    pub(crate) iface: usize,
}

/// MAC address of the default gateway that every remote packet passes through.
const GATEWAY_MAC: [u8; 6] = [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01];

impl Trace {
    pub(crate) fn new(seed: u64) -> Trace {
        Trace {
            rng: Rng::new(seed),
            frames: Vec::new(),
            locals: BTreeMap::new(),
            ports: BTreeMap::new(),
            upstreams: BTreeMap::new(),
            iface: 0,
        }
    }

    /// Declares a host on the capturing side (its MAC, for Ethernet framing).
    pub(crate) fn local(&mut self, ip: IpAddr, mac: [u8; 6]) {
        self.locals.insert(ip, mac);
    }

    /// Declares `forwarder` a DNS forwarder: it answers its clients' questions by asking
    /// `upstream` itself (see `sessions::resolve`).
    pub(crate) fn forward_dns(&mut self, forwarder: IpAddr, upstream: SocketAddr) {
        self.upstreams.insert(forwarder, upstream);
    }

    /// The upstream resolver `resolver` forwards questions to, if it is a forwarder.
    pub(crate) fn upstream_of(&self, resolver: IpAddr) -> Option<SocketAddr> {
        self.upstreams.get(&resolver).copied()
    }

    fn is_local(&self, ip: IpAddr) -> bool {
        self.locals.contains_key(&ip)
    }

    /// A fresh ephemeral client port for `ip` (Windows-style, from 49152 up).
    pub(crate) fn ephemeral(&mut self, ip: IpAddr) -> u16 {
        let step = self.rng.range(1, 3) as u16;
        let start = 49152 + self.rng.range(0, 900) as u16;
        let port = self.ports.entry(ip).or_insert(start);
        *port = port.wrapping_add(step).max(49152);
        *port
    }

    /// Hop limit as seen at the capture point: full for local senders, less for remote ones.
    fn ttl(&self, src: IpAddr) -> u8 {
        if self.is_local(src) {
            return 128;
        }
        let sum: u32 = match src {
            IpAddr::V4(a) => a.octets().iter().map(|&b| u32::from(b)).sum(),
            IpAddr::V6(a) => a.octets().iter().map(|&b| u32::from(b)).sum(),
        };
        let base = if sum.is_multiple_of(3) { 128 } else { 64 };
        base - 8 - (sum % 14) as u8
    }

    fn ip_headers(&self, src: IpAddr, dst: IpAddr) -> IpHeaders {
        let ttl = self.ttl(src);
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let header = Ipv4Header {
                    time_to_live: ttl,
                    source: s.octets(),
                    destination: d.octets(),
                    ..Default::default()
                };
                IpHeaders::Ipv4(header, Ipv4Extensions::default())
            }
            (s, d) => {
                let header = Ipv6Header {
                    hop_limit: ttl,
                    source: to_v6(s),
                    destination: to_v6(d),
                    ..Default::default()
                };
                IpHeaders::Ipv6(header, Ipv6Extensions::default())
            }
        }
    }

    /// Adds a UDP datagram.
    pub(crate) fn udp(&mut self, ts: i64, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let builder =
            PacketBuilder::ip(self.ip_headers(src.ip(), dst.ip())).udp(src.port(), dst.port());
        let mut ip = Vec::with_capacity(builder.size(payload.len()));
        // Writing into a Vec cannot fail, and the payloads here are far below 64 KiB.
        builder.write(&mut ip, payload).expect("udp packet fits");
        self.push(ts, ip);
    }

    /// Adds a TCP segment.
    pub(crate) fn tcp(
        &mut self,
        ts: i64,
        src: SocketAddr,
        dst: SocketAddr,
        header: TcpHeader,
        payload: &[u8],
    ) {
        let builder = PacketBuilder::ip(self.ip_headers(src.ip(), dst.ip())).tcp_header(header);
        let mut ip = Vec::with_capacity(builder.size(payload.len()));
        // As above: a Vec sink and small segments.
        builder.write(&mut ip, payload).expect("tcp packet fits");
        self.push(ts, ip);
    }

    fn push(&mut self, ts: i64, ip: Vec<u8>) {
        self.frames.push(Frame {
            ts,
            iface: self.iface,
            ip,
        });
    }

    /// How many packets were added so far.
    pub(crate) fn len(&self) -> usize {
        self.frames.len()
    }

    /// Swaps the capture times of packets `a` and `b` (by the order they were added): a
    /// segment overtaken by the next one.
    pub(crate) fn swap_times(&mut self, a: usize, b: usize) {
        if let (Some(ta), Some(tb)) = (
            self.frames.get(a).map(|f| f.ts),
            self.frames.get(b).map(|f| f.ts),
        ) {
            if let Some(fa) = self.frames.get_mut(a) {
                fa.ts = tb;
            }
            if let Some(fb) = self.frames.get_mut(b) {
                fb.ts = ta;
            }
        }
    }

    /// Sorts the packets by time and numbers IPv4 identification fields per sender in that
    /// order (fixing the header checksum), as a real stack would have.
    pub(crate) fn finish(mut self) -> (Vec<Frame>, BTreeMap<IpAddr, [u8; 6]>) {
        self.frames.sort_by_key(|f| f.ts);
        let mut ids: BTreeMap<[u8; 4], u16> = BTreeMap::new();
        for frame in &mut self.frames {
            let ip = &mut frame.ip;
            if ip.len() < 20 || ip[0] >> 4 != 4 {
                continue;
            }
            let src = [ip[12], ip[13], ip[14], ip[15]];
            let seed = (u16::from(src[2]) << 8 | u16::from(src[3])).wrapping_mul(97);
            let id = ids.entry(src).or_insert(seed);
            *id = id.wrapping_add(1);
            ip[4..6].copy_from_slice(&id.to_be_bytes());
            ip[10] = 0;
            ip[11] = 0;
            let sum = ipv4_checksum(&ip[..20]);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        (self.frames, self.locals)
    }
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn to_v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// Frames `frame` for `link`; `locals` gives the MACs of the capturing side.
pub(crate) fn frame_bytes(
    link: Link,
    frame: &Frame,
    locals: &BTreeMap<IpAddr, [u8; 6]>,
) -> Vec<u8> {
    let (src, dst, ethertype) = ip_ends(&frame.ip);
    let src_mac = src
        .and_then(|ip| locals.get(&ip).copied())
        .unwrap_or(GATEWAY_MAC);
    let dst_mac = match dst {
        Some(IpAddr::V4(a)) if a.is_multicast() => {
            let o = a.octets();
            [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
        }
        Some(IpAddr::V4(a)) if a.is_broadcast() || a.octets()[3] == 255 => [0xff; 6],
        Some(IpAddr::V6(a)) if a.is_multicast() => {
            let o = a.octets();
            [0x33, 0x33, o[12], o[13], o[14], o[15]]
        }
        Some(ip) => locals.get(&ip).copied().unwrap_or(GATEWAY_MAC),
        None => GATEWAY_MAC,
    };
    let incoming = src.is_some_and(|ip| !locals.contains_key(&ip));
    let mut out = Vec::with_capacity(frame.ip.len() + 20);
    match link {
        Link::Raw => {}
        Link::Ethernet | Link::Vlan(_) => {
            out.extend_from_slice(&dst_mac);
            out.extend_from_slice(&src_mac);
            if let Link::Vlan(vid) = link {
                out.extend_from_slice(&0x8100u16.to_be_bytes());
                out.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
            }
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        Link::Pppoe(session) => {
            out.extend_from_slice(&dst_mac);
            out.extend_from_slice(&src_mac);
            out.extend_from_slice(&0x8864u16.to_be_bytes());
            out.extend_from_slice(&[0x11, 0x00]);
            out.extend_from_slice(&session.to_be_bytes());
            out.extend_from_slice(&((frame.ip.len() + 2) as u16).to_be_bytes());
            let ppp: u16 = if ethertype == 0x86dd { 0x0057 } else { 0x0021 };
            out.extend_from_slice(&ppp.to_be_bytes());
        }
        Link::Sll2 => {
            let packet_type: u8 = if !incoming {
                4 // PACKET_OUTGOING
            } else if dst_mac[0] & 1 == 1 {
                if dst_mac == [0xff; 6] {
                    1 // PACKET_BROADCAST
                } else {
                    2 // PACKET_MULTICAST
                }
            } else {
                0 // PACKET_HOST
            };
            out.extend_from_slice(&ethertype.to_be_bytes());
            out.extend_from_slice(&[0, 0]); // reserved
            out.extend_from_slice(&2u32.to_be_bytes()); // ifindex of eth0
            out.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            out.push(packet_type);
            out.push(6);
            out.extend_from_slice(&src_mac);
            out.extend_from_slice(&[0, 0]);
        }
    }
    out.extend_from_slice(&frame.ip);
    // A received Ethernet frame shorter than the minimum arrives padded to 60 bytes.
    if incoming && matches!(link, Link::Ethernet | Link::Vlan(_) | Link::Pppoe(_)) && out.len() < 60
    {
        out.resize(60, 0);
    }
    out
}

fn ip_ends(ip: &[u8]) -> (Option<IpAddr>, Option<IpAddr>, u16) {
    match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => {
            let s: [u8; 4] = [ip[12], ip[13], ip[14], ip[15]];
            let d: [u8; 4] = [ip[16], ip[17], ip[18], ip[19]];
            (Some(IpAddr::from(s)), Some(IpAddr::from(d)), 0x0800)
        }
        Some(6) if ip.len() >= 40 => {
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&ip[8..24]);
            d.copy_from_slice(&ip[24..40]);
            (Some(IpAddr::from(s)), Some(IpAddr::from(d)), 0x86dd)
        }
        _ => (None, None, 0x0800),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::new(7);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert!((0..100).all(|_| (3..=9).contains(&r.range(3, 9))));
    }

    #[test]
    fn sll2_header_layout() {
        let mut tr = Trace::new(2);
        let c: SocketAddr = "10.0.0.5:1234".parse().unwrap();
        let s: SocketAddr = "8.8.8.8:53".parse().unwrap();
        tr.local(c.ip(), [2, 0, 0, 0, 0, 5]);
        tr.udp(0, c, s, b"x");
        let (frames, locals) = tr.finish();
        let b = frame_bytes(Link::Sll2, &frames[0], &locals);
        assert_eq!(&b[0..2], &[0x08, 0x00]);
        assert_eq!(&b[8..10], &[0, 1]);
        assert_eq!(b[10], 4);
        assert_eq!(b[11], 6);
        assert_eq!(&b[12..18], &[2, 0, 0, 0, 0, 5]);
        assert_eq!(b[20] >> 4, 4);
    }
}
