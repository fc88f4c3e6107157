//! Stage 2, decode: the link layer. Strips the link-layer header of each supported link type
//! and says where the network layer starts, and as what. Ethernet frames are handed to
//! etherparse whole (it handles 802.1Q/802.1ad tags); the cooked and loopback headers are
//! read here, with checked slicing only.

use etherparse::EtherType;

use super::Skip;
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
        _ => Err(Skip::UnsupportedLinkType),
    }
}

fn null_loopback(link_type: u32, data: &[u8]) -> Result<Network<'_>, Skip> {
    let head: [u8; 4] = data
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or(Skip::BadLinkHeader)?;
    let rest = &data[4..]; // the get(..4) above proved the length
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
    fn unknown_link_type() {
        assert_eq!(network_layer(105, &[0; 64]), Err(Skip::UnsupportedLinkType));
    }
}
