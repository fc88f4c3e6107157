//! The pipeline, end to end: reads inputs in parallel (one worker per core), each into its own
//! flow table that the worker gathers per host (`enrich::gather`); merges what was gathered in
//! input order; then enriches, classifies and reports per host. The binary and the live
//! capture both come through here, so every source gets the same verdicts. Zeek logs given
//! among the inputs are read by `zeek` into the same kind of flow table.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::addr::LocalNets;
use crate::capture::{self, CaptureFormat, Packet, PacketSink};
use crate::classify;
use crate::classify::Label;
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
}

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
pub const SUMMARISE_PAST: usize = 65_536;

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
        let mut traffic = read_captures_with(
            &self.captures,
            wait,
            self.memory,
            analyzer,
            threads,
            progress,
        );
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
    read_captures_with(paths, wait, Memory::default(), analyzer, threads, progress)
}

/// [`read_captures_waiting`], keeping memory bounded as `memory` says.
fn read_captures_with(
    paths: &[PathBuf],
    wait: std::time::Duration,
    memory: Memory,
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
                // Gathered here, in the worker: the flow table is dropped before the next input.
                let one = read_gathered(path, tracker, wait, progress, &ctx, memory);
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

/// How often, in capture time, the flows that are over are taken out of the table and
/// gathered per host (ns): a flow is over when it has been silent for its
/// [`crate::flow::table::idle_timeout`] at the start of a sweep's period.
pub const SWEEP_NS: i64 = 10_000_000_000;

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
/// start. A flow is therefore over (and its key's next packet starts a new flow) at the same
/// packet however the traffic is split among readers: what happens to a flow depends only on
/// its own packets and the periods.
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
    pub fn finish(mut self) -> (Gathered, crate::decode::DecodeStats) {
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
        for batch in ended.chunks(SWEEP_BATCH) {
            self.gathered
                .fold_ended(batch, self.tracker.table(), self.ctx);
            let table = self.tracker.table();
            summarise_if_many(&mut self.gathered, self.memory, Some(table), self.ctx);
        }
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

impl PacketSink for Gatherer<'_> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        if packet.ts_nanos >= self.next_ns {
            self.sweep(packet.ts_nanos);
        }
        self.until_check -= 1;
        if self.until_check == 0 {
            self.check_budget();
        }
        self.tracker.packet(packet);
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
    let (tracker, mut input) = read_into(path, Tracker::new(), capture::STREAM_WAIT, progress);
    let (table, stats) = tracker.into_parts();
    input.decode = DecodeReport::from(&stats);
    (table, input)
}

/// Reads one capture gathered per host for `ctx` as it goes (see [`Gatherer`]), waiting at
/// most `wait` each time a pipe or FIFO keeps the reader waiting.
fn read_gathered(
    path: &Path,
    tracker: Tracker,
    wait: std::time::Duration,
    progress: Option<&Progress>,
    ctx: &Context<'_>,
    memory: Memory,
) -> (Gathered, InputReport) {
    let gatherer = Gatherer::new(tracker, ctx).memory(memory);
    let (gatherer, mut input) = read_into(path, gatherer, wait, progress);
    let (gathered, stats) = gatherer.finish();
    input.decode = DecodeReport::from(&stats);
    (gathered, input)
}

/// Reads `path` into `sink`: the sink, and what reading it gave (but the decode counts, which
/// are the sink's).
fn read_into<S: PacketSink>(
    path: &Path,
    sink: S,
    wait: std::time::Duration,
    progress: Option<&Progress>,
) -> (S, InputReport) {
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
    let mut input = InputReport::new(path.display().to_string(), summary.format);
    input.gzip = summary.gzip;
    input.packets = summary.packets;
    input.bytes = summary.bytes;
    input.problems = summary.problems;
    input.unreadable = summary.unreadable;
    (sink.inner, input)
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
