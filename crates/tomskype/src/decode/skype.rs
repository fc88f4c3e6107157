//! Stage 2, decode: Skype's own protocols, recognised from a packet's first bytes, as nDPI
//! does (facts of the wire format taken from nDPI's public `skype.c` and `stun.c`, and from
//! Microsoft's published MS-TURN/MS-ICE2 attribute lists).
//!
//! Two kinds, each a few byte compares on one UDP payload:
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
//!
//! Left out: Skype's classic TCP framing. nDPI's only rule for it (the third payload packet
//! after the handshake is 3 or 8 bytes long) needs per-flow packet order, and nDPI itself
//! disabled it in 2020 as "too weak and leads to false positives".

use serde::Serialize;

/// Which Skype protocol a flow showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkypeProtocol {
    /// Skype's classic (1.x-7.x, peer-to-peer era) UDP framing.
    ClassicUdp,
    /// Microsoft's STUN attributes, as Skype and Teams calls send them.
    MsStun,
}

impl SkypeProtocol {
    /// Stable name used in reports.
    pub fn name(self) -> &'static str {
        match self {
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

    proptest! {
        #[test]
        fn any_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            sport in any::<u16>(),
            dport in any::<u16>(),
        ) {
            let _ = udp(sport, dport, &data);
            let _ = ms_stun(&data);
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
