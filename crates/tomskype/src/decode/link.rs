//! Stage 2, decode: the link layer. Strips the link-layer header of each supported link type
//! and says where the network layer starts, and as what. Ethernet frames are handed to
//! etherparse whole (it handles 802.1Q/802.1ad tags); the cooked and loopback headers are
//! read here, with checked slicing only.

use etherparse::EtherType;

use super::{tunnel, Skip};
use crate::capture::linktype;

/// Where the network layer of a frame starts, and how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network<'a> {
    /// A whole Ethernet II frame (etherparse reads its header and VLAN tags).
    Ethernet(&'a [u8]),
    /// A network-layer payload identified by an EtherType (cooked captures).
    EtherType(EtherType, &'a [u8]),
    /// An IP packet (v4 or v6, by its version nibble).
    Ip(&'a [u8]),
    /// The subframes of an 802.11 A-MSDU (read them with [`amsdu_next`]).
    Amsdu(&'a [u8]),
}

/// BSD address families for IPv4 and IPv6 (IPv6's differs between the BSDs).
const AF_INET: u32 = 2;
const AF_INET6: [u32; 3] = [24, 28, 30];
/// Linux `AF_INET6`, seen in null/loopback headers written on Linux.
const AF_INET6_LINUX: u32 = 10;

/// Finds the network layer inside a frame of `link_type`.
pub fn network_layer(link_type: u32, data: &[u8]) -> Result<Network<'_>, Skip> {
    match link_type {
        linktype::ETHERNET => Ok(Network::Ethernet(data)),
        // DLT_RAW is 12 on most BSDs and 14 on OpenBSD; LINKTYPE_RAW is 101.
        linktype::RAW | 12 | 14 | linktype::IPV4 | linktype::IPV6 => Ok(Network::Ip(data)),
        linktype::NULL | linktype::LOOP => null_loopback(link_type, data),
        linktype::LINUX_SLL => {
            // 16 bytes: packet type, ARPHRD type, address length, 8 address bytes, protocol.
            let proto = be16(data, 14).ok_or(Skip::BadLinkHeader)?;
            let rest = data.get(16..).ok_or(Skip::BadLinkHeader)?;
            cooked(proto, rest)
        }
        linktype::LINUX_SLL2 => {
            // 20 bytes: protocol first, then reserved, ifindex, ARPHRD, type, address.
            let proto = be16(data, 0).ok_or(Skip::BadLinkHeader)?;
            let rest = data.get(20..).ok_or(Skip::BadLinkHeader)?;
            cooked(proto, rest)
        }
        PPP | PPP_HDLC => ppp(data),
        C_HDLC => {
            // Cisco HDLC: address, control, then an EtherType.
            let proto = be16(data, 2).ok_or(Skip::BadLinkHeader)?;
            let rest = data.get(4..).ok_or(Skip::BadLinkHeader)?;
            cooked(proto, rest)
        }
        NFLOG => nflog(data),
        IEEE802_11 => wifi(data),
        RADIOTAP => {
            // Radiotap: version, pad, then its little-endian length; an 802.11 frame follows.
            let len = data
                .get(2..4)
                .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
                .ok_or(Skip::BadLinkHeader)?;
            wifi(data.get(len..).ok_or(Skip::BadLinkHeader)?)
        }
        _ => Err(Skip::UnsupportedLinkType),
    }
}

/// PPP (`LINKTYPE_PPP`, 9), with or without the HDLC address and control bytes.
const PPP: u32 = 9;
/// PPP in HDLC-like framing (`LINKTYPE_PPP_HDLC`, 50).
const PPP_HDLC: u32 = 50;
/// Cisco HDLC (`LINKTYPE_C_HDLC`, 104).
const C_HDLC: u32 = 104;
/// 802.11 without radio header (`LINKTYPE_IEEE802_11`, 105).
const IEEE802_11: u32 = 105;
/// 802.11 with a radiotap header (`LINKTYPE_IEEE802_11_RADIOTAP`, 127).
const RADIOTAP: u32 = 127;
/// Linux netfilter log (`LINKTYPE_NFLOG`, 239).
const NFLOG: u32 = 239;

/// Every link type [`network_layer`] reads.
pub const SUPPORTED: [u32; 16] = [
    linktype::NULL,
    linktype::ETHERNET,
    12,
    14,
    linktype::RAW,
    linktype::LOOP,
    linktype::LINUX_SLL,
    linktype::IPV4,
    linktype::IPV6,
    linktype::LINUX_SLL2,
    PPP,
    PPP_HDLC,
    C_HDLC,
    IEEE802_11,
    RADIOTAP,
    NFLOG,
];

fn ppp(data: &[u8]) -> Result<Network<'_>, Skip> {
    // Cisco HDLC framing is also written as PPP (tcpdump reads it so): unicast or multicast
    // address, control 0, then an EtherType.
    if let [0x0f | 0x8f, 0x00, a, b, rest @ ..] = data {
        return cooked(u16::from_be_bytes([*a, *b]), rest);
    }
    let data = match data {
        [0xff, 0x03, rest @ ..] => rest,
        _ => data,
    };
    // Protocol-field compression: an odd first byte is a one-byte protocol.
    let (proto, rest) = match data {
        [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return Err(Skip::BadLinkHeader),
    };
    match proto {
        0x0021 | 0x0057 => Ok(Network::Ip(rest)),
        _ => Err(Skip::NotIp),
    }
}

fn nflog(data: &[u8]) -> Result<Network<'_>, Skip> {
    // Header: address family, version, resource id; then TLVs (length and type in host order,
    // little-endian in practice), each padded to 4 bytes. Type 9 carries the packet.
    let mut at = 4;
    if data.len() < at {
        return Err(Skip::BadLinkHeader);
    }
    while let Some(tlv) = data.get(at..at + 4) {
        let len = usize::from(u16::from_le_bytes([tlv[0], tlv[1]]));
        let kind = u16::from_le_bytes([tlv[2], tlv[3]]);
        if len < 4 {
            return Err(Skip::BadLinkHeader);
        }
        if kind == 9 {
            // A payload cut by the snaplen keeps what was captured.
            let end = (at + len).min(data.len());
            return data
                .get(at + 4..end)
                .map(Network::Ip)
                .ok_or(Skip::BadLinkHeader);
        }
        at += len.div_ceil(4) * 4;
    }
    Err(Skip::NotIp)
}

fn wifi(data: &[u8]) -> Result<Network<'_>, Skip> {
    let (fc0, fc1) = match data {
        [a, b, ..] => (*a, *b),
        _ => return Err(Skip::BadLinkHeader),
    };
    let frame_type = (fc0 >> 2) & 3;
    let subtype = fc0 >> 4;
    // Only data frames carry IP; protected ones carry it encrypted; "null" ones carry nothing.
    if frame_type != 2 || fc1 & 0x40 != 0 || subtype & 0x4 != 0 {
        return Err(Skip::NotIp);
    }
    let qos = subtype & 0x8 != 0;
    let mut len = 24;
    if fc1 & 0x03 == 0x03 {
        len += 6; // a fourth address (WDS)
    }
    // The QoS control field's first byte has the "A-MSDU present" bit.
    let amsdu = qos && data.get(len).is_some_and(|b| b & 0x80 != 0);
    if qos {
        len += 2;
        if fc1 & 0x80 != 0 {
            len += 4; // HT control
        }
    }
    if amsdu {
        return data
            .get(len..)
            .map(Network::Amsdu)
            .ok_or(Skip::BadLinkHeader);
    }
    snap(data.get(len..).unwrap_or_default())
}

/// The first subframe of an A-MSDU area, and the rest of the area. Each subframe is a
/// destination and source address, a big-endian length, then that many bytes (LLC/SNAP and
/// the packet), padded to a multiple of 4 bytes. A subframe cut short by the snaplen keeps
/// what was captured (and is the last).
pub fn amsdu_next(area: &[u8]) -> Option<(Result<Network<'_>, Skip>, &[u8])> {
    let len = usize::from(be16(area, 12)?);
    let body_end = (14 + len).min(area.len());
    let body = area.get(14..body_end)?;
    let next = (14 + len).div_ceil(4) * 4;
    // At least 16 bytes are consumed: a walk over an area ends after len / 16 subframes.
    let rest = area.get(next..).unwrap_or_default();
    Some((snap(body), rest))
}

/// An LLC/SNAP header (AA AA 03 00 00 00, EtherType) and what follows it.
fn snap(data: &[u8]) -> Result<Network<'_>, Skip> {
    match data.get(..8) {
        Some([0xaa, 0xaa, 0x03, 0, 0, 0, a, b]) => cooked(
            u16::from_be_bytes([*a, *b]),
            data.get(8..).unwrap_or_default(),
        ),
        Some(_) => Err(Skip::NotIp),
        None => Err(Skip::BadLinkHeader),
    }
}

fn null_loopback(link_type: u32, data: &[u8]) -> Result<Network<'_>, Skip> {
    let head: [u8; 4] = data
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or(Skip::BadLinkHeader)?;
    // The get(..4) above proved the length.
    let rest = &data[4..];
    // LOOP is network byte order; NULL is the writer's host order, which we cannot know:
    // accept either order, as tcpdump does.
    let family = if link_type == linktype::LOOP {
        u32::from_be_bytes(head)
    } else {
        let le = u32::from_le_bytes(head);
        if le <= 0xffff {
            le
        } else {
            u32::from_be_bytes(head)
        }
    };
    if family == AF_INET || AF_INET6.contains(&family) || family == AF_INET6_LINUX {
        Ok(Network::Ip(rest))
    } else {
        Err(Skip::NotIp)
    }
}

fn cooked(proto: u16, rest: &[u8]) -> Result<Network<'_>, Skip> {
    match EtherType(proto) {
        EtherType::IPV4 | EtherType::IPV6 | EtherType::VLAN_TAGGED_FRAME => {
            Ok(Network::EtherType(EtherType(proto), rest))
        }
        EtherType(
            tunnel::ether_type::MPLS
            | tunnel::ether_type::MPLS_MULTICAST
            | tunnel::ether_type::PPPOE_SESSION,
        ) => Ok(Network::EtherType(EtherType(proto), rest)),
        _ => Err(Skip::NotIp),
    }
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at + 2)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_accepts_both_byte_orders() {
        let mut le = 2u32.to_le_bytes().to_vec();
        le.extend_from_slice(&[0x45, 0]);
        assert_eq!(
            network_layer(linktype::NULL, &le),
            Ok(Network::Ip(&[0x45, 0]))
        );
        let mut be = 30u32.to_be_bytes().to_vec();
        be.push(0x60);
        assert_eq!(network_layer(linktype::NULL, &be), Ok(Network::Ip(&[0x60])));
        assert_eq!(network_layer(linktype::LOOP, &be), Ok(Network::Ip(&[0x60])));
        assert_eq!(
            network_layer(linktype::NULL, &[7, 0, 0, 0]),
            Err(Skip::NotIp)
        );
        assert_eq!(
            network_layer(linktype::NULL, &[2, 0]),
            Err(Skip::BadLinkHeader)
        );
    }

    #[test]
    fn cooked_headers() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(
            network_layer(linktype::LINUX_SLL, &sll),
            Ok(Network::EtherType(EtherType::IPV4, &[0x45]))
        );
        let mut sll2 = vec![0x86, 0xdd];
        sll2.extend_from_slice(&[0; 18]);
        sll2.push(0x60);
        assert_eq!(
            network_layer(linktype::LINUX_SLL2, &sll2),
            Ok(Network::EtherType(EtherType::IPV6, &[0x60]))
        );
        let mut arp = vec![0x08, 0x06];
        arp.extend_from_slice(&[0; 18]);
        assert_eq!(network_layer(linktype::LINUX_SLL2, &arp), Err(Skip::NotIp));
        assert_eq!(
            network_layer(linktype::LINUX_SLL2, &[0x08]),
            Err(Skip::BadLinkHeader)
        );
        assert_eq!(
            network_layer(linktype::LINUX_SLL, &[0; 15]),
            Err(Skip::BadLinkHeader)
        );
    }

    #[test]
    fn ppp_and_hdlc() {
        assert_eq!(
            network_layer(PPP, &[0xff, 0x03, 0x00, 0x21, 0x45]),
            Ok(Network::Ip(&[0x45]))
        );
        assert_eq!(
            network_layer(PPP, &[0x00, 0x57, 0x60]),
            Ok(Network::Ip(&[0x60]))
        );
        assert_eq!(
            network_layer(PPP_HDLC, &[0x21, 0x45]),
            Ok(Network::Ip(&[0x45]))
        );
        assert_eq!(network_layer(PPP, &[0xc0, 0x21, 1]), Err(Skip::NotIp)); // LCP
        assert_eq!(network_layer(PPP, &[0x00]), Err(Skip::BadLinkHeader));
        assert_eq!(
            network_layer(PPP, &[0x0f, 0x00, 0x86, 0xdd, 0x60]),
            Ok(Network::EtherType(EtherType::IPV6, &[0x60]))
        );
        assert_eq!(
            network_layer(C_HDLC, &[0x0f, 0x00, 0x08, 0x00, 0x45]),
            Ok(Network::EtherType(EtherType::IPV4, &[0x45]))
        );
    }

    #[test]
    fn nflog_finds_the_payload_tlv() {
        let mut frame = vec![2, 0, 0, 1];
        // A 5-byte prefix TLV (type 1), padded to 8, then the payload TLV (type 9).
        frame.extend_from_slice(&[5, 0, 1, 0, 0xaa, 0, 0, 0]);
        frame.extend_from_slice(&[6, 0, 9, 0, 0x45, 0x00]);
        assert_eq!(network_layer(NFLOG, &frame), Ok(Network::Ip(&[0x45, 0x00])));
        assert_eq!(
            network_layer(NFLOG, &[2, 0, 0, 1, 2, 0, 9, 0]),
            Err(Skip::BadLinkHeader)
        );
        assert_eq!(network_layer(NFLOG, &[2, 0, 0, 1]), Err(Skip::NotIp));
    }

    #[test]
    fn wifi_data_frames_with_snap() {
        // QoS data frame (subtype 8), from the AP (FromDS), header 26 bytes.
        let mut frame = vec![0x88, 0x02];
        frame.extend_from_slice(&[0; 24]);
        frame.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45]);
        assert_eq!(
            network_layer(IEEE802_11, &frame),
            Ok(Network::EtherType(EtherType::IPV4, &[0x45]))
        );
        let mut radiotap = vec![0, 0, 8, 0, 0, 0, 0, 0];
        radiotap.extend_from_slice(&frame);
        assert_eq!(
            network_layer(RADIOTAP, &radiotap),
            Ok(Network::EtherType(EtherType::IPV4, &[0x45]))
        );
        // Protected, management and truncated frames.
        let mut protected = frame.clone();
        protected[1] |= 0x40;
        assert_eq!(network_layer(IEEE802_11, &protected), Err(Skip::NotIp));
        assert_eq!(
            network_layer(IEEE802_11, &[0x80, 0x00, 0, 0]),
            Err(Skip::NotIp)
        );
        assert_eq!(
            network_layer(IEEE802_11, &frame[..20]),
            Err(Skip::BadLinkHeader)
        );
        assert_eq!(
            network_layer(RADIOTAP, &[0, 0, 200, 0]),
            Err(Skip::BadLinkHeader)
        );
    }

    #[test]
    fn every_supported_type_is_read() {
        for lt in SUPPORTED {
            assert_ne!(
                network_layer(lt, &[0; 64]),
                Err(Skip::UnsupportedLinkType),
                "{lt}"
            );
        }
    }

    #[test]
    fn unknown_link_type() {
        assert_eq!(network_layer(147, &[0; 64]), Err(Skip::UnsupportedLinkType));
    }
}
