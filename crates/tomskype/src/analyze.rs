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

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::addr::LocalNets;
use crate::capture::{self, CaptureFormat, Packet, PacketSink, ReadSummary};
use crate::classify;
use crate::classify::Label;
use crate::decode::{self, DecodeStats};
use crate::enrich::{self, Context, Gathered};
use crate::flow::{FlowTable, Tracker};
use crate::knowledge::geoip::GeoIp;
use crate::knowledge::indicators::IndicatorSet;
use crate::report::model::{DecodeReport, MemoryReport, QuietHosts, ToolInfo, Totals, SCHEMA};
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
    /// How reading keeps its memory bounded ([`Memory`]).
    pub memory: Memory,
    /// The smallest capture file split among threads when there are fewer files than threads
    /// (see the module documentation); None for [`SPLIT_MIN_BYTES`]. Tests set 0 to split
    /// every file they can.
    pub split_min_bytes: Option<u64>,
}

/// The smallest capture file that is split among threads by default: smaller files take too
/// little time for the extra readers to pay off.
pub const SPLIT_MIN_BYTES: u64 = 64 << 20;

/// How reading keeps its memory bounded, whatever the number of hosts and the length of the
/// capture or stream. Flows that are over always leave the table ([`Gatherer`]); beyond that:
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Once this many hosts are gathered from one input, hosts with nothing an indicator could
    /// match are summarised: their counters kept, not their endpoints
    /// ([`Gathered::compact`]). None: only when the budget requires it. For reports that do not
    /// list such hosts ([`Keep::Signs`]); [`SUMMARISE_PAST`] is the binary's choice.
    pub summarise_past: Option<usize>,
    /// What reading may hold in memory.
    pub budget: Option<Budget>,
}

/// The binary's [`Memory::summarise_past`] without `--all-hosts`: a home or office network is
/// far below it (and keeps every endpoint of every host), a big network's capture far above.
pub const SUMMARISE_PAST: usize = 16_384;

/// A memory budget: how many bytes reading may hold, and how to know how many it holds (the
/// binary counts its allocations). When the budget is reached, reading sheds what is least
/// able to change a verdict, and says so in the report ([`crate::enrich::Shed`]): first it
/// summarises every host with nothing an indicator could match, then it ends the half of the
/// flows silent for longest (their names are gathered with them; a later packet starts a new
/// flow). It never stops: past that, it goes on above the budget and says so.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Bytes.
    pub limit: usize,
    /// Bytes held now, by the whole process.
    pub held: fn() -> usize,
}

/// Packets between two looks at the memory held, when there is a budget (it is also looked at
/// at every sweep).
const BUDGET_CHECK_PACKETS: u32 = 1 << 16;

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
        let mut traffic = read_captures_with(
            &self.captures,
            wait,
            split,
            self.memory,
            analyzer,
            threads,
            progress,
        );
        if !self.zeek_logs.is_empty() {
            // A conn.log of millions of connections: its flows leave the table in batches,
            // with their names (the other logs are read first), gathered as they go.
            let ctx = analyzer.context();
            let mut gathered = Gathered::default();
            let memory = self.memory;
            let (table, logs) = zeek::read_logs_in_batches(
                &self.zeek_logs,
                Some(analyzer.indicators.watch()),
                ZEEK_BATCH,
                &mut |table| {
                    let ended = table.take_all();
                    fold_batches(&mut gathered, &ended, table, memory, &ctx);
                    // Past the budget: every quiet host summarised (the flows are all out).
                    if memory.budget.is_some_and(|b| (b.held)() > b.limit) {
                        gathered.shed.times += 1;
                        gathered.compact(Some(table), &ctx);
                    }
                },
            );
            gathered.merge(enrich::gather_owned(table, &ctx));
            summarise_if_many(&mut gathered, memory, None, &ctx);
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
    read_captures_with(
        paths,
        wait,
        SPLIT_MIN_BYTES,
        Memory::default(),
        analyzer,
        threads,
        progress,
    )
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
/// threads (see [`shares`]) and keeping memory bounded as `memory` says.
#[allow(clippy::too_many_arguments)]
fn read_captures_with(
    paths: &[PathBuf],
    wait: std::time::Duration,
    split_min: u64,
    memory: Memory,
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
                // Gathered here, in the worker, as the input is read.
                let gatherer = Sharded {
                    shard,
                    inner: Gatherer::new(tracker, &ctx).memory(memory),
                };
                let (sink, summary) = read_into(&paths[i], gatherer, wait, progress);
                let (gathered, stats) = sink.inner.finish();
                let part = Part {
                    gathered,
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

/// A gatherer of one shard: it tracks only the frames of its shard, and keeps the time of
/// every frame (see [`Gatherer`]: where sweeps happen must not depend on the split).
struct Sharded<'a> {
    shard: Shard,
    inner: Gatherer<'a>,
}

impl PacketSink for Sharded<'_> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        self.inner.clock(packet.ts_nanos);
        if self.shard.owns(packet.link_type, packet.data) {
            self.inner.track(packet);
        }
    }
}

/// How often, in capture time, the flows that are over are taken out of the table and
/// gathered per host (ns): a flow is over when it has been silent for its
/// [`crate::flow::table::idle_timeout`] at the start of a sweep's period.
pub const SWEEP_NS: i64 = 10_000_000_000;

/// Flows a conn.log may put in the flow table before they are gathered (and a flow of the same
/// addresses, ports and protocol after that counts as another flow).
pub const ZEEK_BATCH: usize = 262_144;

/// Flows gathered at once, at most, between two looks at the number of hosts (see
/// [`Gatherer`]).
const SWEEP_BATCH: usize = 16_384;

/// Packets to hosts, as the capture is read: tracks flows ([`Tracker`]) and, as capture time
/// passes, takes the flows that are over out of the table into their hosts' aggregates
/// ([`Gathered::fold_ended`]), so that the table holds only the flows still going: its memory
/// follows the traffic of the last minutes, not the length of the capture or stream.
///
/// Sweeps happen at the first packet of each [`SWEEP_NS`] period of capture time, before that
/// packet is counted, and take the flows silent for longer than their timeout at the period's
/// start. The readers of a split input each see every packet's time, whether they track the
/// packet or not, so they sweep where one thread sweeps: a flow is over (and its key's next
/// packet starts a new flow) at the same packet however the traffic is split, even in a
/// capture whose times go back and forth.
pub struct Gatherer<'a> {
    tracker: Tracker,
    ctx: &'a Context<'a>,
    gathered: Gathered,
    memory: Memory,
    /// Packets until the next look at the memory held.
    until_check: u32,
    /// Bytes held above which the budget is next acted on (raised when shedding could not get
    /// below the budget, so as not to shed at every look).
    trigger: usize,
    /// Start of the next sweep period, ns; `i64::MIN` before the first packet.
    next_ns: i64,
}

impl<'a> Gatherer<'a> {
    /// Gathers for `ctx` (its local networks say which end of each flow is the host) what
    /// `tracker` tracks.
    pub fn new(tracker: Tracker, ctx: &'a Context<'a>) -> Gatherer<'a> {
        Gatherer {
            tracker,
            ctx,
            gathered: Gathered::default(),
            memory: Memory::default(),
            until_check: BUDGET_CHECK_PACKETS,
            trigger: usize::MAX,
            next_ns: i64::MIN,
        }
    }

    /// Keeps memory bounded as `memory` says (by default, only flows that are over leave).
    pub fn memory(mut self, memory: Memory) -> Self {
        self.trigger = memory.budget.map_or(usize::MAX, |b| b.limit);
        self.memory = memory;
        self
    }

    /// Looks at the memory held; past the budget, sheds (see [`Budget`]).
    #[cold]
    #[inline(never)]
    fn check_budget(&mut self) {
        self.until_check = BUDGET_CHECK_PACKETS;
        let Some(budget) = self.memory.budget else {
            return;
        };
        if (budget.held)() <= self.trigger {
            return;
        }
        self.gathered.shed.times += 1;
        let table = self.tracker.table();
        self.gathered.compact(Some(table), self.ctx);
        if (budget.held)() > budget.limit {
            let ended = self.tracker.take_oldest_half();
            self.gathered.shed.flows_ended_early += ended.len() as u64;
            let table = self.tracker.table();
            self.gathered.fold_ended(&ended, table, self.ctx);
            self.gathered.compact(Some(table), self.ctx);
        }
        let held = (budget.held)();
        if held > budget.limit {
            self.gathered.shed.still_over = true;
            // Act again only when a quarter more is held.
            self.trigger = held.saturating_add(held / 4);
        } else {
            self.trigger = budget.limit;
        }
    }

    /// Flows still in the table (not over yet).
    pub fn flows_going(&mut self) -> usize {
        self.tracker.table().flows.len()
    }

    /// Everything gathered, the flows still going included, and the decoder's statistics.
    pub fn finish(mut self) -> (Gathered, DecodeStats) {
        let rest = self.tracker.take_all();
        self.fold(&rest);
        drop(rest);
        let (table, stats) = self.tracker.into_parts();
        let mut gathered = self.gathered;
        gathered.merge(enrich::gather_owned(table, self.ctx));
        summarise_if_many(&mut gathered, self.memory, None, self.ctx);
        (gathered, stats)
    }

    /// Gathers flows taken out of the table in batches, summarising the quiet hosts between
    /// batches when there are many: a capture of a big network ends hundreds of thousands of
    /// flows in one sweep (and at its end).
    fn fold(&mut self, ended: &[crate::flow::Ended]) {
        let table = self.tracker.table();
        fold_batches(&mut self.gathered, ended, table, self.memory, self.ctx);
    }

    /// The sweep at the first packet of a later period (capture time `ts`, ns).
    #[cold]
    #[inline(never)]
    fn sweep(&mut self, ts: i64) {
        let start = ts.div_euclid(SWEEP_NS).saturating_mul(SWEEP_NS);
        if self.next_ns != i64::MIN {
            let ended = self.tracker.take_idle(start);
            self.fold(&ended);
        }
        self.next_ns = start.saturating_add(SWEEP_NS);
        if self.memory.budget.is_some() {
            self.check_budget();
        }
    }
}

/// Gathers `ended` (flows taken out of `table`) into `gathered` in batches, summarising the
/// quiet hosts between batches when there are more than `memory` allows whole.
fn fold_batches(
    gathered: &mut Gathered,
    ended: &[crate::flow::Ended],
    table: &FlowTable,
    memory: Memory,
    ctx: &Context<'_>,
) {
    for batch in ended.chunks(SWEEP_BATCH) {
        gathered.fold_ended(batch, table, ctx);
        summarise_if_many(gathered, memory, Some(table), ctx);
    }
}

/// Summarises the quiet hosts of `gathered` if there are more than `memory` allows whole.
fn summarise_if_many(
    gathered: &mut Gathered,
    memory: Memory,
    table: Option<&FlowTable>,
    ctx: &Context<'_>,
) {
    if memory
        .summarise_past
        .is_some_and(|past| gathered.hosts_len() > past)
    {
        gathered.compact(table, ctx);
    }
}

impl Gatherer<'_> {
    /// Moves the clock to capture time `ts`: the time of a packet of the input, this
    /// gatherer's or not (a shard sees every packet's time, so that its sweeps happen where one
    /// thread's do, even when the capture's times go back and forth).
    #[inline]
    fn clock(&mut self, ts: i64) {
        if ts >= self.next_ns {
            self.sweep(ts);
        }
    }

    /// Tracks a packet of this gatherer's own, once the clock has seen it.
    #[inline]
    fn track(&mut self, packet: &Packet<'_>) {
        self.until_check -= 1;
        if self.until_check == 0 {
            self.check_budget();
        }
        self.tracker.packet(packet);
    }
}

impl PacketSink for Gatherer<'_> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        self.clock(packet.ts_nanos);
        self.track(packet);
    }
}

/// A sink that publishes the bytes read to a progress display as it passes packets on.
struct Counting<'a, S> {
    inner: S,
    progress: Option<&'a Progress>,
    last: u64,
}

impl<S: PacketSink> PacketSink for Counting<'_, S> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        self.inner.packet(packet);
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
        self.report_with(traffic, threads, Keep::All)
    }

    /// [`Analyzer::report_on`], keeping the reports of the hosts `keep` says; the others are
    /// counted and known by address ([`Report::quiet`]).
    pub fn report_with(&self, traffic: Traffic, threads: usize, keep: Keep) -> Report {
        let ctx = self.context();
        let (flows, span) = (
            traffic.gathered.flows,
            (traffic.gathered.first_ns, traffic.gathered.last_ns),
        );
        let mut traffic = traffic;
        let shed = traffic.gathered.shed;
        let memory = MemoryReport {
            hosts_summarised: traffic.gathered.summarised_hosts() as u64,
            budget_reached: shed.times,
            flows_ended_early: shed.flows_ended_early,
            still_over: shed.still_over,
        };
        let mut summarised = QuietHosts::default();
        let mut tell = |addr| summarised.push(addr);
        let quiet_out: Option<&mut dyn FnMut(IpAddr)> = match keep {
            Keep::All => None,
            Keep::Signs => Some(&mut tell),
        };
        let parts = enrich::hosts_fold(
            traffic.gathered,
            &ctx,
            threads,
            quiet_out,
            |(kept, quiet): &mut (Vec<HostReport>, QuietHosts), v| {
                let c = classify::classify(&v);
                let sign = c.verdict.label != Label::NoSkype || !c.advisories.is_empty();
                if sign || keep == Keep::All {
                    kept.push(HostReport::new(&v, c));
                } else {
                    quiet.push(v.addr);
                }
            },
        );
        let mut hosts: Vec<HostReport> = Vec::new();
        let mut quiet = QuietHosts::default();
        for (kept, q) in parts {
            hosts.extend(kept);
            quiet.append(q);
        }
        quiet.append(summarised);
        quiet.sort();
        let totals = Totals::of(&hosts, quiet.len(), &traffic.inputs, flows, span);
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
            quiet,
            sources,
            totals,
            memory,
        }
    }
}

/// Which hosts' reports a report keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every host's.
    All,
    /// Those of hosts with a sign (a label other than no-skype, or an advisory): the only ones
    /// the reports show unless asked for all. The others are counted and known by address
    /// only, so a capture of millions of quiet machines needs no memory for their reports.
    Signs,
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
            let t = read_captures_with(
                &paths,
                wait,
                0,
                Memory::default(),
                &analyzer,
                threads,
                Some(&progress),
            );
            assert_eq!(
                progress.done.load(Ordering::Relaxed),
                len,
                "{threads} threads"
            );
            assert_eq!((t.inputs.len(), t.inputs[0].bytes), (1, len));
        }
    }
}
