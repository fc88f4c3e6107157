//! The pipeline, end to end: reads inputs in parallel (one worker per core), each into its own
//! flow table that the worker gathers per host (`enrich::gather`); merges what was gathered in
//! input order; then enriches, classifies and reports per host. The binary and the live
//! capture both come through here, so every source gets the same verdicts. Zeek logs given
//! among the inputs are read by `zeek` into the same kind of flow table.
//!
//! # One large file on several cores
//!
//! When there are fewer capture files than threads, a large file (a regular, uncompressed pcap
//! or pcapng of at least [`SPLIT_MIN_BYTES`]; see [`Inputs::split_min_bytes`]) is read by
//! several workers at once, each owning one *shard* of its packets: every worker reads the
//! whole file, but decodes and tracks (flow table, DNS pairing, TCP reassembly, fragments,
//! tunnels, QUIC, Skype openings) only the frames of its shard. A frame's shard follows from
//! the address pair of its first IP header, as a network card's symmetric receive-side scaling
//! shards traffic among queues (and Zeek's and Suricata's clusters among workers):
//! [`decode::shard_of`] hashes the pair, both orders alike, into one of 64 buckets (frames
//! with no IP header found cheaply, such as ARP, unknown link types or damaged headers, into
//! bucket 0), and the buckets are dealt to the shards by their weight in a sample of the file
//! (8 MiB in 16 stretches), heaviest first to the lightest shard. A few address pairs often
//! carry most packets: one carries a third of bench/make_capture.py's capture, and
//! `hash mod 2` gave one shard 70% of its packets; dealt, the two shards take about half
//! each. How buckets are dealt changes the balance, never the report. Each worker gathers its
//! own table (`enrich::gather`), and the parts are merged in (file, shard) order with
//! [`Gathered::merge`]. The price: every worker reads the whole file (the kernel's copy and
//! the walk over the records, about a fifth of one thread's time), which bounds the gain
//! (bench/RESULTS.md).
//!
//! Why by address pair, and not by cutting the file into stretches of time: every piece of
//! state the tracker keeps between packets lives inside one address pair. A flow (both
//! directions), its counters and its opener; a TCP direction being reassembled and the
//! classic-Skype opening being watched; the fragments of a datagram (same source,
//! destination); a DNS question and its answer (same client and server); everything inside a
//! tunnel (the outer pair decides). So each shard's state is exactly what one thread would have
//! built from those packets, and [`Gathered::merge`] adds shards as it adds files: flow counts
//! sum, endpoints and hosts merge field by field (sums, minima, maxima, unions), and name sets
//! (DNS questions per client, answers per client and address, a resolver's clients, a proxy's
//! names) are unions while under their bounds. Cutting by time would cut every such piece of
//! state at each boundary: connections without their handshake, answers without their
//! question, reassembly without its start.
//!
//! Only shard 0 reports the file itself (format, packets, bytes, problems) and counts its
//! bytes in [`Progress`]; the others read the same bytes and their summaries are dropped. The
//! decode counts of the input are the sum of every shard's, so they equal one thread's. The
//! report does not depend on the number of threads, with these known exceptions, all past a
//! bound or at the edges of a timeout (the tests compare every sample and corpus capture read
//! by one thread and in 2 and 3 shards, byte for byte):
//! - bounds that hold per tracker hold per shard, so n shards together may keep up to n times
//!   as much where one thread would have dropped or given up: the pending DNS questions
//!   (65,536), the bytes and directions of TCP reassembly (8 MiB, 4,096), the fragments
//!   waiting for reassembly (4 MiB, 1,024 datagrams); and the tables of watched TCP openings
//!   (160 KiB) and of expected first sequence numbers (`flow::ways`: 4,096 entries each, in
//!   sets of 4), where an entry gives way to another only when all four of its set are live
//!   (they were direct-mapped, and then connections of different shards that shared a slot
//!   evicted each other in one thread only: two of nDPI's `skype.pcap` connections did);
//! - the 30 s timeouts of TCP reassembly and fragments are looked for at most once a second of
//!   capture time, on the packets the tracker sees: a direction or datagram that completes
//!   between 30 and 31 s after it started may be given up in one case and not the other;
//! - name sets past their bounds (4,096 questions per client, 64 names per client and address,
//!   64 clients per resolver, 4,096 names per proxy) keep the first names seen by one thread,
//!   but each shard's first names and then the merge's, in name order;
//! - a flow seen both inside a tunnel and outside it, or through two tunnels (two mirror
//!   sessions that copy the same traffic: tcpdump's `erspan-type-ii-2.pcap`, whose four inner
//!   flows count 8 in shards; nDPI's `6in6tunnel.pcap`, one datagram in two tunnels), or
//!   both in frames whose IP header the shard test cannot reach (802.11 A-MSDU, more than three
//!   VLAN tags) and in plain frames, is split between shards: it counts once in each, as a
//!   flow spread over two files does;
//! - a file that changes while the shards read it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::addr::LocalNets;
use crate::capture::{self, CaptureFormat, Packet, PacketSink, ReadSummary};
use crate::classify;
use crate::decode::{self, DecodeStats};
use crate::enrich::{self, Context, Gathered};
use crate::flow::{FlowTable, Tracker};
use crate::knowledge::geoip::GeoIp;
use crate::knowledge::indicators::IndicatorSet;
use crate::report::model::{DecodeReport, ToolInfo, Totals, SCHEMA};
use crate::report::{HostReport, InputReport, Report};
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
    /// The smallest capture file split among threads when there are fewer files than threads
    /// (see the module documentation); None for [`SPLIT_MIN_BYTES`]. Tests set 0 to split
    /// every file they can.
    pub split_min_bytes: Option<u64>,
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
        let mut traffic =
            read_captures_split(&self.captures, wait, split, analyzer, threads, progress);
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
    input.format = log.format_name();
    input.gzip = log.gzip;
    input.packets = log.records;
    input.bytes = log.bytes;
    input.problems = log.problems;
    input.unreadable = log.unreadable;
    input
}

/// Reads every capture in `paths` (files, or `-` for standard input; directories must already
/// be expanded) with `threads` workers, each gathering its own input's flows per host (or its
/// shard of a large input's, see the module documentation), and merges what they gathered in
/// input order, so the result does not depend on the number of threads.
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
    read_captures_split(paths, wait, SPLIT_MIN_BYTES, analyzer, threads, progress)
}

/// Buckets of address pairs the shards of a split input are made of ([`decode::shard_of`]
/// into this many), so that a few busy pairs can be balanced (see [`balance`]). Also the most
/// shards one input is split into.
const BUCKETS: usize = 64;
/// Stretches of a split input read to weigh its buckets, and the bytes of each: 8 MiB in all.
const SAMPLE_WINDOWS: u64 = 16;
const SAMPLE_WINDOW_BYTES: u64 = 512 << 10;

/// One shard of an input: the frames whose bucket `owners` gives to `k` (of `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shard {
    k: u8,
    n: u8,
    owners: [u8; BUCKETS],
}

impl Shard {
    /// The whole input, unsplit.
    const WHOLE: Shard = Shard {
        k: 0,
        n: 1,
        owners: [0; BUCKETS],
    };

    /// Whether the frame `data` of `link_type` is this shard's.
    #[inline(always)]
    fn owns(&self, link_type: u32, data: &[u8]) -> bool {
        self.n == 1 || {
            let bucket = decode::shard_of(link_type, data, BUCKETS as u32) as usize;
            self.owners.get(bucket) == Some(&self.k)
        }
    }
}

/// How many packets of each bucket a sample of the input at `path` (`len` bytes) holds: its
/// start (the file header, the interfaces described) and stretches spread over the rest, read
/// as one capture (the readers find the next record past each seam). An estimate only: which
/// shard a bucket goes to changes the balance, never the report.
fn weigh(path: &Path, len: u64) -> [u64; BUCKETS] {
    use std::io::{Read, Seek, SeekFrom};
    let mut weights = [0u64; BUCKETS];
    let Ok(mut file) = std::fs::File::open(path) else {
        return weights;
    };
    let mut sample = Vec::new();
    // A file no larger than the sample is read whole, once.
    let windows = if len > SAMPLE_WINDOWS * SAMPLE_WINDOW_BYTES {
        SAMPLE_WINDOWS
    } else {
        1
    };
    for w in 0..windows {
        let at = len / windows * w;
        if file.seek(SeekFrom::Start(at)).is_err() {
            break;
        }
        let bytes = if windows == 1 {
            len
        } else {
            SAMPLE_WINDOW_BYTES
        };
        if (&mut file).take(bytes).read_to_end(&mut sample).is_err() {
            break;
        }
    }
    capture::read_bytes(&sample, &mut |p: &Packet<'_>| {
        let bucket = decode::shard_of(p.link_type, p.data, BUCKETS as u32) as usize;
        if let Some(w) = weights.get_mut(bucket) {
            *w += 1;
        }
    });
    weights
}

/// Which of `n` shards each bucket goes to: the heaviest bucket first to the lightest shard
/// so far (ties to the lower bucket and shard), then the buckets the sample did not see, in
/// turn. Busy address pairs are common (one pair carries a third of the packets of
/// bench/make_capture.py's capture), and a plain `hash mod n` left 70% of them to one shard.
fn balance(weights: &[u64; BUCKETS], n: u8) -> [u8; BUCKETS] {
    let mut owners = [0u8; BUCKETS];
    let mut load = vec![0u64; usize::from(n.max(1))];
    let mut order: Vec<usize> = (0..BUCKETS).collect();
    order.sort_by_key(|&b| (std::cmp::Reverse(weights[b]), b));
    let mut unseen = 0usize;
    for b in order {
        let k = if weights[b] > 0 {
            (0..load.len()).min_by_key(|&k| (load[k], k)).unwrap_or(0)
        } else {
            unseen += 1;
            (unseen - 1) % load.len()
        };
        load[k] += weights[b];
        owners[b] = u8::try_from(k).unwrap_or(0);
    }
    owners
}

/// What a worker made of one shard of one input.
struct Part {
    gathered: Gathered,
    /// The input's summary: shard 0's only (the others read the same bytes).
    summary: Option<ReadSummary>,
    stats: DecodeStats,
}

/// How many shards each of `paths` is read in by `threads` workers: one each, unless there are
/// fewer inputs than threads; then the spare threads go to the regular, uncompressed pcap and
/// pcapng files of at least `split_min` bytes, a fair share each (the largest first for what
/// does not divide evenly).
fn shares(paths: &[PathBuf], threads: usize, split_min: u64) -> Vec<u32> {
    let mut shares = vec![1u32; paths.len()];
    let Some(spare) = threads.checked_sub(paths.len()).filter(|&s| s > 0) else {
        return shares;
    };
    let mut big: Vec<(u64, usize)> = paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((capture::plain_capture_len(p)?, i)))
        .filter(|&(len, _)| len >= split_min)
        .collect();
    if big.is_empty() {
        return shares;
    }
    big.sort_by_key(|&(len, i)| (std::cmp::Reverse(len), i));
    let (each, rest) = (spare / big.len(), spare % big.len());
    for (rank, &(_, i)) in big.iter().enumerate() {
        let more = each + usize::from(rank < rest);
        // At most one shard per bucket.
        shares[i] = u32::try_from((1 + more).min(BUCKETS)).unwrap_or(1);
    }
    shares
}

/// [`read_captures_waiting`], splitting inputs of at least `split_min` bytes among spare
/// threads (see [`shares`]).
fn read_captures_split(
    paths: &[PathBuf],
    wait: std::time::Duration,
    split_min: u64,
    analyzer: &Analyzer,
    threads: usize,
    progress: Option<&Progress>,
) -> Traffic {
    let ctx = analyzer.context();
    // One copy of the indicator set for every input's table, not one per input.
    let watch = analyzer.indicators.watch();
    // Work items in (input, shard) order: the order the parts are merged in.
    let mut items: Vec<(usize, Shard)> = Vec::new();
    for (i, n) in shares(paths, threads, split_min).into_iter().enumerate() {
        let n = u8::try_from(n).unwrap_or(1);
        if n <= 1 {
            items.push((i, Shard::WHOLE));
            continue;
        }
        let len = std::fs::metadata(&paths[i]).map_or(0, |m| m.len());
        let owners = balance(&weigh(&paths[i], len), n);
        items.extend((0..n).map(|k| (i, Shard { k, n, owners })));
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Part>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = threads.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(i, shard)) = items.get(at) else {
                    break;
                };
                let tracker = Tracker::with_watch(Arc::clone(&watch));
                // Only shard 0 counts the input's bytes: the others read the same ones.
                let progress = progress.filter(|_| shard.k == 0);
                let (table, summary, stats) = read_shard(&paths[i], tracker, wait, shard, progress);
                // Gathered here, in the worker: the flow table is dropped before the next input.
                let part = Part {
                    gathered: enrich::gather(&table, &ctx),
                    summary: (shard.k == 0).then_some(summary),
                    stats,
                };
                // A poisoned lock means another worker panicked; its panic is re-raised by
                // the scope, so this worker's result no longer matters.
                if let Ok(mut r) = results.lock() {
                    r[at] = Some(part);
                }
            });
        }
    });
    let mut traffic = Traffic::default();
    let mut stats = DecodeStats::default();
    let mut summary = None;
    let parts = results.into_inner().unwrap_or_default();
    for (&(i, shard), part) in items.iter().zip(parts) {
        let Some(part) = part else { continue };
        traffic.gathered.merge(part.gathered);
        stats.merge(&part.stats);
        summary = summary.or(part.summary);
        if shard.k + 1 == shard.n {
            if let Some(summary) = summary.take() {
                traffic
                    .inputs
                    .push(input_report(&paths[i], summary, &stats));
            }
            stats = DecodeStats::default();
        }
    }
    traffic
}

/// The sink of one worker: the frames of its shard go to its tracker; shard 0 also publishes
/// progress.
struct Counting<'a> {
    tracker: Tracker,
    shard: Shard,
    progress: Option<&'a Progress>,
    last: u64,
}

impl PacketSink for Counting<'_> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        if self.shard.owns(packet.link_type, packet.data) {
            self.tracker.packet(packet);
        }
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
    let (table, summary, stats) = read_shard(
        path,
        Tracker::new(),
        capture::STREAM_WAIT,
        Shard::WHOLE,
        progress,
    );
    (table, input_report(path, summary, &stats))
}

/// Reads the frames of `shard` of one capture into the table of `tracker`, waiting at most
/// `wait` each time a pipe or FIFO keeps the reader waiting.
fn read_shard(
    path: &Path,
    tracker: Tracker,
    wait: std::time::Duration,
    shard: Shard,
    progress: Option<&Progress>,
) -> (FlowTable, ReadSummary, DecodeStats) {
    let mut sink = Counting {
        tracker,
        shard,
        progress,
        last: 0,
    };
    let summary = capture::read_path_waiting(path, wait, &mut sink);
    if let Some(p) = progress {
        p.done
            .fetch_add(summary.bytes.saturating_sub(sink.last), Ordering::Relaxed);
    }
    let (table, stats) = sink.tracker.into_parts();
    (table, summary, stats)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../captures")
            .join(name)
    }

    #[test]
    fn spare_threads_go_to_large_plain_captures() {
        let big = sample("tom-skype-busy-host.pcapng");
        let small = sample("no-skype-browsing.pcap");
        let gzip = sample("regular-skype-2012-servers-only.pcap.gz");
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(&big) > size(&small));
        // Never more shards than threads, one each when there are as many inputs as threads.
        assert_eq!(shares(std::slice::from_ref(&big), 1, 0), vec![1]);
        assert_eq!(shares(std::slice::from_ref(&big), 4, 0), vec![4]);
        assert_eq!(shares(&[big.clone(), small.clone()], 2, 0), vec![1, 1]);
        // A fair share each; what does not divide goes to the largest first.
        assert_eq!(shares(&[small.clone(), big.clone()], 5, 0), vec![2, 3]);
        // Too small, compressed, standard input, a FIFO (never opened: that would wait for a
        // writer): not split.
        assert_eq!(shares(std::slice::from_ref(&big), 4, u64::MAX), vec![1]);
        assert_eq!(shares(&[gzip, small.clone()], 4, 0), vec![1, 3]);
        assert_eq!(shares(&[PathBuf::from("-")], 4, 0), vec![1]);
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                assert_eq!(shares(&[fifo], 4, 0), vec![1]);
            }
        }
        // At most one shard per bucket.
        assert_eq!(
            shares(std::slice::from_ref(&big), 1000, 0),
            vec![BUCKETS as u32]
        );
    }

    #[test]
    fn buckets_are_balanced_heaviest_first() {
        let mut weights = [0u64; BUCKETS];
        weights[3] = 30;
        weights[9] = 20;
        weights[10] = 15;
        weights[11] = 10;
        let owners = balance(&weights, 2);
        let load = |k: u8| -> u64 {
            (0..BUCKETS)
                .filter(|&b| owners[b] == k)
                .map(|b| weights[b])
                .sum()
        };
        assert_eq!((load(0), load(1)), (40, 35));
        assert_eq!((owners[3], owners[9], owners[10], owners[11]), (0, 1, 1, 0));
        // The buckets not seen are spread in turn.
        let unseen = (0..BUCKETS).filter(|&b| weights[b] == 0);
        let (zero, one) = unseen.fold((0, 0), |(z, o), b| match owners[b] {
            0 => (z + 1, o),
            _ => (z, o + 1),
        });
        assert_eq!((zero, one), (30, 30));
        assert!(balance(&weights, 5).iter().all(|&k| k < 5));
        assert_eq!(balance(&weights, 1), [0; BUCKETS]);
    }

    #[test]
    fn progress_counts_a_split_file_once() {
        let analyzer = Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::default(),
        };
        let path = sample("tom-skype-busy-host.pcapng");
        let len = std::fs::metadata(&path).unwrap().len();
        for threads in [1, 2, 3] {
            let progress = Progress::default();
            let paths = [path.clone()];
            let wait = capture::STREAM_WAIT;
            let t = read_captures_split(&paths, wait, 0, &analyzer, threads, Some(&progress));
            assert_eq!(
                progress.done.load(Ordering::Relaxed),
                len,
                "{threads} threads"
            );
            assert_eq!((t.inputs.len(), t.inputs[0].bytes), (1, len));
        }
    }
}
