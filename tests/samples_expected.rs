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

/// Every sample at once, and the real corpus's nDPI captures (hundreds of hosts) when present.
fn sample_sets() -> Vec<Vec<PathBuf>> {
    let mut sets = vec![vec![common::root().join("captures")]];
    if let Some(corpora) = common::corpora() {
        sets.push(vec![corpora.join("ndpi")]);
    }
    sets
}

/// A file read in shards, each summarising (at every chance) and shedding (with a budget always
/// exceeded) what it sees of a host on its own, gives every host the label, evidence,
/// advisories and roles of one thread reading it whole without either. (What it lists of a
/// host with a sign that was quiet in one shard may differ: docs in analyze/shard.rs.)
#[test]
fn summarising_in_shards_never_changes_a_verdict() {
    use tomskype::analyze::{Budget, Keep, Memory};
    fn always_over() -> usize {
        usize::MAX
    }
    let a = common::analyzer();
    let mut files = 0;
    for set in sample_sets() {
        let all = tomskype::analyze::Inputs::expand(&set);
        for path in &all.captures {
            let mut inputs = tomskype::analyze::Inputs::expand(std::slice::from_ref(path));
            let whole = a.report_with(inputs.read(&a, 1, None), 1, Keep::Signs);
            inputs.split_min_bytes = Some(0);
            for (threads, budget) in [(2, None), (3, Some(0))] {
                inputs.memory = Memory {
                    summarise_past: Some(0),
                    budget: budget.map(|limit| Budget {
                        limit,
                        held: always_over,
                    }),
                };
                let shed = a.report_with(inputs.read(&a, threads, None), 1, Keep::Signs);
                assert_eq!(shed.verdicts(), whole.verdicts(), "{path:?} {threads}");
                assert_eq!(shed.host_count(), whole.host_count(), "{path:?} {threads}");
            }
            files += 1;
        }
    }
    assert!(files >= 19, "{files} files");
}

/// The report is the same whatever the number of threads reading the inputs and reporting the
/// hosts: on every sample at once, and on the real corpus's nDPI captures (hundreds of hosts)
/// when present.
#[test]
fn reports_do_not_depend_on_the_number_of_threads() {
    let sets = sample_sets();
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

/// A report that keeps only the hosts with a sign (what `analyze` does without `--all-hosts`)
/// shows the same as one that keeps every host, in every form that does not list them all; it
/// counts the others and still knows their label for `--expect`.
#[test]
fn keeping_only_hosts_with_a_sign_shows_the_same() {
    use tomskype::analyze::Keep;
    use tomskype::report::{html, json, people, text};
    let sets = sample_sets();
    let a = common::analyzer();
    for paths in sets {
        let inputs = tomskype::analyze::Inputs::expand(&paths);
        let all = a.report_with(inputs.read(&a, 2, None), 2, Keep::All);
        let signs = a.report_with(inputs.read(&a, 2, None), 2, Keep::Signs);
        let quiet: Vec<_> = all.hosts.iter().filter(|h| !h.has_sign()).collect();
        assert!(!quiet.is_empty(), "{paths:?}: no quiet host to test with");
        assert_eq!(signs.quiet.len(), quiet.len());
        assert_eq!(signs.hosts.len() + quiet.len(), all.hosts.len());
        assert_eq!(signs.host_count(), all.host_count());
        for h in &quiet {
            assert_eq!(signs.label_of(h.address), Some(h.verdict.label));
        }
        let json_of = |r: &tomskype::report::Report| {
            let mut out = Vec::new();
            json::write(r, &mut out, false).unwrap();
            out
        };
        assert_eq!(json_of(&signs), json_of(&all), "{paths:?}: JSON");
        let lines_of = |r: &tomskype::report::Report| {
            let mut out = Vec::new();
            json::write_lines(r, &mut out, false, true).unwrap();
            out
        };
        assert_eq!(lines_of(&signs), lines_of(&all), "{paths:?}: JSON lines");
        for lang in [
            tomskype::report::lang::Lang::En,
            tomskype::report::lang::Lang::ZhCn,
        ] {
            let options = people::Options {
                lang,
                all_hosts: false,
                local: None,
            };
            let shown = |r: &tomskype::report::Report| {
                let story = people::story(r, &options);
                let (mut text_out, mut html_out) = (Vec::new(), Vec::new());
                let style = text::Style {
                    colour: false,
                    width: 100,
                    verbose: true,
                };
                text::write(&story, &mut text_out, style).unwrap();
                html::write(&story, r, &mut html_out).unwrap();
                (text_out, html_out)
            };
            assert_eq!(
                shown(&signs),
                shown(&all),
                "{paths:?}: {lang:?} text and HTML"
            );
        }
    }
}

/// Summarising quiet hosts (past any number of hosts, here every time) and reaching the memory
/// budget (here at every look) never change a verdict: every host's label, evidence,
/// advisories and roles are the same as with neither, and the same hosts are quiet.
#[test]
fn summarising_and_shedding_never_change_a_verdict() {
    use tomskype::analyze::{Budget, Keep, Memory};
    fn always_over() -> usize {
        usize::MAX
    }
    let a = common::analyzer();
    for paths in sample_sets() {
        let mut inputs = tomskype::analyze::Inputs::expand(&paths);
        let whole = a.report_with(inputs.read(&a, 2, None), 2, Keep::Signs);
        for budget in [None, Some(0)] {
            inputs.memory = Memory {
                summarise_past: Some(0),
                budget: budget.map(|limit| Budget {
                    limit,
                    held: always_over,
                }),
            };
            let shed = a.report_with(inputs.read(&a, 2, None), 2, Keep::Signs);
            assert!(
                shed.memory.hosts_summarised > 0,
                "{paths:?}: nothing summarised"
            );
            if budget.is_some() {
                assert!(shed.memory.budget_reached > 0, "{paths:?}");
                assert!(shed.memory.still_over, "{paths:?}");
            }
            let (got, want) = (shed.verdicts(), whole.verdicts());
            assert_eq!(
                got.len(),
                want.len(),
                "{paths:?} {budget:?}: hosts with a sign"
            );
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{paths:?} {budget:?}");
            }
            assert_eq!(shed.totals.labels, whole.totals.labels, "{paths:?}");
            assert_eq!(shed.host_count(), whole.host_count(), "{paths:?}");
        }
    }
}
