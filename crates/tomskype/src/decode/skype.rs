//! Stage 2, decode: Skype's own protocols, recognised from a packet's first bytes, as nDPI
//! does (facts of the wire format taken from nDPI's public `skype.c` and `stun.c`, and from
//! Microsoft's published MS-TURN/MS-ICE2 attribute lists).
//!
//! Three kinds, each a few byte compares on one payload:
//! - **Microsoft's STUN** ([`ms_stun`]): a STUN message (RFC 5389 header with the magic cookie)
//!   carrying an attribute only Microsoft's ICE/TURN stack sends: Implementation Version
//!   (0x8070) holding a small number, a Candidate Identifier (0x8054) of 1 to 4 bytes, MS
//!   Service Quality (0x8055) or MS-Multiplexed-TURN-Session-ID (0x8095). Skype (2014 on) and
//!   Teams calls send these. nDPI also takes five attribute types that no Microsoft document
//!   lists (0x24DF, 0x3802, 0x8036, 0x0800, 0x8006); they are left out here.
//! - **Classic Skype UDP** ([`classic_udp_candidate`]): Skype 1.x-7.x framed every datagram
//!   with a 2-byte id and a function byte; function 0x02 marks an obfuscated payload (so nDPI:
//!   `payload[2] == 0x02` on 16 bytes or more), and 3-byte datagrams end with a function whose
//!   low nibble is 0x0d. One packet proves nothing (a random byte is 0x02 once in 256), so this
//!   only says "candidate"; the flow table decides over the whole flow (stage 3's
//!   `flow::SkypeFacts`): at least two candidates, most of the flow's packets, and not
//!   the same first 8 bytes again (DNSCrypt's client magic, the classic false positive).
//!   Packets to or from ports 53, 80, 443 and 1119 (DNS, HTTP, QUIC and DNSCrypt, Battle.net)
//!   and RTP-looking first bytes are never candidates.
//! - **Classic Skype TCP** ([`tcp_shape`]): Skype 1.x-7.x obfuscated its TCP streams from
//!   the first byte (RC4 keyed from a 4-byte seed sent in clear: a first message of the seed
//!   and 10 obfuscated bytes, Biondi and Desclaux's "Silver Needle in the Skype", 2006, and the
//!   public re-implementations after it), on random ports with 80 and 443 as fallbacks (Baset
//!   and Schulzrinne 2004). No byte of such a stream can be tested, so nDPI judged the sizes at
//!   a connection's start: after the three-way handshake, the third payload packet is 8 or 3
//!   bytes long (17 added later). nDPI disabled that rule in 2020 as "too weak and leads to
//!   false positives" and removed it in 2022: alone it matches OpenFlow's 8-byte hellos and an
//!   IRC client's `JOIN :` in the corpora. Here one segment only gets a [`TcpShape`]; stage 3
//!   (`flow::skype::TcpOpenings`) judges the first three data segments of a connection whose
//!   SYN and SYN+ACK it saw, in order, retransmissions skipped, and takes one of three
//!   openings, each seen in nDPI's 2015 Skype 7 captures:
//!   - *obfuscated*: opener, then responder, then opener again, all three [`TcpShape::Obfuscated`]
//!     (not text, not a TLS record, no length field giving the segment's own length, at most
//!     one zero among the first 8 bytes), the first two at least 14 bytes (seed and handshake),
//!     the third 3, 8 or 17 bytes (nDPI's sizes);
//!   - *empty TLS records*: the opener sends exactly `16 03 0v 00 00`, a handshake record
//!     header with nothing in it, and the responder answers exactly `17 03 0v 00 00`: TLS
//!     forbids empty handshake records (RFC 5246 section 6.2.1) and has no application data
//!     before a handshake, so no TLS stack sends either;
//!   - *SSLv2 hello, then talk*: the opener sends one whole SSLv2-format ClientHello, then,
//!     before any answer, a second segment that is not a TLS record (a TLS client waits for
//!     the ServerHello), and the responder answers.
//!
//!   Only connections to port 80, 443 or a port of 1024 and above are watched (the
//!   well-known ports below 1024 belong to other protocols). Measured on the shared corpora
//!   (785 TCP connections): nDPI's rule marks 80, 6 of them outside Skype captures (OpenFlow,
//!   IRC); these openings mark 112 (81 obfuscated, 10 empty-record, 21 SSLv2), all in nDPI's
//!   two Skype 7 captures, which hold 138 non-TLS connections with their handshake and both
//!   directions captured. `classify` weighs it below classic UDP (docs/INDICATORS.md).

/// Which Skype protocol a flow showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkypeProtocol {
    /// Skype's classic (1.x-7.x, peer-to-peer era) TCP framing, judged at a connection's start.
    ClassicTcp,
    /// Skype's classic (1.x-7.x, peer-to-peer era) UDP framing.
    ClassicUdp,
    /// Microsoft's STUN attributes, as Skype and Teams calls send them.
    MsStun,
}

impl SkypeProtocol {
    /// Stable name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            SkypeProtocol::ClassicTcp => "classic-tcp",
            SkypeProtocol::ClassicUdp => "classic-udp",
            SkypeProtocol::MsStun => "ms-stun",
        }
    }
}

/// What one UDP payload showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkypeSign {
    /// A STUN message with a Microsoft-only attribute.
    MsStun,
    /// A datagram framed as classic Skype; its first 8 bytes (zero-padded).
    ClassicUdp([u8; 8]),
}

/// The STUN magic cookie (RFC 5389).
const MAGIC: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
/// Most attributes read from one STUN message.
const MAX_ATTRIBUTES: usize = 32;
/// UDP ports whose traffic is never taken for classic Skype.
const NOT_CLASSIC_PORTS: [u16; 4] = [53, 80, 443, 1119];

/// Looks at one UDP payload from `sport` to `dport`. Rejects most traffic on its first bytes.
#[inline]
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Option<SkypeSign> {
    if payload.get(4..8) == Some(&MAGIC) {
        return ms_stun(payload).then_some(SkypeSign::MsStun);
    }
    if classic_udp_candidate(sport, dport, payload) {
        let mut head = [0u8; 8];
        let n = payload.len().min(8);
        head[..n].copy_from_slice(&payload[..n]);
        return Some(SkypeSign::ClassicUdp(head));
    }
    None
}

/// Whether `payload` is a STUN message carrying one of Microsoft's attributes (see the
/// module docs).
pub fn ms_stun(payload: &[u8]) -> bool {
    let Some(&[t0, _, l0, l1, c0, c1, c2, c3]) = payload.first_chunk::<8>() else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    // The top two bits of a STUN type are zero; the length counts whole 4-byte words.
    if t0 & 0xc0 != 0 || [c0, c1, c2, c3] != MAGIC || len % 4 != 0 {
        return false;
    }
    let Some(body) = payload.get(20..20 + len) else {
        return false;
    };
    let mut pos = 0;
    for _ in 0..MAX_ATTRIBUTES {
        let Some(&[a0, a1, n0, n1]) = body.get(pos..).and_then(|b| b.first_chunk::<4>()) else {
            return false;
        };
        let attr = u16::from_be_bytes([a0, a1]);
        let n = usize::from(u16::from_be_bytes([n0, n1]));
        let Some(value) = body.get(pos + 4..pos + 4 + n) else {
            return false;
        };
        let microsoft = match (attr, value) {
            // MS-ICE2 Implementation Version: a small number (2 and 3 in 2015-2019 Skype,
            // 7 in 2023 Teams).
            (0x8070, [0, 0, 0, 1..=15]) => true,
            // MS-ICE2 Candidate Identifier: a short ASCII number ("1").
            (0x8054, v) => (1..=4).contains(&v.len()),
            // MS-TURN MS-Service Quality, MS-Multiplexed-TURN-Session-ID.
            (0x8055, v) => v.len() >= 4,
            (0x8095, v) => v.len() == 8,
            _ => false,
        };
        if microsoft {
            return true;
        }
        // Attribute values are padded to 4 bytes.
        pos += 4 + n.div_ceil(4) * 4;
    }
    false
}

/// Whether a UDP payload is framed as classic Skype (see the module docs): a candidate, not
/// proof.
#[inline]
pub fn classic_udp_candidate(sport: u16, dport: u16, payload: &[u8]) -> bool {
    let framed = match payload {
        [_, _, func] => func & 0x0f == 0x0d,
        [first, _, 0x02, ..] if payload.len() >= 16 => {
            // Not SNMP (a BER sequence), not RTP version 2.
            *first != 0x30 && first & 0xc0 != 0x80
        }
        _ => false,
    };
    framed && !NOT_CLASSIC_PORTS.contains(&sport) && !NOT_CLASSIC_PORTS.contains(&dport)
}

/// What one TCP segment's payload looks like to the classic Skype TCP rule (see the module
/// docs). A shape is no sign by itself: stage 3 judges the first segments of a connection
/// together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TcpShape {
    /// Bytes that look obfuscated: at least 3, one of the first 8 at 0x80 or above, at most one
    /// of them zero, no TLS record header, no length field in the first 4 bytes (either byte
    /// order) that gives the payload's own length within 6 bytes.
    Obfuscated,
    /// Exactly `16 03 0v 00 00`: a TLS handshake record header with nothing in the record.
    EmptyHandshake,
    /// Exactly `17 03 0v 00 00`: a TLS application-data record header with nothing in it.
    EmptyAppData,
    /// One whole SSLv2-format ClientHello record (`8L LL 01 03 0v ...`, 2 + LLL bytes).
    Sslv2Hello,
    /// Starts like a TLS record (content type 0x14-0x17, major version 3), other than the two
    /// empty records above.
    Tls,
    /// Anything else (text, length-framed binary protocols, too short).
    #[default]
    Other,
}

/// The smallest first segment of each side for the obfuscated opening: the 4-byte seed and
/// the 10 obfuscated bytes of Skype's first TCP message.
pub const CLASSIC_TCP_MIN_FIRST: usize = 14;
/// The sizes nDPI took for the opener's second data segment (its 2011 rule: 8 and 3; 17
/// added later).
pub const CLASSIC_TCP_THIRD_SIZES: [usize; 3] = [3, 8, 17];

/// Whether a connection to `port` may carry Skype's classic TCP framing: 80, 443 (Skype's
/// fallbacks) or 1024 and above (Skype's random listening ports).
#[inline]
pub fn classic_tcp_port(port: u16) -> bool {
    port >= 1024 || port == 80 || port == 443
}

/// The [`TcpShape`] of one TCP segment's payload.
pub fn tcp_shape(payload: &[u8]) -> TcpShape {
    match *payload {
        [0x16, 0x03, 0..=3, 0, 0] => return TcpShape::EmptyHandshake,
        [0x17, 0x03, 0..=3, 0, 0] => return TcpShape::EmptyAppData,
        [0x14..=0x17, 0x03, ..] => return TcpShape::Tls,
        [h, l, 0x01, 0x03, _, ..]
            if h & 0x80 != 0
                && usize::from(u16::from_be_bytes([h & 0x7f, l])) + 2 == payload.len() =>
        {
            return TcpShape::Sslv2Hello
        }
        _ => {}
    }
    if obfuscated(payload) {
        TcpShape::Obfuscated
    } else {
        TcpShape::Other
    }
}

/// See [`TcpShape::Obfuscated`].
fn obfuscated(p: &[u8]) -> bool {
    let n = p.len();
    if n < 3 {
        return false;
    }
    let head = &p[..n.min(8)];
    if !head.iter().any(|&b| b >= 0x80) || head.iter().filter(|&&b| b == 0).count() > 1 {
        return false;
    }
    // DNS over TCP, TPKT (RDP), OpenFlow, NetBIOS sessions (SMB), MySQL packets and the like
    // give their own length at the start; obfuscated bytes do so once in thousands.
    let own_length = |v: u16| (n.saturating_sub(6)..=n).contains(&usize::from(v));
    !p.windows(2).take(3).any(|w| {
        own_length(u16::from_be_bytes([w[0], w[1]])) || own_length(u16::from_le_bytes([w[0], w[1]]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A STUN binding request with the given attributes (type, value).
    fn stun(attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in attrs {
            body.extend_from_slice(&t.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
            while body.len() % 4 != 0 {
                body.push(0);
            }
        }
        let mut m = vec![0x00, 0x01];
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC);
        m.extend_from_slice(&[7; 12]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn microsoft_stun_attributes() {
        let user = (0x0006, &b"abcd:efgh"[..]);
        let prio = (0x0024, &[0x6e, 0, 0x1e, 0xff][..]);
        assert!(ms_stun(&stun(&[user, prio, (0x8070, &[0, 0, 0, 3])])));
        assert!(ms_stun(&stun(&[user, (0x8054, &[0x31])])));
        assert!(ms_stun(&stun(&[(0x8095, &[9; 8])])));
        assert!(ms_stun(&stun(&[(0x8055, &[0, 1, 0, 2])])));
        assert_eq!(
            udp(50000, 3478, &stun(&[(0x8070, &[0, 0, 0, 2])])),
            Some(SkypeSign::MsStun)
        );
        // Plain WebRTC STUN (Chrome's network cost, ICE-controlling, priority): not Microsoft.
        let chrome = stun(&[
            user,
            (0xc057, &[0, 1, 0, 10]),
            (0x802a, &[1; 8]),
            prio,
            (0x0025, &[]),
        ]);
        assert!(!ms_stun(&chrome));
        assert_eq!(udp(50000, 3478, &chrome), None);
        // Values that do not fit.
        assert!(!ms_stun(&stun(&[(0x8070, &[0, 0, 1, 2])])));
        assert!(!ms_stun(&stun(&[(0x8054, &[1, 2, 0, 0, 5])])));
        // A length beyond the datagram, an odd length, a cut-off attribute, no cookie.
        let mut m = stun(&[(0x8070, &[0, 0, 0, 2])]);
        m.pop();
        assert!(!ms_stun(&m));
        let mut m = stun(&[(0x8070, &[0, 0, 0, 2])]);
        m[3] = 7;
        assert!(!ms_stun(&m));
        let mut m = stun(&[(0x8070, &[0, 0, 0, 2])]);
        m[4] = 0;
        assert!(!ms_stun(&m));
    }

    #[test]
    fn real_stun_payloads_from_teams_and_skype_calls() {
        // nDPI's stun_msteams_unidir.pcapng: a binding response with IMPLEMENTATION-VERSION 7.
        let teams = hex(
            "010100342112a442567009c2ae00e698d98f01908070000400000007002000080001e24473a09b39\
             00080014081c187c4cf903476de30538dee3554682a1e5d080280004513d0c54",
        );
        assert!(ms_stun(&teams));
        // nDPI's skype-conference-call.pcap: a binding request with CANDIDATE-IDENTIFIER "1".
        let skype = hex(
            "000100542112a442c55a4fdfde0c325e304c60c700060009677070653a7a57796b000000002400046e\
             fffeff802a00080000000000bf43178054000131000000807000040000000300080014c39266663\
             85c09a134e40a0c6c2ef3061a8b62ab802800041fb59b6b",
        );
        assert!(ms_stun(&skype));
    }

    #[test]
    fn classic_udp_framing() {
        // From nDPI's skype_udp.pcap: a 31-byte obfuscated datagram and a 3-byte one.
        let p = hex("169702aed10087792e012b1b34b94fb4a7cf2ec4a3ef4bd9e7d21f643db7bd");
        assert!(classic_udp_candidate(35990, 39262, &p));
        assert_eq!(
            udp(35990, 39262, &p),
            Some(SkypeSign::ClassicUdp(p[..8].try_into().unwrap()))
        );
        assert!(classic_udp_candidate(35990, 39262, &[0x41, 0x99, 0x3d]));
        assert!(!classic_udp_candidate(35990, 39262, &[0x41, 0x99, 0x3e]));
        // The same bytes on DNSCrypt's and QUIC's port, SNMP, RTP, too short.
        assert!(!classic_udp_candidate(46858, 443, &p));
        assert!(!classic_udp_candidate(53, 40000, &p));
        let mut snmp = p.clone();
        snmp[0] = 0x30;
        assert!(!classic_udp_candidate(40000, 40001, &snmp));
        let mut rtp = p.clone();
        rtp[0] = 0x80;
        assert!(!classic_udp_candidate(40000, 40001, &rtp));
        assert!(!classic_udp_candidate(40000, 40001, &p[..15]));
    }

    #[test]
    fn tcp_shapes() {
        // nDPI's skype.pcap, 192.168.1.34:50075 to a supernode on 40003: the opener's first
        // segment (92 bytes), the answer (63) and the opener's 8-byte third.
        let first = hex(
            "6fe884a4d65835c791c86060481ddf2bcc0bdac195f3eeb2f5b2b7d7686f6a6e45cd046cab95223ff0a7\
             d68c1fb5e8626b20110ea72cadfaa3f809a65f842512dbd0013e17dc9d2a13a8f9d6cf3415424b80f16e\
             878c8d5a8358e906",
        );
        assert_eq!(first.len(), 92);
        assert_eq!(tcp_shape(&first), TcpShape::Obfuscated);
        let answer = hex(
            "5df8477797e4ca610e14ed93d0cdbd0e5c1d47327e11751c7e9ec0c981ac0c0fead93eaf462e0eb8d10\
             6b8478cceb16db0611e77bcfd0a738859b62f147522",
        );
        assert_eq!(tcp_shape(&answer), TcpShape::Obfuscated);
        assert_eq!(tcp_shape(&hex("c47f4b438ebe18ac")), TcpShape::Obfuscated);
        // The same flow's neighbours on 13392 and 443.
        assert_eq!(tcp_shape(&hex("1603010000")), TcpShape::EmptyHandshake);
        assert_eq!(tcp_shape(&hex("1703010000")), TcpShape::EmptyAppData);
        let sslv2 = hex(
            "8046010301002d0000001000000500000400000a000009000064000062000008000003000006010080\
             0700c0030080060040020080040080d368b9968ff4d5020b40b12e474c4d1a",
        );
        assert_eq!(tcp_shape(&sslv2), TcpShape::Sslv2Hello);
        // An SSLv2 hello cut short or followed by more is not one whole record.
        assert_eq!(tcp_shape(&sslv2[..71]), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("160301000402000000")), TcpShape::Tls);
        assert_eq!(tcp_shape(&hex("16030100f042cdefe740")), TcpShape::Tls);
        // Text, mostly zeros, too short, ASCII only.
        assert_eq!(tcp_shape(b"JOIN :#c\r\n"), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("c4004b00")), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("c47f")), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("447f4b438e3e18ac")), TcpShape::Obfuscated);
        assert_eq!(tcp_shape(&hex("447f4b430e3e187c")), TcpShape::Other);
        // OpenFlow's hello (version 1, type 0, length 8): two zeros.
        assert_eq!(tcp_shape(&hex("0100000895e1a0b0")), TcpShape::Other);
        // A length field giving the segment's own length (or up to 6 more than it), big or
        // little endian, in the first 4 bytes: DNS over TCP, OpenFlow, MySQL and the like.
        assert_eq!(tcp_shape(&hex("8501000812ff9a77")), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("0006c4dd8e1a9b77")), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("c40800e1a9b0ffee")), TcpShape::Other);
        assert_eq!(tcp_shape(&hex("c40900e1a9b0ffee")), TcpShape::Obfuscated);
        // Ports.
        assert!(classic_tcp_port(40003) && classic_tcp_port(443) && classic_tcp_port(80));
        assert!(!classic_tcp_port(22) && !classic_tcp_port(445) && !classic_tcp_port(1023));
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            sport in any::<u16>(),
            dport in any::<u16>(),
        ) {
            let _ = udp(sport, dport, &data);
            let _ = ms_stun(&data);
            let _ = tcp_shape(&data);
        }

        #[test]
        fn any_attributes_behind_a_stun_header_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut m = vec![0, 1];
            m.extend_from_slice(&((body.len() / 4 * 4) as u16).to_be_bytes());
            m.extend_from_slice(&MAGIC);
            m.extend_from_slice(&[0; 12]);
            m.extend_from_slice(&body);
            let _ = ms_stun(&m);
        }
    }
}
