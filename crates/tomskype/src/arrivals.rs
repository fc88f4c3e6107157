//! The order in which a bounded store's entries came, so that a full store finds its oldest
//! entry in constant time.
//!
//! The stores that wait for what completes a packet's meaning (DNS questions for their answers,
//! TCP directions for their missing bytes, IP fragments for the rest of their datagram) are
//! bounded, and the oldest entry gives way when one is full. They used to search every entry
//! for it, once per packet while full: a capture that keeps one full (a spoofer's, or one
//! direction of a busy resolver's traffic) cost a search of 65,536, 4,096 or 1,024 entries per
//! packet, and 100,000 DNS questions with no answers took 15 s (bench/RESULTS.md, "Stores
//! full of waiting entries"). A store now keeps its keys in the order of their times, in an
//! [`Arrivals`] beside it, while it is full.
//!
//! An entry of the order is *live* while the store holds its key as added at that time; an
//! entry whose key left the store (answered, completed, timed out) or came again (at another
//! time) is stale, and is skipped when it comes up. Stale entries are dropped in one pass
//! whenever they could outnumber the live ones ([`Arrivals::push`]), so the order holds at
//! most about twice the store's entries, and each pass costs what it drops.
//!
//! The order is kept only while the store is full or nearly: it is built, from the store's
//! entries sorted by time (ties by key, so that the same capture gives up the same entries),
//! when the store first needs its oldest, and forgotten once the store holds fewer than half
//! the entries it held then. Kept all the time, it cost every DNS question a place in the
//! queue and, in the passes over it, a look-up: 2% more instructions on bench-400
//! (`valgrind --tool=cachegrind`), where most questions are answered within milliseconds and
//! the store is never full.
//!
//! Why not a map that keeps its insertion order (`hashlink::LinkedHashMap`, `indexmap`): the
//! first links every entry to its neighbours through a node of its own on the heap, the second
//! takes an entry out of the front by moving every other one. A queue of keys beside a plain
//! map allocates nothing per entry and reads the oldest from memory in order.

use std::collections::VecDeque;

/// Stale entries allowed beyond as many as the store holds, before they are dropped.
const SLACK: usize = 64;

/// The keys of a store in the order they came, each with its time, while the store is full or
/// nearly. See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct Arrivals<K> {
    order: VecDeque<(K, i64)>,
    /// How many entries the store held when the order was built (`None`: not kept).
    built_at: Option<usize>,
}

impl<K> Default for Arrivals<K> {
    fn default() -> Arrivals<K> {
        Arrivals {
            order: VecDeque::new(),
            built_at: None,
        }
    }
}

impl<K: Copy + Ord> Arrivals<K> {
    /// Notes that `key` came at `at`, if the order is kept. `held` is how many entries the
    /// store holds now, and `live` says whether an entry is still its key's: past twice
    /// `held` entries (and a little), the stale ones are dropped.
    pub(crate) fn push(&mut self, key: K, at: i64, held: usize, live: impl FnMut(&K, i64) -> bool) {
        if self.built_at.is_none() {
            return;
        }
        self.order.push_back((key, at));
        if self.order.len() >= 2 * held + SLACK {
            self.retain(held, live);
        }
    }

    /// The oldest live entry, taken out of the order (the caller takes it out of its store).
    /// If the order is not kept, it is built first from `entries`, the store's keys with their
    /// times.
    pub(crate) fn take_oldest(
        &mut self,
        entries: impl ExactSizeIterator<Item = (K, i64)>,
        mut live: impl FnMut(&K, i64) -> bool,
    ) -> Option<(K, i64)> {
        if self.built_at.is_none() {
            self.built_at = Some(entries.len());
            let mut all: Vec<(K, i64)> = entries.collect();
            all.sort_unstable_by_key(|&(key, at)| (at, key));
            self.order = all.into();
        }
        while let Some((key, at)) = self.order.pop_front() {
            if live(&key, at) {
                return Some((key, at));
            }
        }
        None
    }

    /// Drops the stale entries (after the store let many go at once), or the whole order once
    /// the store holds fewer than half the entries it held when the order was built.
    pub(crate) fn retain(&mut self, held: usize, mut live: impl FnMut(&K, i64) -> bool) {
        let Some(built_at) = self.built_at else {
            return;
        };
        if held < built_at / 2 {
            self.clear();
            return;
        }
        self.order.retain(|(key, at)| live(key, *at));
        if self.order.capacity() > 4 * (self.order.len() + SLACK) {
            self.order.shrink_to(2 * self.order.len() + SLACK);
        }
    }

    /// Forgets every entry: the order is no longer kept.
    pub(crate) fn clear(&mut self) {
        self.order = VecDeque::new();
        self.built_at = None;
    }

    /// Entries noted, stale ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn live(store: &HashMap<u32, i64>) -> impl Fn(&u32, i64) -> bool + '_ {
        move |k, at| store.get(k) == Some(&at)
    }

    fn entries(store: &HashMap<u32, i64>) -> impl ExactSizeIterator<Item = (u32, i64)> + '_ {
        store.iter().map(|(&k, &at)| (k, at))
    }

    fn add(store: &mut HashMap<u32, i64>, order: &mut Arrivals<u32>, k: u32, at: i64) {
        store.insert(k, at);
        let held = store.len();
        order.push(k, at, held, live(store));
    }

    #[test]
    fn the_oldest_live_entry_comes_first_and_stale_ones_stay_few() {
        let mut store: HashMap<u32, i64> = HashMap::new();
        let mut order = Arrivals::default();
        for k in (0..10).rev() {
            add(&mut store, &mut order, k, 5); // ten at one time: by key
        }
        add(&mut store, &mut order, 10, 1);
        assert_eq!(order.len(), 0, "not kept until the oldest is asked for");
        store.remove(&0); // left the store
        assert_eq!(
            order.take_oldest(entries(&store), live(&store)),
            Some((10, 1))
        );
        store.remove(&10);
        assert_eq!(
            order.take_oldest(entries(&store), live(&store)),
            Some((1, 5))
        );
        store.remove(&1);
        add(&mut store, &mut order, 2, 100); // came again later
        assert_eq!(
            order.take_oldest(entries(&store), live(&store)),
            Some((3, 5))
        );
        store.remove(&3);
        // Kept while the store is nearly full: each entry that comes and goes at once
        // leaves a stale one, and they stay few.
        for k in 1000..100_000 {
            add(&mut store, &mut order, k, i64::from(k));
            store.remove(&k);
            assert!(order.len() < 2 * (store.len() + 1) + SLACK);
        }
        let mut out = Vec::new();
        while let Some((k, _)) = order.take_oldest(entries(&store), live(&store)) {
            store.remove(&k);
            out.push(k);
        }
        assert_eq!(out, [4, 5, 6, 7, 8, 9, 2]);
        assert!(store.is_empty());
    }

    #[test]
    fn the_order_is_forgotten_once_the_store_is_half_empty() {
        let mut store: HashMap<u32, i64> = (0..100).map(|k| (k, i64::from(k))).collect();
        let mut order = Arrivals::default();
        assert_eq!(
            order.take_oldest(entries(&store), live(&store)),
            Some((0, 0))
        );
        store.remove(&0);
        assert_eq!(order.len(), 99);
        store.retain(|&k, _| k >= 60);
        order.retain(store.len(), live(&store));
        assert_eq!(order.len(), 0, "40 left of the 100 held when built");
        add(&mut store, &mut order, 500, 500);
        assert_eq!(order.len(), 0, "not kept again until asked for");
        assert_eq!(
            order.take_oldest(entries(&store), live(&store)),
            Some((60, 60))
        );
    }
}
