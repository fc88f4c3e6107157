//! Hostile input, round two (issue 12), through the real binary: text from input never drives
//! the analyst's terminal (escape sequences, bidi and format characters), output errors never
//! panic and never hide the verdict, inputs that cannot be read are never lost silently, pipes
//! and FIFOs are read once as streams, a capture cut while it is read is reported up to the
//! cut, and indicator text cannot break the line structure of an export. Every input is made
//! here, in a temporary folder.

mod common;

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const TOM: &str = "captures/tom-skype-cn-2011-login-beacon.pcap";

fn tomskype() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tomskype"));
    cmd.current_dir(common::root()).env("NO_COLOR", "1");
    cmd
}

/// Runs `tomskype ARGS...` and checks it did not crash (no signal, no panic, exit 0..=2).
fn run(args: &[&str]) -> Output {
    let out = tomskype().args(args).output().expect("the binary runs");
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Bytes no text output may hold: ESC, the C1 CSI, BEL, and UTF-8 RLO (U+202E), LINE
/// SEPARATOR (U+2028), ZERO WIDTH SPACE (U+200B).
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let bad: [&[u8]; 6] = [
        b"\x1b",
        "\u{9b}".as_bytes(),
        b"\x07",
        "\u{202e}".as_bytes(),
        "\u{2028}".as_bytes(),
        "\u{200b}".as_bytes(),
    ];
    for b in bad {
        assert!(
            !bytes.windows(b.len()).any(|w| w == b),
            "{what} holds {b:02x?}: {}",
            text(bytes)
        );
    }
}

const CONN_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";
const DNS_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n";
const HTTP_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tuser_agent\n#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\n";

/// What an attacker writes into a log, in Zeek's own escaped form: clear the screen and the
/// scrollback, retitle the window, ring, and print a fake verdict.
const EVIL: &str = "\\x1b[2J\\x1b[3J\\x1b]0;pwned\\x07NO SKYPE\u{202e}\u{2028}\u{200b}";

/// Zeek logs of a TOM-Skype login beacon whose URL, DNS query and a damaged line carry
/// [`EVIL`], plus a capture whose file name holds an escape sequence and a bidi override.
fn hostile_logs(dir: &Path) {
    let mut conn = String::from(CONN_TSV);
    conn.push_str("1325412000.25\tC1\t192.168.7.20\t50000\t211.100.41.76\t80\ttcp\thttp\t1.5\t300\t500\tSF\tT\tF\t0\tShADadFf\t6\t620\t5\t760\t(empty)\n");
    let mut dns = String::from(DNS_TSV);
    dns.push_str(&format!("1325412000.25\tD1\t192.168.7.20\t40000\t8.8.8.8\t53\tudp\t{EVIL}skypetools1.tom.com\t211.100.41.76\n"));
    let mut http = String::from(HTTP_TSV);
    http.push_str(&format!("1325412000.25\tC1\t192.168.7.20\t50000\t211.100.41.76\t80\t1\tGET\tskypetools1.tom.com\t/en_return_time.php?login_id={EVIL}&code=1\t-\n"));
    http.push_str(&format!("{EVIL}\n"));
    std::fs::write(dir.join("conn.log"), conn).unwrap();
    std::fs::write(dir.join("dns.log"), dns).unwrap();
    std::fs::write(dir.join("http.log"), http).unwrap();
}

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

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// The inputs of a JSON report that are marked unreadable, with their first problem's detail.
fn unreadable(report: &serde_json::Value) -> Vec<(String, String)> {
    report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["unreadable"] == true)
        .map(|i| {
            let path = i["path"].as_str().unwrap();
            let name = Path::new(path).file_name().unwrap().to_string_lossy();
            (
                name.into_owned(),
                i["problems"][0]["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const REGULAR: &str = "captures/regular-skype-2012-servers-only.pcap.gz";

#[test]
fn unreadable_entries_in_a_folder_are_listed_and_exit_2() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(common::root().join(REGULAR), d.path().join("a.pcap.gz")).unwrap();
    // A file that opens but cannot be read (EIO), and a link to nothing: even root gets these.
    std::os::unix::fs::symlink("/proc/self/mem", d.path().join("mem.pcap")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x", d.path().join("gone.pcap")).unwrap();
    std::fs::write(d.path().join("notes.txt"), "just notes").unwrap();
    let dir = d.path().to_str().unwrap();
    let args = ["analyze", "--geoip-db", "embedded", "--format", "json", dir];
    let out = run(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = json_of(&out);
    let bad = unreadable(&report);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].0, "gone.pcap");
    assert!(bad[0].1.contains("cannot follow the link"), "{bad:?}");
    assert_eq!(bad[1].0, "mem.pcap");
    assert!(bad[1].1.contains("input/output error"), "{bad:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("gone.pcap: cannot follow the link"),
        "{stderr}"
    );
    // Only the notes are "neither captures nor Zeek logs".
    assert!(stderr.contains("skipped 1 file(s)"), "{stderr}");
    assert_eq!(report["hosts"][0]["verdict"]["label"], "regular-skype");
    // An expectation that holds does not hide the loss.
    let mut with_expect = args.to_vec();
    with_expect.extend(["--expect", "regular-skype"]);
    assert_eq!(run(&with_expect).status.code(), Some(2));
}

#[test]
fn running_out_of_file_descriptors_loses_no_input() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(common::root().join(REGULAR), d.path().join("a.pcap.gz")).unwrap();
    hostile_logs(d.path());
    // Three descriptors for stdio, one to work with: sniffing a gzip capture or a log must not
    // need a second one at the same time.
    let bin = env!("CARGO_BIN_EXE_tomskype");
    let script = format!(
        "ulimit -n 4 && exec '{bin}' analyze --geoip-db embedded --format json --threads 1 '{}'",
        d.path().display()
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    no_crash(&out);
    let report = json_of(&out);
    assert_eq!(
        report["inputs"].as_array().unwrap().len(),
        4,
        "{}",
        text(&out.stderr)
    );
    assert!(unreadable(&report).is_empty(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("skipped"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn reading_nothing_is_an_error_not_an_all_clear() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = empty.to_str().unwrap();
    let out = run(&["analyze", "--geoip-db", "embedded", e]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nothing was read"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("nothing was read"));
    // --expect has no host to check: it fails.
    let out = run(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--expect",
        "no-skype",
        e,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no host in the report"),
        "{}",
        text(&out.stderr)
    );
    // A capture with a header and no packet.
    let header_only = d.path().join("header-only.pcap");
    let mut pcap = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    pcap.extend([
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    std::fs::write(&header_only, pcap).unwrap();
    let out = run(&[
        "analyze",
        "--geoip-db",
        "embedded",
        header_only.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no packets or log records"));
}

/// Where the process `pid` is in its open descriptor of `path`, from `/proc/PID/fdinfo`.
fn read_position(pid: u32, path: &Path) -> Option<u64> {
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if std::fs::read_link(fd.path()).ok().as_deref() != Some(path) {
            continue;
        }
        let info = std::fs::read_to_string(format!(
            "/proc/{pid}/fdinfo/{}",
            fd.file_name().to_string_lossy()
        ))
        .ok()?;
        let pos = info.lines().find_map(|l| l.strip_prefix("pos:"))?;
        return pos.trim().parse().ok();
    }
    None
}

#[test]
fn capture_cut_while_it_is_read_is_reported_up_to_the_cut() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("ring.pcap");
    // The TOM-Skype sample's records, again and again, to some 96 MB.
    let sample = std::fs::read(common::root().join(TOM)).unwrap();
    let (header, records) = sample.split_at(24);
    let mut bytes = header.to_vec();
    while bytes.len() < 96 << 20 {
        bytes.extend_from_slice(records);
    }
    std::fs::write(&path, &bytes).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "--no-progress",
        ])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the reader is past its first buffers (sniffing reads less than 1 MiB), cut the file
    // a little ahead of it, as a `tcpdump -C` ring or logrotate's copytruncate would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut cut = None;
    let mut child = child;
    while cut.is_none() && child.try_wait().unwrap().is_none() {
        if let Some(pos) = read_position(child.id(), &path).filter(|&p| p >= 1 << 20) {
            let at = pos + (8 << 20);
            assert!(at < bytes.len() as u64, "the reader is too far already");
            let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(at).unwrap();
            cut = Some(at);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reader never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let out = child.wait_with_output().unwrap();
    // Not SIGBUS (a signal gives no exit code; a shell would say 135).
    no_crash(&out);
    let at = cut.expect("the read finished before the test could cut the file");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_of(&out);
    let input = &report["inputs"][0];
    assert!(input["packets"].as_u64().unwrap() > 0);
    assert!(input["bytes"].as_u64().unwrap() <= at);
    let shrank = input["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["detail"].as_str().unwrap().contains("shrank"))
        .unwrap_or_else(|| panic!("{input}"));
    assert_eq!(shrank["offset"], at);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("ring.pcap"),
        "{stderr}"
    );
    let hosts = report["hosts"].as_array().unwrap();
    assert!(hosts.iter().any(|h| h["verdict"]["label"] == "tom-skype"));
}

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn packets_of(report: &serde_json::Value, name: &str) -> u64 {
    let input = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no input {name}: {report}"));
    input["packets"].as_u64().unwrap()
}

#[test]
fn pipes_are_read_once_as_streams() {
    let sample = common::root().join("captures/lan-several-hosts.pcapng");
    // /dev/stdin from a pipe.
    let mut child = tomskype()
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "/dev/stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(&sample).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    no_crash(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(packets_of(&json_of(&out), "/dev/stdin"), 1617);
    // Process substitution, `<(cat x.pcapng)`: a /dev/fd path to a pipe.
    let script = format!(
        "exec '{}' analyze --geoip-db embedded --format json <(cat '{}')",
        env!("CARGO_BIN_EXE_tomskype"),
        sample.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    no_crash(&out);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(report["inputs"][0]["packets"], 1617, "{report}");
    // A named pipe whose writer comes late, beside a file.
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("late.fifo");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        let bytes = std::fs::read(common::root().join(TOM)).unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .and_then(|mut f| f.write_all(&bytes))
        })
    };
    let f = fifo.to_str().unwrap();
    let out = run(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        f,
        REGULAR,
    ]);
    writer.join().unwrap().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_of(&out);
    assert_eq!(packets_of(&report, "late.fifo"), 110);
    assert_eq!(report["inputs"][0]["format"], "pcap");
}

#[test]
fn a_pipe_that_never_delivers_does_not_stop_the_others() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("silent.fifo");
    mkfifo(&fifo);
    let started = std::time::Instant::now();
    let f = fifo.to_str().unwrap();
    for threads in ["1", "2"] {
        let out = run(&[
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "--input-timeout",
            "0.5",
            "--threads",
            threads,
            f,
            REGULAR,
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let report = json_of(&out);
        let bad = unreadable(&report);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].1.contains("nothing arrived within 0.5 s"), "{bad:?}");
        assert_eq!(report["hosts"][0]["verdict"]["label"], "regular-skype");
        assert!(text(&out.stderr).contains("silent.fifo: cannot read: nothing arrived"));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
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
fn pcapng_block_of_4_gb_loses_only_itself() {
    let sample = std::fs::read(common::root().join("captures/lan-several-hosts.pcapng")).unwrap();
    let mut offsets = Vec::new();
    let all = tomskype::capture::read_bytes(&sample, &mut |p: &tomskype::capture::Packet<'_>| {
        offsets.push(p.offset)
    });
    assert!(all.problems.is_empty());
    // The block of packet 3 claims 4 GB.
    let at = offsets[2] as usize;
    let mut bytes = sample.clone();
    bytes[at + 4..at + 8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("huge-block.pcapng");
    std::fs::write(&path, &bytes).unwrap();
    let out = run(&[
        "analyze",
        "--geoip-db",
        "embedded",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_of(&out);
    let input = &report["inputs"][0];
    assert_eq!(input["packets"], all.packets - 1, "{input}");
    assert_eq!(input["problems"][0]["offset"], at as u64, "{input}");
    assert!(input["problems"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("impossible length"));
    assert!(
        text(&out.stderr).contains("huge-block.pcapng: 2 problem(s)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn folders_and_files_without_permission_are_unreadable_inputs() {
    // Permissions mean nothing to root: run the binary as `nobody` (needs root and setpriv).
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !Path::new("/usr/bin/setpriv").exists() {
        println!("skipped: needs root and /usr/bin/setpriv to run the binary as nobody");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let top = d.path();
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    for sub in ["ok", "locked", "sub"] {
        std::fs::create_dir(top.join(sub)).unwrap();
    }
    std::fs::copy(common::root().join(REGULAR), top.join("ok/a.pcap.gz")).unwrap();
    std::fs::copy(common::root().join(TOM), top.join("sub/secret.pcap")).unwrap();
    mode(top, 0o755).unwrap();
    mode(&top.join("ok"), 0o755).unwrap();
    mode(&top.join("ok/a.pcap.gz"), 0o644).unwrap();
    mode(&top.join("sub"), 0o755).unwrap();
    mode(&top.join("sub/secret.pcap"), 0o000).unwrap();
    mode(&top.join("locked"), 0o000).unwrap();
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_tomskype"))
        .args(["analyze", "--geoip-db", "embedded", "--format", "json"])
        .arg(top)
        .arg(top.join("locked"))
        .output()
        .unwrap();
    no_crash(&out);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = json_of(&out);
    let bad = unreadable(&report);
    let reasons: Vec<(&str, &str)> = bad.iter().map(|(n, r)| (n.as_str(), r.as_str())).collect();
    assert_eq!(
        reasons,
        [
            ("locked", "cannot list the folder: permission denied"),
            ("secret.pcap", "cannot open: permission denied"),
            ("locked", "cannot list the folder: permission denied"),
        ],
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("neither captures nor Zeek logs"));
    assert_eq!(report["hosts"][0]["verdict"]["label"], "regular-skype");
}

#[test]
fn a_pipe_that_stalls_is_reported_up_to_the_stall() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("stalled.fifo");
    mkfifo(&fifo);
    let bytes = std::fs::read(common::root().join(TOM)).unwrap();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let writer = {
        let (fifo, bytes) = (fifo.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo)?;
            f.write_all(&bytes[..bytes.len() / 2])?;
            // Keep the pipe open and silent until the run is over.
            let _ = stopped.recv();
            Ok::<(), std::io::Error>(())
        })
    };
    let f = fifo.to_str().unwrap();
    let args = ["analyze", "--geoip-db", "embedded", "--format", "json"];
    let out = run(&[&args[..], &["--input-timeout", "1", f, REGULAR]].concat());
    drop(stop);
    writer.join().unwrap().unwrap();
    let report = json_of(&out);
    let input = &report["inputs"][0];
    assert_eq!(input["unreadable"], false, "{input}");
    assert!(input["packets"].as_u64().unwrap() > 10, "{input}");
    let problem = input["problems"].as_array().unwrap().last().unwrap();
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("nothing more arrived for 1 s after"),
        "{detail}"
    );
    assert_eq!(
        packets_of(&report, "regular-skype-2012-servers-only.pcap.gz"),
        784
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
}
