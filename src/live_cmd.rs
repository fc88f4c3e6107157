//! `tomskype live` and `tomskype interfaces`: the command line around the library's live
//! session ([`tomskype::live`]). Here, not in the library: the Ctrl-C handler (it sets the
//! session's stop flag, so the report is still printed), the status line on stderr (drawn only
//! when stderr is a terminal, cleared before anything else is printed), the start and end
//! lines, live's warnings and errors, and the listing of interfaces. Every sentence is a
//! Fluent message (`data/locales/*.ftl`) in the reader's language (`--lang`, else `LC_ALL`,
//! `LC_MESSAGES`, `LANG`); every text that came from the system (interface names, libpcap's
//! messages, paths) goes through [`tomskype::textsafe`]. The report itself is printed as
//! `analyze` prints it.
//!
//! A build without the `live` feature uses only what says so ([`not_built`]); the rest is
//! compiled and tested all the same, so that every build checks live's messages.
#![cfg_attr(not(feature = "live"), allow(dead_code))]

use std::borrow::Cow;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use tomskype::capture::iface::{self, IfaceError, Interface};
use tomskype::live::{Event, LiveError, Status, Summary};
use tomskype::report::lang::{Lang, Messages};
use tomskype::report::people;
use tomskype::textsafe::safe;

use crate::cli::LiveArgs;
use crate::say_error;

/// The system, as the messages select on it (`$os`).
const OS: &str = if cfg!(target_os = "linux") {
    "linux"
} else if cfg!(target_os = "macos") {
    "macos"
} else if cfg!(windows) {
    "windows"
} else {
    "other"
};

/// `tomskype live`: captures until `--duration` or Ctrl-C, then prints the report.
#[cfg(feature = "live")]
pub fn live(args: LiveArgs) -> Result<ExitCode> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set by the Ctrl-C handler; the session stops at its next look at it (within 20 ms).
    static STOP: AtomicBool = AtomicBool::new(false);

    let (analyzer, expected) = crate::config::analyzer(&args.report)?;
    let m = Messages::new(crate::config::lang(args.report.lang.as_deref())?);
    let duration = args
        .duration
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| anyhow::anyhow!("--duration {s}: not a number of seconds ≥ 0"))
        })
        .transpose()?;
    let terminal = io::stderr().is_terminal();
    let opts = tomskype::live::Options {
        duration,
        write: args.write.clone(),
        progress: terminal,
    };
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)) {
        let reason = safe_string(&e.to_string());
        say_error(
            &m,
            &m.get("live-err-ctrlc", &[("reason", (&reason).into())]),
        );
        return Ok(ExitCode::from(2));
    }
    let mut screen = Screen::new(&m, terminal);
    let result = tomskype::live::run(
        args.interface.as_deref(),
        &opts,
        &analyzer,
        &STOP,
        &mut |e: Event<'_>| screen.event(e),
    );
    screen.clear();
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            say_error(&m, &live_error(&m, &e));
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(lost) = outcome.summary.dropped.filter(|&n| n > 0) {
        crate::say_warning(&m, &dropped(&m, &outcome.summary, lost));
    }
    let report = analyzer.report(outcome.traffic);
    crate::emit(&report, &args.report, &expected)
}

/// `tomskype live` in a build without live capture: says so, and what to do instead.
#[cfg(not(feature = "live"))]
pub fn live(args: LiveArgs) -> Result<ExitCode> {
    let m = Messages::new(crate::config::lang(args.report.lang.as_deref())?);
    say_error(&m, &not_built(&m));
    Ok(ExitCode::from(2))
}

/// `tomskype interfaces`: the interfaces live capture can use, the default marked.
#[cfg(feature = "live")]
pub fn interfaces() -> Result<ExitCode> {
    let m = Messages::new(Lang::from_env());
    let list = match iface::list() {
        Ok(list) => list,
        Err(e) => {
            say_error(&m, &iface_error(&m, &e));
            return Ok(ExitCode::from(2));
        }
    };
    let mut stdout = io::stdout().lock();
    write_listing(&m, &list, &mut stdout)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `tomskype interfaces` in a build without live capture.
#[cfg(not(feature = "live"))]
pub fn interfaces() -> Result<ExitCode> {
    let m = Messages::new(Lang::from_env());
    say_error(&m, &not_built(&m));
    Ok(ExitCode::from(2))
}

/// What a build without live capture says, on this system.
#[cfg_attr(feature = "live", allow(dead_code))]
fn not_built(m: &Messages) -> String {
    m.get("live-err-not-built", &[("os", OS.into())])
}

/// Text from the system (interface names, libpcap's messages, paths), safe for a terminal.
fn safe_string(s: &str) -> String {
    safe(s).into_owned()
}

/// Draws what the session tells on stderr: the start line, the status line (rewritten in
/// place), the end line. Only on a terminal: elsewhere stderr keeps only warnings and errors.
struct Screen<'m> {
    m: &'m Messages,
    terminal: bool,
    /// The interface, terminal-safe, from `Started`.
    iface: String,
    /// A status line is on the screen.
    drawn: bool,
}

impl<'m> Screen<'m> {
    fn new(m: &'m Messages, terminal: bool) -> Screen<'m> {
        Screen {
            m,
            terminal,
            iface: String::new(),
            drawn: false,
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Started {
                interface,
                duration,
            } => {
                self.iface = safe_string(interface);
                if self.terminal {
                    let _ = writeln!(io::stderr(), "{}", started(self.m, interface, duration));
                }
            }
            Event::Status(status) => {
                if self.terminal {
                    let line = status_line(self.m, &self.iface, &status);
                    let width = terminal_size::terminal_size_of(io::stderr())
                        .map_or(80, |(w, _)| usize::from(w.0));
                    draw(&fit(&line, width.saturating_sub(1)));
                    self.drawn = true;
                }
            }
            // The status line shows the verdict so far, changed or not.
            Event::VerdictChanged { .. } => {}
            Event::Finished(summary) => {
                self.clear();
                if self.terminal {
                    let _ = writeln!(io::stderr(), "{}", finished(self.m, summary));
                }
            }
        }
    }

    /// Clears the status line, if one is drawn.
    fn clear(&mut self) {
        if self.drawn {
            draw("");
            self.drawn = false;
        }
    }
}

/// Draws `text` over the current stderr line.
fn draw(text: &str) {
    let mut err = io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{text}");
    let _ = err.flush();
}

/// `line` cut to `width` columns (wide characters count two), with `…` where it was cut: a
/// status line that wrapped could not be rewritten in place.
fn fit(line: &str, width: usize) -> Cow<'_, str> {
    use textwrap::core::display_width;
    if display_width(line) <= width {
        return Cow::Borrowed(line);
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in line.chars() {
        let w = display_width(c.encode_utf8(&mut buf));
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

/// The line that says the capture has started.
fn started(m: &Messages, iface: &str, duration: Option<Duration>) -> String {
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
fn status_line(m: &Messages, iface: &str, s: &Status) -> String {
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
fn finished(m: &Messages, s: &Summary) -> String {
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
fn dropped(m: &Messages, s: &Summary, lost: u64) -> String {
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
fn live_error(m: &Messages, e: &LiveError) -> String {
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

/// A message about the `--write` file.
fn file_error(m: &Messages, id: &str, path: &std::path::Path, source: &io::Error) -> String {
    let path = safe_string(&path.display().to_string());
    let reason = safe_string(&source.to_string());
    m.get(
        id,
        &[("path", (&path).into()), ("reason", (&reason).into())],
    )
}

/// An interface's error, for people.
fn iface_error(m: &Messages, e: &IfaceError) -> String {
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

/// Writes the listing of `tomskype interfaces`: one interface a line with its flags and
/// addresses, the default marked with `*`. Names and descriptions come from the system: shown
/// terminal-safe like any input.
fn write_listing(m: &Messages, list: &[Interface], out: &mut dyn Write) -> io::Result<()> {
    use textwrap::core::display_width;

    if list.is_empty() {
        return writeln!(out, "{}", m.text("iface-none"));
    }
    let default = iface::default_interface(list).map(|i| i.name.as_str());
    let shown: Vec<String> = list.iter().map(|i| safe_string(i.display_name())).collect();
    let flags: Vec<String> = list.iter().map(|i| state(m, i)).collect();
    let width = shown.iter().map(|s| display_width(s)).max().unwrap_or(0);
    let flags_width = flags
        .iter()
        .map(|s| display_width(s))
        .max()
        .unwrap_or(0)
        .max(24);
    let pad = |s: &str, to: usize| " ".repeat(to.saturating_sub(display_width(s)));
    for ((i, shown), flags) in list.iter().zip(&shown).zip(&flags) {
        let mark = if Some(i.name.as_str()) == default {
            '*'
        } else {
            ' '
        };
        let addrs = if i.addresses.is_empty() {
            "-".to_owned()
        } else {
            i.addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            out,
            "{mark} {shown}{}  {flags}{}  {addrs}",
            pad(shown, width),
            pad(flags, flags_width)
        )?;
        // Whatever the first column does not show: the description (Linux, macOS) or the
        // device name (Windows).
        let other = if i.display_name() == i.name {
            i.description.as_deref()
        } else {
            Some(i.name.as_str())
        };
        match other {
            Some(d) if !d.trim().is_empty() => writeln!(out, "  ({})", safe(d))?,
            _ => writeln!(out)?,
        }
    }
    match default.and_then(|name| list.iter().find(|i| i.name == name)) {
        Some(i) => {
            let name = safe_string(i.display_name());
            writeln!(
                out,
                "{}",
                m.get("iface-default", &[("iface", (&name).into())])
            )
        }
        None => writeln!(out, "{}", m.text("iface-no-default")),
    }
}

/// An interface's state in words: up, running, loopback, wireless (or down).
fn state(m: &Messages, i: &Interface) -> String {
    let on: Vec<String> = [
        (i.up, "iface-flag-up"),
        (i.running, "iface-flag-running"),
        (i.loopback, "iface-flag-loopback"),
        (i.wireless, "iface-flag-wireless"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, id)| m.text(id))
    .collect();
    if on.is_empty() {
        m.text("iface-flag-down")
    } else {
        on.join(&m.text("iface-flag-separator"))
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

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
    fn long_lines_are_cut_to_the_terminal() {
        assert_eq!(fit("live eth0 1s", 80), "live eth0 1s");
        assert_eq!(fit("live eth0 1s", 8), "live et…");
        // Chinese characters take two columns.
        let cut = fit("正在抓取网络流量", 9);
        assert_eq!(cut, "正在抓取…");
        assert!(textwrap::core::display_width(&cut) <= 9);
        assert_eq!(fit("abc", 0), "…");
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

    fn machine() -> Vec<Interface> {
        let iface =
            |name: &str, addrs: &[&str], up: bool, running: bool, loopback: bool| Interface {
                name: name.into(),
                description: None,
                addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
                up,
                running,
                loopback,
                wireless: false,
            };
        vec![
            iface("any", &[], true, true, false),
            iface("lo", &["127.0.0.1", "::1"], true, true, true),
            iface("eth0", &["192.0.2.5"], true, false, false),
            iface("docker0", &["198.51.100.1"], false, false, false),
            iface("wlan0", &["192.0.2.9", "2001:db8::9"], true, true, false),
            iface("eth1", &["203.0.113.2"], true, true, false),
        ]
    }

    fn listing(m: &Messages, list: &[Interface]) -> String {
        let mut out = Vec::new();
        write_listing(m, list, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_listing_marks_the_default_and_shows_flags() {
        let mut list = machine();
        list[4].wireless = true;
        list[4].description = Some("Wi-Fi".into());
        let text = listing(&en(), &list);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), list.len() + 1);
        assert!(lines[4].starts_with("* wlan0"), "{text}");
        assert!(lines[4].contains("up,running,wireless"), "{text}");
        assert!(
            lines[4].contains("192.0.2.9 2001:db8::9  (Wi-Fi)"),
            "{text}"
        );
        assert!(lines[1].contains("loopback"), "{text}");
        assert!(lines[3].contains("down"), "{text}");
        assert_eq!(lines.iter().filter(|l| l.starts_with('*')).count(), 2);
        assert_eq!(lines[6], "* = default for `tomskype live`: wlan0");
        assert!(listing(&en(), &[]).contains("no interfaces"));

        // In Chinese the columns still line up: the addresses start in the same column.
        let zh = listing(&Messages::new(Lang::ZhCn), &list);
        let columns: Vec<usize> = zh
            .lines()
            .zip(&list)
            .map(|(l, i)| {
                let first = i.addresses.first().map_or("-".into(), |a| a.to_string());
                let at = l.find(&first).unwrap();
                textwrap::core::display_width(&l[..at])
            })
            .collect();
        assert!(columns.iter().all(|&c| c == columns[0]), "{zh}");
    }

    #[test]
    fn windows_interfaces_are_listed_by_their_description() {
        let mut lo = machine()[1].clone();
        lo.name = "\\Device\\NPF_Loopback".into();
        lo.description = Some("Adapter for loopback traffic capture".into());
        let mut wifi = machine()[4].clone();
        wifi.name = "\\Device\\NPF_{4E273621-5161-46C8-895A-48D0E52A0B83}".into();
        wifi.description = Some("Intel(R) Wi-Fi 6 AX201 160MHz".into());
        let mut bare = machine()[3].clone();
        bare.name = "\\Device\\NPF_{0000}".into();
        bare.description = Some("  ".into());
        bare.addresses.clear();
        let list = vec![lo, wifi, bare];
        let text = listing(&en(), &list);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("* Intel(R) Wi-Fi 6 AX201 160MHz"),
            "{text}"
        );
        // The device name, terminal-safe (backslashes shown escaped, as all input text is).
        let device = format!("({})", safe(&list[1].name));
        assert!(lines[1].ends_with(&device), "{text}");
        // A blank description shows nothing.
        assert!(lines[2].ends_with("-"), "{text}");
        assert!(
            lines[3].ends_with("default for `tomskype live`: Intel(R) Wi-Fi 6 AX201 160MHz"),
            "{text}"
        );
    }
}
