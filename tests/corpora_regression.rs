//! Real-corpus regression: every capture in ../shared/corpora gives a report or a clear error
//! (never a panic), and the verdicts meet the expectations committed in
//! `tests/corpora-expected.tsv` (the real regular Skype sessions read regular-skype; nothing in
//! the Chinese services' or other captures reads tom-skype).

mod common;

use std::path::{Path, PathBuf};

use tomskype::capture::expand_inputs;
use tomskype::classify::Label;

struct Rule {
    pattern: String,
    host: String,
    negate: bool,
    label: Label,
}

fn rules() -> Vec<Rule> {
    let text = std::fs::read_to_string(common::root().join("tests/corpora-expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("pattern\t") && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "bad expectation line: {l}");
            let (negate, label) = match f[2].strip_prefix("not:") {
                Some(rest) => (true, rest),
                None => (false, f[2]),
            };
            Rule {
                pattern: f[0].to_owned(),
                host: f[1].to_owned(),
                negate,
                label: Label::parse(label).unwrap_or_else(|| panic!("bad label in {l}")),
            }
        })
        .collect()
}

fn matches(pattern: &str, rel: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => rel.starts_with(prefix),
        None => rel == pattern,
    }
}

fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn every_corpus_capture_meets_its_expectations() {
    let Some(root) = common::corpora() else {
        return;
    };
    let rules = rules();
    let files: Vec<PathBuf> = expand_inputs(std::slice::from_ref(&root))
        .iter()
        .map(|i| i.path().to_owned())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Text beside the captures (manifests, nDPI results, Zeek logs) is not a capture.
            !(name.ends_with(".tsv")
                || name.ends_with(".md")
                || name.ends_with(".out")
                || p.to_string_lossy().contains("/zeek-logs/") && !name.ends_with(".pcap"))
        })
        .collect();
    assert!(
        files.len() > 1000,
        "expected the whole corpus, found {} files",
        files.len()
    );
    let analyzer = common::analyzer();
    let mut failures = Vec::new();
    let mut checked_rules = vec![0usize; rules.len()];
    let (mut readable, mut unreadable) = (0, 0);
    for file in &files {
        let rel = relative(&root, file);
        let report = analyzer.report(
            tomskype::analyze::Inputs::expand(std::slice::from_ref(file)).read(
                &analyzer.local,
                1,
                None,
            ),
        );
        let input = &report.inputs[0];
        if input.unreadable {
            unreadable += 1;
            // A clear error: a problem saying what is wrong, with its offset where it has one.
            match input.problems.first() {
                Some(p) if !p.detail.is_empty() => {}
                _ => failures.push(format!("{rel}: unreadable without a stated reason")),
            }
            continue;
        }
        readable += 1;
        for (i, rule) in rules.iter().enumerate() {
            if !matches(&rule.pattern, &rel) {
                continue;
            }
            checked_rules[i] += 1;
            let hosts: Vec<_> = report
                .hosts
                .iter()
                .filter(|h| rule.host == "*" || h.address.to_string() == rule.host)
                .collect();
            if rule.host != "*" && hosts.is_empty() {
                failures.push(format!("{rel}: host {} not in the report", rule.host));
            }
            for h in hosts {
                let ok = (h.verdict.label == rule.label) != rule.negate;
                if !ok {
                    failures.push(format!(
                        "{rel}: host {} is {}, expected {}{}",
                        h.address,
                        h.verdict.label.name(),
                        if rule.negate { "not " } else { "" },
                        rule.label.name()
                    ));
                }
            }
        }
    }
    println!("corpus: {readable} files analysed, {unreadable} refused with a reason");
    for (rule, n) in rules.iter().zip(&checked_rules) {
        assert!(
            *n > 0,
            "expectation `{}` matched no readable file",
            rule.pattern
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
