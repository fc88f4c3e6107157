//! Fuzz target: the Zeek TSV log reader (`zeek::read_log_bytes`) on arbitrary bytes, read as a
//! conn, dns, ssl or http log (the first byte picks the file name, which names the kind when
//! the log has no `#path` line).
//!
//! Never panics; the summary holds: no more records than lines, every problem's line number
//! within the log, and every problem's detail printable through `textsafe` without a control
//! character left.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tomskype::flow::FlowTable;

const NAMES: [&str; 4] = ["conn.log", "dns.log", "ssl.log", "http.log"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, log)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let mut table = FlowTable::default();
    let summary = tomskype::zeek::read_log_bytes(Path::new(name), log, &mut table);
    let lines = log.split(|&b| b == b'\n').count() as u64;
    assert!(
        summary.records <= lines,
        "{} records in {lines} lines",
        summary.records
    );
    assert!(summary.bytes <= log.len() as u64);
    for p in &summary.problems {
        if let Some(line) = p.packet {
            assert!(line <= lines, "problem on line {line} of {lines}");
        }
        let shown = tomskype::textsafe::safe(&p.detail);
        assert!(!shown.chars().any(tomskype::textsafe::is_unsafe));
    }
});
