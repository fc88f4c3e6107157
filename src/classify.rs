//! Stage 5, classify: from a host's enriched view to a verdict with its evidence.
//!
//! Evidence, strongest first (DESIGN.md): TOM-only network behaviour (names, URLs, query
//! parameters), servers only TOM builds contacted, Skype-related traffic to endpoints in China,
//! and regular Skype presence. Each matched indicator counts once per host (its strongest
//! match), weighted by the indicator's weight; an address indicator seen outside its validity
//! period counts for a fifth (addresses are reassigned). Weights of one role combine as
//! independent signs: `1 - Π(1 - w)`.
//!
//! Labels:
//! - `tom-skype`: a strong TOM-only sign (weight ≥ 0.8), or a TOM score ≥ 0.5 backed by Skype
//!   presence or by two distinct TOM servers;
//! - `inconclusive`: some TOM signs (score ≥ 0.25) that do not reach that, or weak Skype signs
//!   (score 0.3 to 0.5) and nothing else;
//! - `regular-skype`: a Skype score ≥ 0.5 and no TOM signs worth the name;
//! - `no-skype`: otherwise.
//!
//! A China-located endpoint with nothing tying it to Skype is never evidence; a regular client
//! talking directly with a peer in China gets an advisory, not another label.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::enrich::geoip::Country;
use crate::enrich::indicators::{Indicator, Role};
use crate::enrich::{HostView, Via};
use crate::flow::key::PortName;
use crate::timefmt;

/// A host's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    /// The host runs TOM-Skype.
    TomSkype,
    /// The host runs regular Skype.
    RegularSkype,
    /// No sign of Skype.
    NoSkype,
    /// Signs that do not settle it.
    Inconclusive,
}

impl Label {
    /// Stable name, as in reports and `--expect`.
    pub fn name(self) -> &'static str {
        match self {
            Label::TomSkype => "tom-skype",
            Label::RegularSkype => "regular-skype",
            Label::NoSkype => "no-skype",
            Label::Inconclusive => "inconclusive",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Label> {
        [
            Label::TomSkype,
            Label::RegularSkype,
            Label::NoSkype,
            Label::Inconclusive,
        ]
        .into_iter()
        .find(|l| l.name() == s)
    }
}

/// Which TOM-Skype build, where the evidence tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Build {
    /// The English build.
    English,
    /// The Chinese build.
    Chinese,
    /// A TOM build, which one the evidence does not tell.
    Unknown,
}

/// One piece of evidence (or a note that something is not evidence).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// What kind of sign: `tom-name`, `tom-http`, `tom-server`, `skype-to-china`,
    /// `skype-name`, `skype-http`, `skype-server`, `skype-port`, `not-evidence`.
    pub kind: String,
    /// Id of the indicator that matched, if one did (rules have none).
    pub indicator: Option<String>,
    /// What was seen, in words.
    pub detail: String,
    /// Weight it carried in the verdict (after validity), 0..1; 0 for notes.
    pub weight: f64,
    /// Indicator weight before the validity discount.
    pub indicator_weight: f64,
    /// The remote endpoint, if any.
    pub endpoint: Option<String>,
    /// Its country, if known.
    pub country: Option<Country>,
    /// The name, URL or port that matched, if not the address.
    pub matched: Option<String>,
    /// Source key of the indicator.
    pub source: Option<String>,
    /// First seen (capture time, UTC).
    pub first_seen: Option<String>,
    /// Packets exchanged with the endpoint.
    pub packets: u64,
    /// Whether the capture time is inside the indicator's validity period.
    pub in_validity: bool,
    /// Clients the indicator was seen from (`regular`, `tom-en`, `tom-cn`, `tom`).
    pub clients: Vec<String>,
}

/// Something the user should know that does not change the host's label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advisory {
    /// Stable kind: `peer-in-china`.
    pub kind: String,
    /// What it means, in words.
    pub detail: String,
    /// The endpoint concerned.
    pub endpoint: String,
}

/// A host's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The label.
    pub label: Label,
    /// The TOM build, for `tom-skype`.
    pub build: Option<Build>,
    /// Confidence in the label, 0..1.
    pub confidence: f64,
    /// Combined weight of the TOM signs, 0..1.
    pub tom_score: f64,
    /// Combined weight of the Skype signs, 0..1.
    pub skype_score: f64,
    /// The verdict in one sentence.
    pub summary: String,
}

/// A verdict with what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The verdict.
    pub verdict: Verdict,
    /// The evidence, strongest first.
    pub evidence: Vec<Evidence>,
    /// Advisories.
    pub advisories: Vec<Advisory>,
}

/// Weight of the rule "Skype-related traffic to an endpoint in China", counted once per host.
const SKYPE_TO_CHINA: f64 = 0.3;
/// Factor applied to address indicators seen outside their validity period.
const OUT_OF_VALIDITY: f64 = 0.2;
/// Factor applied to a TOM address indicator on an endpoint named as something else.
const NAMED_OTHERWISE: f64 = 0.2;
/// A TOM sign at least this strong settles the label alone.
const STRONG: f64 = 0.8;

/// Classifies one host.
pub fn classify(host: &HostView<'_>) -> Classification {
    // Strongest match per indicator.
    let mut best: BTreeMap<String, Evidence> = BTreeMap::new();
    let mut keep = |ev: Evidence| match best.get_mut(&evidence_key(&ev)) {
        // The strongest match; of equal ones, one that names its server, then the first seen.
        Some(slot) if better(&ev, slot) => *slot = ev,
        Some(_) => {}
        None => {
            best.insert(evidence_key(&ev), ev);
        }
    };
    let mut advisories = Vec::new();
    let mut skype_to_china: Option<Evidence> = None;
    let host_has_skype = host
        .endpoints
        .iter()
        .any(|e| e.matches.iter().any(|m| m.indicator.role == Role::Skype))
        || host
            .queries
            .iter()
            .any(|q| q.matches.iter().any(|i| i.role == Role::Skype));

    for e in &host.endpoints {
        // An endpoint known by names, none of them a Skype or TOM service: a TOM address
        // indicator on it is explained by what the names are (TOM's web portal, a shared
        // host), so it counts for little.
        let named_otherwise = !e.names.is_empty()
            && !e
                .matches
                .iter()
                .any(|m| matches!(m.via, Via::Name(_) | Via::Http(_)));
        for m in &e.matches {
            let ind = m.indicator;
            let (matched, kind_suffix) = match &m.via {
                Via::Address => (None, "server"),
                Via::Name(n) => (Some(n.clone()), "name"),
                Via::Http(u) => (Some(u.clone()), "http"),
                Via::Port(proto, port) => (
                    Some(
                        PortName {
                            proto: *proto,
                            port: *port,
                        }
                        .to_string(),
                    ),
                    "port",
                ),
            };
            let mut ev = evidence(
                ind,
                kind_suffix,
                matched,
                Some(e.addr.to_string()),
                e.country,
                m.first_ns,
                e.packets,
            );
            if named_otherwise && m.via == Via::Address && ind.role == Role::Tom {
                ev.weight = round3(ev.weight * NAMED_OTHERWISE);
                let names: Vec<&str> = e.names.iter().map(String::as_str).take(3).collect();
                ev.detail.push_str(&format!(
                    " [the endpoint is {}, not a Skype service]",
                    names.join(", ")
                ));
            }
            keep(ev);
        }
        let skype_related = e.matches.iter().any(|m| m.indicator.role == Role::Skype);
        if e.country == Some(Country::CHINA) && skype_related && skype_to_china.is_none() {
            let why: Vec<&str> = e
                .matches
                .iter()
                .filter(|m| m.indicator.role == Role::Skype)
                .map(|m| m.indicator.id.as_str())
                .collect();
            skype_to_china = Some(Evidence {
                kind: "skype-to-china".into(),
                indicator: None,
                detail: format!(
                    "Skype-related traffic to an endpoint in China ({})",
                    why.join(", ")
                ),
                weight: SKYPE_TO_CHINA,
                indicator_weight: SKYPE_TO_CHINA,
                endpoint: Some(e.addr.to_string()),
                country: e.country,
                matched: None,
                source: None,
                first_seen: Some(timefmt::rfc3339(e.first_ns)),
                packets: e.packets,
                in_validity: true,
                clients: Vec::new(),
            });
        }
        // A peer in China, reached directly over UDP with no name and no indicator: what a
        // Skype call with a contact in China looks like.
        let p2p = e
            .ports
            .iter()
            .any(|&(proto, port)| proto == 17 && port >= 1024);
        if host_has_skype
            && e.country == Some(Country::CHINA)
            && p2p
            && e.names.is_empty()
            && e.matches.is_empty()
        {
            advisories.push(Advisory {
                kind: "peer-in-china".into(),
                detail: "direct traffic with a peer in China: if this is a Skype contact, they may be using TOM-Skype, whose side logs the chat".into(),
                endpoint: e.addr.to_string(),
            });
        }
    }
    for q in &host.queries {
        for ind in &q.matches {
            keep(evidence(
                ind,
                "name",
                Some(q.name.clone()),
                None,
                None,
                q.first_ns,
                0,
            ));
        }
    }
    let mut evidence: Vec<Evidence> = best.into_values().collect();
    if let Some(ev) = skype_to_china {
        evidence.push(ev);
    }
    evidence.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.indicator.cmp(&b.indicator))
            .then_with(|| a.endpoint.cmp(&b.endpoint))
    });

    let combine = |pred: &dyn Fn(&Evidence) -> bool| {
        1.0 - evidence
            .iter()
            .filter(|e| pred(e))
            .fold(1.0, |acc, e| acc * (1.0 - e.weight))
    };
    let tom_score = combine(&|e| e.kind.starts_with("tom-") || e.kind == "skype-to-china");
    let skype_score = combine(&|e| e.kind.starts_with("skype-") && e.kind != "skype-to-china");
    let strong = evidence
        .iter()
        .any(|e| e.kind.starts_with("tom-") && e.weight >= STRONG);
    let tom_servers = evidence
        .iter()
        .filter(|e| e.kind == "tom-server" && e.weight >= 0.3)
        .count();

    let (label, confidence, summary) = if strong
        || (tom_score >= 0.5 && (skype_score >= 0.2 || tom_servers >= 2))
    {
        let what = if strong {
            "it made requests that only TOM-Skype makes"
        } else {
            "it contacted servers that only TOM-Skype builds contacted"
        };
        (
            Label::TomSkype,
            tom_score,
            format!("TOM-Skype: {what}; its chats may be scanned and stored on servers in China"),
        )
    } else if tom_score >= 0.25 {
        (
            Label::Inconclusive,
            1.0 - tom_score.max(skype_score) * 0.5,
            "inconclusive: some signs point to TOM-Skype, too few to be sure".to_owned(),
        )
    } else if skype_score >= 0.5 {
        (
            Label::RegularSkype,
            skype_score * (1.0 - tom_score),
            "regular Skype: Skype traffic and no sign of TOM-Skype".to_owned(),
        )
    } else if skype_score >= 0.3 {
        (
            Label::Inconclusive,
            1.0 - skype_score,
            "inconclusive: weak signs of Skype, not enough to tell which client".to_owned(),
        )
    } else {
        let coverage = (host.packets as f64 / 200.0).min(1.0);
        (
            Label::NoSkype,
            (1.0 - skype_score) * (0.5 + 0.5 * coverage),
            "no Skype: nothing in this traffic ties the host to Skype".to_owned(),
        )
    };
    let build = (label == Label::TomSkype).then(|| build_of(&evidence));
    Classification {
        verdict: Verdict {
            label,
            build,
            confidence: round3(confidence),
            tom_score: round3(tom_score),
            skype_score: round3(skype_score),
            summary,
        },
        evidence,
        advisories,
    }
}

/// Whether `a` shows an indicator's match better than `b`: stronger; or as strong and with a
/// server where `b` has none; or else seen earlier. A total order, so the choice does not
/// depend on the order matches come in.
fn better(a: &Evidence, b: &Evidence) -> bool {
    let key = |e: &Evidence| {
        (
            e.endpoint.is_none(),
            e.first_seen.clone(),
            e.endpoint.clone(),
            e.matched.clone(),
        )
    };
    a.weight > b.weight || (a.weight == b.weight && key(a) < key(b))
}

/// Key under which the strongest match of an indicator is kept: notes (`not-evidence`) are
/// kept per endpoint, since each is worth showing.
fn evidence_key(ev: &Evidence) -> String {
    let id = ev.indicator.as_deref().unwrap_or("");
    if ev.kind == "not-evidence" {
        format!("{id}@{}", ev.endpoint.as_deref().unwrap_or(""))
    } else {
        id.to_owned()
    }
}

fn evidence(
    ind: &Indicator,
    kind_suffix: &str,
    matched: Option<String>,
    endpoint: Option<String>,
    country: Option<Country>,
    first_ns: i64,
    packets: u64,
) -> Evidence {
    let role = match ind.role {
        Role::Tom => "tom",
        Role::Skype => "skype",
        Role::NotEvidence => "not-evidence",
    };
    let kind = if ind.role == Role::NotEvidence {
        "not-evidence".to_owned()
    } else {
        format!("{role}-{kind_suffix}")
    };
    let year = timefmt::year(first_ns);
    let in_validity = year.is_none_or(|y| ind.valid.contains(y));
    let is_address = matches!(
        ind.matcher,
        crate::enrich::indicators::Matcher::Ip(_) | crate::enrich::indicators::Matcher::Net(_)
    );
    let mut weight = if ind.role == Role::NotEvidence {
        0.0
    } else {
        ind.weight
    };
    let mut detail = ind.description.clone();
    if !in_validity {
        if is_address {
            weight *= OUT_OF_VALIDITY;
        }
        detail.push_str(&format!(" [seen outside its validity {}]", ind.valid));
    }
    Evidence {
        kind,
        indicator: Some(ind.id.clone()),
        detail,
        weight: round3(weight),
        indicator_weight: ind.weight,
        endpoint,
        country,
        matched,
        source: Some(ind.source.clone()),
        first_seen: Some(timefmt::rfc3339(first_ns)),
        packets,
        in_validity,
        clients: ind.clients.clone(),
    }
}

/// The TOM build, when every TOM sign that names a single build names the same one.
fn build_of(evidence: &[Evidence]) -> Build {
    let mut seen: Option<Build> = None;
    for ev in evidence
        .iter()
        .filter(|e| e.kind.starts_with("tom-") && e.weight > 0.0)
    {
        let single = match ev.clients.as_slice() {
            [c] if c == "tom-en" => Build::English,
            [c] if c == "tom-cn" => Build::Chinese,
            _ => continue,
        };
        match seen {
            None => seen = Some(single),
            Some(b) if b == single => {}
            Some(_) => return Build::Unknown,
        }
    }
    seen.unwrap_or(Build::Unknown)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::indicators::IndicatorSet;
    use crate::enrich::{Endpoint, HostView, Match, Query};
    use std::collections::BTreeSet;
    use std::net::IpAddr;

    /// 2012-12-13, inside the validity of the 2012 server indicators.
    const T2012: i64 = 1_355_394_030_000_000_000;
    /// 2026-01-01, outside it.
    const T2026: i64 = 1_767_225_600_000_000_000;

    fn set() -> IndicatorSet {
        IndicatorSet::embedded().unwrap()
    }

    fn endpoint<'s>(
        set: &'s IndicatorSet,
        addr: &str,
        country: &str,
        names: &[&str],
        ts: i64,
    ) -> Endpoint<'s> {
        let ip: IpAddr = addr.parse().unwrap();
        let mut matches: Vec<Match<'s>> = set
            .match_addr(ip)
            .map(|indicator| Match {
                indicator,
                via: Via::Address,
                first_ns: ts,
            })
            .collect();
        for n in names {
            for indicator in set.match_name(n) {
                matches.push(Match {
                    indicator,
                    via: Via::Name((*n).into()),
                    first_ns: ts,
                });
            }
        }
        Endpoint {
            addr: ip,
            country: Country::parse(country),
            special: None,
            local: false,
            flows: 1,
            packets: 40,
            bytes: 4000,
            first_ns: ts,
            last_ns: ts + 60_000_000_000,
            ports: BTreeSet::from([(6, 443)]),
            host_opened: true,
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            http: Vec::new(),
            matches,
            programs: BTreeSet::new(),
        }
    }

    fn host<'s>(endpoints: Vec<Endpoint<'s>>, queries: Vec<Query<'s>>) -> HostView<'s> {
        HostView {
            addr: "192.168.1.2".parse().unwrap(),
            endpoints,
            queries,
            queries_dropped: 0,
            flows: 10,
            packets: 500,
            bytes: 50_000,
            first_ns: T2012,
            last_ns: T2012 + 120_000_000_000,
        }
    }

    #[test]
    fn tom_servers_with_skype_presence_read_tom_skype_in_their_era() {
        let s = set();
        let h = host(
            vec![
                endpoint(&s, "218.30.111.75", "CN", &[], T2012),
                endpoint(&s, "110.81.238.33", "CN", &[], T2012),
                endpoint(&s, "91.190.216.24", "LU", &[], T2012),
            ],
            vec![],
        );
        let c = classify(&h);
        assert_eq!(c.verdict.label, Label::TomSkype);
        assert_eq!(c.verdict.build, Some(Build::Unknown));
        assert!(c
            .evidence
            .iter()
            .any(|e| e.kind == "tom-server" && e.in_validity));
    }

    #[test]
    fn the_same_servers_in_2026_do_not() {
        let s = set();
        let h = host(
            vec![
                endpoint(&s, "218.30.111.75", "CN", &[], T2026),
                endpoint(&s, "110.81.238.33", "CN", &[], T2026),
                endpoint(&s, "91.190.216.24", "LU", &[], T2026),
            ],
            vec![],
        );
        let c = classify(&h);
        assert_ne!(c.verdict.label, Label::TomSkype);
        assert!(c
            .evidence
            .iter()
            .any(|e| !e.in_validity && e.detail.contains("outside its validity")));
    }

    #[test]
    fn a_tom_name_alone_settles_it_in_any_year() {
        let s = set();
        let q = Query {
            name: "skypetools1.tom.com".into(),
            first_ns: T2026,
            count: 1,
            matches: s.match_name("skypetools1.tom.com"),
        };
        let c = classify(&host(vec![], vec![q]));
        assert_eq!(c.verdict.label, Label::TomSkype);
        assert!(
            c.evidence[0].endpoint.is_none(),
            "a DNS question has no endpoint"
        );
    }

    #[test]
    fn china_without_skype_is_not_evidence_and_skype_names_are_regular() {
        let s = set();
        let browsing = host(
            vec![endpoint(
                &s,
                "220.181.112.244",
                "CN",
                &["www.baidu.com"],
                T2012,
            )],
            vec![],
        );
        let c = classify(&browsing);
        assert_eq!(c.verdict.label, Label::NoSkype);
        assert!(c.evidence.is_empty());
        let regular = host(
            vec![
                endpoint(&s, "220.181.112.244", "CN", &["www.baidu.com"], T2012),
                endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2012),
            ],
            vec![],
        );
        let c = classify(&regular);
        assert_eq!(c.verdict.label, Label::RegularSkype);
        assert!(c.advisories.is_empty());
    }

    #[test]
    fn a_udp_peer_in_china_is_an_advisory_not_a_label() {
        let s = set();
        let mut peer = endpoint(&s, "117.89.132.58", "CN", &[], T2012);
        peer.ports = BTreeSet::from([(17, 26114)]);
        let h = host(
            vec![
                endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2012),
                peer,
            ],
            vec![],
        );
        let c = classify(&h);
        assert_eq!(c.verdict.label, Label::RegularSkype);
        assert_eq!(c.advisories.len(), 1);
        assert_eq!(c.advisories[0].endpoint, "117.89.132.58");
    }

    #[test]
    fn skype_names_resolving_to_china_are_weak_tom_evidence() {
        let s = set();
        let h = host(
            vec![endpoint(&s, "58.215.118.1", "CN", &["ui.skype.com"], T2012)],
            vec![],
        );
        let c = classify(&h);
        assert!(c.evidence.iter().any(|e| e.kind == "skype-to-china"));
        assert_eq!(c.verdict.label, Label::Inconclusive, "{:?}", c.verdict);
    }

    #[test]
    fn a_tom_range_address_named_as_a_web_portal_counts_little() {
        let s = set();
        let h = host(
            vec![
                endpoint(&s, "211.100.41.159", "CN", &["www.tom.com"], T2012),
                endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2012),
            ],
            vec![],
        );
        let c = classify(&h);
        assert_eq!(c.verdict.label, Label::RegularSkype);
        let ev = c.evidence.iter().find(|e| e.kind == "tom-server").unwrap();
        assert!(
            ev.weight < 0.1 && ev.detail.contains("www.tom.com"),
            "{ev:?}"
        );
    }

    #[test]
    fn weak_skype_signs_alone_are_inconclusive_and_nothing_is_no_skype() {
        let s = set();
        let mut e = endpoint(&s, "198.51.100.7", "US", &[], T2012);
        e.matches
            .extend(s.match_port(17, 33033).map(|indicator| Match {
                indicator,
                via: Via::Port(17, 33033),
                first_ns: T2012,
            }));
        let one_port = classify(&host(vec![e.clone()], vec![]));
        assert_eq!(one_port.verdict.label, Label::Inconclusive);
        // Two of Skype's own server ports together are enough.
        e.matches
            .extend(s.match_port(6, 9010).map(|indicator| Match {
                indicator,
                via: Via::Port(6, 9010),
                first_ns: T2012,
            }));
        let two_ports = classify(&host(vec![e], vec![]));
        assert_eq!(two_ports.verdict.label, Label::RegularSkype);
        let c = classify(&host(vec![], vec![]));
        assert_eq!(c.verdict.label, Label::NoSkype);
    }

    #[test]
    fn the_build_is_named_when_single_build_indicators_agree() {
        let mut s = set();
        s.add_text(
            "lab.tsv",
            "@source\tlab\tlab\nid\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription\nlab-en\ttom\tname\ten.example.test\t0.9\ttom-en\t-\tlab\ten only\nlab-cn\ttom\tname\tcn.example.test\t0.9\ttom-cn\t-\tlab\tcn only\n",
        )
        .unwrap();
        let en = host(
            vec![endpoint(
                &s,
                "198.51.100.7",
                "US",
                &["en.example.test"],
                T2012,
            )],
            vec![],
        );
        assert_eq!(classify(&en).verdict.build, Some(Build::English));
        let both = host(
            vec![
                endpoint(&s, "198.51.100.7", "US", &["en.example.test"], T2012),
                endpoint(&s, "198.51.100.8", "US", &["cn.example.test"], T2012),
            ],
            vec![],
        );
        assert_eq!(classify(&both).verdict.build, Some(Build::Unknown));
    }

    #[test]
    fn labels_round_trip() {
        for l in [
            Label::TomSkype,
            Label::RegularSkype,
            Label::NoSkype,
            Label::Inconclusive,
        ] {
            assert_eq!(Label::parse(l.name()), Some(l));
        }
        assert_eq!(Label::parse("tom"), None);
    }
}
