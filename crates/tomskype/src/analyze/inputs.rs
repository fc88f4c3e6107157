//! The inputs of a run: folders expanded, captures told from Zeek logs, and all of them read,
//! each input on a worker of its own (a large one with spare threads too, one per shard: see
//! [`super::shard`]) and gathered there ([`super::Gatherer`]), then merged in input order as
//! the inputs are done ([`super::in_order`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::gather::{
    fold_batch, summarise_if_many, Gatherer, Keeper, Memory, SWEEP_BATCH, ZEEK_BATCH,
};
use super::in_order::{FailOnPanic, InOrder};
use super::shard::{balance, shards_for, shares, weigh, Shard, Sharded};
use super::watch::OnChange;
use super::{Analyzer, Progress, Traffic};
use crate::capture::{self, CaptureFormat, Follow, Lead, Packet, PacketSink, Pass, ReadSummary};
use crate::decode::DecodeStats;
use crate::enrich::{self, Gathered};
use crate::flow::{FlowTable, Tracker};
use crate::report::model::DecodeReport;
use crate::report::{schema, InputReport};
use crate::zeek;

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
    /// How reading keeps its memory bounded ([`Memory`]).
    pub memory: Memory,
    /// The smallest capture file split among threads when there are fewer files than threads
    /// (see the module documentation); None for [`SPLIT_MIN_BYTES`]. Tests set 0 to split
    /// every file they can.
    pub split_min_bytes: Option<u64>,
    /// Where the verdicts that change while a stream (standard input, a pipe, a FIFO) is read
    /// are told, once a minute of capture time ([`super::Told`]); files are not watched.
    pub on_change: Option<OnChange>,
}

/// The smallest capture file that is split among threads by default: smaller files take too
/// little time for the extra readers to pay off.
pub const SPLIT_MIN_BYTES: u64 = 64 << 20;

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

    /// Whether a capture among the inputs is read as a stream (standard input, a pipe, a
    /// FIFO): the ones [`Inputs::on_change`] is told of.
    pub fn has_streams(&self) -> bool {
        self.captures.iter().any(|p| is_stream(p))
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
        let split = self.split_min_bytes.unwrap_or(SPLIT_MIN_BYTES);
        let reading = Reading {
            wait,
            split_min: split,
            memory: self.memory,
            on_change: self.on_change.clone(),
        };
        let mut traffic = read_captures_with(&self.captures, &reading, analyzer, threads, progress);
        if !self.zeek_logs.is_empty() {
            let (gathered, logs) = gather_logs(&self.zeek_logs, self.memory, analyzer);
            traffic.gathered.merge(gathered);
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
    let reading = Reading {
        wait,
        split_min: SPLIT_MIN_BYTES,
        memory: Memory::default(),
        on_change: None,
    };
    read_captures_with(paths, &reading, analyzer, threads, progress)
}

/// How captures are read, besides which and by how many threads.
struct Reading {
    /// How long a pipe or FIFO may keep the reader waiting.
    wait: std::time::Duration,
    /// The smallest file split among spare threads.
    split_min: u64,
    memory: Memory,
    /// Where verdicts that change while a stream is read are told.
    on_change: Option<OnChange>,
}

/// What a worker made of one shard of one input.
struct Part {
    gathered: Gathered,
    /// The input's summary: shard 0's only (the others read the same bytes).
    summary: Option<ReadSummary>,
    stats: DecodeStats,
}

/// Reads the Zeek logs `paths` into one table and gathers it, with memory bounded as `memory`
/// says: a conn.log of millions of connections leaves the table in batches, with its names
/// (the other logs are read first), gathered as they go; past the budget, quiet hosts are
/// summarised and the names that cannot weigh are shed, as a capture's gatherer does, and so
/// are an ssl.log's server names and an http.log's requests that no indicator watches while
/// they wait for their conn records, at every batch and every [`zeek::LOOK_RECORDS`] records
/// of any log (a long dns.log, ssl.log or http.log is all names and requests).
fn gather_logs(
    paths: &[PathBuf],
    memory: Memory,
    analyzer: &Analyzer,
) -> (Gathered, Vec<zeek::LogSummary>) {
    let ctx = analyzer.context();
    let mut gathered = Gathered::default();
    let mut keeper = Keeper::new(memory.budget);
    let watch = Some(analyzer.indicators.watch());
    let (table, logs) =
        zeek::read_logs_in_batches(paths, watch, ZEEK_BATCH, &mut |table, handed| {
            let flows = handed == zeek::Handed::Flows;
            if flows {
                table.take_all(SWEEP_BATCH, |ended, table| {
                    fold_batch(&mut gathered, ended, table, memory, &ctx);
                });
            }
            let ahead = table.growth_ahead() + gathered.growth_ahead();
            if keeper.due(ahead) {
                gathered.shed.times += 1;
                gathered.shed_quiet(table, &ctx);
                enrich::shed_waiting(table, &mut gathered.shed, &ctx);
                let ahead = table.growth_ahead() + gathered.growth_ahead();
                keeper.settle(&mut gathered.shed, ahead);
                return;
            }
            if flows {
                gathered.forget_quiet_names(table, &ctx);
            }
            keeper.note(&mut gathered.shed);
        });
    // The last flows left in batches too: what is left is the table's DNS stores. (Gathered
    // here, a log's last flows were all whole at once: a conn.log of 120,000 machines peaked
    // at 176,856 KB, now 62,872 KB; `/usr/bin/time -f %M`.)
    gathered.merge(enrich::gather_owned(table, &ctx));
    summarise_if_many(&mut gathered, memory, None, &ctx);
    (gathered, logs)
}

/// [`read_captures_waiting`], as `reading` says: inputs of at least its `split_min` bytes split
/// among spare threads (see [`shares`]), memory bounded, streams watched.
fn read_captures_with(
    paths: &[PathBuf],
    reading: &Reading,
    analyzer: &Analyzer,
    threads: usize,
    progress: Option<&Progress>,
) -> Traffic {
    let ctx = analyzer.context();
    // One copy of the indicator set for every input's table, not one per input.
    let watch = analyzer.indicators.watch();
    let Reading {
        wait,
        split_min,
        memory,
        ..
    } = *reading;
    // One work item per input, in input order (the order the parts are merged in), with the
    // shards it is read in and the threads it is given: a split input's shards are read
    // together, one more than its threads, as they share one reading of the file
    // (`capture::read_path_shared`).
    let items: Vec<(usize, Vec<Shard>, u8)> = shares(paths, threads, split_min)
        .into_iter()
        .enumerate()
        .map(|(i, threads)| {
            let threads = u8::try_from(threads).unwrap_or(1);
            let n = shards_for(threads);
            if n <= 1 {
                return (i, vec![Shard::WHOLE], 1);
            }
            let len = std::fs::metadata(&paths[i]).map_or(0, |m| m.len());
            let owners = balance(&weigh(&paths[i], len), n, threads);
            (i, (0..n).map(|k| Shard { k, n, owners }).collect(), threads)
        })
        .collect();
    let next = AtomicUsize::new(0);
    // A split input's extra threads are its own (helpers of its shared reading), so that there
    // are `threads` in all.
    let workers = threads.clamp(1, items.len().max(1));
    // Each input's parts are merged as soon as the inputs before it are, on the worker that
    // finished last (summarised again past `memory`'s count, as an input's own hosts are):
    // the run holds the merged hosts and at most a window of inputs' own, however many
    // inputs there are.
    let in_order = InOrder::new(2 * workers, Traffic::default());
    let merge = |traffic: &mut Traffic, at: usize, parts: Vec<Part>| {
        merge_input(traffic, &paths[at], parts);
        summarise_if_many(&mut traffic.gathered, memory, None, &ctx);
    };
    // One input, gathered in the worker (or the split input's threads) as it is read.
    let read = |(i, shards, threads): &(usize, Vec<Shard>, u8)| -> Vec<Part> {
        let sinks: Vec<_> = shards
            .iter()
            .map(|&shard| {
                let mut inner =
                    Gatherer::new(Tracker::with_watch(Arc::clone(&watch)), &ctx).memory(memory);
                if let Some(tell) = reading.on_change.as_ref().filter(|_| is_stream(&paths[*i])) {
                    inner = inner.tell_changes(tell.clone());
                }
                Sharded { shard, inner }
            })
            .collect();
        let (sinks, summary) =
            read_shards(&paths[*i], sinks, usize::from(*threads), wait, progress);
        let mut summary = Some(summary);
        sinks
            .into_iter()
            .map(|sink| {
                let (gathered, stats) = sink.inner.finish();
                Part {
                    gathered,
                    // Only shard 0 reports the input: the others read the same bytes.
                    summary: summary.take(),
                    stats,
                }
            })
            .collect()
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let _failing = FailOnPanic(&in_order);
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(at) else {
                        break;
                    };
                    if !in_order.wait_turn(at) {
                        break;
                    }
                    in_order.done(at, read(item), merge);
                }
            });
        }
    });
    // The scope re-raises a worker's panic: the state is never poisoned here.
    in_order
        .into_inner()
        .map(|(traffic, _)| traffic)
        .unwrap_or_default()
}

/// Merges the parts of one input (its shards', in order) into `traffic`, and adds its report.
fn merge_input(traffic: &mut Traffic, path: &Path, parts: Vec<Part>) {
    let mut stats = DecodeStats::default();
    let mut summary = None;
    for part in parts {
        traffic.gathered.merge(part.gathered);
        stats.merge(&part.stats);
        summary = summary.or(part.summary);
    }
    if let Some(summary) = summary {
        traffic.inputs.push(input_report(path, summary, &stats));
    }
}

/// Whether `path` is read as a stream: standard input (`-`), a pipe, a FIFO, a device.
fn is_stream(path: &Path) -> bool {
    path.as_os_str() == "-" || !std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Reads `path` into `sinks`, one per shard: a whole input straight into its one sink, a split
/// one through one shared reading of the file (`capture::read_path_shared`) on `threads`
/// threads, this one and `threads - 1` of their own; only the first shard publishes progress.
/// The sinks, and what reading gave.
fn read_shards<'a>(
    path: &Path,
    mut sinks: Vec<Sharded<'a>>,
    threads: usize,
    wait: std::time::Duration,
    progress: Option<&Progress>,
) -> (Vec<Sharded<'a>>, ReadSummary) {
    if sinks.len() == 1 {
        if let Some(sink) = sinks.pop() {
            let (sink, summary) = read_into(path, sink, wait, progress);
            return (vec![sink], summary);
        }
    }
    let counting: Vec<_> = sinks
        .into_iter()
        .enumerate()
        .map(|(k, inner)| Counting {
            inner,
            progress: progress.filter(|_| k == 0),
            last: 0,
        })
        .collect();
    let (counting, summary) = capture::read_path_shared(path, counting, threads);
    if let (Some(p), Some(first)) = (progress, counting.first()) {
        p.done
            .fetch_add(summary.bytes.saturating_sub(first.last), Ordering::Relaxed);
    }
    (counting.into_iter().map(|c| c.inner).collect(), summary)
}

/// A sink that publishes the bytes read to a progress display as it passes packets on.
struct Counting<'a, S> {
    inner: S,
    progress: Option<&'a Progress>,
    last: u64,
}

impl<S> Counting<'_, S> {
    /// Publishes the bytes read up to `packet`.
    #[inline]
    fn count(&mut self, packet: &Packet<'_>) {
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

impl<S: PacketSink> PacketSink for Counting<'_, S> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        self.inner.packet(packet);
        self.count(packet);
    }
}

impl<S: Lead> Lead for Counting<'_, S> {
    #[inline]
    fn lead(&mut self, packet: &Packet<'_>) -> Pass {
        let pass = self.inner.lead(packet);
        self.count(packet);
        pass
    }
}

impl<S: Follow> Follow for Counting<'_, S> {
    #[inline]
    fn follow(&mut self, packet: &Packet<'_>, mine: bool) {
        self.inner.follow(packet, mine);
        self.count(packet);
    }
}

/// Reads one capture into a fresh flow table (with no indicator set to keep evidence past the
/// table's bounds: [`read_captures`] gives it the analyzer's). Flows never leave this table:
/// [`read_captures`] gathers as it reads instead (see [`Gatherer`]).
pub fn read_capture(path: &Path, progress: Option<&Progress>) -> (FlowTable, InputReport) {
    let (tracker, summary) = read_into(path, Tracker::new(), capture::STREAM_WAIT, progress);
    let (table, stats) = tracker.into_parts();
    (table, input_report(path, summary, &stats))
}

/// Reads `path` into `sink`, publishing progress: the sink, and what reading gave.
fn read_into<S: PacketSink>(
    path: &Path,
    sink: S,
    wait: std::time::Duration,
    progress: Option<&Progress>,
) -> (S, ReadSummary) {
    let mut sink = Counting {
        inner: sink,
        progress,
        last: 0,
    };
    let summary = capture::read_path_waiting(path, wait, &mut sink);
    if let Some(p) = progress {
        p.done
            .fetch_add(summary.bytes.saturating_sub(sink.last), Ordering::Relaxed);
    }
    (sink.inner, summary)
}

/// The report of one capture: what reading it gave, and what its frames decoded to.
fn input_report(path: &Path, summary: ReadSummary, stats: &DecodeStats) -> InputReport {
    let mut input = InputReport::new(path.display().to_string(), summary.format);
    input.gzip = summary.gzip;
    input.packets = summary.packets;
    input.bytes = summary.bytes;
    input.problems = summary.problems;
    input.unreadable = summary.unreadable;
    input.decode = DecodeReport::from(stats);
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::LocalNets;
    use crate::knowledge::geoip::GeoIp;
    use crate::knowledge::indicators::IndicatorSet;

    #[test]
    fn progress_counts_a_split_file_once() {
        let analyzer = Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::default(),
        };
        let path = super::super::sample("tom-skype-busy-host.pcapng");
        let len = std::fs::metadata(&path).unwrap().len();
        for threads in [1, 2, 3] {
            let progress = Progress::default();
            let paths = [path.clone()];
            let wait = capture::STREAM_WAIT;
            let reading = Reading {
                wait,
                split_min: 0,
                memory: Memory::default(),
                on_change: None,
            };
            let t = read_captures_with(&paths, &reading, &analyzer, threads, Some(&progress));
            assert_eq!(
                progress.done.load(Ordering::Relaxed),
                len,
                "{threads} threads"
            );
            assert_eq!((t.inputs.len(), t.inputs[0].bytes), (1, len));
        }
    }
}
