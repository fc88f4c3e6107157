//! The (protocol, remote port) pairs of the flows between a host and one endpoint, gathered one
//! flow at a time: the lowest [`SHOWN`] of them for the report, and every pair marked "opened"
//! (gathering marks those of flows the host opened to a port that an indicator names: the
//! port indicators must see them all). Most endpoints have a handful of ports, so these live
//! in a fixed array beside the endpoint's counters with no allocation; only the opened pairs
//! beyond the lowest [`SHOWN`] go to a list on the heap.

use std::collections::BTreeSet;

/// How many pairs are kept for the report: the lowest, so that the result does not depend on
/// the order of the flows.
pub const SHOWN: usize = 16;

/// A (protocol, port) pair, and whether it was added as opened.
#[derive(Debug, Clone, Copy, Default)]
struct Pair {
    proto: u8,
    opened: bool,
    port: u16,
}

impl Pair {
    fn key(self) -> (u8, u16) {
        (self.proto, self.port)
    }
}

/// The pairs of an endpoint's flows. Invariant: `low[..len]` is sorted and unique; `more`
/// holds only pairs greater than all of `low`, which is then full.
#[derive(Debug, Default, Clone)]
pub struct Ports {
    low: [Pair; SHOWN],
    len: u8,
    /// Pairs added as opened that are not among `low`.
    more: PortList,
}

impl Ports {
    /// Adds one flow's pair; `opened` to keep it among [`Ports::opened`].
    pub fn add(&mut self, proto: u8, port: u16, opened: bool) {
        let key = (proto, port);
        let len = usize::from(self.len);
        let low = &mut self.low[..len];
        // A few ports per endpoint: a linear scan from the top beats a binary search.
        let mut at = len;
        while at > 0 && low[at - 1].key() > key {
            at -= 1;
        }
        if at > 0 && low[at - 1].key() == key {
            low[at - 1].opened |= opened;
            return;
        }
        if at == SHOWN {
            // Greater than all the kept pairs, and they are full.
            if opened {
                self.more.push(key);
            }
            return;
        }
        let new = Pair {
            proto,
            opened,
            port,
        };
        if len == SHOWN {
            let evicted = self.low[SHOWN - 1];
            if evicted.opened {
                self.more.push(evicted.key());
            }
            self.low.copy_within(at..SHOWN - 1, at + 1);
        } else {
            self.low.copy_within(at..len, at + 1);
            self.len += 1;
        }
        self.low[at] = new;
    }

    /// Adds `other`'s pairs: the two sorted arrays merged in one pass, the lists of opened
    /// pairs beyond them in another.
    pub fn merge(&mut self, mut other: Ports) {
        // A copy of ours: `self.low` is rewritten as the merge goes.
        let mine = self.low;
        let (mine, theirs) = (
            &mine[..usize::from(self.len)],
            &other.low[..usize::from(other.len)],
        );
        let (mut i, mut j, mut n) = (0, 0, 0);
        // Opened pairs that no longer fit, in order.
        let mut spilled = Vec::new();
        loop {
            let next = match (mine.get(i), theirs.get(j)) {
                (Some(a), Some(b)) if a.key() == b.key() => {
                    i += 1;
                    j += 1;
                    Pair {
                        opened: a.opened || b.opened,
                        ..*a
                    }
                }
                (Some(a), Some(b)) if a.key() < b.key() => {
                    i += 1;
                    *a
                }
                (_, Some(b)) => {
                    j += 1;
                    *b
                }
                (Some(a), None) => {
                    i += 1;
                    *a
                }
                (None, None) => break,
            };
            if n < SHOWN {
                self.low[n] = next;
                n += 1;
            } else if next.opened {
                spilled.push(next.key());
            }
        }
        // At most SHOWN: the cast is exact.
        self.len = n as u8;
        // Every pair of either list and every spilled one is greater than all of the new
        // `low`, which is full whenever any of them is not empty.
        self.more.merge(std::mem::take(&mut other.more));
        self.more.merge(PortList {
            clean: spilled.len(),
            list: spilled,
        });
    }

    /// Sorts what is kept (done in the gathering worker, so that later merges are cheap).
    pub fn tidy(&mut self) {
        self.more.sorted_mut();
    }

    /// Whether any of the lowest [`SHOWN`] pairs is one `f` accepts.
    pub fn any_shown(&self, f: impl Fn((u8, u16)) -> bool) -> bool {
        self.low[..usize::from(self.len)].iter().any(|p| f(p.key()))
    }

    /// Whether any pair was added as opened.
    pub fn any_opened(&self) -> bool {
        !self.more.list.is_empty() || self.low[..usize::from(self.len)].iter().any(|p| p.opened)
    }

    /// The lowest [`SHOWN`] pairs.
    pub fn shown(&self) -> BTreeSet<(u8, u16)> {
        self.low[..usize::from(self.len)]
            .iter()
            .map(|p| p.key())
            .collect()
    }

    /// Every pair added as opened, sorted, each once.
    pub fn opened(&mut self) -> impl Iterator<Item = (u8, u16)> + '_ {
        let len = usize::from(self.len);
        let more = self.more.sorted_mut();
        self.low[..len]
            .iter()
            .filter(|p| p.opened)
            .map(|p| p.key())
            .chain(more.iter().copied())
    }
}

/// A set of (protocol, port) pairs that takes one per flow cheaply: kept as a list, sorted and
/// made unique only when it has doubled since the last time (and when read). A host can open
/// flows to tens of thousands of ports of one endpoint; a tree set made that the costliest
/// part of gathering and merging.
#[derive(Debug, Default, Clone)]
struct PortList {
    list: Vec<(u8, u16)>,
    /// Length of `list` when it was last made sorted and unique.
    clean: usize,
}

impl PortList {
    fn push(&mut self, p: (u8, u16)) {
        self.list.push(p);
        if self.list.len() > 2 * self.clean.max(32) {
            self.tidy();
        }
    }

    /// Adds `other`'s pairs: both sorted first, then merged in one pass.
    fn merge(&mut self, mut other: PortList) {
        if other.list.is_empty() {
            return;
        }
        let (mine, theirs) = (std::mem::take(self.sorted_mut()), other.sorted_mut());
        let mut out = Vec::with_capacity(mine.len() + theirs.len());
        let (mut i, mut j) = (0, 0);
        while let (Some(&a), Some(&b)) = (mine.get(i), theirs.get(j)) {
            out.push(a.min(b));
            i += usize::from(a <= b);
            j += usize::from(b <= a);
        }
        out.extend_from_slice(mine.get(i..).unwrap_or_default());
        out.extend_from_slice(theirs.get(j..).unwrap_or_default());
        self.clean = out.len();
        self.list = out;
    }

    fn tidy(&mut self) {
        self.list.sort_unstable();
        self.list.dedup();
        self.clean = self.list.len();
    }

    fn sorted_mut(&mut self) -> &mut Vec<(u8, u16)> {
        if self.clean != self.list.len() {
            self.tidy();
        }
        &mut self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`Ports`] must hold, the plain way: every pair, and the opened ones.
    #[derive(Default)]
    struct Model {
        all: BTreeSet<(u8, u16)>,
        opened: BTreeSet<(u8, u16)>,
    }

    impl Model {
        fn add(&mut self, proto: u8, port: u16, opened: bool) {
            self.all.insert((proto, port));
            if opened {
                self.opened.insert((proto, port));
            }
        }
    }

    fn flows() -> impl proptest::strategy::Strategy<Value = Vec<(u8, u16, bool)>> {
        // Few distinct values, so that pairs repeat and the kept ones overflow.
        proptest::collection::vec((0u8..3, 0u16..40, proptest::bool::ANY), 0..120)
    }

    proptest::proptest! {
        /// Ports keeps the lowest pairs and every opened one, whatever the order of the flows
        /// and however they are split between merged parts.
        #[test]
        fn ports_agree_with_sets(parts in proptest::collection::vec(flows(), 1..4)) {
            let mut model = Model::default();
            let mut merged = Ports::default();
            for part in &parts {
                let mut ports = Ports::default();
                for &(proto, port, opened) in part {
                    ports.add(proto, port, opened);
                    model.add(proto, port, opened);
                }
                if parts.len() % 2 == 0 {
                    ports.tidy();
                }
                merged.merge(ports);
            }
            let lowest: BTreeSet<(u8, u16)> = model.all.iter().copied().take(SHOWN).collect();
            proptest::prop_assert_eq!(merged.shown(), lowest);
            let opened: Vec<(u8, u16)> = merged.opened().collect();
            proptest::prop_assert_eq!(opened, model.opened.into_iter().collect::<Vec<_>>());
        }

        /// A port list holds what a tree set would, whatever the pushes and merges.
        #[test]
        fn port_list_is_a_set(
            a in proptest::collection::vec((0u8..3, 0u16..200), 0..300),
            b in proptest::collection::vec((0u8..3, 0u16..200), 0..300),
        ) {
            let (mut x, mut y) = (PortList::default(), PortList::default());
            a.iter().for_each(|&p| x.push(p));
            b.iter().for_each(|&p| y.push(p));
            x.merge(y);
            let want: Vec<(u8, u16)> = a.iter().chain(&b).copied().collect::<BTreeSet<_>>().into_iter().collect();
            proptest::prop_assert_eq!(&x.sorted_mut()[..], &want[..]);
            let mut only_a = PortList::default();
            a.iter().for_each(|&p| only_a.push(p));
            let want_a: Vec<(u8, u16)> = a.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
            proptest::prop_assert_eq!(&only_a.sorted_mut()[..], &want_a[..]);
        }
    }
}
