//! Stage 2, decode: turns one captured packet into a small summary of its IP and transport
//! headers, and picks out the application facts the later stages care about (DNS answers, the
//! TLS server name over TCP and in QUIC v1/v2 Initial packets, the HTTP request line, Host and
//! User-Agent, and signs of Skype's own protocols: Microsoft's STUN attributes, Skype's
//! classic UDP framing, and the shapes of TCP segments that stage 3 judges for Skype's classic
//! TCP framing).
//!
//! Link layers ([`link::SUPPORTED`]): Ethernet II (with up to three 802.1Q/802.1ad tags),
//! Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD null/loopback, PPP, Cisco HDLC, NFLOG, and
//! unencrypted 802.11 data frames, A-MSDU included (with or without radiotap). Packets are
//! sliced with etherparse's lax slicing, so a packet cut short by the snaplen keeps whatever
//! headers survived. A packet that cannot be decoded is not an error: it is counted in a
//! [`DecodeStats`] by why it was skipped.
//!
//! Two paths: [`fast`] reads plain Ethernet or raw IP carrying whole TCP/UDP packets (nearly
//! all traffic) by hand; everything else takes the general path, [`layers`], which opens
//! tunnels ([`tunnel`]: GRE, PPTP, ERSPAN, VXLAN, Geneve, GTP-U, IP in IP, MPLS, PPPoE; up to
//! [`layers::MAX_DEPTH`] levels) and hands IP fragments to the flow tracker, which joins them
//! with a bounded [`Reassembler`] ([`fragments`]) and decodes each whole datagram as one
//! packet. The tracker also joins TCP segments when a parser says a message goes on
//! ([`app::Malformed::NeedMore`]; see `flow::streams`).
//!
//! QUIC Initial packets are decrypted to read their ClientHello's server name ([`quic`]), and
//! Skype's own protocols are recognised from payload ([`skype`]).
//!
//! [`shard_of`] says which of several workers reading the same file owns a frame (by the
//! address pair of its first IP header): the cheap test each worker runs on every frame.
//!
//! Left out on purpose: L2TP, Teredo and other tunnels, IPsec (encrypted), QUIC packets other
//! than Initial (their keys come from the TLS exchange), Google's older gQUIC, Skype's classic
//! TCP framing (too weak a sign alone), and any TCP bytes beyond the first message of a
//! direction.

pub mod app;
pub mod dns;
pub mod fast;
pub mod fragments;
pub mod http;
pub mod layers;
pub mod link;
pub mod quic;
pub mod shard;
pub mod skype;
pub mod tls;
pub mod tunnel;

use std::net::IpAddr;

use crate::capture;

pub use fragments::{FragmentCounts, Reassembler};
pub use layers::{Layer, Tunnels};
pub use shard::shard_of;
pub use tunnel::TunnelKind;

/// IP protocol numbers the later stages distinguish.
pub mod proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
}

/// TCP flag bits as they appear in the header's flags byte.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The IP and transport facts of one packet. Borrows the packet's bytes for the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number of the transport (after IPv6 extension headers).
    pub proto: u8,
    /// Source port (0 when the protocol has none or its header was cut off).
    pub sport: u16,
    /// Destination port (0 when the protocol has none or its header was cut off).
    pub dport: u16,
    /// TCP flags byte (0 for other protocols).
    pub tcp_flags: u8,
    /// TCP sequence number (0 for other protocols).
    pub seq: u32,
    /// Transport payload as captured (may be shorter than sent when the snaplen cut it).
    pub payload: &'a [u8],
}

/// Why a packet gave no [`Decoded`] summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// The interface's link type is not one this decoder knows.
    UnsupportedLinkType,
    /// A link-layer frame that does not carry IP (ARP, LLDP, STP, ...).
    NotIp,
    /// The link-layer header itself is cut short or invalid.
    BadLinkHeader,
    /// The IP header is cut short or invalid.
    BadIpHeader,
    /// An IP fragment: [`decode`] alone does not reassemble (the flow tracker does, through
    /// [`Reassembler`]; then fragments are counted in [`DecodeStats::fragments`]).
    Fragment,
}

impl Skip {
    /// Every kind, in the order reports list them.
    pub const ALL: [Skip; 5] = [
        Skip::UnsupportedLinkType,
        Skip::NotIp,
        Skip::BadLinkHeader,
        Skip::BadIpHeader,
        Skip::Fragment,
    ];
}

/// Counts of what the decoder saw, by outcome. Cheap to update per packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Packets that gave a [`Decoded`] summary.
    pub decoded: u64,
    /// Of those, packets whose transport header was cut off (ports unknown).
    pub transport_truncated: u64,
    /// Packets skipped, indexed like [`Skip::ALL`].
    pub skipped: [u64; Skip::ALL.len()],
    /// Application payloads that looked like DNS/TLS/HTTP but did not parse, by protocol.
    pub app_malformed: AppCounts,
    /// IP fragments and the datagrams made of them.
    pub fragments: FragmentCounts,
    /// Frames that crossed each kind of tunnel, indexed like [`TunnelKind::ALL`].
    pub tunnels: [u64; TunnelKind::ALL.len()],
    /// TCP segments buffered to join messages split over segments.
    pub tcp_reassembly: TcpCounts,
}

/// What the TCP reassembly of the first bytes of each direction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpCounts {
    /// Segments copied into a buffer (the rest were read in place).
    pub segments_buffered: u64,
    /// Messages read whole from joined segments.
    pub reassembled: u64,
    /// Streams given up before their message was whole (a hole that never filled, the
    /// per-stream or total byte budget, or the end of the input); read as far as they went.
    pub incomplete: u64,
}

impl TcpCounts {
    /// Adds another set of counts to this one.
    pub fn merge(&mut self, o: &TcpCounts) {
        self.segments_buffered += o.segments_buffered;
        self.reassembled += o.reassembled;
        self.incomplete += o.incomplete;
    }
}

/// Per-protocol counters for the application parsers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppCounts {
    /// DNS messages.
    pub dns: u64,
    /// TLS ClientHellos.
    pub tls: u64,
    /// HTTP requests.
    pub http: u64,
    /// QUIC Initial packets (undecryptable, cut short, or with a bad ClientHello).
    pub quic: u64,
}

impl DecodeStats {
    /// Counts one skipped packet.
    pub fn skip(&mut self, why: Skip) {
        self.skipped[why as usize] += 1;
    }

    /// Number of packets skipped for `why`.
    pub fn skipped(&self, why: Skip) -> u64 {
        self.skipped[why as usize]
    }

    /// Adds another set of counts to this one.
    pub fn merge(&mut self, other: &DecodeStats) {
        self.decoded += other.decoded;
        self.transport_truncated += other.transport_truncated;
        for (a, b) in self.skipped.iter_mut().zip(other.skipped) {
            *a += b;
        }
        self.app_malformed.dns += other.app_malformed.dns;
        self.app_malformed.tls += other.app_malformed.tls;
        self.app_malformed.http += other.app_malformed.http;
        self.app_malformed.quic += other.app_malformed.quic;
        self.fragments.merge(&other.fragments);
        for (a, b) in self.tunnels.iter_mut().zip(other.tunnels) {
            *a += b;
        }
        self.tcp_reassembly.merge(&other.tcp_reassembly);
    }

    /// Counts the tunnels one frame crossed.
    pub fn count_tunnels(&mut self, tunnels: Tunnels) {
        if tunnels != 0 {
            for (i, kind) in TunnelKind::ALL.iter().enumerate() {
                if tunnels & layers::bit(*kind) != 0 {
                    self.tunnels[i] += 1;
                }
            }
        }
    }

    /// Frames that crossed a tunnel of `kind`.
    pub fn tunnel(&self, kind: TunnelKind) -> u64 {
        self.tunnels[kind as usize]
    }
}

/// Decodes one packet captured on an interface of `link_type`.
#[inline]
pub fn decode(link_type: u32, data: &[u8]) -> Result<Decoded<'_>, Skip> {
    // The common case first (see `fast`): it answers only when it agrees with the general path.
    match fast_path(link_type, data) {
        Some(d) => Ok(d),
        None => decode_general(link_type, data),
    }
}

/// The fast path alone ([`fast`]): `None` when the packet needs the general path
/// ([`layers::each`]).
#[inline]
pub fn fast_path(link_type: u32, data: &[u8]) -> Option<Decoded<'_>> {
    match link_type {
        capture::linktype::ETHERNET => fast::ethernet(data),
        capture::linktype::RAW => fast::ip(data),
        _ => None,
    }
}

/// The general path: every link type, tunnels, fragments (see [`layers`]). Gives the first
/// result of the frame; a fragment is [`Skip::Fragment`] here.
#[inline(never)]
fn decode_general(link_type: u32, data: &[u8]) -> Result<Decoded<'_>, Skip> {
    let mut first = None;
    layers::each(link_type, data, &mut |layer| {
        first.get_or_insert(layer);
    });
    match first {
        Some(Layer::Packet(d)) => Ok(d),
        Some(Layer::Fragment(_)) => Err(Skip::Fragment),
        Some(Layer::Skipped(why)) => Err(why),
        // An A-MSDU with no subframe.
        None => Err(Skip::NotIp),
    }
}

/// True when a decoded TCP/UDP packet had ports (its transport header survived).
pub fn has_ports(d: &Decoded<'_>) -> bool {
    (d.proto == proto::TCP || d.proto == proto::UDP) && (d.sport != 0 || d.dport != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::linktype;
    use etherparse::PacketBuilder;

    fn tcp_packet(payload: &[u8]) -> Vec<u8> {
        let builder = PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4([192, 168, 1, 2], [211, 100, 41, 6], 64)
            .tcp(50000, 80, 1, 1000)
            .syn();
        let mut out = Vec::new();
        builder.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn decodes_ethernet_ipv4_tcp() {
        let pkt = tcp_packet(b"GET / HTTP/1.1\r\n\r\n");
        let d = decode(linktype::ETHERNET, &pkt).unwrap();
        assert_eq!(d.src, "192.168.1.2".parse::<IpAddr>().unwrap());
        assert_eq!(d.dst, "211.100.41.6".parse::<IpAddr>().unwrap());
        assert_eq!((d.proto, d.sport, d.dport), (proto::TCP, 50000, 80));
        assert_eq!(d.tcp_flags & tcp_flags::SYN, tcp_flags::SYN);
        assert_eq!(d.payload, b"GET / HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn snaplen_cut_keeps_addresses() {
        let pkt = tcp_packet(b"hello");
        // Ethernet (14) + IPv4 (20) + 6 bytes of TCP: ports survive, the rest does not.
        let d = decode(linktype::ETHERNET, &pkt[..40]).unwrap();
        assert_eq!(d.dst, "211.100.41.6".parse::<IpAddr>().unwrap());
        assert_eq!(d.proto, proto::TCP);
        assert!(d.payload.is_empty());
    }

    #[test]
    fn ipv6_udp_raw() {
        let builder = PacketBuilder::ipv6(
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .udp(5353, 53);
        let mut pkt = Vec::new();
        builder.write(&mut pkt, b"abc").unwrap();
        let d = decode(linktype::RAW, &pkt).unwrap();
        assert_eq!((d.proto, d.sport, d.dport), (proto::UDP, 5353, 53));
        assert_eq!(d.payload, b"abc");
        assert_eq!(decode(linktype::IPV6, &pkt).unwrap(), d);
    }

    #[test]
    fn skips_are_counted_by_kind() {
        assert_eq!(decode(147, &[0; 40]), Err(Skip::UnsupportedLinkType));
        // An ARP frame.
        let mut arp = vec![0xff; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        assert_eq!(decode(linktype::ETHERNET, &arp), Err(Skip::NotIp));
        assert_eq!(
            decode(linktype::ETHERNET, &[1, 2, 3]),
            Err(Skip::BadLinkHeader)
        );
        assert_eq!(decode(linktype::RAW, &[0x45, 0]), Err(Skip::BadIpHeader));
        let mut stats = DecodeStats::default();
        stats.skip(Skip::Fragment);
        stats.skip(Skip::Fragment);
        assert_eq!(stats.skipped(Skip::Fragment), 2);
        assert_eq!(stats.skipped(Skip::NotIp), 0);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_any_link_type_never_panics(
            link in proptest::sample::select(vec![0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999]),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let _ = decode(link, &data);
        }

        #[test]
        fn every_truncation_of_a_valid_packet_never_panics(cut in 0usize..80) {
            let pkt = tcp_packet(b"GET /agent/keyfile_u HTTP/1.1\r\nHost: skypetools.tom.com\r\n\r\n");
            let _ = decode(linktype::ETHERNET, &pkt[..cut.min(pkt.len())]);
        }
    }
}
