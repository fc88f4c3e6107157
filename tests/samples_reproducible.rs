//! The committed sample captures in `captures/` are exactly what the generator makes: same
//! bytes, same expected labels, no stale or unknown files. Regenerate with
//! `cargo run --example make_samples` (the library's `samples` feature, on for tests and examples only).

use std::collections::BTreeSet;
use std::path::PathBuf;

use tomskype::samples;

const REGENERATE: &str = "regenerate with `cargo run --example make_samples` (the library's `samples` feature, on for tests and examples only) and commit captures/";

fn captures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/captures"))
}

#[test]
fn generating_twice_gives_identical_bytes() {
    let a = samples::all();
    let b = samples::all();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.file_name, y.file_name);
        assert!(
            x.bytes == y.bytes,
            "{} differs between two runs: the generator is not deterministic",
            x.file_name
        );
        assert_eq!(x.expected_json(), y.expected_json());
    }
}

#[test]
fn committed_captures_match_the_generator() {
    let dir = captures_dir();
    for sample in samples::all() {
        let path = dir.join(&sample.file_name);
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}; {REGENERATE}", path.display()));
        assert!(
            committed == sample.bytes,
            "{} is stale ({} bytes committed, {} generated); {REGENERATE}",
            path.display(),
            committed.len(),
            sample.bytes.len()
        );
        let path = dir.join(sample.expected_file_name());
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}; {REGENERATE}", path.display()));
        assert_eq!(
            committed,
            sample.expected_json(),
            "{} is stale; {REGENERATE}",
            path.display()
        );
    }
}

#[test]
fn no_unknown_files_in_captures() {
    let known: BTreeSet<String> = samples::all()
        .iter()
        .flat_map(|s| [s.file_name.clone(), s.expected_file_name()])
        .chain(["README.md".to_string()])
        .collect();
    let entries = std::fs::read_dir(captures_dir())
        .unwrap_or_else(|e| panic!("cannot list captures/: {e}; {REGENERATE}"));
    for entry in entries {
        let name = entry
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            known.contains(&name),
            "captures/{name} belongs to no sample: remove it or add its scenario; {REGENERATE}"
        );
    }
}

#[test]
fn expected_labels_are_ground_truth_labels() {
    let labels = ["tom-skype", "regular-skype", "no-skype", "inconclusive"];
    for sample in samples::all() {
        assert!(
            !sample.expected.is_empty(),
            "{} lists no host",
            sample.file_name
        );
        for (host, label) in &sample.expected {
            assert!(
                host.parse::<std::net::IpAddr>().is_ok(),
                "{}: {host} is not an address",
                sample.file_name
            );
            assert!(
                labels.contains(&label.as_str()),
                "{}: unknown label {label}",
                sample.file_name
            );
        }
        let json: serde_json::Value =
            serde_json::from_str(&sample.expected_json()).expect("valid json");
        assert_eq!(
            json["hosts"].as_object().map(|m| m.len()),
            Some(sample.expected.len())
        );
        assert!(json["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}
