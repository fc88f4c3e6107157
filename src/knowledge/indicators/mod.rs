//! Knowledge: the indicator set. What is known about TOM-Skype and regular Skype on the
//! wire is data, not code: a tab-separated file (format in `docs/INDICATORS.md`) shipped in
//! `data/indicators/tomskype.tsv` and compiled in, plus any files the user adds. This module
//! loads and checks those files (a malformed one is refused with file, line and reason) and
//! answers "which indicators does this address / name / request / port match".
//!
//! It does not weigh evidence or decide anything: that is `classify`'s work.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ipnetwork::IpNetwork;
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::flow::Watch;

/// The shipped indicator set.
pub const EMBEDDED: &str = include_str!("../../../data/indicators/tomskype.tsv");
/// How the shipped set is named in reports and errors.
pub const EMBEDDED_NAME: &str = "<embedded>/data/indicators/tomskype.tsv";

/// What a match means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Seen only from TOM-Skype builds.
    Tom,
    /// A web page of TOM's Skype service (download site, button scripts): a browser visiting
    /// it is not the client running, so a match is shown as a visit, not counted.
    TomWeb,
    /// A sign that Skype (of either kind) is in use.
    Skype,
    /// Known not to be evidence (e.g. a forged DNS answer); shown as a note.
    NotEvidence,
}

/// What an indicator is matched against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Matcher {
    /// One address.
    Ip(IpAddr),
    /// A network.
    Net(IpNetwork),
    /// A DNS name and every name under it.
    Name(String),
    /// An HTTP request whose host is (under) `host` and whose path starts with `path`.
    HttpUrl {
        /// Host name (matches itself and names under it).
        host: String,
        /// Path prefix, starting with '/'.
        path: String,
    },
    /// An HTTP request to (a name under) `host` whose query has the parameter `param`.
    HttpParam {
        /// Host name suffix.
        host: String,
        /// Query parameter name.
        param: String,
    },
    /// An HTTP User-Agent, exactly.
    UserAgent(String),
    /// A remote port; `proto` is 6, 17 or 0 (either).
    Port {
        /// IP protocol number, or 0 for TCP and UDP.
        proto: u8,
        /// Port number.
        port: u16,
    },
}

impl fmt::Display for Matcher {
    /// What the indicator matches, in people's words (as `tomskype indicators` and `lookup`
    /// show it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Ip(a) => write!(f, "{a}"),
            Matcher::Net(n) => write!(f, "{n}"),
            Matcher::Name(n) => write!(f, "{n} (and names under it)"),
            Matcher::HttpUrl { host, path } => write!(f, "http://{host}{path}…"),
            Matcher::HttpParam { host, param } => {
                write!(f, "a request to *.{host} with ?{param}=")
            }
            Matcher::UserAgent(ua) => write!(f, "User-Agent \"{ua}\""),
            Matcher::Port { proto, port } => match proto {
                6 => write!(f, "tcp/{port}"),
                17 => write!(f, "udp/{port}"),
                _ => write!(f, "tcp or udp /{port}"),
            },
        }
    }
}

impl Role {
    /// Stable name, as in indicator files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Role::Tom => "tom",
            Role::TomWeb => "tom-web",
            Role::Skype => "skype",
            Role::NotEvidence => "not-evidence",
        }
    }

    /// What a match means, in people's words.
    pub fn meaning(self) -> &'static str {
        match self {
            Role::Tom => "a sign of TOM-Skype",
            Role::TomWeb => "a page of TOM's Skype web site (a browser's visit, not counted)",
            Role::Skype => "a sign of Skype, either build",
            Role::NotEvidence => "known not to be evidence",
        }
    }
}

/// A range of years, inclusive, in which an indicator means what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Validity {
    /// First year, if bounded.
    pub from: Option<i32>,
    /// Last year, if bounded.
    pub to: Option<i32>,
}

impl Validity {
    /// Whether `year` is inside the range.
    pub fn contains(&self, year: i32) -> bool {
        self.from.is_none_or(|f| year >= f) && self.to.is_none_or(|t| year <= t)
    }

    /// True when the range has no bounds.
    pub fn is_always(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.to) {
            (None, None) => write!(f, "always"),
            (Some(a), Some(b)) => write!(f, "{a}-{b}"),
            (Some(a), None) => write!(f, "from {a}"),
            (None, Some(b)) => write!(f, "until {b}"),
        }
    }
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Unique id.
    pub id: String,
    /// What a match means.
    pub role: Role,
    /// What it matches.
    #[serde(flatten)]
    pub matcher: Matcher,
    /// Weight of a match as evidence, 0..=1.
    pub weight: f64,
    /// Clients it was seen from: `regular`, `tom-en`, `tom-cn`, `tom` (a TOM build, which one
    /// unknown). Empty when unknown.
    pub clients: Vec<String>,
    /// Years in which it means what it says.
    pub valid: Validity,
    /// Key of its source (see [`IndicatorSet::sources`]).
    pub source: String,
    /// What it is, for people.
    pub description: String,
    /// The file and line it came from.
    pub origin: String,
}

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

/// The loaded indicators, with their sources and a fingerprint of the files they came from.
#[derive(Debug, Clone, Default)]
pub struct IndicatorSet {
    /// Every indicator, in file order.
    pub indicators: Vec<Indicator>,
    /// Source key → citation.
    pub sources: BTreeMap<String, String>,
    /// `name version` of each loaded file's `@set` line (or the file name).
    pub versions: Vec<String>,
    hasher_input: Vec<u8>,
    /// Name indicators by name: position in `indicators`, in file order. Rebuilt by
    /// [`IndicatorSet::add_text`]; a report looks up every name of every endpoint and query.
    by_name: FxHashMap<String, Vec<usize>>,
    /// Bit `p` set when some port indicator names port `p`: most ports have none, and a host
    /// can open flows to thousands of remote ports.
    ports: Vec<u64>,
}

/// Identity of a loaded indicator set, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetInfo {
    /// `name version` of each file loaded.
    pub versions: Vec<String>,
    /// SHA-256 of the loaded files' bytes, in load order.
    pub sha256: String,
    /// Number of indicators.
    pub count: usize,
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
        self.by_name.clear();
        self.ports = vec![0; (1 << 16) / 64];
        for (at, ind) in self.indicators.iter().enumerate() {
            match &ind.matcher {
                Matcher::Name(n) => self.by_name.entry(n.clone()).or_default().push(at),
                &Matcher::Port { port, .. } => {
                    self.ports[usize::from(port / 64)] |= 1 << (port % 64);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Identity of the set.
    pub fn info(&self) -> SetInfo {
        let digest = Sha256::digest(&self.hasher_input);
        SetInfo {
            versions: self.versions.clone(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            count: self.indicators.len(),
        }
    }

    /// Indicators matching an address.
    pub fn match_addr(&self, ip: IpAddr) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().filter(move |i| match &i.matcher {
            Matcher::Ip(a) => *a == ip,
            Matcher::Net(n) => n.contains(ip),
            _ => false,
        })
    }

    /// The one address indicator that speaks for `ip`: of those matching it, the most
    /// specific (an `ip` before any `net`, a longer prefix before a shorter one; the first in
    /// file order among equals). One address is one server, however many ranges hold it.
    pub fn match_addr_most_specific(&self, ip: IpAddr) -> Option<&Indicator> {
        let prefix = |i: &Indicator| match &i.matcher {
            Matcher::Ip(_) => 129,
            Matcher::Net(n) => n.prefix(),
            _ => 0,
        };
        let mut best: Option<&Indicator> = None;
        for i in self.match_addr(ip) {
            if best.is_none_or(|b| prefix(i) > prefix(b)) {
                best = Some(i);
            }
        }
        best
    }

    /// Indicators matching a DNS name (also the host of an HTTP request or a TLS name): those
    /// whose name is `name` or a parent of it (see [`name_under`]), in file order.
    pub fn match_name(&self, name: &str) -> Vec<&Indicator> {
        self.name_positions(name)
            .into_iter()
            .filter_map(|i| self.indicators.get(i))
            .collect()
    }

    /// Positions in `indicators` of the indicators [`IndicatorSet::match_name`] returns.
    fn name_positions(&self, name: &str) -> Vec<usize> {
        if self.by_name.is_empty() {
            return Vec::new();
        }
        // Indicator names are lowercase ASCII without a trailing dot; look up `name` and each
        // of its parents, cut at the dots, in the same form.
        let name = name.trim_end_matches('.');
        let lower: std::borrow::Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            name.to_ascii_lowercase().into()
        } else {
            name.into()
        };
        let parents = std::iter::once(0).chain(lower.match_indices('.').map(|(at, _)| at + 1));
        let mut at: Vec<usize> = parents
            .filter_map(|from| lower.get(from..))
            .filter_map(|suffix| self.by_name.get(suffix))
            .flatten()
            .copied()
            .collect();
        at.sort_unstable();
        at.dedup();
        at
    }

    /// Indicators matching an HTTP request (URL, query parameter, User-Agent).
    pub fn match_http(
        &self,
        host: Option<&str>,
        target: &str,
        user_agent: Option<&str>,
    ) -> Vec<&Indicator> {
        self.http_positions(host, target, user_agent)
            .filter_map(|at| self.indicators.get(at))
            .collect()
    }

    /// Positions in `indicators` of the indicators [`IndicatorSet::match_http`] returns.
    fn http_positions<'a>(
        &'a self,
        host: Option<&'a str>,
        target: &'a str,
        user_agent: Option<&'a str>,
    ) -> impl Iterator<Item = usize> + 'a {
        let (req_host, path) = split_target(host, target);
        self.indicators
            .iter()
            .enumerate()
            .filter(move |(_, i)| match &i.matcher {
                Matcher::HttpUrl { host: h, path: p } => {
                    req_host.is_some_and(|rh| name_under(rh, h)) && path.starts_with(p.as_str())
                }
                Matcher::HttpParam { host: h, param } => {
                    req_host.is_some_and(|rh| name_under(rh, h)) && has_param(path, param)
                }
                Matcher::UserAgent(ua) => user_agent == Some(ua.as_str()),
                _ => false,
            })
            .map(|(at, _)| at)
    }

    /// The set as a [`Watch`] for the flow stage: names and requests that some indicator
    /// matches are kept past the flow table's bounds (a copy of the set, shared by workers).
    pub fn watch(&self) -> Arc<dyn Watch> {
        Arc::new(self.clone())
    }

    /// Whether some port indicator names `port` (for any protocol): when not, no flow to it
    /// can match one.
    pub fn names_port(&self, port: u16) -> bool {
        self.ports
            .get(usize::from(port / 64))
            .is_some_and(|w| w & 1 << (port % 64) != 0)
    }

    /// Indicators matching a remote port.
    pub fn match_port(&self, proto: u8, port: u16) -> impl Iterator<Item = &Indicator> {
        let candidates = if self.names_port(port) {
            &self.indicators[..]
        } else {
            &[]
        };
        candidates.iter().filter(move |i| match i.matcher {
            Matcher::Port { proto: p, port: q } => q == port && (p == 0 || p == proto),
            _ => false,
        })
    }
}

/// Watch groups are indicator positions: one name per matching indicator is kept past a bound.
impl Watch for IndicatorSet {
    fn watch_name(&self, name: &str) -> Option<u32> {
        let at = self.name_positions(name).into_iter().next()?;
        u32::try_from(at).ok()
    }

    fn watch_request(
        &self,
        host: Option<&str>,
        target: &str,
        user_agent: Option<&str>,
    ) -> Option<u32> {
        let at = self
            .http_positions(host, target, user_agent)
            .next()
            .or_else(|| host.and_then(|h| self.name_positions(h).into_iter().next()))?;
        u32::try_from(at).ok()
    }
}

/// True when `name` is `parent` or a name under it (at a label boundary), ignoring case and a
/// trailing dot.
pub fn name_under(name: &str, parent: &str) -> bool {
    // Compared as bytes: a name from the wire (an HTTP Host) may hold non-ASCII characters,
    // and slicing the `str` at `n - p` could then cut one in two (a panic).
    let name = name.trim_end_matches('.').as_bytes();
    let Some(start) = name.len().checked_sub(parent.len()) else {
        return false;
    };
    if !name
        .get(start..)
        .is_some_and(|tail| tail.eq_ignore_ascii_case(parent.as_bytes()))
    {
        return false;
    }
    start == 0 || name.get(start - 1) == Some(&b'.')
}

/// The host and the path+query of a request, from its Host and its target (which may be in
/// absolute form, as sent to proxies).
fn split_target<'a>(host: Option<&'a str>, target: &'a str) -> (Option<&'a str>, &'a str) {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            let (h, path) = match rest.find('/') {
                Some(at) => (&rest[..at], &rest[at..]),
                None => (rest, "/"),
            };
            let h = h.rsplit_once(':').map_or(h, |(h, _)| h);
            return (host.or(Some(h)), path);
        }
    }
    (host, target)
}

fn has_param(path: &str, param: &str) -> bool {
    let Some((_, query)) = path.split_once('?') else {
        return false;
    };
    query.split('&').any(|kv| {
        kv.split('=')
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(param))
    })
}

struct Parsed {
    directives: Vec<(String, String)>,
    indicators: Vec<Indicator>,
}

const HEADER: &str = "id\trole\tkind\tvalue\tweight\tclients\tvalid\tsource\tdescription";
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
    // Every source named must be defined somewhere in this file or before.
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

    #[test]
    fn non_ascii_names_do_not_panic() {
        // Found by fuzzing (fuzz/RESULTS.md): `é` straddles the byte where `skype.com` would
        // start, and slicing the str there panicked. An HTTP Host can carry such a name.
        assert!(!name_under("\u{e9}kype.com", "skype.com"));
        assert!(!name_under("\u{7c6}kype.tom.com", "skype.tom.com"));
        assert!(name_under("\u{e9}.skype.com", "skype.com"));
        assert!(set().match_name("\u{e9}kype.com").is_empty());
        assert!(set()
            .match_http(Some("\u{e9}kypetools.tom.com"), "/agent/keyfile_u", None)
            .is_empty());
    }

    #[test]
    fn names_match_at_label_boundaries() {
        assert!(name_under("download.skype.tom.com", "skype.tom.com"));
        assert!(name_under("SKYPE.TOM.COM.", "skype.tom.com"));
        assert!(!name_under("notskype.tom.com", "skype.tom.com"));
        assert!(!name_under("tom.com", "skype.tom.com"));
        let s = set();
        let ids: Vec<_> = s
            .match_name("skypetools.tom.com")
            .into_iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(ids, ["tom-name-skypetools"]);
        assert!(s.match_name("www.tom.com").is_empty());
        assert!(s
            .match_name("ui.skype.com")
            .iter()
            .all(|i| i.role == Role::Skype));
    }

    #[test]
    fn http_requests_match_urls_and_params() {
        let s = set();
        let ids: Vec<_> = s
            .match_http(
                Some("skypetools1.tom.com"),
                "/en_return_time.php?login_id=bob&code=00",
                None,
            )
            .into_iter()
            .map(|i| i.id.as_str())
            .collect();
        assert!(ids.contains(&"tom-url-return-time"));
        assert!(ids.contains(&"tom-param-login-id"));
        // Browsing TOM's portal is not evidence.
        assert!(s
            .match_http(Some("www.tom.com"), "/index.html?id=3", None)
            .is_empty());
        // Absolute-form targets carry the host.
        let ids: Vec<_> = s
            .match_http(
                None,
                "http://news.tom.com/skype_miniportal_2011.html?skype_id=x",
                None,
            )
            .into_iter()
            .map(|i| i.id.as_str())
            .collect();
        assert!(ids.contains(&"tom-url-miniportal") && ids.contains(&"tom-param-skype-id"));
        let ua = s
            .match_http(
                Some("example.com"),
                "/",
                Some("Mozilla/3.0 (compatible; Indy Library)"),
            )
            .len();
        assert_eq!(ua, 1);
    }

    #[test]
    fn addresses_and_ports() {
        let s = set();
        let ids: Vec<_> = s
            .match_addr("211.100.41.76".parse().unwrap())
            .map(|i| i.id.as_str())
            .collect();
        assert!(
            ids.contains(&"tom-server-211.100.41.76") && ids.contains(&"tom-net-211.100.40.0-23")
        );
        assert_eq!(s.match_addr("8.8.8.8".parse().unwrap()).count(), 0);
        assert_eq!(s.match_port(17, 33033).count(), 1);
        assert_eq!(s.match_port(17, 9010).count(), 0);
        assert_eq!(s.match_port(6, 9010).count(), 1);
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
    fn port_bitmap_equals_a_linear_scan() {
        let mut s = set();
        let text = format!("@set\tlab\t1\n@source\tlab\tour lab\n{HEADER}\nlab-1\ttom\tport\tudp/65535\t0.9\ttom\t-\tlab\tlast port\nlab-2\ttom\tport\tany/0\t0.9\ttom\t-\tlab\tport zero\n");
        s.add_text("lab.tsv", &text).unwrap();
        let mut hits = 0;
        for proto in [6u8, 17] {
            for port in 0..=u16::MAX {
                let linear: Vec<&str> = s
                    .indicators
                    .iter()
                    .filter(|i| matches!(i.matcher, Matcher::Port { proto: p, port: q } if q == port && (p == 0 || p == proto)))
                    .map(|i| i.id.as_str())
                    .collect();
                let fast: Vec<&str> = s.match_port(proto, port).map(|i| i.id.as_str()).collect();
                assert_eq!(fast, linear, "{proto}/{port}");
                hits += fast.len();
            }
        }
        assert!(hits >= 3, "{hits}");
        for port in 0..=u16::MAX {
            let named = s
                .indicators
                .iter()
                .any(|i| matches!(i.matcher, Matcher::Port { port: q, .. } if q == port));
            assert_eq!(s.names_port(port), named, "{port}");
        }
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

    proptest::proptest! {
        /// The name index finds exactly what testing every name indicator in turn finds, in
        /// the same order, for names made of the shipped names' labels (upper and lower case,
        /// extra labels, dots where they should not be, a byte outside ASCII).
        #[test]
        fn name_index_equals_a_linear_scan(
            parts in proptest::collection::vec((0usize..200, 0u8..6), 1..5),
            trailing in 0usize..3,
        ) {
            let s = set();
            let labels: Vec<String> = s
                .indicators
                .iter()
                .filter_map(|i| match &i.matcher {
                    Matcher::Name(n) => Some(n.clone()),
                    _ => None,
                })
                .flat_map(|n| n.split('.').map(str::to_owned).collect::<Vec<_>>())
                .chain(["x".into(), "".into(), "é".into()])
                .collect();
            let mut name = String::new();
            for (i, (pick, style)) in parts.iter().enumerate() {
                if i > 0 {
                    name.push('.');
                }
                let label = &labels[pick % labels.len()];
                match style {
                    0 => name.push_str(&label.to_ascii_uppercase()),
                    1 => name.push_str(&format!("{label}.")),
                    _ => name.push_str(label),
                }
            }
            name.push_str(&".".repeat(trailing));
            // Every full shipped name, too, with a prefix.
            let full: Vec<String> = s
                .indicators
                .iter()
                .filter_map(|i| match &i.matcher {
                    Matcher::Name(n) => Some(format!("{}.{n}", parts.len())),
                    _ => None,
                })
                .collect();
            for candidate in std::iter::once(&name).chain(&full) {
                let linear: Vec<&str> = s
                    .indicators
                    .iter()
                    .filter(|i| matches!(&i.matcher, Matcher::Name(n) if name_under(candidate, n)))
                    .map(|i| i.id.as_str())
                    .collect();
                let indexed: Vec<&str> = s.match_name(candidate).iter().map(|i| i.id.as_str()).collect();
                proptest::prop_assert_eq!(indexed, linear, "{}", candidate);
            }
        }
    }
}
