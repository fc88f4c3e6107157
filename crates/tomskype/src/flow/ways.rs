//! Stage 3, flows: a small fixed table of state per flow direction, for what must be looked
//! up on every TCP segment with a payload (the expected first sequence numbers of
//! [`super::streams`], the openings watched by [`super::skype::TcpOpenings`]): one allocation
//! at the first use, no allocation after, at most [`WAYS`] tag compares per look-up.
//!
//! An entry is found by its tag (the flow's table hash mixed with the direction, never 0) in
//! the set its tag picks, and lives at most `ttl` of capture time: an older one is not found
//! and its place is free. Two directions whose tags pick the same set keep their entries side
//! by side; only when every entry of a set is live does a new one take the place of the
//! oldest. So what one direction finds does not depend on which other flows the table holds,
//! unless [`WAYS`] live entries share its set: the table gives the same answers when the flows
//! are spread over several tables (one per shard of a file, see `analyze`) as in one.

/// Entries per set.
pub const WAYS: usize = 4;

/// An entry of a [`Ways`] table.
pub trait Tagged: Copy + Default {
    /// The entry's tag; 0 for a free entry.
    fn tag(&self) -> u64;
    /// Capture time the entry was made, ns since the epoch.
    fn since(&self) -> i64;
}

/// A table of `sets` sets of [`WAYS`] entries (see the module documentation).
#[derive(Debug, Clone)]
pub struct Ways<T> {
    entries: Vec<T>,
    sets: usize,
    shift: u32,
    ttl: i64,
}

impl<T: Tagged> Ways<T> {
    /// An empty table of `sets` sets (a power of two), picked by the bits of the tag from
    /// `shift` up, whose entries live `ttl` ns. Nothing is allocated until the first entry.
    pub fn new(sets: usize, shift: u32, ttl: i64) -> Ways<T> {
        debug_assert!(sets.is_power_of_two());
        Ways {
            entries: Vec::new(),
            sets,
            shift,
            ttl,
        }
    }

    /// Whether no entry was ever made.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn set(&self, tag: u64) -> std::ops::Range<usize> {
        let at = (tag >> self.shift) as usize & (self.sets - 1);
        at * WAYS..at * WAYS + WAYS
    }

    fn live(&self, e: &T, now: i64) -> bool {
        e.tag() != 0 && now.saturating_sub(e.since()) <= self.ttl
    }

    /// The live entry of `tag` at `now`, if any.
    #[inline]
    pub fn get(&mut self, tag: u64, now: i64) -> Option<&mut T> {
        let set = self.set(tag);
        let ttl = self.ttl;
        self.entries
            .get_mut(set)?
            .iter_mut()
            .find(|e| e.tag() == tag && now.saturating_sub(e.since()) <= ttl)
    }

    /// Frees the entry of `tag`, live or not.
    pub fn remove(&mut self, tag: u64) {
        let set = self.set(tag);
        for e in self.entries.get_mut(set).into_iter().flatten() {
            if e.tag() == tag {
                *e = T::default();
            }
        }
    }

    /// The place for `tag` at `now`: its live entry, else a free entry (a default one), in
    /// place of an entry no longer live, or of the set's oldest when all are.
    pub fn entry(&mut self, tag: u64, now: i64) -> &mut T {
        if self.entries.is_empty() {
            self.entries = vec![T::default(); self.sets * WAYS];
        }
        let range = self.set(tag);
        let live: [bool; WAYS] =
            std::array::from_fn(|i| self.live(&self.entries[range.start + i], now));
        let set = &mut self.entries[range];
        let own = (0..WAYS).find(|&i| live[i] && set[i].tag() == tag);
        let at = own.unwrap_or_else(|| {
            let at = (0..WAYS)
                .find(|&i| !live[i])
                .or_else(|| (0..WAYS).min_by_key(|&i| set[i].since()))
                .unwrap_or(0);
            set[at] = T::default();
            at
        });
        &mut set[at]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    struct E {
        tag: u64,
        since: i64,
        value: u32,
    }

    impl Tagged for E {
        fn tag(&self) -> u64 {
            self.tag
        }
        fn since(&self) -> i64 {
            self.since
        }
    }

    fn put(w: &mut Ways<E>, tag: u64, now: i64, value: u32) {
        *w.entry(tag, now) = E {
            tag,
            since: now,
            value,
        };
    }

    #[test]
    fn tags_of_one_set_keep_their_entries_side_by_side() {
        let mut w: Ways<E> = Ways::new(4, 8, 100);
        assert!(w.is_empty() && w.get(1, 0).is_none());
        // Tags 1, 1 + 4 << 8, ... all pick set 0.
        let tag = |i: u64| 1 + (i << 10);
        for i in 0..WAYS as u64 {
            put(&mut w, tag(i), i as i64, i as u32);
        }
        for i in 0..WAYS as u64 {
            assert_eq!(w.get(tag(i), 50).map(|e| e.value), Some(i as u32));
        }
        // One more: the oldest gives way.
        put(&mut w, tag(9), 60, 9);
        assert!(w.get(tag(0), 60).is_none());
        assert_eq!(w.get(tag(1), 60).map(|e| e.value), Some(1));
        assert_eq!(w.get(tag(9), 60).map(|e| e.value), Some(9));
        // Past its lifetime an entry is gone, and its place is free.
        assert!(w.get(tag(1), 102).is_none());
        assert_eq!(*w.entry(tag(7), 102), E::default());
        // Its own live entry is handed back as it is.
        assert_eq!(w.entry(tag(9), 102).value, 9);
    }
}
