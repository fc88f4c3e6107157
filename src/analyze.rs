//! The pipeline, end to end: reads inputs (in parallel, one worker per core), builds one flow
//! table from all of them, then enriches, classifies and reports per host. The binary and the
//! live capture both come through here, so every source gets the same verdicts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::addr::LocalNets;
use crate::capture::{self, Packet, PacketSink};
use crate::classify;
use crate::enrich::geoip::GeoIp;
use crate::enrich::indicators::IndicatorSet;
use crate::enrich::{self, Context};
use crate::flow::{FlowTable, Tracker};
use crate::report::model::{DecodeReport, ToolInfo, Totals, SCHEMA};
use crate::report::{HostReport, InputReport, Report};

/// What the analysis needs besides the traffic: loaded once per run.
pub struct Analyzer {
    /// Country lookups.
    pub geoip: GeoIp,
    /// The indicator set.
    pub indicators: IndicatorSet,
    /// Which addresses are local hosts.
    pub local: LocalNets,
}

/// The traffic of all inputs, merged, with what reading each input gave.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Flows and names of all inputs.
    pub table: FlowTable,
    /// One report per input, in the order given.
    pub inputs: Vec<InputReport>,
}

/// Byte counter shared with a progress display: bytes of input consumed so far.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes consumed (by record offsets; approximate for compressed inputs).
    pub done: AtomicU64,
}

/// The inputs of a run, after expanding folders.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Capture files (or `-`), in the order given, folders expanded in path order.
    pub captures: Vec<PathBuf>,
}

impl Inputs {
    /// Expands folders (recursively, every regular file, sorted by path). Paths that do not
    /// exist are kept, so that reading them reports the error.
    pub fn expand(paths: &[PathBuf]) -> Inputs {
        let captures = capture::expand_inputs(paths)
            .iter()
            .map(|item| item.path().to_owned())
            .collect();
        Inputs { captures }
    }

    /// Total size of the inputs in bytes, as far as known (for progress).
    pub fn total_bytes(&self) -> u64 {
        self.captures
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Reads every input with `threads` workers.
    pub fn read(&self, threads: usize, progress: Option<&Progress>) -> Traffic {
        read_captures(&self.captures, threads, progress)
    }
}

/// Reads every capture in `paths` (files, or `-` for standard input; directories must already
/// be expanded) with `threads` workers, and merges their flow tables in input order, so the
/// result does not depend on the number of threads.
pub fn read_captures(paths: &[PathBuf], threads: usize, progress: Option<&Progress>) -> Traffic {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(Tracker, InputReport)>>> =
        Mutex::new((0..paths.len()).map(|_| None).collect());
    let workers = threads.clamp(1, paths.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let one = read_capture(path, progress);
                // A poisoned lock means another worker panicked; its panic is re-raised by
                // the scope, so this worker's result no longer matters.
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(one);
                }
            });
        }
    });
    let mut traffic = Traffic::default();
    for (tracker, input) in results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
    {
        traffic.table.merge(tracker.table);
        traffic.inputs.push(input);
    }
    traffic
}

struct Counting<'a> {
    tracker: Tracker,
    progress: Option<&'a Progress>,
    last: u64,
}

impl PacketSink for Counting<'_> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        self.tracker.packet(packet);
        if let Some(p) = self.progress {
            // Publish every 4 MiB or so: the counter is shared between threads.
            if packet.offset >= self.last + (4 << 20) {
                p.done
                    .fetch_add(packet.offset - self.last, Ordering::Relaxed);
                self.last = packet.offset;
            }
        }
    }
}

/// Reads one capture into a fresh tracker.
pub fn read_capture(path: &Path, progress: Option<&Progress>) -> (Tracker, InputReport) {
    let mut sink = Counting {
        tracker: Tracker::new(),
        progress,
        last: 0,
    };
    let summary = capture::read_path(path, &mut sink);
    if let Some(p) = progress {
        p.done
            .fetch_add(summary.bytes.saturating_sub(sink.last), Ordering::Relaxed);
    }
    let tracker = sink.tracker;
    let mut input = InputReport::new(path.display().to_string(), summary.format);
    input.gzip = summary.gzip;
    input.packets = summary.packets;
    input.bytes = summary.bytes;
    input.problems = summary.problems;
    input.unreadable = summary.unreadable;
    input.decode = DecodeReport::from(&tracker.stats);
    (tracker, input)
}

impl Analyzer {
    /// Enriches, classifies and reports every local host of `traffic`.
    pub fn report(&self, traffic: Traffic) -> Report {
        let ctx = Context {
            local: &self.local,
            geoip: &self.geoip,
            indicators: &self.indicators,
        };
        let views = enrich::hosts(&traffic.table, &ctx);
        let hosts: Vec<HostReport> = views
            .iter()
            .map(|v| HostReport::new(v, classify::classify(v)))
            .collect();
        let totals = Totals::of(
            &hosts,
            &traffic.inputs,
            traffic.table.flows.len() as u64,
            (traffic.table.first_ns, traffic.table.last_ns),
        );
        Report {
            schema: SCHEMA,
            tool: ToolInfo::default(),
            indicators: self.indicators.info(),
            geoip: self.geoip.info().clone(),
            inputs: traffic.inputs,
            hosts,
            totals,
        }
    }
}
