//! Bad input, through the real binary: never a panic, never a silent loss. Each test makes a
//! broken input in a temporary folder (an empty file, text, a cut or lying record header, a
//! malformed pcapng block, corrupt gzip, hostile DNS/TLS/HTTP payloads inside real packets,
//! broken knowledge files) and checks the exit code (0, 1 or 2, never a crash), that the
//! problem is named with the file (and offset or packet where that means something), and that
//! whatever could be read still reaches the verdict.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use etherparse::PacketBuilder;
use serde_json::Value;
use tomskype::capture::write::{PcapWriter, PcapngWriter};
use tomskype::capture::{self, Packet};

const TOM: &str = "captures/tom-skype-cn-2011-login-beacon.pcap";
const REGULAR: &str = "captures/regular-skype-2012-servers-only.pcap.gz";

const CLIENT: [u8; 4] = [10, 0, 0, 23];
const SERVER: [u8; 4] = [8, 8, 8, 8];
const TOM_SERVER: [u8; 4] = [60, 28, 232, 10];

/// Runs `tomskype analyze --geoip-db embedded --format json ARGS...` and checks that it did
/// not crash: exit code 0, 1 or 2 and no panic message.
fn analyze(args: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tomskype"));
    cmd.current_dir(common::root())
        .env("NO_COLOR", "1")
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "--all-hosts",
        ])
        .args(args);
    let out = cmd.output().expect("the binary runs");
    no_crash(&out);
    out
}

fn no_crash(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "exit status {:?}, stderr: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn labels(report: &Value) -> Vec<String> {
    report["hosts"]
        .as_array()
        .map(|hosts| {
            hosts
                .iter()
                .filter_map(|h| h["verdict"]["label"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A temporary folder holding one file named `name` with `bytes`.
fn file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    (dir, path)
}

/// Checks an input that cannot be read at all: exit 2, `tomskype: error: <path>: <reason>`,
/// and the JSON input marked unreadable with the problem's kind.
fn assert_unreadable(bytes: &[u8], kind: &str) -> Output {
    let (_dir, path) = file("input.pcap", bytes);
    let out = analyze(&[&path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let prefix = format!("tomskype: error: {}: ", path.display());
    let line = err
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}<reason>` line in: {err}"));
    assert!(line.len() > prefix.len() + 3, "no reason given: {line}");
    let report = json(&out);
    assert_eq!(report["inputs"][0]["unreadable"], true);
    assert_eq!(report["inputs"][0]["problems"][0]["kind"], kind, "{report}");
    out
}

/// An Ethernet/IPv4/UDP frame.
fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("build UDP frame");
    out
}

/// An Ethernet/IPv4/TCP frame (PSH+ACK).
fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, 1000, 64240)
        .psh()
        .ack(1);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("build TCP frame");
    out
}

/// A little-endian microsecond pcap of `frames` on `link_type`, one second apart in 2011.
fn pcap(link_type: u32, snaplen: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), link_type, snaplen, false).expect("pcap header");
    for (i, f) in frames.iter().enumerate() {
        let ts = (1_300_000_000 + i as i64) * 1_000_000_000;
        let len = u32::try_from(f.len()).expect("small frame");
        w.write_packet(ts, len, f).expect("pcap record");
    }
    w.into_inner()
}

/// A pcap record header (little-endian) claiming `caplen` captured bytes.
fn record_header(caplen: u32, orig_len: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&1_300_000_100u32.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&caplen.to_le_bytes());
    h.extend_from_slice(&orig_len.to_le_bytes());
    h
}

fn dns_frame(payload: &[u8]) -> Vec<u8> {
    udp(SERVER, CLIENT, 53, 40000, payload)
}

/// The packets (number, offset, data) of a capture, through the library.
fn packets(bytes: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
    let mut v = Vec::new();
    capture::read_bytes(bytes, &mut |p: &Packet<'_>| {
        v.push((p.number, p.offset, p.data.to_vec()))
    });
    v
}

#[test]
fn empty_file_is_unreadable() {
    assert_unreadable(b"", "empty");
}

#[test]
fn text_file_is_not_a_capture() {
    assert_unreadable(
        b"this is a shopping list, not a capture\neggs\nmilk\n",
        "not-a-capture",
    );
}

#[test]
fn wrong_magic_is_not_a_capture() {
    let mut bytes = pcap(1, 65535, &[dns_frame(&[0; 12])]);
    bytes[..4].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    assert_unreadable(&bytes, "not-a-capture");
}

#[test]
fn truncated_pcap_file_header_is_unreadable() {
    let bytes = pcap(1, 65535, &[]);
    assert_eq!(bytes.len(), 24);
    assert_unreadable(&bytes[..13], "truncated-header");
}

#[test]
fn truncated_pcapng_section_header_is_unreadable() {
    let bytes = PcapngWriter::new(Vec::new()).expect("pcapng").into_inner();
    assert_unreadable(&bytes[..10], "truncated-header");
}

#[test]
fn record_cut_short_still_gives_the_verdict() {
    let full = std::fs::read(common::root().join(TOM)).expect("sample capture");
    let all = packets(&full);
    let (number, offset, data) = all.last().expect("packets").clone();
    // Cut in the middle of the last record's data: everything before it is evidence enough.
    let cut = offset as usize + 16 + data.len() / 2;
    let (_dir, path) = file("cut.pcap", &full[..cut]);
    let out = analyze(&[&path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("tomskype: warning: {}:", path.display())),
        "{err}"
    );
    let report = json(&out);
    assert!(labels(&report).iter().any(|l| l == "tom-skype"));
    let input = &report["inputs"][0];
    assert_eq!(input["unreadable"], false);
    assert_eq!(input["packets"], number - 1);
    let problem = &input["problems"][0];
    assert_eq!(problem["kind"], "truncated-record");
    assert_eq!(problem["packet"], number);
    assert_eq!(problem["offset"], offset);
}

#[test]
fn caplen_larger_than_snaplen_is_read_and_reported() {
    let frame = dns_frame(&[0; 40]);
    let bytes = pcap(1, 64, std::slice::from_ref(&frame));
    assert!(frame.len() > 64);
    let (_dir, path) = file("snap.pcap", &bytes);
    let out = analyze(&[&path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let input = &json(&out)["inputs"][0];
    assert_eq!(input["packets"], 1);
    assert_eq!(input["decode"]["decoded"], 1);
    assert_eq!(input["problems"][0]["kind"], "caplen-over-snaplen");
    assert_eq!(input["problems"][0]["packet"], 1);
    assert_eq!(input["problems"][0]["offset"], 24);
}

/// A record header claiming 4 GB: reported, quickly, without allocating for it. The binary
/// runs with its address space limited to 1 GiB, so an allocation driven by the length field
/// would abort it.
#[test]
fn caplen_of_4_gb_does_not_allocate() {
    let mut bytes = pcap(1, 65535, &[dns_frame(&[0; 12])]);
    let second = bytes.len() as u64;
    bytes.extend(record_header(0xffff_fff0, 0xffff_fff0));
    bytes.extend_from_slice(&[0x55; 200]);
    let (_dir, path) = file("huge.pcap", &bytes);
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_tomskype"))
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "--all-hosts",
        ])
        .arg(&path)
        .output()
        .expect("sh runs");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    no_crash(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let input = &json(&out)["inputs"][0];
    assert_eq!(input["packets"], 1, "the packet before is kept");
    let problem = &input["problems"][0];
    assert!(
        matches!(
            problem["kind"].as_str(),
            Some("bad-record" | "truncated-record")
        ),
        "{problem}"
    );
    assert_eq!(problem["packet"], 2);
    assert_eq!(problem["offset"], second);
}

/// A pcapng file with one good packet, then a block of type `block_type` whose header says
/// `total` bytes, then `tail`.
fn pcapng_with_bad_block(total: u32, body: &[u8], trailer: Option<u32>) -> (Vec<u8>, u64) {
    let mut w = PcapngWriter::new(Vec::new()).expect("pcapng");
    let iface = w.add_interface(1, 65535, None, false).expect("interface");
    w.write_packet(iface, 1_300_000_000_000_000_000, 54, &dns_frame(&[0; 12]))
        .expect("packet");
    let mut bytes = w.into_inner();
    let at = bytes.len() as u64;
    bytes.extend_from_slice(&6u32.to_le_bytes());
    bytes.extend_from_slice(&total.to_le_bytes());
    bytes.extend_from_slice(body);
    if let Some(t) = trailer {
        bytes.extend_from_slice(&t.to_le_bytes());
    }
    (bytes, at)
}

fn assert_bad_block(bytes: &[u8], at: u64, kinds: &[&str]) {
    let (_dir, path) = file("bad.pcapng", bytes);
    let started = Instant::now();
    let out = analyze(&[&path]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains(&path.display().to_string()));
    let input = &json(&out)["inputs"][0];
    assert_eq!(input["packets"], 1, "the good packet is kept: {input}");
    let problem = &input["problems"][0];
    assert!(
        kinds.iter().any(|k| problem["kind"] == *k),
        "expected one of {kinds:?}: {problem}"
    );
    assert_eq!(problem["offset"], at, "{problem}");
}

#[test]
fn pcapng_block_length_zero() {
    let (bytes, at) = pcapng_with_bad_block(0, &[0; 40], None);
    assert_bad_block(&bytes, at, &["bad-record"]);
}

#[test]
fn pcapng_block_length_odd() {
    let (bytes, at) = pcapng_with_bad_block(33, &[0; 21], Some(33));
    assert_bad_block(&bytes, at, &["bad-record"]);
}

#[test]
fn pcapng_block_length_huge() {
    let (bytes, at) = pcapng_with_bad_block(0xffff_fff0, &[0; 64], None);
    assert_bad_block(&bytes, at, &["bad-record", "truncated-record"]);
}

#[test]
fn pcapng_block_trailer_mismatch() {
    // An EPB-sized block whose trailing length disagrees with its leading one.
    let (bytes, at) = pcapng_with_bad_block(32, &[0; 20], Some(36));
    assert_bad_block(&bytes, at, &["bad-record"]);
}

#[test]
fn unknown_link_type_is_counted_as_skipped() {
    let frames = vec![vec![0u8; 60], vec![1u8; 80]];
    let (_dir, path) = file("link147.pcap", &pcap(147, 65535, &frames));
    let out = analyze(&[&path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let input = &json(&out)["inputs"][0];
    assert_eq!(input["packets"], 2);
    assert_eq!(input["decode"]["skipped"]["unsupported-link-type"], 2);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

#[test]
fn corrupt_gzip_is_reported() {
    let full = std::fs::read(common::root().join(TOM)).expect("sample capture");
    let mut gz = gzip(&full);
    // Garble the deflate stream after the first few hundred bytes.
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let (_dir, path) = file("corrupt.pcap.gz", &gz);
    let out = analyze(&[&path]);
    let report = json(&out);
    let input = &report["inputs"][0];
    assert_eq!(input["gzip"], true);
    let problems = input["problems"].as_array().expect("problems");
    assert!(
        problems
            .iter()
            .any(|p| p["kind"] == "gzip" || p["kind"] == "truncated-record"),
        "{input}"
    );
    assert!(stderr(&out).contains(&path.display().to_string()));
    let read = input["packets"].as_u64().expect("packets");
    assert!(
        read < packets(&full).len() as u64,
        "corruption went unnoticed"
    );
}

#[test]
fn gzip_magic_then_garbage_is_unreadable() {
    let mut bytes = vec![0x1f, 0x8b];
    bytes.extend_from_slice(b"not deflate at all, just text");
    assert_unreadable(&bytes, "gzip");
}

/// A DNS response header (1 question, 1 answer) followed by `body`.
fn dns_response(body: &[u8]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    m.extend_from_slice(body);
    m
}

fn assert_app_malformed(frames: Vec<Vec<u8>>, which: &str, expected: u64) -> Value {
    let (_dir, path) = file("app.pcap", &pcap(1, 65535, &frames));
    let out = analyze(&[&path]);
    let report = json(&out);
    let input = &report["inputs"][0];
    assert_eq!(input["decode"]["decoded"], frames.len() as u64, "{input}");
    assert_eq!(input["decode"]["app_malformed"][which], expected, "{input}");
    report
}

#[test]
fn dns_name_compression_loop_is_malformed() {
    // The question's name is a pointer to itself (offset 12).
    let msg = dns_response(&[0xc0, 12, 0, 1, 0, 1]);
    assert_app_malformed(vec![dns_frame(&msg)], "dns", 1);
}

#[test]
fn dns_pointer_past_the_end_is_malformed() {
    let msg = dns_response(&[3, b'w', b'w', b'w', 0xc0, 0xff, 0, 1, 0, 1]);
    assert_app_malformed(vec![dns_frame(&msg)], "dns", 1);
}

/// A TLS handshake record holding a ClientHello whose inner lengths are `hs_len` (handshake
/// body) and `ext_len` (extensions), around a real server_name extension.
fn client_hello(record_len: Option<u16>, hs_len: Option<u32>, ext_len: Option<u16>) -> Vec<u8> {
    let name = b"example.org";
    let mut sni = Vec::new();
    sni.extend_from_slice(&0u16.to_be_bytes()); // server_name
    sni.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    sni.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    sni.push(0); // host_name
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x11; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // cipher suites
    body.extend_from_slice(&[1, 0]); // compression
    body.extend_from_slice(&ext_len.unwrap_or(sni.len() as u16).to_be_bytes());
    body.extend_from_slice(&sni);
    let hs_len = hs_len.unwrap_or(body.len() as u32);
    let mut hs = vec![1];
    hs.extend_from_slice(&hs_len.to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&record_len.unwrap_or(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn tls_frame(payload: &[u8]) -> Vec<u8> {
    tcp(CLIENT, SERVER, 40001, 443, payload)
}

#[test]
fn tls_well_formed_client_hello_gives_its_name() {
    // The control for the tests below: the same builder, lengths right, is read.
    let report = assert_app_malformed(vec![tls_frame(&client_hello(None, None, None))], "tls", 0);
    assert!(report.to_string().contains("example.org"), "{report}");
}

#[test]
fn tls_record_length_beyond_the_maximum_is_not_taken_for_tls() {
    // Over 2^14 + 2048 bytes no TLS record can be: the cheap test refuses it as TLS.
    let hello = client_hello(Some(0xffff), None, None);
    let report = assert_app_malformed(vec![tls_frame(&hello)], "tls", 0);
    assert!(!report.to_string().contains("example.org"));
}

#[test]
fn tls_record_length_beyond_the_data_is_read_as_far_as_it_goes() {
    // A record announcing 16000 bytes of which 80 or so arrived (the rest in later segments):
    // the server name is inside the part present.
    let hello = client_hello(Some(16000), None, None);
    let report = assert_app_malformed(vec![tls_frame(&hello)], "tls", 0);
    assert!(report.to_string().contains("example.org"), "{report}");
}

#[test]
fn tls_extension_lengths_beyond_the_record_are_malformed() {
    let hello = client_hello(None, None, Some(0x4000));
    let report = assert_app_malformed(vec![tls_frame(&hello)], "tls", 1);
    assert!(!report.to_string().contains("example.org"));
}

#[test]
fn tls_handshake_length_beyond_the_record_does_not_panic() {
    // A ClientHello announcing more than the record holds: read as far as the data goes.
    let hello = client_hello(None, Some(0xff_ffff), None);
    let (_dir, path) = file("tls.pcap", &pcap(1, 65535, &[tls_frame(&hello)]));
    let out = analyze(&[&path]);
    assert_eq!(json(&out)["inputs"][0]["decode"]["decoded"], 1);
}

#[test]
fn http_without_end_of_headers_still_gives_the_request() {
    let req = b"GET /agent/keyfile_u?skype_id=x HTTP/1.1\r\nHost: skypetools.tom.com\r\nUser-Agent: Skype";
    let frame = tcp(CLIENT, TOM_SERVER, 40002, 80, req);
    let report = assert_app_malformed(vec![frame], "http", 0);
    assert!(labels(&report).iter().any(|l| l == "tom-skype"), "{report}");
}

#[test]
fn http_host_with_non_ascii_characters_does_not_panic() {
    // Found by fuzzing: matching `\u{e9}kype.com` against `skype.com` cut a character in two.
    let req = "GET /agent/keyfile_u HTTP/1.1\r\nHost: \u{e9}kypetools.tom.com\r\n\r\n";
    let frame = tcp(CLIENT, TOM_SERVER, 40003, 80, req.as_bytes());
    let report = assert_app_malformed(vec![frame], "http", 0);
    assert!(
        !labels(&report).iter().any(|l| l == "tom-skype"),
        "{report}"
    );
}

#[test]
fn one_unreadable_input_among_others_exits_2_with_their_verdicts() {
    let (_dir, bad) = file("empty.pcap", b"");
    let regular = common::root().join(REGULAR);
    let out = analyze(&[&bad, &regular]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("tomskype: error: {}:", bad.display())));
    let report = json(&out);
    assert_eq!(report["inputs"][0]["unreadable"], true);
    assert_eq!(report["inputs"][1]["unreadable"], false);
    assert!(labels(&report).iter().any(|l| l == "regular-skype"));
}

#[test]
fn one_unreadable_input_beside_tom_skype_exits_1() {
    let (_dir, bad) = file("text.pcap", b"hello\n");
    let tom = common::root().join(TOM);
    let out = analyze(&[&tom, &bad]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("tomskype: error: {}:", bad.display())));
    assert!(labels(&json(&out)).iter().any(|l| l == "tom-skype"));
}

fn run_with(option: &str, file_arg: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .current_dir(common::root())
        .args(["analyze", "--geoip-db"])
        .args(if option == "--geoip-db" {
            vec![file_arg.as_os_str()]
        } else {
            vec!["embedded".as_ref(), option.as_ref(), file_arg.as_os_str()]
        })
        .arg(REGULAR)
        .output()
        .expect("the binary runs");
    no_crash(&out);
    out
}

#[test]
fn malformed_indicator_file_names_file_and_line() {
    let text = "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription\n\
                ok-1\ttom\tname\texample.org\t0.5\t-\t-\tme\tfine\n\
                bad-2\ttom\tname\texample.org\tlots\t-\t-\tme\tweight is not a number\n";
    let (_dir, path) = file("bad.tsv", text.as_bytes());
    let out = run_with("--indicators", &path);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:3: ", path.display())),
        "expected file:line: reason in {err}"
    );
    assert!(err.contains("weight"), "{err}");
}

#[test]
fn malformed_geoip_file_names_the_file() {
    let (_dir, path) = file("bad.mmdb", b"\xab\xcd\xefMaxMind.com but not really");
    let out = run_with("--geoip-db", &path);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("tomskype: error: "), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
}

#[test]
fn asn_database_names_what_was_expected() {
    let path = common::root().join("tests/data/geoip/GeoLite2-ASN-Test.mmdb");
    let out = run_with("--geoip-db", &path);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("GeoLite2-ASN-Test.mmdb"), "{err}");
    assert!(err.contains("country"), "names the expected kind: {err}");
    assert!(err.contains("GeoLite2-ASN"), "names what it found: {err}");
}

/// Property tests over the whole pipeline: a real sample capture, cut anywhere or with bytes
/// flipped, read into a flow tracker and reported, never panics; a cut capture's packets are a
/// prefix of the full one's; every packet cut to any length still decodes without a panic.
mod pipeline {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use tomskype::analyze::{Analyzer, Traffic};
    use tomskype::capture::{self, Packet, PacketSink};
    use tomskype::flow::Tracker;
    use tomskype::report::InputReport;

    use super::packets;

    const SAMPLES: [&str; 4] = [
        "captures/tom-skype-cn-2011-login-beacon.pcap",
        "captures/regular-skype-2015-names.pcapng",
        "captures/regular-skype-2012-servers-only.pcap.gz",
        "captures/tom-skype-cn-2008-keyword-upload-snaplen96.pcap",
    ];

    struct Sample {
        bytes: Vec<u8>,
        packets: Vec<(u64, u64, Vec<u8>)>,
    }

    fn samples() -> &'static [Sample] {
        static SAMPLES_READ: OnceLock<Vec<Sample>> = OnceLock::new();
        SAMPLES_READ.get_or_init(|| {
            SAMPLES
                .iter()
                .map(|p| {
                    let bytes = std::fs::read(super::common::root().join(p)).expect("sample");
                    let packets = packets(&bytes);
                    assert!(!packets.is_empty(), "{p} has packets");
                    Sample { bytes, packets }
                })
                .collect()
        })
    }

    fn analyzer() -> &'static Analyzer {
        static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
        ANALYZER.get_or_init(super::common::analyzer)
    }

    /// Reads `bytes` into a tracker and reports it, as the binary does.
    fn whole_pipeline(bytes: &[u8]) -> u64 {
        let mut tracker = Tracker::new();
        let summary = capture::read_bytes(bytes, &mut tracker);
        let mut input = InputReport::new("prop".into(), summary.format);
        input.packets = summary.packets;
        input.problems = summary.problems;
        input.unreadable = summary.unreadable;
        let traffic = Traffic::from_table(tracker.table(), analyzer(), vec![input]);
        let report = analyzer().report(traffic);
        serde_json::to_string(&report).expect("report serialises");
        summary.packets
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn truncated_capture_reads_a_prefix(which in 0..SAMPLES.len(), frac in 0.0..=1.0f64) {
            let sample = &samples()[which];
            let cut = ((sample.bytes.len() as f64) * frac) as usize;
            let cut_bytes = &sample.bytes[..cut.min(sample.bytes.len())];
            let got = packets(cut_bytes);
            prop_assert!(got.len() <= sample.packets.len());
            prop_assert_eq!(&got[..], &sample.packets[..got.len()]);
            if cut == sample.bytes.len() {
                prop_assert_eq!(got.len(), sample.packets.len());
            }
            prop_assert_eq!(whole_pipeline(cut_bytes), got.len() as u64);
        }

        #[test]
        fn flipped_bytes_never_panic(
            which in 0..SAMPLES.len(),
            flips in proptest::collection::vec((0.0..1.0f64, 1..=255u8), 1..16),
        ) {
            let mut bytes = samples()[which].bytes.clone();
            let len = bytes.len();
            for (at, x) in flips {
                let i = ((len as f64) * at) as usize;
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= x;
                }
            }
            let mut numbers = Vec::new();
            capture::read_bytes(&bytes, &mut |p: &Packet<'_>| numbers.push(p.number));
            prop_assert!(numbers.iter().enumerate().all(|(i, &n)| n == i as u64 + 1));
            whole_pipeline(&bytes);
        }

        #[test]
        fn every_packet_cut_short_still_decodes(which in 0..SAMPLES.len(), keep in 0..200usize) {
            // Feeds each packet of the sample cut to `keep` bytes, as a small snaplen would.
            let mut tracker = Tracker::new();
            let mut sink = |p: &Packet<'_>| {
                let data = p.data.get(..keep).unwrap_or(p.data);
                tracker.packet(&Packet { data, ..*p });
            };
            capture::read_bytes(&samples()[which].bytes, &mut sink);
            let traffic = Traffic::from_table(tracker.table(), analyzer(), Vec::new());
            analyzer().report(traffic);
        }
    }
}
