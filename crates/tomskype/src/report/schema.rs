//! Stage 6, report: the JSON of the facts the stages return. The stages' types (verdicts,
//! evidence, decode counts, countries, indicators, ...) implement no `Serialize`: how each is
//! written, field by field and name by name, is here and only here, as its [`ToJson`]. The
//! report model ([`super::model`]) writes them through [`json`] and [`Json`]; so do the tools
//! above the report that show the same facts (`lookup`, `export`), so that a country or an
//! indicator reads the same in every document.
//!
//! Why hand-written impls of one report-side trait, rather than report-side copies of each type
//! or serde's `remote` definitions: they cost nothing at run time (no copy, no allocation, the
//! very serializer calls the derives made, so the output is byte for byte what it was); one
//! generic impl each covers slices, `Vec`s and `Option`s of any fact (a `remote` definition
//! needs a helper per container, and a wrapper type with generic impls sends the compiler into
//! a recursion); and each fact's fields are listed once, with their JSON names and order in
//! plain sight. A stage that adds a field adds nothing to the JSON until a line is added here
//! (and to docs/REPORT.md).

use std::net::IpAddr;

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::capture::{CaptureFormat, Problem, ProblemKind};
use crate::classify::{Advisory, Build, Evidence, Label, Verdict};
use crate::decode::{AppCounts, FragmentCounts, TcpCounts};
use crate::enrich::Basis;
use crate::flow::PortName;
use crate::knowledge::geoip::{Country, GeoIpInfo, Layout};
use crate::knowledge::indicators::{Indicator, Matcher, Role, SetInfo, Validity};
use crate::timefmt;

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
    Basis => |b| b.name();
    Role => |r| r.name();
    Layout => |l| l.name();
    ProblemKind => |k| k.name();
    Country => |c| c.as_str();
    PortName => |p| p.write(&mut [0u8; 16]);
    Build => |b| match b {
        Build::English => "english",
        Build::Chinese => "chinese",
        Build::Unknown => "unknown",
    };
}

impl ToJson for Verdict {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self;
        let mut o = s.serialize_struct("Verdict", 8)?;
        o.serialize_field("label", &Json(&v.label))?;
        o.serialize_field("build", &Json(&v.build))?;
        o.serialize_field("confidence", &v.confidence)?;
        o.serialize_field("tom_score", &v.tom_score)?;
        o.serialize_field("tom_firm_score", &v.tom_firm_score)?;
        o.serialize_field("skype_score", &v.skype_score)?;
        o.serialize_field("coverage", &v.coverage)?;
        o.serialize_field("summary", &v.summary)?;
        o.end()
    }
}

impl ToJson for Evidence {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self;
        let mut o = s.serialize_struct("Evidence", 15)?;
        o.serialize_field("kind", &e.kind)?;
        o.serialize_field("indicator", &e.indicator)?;
        o.serialize_field("detail", &e.detail)?;
        o.serialize_field("weight", &e.weight)?;
        o.serialize_field("indicator_weight", &e.indicator_weight)?;
        o.serialize_field("basis", &Json(&e.basis))?;
        o.serialize_field("firm", &e.firm)?;
        o.serialize_field("endpoint", &e.endpoint)?;
        o.serialize_field("country", &Json(&e.country))?;
        o.serialize_field("matched", &e.matched)?;
        o.serialize_field("source", &e.source)?;
        o.serialize_field("first_seen", &Time(e.first_ns))?;
        o.serialize_field("packets", &e.packets)?;
        o.serialize_field("in_validity", &e.in_validity)?;
        o.serialize_field("clients", &e.clients)?;
        o.end()
    }
}

impl ToJson for Advisory {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self;
        let mut o = s.serialize_struct("Advisory", 3)?;
        o.serialize_field("kind", &a.kind)?;
        o.serialize_field("detail", &a.detail)?;
        o.serialize_field("endpoint", &AddressOrEmpty(a.endpoint))?;
        o.end()
    }
}

impl ToJson for Problem {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self;
        let mut o = s.serialize_struct("Problem", 4)?;
        o.serialize_field("kind", &Json(&p.kind))?;
        o.serialize_field("packet", &p.packet)?;
        o.serialize_field("offset", &p.offset)?;
        o.serialize_field("detail", &p.detail)?;
        o.end()
    }
}

impl ToJson for AppCounts {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self;
        let mut o = s.serialize_struct("AppCounts", 4)?;
        o.serialize_field("dns", &c.dns)?;
        o.serialize_field("tls", &c.tls)?;
        o.serialize_field("http", &c.http)?;
        o.serialize_field("quic", &c.quic)?;
        o.end()
    }
}

impl ToJson for FragmentCounts {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self;
        let mut o = s.serialize_struct("FragmentCounts", 4)?;
        o.serialize_field("fragments", &c.fragments)?;
        o.serialize_field("reassembled", &c.reassembled)?;
        o.serialize_field("incomplete", &c.incomplete)?;
        o.serialize_field("overlapping", &c.overlapping)?;
        o.end()
    }
}

impl ToJson for TcpCounts {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self;
        let mut o = s.serialize_struct("TcpCounts", 3)?;
        o.serialize_field("segments_buffered", &c.segments_buffered)?;
        o.serialize_field("reassembled", &c.reassembled)?;
        o.serialize_field("incomplete", &c.incomplete)?;
        o.end()
    }
}

impl ToJson for SetInfo {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self;
        let mut o = s.serialize_struct("SetInfo", 3)?;
        o.serialize_field("versions", &i.versions)?;
        o.serialize_field("sha256", &i.sha256)?;
        o.serialize_field("count", &i.count)?;
        o.end()
    }
}

impl ToJson for GeoIpInfo {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self;
        let mut o = s.serialize_struct("GeoIpInfo", 6)?;
        o.serialize_field("source", &i.source)?;
        o.serialize_field("database_type", &i.database_type)?;
        o.serialize_field("build_epoch", &i.build_epoch)?;
        o.serialize_field("build_date", &i.build_date)?;
        o.serialize_field("layout", &Json(&i.layout))?;
        o.serialize_field("ip_version", &i.ip_version)?;
        o.end()
    }
}

impl ToJson for Validity {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self;
        let mut o = s.serialize_struct("Validity", 2)?;
        o.serialize_field("from", &v.from)?;
        o.serialize_field("to", &v.to)?;
        o.end()
    }
}

/// An indicator: its matcher is written as `kind` (`ip`, `net`, `name`, `http-url`,
/// `http-param`, `user-agent`, `port`) and `value` between its role and its weight.
impl ToJson for Indicator {
    fn to_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self;
        let mut o = s.serialize_struct("Indicator", 10)?;
        o.serialize_field("id", &i.id)?;
        o.serialize_field("role", &Json(&i.role))?;
        match &i.matcher {
            Matcher::Ip(a) => {
                o.serialize_field("kind", "ip")?;
                o.serialize_field("value", a)?;
            }
            Matcher::Net(n) => {
                o.serialize_field("kind", "net")?;
                o.serialize_field("value", n)?;
            }
            Matcher::Name(n) => {
                o.serialize_field("kind", "name")?;
                o.serialize_field("value", n)?;
            }
            Matcher::HttpUrl { host, path } => {
                o.serialize_field("kind", "http-url")?;
                o.serialize_field("value", &Pair(("host", host), ("path", path)))?;
            }
            Matcher::HttpParam { host, param } => {
                o.serialize_field("kind", "http-param")?;
                o.serialize_field("value", &Pair(("host", host), ("param", param)))?;
            }
            Matcher::UserAgent(ua) => {
                o.serialize_field("kind", "user-agent")?;
                o.serialize_field("value", ua)?;
            }
            Matcher::Port { proto, port } => {
                o.serialize_field("kind", "port")?;
                o.serialize_field("value", &Pair(("proto", proto), ("port", port)))?;
            }
        }
        o.serialize_field("weight", &i.weight)?;
        o.serialize_field("clients", &i.clients)?;
        o.serialize_field("valid", &Json(&i.valid))?;
        o.serialize_field("source", &i.source)?;
        o.serialize_field("description", &i.description)?;
        o.serialize_field("origin", &i.origin)?;
        o.end()
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
