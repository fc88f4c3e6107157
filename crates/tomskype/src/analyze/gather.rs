//! Packets to hosts as a capture is read, with memory bounded: flows that are over leave the
//! flow table for their hosts' aggregates ([`Gatherer`]), quiet hosts are summarised past a
//! number of hosts, and a memory budget sheds what is least able to change a verdict
//! ([`Memory`], [`Budget`]).

use super::watch::{Assessment, OnChange, Pace, Told};
use crate::capture::{Packet, PacketSink};
use crate::decode::DecodeStats;
use crate::enrich::{self, Context, Gathered};
use crate::flow::{FlowTable, Tracker};

/// How reading keeps its memory bounded, whatever the number of hosts and the length of the
/// capture or stream. Flows that are over always leave the table ([`Gatherer`]); beyond that:
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Once this many hosts are gathered from one input, hosts with nothing an indicator could
    /// match are summarised: their counters kept, not their endpoints
    /// ([`Gathered::compact`]). None: only when the budget requires it. For reports that do not
    /// list such hosts ([`super::Keep::Signs`]); [`SUMMARISE_PAST`] is the binary's choice.
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
/// summarises every host with nothing an indicator could match and thins the DNS questions of
/// the hosts not kept whole to the names an indicator watches and their first few, then it
/// ends the half of the flows silent for longest (their names are gathered with them; a later
/// packet starts a new flow). It never stops: past that, it goes on above the budget and says
/// so. The budget is reached when what is held, with what the tables near their growth will
/// take at once (a hash map holds its old and new tables while it grows: `flow::growth`), is
/// above it.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Bytes.
    pub limit: usize,
    /// Bytes held now, by the whole process.
    pub held: fn() -> usize,
}

/// A budget being kept: whether memory held calls for shedding now, and, when shedding could
/// not get below the budget, a higher mark to act at next (so as not to shed at every look).
#[derive(Debug, Clone, Copy)]
pub(super) struct Keeper {
    budget: Option<Budget>,
    /// Bytes held above which the budget is next acted on.
    trigger: usize,
}

impl Keeper {
    /// Keeps `budget` (None: nothing to keep).
    pub(super) fn new(budget: Option<Budget>) -> Keeper {
        Keeper {
            budget,
            trigger: budget.map_or(usize::MAX, |b| b.limit),
        }
    }

    /// Whether the memory held, with `ahead` bytes that tables near their growth will take at
    /// once (`flow::growth`), calls for shedding now.
    pub(super) fn due(&self, ahead: usize) -> bool {
        self.budget
            .is_some_and(|b| (b.held)().saturating_add(ahead) > self.trigger)
    }

    /// Whether the memory held, with `ahead`, is above the budget.
    pub(super) fn over(&self, ahead: usize) -> bool {
        self.budget
            .is_some_and(|b| (b.held)().saturating_add(ahead) > b.limit)
    }

    /// After shedding (with `ahead` still to come): notes in `shed` when memory stays above
    /// the budget, and then acts again only when a quarter more is held or ahead.
    pub(super) fn settle(&mut self, shed: &mut enrich::Shed, ahead: usize) {
        let Some(budget) = self.budget else {
            return;
        };
        crate::hints::give_back_freed();
        let held = (budget.held)();
        if held > budget.limit {
            shed.still_over = true;
        }
        let want = held.saturating_add(ahead);
        self.trigger = if want > budget.limit {
            want.saturating_add(want / 4)
        } else {
            budget.limit
        };
    }

    /// At a look that does not shed: notes in `shed` when memory is above the budget all the
    /// same (shedding, the last time, could not keep it below).
    pub(super) fn note(&self, shed: &mut enrich::Shed) {
        if self.budget.is_some_and(|b| (b.held)() > b.limit) {
            shed.still_over = true;
        }
    }
}

/// Packets between two looks at the memory held, when there is a budget (it is also looked at
/// at every sweep). A look that sheds nothing costs an atomic load and a few tables' sizes.
/// Every 65,536 packets was too far apart for a small budget: a stream of DNS lookups of new
/// names added 21 MB between two looks, and `--max-memory 32M` peaked at 53 MB
/// (`bench/make_stream.py --hosts 300000 --rate 1000 --machines 200 --dns`, read with
/// `--threads 1`); every 4,096 packets it adds about 1.3 MB.
const BUDGET_CHECK_PACKETS: u32 = 1 << 12;

/// How often, in capture time, the flows that are over are taken out of the table and
/// gathered per host (ns): a flow is over when it has been silent for its
/// [`crate::flow::table::idle_timeout`] at the start of a sweep's period.
pub const SWEEP_NS: i64 = 60_000_000_000;

/// Flows a conn.log may put in the flow table before they are gathered (and a flow of the same
/// addresses, ports and protocol after that counts as another flow).
pub const ZEEK_BATCH: usize = 262_144;

/// Flows gathered at once, at most, between two looks at the number of hosts (see
/// [`Gatherer`]): the flows a sweep takes out of the table are handed over this many at a time.
pub(super) const SWEEP_BATCH: usize = 16_384;

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
    /// When to act on the budget next.
    keeper: Keeper,
    /// Start of the next sweep period, ns; `i64::MIN` before the first packet.
    next_ns: i64,
    /// Where verdicts that change are told at each sweep, if anywhere ([`super::watch`]).
    on_change: Option<OnChange>,
    /// The labels told so far.
    told: Told,
    /// When the next look for `on_change` may be.
    pace: Pace,
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
            keeper: Keeper::new(None),
            next_ns: i64::MIN,
            on_change: None,
            told: Told::default(),
            pace: Pace::default(),
        }
    }

    /// Tells `on_change` the verdicts that change, at each sweep (once a minute of capture
    /// time) unless looks grow costly (see [`super::Told`]): for a stream, which may run for
    /// hours.
    pub fn tell_changes(mut self, on_change: OnChange) -> Self {
        self.on_change = Some(on_change);
        self
    }

    /// Assesses the hosts as they stand, at time `at_ns` (see [`super::Told`]), handing
    /// `changed` the verdicts that changed since the last look (or since the last sweep, when
    /// they are told there too).
    pub fn assess(&mut self, at_ns: i64, changed: &mut dyn FnMut(&super::Change)) -> Assessment {
        let table = self.tracker.table();
        self.told
            .assess(&mut self.gathered, table, self.ctx, at_ns, true, changed)
    }

    /// The flow table, to change it (live capture adds the programs that own sockets, which
    /// its flows take when they are gathered).
    pub fn table_mut(&mut self) -> &mut FlowTable {
        self.tracker.table_mut()
    }

    /// Keeps memory bounded as `memory` says (by default, only flows that are over leave).
    pub fn memory(mut self, memory: Memory) -> Self {
        self.keeper = Keeper::new(memory.budget);
        self.memory = memory;
        self
    }

    /// Looks at the memory held, with what the tables near their growth will take at once;
    /// past the budget, sheds (see [`Budget`]).
    #[cold]
    #[inline(never)]
    fn check_budget(&mut self) {
        self.until_check = BUDGET_CHECK_PACKETS;
        let ahead = self.growth_ahead();
        if !self.keeper.due(ahead) {
            self.keeper.note(&mut self.gathered.shed);
            return;
        }
        self.gathered.shed.times += 1;
        self.shed_quiet();
        let ahead = self.growth_ahead();
        if self.keeper.over(ahead) {
            let (gathered, memory, ctx) = (&mut self.gathered, self.memory, self.ctx);
            self.tracker.take_oldest_half(SWEEP_BATCH, |ended, table| {
                gathered.shed.flows_ended_early += ended.len() as u64;
                fold_batch(gathered, ended, table, memory, ctx);
            });
            self.shed_quiet();
        }
        let ahead = self.growth_ahead();
        self.keeper.settle(&mut self.gathered.shed, ahead);
    }

    /// What the tables near their growth will take at once (`flow::growth`).
    fn growth_ahead(&mut self) -> usize {
        self.tracker.table().growth_ahead() + self.gathered.growth_ahead()
    }

    /// Sheds what never weighs in a verdict ([`Gathered::shed_quiet`]).
    fn shed_quiet(&mut self) {
        self.gathered.shed_quiet(self.tracker.table_mut(), self.ctx);
    }

    /// Flows still in the table (not over yet).
    pub fn flows_going(&mut self) -> usize {
        self.tracker.table().flows.len()
    }

    /// Everything gathered, the flows still going included, and the decoder's statistics.
    pub fn finish(mut self) -> (Gathered, DecodeStats) {
        let (gathered, memory, ctx) = (&mut self.gathered, self.memory, self.ctx);
        self.tracker.take_all(SWEEP_BATCH, |ended, table| {
            fold_batch(gathered, ended, table, memory, ctx);
        });
        self.forget_quiet_names();
        // A last look, at the last packet's time: every verdict the report will give has been
        // told as a change, however the looks were paced.
        let last = self.tracker.table().last_ns.unwrap_or(0);
        self.tell_changes_at(last);
        let (table, stats) = self.tracker.into_parts();
        let mut gathered = self.gathered;
        gathered.merge(enrich::gather_owned(table, self.ctx));
        summarise_if_many(&mut gathered, self.memory, None, self.ctx);
        (gathered, stats)
    }

    /// Forgets the table's DNS answers to the hosts summarised since the last call that can
    /// never weigh ([`Gathered::forget_quiet_names`]).
    fn forget_quiet_names(&mut self) {
        self.gathered
            .forget_quiet_names(self.tracker.table_mut(), self.ctx);
    }

    /// The sweep at the first packet of a later period (capture time `ts`, ns).
    #[cold]
    #[inline(never)]
    fn sweep(&mut self, ts: i64) {
        let start = ts.div_euclid(SWEEP_NS).saturating_mul(SWEEP_NS);
        if self.next_ns != i64::MIN {
            let (gathered, memory, ctx) = (&mut self.gathered, self.memory, self.ctx);
            self.tracker.take_idle(start, SWEEP_BATCH, |ended, table| {
                fold_batch(gathered, ended, table, memory, ctx);
            });
            self.forget_quiet_names();
        }
        self.next_ns = start.saturating_add(SWEEP_NS);
        if self.memory.budget.is_some() {
            self.check_budget();
        }
        if self.on_change.is_some() && self.pace.due() {
            let start = std::time::Instant::now();
            self.tell_changes_at(ts);
            let work = self.tracker.table().flows.len() + self.told.viewed();
            self.pace.looked(start, work);
        }
    }

    /// Tells `on_change` (if there is one) the verdicts that changed, as of capture time `at`.
    fn tell_changes_at(&mut self, at: i64) {
        if let Some(tell) = &self.on_change {
            let table = self.tracker.table();
            self.told
                .assess(&mut self.gathered, table, self.ctx, at, false, &mut |c| {
                    (tell.0)(c)
                });
        }
    }
}

/// Gathers `ended` (a batch of flows taken out of `table`, [`SWEEP_BATCH`] at most) into
/// `gathered`, then summarises the quiet hosts if there are more than `memory` allows whole:
/// a capture of a big network ends hundreds of thousands of flows in one sweep (and at its
/// end).
pub(super) fn fold_batch(
    gathered: &mut Gathered,
    ended: &[crate::flow::Ended],
    table: &FlowTable,
    memory: Memory,
    ctx: &Context<'_>,
) {
    gathered.fold_ended(ended, table, ctx);
    summarise_if_many(gathered, memory, Some(table), ctx);
}

/// Summarises the quiet hosts of `gathered` if there are more than `memory` allows whole.
pub(super) fn summarise_if_many(
    gathered: &mut Gathered,
    memory: Memory,
    table: Option<&FlowTable>,
    ctx: &Context<'_>,
) {
    if memory
        .summarise_past
        .is_some_and(|past| gathered.fresh_hosts() > past)
    {
        gathered.compact(table, ctx);
    }
}

impl Gatherer<'_> {
    /// Moves the clock to capture time `ts`: the time of a packet of the input, this
    /// gatherer's or not (a shard sees every packet's time, so that its sweeps happen where one
    /// thread's do, even when the capture's times go back and forth).
    #[inline]
    pub(super) fn clock(&mut self, ts: i64) {
        self.clock_swept(ts);
    }

    /// [`Gatherer::clock`], saying whether the clock swept: the times at which it sweeps
    /// follow from the times of all packets alone (not from which of them this gatherer
    /// tracks), so a shard shown only the packets at which another's clock swept, and its
    /// own, sweeps where the other does (`analyze::shard`).
    #[inline]
    pub(super) fn clock_swept(&mut self, ts: i64) -> bool {
        let due = ts >= self.next_ns;
        if due {
            self.sweep(ts);
        }
        due
    }

    /// Tracks a packet of this gatherer's own, once the clock has seen it.
    #[inline]
    pub(super) fn track(&mut self, packet: &Packet<'_>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static HELD: AtomicUsize = AtomicUsize::new(0);

    fn held() -> usize {
        HELD.load(Ordering::Relaxed)
    }

    /// The budget counts what the tables near their growth will take at once: reached by it,
    /// and after a shedding that left it to come, acted on again only a quarter above it; a
    /// look that does not act still says when the memory held is over.
    #[test]
    fn a_budget_counts_the_growth_ahead() {
        let mut keeper = Keeper::new(Some(Budget { limit: 1000, held }));
        HELD.store(700, Ordering::Relaxed);
        assert!(!keeper.due(0));
        assert!(!keeper.due(300));
        assert!(keeper.due(301));
        assert!(keeper.over(400));
        // Shedding got the memory held down, but the growth is still to come.
        HELD.store(800, Ordering::Relaxed);
        let mut shed = enrich::Shed::default();
        keeper.settle(&mut shed, 400);
        assert!(!shed.still_over, "nothing is over yet");
        assert!(!keeper.due(400));
        assert!(!keeper.due(700), "1,500 is the mark");
        assert!(keeper.due(701));
        // The growth happened: over, and said at the next look.
        HELD.store(1200, Ordering::Relaxed);
        keeper.note(&mut shed);
        assert!(shed.still_over);
        // Shedding that gets everything below the budget sets the mark back to it.
        HELD.store(500, Ordering::Relaxed);
        keeper.settle(&mut shed, 0);
        assert!(keeper.due(501));
    }
}
