//! Stage 4, enrich: from gathered traffic to one [`HostView`] per host. Looks up each endpoint
//! once (country, the one address indicator that speaks for it), gives it the names the host
//! itself produced for it (its own DNS answers, TLS server names, HTTP hosts), sorts the
//! host's HTTP requests into its own, a browser's visits and relays for others, and matches
//! every name, request and port against the indicator set, each match with its [`Basis`].

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{
    Basis, Context, Dropped, Endpoint, EndpointAgg, Gathered, HostAgg, HostView, Match, NameSeen,
    ProxyAgg, Query, Via, MAX_HTTP_PER_ENDPOINT,
};
use crate::addr::{self, SpecialRange};
use crate::flow::names::Clients;
use crate::flow::{FlowTable, HttpFact, NameSet};
use crate::knowledge::geoip::Country;
use crate::knowledge::indicators::{Indicator, IndicatorSet, Matcher, Role};

/// Builds the per-host views of a flow table, sorted by host address.
pub fn hosts_of<'s>(table: &FlowTable, ctx: &Context<'s>) -> Vec<HostView<'s>> {
    hosts(super::gather(table, ctx), ctx)
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
    hosts_fold(gathered, ctx, threads, None, |out: &mut Vec<T>, view| {
        out.push(each(view));
    })
    .into_iter()
    .flatten()
    .collect()
}

/// [`hosts`], each view handed to `each` with an accumulator as it is made (and dropped
/// after), on `threads` threads: each takes a run of hosts in address order into an
/// accumulator of its own, and the accumulators come in that order (one per run), so that
/// what they hold together is the same for any number of threads. Only what `each` keeps of a
/// view outlives it: a report that keeps little of most hosts never holds them all.
///
/// Summarised hosts ([`Gathered::compact`]) join the host they became again; one whose DNS
/// questions may match an indicator is viewed with its counters alone; the others have no sign
/// at all: with `quiet`, they are handed to it (in no order) instead of being viewed, and so
/// are the hosts gathered whole that can show no label or advisory (nothing an indicator could
/// match, Skype's protocols, a resolver's or proxy's role: at most peers in China, whose
/// advisory needs Skype seen).
pub fn hosts_fold<'s, A, F>(
    mut gathered: Gathered,
    ctx: &Context<'s>,
    threads: usize,
    mut quiet: Option<&mut dyn FnMut(IpAddr)>,
    each: F,
) -> Vec<A>
where
    A: Default + Send,
    F: Fn(&mut A, HostView<'s>) + Sync,
{
    let mut summaries = std::mem::take(&mut gathered.summaries);
    let asks_watched = |queries: &FxHashMap<IpAddr, NameSet>, addr| {
        queries
            .get(&addr)
            .is_some_and(|asked| asked.names.keys().any(|n| ctx.indicators.watches_name(n)))
    };
    // A machine that sent nothing is still a machine (a one-direction capture), unless its
    // address may be a network's or its broadcast address.
    let counts = |sent: u64, addr| sent > 0 || !ctx.local.maybe_network_or_broadcast(addr);
    for (addr, s) in summaries.drain() {
        if let Some(h) = gathered.hosts.get_mut(&addr) {
            h.absorb(&s);
            continue;
        }
        match &mut quiet {
            Some(tell) if !asks_watched(&gathered.queries, addr) => {
                if counts(s.sent, addr) {
                    tell(addr);
                }
            }
            _ => {
                gathered
                    .hosts
                    .insert(addr, Box::new(HostAgg::from_summary(addr, &s)));
            }
        }
    }
    drop(summaries);
    if let Some(tell) = &mut quiet {
        // The hosts whole to the end that can show no label or advisory (with no sign at all,
        // as above, or kept whole only for their peers in China): handed over as they are,
        // not viewed. In one pass over the map: listing them first and removing each after,
        // looked up again, the report took 155.9 M instructions instead of 147.3 M on a 250 MB
        // capture of bench/make_capture.py's many hosts (`valgrind --tool=callgrind`).
        let mut hosts = std::mem::take(&mut gathered.hosts);
        hosts.retain(|&addr, h| {
            let listed = gathered.may_be_listed(h, ctx) || asks_watched(&gathered.queries, addr);
            if !listed && counts(h.sent, addr) {
                tell(addr);
            }
            listed
        });
        gathered.hosts = hosts;
    }
    let Gathered {
        hosts,
        resolved,
        queries,
        dns_servers,
        proxies,
        ..
    } = gathered;
    let known = Known {
        resolved: &resolved,
        queries: &queries,
        dns_servers: &dns_servers,
        proxies: &proxies,
    };
    let mut hosts: Vec<HostAgg> = hosts
        .into_values()
        .filter(|h| counts(h.sent, h.addr))
        .map(|h| *h)
        .collect();
    hosts.sort_unstable_by_key(|h| h.addr);
    // Each run has its own cache of address facts (pure functions of the address).
    let run = |part: Vec<HostAgg>| -> A {
        let mut cache: FxHashMap<IpAddr, AddrFacts<'s>> = FxHashMap::default();
        let mut acc = A::default();
        for h in part {
            each(&mut acc, h.finish(&known, ctx, &mut cache));
        }
        acc
    };
    let threads = threads.clamp(1, hosts.len().max(1));
    if threads == 1 {
        return vec![run(hosts)];
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
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The views of `hosts` (in address order, as [`hosts_fold`] makes them, on this thread),
/// with what `known` says beside them: for [`Gathered::so_far`].
pub(super) fn views_of<'s>(
    mut hosts: Vec<HostAgg>,
    known: &Known<'_>,
    ctx: &Context<'s>,
    mut each: impl FnMut(HostView<'s>),
) {
    hosts.retain(|h| h.sent > 0 || !ctx.local.maybe_network_or_broadcast(h.addr));
    hosts.sort_unstable_by_key(|h| h.addr);
    let mut cache: FxHashMap<IpAddr, AddrFacts<'s>> = FxHashMap::default();
    for h in hosts {
        each(h.finish(known, ctx, &mut cache));
    }
}

/// What gathering learnt beside the hosts, for [`HostAgg::finish`].
pub(super) struct Known<'g> {
    pub(super) resolved: &'g FxHashMap<(IpAddr, IpAddr), NameSet>,
    pub(super) queries: &'g FxHashMap<IpAddr, NameSet>,
    pub(super) dns_servers: &'g FxHashMap<IpAddr, Clients>,
    pub(super) proxies: &'g FxHashMap<IpAddr, ProxyAgg>,
}

/// What is known of an address regardless of which host talked to it.
#[derive(Clone)]
struct AddrFacts<'s> {
    country: Option<Country>,
    special: Option<SpecialRange>,
    indicator: Option<&'s Indicator>,
}

/// Whose an HTTP request is, from the host's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The host's own request.
    Own,
    /// A browser's request for a web page.
    Visit,
    /// Relayed for another machine.
    Relayed,
}

impl Asked {
    fn basis(self) -> Basis {
        match self {
            Asked::Own => Basis::Request,
            Asked::Visit => Basis::Visit,
            Asked::Relayed => Basis::Relayed,
        }
    }
}

pub(super) use crate::decode::http::is_browser;

/// Sorts one request: relayed when it carries `Via` or the host is a proxy that was asked for
/// that name; a visit when a web page made it (Referer); the host's own when it is a request
/// only a client makes (an indicator's URL, parameter or User-Agent, not of TOM's web site) or
/// not a browser's; a visit otherwise (a browser's request for a page).
/// `matched` are the indicators the request matches.
fn sort_request(req: &HttpFact, matched: &[&Indicator], relays: Option<&ProxyAgg>) -> Asked {
    let relayed_name =
        relays.is_some_and(|p| req.host.as_deref().map_or(p.overflow, |h| p.relays(h)));
    if req.via || (relayed_name && !req.to_proxy()) {
        return Asked::Relayed;
    }
    if req.referer.is_some() {
        return Asked::Visit;
    }
    let client_only = matched
        .iter()
        .any(|i| matches!(i.role, Role::Tom | Role::Skype));
    if client_only || !is_browser(req.user_agent.as_deref()) {
        Asked::Own
    } else {
        Asked::Visit
    }
}

/// A request as shown in evidence: host and target, or the absolute URI a proxy was sent
/// (without its scheme).
fn shown_request(req: &HttpFact) -> String {
    let target = req.target.as_str();
    if let Some(rest) = crate::decode::http::without_scheme(target) {
        return rest.to_owned();
    }
    if req.to_proxy() {
        // CONNECT host:port: the target is the whole story.
        return target.to_owned();
    }
    format!("{}{}", req.host.as_deref().unwrap_or(""), target)
}

/// How a name match counts, from how the name was seen: the host's own request first, then
/// its server name, then its browser's visit or a relay, then its own lookup (with or without
/// a contact), and last an answer it never asked for.
fn name_basis(seen: &NameSeen, contacted: bool) -> Basis {
    if seen.request {
        Basis::Request
    } else if seen.server_name {
        Basis::ServerName
    } else if seen.visit {
        Basis::Visit
    } else if seen.relayed {
        Basis::Relayed
    } else if seen.answered && contacted {
        Basis::LookupAndContact
    } else if seen.answered {
        Basis::LookupOnly
    } else {
        Basis::Unsolicited
    }
}

impl HostAgg {
    fn finish<'s>(
        self,
        known: &Known<'_>,
        ctx: &Context<'s>,
        cache: &mut FxHashMap<IpAddr, AddrFacts<'s>>,
    ) -> HostView<'s> {
        let set = ctx.indicators;
        let relays = known.proxies.get(&self.addr);
        let proxy_clients = relays.map_or(0, |p| p.clients.count());
        let dns_clients = known.dns_servers.get(&self.addr).map_or(0, Clients::count);
        let mut dns_answer_names = 0;
        let mut sorted: Vec<(IpAddr, EndpointAgg)> = self.endpoints.into_vec();
        sorted.sort_unstable_by_key(|(addr, _)| *addr);
        let endpoints: Vec<Endpoint<'s>> = sorted
            .into_iter()
            .map(|(addr, e)| {
                let facts = cache
                    .entry(addr)
                    .or_insert_with(|| AddrFacts {
                        country: ctx.geoip.country(addr),
                        special: addr::special_range(addr),
                        indicator: set.match_addr_most_specific(addr),
                    })
                    .clone();
                let resolved = known.resolved.get(&(self.addr, addr));
                dns_answer_names += resolved.map_or(0, |r| r.dropped);
                endpoint(addr, e, &facts, resolved, set, relays, ctx)
            })
            .collect();
        // Names an endpoint carries as the host's own (a contact followed its lookup, or a
        // request or server name named it): the endpoint's match speaks for such a query.
        let explained: FxHashSet<&str> = endpoints
            .iter()
            .flat_map(|e| {
                e.names
                    .iter()
                    .filter(|(_, n)| {
                        !matches!(
                            name_basis(n, e.contacted()),
                            Basis::LookupOnly | Basis::Unsolicited
                        )
                    })
                    .map(|(name, _)| name.as_str())
            })
            .collect();
        let (queries, dns_questions) = match known.queries.get(&self.addr) {
            Some(asked) => {
                let mut queries: Vec<Query<'s>> = asked
                    .names
                    .iter()
                    .map(|(name, seen)| Query {
                        name: name.clone(),
                        first_ns: seen.first_ns,
                        count: seen.count,
                        matches: set.match_name(name),
                        relayed: relays.is_some_and(|p| p.relays(name)),
                        explained: explained.contains(name.as_str()),
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
            dropped: Dropped {
                dns_questions,
                dns_answer_names,
                http_requests: self.http_dropped,
                tls_names: self.sni_dropped,
            },
            dns_clients,
            proxy_clients,
            summarised_flows: self.summarised_flows,
            summarised_endpoints: self.summarised_endpoints,
            flows: self.flows,
            packets: self.packets,
            sent: self.sent,
            bytes: self.bytes,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
        }
    }
}

/// One endpoint of a host, with its names and matches.
fn endpoint<'s>(
    addr: IpAddr,
    mut e: EndpointAgg,
    facts: &AddrFacts<'s>,
    resolved: Option<&NameSet>,
    set: &'s IndicatorSet,
    relays: Option<&ProxyAgg>,
    ctx: &Context<'s>,
) -> Endpoint<'s> {
    let contacted = e.host_opened && e.sent > 0;
    let mut rare = e.rare.take().map(|r| *r).unwrap_or_default();
    // In time order, whatever the table's order.
    rare.http
        .sort_by(|a, b| (a.ts_ns, &a.target).cmp(&(b.ts_ns, &b.target)));
    let mut names: BTreeMap<String, NameSeen> = BTreeMap::new();
    let mut note = |name: &str, ts: i64, mark: &dyn Fn(&mut NameSeen)| {
        let seen = names.entry(name.to_owned()).or_insert(NameSeen {
            first_ns: ts,
            ..NameSeen::default()
        });
        seen.first_ns = seen.first_ns.min(ts);
        mark(seen);
    };
    // A proxy's names (server names, lookups, addresses) are relayed when a client asked it
    // for them; all of them when it was asked for more names than are remembered.
    let relayed_name = |name: &str| relays.is_some_and(|p| p.relays(name));
    let (mut sni_own, mut sni_relayed) = (0usize, 0usize);
    for (name, &ts) in &rare.sni {
        if relayed_name(name) {
            sni_relayed += 1;
            note(name, ts, &|s| s.relayed = true);
        } else {
            sni_own += 1;
            note(name, ts, &|s| s.server_name = true);
        }
    }
    let mut matches: Vec<Match<'s>> = Vec::new();
    // What the host did with the endpoint: its own requests and server names, its browser's
    // visits, its relays for others.
    let (mut own, mut visits, mut relayed) = (sni_own, 0usize, sni_relayed);
    for req in &rare.http {
        let matched = set.match_http(req.host.as_deref(), &req.target, req.user_agent.as_deref());
        let asked = sort_request(req, &matched, relays);
        match asked {
            Asked::Own => own += 1,
            Asked::Visit => visits += 1,
            Asked::Relayed => relayed += 1,
        }
        if let Some(h) = &req.host {
            note(h, req.ts_ns, &|s| match asked {
                Asked::Own => s.request = true,
                Asked::Visit => s.visit = true,
                Asked::Relayed => s.relayed = true,
            });
        }
        let shown = shown_request(req);
        for indicator in matched {
            let via = match (&indicator.matcher, &req.user_agent) {
                (Matcher::UserAgent(_), Some(ua)) => {
                    Via::Http(format!("User-Agent: {ua} ({shown})"))
                }
                _ => Via::Http(shown.clone()),
            };
            let basis = if indicator.role == Role::TomWeb && asked == Asked::Own {
                Basis::Visit
            } else {
                asked.basis()
            };
            matches.push(Match {
                indicator,
                via,
                basis,
                first_ns: req.ts_ns,
            });
        }
    }
    if let Some(resolved) = resolved {
        for (name, seen) in &resolved.names {
            let (solicited, relay) = (seen.solicited, relayed_name(name));
            note(name, seen.first_ns, &|s| {
                if relay {
                    s.relayed = true;
                } else if solicited {
                    s.answered = true;
                } else {
                    s.unsolicited = true;
                }
            });
        }
    }
    // Whose the contact with the address was: the host's own, unless everything it did there
    // was a browser's visit or a relay for others (or a client named the address to it). The
    // address is written out only for a host that relays (it was for every endpoint: 3% of
    // the 200 MB many-hosts capture's instructions).
    let address_basis = if !contacted {
        Basis::ReceivedOnly
    } else if relays.is_some_and(|p| p.relays(&addr.to_string())) || (own == 0 && relayed > 0) {
        Basis::Relayed
    } else if own == 0 && visits > 0 {
        Basis::Visit
    } else {
        Basis::Contacted
    };
    if let Some(indicator) = facts.indicator {
        matches.push(Match {
            indicator,
            via: Via::Address,
            basis: address_basis,
            first_ns: e.first_ns,
        });
    }
    for (name, seen) in &names {
        for indicator in set.match_name(name) {
            let basis = if indicator.role == Role::TomWeb {
                Basis::Visit
            } else {
                name_basis(seen, contacted)
            };
            matches.push(Match {
                indicator,
                via: Via::Name(name.clone()),
                basis,
                first_ns: seen.first_ns,
            });
        }
    }
    for (proto, port) in e.ports.opened() {
        for indicator in set.match_port(proto, port) {
            matches.push(Match {
                indicator,
                via: Via::Port(proto, port),
                basis: match address_basis {
                    Basis::Relayed | Basis::Visit => address_basis,
                    _ => Basis::Port,
                },
                first_ns: e.first_ns,
            });
        }
    }
    // Keep the earliest requests (the bound must not depend on the table's order).
    rare.http.truncate(MAX_HTTP_PER_ENDPOINT);
    Endpoint {
        addr,
        country: facts.country,
        special: facts.special,
        local: ctx.local.is_local(addr),
        flows: e.flows,
        packets: e.packets,
        sent: e.sent,
        bytes: e.bytes,
        first_ns: e.first_ns,
        last_ns: e.last_ns,
        ports: e.ports.shown(),
        host_opened: e.host_opened,
        proxy: e.proxy,
        through_proxy: e.through_proxy,
        names,
        http: rare.http,
        matches,
        programs: rare.programs,
        skype_protocols: rare.skype,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_told_from_programs() {
        assert!(is_browser(Some(
            "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)"
        )));
        assert!(!is_browser(Some("Mozilla/3.0 (compatible; Indy Library)")));
        assert!(!is_browser(Some("Skype/6.21")));
        assert!(!is_browser(None));
    }

    #[test]
    fn name_basis_prefers_the_hosts_own_request() {
        let mut seen = NameSeen {
            answered: true,
            ..NameSeen::default()
        };
        assert_eq!(name_basis(&seen, false), Basis::LookupOnly);
        assert_eq!(name_basis(&seen, true), Basis::LookupAndContact);
        seen.visit = true;
        assert_eq!(name_basis(&seen, true), Basis::Visit);
        seen.request = true;
        assert_eq!(name_basis(&seen, true), Basis::Request);
        let only = NameSeen {
            unsolicited: true,
            ..NameSeen::default()
        };
        assert_eq!(name_basis(&only, true), Basis::Unsolicited);
    }

    /// `all`'s requests thinned as gathering thins them: each time the list is full past the
    /// bound. Checks that every request dropped is counted.
    fn thinned(all: &EndpointAgg, set: &IndicatorSet) -> EndpointAgg {
        let mut thinned = all.clone();
        let kept = thinned.rare_mut();
        kept.http = Vec::new();
        let mut dropped = 0;
        for req in &all.rare().http {
            if kept.http.len() >= super::super::HTTP_THIN_PAST
                && kept.http.len() == kept.http.capacity()
            {
                dropped += kept.thin_http(set);
            }
            kept.http.push(req.clone());
        }
        assert_eq!(
            kept.http.len() as u64 + dropped,
            all.rare().http.len() as u64
        );
        thinned
    }

    /// A forged stream of requests to one endpoint, every one to a name an indicator watches
    /// and many to names of their own: the list thinned stays bounded, and its view gives each
    /// indicator with each basis at the same first time as the view of them all.
    #[test]
    fn a_forged_stream_of_watched_requests_is_thinned_to_its_evidence() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let known = super::super::tests::known();
        let (ctx, set) = (super::super::tests::context(&known), &known.2);
        let mut all = EndpointAgg::new(0);
        all.host_opened = true;
        all.sent = 1;
        for n in 0..20_000i64 {
            let (host, referer) = match n % 4 {
                0 => ("ui.skype.com".to_string(), None),
                1 => ("skypetools.tom.com".to_string(), None),
                2 => (
                    "ui.skype.com".to_string(),
                    Some("http://example.com/".to_string()),
                ),
                _ => (format!("h{n}.example.com"), None),
            };
            all.rare_mut().http.push(HttpFact {
                ts_ns: n * 1000,
                method: "GET".into(),
                host: Some(host),
                target: format!("/{n}"),
                user_agent: Some("Skype/6.21".into()),
                referer,
                via: false,
                client: ip("192.168.1.2"),
            });
        }
        let thinned = thinned(&all, set);
        let kept = thinned.rare().http.len();
        // The first 64, 1,024 watched, one per watch group and kind, the first of 1,024 names.
        assert!(kept <= 2 * (64 + 1024 + 64 + 1024), "{kept} kept");
        let facts = AddrFacts {
            country: None,
            special: None,
            indicator: None,
        };
        let evidence = |e: EndpointAgg| {
            let view = endpoint(ip("203.0.113.5"), e, &facts, None, set, None, &ctx);
            let mut first: BTreeMap<String, i64> = BTreeMap::new();
            for m in &view.matches {
                let at = first
                    .entry(format!("{} {:?}", m.indicator.id, m.basis))
                    .or_insert(m.first_ns);
                *at = (*at).min(m.first_ns);
            }
            first
        };
        let (got, want) = (evidence(thinned), evidence(all));
        assert!(want.len() >= 2, "{want:?}");
        assert_eq!(got, want);
    }

    /// Thinning an endpoint's requests as they are gathered keeps everything its view reads:
    /// the view of thousands of requests of every kind, thinned, is the view of them all.
    #[test]
    fn thinned_requests_give_the_same_view() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let known = super::super::tests::known();
        let (ctx, set) = (super::super::tests::context(&known), &known.2);
        let browser = "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0";
        let mut all = EndpointAgg::new(0);
        all.host_opened = true;
        all.sent = 1;
        // Later requests first (flows end out of order); some kinds only late, after the
        // earliest that are listed.
        for n in (0..5000i64).rev() {
            let kind = if n % 7 == 2 || n % 7 == 6 {
                (n > 2500).then_some(n % 7)
            } else {
                Some(n % 7)
            };
            let (host, target, ua, referer, via) = match kind.unwrap_or(0) {
                0 => (
                    "www.example.com",
                    format!("/page/{n}"),
                    Some(browser),
                    None,
                    false,
                ),
                1 => (
                    "www.example.com",
                    format!("/img/{n}"),
                    Some(browser),
                    Some("x"),
                    false,
                ),
                2 => ("cdn.example.net", format!("/a/{n}"), None, None, false),
                3 => ("relay.example.org", format!("/r/{n}"), None, None, true),
                4 => (
                    "ui.skype.com",
                    format!("/ui/0/{n}"),
                    Some("Skype/6.21"),
                    None,
                    false,
                ),
                5 if n > 4000 => (
                    "skypetools1.tom.com",
                    format!("/en_return_time.php?login_id=x&code={n:032}"),
                    None,
                    None,
                    false,
                ),
                _ => (
                    "static.example.com",
                    format!("http://static.example.com/{n}"),
                    None,
                    None,
                    false,
                ),
            };
            all.rare_mut().http.push(HttpFact {
                ts_ns: n * 1000,
                method: "GET".into(),
                host: Some(host.into()),
                target,
                user_agent: ua.map(str::to_owned),
                referer: referer.map(str::to_owned),
                via,
                client: ip("192.168.1.2"),
            });
        }
        let thinned = thinned(&all, set);
        let kept = thinned.rare().http.len();
        assert!(kept < 2000, "{kept} kept");
        let facts = AddrFacts {
            country: None,
            special: None,
            indicator: None,
        };
        let mut relays = ProxyAgg::default();
        relays.add(ip("192.168.1.9"), Some("cdn.example.net"));
        for relays in [None, Some(&relays)] {
            let view = |e: EndpointAgg| {
                format!(
                    "{:?}",
                    endpoint(ip("203.0.113.5"), e, &facts, None, set, relays, &ctx)
                )
            };
            assert_eq!(view(thinned.clone()), view(all.clone()));
        }
    }
}
