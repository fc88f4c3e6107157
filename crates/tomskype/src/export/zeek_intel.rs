//! Export, Zeek Intel: the indicator set as a file for Zeek's Intelligence Framework
//! (`redef Intel::read_files += { "tomskype.intel" };` with `@load frameworks/intel/seen`).
//! The input framework wants the `#fields` line first, tab-separated columns and `-` for an
//! unset field. Kinds: `ip` → `Intel::ADDR`, `net` → `Intel::SUBNET`, `name` →
//! `Intel::DOMAIN`, `http-url` → `Intel::URL` (written `host/path`, without a scheme, as
//! `HTTP::build_url` gives it), `user-agent` → `Intel::SOFTWARE` (what the `seen` scripts
//! report for User-Agent headers). Query parameters and ports have no Intel type: they are
//! left out and listed in a comment. Only `tom` and `skype` indicators are written.

use std::io::{self, Write};

use crate::knowledge::indicators::{Indicator, IndicatorSet, Matcher, Role};

/// The header line.
pub const FIELDS: &str = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url";

/// The Intel type and value of an indicator, or None when Zeek Intel cannot express it.
pub fn intel_item(m: &Matcher) -> Option<(&'static str, String)> {
    match m {
        Matcher::Ip(ip) => Some(("Intel::ADDR", ip.to_string())),
        Matcher::Net(n) => Some(("Intel::SUBNET", n.to_string())),
        Matcher::Name(n) => Some(("Intel::DOMAIN", n.clone())),
        Matcher::HttpUrl { host, path } => Some(("Intel::URL", format!("{host}{path}"))),
        Matcher::UserAgent(ua) => Some(("Intel::SOFTWARE", ua.clone())),
        Matcher::HttpParam { .. } | Matcher::Port { .. } => None,
    }
}

/// Text for a `#` comment line: control, format and line-separator characters escaped
/// ([`crate::textsafe::safe`]), so no text can end the comment and start a line of its own.
pub fn comment(s: &str) -> std::borrow::Cow<'_, str> {
    crate::textsafe::safe(s)
}

/// A field value safe for the input framework: no tabs, line breaks or other control and
/// format characters (each becomes a space), `-` when empty.
fn field(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if crate::textsafe::is_unsafe(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let s = s.trim();
    if s.is_empty() {
        "-".into()
    } else {
        s.to_owned()
    }
}

/// The first `http://` or `https://` address in a source's citation, if any.
pub fn source_url(set: &IndicatorSet, key: &str) -> Option<String> {
    let cite = set.sources.get(key)?;
    let at = cite.find("https://").or_else(|| cite.find("http://"))?;
    let url: String = cite
        .get(at..)?
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ';' | ')' | '"'))
        .collect();
    Some(url)
}

/// Whether an indicator is exported at all (notes are not evidence, and neither is a visit to
/// TOM's web pages: an engine would alert on every browser that opens them).
pub fn exported(i: &Indicator) -> bool {
    matches!(i.role, Role::Tom | Role::Skype)
}

/// The role's name as in indicator files.
pub fn role_name(r: Role) -> &'static str {
    r.name()
}

/// Writes the Intel file.
pub fn write(set: &IndicatorSet, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{FIELDS}")?;
    let info = set.info();
    writeln!(
        out,
        "# tomskype indicator set {} (sha256 {}): Zeek Intel file",
        comment(&info.versions.join(" + ")),
        info.sha256
    )?;
    writeln!(
        out,
        "# Intel::URL and Intel::DOMAIN match the whole URL or name as seen: a path prefix matches only a request for exactly that path, a name not the names under it"
    )?;
    let skipped: Vec<&Indicator> = set
        .indicators
        .iter()
        .filter(|i| exported(i) && intel_item(&i.matcher).is_none())
        .collect();
    if !skipped.is_empty() {
        writeln!(
            out,
            "# not expressible as Zeek Intel (query parameters, ports), left out: {}",
            comment(
                &skipped
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        )?;
    }
    for i in set.indicators.iter().filter(|i| exported(i)) {
        let Some((kind, value)) = intel_item(&i.matcher) else {
            continue;
        };
        let desc = format!(
            "{}: {} (weight {}, valid {})",
            role_name(i.role),
            i.description,
            i.weight,
            i.valid
        );
        writeln!(
            out,
            "{}\t{kind}\t{}\t{}\t{}",
            field(&value),
            field(&format!("tomskype:{}", i.id)),
            field(&desc),
            field(&source_url(set, &i.source).unwrap_or_default())
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_set_as_intel() {
        let set = IndicatorSet::embedded().unwrap();
        let mut out = Vec::new();
        write(&set, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(FIELDS));
        let rows: Vec<Vec<&str>> = lines
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split('\t').collect())
            .collect();
        assert!(rows
            .iter()
            .all(|r| r.len() == 5 && r.iter().all(|f| !f.is_empty())));
        let find = |v: &str| rows.iter().find(|r| r[0] == v).cloned();
        assert_eq!(find("skype.tom.com").unwrap()[1], "Intel::DOMAIN");
        assert_eq!(
            find("skypetools1.tom.com/en_return_time.php").unwrap()[1],
            "Intel::URL"
        );
        assert_eq!(
            find("Mozilla/3.0 (compatible; Indy Library)").unwrap()[1],
            "Intel::SOFTWARE"
        );
        assert!(find("211.100.40.0/23").is_some_and(|r| r[1] == "Intel::SUBNET"));
        let ports = set
            .indicators
            .iter()
            .filter(|i| matches!(i.matcher, Matcher::Port { .. }))
            .count();
        let expressible = set
            .indicators
            .iter()
            .filter(|i| exported(i) && intel_item(&i.matcher).is_some())
            .count();
        assert_eq!(rows.len(), expressible);
        assert!(ports > 0 && text.contains("left out: ") && text.contains("skype-port-tcp-9010"));
        assert!(rows.iter().all(|r| r[2].starts_with("tomskype:")));
    }

    #[test]
    fn fields_never_hold_tabs_or_nothing() {
        assert_eq!(field("a\tb\nc"), "a b c");
        assert_eq!(field(""), "-");
        assert_eq!(field("  "), "-");
    }
}
