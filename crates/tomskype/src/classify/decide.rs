//! Stage 5, classify: the verdict the evidence supports. Weights of one role combine as
//! independent signs (`1 - Π(1 - w)`); the label rule is the one in the module documentation
//! of [`super`]; the confidence is scaled by the coverage.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::{round3, Build, Evidence, Label, Verdict, STRONG};

/// The verdict on `evidence` (strongest first), with `tom_servers` the distinct TOM server
/// addresses the host contacted and `cov` its coverage ([`super::coverage`]).
pub(super) fn decide(evidence: &[Evidence], tom_servers: BTreeSet<IpAddr>, cov: f64) -> Verdict {
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
    let build = (label == Label::TomSkype).then(|| build_of(evidence));
    Verdict {
        label,
        build,
        confidence: round3(confidence),
        tom_score: round3(tom_score),
        tom_firm_score: round3(tom_firm),
        skype_score: round3(skype_score),
        coverage: round3(cov),
        summary,
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
