//! Throughput of each stage of the pipeline over the real frames of the captures in
//! `captures/` (in the repository): the decoder alone, the flow tracker (decode + flow table +
//! the application parsers' cheap checks), enrichment and classification of a built table, and
//! the whole read → report of each capture file. Per byte and per packet.

// criterion_group! and criterion_main! define undocumented functions.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tomskype::addr::LocalNets;
use tomskype::analyze::{read_captures, Analyzer};
use tomskype::capture::{read_bytes, Packet, PacketSink};
use tomskype::decode;
use tomskype::flow::Tracker;
use tomskype::knowledge::{geoip::GeoIp, indicators::IndicatorSet};

/// One captured frame, owned.
struct Frame {
    link_type: u32,
    ts_nanos: i64,
    orig_len: u32,
    data: Vec<u8>,
}

fn capture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.contains(".pcap")
    });
    files.sort();
    files
}

/// Every frame of every capture in `captures/`, in file order.
fn frames() -> Vec<Frame> {
    let mut out = Vec::new();
    for path in capture_files() {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        read_bytes(&bytes, &mut |p: &Packet<'_>| {
            out.push(Frame {
                link_type: p.link_type,
                ts_nanos: p.ts_nanos,
                orig_len: p.orig_len,
                data: p.data.to_vec(),
            })
        });
    }
    out
}

fn feed(tracker: &mut Tracker, frames: &[Frame]) {
    for (i, f) in frames.iter().enumerate() {
        tracker.packet(&Packet {
            number: i as u64 + 1,
            offset: 0,
            ts_nanos: f.ts_nanos,
            link_type: f.link_type,
            orig_len: f.orig_len,
            data: &f.data,
        });
    }
}

fn analyzer() -> Analyzer {
    Analyzer {
        geoip: GeoIp::embedded().expect("embedded geoip"),
        indicators: IndicatorSet::embedded().expect("embedded indicators"),
        local: LocalNets::new(Vec::new()),
    }
}

fn stages(c: &mut Criterion) {
    let frames = frames();
    assert!(!frames.is_empty(), "no frames in captures/");
    let bytes: u64 = frames.iter().map(|f| f.data.len() as u64).sum();

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("bytes", |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for f in &frames {
                if let Ok(d) = decode::decode(f.link_type, black_box(&f.data)) {
                    ok += u64::from(d.sport) + d.payload.len() as u64;
                }
            }
            black_box(ok)
        })
    });
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("packets", |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for f in &frames {
                ok += u64::from(decode::decode(f.link_type, black_box(&f.data)).is_ok());
            }
            black_box(ok)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("flow_tracker");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("bytes", |b| {
        b.iter(|| {
            let mut tracker = Tracker::new();
            feed(&mut tracker, black_box(&frames));
            black_box(tracker.table().flows.len())
        })
    });
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("packets", |b| {
        b.iter(|| {
            let mut tracker = Tracker::new();
            feed(&mut tracker, black_box(&frames));
            black_box(tracker.table().flows.len())
        })
    });
    group.finish();

    // Enrichment + classification of the table built from all of captures/.
    let analyzer = analyzer();
    let files = capture_files();
    let traffic = read_captures(&files, &analyzer, 1, None);
    let flows = traffic.gathered.flows;
    let mut group = c.benchmark_group("enrich_classify");
    group.throughput(Throughput::Elements(flows));
    group.bench_function("flows", |b| {
        b.iter_batched(
            || read_captures(&files, &analyzer, 1, None),
            |traffic| black_box(analyzer.report(traffic).hosts.len()),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();

    // The whole pipeline, file by file: read (from the page cache) → report.
    let mut group = c.benchmark_group("read_report");
    for path in &files {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        group.throughput(Throughput::Bytes(size));
        let one = [path.clone()];
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    analyzer
                        .report(read_captures(&one, &analyzer, 1, None))
                        .hosts
                        .len(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
