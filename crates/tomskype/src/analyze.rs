//! The pipeline, end to end: reads inputs in parallel (one worker per core), each into its own
//! flow table that the worker gathers per host (`enrich::gather`); merges what was gathered in
//! input order; then enriches, classifies and reports per host. The binary and the live
//! capture both come through here, so every source gets the same verdicts. Zeek logs given
//! among the inputs are read by `zeek` into the same kind of flow table.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::addr::LocalNets;
use crate::capture::{self, CaptureFormat, Packet, PacketSink};
use crate::classify;
use crate::enrich::{self, Context, Gathered};
use crate::flow::{FlowTable, Tracker};
use crate::knowledge::geoip::GeoIp;
use crate::knowledge::indicators::IndicatorSet;
use crate::report::model::{DecodeReport, ToolInfo, Totals, SCHEMA};
use crate::report::{schema, HostReport, InputReport, Report};
use crate::zeek;

/// What the analysis needs besides the traffic: loaded once per run.
pub struct Analyzer {
    /// Country lookups.
    pub geoip: GeoIp,
    /// The indicator set.
    pub indicators: IndicatorSet,
    /// Which addresses are local hosts.
    pub local: LocalNets,
}

/// The traffic of all inputs, gathered per host and merged, with what reading each input gave.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Hosts, endpoints and names of all inputs.
    pub gathered: Gathered,
    /// One report per input, in the order given.
    pub inputs: Vec<InputReport>,
}

impl Traffic {
    /// The traffic of one flow table (a live capture, Zeek logs), with its inputs' reports.
    /// `analyzer` must be the one that reports it (see [`enrich::gather`]).
    pub fn from_table(table: &FlowTable, analyzer: &Analyzer, inputs: Vec<InputReport>) -> Traffic {
        Traffic {
            gathered: enrich::gather(table, &analyzer.context()),
            inputs,
        }
    }
}

/// Byte counter shared with a progress display: bytes of input consumed so far.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes consumed (by record offsets; approximate for compressed inputs).
    pub done: AtomicU64,
}

/// The inputs of a run, after expanding folders and telling captures from Zeek logs.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Capture files (or `-`), in the order given, folders expanded in path order.
    pub captures: Vec<PathBuf>,
    /// Zeek logs (by their first bytes, see [`zeek::sniff`]), in the same order.
    pub zeek_logs: Vec<PathBuf>,
    /// Files found in folders that are neither captures nor Zeek logs: not read.
    pub skipped: Vec<PathBuf>,
    /// Folders, entries and files found in folders that could not be listed or opened, with
    /// the reason: each is reported as an unreadable input.
    pub unreadable: Vec<(PathBuf, String)>,
    /// How long a pipe or FIFO may keep the reader waiting for bytes (see
    /// [`capture::read_path_waiting`]); None for [`capture::STREAM_WAIT`].
    pub stream_wait: Option<std::time::Duration>,
}

impl Inputs {
    /// Expands folders (recursively, sorted by path) and sorts the files into captures and
    /// Zeek logs by their first bytes. Inside folders, files that are neither (notes, reports,
    /// expected verdicts) are skipped and listed in `skipped`, and folders or files that cannot
    /// be listed or opened are listed in `unreadable`; a path named on the command line is
    /// always read, so that reading it reports what is wrong with it. Only regular files are
    /// sniffed: a pipe, a FIFO or a device (`-`, `/dev/stdin`, `<(cmd)`) gives its bytes once,
    /// so it goes to the capture reader, which reads it once, as a stream.
    pub fn expand(paths: &[PathBuf]) -> Inputs {
        let mut inputs = Inputs::default();
        for path in paths {
            let in_folder = path.is_dir();
            for item in capture::expand_inputs(std::slice::from_ref(path)) {
                let p = match item {
                    capture::InputItem::Stdin => PathBuf::from("-"),
                    capture::InputItem::Unlistable { path, reason } => {
                        inputs.unreadable.push((path, reason));
                        continue;
                    }
                    capture::InputItem::Path(p) => p,
                };
                let regular = std::fs::metadata(&p).is_ok_and(|m| m.is_file());
                if !regular {
                    inputs.captures.push(p);
                } else if zeek::sniff(&p).is_some() {
                    inputs.zeek_logs.push(p);
                } else if !in_folder || capture::looks_like_capture(&p) {
                    inputs.captures.push(p);
                } else if let Err(why) = probe(&p) {
                    // Neither sniff could read it: an input lost to an I/O error (permissions,
                    // too many open files), not a file of another kind.
                    inputs.unreadable.push((p, why));
                } else {
                    inputs.skipped.push(p);
                }
            }
        }
        inputs
    }

    /// Total size of the inputs in bytes, as far as known (for progress).
    pub fn total_bytes(&self) -> u64 {
        self.captures
            .iter()
            .chain(&self.zeek_logs)
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Reads every input: the captures with `threads` workers, then the Zeek logs (all in one
    /// table), merged in that order; reports come in the same order. Gathered for `analyzer`
    /// (its local networks say which end of each flow is the host), which must report it.
    pub fn read(
        &self,
        analyzer: &Analyzer,
        threads: usize,
        progress: Option<&Progress>,
    ) -> Traffic {
        let wait = self.stream_wait.unwrap_or(capture::STREAM_WAIT);
        let mut traffic = read_captures_waiting(&self.captures, wait, analyzer, threads, progress);
        if !self.zeek_logs.is_empty() {
            let (table, logs) = zeek::read_logs(&self.zeek_logs, Some(analyzer.indicators.watch()));
            traffic
                .gathered
                .merge(enrich::gather(&table, &analyzer.context()));
            for log in logs {
                if let Some(p) = progress {
                    p.done.fetch_add(log.bytes, Ordering::Relaxed);
                }
                traffic.inputs.push(log_input(log));
            }
        }
        for (path, why) in &self.unreadable {
            let mut input = InputReport::new(path.display().to_string(), CaptureFormat::Unknown);
            input.unreadable = true;
            input.problems.push(capture::Problem {
                kind: capture::ProblemKind::Io,
                packet: None,
                offset: None,
                detail: why.clone(),
            });
            traffic.inputs.push(input);
        }
        traffic
    }
}

/// Opens `path` and reads its first bytes; the reason in words when that fails.
fn probe(path: &Path) -> Result<(), String> {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .map_err(|e| capture::file::io_detail("cannot open", &e))?
        .read(&mut head)
        .map_err(|e| capture::file::io_detail("cannot read", &e))?;
    Ok(())
}

/// The report of one Zeek log: `packets` counts its records.
fn log_input(log: zeek::LogSummary) -> InputReport {
    let mut input = InputReport::new(log.path.display().to_string(), CaptureFormat::Unknown);
    input.format = schema::zeek_log(&log);
    input.gzip = log.gzip;
    input.packets = log.records;
    input.bytes = log.bytes;
    input.problems = log.problems;
    input.unreadable = log.unreadable;
    input
}

/// Reads every capture in `paths` (files, or `-` for standard input; directories must already
/// be expanded) with `threads` workers, each gathering its own input's flows per host, and
/// merges what they gathered in input order, so the result does not depend on the number of
/// threads.
pub fn read_captures(
    paths: &[PathBuf],
    analyzer: &Analyzer,
    threads: usize,
    progress: Option<&Progress>,
) -> Traffic {
    read_captures_waiting(paths, capture::STREAM_WAIT, analyzer, threads, progress)
}

/// [`read_captures`], waiting at most `wait` each time a pipe or FIFO keeps the reader waiting.
pub fn read_captures_waiting(
    paths: &[PathBuf],
    wait: std::time::Duration,
    analyzer: &Analyzer,
    threads: usize,
    progress: Option<&Progress>,
) -> Traffic {
    let ctx = analyzer.context();
    // One copy of the indicator set for every input's table, not one per input.
    let watch = analyzer.indicators.watch();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(Gathered, InputReport)>>> =
        Mutex::new((0..paths.len()).map(|_| None).collect());
    let workers = threads.clamp(1, paths.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                let tracker = Tracker::with_watch(Arc::clone(&watch));
                let (table, input) = read_capture_with(path, tracker, wait, progress);
                // Gathered here, in the worker: the flow table is dropped before the next input.
                let one = (enrich::gather(&table, &ctx), input);
                // A poisoned lock means another worker panicked; its panic is re-raised by
                // the scope, so this worker's result no longer matters.
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(one);
                }
            });
        }
    });
    let mut traffic = Traffic::default();
    for (gathered, input) in results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
    {
        traffic.gathered.merge(gathered);
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

/// Reads one capture into a fresh flow table (with no indicator set to keep evidence past the
/// table's bounds: [`read_captures`] gives it the analyzer's).
pub fn read_capture(path: &Path, progress: Option<&Progress>) -> (FlowTable, InputReport) {
    read_capture_with(path, Tracker::new(), capture::STREAM_WAIT, progress)
}

/// [`read_capture`] into the table of `tracker`, waiting at most `wait` each time a pipe or
/// FIFO keeps the reader waiting.
fn read_capture_with(
    path: &Path,
    tracker: Tracker,
    wait: std::time::Duration,
    progress: Option<&Progress>,
) -> (FlowTable, InputReport) {
    let mut sink = Counting {
        tracker,
        progress,
        last: 0,
    };
    let summary = capture::read_path_waiting(path, wait, &mut sink);
    if let Some(p) = progress {
        p.done
            .fetch_add(summary.bytes.saturating_sub(sink.last), Ordering::Relaxed);
    }
    let (table, stats) = sink.tracker.into_parts();
    let mut input = InputReport::new(path.display().to_string(), summary.format);
    input.gzip = summary.gzip;
    input.packets = summary.packets;
    input.bytes = summary.bytes;
    input.problems = summary.problems;
    input.unreadable = summary.unreadable;
    input.decode = DecodeReport::from(&stats);
    (table, input)
}

impl Analyzer {
    /// What enrichment needs, borrowed from this analyzer.
    pub fn context(&self) -> Context<'_> {
        Context {
            local: &self.local,
            geoip: &self.geoip,
            indicators: &self.indicators,
        }
    }

    /// Enriches, classifies and reports every local host of `traffic`.
    pub fn report(&self, traffic: Traffic) -> Report {
        self.report_on(traffic, 1)
    }

    /// [`Analyzer::report`] on `threads` threads (hosts are independent); the same report for
    /// any number.
    pub fn report_on(&self, traffic: Traffic, threads: usize) -> Report {
        let ctx = self.context();
        let (flows, span) = (
            traffic.gathered.flows,
            (traffic.gathered.first_ns, traffic.gathered.last_ns),
        );
        let hosts: Vec<HostReport> = enrich::hosts_map(traffic.gathered, &ctx, threads, |v| {
            HostReport::new(&v, classify::classify(&v))
        });
        let totals = Totals::of(&hosts, &traffic.inputs, flows, span);
        let sources = hosts
            .iter()
            .flat_map(|h| &h.evidence)
            .filter_map(|e| e.source.as_ref())
            .filter_map(|key| {
                let cite = self.indicators.sources.get(key)?;
                Some((key.clone(), cite.clone()))
            })
            .collect();
        Report {
            schema: SCHEMA,
            tool: ToolInfo::default(),
            indicators: self.indicators.info(),
            geoip: self.geoip.info().clone(),
            inputs: traffic.inputs,
            hosts,
            sources,
            totals,
        }
    }
}
