//! Export, CSV: one indicator a line under the header
//! `id,role,kind,value,weight,clients,valid,source,description`, with RFC 4180 quoting (a
//! field with a comma, quote or line break is quoted, quotes doubled). Values are written as
//! in indicator files (`host/path`, `host?param`, `tcp/9010`), so the file round-trips, except
//! that a cell a spreadsheet would run as a formula (one that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return, and is neither a number nor a lone `-`) is neutralised as OWASP
//! recommends: a single quote is put in front and the cell is quoted.

use std::io::{self, Write};

use crate::knowledge::indicators::{IndicatorSet, Matcher, Validity};

use super::zeek_intel::role_name;

/// The header line.
pub const HEADER: &str = "id,role,kind,value,weight,clients,valid,source,description";

/// The kind and value of a matcher, as an indicator file writes them.
pub fn kind_value(m: &Matcher) -> (&'static str, String) {
    match m {
        Matcher::Ip(ip) => ("ip", ip.to_string()),
        Matcher::Net(n) => ("net", n.to_string()),
        Matcher::Name(n) => ("name", n.clone()),
        Matcher::HttpUrl { host, path } => ("http-url", format!("{host}{path}")),
        Matcher::HttpParam { host, param } => ("http-param", format!("{host}?{param}")),
        Matcher::UserAgent(ua) => ("user-agent", ua.clone()),
        Matcher::Port { proto, port } => {
            let p = match proto {
                6 => "tcp",
                17 => "udp",
                _ => "any",
            };
            ("port", format!("{p}/{port}"))
        }
    }
}

/// A validity as an indicator file writes it: `-`, `2006-2016`, `2006-`, `-2016`.
pub fn validity(v: &Validity) -> String {
    match (v.from, v.to) {
        (None, None) => "-".into(),
        (a, b) => format!(
            "{}-{}",
            a.map(|y| y.to_string()).unwrap_or_default(),
            b.map(|y| y.to_string()).unwrap_or_default()
        ),
    }
}

/// Whether a spreadsheet would take the cell for a formula (OWASP "CSV injection"): it starts
/// with `=`, `+`, `-`, `@`, tab or CR and is not a plain number (`-2016`) or a lone `-`.
pub fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s != "-" && s.parse::<f64>().is_err()
}

/// One CSV cell: a formula-like one neutralised ([`formula_like`]: a leading `'`, quoted), any
/// other quoted when it needs to be ([`quote`]).
pub fn cell(s: &str) -> String {
    if formula_like(s) {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else {
        quote(s)
    }
}

/// One CSV field, quoted when it needs to be.
pub fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Writes the CSV (every indicator, notes included: the role column tells them apart).
pub fn write(set: &IndicatorSet, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for i in &set.indicators {
        let (kind, value) = kind_value(&i.matcher);
        let clients = if i.clients.is_empty() {
            "-".to_owned()
        } else {
            i.clients.join(",")
        };
        let fields = [
            i.id.clone(),
            role_name(i.role).to_owned(),
            kind.to_owned(),
            value,
            i.weight.to_string(),
            clients,
            validity(&i.valid),
            i.source.clone(),
            i.description.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| cell(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small RFC 4180 reader, for the round trip.
    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        rows
    }

    #[test]
    fn round_trips_through_an_indicator_file() {
        let set = IndicatorSet::embedded().unwrap();
        let mut out = Vec::new();
        write(&set, &mut out).unwrap();
        let rows = parse_csv(&String::from_utf8(out).unwrap());
        assert_eq!(rows[0].join(","), HEADER);
        assert_eq!(rows.len(), set.indicators.len() + 1);
        // Rebuild an indicator file from the CSV and load it: the same indicators come back.
        let mut tsv = String::new();
        for (k, v) in &set.sources {
            tsv.push_str(&format!("@source\t{k}\t{v}\n"));
        }
        tsv.push_str(&HEADER.replace(',', "\t"));
        tsv.push('\n');
        for r in &rows[1..] {
            assert_eq!(r.len(), 9);
            tsv.push_str(&r.join("\t"));
            tsv.push('\n');
        }
        let mut back = IndicatorSet::default();
        back.add_text("csv", &tsv).unwrap();
        assert_eq!(back.indicators.len(), set.indicators.len());
        for (a, b) in set.indicators.iter().zip(&back.indicators) {
            assert_eq!(
                (
                    &a.id,
                    &a.matcher,
                    a.weight,
                    &a.clients,
                    a.valid,
                    &a.description
                ),
                (
                    &b.id,
                    &b.matcher,
                    b.weight,
                    &b.clients,
                    b.valid,
                    &b.description
                )
            );
        }
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\r=x",
            "-x",
        ] {
            let c = cell(bad);
            assert!(c.starts_with("\"'"), "{bad:?} gave {c:?}");
            let rows = parse_csv(&format!("{c}\n"));
            assert_eq!(rows, vec![vec![format!("'{bad}")]]);
        }
        for fine in ["-", "-2016", "2006-", "0.5", "tom", "a=b"] {
            assert_eq!(cell(fine), fine);
        }
        assert_eq!(cell("=\"q\""), "\"'=\"\"q\"\"\"");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
