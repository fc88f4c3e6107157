//! Stage 6, report: the JSON of the facts the stages return. The stages' types (verdicts,
//! evidence, decode counts, countries, indicators, ...) implement no `Serialize`: how each is
//! written, field by field and name by name, is here and only here, as its [`ToJson`]. The
//! report model ([`super::model`]) writes them through [`json`] and [`Json`]; so do the tools
//! above the report that show the same facts (`lookup`, `export`), so that a country or an
//! indicator reads the same in every document.
//!
//! Why impls of one report-side trait, written by two small macros (a fact as a string, a fact
//! as an object: a table of its fields' JSON names and values), rather than report-side copies
//! of each type or serde's `remote` definitions: they cost nothing at run time (no copy, no
//! allocation, the very serializer calls the derives made, so the output is byte for byte what
//! it was); one generic impl each covers slices, `Vec`s and `Option`s of any fact (a `remote`
//! definition needs a helper per container, and a `Serialize` wrapper with such generic impls
//! sends the compiler into a recursion); and each fact's fields are listed once, in their order,
//! in plain sight. A stage that adds a field adds nothing to the JSON until a line is added here
//! (and to docs/REPORT.md).

use std::net::IpAddr;

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::addr::SpecialRange;
use crate::capture::{CaptureFormat, Problem, ProblemKind};
use crate::classify::{Advisory, Build, Evidence, Label, Verdict};
use crate::decode::{AppCounts, FragmentCounts, Skip, TcpCounts, TunnelKind};
use crate::enrich::Basis;
use crate::flow::PortName;
use crate::knowledge::geoip::{Country, GeoIpInfo, Layout};
use crate::knowledge::indicators::{Indicator, Matcher, Role, SetInfo, Validity};
use crate::timefmt;
use crate::zeek::{LogFormat, LogSummary};

/// How a fact of a stage is written in JSON: implemented here for every fact that appears in a
/// document, and for slices, `Vec`s and `Option`s of them.
pub trait ToJson {
    /// Writes the fact to `s`.
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// A fact of a stage, borrowed to be written as JSON: the `Serialize` of its [`ToJson`].
#[derive(Debug, Clone, Copy)]
pub struct Json<'a, T: ?Sized>(pub &'a T);

impl<T: ToJson + ?Sized> Serialize for Json<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json(s)
    }
}

/// Writes `value` as its [`ToJson`] says: the `serialize_with` of a document's fields that hold
/// stage facts.
pub fn json<T: ToJson + ?Sized, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    value.to_json(s)
}

/// The name a capture's container format is reported by (`format` of an input).
pub fn capture_format(format: CaptureFormat) -> &'static str {
    match format {
        CaptureFormat::Pcap => "pcap",
        CaptureFormat::PcapNs => "pcap-ns",
        CaptureFormat::Pcapng => "pcapng",
        CaptureFormat::Unknown => "unknown",
    }
}

/// The name a special-purpose address range is reported by (an endpoint's `special`; `lookup`'s).
pub fn special_range(range: SpecialRange) -> &'static str {
    match range {
        SpecialRange::Unspecified => "unspecified",
        SpecialRange::Loopback => "loopback",
        SpecialRange::Private => "private",
        SpecialRange::Cgnat => "cgnat",
        SpecialRange::LinkLocal => "link-local",
        SpecialRange::Documentation => "documentation",
        SpecialRange::Benchmarking => "benchmarking",
        SpecialRange::Multicast => "multicast",
        SpecialRange::Broadcast => "broadcast",
        SpecialRange::Reserved => "reserved",
        SpecialRange::UniqueLocal => "unique-local",
        SpecialRange::Discard => "discard",
    }
}

/// The name packets skipped for `why` are counted by (`decode.skipped` of an input).
pub fn skip(why: Skip) -> &'static str {
    match why {
        Skip::UnsupportedLinkType => "unsupported-link-type",
        Skip::NotIp => "not-ip",
        Skip::BadLinkHeader => "bad-link-header",
        Skip::BadIpHeader => "bad-ip-header",
        Skip::Fragment => "fragment",
    }
}

/// The name frames inside a tunnel are counted by (`decode.tunnels` of an input).
pub fn tunnel(kind: TunnelKind) -> &'static str {
    match kind {
        TunnelKind::Gre => "gre",
        TunnelKind::PptpGre => "pptp-gre",
        TunnelKind::Erspan => "erspan",
        TunnelKind::Vxlan => "vxlan",
        TunnelKind::Geneve => "geneve",
        TunnelKind::GtpU => "gtp-u",
        TunnelKind::IpInIp => "ip-in-ip",
        TunnelKind::Mpls => "mpls",
        TunnelKind::Pppoe => "pppoe",
        TunnelKind::Amsdu => "802.11-amsdu",
    }
}

/// The name of whose a sign is (`basis` of a piece of evidence; the people's report shows it).
pub fn basis(basis: Basis) -> &'static str {
    match basis {
        Basis::Request => "request",
        Basis::ServerName => "server-name",
        Basis::LookupAndContact => "lookup-and-contact",
        Basis::LookupOnly => "lookup-only",
        Basis::Visit => "visit",
        Basis::Relayed => "relayed",
        Basis::Unsolicited => "unsolicited",
        Basis::Contacted => "contacted",
        Basis::ReceivedOnly => "received-only",
        Basis::Port => "port",
    }
}

/// The format a Zeek log is reported by (`format` of an input): `zeek-conn`, `zeek-dns-json`,
/// `zeek-files`, ...
pub fn zeek_log(log: &LogSummary) -> String {
    let json = if log.format == LogFormat::Json {
        "-json"
    } else {
        ""
    };
    format!("zeek-{}{json}", log.kind.name())
}

/// A capture time (ns since the epoch) as [`timefmt::rfc3339`] text, or null: the form every
/// time a fact carries takes in JSON.
struct Time(Option<i64>);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(ts) => s.serialize_str(&timefmt::rfc3339(ts)),
            None => s.serialize_none(),
        }
    }
}

/// An address, or an empty string when there is none (an advisory's endpoint).
struct AddressOrEmpty(Option<IpAddr>);

impl Serialize for AddressOrEmpty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(a) => s.collect_str(a),
            None => s.serialize_str(""),
        }
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for item in self {
            seq.serialize_element(&Json(item))?;
        }
        seq.end()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().to_json(s)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => s.serialize_some(&Json(v)),
            None => s.serialize_none(),
        }
    }
}

/// Facts written as one string: the stable name or text of each.
macro_rules! as_str {
    ($($ty:ty => |$v:ident| $name:expr;)*) => {$(
        impl ToJson for $ty {
            fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let $v = self;
                s.serialize_str($name)
            }
        }
    )*};
}

as_str! {
    Label => |l| l.name();
    Basis => |b| basis(*b);
    Role => |r| r.name();
    Layout => |l| match l {
        Layout::MaxMind => "maxmind",
        Layout::IpLocationDb => "ip-location-db",
    };
    ProblemKind => |k| k.name();
    Country => |c| c.as_str();
    PortName => |p| p.write(&mut [0u8; 16]);
    Build => |b| match b {
        Build::English => "english",
        Build::Chinese => "chinese",
        Build::Unknown => "unknown",
    };
}

/// Facts written as JSON objects: for each, its fields' names and values, in their order.
macro_rules! object {
    ($($ty:ident => |$v:ident| { $($name:literal: $value:expr,)* })*) => {$(
        impl ToJson for $ty {
            fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let $v = self;
                let mut o = s.serialize_struct(stringify!($ty), [$($name),*].len())?;
                $(o.serialize_field($name, $value)?;)*
                o.end()
            }
        }
    )*};
}

object! {
    Verdict => |v| {
        "label": &Json(&v.label),
        "build": &Json(&v.build),
        "confidence": &v.confidence,
        "tom_score": &v.tom_score,
        "tom_firm_score": &v.tom_firm_score,
        "skype_score": &v.skype_score,
        "coverage": &v.coverage,
        "summary": &v.summary,
    }
    Evidence => |e| {
        "kind": &e.kind,
        "indicator": &e.indicator,
        "detail": &e.detail,
        "weight": &e.weight,
        "indicator_weight": &e.indicator_weight,
        "basis": &Json(&e.basis),
        "firm": &e.firm,
        "endpoint": &e.endpoint,
        "country": &Json(&e.country),
        "matched": &e.matched,
        "source": &e.source,
        "first_seen": &Time(e.first_ns),
        "packets": &e.packets,
        "in_validity": &e.in_validity,
        "clients": &e.clients,
    }
    Advisory => |a| {
        "kind": &a.kind,
        "detail": &a.detail,
        "endpoint": &AddressOrEmpty(a.endpoint),
    }
    Problem => |p| {
        "kind": &Json(&p.kind),
        "packet": &p.packet,
        "offset": &p.offset,
        "detail": &p.detail,
    }
    AppCounts => |c| {
        "dns": &c.dns,
        "tls": &c.tls,
        "http": &c.http,
        "quic": &c.quic,
    }
    FragmentCounts => |c| {
        "fragments": &c.fragments,
        "reassembled": &c.reassembled,
        "incomplete": &c.incomplete,
        "overlapping": &c.overlapping,
    }
    TcpCounts => |c| {
        "segments_buffered": &c.segments_buffered,
        "reassembled": &c.reassembled,
        "incomplete": &c.incomplete,
    }
    SetInfo => |i| {
        "versions": &i.versions,
        "sha256": &i.sha256,
        "count": &i.count,
    }
    GeoIpInfo => |i| {
        "source": &i.source,
        "database_type": &i.database_type,
        "build_epoch": &i.build_epoch,
        "build_date": &i.build_date,
        "layout": &Json(&i.layout),
        "ip_version": &i.ip_version,
    }
    Validity => |v| {
        "from": &v.from,
        "to": &v.to,
    }
    Indicator => |i| {
        "id": &i.id,
        "role": &Json(&i.role),
        "kind": matcher_kind(&i.matcher),
        "value": &Json(&i.matcher),
        "weight": &i.weight,
        "clients": &i.clients,
        "valid": &Json(&i.valid),
        "source": &i.source,
        "description": &i.description,
        "origin": &i.origin,
    }
}

/// The `kind` of an indicator's matcher, beside its `value` (the matcher's [`ToJson`]).
fn matcher_kind(m: &Matcher) -> &'static str {
    match m {
        Matcher::Ip(_) => "ip",
        Matcher::Net(_) => "net",
        Matcher::Name(_) => "name",
        Matcher::HttpUrl { .. } => "http-url",
        Matcher::HttpParam { .. } => "http-param",
        Matcher::UserAgent(_) => "user-agent",
        Matcher::Port { .. } => "port",
    }
}

/// What a matcher matches: an address, a network, a name or a User-Agent as a string; a URL, a
/// parameter or a port as an object.
impl ToJson for Matcher {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Matcher::Ip(a) => a.serialize(s),
            Matcher::Net(n) => n.serialize(s),
            Matcher::Name(text) | Matcher::UserAgent(text) => s.serialize_str(text),
            Matcher::HttpUrl { host, path } => Pair(("host", host), ("path", path)).serialize(s),
            Matcher::HttpParam { host, param } => {
                Pair(("host", host), ("param", param)).serialize(s)
            }
            Matcher::Port { proto, port } => Pair(("proto", proto), ("port", port)).serialize(s),
        }
    }
}

/// An object of two named fields (a matcher's value).
struct Pair<'a, A, B>((&'static str, &'a A), (&'static str, &'a B));

impl<A: Serialize, B: Serialize> Serialize for Pair<'_, A, B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_struct("Matcher", 2)?;
        o.serialize_field((self.0).0, (self.0).1)?;
        o.serialize_field((self.1).0, (self.1).1)?;
        o.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<T: ToJson + ?Sized>(v: &T) -> String {
        serde_json::to_string(&Json(v)).unwrap()
    }

    #[test]
    fn names_and_strings() {
        assert_eq!(text(&Country::CHINA), "\"CN\"");
        assert_eq!(text(&Some(Country::CHINA)), "\"CN\"");
        assert_eq!(text(&None::<Country>), "null");
        assert_eq!(text(&Label::RegularSkype), "\"regular-skype\"");
        assert_eq!(text(&Build::Chinese), "\"chinese\"");
        assert_eq!(text(&Basis::LookupAndContact), "\"lookup-and-contact\"");
        assert_eq!(text(&ProblemKind::TruncatedRecord), "\"truncated-record\"");
        assert_eq!(text(&Layout::IpLocationDb), "\"ip-location-db\"");
        assert_eq!(
            text(&vec![
                PortName {
                    proto: 6,
                    port: 443
                },
                PortName { proto: 47, port: 0 }
            ]),
            "[\"tcp/443\",\"ip47/0\"]"
        );
        assert_eq!(capture_format(CaptureFormat::PcapNs), "pcap-ns");
        assert_eq!(skip(Skip::NotIp), "not-ip");
        assert_eq!(tunnel(TunnelKind::Amsdu), "802.11-amsdu");
    }

    #[test]
    fn special_ranges_have_distinct_kebab_case_names() {
        use SpecialRange::*;
        let all = [
            Unspecified,
            Loopback,
            Private,
            Cgnat,
            LinkLocal,
            Documentation,
            Benchmarking,
            Multicast,
            Broadcast,
            Reserved,
            UniqueLocal,
            Discard,
        ];
        let mut seen = std::collections::HashSet::new();
        for r in all {
            let name = special_range(r);
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
        }
        assert_eq!(special_range(LinkLocal), "link-local");
        assert_eq!(special_range(UniqueLocal), "unique-local");
    }

    #[test]
    fn times_and_endpoints() {
        let a = Advisory {
            kind: "peer-in-china".into(),
            detail: "d".into(),
            endpoint: None,
        };
        assert_eq!(
            text(&a),
            r#"{"kind":"peer-in-china","detail":"d","endpoint":""}"#
        );
        assert_eq!(
            serde_json::to_string(&Time(Some(0))).unwrap(),
            "\"1970-01-01T00:00:00.000Z\""
        );
        assert_eq!(serde_json::to_string(&Time(None)).unwrap(), "null");
    }
}
