//! Tests of the [`super::Tracker`] on crafted packets for what hides on the wire: DNS answers
//! in IP fragments (IPv4 and IPv6, in and out of order), ClientHellos and DNS-over-TCP
//! messages split over TCP segments (out of order too). Each test checks the name reached the
//! flow table and the decode counts. The helpers here build packets for `tunnel_tests` too.

use std::net::{IpAddr, Ipv4Addr};

use etherparse::PacketBuilder;

use crate::capture::{linktype, Packet, PacketSink};
use crate::decode::{proto, DecodeStats};
use crate::samples::packets::Rng;
use crate::samples::protocols::{dns_response, Answer, QTYPE_A, QTYPE_AAAA};
use crate::samples::wire::pq_client_hello;

use super::{FlowKey, FlowTable, Tracker};

pub(super) const CLIENT: [u8; 4] = [10, 0, 0, 23];
const RESOLVER: [u8; 4] = [10, 0, 0, 1];
pub(super) const TOM: [u8; 4] = [211, 100, 41, 76];
const SEC: i64 = 1_000_000_000;

pub(super) fn run(frames: &[(u32, Vec<u8>)]) -> (FlowTable, DecodeStats) {
    let mut t = Tracker::new();
    for (i, (lt, data)) in frames.iter().enumerate() {
        t.packet(&Packet {
            number: i as u64 + 1,
            offset: 0,
            ts_nanos: 1_300_000_000 * SEC + i as i64 * 1_000_000,
            link_type: *lt,
            orig_len: data.len() as u32,
            data,
        });
    }
    t.into_parts()
}

pub(super) fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .udp(sport, dport)
        .write(&mut out, payload)
        .unwrap();
    out
}

pub(super) fn tcp4(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 64240)
        .ack(1)
        .psh()
        .write(&mut out, payload)
        .unwrap();
    out
}

fn syn4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, isn: u32) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64)
        .tcp(sport, dport, isn, 64240)
        .syn()
        .write(&mut out, &[])
        .unwrap();
    out
}

pub(super) fn eth(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6];
    out.extend_from_slice(&ether_type.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits a raw IPv4 packet (20-byte header) into fragments at the payload offsets `cuts`.
fn frag4(ip: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let payload = &ip[20..];
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload.len());
    bounds
        .windows(2)
        .map(|w| {
            let mut h = ip[..20].to_vec();
            let total = (20 + w[1] - w[0]) as u16;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
            let more = if w[1] < payload.len() { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&(more | (w[0] / 8) as u16).to_be_bytes());
            h.extend_from_slice(&payload[w[0]..w[1]]);
            h
        })
        .collect()
}

/// Splits an IPv6 packet (40-byte header, no extension) into fragments at `cuts`.
fn frag6(ip: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let next = ip[6];
    let payload = &ip[40..];
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(payload.len());
    bounds
        .windows(2)
        .map(|w| {
            let mut h = ip[..40].to_vec();
            h[4..6].copy_from_slice(&((8 + w[1] - w[0]) as u16).to_be_bytes());
            h[6] = 44;
            let more = u16::from(w[1] < payload.len());
            h.extend_from_slice(&[next, 0]);
            h.extend_from_slice(&((w[0] as u16) | more).to_be_bytes());
            h.extend_from_slice(&0xabcd_0001u32.to_be_bytes());
            h.extend_from_slice(&payload[w[0]..w[1]]);
            h
        })
        .collect()
}

/// A DNS answer for skype.tom.com long enough to be fragmented (~700 bytes).
fn long_answer(qtype: u16, addr: IpAddr) -> Vec<u8> {
    let mut answers = vec![Answer::Addr(addr)];
    for i in 1..40u8 {
        answers.push(Answer::Addr(match addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(211, 100, 41, i)),
            IpAddr::V6(_) => IpAddr::V6(format!("2001:db8::{i}").parse().unwrap()),
        }));
    }
    dns_response(7, "skype.tom.com", qtype, &answers, 600)
}

fn resolved(t: &FlowTable, addr: IpAddr) -> Vec<String> {
    // Names resolved to `addr`, for any client.
    let mut v: Vec<String> = t
        .resolved
        .iter()
        .filter(|((_, a), _)| *a == addr)
        .flat_map(|(_, s)| s.names.keys().cloned())
        .collect();
    v.sort();
    v
}

#[test]
fn dns_answer_in_two_ipv4_fragments_either_order() {
    let answer = long_answer(QTYPE_A, IpAddr::V4(Ipv4Addr::from(TOM)));
    let ip = udp4(RESOLVER, CLIENT, 53, 50000, &answer);
    let frags = frag4(&ip, &[512]);
    for order in [[0, 1], [1, 0]] {
        let frames: Vec<_> = order
            .iter()
            .map(|&i| (linktype::ETHERNET, eth(0x0800, &frags[i])))
            .collect();
        let (t, stats) = run(&frames);
        assert_eq!(
            resolved(&t, IpAddr::V4(Ipv4Addr::from(TOM))),
            ["skype.tom.com"]
        );
        assert_eq!(stats.fragments.fragments, 2);
        assert_eq!(stats.fragments.reassembled, 1);
        assert_eq!(stats.app_malformed.dns, 0);
        // One flow, on the real ports, counted once with the whole datagram's bytes.
        let flows: Vec<_> = t.flows.iter().collect();
        assert_eq!(flows.len(), 1, "{flows:?}");
        let (key, flow) = &flows[0];
        assert_eq!((key.proto, key.a_port.min(key.b_port)), (proto::UDP, 53));
        assert_eq!(flow.total_packets(), 1);
        assert_eq!(flow.total_bytes(), ip.len() as u64);
    }
}

#[test]
fn dns_answer_in_ipv6_fragments() {
    let server: IpAddr = "2001:db8::53".parse().unwrap();
    let tom: IpAddr = "2001:db8::7".parse().unwrap();
    let mut ip = Vec::new();
    PacketBuilder::ipv6(
        match server {
            IpAddr::V6(a) => a.octets(),
            _ => unreachable!(),
        },
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23],
        64,
    )
    .udp(53, 50001)
    .write(&mut ip, &long_answer(QTYPE_AAAA, tom))
    .unwrap();
    let frags = frag6(&ip, &[448, 896]);
    let frames: Vec<_> = [2, 0, 1]
        .iter()
        .map(|&i| (linktype::RAW, frags[i].clone()))
        .collect();
    let (t, stats) = run(&frames);
    assert_eq!(resolved(&t, tom), ["skype.tom.com"]);
    assert_eq!(stats.fragments.reassembled, 1);
    assert_eq!(stats.skipped(crate::decode::Skip::Fragment), 0);
}

#[test]
fn overlapping_ipv6_fragments_drop_the_datagram() {
    let answer = long_answer(QTYPE_AAAA, "2001:db8::7".parse().unwrap());
    let mut ip = Vec::new();
    PacketBuilder::ipv6(
        [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53],
        [2; 16],
        64,
    )
    .udp(53, 50001)
    .write(&mut ip, &answer)
    .unwrap();
    let a = frag6(&ip, &[512]);
    let b = frag6(&ip, &[256]); // its second fragment overlaps the first of `a`
    let frames = vec![(linktype::RAW, a[0].clone()), (linktype::RAW, b[1].clone())];
    let (t, stats) = run(&frames);
    assert!(t.resolved.is_empty());
    assert_eq!(stats.fragments.overlapping, 1);
    assert_eq!(stats.fragments.reassembled, 0);
}

#[test]
fn an_incomplete_datagram_is_counted_not_a_flow() {
    let answer = long_answer(QTYPE_A, IpAddr::V4(Ipv4Addr::from(TOM)));
    let frags = frag4(&udp4(RESOLVER, CLIENT, 53, 50000, &answer), &[512]);
    let (t, stats) = run(&[(linktype::RAW, frags[0].clone())]);
    assert!(t.flows.is_empty(), "the first fragment alone makes no flow");
    assert_eq!(stats.fragments.incomplete, 1);
}

/// A TCP connection from the client whose ClientHello is split at byte 1,400.
fn split_hello(seq: u32, order: &[usize], syn: bool) -> (FlowTable, DecodeStats) {
    let hello = pq_client_hello(&mut Rng::new(5), "api.skype.com");
    assert!(hello.len() > 1700, "{}", hello.len());
    let segs = [
        tcp4(CLIENT, TOM, 50123, 443, seq, &hello[..1400]),
        tcp4(
            CLIENT,
            TOM,
            50123,
            443,
            seq.wrapping_add(1400),
            &hello[1400..],
        ),
    ];
    let mut frames = Vec::new();
    if syn {
        frames.push((
            linktype::RAW,
            syn4(CLIENT, TOM, 50123, 443, seq.wrapping_sub(1)),
        ));
    }
    frames.extend(order.iter().map(|&i| (linktype::RAW, segs[i].clone())));
    run(&frames)
}

fn sni(t: &FlowTable) -> Vec<String> {
    let (key, _) = FlowKey::new(
        proto::TCP,
        IpAddr::V4(Ipv4Addr::from(CLIENT)),
        50123,
        IpAddr::V4(Ipv4Addr::from(TOM)),
        443,
    );
    t.facts
        .get(&key)
        .map(|f| f.sni.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_split_client_hello_is_read_in_order_and_out_of_order() {
    for (order, syn) in [
        (&[0, 1][..], false),
        (&[0, 1][..], true),
        (&[1, 0][..], true),
    ] {
        let (t, stats) = split_hello(0xffff_fe00, order, syn);
        assert_eq!(sni(&t), ["api.skype.com"], "order {order:?} syn {syn}");
        assert_eq!(stats.app_malformed.tls, 0);
        assert_eq!(stats.tcp_reassembly.reassembled, 1);
        assert_eq!(stats.tcp_reassembly.segments_buffered, 2);
    }
    // Retransmitted and overlapping segments change nothing.
    let hello = pq_client_hello(&mut Rng::new(5), "api.skype.com");
    let frames: Vec<_> = [(0, 1000), (0, 1000), (500, 1500), (1500, hello.len())]
        .iter()
        .map(|&(a, b)| {
            (
                linktype::RAW,
                tcp4(CLIENT, TOM, 50123, 443, 9 + a as u32, &hello[a..b]),
            )
        })
        .collect();
    let (t, stats) = run(&frames);
    assert_eq!(sni(&t), ["api.skype.com"]);
    assert_eq!(stats.app_malformed.tls, 0);
}

#[test]
fn a_client_hello_whose_rest_never_comes_is_incomplete_not_malformed() {
    let (t, stats) = split_hello(100, &[0], false);
    assert!(sni(&t).is_empty());
    assert_eq!(stats.app_malformed.tls, 0);
    assert_eq!(stats.tcp_reassembly.incomplete, 1);
}

#[test]
fn dns_over_tcp_with_the_length_in_its_own_segment() {
    let answer = dns_response(
        9,
        "skypetools.tom.com",
        QTYPE_A,
        &[Answer::Addr(IpAddr::V4(Ipv4Addr::from(TOM)))],
        60,
    );
    let len = (answer.len() as u16).to_be_bytes();
    let frames = vec![
        (linktype::RAW, tcp4(RESOLVER, CLIENT, 53, 40000, 77, &len)),
        (
            linktype::RAW,
            tcp4(RESOLVER, CLIENT, 53, 40000, 79, &answer),
        ),
    ];
    let (t, stats) = run(&frames);
    assert_eq!(
        resolved(&t, IpAddr::V4(Ipv4Addr::from(TOM))),
        ["skypetools.tom.com"]
    );
    assert_eq!(stats.tcp_reassembly.reassembled, 1);
}
