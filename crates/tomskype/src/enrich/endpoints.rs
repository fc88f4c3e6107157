//! A host's endpoints while gathering: most hosts talk to a handful of addresses, a few
//! (servers, scanners, resolvers) to thousands, and on a big network most talk to one. The
//! first endpoint is kept in place, beside the host's counters; the others in a list,
//! searched from the end (the endpoint of the last flow is often the next one's), with a hash
//! index beside it only past [`INDEXED_PAST`] entries: a hash map for every host cost four
//! entries' room (about 1 KiB) for a host with one endpoint, and a capture of a big network
//! has millions of those.
//!
//! Why the first in place: when it too was in the lists, making a host's first endpoint
//! allocated both lists and summarising the host freed them, and on the 1 GB many-hosts
//! capture of bench/RESULTS.md that was a tenth of the time of `--threads 1` (`perf record`:
//! `Endpoints::push` growing the lists, and `malloc`, `free` and `realloc` under it); 94% of
//! the endpoints made there were a host's first (`valgrind --tool=callgrind` on a 250 MB one:
//! 94,582 made, 88,850 growths).

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::EndpointAgg;

/// Past this many endpoints, a host's list gets an index.
const INDEXED_PAST: usize = 16;

/// A host's endpoints by address, in the order first gathered: the first in place, the
/// others in lists. The addresses are kept apart from the aggregates, so that the search
/// from the end reads a few cache lines of addresses and not one aggregate (168 bytes) per
/// address passed.
#[derive(Debug, Default, Clone)]
pub(super) struct Endpoints {
    first: Option<(IpAddr, EndpointAgg)>,
    /// The others, in order (the first of these is position 1).
    addrs: Vec<IpAddr>,
    aggs: Vec<EndpointAgg>,
    /// Position by address, once there are more than [`INDEXED_PAST`].
    index: Option<FxHashMap<IpAddr, u32>>,
}

impl Endpoints {
    /// The endpoint at `addr`, made by `new` if it is not there.
    pub(super) fn get_or_insert_with(
        &mut self,
        addr: IpAddr,
        new: impl FnOnce() -> EndpointAgg,
    ) -> &mut EndpointAgg {
        let at = match self.position(addr) {
            Some(at) => at,
            None => self.push(addr, new()),
        };
        self.at_mut(at)
    }

    /// The endpoint at `addr`, if there.
    pub(super) fn get_mut(&mut self, addr: IpAddr) -> Option<&mut EndpointAgg> {
        let at = self.position(addr)?;
        Some(self.at_mut(at))
    }

    /// The endpoint at position `at`, which is one.
    fn at_mut(&mut self, at: usize) -> &mut EndpointAgg {
        match (at.checked_sub(1), &mut self.first) {
            (None, Some((_, e))) => e,
            (Some(i), _) => &mut self.aggs[i],
            (None, None) => unreachable!("position 0 is the first endpoint, when there is one"),
        }
    }

    /// Adds the endpoint `e` at `addr`, which is not there; its position.
    pub(super) fn push(&mut self, addr: IpAddr, e: EndpointAgg) -> usize {
        if self.first.is_none() {
            self.first = Some((addr, e));
            return 0;
        }
        let at = self.addrs.len();
        if self.addrs.capacity() == at {
            // One more, not four (a vector's first growth): most hosts with a second endpoint
            // have no third.
            self.addrs.reserve_exact(at.max(1));
            self.aggs.reserve_exact(at.max(1));
        }
        self.addrs.push(addr);
        self.aggs.push(e);
        let at = at + 1;
        if let Some(index) = &mut self.index {
            index.insert(addr, at as u32);
        } else if self.len() > INDEXED_PAST {
            let index = self
                .iter()
                .enumerate()
                .map(|(i, (a, _))| (*a, i as u32))
                .collect();
            self.index = Some(index);
        }
        at
    }

    fn position(&self, addr: IpAddr) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&addr).map(|&at| at as usize),
            None => match self.addrs.iter().rposition(|a| *a == addr) {
                Some(i) => Some(i + 1),
                None => self.first.as_ref().filter(|(a, _)| *a == addr).map(|_| 0),
            },
        }
    }

    /// How many.
    pub(super) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.addrs.len()
    }

    /// Every endpoint, in the order first gathered.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&IpAddr, &EndpointAgg)> {
        self.first
            .iter()
            .map(|(a, e)| (a, e))
            .chain(self.addrs.iter().zip(&self.aggs))
    }

    /// Every endpoint, to change.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut EndpointAgg> {
        self.first
            .iter_mut()
            .map(|(_, e)| e)
            .chain(self.aggs.iter_mut())
    }

    /// Every endpoint, taken.
    pub(super) fn into_vec(self) -> Vec<(IpAddr, EndpointAgg)> {
        self.first
            .into_iter()
            .chain(self.addrs.into_iter().zip(self.aggs))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_address_once_below_and_above_the_index() {
        let mut m = Endpoints::default();
        let addr = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        for round in 0..2u64 {
            for i in 0..100 {
                let e = m.get_or_insert_with(addr(i), || EndpointAgg::new(0));
                e.flows += 1;
                assert_eq!(m.len(), if round == 0 { i as usize + 1 } else { 100 });
            }
        }
        assert!(m.index.is_some());
        for i in 0..100 {
            assert_eq!(m.get_mut(addr(i)).map(|e| e.flows), Some(2));
        }
        assert!(m.get_mut(addr(100)).is_none());
        let order: Vec<IpAddr> = m.iter().map(|(a, _)| *a).collect();
        assert_eq!(order, (0..100).map(addr).collect::<Vec<_>>());
        let taken: Vec<(IpAddr, u64)> = m
            .into_vec()
            .into_iter()
            .map(|(a, e)| (a, e.flows))
            .collect();
        assert_eq!(taken, (0..100).map(|i| (addr(i), 2)).collect::<Vec<_>>());
    }

    /// The first endpoint (in place) and the second (the first of the lists) are found,
    /// changed, listed and taken as any other.
    #[test]
    fn one_and_two_endpoints_are_found_and_listed() {
        let addr = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        let mut m = Endpoints::default();
        assert_eq!(m.len(), 0);
        assert!(m.get_mut(addr(0)).is_none());
        assert_eq!(m.iter().count(), 0);
        m.get_or_insert_with(addr(7), || EndpointAgg::new(5)).flows += 1;
        assert_eq!(m.len(), 1);
        assert!(
            m.addrs.is_empty() && m.aggs.capacity() == 0,
            "no list for one endpoint"
        );
        m.get_or_insert_with(addr(7), || EndpointAgg::new(9)).flows += 1;
        assert_eq!(m.len(), 1);
        m.get_or_insert_with(addr(3), || EndpointAgg::new(6)).flows += 10;
        assert_eq!(m.len(), 2);
        m.values_mut().for_each(|e| e.packets += 1);
        assert_eq!(
            m.get_mut(addr(7)).map(|e| (e.flows, e.first_ns, e.packets)),
            Some((2, 5, 1))
        );
        assert_eq!(
            m.get_mut(addr(3)).map(|e| (e.flows, e.first_ns, e.packets)),
            Some((10, 6, 1))
        );
        assert!(m.get_mut(addr(4)).is_none());
        let listed: Vec<IpAddr> = m.iter().map(|(a, _)| *a).collect();
        assert_eq!(listed, [addr(7), addr(3)]);
        let taken: Vec<IpAddr> = m.into_vec().into_iter().map(|(a, _)| a).collect();
        assert_eq!(taken, [addr(7), addr(3)]);
    }
}
