//! `tomskype lookup`: what the knowledge base says about an address, a DNS name or a URL, without
//! any traffic: for an address its country and special-purpose range, and for each the
//! indicators it matches, with what they mean and their published source. Nothing is resolved
//! or fetched: a name is looked up as a name (its addresses would need DNS, which would leave
//! the machine).
//!
//! JSON (`--format json`) is versioned: schema [`SCHEMA`], documented in `docs/REPORT.md`.

use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;

use crate::addr;
use crate::knowledge::geoip::{Country, GeoIp};
use crate::knowledge::indicators::{Indicator, IndicatorSet, Role};
use crate::report::schema::{self, json};

/// Version of the JSON of `tomskype lookup`.
pub const SCHEMA: &str = "tomskype-lookup/1";

/// What was asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryKind {
    /// An IPv4 or IPv6 address.
    Address,
    /// A DNS name.
    Name,
    /// An HTTP URL (`http://host/path?query`; `https://` and no scheme with a path too).
    Url,
}

/// What is known of one address, name or URL.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// What was asked, as given.
    pub query: String,
    /// What it was read as.
    pub kind: QueryKind,
    /// For an address: its country (never for special-purpose addresses).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "json")]
    pub country: Option<Country>,
    /// For an address: its special-purpose range, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special: Option<&'static str>,
    /// Indicators it matches.
    pub indicators: Vec<IndicatorRef>,
}

/// An indicator that matched.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRef {
    /// Its id.
    pub id: String,
    /// `tom`, `tom-web`, `skype` or `not-evidence`.
    #[serde(serialize_with = "json")]
    pub role: Role,
    /// What it matches, in words.
    pub matches: String,
    /// Its weight.
    pub weight: f64,
    /// When it means what it says: `always`, `2008-2013`, `from 2010`, `until 2013`.
    pub valid: String,
    /// Its source key.
    pub source: String,
    /// The source's citation.
    pub citation: String,
    /// What it is.
    pub description: String,
}

/// The JSON document of `tomskype lookup`.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// One answer per query, in the order given.
    pub answers: Vec<Answer>,
}

fn reference(i: &Indicator, set: &IndicatorSet) -> IndicatorRef {
    IndicatorRef {
        id: i.id.clone(),
        role: i.role,
        matches: i.matcher.to_string(),
        weight: i.weight,
        valid: i.valid.to_string(),
        source: i.source.clone(),
        citation: set.sources.get(&i.source).cloned().unwrap_or_default(),
        description: i.description.clone(),
    }
}

/// Splits a URL into its host and its path and query (`/` when absent); None when `q` has no
/// scheme and no path (then it is a name).
fn url_parts(q: &str) -> Option<(String, String)> {
    let rest = crate::decode::http::without_scheme(q).or_else(|| q.contains('/').then_some(q))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => (rest.get(..at)?, rest.get(at..)?),
        None => (rest, "/"),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    Some((host, path))
}

/// Looks up each query: an address, a URL, or else a name.
pub fn lookup(queries: &[String], geoip: &GeoIp, set: &IndicatorSet) -> Lookup {
    let answers = queries
        .iter()
        .map(|q| {
            let q = q.trim();
            if let Ok(a) = q.trim_matches(['[', ']']).parse::<IpAddr>() {
                return Answer {
                    query: q.to_owned(),
                    kind: QueryKind::Address,
                    country: geoip.country(a),
                    special: addr::special_range(a).map(schema::special_range),
                    indicators: set.match_addr(a).map(|i| reference(i, set)).collect(),
                };
            }
            let (kind, matched): (QueryKind, Vec<&Indicator>) = match url_parts(q) {
                Some((host, path)) => {
                    let mut m = set.match_http(Some(&host), &path, None);
                    for i in set.match_name(&host) {
                        if !m.iter().any(|x| x.id == i.id) {
                            m.push(i);
                        }
                    }
                    (QueryKind::Url, m)
                }
                None => (QueryKind::Name, set.match_name(q)),
            };
            Answer {
                query: q.to_owned(),
                kind,
                country: None,
                special: None,
                indicators: matched.into_iter().map(|i| reference(i, set)).collect(),
            }
        })
        .collect();
    Lookup {
        schema: SCHEMA,
        answers,
    }
}

/// Writes the answers for people. Text from the command line goes through
/// [`crate::textsafe::safe`].
pub fn write_text(lookup: &Lookup, out: &mut dyn Write) -> io::Result<()> {
    use crate::textsafe::safe;
    for (n, a) in lookup.answers.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let what = match a.kind {
            QueryKind::Address => {
                let mut w = String::from("address");
                if let Some(c) = a.country {
                    w.push_str(&format!(
                        ", located in {}",
                        crate::report::world::country_name(
                            &c.to_string(),
                            crate::report::lang::Lang::En
                        )
                    ));
                }
                if let Some(s) = a.special {
                    w.push_str(&format!(", special-purpose range: {s} (never located)"));
                }
                w
            }
            QueryKind::Name => "DNS name (not resolved: nothing leaves this machine)".to_owned(),
            QueryKind::Url => "web address (not fetched)".to_owned(),
        };
        writeln!(out, "{}: {what}", safe(&a.query))?;
        if a.indicators.is_empty() {
            writeln!(
                out,
                "  nothing known about it: not a sign of TOM-Skype or Skype"
            )?;
        }
        for r in &a.indicators {
            writeln!(out, "  {}: {}", r.role.meaning(), safe(&r.description))?;
            let when = if r.valid == "always" {
                String::new()
            } else {
                format!(", only in {}", r.valid)
            };
            writeln!(
                out,
                "    matches {} · weight {}{when} · indicator {}",
                safe(&r.matches),
                r.weight,
                safe(&r.id)
            )?;
            writeln!(out, "    source: {}", safe(&r.citation))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_names_and_urls() {
        let set = IndicatorSet::embedded().unwrap();
        let geoip = GeoIp::embedded().unwrap();
        let q: Vec<String> = [
            "211.100.41.76",
            "skypetools.tom.com",
            "http://skypetools.tom.com/agent/keyfile_u",
            "skype.tom.com/download/",
            "www.example.com",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let l = lookup(&q, &geoip, &set);
        let ids = |n: usize| -> Vec<&str> {
            l.answers[n]
                .indicators
                .iter()
                .map(|r| r.id.as_str())
                .collect()
        };
        assert_eq!(l.answers[0].kind, QueryKind::Address);
        assert_eq!(l.answers[0].country, Country::parse("CN"));
        assert!(ids(0).contains(&"tom-server-211.100.41.76"));
        assert_eq!(l.answers[1].kind, QueryKind::Name);
        assert_eq!(ids(1), vec!["tom-name-skypetools"]);
        assert_eq!(l.answers[2].kind, QueryKind::Url);
        assert!(ids(2).contains(&"tom-url-keyfile-u") && ids(2).contains(&"tom-name-skypetools"));
        assert!(ids(3).contains(&"tom-url-installer"));
        assert!(l.answers[4].indicators.is_empty());
        let mut text = Vec::new();
        write_text(&l, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("a sign of TOM-Skype") && !text.contains("Tom,"),
            "{text}"
        );
        assert!(text.contains("Nart Villeneuve"), "{text}");
    }

    #[test]
    fn url_parts_read_scheme_port_and_query() {
        assert_eq!(
            url_parts("HTTP://User@Skype.TOM.com:80?skype_id=x"),
            Some(("skype.tom.com".into(), "/?skype_id=x".into()))
        );
        assert_eq!(url_parts("skype.tom.com"), None);
    }
}
