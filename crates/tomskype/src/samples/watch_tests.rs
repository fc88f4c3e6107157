//! Tests (compiled for tests only): what a long stream tells while it runs (issue 15): a
//! verdict that changes is told once, at the sweep after the evidence, the same on every
//! replay. The live session's test of the same (`live::session`) takes its capture from here.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::idle_tests::{an_hour_of_new_flows, analyzer, pcap_of, sa, T0};
use super::packets::{Trace, SEC};
use super::tom::tom_2011_session;
use crate::analyze::{Gatherer, OnChange, Traffic, SWEEP_NS};
use crate::capture;
use crate::classify::Label;
use crate::flow::Tracker;

fn ip(a: &str) -> IpAddr {
    a.parse().expect("test address")
}

fn bytes(tr: Trace) -> Vec<u8> {
    pcap_of(tr, "watch test")
}

/// Twenty minutes of a quiet machine's traffic (a new flow every 10 s), and a TOM-Skype login
/// by another at minute 10.
fn twenty_minutes() -> Vec<u8> {
    let mut tr = Trace::new(15);
    tr.local(ip("10.0.0.3"), [2, 0, 0, 0, 0, 3]);
    tr.local(ip("10.0.0.23"), [2, 0, 0, 0, 0, 23]);
    tr.local(ip("10.0.0.1"), [2, 0, 0, 0, 0, 1]);
    for i in 0..120u16 {
        let ts = T0 + i64::from(i) * 10 * SEC;
        tr.udp(
            ts,
            sa("10.0.0.3", 30000 + i),
            sa("198.51.100.7", 9000),
            b"q",
        );
    }
    tom_2011_session(
        &mut tr,
        ip("10.0.0.23"),
        ip("10.0.0.1"),
        T0 + 600 * SEC + SEC / 2,
        "someone",
    );
    bytes(tr)
}

/// Changes told: (capture time, host, label before, label now).
type Told = Vec<(i64, IpAddr, Label, Label)>;

/// What a stream tells, and the final report's label of each host.
fn stream(bytes: &[u8]) -> (Told, Vec<(IpAddr, Label)>) {
    let analyzer = analyzer();
    let ctx = analyzer.context();
    let told = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&told);
    let on_change = OnChange(Arc::new(move |c: &crate::analyze::Change| {
        sink.lock().expect("not poisoned").push((
            c.at_ns,
            c.host.address,
            c.was,
            c.host.verdict.label,
        ));
    }));
    let mut gatherer = Gatherer::new(Tracker::with_watch(analyzer.indicators.watch()), &ctx)
        .tell_changes(on_change);
    capture::read_bytes(bytes, &mut gatherer);
    let (gathered, _) = gatherer.finish();
    let report = analyzer.report(Traffic {
        gathered,
        inputs: Vec::new(),
    });
    let labels = report
        .hosts
        .iter()
        .map(|h| (h.address, h.verdict.label))
        .collect();
    let told = told.lock().expect("not poisoned").clone();
    (told, labels)
}

#[test]
fn a_stream_tells_a_verdict_once_at_the_sweep_after_the_evidence() {
    let capture = twenty_minutes();
    let (told, labels) = stream(&capture);
    assert_eq!(told.len(), 1, "{told:?}");
    let (at, host, was, now) = told[0];
    assert_eq!(
        (host, was, now),
        (ip("10.0.0.23"), Label::NoSkype, Label::TomSkype)
    );
    // The login starts at minute 10 and lasts seconds: told at the sweep of minute 11.
    assert_eq!(
        at.div_euclid(SWEEP_NS) * SWEEP_NS,
        T0 + 11 * SWEEP_NS,
        "{at}"
    );
    // The final report agrees, and the quiet machine was never told.
    assert!(
        labels.contains(&(ip("10.0.0.23"), Label::TomSkype)),
        "{labels:?}"
    );
    assert!(!told.iter().any(|t| t.1 == ip("10.0.0.3")));
    // A replay tells the same.
    assert_eq!(stream(&capture).0, told);
}

#[test]
fn a_login_at_the_end_of_a_stream_is_told_before_the_report() {
    // The login comes in the stream's last minute: no sweep after it, the last look tells it.
    let (told, labels) = stream(&an_hour_then_a_login());
    assert_eq!(told.len(), 1, "{told:?}");
    let (at, host, was, now) = told[0];
    assert_eq!(
        (host, was, now),
        (ip("10.0.0.23"), Label::NoSkype, Label::TomSkype)
    );
    assert!(at > T0 + 3600 * SEC, "{at}");
    assert!(labels.contains(&(host, now)), "{labels:?}");
}

/// An hour of new flows from one machine, one a second, then a TOM-Skype login by another:
/// the capture of the live session test (`live::session`).
pub(crate) fn an_hour_then_a_login() -> Vec<u8> {
    let mut tr = Trace::new(16);
    tr.local(ip("10.0.0.3"), [2, 0, 0, 0, 0, 3]);
    tr.local(ip("10.0.0.23"), [2, 0, 0, 0, 0, 23]);
    tr.local(ip("10.0.0.1"), [2, 0, 0, 0, 0, 1]);
    an_hour_of_new_flows(&mut tr, "10.0.0.3", "198.51.100.7");
    let end = T0 + 3600 * SEC;
    tom_2011_session(&mut tr, ip("10.0.0.23"), ip("10.0.0.1"), end, "someone");
    bytes(tr)
}
