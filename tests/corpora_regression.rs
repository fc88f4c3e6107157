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
            tomskype::analyze::Inputs::expand(std::slice::from_ref(file)).read(&analyzer, 1, None),
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

/// The most malformed corpus files (all of `malformed/`, and a spread of the `libpcap/`,
/// `tcpdump/` and `suricata-verify/` files named for a broken input), through the binary:
/// exit code 0, 1 or 2 within 10 seconds, no panic, and a JSON report on stdout.
#[test]
fn malformed_corpus_files_through_the_binary() {
    let Some(root) = common::corpora() else {
        return;
    };
    const WORDS: [&str; 6] = ["trunc", "bad", "invalid", "malformed", "oob", "overflow"];
    let all: Vec<PathBuf> = expand_inputs(&[
        root.join("malformed"),
        root.join("libpcap"),
        root.join("tcpdump"),
        root.join("suricata-verify"),
    ])
    .iter()
    .map(|i| i.path().to_owned())
    .filter(|p| {
        let rel = relative(&root, p);
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        !name.ends_with(".out")
            && (rel.starts_with("malformed/")
                || WORDS.iter().any(|w| name.to_ascii_lowercase().contains(w)))
    })
    .collect();
    let (malformed, named): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|p| relative(&root, p).starts_with("malformed/"));
    assert!(
        !malformed.is_empty() && named.len() > 50,
        "corpus layout changed"
    );
    // About 100 files: every malformed one, and an even spread of the others.
    let want = 100usize.saturating_sub(malformed.len()).min(named.len());
    let spread = (0..want).filter_map(|i| named.get(i * named.len() / want));
    let files: Vec<&PathBuf> = malformed.iter().chain(spread).collect();
    let mut failures = Vec::new();
    for file in &files {
        let rel = relative(&root, file);
        match run_binary(file) {
            Err(why) => failures.push(format!("{rel}: {why}")),
            Ok((code, stdout, stderr)) => {
                if !matches!(code, 0..=2) {
                    failures.push(format!("{rel}: exit code {code}: {stderr}"));
                }
                if stderr.contains("panicked") {
                    failures.push(format!("{rel}: panicked: {stderr}"));
                }
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(&stdout) {
                    failures.push(format!("{rel}: stdout is not JSON: {e}"));
                }
            }
        }
    }
    println!("binary: {} malformed corpus files checked", files.len());
    assert!(files.len() >= 80, "only {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `tomskype analyze --geoip-db embedded --format json FILE` with a 10 s limit.
fn run_binary(file: &Path) -> Result<(i32, Vec<u8>, String), String> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut child = Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .args(["analyze", "--geoip-db", "embedded", "--format", "json"])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the binary: {e}"))?;
    // Drain the pipes in threads so a large report cannot block the child.
    let mut out_pipe = child.stdout.take().ok_or("no stdout")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr")?;
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("still running after 10 s (killed)".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().map_err(|_| "stdout reader failed")?;
    let stderr =
        String::from_utf8_lossy(&err.join().map_err(|_| "stderr reader failed")?).into_owned();
    // A signal (no code) counts as a crash: report it as code -1.
    Ok((status.code().unwrap_or(-1), stdout, stderr))
}

/// The text report of the whole corpus folder, as a person would run it.
fn text_report(path: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .current_dir(common::root())
        .env("TZ", "UTC")
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--color",
            "never",
            "--lang",
            "en",
            "--no-progress",
        ])
        .arg(path)
        .output()
        .expect("the binary runs");
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

#[test]
fn the_corpus_folder_reads_in_one_screen_and_a_quiet_folder_in_a_few_lines() {
    let Some(root) = common::corpora() else {
        return;
    };
    let text = text_report(&root);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() < 100, "{} lines:\n{text}", lines.len());
    // The answer first; the real Skype host on the first screen (24 lines).
    assert!(
        lines[..2].iter().any(|l| l.contains("192.168.1.34")),
        "{text}"
    );
    assert!(
        lines[..24.min(lines.len())]
            .iter()
            .any(|l| l.starts_with("192.168.1.34  REGULAR SKYPE")),
        "{text}"
    );
    assert!(text.contains("show no sign of Skype"), "{text}");
    // A folder of Chinese services with no Skype: the answer and a count.
    let quiet = text_report(&root.join("ndpi/china"));
    assert!(
        quiet.starts_with("No machine ran TOM-Skype: none of the"),
        "{quiet}"
    );
    assert!(quiet.lines().count() < 15, "{quiet}");
}
