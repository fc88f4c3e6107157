//! Stage 3, flows: the flow table. One entry per direction-free flow with packet and byte
//! counts per direction, first and last time, and who opened it; beside it, the names seen in
//! the traffic, each with whose it is: DNS answers (which name resolved to which address, for
//! which client, asked for or not), DNS queries (which client asked for which name), which
//! hosts answered DNS for others, TLS server names and HTTP requests with who sent them, and
//! signs of Skype's own protocols per flow.
//!
//! Memory grows with flows and distinct names, never with packets: each kind of name store is
//! bounded, and what goes past a bound is counted, not kept, except what could be evidence
//! (see [`super::names`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::key::{Dir, FlowKey};
use super::map::{FlowMap, Probe};
use super::names::{Clients, NameSet, Seen, Watch};
use super::record::Flow;
use super::skype::SkypeFacts;
use crate::decode::skype::{SkypeProtocol, SkypeSign};

/// At most this many HTTP requests are kept per flow (the rest are counted), and past it
/// [`MAX_WATCHED_HTTP_PAST`] that an indicator watches.
pub const MAX_HTTP_PER_FLOW: usize = 32;
/// Requests an indicator watches kept per flow past [`MAX_HTTP_PER_FLOW`]; past both, one of
/// each watch group and kind ([`HttpFact::kind`]). A flow of requests is a long session (a
/// program polling its server for hours on one connection) or a forged one, a request per
/// segment: without this a forger could make every request watched and have them all kept.
pub const MAX_WATCHED_HTTP_PAST: usize = 256;
/// At most this many distinct names are kept per address or per DNS client.
pub const MAX_NAMES_PER_ADDR: usize = 64;
/// At most this many distinct queried names are kept per DNS client.
pub const MAX_QUERIES_PER_CLIENT: usize = 4096;
/// At most this many distinct TLS server names are kept per flow (the rest are counted; one per
/// watch group is kept past it): a TCP connection or a QUIC one sends one, but every segment
/// or datagram that reads as a ClientHello or an Initial is read, and a forged flow can send
/// a new name in each.
pub const MAX_SNI_PER_FLOW: usize = 8;

/// How long a TCP flow may stay silent before it is over, ns: Zeek's `tcp_inactivity_timeout`
/// (5 minutes). A packet after that starts a new flow with the same key.
pub const TCP_IDLE_NS: i64 = 300_000_000_000;
/// How long a flow of any other protocol may stay silent, ns: Zeek's `udp_inactivity_timeout`
/// and `icmp_inactivity_timeout` (1 minute).
pub const OTHER_IDLE_NS: i64 = 60_000_000_000;

/// How long a flow of IP protocol `proto` may stay silent before it is over, ns.
pub fn idle_timeout(proto: u8) -> i64 {
    if proto == 6 {
        TCP_IDLE_NS
    } else {
        OTHER_IDLE_NS
    }
}

/// A flow taken out of the table because it is over, with the names seen on it.
#[derive(Debug, Clone)]
pub struct Ended {
    /// Its key.
    pub key: FlowKey,
    /// Its counters.
    pub flow: Flow,
    /// The names seen on it, if any (boxed: most flows have none, and a sweep of a big
    /// network's capture takes hundreds of thousands of flows at once).
    pub facts: Option<Box<FlowFacts>>,
}

/// An HTTP request seen on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFact {
    /// Capture time, ns since the epoch.
    pub ts_ns: i64,
    /// Request method.
    pub method: String,
    /// Host (header, or from an absolute-form target), lowercase, no port.
    pub host: Option<String>,
    /// Request target as sent (path and query, or absolute URI).
    pub target: String,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Referer header: present when a web page made the browser fetch it.
    pub referer: Option<String>,
    /// A `Via` header was present: a proxy relayed the request for someone else.
    pub via: bool,
    /// Who sent the request.
    pub client: IpAddr,
}

impl HttpFact {
    /// What a view tells apart in a request besides its names (`enrich::view`): a `Via`
    /// header, a Referer, the proxy form, a browser's User-Agent; one bit each.
    pub fn kind(&self) -> u8 {
        u8::from(self.via)
            | u8::from(self.referer.is_some()) << 1
            | u8::from(self.to_proxy()) << 2
            | u8::from(crate::decode::http::is_browser(self.user_agent.as_deref())) << 3
    }

    /// The groups of every indicator of `watch` that could match the request (its host, target
    /// and User-Agent); empty if none could.
    pub fn watch_groups(&self, watch: &(impl Watch + ?Sized)) -> Vec<u32> {
        watch.watch_request(
            self.host.as_deref(),
            &self.target,
            self.user_agent.as_deref(),
        )
    }

    /// Whether the request is in a form that only a proxy receives: `CONNECT host:port`, or an
    /// absolute URI (`GET http://host/path`). Its host is then where the client wanted to go,
    /// and the server it was sent to is a proxy.
    pub fn to_proxy(&self) -> bool {
        self.method.eq_ignore_ascii_case("CONNECT")
            || crate::decode::http::without_scheme(&self.target).is_some()
    }
}

impl FlowFacts {
    /// Adds one sighting of the TLS server name `name` (its time and sender), within the
    /// bound ([`MAX_SNI_PER_FLOW`], and one name per watch group past it).
    pub fn add_sni(&mut self, name: &str, seen: (i64, IpAddr), watch: Option<&dyn Watch>) {
        if let Some(first) = self.sni.get_mut(name) {
            if seen.0 < first.0 {
                *first = seen;
            }
        } else if self.sni.len() < MAX_SNI_PER_FLOW
            || super::names::keep_past_bound(&mut self.sni_over, name, watch)
        {
            self.sni.insert(name.to_owned(), seen);
        } else {
            self.sni_dropped += 1;
        }
    }
}

/// Names seen on one flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowFacts {
    /// TLS server names (SNI): name → (time first seen, who sent the ClientHello), at most
    /// [`MAX_SNI_PER_FLOW`] and one per watch group past it.
    pub sni: BTreeMap<String, (i64, IpAddr)>,
    /// TLS server names seen past the bound, not kept.
    pub sni_dropped: u64,
    /// Watch groups of the names kept past the bound.
    pub sni_over: Vec<u32>,
    /// HTTP requests, in order: at most [`MAX_HTTP_PER_FLOW`], and past it the watched ones
    /// ([`FlowTable::http_request`]).
    pub http: Vec<HttpFact>,
    /// HTTP requests seen past the bound.
    pub http_dropped: u64,
    /// Watch groups and kinds of the requests kept past both bounds.
    pub http_over: Vec<(u32, u8)>,
    /// Signs of Skype's own protocols (a few counters).
    pub skype: SkypeFacts,
}

/// What [`FlowTable::shed_waiting`] dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitingShed {
    /// TLS server names.
    pub names: u64,
    /// HTTP requests.
    pub requests: u64,
}

/// The flow table and the names seen beside it.
#[derive(Debug, Clone, Default)]
pub struct FlowTable {
    /// Every flow.
    pub flows: FlowMap,
    /// Names seen on flows (only flows that had any).
    pub facts: FxHashMap<FlowKey, FlowFacts>,
    /// DNS answers: (client, address) → names that resolved to the address (through CNAME
    /// chains too) in answers sent to the client, solicited or not.
    pub resolved: FxHashMap<(IpAddr, IpAddr), NameSet>,
    /// DNS questions: client address → names it asked for.
    pub queries: FxHashMap<IpAddr, NameSet>,
    /// DNS servers: address → the clients whose questions it answered (from port 53; paired
    /// answers only, so that a forged answer cannot make a host a resolver).
    pub dns_servers: FxHashMap<IpAddr, Clients>,
    /// Which names and requests could be evidence (kept past every bound); none by default.
    pub watch: Option<Arc<dyn Watch>>,
    /// Time of the earliest packet, ns since the epoch.
    pub first_ns: Option<i64>,
    /// Time of the latest packet, ns since the epoch.
    pub last_ns: Option<i64>,
    /// Programs that owned local sockets: (local address, local port, IP protocol) → program,
    /// as `name (pid N)`. Filled by live capture (Linux); empty for capture files.
    pub programs: FxHashMap<(IpAddr, u16, u8), String>,
}

impl FlowTable {
    /// Counts one packet of `bytes` wire bytes on flow `key`, sent in direction `dir`.
    /// `syn` says whether it was a TCP SYN, `syn_ack` a SYN+ACK.
    #[inline]
    pub fn packet(
        &mut self,
        ts: i64,
        key: FlowKey,
        dir: Dir,
        bytes: u32,
        syn: bool,
        syn_ack: bool,
    ) {
        let probe = self.flows.probe(&key);
        self.count(&probe, ts, dir, bytes, syn, syn_ack);
    }

    /// [`FlowTable::packet`] for a key already hashed (see [`FlowMap`] for why).
    #[inline]
    pub fn count(
        &mut self,
        probe: &Probe,
        ts: i64,
        dir: Dir,
        bytes: u32,
        syn: bool,
        syn_ack: bool,
    ) {
        self.see_time(ts);
        self.flows.count(probe, ts, dir, bytes, syn, syn_ack);
    }

    /// Adds a whole flow at once (from a flow log such as Zeek's conn.log).
    pub fn add_flow(&mut self, key: FlowKey, flow: Flow) {
        self.see_time(flow.first_ns);
        self.see_time(flow.last_ns);
        self.flows.add(&key, &flow);
    }

    /// Takes out every flow that has been silent longer than its [`idle_timeout`] at `now`
    /// (ns since the epoch), with its names, in the order first seen (IPv4 first), handing
    /// them to `each` `batch` at a time (at least one) with the table as it is then. No list of
    /// them all is made: a sweep of a big network's capture ends hundreds of thousands of flows
    /// at once, and such a list took more memory than the table. Until the last batch is
    /// handed over, the flows taken are still among the table's flows (not their names). A
    /// packet with the same key after this starts a new flow. What the table knows beside
    /// flows (DNS answers and questions per client, resolvers, programs) stays.
    pub fn take_idle(&mut self, now: i64, batch: usize, each: impl FnMut(&[Ended], &FlowTable)) {
        self.take_if(
            |proto, last_ns| now.saturating_sub(last_ns) > idle_timeout(proto),
            batch,
            each,
        );
    }

    /// Takes out every flow, with its names (at the end of an input: see
    /// [`FlowTable::take_idle`]).
    pub fn take_all(&mut self, batch: usize, each: impl FnMut(&[Ended], &FlowTable)) {
        self.take_if(|_, _| true, batch, each);
    }

    /// When fewer flows have facts than the `total` flows marked in `marks`, takes out the
    /// facts of the marked flows with their positions, the last first (to be popped in
    /// order); otherwise `None`, and each marked flow's facts are to be looked up by key. The
    /// same facts either way.
    fn take_facts_of_marked(
        &mut self,
        marks: &[u64],
        total: usize,
    ) -> Option<Vec<(usize, Box<FlowFacts>)>> {
        if self.facts.len() >= total {
            return None;
        }
        let mut keys: Vec<(usize, FlowKey)> = self
            .facts
            .keys()
            .filter_map(|key| Some((self.flows.position(key)?, *key)))
            .filter(|&(at, _)| super::map::is_marked(marks, at))
            .collect();
        keys.sort_unstable_by_key(|&(at, _)| std::cmp::Reverse(at));
        Some(
            keys.into_iter()
                .filter_map(|(at, key)| Some((at, Box::new(self.facts.remove(&key)?))))
                .collect(),
        )
    }

    /// What the next growth of the table's stores allocates at once, for those near it (see
    /// `flow::growth`).
    pub fn growth_ahead(&self) -> usize {
        use super::growth::of_map;
        self.flows.growth_ahead()
            + of_map(&self.facts)
            + of_map(&self.resolved)
            + of_map(&self.queries)
            + of_map(&self.dns_servers)
            + of_map(&self.programs)
    }

    /// Takes out the half of the flows silent for longest (all with the same last time as the
    /// middle one), whether over or not: to give memory back when a budget is reached (see
    /// [`FlowTable::take_idle`]). A packet of one of them after this starts a new flow.
    pub fn take_oldest_half(&mut self, batch: usize, each: impl FnMut(&[Ended], &FlowTable)) {
        let mut last: Vec<i64> = self.flows.iter().map(|(_, f)| f.last_ns).collect();
        if last.is_empty() {
            return;
        }
        let middle = last.len() / 2;
        let (_, &mut cut, _) = last.select_nth_unstable(middle);
        drop(last);
        self.take_if(|_, last_ns| last_ns <= cut, batch, each);
    }

    /// Takes out the flows `done` says are over, given each one's IP protocol and last time,
    /// with their names, handing them to `each` `batch` at a time, in the order of
    /// [`FlowMap::iter`] (see [`FlowTable::take_idle`]); after the last batch they leave the
    /// flow map. The flows taken are marked meanwhile, a bit each.
    fn take_if(
        &mut self,
        done: impl FnMut(u8, i64) -> bool,
        batch: usize,
        mut each: impl FnMut(&[Ended], &FlowTable),
    ) {
        let batch = batch.max(1);
        let mut marks = Vec::new();
        let total = self.flows.mark_where(done, &mut marks);
        if total == 0 {
            return;
        }
        // The facts of the flows taken, by position. Few flows have facts: when fewer flows
        // have them than are taken, each fact's flow is looked for (a probe of the flow
        // index) instead of each flow taken being looked for among the facts (a hash of its
        // key and a probe); a busy capture's sweep takes ten times as many flows as have facts.
        let mut taken = self.take_facts_of_marked(&marks, total);
        let mut ended = Vec::with_capacity(batch.min(total));
        let mut positions = super::map::marked(&marks);
        loop {
            ended.extend(
                positions
                    .by_ref()
                    .take(batch)
                    .filter_map(|i| Some((i, self.flows.at(i)?)))
                    .map(|(i, (key, flow))| Ended {
                        facts: match &mut taken {
                            Some(taken) => match taken.last() {
                                Some((at, _)) if *at == i => taken.pop().map(|(_, f)| f),
                                _ => None,
                            },
                            None => self.facts.remove(&key).map(Box::new),
                        },
                        key,
                        flow,
                    }),
            );
            if ended.is_empty() {
                break;
            }
            each(&ended, self);
            ended.clear();
        }
        self.flows.remove_marked(&marks);
        if self.facts.capacity() > 4 * self.facts.len().max(1024) {
            self.facts.shrink_to(2 * self.facts.len());
        }
    }

    /// An empty table that keeps what `watch` names past every bound.
    pub fn with_watch(watch: Arc<dyn Watch>) -> FlowTable {
        FlowTable {
            watch: Some(watch),
            ..FlowTable::default()
        }
    }

    /// Records that `client` asked for `name`.
    pub fn dns_query(&mut self, ts: i64, client: IpAddr, name: &str) {
        let seen = Seen {
            first_ns: ts,
            count: 1,
            solicited: true,
        };
        self.queries.entry(client).or_default().add(
            name,
            seen,
            MAX_QUERIES_PER_CLIENT,
            self.watch.as_deref(),
        );
    }

    /// Records that an answer sent to `client` resolved `name` to `addr`; `solicited` when it
    /// answered a question the client was seen asking.
    pub fn dns_answer(
        &mut self,
        ts: i64,
        client: IpAddr,
        name: &str,
        addr: IpAddr,
        solicited: bool,
    ) {
        let seen = Seen {
            first_ns: ts,
            count: 1,
            solicited,
        };
        self.resolved.entry((client, addr)).or_default().add(
            name,
            seen,
            MAX_NAMES_PER_ADDR,
            self.watch.as_deref(),
        );
    }

    /// Records that `server` answered a question `client` asked it.
    pub fn dns_served(&mut self, server: IpAddr, client: IpAddr) {
        if server != client {
            self.dns_servers.entry(server).or_default().add(client);
        }
    }

    /// Records a TLS server name that `client` sent on `key`.
    pub fn tls_sni(&mut self, ts: i64, key: FlowKey, client: IpAddr, name: &str) {
        let watch = self.watch.as_deref();
        let facts = self.facts.entry(key).or_default();
        facts.add_sni(name, (ts, client), watch);
    }

    /// Sheds what waits for its flow and can never weigh: a Zeek ssl.log's server names and
    /// http.log's requests, read before the conn.log and kept by addresses and ports until a
    /// conn record brings the flow. Such a name or request only names an endpoint in a report,
    /// unless an indicator watches it; so a server name no indicator watches goes, and so does
    /// a request no indicator could match, unless it is in proxy form (it names its receiver
    /// a proxy, and the place its sender asked the proxy to reach). Nothing goes of a flow in
    /// the table, nor of a flow that `weighs` (an end or a port that can weigh by itself,
    /// where having a name, or how the host's contact went, may count). Facts left with
    /// nothing go. What was dropped is counted here, not on the flow: the facts of a flow all
    /// of whose names went are gone, with any count. Nothing goes without a watch (nothing
    /// says which names weigh).
    pub fn shed_waiting(&mut self, weighs: impl Fn(&FlowKey) -> bool) -> WaitingShed {
        let mut shed = WaitingShed::default();
        let Some(watch) = self.watch.clone() else {
            return shed;
        };
        let flows = &self.flows;
        self.facts.retain(|key, facts| {
            if flows.contains_key(key) || weighs(key) {
                return true;
            }
            let before = facts.sni.len();
            facts.sni.retain(|name, _| watch.watches_name(name));
            shed.names += (before - facts.sni.len()) as u64;
            let before = facts.http.len();
            facts
                .http
                .retain(|r| r.to_proxy() || !r.watch_groups(&*watch).is_empty());
            shed.requests += (before - facts.http.len()) as u64;
            !facts.sni.is_empty() || !facts.http.is_empty() || facts.skype != SkypeFacts::default()
        });
        // Give the memory back once most entries went (shrinking holds both tables a moment).
        if self.facts.len() < self.facts.capacity() / 4 {
            self.facts.shrink_to_fit();
        }
        shed
    }

    /// Moves the TLS server names recorded on `from` to `to` (a log without a protocol column
    /// recorded them on the TCP flow of the addresses and ports; the connection was UDP).
    pub fn move_server_names(&mut self, from: &FlowKey, to: FlowKey) {
        let Some(facts) = self.facts.get_mut(from) else {
            return;
        };
        let sni = std::mem::take(&mut facts.sni);
        let dropped = std::mem::take(&mut facts.sni_dropped);
        facts.sni_over.clear();
        if facts == &FlowFacts::default() {
            self.facts.remove(from);
        }
        if !sni.is_empty() || dropped > 0 {
            let watch = self.watch.as_deref();
            let target = self.facts.entry(to).or_default();
            for (name, first) in sni {
                target.add_sni(&name, first, watch);
            }
            target.sni_dropped += dropped;
        }
    }

    /// Records a sign of Skype's protocols seen on `key`.
    pub fn skype_sign(&mut self, ts: i64, key: FlowKey, sign: SkypeSign) {
        self.facts.entry(key).or_default().skype.add(ts, sign);
    }

    /// Records that the connection on `key` opened as classic Skype TCP (judged at `ts`).
    pub fn skype_classic_tcp(&mut self, ts: i64, key: FlowKey) {
        self.facts.entry(key).or_default().skype.add_classic_tcp(ts);
    }

    /// The Skype protocols flow `key` showed, judged over the whole flow (see
    /// [`SkypeFacts::protocols`]).
    pub fn skype_protocols(&self, key: &FlowKey) -> Vec<SkypeProtocol> {
        match (self.facts.get(key), self.flows.get(key)) {
            (Some(facts), Some(flow)) => facts.skype.protocols(flow.total_packets()),
            _ => Vec::new(),
        }
    }

    /// Records an HTTP request seen on `key`. Past [`MAX_HTTP_PER_FLOW`] requests on the flow,
    /// only those a watch names are kept, [`MAX_WATCHED_HTTP_PAST`] of them and then one per
    /// watch group and kind (the rest are counted).
    pub fn http_request(&mut self, key: FlowKey, fact: HttpFact) {
        let watch = self.watch.as_deref();
        let facts = self.facts.entry(key).or_default();
        let len = facts.http.len();
        let keep = len < MAX_HTTP_PER_FLOW || {
            let groups = watch.map(|w| fact.watch_groups(w)).unwrap_or_default();
            !groups.is_empty()
                && (len < MAX_HTTP_PER_FLOW + MAX_WATCHED_HTTP_PAST || {
                    let kind = fact.kind();
                    let kinds = groups.into_iter().map(|group| (group, kind));
                    super::names::take_new(&mut facts.http_over, kinds)
                })
        };
        if keep {
            facts.http.push(fact);
        } else {
            facts.http_dropped += 1;
        }
    }

    /// The program that owned the local socket `(addr, port, proto)`, if known: a socket
    /// bound to that address, else one bound to the wildcard address (IPv6's `::` takes IPv4
    /// too, on dual-stack sockets).
    pub fn program(&self, addr: IpAddr, port: u16, proto: u8) -> Option<&str> {
        if self.programs.is_empty() {
            return None;
        }
        let any4 = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        let any6 = IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
        let wildcards: &[IpAddr] = if addr.is_ipv4() {
            &[any4, any6]
        } else {
            &[any6]
        };
        std::iter::once(&addr)
            .chain(wildcards)
            .find_map(|a| self.programs.get(&(*a, port, proto)))
            .map(String::as_str)
    }

    #[inline]
    fn see_time(&mut self, ts: i64) {
        self.first_ns = Some(self.first_ns.map_or(ts, |f| f.min(ts)));
        self.last_ns = Some(self.last_ns.map_or(ts, |l| l.max(ts)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Watches Skype's names, each in its own group, and login.skype.com in api's too.
    #[derive(Debug)]
    struct SkypeWatch;
    impl Watch for SkypeWatch {
        fn watch_name(&self, name: &str) -> Vec<u32> {
            match name {
                "ui.skype.com" => vec![1],
                "api.skype.com" => vec![2],
                "login.skype.com" => vec![2, 3],
                _ => Vec::new(),
            }
        }
        fn watch_request(&self, host: Option<&str>, _: &str, _: Option<&str>) -> Vec<u32> {
            host.map(|h| self.watch_name(h)).unwrap_or_default()
        }
    }

    /// Past a budget, the server names and requests waiting for their flow that no indicator
    /// watches go, but not a request in proxy form, nor anything of a flow in the table or of
    /// a flow that weighs by itself; facts left with nothing go too.
    #[test]
    fn waiting_names_and_requests_no_indicator_watches_are_shed() {
        let mut t = FlowTable::with_watch(Arc::new(SkypeWatch));
        let client = ip("192.168.1.2");
        let key = |server: &str, port: u16| FlowKey::new(6, client, port, ip(server), 443).0;
        let (alone, watched, mixed, going, weighty) = (
            key("203.0.113.7", 40000),
            key("203.0.113.8", 40001),
            key("203.0.113.9", 40002),
            key("203.0.113.10", 40003),
            key("198.51.100.1", 40004),
        );
        t.tls_sni(1, alone, client, "www.example.com");
        t.tls_sni(1, watched, client, "ui.skype.com");
        t.tls_sni(1, mixed, client, "www.example.org");
        t.tls_sni(2, mixed, client, "api.skype.com");
        t.tls_sni(1, going, client, "www.example.net");
        t.tls_sni(1, weighty, client, "www.example.edu");
        t.add_flow(going, Flow::new(1));
        let request = |host: &str, method: &str, target: &str| HttpFact {
            ts_ns: 3,
            method: method.into(),
            host: Some(host.into()),
            target: target.into(),
            user_agent: Some("Mozilla/5.0".into()),
            referer: None,
            via: false,
            client,
        };
        let (web, proxy) = (key("203.0.113.11", 40005), key("203.0.113.12", 40006));
        t.http_request(web, request("www.example.com", "GET", "/"));
        t.http_request(
            proxy,
            request("www.example.com", "GET", "http://www.example.com/"),
        );
        t.http_request(
            proxy,
            request("www.example.com", "CONNECT", "www.example.com:443"),
        );
        t.http_request(proxy, request("www.example.com", "GET", "/favicon.ico"));
        t.http_request(mixed, request("www.example.org", "GET", "/"));
        t.http_request(mixed, request("login.skype.com", "GET", "/"));
        t.http_request(going, request("www.example.net", "GET", "/"));
        t.http_request(weighty, request("www.example.edu", "GET", "/"));
        let shed = t.shed_waiting(|k| k.a == ip("198.51.100.1") || k.b == ip("198.51.100.1"));
        assert_eq!(
            shed,
            WaitingShed {
                names: 2,
                requests: 3
            }
        );
        assert!(!t.facts.contains_key(&alone) && !t.facts.contains_key(&web));
        let names = |k: &FlowKey| t.facts[k].sni.keys().cloned().collect::<Vec<_>>();
        let targets = |k: &FlowKey| {
            t.facts[k]
                .http
                .iter()
                .map(|r| r.target.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&watched), ["ui.skype.com"]);
        assert_eq!(names(&mixed), ["api.skype.com"]);
        assert_eq!(targets(&mixed), ["/"]);
        assert_eq!(
            t.facts[&mixed].http[0].host.as_deref(),
            Some("login.skype.com")
        );
        // Counted by the shedding, not on the flows.
        assert_eq!(
            (t.facts[&mixed].sni_dropped, t.facts[&mixed].http_dropped),
            (0, 0)
        );
        assert_eq!(
            targets(&proxy),
            ["http://www.example.com/", "www.example.com:443"]
        );
        assert_eq!(names(&going), ["www.example.net"]);
        assert_eq!(targets(&going), ["/"]);
        assert_eq!(names(&weighty), ["www.example.edu"]);
        assert_eq!(targets(&weighty), ["/"]);
        // With no watch, nothing says which names weigh: none go.
        let mut t = FlowTable::default();
        t.tls_sni(1, alone, client, "www.example.com");
        t.http_request(web, request("www.example.com", "GET", "/"));
        assert_eq!(t.shed_waiting(|_| false), WaitingShed::default());
        assert!(t.facts.contains_key(&alone) && t.facts.contains_key(&web));
    }

    /// A forged flow with a request in every segment, each to a watched name: the first 32
    /// requests, 256 watched ones past them, then the first of each watch group and kind; the
    /// rest are counted.
    #[test]
    fn a_flow_keeps_watched_requests_within_bounds() {
        let mut t = FlowTable::with_watch(Arc::new(SkypeWatch));
        let (k, _) = FlowKey::new(6, ip("192.168.1.2"), 40000, ip("203.0.113.7"), 80);
        let request = |n: i64, host: &str, referer: bool| HttpFact {
            ts_ns: n,
            method: "GET".into(),
            host: Some(host.into()),
            target: format!("/{n}"),
            user_agent: None,
            referer: referer.then(|| "http://example.com/".into()),
            via: false,
            client: ip("192.168.1.2"),
        };
        for n in 0..40 {
            t.http_request(k, request(n, "www.example.com", false));
        }
        for n in 40..2000 {
            t.http_request(k, request(n, "ui.skype.com", false));
        }
        // Past both bounds: a new group, and a new kind of a group already kept.
        t.http_request(k, request(2000, "api.skype.com", false));
        t.http_request(k, request(2001, "ui.skype.com", true));
        t.http_request(k, request(2002, "ui.skype.com", true));
        // Watched by api's group, spent, and by a group of its own: kept, once.
        t.http_request(k, request(2003, "login.skype.com", false));
        t.http_request(k, request(2004, "login.skype.com", false));
        let facts = &t.facts[&k];
        let kept: Vec<i64> = facts.http.iter().map(|r| r.ts_ns).collect();
        let mut want: Vec<i64> = (0..32).chain(40..40 + 256).collect();
        want.extend([40 + 256, 2000, 2001, 2003]);
        assert_eq!(kept, want);
        assert_eq!(facts.http_dropped, 2005 - want.len() as u64);
    }

    /// A sweep hands each flow taken its own facts, whether fewer flows have facts than are
    /// taken (each fact's flow is found) or more (each flow's facts are found); facts whose
    /// flow is not in the table, and those of flows going on, stay.
    #[test]
    fn a_sweep_hands_each_flow_taken_its_facts() {
        for with_facts in [3u16, 40] {
            let mut t = FlowTable::default();
            let key =
                |i: u16| FlowKey::new(6, ip("192.168.1.2"), 1000 + i, ip("203.0.113.7"), 443).0;
            // 40 flows: the even ones silent since 0, the odd ones still going at 1000 s.
            for i in 0..40u16 {
                let at = if i % 2 == 0 { 0 } else { 1_000_000_000_000 };
                t.packet(at, key(i), Dir::AToB, 100, false, false);
            }
            for i in 0..with_facts {
                t.tls_sni(0, key(i), ip("192.168.1.2"), &format!("n{i}.example"));
            }
            // Facts of a flow the table never counted.
            t.tls_sni(0, key(500), ip("192.168.1.2"), "lost.example");
            let mut taken = Vec::new();
            t.take_idle(1_000_000_000_000, 7, |ended, _| {
                for e in ended {
                    let names: Vec<String> =
                        e.facts.iter().flat_map(|f| f.sni.keys().cloned()).collect();
                    taken.push((e.key, names));
                }
            });
            let want: Vec<(FlowKey, Vec<String>)> = (0..40u16)
                .filter(|i| i % 2 == 0)
                .map(|i| {
                    let names = if i < with_facts {
                        vec![format!("n{i}.example")]
                    } else {
                        vec![]
                    };
                    (key(i), names)
                })
                .collect();
            assert_eq!(taken, want, "{with_facts} flows with facts");
            let mut left: Vec<FlowKey> = t.facts.keys().copied().collect();
            left.sort();
            let mut want_left: Vec<FlowKey> = (0..with_facts)
                .filter(|i| i % 2 == 1)
                .chain([500])
                .map(key)
                .collect();
            want_left.sort();
            assert_eq!(left, want_left, "{with_facts} flows with facts");
        }
    }

    #[test]
    fn counts_both_directions_and_the_opener() {
        let mut t = FlowTable::default();
        let (k, d) = FlowKey::new(6, ip("211.100.41.6"), 80, ip("192.168.1.2"), 50000);
        // The SYN+ACK is seen first (the SYN was lost): the client still opened it.
        t.packet(10, k, d, 60, true, true);
        t.packet(5, k, d.reverse(), 1500, false, false);
        let f = t.flows.get(&k).unwrap();
        assert_eq!(f.total_packets(), 2);
        assert_eq!(f.total_bytes(), 1560);
        assert_eq!((f.first_ns, f.last_ns), (5, 10));
        let opener = k.sender(f.opener.side().unwrap());
        assert_eq!(opener.0, ip("192.168.1.2"));
        assert_eq!((t.first_ns, t.last_ns), (Some(5), Some(10)));
    }

    #[test]
    fn guesses_the_opener_from_ports() {
        let mut t = FlowTable::default();
        let (k, d) = FlowKey::new(17, ip("8.8.8.8"), 53, ip("192.168.1.2"), 40000);
        t.packet(1, k, d, 100, false, false);
        let opener = k.sender(t.flows.get(&k).unwrap().opener.side().unwrap());
        assert_eq!(opener.0, ip("192.168.1.2"));
    }

    #[test]
    fn name_sets_are_bounded_per_client() {
        let mut t = FlowTable::default();
        let (client, addr) = (ip("10.0.0.2"), ip("1.2.3.4"));
        for i in 0..(MAX_NAMES_PER_ADDR + 5) {
            t.dns_answer(i as i64, client, &format!("n{i}.example"), addr, true);
        }
        t.dns_answer(100, client, "n0.example", addr, false);
        let set = &t.resolved[&(client, addr)];
        assert_eq!(set.names.len(), MAX_NAMES_PER_ADDR);
        assert_eq!(set.dropped, 5);
        let n0 = set.names["n0.example"];
        assert_eq!((n0.first_ns, n0.count, n0.solicited), (0, 2, true));
        // Another client's answers are its own.
        t.dns_answer(5, ip("10.0.0.3"), "other.example", addr, false);
        assert!(!t.resolved[&(client, addr)]
            .names
            .contains_key("other.example"));
    }

    #[test]
    fn programs_match_exact_then_wildcard_sockets() {
        let mut t = FlowTable::default();
        assert_eq!(t.program(ip("192.168.1.2"), 5000, 17), None);
        t.programs
            .insert((ip("192.168.1.2"), 5000, 6), "skype (pid 7)".into());
        t.programs
            .insert((ip("0.0.0.0"), 5000, 17), "skype (pid 7)".into());
        t.programs
            .insert((ip("::"), 6000, 17), "other (pid 9)".into());
        assert_eq!(t.program(ip("192.168.1.2"), 5000, 6), Some("skype (pid 7)"));
        assert_eq!(t.program(ip("192.168.1.3"), 5000, 6), None);
        assert_eq!(
            t.program(ip("192.168.1.3"), 5000, 17),
            Some("skype (pid 7)")
        );
        // A dual-stack IPv6 wildcard socket takes IPv4 too; an IPv4 one never takes IPv6.
        assert_eq!(
            t.program(ip("192.168.1.3"), 6000, 17),
            Some("other (pid 9)")
        );
        assert_eq!(t.program(ip("2001:db8::1"), 5000, 17), None);
    }
}
