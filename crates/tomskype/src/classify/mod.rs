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

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::enrich::{Basis, HostView};
use crate::knowledge::geoip::Country;
use crate::knowledge::indicators::Role;

/// A host's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The English build.
    English,
    /// The Chinese build.
    Chinese,
    /// A TOM build, which one the evidence does not tell.
    Unknown,
}

/// One piece of evidence (or a note that something is not evidence).
#[derive(Debug, Clone, PartialEq)]
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
    pub endpoint: Option<IpAddr>,
    /// Its country, if known.
    pub country: Option<Country>,
    /// The name, URL or port that matched, if not the address.
    pub matched: Option<String>,
    /// Source key of the indicator.
    pub source: Option<String>,
    /// First seen: capture time, ns since the epoch (reports write it in RFC 3339, UTC, as
    /// `first_seen`).
    pub first_ns: Option<i64>,
    /// Packets exchanged with the endpoint.
    pub packets: u64,
    /// Whether the capture time is inside the indicator's validity period.
    pub in_validity: bool,
    /// Clients the indicator was seen from (`regular`, `tom-en`, `tom-cn`, `tom`).
    pub clients: Vec<String>,
}

impl Evidence {
    /// When it was first seen, to the millisecond the reports show: evidence is ordered by this,
    /// so that two signs the report shows at the same time are ordered by what else they say.
    pub fn first_ms(&self) -> Option<i64> {
        self.first_ns.map(|t| t.div_euclid(1_000_000))
    }
}

/// Something the user should know that does not change the host's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// Stable kind: `peer-in-china`, `tom-web-visit`.
    pub kind: String,
    /// What it means, in words.
    pub detail: String,
    /// The endpoint concerned (the JSON report writes an empty string when there is none).
    pub endpoint: Option<IpAddr>,
}

/// A host's verdict.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
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

/// Classifies one host: the evidence and advisories its view shows (`gather.rs`), then the
/// verdict they support (`decide.rs`).
pub fn classify(host: &HostView<'_>) -> Classification {
    let gather::Gathered {
        evidence,
        advisories,
        tom_servers,
    } = gather::gather(host);
    let verdict = decide::decide(&evidence, tom_servers, coverage(host));
    Classification {
        verdict,
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

/// Orders endpoints as their text does ("10.0.0.9" before "9.0.0.1"), none first: the order
/// reports have always listed evidence in, kept so that reports stay the same.
pub fn text_order(a: &Option<IpAddr>, b: &Option<IpAddr>) -> Ordering {
    a.map(|a| a.to_string()).cmp(&b.map(|b| b.to_string()))
}

/// Rounds a weight or score to three decimals, as reports show them.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

mod decide;
mod gather;
#[cfg(test)]
mod tests;
