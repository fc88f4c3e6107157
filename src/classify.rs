//! Stage 5, classify: from a host's enriched view to a verdict with its evidence.
//!
//! Evidence, strongest first (DESIGN.md): TOM-only network behaviour (names, URLs, query
//! parameters), servers only TOM builds contacted, Skype-related traffic to endpoints in China,
//! and regular Skype presence. Each matched indicator counts once per host (its strongest
//! match). What a match is worth depends on whose it is ([`Basis`], see [`weigh`]): a request
//! the host itself sent keeps the indicator's weight; a TOM name the host only contacted or
//! only looked up, an answer nobody asked for, an address the host never contacted, or an
//! address outside the indicator's validity years count for a fraction and are *soft*; a
//! browser's visit or a relay for another machine is shown and not counted. Weights of one
//! role combine as independent signs: `1 - Π(1 - w)`.
//!
//! Labels:
//! - `tom-skype`: a firm TOM sign (the host's own request) of weight ≥ 0.8, or firm TOM signs
//!   worth ≥ 0.5 backed by Skype presence or by two distinct TOM server addresses;
//! - `inconclusive`: TOM signs (firm or soft) worth ≥ 0.25 that do not reach that, or weak
//!   Skype signs (0.3 to 0.5) and nothing else;
//! - `regular-skype`: Skype signs worth ≥ 0.5 and no TOM signs worth the name;
//! - `no-skype`: otherwise.
//!
//! Soft signs alone never reach `tom-skype`: anyone on the wire can send a DNS answer or a
//! packet from a TOM address, and any web page can make a browser look a name up or fetch a
//! URL. A China-located endpoint with nothing tying it to Skype is never evidence; a regular
//! client talking directly with a peer in China gets an advisory, not another label. The
//! confidence follows coverage ([`coverage`]): a verdict on little traffic never reads 1.00.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::enrich::geoip::Country;
use crate::enrich::indicators::{Indicator, Matcher, Role};
use crate::enrich::{Basis, Endpoint, HostView, Via};
use crate::flow::key::PortName;
use crate::flow::SkypeProtocol;
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

    /// How serious the label is, the most serious highest: tom-skype, inconclusive,
    /// regular-skype, no-skype (the order of a capture's overall verdict, and of the people's
    /// report).
    pub fn severity(self) -> u8 {
        match self {
            Label::TomSkype => 3,
            Label::Inconclusive => 2,
            Label::RegularSkype => 1,
            Label::NoSkype => 0,
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
    /// What kind of sign: `tom-name`, `tom-http`, `tom-server`, `tom-web-http`,
    /// `skype-to-china`, `skype-name`, `skype-http`, `skype-server`, `skype-port`,
    /// `skype-protocol`, `not-evidence`.
    pub kind: String,
    /// Id of the indicator that matched, if one did (rules have none).
    pub indicator: Option<String>,
    /// What was seen, in words.
    pub detail: String,
    /// Weight it carried in the verdict (after its basis and validity), 0..1; 0 for notes.
    pub weight: f64,
    /// Indicator weight before any discount.
    pub indicator_weight: f64,
    /// Whose the sign is and how it was obtained.
    pub basis: Basis,
    /// Whether it shows the host's own doing and can settle a `tom-skype` label; soft signs
    /// (lookups, visits, answers nobody asked for, addresses never contacted or outside their
    /// years) reach at most `inconclusive`.
    pub firm: bool,
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
    /// Stable kind: `peer-in-china`, `tom-web-visit`.
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
    /// Confidence in the label, 0..1 (see [`coverage`]).
    pub confidence: f64,
    /// Combined weight of the TOM signs, firm and soft, 0..1.
    pub tom_score: f64,
    /// Combined weight of the firm TOM signs, 0..1.
    pub tom_firm_score: f64,
    /// Combined weight of the Skype signs, 0..1.
    pub skype_score: f64,
    /// How much traffic the verdict rests on, 0..1 (see [`coverage`]).
    pub coverage: f64,
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
/// The years in which TOM-Skype was distributed (TOM Online, 2005 to November 2013): outside
/// them, Skype traffic to China says nothing of TOM (Microsoft ran Skype in China itself).
const TOM_YEARS: (i32, i32) = (2005, 2013);
/// A Skype sign at least this strong ties an endpoint to Skype for the China rule (weaker ones,
/// such as Microsoft's shared ranges and messenger gateways, also serve Microsoft's own
/// services in China).
const SPECIFIC_SKYPE_SIGN: f64 = 0.5;
/// Weight of Microsoft's STUN attributes on a host's flow: Skype (2014 on) and Teams calls, no
/// other known software sends them (see docs/INDICATORS.md).
const SKYPE_PROTOCOL_MS_STUN: f64 = 0.6;
/// Weight of Skype's classic UDP framing, judged over a whole flow: weaker, as its test is
/// one byte per datagram (see docs/INDICATORS.md).
const SKYPE_PROTOCOL_CLASSIC_UDP: f64 = 0.5;
/// Weight of Skype's classic TCP framing at a connection's start: weaker still, as it rests on
/// the sizes of three segments that look obfuscated, or on one malformed TLS opening (see
/// docs/INDICATORS.md). Alone it reads `inconclusive`, with another Skype sign
/// `regular-skype`.
const SKYPE_PROTOCOL_CLASSIC_TCP: f64 = 0.4;
/// Factor applied to address indicators seen outside their validity period.
const OUT_OF_VALIDITY: f64 = 0.2;
/// Factor applied to a TOM address indicator on an endpoint named as something else.
const NAMED_OTHERWISE: f64 = 0.2;
/// A firm TOM sign at least this strong settles the label alone.
const STRONG: f64 = 0.8;
/// Below this many packets, or [`FULL_SECONDS`] of traffic, a verdict rests on little (the
/// coverage, and the reports' notes).
pub const FULL_PACKETS: u64 = 50;
/// See [`FULL_PACKETS`].
pub const FULL_SECONDS: f64 = 30.0;

/// What a match is worth for its basis and role: (factor on the indicator's weight, firm).
///
/// - The host's own request: full weight, firm.
/// - A TOM name the host only contacted (a TLS server name, or its own lookup's answer then
///   contacted): half, soft: a web page makes a browser do as much.
/// - A Skype name the host contacted: full weight (that Skype is in use is no accusation).
/// - A lookup only: 0.35, soft. An answer nobody was seen asking for: 0.1, soft.
/// - An address the host contacted: full weight, firm; one it never contacted: a quarter, soft.
/// - A port the host opened: full weight (Skype presence only).
/// - A browser's visit or a relay for another machine: shown, not counted.
pub fn weigh(basis: Basis, role: Role) -> (f64, bool) {
    let tom = matches!(role, Role::Tom | Role::TomWeb);
    match basis {
        Basis::Request => (1.0, true),
        Basis::ServerName | Basis::LookupAndContact if tom => (0.5, false),
        Basis::ServerName | Basis::LookupAndContact => (1.0, true),
        Basis::LookupOnly => (0.35, false),
        Basis::Unsolicited => (0.1, false),
        Basis::Contacted => (1.0, true),
        Basis::ReceivedOnly => (0.25, false),
        Basis::Port => (1.0, true),
        Basis::Visit | Basis::Relayed => (0.0, false),
    }
}

/// How much traffic a verdict rests on, 0..1: the product of `packets / 50`, `seconds / 30`
/// (each at most 1) and a half when the host produced no name at all (no DNS question, TLS
/// server name or HTTP request of its own). A confidence is scaled by it, so that a verdict on
/// a few packets, a few seconds or addresses alone never reads 1.00.
pub fn coverage(host: &HostView<'_>) -> f64 {
    let packets = (host.packets as f64 / FULL_PACKETS as f64).min(1.0);
    let seconds = ((host.last_ns - host.first_ns) as f64 / 1e9 / FULL_SECONDS).clamp(0.0, 1.0);
    let named = !host.queries.is_empty()
        || host
            .endpoints
            .iter()
            .any(|e| e.names.values().any(|n| n.is_own()));
    packets * seconds * if named { 1.0 } else { 0.5 }
}

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
    // A resolver's lookups are its clients'.
    let resolver = host.dns_clients > 0;
    let basis_of = |b: Basis| {
        if resolver && b == Basis::LookupOnly {
            Basis::Relayed
        } else {
            b
        }
    };
    let mut advisories = Vec::new();
    let mut skype_to_china: Option<Evidence> = None;
    let mut tom_servers = std::collections::BTreeSet::new();

    for e in &host.endpoints {
        let named_otherwise = is_named_otherwise(e);
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
                basis_of(m.basis),
                matched,
                Some(e.addr.to_string()),
                e.country,
                m.first_ns,
                e.packets,
            );
            if named_otherwise && m.via == Via::Address && ind.role == Role::Tom && ev.weight > 0.0
            {
                ev.weight = round3(ev.weight * NAMED_OTHERWISE);
                ev.firm = false;
                let names: Vec<&str> = own_names(e).take(3).collect();
                ev.detail.push_str(&format!(
                    " [the endpoint is {}, not a Skype service]",
                    names.join(", ")
                ));
            }
            if ev.firm && ev.kind == "tom-server" && ev.weight >= 0.3 {
                tom_servers.insert(e.addr);
            }
            keep(ev);
        }
        for (&proto, &first_ns) in &e.skype_protocols {
            keep(protocol_evidence(e, proto, first_ns));
        }
        if skype_to_china.is_none() {
            skype_to_china = china_rule(e);
        }
        // A peer in China, reached directly over UDP with no name and no indicator: what a
        // Skype call with a contact in China looks like.
        let p2p = e
            .ports
            .iter()
            .any(|&(proto, port)| proto == 17 && port >= 1024);
        if e.country == Some(Country::CHINA) && p2p && e.names.is_empty() && e.matches.is_empty() {
            advisories.push(Advisory {
                kind: "peer-in-china".into(),
                detail: "direct traffic with a peer in China: if this is a Skype contact, they may be using TOM-Skype, whose side logs the chat".into(),
                endpoint: e.addr.to_string(),
            });
        }
    }
    for q in host.queries.iter().filter(|q| !q.explained) {
        let basis = if q.relayed {
            Basis::Relayed
        } else {
            basis_of(Basis::LookupOnly)
        };
        for ind in &q.matches {
            keep(evidence(
                ind,
                "name",
                basis,
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
    if let Some(visit) = tom_web_visit(&evidence) {
        advisories.push(Advisory {
            kind: "tom-web-visit".into(),
            detail: format!(
                "a web browser on this machine opened TOM-Skype's web pages ({}): a visit, not the TOM-Skype client running; if TOM-Skype was downloaded here, check the installed programs",
                visit.matched.as_deref().unwrap_or("skype.tom.com")
            ),
            endpoint: visit.endpoint.clone().unwrap_or_default(),
        });
    }
    // Skype presence only matters where Skype itself was seen: the peer advisory needs it.
    let skype_seen = evidence
        .iter()
        .any(|e| e.kind.starts_with("skype-") && e.firm && e.weight > 0.0);
    if !skype_seen {
        advisories.retain(|a| a.kind != "peer-in-china");
    }

    let combine = |pred: &dyn Fn(&Evidence) -> bool| {
        1.0 - evidence
            .iter()
            .filter(|e| pred(e))
            .fold(1.0, |acc, e| acc * (1.0 - e.weight))
    };
    let is_tom = |e: &Evidence| e.kind.starts_with("tom-") || e.kind == "skype-to-china";
    let is_skype = |e: &Evidence| e.kind.starts_with("skype-") && e.kind != "skype-to-china";
    let tom_score = combine(&is_tom);
    let tom_firm = combine(&|e| is_tom(e) && e.firm);
    let skype_score = combine(&is_skype);
    let skype_firm = combine(&|e| is_skype(e) && e.firm);
    let strong = evidence
        .iter()
        .any(|e| is_tom(e) && e.firm && e.weight >= STRONG);
    let cov = coverage(host);
    // A verdict on less than full coverage never reads as certain.
    let scaled = |c: f64, floor: f64| {
        let c = c * (floor + (1.0 - floor) * cov);
        if cov < 1.0 {
            c.min(0.95)
        } else {
            c
        }
    };

    let (label, confidence, summary) = if strong
        || (tom_firm >= 0.5 && (skype_firm >= 0.2 || tom_servers.len() >= 2))
    {
        let what = if strong {
            "it made requests that only TOM-Skype makes"
        } else {
            "it contacted servers that only TOM-Skype builds contacted"
        };
        (
            Label::TomSkype,
            scaled(tom_score, 0.8),
            format!("TOM-Skype: {what}; its chats may be scanned and stored on servers in China"),
        )
    } else if tom_score >= 0.25 {
        let why = if tom_firm > 0.0 {
            "some signs point to TOM-Skype, too few to be sure"
        } else {
            "some signs point to TOM-Skype, but none shows this machine's own client at work (lookups, web pages, or traffic anyone could send)"
        };
        (
            Label::Inconclusive,
            scaled(1.0 - tom_score.max(skype_score) * 0.5, 0.5),
            format!("inconclusive: {why}"),
        )
    } else if skype_score >= 0.5 {
        (
            Label::RegularSkype,
            scaled(skype_score * (1.0 - tom_score), 0.8),
            "regular Skype: Skype traffic and no sign of TOM-Skype".to_owned(),
        )
    } else if skype_score >= 0.3 {
        (
            Label::Inconclusive,
            scaled(1.0 - skype_score, 0.5),
            "inconclusive: weak signs of Skype, not enough to tell which client".to_owned(),
        )
    } else {
        (
            Label::NoSkype,
            scaled(1.0 - skype_score, 0.3),
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
            tom_firm_score: round3(tom_firm),
            skype_score: round3(skype_score),
            coverage: round3(cov),
            summary,
        },
        evidence,
        advisories,
    }
}

/// The sign behind the `tom-web-visit` advisory: a browser on TOM's Skype pages (not on
/// another site that shares TOM's addresses).
pub fn tom_web_visit(evidence: &[Evidence]) -> Option<&Evidence> {
    evidence.iter().find(|e| {
        e.basis == Basis::Visit && matches!(e.kind.as_str(), "tom-name" | "tom-http")
            || e.kind.starts_with("tom-web-")
    })
}

/// The names the host itself produced for an endpoint (not answers nobody asked for).
fn own_names<'e>(e: &'e Endpoint<'_>) -> impl Iterator<Item = &'e str> {
    e.names
        .iter()
        .filter(|(_, n)| n.is_own())
        .map(|(name, _)| name.as_str())
}

/// An endpoint known by the host's own names (its lookups, server names, Host headers), none
/// of them a Skype or TOM service: a TOM address indicator on it is explained by what the
/// names are (TOM's web portal, a shared host), so it counts for little. Names from answers
/// nobody asked for are not the host's and cannot trigger this (a forger would use it to hide
/// a TOM server); a proxy's names are where clients went through it, not what it is.
fn is_named_otherwise(e: &Endpoint<'_>) -> bool {
    !e.proxy
        && own_names(e).next().is_some()
        && !e
            .matches
            .iter()
            .any(|m| matches!(m.via, Via::Name(_) | Via::Http(_)) && m.basis != Basis::Unsolicited)
}

/// "Skype-related traffic to an endpoint in China": within TOM-Skype's years, to a server the
/// host contacted itself (not through a proxy), tied to Skype by a specific sign of the host's
/// own (a Skype name it used or a Skype server address, not a port: peers on Skype's P2P
/// ports are people, see the `peer-in-china` advisory).
fn china_rule(e: &Endpoint<'_>) -> Option<Evidence> {
    if e.country != Some(Country::CHINA) || !e.contacted() || e.proxy {
        return None;
    }
    let year = timefmt::year(e.first_ns)?;
    if year < TOM_YEARS.0 || year > TOM_YEARS.1 {
        return None;
    }
    let why: Vec<&str> = e
        .matches
        .iter()
        .filter(|m| {
            m.indicator.role == Role::Skype
                && m.indicator.weight >= SPECIFIC_SKYPE_SIGN
                && matches!(
                    m.basis,
                    Basis::Request | Basis::ServerName | Basis::LookupAndContact | Basis::Contacted
                )
        })
        .map(|m| m.indicator.id.as_str())
        .collect();
    if why.is_empty() {
        return None;
    }
    Some(Evidence {
        kind: "skype-to-china".into(),
        indicator: None,
        detail: format!(
            "Skype-related traffic to a server in China in TOM-Skype's years ({})",
            why.join(", ")
        ),
        weight: SKYPE_TO_CHINA,
        indicator_weight: SKYPE_TO_CHINA,
        basis: Basis::Contacted,
        firm: false,
        endpoint: Some(e.addr.to_string()),
        country: e.country,
        matched: None,
        source: None,
        first_seen: Some(timefmt::rfc3339(e.first_ns)),
        packets: e.packets,
        in_validity: true,
        clients: Vec::new(),
    })
}

/// Whether `a` shows an indicator's match better than `b`: stronger; or as strong and firm
/// where `b` is soft; or as strong and with a server where `b` has none; or else seen earlier.
/// A total order, so the choice does not depend on the order matches come in.
fn better(a: &Evidence, b: &Evidence) -> bool {
    let key = |e: &Evidence| {
        (
            !e.firm,
            e.endpoint.is_none(),
            e.first_seen.clone(),
            e.endpoint.clone(),
            e.matched.clone(),
            e.basis,
        )
    };
    a.weight > b.weight || (a.weight == b.weight && key(a) < key(b))
}

/// Key under which the strongest match of an indicator is kept: notes (`not-evidence`) are
/// kept per endpoint, since each is worth showing; signs without an indicator (Skype's
/// protocols) per kind and what they matched.
fn evidence_key(ev: &Evidence) -> String {
    let id = ev.indicator.as_deref().unwrap_or("");
    if ev.kind == "not-evidence" {
        format!("{id}@{}", ev.endpoint.as_deref().unwrap_or(""))
    } else if ev.indicator.is_none() {
        format!("{}:{}", ev.kind, ev.matched.as_deref().unwrap_or(""))
    } else {
        id.to_owned()
    }
}

/// "Skype's own protocol on a flow with this endpoint" (`skype-protocol`): Skype presence,
/// either client. Firm when the host contacted the endpoint; when it only received (a
/// one-way mirror), the sign still counts in full for Skype presence, which accuses no one,
/// but cannot back a TOM label.
fn protocol_evidence(e: &Endpoint<'_>, proto: SkypeProtocol, first_ns: i64) -> Evidence {
    let (weight, what) = match proto {
        SkypeProtocol::MsStun => (
            SKYPE_PROTOCOL_MS_STUN,
            "Microsoft's STUN attributes (MS-ICE2/MS-TURN), as Skype and Teams calls send them",
        ),
        SkypeProtocol::ClassicTcp => (
            SKYPE_PROTOCOL_CLASSIC_TCP,
            "Skype's classic TCP framing at a connection's start",
        ),
        SkypeProtocol::ClassicUdp => (
            SKYPE_PROTOCOL_CLASSIC_UDP,
            "Skype's classic UDP framing on most of a flow's datagrams",
        ),
    };
    let contacted = e.contacted();
    let mut detail = what.to_owned();
    if !contacted {
        detail.push_str(" [only received: the host did not open the flow]");
    }
    Evidence {
        kind: "skype-protocol".into(),
        indicator: None,
        detail,
        weight,
        indicator_weight: weight,
        basis: if contacted {
            Basis::Contacted
        } else {
            Basis::ReceivedOnly
        },
        firm: contacted,
        endpoint: Some(e.addr.to_string()),
        country: e.country,
        matched: Some(proto.name().to_owned()),
        source: None,
        first_seen: Some(timefmt::rfc3339(first_ns)),
        packets: e.packets,
        in_validity: true,
        clients: Vec::new(),
    }
}

/// What one basis means, for the detail line.
fn basis_note(basis: Basis) -> Option<&'static str> {
    match basis {
        Basis::Request | Basis::Contacted | Basis::Port => None,
        Basis::ServerName => Some("a TLS server name it sent: a contact, not a request only the client makes"),
        Basis::LookupAndContact => Some("a name it looked up and then contacted: a contact, not a request only the client makes"),
        Basis::LookupOnly => Some("only looked up: any web page can cause a lookup"),
        Basis::Visit => Some("a web browser's visit, not counted"),
        Basis::Relayed => Some("relayed for another machine, not counted"),
        Basis::Unsolicited => Some("named only by a DNS answer it never asked for: anyone can send one"),
        Basis::ReceivedOnly => Some("the host never contacted this address: anyone can send packets from it"),
    }
}

#[allow(clippy::too_many_arguments)]
fn evidence(
    ind: &Indicator,
    kind_suffix: &str,
    basis: Basis,
    matched: Option<String>,
    endpoint: Option<String>,
    country: Option<Country>,
    first_ns: i64,
    packets: u64,
) -> Evidence {
    let kind = match ind.role {
        Role::NotEvidence => "not-evidence".to_owned(),
        Role::Tom => format!("tom-{kind_suffix}"),
        Role::TomWeb => format!("tom-web-{kind_suffix}"),
        Role::Skype => format!("skype-{kind_suffix}"),
    };
    let year = timefmt::year(first_ns);
    let in_validity = year.is_none_or(|y| ind.valid.contains(y));
    let is_address = matches!(ind.matcher, Matcher::Ip(_) | Matcher::Net(_));
    let (factor, mut firm) = weigh(basis, ind.role);
    let mut weight = match ind.role {
        Role::NotEvidence => 0.0,
        _ => ind.weight * factor,
    };
    let mut detail = ind.description.clone();
    if let Some(note) = basis_note(basis) {
        detail.push_str(&format!(" [{note}]"));
    }
    if !in_validity {
        if is_address {
            weight *= OUT_OF_VALIDITY;
            firm = false;
        }
        detail.push_str(&format!(" [seen outside its validity {}]", ind.valid));
    }
    Evidence {
        kind,
        indicator: Some(ind.id.clone()),
        detail,
        weight: round3(weight),
        indicator_weight: ind.weight,
        basis,
        firm: firm && weight > 0.0 && ind.role != Role::NotEvidence,
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
    use crate::enrich::{Dropped, Endpoint, HostView, Match, NameSeen, Query};
    use std::collections::{BTreeMap, BTreeSet};
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
        endpoint_seen(set, addr, country, names, Basis::ServerName, ts)
    }

    /// An endpoint the host contacted, with names seen with `basis`.
    fn endpoint_seen<'s>(
        set: &'s IndicatorSet,
        addr: &str,
        country: &str,
        names: &[&str],
        basis: Basis,
        ts: i64,
    ) -> Endpoint<'s> {
        let ip: IpAddr = addr.parse().unwrap();
        let mut matches: Vec<Match<'s>> = set
            .match_addr_most_specific(ip)
            .into_iter()
            .map(|indicator| Match {
                indicator,
                via: Via::Address,
                basis: Basis::Contacted,
                first_ns: ts,
            })
            .collect();
        for n in names {
            for indicator in set.match_name(n) {
                matches.push(Match {
                    indicator,
                    via: Via::Name((*n).into()),
                    basis,
                    first_ns: ts,
                });
            }
        }
        let seen = NameSeen {
            first_ns: ts,
            server_name: basis == Basis::ServerName,
            request: basis == Basis::Request,
            visit: basis == Basis::Visit,
            relayed: basis == Basis::Relayed,
            answered: matches!(basis, Basis::LookupAndContact | Basis::LookupOnly),
            unsolicited: basis == Basis::Unsolicited,
        };
        Endpoint {
            addr: ip,
            country: Country::parse(country),
            special: None,
            local: false,
            flows: 1,
            packets: 40,
            sent: 20,
            bytes: 4000,
            first_ns: ts,
            last_ns: ts + 60_000_000_000,
            ports: BTreeSet::from([(6, 443)]),
            host_opened: true,
            proxy: false,
            through_proxy: false,
            names: names.iter().map(|n| ((*n).to_owned(), seen)).collect(),
            http: Vec::new(),
            matches,
            programs: BTreeSet::new(),
            skype_protocols: BTreeMap::new(),
        }
    }

    fn host<'s>(endpoints: Vec<Endpoint<'s>>, queries: Vec<Query<'s>>) -> HostView<'s> {
        HostView {
            addr: "192.168.1.2".parse().unwrap(),
            endpoints,
            queries,
            dropped: Dropped::default(),
            dns_clients: 0,
            proxy_clients: 0,
            flows: 10,
            packets: 500,
            sent: 250,
            bytes: 50_000,
            first_ns: T2012,
            last_ns: T2012 + 120_000_000_000,
        }
    }

    #[test]
    fn skype_protocols_are_skype_presence_of_their_weight() {
        let s = set();
        // A Teams call's STUN to an address no indicator names: regular Skype alone.
        let mut stun = endpoint(&s, "52.115.136.55", "FR", &[], T2026);
        stun.skype_protocols
            .insert(SkypeProtocol::MsStun, T2026 + 5);
        let c = classify(&host(vec![stun.clone()], vec![]));
        assert_eq!(c.verdict.label, Label::RegularSkype);
        let ev = &c.evidence[0];
        assert_eq!(
            (ev.kind.as_str(), ev.weight, ev.firm),
            ("skype-protocol", 0.6, true)
        );
        assert_eq!(ev.matched.as_deref(), Some("ms-stun"));
        // Classic UDP with two peers counts once; received only, it is soft but still counts.
        let mut a = endpoint(&s, "24.224.190.149", "CA", &[], T2012);
        a.skype_protocols.insert(SkypeProtocol::ClassicUdp, T2012);
        let mut b = endpoint(&s, "83.31.12.173", "PL", &[], T2012);
        b.skype_protocols.insert(SkypeProtocol::ClassicUdp, T2012);
        b.host_opened = false;
        let c = classify(&host(vec![a, b.clone()], vec![]));
        assert_eq!(c.verdict.label, Label::RegularSkype);
        assert_eq!(c.verdict.skype_score, 0.5);
        let c = classify(&host(vec![b], vec![]));
        assert_eq!(c.verdict.label, Label::RegularSkype);
        assert!(!c.evidence[0].firm);
        assert_eq!(c.evidence[0].basis, Basis::ReceivedOnly);
        // Both kinds combine as independent signs.
        let mut both = stun;
        both.skype_protocols
            .insert(SkypeProtocol::ClassicUdp, T2026);
        let c = classify(&host(vec![both], vec![]));
        assert_eq!(c.verdict.skype_score, 0.8);
        // Classic TCP alone is a weak sign; with classic UDP, Skype. To a server in China in
        // TOM's years it is still no TOM sign (the China rule needs an indicator's match).
        let mut tcp = endpoint(&s, "220.181.0.9", "CN", &[], T2012);
        tcp.skype_protocols.insert(SkypeProtocol::ClassicTcp, T2012);
        let c = classify(&host(vec![tcp.clone()], vec![]));
        assert_eq!(c.verdict.label, Label::Inconclusive);
        assert_eq!((c.verdict.skype_score, c.verdict.tom_score), (0.4, 0.0));
        assert_eq!(c.evidence[0].matched.as_deref(), Some("classic-tcp"));
        tcp.skype_protocols.insert(SkypeProtocol::ClassicUdp, T2012);
        let c = classify(&host(vec![tcp], vec![]));
        assert_eq!(c.verdict.label, Label::RegularSkype);
        assert_eq!((c.verdict.skype_score, c.verdict.tom_score), (0.7, 0.0));
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
    fn a_tom_name_in_the_hosts_own_request_settles_it_in_any_year() {
        let s = set();
        let e = endpoint_seen(
            &s,
            "198.51.100.7",
            "US",
            &["skypetools1.tom.com"],
            Basis::Request,
            T2026,
        );
        let c = classify(&host(vec![e], vec![]));
        assert_eq!(c.verdict.label, Label::TomSkype);
        assert!(c.evidence[0].firm);
    }

    #[test]
    fn a_tom_name_only_looked_up_or_contacted_is_at_most_inconclusive() {
        let s = set();
        let q = Query {
            name: "skypetools1.tom.com".into(),
            first_ns: T2026,
            count: 1,
            matches: s.match_name("skypetools1.tom.com"),
            relayed: false,
            explained: false,
        };
        let c = classify(&host(vec![], vec![q.clone()]));
        assert_eq!(c.verdict.label, Label::Inconclusive);
        assert!(
            c.evidence[0].endpoint.is_none(),
            "a DNS question has no endpoint"
        );
        assert_eq!(c.evidence[0].basis, Basis::LookupOnly);
        // Contacted by its TLS server name, beside regular Skype: still not an accusation.
        let e = endpoint_seen(
            &s,
            "198.51.100.7",
            "US",
            &["skypetools1.tom.com"],
            Basis::ServerName,
            T2026,
        );
        let skype = endpoint(&s, "65.55.223.12", "US", &["api.skype.com"], T2026);
        let c = classify(&host(vec![e, skype], vec![]));
        assert_eq!(c.verdict.label, Label::Inconclusive);
        // A resolver's lookups are its clients': not counted.
        let mut resolver = host(vec![], vec![q]);
        resolver.dns_clients = 3;
        let c = classify(&resolver);
        assert_eq!(c.verdict.label, Label::NoSkype);
        assert_eq!(c.evidence[0].basis, Basis::Relayed);
    }

    #[test]
    fn visits_and_relays_are_shown_not_counted() {
        let s = set();
        for basis in [Basis::Visit, Basis::Relayed] {
            let e = endpoint_seen(
                &s,
                "198.51.100.7",
                "US",
                &["skypetools.tom.com", "mystatus.skype.com"],
                basis,
                T2012,
            );
            let c = classify(&host(vec![e], vec![]));
            assert_eq!(c.verdict.label, Label::NoSkype, "{basis:?}");
            assert!(c.evidence.iter().all(|e| e.weight == 0.0 && !e.firm));
            assert_eq!(
                c.advisories.iter().any(|a| a.kind == "tom-web-visit"),
                basis == Basis::Visit
            );
        }
    }

    #[test]
    fn unsolicited_names_count_for_little() {
        let s = set();
        let e = endpoint_seen(
            &s,
            "198.51.100.7",
            "US",
            &["skypetools.tom.com", "skypetools1.tom.com", "skype.tom.com"],
            Basis::Unsolicited,
            T2012,
        );
        let c = classify(&host(vec![e], vec![]));
        assert_eq!(c.verdict.label, Label::Inconclusive);
        assert!(c.verdict.tom_score < 0.3 && c.verdict.tom_firm_score == 0.0);
    }

    #[test]
    fn one_address_is_one_server_and_old_addresses_stay_soft() {
        let s = set();
        // 211.100.41.76 is a TOM server and inside TOM's /23: one server, not two.
        let one = host(
            vec![endpoint(&s, "211.100.41.76", "CN", &[], T2012)],
            vec![],
        );
        let c = classify(&one);
        assert_eq!(c.evidence.len(), 1);
        assert_ne!(c.verdict.label, Label::TomSkype);
        // Six TOM servers of 2012 in a 2024 capture: at most inconclusive.
        let t2024 = 1_704_067_200_000_000_000;
        let six = [
            "110.81.238.33",
            "211.100.40.173",
            "211.100.41.76",
            "218.30.111.75",
            "218.6.12.214",
            "219.232.255.99",
        ];
        let mut eps: Vec<Endpoint<'_>> = six
            .iter()
            .map(|a| endpoint(&s, a, "CN", &[], t2024))
            .collect();
        eps.push(endpoint(
            &s,
            "65.55.223.12",
            "US",
            &["api.skype.com"],
            t2024,
        ));
        let c = classify(&host(eps, vec![]));
        assert_eq!(c.verdict.label, Label::Inconclusive, "{:?}", c.verdict);
    }

    #[test]
    fn confidence_follows_coverage() {
        let s = set();
        let e = endpoint_seen(
            &s,
            "198.51.100.7",
            "US",
            &["skypetools1.tom.com"],
            Basis::Request,
            T2012,
        );
        let mut h = host(vec![e], vec![]);
        let full = classify(&h).verdict;
        assert_eq!((full.coverage, full.confidence), (1.0, full.tom_score));
        h.packets = 20;
        h.last_ns = h.first_ns + 1_500_000_000;
        let short = classify(&h).verdict;
        assert_eq!(short.label, Label::TomSkype);
        assert!(short.confidence < 0.95 && short.coverage < 0.1, "{short:?}");
        let mut empty = host(vec![], vec![]);
        empty.last_ns = empty.first_ns + 1_500_000_000;
        let none = classify(&empty).verdict;
        assert_eq!(none.label, Label::NoSkype);
        assert!(none.confidence < 0.5, "{none:?}");
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
        // Not after TOM-Skype's years (Azure China), not for Microsoft's shared names, not
        // for a peer reached on a Skype port.
        let t2024 = 1_704_067_200_000_000_000;
        let later = host(
            vec![endpoint(
                &s,
                "58.215.118.1",
                "CN",
                &["api.skype.com"],
                t2024,
            )],
            vec![],
        );
        let c = classify(&later);
        assert!(!c.evidence.iter().any(|e| e.kind == "skype-to-china"));
        assert_eq!(c.verdict.label, Label::RegularSkype);
        let msn = host(
            vec![endpoint(
                &s,
                "58.215.118.1",
                "CN",
                &["client-s.gateway.messenger.live.com"],
                T2012,
            )],
            vec![],
        );
        assert!(!classify(&msn)
            .evidence
            .iter()
            .any(|e| e.kind == "skype-to-china"));
        let mut peer = endpoint(&s, "58.215.118.1", "CN", &[], T2012);
        peer.matches
            .extend(s.match_port(17, 33033).map(|indicator| Match {
                indicator,
                via: Via::Port(17, 33033),
                basis: Basis::Port,
                first_ns: T2012,
            }));
        assert!(!classify(&host(vec![peer], vec![]))
            .evidence
            .iter()
            .any(|e| e.kind == "skype-to-china"));
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
                basis: Basis::Port,
                first_ns: T2012,
            }));
        let one_port = classify(&host(vec![e.clone()], vec![]));
        assert_eq!(one_port.verdict.label, Label::Inconclusive);
        // Two of Skype's own server ports together are enough.
        e.matches
            .extend(s.match_port(6, 9010).map(|indicator| Match {
                indicator,
                via: Via::Port(6, 9010),
                basis: Basis::Port,
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
            vec![endpoint_seen(
                &s,
                "198.51.100.7",
                "US",
                &["en.example.test"],
                Basis::Request,
                T2012,
            )],
            vec![],
        );
        assert_eq!(classify(&en).verdict.build, Some(Build::English));
        let both = host(
            vec![
                endpoint_seen(
                    &s,
                    "198.51.100.7",
                    "US",
                    &["en.example.test"],
                    Basis::Request,
                    T2012,
                ),
                endpoint_seen(
                    &s,
                    "198.51.100.8",
                    "US",
                    &["cn.example.test"],
                    Basis::Request,
                    T2012,
                ),
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
