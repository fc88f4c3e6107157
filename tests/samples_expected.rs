//! Every generated sample capture in `captures/` reads as its `NAME.expected.json` says: each
//! host listed there has that label (other hosts, such as the resolver, may be reported too).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn every_sample_meets_its_expected_labels() {
    let dir = common::root().join("captures");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for expected_path in entries
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".expected.json"))
    {
        let stem = expected_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".expected.json")
            .to_owned();
        let capture = entries
            .iter()
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name != format!("{stem}.expected.json") && name.starts_with(&format!("{stem}.pcap"))
            })
            .unwrap_or_else(|| panic!("no capture beside {}", expected_path.display()));
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(expected_path).unwrap()).unwrap();
        let hosts: BTreeMap<String, String> =
            serde_json::from_value(expected["hosts"].clone()).unwrap();
        assert!(
            !hosts.is_empty(),
            "{} lists no hosts",
            expected_path.display()
        );
        let report = common::analyze(std::slice::from_ref(capture));
        for (addr, label) in &hosts {
            let got = report.hosts.iter().find(|h| h.address.to_string() == *addr);
            match got {
                None => failures.push(format!("{stem}: host {addr} missing, expected {label}")),
                Some(h) if h.verdict.label.name() != label => failures.push(format!(
                    "{stem}: host {addr} is {} (tom {:.2}, skype {:.2}), expected {label}",
                    h.verdict.label.name(),
                    h.verdict.tom_score,
                    h.verdict.skype_score
                )),
                Some(_) => {}
            }
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} expectations found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cut_capture_keeps_its_verdict_and_says_where_it_was_cut() {
    let path = common::root().join("captures/tom-skype-cn-2011-login-beacon-truncated.pcap");
    let report = common::analyze(&[path]);
    let input = &report.inputs[0];
    assert!(!input.unreadable);
    let p = input.problems.first().expect("a problem for the cut");
    assert_eq!(p.kind.name(), "truncated-record");
    assert!(p.packet.is_some() && p.offset.is_some(), "{p:?}");
    assert!(report
        .hosts
        .iter()
        .any(|h| h.verdict.label.name() == "tom-skype"));
}

/// The report is the same whatever the number of threads reading the inputs and reporting the
/// hosts: on every sample at once, and on the real corpus's nDPI captures (hundreds of hosts)
/// when present.
#[test]
fn reports_do_not_depend_on_the_number_of_threads() {
    let mut sets = vec![vec![common::root().join("captures")]];
    if let Some(corpora) = common::corpora() {
        sets.push(vec![corpora.join("ndpi")]);
    }
    let a = common::analyzer();
    for paths in sets {
        let inputs = tomskype::analyze::Inputs::expand(&paths);
        let one = a.report_on(inputs.read(&a, 1, None), 1);
        assert!(one.hosts.len() > 5, "{paths:?}: {} hosts", one.hosts.len());
        let one = serde_json::to_string(&one).unwrap();
        for (read, report) in [(2, 2), (3, 4), (1, 7)] {
            let many = a.report_on(inputs.read(&a, read, None), report);
            assert_eq!(
                serde_json::to_string(&many).unwrap(),
                one,
                "{paths:?}: {read} reading threads, {report} reporting"
            );
        }
    }
}
