//! The command line as users and CI run it: exit codes, `--expect`, formats, stdin, folders,
//! `lookup`, `indicators`, and refusing bad knowledge files.

mod common;

use std::process::{Command, Output};

fn tomskype(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        // Reports give local times beside UTC; pin the zone so that outputs are stable.
        .env("TZ", "UTC")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

const TOM: &str = "captures/tom-skype-cn-2011-login-beacon.pcap";
const REGULAR: &str = "captures/regular-skype-2012-servers-only.pcap.gz";
const NONE: &str = "captures/no-skype-browsing.pcap";

#[test]
fn exit_code_is_1_when_a_host_is_tom_skype() {
    let out = tomskype(&["analyze", "--geoip-db", "embedded", TOM]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("TOM-SKYPE"), "{text}");
    let out = tomskype(&["analyze", "--geoip-db", "embedded", REGULAR, NONE]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exit_code_is_2_when_an_input_cannot_be_read_and_others_still_report() {
    let out = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "does/not/exist.pcap",
        REGULAR,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does/not/exist.pcap"), "{stderr}");
    let report = json(&out);
    assert_eq!(report["inputs"][0]["unreadable"], true);
    assert!(report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["verdict"]["label"] == "regular-skype"));
}

#[test]
fn expect_passes_and_fails_with_a_message() {
    let ok = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--expect",
        "tom-skype",
        "--expect",
        "10.0.0.23=tom-skype",
        TOM,
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--expect",
        "10.0.0.23=regular-skype",
        TOM,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("host 10.0.0.23 is tom-skype, expected regular-skype"),
        "{stderr}"
    );
    let missing = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--expect",
        "192.0.2.9=no-skype",
        NONE,
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not in the report"));
    let overall = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--expect",
        "regular-skype",
        REGULAR,
    ]);
    assert_eq!(overall.status.code(), Some(0));
    let malformed = tomskype(&["analyze", "--expect", "tom", TOM]);
    assert_eq!(malformed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("not a label"));
}

#[test]
fn json_report_has_the_documented_fields() {
    let out = tomskype(&["analyze", "--geoip-db", "embedded", "--format", "json", TOM]);
    let r = json(&out);
    assert_eq!(r["schema"], "tomskype-report/2");
    assert_eq!(r["tool"]["name"], "tomskype");
    assert!(r["indicators"]["sha256"].as_str().unwrap().len() == 64);
    assert!(r["geoip"]["build_date"].as_str().unwrap().starts_with("20"));
    let input = &r["inputs"][0];
    assert_eq!(input["path"], TOM);
    assert!(input["packets"].as_u64().unwrap() > 10);
    assert!(input["problems"].as_array().unwrap().is_empty());
    let host = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["address"] == "10.0.0.23")
        .unwrap();
    assert_eq!(host["verdict"]["label"], "tom-skype");
    let c = host["verdict"]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
    let evidence = host["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty());
    for e in evidence {
        assert!(e["kind"].is_string() && e["detail"].is_string() && e["weight"].is_number());
        assert!(e["indicator"].is_string() || e["indicator"].is_null());
    }
    assert!(evidence
        .iter()
        .any(|e| e["indicator"] == "tom-url-return-time"));
}

#[test]
fn stdin_and_folders_are_inputs() {
    let bytes = std::fs::read(common::root().join(TOM)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .args(["analyze", "--geoip-db", "embedded", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["inputs"][0]["path"], "-");
    let out = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "captures",
    ]);
    let r = json(&out);
    // Every capture in the folder is an input (and the JSON files beside them are refused).
    let paths: Vec<&str> = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().filter(|p| p.contains(".pcap")).count() >= 11,
        "{paths:?}"
    );
}

#[test]
fn threads_do_not_change_the_report() {
    let one = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "--threads",
        "1",
        "captures",
    ]);
    let four = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "--threads",
        "4",
        "captures",
    ]);
    assert_eq!(one.stdout, four.stdout);
}

#[test]
fn local_net_decides_which_end_is_the_host() {
    let out = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "--local-net",
        "10.0.0.23/32",
        TOM,
    ]);
    let r = json(&out);
    let hosts: Vec<&str> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["address"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["10.0.0.23"]);
}

#[test]
fn lookup_and_indicators() {
    let out = tomskype(&[
        "lookup",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "218.30.111.75",
        "192.168.1.1",
        "skypetools1.tom.com",
        "http://skype.tom.com/script/skypeCheck40.js",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_eq!(doc["schema"], "tomskype-lookup/1");
    let r = &doc["answers"];
    assert_eq!(r[0]["country"], "CN");
    assert!(r[0]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == "tom-server-218.30.111.75" && i["role"] == "tom"));
    assert_eq!(r[1]["country"], serde_json::Value::Null);
    assert_eq!(r[1]["special"], "private");
    assert_eq!(r[2]["kind"], "name");
    assert_eq!(r[2]["indicators"][0]["id"], "tom-name-skypetools1");
    assert_eq!(r[3]["kind"], "url");
    assert!(r[3]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == "tom-web-script" && i["role"] == "tom-web"));
    let out = tomskype(&["indicators"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tom-url-keyfile-u") && text.contains("greatfire-2012"),
        "{text}"
    );
    // People's words, not internal forms.
    assert!(
        text.contains("a sign of TOM-Skype")
            && !text.contains("{\"")
            && !text.contains("NotEvidence"),
        "{text}"
    );
    let out = tomskype(&["indicators", "--format", "json"]);
    assert_eq!(json(&out)["schema"], "tomskype-indicators/1");
}

#[test]
fn bad_knowledge_files_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription\nx\ttom\tip\tnot-an-ip\t0.5\ttom\t-\tme\td\n").unwrap();
    let out = tomskype(&["analyze", "--indicators", bad.to_str().unwrap(), NONE]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.tsv:2:") && stderr.contains("not an IP address"),
        "{stderr}"
    );
    let badmmdb = dir.path().join("bad.mmdb");
    std::fs::write(&badmmdb, b"not a database").unwrap();
    let out = tomskype(&["analyze", "--geoip-db", badmmdb.to_str().unwrap(), NONE]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.mmdb"));
}

#[test]
fn user_indicators_add_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.tsv");
    // The no-skype sample's host browses; name one of its servers as a (test) TOM server.
    let report = json(&tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "--all-hosts",
        NONE,
    ]));
    // By default a machine with no sign is counted, not listed.
    let quiet = json(&tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        NONE,
    ]));
    assert!(quiet["hosts"].as_array().unwrap().is_empty());
    assert_eq!(
        quiet["quiet_hosts"].as_u64(),
        Some(report["hosts"].as_array().unwrap().len() as u64)
    );
    let host = &report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["address"] == "192.168.0.12")
        .unwrap();
    let server = host["endpoints"][0]["address"].as_str().unwrap();
    std::fs::write(
        &file,
        format!("@source\tlab\tour lab\nid\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription\nlab-1\ttom\tip\t{server}\t0.9\ttom\t-\tlab\ta test server\n"),
    )
    .unwrap();
    let out = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        "--all-hosts",
        "--indicators",
        file.to_str().unwrap(),
        NONE,
    ]);
    let r = json(&out);
    let host = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["address"] == "192.168.0.12")
        .unwrap();
    assert!(host["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["indicator"] == "lab-1"));
    assert!(r["indicators"]["versions"].as_array().unwrap().len() == 2);
}

#[test]
fn jsonl_streams_a_header_the_hosts_and_a_footer() {
    let out = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "jsonl",
        "--all-hosts",
        "captures/lan-several-hosts.pcapng",
    ]);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines[0]["type"], "header");
    assert_eq!(lines[0]["schema"], "tomskype-report/2");
    let hosts: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "host").collect();
    assert_eq!(hosts.len(), 5);
    assert!(hosts
        .iter()
        .any(|h| h["address"] == "192.168.10.21" && h["verdict"]["label"] == "tom-skype"));
    let footer = lines.last().unwrap();
    assert_eq!(footer["type"], "footer");
    assert_eq!(footer["totals"]["labels"]["tom-skype"], 1);
}

/// A stream's JSON lines: the header, the verdicts told as they change, then the report's
/// lines, which are those of the same capture read as a file (where nothing is told while
/// reading); the changes told end at every label the report gives.
#[test]
fn jsonl_of_a_stream_tells_the_verdicts_as_they_change_then_the_report() {
    let lines = |out: &[u8]| -> Vec<String> {
        String::from_utf8(out.to_vec())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let mut told_any = 0;
    for entry in std::fs::read_dir(common::root().join("captures")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.to_string_lossy().into_owned();
        if !name.contains(".pcap") {
            continue;
        }
        let args = ["analyze", "--geoip-db", "embedded", "--format", "jsonl"];
        let file = tomskype(&[&args[..], &[name.as_str()]].concat());
        let mut child = Command::new(env!("CARGO_BIN_EXE_tomskype"))
            .current_dir(common::root())
            .args([&args[..], &["-"]].concat())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let stream = child.wait_with_output().unwrap();
        assert_eq!(stream.status.code(), file.status.code(), "{name}");
        let (file, stream) = (lines(&file.stdout), lines(&stream.stdout));
        let (told, rest): (Vec<&String>, Vec<&String>) = stream
            .iter()
            .partition(|l| l.starts_with(r#"{"type":"verdict-changed""#));
        assert_eq!(rest.len(), file.len(), "{name}");
        for (s, f) in rest.iter().zip(&file) {
            // The footer names the input: `-` for the stream.
            if !f.starts_with(r#"{"type":"footer""#) {
                assert_eq!(*s, f, "{name}");
            }
        }
        assert!(stream[0].starts_with(r#"{"type":"header""#), "{name}");
        let mut last = std::collections::BTreeMap::new();
        for l in &told {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let host = v["host"]["address"].as_str().unwrap().to_owned();
            last.insert(host, v["host"]["verdict"]["label"].clone());
        }
        for l in &file {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["type"] == "host" && v["verdict"]["label"] != "no-skype" {
                let host = v["address"].as_str().unwrap();
                assert_eq!(
                    last.get(host),
                    Some(&v["verdict"]["label"]),
                    "{name} {host}"
                );
            }
        }
        told_any += told.len();
    }
    assert!(told_any >= 10, "{told_any} changes told over the samples");
}

/// Help that cannot be written (a full disk) is an error, said on stderr; a closed pipe is not.
#[cfg(target_os = "linux")]
#[test]
fn help_that_cannot_be_written_is_an_error() {
    for args in [&["--help"][..], &["analyze", "--help"], &["--version"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_tomskype"))
            .env("LANG", "C")
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot write the help"), "{args:?}: {err}");
    }
    let out = tomskype(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn html_report_is_one_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let out = tomskype(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--lang",
        "zh-CN",
        "--html",
        page.to_str().unwrap(),
        "captures/lan-several-hosts.pcapng",
    ]);
    assert_eq!(out.status.code(), Some(1), "a TOM-Skype host");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("lang=\"zh-CN\""));
    assert!(html.contains("5 台机器中有 1 台运行了 TOM-Skype：192.168.10.21"));
    // Nothing to fetch: no script, no external resource.
    for needle in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(needle), "{needle}");
    }
    // The stdout report is the text one, in the same language.
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("5 台机器中有 1 台运行了 TOM-Skype"));
}

#[test]
fn version_names_the_knowledge_and_help_the_exit_codes() {
    let out = tomskype(&["--version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("indicators: tomskype-default ") && text.contains("GeoIP: "),
        "{text}"
    );
    let out = tomskype(&["analyze", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Exit codes:") && text.contains("1  a machine ran TOM-Skype"),
        "{text}"
    );
}

/// `tomskype ARGS` with `LANG=lang` (and no `LC_ALL`, `LC_MESSAGES` to override it).
fn tomskype_in(lang: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn errors_about_flags_and_files_are_in_the_readers_language() {
    let dir = tempfile::tempdir().unwrap();
    let mmdb = dir.path().join("countries.mmdb");
    std::fs::write(&mmdb, "this is text, not a database\n").unwrap();
    let tsv = dir.path().join("mine.tsv");
    std::fs::write(&tsv, "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription\nx\ttom\tip\tnot-an-ip\t0.5\ttom\t-\tme\td\n").unwrap();
    let html = dir.path().join("no-such-folder").join("report.html");
    let (mmdb, tsv, html) = (
        mmdb.to_str().unwrap(),
        tsv.to_str().unwrap(),
        html.to_str().unwrap(),
    );
    struct Case<'a> {
        args: Vec<&'a str>,
        /// What the error concerns: a file, or the flag's value.
        names: &'a str,
        /// The English line (its start where the system's words follow).
        en: String,
        zh_cn: &'a str,
        zh_tw: &'a str,
    }
    let cases = [
        Case {
            args: vec!["analyze", "--geoip-db", mmdb, NONE],
            names: mmdb,
            en: format!("tomskype: error: refusing GeoIP database {mmdb}: geoip database {mmdb} is not a valid mmdb file"),
            zh_cn: "这不是 MaxMind 格式（.mmdb）的 GeoIP 数据库",
            zh_tw: "這不是 MaxMind 格式（.mmdb）的 GeoIP 資料庫",
        },
        Case {
            args: vec!["analyze", "--indicators", tsv, NONE],
            names: tsv,
            en: format!("tomskype: error: refusing indicator file {tsv}: {tsv}:2: bad ip value `not-an-ip`: not an IP address\n"),
            zh_cn: "第 2 行的格式不对",
            zh_tw: "第 2 行的格式不正確",
        },
        Case {
            args: vec!["analyze", "--expect", "10.0.0.23=tom", TOM],
            names: "10.0.0.23=tom",
            en: "tomskype: error: --expect 10.0.0.23=tom: `tom` is not a label (tom-skype, regular-skype, no-skype, inconclusive)\n".into(),
            zh_cn: "“tom”不是可用的结论",
            zh_tw: "「tom」不是可用的結論",
        },
        Case {
            args: vec!["analyze", "--geoip-db", "embedded", "--html", html, NONE],
            names: html,
            en: format!("tomskype: error: cannot write the HTML report to {html}: "),
            zh_cn: "要保存到的文件夹不存在",
            zh_tw: "要儲存到的資料夾不存在",
        },
        Case {
            args: vec!["export", "--format", "csv", "--indicators", tsv],
            names: tsv,
            en: format!("tomskype: error: refusing indicator file {tsv}: {tsv}:2: "),
            zh_cn: "无法使用指标文件",
            zh_tw: "無法使用指標檔案",
        },
    ];
    for case in &cases {
        let english = tomskype_in("C.UTF-8", &case.args);
        let err = String::from_utf8_lossy(&english.stderr);
        assert_eq!(english.status.code(), Some(2), "{:?}: {err}", case.args);
        assert!(err.starts_with(&case.en), "{:?}: {err}", case.args);
        // In Chinese: from --lang (analyze) or from LANG, the same words.
        for (lang, prefix, words) in [
            ("zh_CN.UTF-8", "tomskype：错误：", case.zh_cn),
            ("zh_TW.UTF-8", "tomskype：錯誤：", case.zh_tw),
        ] {
            let out = tomskype_in(lang, &case.args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{lang} {:?}: {err}", case.args);
            let line = err.lines().last().unwrap_or_default();
            assert!(line.starts_with(prefix), "{lang}: {err}");
            assert!(line.contains(words), "{lang}: {err}");
            assert!(line.contains(case.names), "{lang}: names it: {err}");
            // The English sentence stays, as the technical detail (a flag's value needs none).
            if !case.args.contains(&"--expect") {
                let detail = ["（技术细节：", "（技術細節："];
                assert!(detail.iter().any(|d| line.contains(d)), "{err}");
            }
        }
        if case.args[0] == "analyze" {
            let tag = [&["analyze", "--lang", "zh-TW"][..], &case.args[1..]].concat();
            let out = tomskype_in("C", &tag);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2));
            assert!(
                err.contains(case.zh_tw) && err.contains(case.names),
                "{err}"
            );
        }
    }
    // --lang itself: refused in the environment's language.
    let out = tomskype_in("zh_CN.UTF-8", &["analyze", "--lang", "fr", NONE]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "tomskype：错误：--lang fr：不支持这种语言（可以选择 en、zh-CN 或 zh-TW）\n"
    );
    let out = tomskype_in("C", &["analyze", "--lang", "fr", NONE]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "tomskype: error: --lang fr: not a language of the reports (en, zh-CN, zh-TW)\n"
    );
}

#[test]
fn unmet_expectations_are_in_the_readers_language() {
    let args = [
        "analyze",
        "--geoip-db",
        "embedded",
        "--expect",
        "10.0.0.23=regular-skype",
        "--expect",
        "no-skype",
        TOM,
    ];
    let out = tomskype_in("C", &args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "tomskype: expectation failed: host 10.0.0.23 is tom-skype, expected regular-skype\n\
         tomskype: expectation failed: overall verdict is tom-skype, expected no-skype\n"
    );
    let out = tomskype_in("zh_TW.UTF-8", &args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "tomskype：與預期不符：主機 10.0.0.23 的結論是 tom-skype，預期是 regular-skype\n\
         tomskype：與預期不符：整體結論是 tom-skype，預期是 no-skype\n"
    );
}

#[test]
fn a_command_line_clap_refuses_is_said_in_the_readers_language_before_claps_words() {
    for (lang, args, said) in [
        (
            "zh_CN.UTF-8",
            &["analyze", "--bogus", "x.pcap"][..],
            Some("命令行写得不对"),
        ),
        (
            "zh_TW.UTF-8",
            &["analyze", "--bogus", "x.pcap"][..],
            Some("命令列寫得不對"),
        ),
        (
            "C.UTF-8",
            &["analyze", "--lang", "zh-CN", "--bogus"][..],
            Some("命令行写得不对"),
        ),
        ("C.UTF-8", &["analyze", "--bogus", "x.pcap"][..], None),
    ] {
        let out = tomskype_in(lang, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{lang} {args:?}: {err}");
        assert!(err.contains("unexpected argument '--bogus'"), "{err}");
        match said {
            Some(words) => assert!(
                err.starts_with("tomskype：") && err.contains(words),
                "{err}"
            ),
            // English: clap's own message, unchanged.
            None => assert!(err.starts_with("error: unexpected argument"), "{err}"),
        }
    }
    // Help is not an error: printed as it is, exit 0, in any language.
    let out = tomskype_in("zh_CN.UTF-8", &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.starts_with(
            "Tell TOM-Skype from regular Skype in network traffic, per host, with the evidence\n"
        ),
        "{help}"
    );
}
