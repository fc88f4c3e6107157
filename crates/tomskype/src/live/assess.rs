//! Live capture (`live`): the verdict so far, while a capture runs. It comes from the same
//! enrich and classify stages as the final report, run on the flow table as it stands; its
//! cost grows with the table, so the session re-runs it at most every [`MIN_ASSESS_EVERY`] and
//! never for more than about 2% of the time ([`next_assessment`]). How it is shown is the
//! caller's business (the `tomskype` binary draws a status line).

use std::net::IpAddr;
use std::time::Duration;

use crate::analyze::Analyzer;
use crate::classify::{self, Label};
use crate::enrich;
use crate::enrich::Basis;
use crate::flow::FlowTable;
use crate::knowledge::indicators::Role;

/// The verdict so far is recomputed at most this often.
pub const MIN_ASSESS_EVERY: Duration = Duration::from_secs(1);
/// Time between assessments, as a multiple of what the last one took.
const ASSESS_DUTY: u32 = 50;

/// What the classifier makes of the traffic so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Assessment {
    /// Local hosts seen.
    pub hosts: usize,
    /// Endpoints and DNS questions matching a Skype or TOM-Skype indicator, over all hosts.
    pub skype_signs: usize,
    /// The most significant host and its label: TOM-Skype before regular Skype before
    /// inconclusive before none, then by confidence, then by traffic.
    pub verdict: Option<(IpAddr, Label)>,
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

/// Runs enrich and classify on `table` as it stands.
pub fn assess(table: &FlowTable, analyzer: &Analyzer) -> Assessment {
    let views = enrich::hosts_of(table, &analyzer.context());
    let is_sign = |r: Role| matches!(r, Role::Tom | Role::Skype);
    // A browser's visit or a relay for another machine is no sign of the host's own client.
    let counted = |b: Basis| !matches!(b, Basis::Visit | Basis::Relayed);
    let mut skype_signs = 0;
    let mut best: Option<(u8, f64, u64, IpAddr, Label)> = None;
    for v in &views {
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
        let verdict = classify::classify(v).verdict;
        let key = (rank(verdict.label), verdict.confidence, v.packets);
        // Lexicographic: rank, then confidence, then packets.
        if best.as_ref().is_none_or(|b| key > (b.0, b.1, b.2)) {
            best = Some((key.0, key.1, key.2, v.addr, verdict.label));
        }
    }
    Assessment {
        hosts: views.len(),
        skype_signs,
        verdict: best.map(|b| (b.3, b.4)),
    }
}

/// How long to wait before the next assessment, given how long the last one took.
pub fn next_assessment(took: Duration) -> Duration {
    MIN_ASSESS_EVERY.max(took.saturating_mul(ASSESS_DUTY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::LocalNets;
    use crate::flow::{FlowKey, HttpFact};
    use crate::knowledge::geoip::GeoIp;
    use crate::knowledge::indicators::IndicatorSet;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn assessments_are_spaced_by_their_cost() {
        assert_eq!(next_assessment(Duration::ZERO), MIN_ASSESS_EVERY);
        assert_eq!(next_assessment(Duration::from_millis(10)), MIN_ASSESS_EVERY);
        assert_eq!(
            next_assessment(Duration::from_millis(100)),
            Duration::from_secs(5)
        );
        assert!(next_assessment(Duration::from_millis(30)) > MIN_ASSESS_EVERY);
        assert_eq!(next_assessment(Duration::MAX), Duration::MAX);
    }

    #[test]
    fn assess_finds_the_tom_skype_host_among_others() {
        let analyzer = Analyzer {
            geoip: GeoIp::embedded().unwrap(),
            indicators: IndicatorSet::embedded().unwrap(),
            local: LocalNets::new(vec!["192.0.2.0/24".parse().unwrap()]),
        };
        let mut t = FlowTable::default();
        assert_eq!(assess(&t, &analyzer), Assessment::default());
        // A busy host with no Skype, and a quiet one with the TOM-Skype login beacon.
        let (k, d) = FlowKey::new(6, ip("192.0.2.3"), 50000, ip("198.51.100.7"), 443);
        for i in 0..100 {
            t.packet(i, k, d, 1500, i == 0, false);
        }
        let (k, d) = FlowKey::new(6, ip("192.0.2.2"), 40000, ip("203.0.113.10"), 80);
        t.packet(5, k, d, 60, true, false);
        t.http_request(
            k,
            HttpFact {
                ts_ns: 6,
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
        let a = assess(&t, &analyzer);
        assert_eq!(a.hosts, 2);
        assert_eq!(a.skype_signs, 1);
        assert_eq!(a.verdict, Some((ip("192.0.2.2"), Label::TomSkype)));
    }
}
