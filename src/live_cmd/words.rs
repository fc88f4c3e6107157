//! The words of `tomskype live`: the start, status and end lines, the warning about dropped
//! packets, and the errors of the session and of the interfaces, each a Fluent message in the
//! reader's language. Text from the system is made terminal-safe here.

use std::io;
use std::path::Path;
use std::time::Duration;

use tomskype::capture::iface::{self, IfaceError};
use tomskype::live::{LiveError, Status, Summary};
use tomskype::report::lang::Messages;
use tomskype::report::people;

use super::{safe_string, OS};
use crate::failure::{io_what, Io};

/// The line that says the capture has started.
pub(super) fn started(m: &Messages, iface: &str, duration: Option<Duration>) -> String {
    let iface = safe_string(iface);
    match duration {
        None => m.get("live-started", &[("iface", (&iface).into())]),
        Some(d) => {
            let duration = people::duration(d.as_secs_f64(), m);
            m.get(
                "live-started-for",
                &[("iface", (&iface).into()), ("duration", (&duration).into())],
            )
        }
    }
}

/// The status line: time, packets, bytes, hosts, Skype signs and the verdict so far. `iface`
/// is already terminal-safe.
pub(super) fn status_line(m: &Messages, iface: &str, s: &Status) -> String {
    let verdict = match s.assessment.verdict {
        Some((host, label)) => {
            let host = host.to_string();
            m.get(
                "live-verdict",
                &[("label", label.name().into()), ("host", (&host).into())],
            )
        }
        None => m.text("live-verdict-none"),
    };
    let seconds = s.elapsed.as_secs().to_string();
    let bytes = human_bytes(s.bytes);
    m.get(
        "live-status",
        &[
            ("iface", iface.into()),
            ("seconds", (&seconds).into()),
            ("packets", s.packets.into()),
            ("bytes", (&bytes).into()),
            ("hosts", s.assessment.hosts.into()),
            ("signs", s.assessment.skype_signs.into()),
            ("verdict", (&verdict).into()),
        ],
    )
}

/// The line that says the capture has stopped and what it read.
pub(super) fn finished(m: &Messages, s: &Summary) -> String {
    let iface = safe_string(&s.interface);
    let duration = people::duration(s.elapsed.as_secs_f64(), m);
    let bytes = human_bytes(s.bytes);
    m.get(
        "live-finished",
        &[
            ("iface", (&iface).into()),
            ("duration", (&duration).into()),
            ("packets", s.packets.into()),
            ("bytes", (&bytes).into()),
        ],
    )
}

/// The warning that the system dropped `lost` packets.
pub(super) fn dropped(m: &Messages, s: &Summary, lost: u64) -> String {
    let iface = safe_string(&s.interface);
    m.get(
        "live-dropped",
        &[
            ("iface", (&iface).into()),
            ("lost", lost.into()),
            ("packets", s.packets.into()),
        ],
    )
}

/// Bytes for people: `512 B`, `1.5 kB`, `12.3 MB`, `1.2 GB` (powers of 1000).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// A live session's error, for people.
pub(super) fn live_error(m: &Messages, e: &LiveError) -> String {
    match e {
        LiveError::Interface(e) => iface_error(m, e),
        LiveError::UnsupportedLink {
            iface,
            link_type,
            name,
        } => {
            let (iface, name, link_type) =
                (safe_string(iface), safe_string(name), link_type.to_string());
            m.get(
                "live-err-link",
                &[
                    ("iface", (&iface).into()),
                    ("type", (&link_type).into()),
                    ("name", (&name).into()),
                ],
            )
        }
        LiveError::Create { path, source } => file_error(m, "live-err-create", path, source),
        LiveError::Write { path, source } => file_error(m, "live-err-write", path, source),
    }
}

/// A message about the `--write` file: the system's error in words (`$what`) and in its own
/// English (`$reason`).
fn file_error(m: &Messages, id: &str, path: &Path, source: &io::Error) -> String {
    let path = safe_string(&path.display().to_string());
    let reason = safe_string(&source.to_string());
    let what = io_what(m, source, Io::Write);
    m.get(
        id,
        &[
            ("path", (&path).into()),
            ("reason", (&reason).into()),
            ("what", (&what).into()),
        ],
    )
}

/// An interface's error, for people.
pub(super) fn iface_error(m: &Messages, e: &IfaceError) -> String {
    let one = |id: &str, iface: &str, detail: &str| {
        let (iface, detail) = (safe_string(iface), safe_string(detail));
        m.get(
            id,
            &[
                ("iface", (&iface).into()),
                ("detail", (&detail).into()),
                ("os", OS.into()),
            ],
        )
    };
    match e {
        IfaceError::List { detail } => {
            let detail = safe_string(detail);
            m.get("live-err-list", &[("detail", (&detail).into())])
        }
        IfaceError::NoSuchInterface { name, available } => {
            let (name, available) = (safe_string(name), names(m, available));
            m.get(
                "live-err-no-such-interface",
                &[("name", (&name).into()), ("available", (&available).into())],
            )
        }
        IfaceError::NoDefault { available } => {
            let available = names(m, available);
            m.get("live-err-no-default", &[("available", (&available).into())])
        }
        IfaceError::NoNpcap => m.text("live-err-no-npcap"),
        IfaceError::Permission { iface, detail } => one("live-err-permission", iface, detail),
        IfaceError::Open { iface, detail } => one("live-err-open", iface, detail),
        IfaceError::Read { iface, detail } => one("live-err-read", iface, detail),
    }
}

/// The real interfaces' names for an error message, terminal-safe, quoted where they hold a
/// comma or a space.
fn names(m: &Messages, available: &[String]) -> String {
    if available.is_empty() {
        return m.text("live-err-none-listed");
    }
    available
        .iter()
        .map(|n| safe_string(&iface::quote(n)))
        .collect::<Vec<_>>()
        .join(&m.text("live-list-separator"))
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use tomskype::report::lang::Lang;

    use tomskype::classify::Label;
    use tomskype::live::{Assessment, Ending};
    use tomskype::report::lang::Arg;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn en() -> Messages {
        Messages::new(Lang::En)
    }

    fn status(secs_ms: u64, packets: u64, bytes: u64, a: Assessment) -> Status {
        Status {
            elapsed: Duration::from_millis(secs_ms),
            packets,
            bytes,
            flows_open: 0,
            assessment: a,
        }
    }

    #[test]
    fn formats_the_status_line() {
        let a = Assessment {
            hosts: 2,
            skype_signs: 3,
            verdict: Some((ip("192.0.2.2"), Label::TomSkype)),
        };
        assert_eq!(
            status_line(&en(), "eth0", &status(12_900, 1234, 1_234_567, a)),
            "live eth0 12s · 1234 packets · 1.2 MB · 2 hosts · 3 Skype/TOM signs · so far: tom-skype (192.0.2.2)"
        );
        let empty = status_line(&en(), "lo", &status(0, 0, 0, Assessment::default()));
        assert!(
            empty.ends_with("0 hosts · 0 Skype/TOM signs · so far: -"),
            "{empty}"
        );
        let one = Assessment {
            hosts: 1,
            skype_signs: 1,
            verdict: Some((ip("192.0.2.2"), Label::NoSkype)),
        };
        assert_eq!(
            status_line(&en(), "lo", &status(1000, 1, 60, one)),
            "live lo 1s · 1 packet · 60 B · 1 host · 1 Skype/TOM sign · so far: no-skype (192.0.2.2)"
        );
        let zh = status_line(
            &Messages::new(Lang::ZhCn),
            "eth0",
            &status(12_900, 1234, 1_234_567, a),
        );
        assert!(
            zh.contains("1234 个数据包") && zh.contains("TOM-Skype（192.0.2.2）"),
            "{zh}"
        );
        let tw = status_line(&Messages::new(Lang::ZhTw), "eth0", &status(0, 5, 0, one));
        assert!(tw.contains("5 個封包") && tw.contains("沒有 Skype"), "{tw}");
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(999_949), "999.9 kB");
        assert_eq!(human_bytes(12_300_000), "12.3 MB");
        assert_eq!(human_bytes(u64::MAX), "18446744.1 TB");
    }

    #[test]
    fn start_and_end_lines() {
        assert_eq!(
            started(&en(), "eth0", None),
            "tomskype: capturing on eth0; Ctrl-C to stop and report"
        );
        assert_eq!(
            started(&en(), "eth0", Some(Duration::from_secs(4))),
            "tomskype: capturing on eth0 for 4.0 s; Ctrl-C to stop and report"
        );
        let zh = started(
            &Messages::new(Lang::ZhCn),
            "eth0",
            Some(Duration::from_secs(120)),
        );
        assert!(zh.contains("eth0") && zh.contains("2 分 0 秒"), "{zh}");
        let summary = Summary {
            interface: "wlan0".into(),
            elapsed: Duration::from_secs(42),
            packets: 1834,
            bytes: 1_900_000,
            dropped: Some(3),
            ending: Ending::Stopped,
        };
        assert_eq!(
            finished(&en(), &summary),
            "tomskype: capture stopped after 42 s: 1834 packets (1.9 MB) on wlan0"
        );
        assert_eq!(
            dropped(&en(), &summary, 3),
            "live:wlan0: 3 packets were dropped before tomskype could read them; the verdict rests on the 1834 read"
        );
    }

    #[test]
    fn errors_say_what_to_do_on_this_system() {
        let e = iface_error(
            &en(),
            &IfaceError::Permission {
                iface: "eth0".into(),
                detail: "socket: Operation not permitted".into(),
            },
        );
        assert!(
            e.contains("no permission to capture on eth0") && e.contains("Operation not permitted"),
            "{e}"
        );
        // Each system says its own way to get the right, and only its own.
        if cfg!(target_os = "linux") {
            assert!(e.contains("root") && e.contains("setcap cap_net_raw,cap_net_admin+eip"));
        } else {
            assert!(!e.contains("setcap"), "{e}");
        }
        if cfg!(target_os = "macos") {
            assert!(e.contains("sudo") && e.contains("ChmodBPF"), "{e}");
        }
        if cfg!(windows) {
            assert!(
                e.contains("Administrator") && e.contains("npcap.com"),
                "{e}"
            );
        }
        let e = iface_error(&en(), &IfaceError::NoNpcap);
        assert!(
            e.contains("install it from https://npcap.com") && e.contains("WinPcap API-compatible"),
            "{e}"
        );
        // Every system's words exist in every language.
        for lang in Lang::ALL {
            let m = Messages::new(lang);
            for os in ["linux", "macos", "windows", "other"] {
                for id in ["live-err-permission", "live-err-not-built"] {
                    let text = m.get(
                        id,
                        &[
                            ("iface", "eth0".into()),
                            ("detail", "x".into()),
                            ("os", os.into()),
                        ],
                    );
                    assert!(
                        !text.contains('{') && text.len() > 40,
                        "{lang:?} {os} {id}: {text}"
                    );
                }
            }
        }
        let zh = iface_error(
            &Messages::new(Lang::ZhCn),
            &IfaceError::Permission {
                iface: "eth0".into(),
                detail: "socket: Operation not permitted".into(),
            },
        );
        assert!(zh.contains("管理员权限") && zh.contains("eth0"), "{zh}");
    }

    #[test]
    fn unknown_interfaces_are_named_safely_and_quoted() {
        let e = IfaceError::NoSuchInterface {
            name: "does-not-exist\x1b[2J".into(),
            available: vec!["lo".into(), "eth0".into(), "Intel(R) Wi-Fi 6".into()],
        };
        let text = iface_error(&en(), &e);
        assert_eq!(
            text,
            "no interface named does-not-exist\\x1b[2J; the interfaces are: lo, eth0, \"Intel(R) Wi-Fi 6\""
        );
        // The library's own wording is the same in English.
        assert_eq!(e.to_string().replace('\x1b', "\\x1b"), text);
        let zh = iface_error(&Messages::new(Lang::ZhCn), &e);
        assert!(zh.contains("lo、eth0、\"Intel(R) Wi-Fi 6\""), "{zh}");
        let none = iface_error(&en(), &IfaceError::NoDefault { available: vec![] });
        assert!(
            none.contains("--interface") && none.contains("allowed to capture"),
            "{none}"
        );
    }

    #[test]
    fn file_errors_name_the_file_safely() {
        let e = LiveError::Create {
            path: "/tmp/x\x07.pcap".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        let text = live_error(&en(), &e);
        assert!(
            text.starts_with("cannot create /tmp/x\\x07.pcap: permission denied"),
            "{text}"
        );
        // In Chinese: what it means for the reader, then the system's English.
        let zh = live_error(&Messages::new(Lang::ZhCn), &e);
        assert_eq!(
            zh,
            "无法创建文件 /tmp/x\\x07.pcap：没有权限写入这个位置。（技术细节：permission denied）"
        );
        let tw = live_error(&Messages::new(Lang::ZhTw), &e);
        assert!(tw.contains("沒有權限寫入這個位置"), "{tw}");
    }

    #[test]
    fn every_message_of_live_exists_in_every_language() {
        let ids = [
            "msg-error",
            "msg-warning",
            "msg-report-unwritable",
            "msg-html-written",
            "msg-input-problems",
            "msg-nothing-read-no-input",
            "msg-nothing-read-no-packets",
            "live-started",
            "live-started-for",
            "live-status",
            "live-verdict",
            "live-verdict-none",
            "live-finished",
            "live-dropped",
            "live-err-list",
            "live-err-no-such-interface",
            "live-err-no-default",
            "live-err-none-listed",
            "live-list-separator",
            "live-err-no-npcap",
            "live-err-permission",
            "live-err-open",
            "live-err-read",
            "live-err-link",
            "live-err-create",
            "live-err-write",
            "live-err-ctrlc",
            "live-err-not-built",
            "iface-flag-up",
            "iface-flag-running",
            "iface-flag-loopback",
            "iface-flag-wireless",
            "iface-flag-down",
            "iface-flag-separator",
            "iface-none",
            "iface-default",
            "iface-no-default",
        ];
        for lang in [Lang::ZhCn, Lang::ZhTw] {
            let m = Messages::new(lang);
            let en = en();
            for id in ids {
                let args: [(&str, Arg<'_>); 2] =
                    [("os", "linux".into()), ("label", "tom-skype".into())];
                let text = m.get(id, &args);
                assert_ne!(text, id, "{lang:?}: {id} is missing");
                // A translation, not English behind it (punctuation aside).
                if text.chars().any(|c| c.is_ascii_alphabetic()) && id != "live-verdict" {
                    assert_ne!(text, en.get(id, &args), "{lang:?}: {id} is English");
                }
            }
        }
    }
}
