//! Tests (compiled for tests only): the attacks and traps of issue 11, each as a capture made
//! here with the sample generator's packet builders and read through the whole pipeline
//! (capture reader, tracker, enrich, classify), with the label a careful analyst would give.
//! Who could have put each packet on the wire, and what else produces it: a forger, a web page,
//! a DNS forwarder, a proxy, a busy host, a reassigned address, a one-direction mirror.

use std::net::{IpAddr, SocketAddr};

use super::packets::{Link, Trace, MS, SEC};
use super::protocols::{dns_query, dns_response, http_request, http_response, Answer, QTYPE_A};
use super::render::{output, render, PCAP_LE};
use super::sessions::{http, https, media, resolve, skype_tcp};
use super::Scenario;
use crate::addr::LocalNets;
use crate::analyze::{Analyzer, Gatherer, Traffic};
use crate::capture;
use crate::classify::Label;
use crate::enrich::Basis;
use crate::flow::Tracker;
use crate::knowledge::geoip::GeoIp;
use crate::knowledge::indicators::IndicatorSet;
use crate::report::{HostReport, Report};

/// 2011-06-09, inside TOM-Skype's years and the 2012 servers' validity.
const T2011: i64 = 1_307_585_737 * SEC;
/// 2024-01-01, long after.
const T2024: i64 = 1_704_067_200 * SEC;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn sa(a: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip(a), port)
}

fn trace(seed: u64, locals: &[&str]) -> Trace {
    let mut tr = Trace::new(seed);
    for (i, a) in locals.iter().enumerate() {
        tr.local(ip(a), [0x02, 0, 0, 0, 0, i as u8 + 1]);
    }
    tr
}

/// Writes the trace as an Ethernet pcap and reports it as `tomskype analyze` would.
fn report(tr: Trace) -> Report {
    let scenario = Scenario::new(tr, "issue 11 test", &[]);
    let bytes = render(
        &scenario,
        &output("test", PCAP_LE, &[(Link::Ethernet, "eth0")]),
    );
    report_bytes(&bytes)
}

/// The report of the shipped sample whose file name starts with `stem`.
fn sample_report(stem: &str) -> Report {
    let sample = super::all()
        .into_iter()
        .find(|s| s.file_name.starts_with(stem))
        .expect("sample");
    report_bytes(&sample.bytes)
}

/// Reports a capture's bytes as `tomskype analyze` would.
fn report_bytes(bytes: &[u8]) -> Report {
    let analyzer = Analyzer {
        geoip: GeoIp::embedded().expect("embedded GeoIP"),
        indicators: IndicatorSet::embedded().expect("embedded indicators"),
        local: LocalNets::new(Vec::new()),
    };
    let ctx = analyzer.context();
    let mut gatherer = Gatherer::new(Tracker::with_watch(analyzer.indicators.watch()), &ctx);
    capture::read_bytes(bytes, &mut gatherer);
    let (gathered, _) = gatherer.finish();
    let traffic = Traffic {
        gathered,
        inputs: Vec::new(),
    };
    analyzer.report(traffic)
}

fn host<'r>(r: &'r Report, addr: &str) -> &'r HostReport {
    r.hosts
        .iter()
        .find(|h| h.address == ip(addr))
        .unwrap_or_else(|| panic!("no host {addr} in {:?}", labels(r)))
}

fn labels(r: &Report) -> Vec<(IpAddr, Label)> {
    r.hosts
        .iter()
        .map(|h| (h.address, h.verdict.label))
        .collect()
}

/// A DNS answer sent from `from` to `to` that no question asked for.
fn forged_answer(tr: &mut Trace, t: i64, from: SocketAddr, to: SocketAddr, name: &str, addr: &str) {
    let answer = dns_response(0x5a5a, name, QTYPE_A, &[Answer::Addr(ip(addr))], 300);
    tr.udp(t, from, to, &answer);
}

/// A browser's HTTPS visit to `name` at `addr`, looked up through `resolver` first.
fn browse(tr: &mut Trace, t: i64, client: &str, resolver: &str, name: &str, addr: &str) -> i64 {
    let a = resolve(
        tr,
        t,
        ip(client),
        ip(resolver),
        name,
        &[Answer::Addr(ip(addr))],
        false,
    );
    https(
        tr,
        a + MS,
        ip(client),
        sa(addr, 443),
        name,
        30 * MS,
        &[(400, 3000)],
    )
}

#[test]
fn a_forged_answer_to_a_third_machine_accuses_nobody() {
    let mut tr = trace(1, &["192.168.1.1", "192.168.1.10", "192.168.1.11"]);
    let google = "142.250.72.4";
    // The attacker tells .10, which never asked, that skypetools.tom.com is Google's address.
    forged_answer(
        &mut tr,
        T2011,
        sa("203.0.113.66", 53),
        sa("192.168.1.10", 53001),
        "skypetools.tom.com",
        google,
    );
    let t = browse(
        &mut tr,
        T2011 + SEC,
        "192.168.1.10",
        "192.168.1.1",
        "www.google.com",
        google,
    );
    browse(
        &mut tr,
        t + SEC,
        "192.168.1.11",
        "192.168.1.1",
        "www.google.com",
        google,
    );
    let r = report(tr);
    assert!(
        r.hosts.iter().all(|h| h.verdict.label == Label::NoSkype),
        "{:?}",
        labels(&r)
    );
    let victim = host(&r, "192.168.1.10");
    let ev = &victim.evidence[0];
    assert_eq!((ev.basis, ev.firm), (Basis::Unsolicited, false));
    assert!(ev.weight <= 0.1, "{ev:?}");
    // The other machine browsing the same address got nothing from it.
    assert!(host(&r, "192.168.1.11").evidence.is_empty());
}

#[test]
fn a_lookup_caused_by_a_web_page_is_at_most_inconclusive() {
    let mut tr = trace(2, &["192.168.1.1", "192.168.1.20"]);
    // An <img src=http://skypetools.tom.com/...> makes the browser ask; the name does not even
    // resolve (an empty answer).
    let q = dns_query(0x1111, "skypetools.tom.com", QTYPE_A);
    tr.udp(T2011, sa("192.168.1.20", 50000), sa("192.168.1.1", 53), &q);
    let a = dns_response(0x1111, "skypetools.tom.com", QTYPE_A, &[], 60);
    tr.udp(
        T2011 + 20 * MS,
        sa("192.168.1.1", 53),
        sa("192.168.1.20", 50000),
        &a,
    );
    browse(
        &mut tr,
        T2011 + SEC,
        "192.168.1.20",
        "192.168.1.1",
        "www.taobao.com",
        "140.205.94.189",
    );
    let r = report(tr);
    let h = host(&r, "192.168.1.20");
    assert_eq!(h.verdict.label, Label::Inconclusive, "{:?}", h.verdict);
    assert_eq!(h.evidence[0].basis, Basis::LookupOnly);
    assert_eq!(h.verdict.tom_firm_score, 0.0);
}

#[test]
fn a_dns_forwarder_does_not_inherit_its_clients_lookups() {
    let mut tr = trace(3, &["192.168.2.1", "192.168.2.23"]);
    tr.forward_dns(ip("192.168.2.1"), sa("202.96.209.133", 53));
    for (i, name) in ["skypetools.tom.com", "skypetools1.tom.com"]
        .iter()
        .enumerate()
    {
        resolve(
            &mut tr,
            T2011 + i as i64 * SEC,
            ip("192.168.2.23"),
            ip("192.168.2.1"),
            name,
            &[Answer::Addr(ip("211.100.40.173"))],
            false,
        );
    }
    let r = report(tr);
    let forwarder = host(&r, "192.168.2.1");
    assert_eq!(
        forwarder.verdict.label,
        Label::NoSkype,
        "{:?}",
        forwarder.evidence
    );
    assert_eq!(forwarder.roles[0].role, "dns-resolver");
    assert!(forwarder
        .evidence
        .iter()
        .all(|e| e.basis == Basis::Relayed && e.weight == 0.0));
    // The client only looked the names up: inconclusive, not an accusation.
    assert_eq!(host(&r, "192.168.2.23").verdict.label, Label::Inconclusive);
}

#[test]
fn the_browser_sample_is_a_visit_with_an_advisory() {
    let r = sample_report("no-skype-browser-on-tom-skype-pages");
    let h = host(&r, "192.168.1.40");
    assert_eq!(h.verdict.label, Label::NoSkype);
    assert!(h.advisories.iter().any(|a| a.kind == "tom-web-visit"));
    // The TOM server and Skype's status server were reached by the browser: visits too.
    assert!(h
        .evidence
        .iter()
        .all(|e| e.basis == Basis::Visit && e.weight == 0.0));
    assert!(h.evidence.iter().any(|e| e.kind == "tom-server"));
}

#[test]
fn bounds_never_push_evidence_out() {
    let mut tr = trace(4, &["192.168.5.1", "192.168.5.50"]);
    let (host_ip, resolver) = (ip("192.168.5.50"), ip("192.168.5.1"));
    let shared = "211.100.40.173";
    let mut t = T2011;
    // More distinct lookups than a client's store keeps.
    for i in 0..4200 {
        let name = format!("img{i}.cdn.example-shop.cn");
        t = resolve(
            &mut tr,
            t + 20 * MS,
            host_ip,
            resolver,
            &name,
            &[Answer::Addr(ip("198.51.100.9"))],
            false,
        );
    }
    // More junk names for the TOM server's address than an address keeps.
    for i in 0..70 {
        let name = format!("a{i}.tomcdn-mirror.net");
        t = resolve(
            &mut tr,
            t + 20 * MS,
            host_ip,
            resolver,
            &name,
            &[Answer::Addr(ip(shared))],
            false,
        );
    }
    // Then the TOM name, whose answer the host contacts (binary traffic, no request seen).
    t = resolve(
        &mut tr,
        t + SEC,
        host_ip,
        resolver,
        "skypetools.tom.com",
        &[Answer::Addr(ip(shared))],
        false,
    );
    skype_tcp(&mut tr, t + MS, host_ip, sa(shared, 80), 40 * MS, 2);
    let r = report(tr);
    let h = host(&r, "192.168.5.50");
    let d = h.coverage.dropped;
    assert!(d.dns_questions > 0 && d.dns_answer_names > 0, "{d:?}");
    let ev = h
        .evidence
        .iter()
        .find(|e| e.indicator.as_deref() == Some("tom-name-skypetools"))
        .expect("the TOM name is kept past both bounds");
    assert_eq!(
        (ev.basis, ev.endpoint.map(|a| a.to_string())),
        (Basis::LookupAndContact, Some(shared.to_string()))
    );
    assert!(h.coverage.notes.iter().any(|n| n.contains("not kept")));
}

/// The 2012 English build's servers: two of the seven both TOM builds contacted, and Skype.
fn tom_servers_2012(tr: &mut Trace, host_ip: &str, t: i64) {
    for server in ["218.30.111.75", "110.81.238.33"] {
        skype_tcp(tr, t, ip(host_ip), sa(server, 443), 60 * MS, 3);
    }
    skype_tcp(tr, t, ip(host_ip), sa("91.190.216.24", 443), 80 * MS, 3);
}

#[test]
fn names_forged_for_tom_servers_do_not_hide_them() {
    let mut tr = trace(5, &["192.168.0.105"]);
    let t2012 = T2011 + 550 * 86_400 * SEC;
    for (i, server) in ["218.30.111.75", "110.81.238.33"].iter().enumerate() {
        forged_answer(
            &mut tr,
            t2012 + i as i64 * MS,
            sa("203.0.113.66", 53),
            sa("192.168.0.105", 53002),
            "www.example.com",
            server,
        );
    }
    tom_servers_2012(&mut tr, "192.168.0.105", t2012 + SEC);
    let r = report(tr);
    let h = host(&r, "192.168.0.105");
    assert_eq!(h.verdict.label, Label::TomSkype, "{:?}", h.evidence);
    // The host's own lookup of a harmless name for a TOM address still explains it away.
    let mut tr = trace(5, &["192.168.0.105", "192.168.0.1"]);
    for server in ["218.30.111.75", "110.81.238.33"] {
        resolve(
            &mut tr,
            t2012,
            ip("192.168.0.105"),
            ip("192.168.0.1"),
            "www.example.com",
            &[Answer::Addr(ip(server))],
            false,
        );
    }
    tom_servers_2012(&mut tr, "192.168.0.105", t2012 + SEC);
    let r = report(tr);
    let h = host(&r, "192.168.0.105");
    assert_ne!(h.verdict.label, Label::TomSkype);
    assert!(h
        .evidence
        .iter()
        .any(|e| e.kind == "tom-server" && e.detail.contains("www.example.com")));
}

#[test]
fn one_address_is_one_server_and_old_addresses_stay_soft() {
    // 211.100.41.76 is a TOM server inside TOM's /23: one server, not "two TOM servers".
    let mut tr = trace(6, &["192.168.0.9"]);
    skype_tcp(
        &mut tr,
        T2011,
        ip("192.168.0.9"),
        sa("211.100.41.76", 443),
        60 * MS,
        3,
    );
    let r = report(tr);
    let h = host(&r, "192.168.0.9");
    assert_eq!(h.evidence.len(), 1, "{:?}", h.evidence);
    assert_eq!(h.verdict.label, Label::Inconclusive);
    // Six reassigned 2012 servers in a 2024 capture, beside a Skype client: soft.
    let mut tr = trace(7, &["192.168.0.9"]);
    for server in [
        "110.81.238.33",
        "211.100.40.173",
        "211.100.41.76",
        "218.30.111.75",
        "218.6.12.214",
        "219.232.255.99",
    ] {
        skype_tcp(
            &mut tr,
            T2024,
            ip("192.168.0.9"),
            sa(server, 443),
            60 * MS,
            3,
        );
    }
    https(
        &mut tr,
        T2024,
        ip("192.168.0.9"),
        sa("52.113.194.132", 443),
        "api.skype.com",
        30 * MS,
        &[(300, 900)],
    );
    let r = report(tr);
    let h = host(&r, "192.168.0.9");
    assert_eq!(h.verdict.label, Label::Inconclusive, "{:?}", h.verdict);
    assert!(h
        .evidence
        .iter()
        .filter(|e| e.kind == "tom-server")
        .all(|e| !e.firm));
}

#[test]
fn skype_to_china_is_tom_era_servers_only() {
    // A 2024 client on a Skype endpoint in China (Microsoft's own, via its Chinese partner),
    // and a 2023-style call with a peer in China on its P2P port.
    let mut tr = trace(8, &["192.168.3.7"]);
    let h_ip = ip("192.168.3.7");
    https(
        &mut tr,
        T2024,
        h_ip,
        sa("52.113.194.132", 443),
        "api.skype.com",
        30 * MS,
        &[(300, 900)],
    );
    https(
        &mut tr,
        T2024,
        h_ip,
        sa("220.181.38.148", 443),
        "config.skype.com",
        30 * MS,
        &[(300, 900)],
    );
    media(
        &mut tr,
        T2024 + SEC,
        sa("192.168.3.7", 21388),
        sa("117.89.132.58", 33033),
        3 * SEC,
        60 * MS,
    );
    let r = report(tr);
    let h = host(&r, "192.168.3.7");
    assert_eq!(h.verdict.label, Label::RegularSkype, "{:?}", h.evidence);
    assert!(!h.evidence.iter().any(|e| e.kind == "skype-to-china"));
}

#[test]
fn a_proxy_is_not_its_clients_and_its_clients_keep_their_names() {
    let r = sample_report("regular-skype-through-http-proxy");
    let proxy = host(&r, "10.1.0.2");
    assert_eq!(proxy.verdict.label, Label::NoSkype, "{:?}", proxy.evidence);
    assert_eq!(proxy.roles[0].role, "http-proxy");
    assert_eq!(proxy.roles[0].clients, 2);
    let client = host(&r, "10.1.0.20");
    assert_eq!(client.verdict.label, Label::RegularSkype);
    // The CONNECT target and the absolute URI are the client's names, reached via the proxy.
    let via = &client.endpoints[0];
    assert!(via.proxy && via.names.iter().any(|n| n == "api.skype.com"));
    // An address named in a CONNECT is the client's own endpoint, reached through the proxy.
    let login = client
        .endpoints
        .iter()
        .find(|e| e.address.to_string() == "157.55.130.140")
        .expect("the CONNECT target by address");
    assert!(login.through_proxy && login.host_opened);
    assert!(login
        .indicators
        .iter()
        .any(|i| i.starts_with("microsoft-net")));
    assert_eq!(host(&r, "10.1.0.21").verdict.label, Label::TomSkype);
}

#[test]
fn a_proxy_on_the_lan_is_not_credited_with_its_clients_requests() {
    // Both ends local, the client's TOM request in origin form through a transparent relay:
    // the side that sent the request owns it, the side that answered does not.
    let mut tr = trace(9, &["10.2.0.5", "10.2.0.9"]);
    let req = http_request(
        "GET",
        "/agent/keyfile_u",
        "skypetools.tom.com",
        &[("User-Agent", "Mozilla/3.0 (compatible; Indy Library)")],
        b"",
    );
    let resp = http_response(
        "squid",
        "application/octet-stream",
        "Thu, 09 Jun 2011 02:15:37 GMT",
        b"x",
    );
    http(
        &mut tr,
        T2011,
        ip("10.2.0.9"),
        sa("10.2.0.5", 8080),
        2 * MS,
        &[(req, resp)],
    );
    let r = report(tr);
    assert_eq!(host(&r, "10.2.0.9").verdict.label, Label::TomSkype);
    assert_eq!(host(&r, "10.2.0.5").verdict.label, Label::NoSkype);
}

#[test]
fn a_machine_that_only_receives_is_a_host_with_a_note() {
    let r = sample_report("tom-skype-inbound-only-mirror");
    let h = host(&r, "10.0.0.23");
    assert_eq!(h.verdict.label, Label::Inconclusive, "{:?}", h.evidence);
    assert_eq!(h.coverage.packets_sent, 0);
    assert!(h.coverage.notes.iter().any(|n| n.contains("one direction")));
    // Never a broadcast address, even one that only receives.
    let mut tr = trace(10, &["192.168.7.3"]);
    tr.udp(
        T2011,
        sa("192.168.7.3", 137),
        sa("192.168.7.255", 137),
        b"netbios",
    );
    tr.udp(
        T2011 + MS,
        sa("192.168.7.3", 5000),
        sa("192.168.7.8", 5000),
        b"hello",
    );
    let r = report(tr);
    let addrs: Vec<IpAddr> = r.hosts.iter().map(|h| h.address).collect();
    assert!(addrs.contains(&ip("192.168.7.8")) && !addrs.contains(&ip("192.168.7.255")));
}

#[test]
fn a_short_capture_never_reads_certain() {
    // 1.5 s of a call's media and nothing else: no name, few seconds.
    let mut tr = trace(11, &["192.168.4.4"]);
    media(
        &mut tr,
        T2024,
        sa("192.168.4.4", 50000),
        sa("52.114.158.50", 3478),
        1_500 * MS,
        40 * MS,
    );
    let r = report(tr);
    let v = &host(&r, "192.168.4.4").verdict;
    assert_eq!(v.label, Label::NoSkype);
    assert!(v.confidence < 0.5 && v.coverage < 0.1, "{v:?}");
    // A TOM client's request on a short capture is still TOM-Skype, but not "1.00".
    let mut tr = trace(12, &["192.168.4.5"]);
    let req = http_request("GET", "/agent/keyfile_u", "skypetools.tom.com", &[], b"");
    let resp = http_response(
        "Apache",
        "text/plain",
        "Thu, 09 Jun 2011 02:15:37 GMT",
        b"k",
    );
    http(
        &mut tr,
        T2011,
        ip("192.168.4.5"),
        sa("211.100.40.173", 80),
        40 * MS,
        &[(req, resp)],
    );
    let r = report(tr);
    let v = &host(&r, "192.168.4.5").verdict;
    assert_eq!(v.label, Label::TomSkype);
    assert!(
        v.confidence <= 0.95 && format!("{:.2}", v.confidence) != "1.00",
        "{v:?}"
    );
}
