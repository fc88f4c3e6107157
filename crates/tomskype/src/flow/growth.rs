//! What a table's next growth allocates at once, for the memory budget
//! (`analyze::gather::Budget`). A budget looked at between packets sees the memory held, not
//! the step a table is about to take: a hash map that grows allocates a table twice its size
//! and holds the old one beside it while it moves the entries over. On a stream of DNS answers
//! to 2,000 machines (`bench/make_stream.py --dns`) the answers' map went from 1.8 M to 3.7 M
//! entries between two looks, about 0.4 GB at once, and a 1 GB budget peaked at 1.37 GB. So
//! the budget counts, beside what is held, the next growth of each large table that is near it.

use std::collections::HashMap;

/// A table counts as near its growth when it is this full (in quarters of its room): after a
/// growth a table is half full, so it is counted over the second half of its life, long before
/// the look at which it could grow.
const NEAR_QUARTERS: usize = 3;

/// Whether `len` entries in room for `room` are near a growth.
pub(crate) fn near(len: usize, room: usize) -> bool {
    room > 0 && len * 4 >= room * NEAR_QUARTERS
}

/// What `map`'s next growth allocates, if it is near it: the standard library's map (hashbrown)
/// keeps its buckets a power of two at most 7/8 full, one control byte each, and doubles them.
pub(crate) fn of_map<K, V, S>(map: &HashMap<K, V, S>) -> usize {
    let room = map.capacity();
    if !near(map.len(), room) {
        return 0;
    }
    let buckets = if room < 8 {
        room + 1
    } else {
        (room * 8 / 7).next_power_of_two()
    };
    let next = buckets * 2;
    next * (size_of::<(K, V)>() + 1) + 16
}

/// What `v`'s next growth allocates, if it is near it, when it doubles.
pub(crate) fn of_vec<T>(v: &Vec<T>) -> usize {
    if near(v.len(), v.capacity()) {
        v.capacity() * 2 * size_of::<T>()
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_map_only_near_its_growth_and_as_much_as_it_then_takes() {
        let mut m: HashMap<u64, [u8; 56]> = HashMap::new();
        assert_eq!(of_map(&m), 0);
        for i in 0..100_000u64 {
            let (before, ahead) = (m.capacity(), of_map(&m));
            m.insert(i, [0; 56]);
            if before > 0 && m.capacity() > before {
                // Every growth was counted at the insert before it, and as what it allocated:
                // twice the buckets, of 64 bytes and a control byte each.
                assert!(ahead > 0, "growth at {i} not counted");
                let buckets = (m.capacity() * 8 / 7).next_power_of_two().max(4);
                assert_eq!(ahead, buckets * 65 + 16, "at {i}");
            }
        }
        // Just after a growth, half full: not near.
        let mut m: HashMap<u64, u64> = HashMap::with_capacity(1 << 20);
        let room = m.capacity();
        for i in 0..(room / 2) as u64 {
            m.insert(i, i);
        }
        assert_eq!(of_map(&m), 0);
    }

    #[test]
    fn counts_a_vec_in_the_last_quarter_of_its_room() {
        let mut v: Vec<u32> = Vec::with_capacity(100);
        v.resize(74, 0);
        assert_eq!(of_vec(&v), 0);
        v.push(0);
        assert_eq!(of_vec(&v), 800);
    }
}
