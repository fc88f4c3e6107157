//! Address facts shared by every stage: special-purpose ranges and which side of the network an
//! address is on.
//!
//! [`special_range`] classifies an address against the IANA IPv4 and IPv6 Special-Purpose Address
//! Registries (RFC 6890 and its successors: RFC 6598 CGNAT, RFC 7723 and 8155 anycast, RFC 9637
//! IPv6 documentation, RFC 9602 SRv6). [`is_never_endpoint`] says which addresses can never be a
//! host (so never evidence), [`is_local_by_default`] which are "this side of the network" when
//! the user named no local networks, and [`LocalNets`] applies the user's `--local-net` list.
//! Everything is a few integer comparisons: no allocation, no table walk.
//!
//! Left out on purpose, because the addresses are globally routed and belong to real hosts:
//! Teredo (`2001::/32`), 6to4 (`2002::/16` and the deprecated relay `192.88.99.0/24`), the NAT64
//! well-known prefix (`64:ff9b::/96`), AS112, AMT and the anycast service addresses inside
//! `192.0.0.0/24` and `2001::/23` (the rest of `192.0.0.0/24` is [`SpecialRange::Reserved`]).
//! An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is judged as its IPv4 address. A subnet's
//! directed broadcast address cannot be known without the netmask and is not detected.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;

/// A special-purpose address range an address falls in (reports name it, `report::schema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecialRange {
    /// `0.0.0.0/32`, `::/128`: no address at all.
    Unspecified,
    /// `127.0.0.0/8`, `::1/128`.
    Loopback,
    /// RFC 1918: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// Carrier-grade NAT shared space, RFC 6598: `100.64.0.0/10`.
    Cgnat,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// Benchmarking, RFC 2544 and 5180: `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// Limited broadcast `255.255.255.255`.
    Broadcast,
    /// Not usable as a global host address: `0.0.0.0/8` (but `0.0.0.0`), `192.0.0.0/24` (IETF
    /// protocol assignments), `240.0.0.0/4` (but the broadcast address); in IPv6 the deprecated
    /// IPv4-compatible `::/96`, the local-use NAT64 prefix `64:ff9b:1::/48`, and everything
    /// outside `2000::/3` that no other variant names (the IETF-reserved blocks, including the
    /// SRv6 SIDs `5f00::/16` and the deprecated site-local `fec0::/10`).
    Reserved,
    /// Unique local IPv6, RFC 4193: `fc00::/7`.
    UniqueLocal,
    /// Discard-only IPv6, RFC 6666: `100::/64`.
    Discard,
}

/// The special-purpose range `ip` falls in, or `None` for an ordinary global address.
/// An IPv4-mapped IPv6 address is judged by its IPv4 address.
pub fn special_range(ip: IpAddr) -> Option<SpecialRange> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

/// True if `(addr & mask) == net`, where `mask` keeps the top `len` bits.
#[inline]
fn in_v4(addr: u32, net: u32, len: u32) -> bool {
    // `len` is a constant 1..=32 at every call site, so the shift never overflows.
    (addr ^ net) >> (32 - len) == 0
}

#[inline]
fn in_v6(addr: u128, net: u128, len: u32) -> bool {
    // `len` is a constant 1..=128 at every call site, so the shift never overflows.
    (addr ^ net) >> (128 - len) == 0
}

fn special_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    let a = u32::from(ip);
    // Dispatch on the first octet so that common global addresses leave after one match.
    let range = match a >> 24 {
        0 if a == 0 => SpecialRange::Unspecified,
        0 => SpecialRange::Reserved,
        10 => SpecialRange::Private,
        100 if in_v4(a, 0x6440_0000, 10) => SpecialRange::Cgnat,
        127 => SpecialRange::Loopback,
        169 if in_v4(a, 0xa9fe_0000, 16) => SpecialRange::LinkLocal,
        172 if in_v4(a, 0xac10_0000, 12) => SpecialRange::Private,
        192 if in_v4(a, 0xc0a8_0000, 16) => SpecialRange::Private,
        192 if in_v4(a, 0xc000_0200, 24) => SpecialRange::Documentation,
        192 if in_v4(a, 0xc000_0000, 24) => SpecialRange::Reserved,
        198 if in_v4(a, 0xc612_0000, 15) => SpecialRange::Benchmarking,
        198 if in_v4(a, 0xc633_6400, 24) => SpecialRange::Documentation,
        203 if in_v4(a, 0xcb00_7100, 24) => SpecialRange::Documentation,
        224..=239 => SpecialRange::Multicast,
        255 if a == u32::MAX => SpecialRange::Broadcast,
        240..=255 => SpecialRange::Reserved,
        _ => return None,
    };
    Some(range)
}

fn special_v6(ip: Ipv6Addr) -> Option<SpecialRange> {
    let a = u128::from(ip);
    let range = if a == 0 {
        SpecialRange::Unspecified
    } else if a == 1 {
        SpecialRange::Loopback
    } else if in_v6(a, 0x2000 << 112, 3) {
        // Global unicast: only a few carve-outs.
        if in_v6(a, 0x2001_0db8 << 96, 32) || in_v6(a, 0x3fff << 112, 20) {
            SpecialRange::Documentation
        } else if in_v6(a, 0x2001_0002 << 96, 48) {
            SpecialRange::Benchmarking
        } else {
            return None;
        }
    } else if in_v6(a, 0xff << 120, 8) {
        SpecialRange::Multicast
    } else if in_v6(a, 0xfe80 << 112, 10) {
        SpecialRange::LinkLocal
    } else if in_v6(a, 0xfc << 120, 7) {
        SpecialRange::UniqueLocal
    } else if in_v6(a, 0x0100 << 112, 64) {
        SpecialRange::Discard
    } else if in_v6(a, 0x0064_ff9b << 96, 96) {
        // NAT64 well-known prefix: a real IPv4 host behind a translator.
        return None;
    } else {
        // ::/96 (IPv4-compatible, deprecated), 64:ff9b:1::/48 and the rest of the space
        // outside 2000::/3 that is reserved by the IETF.
        SpecialRange::Reserved
    };
    Some(range)
}

/// True for addresses that never name a single host: multicast, broadcast and unspecified.
/// Traffic to them is never evidence about a remote endpoint.
pub fn is_never_endpoint(ip: IpAddr) -> bool {
    never_endpoint_range(special_range(ip))
}

fn never_endpoint_range(range: Option<SpecialRange>) -> bool {
    matches!(
        range,
        Some(SpecialRange::Multicast | SpecialRange::Broadcast | SpecialRange::Unspecified)
    )
}

/// True for addresses that are "this side of the network" when the user named no local
/// networks: private, CGNAT, link-local, loopback, unique-local, documentation and
/// benchmarking ranges (the last two appear in lab and sample captures).
pub fn is_local_by_default(ip: IpAddr) -> bool {
    local_by_default_range(special_range(ip))
}

fn local_by_default_range(range: Option<SpecialRange>) -> bool {
    matches!(
        range,
        Some(
            SpecialRange::Private
                | SpecialRange::Cgnat
                | SpecialRange::LinkLocal
                | SpecialRange::Loopback
                | SpecialRange::UniqueLocal
                | SpecialRange::Documentation
                | SpecialRange::Benchmarking
        )
    )
}

/// Where an address stands, from [`LocalNets::place`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// It never names a single host ([`is_never_endpoint`]).
    Never,
    /// A host on the local side.
    Local,
    /// A host on the remote side.
    Remote,
}

/// The networks that count as local (the hosts being judged), from `--local-net CIDR`.
///
/// With no networks given, an address is local exactly when [`is_local_by_default`] says so.
/// With one or more networks given, ONLY those networks are local: a `192.168.0.0/16` address
/// outside them is then a remote end like any other. An IPv4-mapped IPv6 address is also
/// matched as its IPv4 address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalNets {
    nets: Vec<IpNetwork>,
}

impl LocalNets {
    /// Local networks from the user's list (possibly empty: then the defaults apply).
    pub fn new(nets: Vec<IpNetwork>) -> LocalNets {
        LocalNets { nets }
    }

    /// The networks the user gave, in the order given.
    pub fn nets(&self) -> &[IpNetwork] {
        &self.nets
    }

    /// True when no networks were given and [`is_local_by_default`] decides.
    pub fn uses_defaults(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is on the local side.
    pub fn is_local(&self, ip: IpAddr) -> bool {
        if self.nets.is_empty() {
            return is_local_by_default(ip);
        }
        self.in_nets(ip)
    }

    /// Whether `ip` may be a network's own address or its directed broadcast address, which
    /// name no single machine: the first or last address of a `--local-net` network (of
    /// prefix /30 or shorter); with the default ranges, where the netmask is unknown, an IPv4
    /// address ending in `.0` or `.255`. Asked only of addresses that never sent a packet (a
    /// machine that sends is a machine, whatever its address).
    pub fn maybe_network_or_broadcast(&self, ip: IpAddr) -> bool {
        if self.nets.is_empty() {
            return match ip {
                IpAddr::V4(v4) => matches!(v4.octets()[3], 0 | 255),
                IpAddr::V6(_) => false,
            };
        }
        self.nets.iter().any(|n| match (n, ip) {
            (IpNetwork::V4(n), IpAddr::V4(v4)) => {
                n.prefix() <= 30 && (v4 == n.network() || v4 == n.broadcast())
            }
            (IpNetwork::V6(n), IpAddr::V6(v6)) => n.prefix() <= 126 && v6 == n.network(),
            _ => false,
        })
    }

    /// [`is_never_endpoint`] and [`LocalNets::is_local`] at once, classifying the address only
    /// once (enrichment asks both of both ends of every flow).
    pub fn place(&self, ip: IpAddr) -> Place {
        let range = special_range(ip);
        if never_endpoint_range(range) {
            return Place::Never;
        }
        let local = if self.nets.is_empty() {
            local_by_default_range(range)
        } else {
            self.in_nets(ip)
        };
        if local {
            Place::Local
        } else {
            Place::Remote
        }
    }

    fn in_nets(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.nets
            .iter()
            .any(|net| net.contains(ip) || (canonical != ip && net.contains(canonical)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SpecialRange::*;

    fn range(s: &str) -> Option<SpecialRange> {
        let ip: IpAddr = match s.parse() {
            Ok(ip) => ip,
            Err(_) => panic!("bad test address {s}"),
        };
        special_range(ip)
    }

    /// Checks the first and last address of a CIDR and the addresses just outside it.
    fn check_edges(first: &str, last: &str, inside: SpecialRange) {
        assert_eq!(range(first), Some(inside), "{first}");
        assert_eq!(range(last), Some(inside), "{last}");
    }

    #[test]
    fn ipv4_ranges_and_edges() {
        check_edges("0.0.0.1", "0.255.255.255", Reserved);
        assert_eq!(range("0.0.0.0"), Some(Unspecified));
        check_edges("10.0.0.0", "10.255.255.255", Private);
        assert_eq!(range("9.255.255.255"), None);
        assert_eq!(range("11.0.0.0"), None);
        check_edges("100.64.0.0", "100.127.255.255", Cgnat);
        assert_eq!(range("100.63.255.255"), None);
        assert_eq!(range("100.128.0.0"), None);
        check_edges("127.0.0.0", "127.255.255.255", Loopback);
        assert_eq!(range("126.255.255.255"), None);
        assert_eq!(range("128.0.0.0"), None);
        check_edges("169.254.0.0", "169.254.255.255", LinkLocal);
        assert_eq!(range("169.253.255.255"), None);
        assert_eq!(range("169.255.0.0"), None);
        check_edges("172.16.0.0", "172.31.255.255", Private);
        assert_eq!(range("172.15.255.255"), None);
        assert_eq!(range("172.32.0.0"), None);
        check_edges("192.0.0.0", "192.0.0.255", Reserved);
        check_edges("192.0.2.0", "192.0.2.255", Documentation);
        assert_eq!(range("192.0.1.0"), None);
        assert_eq!(range("192.0.3.0"), None);
        assert_eq!(
            range("192.88.99.1"),
            None,
            "6to4 relay anycast is not special"
        );
        check_edges("192.168.0.0", "192.168.255.255", Private);
        assert_eq!(range("192.167.255.255"), None);
        assert_eq!(range("192.169.0.0"), None);
        check_edges("198.18.0.0", "198.19.255.255", Benchmarking);
        assert_eq!(range("198.17.255.255"), None);
        assert_eq!(range("198.20.0.0"), None);
        check_edges("198.51.100.0", "198.51.100.255", Documentation);
        assert_eq!(range("198.51.99.255"), None);
        assert_eq!(range("198.51.101.0"), None);
        check_edges("203.0.113.0", "203.0.113.255", Documentation);
        assert_eq!(range("203.0.112.255"), None);
        assert_eq!(range("203.0.114.0"), None);
        check_edges("224.0.0.0", "239.255.255.255", Multicast);
        assert_eq!(range("223.255.255.255"), None);
        check_edges("240.0.0.0", "255.255.255.254", Reserved);
        assert_eq!(range("255.255.255.255"), Some(Broadcast));
        assert_eq!(range("8.8.8.8"), None);
        assert_eq!(range("114.114.114.114"), None);
        assert_eq!(range("1.0.0.0"), None);
    }

    #[test]
    fn ipv6_ranges_and_edges() {
        assert_eq!(range("::"), Some(Unspecified));
        assert_eq!(range("::1"), Some(Loopback));
        check_edges("::2", "::ffff:ffff", Reserved);
        check_edges("100::", "100::ffff:ffff:ffff:ffff", Discard);
        assert_eq!(range("100:0:0:1::"), Some(Reserved));
        check_edges(
            "2001:db8::",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            Documentation,
        );
        assert_eq!(range("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), None);
        assert_eq!(range("2001:db9::"), None);
        check_edges(
            "3fff::",
            "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
            Documentation,
        );
        assert_eq!(range("3fff:1000::"), None);
        assert_eq!(range("3ffe:ffff::1"), None);
        check_edges(
            "2001:2::",
            "2001:2:0:ffff:ffff:ffff:ffff:ffff",
            Benchmarking,
        );
        assert_eq!(range("2001:2:1::"), None);
        assert_eq!(range("2001:1:ffff::"), None);
        check_edges(
            "fc00::",
            "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            UniqueLocal,
        );
        assert_eq!(
            range("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            Some(Reserved)
        );
        check_edges(
            "fe80::",
            "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            LinkLocal,
        );
        assert_eq!(range("fe7f:ffff::"), Some(Reserved));
        assert_eq!(range("fec0::1"), Some(Reserved), "deprecated site-local");
        check_edges(
            "ff00::",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            Multicast,
        );
        assert_eq!(range("ff02::1:ff00:1"), Some(Multicast));
        assert_eq!(range("5f00::1"), Some(Reserved), "SRv6 SIDs");
        assert_eq!(range("64:ff9b:1::1"), Some(Reserved), "local-use NAT64");
        assert_eq!(range("64:ff9b::808:808"), None, "NAT64 well-known prefix");
        assert_eq!(range("4000::1"), Some(Reserved));
        assert_eq!(
            range("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            Some(Reserved)
        );
        assert_eq!(
            range("::ffff:ffff"),
            Some(Reserved),
            "IPv4-compatible, deprecated"
        );
        // Global unicast, Teredo and 6to4 are ordinary addresses.
        assert_eq!(range("2000::"), None);
        assert_eq!(range("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), None);
        assert_eq!(range("2001:4860:4860::8888"), None);
        assert_eq!(range("2001::1"), None);
        assert_eq!(range("2002:c000:0204::1"), None);
    }

    #[test]
    fn ipv4_mapped_is_judged_as_ipv4() {
        assert_eq!(range("::ffff:192.168.1.1"), Some(Private));
        assert_eq!(range("::ffff:127.0.0.1"), Some(Loopback));
        assert_eq!(range("::ffff:255.255.255.255"), Some(Broadcast));
        assert_eq!(range("::ffff:0.0.0.0"), Some(Unspecified));
        assert_eq!(range("::ffff:8.8.8.8"), None);
        assert_eq!(range("::ffff:100.64.0.1"), Some(Cgnat));
    }

    fn ip(s: &str) -> IpAddr {
        match s.parse() {
            Ok(ip) => ip,
            Err(_) => panic!("bad test address {s}"),
        }
    }

    #[test]
    fn never_endpoint() {
        for s in [
            "224.0.0.251",
            "239.255.255.250",
            "255.255.255.255",
            "0.0.0.0",
            "::",
            "ff02::fb",
        ] {
            assert!(is_never_endpoint(ip(s)), "{s}");
        }
        for s in [
            "8.8.8.8",
            "192.168.1.1",
            "127.0.0.1",
            "240.0.0.1",
            "fe80::1",
            "2001:db8::1",
        ] {
            assert!(!is_never_endpoint(ip(s)), "{s}");
        }
        assert!(is_never_endpoint(ip("::ffff:224.0.0.1")));
    }

    #[test]
    fn local_by_default() {
        let local = [
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "100.100.0.1",
            "169.254.1.1",
            "127.0.0.1",
            "192.0.2.7",
            "198.18.0.1",
            "::1",
            "fe80::1",
            "fd12:3456::1",
            "2001:db8::1",
            "2001:2::1",
            "::ffff:10.0.0.1",
        ];
        for s in local {
            assert!(is_local_by_default(ip(s)), "{s}");
        }
        let remote = [
            "8.8.8.8",
            "114.114.114.114",
            "224.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "240.0.0.1",
            "2001:4860:4860::8888",
            "ff02::1",
            "100::1",
        ];
        for s in remote {
            assert!(!is_local_by_default(ip(s)), "{s}");
        }
    }

    fn net(s: &str) -> IpNetwork {
        match s.parse() {
            Ok(n) => n,
            Err(_) => panic!("bad test network {s}"),
        }
    }

    #[test]
    fn local_nets_empty_uses_defaults() {
        let nets = LocalNets::default();
        assert!(nets.uses_defaults());
        assert!(nets.is_local(ip("192.168.1.1")));
        assert!(nets.is_local(ip("fd00::1")));
        assert!(!nets.is_local(ip("8.8.8.8")));
    }

    #[test]
    fn local_nets_given_are_the_only_local_ones() {
        let nets = LocalNets::new(vec![net("10.8.0.0/16"), net("2001:db8:1::/48")]);
        assert!(!nets.uses_defaults());
        assert_eq!(nets.nets().len(), 2);
        assert!(nets.is_local(ip("10.8.0.0")));
        assert!(nets.is_local(ip("10.8.255.255")));
        assert!(!nets.is_local(ip("10.9.0.0")));
        assert!(!nets.is_local(ip("10.7.255.255")));
        assert!(
            !nets.is_local(ip("192.168.1.1")),
            "defaults no longer apply"
        );
        assert!(
            nets.is_local(ip("::ffff:10.8.1.1")),
            "mapped matched as IPv4"
        );
        assert!(nets.is_local(ip("2001:db8:1:ffff::1")));
        assert!(!nets.is_local(ip("2001:db8:2::1")));
        // A public network can be declared local too.
        let public = LocalNets::new(vec![net("203.0.0.0/8")]);
        assert!(public.is_local(ip("203.1.2.3")));
    }

    proptest::proptest! {
        #[test]
        fn place_agrees_with_never_endpoint_and_is_local(first: u8, rest: u32, bits6: u128, top6: u16) {
            // Every first octet is as likely as any other, so the special ranges are hit.
            let v4 = IpAddr::V4(Ipv4Addr::from(u32::from(first) << 24 | rest >> 8));
            let v6 = IpAddr::V6(Ipv6Addr::from(u128::from(top6) << 112 | bits6 >> 16));
            let mapped = IpAddr::V6(Ipv4Addr::from(rest).to_ipv6_mapped());
            let given = LocalNets::new(vec![net("10.8.0.0/16"), net("fd00::/8"), net("224.0.0.0/8")]);
            for nets in [LocalNets::default(), given] {
                for ip in [v4, v6, mapped] {
                    let expected = if is_never_endpoint(ip) {
                        Place::Never
                    } else if nets.is_local(ip) {
                        Place::Local
                    } else {
                        Place::Remote
                    };
                    proptest::prop_assert_eq!(nets.place(ip), expected, "{}", ip);
                }
            }
        }

        #[test]
        fn mapped_agrees_with_ipv4(bits: u32) {
            let v4 = Ipv4Addr::from(bits);
            let mapped = IpAddr::V6(v4.to_ipv6_mapped());
            proptest::prop_assert_eq!(special_range(IpAddr::V4(v4)), special_range(mapped));
            proptest::prop_assert_eq!(is_local_by_default(IpAddr::V4(v4)), is_local_by_default(mapped));
        }

        #[test]
        fn agrees_with_std_where_std_is_stable(bits: u32, bits6: u128) {
            let v4 = Ipv4Addr::from(bits);
            let r = special_v4(v4);
            proptest::prop_assert_eq!(v4.is_private(), r == Some(Private));
            proptest::prop_assert_eq!(v4.is_loopback(), r == Some(Loopback));
            proptest::prop_assert_eq!(v4.is_link_local(), r == Some(LinkLocal));
            proptest::prop_assert_eq!(v4.is_multicast(), r == Some(Multicast));
            proptest::prop_assert_eq!(v4.is_documentation(), r == Some(Documentation));
            let v6 = Ipv6Addr::from(bits6);
            let r6 = special_v6(v6);
            proptest::prop_assert_eq!(v6.is_multicast(), r6 == Some(Multicast));
            proptest::prop_assert_eq!(v6.is_unique_local(), r6 == Some(UniqueLocal));
            proptest::prop_assert_eq!(v6.is_unicast_link_local(), r6 == Some(LinkLocal));
        }
    }
}
