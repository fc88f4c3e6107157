//! Fuzz target: the Zeek JSON log reader on arbitrary bytes: each line through
//! `zeek::json::parse_line`, then the whole input through `zeek::read_log_bytes` as a conn,
//! dns, ssl or http log (the first byte picks which).
//!
//! Never panics; a line that parses is a JSON object; the summary holds no more records than
//! lines, and its problems name lines within the log.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tomskype::flow::FlowTable;

const NAMES: [&str; 4] = ["conn.log", "dns.log", "ssl.log", "http.log"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, log)) = data.split_first() else {
        return;
    };
    for line in String::from_utf8_lossy(log).lines() {
        if tomskype::zeek::json::parse_line(line).is_ok() {
            assert!(line.trim_start().starts_with('{'), "{line:?}");
        }
    }
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let mut table = FlowTable::default();
    let summary = tomskype::zeek::read_log_bytes(Path::new(name), log, &mut table);
    let lines = log.split(|&b| b == b'\n').count() as u64;
    assert!(
        summary.records <= lines,
        "{} records in {lines} lines",
        summary.records
    );
    for p in &summary.problems {
        if let Some(line) = p.packet {
            assert!(line <= lines, "problem on line {line} of {lines}");
        }
    }
});
