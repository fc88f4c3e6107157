//! Knowledge: the indicator set. What is known about TOM-Skype and regular Skype on the wire is
//! data, not code: a tab-separated file (format in `docs/INDICATORS.md`) shipped in
//! `data/indicators/tomskype.tsv` and compiled in, plus any files the user adds.
//!
//! This file holds the model (what an indicator is, what it matches, what a match means); the
//! loader and its checks are in `load.rs` (a malformed file is refused with file, line and
//! reason), the match index in `index.rs` (which indicators an address, name, request or port
//! matches, and the set as the flow stage's [`Watch`](crate::flow::Watch)).
//!
//! It does not weigh evidence or decide anything: that is `classify`'s work.

mod index;
mod load;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use sha2::{Digest, Sha256};

pub use index::name_under;
pub use load::IndicatorError;

/// The shipped indicator set.
pub const EMBEDDED: &str = include_str!("../../../data/indicators/tomskype.tsv");
/// How the shipped set is named in reports and errors.
pub const EMBEDDED_NAME: &str = "<embedded>/data/indicators/tomskype.tsv";

/// What a match means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    /// Unique id.
    pub id: String,
    /// What a match means.
    pub role: Role,
    /// What it matches.
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

/// The loaded indicators, with their sources and a fingerprint of the files they came from.
#[derive(Debug, Clone, Default)]
pub struct IndicatorSet {
    /// Every indicator, in file order.
    pub indicators: Vec<Indicator>,
    /// Source key → citation.
    pub sources: BTreeMap<String, String>,
    /// `name version` of each loaded file's `@set` line (or the file name).
    pub versions: Vec<String>,
    /// The loaded files' bytes, in load order, for [`IndicatorSet::info`]'s fingerprint.
    hasher_input: Vec<u8>,
    /// The match index over `indicators`, rebuilt by [`IndicatorSet::add_text`].
    index: index::Index,
}

/// Identity of a loaded indicator set, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetInfo {
    /// `name version` of each file loaded.
    pub versions: Vec<String>,
    /// SHA-256 of the loaded files' bytes, in load order.
    pub sha256: String,
    /// Number of indicators.
    pub count: usize,
}

impl IndicatorSet {
    /// Identity of the set.
    pub fn info(&self) -> SetInfo {
        let digest = Sha256::digest(&self.hasher_input);
        SetInfo {
            versions: self.versions.clone(),
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            count: self.indicators.len(),
        }
    }
}
