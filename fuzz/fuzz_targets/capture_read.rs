//! Fuzz target: `capture::read_bytes` on arbitrary bytes (pcap, pcapng, gzip of either).
//!
//! Besides "no panic", checks the invariants every reader promises: packets are numbered
//! 1, 2, 3... in order, record offsets increase strictly, each packet's data lies inside the
//! (decompressed) input, the summary counts the packets handed over, and problems are in
//! order of offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::capture::{self, Packet};

fuzz_target!(|data: &[u8]| {
    let gzip = data.starts_with(&[0x1f, 0x8b]);
    let mut count = 0u64;
    let mut last_offset: Option<u64> = None;
    let mut sink = |p: &Packet<'_>| {
        count += 1;
        assert_eq!(p.number, count, "packets numbered consecutively from 1");
        if let Some(prev) = last_offset {
            assert!(
                p.offset > prev,
                "offsets increase: {} after {}",
                p.offset,
                prev
            );
        }
        last_offset = Some(p.offset);
        if !gzip {
            // The packet's bytes are a slice of the input, after its record header.
            let start = p.data.as_ptr() as usize;
            let base = data.as_ptr() as usize;
            assert!(start >= base && start + p.data.len() <= base + data.len());
            assert!(
                (start - base) as u64 > p.offset,
                "data after the record header"
            );
        }
    };
    let summary = capture::read_bytes(data, &mut sink);
    assert_eq!(
        summary.packets, count,
        "summary counts the packets handed over"
    );
    if !gzip {
        assert!(summary.bytes <= data.len() as u64);
    }
    if let Some(last) = last_offset {
        assert!(last < summary.bytes.max(1) || gzip);
    }
    let offsets: Vec<u64> = summary.problems.iter().filter_map(|p| p.offset).collect();
    assert!(
        offsets.windows(2).all(|w| w[0] <= w[1]),
        "problems in offset order"
    );
    if summary.unreadable {
        assert_eq!(count, 0, "an unreadable input gives no packets");
    }
});
