//! Stage 2, decode: the general path, layer by layer. Slices a frame with etherparse's lax
//! slicing, opens the tunnels it finds ([`super::tunnel`]) down to [`MAX_DEPTH`] levels, and
//! says what the innermost layer is: a packet ([`Decoded`]), an IP fragment for the
//! reassembler ([`Fragment`]), or why neither. An 802.11 A-MSDU frame gives one result per
//! subframe; every other frame gives one.
//!
//! A tunnel recognised by its protocol number or EtherType (GRE, ERSPAN, IP in IP, MPLS,
//! PPPoE) is committed to: what is inside is the result, even when it is not IP. A tunnel
//! recognised only by its UDP port (VXLAN, Geneve, GTP-U, MPLS in UDP) whose inside has a
//! header that does not parse gives the outer UDP packet, as before this decoder knew the
//! port.
//!
//! Only packets the fast path ([`super::fast`]) refuses come here, so plain traffic never
//! pays for tunnels.

use std::net::IpAddr;

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

use super::fragments::Fragment;
use super::link::{self, Network};
use super::tunnel::{self, Inner, TunnelKind};
use super::{proto, Decoded, Skip};

/// The most tunnels opened inside one another.
pub const MAX_DEPTH: usize = 4;

/// What one frame (or A-MSDU subframe) holds, innermost layer first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer<'a> {
    /// A packet with its transport facts.
    Packet(Decoded<'a>),
    /// An IP fragment, to reassemble.
    Fragment(Fragment<'a>),
    /// Nothing usable, and why.
    Skipped(Skip),
}

/// The tunnel kinds a frame crossed, one bit per [`TunnelKind`] (`1 << kind as u16`).
pub type Tunnels = u16;

/// Decodes a frame of `link_type` through the general path, handing each result to `visit`.
/// Returns the tunnels crossed.
pub fn each<'a>(link_type: u32, data: &'a [u8], visit: &mut dyn FnMut(Layer<'a>)) -> Tunnels {
    let mut tunnels = 0;
    match link::network_layer(link_type, data) {
        Err(why) => visit(Layer::Skipped(why)),
        Ok(Network::Amsdu(mut area)) => {
            tunnels |= bit(TunnelKind::Amsdu);
            // Each pass consumes at least a subframe header, so the loop ends with the area.
            while let Some((sub, rest)) = link::amsdu_next(area) {
                visit(match sub {
                    Ok(net) => frame(net, 1, &mut tunnels),
                    Err(why) => Layer::Skipped(why),
                });
                area = rest;
            }
        }
        Ok(net) => visit(frame(net, 0, &mut tunnels)),
    }
    tunnels
}

/// The bit of `kind` in [`Tunnels`].
pub fn bit(kind: TunnelKind) -> Tunnels {
    1 << kind as u16
}

fn frame<'a>(net: Network<'a>, depth: usize, tunnels: &mut Tunnels) -> Layer<'a> {
    let bytes = match net {
        Network::Ethernet(b) | Network::EtherType(_, b) | Network::Ip(b) | Network::Amsdu(b) => b,
    };
    let sliced = match net {
        Network::Ethernet(f) => match LaxSlicedPacket::from_ethernet(f) {
            Ok(s) => s,
            Err(_) => return Layer::Skipped(Skip::BadLinkHeader),
        },
        Network::EtherType(t, rest) => LaxSlicedPacket::from_ether_type(t, rest),
        Network::Ip(rest) => match LaxSlicedPacket::from_ip(rest) {
            Ok(s) => s,
            Err(_) => return Layer::Skipped(Skip::BadIpHeader),
        },
        // An A-MSDU inside a tunnel cannot occur (802.11 is a link layer).
        Network::Amsdu(_) => return Layer::Skipped(Skip::NotIp),
    };
    if depth < MAX_DEPTH {
        if let Some((kind, inner, committed)) = tunnel_in(&sliced) {
            let mut t = *tunnels | bit(kind);
            let got = open(inner, depth + 1, &mut t);
            // A port-recognised tunnel whose inside is a well-formed frame of another protocol
            // (ARP in VXLAN) is the tunnel's; one whose inside does not parse is not.
            let parsed = !matches!(got, Layer::Skipped(Skip::BadLinkHeader | Skip::BadIpHeader));
            if committed || parsed {
                *tunnels = t;
                return got;
            }
        }
    }
    from_sliced(&sliced, bytes)
}

/// Decodes what a tunnel carries.
fn open<'a>(inner: Inner<'a>, depth: usize, tunnels: &mut Tunnels) -> Layer<'a> {
    match inner {
        Inner::Ethernet(f) => frame(Network::Ethernet(f), depth, tunnels),
        Inner::Ip(p) => frame(Network::Ip(p), depth, tunnels),
        Inner::Mpls(stack) => {
            *tunnels |= bit(TunnelKind::Mpls);
            match tunnel::mpls(stack) {
                Some(inner) if depth < MAX_DEPTH => open(inner, depth + 1, tunnels),
                _ => Layer::Skipped(Skip::NotIp),
            }
        }
    }
}

/// The tunnel a sliced frame announces: its kind, its inside, and whether it is recognised
/// by a protocol number (committed) rather than a port.
fn tunnel_in<'a>(sliced: &LaxSlicedPacket<'a>) -> Option<(TunnelKind, Inner<'a>, bool)> {
    match &sliced.net {
        None => {
            let ether = sliced.ether_payload()?;
            match ether.ether_type.0 {
                tunnel::ether_type::MPLS | tunnel::ether_type::MPLS_MULTICAST => {
                    Some((TunnelKind::Mpls, tunnel::mpls(ether.payload)?, true))
                }
                tunnel::ether_type::PPPOE_SESSION => Some((
                    TunnelKind::Pppoe,
                    Inner::Ip(tunnel::pppoe(ether.payload)?),
                    true,
                )),
                _ => None,
            }
        }
        Some(LaxNetSlice::Ipv4(_)) | Some(LaxNetSlice::Ipv6(_)) => {
            let ip = sliced.ip_payload()?;
            if ip.fragmented {
                return None;
            }
            match (ip.ip_number.0, &sliced.transport) {
                (4 | 41, _) => Some((TunnelKind::IpInIp, Inner::Ip(ip.payload), true)),
                (47, _) => {
                    let (kind, inner) = tunnel::gre(ip.payload)?;
                    Some((kind, inner, true))
                }
                (proto::UDP, Some(TransportSlice::Udp(udp)))
                    if tunnel::UDP_PORTS.contains(&udp.destination_port()) =>
                {
                    let (kind, inner) = tunnel::udp(udp.destination_port(), udp.payload())?;
                    Some((kind, inner, false))
                }
                _ => None,
            }
        }
        Some(LaxNetSlice::Arp(_)) => None,
    }
}

/// The innermost layer of a sliced frame.
pub(super) fn from_sliced<'a>(sliced: &LaxSlicedPacket<'a>, bytes: &'a [u8]) -> Layer<'a> {
    let (src, dst, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
            ip.payload(),
        ),
        Some(LaxNetSlice::Ipv6(ip)) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
            ip.payload(),
        ),
        Some(LaxNetSlice::Arp(_)) => return Layer::Skipped(Skip::NotIp),
        None => {
            // Nothing at the network layer: either a frame of another protocol, or an IP
            // header that failed to parse (then etherparse records where it stopped).
            return Layer::Skipped(match &sliced.stop_err {
                Some(_) => Skip::BadIpHeader,
                None => Skip::NotIp,
            });
        }
    };
    let proto = payload.ip_number.0;
    let v6_frag = match &sliced.net {
        Some(LaxNetSlice::Ipv6(ip)) => {
            v6_fragment(ip.header().next_header().0, ip.extensions().slice())
        }
        _ => None,
    };
    let fragmented = match (&sliced.net, v6_frag) {
        (Some(LaxNetSlice::Ipv6(_)), Some(f)) => f.offset != 0 || f.more,
        (Some(LaxNetSlice::Ipv6(_)), None) => false,
        _ => payload.fragmented,
    };
    if fragmented {
        let cut = payload.incomplete;
        return fragment(sliced, bytes, v6_frag, src, dst, payload.payload, cut);
    }
    let mut out = Decoded {
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        tcp_flags: 0,
        seq: 0,
        payload: &[],
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            out.sport = tcp.source_port();
            out.dport = tcp.destination_port();
            // The flags byte is byte 13 of the TCP header; the slice has at least 20 bytes.
            out.tcp_flags = tcp.slice().get(13).copied().unwrap_or(0);
            out.seq = tcp.sequence_number();
            out.payload = tcp.payload();
        }
        Some(TransportSlice::Udp(udp)) => {
            out.sport = udp.source_port();
            out.dport = udp.destination_port();
            out.payload = udp.payload();
        }
        Some(TransportSlice::Icmpv4(_)) | Some(TransportSlice::Icmpv6(_)) => {}
        None => {
            if proto != proto::TCP && proto != proto::UDP {
                // Another transport (GRE, ESP, SCTP, ...): kept as an address-level flow.
                out.payload = payload.payload;
            }
        }
    }
    Layer::Packet(out)
}

/// `part` (a slice of `whole` that etherparse handed out with a shorter lifetime) as a slice
/// of `whole`, found by its address; empty if it is not inside `whole`.
fn within<'a>(whole: &'a [u8], part: &[u8]) -> &'a [u8] {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize);
    start
        .and_then(|s| whole.get(s..s.checked_add(part.len())?))
        .unwrap_or_default()
}

/// An IPv6 fragment header's fields, and where the bytes after it start in the extension
/// headers' slice.
#[derive(Debug, Clone, Copy)]
struct V6Frag {
    id: u32,
    offset: u16,
    more: bool,
    /// The header that follows (the datagram's payload protocol, or another extension).
    next: u8,
    /// Offset of the first byte after the fragment header in the extensions' slice.
    after: usize,
}

/// The IPv6 fragment header among the extension headers `exts` (the first of type `first`),
/// walked here with checked access:
/// etherparse 0.19 reads the offset and M flag from the wrong bits (its issue #150, fixed in
/// 0.20), so also its `fragmented` flag, and its extension iterator may read past a lax slice
/// whose last header is cut short.
fn v6_fragment(first: u8, exts: &[u8]) -> Option<V6Frag> {
    let (mut next, mut at) = (first, 0usize);
    // Each pass moves forward by at least 8 bytes, so the walk ends with the slice.
    loop {
        let h = exts.get(at..at + 8)?;
        match next {
            44 => {
                let field = u16::from_be_bytes([h[2], h[3]]);
                return Some(V6Frag {
                    id: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                    offset: field & 0xfff8,
                    more: field & 1 != 0,
                    next: h[0],
                    after: at + 8,
                });
            }
            0 | 43 | 60 => at += (usize::from(h[1]) + 1) * 8,
            51 => at += (usize::from(h[1]) + 2) * 4,
            _ => return None,
        }
        next = h[0];
    }
}

/// The fragment facts of a fragmented datagram's packet. The fragment's bytes are everything
/// after the IP header (IPv4) or the fragment header (IPv6): etherparse may have read some of
/// them as extension headers (an IPv4 AH, IPv6 headers after the fragment header, or garbage
/// taken for one in a later fragment), so those go back in front as `head`, and the protocol
/// is the IP header's (or the fragment header's next header).
fn fragment<'a>(
    sliced: &LaxSlicedPacket<'a>,
    bytes: &'a [u8],
    v6_frag: Option<V6Frag>,
    src: IpAddr,
    dst: IpAddr,
    payload: &'a [u8],
    cut: bool,
) -> Layer<'a> {
    let (id, offset, more, proto, head) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let ah = ip.extensions().auth.map(|a| within(bytes, a.slice()));
            let ah = ah.unwrap_or_default();
            (
                u32::from(h.identification()),
                h.fragments_offset().byte_offset(),
                h.more_fragments(),
                h.protocol().0,
                ah,
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => match v6_frag {
            Some(f) => {
                let exts = ip.extensions().slice();
                let head = exts.get(f.after..).unwrap_or_default();
                (f.id, f.offset, f.more, f.next, head)
            }
            None => return Layer::Skipped(Skip::Fragment),
        },
        _ => return Layer::Skipped(Skip::Fragment),
    };
    Layer::Fragment(Fragment {
        src,
        dst,
        id,
        proto,
        offset: u32::from(offset),
        more,
        head,
        payload,
        cut,
    })
}
