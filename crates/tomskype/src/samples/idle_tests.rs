//! Tests (compiled for tests only): flows leave the flow table when they have been silent for
//! their timeout (issue 15), as the binary reads captures ([`crate::analyze::Gatherer`]): the
//! table holds only the flows still going, a flow silent past its timeout starts again as a new
//! one, and when that happens depends only on the flow's own packets, not on the traffic beside
//! it (so that readers that split the traffic agree).

use std::net::{IpAddr, SocketAddr};

use etherparse::TcpHeader;

use super::packets::{Link, Trace, SEC};
use super::render::{output, render, PCAP_LE};
use super::Scenario;
use crate::addr::LocalNets;
use crate::analyze::{Analyzer, Gatherer, Traffic};
use crate::capture;
use crate::flow::Tracker;
use crate::knowledge::geoip::GeoIp;
use crate::knowledge::indicators::IndicatorSet;
use crate::report::{HostReport, Report};

/// 2011-06-09, at the start of a sweep period (a whole minute). (Also for `watch_tests.rs`,
/// as the helpers below.)
pub(super) const T0: i64 = 1_307_585_760 * SEC;

pub(super) fn sa(a: &str, port: u16) -> SocketAddr {
    SocketAddr::new(a.parse().expect("test address"), port)
}

pub(super) fn analyzer() -> Analyzer {
    Analyzer {
        geoip: GeoIp::embedded().expect("embedded GeoIP"),
        indicators: IndicatorSet::embedded().expect("embedded indicators"),
        local: LocalNets::new(Vec::new()),
    }
}

/// The trace as a pcap capture (`name` is its scenario's).
pub(super) fn pcap_of(tr: Trace, name: &'static str) -> Vec<u8> {
    let scenario = Scenario::new(tr, name, &[]);
    render(
        &scenario,
        &output("test", PCAP_LE, &[(Link::Ethernet, "eth0")]),
    )
}

/// One new UDP flow a second for an hour from T0, `from` (ports 20000 on) to `to` port 9000,
/// as a scanner or a busy client makes them.
pub(super) fn an_hour_of_new_flows(tr: &mut Trace, from: &str, to: &str) {
    for i in 0..3600u16 {
        let ts = T0 + i64::from(i) * SEC;
        tr.udp(ts, sa(from, 20000 + i), sa(to, 9000), b"x");
    }
}

/// Reads the trace as `tomskype analyze` would: its report, and how many flows were still in
/// the table at the end.
fn read(tr: Trace) -> (Report, usize) {
    let bytes = pcap_of(tr, "idle flows test");
    let analyzer = analyzer();
    let ctx = analyzer.context();
    let mut gatherer = Gatherer::new(Tracker::with_watch(analyzer.indicators.watch()), &ctx);
    capture::read_bytes(&bytes, &mut gatherer);
    let going = gatherer.flows_going();
    let (gathered, _) = gatherer.finish();
    let traffic = Traffic {
        gathered,
        inputs: Vec::new(),
    };
    (analyzer.report(traffic), going)
}

fn host<'r>(r: &'r Report, addr: &str) -> &'r HostReport {
    let addr: IpAddr = addr.parse().expect("test address");
    r.hosts
        .iter()
        .find(|h| h.address == addr)
        .expect("host in report")
}

fn trace() -> Trace {
    let mut tr = Trace::new(15);
    tr.local("192.168.1.2".parse().expect("address"), [2, 0, 0, 0, 0, 1]);
    tr.local("192.168.1.3".parse().expect("address"), [2, 0, 0, 0, 0, 2]);
    tr
}

#[test]
fn an_hour_of_new_flows_leaves_only_the_last_minute_in_the_table() {
    let mut tr = trace();
    an_hour_of_new_flows(&mut tr, "192.168.1.2", "203.0.113.9");
    let (report, going) = read(tr);
    // At most the flows of the last timeout (60 s) and sweep period (60 s).
    assert!(going <= 121, "{going} flows still in the table");
    let h = host(&report, "192.168.1.2");
    assert_eq!(h.coverage.flows, 3600);
    assert_eq!(h.coverage.packets, 3600);
    assert_eq!(report.totals.flows, 3600);
}

/// Packets of one UDP flow (silent 170 s once: over after 60 s, seen at the next minute's
/// sweep) and one TCP flow (silent 200 s, then 600 s: over after 300 s), with `busy` other
/// packets between them or none.
fn two_flows(busy: bool) -> Report {
    let mut tr = trace();
    let (client, udp_server) = (sa("192.168.1.2", 40000), sa("203.0.113.9", 5000));
    for t in [0, 30, 200, 201] {
        tr.udp(T0 + t * SEC, client, udp_server, b"u");
    }
    let (tcp_client, tcp_server) = (sa("192.168.1.2", 40001), sa("203.0.113.10", 443));
    for (n, t) in [0i64, 200, 800].into_iter().enumerate() {
        let mut h = TcpHeader::new(40001, 443, 1000 + n as u32, 64240);
        h.ack = n > 0;
        h.syn = n == 0;
        tr.tcp(T0 + t * SEC, tcp_client, tcp_server, h, b"");
    }
    if busy {
        // Another host, every 3 seconds: sweeps now happen between the flows' packets too.
        for i in 0..300 {
            tr.udp(
                T0 + i * 3 * SEC + SEC / 2,
                sa("192.168.1.3", 50000),
                sa("198.51.100.7", 53),
                b"b",
            );
        }
    }
    read(tr).0
}

#[test]
fn a_flow_silent_past_its_timeout_starts_again() {
    let report = two_flows(false);
    let h = host(&report, "192.168.1.2");
    // UDP: {0, 30}, {200, 201}; TCP: {0, 200}, {800}.
    assert_eq!(h.coverage.flows, 4);
    assert_eq!(h.coverage.packets, 7);
    let flows = |addr: &str| {
        let addr: IpAddr = addr.parse().expect("address");
        h.endpoints
            .iter()
            .find(|e| e.address == addr)
            .map(|e| e.flows)
    };
    assert_eq!(flows("203.0.113.9"), Some(2));
    assert_eq!(flows("203.0.113.10"), Some(2));
}

#[test]
fn when_a_flow_is_over_does_not_depend_on_the_traffic_beside_it() {
    let (quiet, busy) = (two_flows(false), two_flows(true));
    let (a, b) = (host(&quiet, "192.168.1.2"), host(&busy, "192.168.1.2"));
    assert_eq!(
        serde_json::to_string(a).expect("json"),
        serde_json::to_string(b).expect("json")
    );
}
