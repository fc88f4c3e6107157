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

/// One entry: its tag (0 when free), when it was made, and what it holds.
#[derive(Debug, Clone, Copy, Default)]
struct Entry<T> {
    tag: u64,
    since: i64,
    value: T,
}

/// A table of `sets` sets of [`WAYS`] entries (see the module documentation).
#[derive(Debug, Clone)]
pub struct Ways<T> {
    entries: Vec<Entry<T>>,
    sets: usize,
    shift: u32,
    ttl: i64,
}

impl<T: Copy + Default> Ways<T> {
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

    /// The value of the live entry of `tag` at `now`, if any.
    #[inline]
    pub fn get(&mut self, tag: u64, now: i64) -> Option<&mut T> {
        let set = self.set(tag);
        let ttl = self.ttl;
        self.entries
            .get_mut(set)?
            .iter_mut()
            .find(|e| e.tag == tag && now.saturating_sub(e.since) <= ttl)
            .map(|e| &mut e.value)
    }

    /// Frees the entry of `tag`, live or not.
    pub fn remove(&mut self, tag: u64) {
        let set = self.set(tag);
        for e in self.entries.get_mut(set).into_iter().flatten() {
            if e.tag == tag {
                *e = Entry::default();
            }
        }
    }

    /// Makes `value` the entry of `tag` from `now` on: in the place of its live entry, else of
    /// a free one or one no longer live, else of the set's oldest.
    pub fn insert(&mut self, tag: u64, now: i64, value: T) {
        if self.entries.is_empty() {
            self.entries = vec![Entry::default(); self.sets * WAYS];
        }
        let ttl = self.ttl;
        let live = |e: &Entry<T>| e.tag != 0 && now.saturating_sub(e.since) <= ttl;
        let range = self.set(tag);
        let set = &mut self.entries[range];
        let at = (set.iter().position(|e| live(e) && e.tag == tag))
            .or_else(|| set.iter().position(|e| !live(e)))
            .or_else(|| (0..WAYS).min_by_key(|&i| set[i].since))
            .unwrap_or(0);
        set[at] = Entry {
            tag,
            since: now,
            value,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_of_one_set_keep_their_entries_side_by_side() {
        let mut w: Ways<u32> = Ways::new(4, 8, 100);
        assert!(w.is_empty() && w.get(1, 0).is_none());
        // Tags 1, 1 + 4 << 8, ... all pick set 0.
        let tag = |i: u64| 1 + (i << 10);
        for i in 0..WAYS as u64 {
            w.insert(tag(i), i as i64, i as u32);
        }
        for i in 0..WAYS as u64 {
            assert_eq!(w.get(tag(i), 50).copied(), Some(i as u32));
        }
        // One more: the oldest gives way.
        w.insert(tag(9), 60, 9);
        assert!(w.get(tag(0), 60).is_none());
        assert_eq!(w.get(tag(1), 60).copied(), Some(1));
        assert_eq!(w.get(tag(9), 60).copied(), Some(9));
        // Past its lifetime an entry is gone, and its place is free: the next takes it, not
        // the place of a live one.
        assert!(w.get(tag(1), 102).is_none());
        w.insert(tag(7), 102, 7);
        for (i, want) in [(2, Some(2)), (3, Some(3)), (9, Some(9)), (7, Some(7))] {
            assert_eq!(w.get(tag(i), 102).copied(), want);
        }
        // A tag's own entry is replaced in place; a removed one is gone.
        w.insert(tag(9), 103, 90);
        assert_eq!(w.get(tag(9), 103).copied(), Some(90));
        w.remove(tag(9));
        assert!(w.get(tag(9), 103).is_none());
    }
}
