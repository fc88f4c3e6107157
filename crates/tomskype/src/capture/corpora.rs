//! Tests only: the capture readers against the real captures in `../shared/corpora` (libpcap's,
//! nDPI's and the malformed ones), checked against the packet counts of its `MANIFEST.tsv`.
//! Skipped with a notice when the corpora are absent, unless `TOMSKYPE_REQUIRE_CORPORA=1`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{expand_inputs, read_path, Packet, ProblemKind, ReadSummary};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora");

/// The corpora folder (`TOMSKYPE_CORPORA` overrides the default, e.g. for a git worktree that
/// does not sit beside `shared/`), or None (after a notice) when absent and not required.
fn corpora() -> Option<PathBuf> {
    let root =
        std::env::var_os("TOMSKYPE_CORPORA").map_or_else(|| PathBuf::from(ROOT), PathBuf::from);
    if root.join("MANIFEST.tsv").is_file() {
        return Some(root);
    }
    assert!(
        std::env::var("TOMSKYPE_REQUIRE_CORPORA").as_deref() != Ok("1"),
        "corpora required but absent at {}",
        root.display()
    );
    println!("notice: {} is absent; corpus tests skipped", root.display());
    None
}

/// One manifest row: format, packet count (if numeric), status, notes.
struct Row {
    format: String,
    packets: Option<u64>,
    status: String,
    notes: String,
}

fn manifest(root: &Path) -> HashMap<String, Row> {
    let text = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file, format, packets, status, notes) = (
        col("file"),
        col("format"),
        col("packets"),
        col("status"),
        col("notes"),
    );
    lines
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|f| f.len() > notes)
        .map(|f| {
            let row = Row {
                format: f[format].to_string(),
                packets: f[packets].parse().ok(),
                status: f[status].to_string(),
                notes: f[notes].to_string(),
            };
            (f[file].to_string(), row)
        })
        .collect()
}

fn read(path: &Path) -> (u64, ReadSummary) {
    let mut count = 0u64;
    let mut last = 0u64;
    let summary = read_path(path, &mut |p: &Packet<'_>| {
        count += 1;
        assert_eq!(p.number, last + 1, "packets are numbered in order");
        last = p.number;
        assert!(p.data.len() <= 16 << 20);
    });
    assert_eq!(summary.packets, count);
    (count, summary)
}

#[test]
fn corpora_read_as_the_manifest_says() {
    let Some(root) = corpora() else { return };
    let rows = manifest(&root);
    let dirs: Vec<PathBuf> = ["libpcap", "malformed", "ndpi"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let mut checked = 0;
    let mut failures = Vec::new();
    for item in expand_inputs(&dirs) {
        let path = item.path();
        let (count, summary) = read(path);
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Some(row) = rows.get(&rel) else { continue };
        if !row.format.starts_with("pcap") {
            continue;
        }
        let Some(want) = row.packets else { continue };
        checked += 1;
        // libpcap refuses these versions, and so does this reader (the manifest counts what a
        // lenient tool found in them).
        if row.notes.contains("major version") || row.notes.contains("unknown SHB version") {
            if summary.problems.first().map(|p| p.kind) != Some(ProblemKind::UnsupportedVersion) {
                failures.push(format!(
                    "{rel}: expected an unsupported version, got {summary:?}"
                ));
            }
            continue;
        }
        let ok = match row.status.as_str() {
            "ok" => {
                count == want
                    && summary
                        .problems
                        .iter()
                        .all(|p| p.kind == ProblemKind::CaplenOverSnaplen)
            }
            _ => count >= want && !summary.problems.is_empty(),
        };
        if !ok {
            failures.push(format!(
                "{rel}: {count} packets, manifest says {want} ({}): {:?}",
                row.status, summary.problems
            ));
        }
    }
    assert!(checked > 90, "only {checked} manifest rows checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpora_malformed_files_keep_their_good_packets() {
    let Some(root) = corpora() else { return };
    let cases = [
        (
            "malformed/sv_bug-1450-04_tls_DER-incomplete-header.pcap",
            6,
            ProblemKind::BadRecord,
        ),
        (
            "malformed/sv_smtp-to-comma_10.7.29.101_49898-178.63.41.150_25.pcap",
            18,
            ProblemKind::BadRecord,
        ),
        (
            "malformed/sv_http-mime-truncated_input.pcap",
            2696,
            ProblemKind::TruncatedRecord,
        ),
        (
            "malformed/sv_pgsql_pgsql-5000-query-results_input.pcap",
            785,
            ProblemKind::TruncatedRecord,
        ),
        (
            "libpcap/shb-option-too-long.pcapng",
            0,
            ProblemKind::BadRecord,
        ),
    ];
    for (rel, good, kind) in cases {
        let (count, summary) = read(&root.join(rel));
        assert!(
            count >= good,
            "{rel}: {count} packets, want at least {good}"
        );
        let first = summary.problems.first().map(|p| p.kind);
        assert_eq!(first, Some(kind), "{rel}: {:?}", summary.problems);
        println!("{rel}: {count} packets, {:?}", summary.problems);
    }
}

#[test]
fn every_corpus_file_reads_without_panic() {
    let Some(root) = corpora() else { return };
    let mut totals = (0u64, 0u64, 0u64);
    for item in expand_inputs(&[root]) {
        let (count, summary) = read(item.path());
        totals.0 += 1;
        totals.1 += count;
        totals.2 += u64::from(summary.unreadable);
    }
    println!(
        "{} files, {} packets, {} unreadable",
        totals.0, totals.1, totals.2
    );
    assert!(totals.1 > 10_000);
}

#[test]
fn every_corpus_file_reads_alike_shared_in_small_chunks() {
    let Some(root) = corpora() else { return };
    let mut files = 0;
    for item in expand_inputs(&[root]) {
        // Chunks of an odd size, so that records straddle them everywhere.
        super::shared::tests::same_as_alone(item.path(), 3, 2, 4093, 3);
        files += 1;
    }
    assert!(files > 1000, "{files}");
}
