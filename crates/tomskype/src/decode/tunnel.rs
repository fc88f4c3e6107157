//! Stage 2, decode: tunnel decapsulation. Given the payload of an outer layer (an IP
//! protocol, a UDP port or an EtherType that announces a tunnel), says what is inside and
//! where it starts, so that the general path ([`super::layers`]) decodes the inner packet as
//! the packet: the host is the inner address, the tunnel endpoints are transport only (each
//! decapsulation is counted by [`TunnelKind`] in the report's decode counts).
//!
//! Read here: GRE (RFC 2784/2890: checksum, key, sequence; the routing field of RFC 1701 is
//! refused), PPTP's enhanced GRE (version 1, RFC 2637) with PPP inside, ERSPAN types I, II
//! and III (GRE 0x88BE/0x22EB carrying Ethernet), VXLAN (UDP 4789, RFC 7348), Geneve (UDP
//! 6081, RFC 8926), MPLS in UDP (UDP 6635, RFC 7510), GTP-U G-PDUs (UDP 2152, 3GPP TS 29.281, with extension headers), IP in IP
//! (protocol 4 and 41, both over IPv4 and IPv6), MPLS label stacks (EtherType 0x8847/0x8848;
//! IPv4/IPv6 guessed from the first nibble after the bottom of the stack, nibble 0 read as an
//! Ethernet pseudowire control word, RFC 4448), and PPPoE session frames (EtherType 0x8864,
//! PPP protocol 0x0021/0x0057). 802.11 A-MSDU lives in [`super::link`].
//!
//! Hand-written: etherparse 0.19 reads none of these headers. Every access is checked; a
//! header that does not fit gives `None`, and the caller keeps the outer packet.
//!
//! Left out: L2TP, Teredo, IPsec (encrypted), GRE with routing, VXLAN-GPE, GTP-U messages
//! other than G-PDU.

/// The kinds of tunnel the decoder opens (counted in the report, by the names of
/// `report::schema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TunnelKind {
    /// GRE version 0 carrying IP, Ethernet or MPLS.
    Gre,
    /// PPTP's enhanced GRE (version 1) carrying PPP.
    PptpGre,
    /// ERSPAN (types I, II, III) carrying a mirrored Ethernet frame.
    Erspan,
    /// VXLAN (UDP 4789).
    Vxlan,
    /// Geneve (UDP 6081).
    Geneve,
    /// GTP-U user plane (UDP 2152).
    GtpU,
    /// IP in IP: IPv4 or IPv6 inside IPv4 or IPv6 (protocols 4 and 41).
    IpInIp,
    /// An MPLS label stack.
    Mpls,
    /// A PPPoE session frame.
    Pppoe,
    /// An 802.11 A-MSDU data frame (several subframes in one frame).
    Amsdu,
}

impl TunnelKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [TunnelKind; 10] = [
        TunnelKind::Gre,
        TunnelKind::PptpGre,
        TunnelKind::Erspan,
        TunnelKind::Vxlan,
        TunnelKind::Geneve,
        TunnelKind::GtpU,
        TunnelKind::IpInIp,
        TunnelKind::Mpls,
        TunnelKind::Pppoe,
        TunnelKind::Amsdu,
    ];
}

/// What a tunnel carries, and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner<'a> {
    /// An Ethernet II frame.
    Ethernet(&'a [u8]),
    /// An IP packet (v4 or v6 by its version nibble).
    Ip(&'a [u8]),
    /// An MPLS label stack.
    Mpls(&'a [u8]),
}

/// UDP destination ports that announce a tunnel (the fast path leaves these to the general
/// path).
pub const UDP_PORTS: [u16; 4] = [VXLAN_PORT, GENEVE_PORT, GTPU_PORT, MPLS_UDP_PORT];
const VXLAN_PORT: u16 = 4789;
const MPLS_UDP_PORT: u16 = 6635;
const GENEVE_PORT: u16 = 6081;
const GTPU_PORT: u16 = 2152;

/// EtherTypes that announce a tunnel inside an Ethernet (or cooked) frame.
pub mod ether_type {
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet bridging (GRE, Geneve).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type I and II.
    pub const ERSPAN_2: u16 = 0x88be;
    /// ERSPAN type III.
    pub const ERSPAN_3: u16 = 0x22eb;
    /// PPP (PPTP's GRE).
    pub const PPP: u16 = 0x880b;
}

/// The tunnel in a UDP datagram to `dport`, if its header is right.
pub fn udp(dport: u16, payload: &[u8]) -> Option<(TunnelKind, Inner<'_>)> {
    match dport {
        VXLAN_PORT => {
            // Flags (I bit 0x08 set), 3 reserved, VNI (3), reserved: then Ethernet.
            let (&flags, _) = payload.split_first()?;
            (flags & 0x08 != 0 && payload.len() > 8)
                .then(|| Some((TunnelKind::Vxlan, Inner::Ethernet(payload.get(8..)?))))?
        }
        GENEVE_PORT => {
            let h = payload.get(..8)?;
            if h[0] >> 6 != 0 {
                return None; // version 0 only
            }
            let opts = usize::from(h[0] & 0x3f) * 4;
            let rest = payload.get(8 + opts..)?;
            let inner = by_ether_type(u16::from_be_bytes([h[2], h[3]]), rest)?;
            Some((TunnelKind::Geneve, inner))
        }
        GTPU_PORT => gtpu(payload).map(|ip| (TunnelKind::GtpU, Inner::Ip(ip))),
        // MPLS in UDP (RFC 7510): the label stack at once.
        MPLS_UDP_PORT => Some((TunnelKind::Mpls, Inner::Mpls(payload))),
        _ => None,
    }
}

/// A GTP-U G-PDU's inner IP packet.
fn gtpu(payload: &[u8]) -> Option<&[u8]> {
    let h = payload.get(..8)?;
    // Version 1, protocol type GTP (PT = 1), message type 255 (G-PDU).
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[1] != 0xff {
        return None;
    }
    let mut at = 8;
    if h[0] & 0x07 != 0 {
        // Sequence number, N-PDU number, next extension header type.
        let mut next = *payload.get(11)?;
        at = 12;
        // Each extension: length in 4-byte units, content, next type in its last byte.
        // Every pass moves forward by at least 4 bytes, so the loop ends with the payload.
        while next != 0 {
            let units = usize::from(*payload.get(at)?);
            if units == 0 {
                return None;
            }
            at += units * 4;
            next = *payload.get(at - 1)?;
        }
    }
    let ip = payload.get(at..)?;
    matches!(ip.first()? >> 4, 4 | 6).then_some(ip)
}

/// The tunnel in a GRE packet (IP protocol 47).
pub fn gre(payload: &[u8]) -> Option<(TunnelKind, Inner<'_>)> {
    let h = payload.get(..4)?;
    let (flags, version) = (h[0], h[1] & 0x07);
    let proto = u16::from_be_bytes([h[2], h[3]]);
    let (checksum, routing, key, seq) = (
        flags & 0x80 != 0,
        flags & 0x40 != 0,
        flags & 0x20 != 0,
        flags & 0x10 != 0,
    );
    if routing {
        return None;
    }
    match version {
        0 => {
            let mut at = 4;
            if checksum {
                at += 4;
            }
            if key {
                at += 4;
            }
            if seq {
                at += 4;
            }
            let rest = payload.get(at..)?;
            match proto {
                ether_type::ERSPAN_2 if !seq => Some((TunnelKind::Erspan, Inner::Ethernet(rest))),
                ether_type::ERSPAN_2 => Some((TunnelKind::Erspan, Inner::Ethernet(rest.get(8..)?))),
                ether_type::ERSPAN_3 => {
                    // 12 bytes; the O flag (last bit) adds an 8-byte platform sub-header.
                    let o = rest.get(11)? & 1 != 0;
                    let at = if o { 20 } else { 12 };
                    Some((TunnelKind::Erspan, Inner::Ethernet(rest.get(at..)?)))
                }
                _ => by_ether_type(proto, rest).map(|inner| (TunnelKind::Gre, inner)),
            }
        }
        1 => {
            // Enhanced GRE: key present (payload length, call id), optional sequence and
            // acknowledgment numbers; the protocol is PPP.
            if proto != ether_type::PPP || !key || checksum {
                return None;
            }
            let ack = h[1] & 0x80 != 0;
            let at = 8 + if seq { 4 } else { 0 } + if ack { 4 } else { 0 };
            let ppp = payload.get(at..)?;
            ppp_ip(ppp).map(|ip| (TunnelKind::PptpGre, Inner::Ip(ip)))
        }
        _ => None,
    }
}

/// The IP packet in a PPP frame (with or without the HDLC address and control bytes, with or
/// without protocol-field compression), if it carries IPv4 (0x0021) or IPv6 (0x0057).
pub fn ppp_ip(data: &[u8]) -> Option<&[u8]> {
    let data = match data {
        [0xff, 0x03, rest @ ..] => rest,
        _ => data,
    };
    let (proto, rest) = match data {
        [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return None,
    };
    matches!(proto, 0x0021 | 0x0057).then_some(rest)
}

/// The inner layer of a PPPoE session frame (the payload after the EtherType).
pub fn pppoe(payload: &[u8]) -> Option<&[u8]> {
    let h = payload.get(..8)?;
    // Version 1, type 1, code 0 (session data).
    if h[0] != 0x11 || h[1] != 0 {
        return None;
    }
    // The length counts the PPP protocol field and what follows; a frame cut by the snaplen
    // keeps what was captured.
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let end = (6 + len).min(payload.len());
    let proto = u16::from_be_bytes([h[6], h[7]]);
    matches!(proto, 0x0021 | 0x0057).then(|| payload.get(8..end))?
}

/// What follows the bottom of an MPLS label stack (at most 8 labels are read).
pub fn mpls(payload: &[u8]) -> Option<Inner<'_>> {
    for i in 0..8 {
        let entry = payload.get(i * 4..i * 4 + 4)?;
        if entry[2] & 1 != 0 {
            let rest = payload.get(i * 4 + 4..)?;
            return match rest.first()? >> 4 {
                4 | 6 => Some(Inner::Ip(rest)),
                // A pseudowire control word, then the emulated Ethernet frame.
                0 => Some(Inner::Ethernet(rest.get(4..)?)),
                _ => None,
            };
        }
    }
    None
}

/// The inner layer announced by an EtherType-style protocol field.
fn by_ether_type(proto: u16, rest: &[u8]) -> Option<Inner<'_>> {
    match proto {
        0x0800 | 0x86dd => Some(Inner::Ip(rest)),
        ether_type::TEB => Some(Inner::Ethernet(rest)),
        ether_type::MPLS | ether_type::MPLS_MULTICAST => Some(Inner::Mpls(rest)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: [u8; 2] = [0x45, 0];

    #[test]
    fn gre_versions_and_options() {
        assert_eq!(
            gre(&[0, 0, 0x08, 0x00, 0x45, 0]),
            Some((TunnelKind::Gre, Inner::Ip(&IP)))
        );
        // Checksum, key and sequence present.
        let mut g = vec![0xb0, 0, 0x86, 0xdd];
        g.extend_from_slice(&[0; 12]);
        g.push(0x60);
        assert_eq!(gre(&g), Some((TunnelKind::Gre, Inner::Ip(&[0x60]))));
        assert_eq!(gre(&g[..10]), None);
        // Routing present: refused.
        assert_eq!(gre(&[0x40, 0, 0x08, 0x00, 0x45]), None);
        // PPTP: key, sequence, PPP with address and control, IPv4.
        let mut p = vec![0x30, 0x01, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 7];
        p.extend_from_slice(&[0xff, 0x03, 0x00, 0x21, 0x45, 0]);
        assert_eq!(gre(&p), Some((TunnelKind::PptpGre, Inner::Ip(&IP))));
        // PPTP carrying LCP: nothing to read.
        p[14] = 0xc0;
        assert_eq!(gre(&p), None);
        // Transparent Ethernet bridging and MPLS.
        assert_eq!(
            gre(&[0, 0, 0x65, 0x58, 1, 2]),
            Some((TunnelKind::Gre, Inner::Ethernet(&[1, 2])))
        );
        assert_eq!(
            gre(&[0, 0, 0x88, 0x47, 1]),
            Some((TunnelKind::Gre, Inner::Mpls(&[1])))
        );
    }

    #[test]
    fn erspan_types() {
        // Type I: no sequence, Ethernet at once.
        assert_eq!(
            gre(&[0, 0, 0x88, 0xbe, 9]),
            Some((TunnelKind::Erspan, Inner::Ethernet(&[9])))
        );
        // Type II: sequence, 8-byte header.
        let mut two = vec![0x10, 0, 0x88, 0xbe, 0, 0, 0, 1];
        two.extend_from_slice(&[0x10, 0, 0, 1, 0, 0, 0, 0, 9]);
        assert_eq!(gre(&two), Some((TunnelKind::Erspan, Inner::Ethernet(&[9]))));
        // Type III with and without the platform sub-header.
        let mut three = vec![0x10, 0, 0x22, 0xeb, 0, 0, 0, 1];
        three.extend_from_slice(&[0x20; 11]);
        three.push(0);
        three.push(9);
        assert_eq!(
            gre(&three),
            Some((TunnelKind::Erspan, Inner::Ethernet(&[9])))
        );
        three[8 + 11] = 1;
        assert_eq!(gre(&three), None);
        three.extend_from_slice(&[0; 8]);
        assert_eq!(
            gre(&three),
            Some((TunnelKind::Erspan, Inner::Ethernet(&[0])))
        );
    }

    #[test]
    fn udp_tunnels() {
        let vx = [0x08, 0, 0, 0, 0, 0, 1, 0, 0xaa];
        assert_eq!(
            udp(4789, &vx),
            Some((TunnelKind::Vxlan, Inner::Ethernet(&[0xaa])))
        );
        assert_eq!(udp(4789, &[0, 0, 0, 0, 0, 0, 1, 0, 0xaa]), None);
        assert_eq!(udp(4789, &vx[..8]), None);
        // Geneve with one 4-byte option, carrying Ethernet.
        let gn = [0x01, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3, 4, 0xbb];
        assert_eq!(
            udp(6081, &gn),
            Some((TunnelKind::Geneve, Inner::Ethernet(&[0xbb])))
        );
        assert_eq!(udp(6081, &gn[..10]), None);
        // GTP-U, plain and with the optional fields and one extension header.
        let g = [0x30, 0xff, 0, 2, 0, 0, 0, 1, 0x45, 0];
        assert_eq!(udp(2152, &g), Some((TunnelKind::GtpU, Inner::Ip(&IP))));
        let mut e = vec![0x34, 0xff, 0, 10, 0, 0, 0, 1, 0, 0, 0, 0x85];
        e.extend_from_slice(&[1, 0x10, 0x09, 0]);
        e.extend_from_slice(&IP);
        assert_eq!(udp(2152, &e), Some((TunnelKind::GtpU, Inner::Ip(&IP))));
        e[12] = 0; // a zero-length extension: refused, not an endless loop
        assert_eq!(udp(2152, &e), None);
        // Echo request (type 1) is not a G-PDU.
        assert_eq!(udp(2152, &[0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]), None);
        assert_eq!(udp(53, &vx), None);
    }

    #[test]
    fn mpls_and_pppoe() {
        // Two labels, bottom of stack on the second, then IPv4.
        assert_eq!(
            mpls(&[0, 1, 0, 64, 0, 2, 1, 64, 0x45, 0]),
            Some(Inner::Ip(&IP))
        );
        // Control word then Ethernet.
        assert_eq!(
            mpls(&[0, 1, 1, 64, 0, 0, 0, 0, 7]),
            Some(Inner::Ethernet(&[7]))
        );
        assert_eq!(mpls(&[0, 1, 0, 64]), None);
        assert_eq!(mpls(&[0; 40]), None);
        let frame = [0x11, 0, 0, 1, 0, 4, 0, 0x21, 0x45, 0, 0xee];
        assert_eq!(pppoe(&frame), Some(&IP[..]));
        assert_eq!(pppoe(&[0x11, 0, 0, 1, 0, 4, 0xc0, 0x21, 1, 1]), None);
        assert_eq!(pppoe(&[0x11, 0x09, 0, 0, 0, 0, 0, 0x21]), None);
        assert_eq!(ppp_ip(&[0x21, 0x45, 0]), Some(&IP[..]));
    }
}
