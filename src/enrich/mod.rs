//! Stage 4, enrich: from a flow table to a view per local host. Decides which end of each flow
//! is the host (the local one; with no local end, the one that opened the flow), gathers each
//! host's remote endpoints with their traffic, the names seen for them (DNS answers, TLS server
//! names, HTTP hosts), their country (GeoIP) and the indicators they match; also the names each
//! host asked DNS for. Every endpoint address is looked up once, however many packets it had.
//!
//! Multicast, broadcast and unspecified addresses are never hosts nor endpoints. Nothing here
//! weighs evidence: that is `classify`'s work.

pub mod geoip;
pub mod indicators;
mod ports;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::addr::{self, LocalNets, Place, SpecialRange};
use crate::flow::table::{MAX_NAMES_PER_ADDR, MAX_QUERIES_PER_CLIENT};
use crate::flow::{FlowKey, FlowTable, HttpFact, NameSet};
use geoip::{Country, GeoIp};
use indicators::{Indicator, IndicatorSet};
use ports::Ports;

/// At most this many HTTP requests are kept per endpoint.
const MAX_HTTP_PER_ENDPOINT: usize = 64;

/// How an indicator matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// The endpoint's address.
    Address,
    /// A name of the endpoint (DNS answer, TLS server name or HTTP host).
    Name(String),
    /// An HTTP request (`host` + target).
    Http(String),
    /// The remote port of a flow the host opened.
    Port(u8, u16),
}

/// One indicator match, with when it was first seen.
#[derive(Debug, Clone)]
pub struct Match<'s> {
    /// The indicator.
    pub indicator: &'s Indicator,
    /// What matched it.
    pub via: Via,
    /// Capture time of the first packet (or name) that matched, ns since the epoch.
    pub first_ns: i64,
}

/// A remote end a host talked to.
#[derive(Debug, Clone)]
pub struct Endpoint<'s> {
    /// Its address.
    pub addr: IpAddr,
    /// Its country, when the database knows it and it is not a special-purpose address.
    pub country: Option<Country>,
    /// Its special-purpose range, if any.
    pub special: Option<SpecialRange>,
    /// Whether it is itself a local host.
    pub local: bool,
    /// Flows between the host and it.
    pub flows: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Bytes both ways.
    pub bytes: u64,
    /// First packet, ns since the epoch.
    pub first_ns: i64,
    /// Last packet, ns since the epoch.
    pub last_ns: i64,
    /// (protocol, remote port) of the flows, the lowest 16.
    pub ports: BTreeSet<(u8, u16)>,
    /// Whether any flow with it was opened by the host.
    pub host_opened: bool,
    /// Names seen for it (DNS answers, TLS server names, HTTP hosts).
    pub names: BTreeSet<String>,
    /// HTTP requests the host sent it.
    pub http: Vec<HttpFact>,
    /// Indicators it matches.
    pub matches: Vec<Match<'s>>,
    /// Local programs that owned the host's side of its flows (live capture only), as
    /// `name (pid N)`.
    pub programs: BTreeSet<String>,
}

/// A DNS question a host asked.
#[derive(Debug, Clone)]
pub struct Query<'s> {
    /// The name asked for.
    pub name: String,
    /// When first asked, ns since the epoch.
    pub first_ns: i64,
    /// How many messages carried it.
    pub count: u64,
    /// Indicators the name matches.
    pub matches: Vec<&'s Indicator>,
}

/// Everything known about one local host.
#[derive(Debug, Clone)]
pub struct HostView<'s> {
    /// The host's address.
    pub addr: IpAddr,
    /// Its remote endpoints, by address.
    pub endpoints: Vec<Endpoint<'s>>,
    /// DNS questions it asked, by name.
    pub queries: Vec<Query<'s>>,
    /// Distinct names it asked for that were not kept (bound reached).
    pub queries_dropped: u64,
    /// Flows it took part in.
    pub flows: u64,
    /// Packets of those flows.
    pub packets: u64,
    /// Bytes of those flows.
    pub bytes: u64,
    /// First packet, ns since the epoch.
    pub first_ns: i64,
    /// Last packet, ns since the epoch.
    pub last_ns: i64,
}

/// What enrichment needs besides the flow table.
pub struct Context<'a> {
    /// Which addresses are local.
    pub local: &'a LocalNets,
    /// Country lookups.
    pub geoip: &'a GeoIp,
    /// The indicator set.
    pub indicators: &'a IndicatorSet,
}

/// The part of enrichment that looks at every flow: per host and remote endpoint, traffic,
/// ports, names and requests, plus the DNS names of the table. Built from each input's flow
/// table on its own (in parallel), then merged: merging these is cheap, merging flow tables is
/// not. A flow that spans two inputs counts once in each.
#[derive(Debug, Default)]
pub struct Gathered {
    hosts: FxHashMap<IpAddr, HostAgg>,
    resolved: FxHashMap<IpAddr, NameSet>,
    queries: FxHashMap<IpAddr, NameSet>,
    /// Flows gathered.
    pub flows: u64,
    /// Time of the earliest packet, ns since the epoch.
    pub first_ns: Option<i64>,
    /// Time of the latest packet, ns since the epoch.
    pub last_ns: Option<i64>,
}

impl Gathered {
    /// Adds `other` (the next input's) to this.
    pub fn merge(&mut self, other: Gathered) {
        for (addr, h) in other.hosts {
            match self.hosts.get_mut(&addr) {
                Some(mine) => mine.merge(h),
                None => {
                    self.hosts.insert(addr, h);
                }
            }
        }
        for (addr, names) in other.resolved {
            self.resolved
                .entry(addr)
                .or_default()
                .merge(&names, MAX_NAMES_PER_ADDR);
        }
        for (client, names) in other.queries {
            self.queries
                .entry(client)
                .or_default()
                .merge(&names, MAX_QUERIES_PER_CLIENT);
        }
        self.flows += other.flows;
        self.first_ns = min_opt(self.first_ns, other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Builds the per-host views of a flow table, sorted by host address.
pub fn hosts_of<'s>(table: &FlowTable, ctx: &Context<'s>) -> Vec<HostView<'s>> {
    hosts(gather(table, ctx), ctx)
}

/// Gathers a flow table's flows per host and endpoint; `ctx.local` says which end is the host.
/// Of the remote ports of flows the host opened, those that no indicator of `ctx.indicators`
/// names are not kept (they cannot be evidence, and a scanning host opens thousands), so the
/// result must be reported with the same indicator set.
pub fn gather(table: &FlowTable, ctx: &Context<'_>) -> Gathered {
    let (local, indicators) = (ctx.local, ctx.indicators);
    // Hash maps while gathering (one look-up per flow), sorted once at the end.
    let mut by_host: FxHashMap<IpAddr, HostAgg> = FxHashMap::default();
    for (key, flow) in table.flows.iter() {
        let Some((host, remote, host_is_a, remote_local)) = sides(&key, flow.opener.side(), local)
        else {
            continue;
        };
        let opened = flow
            .opener
            .side()
            .map(|d| (d == crate::flow::Dir::AToB) == host_is_a);
        let (host_port, remote_port) = if host_is_a {
            (key.a_port, key.b_port)
        } else {
            (key.b_port, key.a_port)
        };
        let facts = table.facts.get(&key);
        let mut add = |host: IpAddr,
                       remote: IpAddr,
                       host_port: u16,
                       remote_port: u16,
                       opened: Option<bool>| {
            let h = by_host.entry(host).or_insert_with(|| HostAgg::new(host));
            let host_dir = if host == key.a { 0 } else { 1 };
            h.sent += flow.packets[host_dir];
            h.flows += 1;
            h.packets += flow.total_packets();
            h.bytes += flow.total_bytes();
            h.first_ns = h.first_ns.min(flow.first_ns);
            h.last_ns = h.last_ns.max(flow.last_ns);
            let e = h
                .endpoints
                .entry(remote)
                .or_insert_with(|| EndpointAgg::new(flow.first_ns));
            e.flows += 1;
            e.packets += flow.total_packets();
            e.bytes += flow.total_bytes();
            e.first_ns = e.first_ns.min(flow.first_ns);
            e.last_ns = e.last_ns.max(flow.last_ns);
            if let Some(program) = table.program(host, host_port, key.proto) {
                if !e.programs.contains(program) {
                    e.programs.insert(program.to_owned());
                }
            }
            let opened = opened.unwrap_or(true);
            e.host_opened |= opened;
            e.ports.add(
                key.proto,
                remote_port,
                opened && indicators.names_port(remote_port),
            );
            if let Some(facts) = facts {
                for (name, &ts) in &facts.sni {
                    let first = e.names.entry(name.clone()).or_insert(ts);
                    *first = (*first).min(ts);
                }
                for req in &facts.http {
                    if let Some(h) = &req.host {
                        let first = e.names.entry(h.clone()).or_insert(req.ts_ns);
                        *first = (*first).min(req.ts_ns);
                    }
                    e.http.push(req.clone());
                }
            }
        };
        add(host, remote, host_port, remote_port, opened);
        if remote_local {
            // Both ends are local hosts: each sees the other as an endpoint.
            add(remote, host, remote_port, host_port, opened.map(|o| !o));
        }
    }
    // Sorted here, in the worker, so that merging inputs on the main thread is one pass.
    for e in by_host.values_mut().flat_map(|h| h.endpoints.values_mut()) {
        e.ports.tidy();
    }
    Gathered {
        hosts: by_host,
        resolved: table.resolved.clone(),
        queries: table.queries.clone(),
        flows: table.flows.len() as u64,
        first_ns: table.first_ns,
        last_ns: table.last_ns,
    }
}

/// Builds the per-host views of gathered traffic, sorted by host address: looks up each
/// endpoint once (country, indicators) and matches the names and requests seen.
pub fn hosts<'s>(gathered: Gathered, ctx: &Context<'s>) -> Vec<HostView<'s>> {
    hosts_map(gathered, ctx, 1, |view| view)
}

/// [`hosts`], with `each` applied to every view as it is made, on `threads` threads (each
/// takes a run of hosts in address order); the results come in host address order, the same
/// for any number of threads.
pub fn hosts_map<'s, T, F>(gathered: Gathered, ctx: &Context<'s>, threads: usize, each: F) -> Vec<T>
where
    T: Send,
    F: Fn(HostView<'s>) -> T + Sync,
{
    let Gathered {
        hosts,
        resolved,
        queries,
        ..
    } = gathered;
    let names = Names {
        resolved: &resolved,
        queries: &queries,
    };
    let mut hosts: Vec<HostAgg> = hosts
        .into_values()
        // An address that never sent a packet is no machine we can judge (often a subnet's
        // broadcast address, or a host seen only as a target).
        .filter(|h| h.sent > 0)
        .collect();
    hosts.sort_unstable_by_key(|h| h.addr);
    // Each run has its own cache of address facts (pure functions of the address).
    let run = |part: Vec<HostAgg>| -> Vec<T> {
        let mut cache: FxHashMap<IpAddr, AddrFacts<'s>> = FxHashMap::default();
        part.into_iter()
            .map(|h| each(h.finish(&names, ctx, &mut cache)))
            .collect()
    };
    let threads = threads.clamp(1, hosts.len().max(1));
    if threads == 1 {
        return run(hosts);
    }
    let per = hosts.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while hosts.len() > per {
        let rest = hosts.split_off(per);
        parts.push(std::mem::replace(&mut hosts, rest));
    }
    parts.push(hosts);
    std::thread::scope(|s| {
        let run = &run;
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || run(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The DNS names of gathered traffic, for [`HostAgg::finish`].
struct Names<'g> {
    resolved: &'g FxHashMap<IpAddr, NameSet>,
    queries: &'g FxHashMap<IpAddr, NameSet>,
}

/// Which end of a flow is the host: `(host, remote, host_is_a, remote_is_local)`, or None when
/// the flow has no end that can be a host.
fn sides(
    key: &FlowKey,
    opener: Option<crate::flow::Dir>,
    local: &LocalNets,
) -> Option<(IpAddr, IpAddr, bool, bool)> {
    // Traffic to a group or broadcast address counts for no host: the group is no endpoint,
    // and the sender is a host through its other flows, if it has any.
    let is_local = |ip| match local.place(ip) {
        Place::Never => None,
        place => Some(place == Place::Local),
    };
    let (a_local, b_local) = (is_local(key.a)?, is_local(key.b)?);
    let host_is_a = match (a_local, b_local) {
        (true, false) => true,
        (false, true) => false,
        // Both or neither local: the one that opened the flow is the host.
        _ => opener.is_none_or(|d| d == crate::flow::Dir::AToB),
    };
    Some(if host_is_a {
        (key.a, key.b, true, b_local)
    } else {
        (key.b, key.a, false, a_local)
    })
}

#[derive(Debug)]
struct HostAgg {
    addr: IpAddr,
    sent: u64,
    flows: u64,
    packets: u64,
    bytes: u64,
    first_ns: i64,
    last_ns: i64,
    endpoints: FxHashMap<IpAddr, EndpointAgg>,
}

#[derive(Debug)]
struct EndpointAgg {
    flows: u64,
    packets: u64,
    bytes: u64,
    first_ns: i64,
    last_ns: i64,
    ports: Ports,
    host_opened: bool,
    names: BTreeMap<String, i64>,
    http: Vec<HttpFact>,
    programs: BTreeSet<String>,
}

impl EndpointAgg {
    fn merge(&mut self, o: EndpointAgg) {
        self.flows += o.flows;
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        self.ports.merge(o.ports);
        self.host_opened |= o.host_opened;
        for (name, ts) in o.names {
            let first = self.names.entry(name).or_insert(ts);
            *first = (*first).min(ts);
        }
        self.http.extend(o.http);
        self.programs.extend(o.programs);
    }

    fn new(ts: i64) -> EndpointAgg {
        EndpointAgg {
            flows: 0,
            packets: 0,
            bytes: 0,
            first_ns: ts,
            last_ns: ts,
            ports: Ports::default(),
            host_opened: false,
            names: BTreeMap::new(),
            http: Vec::new(),
            programs: BTreeSet::new(),
        }
    }
}

/// What is known of an address regardless of which host talked to it.
#[derive(Clone)]
struct AddrFacts<'s> {
    country: Option<Country>,
    special: Option<SpecialRange>,
    matches: Vec<&'s Indicator>,
}

impl HostAgg {
    fn merge(&mut self, o: HostAgg) {
        self.sent += o.sent;
        self.flows += o.flows;
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        for (addr, e) in o.endpoints {
            match self.endpoints.get_mut(&addr) {
                Some(mine) => mine.merge(e),
                None => {
                    self.endpoints.insert(addr, e);
                }
            }
        }
    }

    fn new(addr: IpAddr) -> HostAgg {
        HostAgg {
            addr,
            sent: 0,
            flows: 0,
            packets: 0,
            bytes: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            endpoints: FxHashMap::default(),
        }
    }

    fn finish<'s>(
        self,
        names: &Names<'_>,
        ctx: &Context<'s>,
        cache: &mut FxHashMap<IpAddr, AddrFacts<'s>>,
    ) -> HostView<'s> {
        let set = ctx.indicators;
        let mut sorted: Vec<(IpAddr, EndpointAgg)> = self.endpoints.into_iter().collect();
        sorted.sort_unstable_by_key(|(addr, _)| *addr);
        let endpoints = sorted
            .into_iter()
            .map(|(addr, mut e)| {
                let facts = cache
                    .entry(addr)
                    .or_insert_with(|| AddrFacts {
                        country: ctx.geoip.country(addr),
                        special: addr::special_range(addr),
                        matches: set.match_addr(addr).collect(),
                    })
                    .clone();
                // Names from DNS answers that resolved to this address.
                if let Some(resolved) = names.resolved.get(&addr) {
                    for (name, &(ts, _)) in &resolved.names {
                        let first = e.names.entry(name.clone()).or_insert(ts);
                        *first = (*first).min(ts);
                    }
                }
                let mut matches: Vec<Match<'s>> = facts
                    .matches
                    .iter()
                    .map(|&indicator| Match {
                        indicator,
                        via: Via::Address,
                        first_ns: e.first_ns,
                    })
                    .collect();
                for (name, &ts) in &e.names {
                    for indicator in set.match_name(name) {
                        matches.push(Match {
                            indicator,
                            via: Via::Name(name.clone()),
                            first_ns: ts,
                        });
                    }
                }
                // In time order, whatever the table's order.
                e.http
                    .sort_by(|a, b| (a.ts_ns, &a.target).cmp(&(b.ts_ns, &b.target)));
                for req in &e.http {
                    let shown = format!("{}{}", req.host.as_deref().unwrap_or(""), req.target);
                    for indicator in
                        set.match_http(req.host.as_deref(), &req.target, req.user_agent.as_deref())
                    {
                        let via = match (&indicator.matcher, &req.user_agent) {
                            (indicators::Matcher::UserAgent(_), Some(ua)) => {
                                Via::Http(format!("User-Agent: {ua} ({shown})"))
                            }
                            _ => Via::Http(shown.clone()),
                        };
                        matches.push(Match {
                            indicator,
                            via,
                            first_ns: req.ts_ns,
                        });
                    }
                }
                for (proto, port) in e.ports.opened() {
                    for indicator in set.match_port(proto, port) {
                        matches.push(Match {
                            indicator,
                            via: Via::Port(proto, port),
                            first_ns: e.first_ns,
                        });
                    }
                }
                // Keep the earliest requests (the bound must not depend on the table's order).
                e.http.truncate(MAX_HTTP_PER_ENDPOINT);
                Endpoint {
                    addr,
                    country: facts.country,
                    special: facts.special,
                    local: ctx.local.is_local(addr),
                    flows: e.flows,
                    packets: e.packets,
                    bytes: e.bytes,
                    first_ns: e.first_ns,
                    last_ns: e.last_ns,
                    ports: e.ports.shown(),
                    host_opened: e.host_opened,
                    names: e.names.into_keys().collect(),
                    http: e.http,
                    matches,
                    programs: e.programs,
                }
            })
            .collect();
        let (queries, queries_dropped) = match names.queries.get(&self.addr) {
            Some(asked) => {
                let mut queries: Vec<Query<'s>> = asked
                    .names
                    .iter()
                    .map(|(name, &(first_ns, count))| Query {
                        name: name.clone(),
                        first_ns,
                        count,
                        matches: set.match_name(name),
                    })
                    .collect();
                queries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
                (queries, asked.dropped)
            }
            None => (Vec::new(), 0),
        };
        HostView {
            addr: self.addr,
            endpoints,
            queries,
            queries_dropped,
            flows: self.flows,
            packets: self.packets,
            bytes: self.bytes,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Dir, HttpFact};

    /// The views must not depend on the order in which the flow table holds its flows (it
    /// changes with the table's capacity, the hasher and the merge order of inputs).
    #[test]
    fn views_do_not_depend_on_the_tables_order() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let local = LocalNets::default();
        let geoip = GeoIp::embedded().unwrap();
        let indicators = IndicatorSet::embedded().unwrap();
        let ctx = Context {
            local: &local,
            geoip: &geoip,
            indicators: &indicators,
        };
        // Many flows from one host to one endpoint: more ports and requests than are kept.
        let mut flows = Vec::new();
        for i in 0..200u16 {
            let (k, d) = FlowKey::new(
                6,
                ip("192.168.1.2"),
                40000 + i,
                ip("91.190.216.24"),
                1000 + i,
            );
            flows.push((k, d, i64::from(1000 - i)));
        }
        let build = |order: &mut dyn Iterator<Item = &(FlowKey, Dir, i64)>, capacity: usize| {
            let mut t = FlowTable::default();
            t.flows.reserve(capacity);
            for &(k, d, ts) in order {
                t.packet(ts, k, d, 60, true, false);
                t.tls_sni(ts, k, "api.skype.com");
                t.http_request(
                    k,
                    HttpFact {
                        ts_ns: ts,
                        method: "GET".into(),
                        host: Some("ui.skype.com".into()),
                        target: format!("/ui/0/{ts}"),
                        user_agent: None,
                    },
                );
            }
            format!("{:?}", hosts_of(&t, &ctx))
        };
        let forward = build(&mut flows.iter(), 0);
        let backward = build(&mut flows.iter().rev(), 5000);
        assert_eq!(forward, backward);
    }

    #[test]
    fn endpoints_carry_the_programs_of_the_hosts_sockets() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let local = LocalNets::new(vec!["192.0.2.0/24".parse().unwrap()]);
        let geoip = GeoIp::embedded().unwrap();
        let indicators = IndicatorSet::embedded().unwrap();
        let ctx = Context {
            local: &local,
            geoip: &geoip,
            indicators: &indicators,
        };
        let mut t = FlowTable::default();
        // The host's side is b here: the lookup must use the host's port, not the remote's.
        let (k, d) = FlowKey::new(6, ip("203.0.113.10"), 80, ip("192.0.2.2"), 40000);
        t.packet(1, k, d.reverse(), 60, true, false);
        let (k, d) = FlowKey::new(17, ip("192.0.2.2"), 5000, ip("198.51.100.9"), 33033);
        t.packet(2, k, d, 60, false, false);
        t.programs
            .insert((ip("192.0.2.2"), 40000, 6), "skype (pid 7)".into());
        t.programs
            .insert((ip("203.0.113.10"), 80, 6), "wrong side (pid 1)".into());
        let views = hosts_of(&t, &ctx);
        assert_eq!(views.len(), 1);
        let by_addr = |a: &str| {
            views[0]
                .endpoints
                .iter()
                .find(|e| e.addr == ip(a))
                .unwrap()
                .programs
                .iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(by_addr("203.0.113.10"), vec!["skype (pid 7)".to_owned()]);
        assert!(by_addr("198.51.100.9").is_empty());
    }
}
