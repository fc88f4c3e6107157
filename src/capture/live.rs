//! Stage 1, capture (live, feature `live`): packets from a network interface through libpcap,
//! for checking one's own machine. Only the source differs from reading a file: every packet
//! goes to the same [`Tracker`] as file inputs do, and the result is a [`Traffic`] for
//! [`Analyzer::report`], so live and file verdicts come from the same classifier.
//!
//! The capture is not promiscuous (the machine's own traffic is what matters), keeps whole
//! packets (snaplen 65535), and reads without blocking so it can stop on time
//! (`--duration`) or on Ctrl-C. With `--write` every packet is also written to a classic pcap
//! file that `tomskype analyze` reads back to the same verdict. The local programs owning the
//! sockets of the capture's flows are sampled (`/proc` on Linux, the IP Helper owner tables on
//! Windows, libproc on macOS: see `owners`) and attached to the flow table. A status line shows progress on a terminal. Nothing leaves
//! the machine.

mod iface;
#[cfg(windows)]
mod npcap;
mod status;

pub use iface::{choose, default_interface, list, write_listing, Interface};
pub use status::{assess, human_bytes, line as status_line, Assessment};

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::analyze::{Analyzer, Traffic};
use crate::capture::write::PcapWriter;
use crate::capture::{CaptureFormat, Packet, PacketSink, Problem, ProblemKind};
use crate::decode::link;
use crate::flow::Tracker;
use crate::report::model::DecodeReport;
use crate::report::InputReport;
use crate::textsafe::Safe;

/// Bytes kept of each packet: all of them (the evidence is in headers and first segments,
/// but a whole packet costs nothing on one machine's traffic).
pub const SNAPLEN: u32 = 65535;
/// How long libpcap may hold packets before handing them over (where the kernel batches).
const READ_TIMEOUT_MS: i32 = 200;
/// How long the loop sleeps when no packet is waiting (reads are non-blocking, so the loop
/// sees the clock and Ctrl-C; the kernel buffer holds what arrives meanwhile).
const IDLE: Duration = Duration::from_millis(20);
/// Kernel buffer for packets not read yet (bursts while the verdict so far is computed).
const BUFFER_BYTES: i32 = 16 << 20;
/// How often local sockets are matched to programs.
const PROGRAMS_EVERY: Duration = Duration::from_secs(2);

/// How to capture.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Interface to capture on; the default interface when None.
    pub interface: Option<String>,
    /// Stop after this long; on Ctrl-C only when None.
    pub duration: Option<Duration>,
    /// Also write every packet to this pcap file.
    pub write: Option<PathBuf>,
    /// Draw a status line on stderr (set it when stderr is a terminal).
    pub status: bool,
}

/// What can go wrong with a live capture.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// libpcap could not list the interfaces.
    #[error("cannot list network interfaces: {detail}")]
    List {
        /// libpcap's message.
        detail: String,
    },
    /// No interface has that name.
    #[error("no interface named {name}; the interfaces are: {available}")]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The real interfaces, comma-separated.
        available: String,
    },
    /// No interface is a sensible default.
    #[error(
        "no interface is up, running, not loopback and with an address; name one with \
         --interface (the interfaces are: {available})"
    )]
    NoDefault {
        /// The real interfaces, comma-separated.
        available: String,
    },
    /// Npcap is not installed (Windows).
    #[error(
        "live capture on Windows needs Npcap, which is not installed (wpcap.dll not found): \
         install it from https://npcap.com (tick \"Install Npcap in WinPcap API-compatible \
         Mode\"), then run tomskype again; or capture with Wireshark and run \
         `tomskype analyze` on the saved file"
    )]
    NoNpcap,
    /// The user may not capture.
    #[error("no permission to capture on {iface} ({detail}): {hint}", hint = PERMISSION_HINT)]
    Permission {
        /// The interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
    /// libpcap could not open the interface for another reason.
    #[error("cannot capture on {iface}: {detail}")]
    Open {
        /// The interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
    /// The interface's link layer is not one the decoder reads.
    #[error(
        "interface {iface} has link type {link_type} ({name}), which tomskype cannot decode \
         (it reads Ethernet, raw IP, Linux cooked and BSD loopback)"
    )]
    UnsupportedLink {
        /// The interface.
        iface: String,
        /// Its `LINKTYPE_*` value.
        link_type: i32,
        /// libpcap's name for it.
        name: String,
    },
}

/// What to do when the system refuses to let this user capture, on this system.
#[cfg(target_os = "linux")]
pub const PERMISSION_HINT: &str = "run tomskype as root (`sudo tomskype live`), or allow it once \
     with `sudo setcap cap_net_raw,cap_net_admin+eip $(command -v tomskype)`";
/// What to do when the system refuses to let this user capture, on this system.
#[cfg(target_os = "macos")]
pub const PERMISSION_HINT: &str = "run it as `sudo tomskype live`, or let your user capture \
     without sudo by installing Wireshark's ChmodBPF (\"Install ChmodBPF.pkg\" in the Wireshark \
     disk image), then log out and in again";
/// What to do when the system refuses to let this user capture, on this system.
#[cfg(windows)]
pub const PERMISSION_HINT: &str = "run tomskype as Administrator (right-click \"Terminal\", \
     \"Command Prompt\" or \"PowerShell\" and choose \"Run as administrator\"): Npcap was \
     installed for Administrators only; if the interface list is empty, reinstall Npcap from \
     https://npcap.com";
/// What to do when the system refuses to let this user capture, on this system.
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub const PERMISSION_HINT: &str = "run tomskype as root (`sudo tomskype live`), or give your \
     user read access to the capture devices (/dev/bpf*)";

/// Lists the interfaces live capture can use, with the default marked (`tomskype interfaces`).
pub fn write_interfaces(out: &mut dyn Write) -> anyhow::Result<()> {
    let list = list()?;
    write_listing(&list, out)?;
    Ok(())
}

/// Whether libpcap's error message says the user lacks the right to capture.
fn is_permission_error(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    // Linux and macOS say "permission denied" or "not permitted"; Windows "access is denied".
    d.contains("permission") || d.contains("not permitted") || d.contains("access is denied")
}

/// Opens the interface `device` (shown to people as `iface`) for capture: not promiscuous,
/// whole packets, immediate delivery, short timeout.
fn open(device: &str, iface: &str) -> Result<pcap::Capture<pcap::Active>, LiveError> {
    let fail = |e: pcap::Error| {
        let detail = match e.to_string() {
            s if s.trim().is_empty() || s.trim() == "libpcap error:" => {
                "libpcap gave no reason".to_owned()
            }
            s => s,
        };
        if is_permission_error(&detail) {
            LiveError::Permission {
                iface: iface.to_owned(),
                detail,
            }
        } else {
            LiveError::Open {
                iface: iface.to_owned(),
                detail,
            }
        }
    };
    let cap = pcap::Capture::from_device(device)
        .map_err(fail)?
        .promisc(false)
        // SNAPLEN is 65535, well inside i32.
        .snaplen(SNAPLEN as i32);
    // Immediate delivery where the library has it (on Windows, WinPcap 4.1 and Wine do not:
    // there packets come at the read timeout instead).
    #[cfg(windows)]
    let immediate = npcap::has(c"pcap_set_immediate_mode");
    #[cfg(not(windows))]
    let immediate = true;
    let cap = if immediate {
        cap.immediate_mode(true)
    } else {
        cap
    };
    cap.timeout(READ_TIMEOUT_MS)
        .buffer_size(BUFFER_BYTES)
        .open()
        .map_err(fail)?
        // Non-blocking: a blocking read may never return on an idle interface (libpcap does
        // not promise that the timeout fires without packets), and the loop must see the
        // clock and Ctrl-C.
        .setnonblock()
        .map_err(fail)
}

/// Whether the decoder reads `link_type` (asks the decoder itself, so the two cannot differ).
pub fn link_supported(link_type: u32) -> bool {
    link::SUPPORTED.contains(&link_type)
}

/// Nanoseconds since the epoch of a libpcap time stamp (microsecond precision).
fn ts_nanos(sec: i64, usec: i64) -> i64 {
    sec.saturating_mul(1_000_000_000)
        .saturating_add(usec.saturating_mul(1000))
}

/// The time stamp of a libpcap packet header, in nanoseconds since the epoch.
// `time_t` and `suseconds_t` are i64 on 64-bit Linux but i32 on some 32-bit targets.
#[allow(clippy::useless_conversion)]
fn header_ts(h: &pcap::PacketHeader) -> i64 {
    ts_nanos(i64::from(h.ts.tv_sec), i64::from(h.ts.tv_usec))
}

/// Captures on the interface `opts` names (or the default one) until the duration is over or
/// Ctrl-C, and returns the traffic for [`Analyzer::report`]. `analyzer` also gives the verdict
/// so far on the status line.
pub fn run(opts: &Options, analyzer: &Analyzer) -> anyhow::Result<Traffic> {
    let interfaces = list()?;
    let chosen = choose(&interfaces, opts.interface.as_deref())?;
    // People see Npcap's description on Windows, not its `\Device\NPF_{GUID}` name.
    let iface = chosen.display_name().to_owned();
    let mut cap = open(&chosen.name, &iface)?;
    let dl = cap.get_datalink();
    let link_type = match u32::try_from(dl.0) {
        Ok(t) if link_supported(t) => t,
        _ => {
            return Err(LiveError::UnsupportedLink {
                iface,
                link_type: dl.0,
                name: dl.get_name().unwrap_or_else(|_| "unknown".into()),
            }
            .into())
        }
    };
    let mut writer = match &opts.write {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let w = PcapWriter::new(BufWriter::new(file), link_type, SNAPLEN, false)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some((path, w))
        }
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("cannot catch Ctrl-C")?;
    }
    if opts.status {
        let _ = writeln!(
            std::io::stderr(),
            "tomskype: capturing on {}{}; Ctrl-C to stop and report",
            Safe(&iface),
            opts.duration
                .map(|d| format!(" for {:.1} s", d.as_secs_f64()))
                .unwrap_or_default()
        );
    }

    let mut tracker = Tracker::with_watch(analyzer.indicators.watch());
    let mut packets = 0u64;
    let mut bytes = 0u64;
    let mut problems = Vec::new();
    let start = Instant::now();
    // A duration too long for the clock is no limit at all.
    let deadline = opts.duration.and_then(|d| start.checked_add(d));
    let mut next_draw = start;
    let mut next_assess = start;
    let mut assessment = Assessment::default();
    let (result, programs) = with_programs(|| -> anyhow::Result<()> {
        loop {
            let now = Instant::now();
            if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| now >= d) {
                return Ok(());
            }
            if opts.status && now >= next_draw {
                if now >= next_assess {
                    assessment = assess(tracker.table(), analyzer);
                    let after = Instant::now();
                    let wait = status::next_assessment(after - now);
                    next_assess = after
                        .checked_add(wait)
                        .unwrap_or(after + status::MIN_ASSESS_EVERY);
                }
                status::draw(&status::line(
                    &iface,
                    now - start,
                    packets,
                    bytes,
                    &assessment,
                ));
                next_draw = now + status::DRAW_EVERY;
            }
            match cap.next_packet() {
                Ok(p) => {
                    packets += 1;
                    let ts = header_ts(p.header);
                    let packet = Packet {
                        number: packets,
                        offset: bytes,
                        ts_nanos: ts,
                        link_type,
                        orig_len: p.header.len,
                        data: p.data,
                    };
                    bytes += p.data.len() as u64;
                    tracker.packet(&packet);
                    if let Some((path, w)) = writer.as_mut() {
                        w.write_packet(ts, p.header.len, p.data)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                    }
                }
                // Nothing to read (non-blocking): wait a little.
                Err(pcap::Error::TimeoutExpired) => std::thread::sleep(IDLE),
                Err(e) => {
                    // The interface went away or failed: keep what was captured.
                    problems.push(Problem {
                        kind: ProblemKind::Io,
                        packet: Some(packets + 1),
                        offset: Some(bytes),
                        detail: format!("capture on {iface} stopped: {e}"),
                    });
                    return Ok(());
                }
            }
        }
    });
    if opts.status {
        status::clear();
    }
    result?;
    if let Some((path, w)) = writer {
        w.into_inner()
            .flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Ok(stats) = cap.stats() {
        let lost = u64::from(stats.dropped) + u64::from(stats.if_dropped);
        if lost > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "tomskype: warning: live:{}: {lost} packets were dropped before tomskype \
                 could read them; the verdict rests on the {packets} read",
                Safe(&iface)
            );
        }
    }
    tracker.table_mut().programs = programs;
    let mut input = InputReport::new(format!("live:{iface}"), CaptureFormat::Pcap);
    input.packets = packets;
    input.bytes = bytes;
    input.problems = problems;
    let (table, stats) = tracker.into_parts();
    input.decode = DecodeReport::from(&stats);
    Ok(Traffic::from_table(&table, analyzer, vec![input]))
}

/// Local sockets → programs, as the flow table keeps them.
type Programs = super::owners::Owners;

/// Runs `work` while sampling which programs own which local sockets: once before, every
/// [`PROGRAMS_EVERY`] on a background thread, and once after. The first owner seen of a
/// socket is kept. Where the system cannot tell (see [`owners`](super::owners)), nothing is
/// sampled.
fn with_programs<T>(work: impl FnOnce() -> T) -> (T, Programs) {
    use std::sync::mpsc;
    use std::sync::Mutex;

    use super::owners;

    if !owners::SUPPORTED {
        return (work(), Programs::default());
    }
    let seen = Mutex::new(owners::snapshot());
    let add = |snap: Programs| {
        // A poisoned lock means the other thread panicked; the scope re-raises it.
        if let Ok(mut seen) = seen.lock() {
            for (socket, program) in snap {
                seen.entry(socket).or_insert(program);
            }
        }
    };
    let (done, wait) = mpsc::channel::<()>();
    let out = std::thread::scope(|s| {
        let add = &add;
        s.spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(PROGRAMS_EVERY) {
                add(owners::snapshot());
            }
        });
        let out = work();
        drop(done);
        out
    });
    add(owners::snapshot());
    (out, seen.into_inner().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::linktype;

    #[test]
    fn supported_link_types_are_the_decoders() {
        for t in [
            linktype::ETHERNET,
            linktype::RAW,
            linktype::NULL,
            linktype::LOOP,
            linktype::LINUX_SLL,
            linktype::LINUX_SLL2,
            linktype::IPV4,
            linktype::IPV6,
        ] {
            assert!(link_supported(t), "{t}");
        }
        // 802.11 with radiotap is read now; Bluetooth HCI and USB are not.
        assert!(link_supported(127));
        for t in [201, 220] {
            assert!(!link_supported(t), "{t}");
        }
    }

    #[test]
    fn permission_errors_are_recognised() {
        assert!(is_permission_error(
            "libpcap error: You don't have permission to perform this capture on that device (socket: Operation not permitted)"
        ));
        assert!(is_permission_error("socket: Operation not permitted"));
        assert!(!is_permission_error("No such device exists"));
    }

    #[test]
    fn timestamps_become_nanoseconds() {
        assert_eq!(ts_nanos(1_700_000_000, 123_456), 1_700_000_000_123_456_000);
        assert_eq!(ts_nanos(i64::MAX, 999_999), i64::MAX);
    }

    #[test]
    fn the_permission_message_says_what_to_do() {
        let e = LiveError::Permission {
            iface: "eth0".into(),
            detail: "socket: Operation not permitted".into(),
        }
        .to_string();
        assert!(
            e.contains("eth0") && e.contains("Operation not permitted"),
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
        assert!(is_permission_error(
            "Error opening adapter: Access is denied.  (5)"
        ));
    }

    #[test]
    fn a_missing_npcap_says_where_to_get_it() {
        let e = LiveError::NoNpcap.to_string();
        assert!(
            e.contains("https://npcap.com") && e.contains("WinPcap API-compatible"),
            "{e}"
        );
    }

    #[test]
    fn programs_are_sampled_around_the_work() {
        if !crate::capture::owners::SUPPORTED {
            return;
        }
        // Wine gives sockets no owner (see `owners::iphlp`).
        #[cfg(windows)]
        if crate::capture::owners::iphlp::under_wine() {
            return;
        }
        // A socket of this very process must be attributed to it.
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let (n, programs) = with_programs(|| 7);
        assert_eq!(n, 7);
        let me = format!("(pid {})", std::process::id());
        let got = programs.get(&("127.0.0.1".parse().unwrap(), port, 17));
        assert!(got.is_some_and(|p| p.ends_with(&me)), "{got:?}");
    }
}
