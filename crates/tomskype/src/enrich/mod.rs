//! Stage 4, enrich: from a flow table to a view per local host. Decides which end of each flow
//! is the host (the local one; with no local end, the one that opened the flow), gathers each
//! host's remote endpoints with their traffic, the names seen for them, their country (GeoIP)
//! and the indicators they match; also the names each host asked DNS for. Every endpoint
//! address is looked up once, however many packets it had.
//!
//! Every name and match says whose it is and how it was obtained ([`Basis`]): only what the
//! host itself sent counts as its own (its requests, TLS server names, lookups whose answers it
//! then contacted), and a DNS answer names addresses only for the client it was sent to.
//! Hosts that answer DNS or relay HTTP for others are recognised (resolvers, proxies), so that
//! what they do on their clients' behalf is not taken for their own.
//!
//! Multicast, broadcast and unspecified addresses are never hosts nor endpoints; a host that
//! only received traffic is still a host (a one-direction capture), unless its address may be
//! a network or broadcast address. Nothing here weighs evidence: that is `classify`'s work.

mod endpoints;
mod packed;
mod ports;
mod so_far;
mod summary;
mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::addr::{LocalNets, Place, SpecialRange};
use crate::flow::names::Clients;
use crate::flow::table::{MAX_NAMES_PER_ADDR, MAX_QUERIES_PER_CLIENT};
use crate::flow::{
    Ended, Flow, FlowFacts, FlowKey, FlowTable, HttpFact, NameSet, SkypeProtocol, Watch,
};
use crate::knowledge::geoip::{Country, GeoIp};
use crate::knowledge::indicators::{Indicator, IndicatorSet};
use ports::Ports;

pub use so_far::Look;
pub use summary::{shed_waiting, Shed};
pub use view::{hosts, hosts_fold, hosts_map, hosts_of};

/// At most this many HTTP requests are kept per endpoint.
const MAX_HTTP_PER_ENDPOINT: usize = 64;
/// At most this many distinct TLS server names are kept per endpoint (the rest are counted;
/// one per watch group is kept past it): a host reaching a CDN's address under many names, or
/// a forged stream of ClientHellos, one name per flow.
const MAX_SNI_PER_ENDPOINT: usize = 64;
/// At most this many distinct target names are remembered per proxy (then every request
/// and server name it sends counts as relayed: see [`Basis::Relayed`]).
const MAX_PROXIED_NAMES: usize = 4096;

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

/// Whose a sign is and how it was obtained: what the host itself did, or what reached it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Basis {
    /// An HTTP request the host sent on its own: no Referer, and either a request only a
    /// client makes (an indicator's URL or parameter) or not a browser's.
    Request,
    /// A TLS server name the host sent.
    ServerName,
    /// A name the host looked up, whose answer (to its own question) named the endpoint, which
    /// the host then contacted.
    LookupAndContact,
    /// A name the host looked up, with no contact with the answered addresses and no request
    /// naming it (a web page's `<img>` causes as much).
    LookupOnly,
    /// A browser's request made for a web page (it carried a Referer, or a browser's
    /// User-Agent on a request no client makes), or a page of TOM's Skype web site.
    Visit,
    /// A request or server name the host relayed for another machine (it is a proxy, or the
    /// request carried `Via`), or a lookup a resolver made for its clients.
    Relayed,
    /// A name only a DNS answer nobody was seen asking for gave the endpoint: anyone can send
    /// one.
    Unsolicited,
    /// The endpoint's address, contacted by the host (it opened a flow and sent packets).
    Contacted,
    /// The endpoint's address; the host never contacted it (it only received, or only
    /// answered): anyone can send packets from any address.
    ReceivedOnly,
    /// The remote port of a flow the host opened.
    Port,
}
/// One indicator match, with when it was first seen and how.
#[derive(Debug, Clone)]
pub struct Match<'s> {
    /// The indicator.
    pub indicator: &'s Indicator,
    /// What matched it.
    pub via: Via,
    /// Whose it is and how it was obtained.
    pub basis: Basis,
    /// Capture time of the first packet (or name) that matched, ns since the epoch.
    pub first_ns: i64,
}

/// How a name was seen for an endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameSeen {
    /// First seen, ns since the epoch.
    pub first_ns: i64,
    /// The host sent it as a TLS server name.
    pub server_name: bool,
    /// The host sent its own HTTP request for it.
    pub request: bool,
    /// The host's browser requested it for a web page.
    pub visit: bool,
    /// The host relayed a request or server name for it on another machine's behalf.
    pub relayed: bool,
    /// An answer to the host's own question named the endpoint's address.
    pub answered: bool,
    /// An answer nobody was seen asking for named the endpoint's address.
    pub unsolicited: bool,
}

impl NameSeen {
    /// Whether the host itself produced the name (anything but an unsolicited answer).
    pub fn is_own(&self) -> bool {
        self.server_name || self.request || self.visit || self.relayed || self.answered
    }
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
    /// Packets the host sent it.
    pub sent: u64,
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
    /// Whether the host sent it requests in proxy form (CONNECT, absolute URIs): it is the
    /// host's proxy, and the names are where the host went through it.
    pub proxy: bool,
    /// Whether the host reached it through a proxy (a CONNECT or absolute URI naming this
    /// address): its packets went to the proxy, so only the request is counted.
    pub through_proxy: bool,
    /// Names seen for it, and how (DNS answers to the host, TLS server names and HTTP hosts
    /// the host sent).
    pub names: BTreeMap<String, NameSeen>,
    /// HTTP requests the host sent it.
    pub http: Vec<HttpFact>,
    /// Indicators it matches.
    pub matches: Vec<Match<'s>>,
    /// Local programs that owned the host's side of its flows (live capture only), as
    /// `name (pid N)`.
    pub programs: BTreeSet<String>,
    /// Skype protocols seen on its flows with the host (Microsoft STUN, classic Skype UDP),
    /// with the time of the first sign.
    pub skype_protocols: BTreeMap<SkypeProtocol, i64>,
}

impl Endpoint<'_> {
    /// Whether the host contacted it: opened a flow to it and sent it packets.
    pub fn contacted(&self) -> bool {
        self.host_opened && self.sent > 0
    }
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
    /// Whether the host is a proxy and a client asked it for the name: its lookup was for them.
    pub relayed: bool,
    /// Whether an endpoint of the host carries the name as its own (its answer led to a
    /// contact, or a request or server name named it): the endpoint's match then speaks for it.
    pub explained: bool,
}

/// What the bounds of the name stores dropped for one host: counted, never silent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Distinct names the host asked DNS for that were not kept.
    pub dns_questions: u64,
    /// Distinct names in DNS answers to the host that were not kept.
    pub dns_answer_names: u64,
    /// HTTP requests on the host's flows that were not kept.
    pub http_requests: u64,
    /// Distinct TLS server names the host sent that were not kept.
    pub tls_names: u64,
}

impl Dropped {
    /// Whether anything was dropped.
    pub fn any(&self) -> bool {
        self.dns_questions + self.dns_answer_names + self.http_requests + self.tls_names > 0
    }
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
    /// What the bounds dropped.
    pub dropped: Dropped,
    /// Distinct other machines whose DNS questions it answered: it is a resolver or forwarder.
    pub dns_clients: u64,
    /// Flows with nothing an indicator could match, summarised to keep memory bounded
    /// (counted in `flows`, `packets`...; their endpoints are not in `endpoints`).
    pub summarised_flows: u64,
    /// The endpoints of those flows (an approximation: added up per summary).
    pub summarised_endpoints: u64,
    /// Distinct other machines that sent it proxy requests: it is an HTTP proxy.
    pub proxy_clients: u64,
    /// Flows it took part in.
    pub flows: u64,
    /// Packets of those flows.
    pub packets: u64,
    /// Packets it sent.
    pub sent: u64,
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
/// ports, names and requests, plus the DNS names of the table and who served or relayed for
/// whom. Built from each input's flow table on its own (in parallel), then merged: merging
/// these is cheap, merging flow tables is not. A flow that spans two inputs counts once in
/// each.
#[derive(Debug, Default)]
pub struct Gathered {
    hosts: FxHashMap<IpAddr, Box<HostAgg>>,
    resolved: FxHashMap<(IpAddr, IpAddr), NameSet>,
    queries: FxHashMap<IpAddr, NameSet>,
    dns_servers: FxHashMap<IpAddr, Clients>,
    proxies: FxHashMap<IpAddr, ProxyAgg>,
    /// Hosts with nothing an indicator could match, summarised ([`Gathered::compact`]).
    summaries: summary::Summaries,
    /// Hosts gathered whole since the last [`Gathered::compact`], not known to have anything
    /// an indicator could match: the only ones it need look at.
    fresh: Vec<IpAddr>,
    /// Hosts summarised since [`Gathered::forget_quiet_names`] last looked.
    forget: Vec<IpAddr>,
    /// Room of summarised hosts, for the next new ones ([`Spare`]).
    spare: Spare,
    watch: Option<Arc<dyn Watch>>,
    /// Flows gathered.
    pub flows: u64,
    /// Time of the earliest packet, ns since the epoch.
    pub first_ns: Option<i64>,
    /// Time of the latest packet, ns since the epoch.
    pub last_ns: Option<i64>,
    /// What keeping to a memory budget took, if anything.
    pub shed: Shed,
}

impl Gathered {
    /// Adds `other` (the next input's) to this.
    pub fn merge(&mut self, mut other: Gathered) {
        if self.watch.is_none() {
            self.watch = other.watch.clone();
        }
        // Into an empty one, the other's stores are taken whole (the first input of a run, or
        // the one table of a capture): not a second copy of every host, made one by one.
        if self.hosts.is_empty() {
            std::mem::swap(&mut self.hosts, &mut other.hosts);
            std::mem::swap(&mut self.fresh, &mut other.fresh);
        }
        if self.resolved.is_empty() {
            std::mem::swap(&mut self.resolved, &mut other.resolved);
        }
        if self.queries.is_empty() {
            std::mem::swap(&mut self.queries, &mut other.queries);
        }
        let watch = self.watch.as_deref();
        for (addr, h) in other.hosts {
            match self.hosts.get_mut(&addr) {
                Some(mine) => mine.merge(*h, watch),
                None => {
                    if !h.may_be_evidence {
                        self.fresh.push(addr);
                    }
                    self.hosts.insert(addr, h);
                }
            }
        }
        for (key, names) in other.resolved {
            self.resolved
                .entry(key)
                .or_default()
                .merge(&names, MAX_NAMES_PER_ADDR, watch);
        }
        for (client, names) in other.queries {
            self.queries
                .entry(client)
                .or_default()
                .merge(&names, MAX_QUERIES_PER_CLIENT, watch);
        }
        for (server, clients) in other.dns_servers {
            self.dns_servers.entry(server).or_default().merge(&clients);
        }
        for (proxy, p) in other.proxies {
            self.proxies.entry(proxy).or_default().merge(p);
        }
        self.summaries.merge(other.summaries);
        self.shed.merge(&other.shed);
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

/// What a proxy was asked to do: by whom, and for which names.
#[derive(Debug, Default, Clone)]
struct ProxyAgg {
    clients: Clients,
    names: BTreeSet<String>,
    /// More names than [`MAX_PROXIED_NAMES`] were asked for.
    overflow: bool,
}

impl ProxyAgg {
    fn add(&mut self, client: IpAddr, name: Option<&str>) {
        self.clients.add(client);
        if let Some(name) = name {
            self.add_name(name);
        }
    }

    /// Remembers a name a client asked for, within [`MAX_PROXIED_NAMES`].
    fn add_name(&mut self, name: &str) {
        if self.names.len() < MAX_PROXIED_NAMES {
            self.names.insert(name.to_owned());
        } else if !self.names.contains(name) {
            self.overflow = true;
        }
    }

    fn merge(&mut self, other: ProxyAgg) {
        self.clients.merge(&other.clients);
        for name in &other.names {
            self.add_name(name);
        }
        self.overflow |= other.overflow;
    }

    /// Whether the proxy's own use of `name` (a server name, a lookup, a request's host, an
    /// address) was on a client's behalf: a client asked for it, or more names were asked for
    /// than are remembered (then every one counts as relayed).
    fn relays(&self, name: &str) -> bool {
        self.overflow || self.names.contains(name)
    }
}

/// Gathers a flow table's flows per host and endpoint; `ctx.local` says which end is the host.
/// Of the remote ports of flows the host opened, those that no indicator of `ctx.indicators`
/// names are not kept (they cannot be evidence, and a scanning host opens thousands), so the
/// result must be reported with the same indicator set.
pub fn gather(table: &FlowTable, ctx: &Context<'_>) -> Gathered {
    let mut g = Gathered {
        watch: table.watch.clone(),
        ..Gathered::default()
    };
    for (key, flow) in table.flows.iter() {
        g.fold_flow(&key, &flow, table.facts.get(&key), table, ctx);
    }
    g.finish(
        table.resolved.clone(),
        table.queries.clone(),
        table.dns_servers.clone(),
        table,
    );
    g
}

/// [`gather`] for a table that is not needed after: its DNS stores are moved, not copied.
pub fn gather_owned(mut table: FlowTable, ctx: &Context<'_>) -> Gathered {
    let mut g = Gathered {
        watch: table.watch.clone(),
        ..Gathered::default()
    };
    for (key, flow) in table.flows.iter() {
        g.fold_flow(&key, &flow, table.facts.get(&key), &table, ctx);
    }
    let (resolved, queries, dns_servers) = (
        std::mem::take(&mut table.resolved),
        std::mem::take(&mut table.queries),
        std::mem::take(&mut table.dns_servers),
    );
    g.finish(resolved, queries, dns_servers, &table);
    g
}

impl Gathered {
    /// Gathers flows that ended (taken out of `table` by [`FlowTable::take_idle`]) into this,
    /// as [`gather`] would have gathered them from the table: `table` gives the programs that
    /// owned the host's sockets. The table's DNS stores and times are gathered at the end
    /// ([`gather`], [`gather_owned`], then [`Gathered::merge`]).
    pub fn fold_ended(&mut self, ended: &[Ended], table: &FlowTable, ctx: &Context<'_>) {
        if self.watch.is_none() {
            self.watch = table.watch.clone();
        }
        for e in ended {
            self.fold_flow(&e.key, &e.flow, e.facts.as_deref(), table, ctx);
        }
        self.flows += ended.len() as u64;
    }

    /// Adds the table's stores beside the flows, its flow count and times; tidies what was
    /// gathered (in the worker, so that merging inputs on the main thread is one pass).
    fn finish(
        &mut self,
        resolved: FxHashMap<(IpAddr, IpAddr), NameSet>,
        queries: FxHashMap<IpAddr, NameSet>,
        dns_servers: FxHashMap<IpAddr, Clients>,
        table: &FlowTable,
    ) {
        for e in self
            .hosts
            .values_mut()
            .flat_map(|h| h.endpoints.values_mut())
        {
            e.ports.tidy();
        }
        self.resolved = resolved;
        self.queries = queries;
        self.dns_servers = dns_servers;
        self.flows += table.flows.len() as u64;
        self.first_ns = table.first_ns;
        self.last_ns = table.last_ns;
    }

    /// Gathers one flow into its host's (and, when both ends are local, its other end's)
    /// endpoints; requests in proxy form into the proxies.
    fn fold_flow(
        &mut self,
        key: &FlowKey,
        flow: &Flow,
        facts: Option<&FlowFacts>,
        table: &FlowTable,
        ctx: &Context<'_>,
    ) {
        let (local, indicators) = (ctx.local, ctx.indicators);
        let (by_host, proxies, fresh, spare) = (
            &mut self.hosts,
            &mut self.proxies,
            &mut self.fresh,
            &mut self.spare,
        );
        let key = *key;
        // Requests in proxy form name their receiver a proxy, whoever the hosts are.
        for req in facts.iter().flat_map(|f| &f.http).filter(|r| r.to_proxy()) {
            let server = if req.client == key.a { key.b } else { key.a };
            proxies
                .entry(server)
                .or_default()
                .add(req.client, req.host.as_deref());
        }
        let Some((host, remote, host_is_a, remote_local)) = sides(&key, flow.opener.side(), local)
        else {
            return;
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
        let mut add = |host: IpAddr,
                       remote: IpAddr,
                       host_port: u16,
                       remote_port: u16,
                       opened: Option<bool>| {
            let h = by_host.entry(host).or_insert_with(|| {
                fresh.push(host);
                spare.take(host)
            });
            h.unchanged = false;
            let host_dir = if host == key.a { 0 } else { 1 };
            let sent = flow.packets[host_dir];
            h.sent += sent;
            h.flows += 1;
            h.packets += flow.total_packets();
            h.bytes += flow.total_bytes();
            h.first_ns = h.first_ns.min(flow.first_ns);
            h.last_ns = h.last_ns.max(flow.last_ns);
            let e = h
                .endpoints
                .get_or_insert_with(remote, || EndpointAgg::new(flow.first_ns));
            e.flows += 1;
            e.packets += flow.total_packets();
            e.sent += sent;
            e.bytes += flow.total_bytes();
            e.first_ns = e.first_ns.min(flow.first_ns);
            e.last_ns = e.last_ns.max(flow.last_ns);
            if let Some(program) = table.program(host, host_port, key.proto) {
                if !e.rare().programs.contains(program) {
                    e.rare_mut().programs.insert(program.to_owned());
                }
            }
            let opened = opened.unwrap_or(true);
            e.host_opened |= opened;
            e.ports.add(
                key.proto,
                remote_port,
                opened && indicators.names_port(remote_port),
            );
            // Addresses the host asked its proxy to reach (`CONNECT 1.2.3.4:443`,
            // `GET http://1.2.3.4/...`): its own contacts, made through the proxy.
            let mut proxied: Vec<(IpAddr, i64)> = Vec::new();
            // Names and requests count only for the end that sent them.
            if let Some(facts) = facts {
                for (name, &(ts, sender)) in &facts.sni {
                    if sender == host && !e.rare_mut().add_sni(name, ts, Some(indicators)) {
                        h.sni_dropped += 1;
                    }
                }
                for req in facts.http.iter().filter(|r| r.client == host) {
                    e.proxy |= req.to_proxy();
                    if req.to_proxy() {
                        let target = req.host.as_deref().map(|h| h.trim_matches(['[', ']']));
                        if let Some(ip) = target.and_then(|h| h.parse::<IpAddr>().ok()) {
                            proxied.push((ip, req.ts_ns));
                        }
                    }
                    let rare = e.rare_mut();
                    if rare.http.len() >= HTTP_THIN_PAST && rare.http.len() == rare.http.capacity()
                    {
                        h.http_dropped += rare.thin_http(indicators);
                    }
                    rare.http.push(req.clone());
                }
                if opened {
                    h.http_dropped += facts.http_dropped;
                    h.sni_dropped += facts.sni_dropped;
                }
                // Skype's protocols: a sign of the flow, for both its ends.
                for p in facts.skype.protocols(flow.total_packets()) {
                    let ts = facts.skype.first_ns.unwrap_or(flow.first_ns);
                    let first = e.rare_mut().skype.entry(p).or_insert(ts);
                    *first = (*first).min(ts);
                }
            }
            for (ip, ts) in proxied {
                if ip == remote || ip == host {
                    continue;
                }
                let t = h.endpoints.get_or_insert_with(ip, || EndpointAgg::new(ts));
                t.host_opened = true;
                t.sent += 1;
                t.through_proxy = true;
                t.first_ns = t.first_ns.min(ts);
                t.last_ns = t.last_ns.max(ts);
            }
        };
        add(host, remote, host_port, remote_port, opened);
        if remote_local {
            // Both ends are local hosts: each sees the other as an endpoint.
            add(remote, host, remote_port, host_port, opened.map(|o| !o));
        }
    }
}

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

/// The boxes of the hosts last summarised, given to the next new hosts.
///
/// A host's aggregate (about 400 bytes) is boxed, so that the host map's entries are small
/// and growing the map moves pointers. On a big network most hosts are gathered, summarised
/// and gone within minutes of capture time; a new host put in the box one just left reuses
/// memory already touched, where a map entry of its own (unboxed) or a fresh allocation
/// would often be new. On the 1 GB many-hosts capture of bench/RESULTS.md (`--threads 1`,
/// `/usr/bin/time -f %M`): a peak of 107 MB instead of 122 MB, 27,300 minor page faults
/// instead of 43,400, the same report. Without the spares, boxes alone spent in `malloc` and
/// `free` what they saved (`perf record`). A memory budget's shedding frees the spares
/// ([`Gathered::shed_quiet`]): they hold nothing, and the budget counts them.
#[derive(Debug, Default)]
#[allow(clippy::vec_box)] // The boxes are what is kept: each becomes a host map's value.
struct Spare(Vec<Box<HostAgg>>);

impl Spare {
    /// Boxes kept at most: as many hosts as may be gathered whole between two summarisings
    /// ([`crate::analyze::SUMMARISE_PAST`]).
    const KEPT: usize = 16_384;

    /// A box for the new host `addr`.
    fn take(&mut self, addr: IpAddr) -> Box<HostAgg> {
        match self.0.pop() {
            Some(mut h) => {
                *h = HostAgg::new(addr);
                h
            }
            None => Box::new(HostAgg::new(addr)),
        }
    }

    /// Keeps `h`'s box for a later host, if there is room; what it held is freed now.
    fn give(&mut self, mut h: Box<HostAgg>) {
        if self.0.len() < Self::KEPT {
            h.endpoints = endpoints::Endpoints::default();
            self.0.push(h);
        }
    }
}

#[derive(Debug, Clone)]
struct HostAgg {
    addr: IpAddr,
    sent: u64,
    flows: u64,
    packets: u64,
    bytes: u64,
    first_ns: i64,
    last_ns: i64,
    http_dropped: u64,
    /// TLS server names it sent that the bounds did not keep.
    sni_dropped: u64,
    endpoints: endpoints::Endpoints,
    /// Flows of this host that were summarised (see [`summary`]): counted above, their
    /// endpoints not in `endpoints`.
    summarised_flows: u64,
    /// Endpoints of those flows (added up per summary: an approximation).
    summarised_endpoints: u64,
    /// Something of this host could be evidence: it is never summarised.
    may_be_evidence: bool,
    /// Nothing was gathered into it since [`Gathered::so_far`] last looked at it (a quiet host
    /// need not be looked at again, nor a host with a sign viewed again).
    unchanged: bool,
}

#[derive(Debug, Clone)]
struct EndpointAgg {
    flows: u64,
    packets: u64,
    sent: u64,
    bytes: u64,
    first_ns: i64,
    last_ns: i64,
    ports: Ports,
    host_opened: bool,
    proxy: bool,
    through_proxy: bool,
    /// What few endpoints have, if this one has any of it.
    rare: Option<Box<Rare>>,
}

/// What few endpoints have: names and requests the host sent them, programs, Skype's
/// protocols. Kept apart, so that an endpoint without any of it (nearly every one of a big
/// network's) is a third smaller, and is dropped with one test instead of four.
#[derive(Debug, Clone, Default)]
struct Rare {
    /// TLS server names the host sent it, with the time first seen: at most
    /// [`MAX_SNI_PER_ENDPOINT`], and one per watch group past it.
    sni: BTreeMap<String, i64>,
    /// Watch groups of the server names kept past the bound.
    sni_over: Vec<u32>,
    http: Vec<HttpFact>,
    programs: BTreeSet<String>,
    /// Skype protocols its flows showed, with the time of the first sign.
    skype: BTreeMap<SkypeProtocol, i64>,
}

/// The [`Rare`] of an endpoint that has none.
static NO_RARE: Rare = Rare {
    sni: BTreeMap::new(),
    sni_over: Vec::new(),
    http: Vec::new(),
    programs: BTreeSet::new(),
    skype: BTreeMap::new(),
};

/// Requests that an indicator watches kept per endpoint when its list is thinned, beside the
/// first [`MAX_HTTP_PER_ENDPOINT`]; past them, one of each watch group and kind.
const MAX_WATCHED_HTTP_PER_ENDPOINT: usize = 1024;
/// Host names (with each kind of request) whose first request an endpoint keeps when its list
/// is thinned.
const MAX_HTTP_KINDS: usize = 1024;

/// Requests of one endpoint past which, when its list is full, the list is thinned
/// ([`Rare::thin_http`]): a host making millions of requests to one server over millions
/// of flows (each flow keeps its first 32) keeps a bounded list.
const HTTP_THIN_PAST: usize = 2 * MAX_HTTP_PER_ENDPOINT;

impl EndpointAgg {
    /// What few endpoints have (empty for this one if it has none).
    fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    /// What few endpoints have, made for this one if it had none.
    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }
}

impl Rare {
    /// Adds the TLS server name `name` first seen at `ts`, within the bound
    /// ([`MAX_SNI_PER_ENDPOINT`], and one per watch group past it); whether it is kept.
    fn add_sni(&mut self, name: &str, ts: i64, watch: Option<&dyn Watch>) -> bool {
        if let Some(first) = self.sni.get_mut(name) {
            *first = (*first).min(ts);
        } else if self.sni.len() < MAX_SNI_PER_ENDPOINT
            || crate::flow::names::keep_past_bound(&mut self.sni_over, name, watch)
        {
            self.sni.insert(name.to_owned(), ts);
        } else {
            return false;
        }
        true
    }

    /// Keeps, of the endpoint's requests, all that a view of it reads (see `view::endpoint`),
    /// and drops the rest: the earliest [`MAX_HTTP_PER_ENDPOINT`] (in the order the view sorts
    /// them: time, then target), which are the ones it lists; the earliest
    /// [`MAX_WATCHED_HTTP_PER_ENDPOINT`] that match or may match an indicator (evidence), and
    /// past them the earliest of each watch group and kind ([`HttpFact::kind`]); and of the
    /// others, the earliest of each kind with each host name (the first [`MAX_HTTP_KINDS`]
    /// of those) and of each kind, which decide whose the contact with the endpoint was and
    /// how each name was seen. So the view of an endpoint with fewer watched requests and
    /// host names than that is its view with every request; past them (a forged stream of
    /// requests, each to a new name an indicator watches) its evidence still is. The list then
    /// has room for as many again, so that thinning costs a constant per request. Returns how
    /// many it dropped (counted in the host's `coverage.dropped.http_requests`).
    fn thin_http(&mut self, set: &IndicatorSet) -> u64 {
        self.http
            .sort_by(|a, b| (a.ts_ns, &a.target).cmp(&(b.ts_ns, &b.target)));
        let mut groups: rustc_hash::FxHashSet<(u32, u8)> = rustc_hash::FxHashSet::default();
        let mut hosts: rustc_hash::FxHashSet<(Option<String>, u8)> =
            rustc_hash::FxHashSet::default();
        let mut kinds = 0u32;
        let (mut at, mut watched) = (0usize, 0usize);
        let before = self.http.len();
        self.http.retain(|r| {
            at += 1;
            if at <= MAX_HTTP_PER_ENDPOINT {
                return true;
            }
            let kind = r.kind();
            let watch = r.watch_groups(set);
            if !watch.is_empty() {
                watched += 1;
                // Every group is taken (no short cut): a later request must not keep a place
                // this one already holds.
                let new = watch
                    .into_iter()
                    .fold(false, |new, group| groups.insert((group, kind)) | new);
                if watched <= MAX_WATCHED_HTTP_PER_ENDPOINT || new {
                    return true;
                }
            }
            let new_host = hosts.len() < MAX_HTTP_KINDS && hosts.insert((r.host.clone(), kind));
            let new_kind = kinds & 1 << kind == 0;
            kinds |= 1 << kind;
            new_host || new_kind
        });
        // Room for as many again, exactly: a list grown by doubling would keep room for twice
        // its largest size.
        let len = self.http.len();
        self.http.shrink_to(2 * len);
        self.http.reserve_exact(len);
        (before - len) as u64
    }
}

impl EndpointAgg {
    /// Adds `o`'s (of the same address), keeping `watch`'s names past the bounds; how many
    /// TLS server names the bound did not keep.
    fn merge(&mut self, o: EndpointAgg, watch: Option<&dyn Watch>) -> u64 {
        self.flows += o.flows;
        self.packets += o.packets;
        self.sent += o.sent;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        self.ports.merge(o.ports);
        self.host_opened |= o.host_opened;
        self.proxy |= o.proxy;
        self.through_proxy |= o.through_proxy;
        let Some(o) = o.rare else {
            return 0;
        };
        let Some(mine) = &mut self.rare else {
            self.rare = Some(o);
            return 0;
        };
        let mut dropped = 0;
        // In name order (a BTreeMap's): which names the bound keeps does not depend on hashing.
        for (name, ts) in o.sni {
            dropped += u64::from(!mine.add_sni(&name, ts, watch));
        }
        mine.http.extend(o.http);
        mine.programs.extend(o.programs);
        for (p, ts) in o.skype {
            let first = mine.skype.entry(p).or_insert(ts);
            *first = (*first).min(ts);
        }
        dropped
    }

    fn new(ts: i64) -> EndpointAgg {
        EndpointAgg {
            flows: 0,
            packets: 0,
            sent: 0,
            bytes: 0,
            first_ns: ts,
            last_ns: ts,
            ports: Ports::default(),
            host_opened: false,
            proxy: false,
            through_proxy: false,
            rare: None,
        }
    }
}

impl HostAgg {
    /// Adds `o`'s (of the same address), keeping `watch`'s names past the bounds.
    fn merge(&mut self, o: HostAgg, watch: Option<&dyn Watch>) {
        self.sent += o.sent;
        self.flows += o.flows;
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        self.http_dropped += o.http_dropped;
        self.sni_dropped += o.sni_dropped;
        self.summarised_flows += o.summarised_flows;
        self.summarised_endpoints += o.summarised_endpoints;
        self.may_be_evidence |= o.may_be_evidence;
        self.unchanged = false;
        for (addr, e) in o.endpoints.into_vec() {
            match self.endpoints.get_mut(addr) {
                Some(mine) => self.sni_dropped += mine.merge(e, watch),
                None => {
                    self.endpoints.push(addr, e);
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
            http_dropped: 0,
            sni_dropped: 0,
            endpoints: endpoints::Endpoints::default(),
            summarised_flows: 0,
            summarised_endpoints: 0,
            may_be_evidence: false,
            unchanged: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Dir, HttpFact};

    /// No local networks given, the shipped GeoIP database and indicators.
    pub(super) fn known() -> (LocalNets, GeoIp, IndicatorSet) {
        (
            LocalNets::default(),
            GeoIp::embedded().unwrap(),
            IndicatorSet::embedded().unwrap(),
        )
    }

    /// The context of [`known`]'s.
    pub(super) fn context(known: &(LocalNets, GeoIp, IndicatorSet)) -> Context<'_> {
        Context {
            local: &known.0,
            geoip: &known.1,
            indicators: &known.2,
        }
    }

    /// A box given back after its host was summarised holds nothing of that host when it is
    /// taken for the next: counters, endpoints and marks are those of a new host.
    #[test]
    fn a_spare_box_holds_nothing_of_its_last_host() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let mut old = HostAgg::new(ip("10.0.0.1"));
        old.sent = 7;
        old.flows = 3;
        old.may_be_evidence = true;
        old.endpoints
            .get_or_insert_with(ip("91.190.216.24"), || EndpointAgg::new(5))
            .flows = 3;
        old.endpoints
            .get_or_insert_with(ip("91.190.216.25"), || EndpointAgg::new(6));
        let mut spare = Spare::default();
        spare.give(Box::new(old));
        // What it held is freed when given, not when taken.
        assert_eq!(spare.0[0].endpoints.len(), 0);
        let reused = spare.take(ip("10.0.0.2"));
        assert_eq!(
            format!("{reused:?}"),
            format!("{:?}", HostAgg::new(ip("10.0.0.2")))
        );
        assert!(spare.0.is_empty());
        // Past the bound, boxes are freed, not kept.
        for i in 0..Spare::KEPT + 5 {
            spare.give(Box::new(HostAgg::new(IpAddr::from([10, 1, 0, i as u8]))));
        }
        assert_eq!(spare.0.len(), Spare::KEPT);
    }

    /// The views must not depend on the order in which the flow table holds its flows (it
    /// changes with the table's capacity, the hasher and the merge order of inputs).
    #[test]
    fn views_do_not_depend_on_the_tables_order() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let known = known();
        let ctx = context(&known);
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
                t.tls_sni(ts, k, ip("192.168.1.2"), "api.skype.com");
                t.http_request(
                    k,
                    HttpFact {
                        ts_ns: ts,
                        method: "GET".into(),
                        host: Some("ui.skype.com".into()),
                        target: format!("/ui/0/{ts}"),
                        user_agent: None,
                        referer: None,
                        via: false,
                        client: ip("192.168.1.2"),
                    },
                );
            }
            format!("{:?}", hosts_of(&t, &ctx))
        };
        let forward = build(&mut flows.iter(), 0);
        let backward = build(&mut flows.iter().rev(), 5000);
        assert_eq!(forward, backward);
    }

    /// Runs `f` in a context of the default local networks and the shipped knowledge.
    fn in_context<T>(f: impl FnOnce(&Context<'_>) -> T) -> T {
        let (local, geoip) = (LocalNets::default(), GeoIp::embedded().unwrap());
        let indicators = IndicatorSet::embedded().unwrap();
        f(&Context {
            local: &local,
            geoip: &geoip,
            indicators: &indicators,
        })
    }

    /// TLS server names are bounded per flow (8) and per endpoint (64), and past each bound
    /// one name per watch group is kept: a host that named one address under hundreds of
    /// names, and a forged flow that sent a ClientHello per segment, keep the first names and
    /// every watched one, and the view counts the rest.
    #[test]
    fn server_names_are_bounded_per_flow_and_endpoint_keeping_watched_ones() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let known = known();
        let (ctx, indicators) = (context(&known), &known.2);
        use crate::flow::Watch;
        assert!(!indicators.watch_name("skypetools.tom.com").is_empty());
        assert!(indicators.watch_name("n1.example.com").is_empty());
        let (host, cdn) = (ip("192.168.1.2"), ip("203.0.113.7"));
        let mut t = FlowTable::with_watch(indicators.watch());
        // 100 flows, one name each; the 90th names TOM's server.
        for i in 0..100u16 {
            let (k, d) = FlowKey::new(6, host, 40000 + i, cdn, 443);
            let ts = i64::from(i);
            t.packet(ts, k, d, 60, true, false);
            let name = match i {
                90 => "skypetools.tom.com".to_string(),
                _ => format!("n{i}.example.com"),
            };
            t.tls_sni(ts, k, host, &name);
        }
        // One flow with 20 names, its last watched.
        let (k, d) = FlowKey::new(6, host, 50000, ip("203.0.113.8"), 443);
        t.packet(200, k, d, 60, true, false);
        for i in 0..20 {
            let name = match i {
                19 => "skypetools.tom.com".to_string(),
                _ => format!("m{i}.example.com"),
            };
            t.tls_sni(200 + i, k, host, &name);
        }
        assert_eq!(t.facts[&k].sni.len(), 9);
        assert_eq!(t.facts[&k].sni_dropped, 11);
        let views = hosts_of(&t, &ctx);
        let v = views.iter().find(|v| v.addr == host).unwrap();
        let names = |addr: IpAddr| -> Vec<String> {
            let e = v.endpoints.iter().find(|e| e.addr == addr).unwrap();
            e.names.keys().cloned().collect()
        };
        let on_cdn = names(cdn);
        assert_eq!(on_cdn.len(), MAX_SNI_PER_ENDPOINT + 1, "{on_cdn:?}");
        assert!(on_cdn.iter().any(|n| n == "skypetools.tom.com"));
        assert!(on_cdn.iter().any(|n| n == "n63.example.com"));
        assert!(!on_cdn.iter().any(|n| n == "n64.example.com"));
        assert!(names(ip("203.0.113.8"))
            .iter()
            .any(|n| n == "skypetools.tom.com"));
        // 100 - 65 on the CDN's address, 11 on the forged flow.
        assert_eq!(v.dropped.tls_names, 35 + 11);
    }

    #[test]
    fn every_address_a_host_named_to_its_proxy_is_its_contact() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let mut t = FlowTable::default();
        let (k, d) = FlowKey::new(6, ip("192.168.1.2"), 40000, ip("192.168.1.1"), 3128);
        t.packet(1, k, d, 60, true, false);
        // The proxy's own address first (not a contact of its own), then one through it.
        for (n, target) in ["192.168.1.1:443", "203.0.113.50:443"].iter().enumerate() {
            t.http_request(
                k,
                HttpFact {
                    ts_ns: 1 + n as i64,
                    method: "CONNECT".into(),
                    host: target.split(':').next().map(str::to_owned),
                    target: (*target).into(),
                    user_agent: None,
                    referer: None,
                    via: false,
                    client: ip("192.168.1.2"),
                },
            );
        }
        in_context(|ctx| {
            let views = hosts_of(&t, ctx);
            let host = views.iter().find(|v| v.addr == ip("192.168.1.2")).unwrap();
            let through = host
                .endpoints
                .iter()
                .find(|e| e.addr == ip("203.0.113.50"))
                .expect("the address named after the proxy's own");
            assert!(through.through_proxy);
        });
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
