//! Throughput of the capture readers over an in-memory pcap of synthetic packets: the cost of
//! walking records (header decode, bounds checks, the sink call), not of decoding packets.

// criterion_group! and criterion_main! define undocumented functions.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tomskype::capture::{read_bytes, Packet};

/// A little-endian microsecond pcap of `count` packets of 60..1500 bytes.
fn synthetic_pcap(count: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(count as usize * 800);
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut seed = 0x2545_f491u32;
    for i in 0..count {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let len = 60 + seed % 1441;
        for v in [1_700_000_000 + i / 1000, (i % 1000) * 1000, len, len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.resize(out.len() + len as usize, (i % 251) as u8);
    }
    out
}

fn capture_read(c: &mut Criterion) {
    let pcap = synthetic_pcap(200_000);
    let mut group = c.benchmark_group("capture_read");
    group.throughput(Throughput::Bytes(pcap.len() as u64));
    group.bench_function("pcap_200k", |b| {
        b.iter(|| {
            let mut total = 0u64;
            let summary = read_bytes(black_box(&pcap), &mut |p: &Packet<'_>| {
                total += p.data.len() as u64;
            });
            assert_eq!(summary.packets, 200_000);
            black_box(total)
        })
    });
    group.finish();
}

criterion_group!(benches, capture_read);
criterion_main!(benches);
