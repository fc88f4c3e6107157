//! Knowledge, indicators: loading. Parses indicator files (tab-separated; the format is in
//! `docs/INDICATORS.md`) into the set, refusing a malformed file whole, with its name, the line
//! and the reason: an unknown role, kind or client, a value that does not parse, a weight
//! outside 0..=1, a duplicate id, a control or format character anywhere (fields end up in
//! exports and on terminals). After each file the match index is rebuilt.

use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;

use super::index::Index;
use super::{Indicator, IndicatorSet, Matcher, Role, Validity, EMBEDDED, EMBEDDED_NAME};

/// Why an indicator file was refused.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    /// The file could not be read.
    #[error("cannot read indicator file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{file}:{line}: {reason}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

impl IndicatorSet {
    /// The shipped set.
    pub fn embedded() -> Result<IndicatorSet, IndicatorError> {
        let mut set = IndicatorSet::default();
        set.add_text(EMBEDDED_NAME, EMBEDDED)?;
        Ok(set)
    }

    /// Adds the indicators of a file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), IndicatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| IndicatorError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.add_text(&path.display().to_string(), &text)
    }

    /// Adds the indicators of `text`, named `file` in errors and origins. On error nothing of
    /// the file is added.
    pub fn add_text(&mut self, file: &str, text: &str) -> Result<(), IndicatorError> {
        let parsed = parse(file, text, &self.indicators)?;
        let mut version = None;
        for (key, value) in parsed.directives {
            match key.as_str() {
                "set" => version = Some(value.replace('\t', " ")),
                _ => {
                    if let Some((k, v)) = value.split_once('\t') {
                        self.sources.insert(k.to_owned(), v.to_owned());
                    }
                }
            }
        }
        self.versions
            .push(version.unwrap_or_else(|| file.to_owned()));
        self.indicators.extend(parsed.indicators);
        self.hasher_input.extend_from_slice(text.as_bytes());
        self.index = Index::new(&self.indicators);
        Ok(())
    }
}

/// One file's directives (`@set`, `@source`) and indicators, before they join the set.
struct Parsed {
    directives: Vec<(String, String)>,
    indicators: Vec<Indicator>,
}

/// The header line of an indicator file.
pub(super) const HEADER: &str =
    "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription";
/// The names the `clients` column may hold.
const CLIENTS: [&str; 4] = ["regular", "tom-en", "tom-cn", "tom"];

fn parse(file: &str, text: &str, existing: &[Indicator]) -> Result<Parsed, IndicatorError> {
    let mut out = Parsed {
        directives: Vec::new(),
        indicators: Vec::new(),
    };
    let mut seen_header = false;
    // A byte-order mark at the start of the file is an editor's, not data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let err = |reason: String| IndicatorError::Syntax {
            file: file.to_owned(),
            line: line_no,
            reason,
        };
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        // Fields end up in exports (Zeek Intel, Suricata rules, CSV) and on terminals: a
        // control, bidi or format character has no business in any of them.
        if let Some((at, c)) = line
            .chars()
            .enumerate()
            .find(|&(_, c)| c != '\t' && crate::textsafe::is_unsafe(c))
        {
            return Err(err(format!(
                "control or format character U+{:04X} at column {} (not allowed in indicator files)",
                u32::from(c),
                at + 1
            )));
        }
        if let Some(rest) = line.strip_prefix('@') {
            let (key, value) = rest
                .split_once('\t')
                .ok_or_else(|| err("a directive needs a tab after its name".into()))?;
            match key {
                "set" | "source" => out.directives.push((key.to_owned(), value.to_owned())),
                other => {
                    return Err(err(format!(
                        "unknown directive @{other} (expected @set or @source)"
                    )))
                }
            }
            if key == "source" && !value.contains('\t') {
                return Err(err(
                    "@source needs a key and a citation, tab-separated".into()
                ));
            }
            continue;
        }
        if line == HEADER {
            seen_header = true;
            continue;
        }
        if !seen_header {
            return Err(err(format!(
                "expected the header line `{}` before the first indicator",
                HEADER.replace('\t', "<TAB>")
            )));
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 9 {
            return Err(err(format!(
                "expected 9 tab-separated columns, found {}",
                fields.len()
            )));
        }
        let ind = parse_row(&fields, &format!("{file}:{line_no}")).map_err(err)?;
        if existing
            .iter()
            .chain(&out.indicators)
            .any(|i| i.id == ind.id)
        {
            return Err(err(format!("duplicate indicator id `{}`", ind.id)));
        }
        out.indicators.push(ind);
    }
    // A source key is not checked against the `@source` lines: one may be defined by a file
    // loaded later, and a match whose key is defined nowhere is shown without a citation.
    Ok(out)
}

fn parse_row(f: &[&str], origin: &str) -> Result<Indicator, String> {
    let id = f[0].trim();
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:/".contains(&b))
    {
        return Err(format!("bad id `{id}`: use letters, digits and - . _ : /"));
    }
    let role = match f[1] {
        "tom" => Role::Tom,
        "tom-web" => Role::TomWeb,
        "skype" => Role::Skype,
        "not-evidence" => Role::NotEvidence,
        other => {
            return Err(format!(
                "unknown role `{other}` (expected tom, tom-web, skype or not-evidence)"
            ))
        }
    };
    let value = f[3].trim();
    let matcher = parse_matcher(f[2], value)?;
    let weight: f64 = f[4]
        .parse()
        .map_err(|_| format!("weight `{}` is not a number", f[4]))?;
    if !(0.0..=1.0).contains(&weight) {
        return Err(format!("weight {weight} is outside 0..1"));
    }
    let clients = if f[5] == "-" {
        Vec::new()
    } else {
        let mut v = Vec::new();
        for c in f[5].split(',') {
            if !CLIENTS.contains(&c) {
                return Err(format!(
                    "unknown client `{c}` (expected regular, tom-en, tom-cn or tom)"
                ));
            }
            v.push(c.to_owned());
        }
        v
    };
    let valid = parse_validity(f[6])?;
    if f[7].trim().is_empty() {
        return Err("the source column is empty".into());
    }
    Ok(Indicator {
        id: id.to_owned(),
        role,
        matcher,
        weight,
        clients,
        valid,
        source: f[7].to_owned(),
        description: f[8].to_owned(),
        origin: origin.to_owned(),
    })
}

fn parse_matcher(kind: &str, value: &str) -> Result<Matcher, String> {
    let bad = |what: &str| format!("bad {kind} value `{value}`: {what}");
    match kind {
        "ip" => value.parse().map(Matcher::Ip).map_err(|_| bad("not an IP address")),
        "net" => value
            .parse::<IpNetwork>()
            .map(Matcher::Net)
            .map_err(|e| bad(&e.to_string())),
        "name" => valid_name(value).map(Matcher::Name).ok_or_else(|| bad("not a DNS name")),
        "http-url" => {
            let (host, path) = value
                .split_once('/')
                .ok_or_else(|| bad("expected HOST/PATH-PREFIX"))?;
            let host = valid_name(host).ok_or_else(|| bad("the host is not a DNS name"))?;
            Ok(Matcher::HttpUrl {
                host,
                path: format!("/{path}"),
            })
        }
        "http-param" => {
            let (host, param) = value
                .split_once('?')
                .ok_or_else(|| bad("expected HOST?PARAMETER"))?;
            let host = valid_name(host).ok_or_else(|| bad("the host is not a DNS name"))?;
            if param.is_empty() || param.contains(['&', '=', ' ']) {
                return Err(bad("the parameter name is empty or has & = or a space"));
            }
            Ok(Matcher::HttpParam {
                host,
                param: param.to_owned(),
            })
        }
        "user-agent" if !value.is_empty() => Ok(Matcher::UserAgent(value.to_owned())),
        "port" => {
            let (p, port) = value.split_once('/').ok_or_else(|| bad("expected tcp/N, udp/N or any/N"))?;
            let proto = match p {
                "tcp" => 6,
                "udp" => 17,
                "any" => 0,
                _ => return Err(bad("the protocol is not tcp, udp or any")),
            };
            let port = port.parse().map_err(|_| bad("not a port number"))?;
            Ok(Matcher::Port { proto, port })
        }
        other => Err(format!(
            "unknown kind `{other}` (expected ip, net, name, http-url, http-param, user-agent or port)"
        )),
    }
}

fn valid_name(s: &str) -> Option<String> {
    let s = s.trim_end_matches('.');
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    ok.then(|| s.to_ascii_lowercase())
}

fn parse_validity(s: &str) -> Result<Validity, String> {
    if s == "-" {
        return Ok(Validity {
            from: None,
            to: None,
        });
    }
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("validity `{s}` is not YEAR-YEAR, YEAR-, -YEAR or -"))?;
    let year = |t: &str| -> Result<Option<i32>, String> {
        if t.is_empty() {
            Ok(None)
        } else {
            t.parse::<i32>()
                .ok()
                .filter(|y| (1990..=2100).contains(y))
                .map(Some)
                .ok_or_else(|| format!("validity `{s}`: `{t}` is not a year"))
        }
    };
    let v = Validity {
        from: year(a)?,
        to: year(b)?,
    };
    if let (Some(a), Some(b)) = (v.from, v.to) {
        if a > b {
            return Err(format!("validity `{s}` ends before it starts"));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> IndicatorSet {
        IndicatorSet::embedded().expect("the shipped set loads")
    }

    #[test]
    fn shipped_set_loads_with_sources_for_every_indicator() {
        let s = set();
        assert!(s.indicators.len() > 50);
        for i in &s.indicators {
            assert!(
                s.sources.contains_key(&i.source),
                "{} names unknown source {}",
                i.id,
                i.source
            );
        }
        // Every China row of the 2012 table is a TOM indicator.
        let tom_servers = s
            .indicators
            .iter()
            .filter(|i| i.id.starts_with("tom-server-"))
            .count();
        assert_eq!(tom_servers, 20);
        assert_eq!(s.info().count, s.indicators.len());
        assert_eq!(s.info().sha256.len(), 64);
    }

    fn load(text: &str) -> Result<IndicatorSet, IndicatorError> {
        let mut s = IndicatorSet::default();
        s.add_text("user.tsv", text).map(|_| s)
    }

    #[test]
    fn malformed_files_are_refused_with_line_and_reason() {
        let head = format!("@source\tme\tmy notes\n{HEADER}\n");
        let cases = [
            ("x\ttom\tip\t1.2.3.4\t0.5\ttom\t-\tme\td", "expected the header"),
            (&*format!("{head}a\ttom\tip\t1.2.3.4\t0.5\ttom\t-\tme"), "expected 9"),
            (&*format!("{head}a\tevil\tip\t1.2.3.4\t0.5\ttom\t-\tme\td"), "unknown role"),
            (&*format!("{head}a\ttom\tip\t1.2.3\t0.5\ttom\t-\tme\td"), "not an IP"),
            (&*format!("{head}a\ttom\tnet\t1.2.3.0/33\t0.5\ttom\t-\tme\td"), "bad net"),
            (&*format!("{head}a\ttom\tip\t1.2.3.4\t1.5\ttom\t-\tme\td"), "outside 0..1"),
            (&*format!("{head}a\ttom\tip\t1.2.3.4\tx\ttom\t-\tme\td"), "not a number"),
            (&*format!("{head}a\ttom\tip\t1.2.3.4\t0.5\tsomeone\t-\tme\td"), "unknown client"),
            (&*format!("{head}a\ttom\tip\t1.2.3.4\t0.5\ttom\t2013-2008\tme\td"), "ends before"),
            (&*format!("{head}a\ttom\tport\tsctp/1\t0.5\ttom\t-\tme\td"), "protocol"),
            (&*format!("{head}a\ttom\tname\tbad name\t0.5\ttom\t-\tme\td"), "not a DNS name"),
            (&*format!("{head}@frob\tx\n"), "unknown directive"),
            (&*format!("{head}tom-server-1.2.3.4\ttom\tip\t1.2.3.4\t0.5\ttom\t-\tme\td\ntom-server-1.2.3.4\ttom\tip\t1.2.3.5\t0.5\ttom\t-\tme\td"), "duplicate"),
        ];
        for (text, want) in cases {
            let e = load(text).expect_err(text).to_string();
            assert!(e.starts_with("user.tsv:"), "{e}");
            assert!(e.contains(want), "{e} should say {want}");
        }
        let e = load(&format!(
            "{head}\n\na\tevil\tip\t1.2.3.4\t0.5\ttom\t-\tme\td"
        ))
        .unwrap_err();
        assert!(e.to_string().starts_with("user.tsv:5:"), "{e}");
        for bad in ["\x1b[2J", "\u{202e}", "\u{2028}", "\u{7f}", "\r"] {
            let e = load(&format!(
                "{head}a\ttom\tip\t1.2.3.4\t0.5\ttom\t-\tme\tdesc{bad}x"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("user.tsv:3: control or format character U+"),
                "{e}"
            );
        }
        // A byte-order mark at the start is allowed.
        assert!(load(&format!(
            "\u{feff}{head}a\ttom\tip\t1.2.3.4\t0.5\ttom\t-\tme\td"
        ))
        .is_ok());
    }

    #[test]
    fn user_file_adds_to_the_shipped_set() {
        let mut s = set();
        let before = s.indicators.len();
        let text = format!("@set\tlab\t1\n@source\tlab\tour lab\n{HEADER}\nlab-1\ttom\tip\t192.0.2.7\t0.9\ttom\t-\tlab\ttest server\n");
        s.add_text("lab.tsv", &text).unwrap();
        assert_eq!(s.indicators.len(), before + 1);
        assert_eq!(s.match_addr("192.0.2.7".parse().unwrap()).count(), 1);
        assert_eq!(s.info().versions.last().unwrap(), "lab 1");
        // Re-adding the shipped ids is refused.
        assert!(s.add_text("again.tsv", EMBEDDED).is_err());
    }
}
