//! Stage 6, report: the report model. Built from the enriched host views and their
//! classifications; serialised as is for `--format json`, the stages' facts it holds (verdicts,
//! evidence, counts, countries) through [`super::schema`].

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::capture::{CaptureFormat, Problem};
use crate::classify::{
    Advisory, Classification, Evidence, Label, Verdict, FULL_PACKETS, FULL_SECONDS,
};
use crate::decode::{AppCounts, DecodeStats, FragmentCounts, Skip, TcpCounts, TunnelKind};
use crate::enrich::HostView;
use crate::flow::key::PortName;
use crate::knowledge::geoip::{Country, GeoIpInfo};
use crate::knowledge::indicators::SetInfo;
use crate::timefmt;

use super::schema::{self, json};

/// Version of the JSON schema. Bumped on any change that could break a reader.
pub const SCHEMA: &str = "tomskype-report/2";

/// At most this many endpoints without evidence are listed per host (busiest first).
pub const MAX_PLAIN_ENDPOINTS: usize = 20;

/// A whole run's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema version, [`SCHEMA`].
    pub schema: &'static str,
    /// The tool.
    pub tool: ToolInfo,
    /// The indicator set used.
    #[serde(serialize_with = "json")]
    pub indicators: SetInfo,
    /// The GeoIP database used.
    #[serde(serialize_with = "json")]
    pub geoip: GeoIpInfo,
    /// Every input, in the order given.
    pub inputs: Vec<InputReport>,
    /// Every local host, by address; or, for a report that keeps only hosts with a sign
    /// ([`crate::analyze::Keep::Signs`]), those, and the others by address in `quiet`.
    pub hosts: Vec<HostReport>,
    /// Hosts with no sign whose reports were not kept, by address (empty when every host's
    /// report was kept): counted, listed nowhere, and known to `--expect`.
    #[serde(skip)]
    pub quiet: QuietHosts,
    /// The published sources the evidence cites: source key → citation.
    pub sources: BTreeMap<String, String>,
    /// Counts over the whole run.
    pub totals: Totals,
    /// What keeping memory bounded did (nothing, for most runs).
    pub memory: MemoryReport,
}

/// What keeping memory bounded did: hosts summarised (their counters kept, not their
/// endpoints) and what reaching the memory budget took. Written only when not empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemoryReport {
    /// Hosts with nothing an indicator could match, summarised (past the number of hosts kept
    /// whole, or to keep to the budget).
    pub hosts_summarised: u64,
    /// Times the memory budget (`--max-memory`) was reached.
    pub budget_reached: u64,
    /// Flows ended before their timeout to keep to the budget.
    pub flows_ended_early: u64,
    /// DNS questions of machines with nothing an indicator could match dropped to keep to the
    /// budget (every name an indicator watches is kept, and each machine's first few).
    pub questions_dropped: u64,
    /// TLS server names that no indicator watches, read from a Zeek ssl.log and dropped while
    /// they waited for their connection's conn.log record, to keep to the budget (not those of
    /// a connection with an end in China, matched by an address indicator or on a port an
    /// indicator names).
    pub names_dropped: u64,
    /// HTTP requests that no indicator could match, read from a Zeek http.log and dropped
    /// while they waited for their connection's conn.log record, to keep to the budget (not
    /// those in proxy form, nor those of a connection with an end in China, matched by an
    /// address indicator or on a port an indicator names).
    pub requests_dropped: u64,
    /// The memory used stayed above the budget even so.
    pub still_over: bool,
}

impl MemoryReport {
    /// Whether nothing was done.
    pub fn is_empty(&self) -> bool {
        *self == MemoryReport::default()
    }
}

impl Report {
    /// How many local hosts the run found, whether their reports were kept or not.
    pub fn host_count(&self) -> usize {
        self.hosts.len() + self.quiet.len()
    }

    /// Each listed host's verdict as a line of text: its address, label, evidence, advisories
    /// and roles, as the JSON report writes them. What must not change with the number of
    /// threads or with the memory shed while reading (the tests and the `gather_verdicts` fuzz
    /// target compare it); a host that would not serialise gives its address and the error.
    pub fn verdicts(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| match serde_json::to_value(h) {
                Ok(v) => [
                    v["address"].to_string(),
                    v["verdict"]["label"].to_string(),
                    v["evidence"].to_string(),
                    v["advisories"].to_string(),
                    v["roles"].to_string(),
                ]
                .join(" "),
                Err(e) => format!("{}: {e}", h.address),
            })
            .collect()
    }

    /// The label of the host at `addr`, if it is a local host of the run.
    pub fn label_of(&self, addr: IpAddr) -> Option<Label> {
        match self.hosts.iter().find(|h| h.address == addr) {
            Some(h) => Some(h.verdict.label),
            None => self.quiet.contains(addr).then_some(Label::NoSkype),
        }
    }
}

/// Addresses of hosts with no sign, compact: IPv4 ones as 4 bytes (a capture of a big network
/// has millions). [`QuietHosts::sort`] once all are in, before [`QuietHosts::contains`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuietHosts {
    v4: Vec<u32>,
    v6: Vec<std::net::Ipv6Addr>,
}

impl QuietHosts {
    /// Adds `addr`.
    pub fn push(&mut self, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => self.v4.push(u32::from(a)),
            IpAddr::V6(a) => self.v6.push(a),
        }
    }

    /// Adds every address of `other`.
    pub fn append(&mut self, mut other: QuietHosts) {
        self.v4.append(&mut other.v4);
        self.v6.append(&mut other.v6);
    }

    /// Puts them in address order, each once.
    pub fn sort(&mut self) {
        self.v4.sort_unstable();
        self.v4.dedup();
        self.v6.sort_unstable();
        self.v6.dedup();
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `addr` is one of them (once sorted).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.v4.binary_search(&u32::from(a)).is_ok(),
            IpAddr::V6(a) => self.v6.binary_search(&a).is_ok(),
        }
    }
}

/// Name and version of the tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    /// `tomskype`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// What reading one input gave.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    /// The path as given (`-` for standard input).
    pub path: String,
    /// Its format: a capture format, or `zeek-` and the log's kind (`zeek-conn`, ...).
    pub format: String,
    /// Whether it was gzip-compressed.
    pub gzip: bool,
    /// Packets read (for Zeek logs: log records read).
    pub packets: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Problems in the container, with packet number and offset.
    #[serde(serialize_with = "json")]
    pub problems: Vec<Problem>,
    /// True when nothing could be read from it.
    pub unreadable: bool,
    /// What the decoder made of its packets.
    pub decode: DecodeReport,
}

impl InputReport {
    /// Whether it is a Zeek log (its `packets` are log records).
    pub fn is_zeek_log(&self) -> bool {
        self.format.starts_with("zeek-")
    }

    /// The report of an input whose container format is `format`.
    pub fn new(path: String, format: CaptureFormat) -> InputReport {
        InputReport {
            path,
            format: schema::capture_format(format).to_owned(),
            gzip: false,
            packets: 0,
            bytes: 0,
            problems: Vec::new(),
            unreadable: false,
            decode: DecodeReport::default(),
        }
    }
}

/// Decoder counts of one input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecodeReport {
    /// Packets decoded down to IP.
    pub decoded: u64,
    /// Of those, packets whose TCP/UDP header was cut off.
    pub transport_truncated: u64,
    /// Packets skipped, by reason (only reasons that occurred).
    pub skipped: BTreeMap<&'static str, u64>,
    /// Application payloads that looked like DNS/TLS/HTTP but did not parse.
    #[serde(serialize_with = "json")]
    pub app_malformed: AppCounts,
    /// IP fragments and the datagrams made of them (absent when there were none).
    #[serde(skip_serializing_if = "is_default", serialize_with = "json")]
    pub fragments: FragmentCounts,
    /// Frames decoded inside a tunnel, by kind (only kinds that occurred).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tunnels: BTreeMap<&'static str, u64>,
    /// TCP segments joined to read messages split over segments (absent when none were).
    #[serde(skip_serializing_if = "is_default", serialize_with = "json")]
    pub tcp_reassembly: TcpCounts,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

impl From<&DecodeStats> for DecodeReport {
    fn from(s: &DecodeStats) -> Self {
        DecodeReport {
            decoded: s.decoded,
            transport_truncated: s.transport_truncated,
            skipped: Skip::ALL
                .iter()
                .filter(|&&k| s.skipped(k) > 0)
                .map(|&k| (schema::skip(k), s.skipped(k)))
                .collect(),
            app_malformed: s.app_malformed,
            fragments: s.fragments,
            tunnels: TunnelKind::ALL
                .iter()
                .filter(|&&k| s.tunnel(k) > 0)
                .map(|&k| (schema::tunnel(k), s.tunnel(k)))
                .collect(),
            tcp_reassembly: s.tcp_reassembly,
        }
    }
}

/// One host's verdict, evidence and coverage.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// The host's address.
    pub address: IpAddr,
    /// The verdict.
    #[serde(serialize_with = "json")]
    pub verdict: Verdict,
    /// What the verdict rests on, strongest first.
    #[serde(serialize_with = "json")]
    pub evidence: Vec<Evidence>,
    /// Advisories that do not change the label.
    #[serde(serialize_with = "json")]
    pub advisories: Vec<Advisory>,
    /// What the host does for other machines (answers their DNS, relays their HTTP): what it
    /// does on their behalf is not counted as its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<HostRole>,
    /// How much traffic the verdict rests on.
    pub coverage: Coverage,
    /// Remote endpoints: every one with evidence, then the busiest others.
    pub endpoints: Vec<EndpointReport>,
}

/// A service a host gives other machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRole {
    /// `dns-resolver` (it answered other machines' DNS questions) or `http-proxy` (other
    /// machines sent it CONNECT or absolute-URI requests).
    pub role: &'static str,
    /// How many distinct machines it served (at least).
    pub clients: u64,
}

/// What the bounds of the name stores dropped for a host (nothing that matches an indicator
/// is ever dropped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DroppedReport {
    /// Distinct names it asked DNS for, not kept.
    pub dns_questions: u64,
    /// Distinct names in DNS answers to it, not kept.
    pub dns_answer_names: u64,
    /// HTTP requests on its flows, not kept.
    pub http_requests: u64,
    /// TLS server names it sent, not kept.
    pub tls_names: u64,
}

/// How much traffic a verdict rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Packets of the host's flows.
    pub packets: u64,
    /// Of those, packets the host sent.
    pub packets_sent: u64,
    /// Bytes of the host's flows.
    pub bytes: u64,
    /// Flows.
    pub flows: u64,
    /// Distinct remote endpoints.
    pub endpoints: usize,
    /// Remote endpoints with at least one name (DNS, TLS or HTTP).
    pub named_endpoints: usize,
    /// Remote endpoints with a country.
    pub located_endpoints: usize,
    /// Distinct names the host asked DNS for.
    pub dns_queries: usize,
    /// First packet (capture time, UTC).
    pub first_seen: String,
    /// Last packet (capture time, UTC).
    pub last_seen: String,
    /// Seconds between them.
    pub duration_s: f64,
    /// What the bounds of the name stores dropped (counted, never silent).
    pub dropped: DroppedReport,
    /// Warnings about how little the verdict rests on.
    pub notes: Vec<String>,
}

/// A remote endpoint of a host.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// Its address.
    pub address: IpAddr,
    /// Its country.
    #[serde(serialize_with = "json")]
    pub country: Option<Country>,
    /// Its special-purpose range, if any.
    pub special: Option<&'static str>,
    /// Names the host itself produced for it (its DNS answers, TLS server names, HTTP hosts;
    /// for a proxy, where the host went through it).
    pub names: Vec<String>,
    /// Names only DNS answers the host never asked for gave it: not the host's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsolicited_names: Vec<String>,
    /// Whether the host used it as an HTTP proxy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proxy: bool,
    /// Whether the host reached it only through its proxy (it named the address in a CONNECT
    /// or an absolute URI).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub through_proxy: bool,
    /// Remote ports, shown `tcp/443`-style (the lowest 16).
    #[serde(serialize_with = "json")]
    pub ports: Vec<PortName>,
    /// Flows.
    pub flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Packets the host sent it.
    pub packets_sent: u64,
    /// Bytes both ways.
    pub bytes: u64,
    /// First packet (capture time, UTC).
    pub first_seen: String,
    /// Last packet (capture time, UTC).
    pub last_seen: String,
    /// Whether the host opened at least one of the flows (false: the endpoint reached it).
    pub host_opened: bool,
    /// Ids of the indicators it matched.
    pub indicators: Vec<String>,
    /// Local programs that owned the host's side of its flows, as `name (pid N)` (live
    /// capture on Linux only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
}

/// Counts over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Packets read from all inputs.
    pub packets: u64,
    /// Flows.
    pub flows: u64,
    /// Hosts by label.
    pub labels: BTreeMap<&'static str, usize>,
    /// Inputs that could not be read at all.
    pub unreadable_inputs: usize,
    /// Problems found in inputs.
    pub problems: usize,
    /// First packet of the run (capture time, UTC).
    pub first_seen: Option<String>,
    /// Last packet of the run (capture time, UTC).
    pub last_seen: Option<String>,
}

impl HostReport {
    /// Whether the host shows any sign worth telling: a label other than `no-skype`, or an
    /// advisory. The others are counted, not listed, unless asked for.
    pub fn has_sign(&self) -> bool {
        self.verdict.label != Label::NoSkype || !self.advisories.is_empty()
    }

    /// The report of one host.
    pub fn new(view: &HostView<'_>, c: Classification) -> HostReport {
        let duration_s = ((view.last_ns - view.first_ns) as f64 / 1e9).max(0.0);
        let mut notes = Vec::new();
        if view.packets < FULL_PACKETS {
            notes.push(format!(
                "only {} packets: a verdict on so little traffic is weak",
                view.packets
            ));
        }
        if duration_s < FULL_SECONDS {
            notes.push(format!(
                "only {duration_s:.1} s of traffic: a Skype login takes longer, and TOM-Skype's requests may come later"
            ));
        }
        let named = view
            .endpoints
            .iter()
            .filter(|e| e.names.values().any(|n| n.is_own()))
            .count();
        if !view.endpoints.is_empty() && named == 0 && view.queries.is_empty() {
            notes.push("no names seen (no DNS, TLS or HTTP): the verdict rests on addresses and ports alone".into());
        }
        if view.sent == 0 {
            notes.push("the capture holds only traffic sent to this machine (one direction): what it sent itself, its requests among it, is not in the capture, so nothing here can show its own doing".into());
        } else if view.sent == view.packets && view.packets > 0 {
            notes.push("the capture holds only traffic this machine sent (one direction): no answer to it was captured".into());
        }
        if view.summarised_flows > 0 {
            notes.push(format!(
                "{} flows of this machine with nothing Skype-related were summarised to keep memory bounded: their endpoints (about {}) are counted, not listed",
                view.summarised_flows, view.summarised_endpoints
            ));
        }
        let d = view.dropped;
        if d.any() {
            notes.push(format!(
                "some names were not kept (bounds on memory): {} DNS questions, {} names in DNS answers, {} HTTP requests, {} TLS server names; none that matches an indicator",
                d.dns_questions, d.dns_answer_names, d.http_requests, d.tls_names
            ));
        }
        let mut roles = Vec::new();
        if view.dns_clients > 0 {
            roles.push(HostRole {
                role: "dns-resolver",
                clients: view.dns_clients,
            });
            notes.push(format!(
                "it answers DNS for {} other machine(s): its own lookups are made for them and are not counted",
                view.dns_clients
            ));
        }
        if view.proxy_clients > 0 {
            roles.push(HostRole {
                role: "http-proxy",
                clients: view.proxy_clients,
            });
            notes.push(format!(
                "it is an HTTP proxy for {} other machine(s): requests it relays for them are not counted as its own",
                view.proxy_clients
            ));
        }
        let mut with_evidence: Vec<&crate::enrich::Endpoint<'_>> = view
            .endpoints
            .iter()
            .filter(|e| !e.matches.is_empty())
            .collect();
        let mut others: Vec<&crate::enrich::Endpoint<'_>> = view
            .endpoints
            .iter()
            .filter(|e| e.matches.is_empty())
            .collect();
        others.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.addr.cmp(&b.addr)));
        others.truncate(MAX_PLAIN_ENDPOINTS);
        with_evidence.extend(others);
        let endpoints = with_evidence
            .into_iter()
            .map(|e| {
                let mut ids: Vec<String> =
                    e.matches.iter().map(|m| m.indicator.id.clone()).collect();
                ids.sort();
                ids.dedup();
                EndpointReport {
                    address: e.addr,
                    country: e.country,
                    special: e.special.map(schema::special_range),
                    names: e
                        .names
                        .iter()
                        .filter(|(_, n)| n.is_own())
                        .map(|(name, _)| name.clone())
                        .collect(),
                    unsolicited_names: e
                        .names
                        .iter()
                        .filter(|(_, n)| !n.is_own())
                        .map(|(name, _)| name.clone())
                        .collect(),
                    proxy: e.proxy,
                    through_proxy: e.through_proxy,
                    ports: e
                        .ports
                        .iter()
                        .map(|&(proto, port)| PortName { proto, port })
                        .collect(),
                    flows: e.flows,
                    packets: e.packets,
                    packets_sent: e.sent,
                    bytes: e.bytes,
                    first_seen: timefmt::rfc3339(e.first_ns),
                    last_seen: timefmt::rfc3339(e.last_ns),
                    host_opened: e.host_opened,
                    indicators: ids,
                    programs: e.programs.iter().cloned().collect(),
                }
            })
            .collect();
        HostReport {
            address: view.addr,
            verdict: c.verdict,
            evidence: c.evidence,
            advisories: c.advisories,
            roles,
            coverage: Coverage {
                packets: view.packets,
                packets_sent: view.sent,
                bytes: view.bytes,
                flows: view.flows,
                endpoints: view.endpoints.len() + view.summarised_endpoints as usize,
                named_endpoints: named,
                located_endpoints: view
                    .endpoints
                    .iter()
                    .filter(|e| e.country.is_some())
                    .count(),
                dns_queries: view.queries.len(),
                first_seen: timefmt::rfc3339(view.first_ns),
                last_seen: timefmt::rfc3339(view.last_ns),
                duration_s: (duration_s * 1000.0).round() / 1000.0,
                dropped: DroppedReport {
                    dns_questions: d.dns_questions,
                    dns_answer_names: d.dns_answer_names,
                    http_requests: d.http_requests,
                    tls_names: d.tls_names,
                },
                notes,
            },
            endpoints,
        }
    }
}

impl Totals {
    /// Counts over the hosts and inputs of a report.
    pub fn of(
        hosts: &[HostReport],
        quiet: usize,
        inputs: &[InputReport],
        flows: u64,
        span: (Option<i64>, Option<i64>),
    ) -> Totals {
        let mut labels = BTreeMap::new();
        for l in [
            Label::TomSkype,
            Label::RegularSkype,
            Label::Inconclusive,
            Label::NoSkype,
        ] {
            let unlisted = if l == Label::NoSkype { quiet } else { 0 };
            labels.insert(
                l.name(),
                hosts.iter().filter(|h| h.verdict.label == l).count() + unlisted,
            );
        }
        Totals {
            packets: inputs.iter().map(|i| i.packets).sum(),
            flows,
            labels,
            unreadable_inputs: inputs.iter().filter(|i| i.unreadable).count(),
            problems: inputs.iter().map(|i| i.problems.len()).sum(),
            first_seen: span.0.map(timefmt::rfc3339),
            last_seen: span.1.map(timefmt::rfc3339),
        }
    }
}
