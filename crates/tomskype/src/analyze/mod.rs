//! The pipeline, end to end: reads the inputs on every core, each (or each shard of a large
//! one) gathered per host as it is read, with memory bounded; merges what was gathered in input
//! order; then enriches, classifies and reports per host. The binary and the live capture both
//! come through here, so every source gets the same verdicts. Zeek logs given among the inputs
//! are read by `zeek` into the same kind of flow table.
//!
//! The files: `inputs.rs` (what a run reads, and reading it on every core), `in_order.rs`
//! (merging the inputs in order as they are done), `shard.rs` (one
//! large file split among cores by address pair), `gather.rs` (packets to hosts as captures are
//! read, with memory bounded), `watch.rs` (verdicts told as they change while a stream or a
//! live capture is read); here, the analyzer and the report.

mod gather;
mod in_order;
mod inputs;
mod shard;
mod watch;

pub use gather::{Budget, Gatherer, Memory, SUMMARISE_PAST, SWEEP_NS, ZEEK_BATCH};
pub use inputs::{read_capture, read_captures, read_captures_waiting, Inputs, SPLIT_MIN_BYTES};
pub use watch::{Assessment, Change, OnChange, Told};

use std::net::IpAddr;
use std::sync::atomic::AtomicU64;

use crate::addr::LocalNets;
use crate::classify::{self, Label};
use crate::enrich::{self, Context, Gathered};
use crate::flow::FlowTable;
use crate::knowledge::geoip::GeoIp;
use crate::knowledge::indicators::IndicatorSet;
use crate::report::model::{MemoryReport, QuietHosts, ToolInfo, Totals, SCHEMA};
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

/// The traffic of all inputs, gathered per host and merged, with what reading each input gave.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Hosts, endpoints and names of all inputs.
    pub gathered: Gathered,
    /// One report per input, in the order given.
    pub inputs: Vec<InputReport>,
}

impl Traffic {
    /// The traffic of one flow table read whole (the readers gather as they read instead, see
    /// [`Gatherer`]), with its inputs' reports.
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
            questions_dropped: shed.questions_dropped,
            names_dropped: shed.names_dropped,
            requests_dropped: shed.requests_dropped,
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

/// A shipped sample capture, for the tests of this module's files.
#[cfg(test)]
fn sample(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../captures")
        .join(name)
}
