//! Helpers shared by the hostile-input tests (`hostile_input.rs`, `hostile_output.rs`): the
//! binary, crash checks, JSON report accessors, hostile Zeek logs and named pipes.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

pub const TOM: &str = "captures/tom-skype-cn-2011-login-beacon.pcap";
pub const REGULAR: &str = "captures/regular-skype-2012-servers-only.pcap.gz";

pub fn tomskype() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tomskype"));
    cmd.current_dir(common::root()).env("NO_COLOR", "1");
    cmd
}

/// Runs `tomskype ARGS...` and checks it did not crash (no signal, no panic, exit 0..=2).
pub fn run(args: &[&str]) -> Output {
    let out = tomskype().args(args).output().expect("the binary runs");
    no_crash(&out);
    out
}

pub fn no_crash(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "exit status {:?}, stderr: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Bytes no text output may hold: ESC, the C1 CSI, BEL, and UTF-8 RLO (U+202E), LINE
/// SEPARATOR (U+2028), ZERO WIDTH SPACE (U+200B).
pub fn assert_terminal_safe(what: &str, bytes: &[u8]) {
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

pub const CONN_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";
pub const DNS_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n";
pub const HTTP_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tuser_agent\n#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\n";

/// What an attacker writes into a log, in Zeek's own escaped form: clear the screen and the
/// scrollback, retitle the window, ring, and print a fake verdict.
pub const EVIL: &str = "\\x1b[2J\\x1b[3J\\x1b]0;pwned\\x07NO SKYPE\u{202e}\u{2028}\u{200b}";

/// Zeek logs of a TOM-Skype login beacon whose URL, DNS query and a damaged line carry
/// [`EVIL`], plus a capture whose file name holds an escape sequence and a bidi override.
pub fn hostile_logs(dir: &Path) {
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

pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// The inputs of a JSON report that are marked unreadable, with their first problem's detail.
pub fn unreadable(report: &serde_json::Value) -> Vec<(String, String)> {
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

pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

pub fn packets_of(report: &serde_json::Value, name: &str) -> u64 {
    let input = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no input {name}: {report}"));
    input["packets"].as_u64().unwrap()
}
