//! Verdicts while an input is still being read: a stream on standard input or a live capture
//! can run for hours, and a verdict that changes is told as it changes ([`Change`]), besides
//! the final report. An assessment views the hosts that may have a sign as they stand
//! ([`Gathered::so_far`]: the flows that ended and those still going), classifies them as the
//! report does, and tells every host whose label differs from the one told before (a host not
//! told yet was no-skype). Its cost grows with the flows still going and the hosts with a
//! sign, not with the hosts of the network; a stream is assessed at each sweep, once a minute
//! of capture time, unless looks grow large and costly ([`Pace`]; a stream read as it happens
//! is looked at every minute, and a small one replayed tells the same changes at the same
//! packets every time), a live capture as often as its status line allows (`live::assess`).
//!
//! A change is told from what the host itself did, as the report's verdict is; it is not final:
//! a later look may find more (a TOM-Skype login after a Skype one), or find that what looked
//! like the host's own was a relay for another machine (a proxy's names are known only as its
//! clients' requests arrive), and tell a new change. The final report is the verdict.

use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::classify::{self, Label};
use crate::enrich::{Basis, Context, Gathered};
use crate::flow::FlowTable;
use crate::knowledge::indicators::Role;
use crate::report::HostReport;

/// A host's verdict changed while the input was read.
#[derive(Debug, Clone)]
pub struct Change {
    /// When it was seen: the capture time of the look, ns since the epoch.
    pub at_ns: i64,
    /// The label told before (no-skype for a host not told before).
    pub was: Label,
    /// The host as it stands: its verdict, evidence, advisories and endpoints so far.
    pub host: HostReport,
}

/// Where changes go: called from the thread that reads the input.
#[derive(Clone)]
pub struct OnChange(pub Arc<dyn Fn(&Change) + Send + Sync>);

impl std::fmt::Debug for OnChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnChange(..)")
    }
}

/// What the classifier makes of the traffic so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Assessment {
    /// Local hosts seen (when asked for; a host summarised and seen again may count twice).
    pub hosts: usize,
    /// Endpoints and DNS questions matching a Skype or TOM-Skype indicator, over all hosts.
    pub skype_signs: usize,
    /// The most significant host and its label: TOM-Skype before regular Skype before
    /// inconclusive before none, then by confidence, then by traffic.
    pub verdict: Option<(IpAddr, Label)>,
}

/// How a stream's looks are paced: at each sweep (once a minute of capture time), unless the
/// last look was a large one (more than [`FREE_WORK`] flows going, hosts viewed, and their
/// endpoints and DNS questions), took more than [`FREE_LOOK`], and was less than
/// [`LOOK_DUTY`] times its own time ago. A stream read as it happens
/// (`tcpdump -w - | tomskype analyze -`) is looked at every minute; one read faster than real
/// time, with many flows going or hosts with a sign, is looked at as often as keeps the looks
/// to about 5% of the time (so when its changes are told then depends on the machine's speed;
/// what is told in the end does not). A small look never delays the next, on however slow or
/// busy a machine: a small stream replayed tells the same changes at the same packets every
/// time.
#[derive(Debug, Default)]
pub(super) struct Pace {
    /// No look before this.
    next: Option<std::time::Instant>,
}

/// A look that takes less than this does not delay the next.
const FREE_LOOK: std::time::Duration = std::time::Duration::from_millis(1);
/// Nor does a look at no more than this many flows going, hosts viewed, and their endpoints
/// and DNS questions, however long it took (a test's sample in a debug build on a loaded
/// machine can take over a millisecond).
const FREE_WORK: usize = 4096;
/// Time between costly looks, as a multiple of what the last one took.
const LOOK_DUTY: u32 = 20;

impl Pace {
    /// Whether a look may happen now.
    pub(super) fn due(&self) -> bool {
        self.next.is_none_or(|n| std::time::Instant::now() >= n)
    }

    /// Notes a look that started at `start` and ended now, at `work` flows going, hosts
    /// viewed, and their endpoints and DNS questions.
    pub(super) fn looked(&mut self, start: std::time::Instant, work: usize) {
        let end = std::time::Instant::now();
        let took = end - start;
        self.next = (work > FREE_WORK && took > FREE_LOOK).then(|| end + took * LOOK_DUTY);
    }
}

/// What the last look found of each host viewed so far (the hosts that may have a sign).
#[derive(Debug, Default)]
pub struct Told {
    hosts: FxHashMap<IpAddr, Standing>,
    /// What the last look viewed: one for each host viewed, and one for each of its
    /// endpoints and DNS questions.
    viewed: usize,
}

/// A host as its last view found it.
#[derive(Debug, Clone, Copy)]
struct Standing {
    label: Label,
    confidence: f64,
    packets: u64,
    /// Endpoints and DNS questions of its that match a Skype or TOM-Skype indicator.
    signs: usize,
}

/// How a label ranks when choosing the host to show.
fn rank(label: Label) -> u8 {
    match label {
        Label::TomSkype => 3,
        Label::RegularSkype => 2,
        Label::Inconclusive => 1,
        Label::NoSkype => 0,
    }
}

impl Told {
    /// Assesses the hosts as they stand with `gathered` (the flows that ended) and `table`
    /// (those still going; its DNS stores are the input's), at capture time `at_ns`: hands
    /// `changed` every host whose label is not the one told before, and remembers it. Hosts
    /// unchanged since the last look, with no flow going, keep what the last look found
    /// without being viewed again ([`Gathered::so_far`]), so that a look costs what changed,
    /// not every host with a sign. Counts the hosts seen when `count_hosts` asks.
    pub fn assess(
        &mut self,
        gathered: &mut Gathered,
        table: &FlowTable,
        ctx: &Context<'_>,
        at_ns: i64,
        count_hosts: bool,
        changed: &mut dyn FnMut(&Change),
    ) -> Assessment {
        let is_sign = |r: Role| matches!(r, Role::Tom | Role::Skype);
        // A browser's visit or a relay for another machine is no sign of the host's own client.
        let counted = |b: Basis| !matches!(b, Basis::Visit | Basis::Relayed);
        self.viewed = 0;
        let seen = gathered.so_far(table, ctx, count_hosts, |v| {
            self.viewed += 1 + v.endpoints.len() + v.queries.len();
            let signs = v
                .endpoints
                .iter()
                .filter(|e| {
                    e.matches
                        .iter()
                        .any(|m| is_sign(m.indicator.role) && counted(m.basis))
                })
                .count()
                + v.queries
                    .iter()
                    .filter(|q| q.matches.iter().any(|i| is_sign(i.role)))
                    .count();
            let c = classify::classify(&v);
            let label = c.verdict.label;
            let now = Standing {
                label,
                confidence: c.verdict.confidence,
                packets: v.packets,
                signs,
            };
            let was = self
                .hosts
                .insert(v.addr, now)
                .map_or(Label::NoSkype, |s| s.label);
            if label != was {
                changed(&Change {
                    at_ns,
                    was,
                    host: HostReport::new(&v, c),
                });
            }
        });
        // Lexicographic: rank, then confidence, then packets, then the lower address.
        let best = self
            .hosts
            .iter()
            .max_by(|(a, x), (b, y)| {
                (rank(x.label), x.confidence, x.packets)
                    .partial_cmp(&(rank(y.label), y.confidence, y.packets))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| b.cmp(a))
            })
            .map(|(addr, s)| (*addr, s.label));
        // No host with a sign: the busiest, which has none.
        let verdict = match best {
            Some((_, label)) if label != Label::NoSkype => best,
            _ => seen.busiest.map(|a| (a, Label::NoSkype)).or(best),
        };
        Assessment {
            hosts: seen.hosts,
            skype_signs: self.hosts.values().map(|s| s.signs).sum(),
            verdict,
        }
    }

    /// What the last look viewed: hosts, and their endpoints and DNS questions.
    pub fn viewed(&self) -> usize {
        self.viewed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::LocalNets;
    use crate::analyze::Analyzer;
    use crate::flow::{FlowKey, HttpFact};
    use crate::knowledge::geoip::GeoIp;
    use crate::knowledge::indicators::IndicatorSet;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A small look never delays the next, however long it took (a loaded machine); a large
    /// one that took long delays it by twenty times that, and a large quick one does not.
    #[test]
    fn only_a_large_costly_look_delays_the_next() {
        use std::time::{Duration, Instant};
        let long_ago = Instant::now() - Duration::from_secs(1);
        let mut pace = Pace::default();
        assert!(pace.due());
        pace.looked(long_ago, FREE_WORK);
        assert!(pace.due(), "small, however slow");
        pace.looked(Instant::now(), FREE_WORK + 1);
        assert!(pace.due(), "large but quick");
        pace.looked(long_ago, FREE_WORK + 1);
        assert!(!pace.due(), "large and slow: 20 s to wait");
        pace.looked(Instant::now(), 10);
        assert!(pace.due());
    }

    /// The shipped knowledge, 192.0.2.0/24 local.
    fn analyzer() -> Analyzer {
        Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::new(vec!["192.0.2.0/24".parse().unwrap()]),
        }
    }

    /// The TOM-Skype login beacon of 192.0.2.2 (Villeneuve's description: the host, the
    /// script, the login id and the 32-digit code).
    fn beacon(t: &mut FlowTable, ts: i64) {
        let (k, d) = FlowKey::new(6, ip("192.0.2.2"), 40000, ip("203.0.113.10"), 80);
        t.packet(ts, k, d, 60, true, false);
        t.http_request(
            k,
            HttpFact {
                ts_ns: ts + 1,
                method: "GET".into(),
                host: Some("skypetools1.tom.com".into()),
                target: "/en_return_time.php?login_id=ci&code=0123456789abcdef0123456789abcdef"
                    .into(),
                user_agent: None,
                referer: None,
                via: false,
                client: ip("192.0.2.2"),
            },
        );
    }

    #[test]
    fn assess_finds_the_tom_skype_host_among_others_and_tells_it_once() {
        let analyzer = analyzer();
        let ctx = analyzer.context();
        let mut gathered = Gathered::default();
        let mut t = FlowTable::default();
        let mut told = Told::default();
        let mut changes = Vec::new();
        let look = |told: &mut Told, g: &mut Gathered, t: &FlowTable, changes: &mut Vec<Change>| {
            told.assess(g, t, &ctx, 9, true, &mut |c| changes.push(c.clone()))
        };
        assert_eq!(
            look(&mut told, &mut gathered, &t, &mut changes),
            Assessment::default()
        );
        // A busy host with no Skype, and a quiet one with the TOM-Skype login beacon.
        let (k, d) = FlowKey::new(6, ip("192.0.2.3"), 50000, ip("198.51.100.7"), 443);
        for i in 0..100 {
            t.packet(i, k, d, 1500, i == 0, false);
        }
        beacon(&mut t, 5);
        let a = look(&mut told, &mut gathered, &t, &mut changes);
        // What the look viewed, for its pace: the host that may have a sign and its endpoint
        // (the busy host has none, and is not viewed).
        assert_eq!(told.viewed(), 2);
        assert_eq!(a.hosts, 2);
        assert_eq!(a.skype_signs, 1);
        assert_eq!(a.verdict, Some((ip("192.0.2.2"), Label::TomSkype)));
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert_eq!((c.at_ns, c.was), (9, Label::NoSkype));
        assert_eq!(c.host.address, ip("192.0.2.2"));
        assert_eq!(c.host.verdict.label, Label::TomSkype);
        assert!(!c.host.evidence.is_empty());
        // Nothing new: nothing told, and the same assessment.
        assert_eq!(look(&mut told, &mut gathered, &t, &mut changes), a);
        assert_eq!(changes.len(), 1);
        // The flows end and are gathered: the host, unchanged since, is not viewed again, and
        // still counts.
        t.take_all(16, |ended, t| gathered.fold_ended(ended, t, &ctx));
        assert_eq!(look(&mut told, &mut gathered, &t, &mut changes), a);
        let mut views = 0;
        let again = told.assess(&mut gathered, &t, &ctx, 10, true, &mut |_| ());
        gathered.so_far(&t, &ctx, false, |_| views += 1);
        assert_eq!((again, views, changes.len()), (a, 0, 1));
        assert_eq!(told.viewed(), 0);
    }

    #[test]
    fn the_flows_that_ended_count_with_those_still_going() {
        let analyzer = analyzer();
        let ctx = analyzer.context();
        let mut t = FlowTable::default();
        beacon(&mut t, 5);
        // The beacon's flow ends and is gathered; the table keeps a quiet flow only.
        let mut gathered = Gathered::default();
        t.take_all(16, |ended, t| gathered.fold_ended(ended, t, &ctx));
        let (k, d) = FlowKey::new(6, ip("192.0.2.3"), 50000, ip("198.51.100.7"), 443);
        t.packet(1_000, k, d, 1500, true, false);
        let mut labels = Vec::new();
        let a = Told::default().assess(&mut gathered, &t, &ctx, 1_000, true, &mut |c| {
            labels.push((c.host.address, c.host.verdict.label))
        });
        assert_eq!(a.hosts, 2);
        assert_eq!(labels, vec![(ip("192.0.2.2"), Label::TomSkype)]);
    }
}
