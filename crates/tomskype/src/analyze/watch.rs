//! Verdicts while an input is still being read: a stream on standard input or a live capture
//! can run for hours, and a verdict that changes is told as it changes ([`Change`]), besides
//! the final report. An assessment views the hosts that may have a sign as they stand
//! ([`Gathered::so_far`]: the flows that ended and those still going), classifies them as the
//! report does, and tells every host whose label differs from the one told before (a host not
//! told yet was no-skype). Its cost grows with the flows still going and the hosts with a
//! sign, not with the hosts of the network; a stream is assessed at each sweep, once a minute
//! of capture time (so a replayed stream tells the same changes at the same packets every
//! time), a live capture as often as its status line allows (`live::assess`).
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

/// The labels told so far, by host (no-skype ones are not kept).
#[derive(Debug, Default)]
pub struct Told {
    labels: FxHashMap<IpAddr, Label>,
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
    /// `changed` every host whose label is not the one told before, and remembers it. Counts
    /// the hosts seen when `count_hosts` asks.
    pub fn assess(
        &mut self,
        gathered: &Gathered,
        table: &FlowTable,
        ctx: &Context<'_>,
        at_ns: i64,
        count_hosts: bool,
        changed: &mut dyn FnMut(&Change),
    ) -> Assessment {
        let is_sign = |r: Role| matches!(r, Role::Tom | Role::Skype);
        // A browser's visit or a relay for another machine is no sign of the host's own client.
        let counted = |b: Basis| !matches!(b, Basis::Visit | Basis::Relayed);
        let mut skype_signs = 0;
        let mut best: Option<(u8, f64, u64, IpAddr, Label)> = None;
        let hosts = gathered.so_far(table, ctx, count_hosts, |v| {
            skype_signs += v
                .endpoints
                .iter()
                .filter(|e| {
                    e.matches
                        .iter()
                        .any(|m| is_sign(m.indicator.role) && counted(m.basis))
                })
                .count();
            skype_signs += v
                .queries
                .iter()
                .filter(|q| q.matches.iter().any(|i| is_sign(i.role)))
                .count();
            let c = classify::classify(&v);
            let label = c.verdict.label;
            let key = (rank(label), c.verdict.confidence, v.packets);
            // Lexicographic: rank, then confidence, then packets.
            if best.as_ref().is_none_or(|b| key > (b.0, b.1, b.2)) {
                best = Some((key.0, key.1, key.2, v.addr, label));
            }
            let was = self.labels.get(&v.addr).copied().unwrap_or(Label::NoSkype);
            if label != was {
                if label == Label::NoSkype {
                    self.labels.remove(&v.addr);
                } else {
                    self.labels.insert(v.addr, label);
                }
                changed(&Change {
                    at_ns,
                    was,
                    host: HostReport::new(&v, c),
                });
            }
        });
        Assessment {
            hosts: hosts.unwrap_or(0),
            skype_signs,
            verdict: best.map(|b| (b.3, b.4)),
        }
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
        let analyzer = Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::new(vec!["192.0.2.0/24".parse().unwrap()]),
        };
        let ctx = analyzer.context();
        let gathered = Gathered::default();
        let mut t = FlowTable::default();
        let mut told = Told::default();
        let mut changes = Vec::new();
        let look = |told: &mut Told, t: &FlowTable, changes: &mut Vec<Change>| {
            told.assess(&gathered, t, &ctx, 9, true, &mut |c| {
                changes.push(c.clone())
            })
        };
        assert_eq!(look(&mut told, &t, &mut changes), Assessment::default());
        // A busy host with no Skype, and a quiet one with the TOM-Skype login beacon.
        let (k, d) = FlowKey::new(6, ip("192.0.2.3"), 50000, ip("198.51.100.7"), 443);
        for i in 0..100 {
            t.packet(i, k, d, 1500, i == 0, false);
        }
        beacon(&mut t, 5);
        let a = look(&mut told, &t, &mut changes);
        assert_eq!(a.hosts, 2);
        assert_eq!(a.skype_signs, 1);
        assert_eq!(a.verdict, Some((ip("192.0.2.2"), Label::TomSkype)));
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert_eq!((c.at_ns, c.was), (9, Label::NoSkype));
        assert_eq!(c.host.address, ip("192.0.2.2"));
        assert_eq!(c.host.verdict.label, Label::TomSkype);
        assert!(!c.host.evidence.is_empty());
        // Nothing new: nothing told.
        look(&mut told, &t, &mut changes);
        assert_eq!(changes.len(), 1);
    }

    #[test]
    fn the_flows_that_ended_count_with_those_still_going() {
        let analyzer = Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::new(vec!["192.0.2.0/24".parse().unwrap()]),
        };
        let ctx = analyzer.context();
        let mut t = FlowTable::default();
        beacon(&mut t, 5);
        // The beacon's flow ends and is gathered; the table keeps a quiet flow only.
        let ended = t.take_all();
        let mut gathered = Gathered::default();
        gathered.fold_ended(&ended, &t, &ctx);
        let (k, d) = FlowKey::new(6, ip("192.0.2.3"), 50000, ip("198.51.100.7"), 443);
        t.packet(1_000, k, d, 1500, true, false);
        let mut labels = Vec::new();
        let a = Told::default().assess(&gathered, &t, &ctx, 1_000, true, &mut |c| {
            labels.push((c.host.address, c.host.verdict.label))
        });
        assert_eq!(a.hosts, 2);
        assert_eq!(labels, vec![(ip("192.0.2.2"), Label::TomSkype)]);
    }
}
