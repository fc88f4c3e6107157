//! Fuzz target: a sequence of frames through a fresh `flow::Tracker`, so that IP fragment
//! reassembly, TCP stream reassembly and tunnel decapsulation see arbitrary orders, overlaps,
//! retransmissions and timeouts across packets.
//!
//! Input: records of [link-type pick, time step in 100 ms units, length (2 bytes, big-endian),
//! that many frame bytes]. Checks: no panic, the buffers stay within their stated bounds
//! (4 MiB of fragments plus 8 MiB of streams), and the counts add up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::capture::{Packet, PacketSink};
use tomskype::flow::Tracker;

const LINK_TYPES: [u32; 8] = [1, 101, 113, 276, 9, 105, 127, 0];
const BOUND: usize = (4 << 20) + (8 << 20);

fuzz_target!(|data: &[u8]| {
    let mut tracker = Tracker::new();
    let mut rest = data;
    let mut ts = 1_300_000_000_000_000_000i64;
    let mut number = 0u64;
    while let [pick, step, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        number += 1;
        ts += i64::from(*step) * 100_000_000;
        tracker.packet(&Packet {
            number,
            offset: 0,
            ts_nanos: ts,
            link_type: LINK_TYPES[usize::from(*pick) % LINK_TYPES.len()],
            // A pick with the high bit set marks the frame as cut by the snaplen.
            orig_len: len as u32 + u32::from(*pick >> 7) * 100,
            data: frame,
        });
        assert!(
            tracker.buffered() <= BOUND,
            "{} bytes buffered",
            tracker.buffered()
        );
    }
    let (_, stats) = tracker.into_parts();
    let f = stats.fragments;
    assert!(f.reassembled + f.incomplete + f.overlapping <= f.fragments + 1);
    let t = stats.tcp_reassembly;
    assert!(t.reassembled + t.incomplete <= t.segments_buffered);
});
