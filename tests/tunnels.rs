//! Real captures with tunnels, fragments and split TCP messages (../shared/corpora): the flows
//! are the inner hosts' (as tshark 4.0 shows them), the tunnel endpoints are no flow's end,
//! each tunnel kind is counted, and the names the inner packets carry are read (DNS answers in
//! IP fragments, TLS server names and HTTP hosts inside tunnels and across TCP segments).
//! Skipped with a notice when the corpora are absent.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use tomskype::analyze::read_capture;
use tomskype::flow::FlowTable;
use tomskype::report::model::InputReport;

fn read(rel: &str) -> Option<(FlowTable, InputReport)> {
    let root = common::corpora()?;
    let path = root.join(rel);
    assert!(path.is_file(), "{} is missing", path.display());
    Some(read_capture(Path::new(&path), None))
}

fn ends(t: &FlowTable) -> BTreeSet<(IpAddr, IpAddr)> {
    t.flows.iter().map(|(k, _)| (k.a, k.b)).collect()
}

fn pair(a: &str, b: &str) -> (IpAddr, IpAddr) {
    let (a, b): (IpAddr, IpAddr) = (a.parse().unwrap(), b.parse().unwrap());
    (a.min(b), a.max(b))
}

fn all_names(t: &FlowTable) -> BTreeSet<String> {
    let mut n: BTreeSet<String> = BTreeSet::new();
    for f in t.facts.values() {
        n.extend(f.sni.keys().cloned());
        n.extend(f.http.iter().filter_map(|h| h.host.clone()));
    }
    n
}

/// The capture's inner pairs (from tshark's Source/Destination columns) are flows; the outer
/// endpoints are no flow's end; `kind` was counted.
fn check(rel: &str, kind: &str, inner: &[(&str, &str)], outer: &[&str]) -> Option<FlowTable> {
    let (t, input) = read(rel)?;
    let got = ends(&t);
    for (a, b) in inner {
        assert!(
            got.contains(&pair(a, b)),
            "{rel}: no flow {a} - {b} in {got:?}"
        );
    }
    for o in outer {
        let o: IpAddr = o.parse().unwrap();
        assert!(
            !got.iter().any(|(a, b)| *a == o || *b == o),
            "{rel}: tunnel endpoint {o} is a flow's end"
        );
    }
    let n = input.decode.tunnels.get(kind).copied().unwrap_or(0);
    assert!(
        n > 0,
        "{rel}: no {kind} counted: {:?}",
        input.decode.tunnels
    );
    Some(t)
}

#[test]
fn gre_pptp_shows_its_inner_host() {
    check(
        "ndpi/misc/gre.pcapng",
        "pptp-gre",
        &[("192.168.10.210", "192.168.103.40")],
        &["109.105.228.253", "10.177.98.84"],
    );
}

#[test]
fn gre_within_gre() {
    check(
        "zeek/tunnels_gre-within-gre.pcap",
        "gre",
        &[("192.168.1.2", "10.10.25.1")],
        &["86.106.164.150", "72.205.54.70", "10.10.13.2", "10.10.11.2"],
    );
}

#[test]
fn erspan_types_one_two_three() {
    check(
        "tcpdump/all/erspan-type-i-1.pcap",
        "erspan",
        &[("10.52.128.234", "10.52.128.233")],
        &["1.1.1.1", "192.168.255.5"],
    );
    check(
        "suricata-verify/decode-erspan-typeII-01_input.pcap",
        "erspan",
        &[("23.0.0.3", "23.0.0.2")],
        &[],
    );
    check(
        "tcpdump/all/erspan-type-iii-ft-0.pcap",
        "erspan",
        &[("10.29.11.1", "10.29.20.21")],
        &["10.29.30.104", "10.29.11.13"],
    );
}

#[test]
fn gre_bridged_ethernet_with_fragmented_outer_packets() {
    // zeek/erspan.pcap is GRE carrying Ethernet (0x6558); some outer packets are fragments.
    let Some((t, input)) = read("zeek/erspan.pcap") else {
        return;
    };
    assert!(ends(&t).contains(&pair("192.168.69.10", "192.168.69.2")));
    assert!(!ends(&t)
        .iter()
        .any(|(a, _)| a.to_string().starts_with("10.200.0.")));
    assert!(input.decode.fragments.reassembled > 0);
    assert_eq!(input.decode.fragments.incomplete, 0);
    assert_eq!(input.decode.skipped.get("fragment"), None);
}

#[test]
fn vxlan_geneve_and_mpls_in_udp() {
    check(
        "ndpi/misc/vxlan.pcap",
        "vxlan",
        &[("10.10.20.4", "157.240.224.35"), ("10.10.20.4", "8.8.8.8")],
        &["192.168.22.4", "192.168.22.5"],
    );
    check(
        "libpcap/geneve.pcap",
        "geneve",
        &[("30.0.0.1", "30.0.0.2")],
        &["20.0.0.1", "20.0.0.2"],
    );
    check(
        "tcpdump/all/mpls-over-udp.pcap",
        "mpls",
        &[("10.1.0.10", "10.3.0.10")],
        &["10.100.12.170", "10.100.13.157"],
    );
    if let Some(t) = check(
        "zeek/tunnels_vxlan-encapsulated-http.pcap",
        "vxlan",
        &[("172.16.11.201", "54.86.237.188")],
        &["10.1.200.131", "10.1.1.172"],
    ) {
        assert!(all_names(&t).contains("eu.httpbin.org"));
    }
}

#[test]
fn ip_in_ip_mpls_and_pppoe() {
    check(
        "ndpi/misc/6in4tunnel.pcap",
        "ip-in-ip",
        &[(
            "2001:470:1f17:13f:3e97:eff:fe73:4dec",
            "2604:a880:1:20::224:b001",
        )],
        &["174.3.73.24", "184.105.255.26"],
    );
    check(
        "zeek/mpls-in-vlan.pcap",
        "mpls",
        &[("65.65.65.65", "65.65.65.65")],
        &[],
    );
    if let Some(t) = check(
        "zeek/pppoe-over-qinq.pcap",
        "pppoe",
        &[("1.1.1.1", "2.2.2.2")],
        &[],
    ) {
        assert!(all_names(&t).contains("xp.apple.com"));
    }
}

#[test]
fn ah_protected_ping_in_fragments() {
    // Four IPv4 fragments of an AH-protected ping: etherparse reads an AH at the start of each
    // fragment, whose bytes must go back into the datagram.
    let Some((t, input)) = read("libpcap/ah-ipip-ping.pcap") else {
        return;
    };
    assert_eq!(input.decode.fragments.reassembled, 1);
    assert_eq!(input.decode.fragments.incomplete, 0);
    assert!(ends(&t).contains(&pair("10.1.48.19", "10.1.48.22")));
}

#[test]
fn gtp_with_fragments_and_a_split_request() {
    // GTP-U over fragmented outer datagrams; the inner name needs IP and TCP reassembly.
    let Some(t) = check(
        "zeek/tunnels_gtp_gtp1_gn_normal_incl_fragmentation.pcap",
        "gtp-u",
        &[("10.131.47.185", "79.101.110.141")],
        &["63.94.149.181"],
    ) else {
        return;
    };
    assert!(
        all_names(&t).contains("o-o.preferred.telekomrs-beg1.v2.lscache8.c.youtube.com"),
        "{:?}",
        all_names(&t)
    );
}

#[test]
fn dns_answers_in_ip_fragments() {
    let Some((t, input)) = read("ndpi/misc/dns_fragmented.pcap") else {
        return;
    };
    assert_eq!(input.decode.fragments.reassembled, 7);
    assert_eq!(input.decode.app_malformed.dns, 0);
    // Answers tshark shows in the reassembled datagrams (DNSSEC-signed, over 1,500 bytes).
    for (name, a) in [
        ("fg2.weberlab.de", "194.247.4.10"),
        ("pa.weberlab.de", "2001:470:1f0b:1024::2"),
    ] {
        let a: IpAddr = a.parse().unwrap();
        let named = t
            .resolved
            .iter()
            .any(|((_, addr), s)| *addr == a && s.names.contains_key(name));
        assert!(named, "{name} -> {a} not resolved");
    }
    // Two fragmented IPv6 answers (TXT, the A record only as glue): one whole, one of which
    // only the last fragment was captured.
    let Some((t, input)) = read("zeek/ipv6-fragmented-dns.pcap") else {
        return;
    };
    assert_eq!(input.decode.fragments.fragments, 4);
    assert_eq!(input.decode.fragments.reassembled, 1);
    assert_eq!(input.decode.fragments.incomplete, 1);
    assert_eq!(input.decode.app_malformed.dns, 0);
    let flows: Vec<_> = t
        .flows
        .iter()
        .map(|(k, f)| (k.a_port.min(k.b_port), f.total_packets()))
        .collect();
    // Four unfragmented packets and the whole datagram; the lone fragment is no packet.
    assert_eq!(flows.iter().map(|f| f.1).sum::<u64>(), 5, "{flows:?}");
}
