//! Hostile input, round two (issue 12), through the real binary, on the input side: inputs
//! that cannot be read are never lost silently (permissions, broken links, I/O errors, the
//! open-file limit), reading nothing is an error, pipes and FIFOs are read once as streams with
//! bounded waits, a capture cut while it is read is reported up to the cut (no SIGBUS), and a
//! pcapng block of 4 GB loses only itself. Every input is made here, in a temporary folder.

// FIFOs, /proc, raw file descriptors and Unix permissions: these run on Unix only (they
// compile to nothing for Windows, whose build CI checks with --all-targets).
#![cfg(unix)]

mod common;
mod hostile;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use hostile::*;

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
    assert!(
        text(&out.stdout).contains("Nothing was read"),
        "{}",
        text(&out.stdout)
    );
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
    // One thread: with more, a file this size is read in shards, by several readers after a
    // pass that samples it from end to end, and `read_position` could not tell them apart.
    let child = Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .args([
            "analyze",
            "--geoip-db",
            "embedded",
            "--format",
            "json",
            "--no-progress",
            "--threads",
            "1",
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
