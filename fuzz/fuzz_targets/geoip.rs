//! Fuzz target: `GeoIp::from_file_bytes` on arbitrary bytes (a GeoIP database file given by
//! the user), then lookups.
//!
//! Never panics; a database refused names itself in the error; one accepted answers every
//! lookup (an address from the input's last bytes, and fixed ones of both families) with a
//! country or none, never a panic, and the same answer twice (the second from its memo).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use tomskype::knowledge::geoip::GeoIp;

fuzz_target!(|data: &[u8]| {
    let geoip = match GeoIp::from_file_bytes(data.to_vec(), "fuzz.mmdb") {
        Ok(g) => g,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.mmdb"), "the error names the file: {msg}");
            return;
        }
    };
    let info = geoip.info();
    assert_eq!(info.source, "fuzz.mmdb");
    let tail = |n: usize| {
        let mut b = [0u8; 16];
        let take = data.len().min(n);
        b[..take].copy_from_slice(&data[data.len() - take..]);
        b
    };
    let [a, b, c, d, ..] = tail(4);
    let addrs = [
        IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        IpAddr::V6(Ipv6Addr::from(tail(16))),
        IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
        IpAddr::V4(Ipv4Addr::new(61, 135, 169, 121)),
        IpAddr::V4(Ipv4Addr::new(255, 255, 255, 254)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0x0db9, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2400, 0xda00, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv4Addr::new(81, 2, 69, 142).to_ipv6_mapped()),
    ];
    for ip in addrs {
        let first = geoip.country(ip);
        assert_eq!(geoip.country(ip), first, "{ip}: the same answer twice");
    }
});
