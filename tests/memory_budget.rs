//! `--max-memory` on a stream whose memory is in names, not flows: machines looking up names
//! never asked before, each answered with an address never given before (as
//! `bench/make_stream.py --dns`), then TOM-Skype's login. Under a budget the names that can
//! never weigh are shed before any flow is ended early, the verdicts are those of the run
//! without a budget, and (on Linux, where the peak is measured) the peak stays near the budget.
//! The budget counts the growth a table is near: a hash map holds its old and new tables while
//! it grows, so a budget that waits for the growth is passed by it.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;

use tomskype::analyze::{Budget, Inputs, Keep, Memory};

mod common;

const LOOKUPS: u32 = 120_000;
const MACHINES: u32 = 100;

/// The DNS message of lookup `n`: its question, or its answer (an A record for an address
/// never given before).
fn dns(n: u32, answer: bool) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    let tid = (n & 0xffff) as u16;
    m.extend_from_slice(&tid.to_be_bytes());
    m.extend_from_slice(&(if answer { 0x8180u16 } else { 0x0100 }).to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, u8::from(answer), 0, 0, 0, 0]);
    let first = format!("h{n}");
    for label in [first.as_str(), "example", "com"] {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if answer {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4]);
        m.extend_from_slice(&(0xc612_0000u32 + n % (1 << 17)).to_be_bytes());
    }
    m
}

/// The stream, as a classic pcap: `LOOKUPS` lookups of `MACHINES` machines, 1,000 a second.
fn write_stream(path: &Path) {
    let resolver = Ipv4Addr::new(100, 64, 0, 53).octets();
    // Written as it is made: this process's own peak counts in its children's (below).
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes()).unwrap();
    out.write_all(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 1, 0, 0, 0,
    ])
    .unwrap();
    let start_us: u64 = 1_307_585_000 * 1_000_000;
    for n in 0..LOOKUPS {
        let machine = (0x6440_0001u32 + n % MACHINES).to_be_bytes();
        let port = 40_000 + (n % 20_000) as u16;
        let t = start_us + u64::from(n) * 1_000;
        for answer in [false, true] {
            let (src, dst, sport, dport) = if answer {
                (resolver, machine, 53, port)
            } else {
                (machine, resolver, port, 53)
            };
            let payload = dns(n, answer);
            let builder =
                etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                    .ipv4(src, dst, 64)
                    .udp(sport, dport);
            let mut frame = Vec::with_capacity(builder.size(payload.len()));
            builder.write(&mut frame, &payload).unwrap();
            let len = (frame.len() as u32).to_le_bytes();
            out.write_all(&((t / 1_000_000) as u32).to_le_bytes())
                .unwrap();
            out.write_all(&((t % 1_000_000) as u32).to_le_bytes())
                .unwrap();
            out.write_all(&len).unwrap();
            out.write_all(&len).unwrap();
            out.write_all(&frame).unwrap();
        }
    }
    out.flush().unwrap();
}

/// Runs `tomskype analyze` on `inputs` with `--max-memory budget`: its JSON report and its peak
/// resident memory in bytes (None off Linux).
fn analyze(inputs: &[&Path], budget: &str) -> (serde_json::Value, Option<u64>) {
    common::analyze_child(&["--max-memory", budget], inputs)
}

/// The hosts with a sign: address, label and evidence.
fn signs(r: &serde_json::Value) -> Vec<String> {
    r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{} {} {}",
                h["address"], h["verdict"]["label"], h["evidence"]
            )
        })
        .collect()
}

/// One test, in this order: on Linux a child's peak counts the peak of this process when the
/// child started (`exec` records it), so the child processes run before this process reads
/// the stream itself.
#[test]
fn a_budget_sheds_names_that_cannot_weigh_before_flows_and_keeps_near_it() {
    let dir = tempfile::tempdir().unwrap();
    let stream = dir.path().join("lookups.pcap");
    write_stream(&stream);
    let login = common::root().join("captures/tom-skype-cn-2011-login-beacon.pcap");
    let inputs = [stream.as_path(), login.as_path()];

    let (bounded, bounded_peak) = analyze(&inputs, "24M");
    let (whole, whole_peak) = analyze(&inputs, "0");

    // Without a budget nothing is shed.
    assert!(whole.get("memory").is_none(), "{}", whole["memory"]);
    let mem = &bounded["memory"];
    assert!(mem["budget_reached"].as_u64().unwrap() >= 1, "{mem}");
    // The questions and answers of machines with no sign went, and no flow was ended early.
    assert!(
        mem["questions_dropped"].as_u64().unwrap() > u64::from(LOOKUPS) / 2,
        "{mem}"
    );
    assert_eq!(mem["flows_ended_early"], 0, "{mem}");
    assert_eq!(mem["still_over"], false, "{mem}");
    // The same verdicts, TOM-Skype's login among them.
    assert_eq!(bounded["totals"]["labels"], whole["totals"]["labels"]);
    assert_eq!(bounded["totals"]["labels"]["tom-skype"], 1);
    assert_eq!(signs(&bounded), signs(&whole));

    if let (Some(bounded_peak), Some(whole_peak)) = (bounded_peak, whole_peak) {
        eprintln!(
            "peak with --max-memory 24M: {:.1} MB, without: {:.1} MB",
            common::mib(bounded_peak),
            common::mib(whole_peak)
        );
        // What the budget does not count (the program's code and stack, the allocator's
        // loose pages) is a few MB.
        assert!(
            bounded_peak < (24 + 16) << 20,
            "peak {:.1} MB with a 24 MB budget",
            common::mib(bounded_peak)
        );
        assert!(
            bounded_peak * 3 < whole_peak * 2,
            "{:.1} MB against {:.1} MB without a budget",
            common::mib(bounded_peak),
            common::mib(whole_peak)
        );
    }

    // With nothing held at all, the budget is reached by the growth the answers' and
    // questions' tables are near alone (a budget blind to it is never reached here), and it
    // sheds their quiet names, not flows nor verdicts.
    fn nothing_held() -> usize {
        0
    }
    let paths = [stream.clone(), login.clone()];
    let a = common::analyzer();
    let mut inputs = Inputs::expand(&paths);
    let whole = a.report_with(inputs.read(&a, 1, None), 1, Keep::Signs);
    inputs.memory = Memory {
        summarise_past: None,
        budget: Some(Budget {
            limit: 8 << 20,
            held: nothing_held,
        }),
    };
    let shed = a.report_with(inputs.read(&a, 1, None), 1, Keep::Signs);
    let mem = shed.memory;
    assert!(mem.budget_reached >= 1, "{mem:?}");
    assert!(mem.questions_dropped > 0, "{mem:?}");
    assert_eq!(mem.flows_ended_early, 0, "{mem:?}");
    assert!(!mem.still_over, "{mem:?}");
    assert_eq!(shed.totals.labels, whole.totals.labels);
    let signs = |r: &tomskype::report::Report| signs(&serde_json::to_value(r).unwrap());
    assert_eq!(signs(&shed), signs(&whole));
}
