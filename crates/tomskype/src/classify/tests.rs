//! Tests of stage 5: labels from hand-built host views.

use super::*;
use crate::enrich::{Dropped, Endpoint, HostView, Match, NameSeen, Query, Via};
use crate::flow::SkypeProtocol;
use crate::knowledge::indicators::IndicatorSet;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// 2012-12-13, inside the validity of the 2012 server indicators.
const T2012: i64 = 1_355_394_030_000_000_000;
/// 2026-01-01, outside it.
const T2026: i64 = 1_767_225_600_000_000_000;

fn set() -> IndicatorSet {
    IndicatorSet::embedded().unwrap()
}

fn endpoint<'s>(
    set: &'s IndicatorSet,
    addr: &str,
    country: &str,
    names: &[&str],
    ts: i64,
) -> Endpoint<'s> {
    endpoint_seen(set, addr, country, names, Basis::ServerName, ts)
}

/// An endpoint the host contacted, with names seen with `basis`.
fn endpoint_seen<'s>(
    set: &'s IndicatorSet,
    addr: &str,
    country: &str,
    names: &[&str],
    basis: Basis,
    ts: i64,
) -> Endpoint<'s> {
    let ip: IpAddr = addr.parse().unwrap();
    let mut matches: Vec<Match<'s>> = set
        .match_addr_most_specific(ip)
        .into_iter()
        .map(|indicator| Match {
            indicator,
            via: Via::Address,
            basis: Basis::Contacted,
            first_ns: ts,
        })
        .collect();
    for n in names {
        for indicator in set.match_name(n) {
            matches.push(Match {
                indicator,
                via: Via::Name((*n).into()),
                basis,
                first_ns: ts,
            });
        }
    }
    let seen = NameSeen {
        first_ns: ts,
        server_name: basis == Basis::ServerName,
        request: basis == Basis::Request,
        visit: basis == Basis::Visit,
        relayed: basis == Basis::Relayed,
        answered: matches!(basis, Basis::LookupAndContact | Basis::LookupOnly),
        unsolicited: basis == Basis::Unsolicited,
    };
    Endpoint {
        addr: ip,
        country: Country::parse(country),
        special: None,
        local: false,
        flows: 1,
        packets: 40,
        sent: 20,
        bytes: 4000,
        first_ns: ts,
        last_ns: ts + 60_000_000_000,
        ports: BTreeSet::from([(6, 443)]),
        host_opened: true,
        proxy: false,
        through_proxy: false,
        names: names.iter().map(|n| ((*n).to_owned(), seen)).collect(),
        http: Vec::new(),
        matches,
        programs: BTreeSet::new(),
        skype_protocols: BTreeMap::new(),
    }
}

fn host<'s>(endpoints: Vec<Endpoint<'s>>, queries: Vec<Query<'s>>) -> HostView<'s> {
    HostView {
        addr: "192.168.1.2".parse().unwrap(),
        endpoints,
        queries,
        dropped: Dropped::default(),
        dns_clients: 0,
        proxy_clients: 0,
        summarised_flows: 0,
        summarised_endpoints: 0,
        flows: 10,
        packets: 500,
        sent: 250,
        bytes: 50_000,
        first_ns: T2012,
        last_ns: T2012 + 120_000_000_000,
    }
}

#[test]
fn skype_protocols_are_skype_presence_of_their_weight() {
    let s = set();
    // A Teams call's STUN to an address no indicator names: regular Skype alone.
    let mut stun = endpoint(&s, "52.115.136.55", "FR", &[], T2026);
    stun.skype_protocols
        .insert(SkypeProtocol::MsStun, T2026 + 5);
    let c = classify(&host(vec![stun.clone()], vec![]));
    assert_eq!(c.verdict.label, Label::RegularSkype);
    let ev = &c.evidence[0];
    assert_eq!(
        (ev.kind.as_str(), ev.weight, ev.firm),
        ("skype-protocol", 0.6, true)
    );
    assert_eq!(ev.matched.as_deref(), Some("ms-stun"));
    // Classic UDP with two peers counts once; received only, it is soft but still counts.
    let mut a = endpoint(&s, "24.224.190.149", "CA", &[], T2012);
    a.skype_protocols.insert(SkypeProtocol::ClassicUdp, T2012);
    let mut b = endpoint(&s, "83.31.12.173", "PL", &[], T2012);
    b.skype_protocols.insert(SkypeProtocol::ClassicUdp, T2012);
    b.host_opened = false;
    let c = classify(&host(vec![a, b.clone()], vec![]));
    assert_eq!(c.verdict.label, Label::RegularSkype);
    assert_eq!(c.verdict.skype_score, 0.5);
    let c = classify(&host(vec![b], vec![]));
    assert_eq!(c.verdict.label, Label::RegularSkype);
    assert!(!c.evidence[0].firm);
    assert_eq!(c.evidence[0].basis, Basis::ReceivedOnly);
    // Both kinds combine as independent signs.
    let mut both = stun;
    both.skype_protocols
        .insert(SkypeProtocol::ClassicUdp, T2026);
    let c = classify(&host(vec![both], vec![]));
    assert_eq!(c.verdict.skype_score, 0.8);
    // Classic TCP alone is a weak sign; with classic UDP, Skype. To a server in China in
    // TOM's years it is still no TOM sign (the China rule needs an indicator's match).
    let mut tcp = endpoint(&s, "220.181.0.9", "CN", &[], T2012);
    tcp.skype_protocols.insert(SkypeProtocol::ClassicTcp, T2012);
    let c = classify(&host(vec![tcp.clone()], vec![]));
    assert_eq!(c.verdict.label, Label::Inconclusive);
    assert_eq!((c.verdict.skype_score, c.verdict.tom_score), (0.4, 0.0));
    assert_eq!(c.evidence[0].matched.as_deref(), Some("classic-tcp"));
    tcp.skype_protocols.insert(SkypeProtocol::ClassicUdp, T2012);
    let c = classify(&host(vec![tcp], vec![]));
    assert_eq!(c.verdict.label, Label::RegularSkype);
    assert_eq!((c.verdict.skype_score, c.verdict.tom_score), (0.7, 0.0));
}

#[test]
fn tom_servers_with_skype_presence_read_tom_skype_in_their_era() {
    let s = set();
    let h = host(
        vec![
            endpoint(&s, "218.30.111.75", "CN", &[], T2012),
            endpoint(&s, "110.81.238.33", "CN", &[], T2012),
            endpoint(&s, "91.190.216.24", "LU", &[], T2012),
        ],
        vec![],
    );
    let c = classify(&h);
    assert_eq!(c.verdict.label, Label::TomSkype);
    assert_eq!(c.verdict.build, Some(Build::Unknown));
    assert!(c
        .evidence
        .iter()
        .any(|e| e.kind == "tom-server" && e.in_validity));
}

#[test]
fn the_same_servers_in_2026_do_not() {
    let s = set();
    let h = host(
        vec![
            endpoint(&s, "218.30.111.75", "CN", &[], T2026),
            endpoint(&s, "110.81.238.33", "CN", &[], T2026),
            endpoint(&s, "91.190.216.24", "LU", &[], T2026),
        ],
        vec![],
    );
    let c = classify(&h);
    assert_ne!(c.verdict.label, Label::TomSkype);
    assert!(c
        .evidence
        .iter()
        .any(|e| !e.in_validity && e.detail.contains("outside its validity")));
}

#[test]
fn a_tom_name_in_the_hosts_own_request_settles_it_in_any_year() {
    let s = set();
    let e = endpoint_seen(
        &s,
        "198.51.100.7",
        "US",
        &["skypetools1.tom.com"],
        Basis::Request,
        T2026,
    );
    let c = classify(&host(vec![e], vec![]));
    assert_eq!(c.verdict.label, Label::TomSkype);
    assert!(c.evidence[0].firm);
}

#[test]
fn a_tom_name_only_looked_up_or_contacted_is_at_most_inconclusive() {
    let s = set();
    let q = Query {
        name: "skypetools1.tom.com".into(),
        first_ns: T2026,
        count: 1,
        matches: s.match_name("skypetools1.tom.com"),
        relayed: false,
        explained: false,
    };
    let c = classify(&host(vec![], vec![q.clone()]));
    assert_eq!(c.verdict.label, Label::Inconclusive);
    assert!(
        c.evidence[0].endpoint.is_none(),
        "a DNS question has no endpoint"
    );
    assert_eq!(c.evidence[0].basis, Basis::LookupOnly);
    // Contacted by its TLS server name, beside regular Skype: still not an accusation.
    let e = endpoint_seen(
        &s,
        "198.51.100.7",
        "US",
        &["skypetools1.tom.com"],
        Basis::ServerName,
        T2026,
    );
    let skype = endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2026);
    let c = classify(&host(vec![e, skype], vec![]));
    assert_eq!(c.verdict.label, Label::Inconclusive);
    // A resolver's lookups are its clients': not counted.
    let mut resolver = host(vec![], vec![q]);
    resolver.dns_clients = 3;
    let c = classify(&resolver);
    assert_eq!(c.verdict.label, Label::NoSkype);
    assert_eq!(c.evidence[0].basis, Basis::Relayed);
}

#[test]
fn visits_and_relays_are_shown_not_counted() {
    let s = set();
    for basis in [Basis::Visit, Basis::Relayed] {
        let e = endpoint_seen(
            &s,
            "198.51.100.7",
            "US",
            &["skypetools.tom.com", "mystatus.skype.com"],
            basis,
            T2012,
        );
        let c = classify(&host(vec![e], vec![]));
        assert_eq!(c.verdict.label, Label::NoSkype, "{basis:?}");
        assert!(c.evidence.iter().all(|e| e.weight == 0.0 && !e.firm));
        assert_eq!(
            c.advisories.iter().any(|a| a.kind == "tom-web-visit"),
            basis == Basis::Visit
        );
    }
}

#[test]
fn unsolicited_names_count_for_little() {
    let s = set();
    let e = endpoint_seen(
        &s,
        "198.51.100.7",
        "US",
        &["skypetools.tom.com", "skypetools1.tom.com", "skype.tom.com"],
        Basis::Unsolicited,
        T2012,
    );
    let c = classify(&host(vec![e], vec![]));
    assert_eq!(c.verdict.label, Label::Inconclusive);
    assert!(c.verdict.tom_score < 0.3 && c.verdict.tom_firm_score == 0.0);
}

#[test]
fn one_address_is_one_server_and_old_addresses_stay_soft() {
    let s = set();
    // 211.100.41.76 is a TOM server and inside TOM's /23: one server, not two.
    let one = host(
        vec![endpoint(&s, "211.100.41.76", "CN", &[], T2012)],
        vec![],
    );
    let c = classify(&one);
    assert_eq!(c.evidence.len(), 1);
    assert_ne!(c.verdict.label, Label::TomSkype);
    // Six TOM servers of 2012 in a 2024 capture: at most inconclusive.
    let t2024 = 1_704_067_200_000_000_000;
    let six = [
        "110.81.238.33",
        "211.100.40.173",
        "211.100.41.76",
        "218.30.111.75",
        "218.6.12.214",
        "219.232.255.99",
    ];
    let mut eps: Vec<Endpoint<'_>> = six
        .iter()
        .map(|a| endpoint(&s, a, "CN", &[], t2024))
        .collect();
    eps.push(endpoint(
        &s,
        "65.55.223.12",
        "US",
        &["api.skype.com"],
        t2024,
    ));
    let c = classify(&host(eps, vec![]));
    assert_eq!(c.verdict.label, Label::Inconclusive, "{:?}", c.verdict);
}

#[test]
fn confidence_follows_coverage() {
    let s = set();
    let e = endpoint_seen(
        &s,
        "198.51.100.7",
        "US",
        &["skypetools1.tom.com"],
        Basis::Request,
        T2012,
    );
    let mut h = host(vec![e], vec![]);
    let full = classify(&h).verdict;
    assert_eq!((full.coverage, full.confidence), (1.0, full.tom_score));
    h.packets = 20;
    h.last_ns = h.first_ns + 1_500_000_000;
    let short = classify(&h).verdict;
    assert_eq!(short.label, Label::TomSkype);
    assert!(short.confidence < 0.95 && short.coverage < 0.1, "{short:?}");
    let mut empty = host(vec![], vec![]);
    empty.last_ns = empty.first_ns + 1_500_000_000;
    let none = classify(&empty).verdict;
    assert_eq!(none.label, Label::NoSkype);
    assert!(none.confidence < 0.5, "{none:?}");
}

#[test]
fn china_without_skype_is_not_evidence_and_skype_names_are_regular() {
    let s = set();
    let browsing = host(
        vec![endpoint(
            &s,
            "220.181.112.244",
            "CN",
            &["www.baidu.com"],
            T2012,
        )],
        vec![],
    );
    let c = classify(&browsing);
    assert_eq!(c.verdict.label, Label::NoSkype);
    assert!(c.evidence.is_empty());
    let regular = host(
        vec![
            endpoint(&s, "220.181.112.244", "CN", &["www.baidu.com"], T2012),
            endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2012),
        ],
        vec![],
    );
    let c = classify(&regular);
    assert_eq!(c.verdict.label, Label::RegularSkype);
    assert!(c.advisories.is_empty());
}

#[test]
fn a_udp_peer_in_china_is_an_advisory_not_a_label() {
    let s = set();
    let mut peer = endpoint(&s, "117.89.132.58", "CN", &[], T2012);
    peer.ports = BTreeSet::from([(17, 26114)]);
    let h = host(
        vec![
            endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2012),
            peer,
        ],
        vec![],
    );
    let c = classify(&h);
    assert_eq!(c.verdict.label, Label::RegularSkype);
    assert_eq!(c.advisories.len(), 1);
    assert_eq!(c.advisories[0].endpoint, "117.89.132.58".parse().ok());
}

#[test]
fn skype_names_resolving_to_china_are_weak_tom_evidence() {
    let s = set();
    let h = host(
        vec![endpoint(&s, "58.215.118.1", "CN", &["ui.skype.com"], T2012)],
        vec![],
    );
    let c = classify(&h);
    assert!(c.evidence.iter().any(|e| e.kind == "skype-to-china"));
    assert_eq!(c.verdict.label, Label::Inconclusive, "{:?}", c.verdict);
    // Not after TOM-Skype's years (Azure China), not for Microsoft's shared names, not
    // for a peer reached on a Skype port.
    let t2024 = 1_704_067_200_000_000_000;
    let later = host(
        vec![endpoint(
            &s,
            "58.215.118.1",
            "CN",
            &["api.skype.com"],
            t2024,
        )],
        vec![],
    );
    let c = classify(&later);
    assert!(!c.evidence.iter().any(|e| e.kind == "skype-to-china"));
    assert_eq!(c.verdict.label, Label::RegularSkype);
    let msn = host(
        vec![endpoint(
            &s,
            "58.215.118.1",
            "CN",
            &["client-s.gateway.messenger.live.com"],
            T2012,
        )],
        vec![],
    );
    assert!(!classify(&msn)
        .evidence
        .iter()
        .any(|e| e.kind == "skype-to-china"));
    let mut peer = endpoint(&s, "58.215.118.1", "CN", &[], T2012);
    peer.matches
        .extend(s.match_port(17, 33033).map(|indicator| Match {
            indicator,
            via: Via::Port(17, 33033),
            basis: Basis::Port,
            first_ns: T2012,
        }));
    assert!(!classify(&host(vec![peer], vec![]))
        .evidence
        .iter()
        .any(|e| e.kind == "skype-to-china"));
}

#[test]
fn a_tom_range_address_named_as_a_web_portal_counts_little() {
    let s = set();
    let h = host(
        vec![
            endpoint(&s, "211.100.41.159", "CN", &["www.tom.com"], T2012),
            endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2012),
        ],
        vec![],
    );
    let c = classify(&h);
    assert_eq!(c.verdict.label, Label::RegularSkype);
    let ev = c.evidence.iter().find(|e| e.kind == "tom-server").unwrap();
    assert!(
        ev.weight < 0.1 && ev.detail.contains("www.tom.com"),
        "{ev:?}"
    );
}

#[test]
fn weak_skype_signs_alone_are_inconclusive_and_nothing_is_no_skype() {
    let s = set();
    let mut e = endpoint(&s, "198.51.100.7", "US", &[], T2012);
    e.matches
        .extend(s.match_port(17, 33033).map(|indicator| Match {
            indicator,
            via: Via::Port(17, 33033),
            basis: Basis::Port,
            first_ns: T2012,
        }));
    let one_port = classify(&host(vec![e.clone()], vec![]));
    assert_eq!(one_port.verdict.label, Label::Inconclusive);
    // Two of Skype's own server ports together are enough.
    e.matches
        .extend(s.match_port(6, 9010).map(|indicator| Match {
            indicator,
            via: Via::Port(6, 9010),
            basis: Basis::Port,
            first_ns: T2012,
        }));
    let two_ports = classify(&host(vec![e], vec![]));
    assert_eq!(two_ports.verdict.label, Label::RegularSkype);
    let c = classify(&host(vec![], vec![]));
    assert_eq!(c.verdict.label, Label::NoSkype);
}

#[test]
fn the_build_is_named_when_single_build_indicators_agree() {
    let mut s = set();
    s.add_text(
        "lab.tsv",
        "@source\tlab\tlab\nid\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription\nlab-en\ttom\tname\ten.example.test\t0.9\ttom-en\t-\tlab\ten only\nlab-cn\ttom\tname\tcn.example.test\t0.9\ttom-cn\t-\tlab\tcn only\n",
    )
    .unwrap();
    let en = host(
        vec![endpoint_seen(
            &s,
            "198.51.100.7",
            "US",
            &["en.example.test"],
            Basis::Request,
            T2012,
        )],
        vec![],
    );
    assert_eq!(classify(&en).verdict.build, Some(Build::English));
    let both = host(
        vec![
            endpoint_seen(
                &s,
                "198.51.100.7",
                "US",
                &["en.example.test"],
                Basis::Request,
                T2012,
            ),
            endpoint_seen(
                &s,
                "198.51.100.8",
                "US",
                &["cn.example.test"],
                Basis::Request,
                T2012,
            ),
        ],
        vec![],
    );
    assert_eq!(classify(&both).verdict.build, Some(Build::Unknown));
}

#[test]
fn labels_round_trip() {
    for l in [
        Label::TomSkype,
        Label::RegularSkype,
        Label::NoSkype,
        Label::Inconclusive,
    ] {
        assert_eq!(Label::parse(l.name()), Some(l));
    }
    assert_eq!(Label::parse("tom"), None);
}
