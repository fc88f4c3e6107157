//! The hosts as they stand while an input is still being read: what a stream or a live
//! capture has shown so far, for verdicts that are told as they change
//! (`analyze::Gatherer::assess`). Only the hosts that may have a sign are viewed: a big
//! network's stream has millions of machines, and one with nothing an indicator could match
//! (the rule of [`summary`](super::summary)) has no verdict but no-skype.
//!
//! What is viewed: the host's flows that ended (gathered in a [`Gathered`]) with those still in
//! the flow table, gathered again at each look. The table's flows are gathered into a scratch
//! in batches, and after each batch the hosts of the scratch with nothing to match are dropped,
//! so that the look holds no more than a batch of quiet hosts at once. The DNS stores are the
//! table's (a reading's stores stay in its table until the input ends). A host's summarised
//! counters (see [`Gathered::compact`]) are not added: a look shows evidence, and the final
//! report has the exact counters.

use std::net::IpAddr;

use rustc_hash::FxHashSet;

use super::{Context, Gathered, HostAgg, HostView};
use crate::flow::FlowTable;

/// What a look at the hosts saw besides their views, when asked to count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Look {
    /// Hosts seen, whole or summarised (a host summarised and seen again may count twice).
    pub hosts: usize,
    /// The host with the most packets (its flows that ended and those going; a summarised
    /// host's counters left out).
    pub busiest: Option<IpAddr>,
}

/// Flows of the table gathered between two clear-outs of the scratch's quiet hosts.
const BATCH: usize = 16_384;

impl Gathered {
    /// Hands `each` the view of every host that may have a sign and changed since the last
    /// call or has flows still going, in address order, as the hosts stand with this (the
    /// flows that ended) and the flows still in `table` (whose DNS stores are the input's); a
    /// host with a sign left out is as it was at the last call. Returns how many hosts were
    /// seen and the busiest, when `count` asks.
    pub fn so_far<'s>(
        &mut self,
        table: &FlowTable,
        ctx: &Context<'s>,
        count: bool,
        each: impl FnMut(HostView<'s>),
    ) -> Look {
        let mut scratch = Gathered {
            watch: table.watch.clone(),
            ..Gathered::default()
        };
        // Hosts met only in the table, when counting, and the busiest host.
        let mut new_hosts: FxHashSet<IpAddr> = FxHashSet::default();
        let mut busiest: Option<(u64, IpAddr)> = None;
        let mut busier = |packets: u64, addr: IpAddr| {
            // The most packets, then the lower address.
            if busiest
                .is_none_or(|(p, a)| (packets, std::cmp::Reverse(addr)) > (p, std::cmp::Reverse(a)))
            {
                busiest = Some((packets, addr));
            }
        };
        let mut flows = table.flows.iter().peekable();
        while flows.peek().is_some() {
            for (key, flow) in flows.by_ref().take(BATCH) {
                scratch.fold_flow(&key, &flow, table.facts.get(&key), table, ctx);
            }
            if count {
                for addr in &scratch.fresh {
                    let Some(h) = scratch.hosts.get(addr) else {
                        continue;
                    };
                    let before = self.hosts.get(addr).map_or(0, |g| g.packets);
                    busier(before + h.packets, *addr);
                    if before == 0 && !self.hosts.contains_key(addr) {
                        new_hosts.insert(*addr);
                    }
                }
            }
            scratch.drop_quiet(self, table, ctx);
        }
        // The hosts gathered here: those with a sign are viewed when they changed since the
        // last look or have flows still going; the others are looked at only when they changed.
        let mut hosts: Vec<HostAgg> = Vec::new();
        let mut signs = Vec::new();
        for (addr, h) in &self.hosts {
            if count {
                busier(h.packets, *addr);
            }
            let mine = scratch.hosts.remove(addr);
            let sign =
                h.may_be_evidence || (!h.unchanged && self.may_have_sign(h, Some(table), ctx));
            if sign {
                signs.push(*addr);
            }
            if (sign && !h.unchanged) || mine.is_some() {
                let mut h = HostAgg::clone(h);
                if let Some(m) = mine {
                    h.merge(*m, Some(ctx.indicators));
                }
                hosts.push(h);
            }
        }
        for addr in signs {
            if let Some(h) = self.hosts.get_mut(&addr) {
                h.may_be_evidence = true;
            }
        }
        for h in self.hosts.values_mut() {
            h.unchanged = true;
        }
        hosts.extend(scratch.hosts.into_values().map(|h| *h));
        // A query that may match is a sign, whatever the host's flows.
        let viewed: FxHashSet<IpAddr> = hosts.iter().map(|h| h.addr).collect();
        for (client, asked) in &table.queries {
            let watched = || asked.names.keys().any(|n| ctx.indicators.watches_name(n));
            if !viewed.contains(client) && watched() {
                if let Some(h) = self.hosts.get(client) {
                    hosts.push(HostAgg::clone(h));
                } else {
                    hosts.push(HostAgg::new(*client));
                }
            }
        }
        let mut proxies = self.proxies.clone();
        for (proxy, p) in scratch.proxies {
            proxies.entry(proxy).or_default().merge(p);
        }
        for e in hosts.iter_mut().flat_map(|h| h.endpoints.values_mut()) {
            e.ports.tidy();
        }
        let known = super::view::Known {
            resolved: &table.resolved,
            queries: &table.queries,
            dns_servers: &table.dns_servers,
            proxies: &proxies,
        };
        super::view::views_of(hosts, &known, ctx, each);
        Look {
            hosts: if count {
                self.hosts.len() + self.summaries.len() + new_hosts.len()
            } else {
                0
            },
            busiest: busiest.map(|(_, a)| a),
        }
    }

    /// Drops the hosts gathered since the last call that have nothing an indicator could match,
    /// nor are known to `gathered` to have: the scratch of [`Gathered::so_far`].
    fn drop_quiet(&mut self, gathered: &Gathered, table: &FlowTable, ctx: &Context<'_>) {
        for addr in std::mem::take(&mut self.fresh) {
            let Some(h) = self.hosts.get(&addr) else {
                continue;
            };
            let known = gathered.hosts.get(&addr).is_some_and(|g| g.may_be_evidence);
            if !known && !gathered.may_have_sign(h, Some(table), ctx) && !self.serves(addr) {
                self.hosts.remove(&addr);
            }
        }
    }
}
