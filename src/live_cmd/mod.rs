//! `tomskype live` and `tomskype interfaces`: the command line around the library's live
//! session ([`tomskype::live`]). Here, not in the library: the Ctrl-C handler (it sets the
//! session's stop flag, so the report is still printed), the status line on stderr (drawn only
//! when stderr is a terminal, cleared before anything else is printed), the start and end
//! lines, live's warnings and errors, and the listing of interfaces. Every sentence is a
//! Fluent message (`crates/tomskype/data/locales/*.ftl`) in the reader's language (`--lang`, else `LC_ALL`,
//! `LC_MESSAGES`, `LANG`); every text that came from the system (interface names, libpcap's
//! messages, paths) goes through [`tomskype::textsafe`]. The report itself is printed as
//! `analyze` prints it. The words are in `words` (start, status and end lines, errors) and
//! `listing` (`tomskype interfaces`); here is what runs the command and draws on the terminal.
//!
//! A build without the `live` feature uses only what says so ([`not_built`]); the rest is
//! compiled and tested all the same, so that every build checks live's messages.
#![cfg_attr(not(feature = "live"), allow(dead_code))]

mod listing;
mod words;

#[cfg(feature = "live")]
use listing::write_listing;
#[cfg(feature = "live")]
use words::{dropped, iface_error, live_error};
use words::{finished, started, status_line};

use std::borrow::Cow;
use std::io::{self, Write};
use std::process::ExitCode;

use tomskype::live::Event;
use tomskype::report::lang::Messages;
use tomskype::textsafe::safe;

use crate::cli::LiveArgs;
use crate::failure::Failure;
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

/// `tomskype live`: captures until `--duration` or Ctrl-C, then prints the report; `m` in the
/// language of `--lang`.
#[cfg(feature = "live")]
pub fn live(args: LiveArgs, m: &Messages) -> Result<ExitCode, Box<Failure>> {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set by the Ctrl-C handler; the session stops at its next look at it (within 20 ms).
    static STOP: AtomicBool = AtomicBool::new(false);

    let (analyzer, expected) = crate::config::analyzer(&args.report)?;
    let duration = args
        .duration
        .map(|s| crate::config::seconds(s, Failure::Duration))
        .transpose()?;
    let terminal = io::stderr().is_terminal();
    // Verdicts told as they change, as JSON lines before the report's.
    let telling = args.report.format == crate::cli::ReportFormat::Jsonl;
    let opts = tomskype::live::Options {
        duration,
        write: args.write.clone(),
        progress: terminal,
        changes: telling,
        memory: crate::memory(&args.memory, &args.report),
    };
    if telling {
        crate::write_jsonl_header(&analyzer)?;
    }
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)) {
        let reason = safe_string(&e.to_string());
        say_error(m, &m.get("live-err-ctrlc", &[("reason", (&reason).into())]));
        return Ok(ExitCode::from(2));
    }
    let mut screen = Screen::new(m, terminal);
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
            say_error(m, &live_error(m, &e));
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(lost) = outcome.summary.dropped.filter(|&n| n > 0) {
        crate::say_warning(m, &dropped(m, &outcome.summary, lost));
    }
    let report = analyzer.report(outcome.traffic);
    crate::emit(&report, &args.report, &expected, m, telling)
}

/// `tomskype live` in a build without live capture: says so, and what to do instead.
#[cfg(not(feature = "live"))]
pub fn live(_args: LiveArgs, m: &Messages) -> Result<ExitCode, Box<Failure>> {
    say_error(m, &not_built(m));
    Ok(ExitCode::from(2))
}

/// `tomskype interfaces`: the interfaces live capture can use, the default marked; `m` in the
/// environment's language.
#[cfg(feature = "live")]
pub fn interfaces(m: &Messages) -> Result<ExitCode, Box<Failure>> {
    let list = match tomskype::capture::iface::list() {
        Ok(list) => list,
        Err(e) => {
            say_error(m, &iface_error(m, &e));
            return Ok(ExitCode::from(2));
        }
    };
    let mut stdout = io::stdout().lock();
    write_listing(m, &list, &mut stdout)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `tomskype interfaces` in a build without live capture.
#[cfg(not(feature = "live"))]
pub fn interfaces(m: &Messages) -> Result<ExitCode, Box<Failure>> {
    say_error(m, &not_built(m));
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
            Event::HostChanged(change) => {
                // The status line is on stderr: the line goes to stdout between two draws.
                crate::tell_change(change);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
