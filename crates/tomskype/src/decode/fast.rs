//! Stage 2, decode: the fast path for the common case, untagged Ethernet (or raw IP) carrying
//! a whole, unfragmented IPv4 datagram without options or an IPv6 packet without extension
//! headers, with a complete TCP or UDP header. Nearly every packet of real traffic is such a
//! packet, and reading the few fixed fields by hand costs a fraction of etherparse's general
//! slicing.
//!
//! The fast path answers only when it is sure to give the same [`Decoded`] as the general path
//! would: anything else (VLAN tags, IP options, fragments, a datagram cut by the snaplen, a
//! length field that disagrees with the bytes, other protocols) gives `None`, and the caller
//! takes the general path. Differential tests below compare both paths on generated and real
//! frames.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{proto, Decoded};

const ETHER_HEADER: usize = 14;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const ETHERTYPE_IPV6: [u8; 2] = [0x86, 0xdd];

/// Decodes an Ethernet II frame, or says `None` when it is not the simple case.
#[inline]
pub fn ethernet(frame: &[u8]) -> Option<Decoded<'_>> {
    let ether_type = frame.get(12..ETHER_HEADER)?;
    let ip = frame.get(ETHER_HEADER..)?;
    if ether_type == ETHERTYPE_IPV4 {
        ipv4(ip)
    } else if ether_type == ETHERTYPE_IPV6 {
        ipv6(ip)
    } else {
        None
    }
}

/// Decodes a raw IP packet (v4 or v6 by its version nibble), or says `None`.
#[inline]
pub fn ip(packet: &[u8]) -> Option<Decoded<'_>> {
    match packet.first()? >> 4 {
        4 => ipv4(packet),
        6 => ipv6(packet),
        _ => None,
    }
}

/// An IPv4 header of exactly 20 bytes, the whole datagram present, not a fragment.
#[inline]
fn ipv4(packet: &[u8]) -> Option<Decoded<'_>> {
    let h: &[u8; 20] = packet.get(..20)?.try_into().ok()?;
    // Version 4, header length 5 words (no options).
    if h[0] != 0x45 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    // Reserved bit, MF and the fragment offset must all be zero (DF may be set).
    if h[6] & 0xbf != 0 || h[7] != 0 || total < 20 {
        return None;
    }
    let payload = packet.get(20..total)?;
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    transport(IpAddr::V4(src), IpAddr::V4(dst), h[9], payload)
}

/// An IPv6 header followed directly by TCP or UDP, the whole packet present.
#[inline]
fn ipv6(packet: &[u8]) -> Option<Decoded<'_>> {
    let h: &[u8; 40] = packet.get(..40)?.try_into().ok()?;
    if h[0] >> 4 != 6 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    // A zero payload length means a jumbogram (or a cut packet): not the simple case.
    if len == 0 {
        return None;
    }
    let payload = packet.get(40..40 + len)?;
    let src: [u8; 16] = h[8..24].try_into().ok()?;
    let dst: [u8; 16] = h[24..40].try_into().ok()?;
    transport(
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
        h[6],
        payload,
    )
}

/// A complete TCP header (with its options) or UDP header at the start of `payload`.
#[inline(always)]
fn transport<'a>(src: IpAddr, dst: IpAddr, proto: u8, payload: &'a [u8]) -> Option<Decoded<'a>> {
    match proto {
        proto::TCP => {
            let t: &[u8; 20] = payload.get(..20)?.try_into().ok()?;
            let header = usize::from(t[12] >> 4) * 4;
            if header < 20 {
                return None;
            }
            Some(Decoded {
                src,
                dst,
                proto,
                sport: u16::from_be_bytes([t[0], t[1]]),
                dport: u16::from_be_bytes([t[2], t[3]]),
                tcp_flags: t[13],
                seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                payload: payload.get(header..)?,
            })
        }
        proto::UDP => {
            let u: &[u8; 8] = payload.get(..8)?.try_into().ok()?;
            // A tunnel's port (VXLAN, Geneve, GTP-U): the general path opens it.
            let dport = u16::from_be_bytes([u[2], u[3]]);
            if super::tunnel::UDP_PORTS.contains(&dport) {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([u[4], u[5]]));
            // As etherparse's lax slicing: the length field bounds the payload when it fits
            // the bytes present and covers the header; otherwise the bytes present do.
            let end = if (8..=payload.len()).contains(&len) {
                len
            } else {
                payload.len()
            };
            Some(Decoded {
                src,
                dst,
                proto,
                sport: u16::from_be_bytes([u[0], u[1]]),
                dport,
                tcp_flags: 0,
                seq: 0,
                payload: payload.get(8..end)?,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, decode_general};
    use crate::capture::{self, linktype, Packet};
    use proptest::prelude::*;

    /// The fast path, where it answers, must agree with the general path; the public `decode`
    /// must agree with the general path everywhere.
    fn agree(link_type: u32, data: &[u8]) -> Result<(), TestCaseError> {
        let general = decode_general(link_type, data);
        let fast = match link_type {
            linktype::ETHERNET => super::ethernet(data),
            _ => super::ip(data),
        };
        if let Some(fast) = fast {
            prop_assert_eq!(Ok(fast), general);
        }
        prop_assert_eq!(decode(link_type, data), general);
        Ok(())
    }

    /// An Ethernet/IP/TCP-or-UDP frame whose every field may be odd: a generator that mostly
    /// lands near the fast path's edges.
    #[allow(clippy::too_many_arguments)]
    fn frame(
        v6: bool,
        first: u8,
        len_delta: i32,
        frag: [u8; 2],
        proto: u8,
        doff: u8,
        udp_len_delta: i32,
        payload: &[u8],
        cut: usize,
    ) -> Vec<u8> {
        let mut out = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        out.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
        let mut l4 = Vec::new();
        if proto == 6 {
            l4.extend_from_slice(&[0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0]);
            l4.push(doff << 4);
            l4.extend_from_slice(&[0x12, 0xff, 0xff, 0, 0, 0, 0]);
            l4.extend((20..usize::from(doff) * 4).map(|_| 1u8));
        } else {
            let len = (8 + payload.len() as i32 + udp_len_delta).clamp(0, 65535) as u16;
            l4.extend_from_slice(&[0x14, 0xe9, 0x00, 0x35]);
            l4.extend_from_slice(&len.to_be_bytes());
            l4.extend_from_slice(&[0, 0]);
        }
        l4.extend_from_slice(payload);
        if v6 {
            let len = (l4.len() as i32 + len_delta).clamp(0, 65535) as u16;
            out.push(first);
            out.extend_from_slice(&[0, 0, 0]);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&[proto, 64]);
            out.extend((0..32).map(|i| i as u8));
        } else {
            let ihl = usize::from(first & 0x0f) * 4;
            let len = ((ihl.max(20) + l4.len()) as i32 + len_delta).clamp(0, 65535) as u16;
            out.push(first);
            out.push(0);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&[0, 1, frag[0], frag[1], 64, proto, 0, 0]);
            out.extend_from_slice(&[192, 168, 1, 2, 211, 100, 41, 6]);
            out.extend((20..ihl).map(|_| 1u8));
        }
        out.extend_from_slice(&l4);
        // Ethernet padding.
        out.extend_from_slice(&[0; 6]);
        out.truncate(out.len().saturating_sub(cut));
        out
    }

    proptest! {
        #[test]
        fn fast_path_agrees_on_generated_frames(
            v6 in any::<bool>(),
            first in prop_oneof![Just(0x45u8), Just(0x46), Just(0x60), Just(0x44), any::<u8>()],
            len_delta in prop_oneof![Just(0i32), -30i32..30],
            frag in prop_oneof![Just([0u8, 0]), Just([0x40, 0]), Just([0x20, 0]), Just([0, 8]), any::<[u8; 2]>()],
            proto in prop_oneof![Just(6u8), Just(17), Just(1), any::<u8>()],
            doff in prop_oneof![Just(5u8), 0u8..16],
            udp_len_delta in prop_oneof![Just(0i32), -12i32..12],
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            cut in prop_oneof![Just(0usize), 0usize..90],
        ) {
            let f = frame(v6, first, len_delta, frag, proto, doff, udp_len_delta, &payload, cut);
            agree(linktype::ETHERNET, &f)?;
            agree(linktype::RAW, f.get(14..).unwrap_or_default())?;
        }

        #[test]
        fn fast_path_agrees_on_arbitrary_bytes(
            ether_type in prop_oneof![Just([0x08u8, 0x00]), Just([0x86, 0xdd]), any::<[u8; 2]>()],
            rest in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&ether_type);
            f.extend_from_slice(&rest);
            agree(linktype::ETHERNET, &f)?;
            agree(linktype::RAW, &rest)?;
        }
    }

    fn agree_on_capture(bytes: &[u8]) -> (u64, u64) {
        let mut seen = 0u64;
        let mut fast = 0u64;
        capture::read_bytes(bytes, &mut |p: &Packet<'_>| {
            seen += 1;
            let general = decode_general(p.link_type, p.data);
            let quick = match p.link_type {
                linktype::ETHERNET => super::ethernet(p.data),
                linktype::RAW => super::ip(p.data),
                _ => None,
            };
            if let Some(d) = quick {
                fast += 1;
                assert_eq!(Ok(d), general, "packet {} at offset {}", p.number, p.offset);
            }
            assert_eq!(decode(p.link_type, p.data), general, "packet {}", p.number);
        });
        (seen, fast)
    }

    #[test]
    fn fast_path_agrees_on_the_repository_captures() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../captures");
        let (mut seen, mut fast) = (0, 0);
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.to_string_lossy().contains(".pcap") {
                let (s, f) = agree_on_capture(&std::fs::read(&path).unwrap());
                seen += s;
                fast += f;
            }
        }
        assert!(seen > 1000, "only {seen} packets in captures/");
        // Most real packets take the fast path, or it is not worth having.
        assert!(
            fast * 2 > seen,
            "{fast} of {seen} packets took the fast path"
        );
    }

    #[test]
    fn fast_path_agrees_on_the_corpora() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora");
        if !std::path::Path::new(root).is_dir() {
            assert!(
                std::env::var("TOMSKYPE_REQUIRE_CORPORA").as_deref() != Ok("1"),
                "corpora required but absent at {root}"
            );
            eprintln!("skipping: no corpora at {root}");
            return;
        }
        let mut files = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.to_string_lossy().contains("pcap") {
                    files.push(path);
                }
            }
        }
        let (mut seen, mut fast) = (0, 0);
        for path in files {
            let (s, f) = agree_on_capture(&std::fs::read(&path).unwrap());
            seen += s;
            fast += f;
        }
        assert!(
            fast * 2 > seen,
            "{fast} of {seen} packets took the fast path"
        );
    }
}
