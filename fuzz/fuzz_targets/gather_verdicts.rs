//! Fuzz target: a sequence of frames gathered twice, once keeping everything and once
//! shedding at every chance (every quiet host summarised, and a memory budget always
//! exceeded: quiet hosts' DNS names thinned, the flows silent longest ended early), then
//! reported. What memory sheds must never change a verdict (issue 15: "what matters for a
//! verdict never dropped"), whatever an attacker puts on the wire; `tests/samples_expected.rs`
//! checks it on the samples, this on arbitrary sequences.
//!
//! Input: the records of `tracker_sequence` ([link-type pick, time step in 100 ms units,
//! length (2 bytes, big-endian), that many frame bytes]; its seeds serve), except that a step
//! above 200 is that many minus 200 minutes, so that sequences reach the sweeps (once a minute
//! of capture time) and the flows' timeouts. Checks: no panic; every host has the same
//! address, label, evidence, advisories and roles in both reports, and the same hosts are
//! counted.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tomskype::addr::LocalNets;
use tomskype::analyze::{Analyzer, Budget, Gatherer, Keep, Memory, Traffic};
use tomskype::capture::{Packet, PacketSink};
use tomskype::flow::Tracker;
use tomskype::knowledge::geoip::GeoIp;
use tomskype::knowledge::indicators::IndicatorSet;

const LINK_TYPES: [u32; 8] = [1, 101, 113, 276, 9, 105, 127, 0];

fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(|| Analyzer {
        geoip: GeoIp::embedded().expect("embedded GeoIP loads"),
        indicators: IndicatorSet::embedded().expect("embedded indicators load"),
        local: LocalNets::new(Vec::new()),
    })
}

fn always_over() -> usize {
    usize::MAX
}

fn frames(data: &[u8]) -> Vec<(i64, u32, u32, &[u8])> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut ts = 1_300_000_000_000_000_000i64;
    while let [pick, step, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        ts += match *step {
            s @ 0..=200 => i64::from(s) * 100_000_000,
            s => i64::from(s - 200) * 60_000_000_000,
        };
        let link_type = LINK_TYPES[usize::from(*pick) % LINK_TYPES.len()];
        // A pick with the high bit set marks the frame as cut by the snaplen.
        let orig_len = len as u32 + u32::from(*pick >> 7) * 100;
        out.push((ts, link_type, orig_len, frame));
    }
    out
}

fn report(frames: &[(i64, u32, u32, &[u8])], memory: Memory) -> tomskype::report::Report {
    let a = analyzer();
    let ctx = a.context();
    let mut gatherer = Gatherer::new(Tracker::new(), &ctx).memory(memory);
    for (number, &(ts_nanos, link_type, orig_len, data)) in frames.iter().enumerate() {
        gatherer.packet(&Packet {
            number: number as u64 + 1,
            offset: 0,
            ts_nanos,
            link_type,
            orig_len,
            data,
        });
    }
    let (gathered, _) = gatherer.finish();
    let traffic = Traffic {
        gathered,
        inputs: Vec::new(),
    };
    a.report_with(traffic, 1, Keep::Signs)
}

fuzz_target!(|data: &[u8]| {
    let frames = frames(data);
    let whole = report(&frames, Memory::default());
    let shed = report(
        &frames,
        Memory {
            summarise_past: Some(0),
            budget: Some(Budget {
                limit: 0,
                held: always_over,
            }),
        },
    );
    assert_eq!(shed.verdicts(), whole.verdicts());
    assert_eq!(shed.host_count(), whole.host_count());
});
