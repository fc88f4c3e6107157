//! Stage 1, capture (live): the status line drawn on stderr while a live capture runs, and the
//! verdict so far behind it. The verdict comes from the same enrich and classify stages as the
//! final report, run on the flow table as it stands; its cost grows with the table, so it is
//! re-run at most every [`MIN_ASSESS_EVERY`] and never for more than about 2% of the time
//! ([`next_assessment`]). Packets and bytes are counted on every packet.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use crate::analyze::Analyzer;
use crate::classify::{self, Label};
use crate::enrich;
use crate::enrich::Basis;
use crate::flow::FlowTable;
use crate::knowledge::indicators::Role;
use crate::textsafe::Safe;

/// The status line is redrawn this often.
pub const DRAW_EVERY: Duration = Duration::from_millis(500);
/// The verdict so far is recomputed at most this often.
pub const MIN_ASSESS_EVERY: Duration = Duration::from_secs(1);
/// Time between assessments, as a multiple of what the last one took.
const ASSESS_DUTY: u32 = 50;

/// What the classifier makes of the traffic so far.
#[derive(Debug, Clone, Default, PartialEq)]
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

/// The status line: time, packets, bytes, hosts, Skype signs and the verdict so far.
pub fn line(iface: &str, elapsed: Duration, packets: u64, bytes: u64, a: &Assessment) -> String {
    let verdict = match a.verdict {
        Some((host, label)) => format!("{} ({host})", label.name()),
        None => "-".into(),
    };
    format!(
        "live {} {}s · {packets} packets · {} · {} hosts · {} Skype/TOM signs · so far: {verdict}",
        Safe(iface),
        elapsed.as_secs(),
        human_bytes(bytes),
        a.hosts,
        a.skype_signs,
    )
}

/// Bytes for people: `512 B`, `1.5 kB`, `12.3 MB`, `1.2 GB` (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// Draws `text` over the current stderr line.
pub fn draw(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{text}");
    let _ = err.flush();
}

/// Clears the status line.
pub fn clear() {
    draw("");
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
    fn formats_the_line() {
        let a = Assessment {
            hosts: 2,
            skype_signs: 3,
            verdict: Some((ip("192.0.2.2"), Label::TomSkype)),
        };
        assert_eq!(
            line("eth0", Duration::from_millis(12_900), 1234, 1_234_567, &a),
            "live eth0 12s · 1234 packets · 1.2 MB · 2 hosts · 3 Skype/TOM signs · so far: tom-skype (192.0.2.2)"
        );
        let empty = line("lo", Duration::ZERO, 0, 0, &Assessment::default());
        assert!(
            empty.ends_with("0 hosts · 0 Skype/TOM signs · so far: -"),
            "{empty}"
        );
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.0 kB");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(999_949), "999.9 kB");
        assert_eq!(human_bytes(12_300_000), "12.3 MB");
        assert_eq!(human_bytes(u64::MAX), "18446744.1 TB");
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
