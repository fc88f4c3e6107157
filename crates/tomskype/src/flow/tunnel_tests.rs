//! Tests of the [`super::Tracker`] on crafted packets: every tunnel kind carrying an HTTP
//! request to a TOM name shows the inner host and the request, the tunnel's endpoints are no
//! flow's end, each kind is counted, and nesting stops at its bound.

use std::net::{IpAddr, Ipv4Addr};

use etherparse::PacketBuilder;

use crate::capture::linktype;
use crate::decode::TunnelKind;
use crate::samples::protocols::http_request;

use super::reassembly_tests::{eth, run, tcp4, udp4, CLIENT, TOM};

/// The inner packet: the client's HTTP request to TOM's keyword-list server.
fn inner_http() -> Vec<u8> {
    let req = http_request("GET", "/agent/keyfile_u", "skypetools.tom.com", &[], b"");
    tcp4(CLIENT, TOM, 50200, 80, 1, &req)
}

fn outer4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([192, 0, 2, 1], [198, 51, 100, 1], 64)
        .write(&mut out, etherparse::IpNumber(proto), payload)
        .unwrap();
    out
}

fn outer_udp(dport: u16, payload: &[u8]) -> Vec<u8> {
    eth(
        0x0800,
        &udp4([192, 0, 2, 1], [198, 51, 100, 1], 40000, dport, payload),
    )
}

fn tunnelled() -> Vec<(TunnelKind, u32, Vec<u8>)> {
    let ip = inner_http();
    let ether = eth(0x0800, &ip);
    let cat = |a: &[u8], b: &[u8]| [a, b].concat();
    vec![
        (
            TunnelKind::Gre,
            linktype::ETHERNET,
            eth(0x0800, &outer4(47, &cat(&[0, 0, 8, 0], &ip))),
        ),
        (
            TunnelKind::PptpGre,
            linktype::ETHERNET,
            eth(
                0x0800,
                &outer4(
                    47,
                    &cat(
                        &[
                            0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0x03,
                            0, 0x21,
                        ],
                        &ip,
                    ),
                ),
            ),
        ),
        (
            TunnelKind::Erspan,
            linktype::ETHERNET,
            eth(
                0x0800,
                &outer4(
                    47,
                    &cat(
                        &[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0, 0, 1, 0, 0, 0, 0],
                        &ether,
                    ),
                ),
            ),
        ),
        (
            TunnelKind::Erspan,
            linktype::ETHERNET,
            eth(
                0x0800,
                &outer4(
                    47,
                    &cat(
                        &[
                            0x10, 0, 0x22, 0xeb, 0, 0, 0, 1, 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                        ],
                        &ether,
                    ),
                ),
            ),
        ),
        (
            TunnelKind::Vxlan,
            linktype::ETHERNET,
            outer_udp(4789, &cat(&[8, 0, 0, 0, 0, 0, 1, 0], &ether)),
        ),
        (
            TunnelKind::Geneve,
            linktype::ETHERNET,
            outer_udp(6081, &cat(&[0, 0, 0x65, 0x58, 0, 0, 1, 0], &ether)),
        ),
        (
            TunnelKind::GtpU,
            linktype::ETHERNET,
            outer_udp(
                2152,
                &cat(&[0x30, 0xff, 0, ip.len() as u8, 0, 0, 0, 1], &ip),
            ),
        ),
        (
            TunnelKind::IpInIp,
            linktype::ETHERNET,
            eth(0x0800, &outer4(4, &ip)),
        ),
        (
            TunnelKind::Mpls,
            linktype::ETHERNET,
            eth(0x8847, &cat(&[0, 1, 0, 64, 0, 2, 1, 64], &ip)),
        ),
        (
            TunnelKind::Pppoe,
            linktype::ETHERNET,
            eth(
                0x8864,
                &cat(
                    &cat(
                        &[0x11, 0, 0x12, 0x34],
                        &((ip.len() + 2) as u16).to_be_bytes(),
                    ),
                    &cat(&[0, 0x21], &ip),
                ),
            ),
        ),
        (TunnelKind::Amsdu, 105, amsdu(&ip)),
    ]
}

/// An 802.11 QoS data frame with the A-MSDU bit, two subframes: ARP then the IPv4 packet.
fn amsdu(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0x88, 0x01];
    f.extend_from_slice(&[0; 22]);
    f.extend_from_slice(&[0x80, 0]); // QoS control: A-MSDU present
    let sub = |out: &mut Vec<u8>, ether_type: u16, body: &[u8]| {
        out.extend_from_slice(&[2; 12]);
        out.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
        out.extend_from_slice(&[0xaa, 0xaa, 3, 0, 0, 0]);
        out.extend_from_slice(&ether_type.to_be_bytes());
        out.extend_from_slice(body);
        while out.len() % 4 != 2 {
            out.push(0);
        }
    };
    sub(&mut f, 0x0806, &[0; 28]);
    sub(&mut f, 0x0800, ip);
    f
}

#[test]
fn every_tunnel_shows_the_inner_host_and_request() {
    for (kind, lt, frame) in tunnelled() {
        let (t, stats) = run(&[(lt, frame)]);
        let hosts: Vec<_> = t.facts.values().flat_map(|f| &f.http).collect();
        assert_eq!(hosts.len(), 1, "{kind:?}");
        assert_eq!(
            hosts[0].host.as_deref(),
            Some("skypetools.tom.com"),
            "{kind:?}"
        );
        assert_eq!(hosts[0].target, "/agent/keyfile_u", "{kind:?}");
        assert_eq!(stats.tunnel(kind), 1, "{kind:?}");
        // The only flow is the inner one: the tunnel's endpoints are not hosts.
        let flows: Vec<_> = t.flows.iter().map(|(k, _)| k).collect();
        assert_eq!(flows.len(), 1, "{kind:?}: {flows:?}");
        assert_eq!(flows[0].b, IpAddr::V4(Ipv4Addr::from(TOM)), "{kind:?}");
    }
}

#[test]
fn tunnels_nest_up_to_the_bound() {
    // IP in IP five times: four levels are opened, the fifth stays an address-level flow.
    let mut ip = inner_http();
    for _ in 0..5 {
        ip = outer4(4, &ip);
    }
    let (t, stats) = run(&[(linktype::RAW, ip)]);
    assert!(t.facts.is_empty());
    assert_eq!(stats.tunnel(TunnelKind::IpInIp), 1);
    let (t, _) = run(&[(linktype::RAW, outer4(4, &outer4(4, &inner_http())))]);
    assert_eq!(t.facts.len(), 1);
}
