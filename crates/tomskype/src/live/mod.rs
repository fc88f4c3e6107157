//! Live capture: the pipeline driver for this machine's own traffic, beside
//! [`analyze`](crate::analyze) for captures on disk. A session opens a network interface
//! ([`capture::iface`](crate::capture::iface), feature `live`), feeds every packet to the same
//! [`Tracker`](crate::flow::Tracker) as file inputs use, and ends with a [`Traffic`] for
//! [`Analyzer::report`](crate::analyze::Analyzer::report), so live and file verdicts come from the same classifier:
//!
//! ```text
//! capture::iface ──► live (this module) ──────────────────────► analyze::Analyzer::report
//!   libpcap            session loop: stop flag, --duration,       the report, as for files
//!                      --write, socket owners, verdict so far
//!                        │
//!                        └─► Observer: Started, Status, VerdictChanged, HostChanged, Finished
//! ```
//!
//! While it runs, a session gathers its flows per host as `analyze` does
//! ([`Gatherer`](crate::analyze::Gatherer)): flows that are over leave the table, so its
//! memory follows the traffic of the last minutes, not the length of the capture. It can
//! assess the traffic so far ([`Told`](crate::analyze::Told): the flows that ended and
//! those still going) and tell an [`Observer`] what is happening ([`Event`]), the verdict of every
//! host that changes included; it samples which local program owns which socket
//! ([`owners`]) and attaches the programs to the flow table as it goes; with
//! [`Options::write`] every packet is also written to a classic pcap file that `analyze`
//! reads back to the same verdict. It stops when the duration is over, when the caller sets
//! the stop flag, or when the interface fails.
//!
//! What it leaves to the caller: it installs no signal handler (the caller sets the flag, from
//! a Ctrl-C handler or anywhere), prints nothing (the caller shows the events as it likes;
//! the `tomskype` binary draws a status line in the reader's language) and returns typed
//! errors ([`LiveError`]). Nothing leaves the machine.
//!
//! ```no_run
//! # #[cfg(feature = "live")]
//! # {
//! use std::sync::atomic::AtomicBool;
//! use std::time::Duration;
//! use tomskype::addr::LocalNets;
//! use tomskype::analyze::Analyzer;
//! use tomskype::knowledge::{geoip::GeoIp, indicators::IndicatorSet};
//! use tomskype::live::{self, Event, Options};
//!
//! let analyzer = Analyzer {
//!     geoip: GeoIp::embedded()?,
//!     indicators: IndicatorSet::embedded()?,
//!     local: LocalNets::new(Vec::new()),
//! };
//! // Set it from a Ctrl-C handler, a button, another thread: the session stops within 20 ms.
//! let stop = AtomicBool::new(false);
//! let opts = Options {
//!     duration: Some(Duration::from_secs(60)),
//!     progress: true,
//!     ..Options::default()
//! };
//! let mut packets = 0;
//! let outcome = live::run(None, &opts, &analyzer, &stop, &mut |event: Event<'_>| {
//!     if let Event::Status(status) = event {
//!         packets = status.packets;
//!     }
//! })?;
//! let report = analyzer.report(outcome.traffic);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod assess;
pub mod owners;
mod session;

pub use crate::analyze::Assessment;
#[cfg(feature = "live")]
pub use session::run;
pub use session::{run_on, Source};

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::analyze::{Change, Memory, Traffic};
use crate::capture::iface::IfaceError;
use crate::classify::Label;

/// How a session runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Stop after this long; only on the stop flag (or a failing interface) when None.
    pub duration: Option<Duration>,
    /// Also write every packet to this pcap file.
    pub write: Option<PathBuf>,
    /// Send [`Event::Status`] (every [`STATUS_EVERY`]) and [`Event::VerdictChanged`]. Each
    /// status may carry a new assessment of the traffic so far, which costs time as the
    /// traffic grows (spaced so that it takes at most about 2% of the time).
    pub progress: bool,
    /// Send [`Event::HostChanged`] for every host whose verdict changes, as often as the
    /// assessments of [`Options::progress`] (assessing even without it), and once more when
    /// the capture stops.
    pub changes: bool,
    /// How the session keeps its memory bounded over hours: flows that are over leave the
    /// table for their hosts' aggregates as in `analyze`, and past these bounds quiet hosts
    /// are summarised and a budget is kept ([`Memory`]).
    pub memory: Memory,
}

/// How often [`Event::Status`] is sent while [`Options::progress`] is on.
pub const STATUS_EVERY: Duration = Duration::from_millis(500);

/// What a session tells its [`Observer`], in this order: `Started` once, then (with
/// [`Options::progress`]) `Status` now and then and `VerdictChanged` when the verdict so far
/// changes, (with [`Options::changes`]) `HostChanged` when a host's verdict does, and
/// `Finished` once when the capture has stopped and the written file (if any) is
/// complete. A session that fails with an error sends no `Finished`.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Packets are being read.
    Started {
        /// The interface, by the name people know it by (untrusted text: it comes from the
        /// system).
        interface: &'a str,
        /// How long the capture will run, if it has a limit.
        duration: Option<Duration>,
    },
    /// Where the capture stands.
    Status(Status),
    /// The most significant host, or its label, is not the one the last assessment found.
    VerdictChanged {
        /// The verdict so far before (None: no host yet).
        before: Option<(IpAddr, Label)>,
        /// The verdict so far now.
        now: Option<(IpAddr, Label)>,
    },
    /// A host's verdict is not the one told before ([`crate::analyze::Change`]).
    HostChanged(&'a Change),
    /// The capture has stopped; the report comes next.
    Finished(&'a Summary),
}

/// Where a running capture stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// Time since the capture started.
    pub elapsed: Duration,
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Flows in memory now: those not over yet (the others are gathered per host).
    pub flows_open: usize,
    /// The verdict so far, as of the last assessment.
    pub assessment: Assessment,
}

/// What a capture read, once it has stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The interface, by the name people know it by (untrusted text).
    pub interface: String,
    /// How long it ran.
    pub elapsed: Duration,
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Packets the system dropped before they could be read, when it can tell.
    pub dropped: Option<u64>,
    /// Why it stopped.
    pub ending: Ending,
}

/// Why a capture stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// [`Options::duration`] was over.
    TimeUp,
    /// The caller set the stop flag.
    Stopped,
    /// The interface failed or went away; what was read before is kept, and the problem is
    /// in the traffic's input report.
    Failed {
        /// What went wrong, lowercase (untrusted text).
        detail: String,
    },
}

/// Receives a session's [`Event`]s. Any `FnMut(Event<'_>)` is one.
pub trait Observer {
    /// Called on the session's thread; the capture waits while it runs, so keep it short
    /// (the kernel buffers packets meanwhile).
    fn event(&mut self, event: Event<'_>);
}

impl<F: FnMut(Event<'_>)> Observer for F {
    fn event(&mut self, event: Event<'_>) {
        self(event)
    }
}

/// What a session gives.
#[derive(Debug)]
pub struct Outcome {
    /// The traffic, for [`Analyzer::report`](crate::analyze::Analyzer::report); its one input
    /// is named `live:<interface>`.
    pub traffic: Traffic,
    /// What was read (also sent as [`Event::Finished`]).
    pub summary: Summary,
}

/// What can go wrong with a live capture. The messages are for logs and library users; a
/// program that talks to people words them itself from the variants (the `tomskype` binary
/// does, in the reader's language).
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The interface could not be listed, found or opened.
    #[error(transparent)]
    Interface(#[from] IfaceError),
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
    /// The `--write` file could not be created.
    #[error("cannot create {}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the `--write` file failed (the capture stops).
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Whether the decoder reads `link_type` (asks the decoder itself, so the two cannot differ).
pub fn link_supported(link_type: u32) -> bool {
    crate::decode::link::SUPPORTED.contains(&link_type)
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
}
