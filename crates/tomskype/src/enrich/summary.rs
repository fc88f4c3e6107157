//! Hosts summarised: a big network's capture has millions of machines, nearly all with nothing
//! a Skype or TOM-Skype indicator could match. Once their flows are gathered, such hosts keep
//! only their counters, not their endpoints ([`Gathered::compact`]): packed by address, about
//! a dozen bytes a host (`packed.rs`).
//!
//! What may be summarised is decided on what could ever be evidence, so that summarising never
//! changes a verdict. An endpoint keeps its host whole when its address matches an address
//! indicator; when a name the host sent for it (TLS server name, HTTP request) or a DNS answer
//! to the host about it names something an indicator watches ([`Watch`]); when Skype's own
//! protocols were seen with it; when the host opened a flow to a port an indicator names; when
//! it is the host's proxy or was reached through one; when live capture knows its program; or
//! when it is a peer in China reached over UDP with no name (the `peer-in-china` advisory).
//! A host that serves others (a resolver, a proxy) is kept whole too. The host's own DNS
//! questions stay in the table's stores, whatever happens to its endpoints: a summarised host
//! whose questions match an indicator is reported (with no endpoints), one whose questions do
//! not has no sign at all. (A memory budget, when reached, thins them to the names an
//! indicator watches and the first few: [`Gathered::shed_quiet_names`].)
//!
//! A summarised host that later gets flows with something to match is whole again from then on:
//! its counters (packets, bytes, flows, times) stay exact, its earlier endpoints are not
//! listed, and the report says how many flows were summarised. What is lost that way is only
//! what never weighs in a verdict nor makes an advisory: the busiest ordinary endpoints.

use std::net::{IpAddr, Ipv6Addr};

use super::packed::{Log, Summary};
use super::{Context, Gathered, HostAgg};
use crate::flow::{FlowTable, NameSet};
use crate::knowledge::geoip::Country;
use rustc_hash::FxHashMap;

/// What keeping to a memory budget took from the gathering, when it had to (see
/// `analyze::Budget`): never evidence, but detail and exact flow boundaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shed {
    /// Times the budget was reached.
    pub times: u64,
    /// Flows ended before their timeout to give memory back (a later packet of one starts a
    /// new flow).
    pub flows_ended_early: u64,
    /// DNS questions of quiet hosts dropped ([`Gathered::shed_quiet_names`]).
    pub questions_dropped: u64,
    /// TLS server names no indicator watches dropped while they waited for their flow
    /// ([`crate::flow::FlowTable::shed_waiting`]).
    pub names_dropped: u64,
    /// HTTP requests no indicator could match dropped while they waited for their flow
    /// (the same).
    pub requests_dropped: u64,
    /// The memory held stayed above the budget after all that could be shed was.
    pub still_over: bool,
}

impl Shed {
    /// Adds `other`'s.
    pub fn merge(&mut self, other: &Shed) {
        self.times += other.times;
        self.flows_ended_early += other.flows_ended_early;
        self.questions_dropped += other.questions_dropped;
        self.names_dropped += other.names_dropped;
        self.requests_dropped += other.requests_dropped;
        self.still_over |= other.still_over;
    }
}

impl Summary {
    /// The counters of `h`.
    fn of(h: &HostAgg) -> Summary {
        let endpoints = h.endpoints.len() as u64 + h.summarised_endpoints;
        Summary {
            packets: h.packets,
            sent: h.sent,
            bytes: h.bytes,
            first_ns: h.first_ns,
            last_ns: h.last_ns,
            flows: u32::try_from(h.flows).unwrap_or(u32::MAX),
            endpoints: u32::try_from(endpoints).unwrap_or(u32::MAX),
        }
    }
}

impl HostAgg {
    /// Adds a summary of this host's earlier traffic: its counters, and how much of it is no
    /// longer there in detail.
    pub(super) fn absorb(&mut self, s: &Summary) {
        self.packets += s.packets;
        self.sent += s.sent;
        self.bytes += s.bytes;
        self.first_ns = self.first_ns.min(s.first_ns);
        self.last_ns = self.last_ns.max(s.last_ns);
        self.flows += u64::from(s.flows);
        self.summarised_flows += u64::from(s.flows);
        self.summarised_endpoints += u64::from(s.endpoints);
    }

    /// A host known only by its summary.
    pub(super) fn from_summary(addr: IpAddr, s: &Summary) -> HostAgg {
        let mut h = HostAgg::new(addr);
        h.absorb(s);
        h
    }
}

/// Summaries, as a log: appended as hosts are summarised (a host summarised again, after more
/// flows, adds another entry), sorted by address and packed in blocks, a dozen bytes or so a
/// host instead of 52 ([`super::packed::Log`]). A log, not a hash map, because a hash map of
/// millions of entries holds its old and new tables at once while it grows, and has room to
/// spare after.
#[derive(Debug, Default)]
pub(super) struct Summaries {
    v4: Log<u32>,
    v6: Log<Ipv6Addr>,
}

impl Summaries {
    /// Adds `s` to `addr`'s summary.
    pub(super) fn add(&mut self, addr: IpAddr, s: &Summary) {
        match addr {
            IpAddr::V4(a) => self.v4.push(u32::from(a), *s),
            IpAddr::V6(a) => self.v6.push(a, *s),
        }
    }

    /// Adds every summary of `other`.
    pub(super) fn merge(&mut self, other: Summaries) {
        self.v4.append(other.v4);
        self.v6.append(other.v6);
    }

    /// Sorts and merges, so that each address has one entry.
    pub(super) fn settle(&mut self) {
        self.v4.settle();
        self.v6.settle();
    }

    /// How many hosts are summarised (once settled; before, an address may count more than
    /// once).
    pub(super) fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Every host's summary, settled, emptying this.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = (IpAddr, Summary)> + '_ {
        let v4 = self
            .v4
            .drain()
            .map(|(a, s)| (IpAddr::V4(std::net::Ipv4Addr::from(a)), s));
        let v6 = self.v6.drain().map(|(a, s)| (IpAddr::V6(a), s));
        v4.chain(v6)
    }
}

/// DNS questions a quiet client keeps when a memory budget thins them
/// ([`Gathered::shed_quiet_names`]), beside those an indicator watches.
pub const QUESTIONS_KEPT: usize = 16;

impl Gathered {
    /// Summarises every host gathered since the last call that has nothing an indicator could
    /// match (see the module documentation; the others found then were kept whole for good),
    /// reading the DNS answers of `table` (the one being gathered, whose stores are not in this
    /// yet) and of this. Hosts found to have something keep it known, so that they are not
    /// looked at again.
    pub fn compact(&mut self, table: Option<&FlowTable>, ctx: &Context<'_>) {
        let mut quiet = Vec::new();
        for addr in std::mem::take(&mut self.fresh) {
            let Some(h) = self.hosts.get(&addr) else {
                continue;
            };
            if self.may_have_sign(h, table, ctx) {
                if let Some(h) = self.hosts.get_mut(&addr) {
                    h.may_be_evidence = true;
                }
            } else {
                quiet.push(addr);
            }
        }
        for addr in quiet {
            if let Some(h) = self.hosts.remove(&addr) {
                self.summaries.add(addr, &Summary::of(&h));
                self.spare.give(h);
                if table.is_some_and(|t| t.queries.contains_key(&addr)) {
                    // The table's answers to it are for [`Gathered::forget_quiet_names`]: to a
                    // host that asked (those to one that never asked, unsolicited, stay; the
                    // list stays as short as the hosts that look names up).
                    self.forget.push(addr);
                }
            }
        }
    }

    /// Forgets, in `table`'s DNS answers, what the hosts summarised since the last call were
    /// told that can never weigh in a verdict nor make an advisory: the names of an address
    /// none of which an indicator watches, for an address that matches no address indicator
    /// and is not in China (such names only name an ordinary endpoint in a report, and a
    /// summarised host's endpoints are not listed). Answers are kept per client and address,
    /// so over hours a busy network's grow with the addresses its machines look up; this
    /// keeps them to the hosts that are whole. A host whole again later lists no name for a
    /// later endpoint whose answer it was given while summarised. Its DNS questions are kept
    /// (bounded per client, and read when it is reported).
    pub fn forget_quiet_names(&mut self, table: &mut FlowTable, ctx: &Context<'_>) {
        if self.forget.is_empty() {
            return;
        }
        let quiet: rustc_hash::FxHashSet<IpAddr> = self.forget.drain(..).collect();
        forget_answers(&mut table.resolved, |client| quiet.contains(client), ctx);
        self.forget.shrink_to_fit();
    }

    /// Sheds what never weighs in a verdict, what a memory budget sheds first: summarises the
    /// quiet hosts ([`Gathered::compact`]), then forgets the DNS answers that cannot weigh to
    /// every host not kept whole (those just summarised among them) and thins its DNS
    /// questions ([`Gathered::shed_quiet_names`], counted in [`Shed::questions_dropped`]).
    /// The boxes kept for new hosts go too: they only save allocating, and a budget counts
    /// them. For a capture's gatherer and for Zeek logs alike.
    pub fn shed_quiet(&mut self, table: &mut FlowTable, ctx: &Context<'_>) {
        self.compact(Some(table), ctx);
        self.spare = super::Spare::default();
        self.shed.questions_dropped += self.shed_quiet_names(table, ctx);
    }

    /// Sheds the names of every client that is not a host kept whole as possible evidence
    /// (summarised, quiet, or with its flows still going), in `table` and in this: the DNS
    /// answers to it that can never weigh, and its DNS questions but for the names an
    /// indicator watches and the 16 it asked first (`QUESTIONS_KEPT`; the others counted as
    /// dropped, as the bound per client counts them: a name no indicator watches never weighs
    /// in a verdict, and the first few keep the host's coverage, "named", as it was). It also
    /// does [`Gathered::forget_quiet_names`]'s work, in the same pass over `table`'s answers.
    /// What a memory budget sheds after summarising and before ending any flow early.
    /// Questions dropped.
    pub fn shed_quiet_names(&mut self, table: &mut FlowTable, ctx: &Context<'_>) -> u64 {
        let summarised: rustc_hash::FxHashSet<IpAddr> = self.forget.drain(..).collect();
        self.forget.shrink_to_fit();
        let hosts = &self.hosts;
        let quiet = |client: &IpAddr| !hosts.get(client).is_some_and(|h| h.may_be_evidence);
        forget_answers(
            &mut table.resolved,
            |client| summarised.contains(client) || quiet(client),
            ctx,
        );
        forget_answers(&mut self.resolved, quiet, ctx);
        let mut dropped = 0;
        for (watch, queries) in [
            (table.watch.clone(), &mut table.queries),
            (self.watch.clone(), &mut self.queries),
        ] {
            for (client, names) in queries.iter_mut() {
                if quiet(client) {
                    dropped += names.thin(QUESTIONS_KEPT, watch.as_deref()) as u64;
                }
            }
        }
        dropped
    }

    /// What the next growth of this's stores allocates at once, for those near it (see
    /// `flow::growth`).
    pub fn growth_ahead(&self) -> usize {
        use crate::flow::growth::of_map;
        of_map(&self.hosts)
            + of_map(&self.resolved)
            + of_map(&self.queries)
            + of_map(&self.dns_servers)
            + of_map(&self.proxies)
    }

    /// Whether `h` (of this, or gathered beside it) has something an indicator could match,
    /// or is known to (see the module documentation), reading the DNS answers of `table` (the
    /// one being gathered, whose stores are not in this yet) and of this.
    pub(super) fn may_have_sign(
        &self,
        h: &HostAgg,
        table: Option<&FlowTable>,
        ctx: &Context<'_>,
    ) -> bool {
        h.may_be_evidence || self.may_show(h, table, ctx, true)
    }

    /// Whether `h`, gathered whole to the end, may show a label or an advisory in the report:
    /// [`Gathered::may_have_sign`] without the peers in China. Such a peer only makes the
    /// `peer-in-china` advisory, which is kept only where Skype itself was seen; and what shows
    /// Skype (an indicator, Skype's protocols) is looked for here. A host without any of
    /// it is quiet, and is told so without being viewed: on a big network most hosts kept
    /// whole are kept for their peers in China (`enrich::view::hosts_fold`).
    pub(super) fn may_be_listed(&self, h: &HostAgg, ctx: &Context<'_>) -> bool {
        self.may_show(h, None, ctx, false)
    }

    /// [`Gathered::may_have_sign`] but for what is already known of `h`; `china` says whether
    /// a peer in China counts.
    fn may_show(
        &self,
        h: &HostAgg,
        table: Option<&FlowTable>,
        ctx: &Context<'_>,
        china: bool,
    ) -> bool {
        let serves =
            |addr| self.serves(addr) || table.is_some_and(|t| t.dns_servers.contains_key(&addr));
        if h.http_dropped > 0 || serves(h.addr) {
            return true;
        }
        let host = h.addr;
        let watched_answer = |remote: IpAddr| {
            let key = (host, remote);
            table
                .and_then(|t| t.resolved.get(&key))
                .into_iter()
                .chain(self.resolved.get(&key))
                .any(|set| set.names.keys().any(|n| ctx.indicators.watches_name(n)))
        };
        h.has_match(ctx, watched_answer, china)
    }

    /// Whether `addr` answered DNS or relayed HTTP for others, as far as this knows.
    pub(super) fn serves(&self, addr: IpAddr) -> bool {
        self.dns_servers.contains_key(&addr) || self.proxies.contains_key(&addr)
    }

    /// Hosts summarised so far.
    pub fn summarised_hosts(&mut self) -> usize {
        self.summaries.settle();
        self.summaries.len()
    }

    /// Hosts gathered whole since the last summarising, not known to have anything an
    /// indicator could match (what [`Gathered::compact`] looks at).
    pub fn fresh_hosts(&self) -> usize {
        self.fresh.len()
    }
}

/// Forgets, in `resolved`, the answers to a client `quiet` picks that can never weigh in a
/// verdict nor make an advisory: those whose names no indicator watches, about an address
/// that matches no address indicator and is not in China (such names only name an ordinary
/// endpoint in a report). Gives the room back when most went.
fn forget_answers(
    resolved: &mut FxHashMap<(IpAddr, IpAddr), NameSet>,
    quiet: impl Fn(&IpAddr) -> bool,
    ctx: &Context<'_>,
) {
    let set = ctx.indicators;
    let before = resolved.len();
    resolved.retain(|(client, addr), names| {
        !quiet(client)
            || names.names.keys().any(|n| set.watches_name(n))
            || weighs_alone(*addr, ctx)
    });
    if resolved.len() < before / 2 {
        resolved.shrink_to_fit();
    }
}

/// Whether an address can weigh by itself, whatever its names: an address indicator matches
/// it, or it is in China (whether a peer in China had a name counts for an advisory).
fn weighs_alone(addr: IpAddr, ctx: &Context<'_>) -> bool {
    ctx.indicators.match_addr(addr).next().is_some()
        || ctx.geoip.country(addr) == Some(Country::CHINA)
}

/// Sheds the TLS server names and HTTP requests waiting in `table` for their flow that can
/// never weigh ([`FlowTable::shed_waiting`]), into `shed`: those no indicator watches (and
/// requests not in proxy form), on flows with no end that weighs by itself and no port an
/// indicator names (where a browser's visits make a port's match weaker than the host's own
/// contact, a request or name may change which it was).
pub fn shed_waiting(table: &mut FlowTable, shed: &mut Shed, ctx: &Context<'_>) {
    let set = ctx.indicators;
    let gone = table.shed_waiting(|key| {
        weighs_alone(key.a, ctx)
            || weighs_alone(key.b, ctx)
            || set.names_port(key.a_port)
            || set.names_port(key.b_port)
    });
    shed.names_dropped += gone.names;
    shed.requests_dropped += gone.requests;
}

impl HostAgg {
    /// Whether anything of this host could be evidence (see the module documentation);
    /// `watched_answer` says whether a DNS answer to it about an address names something
    /// watched; `china` whether a peer in China counts.
    fn has_match(
        &self,
        ctx: &Context<'_>,
        watched_answer: impl Fn(IpAddr) -> bool,
        china: bool,
    ) -> bool {
        let set = ctx.indicators;
        self.endpoints.iter().any(|(&remote, e)| {
            let rare = e.rare();
            // A peer in China over UDP with no name: a Skype contact's, if Skype is seen (the
            // `peer-in-china` advisory, which must not depend on when the host was gathered).
            let china_peer = || {
                china
                    && rare.sni.is_empty()
                    && rare.http.is_empty()
                    && e.ports.any_shown(|(p, port)| p == 17 && port >= 1024)
                    && ctx.geoip.country(remote) == Some(Country::CHINA)
            };
            e.proxy
                || e.through_proxy
                || !rare.skype.is_empty()
                || !rare.programs.is_empty()
                || e.ports.any_opened()
                || set.match_addr(remote).next().is_some()
                || rare.sni.keys().any(|n| set.watches_name(n))
                || rare.http.iter().any(|r| !r.watch_groups(set).is_empty())
                || watched_answer(remote)
                || china_peer()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::LocalNets;
    use crate::flow::FlowKey;
    use crate::knowledge::geoip::GeoIp;
    use crate::knowledge::indicators::IndicatorSet;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The local network 192.168.1.0/24, the shipped GeoIP database and indicators.
    struct Known {
        local: LocalNets,
        geoip: GeoIp,
        indicators: IndicatorSet,
    }

    impl Known {
        fn new() -> Known {
            Known {
                local: LocalNets::new(vec!["192.168.1.0/24".parse().unwrap()]),
                geoip: GeoIp::embedded().unwrap(),
                indicators: IndicatorSet::embedded().unwrap(),
            }
        }

        fn ctx(&self) -> Context<'_> {
            Context {
                local: &self.local,
                geoip: &self.geoip,
                indicators: &self.indicators,
            }
        }
    }

    /// Requests an endpoint's list drops when it is thinned are counted, as the flows' own
    /// bounds' are: the host's view says how many of its requests are not in it.
    #[test]
    fn an_endpoints_thinned_requests_are_counted_as_dropped() {
        let known = Known::new();
        let ctx = known.ctx();
        let (host, server) = (ip("192.168.1.2"), ip("203.0.113.5"));
        let mut t = FlowTable::default();
        for n in 0..300u16 {
            let (k, d) = FlowKey::new(6, host, 10000 + n, server, 80);
            let ts = i64::from(n) * 1000;
            t.packet(ts, k, d, 60, true, false);
            t.http_request(
                k,
                crate::flow::HttpFact {
                    ts_ns: ts,
                    method: "GET".into(),
                    host: Some("static.example.com".into()),
                    target: format!("/{n}"),
                    user_agent: None,
                    referer: None,
                    via: false,
                    client: host,
                },
            );
        }
        let mut g = Gathered::default();
        t.take_all(16, |ended, t| g.fold_ended(ended, t, &ctx));
        let h = &g.hosts[&host];
        let kept = h
            .endpoints
            .iter()
            .map(|(_, e)| e.rare().http.len())
            .sum::<usize>();
        assert!(h.http_dropped > 0, "thinned");
        assert_eq!(h.http_dropped + kept as u64, 300);
        let dropped = h.http_dropped;
        let views = super::super::view::hosts(g, &ctx);
        let view = views.iter().find(|v| v.addr == host).unwrap();
        assert_eq!(view.dropped.http_requests, dropped);
    }

    /// A summarised host's answers are forgotten, except those that could ever weigh: a watched
    /// name, an address indicator, an address in China. A whole host's are all kept.
    #[test]
    fn a_summarised_hosts_answers_are_forgotten_unless_they_could_weigh() {
        let known = Known::new();
        let ctx = known.ctx();
        let (ordinary, china, skype) = (ip("203.0.113.7"), ip("58.212.93.40"), ip("91.190.216.24"));
        assert_eq!(known.geoip.country(china), Some(Country::CHINA));
        assert!(known.indicators.match_addr(skype).next().is_some());
        let (quiet, whole) = (ip("192.168.1.2"), ip("192.168.1.3"));
        let mut t = FlowTable::default();
        // The quiet host reaches an ordinary server; the whole one reaches Skype's.
        let (k, d) = FlowKey::new(6, quiet, 40000, ordinary, 443);
        t.packet(1, k, d, 60, true, false);
        let (k, d) = FlowKey::new(6, whole, 40000, skype, 443);
        t.packet(1, k, d, 60, true, false);
        for client in [quiet, whole] {
            t.dns_query(1, client, "www.example.com");
            t.dns_answer(1, client, "www.example.com", ordinary, true);
            t.dns_answer(1, client, "peer.example.cn", china, true);
            t.dns_answer(1, client, "cdn.example.net", skype, true);
            t.dns_answer(1, client, "login.skype.com", ip("198.51.100.20"), true);
        }
        let mut g = Gathered::default();
        t.take_all(16, |ended, t| g.fold_ended(ended, t, &ctx));
        g.compact(Some(&t), &ctx);
        assert_eq!(g.summarised_hosts(), 1);
        g.forget_quiet_names(&mut t, &ctx);
        let mut kept: Vec<(IpAddr, IpAddr)> = t.resolved.keys().copied().collect();
        kept.sort();
        let mut want = vec![
            (quiet, china),
            (quiet, skype),
            (quiet, ip("198.51.100.20")),
            (whole, ordinary),
            (whole, china),
            (whole, skype),
            (whole, ip("198.51.100.20")),
        ];
        want.sort();
        assert_eq!(kept, want);
        // Nothing more to forget until more hosts are summarised.
        g.forget_quiet_names(&mut t, &ctx);
        assert_eq!(t.resolved.len(), 7);
    }

    /// A summarised host's box is kept for the next new host; a budget's shedding frees the
    /// boxes kept.
    #[test]
    fn a_budget_frees_the_boxes_kept_for_new_hosts() {
        let known = Known::new();
        let ctx = known.ctx();
        let mut t = FlowTable::default();
        for n in 0..3u8 {
            let (k, d) = FlowKey::new(
                6,
                ip(&format!("192.168.1.{n}")),
                40000,
                ip("203.0.113.7"),
                443,
            );
            t.packet(1, k, d, 60, true, false);
        }
        let mut g = Gathered::default();
        t.take_all(16, |ended, t| g.fold_ended(ended, t, &ctx));
        g.compact(Some(&t), &ctx);
        assert_eq!((g.summarised_hosts(), g.spare.0.len()), (3, 3));
        let (k, d) = FlowKey::new(6, ip("192.168.1.9"), 40000, ip("203.0.113.7"), 443);
        t.packet(2, k, d, 60, true, false);
        t.take_all(16, |ended, t| g.fold_ended(ended, t, &ctx));
        assert_eq!(g.spare.0.len(), 2, "the new host took one");
        g.shed_quiet(&mut t, &ctx);
        assert_eq!((g.summarised_hosts(), g.spare.0.len()), (4, 0));
    }

    /// Under a budget, every client not kept whole (summarised, or with no flow gathered yet)
    /// keeps only the answers that could weigh and, of its questions, the watched names and
    /// the 16 it asked first; a host kept whole keeps all of its own. What went is counted.
    #[test]
    fn a_budget_sheds_the_names_of_every_client_not_kept_whole() {
        let known = Known::new();
        let ctx = known.ctx();
        let (ordinary, china, skype) = (ip("203.0.113.7"), ip("58.212.93.40"), ip("91.190.216.24"));
        let (quiet, whole, pending) = (ip("192.168.1.2"), ip("192.168.1.3"), ip("192.168.1.4"));
        let mut t = FlowTable {
            watch: Some(known.indicators.watch()),
            ..FlowTable::default()
        };
        let (k, d) = FlowKey::new(6, quiet, 40000, ordinary, 443);
        t.packet(1, k, d, 60, true, false);
        let (k, d) = FlowKey::new(6, whole, 40000, skype, 443);
        t.packet(1, k, d, 60, true, false);
        for client in [quiet, whole, pending] {
            // Asked latest first, so that "first" is by time, not by order of arrival.
            for i in (0..30).rev() {
                t.dns_query(100 + i, client, &format!("n{i}.example.com"));
            }
            t.dns_query(200, client, "login.skype.com");
            t.dns_answer(1, client, "www.example.com", ordinary, true);
            t.dns_answer(1, client, "peer.example.cn", china, true);
        }
        let mut g = Gathered::default();
        t.take_all(16, |ended, t| g.fold_ended(ended, t, &ctx));
        g.compact(Some(&t), &ctx);
        assert_eq!(g.summarised_hosts(), 1);
        assert_eq!(g.shed_quiet_names(&mut t, &ctx), 2 * 14);
        let asked = |client| {
            let set = &t.queries[&client];
            let mut names: Vec<&str> = set.names.keys().map(String::as_str).collect();
            names.sort_unstable();
            (names, set.dropped)
        };
        let mut first: Vec<String> = (0..16).map(|i| format!("n{i}.example.com")).collect();
        first.push("login.skype.com".into());
        first.sort_unstable();
        for client in [quiet, pending] {
            assert_eq!(
                asked(client),
                (first.iter().map(String::as_str).collect(), 14)
            );
        }
        assert_eq!(asked(whole).0.len(), 31);
        assert_eq!(asked(whole).1, 0);
        let mut answered: Vec<(IpAddr, IpAddr)> = t.resolved.keys().copied().collect();
        answered.sort();
        let mut want = vec![
            (quiet, china),
            (whole, ordinary),
            (whole, china),
            (pending, china),
        ];
        want.sort();
        assert_eq!(answered, want);
        // Nothing more to shed.
        assert_eq!(g.shed_quiet_names(&mut t, &ctx), 0);
    }

    /// A host kept whole only for a peer in China (UDP, no name) shows nothing in the report
    /// (the `peer-in-china` advisory needs Skype seen): it is told quiet without being viewed,
    /// and its view, had it been made, says so too. A host that also reached Skype's servers
    /// is viewed.
    #[test]
    fn hosts_kept_whole_only_for_peers_in_china_are_quiet_without_a_view() {
        let known = Known::new();
        let ctx = known.ctx();
        let (china, skype) = (ip("58.212.93.40"), ip("91.190.216.24"));
        let (peer_only, with_skype) = (ip("192.168.1.2"), ip("192.168.1.3"));
        let gathered = || {
            let mut t = FlowTable::default();
            for host in [peer_only, with_skype] {
                let (k, d) = FlowKey::new(17, host, 40000, china, 40001);
                t.packet(1, k, d, 60, false, false);
            }
            let (k, d) = FlowKey::new(6, with_skype, 40002, skype, 443);
            t.packet(1, k, d, 60, true, false);
            let mut g = Gathered::default();
            t.take_all(16, |ended, t| g.fold_ended(ended, t, &ctx));
            let peer = g.hosts.get(&peer_only).unwrap();
            assert!(g.may_have_sign(peer, None, &ctx), "kept whole for its peer");
            assert!(!g.may_be_listed(peer, &ctx));
            g
        };
        let mut told = Vec::new();
        let mut tell = |addr| told.push(addr);
        let viewed = super::super::hosts_fold(
            gathered(),
            &ctx,
            1,
            Some(&mut tell),
            |seen: &mut Vec<IpAddr>, v| seen.push(v.addr),
        );
        assert_eq!(told, [peer_only]);
        assert_eq!(viewed.concat(), [with_skype]);
        let all = super::super::hosts_map(gathered(), &ctx, 1, |v| {
            let c = crate::classify::classify(&v);
            (v.addr, c.verdict.label, c.advisories.len())
        });
        let peer = all.iter().find(|(a, ..)| *a == peer_only).unwrap();
        assert_eq!(peer.1, crate::classify::Label::NoSkype);
        assert_eq!(peer.2, 0);
    }
}
