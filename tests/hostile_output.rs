//! Hostile input, round two (issue 12), through the real binary, on the output side: text
//! from input never drives the analyst's terminal (escape sequences, bidi and format
//! characters) in reports, listings, lookups and messages; output errors (a closed pipe, a
//! full device) never panic and never hide the verdict; indicator text cannot break the line
//! structure of an export, and CSV cells are neutralised against formula injection.

// FIFOs, /proc, raw file descriptors and Unix permissions: these run on Unix only (they
// compile to nothing for Windows, whose build CI checks with --all-targets).
#![cfg(unix)]

mod common;
mod hostile;

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

use hostile::*;

#[test]
fn text_from_input_never_reaches_the_terminal_raw() {
    let d = tempfile::tempdir().unwrap();
    hostile_logs(d.path());
    let evil_name = d.path().join("evil\x1b[2J\u{202e}gpj.pcap");
    std::fs::write(&evil_name, b"not a capture").unwrap();
    let dir = d.path().to_str().unwrap();
    let named = evil_name.to_str().unwrap();
    let out = run(&["analyze", "--geoip-db", "embedded", dir, named]);
    // The TOM-Skype host is still found (exit 1), and the hostile text is shown, escaped.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("TOM-SKYPE"), "{stdout}");
    assert!(stdout.contains("login_id=\\x1b[2J"), "{stdout}");
    assert!(stdout.contains("evil\\x1b[2J\\u{202e}gpj.pcap"), "{stdout}");
    assert_terminal_safe("stdout", &out.stdout);
    assert_terminal_safe("stderr", &out.stderr);
    // With colours, the only escapes are the report's own SGR sequences (ESC [ digits ; m).
    let out = run(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--color",
        "always",
        dir,
    ]);
    let s = text(&out.stdout);
    for (i, _) in s.match_indices('\x1b') {
        let sgr = s[i + 1..]
            .strip_prefix('[')
            .and_then(|r| r.split_once('m'))
            .is_some_and(|(p, _)| p.chars().all(|c| c.is_ascii_digit() || c == ';'));
        assert!(
            sgr,
            "a foreign escape at {i}: {:?}",
            &s[i..(i + 20).min(s.len())]
        );
    }
    // HTML too: escaped for HTML, and the acting characters shown as escapes.
    for lang in ["en", "zh-CN"] {
        let out = run(&[
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "html",
            "--lang",
            lang,
            dir,
            named,
        ]);
        assert_terminal_safe("html", &out.stdout);
        assert!(
            text(&out.stdout).contains("login_id=\\x1b[2J"),
            "{}",
            text(&out.stdout)
        );
    }
    let out = run(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "jsonl",
        dir,
        named,
    ]);
    assert_terminal_safe("jsonl", &out.stdout);
    for line in text(&out.stdout).lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    // JSON keeps the data exact: the query as Zeek logged it, unescaped, as JSON escapes.
    let out = run(&["analyze", "--geoip-db", "embedded", "--format", "json", dir]);
    assert_terminal_safe("json", &out.stdout);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report.to_string().contains("login_id=\\u001b[2J"),
        "{report}"
    );
}

#[test]
fn indicator_text_is_safe_in_listings_and_lookups() {
    let d = tempfile::tempdir().unwrap();
    // A file name with an escape sequence: it becomes the set's version (no @set line).
    let file = d.path().join("lab\x1b]0;pwned\x07\u{202e}.tsv");
    let header = "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription";
    std::fs::write(
        &file,
        format!("@source\tlab\tnotes\n{header}\nlab-ip\ttom\tip\t192.0.2.7\t0.5\ttom\t-\tlab\tlab server\n"),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let out = run(&["indicators", "--indicators", f]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("lab\\x1b]0;pwned\\x07\\u{202e}.tsv"));
    assert_terminal_safe("indicators", &out.stdout);
    let out = run(&[
        "lookup",
        "--geoip-db",
        "embedded",
        "--indicators",
        f,
        "192.0.2.7",
    ]);
    assert_terminal_safe("lookup", &out.stdout);
    // A missing file named with escapes: the error names it, escaped.
    let missing = d.path().join("gone\x1b[2J.tsv");
    let out = run(&["indicators", "--indicators", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("gone\\x1b[2J.tsv"),
        "{}",
        text(&out.stderr)
    );
    assert_terminal_safe("stderr", &out.stderr);
}

/// A pipe whose read end is already closed: writing to the other end fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills `fds` with two new descriptors, each owned once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: fresh descriptors from `pipe`, not owned by anything else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn full() -> Stdio {
    Stdio::from(std::fs::File::create("/dev/full").expect("/dev/full"))
}

#[test]
fn closed_stdout_ends_listings_and_exports_quietly() {
    for args in [
        &["indicators", "--format", "json"][..],
        &["indicators"],
        &["export", "--format", "json"],
        &["export", "--format", "csv"],
        &["export", "--format", "suricata"],
        &["export", "--format", "zeek-intel"],
        &[
            "lookup",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "60.28.232.10",
        ],
    ] {
        let out = tomskype()
            .args(args)
            .stdout(closed_pipe())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn output_errors_keep_the_verdict_in_the_exit_code() {
    let analyze = ["analyze", "--geoip-db", "embedded", "--no-progress", TOM];
    // stdout closed: the reader chose to stop; the verdict (tom-skype) is still the exit code.
    let out = tomskype()
        .args(analyze)
        .stdout(closed_pipe())
        .output()
        .unwrap();
    no_crash(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // stderr full, or closed: no panic, the same exit code.
    for err in [full(), closed_pipe()] {
        let out = tomskype().args(analyze).stderr(err).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stdout).contains("TOM-SKYPE"));
    }
    // An unreadable input with stderr on a full device: still 2, not a panic's 101.
    let mut cmd = tomskype();
    cmd.args(["analyze", "--geoip-db", "embedded", "/nonexistent/x.pcap"]);
    let out = cmd.stderr(full()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // stdout on a full device: the report is lost, which is an error (2) unless tom-skype.
    let out = tomskype().args(analyze).stdout(full()).output().unwrap();
    no_crash(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot write the report"));
    let regular = "captures/regular-skype-2012-servers-only.pcap.gz";
    let out = tomskype()
        .args(["analyze", "--geoip-db", "embedded", regular])
        .stdout(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // The error message of a failed run on a full stderr: no panic either.
    let out = tomskype()
        .args(["export", "--format", "csv", "--indicators", "/nonexistent"])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A CSV reader (RFC 4180) for the checks below: rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (_, c) => cell.push(c),
        }
    }
    rows
}

#[test]
fn indicator_text_cannot_break_export_lines() {
    let d = tempfile::tempdir().unwrap();
    // No @set line: the file's name is the set's version, and it holds a working rule and a
    // Zeek Intel item after a newline.
    let name = "lab\nalert ip any any -> any any (msg:\"pwned\"; sid:1;)\n6.6.6.6\tIntel::ADDR\tx\ty\tz\n.tsv";
    let file = d.path().join(name);
    let header = "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription";
    let rows = [
        "lab-ip\ttom\tip\t192.0.2.7\t0.5\ttom\t-\tlab\t=HYPERLINK(\"http://evil\",\"click\")",
        "lab-ua\ttom\tuser-agent\t@SUM(1+1)*cmd|' /C calc'!A0\t0.5\ttom\t-\tlab\t-2+3+cmd|' /C calc'!A0",
        "lab-url\ttom\thttp-url\tevil.example/x\t0.5\ttom\t-\tlab\tq\"; sid:1; content:\"x",
    ];
    std::fs::write(
        &file,
        format!(
            "@source\tlab\t+notes; \"quoted\"\n{header}\n{}\n",
            rows.join("\n")
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let export = |format: &str| {
        let out = run(&["export", "--format", format, "--indicators", f]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let rules = export("suricata");
    for line in rules.lines() {
        assert!(
            line.starts_with('#') || line.starts_with("alert ") && line.contains("msg:\"TOMSKYPE "),
            "a line that is not one of ours: {line}"
        );
    }
    // The name is there, in the comment line, escaped.
    assert!(
        rules
            .lines()
            .next()
            .unwrap()
            .contains("lab\\x0aalert ip any any"),
        "{rules}"
    );
    let lab_rules: Vec<&str> = rules.lines().filter(|l| l.contains(" lab-")).collect();
    assert_eq!(lab_rules.len(), 3, "{lab_rules:?}");
    // One `sid` option per rule: the one in the text is escaped (`\;`), not an option.
    let options = |r: &str| {
        r.match_indices("; sid:")
            .filter(|(i, _)| &r[i - 1..*i] != "\\")
            .count()
    };
    assert!(lab_rules.iter().all(|r| options(r) == 1), "{lab_rules:?}");
    let intel = export("zeek-intel");
    for line in intel.lines().filter(|l| !l.starts_with('#')) {
        assert_eq!(line.split('\t').count(), 5, "{line}");
        assert!(!line.starts_with("6.6.6.6"), "{line}");
    }
    let csv = parse_csv(&export("csv"));
    assert!(csv.iter().all(|r| r.len() == 9), "{csv:?}");
    for r in &csv {
        for cell in r {
            let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !risky || cell == "-" || cell.parse::<f64>().is_ok(),
                "{cell:?}"
            );
        }
    }
    let ip = csv.iter().find(|r| r[0] == "lab-ip").unwrap();
    assert_eq!(ip[8], "'=HYPERLINK(\"http://evil\",\"click\")");
    let ua = csv.iter().find(|r| r[0] == "lab-ua").unwrap();
    assert_eq!(ua[3], "'@SUM(1+1)*cmd|' /C calc'!A0");
    // JSON keeps the name exact, escaped the JSON way.
    let json: serde_json::Value = serde_json::from_str(&export("json")).unwrap();
    assert_eq!(json["set"]["versions"][1], f);
    // The loader refuses control characters in fields, naming the file and line.
    let bad = d.path().join("bad.tsv");
    std::fs::write(
        &bad,
        format!(
            "@source\tlab\tnotes\n{header}\nx\ttom\tip\t192.0.2.8\t0.5\ttom\t-\tlab\tdesc\x1b[2J\n"
        ),
    )
    .unwrap();
    let out = run(&[
        "export",
        "--format",
        "csv",
        "--indicators",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.tsv:3: control or format character U+001B"),
        "{err}"
    );
    assert_terminal_safe("stderr", &out.stderr);
}

#[test]
fn bidi_and_format_characters_in_http_stay_escaped_on_the_packet_path() {
    use etherparse::PacketBuilder;
    use tomskype::capture::write::PcapWriter;
    // A TOM-Skype login beacon whose URL carries a bidi override, a line separator and a
    // zero-width space.
    let request = "GET /en_return_time.php?login_id=\u{202e}\u{2028}\u{200b}alice&code=1 HTTP/1.1\r\nHost: skypetools1.tom.com\r\nUser-Agent: \u{202e}x\r\n\r\n";
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 23], [60, 28, 232, 10], 64)
        .tcp(50000, 80, 1000, 64240)
        .psh()
        .ack(1);
    let mut frame = Vec::new();
    b.write(&mut frame, request.as_bytes()).unwrap();
    let mut w = PcapWriter::new(Vec::new(), 1, 65535, false).unwrap();
    for i in 0..3 {
        w.write_packet(
            (1_300_000_000 + i) * 1_000_000_000,
            frame.len() as u32,
            &frame,
        )
        .unwrap();
    }
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("beacon.pcap");
    std::fs::write(&path, w.into_inner()).unwrap();
    let p = path.to_str().unwrap();
    let out = run(&["analyze", "--geoip-db", "embedded", p]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_terminal_safe("stdout", &out.stdout);
    assert_terminal_safe("stderr", &out.stderr);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\\u{202e}"), "{stdout}");
    let out = run(&["analyze", "--geoip-db", "embedded", "--format", "json", p]);
    assert_terminal_safe("json", &out.stdout);
    assert!(text(&out.stdout).contains("\\u202e"));
}
