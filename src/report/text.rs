//! Stage 6, report: text rendering for people. Per host: the verdict first, in plain words;
//! then the evidence as a short table; then advisories and coverage. Inputs and their problems
//! close the report. Colour only when asked (the caller decides: a terminal, and no NO_COLOR).

use std::io::{self, Write};

use super::Report;
use crate::classify::Label;
use crate::enrich::Basis;

/// At most this many evidence rows are shown per host (the JSON report has them all).
pub const MAX_ROWS: usize = 12;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

/// Writes `report` for people; `colour` adds ANSI colours.
pub fn write(report: &Report, out: &mut dyn Write, colour: bool) -> io::Result<()> {
    let st = Style { on: colour };
    let ind = &report.indicators;
    writeln!(
        out,
        "{} {} · indicators {} ({} indicators, sha256 {}) · GeoIP {} {} ({})",
        report.tool.name,
        report.tool.version,
        ind.versions.join(" + "),
        ind.count,
        ind.sha256.get(..12).unwrap_or(&ind.sha256),
        report.geoip.database_type,
        report.geoip.build_date,
        report.geoip.source,
    )?;
    if report.hosts.is_empty() {
        writeln!(out, "\nno hosts found in the input")?;
    }
    for h in &report.hosts {
        let v = &h.verdict;
        let (code, word) = match v.label {
            Label::TomSkype => ("1;31", "TOM-SKYPE"),
            Label::RegularSkype => ("1;32", "REGULAR SKYPE"),
            Label::Inconclusive => ("1;33", "INCONCLUSIVE"),
            Label::NoSkype => ("2", "NO SKYPE"),
        };
        let build = match v.build {
            Some(b) => format!(
                ", build {}",
                serde_json::to_value(b)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        writeln!(out)?;
        writeln!(
            out,
            "{}  {}  (confidence {:.2}{build})",
            st.paint("1", &h.address.to_string()),
            st.paint(code, word),
            v.confidence
        )?;
        writeln!(out, "  {}", v.summary)?;
        if !h.evidence.is_empty() {
            writeln!(
                out,
                "  {:<15} {:>6}  {:<24} {:<39} {:<3} what matched (indicator)",
                "evidence", "weight", "first seen", "endpoint", "cc"
            )?;
            for e in h.evidence.iter().take(MAX_ROWS) {
                let what = e.matched.clone().unwrap_or_else(|| e.detail.clone());
                // How the sign was obtained, where it is not the host's plain doing.
                let id = match e.basis {
                    Basis::Request | Basis::Contacted | Basis::Port => {
                        e.indicator.as_deref().unwrap_or("rule").to_owned()
                    }
                    other => format!(
                        "{}; {}",
                        e.indicator.as_deref().unwrap_or("rule"),
                        other.name()
                    ),
                };
                writeln!(
                    out,
                    "  {:<15} {:>6.2}  {:<24} {:<39} {:<3} {} ({id})",
                    e.kind,
                    e.weight,
                    e.first_seen.as_deref().unwrap_or("-"),
                    e.endpoint.as_deref().unwrap_or("(dns query)"),
                    e.country
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into()),
                    truncate(&what, 70),
                )?;
            }
            if h.evidence.len() > MAX_ROWS {
                writeln!(
                    out,
                    "  … {} more in --format json",
                    h.evidence.len() - MAX_ROWS
                )?;
            }
        }
        for e in h
            .endpoints
            .iter()
            .filter(|e| !e.indicators.is_empty() && !e.programs.is_empty())
        {
            writeln!(out, "  program: {} ↔ {}", e.programs.join(", "), e.address)?;
        }
        for a in &h.advisories {
            writeln!(
                out,
                "  {} {} ({})",
                st.paint("33", "advisory:"),
                a.detail,
                a.endpoint
            )?;
        }
        let c = &h.coverage;
        writeln!(
            out,
            "  coverage: {} packets, {} flows, {} endpoints ({} named, {} located), {} DNS names asked; {} to {} ({:.1} s)",
            c.packets, c.flows, c.endpoints, c.named_endpoints, c.located_endpoints, c.dns_queries, c.first_seen, c.last_seen, c.duration_s
        )?;
        for n in &c.notes {
            writeln!(out, "  {} {n}", st.paint("2", "note:"))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "inputs:")?;
    for i in &report.inputs {
        let state = if i.unreadable {
            st.paint("1;31", "UNREADABLE")
        } else {
            format!("{} packets", i.packets)
        };
        writeln!(
            out,
            "  {}  {}{}  {state}",
            i.path,
            i.format,
            if i.gzip { "+gzip" } else { "" }
        )?;
        for (why, n) in &i.decode.skipped {
            writeln!(out, "    skipped {n} packets: {why}")?;
        }
        for p in &i.problems {
            let at = match (p.packet, p.offset) {
                (Some(n), Some(o)) => format!("packet {n}, offset {o}: "),
                (None, Some(o)) => format!("offset {o}: "),
                (Some(n), None) => format!("packet {n}: "),
                (None, None) => String::new(),
            };
            writeln!(out, "    {} {at}{}", st.paint("33", "problem:"), p.detail)?;
        }
    }
    let t = &report.totals;
    let labels: Vec<String> = t
        .labels
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(l, n)| format!("{n} {l}"))
        .collect();
    writeln!(
        out,
        "total: {} hosts ({}), {} packets, {} flows",
        report.hosts.len(),
        if labels.is_empty() {
            "none".to_owned()
        } else {
            labels.join(", ")
        },
        t.packets,
        t.flows
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
