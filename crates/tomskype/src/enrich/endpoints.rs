//! A host's endpoints while gathering: most hosts talk to a handful of addresses, a few
//! (servers, scanners, resolvers) to thousands. A list, searched from the end (the endpoint of
//! the last flow is often the next one's), with a hash index beside it only past
//! [`INDEXED_PAST`] entries: a hash map for every host cost four entries' room (about 1 KiB)
//! for a host with one endpoint, and a capture of a big network has millions of those.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::EndpointAgg;

/// Past this many endpoints, a host's list gets an index.
const INDEXED_PAST: usize = 16;

/// A host's endpoints by address, in the order first gathered. The addresses are kept apart
/// from the aggregates, so that the search from the end reads a few cache lines of addresses
/// and not one aggregate (about 240 bytes) per address passed.
#[derive(Debug, Default, Clone)]
pub(super) struct Endpoints {
    addrs: Vec<IpAddr>,
    aggs: Vec<EndpointAgg>,
    /// Position in the lists by address, once they are longer than [`INDEXED_PAST`].
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
        &mut self.aggs[at]
    }

    /// The endpoint at `addr`, if there.
    pub(super) fn get_mut(&mut self, addr: IpAddr) -> Option<&mut EndpointAgg> {
        let at = self.position(addr)?;
        self.aggs.get_mut(at)
    }

    /// Adds the endpoint `e` at `addr`, which is not there; its position.
    pub(super) fn push(&mut self, addr: IpAddr, e: EndpointAgg) -> usize {
        let at = self.addrs.len();
        if self.addrs.capacity() == at {
            // One more, not four (a vector's first growth): most hosts have one endpoint.
            self.addrs.reserve_exact(at.max(1));
            self.aggs.reserve_exact(at.max(1));
        }
        self.addrs.push(addr);
        self.aggs.push(e);
        match &mut self.index {
            Some(index) => {
                index.insert(addr, at as u32);
            }
            None if self.addrs.len() > INDEXED_PAST => {
                self.index = Some(
                    self.addrs
                        .iter()
                        .enumerate()
                        .map(|(i, a)| (*a, i as u32))
                        .collect(),
                );
            }
            None => {}
        }
        at
    }

    fn position(&self, addr: IpAddr) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&addr).map(|&at| at as usize),
            None => self.addrs.iter().rposition(|a| *a == addr),
        }
    }

    /// How many.
    pub(super) fn len(&self) -> usize {
        self.addrs.len()
    }

    /// Every endpoint, in the order first gathered.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&IpAddr, &EndpointAgg)> {
        self.addrs.iter().zip(&self.aggs)
    }

    /// Every endpoint, to change.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut EndpointAgg> {
        self.aggs.iter_mut()
    }

    /// Every endpoint, taken.
    pub(super) fn into_vec(self) -> Vec<(IpAddr, EndpointAgg)> {
        self.addrs.into_iter().zip(self.aggs).collect()
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
    }
}
