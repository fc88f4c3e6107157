//! Stage 6, report: the report for people, before it is drawn as text or HTML. From the report
//! model it makes a [`Story`]: the answer first ("1 of 5 machines ran TOM-Skype: ..."), then the
//! machines with any sign, most serious first, each with what its verdict means, what to do,
//! the evidence as steps in time order with the published sources, and how much the verdict
//! rests on, in words; machines with no sign are counted, not described. Every sentence comes
//! from the chosen language's messages ([`super::lang`]); text from the input (names, URLs)
//! is carried as it is and made safe by the renderers.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::lang::{Arg, Lang, Messages};
use super::{HostReport, InputReport, Report};
use crate::capture::{Problem, ProblemKind};
use crate::classify::{Build, Evidence, Label, FULL_PACKETS, FULL_SECONDS};
use crate::enrich::Basis;
use crate::knowledge::geoip::Country;
use crate::timefmt;

/// At most this many Skype steps are told per machine (the TOM ones are all told).
const SKYPE_STEPS: usize = 3;

/// The report for people, in one language.
#[derive(Debug, Clone)]
pub struct Story {
    /// Its language.
    pub lang: Lang,
    /// The answer: one sentence, then (maybe) what else was found.
    pub answer: Vec<String>,
    /// Machines with any sign (a label other than no-skype, or an advisory), most serious
    /// first.
    pub machines: Vec<Machine>,
    /// How many machines with no sign are not shown.
    pub quiet: usize,
    /// "N other machines show no sign of Skype", when there are any.
    pub quiet_line: Option<String>,
    /// How much was read, in words.
    pub inputs_line: String,
    /// What keeping to the memory budget took, when it was reached.
    pub memory_line: Option<String>,
    /// Problems reading the inputs: "path: what (packet, offset)".
    pub problems: Vec<String>,
    /// The knowledge the verdicts rest on (indicator set, GeoIP database).
    pub knowledge_line: String,
}

/// One machine's verdict, told.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Its address.
    pub address: IpAddr,
    /// Its label.
    pub label: Label,
    /// The label in words, with the build where known.
    pub verdict: String,
    /// How sure, in words.
    pub confidence: String,
    /// The confidence as computed, for `--verbose`.
    pub confidence_value: f64,
    /// What the verdict means.
    pub meaning: String,
    /// What to do.
    pub advice: String,
    /// "What was seen, in time order:".
    pub story_heading: String,
    /// The evidence, in time order.
    pub steps: Vec<Step>,
    /// "… and N more signs of Skype", when steps were left out.
    pub more: Option<String>,
    /// Advisories, in words.
    pub advisories: Vec<String>,
    /// What it does for other machines, in words.
    pub roles: Vec<String>,
    /// Local programs behind its evidence (live capture): "program ↔ endpoint".
    pub programs: Vec<String>,
    /// How much the verdict rests on, in words.
    pub rests_on: Vec<String>,
    /// "Published sources:".
    pub sources_heading: String,
    /// The published sources of its evidence (citations).
    pub sources: Vec<String>,
    /// Countries it talked to, by code, and whether China is among them.
    pub countries: Vec<Country>,
}

/// One piece of evidence, told.
#[derive(Debug, Clone)]
pub struct Step {
    /// When (capture time, UTC), `YYYY-MM-DD HH:MM:SS UTC`.
    pub when: String,
    /// What the machine did, in words (input text inside is not yet made safe).
    pub text: String,
    /// Why it counts less, or not at all.
    pub notes: Vec<String>,
    /// Whether it counted toward the verdict.
    pub counted: bool,
    /// For analysts: weight, basis and indicator id.
    pub technical: String,
}

/// How to tell a report.
#[derive(Debug, Clone)]
pub struct Options {
    /// The language.
    pub lang: Lang,
    /// Also tell the machines with no sign.
    pub all_hosts: bool,
    /// The reader's time zone, when it is not UTC: times are then also given in it.
    pub local: Option<jiff::tz::TimeZone>,
}

/// Capture times in words: UTC, and the reader's local time beside it.
struct Clock<'a> {
    local: Option<&'a jiff::tz::TimeZone>,
    m: &'a Messages,
}

impl Clock<'_> {
    /// `2011-06-09T02:15:37.402Z` as `2011-06-09 02:15:37 UTC`, then the local time
    /// (`(10:15:37 local)`, with the date when it differs).
    fn when(&self, rfc3339: &str) -> String {
        let utc = when(rfc3339);
        let Some(tz) = self.local else {
            return utc;
        };
        let Ok(ts) = rfc3339.parse::<jiff::Timestamp>() else {
            return utc;
        };
        let zoned = ts.to_zoned_datetime(tz.clone());
        let local = if zoned.strftime("%F").to_string() == rfc3339.get(..10).unwrap_or("") {
            zoned.strftime("%T").to_string()
        } else {
            zoned.strftime("%F %T").to_string()
        };
        let local = self.m.get("local-time", &[("time", Arg::Str(&local))]);
        match self.m.lang() {
            // Full-width brackets follow without a space.
            Lang::ZhCn | Lang::ZhTw => format!("{utc}{local}"),
            Lang::En => format!("{utc} {local}"),
        }
    }
}

/// Tells `report` as `options` say.
pub fn story(report: &Report, options: &Options) -> Story {
    let (lang, all_hosts) = (options.lang, options.all_hosts);
    let m = Messages::new(lang);
    let clock = Clock {
        local: options.local.as_ref(),
        m: &m,
    };
    let shows = |h: &&HostReport| all_hosts || h.has_sign();
    let mut shown: Vec<&HostReport> = report.hosts.iter().filter(shows).collect();
    shown.sort_by(|a, b| {
        b.verdict
            .label
            .severity()
            .cmp(&a.verdict.label.severity())
            .then(b.verdict.confidence.total_cmp(&a.verdict.confidence))
            .then(a.address.cmp(&b.address))
    });
    // Hosts whose reports were not kept ([`Report::quiet`]) have no sign either.
    let quiet = report.host_count() - shown.len();
    let machines: Vec<Machine> = shown
        .iter()
        .map(|h| machine(h, report, &m, &clock))
        .collect();
    let quiet_line = (quiet > 0).then(|| {
        let count = m.get("quiet-machines", &[("count", quiet.into())]);
        match lang {
            // Chinese sentences follow each other with no space.
            Lang::ZhCn | Lang::ZhTw => format!("{count}{}", m.text("quiet-list-hint")),
            Lang::En => format!("{count} {}", m.text("quiet-list-hint")),
        }
    });
    let problems = report
        .inputs
        .iter()
        .flat_map(|i| i.problems.iter().map(|p| problem_line(i, p, &m)))
        .collect();
    let ind = &report.indicators;
    Story {
        lang,
        answer: answer(report, &m),
        machines,
        quiet,
        quiet_line,
        memory_line: memory_line(report, &m),
        inputs_line: inputs_line(report, &m),
        problems,
        knowledge_line: m.get(
            "knowledge-line",
            &[
                ("set", Arg::Str(&ind.versions.join(" + "))),
                ("sha", Arg::Str(ind.sha256.get(..12).unwrap_or(&ind.sha256))),
                (
                    "geoip",
                    Arg::Str(&format!(
                        "{} {}",
                        report.geoip.database_type, report.geoip.build_date
                    )),
                ),
            ],
        ),
    }
}

/// What was read: the inputs, their packets and (from Zeek logs) their log records, each
/// said when there is an input of its kind, even if none was read.
fn inputs_line(report: &Report, m: &Messages) -> String {
    let (mut packets, mut records) = (0u64, 0u64);
    let (mut captures, mut logs) = (false, false);
    for i in &report.inputs {
        if i.is_zeek_log() {
            records += i.packets;
            logs = true;
        } else {
            packets += i.packets;
            captures = true;
        }
    }
    let id = match (captures, logs) {
        (_, false) => "inputs-line",
        (false, true) => "inputs-line-records",
        (true, true) => "inputs-line-both",
    };
    m.get(
        id,
        &[
            ("inputs", report.inputs.len().into()),
            ("packets", packets.into()),
            ("records", records.into()),
        ],
    )
}

/// What keeping to the memory budget took, when it was reached: in a few words, since it
/// never changes a verdict.
fn memory_line(report: &Report, m: &Messages) -> Option<String> {
    let mem = &report.memory;
    if mem.budget_reached == 0 {
        return None;
    }
    let mut line = m.get("memory-line", &[("flows", mem.flows_ended_early.into())]);
    if mem.still_over {
        let sep = match m.lang() {
            Lang::ZhCn | Lang::ZhTw => "",
            Lang::En => " ",
        };
        line.push_str(sep);
        line.push_str(&m.text("memory-line-over"));
    }
    Some(line)
}

/// Machines named in a line of the answer at most: the others are counted ("and 90 more"),
/// and each machine is described below it. A capture of a big network (or a spoofer's) can
/// give thousands of machines one label, and the answer is read first.
const ANSWER_NAMES: usize = 10;

/// The addresses of `hosts`, for the answer: the first [`ANSWER_NAMES`], then how many more.
fn addresses(hosts: &[&HostReport], m: &Messages) -> String {
    let named = hosts
        .iter()
        .take(ANSWER_NAMES)
        .map(|h| h.address.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match hosts.len().saturating_sub(ANSWER_NAMES) {
        0 => named,
        more => m.get(
            "answer-more",
            &[("hosts", Arg::Str(&named)), ("more", more.into())],
        ),
    }
}

/// The answer: the most serious finding first, then what else there is.
fn answer(report: &Report, m: &Messages) -> Vec<String> {
    let with = |l: Label| -> Vec<&HostReport> {
        report
            .hosts
            .iter()
            .filter(|h| h.verdict.label == l)
            .collect()
    };
    let (tom, unclear, regular) = (
        with(Label::TomSkype),
        with(Label::Inconclusive),
        with(Label::RegularSkype),
    );
    let total = report.host_count();
    let mut lines = Vec::new();
    if report.totals.packets == 0 {
        // Not an all-clear: nothing was there to look at (the exit code says so too).
        lines.push(m.text("answer-nothing-read"));
    } else if total == 0 {
        lines.push(m.text("answer-no-machines"));
    } else if !tom.is_empty() {
        lines.push(m.get(
            "answer-tom",
            &[
                ("count", tom.len().into()),
                ("total", total.into()),
                ("hosts", Arg::Str(&addresses(&tom, m))),
            ],
        ));
        if !unclear.is_empty() {
            let hosts = addresses(&unclear, m);
            lines.push(m.get("answer-also-unclear", &[("hosts", Arg::Str(&hosts))]));
        }
    } else if !unclear.is_empty() {
        lines.push(m.get(
            "answer-unclear",
            &[
                ("count", unclear.len().into()),
                ("hosts", Arg::Str(&addresses(&unclear, m))),
            ],
        ));
    } else if !regular.is_empty() {
        let hosts = addresses(&regular, m);
        lines.push(m.get("answer-regular", &[("hosts", Arg::Str(&hosts))]));
    } else {
        lines.push(m.get("answer-none", &[("total", total.into())]));
    }
    if !regular.is_empty() && (!tom.is_empty() || !unclear.is_empty()) {
        let hosts = addresses(&regular, m);
        lines.push(m.get("answer-also-regular", &[("hosts", Arg::Str(&hosts))]));
    }
    lines
}

fn machine(h: &HostReport, report: &Report, m: &Messages, clock: &Clock<'_>) -> Machine {
    let v = &h.verdict;
    let (label_id, meaning, advice) = match v.label {
        Label::TomSkype => ("label-tom-skype", "meaning-tom-skype", "advice-tom-skype"),
        Label::RegularSkype => (
            "label-regular-skype",
            "meaning-regular-skype",
            "advice-regular-skype",
        ),
        Label::Inconclusive => (
            "label-inconclusive",
            "meaning-inconclusive",
            "advice-inconclusive",
        ),
        Label::NoSkype => ("label-no-skype", "meaning-no-skype", "advice-no-skype"),
    };
    let mut verdict = m.text(label_id);
    match v.build {
        Some(Build::English) => verdict.push_str(&format!(" ({})", m.text("build-english"))),
        Some(Build::Chinese) => verdict.push_str(&format!(" ({})", m.text("build-chinese"))),
        _ => {}
    }
    let confidence = m.text(match v.confidence {
        c if c >= 0.85 => "confidence-high",
        c if c >= 0.6 => "confidence-medium",
        _ => "confidence-low",
    });
    let (steps, more, keys) = steps(h, m, clock);
    let sources: Vec<String> = keys
        .iter()
        .filter_map(|key| report.sources.get(key).cloned())
        .collect();
    let advisories = h
        .advisories
        .iter()
        .map(|a| match a.kind.as_str() {
            "peer-in-china" => m.get(
                "advisory-peer-in-china",
                &[(
                    "endpoint",
                    Arg::Str(&a.endpoint.map(|e| e.to_string()).unwrap_or_default()),
                )],
            ),
            "tom-web-visit" => {
                let what = crate::classify::tom_web_visit(&h.evidence)
                    .and_then(|e| e.matched.clone())
                    .unwrap_or_else(|| "skype.tom.com".into());
                m.get("advisory-tom-web-visit", &[("what", (&what).into())])
            }
            _ => a.detail.clone(),
        })
        .collect();
    let roles = h
        .roles
        .iter()
        .map(|r| {
            let id = if r.role == "http-proxy" {
                "role-http-proxy"
            } else {
                "role-dns-resolver"
            };
            m.get(id, &[("count", r.clients.into())])
        })
        .collect();
    let countries: BTreeSet<Country> = h.endpoints.iter().filter_map(|e| e.country).collect();
    Machine {
        address: h.address,
        label: v.label,
        verdict,
        confidence,
        confidence_value: v.confidence,
        meaning: m.text(meaning),
        advice: m.text(advice),
        story_heading: m.text("story-heading"),
        steps,
        more,
        advisories,
        roles,
        programs: h
            .endpoints
            .iter()
            .filter(|e| !e.indicators.is_empty() && !e.programs.is_empty())
            .map(|e| format!("{} ↔ {}", e.programs.join(", "), e.address))
            .collect(),
        rests_on: rests_on(h, m, clock),
        sources_heading: m.text("sources-heading"),
        sources,
        countries: countries.into_iter().collect(),
    }
}

/// `2011-06-09T02:15:37.402Z` as `2011-06-09 02:15:37 UTC`.
pub fn when(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..19)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// A duration in words: seconds, minutes and seconds, hours and minutes, or days.
pub fn duration(seconds: f64, m: &Messages) -> String {
    let s = seconds.max(0.0);
    if s < 90.0 {
        let shown = if s < 10.0 {
            format!("{s:.1}")
        } else {
            format!("{s:.0}")
        };
        return m.get("dur-seconds", &[("s", Arg::Str(&shown))]);
    }
    let total = s.round() as u64;
    if total < 90 * 60 {
        return m.get(
            "dur-minutes",
            &[("m", (total / 60).into()), ("s", (total % 60).into())],
        );
    }
    let minutes = total / 60;
    if minutes < 48 * 60 {
        return m.get(
            "dur-hours",
            &[("h", (minutes / 60).into()), ("m", (minutes % 60).into())],
        );
    }
    m.get("dur-days", &[("d", (minutes / (24 * 60)).into())])
}

fn rests_on(h: &HostReport, m: &Messages, clock: &Clock<'_>) -> Vec<String> {
    let c = &h.coverage;
    let mut lines = vec![m.get(
        "rests-on",
        &[
            ("packets", c.packets.into()),
            ("duration", Arg::Str(&duration(c.duration_s, m))),
            ("first", Arg::Str(&clock.when(&c.first_seen))),
            ("last", Arg::Str(&clock.when(&c.last_seen))),
        ],
    )];
    if c.packets < FULL_PACKETS || c.duration_s < FULL_SECONDS {
        lines.push(m.text("rests-on-little"));
    }
    if c.named_endpoints == 0 && c.dns_queries == 0 {
        lines.push(m.text("rests-on-no-names"));
    }
    if c.packets_sent == 0 {
        lines.push(m.text("rests-on-inbound"));
    } else if c.packets_sent == c.packets {
        lines.push(m.text("rests-on-outbound"));
    }
    lines
}

/// What an evidence item says the machine did, with its notes.
fn step(e: &Evidence, m: &Messages, clock: &Clock<'_>) -> Option<Step> {
    let endpoint = e.endpoint.map(|a| a.to_string()).unwrap_or_default();
    let endpoint = endpoint.as_str();
    let what = e.matched.as_deref().unwrap_or(endpoint);
    let server = if endpoint.is_empty() { what } else { endpoint };
    let tom = e.kind.starts_with("tom-");
    let say = |id: &str, what: &str| m.get(id, &[("what", Arg::Str(what))]);
    let text = match (e.kind.as_str(), e.basis) {
        (_, Basis::Relayed) => say("step-relayed", what),
        ("tom-web-http", _) | ("tom-http" | "tom-name", Basis::Visit) => {
            say("step-tom-visit", what)
        }
        (_, Basis::Visit) => say("step-visit", what),
        ("tom-http", _) if what.starts_with("User-Agent:") => say("step-tom-agent", what),
        ("tom-http", _) => say("step-tom-request", what),
        ("tom-name", Basis::Request) => say("step-tom-request", what),
        ("tom-name", Basis::LookupOnly) => say("step-tom-name-lookup", what),
        ("tom-name", Basis::Unsolicited) => say("step-tom-name-answer", what),
        ("tom-name", _) => say("step-tom-name-contact", what),
        ("tom-server", _) | ("tom-port", _) => say("step-tom-server", server),
        ("skype-to-china", _) => say("step-skype-china", server),
        ("skype-port", _) => say("step-skype-port", what),
        ("skype-protocol", _) => m.get(
            "step-skype-protocol",
            &[("what", Arg::Str(what)), ("server", Arg::Str(server))],
        ),
        ("not-evidence", _) => say("step-not-evidence", server),
        (kind, _) if kind.starts_with("skype-") => say("step-skype", what),
        _ => return None,
    };
    let mut notes = Vec::new();
    match e.basis {
        Basis::Unsolicited => notes.push(m.text("note-unsolicited")),
        Basis::ReceivedOnly => notes.push(m.text("note-received-only")),
        Basis::LookupOnly if e.kind != "tom-name" => notes.push(m.text("note-lookup")),
        Basis::ServerName | Basis::LookupAndContact if tom => notes.push(m.text("note-contact")),
        _ => {}
    }
    let first = e.first_ns.map(timefmt::rfc3339);
    if !e.in_validity && e.kind.ends_with("-server") {
        let year = first.as_deref().and_then(|t| t.get(..4)).unwrap_or("?");
        notes.push(m.get("note-out-of-years", &[("year", Arg::Str(year))]));
    }
    Some(Step {
        when: first.map(|t| clock.when(&t)).unwrap_or_default(),
        text,
        notes,
        counted: e.weight > 0.0,
        technical: format!(
            "{} {:.2} {} {}",
            e.kind,
            e.weight,
            super::schema::basis(e.basis),
            e.indicator.as_deref().unwrap_or("rule")
        ),
    })
}

/// The evidence as steps in time order: every TOM sign, the strongest Skype signs; one step
/// per thing seen (a request that matches three indicators is one step). Also the sources of
/// the steps told that counted.
fn steps(
    h: &HostReport,
    m: &Messages,
    clock: &Clock<'_>,
) -> (Vec<Step>, Option<String>, Vec<String>) {
    let is_skype = |e: &Evidence| e.kind.starts_with("skype-") && e.kind != "skype-to-china";
    // The strongest Skype signs, names and requests before addresses and ports.
    let mut skype: Vec<&Evidence> = h.evidence.iter().filter(|e| is_skype(e)).collect();
    skype.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then(b.matched.is_some().cmp(&a.matched.is_some()))
            .then(a.first_ms().cmp(&b.first_ms()))
    });
    let more = skype.len().saturating_sub(SKYPE_STEPS);
    skype.truncate(SKYPE_STEPS);
    // A TOM name of a server the machine sent TOM requests to tells nothing more.
    let requested: BTreeSet<&Option<IpAddr>> = h
        .evidence
        .iter()
        .filter(|e| e.kind == "tom-http" && e.basis == Basis::Request)
        .map(|e| &e.endpoint)
        .collect();
    let mut told: Vec<&Evidence> = h
        .evidence
        .iter()
        .filter(|e| !is_skype(e))
        .filter(|e| {
            !(e.kind == "tom-name" && e.basis == Basis::Request && requested.contains(&e.endpoint))
        })
        .chain(skype)
        .collect();
    told.sort_by(|a, b| {
        a.first_ms()
            .cmp(&b.first_ms())
            .then(b.weight.total_cmp(&a.weight))
            .then(a.indicator.cmp(&b.indicator))
    });
    let mut steps: Vec<Step> = Vec::new();
    // The sources of what counted, TOM's first (they carry the verdict's weight).
    let mut sources: Vec<String> = Vec::new();
    for tom_first in [true, false] {
        for e in &told {
            let is_tom = e.kind.starts_with("tom-") || e.kind == "skype-to-china";
            if e.weight > 0.0 && is_tom == tom_first {
                if let Some(key) = &e.source {
                    if !sources.contains(key) {
                        sources.push(key.clone());
                    }
                }
            }
        }
    }
    for e in told {
        let Some(s) = step(e, m, clock) else { continue };
        if steps.iter().any(|t| t.when == s.when && t.text == s.text) {
            continue;
        }
        steps.push(s);
    }
    let more = (more > 0).then(|| m.get("story-more-skype", &[("count", more.into())]));
    (steps, more, sources)
}

/// One problem reading `input`, for a person: in English the reader's own sentence; in
/// other languages what kind of problem it is in their words, then that sentence. Where it
/// is: the packet and offset, or for a Zeek log the line and offset.
pub fn problem_line(input: &InputReport, p: &Problem, m: &Messages) -> String {
    let path = input.path.as_str();
    let (packet, offset) = (
        p.packet.map(|n| n.to_string()),
        p.offset.map(|o| o.to_string()),
    );
    let at = match (&packet, &offset) {
        (Some(n), Some(o)) if input.is_zeek_log() => m.get(
            "problem-at-line",
            &[("line", Arg::Str(n)), ("offset", Arg::Str(o))],
        ),
        (Some(n), Some(o)) => m.get(
            "problem-at-packet",
            &[("packet", Arg::Str(n)), ("offset", Arg::Str(o))],
        ),
        (None, Some(o)) => m.get("problem-at-offset", &[("offset", Arg::Str(o))]),
        _ => String::new(),
    };
    let what = m.text(match p.kind {
        ProblemKind::Io => "problem-io",
        ProblemKind::Empty => "problem-empty",
        ProblemKind::NotACapture => "problem-not-a-capture",
        ProblemKind::UnsupportedVersion => "problem-unsupported-version",
        ProblemKind::TruncatedHeader => "problem-truncated-header",
        ProblemKind::TruncatedRecord => "problem-truncated-record",
        ProblemKind::BadRecord => "problem-bad-record",
        ProblemKind::CaplenOverSnaplen => "problem-caplen-over-snaplen",
        ProblemKind::UnknownInterface => "problem-unknown-interface",
        ProblemKind::Gzip => "problem-gzip",
        ProblemKind::SkippedLog => "problem-skipped-log",
    });
    m.get(
        "problem-line",
        &[
            ("path", Arg::Str(path)),
            ("what", Arg::Str(&what)),
            ("detail", Arg::Str(&p.detail)),
            ("at", Arg::Str(&at)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_names_ten_machines_and_counts_the_others() {
        use crate::analyze::{Analyzer, Inputs};
        let analyzer = Analyzer {
            geoip: crate::knowledge::geoip::GeoIp::embedded().unwrap(),
            indicators: crate::knowledge::indicators::IndicatorSet::embedded().unwrap(),
            local: crate::addr::LocalNets::new(Vec::new()),
        };
        let capture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../captures/tom-skype-cn-2011-login-beacon.pcap"
        );
        let mut report =
            analyzer.report(Inputs::expand(&[capture.into()]).read(&analyzer, 1, None));
        let tom = report
            .hosts
            .iter()
            .find(|h| h.verdict.label == Label::TomSkype)
            .expect("the sample's machine runs TOM-Skype")
            .clone();
        let answer_with = |report: &mut Report, machines: u8, lang: Lang| {
            report.hosts = (1..=machines)
                .map(|n| HostReport {
                    address: IpAddr::from([10, 0, 0, n]),
                    ..tom.clone()
                })
                .collect();
            answer(report, &Messages::new(lang))
        };
        let ten = answer_with(&mut report, 10, Lang::En);
        assert!(ten[0].ends_with(": 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.0.0.8, 10.0.0.9, 10.0.0.10"), "{ten:?}");
        let twelve = answer_with(&mut report, 12, Lang::En);
        assert!(
            twelve[0].starts_with("12 of 12 machines ran TOM-Skype: 10.0.0.1, "),
            "{twelve:?}"
        );
        assert!(
            twelve[0].ends_with(", 10.0.0.10 and 2 more (each is described below)"),
            "{twelve:?}"
        );
        assert!(!twelve[0].contains("10.0.0.11"));
        let zh = answer_with(&mut report, 12, Lang::ZhCn);
        assert!(
            zh[0].ends_with("10.0.0.10，以及另外 2 台（下文逐台说明）"),
            "{zh:?}"
        );
    }

    #[test]
    fn input_problems_in_the_readers_language() {
        let pcap = InputReport::new("a.pcap".into(), crate::capture::CaptureFormat::Pcap);
        let p = Problem {
            kind: ProblemKind::TruncatedRecord,
            packet: Some(7),
            offset: Some(1234),
            detail: "record cut short".into(),
        };
        let en = problem_line(&pcap, &p, &Messages::new(Lang::En));
        assert_eq!(en, "a.pcap: record cut short (packet 7, offset 1234)");
        let zh = problem_line(&pcap, &p, &Messages::new(Lang::ZhCn));
        assert_eq!(
            zh,
            "a.pcap：文件在一个数据包中间断掉了（可能没有完整保存）。位置：第 7 个数据包，偏移 1234。（技术细节：record cut short）"
        );
        let tw = problem_line(&pcap, &p, &Messages::new(Lang::ZhTw));
        assert!(
            tw.contains("封包") && tw.contains("record cut short"),
            "{tw}"
        );
        let nowhere = Problem {
            packet: None,
            offset: None,
            ..p.clone()
        };
        let en = problem_line(&pcap, &nowhere, &Messages::new(Lang::En));
        assert_eq!(en, "a.pcap: record cut short");
        // A Zeek log's problems are at a line, not a packet.
        let log = InputReport {
            path: "conn.log".into(),
            format: "zeek-conn".into(),
            ..pcap
        };
        let bad = Problem {
            kind: ProblemKind::BadRecord,
            detail: "line 12: ts `X` is not a time".into(),
            packet: Some(12),
            offset: Some(810),
        };
        let en = problem_line(&log, &bad, &Messages::new(Lang::En));
        assert_eq!(
            en,
            "conn.log: line 12: ts `X` is not a time (line 12, offset 810)"
        );
        let zh = problem_line(&log, &bad, &Messages::new(Lang::ZhCn));
        assert!(zh.contains("位置：第 12 行，偏移 810。"), "{zh}");
        let tw = problem_line(&log, &bad, &Messages::new(Lang::ZhTw));
        assert!(tw.contains("位置：第 12 行，偏移 810。"), "{tw}");
    }

    #[test]
    fn durations_in_words() {
        let en = Messages::new(Lang::En);
        assert_eq!(duration(1.46, &en), "1.5 s");
        assert_eq!(duration(54.8, &en), "55 s");
        assert_eq!(duration(72.0, &en), "72 s");
        assert_eq!(duration(125.0, &en), "2 min 5 s");
        assert_eq!(duration(3.0 * 3600.0 + 120.0, &en), "3 h 2 min");
        assert_eq!(duration(671_998_329.8, &en), "7777 days");
        let zh = Messages::new(Lang::ZhCn);
        assert_eq!(duration(125.0, &zh), "2 分 5 秒");
    }

    #[test]
    fn times_read_as_utc_and_local() {
        assert_eq!(when("2011-06-09T02:15:37.402Z"), "2011-06-09 02:15:37 UTC");
        assert_eq!(when("bad"), "bad");
        let beijing = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
        let zh = Messages::new(Lang::ZhCn);
        let clock = Clock {
            local: Some(&beijing),
            m: &zh,
        };
        assert_eq!(
            clock.when("2011-06-09T02:15:37.402Z"),
            "2011-06-09 02:15:37 UTC（本地时间 10:15:37）"
        );
        assert_eq!(
            clock.when("2011-06-09T20:15:37.402Z"),
            "2011-06-09 20:15:37 UTC（本地时间 2011-06-10 04:15:37）"
        );
        let en = Messages::new(Lang::En);
        let clock = Clock {
            local: Some(&beijing),
            m: &en,
        };
        assert_eq!(
            clock.when("2011-06-09T02:15:37.402Z"),
            "2011-06-09 02:15:37 UTC (10:15:37 local)"
        );
    }
}
