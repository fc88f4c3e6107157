//! Golden reports: the full JSON and text reports of a few sample captures, kept in
//! `tests/golden/` and compared byte for byte. They are stable (sorted, no wall-clock time,
//! the embedded GeoIP database). After a reviewed change to the report, refresh them with
//! `TOMSKYPE_BLESS=1 cargo test --test golden` and review the diff before committing.

mod common;

use std::process::Command;

const CASES: [&str; 3] = [
    "tom-skype-cn-2008-keyword-upload.pcap",
    "regular-skype-p2p-china-peer.pcapng",
    "lan-several-hosts.pcapng",
];

/// The reports kept: format, language, file extension.
const VARIANTS: [(&str, &str, &str); 5] = [
    ("json", "en", "json"),
    ("text", "en", "txt"),
    ("text", "zh-CN", "zh-CN.txt"),
    ("text", "zh-TW", "zh-TW.txt"),
    ("html", "en", "html"),
];

fn run(capture: &str, format: &str, lang: &str) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--color",
            "never",
            "--format",
            format,
            "--lang",
            lang,
        ])
        .arg(format!("captures/{capture}"))
        .output()
        .expect("the binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn reports_match_the_golden_files() {
    let bless = std::env::var_os("TOMSKYPE_BLESS").is_some();
    let mut stale = Vec::new();
    for capture in CASES {
        for (format, lang, ext) in VARIANTS {
            let got = run(capture, format, lang);
            let path = common::root().join(format!("tests/golden/{capture}.{ext}"));
            if bless {
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read(&path).unwrap_or_default();
            if got != want {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "reports differ from the golden files (review, then refresh with TOMSKYPE_BLESS=1 cargo test --test golden):\n{}",
        stale.join("\n")
    );
}

#[test]
fn golden_reports_are_stable_across_runs() {
    for capture in CASES {
        for (format, lang, _) in VARIANTS {
            assert_eq!(run(capture, format, lang), run(capture, format, lang));
        }
    }
}
