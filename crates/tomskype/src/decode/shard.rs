//! Stage 2, decode: which of `n` shards a frame belongs to, by the address pair of its first IP
//! header, as a network card's symmetric receive-side scaling does (and Zeek's and Suricata's
//! clusters shard the same way). The analysis of one large file on several cores
//! (`analyze`) has one worker read the whole file, test every frame's shard and pass each
//! other worker the frames of its own; this test is what that worker pays for every frame,
//! so it reads only the link layer down to the first IP header, with checked slicing and no
//! allocation, and Ethernet II carrying IPv4 straight.
//!
//! Both directions of a flow give the same shard (the pair is ordered before hashing), and so
//! do all fragments of one datagram (they share their addresses), the questions and answers
//! of one DNS client and server, and everything inside one tunnel (the outer pair decides).
//! A frame in which no IP header is found cheaply (ARP, a link type [`super::link`] does not
//! read, an 802.11 A-MSDU, a header cut short) goes to shard 0, so that it is counted once.
//!
//! The link layers are [`super::link::network_layer`]'s; Ethernet and cooked EtherTypes are
//! followed through up to [`MAX_TAGS`] 802.1Q/802.1ad tags, a PPPoE session header and an MPLS
//! label stack ([`super::tunnel`]'s readers), one level deep.

use super::link::{self, Network};
use super::tunnel::{self, Inner};

/// The most VLAN tags stepped over before the EtherType that says what follows.
pub const MAX_TAGS: usize = 3;

/// The shard, in `0..n`, of a frame of `link_type` (0 when `n` is 0 or 1).
#[inline]
pub fn shard_of(link_type: u32, data: &[u8], n: u32) -> u32 {
    if n <= 1 {
        return 0;
    }
    // The common case, read straight: Ethernet II carrying IPv4. The same answer as
    // `shard_of_any`'s (a proptest checks it), in half the instructions: the shard of every
    // packet of a split file is found this way by the shard that reads it (103 M to 61 M
    // instructions of `--threads 2` on bench/RESULTS.md's 400 MB capture).
    if link_type == crate::capture::linktype::ETHERNET && data.get(12..14) == Some(&[0x08, 0x00]) {
        return data.get(14..).map_or(0, |ip| pick(pair_hash(ip), n));
    }
    shard_of_any(link_type, data, n)
}

/// [`shard_of`] for any link type, `n` above 1.
fn shard_of_any(link_type: u32, data: &[u8], n: u32) -> u32 {
    let ip = match link::network_layer(link_type, data) {
        Ok(Network::Ethernet(frame)) => ethernet(frame),
        Ok(Network::EtherType(t, rest)) => after_ether_type(t.0, rest, 1),
        Ok(Network::Ip(ip)) => Some(ip),
        Ok(Network::Amsdu(_)) | Err(_) => None,
    };
    ip.map_or(0, |ip| pick(pair_hash(ip), n))
}

/// The IP header of an Ethernet II frame, if the EtherType (after the tags) announces one.
#[inline(always)]
fn ethernet(frame: &[u8]) -> Option<&[u8]> {
    let t = frame.get(12..14)?;
    after_ether_type(u16::from_be_bytes([t[0], t[1]]), frame.get(14..)?, 1)
}

/// The IP header that follows an EtherType `t` and the bytes `rest` after it: through VLAN
/// tags, and `depth` more levels of PPPoE or MPLS.
fn after_ether_type(mut t: u16, mut rest: &[u8], depth: u8) -> Option<&[u8]> {
    for _ in 0..=MAX_TAGS {
        match t {
            0x0800 | 0x86dd => return Some(rest),
            // 802.1Q, 802.1ad and the older QinQ EtherType: a 2-byte tag, then an EtherType.
            0x8100 | 0x88a8 | 0x9100 => {
                let tag = rest.get(..4)?;
                t = u16::from_be_bytes([tag[2], tag[3]]);
                rest = rest.get(4..)?;
            }
            tunnel::ether_type::PPPOE_SESSION => return tunnel::pppoe(rest),
            tunnel::ether_type::MPLS | tunnel::ether_type::MPLS_MULTICAST => {
                return match tunnel::mpls(rest)? {
                    Inner::Ip(ip) => Some(ip),
                    Inner::Ethernet(frame) if depth > 0 => {
                        let t = frame.get(12..14)?;
                        let t = u16::from_be_bytes([t[0], t[1]]);
                        after_ether_type(t, frame.get(14..)?, depth - 1)
                    }
                    _ => None,
                };
            }
            _ => return None,
        }
    }
    None
}

/// A hash of the IP header's source and destination addresses that does not depend on their
/// order; 0 when the header is too short or not IPv4 or IPv6 (then the frame goes to shard 0,
/// as its decoder will skip it too).
#[inline(always)]
fn pair_hash(ip: &[u8]) -> u64 {
    match ip.first().map(|b| b >> 4) {
        Some(4) => match ip.get(12..20) {
            Some(a) => {
                let src = u32::from_be_bytes([a[0], a[1], a[2], a[3]]);
                let dst = u32::from_be_bytes([a[4], a[5], a[6], a[7]]);
                let (lo, hi) = (src.min(dst), src.max(dst));
                mix((u64::from(lo) << 32) | u64::from(hi))
            }
            None => 0,
        },
        Some(6) => match ip.get(8..40) {
            Some(a) => {
                let word = |at: usize| {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(&a[at..at + 16]);
                    u128::from_be_bytes(b)
                };
                let (src, dst) = (word(0), word(16));
                let (lo, hi) = (src.min(dst), src.max(dst));
                let fold = |x: u128| (x as u64) ^ ((x >> 64) as u64).rotate_left(29);
                mix(fold(lo) ^ mix(fold(hi)))
            }
            None => 0,
        },
        _ => 0,
    }
}

/// A 64-bit finaliser (MurmurHash3's fmix64): every input bit moves every output bit.
#[inline(always)]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// `hash` onto `0..n` by its high bits (a multiply, no division).
#[inline(always)]
fn pick(hash: u64, n: u32) -> u32 {
    // The product is below n * 2^64, so the shifted value is below n.
    ((u128::from(hash) * u128::from(n)) >> 64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::linktype;
    use etherparse::PacketBuilder;

    fn ether_v4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(src, dst, 64)
            .udp(sport, dport)
            .write(&mut out, b"hello")
            .unwrap();
        out
    }

    fn v6(src: u8, dst: u8) -> Vec<u8> {
        let addr = |last: u8| {
            let mut a = [0u8; 16];
            a[0] = 0x20;
            a[1] = 0x01;
            a[15] = last;
            a
        };
        let mut out = Vec::new();
        PacketBuilder::ipv6(addr(src), addr(dst), 64)
            .tcp(40000, 443, 1, 1000)
            .write(&mut out, b"x")
            .unwrap();
        out
    }

    /// Shards of many address pairs, both ways: the same, and every shard used.
    #[test]
    fn both_directions_of_a_flow_agree_and_all_shards_are_used() {
        for n in [2u32, 3, 4, 7] {
            let mut used = vec![0u32; n as usize];
            for i in 0..200u8 {
                let a = [192, 168, 1, i];
                let b = [8, 8, i, 8];
                let there = shard_of(linktype::ETHERNET, &ether_v4(a, b, 40000, 53), n);
                let back = shard_of(linktype::ETHERNET, &ether_v4(b, a, 53, 40000), n);
                assert_eq!(there, back, "{a:?} {b:?}");
                // Ports do not matter: another flow between the same two addresses.
                let other = shard_of(linktype::ETHERNET, &ether_v4(a, b, 40001, 443), n);
                assert_eq!(there, other);
                used[there as usize] += 1;
                let six = shard_of(linktype::RAW, &v6(i, 200), n);
                assert_eq!(six, shard_of(linktype::RAW, &v6(200, i), n));
                assert_eq!(six, shard_of(linktype::IPV6, &v6(200, i), n));
            }
            assert!(used.iter().all(|&u| u > 200 / n / 2), "{n}: {used:?}");
        }
    }

    #[test]
    fn fragments_of_one_datagram_share_a_shard() {
        let whole = ether_v4([10, 0, 0, 1], [203, 0, 113, 9], 5000, 53);
        let mut first = whole.clone();
        // More fragments, offset 0; then a later fragment: offset 185 (x8 bytes), no header.
        first[20] = 0x20;
        let mut later = whole[..34].to_vec();
        later[20] = 0x00;
        later[21] = 185;
        later.extend_from_slice(b"rest of the datagram");
        for n in [2, 3, 5] {
            let s = shard_of(linktype::ETHERNET, &whole, n);
            assert_eq!(shard_of(linktype::ETHERNET, &first, n), s);
            assert_eq!(shard_of(linktype::ETHERNET, &later, n), s);
        }
    }

    #[test]
    fn tags_cooked_headers_and_tunnels_reach_the_ip_header() {
        let plain = ether_v4([10, 0, 0, 1], [198, 51, 100, 7], 40000, 80);
        let ip = &plain[14..];
        let with_tags = |tags: &[u16]| {
            let mut f = plain[..12].to_vec();
            for t in tags {
                f.extend_from_slice(&t.to_be_bytes());
                f.extend_from_slice(&[0, 5]);
            }
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend_from_slice(ip);
            f
        };
        for n in [2, 3, 16] {
            let want = shard_of(linktype::RAW, ip, n);
            assert_eq!(shard_of(linktype::ETHERNET, &plain, n), want);
            assert_eq!(shard_of(linktype::ETHERNET, &with_tags(&[0x8100]), n), want);
            let qinq = with_tags(&[0x88a8, 0x8100]);
            assert_eq!(shard_of(linktype::ETHERNET, &qinq, n), want);
            let mut sll = vec![0u8; 14];
            sll.extend_from_slice(&[0x08, 0x00]);
            sll.extend_from_slice(ip);
            assert_eq!(shard_of(linktype::LINUX_SLL, &sll, n), want);
            let mut null = 2u32.to_le_bytes().to_vec();
            null.extend_from_slice(ip);
            assert_eq!(shard_of(linktype::NULL, &null, n), want);
            // PPPoE session, and one MPLS label.
            let mut pppoe = plain[..12].to_vec();
            pppoe.extend_from_slice(&[0x88, 0x64, 0x11, 0, 0, 1]);
            pppoe.extend_from_slice(&(ip.len() as u16 + 2).to_be_bytes());
            pppoe.extend_from_slice(&[0x00, 0x21]);
            pppoe.extend_from_slice(ip);
            assert_eq!(shard_of(linktype::ETHERNET, &pppoe, n), want);
            let mut mpls = plain[..12].to_vec();
            mpls.extend_from_slice(&[0x88, 0x47, 0, 0x10, 0x01, 64]);
            mpls.extend_from_slice(ip);
            assert_eq!(shard_of(linktype::ETHERNET, &mpls, n), want);
        }
    }

    #[test]
    fn frames_without_an_ip_header_go_to_shard_0() {
        let mut arp = vec![0xff; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[7; 28]);
        let ip = ether_v4([10, 0, 0, 1], [10, 0, 0, 2], 1, 2);
        for n in [1, 2, 3, 8] {
            assert_eq!(shard_of(linktype::ETHERNET, &arp, n), 0);
            assert_eq!(shard_of(147, &ip, n), 0, "an unknown link type");
            assert_eq!(shard_of(linktype::ETHERNET, &ip[..20], n), 0, "cut short");
            assert_eq!(shard_of(linktype::RAW, &[0x50; 40], n), 0, "version 5");
            assert_eq!(shard_of(linktype::ETHERNET, &[], n), 0);
        }
        assert_eq!(shard_of(linktype::ETHERNET, &ip, 0), 0);
        assert_eq!(shard_of(linktype::ETHERNET, &ip, 1), 0);
    }

    const LINK_TYPES: [u32; 12] = [0, 1, 9, 12, 101, 105, 108, 113, 127, 239, 276, 9999];

    proptest::proptest! {
        #[test]
        fn any_bytes_give_a_shard_in_range(
            link in proptest::sample::select(LINK_TYPES.to_vec()),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
            n in 1u32..9,
        ) {
            proptest::prop_assert!(shard_of(link, &data, n) < n);
        }

        #[test]
        fn ethernet_and_ipv4_read_straight_give_the_general_answer(
            mut data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            ipv4 in proptest::prelude::any::<bool>(),
            n in 2u32..9,
        ) {
            // Mostly IPv4 EtherTypes (the straight path), some others (VLAN tags, IPv6...).
            if ipv4 && data.len() >= 14 {
                data[12..14].copy_from_slice(&[0x08, 0x00]);
            }
            proptest::prop_assert_eq!(
                shard_of(linktype::ETHERNET, &data, n),
                shard_of_any(linktype::ETHERNET, &data, n)
            );
        }
    }
}
