//! Stage 3, flows: the direction-free flow key. Both directions of a conversation map to the
//! same [`FlowKey`]; [`Dir`] says which way a packet went.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Which of the key's two ends sent a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dir {
    /// From end `a` to end `b`.
    AToB = 0,
    /// From end `b` to end `a`.
    BToA = 1,
}

impl Dir {
    /// The other direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::AToB => Dir::BToA,
            Dir::BToA => Dir::AToB,
        }
    }
}

/// A protocol's port, shown `tcp/443`-style (`ip<N>/<port>` for protocols other than TCP, UDP,
/// ICMP and ICMPv6); reports write it as that string. Written by hand, with no allocation:
/// reports hold one per port of every endpoint they list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortName {
    /// IP protocol number.
    pub proto: u8,
    /// The port.
    pub port: u16,
}

impl PortName {
    /// Writes the name into `out` and returns it (the allocation-free form of its `Display`).
    pub fn write(self, out: &mut [u8; 16]) -> &str {
        let name: &[u8] = match self.proto {
            6 => b"tcp",
            17 => b"udp",
            1 => b"icmp",
            58 => b"icmpv6",
            _ => b"ip",
        };
        out[..name.len()].copy_from_slice(name);
        let mut len = name.len();
        if !matches!(self.proto, 6 | 17 | 1 | 58) {
            len += put_decimal(&mut out[len..], u32::from(self.proto));
        }
        out[len] = b'/';
        len += 1;
        len += put_decimal(&mut out[len..], u32::from(self.port));
        // ASCII only, so never the empty fallback.
        std::str::from_utf8(&out[..len]).unwrap_or_default()
    }
}

impl std::fmt::Display for PortName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.write(&mut [0u8; 16]))
    }
}

/// Writes `n` in decimal at the start of `out` (at least 5 bytes long; `n` below 100000),
/// returning the number of digits.
fn put_decimal(out: &mut [u8], n: u32) -> usize {
    let digits = match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    };
    crate::timefmt::put_digits(&mut out[..digits], n);
    digits
}

/// A flow: protocol plus two (address, port) ends, ordered so that `(a, a_port) <= (b, b_port)`.
/// The same for both directions of a conversation, and `Copy`. Hashed as five machine words
/// (the flow table looks one up per packet; the derived hash fed the addresses byte by byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    /// IP protocol number.
    pub proto: u8,
    /// The lower end's address.
    pub a: IpAddr,
    /// The lower end's port.
    pub a_port: u16,
    /// The higher end's address.
    pub b: IpAddr,
    /// The higher end's port.
    pub b_port: u16,
}

/// An address as two words: IPv4 in the first (with a family marker), IPv6 split in halves.
#[inline(always)]
fn words(ip: IpAddr) -> (u64, u64) {
    match ip {
        IpAddr::V4(v4) => (u64::from(u32::from(v4)) | 1 << 32, 0),
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            (x as u64, (x >> 64) as u64)
        }
    }
}

impl Hash for FlowKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal keys have equal words, so this agrees with the derived `Eq`.
        let (a0, a1) = words(self.a);
        let (b0, b1) = words(self.b);
        state.write_u64(a0);
        state.write_u64(b0);
        if a1 | b1 != 0 {
            state.write_u64(a1);
            state.write_u64(b1);
        }
        state.write_u64(
            u64::from(self.a_port) | u64::from(self.b_port) << 16 | u64::from(self.proto) << 32,
        );
    }
}

impl FlowKey {
    /// The key of a packet from `(src, sport)` to `(dst, dport)`, and the packet's direction.
    #[inline]
    pub fn new(proto: u8, src: IpAddr, sport: u16, dst: IpAddr, dport: u16) -> (FlowKey, Dir) {
        if (src, sport) <= (dst, dport) {
            let key = FlowKey {
                proto,
                a: src,
                a_port: sport,
                b: dst,
                b_port: dport,
            };
            (key, Dir::AToB)
        } else {
            let key = FlowKey {
                proto,
                a: dst,
                a_port: dport,
                b: src,
                b_port: sport,
            };
            (key, Dir::BToA)
        }
    }

    /// The (address, port) of the end that sends in direction `dir`.
    pub fn sender(&self, dir: Dir) -> (IpAddr, u16) {
        match dir {
            Dir::AToB => (self.a, self.a_port),
            Dir::BToA => (self.b, self.b_port),
        }
    }

    /// The (address, port) of the end that receives in direction `dir`.
    pub fn receiver(&self, dir: Dir) -> (IpAddr, u16) {
        self.sender(dir.reverse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names_agree_with_format_and_serialise_as_strings() {
        let name = |p: u8| match p {
            6 => "tcp".to_string(),
            17 => "udp".to_string(),
            1 => "icmp".to_string(),
            58 => "icmpv6".to_string(),
            other => format!("ip{other}"),
        };
        for proto in 0..=u8::MAX {
            for port in [0, 1, 9, 10, 99, 100, 443, 999, 1000, 9999, 10000, 65535] {
                assert_eq!(
                    PortName { proto, port }.to_string(),
                    format!("{}/{port}", name(proto))
                );
            }
        }
        for port in 0..=u16::MAX {
            let name = PortName { proto: 6, port };
            assert_eq!(name.to_string(), format!("tcp/{port}"));
            assert_eq!(name.write(&mut [0u8; 16]), format!("tcp/{port}"));
        }
    }
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn both_directions_share_a_key() {
        let (k1, d1) = FlowKey::new(6, ip("192.168.1.2"), 50000, ip("211.100.41.6"), 80);
        let (k2, d2) = FlowKey::new(6, ip("211.100.41.6"), 80, ip("192.168.1.2"), 50000);
        assert_eq!(k1, k2);
        assert_ne!(d1, d2);
        assert_eq!(k1.sender(d1), (ip("192.168.1.2"), 50000));
        assert_eq!(k1.receiver(d1), (ip("211.100.41.6"), 80));
    }

    fn arb_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        #[test]
        fn key_is_symmetric(p in any::<u8>(), s in arb_ip(), sp in any::<u16>(), d in arb_ip(), dp in any::<u16>()) {
            let (k1, d1) = FlowKey::new(p, s, sp, d, dp);
            let (k2, d2) = FlowKey::new(p, d, dp, s, sp);
            prop_assert_eq!(k1, k2);
            prop_assert_eq!(k1.sender(d1), (s, sp));
            prop_assert_eq!(k2.sender(d2), (d, dp));
            if (s, sp) != (d, dp) {
                prop_assert_ne!(d1, d2);
            }
        }
    }
}
