//! The order in which a bounded store's entries came, so that a full store finds its oldest
//! entry in constant time.
//!
//! The stores that wait for what completes a packet's meaning (DNS questions for their answers,
//! TCP directions for their missing bytes, IP fragments for the rest of their datagram) are
//! bounded, and the oldest entry gives way when one is full. They used to search every entry
//! for it, once per packet while full: a capture that keeps one full (a spoofer's, or one
//! direction of a busy resolver's traffic) cost a search of 65,536, 4,096 or 1,024 entries per
//! packet, and 100,000 DNS questions with no answers took 15 s (bench/RESULTS.md, "Stores
//! full of waiting entries"). A store now notes each key as it comes, with its time, in an
//! [`Arrivals`] beside it.
//!
//! An entry of the order is *live* while the store holds its key as added at that time; an
//! entry whose key left the store (answered, completed, timed out) or came again (at another
//! time) is stale, and is skipped when it comes up. Stale entries are dropped in one pass
//! whenever they could outnumber the live ones ([`Arrivals::push`]), so the order holds at
//! most about twice the store's entries, and each pass costs what it drops.
//!
//! Why not a map that keeps its insertion order (`hashlink::LinkedHashMap`, `indexmap`): the
//! first links every entry to its neighbours through a node of its own on the heap, the second
//! takes an entry out of the front by moving every other one. A queue of keys beside a plain
//! map allocates nothing per entry and reads the oldest from memory in order.

use std::collections::VecDeque;

/// Stale entries allowed beyond as many as the store holds, before they are dropped.
const SLACK: usize = 64;

/// The keys of a store in the order they came, each with its time. See the module
/// documentation.
#[derive(Debug, Clone)]
pub(crate) struct Arrivals<K> {
    order: VecDeque<(K, i64)>,
}

impl<K> Default for Arrivals<K> {
    fn default() -> Arrivals<K> {
        Arrivals {
            order: VecDeque::new(),
        }
    }
}

impl<K: Copy> Arrivals<K> {
    /// Notes that `key` came at `at`. `held` is how many entries the store holds now, and
    /// `live` says whether an entry is still its key's: past twice `held` entries (and a
    /// little), the stale ones are dropped.
    pub(crate) fn push(&mut self, key: K, at: i64, held: usize, live: impl FnMut(&K, i64) -> bool) {
        self.order.push_back((key, at));
        if self.order.len() >= 2 * held + SLACK {
            self.retain(live);
        }
    }

    /// The oldest live entry, taken out of the order (the caller takes it out of its store).
    pub(crate) fn take_oldest(
        &mut self,
        mut live: impl FnMut(&K, i64) -> bool,
    ) -> Option<(K, i64)> {
        while let Some((key, at)) = self.order.pop_front() {
            if live(&key, at) {
                return Some((key, at));
            }
        }
        None
    }

    /// Drops the stale entries (after the store let many go at once), giving back the room
    /// when most went.
    pub(crate) fn retain(&mut self, mut live: impl FnMut(&K, i64) -> bool) {
        self.order.retain(|(key, at)| live(key, *at));
        if self.order.capacity() > 4 * (self.order.len() + SLACK) {
            self.order.shrink_to(2 * self.order.len() + SLACK);
        }
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        self.order = VecDeque::new();
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

    #[test]
    fn the_oldest_live_entry_comes_first_and_stale_ones_stay_few() {
        let mut store: HashMap<u32, i64> = HashMap::new();
        let mut order = Arrivals::default();
        let add = |store: &mut HashMap<u32, i64>, order: &mut Arrivals<u32>, k: u32, at: i64| {
            store.insert(k, at);
            let held = store.len();
            order.push(k, at, held, |k, at| store.get(k) == Some(&at));
        };
        for k in 0..10 {
            add(&mut store, &mut order, k, i64::from(k));
        }
        store.remove(&0); // left the store
        add(&mut store, &mut order, 1, 100); // came again later
        fn live(store: &HashMap<u32, i64>) -> impl Fn(&u32, i64) -> bool + '_ {
            move |k, at| store.get(k) == Some(&at)
        }
        assert_eq!(order.take_oldest(live(&store)), Some((2, 2)));
        store.remove(&2);
        assert_eq!(order.take_oldest(live(&store)), Some((3, 3)));
        store.remove(&3);
        // A store that lets every entry go as the next comes: the order stays short.
        for k in 1000..100_000 {
            add(&mut store, &mut order, k, i64::from(k));
            store.remove(&k);
            assert!(order.len() < 2 * (store.len() + 1) + SLACK);
        }
        // Only the entries still live are left to come out, oldest first.
        let mut out = Vec::new();
        while let Some((k, _)) = order.take_oldest(live(&store)) {
            store.remove(&k);
            out.push(k);
        }
        assert_eq!(out, [4, 5, 6, 7, 8, 9, 1]);
        assert!(store.is_empty());
    }
}
