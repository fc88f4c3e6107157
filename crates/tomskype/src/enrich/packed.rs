//! Summaries packed ([`Log`]): the counters of millions of summarised hosts (see
//! `summary.rs`) in about a quarter of their size in memory. Entries are sorted by address
//! and packed in blocks of a few thousand: each address as its distance from the one before,
//! each counter as a variable-length integer (`integer-encoding`'s LEB128, zigzag for the
//! signed ones), the first time as its distance from the entry before's and the last time as
//! its distance from the first. A summarised host of a big network (a few packets, one or two
//! flows, times close to its neighbours') takes 10 to 17 bytes instead of 56: 10 for the 3 M
//! hosts of `bench/make_stream.py`'s stream, 17 for the 1 M of `bench/make_connlog.py`'s
//! conn.log and for the 66,190 summarised of `make_capture.py --vary hosts` (bench/RESULTS.md).
//!
//! New entries wait unpacked until there are an eighth as many as packed ones (or 16,384),
//! then are sorted and merged in: a block that gets no new address is kept as it is, so hosts
//! that appear in address order (a network's machines counted one after the other) cost one
//! block's packing each. Only what is needed is kept: summaries are only ever added and, at
//! the end, read all in address order; there is no look-up of one address.
//!
//! Counters stay exact: the encoding is lossless (wrapping differences, every bit kept), and
//! entries of one address are merged as the unpacked log merged them.

use std::net::Ipv6Addr;

use integer_encoding::VarInt;

/// The counters of a summarised host: 48 bytes unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Summary {
    pub(super) packets: u64,
    pub(super) sent: u64,
    pub(super) bytes: u64,
    pub(super) first_ns: i64,
    pub(super) last_ns: i64,
    /// Flows (saturating: a quiet host with four billion flows is still counted as that many).
    pub(super) flows: u32,
    /// Endpoints when summarised, added up (one reached again after being summarised counts
    /// twice: only shown as an approximation).
    pub(super) endpoints: u32,
}

const _: () = assert!(size_of::<Summary>() == 48);

impl Summary {
    /// Adds `o`'s counters.
    pub(super) fn merge(&mut self, o: &Summary) {
        self.packets += o.packets;
        self.sent += o.sent;
        self.bytes += o.bytes;
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        self.flows = self.flows.saturating_add(o.flows);
        self.endpoints = self.endpoints.saturating_add(o.endpoints);
    }
}

/// An address of a [`Log`]: a number, so that its distance from the one before can be kept.
pub(super) trait Key: Ord + Copy {
    /// Whether the address is wider than 64 bits (its distance is kept as two numbers).
    const WIDE: bool;
    /// The address as a number.
    fn to_u128(self) -> u128;
    /// The address of a number made by [`Key::to_u128`].
    fn from_u128(n: u128) -> Self;
}

impl Key for u32 {
    const WIDE: bool = false;
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
    fn from_u128(n: u128) -> Self {
        // Only numbers made from a u32 (and distances added back to them) come here.
        n as u32
    }
}

impl Key for Ipv6Addr {
    const WIDE: bool = true;
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
    fn from_u128(n: u128) -> Self {
        Ipv6Addr::from(n)
    }
}

/// Entries a block holds at most (a block split in two holds half as many): blocks of tens of
/// KB. Blocks of 256 (a few KB each) were as fast, but left the allocator pages it did not
/// give back: scattered among a worker thread's other allocations, freed when the summaries
/// are read (the 200 MB many-hosts capture on two threads peaked at 65 MB instead of 63 MB).
/// The tests use small blocks, so that they pack and merge many.
const BLOCK: usize = if cfg!(test) { 16 } else { 4096 };

/// New entries that wait unpacked, at least.
const MIN_FRESH: usize = 1 << 14;

/// Sorted entries, packed (see the module documentation).
#[derive(Debug)]
struct Block<K> {
    /// The first entry's address.
    first: K,
    /// Entries.
    len: u32,
    bytes: Box<[u8]>,
}

/// Summaries by address: new ones unpacked, the rest sorted and packed in blocks, each address
/// in one entry (see the module documentation).
#[derive(Debug)]
pub(super) struct Log<K> {
    blocks: Vec<Block<K>>,
    /// Entries in the blocks.
    packed: usize,
    /// Entries not packed yet, in the order added (an address may be there more than once, and
    /// in a block too).
    fresh: Vec<(K, Summary)>,
}

impl<K> Default for Log<K> {
    fn default() -> Self {
        Log {
            blocks: Vec::new(),
            packed: 0,
            fresh: Vec::new(),
        }
    }
}

impl<K: Key> Log<K> {
    /// Adds `s` to `key`'s summary.
    pub(super) fn push(&mut self, key: K, s: Summary) {
        self.fresh.push((key, s));
        if self.fresh.len() >= MIN_FRESH.max(self.packed / 8) {
            self.settle();
        }
    }

    /// Entries: once settled, the number of addresses (before, an address may count more
    /// than once).
    pub(super) fn len(&self) -> usize {
        self.packed + self.fresh.len()
    }

    /// Adds every entry of `other`.
    pub(super) fn append(&mut self, mut other: Log<K>) {
        if self.len() == 0 {
            *self = other;
            return;
        }
        for block in std::mem::take(&mut other.blocks) {
            let mut entries = Vec::with_capacity(block.len as usize);
            unpack(&block, &mut entries);
            drop(block);
            for (k, s) in entries {
                self.push(k, s);
            }
        }
        for (k, s) in other.fresh {
            self.push(k, s);
        }
    }

    /// Packs the new entries in: sorts them, merges those of one address, and merges them
    /// into the blocks, repacking only the blocks that get new addresses.
    pub(super) fn settle(&mut self) {
        if self.fresh.is_empty() {
            return;
        }
        self.fresh.sort_unstable_by_key(|(k, _)| *k);
        self.fresh.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                kept.1.merge(&later.1);
                true
            } else {
                false
            }
        });
        let old = std::mem::take(&mut self.blocks);
        let mut blocks = Vec::with_capacity(old.len() + self.fresh.len() / BLOCK + 1);
        let mut fresh = &self.fresh[..];
        let mut merged = Vec::new();
        let mut old = old.into_iter().peekable();
        while let Some(block) = old.next() {
            // The new addresses before the next block's first go into this one.
            let n = match old.peek() {
                Some(next) => fresh.partition_point(|(k, _)| *k < next.first),
                None => fresh.len(),
            };
            if n == 0 {
                blocks.push(block);
                continue;
            }
            let mut entries = Vec::with_capacity(block.len as usize);
            unpack(&block, &mut entries);
            drop(block);
            self.packed -= entries.len();
            merge_sorted(&entries, &fresh[..n], &mut merged);
            fresh = &fresh[n..];
            self.packed += pack_into(&merged, &mut blocks);
            merged.clear();
        }
        // No block yet: every new entry makes the first ones.
        self.packed += pack_into(fresh, &mut blocks);
        self.blocks = blocks;
        self.fresh.clear();
        // The room for new entries stays: it is filled again before the next settling.
    }

    /// Every entry, settled, in address order, emptying this: the room for new entries is
    /// given back first, each block as it is read (the hosts' views are made meanwhile).
    pub(super) fn drain(&mut self) -> impl Iterator<Item = (K, Summary)> + use<K> {
        self.settle();
        self.fresh = Vec::new();
        self.packed = 0;
        std::mem::take(&mut self.blocks)
            .into_iter()
            .flat_map(|block| {
                let mut entries = Vec::with_capacity(block.len as usize);
                unpack(&block, &mut entries);
                entries
            })
    }
}

/// Merges two runs sorted by address, each with one entry per address, into `out`.
fn merge_sorted<K: Key>(a: &[(K, Summary)], b: &[(K, Summary)], out: &mut Vec<(K, Summary)>) {
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.0.cmp(&y.0) {
            std::cmp::Ordering::Less => {
                out.push(*x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(*y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut s = x.1;
                s.merge(&y.1);
                out.push((x.0, s));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// Packs `entries` (sorted, one per address) into blocks of even sizes of at most
/// [`BLOCK`], added to `blocks`; returns how many entries were packed.
fn pack_into<K: Key>(entries: &[(K, Summary)], blocks: &mut Vec<Block<K>>) -> usize {
    if entries.is_empty() {
        return 0;
    }
    let parts = entries.len().div_ceil(BLOCK);
    let size = entries.len().div_ceil(parts);
    for chunk in entries.chunks(size) {
        blocks.push(pack(chunk));
    }
    entries.len()
}

/// Appends `n` as a variable-length integer.
fn put<V: VarInt>(out: &mut Vec<u8>, n: V) {
    let mut buf = [0u8; 10];
    let len = n.encode_var(&mut buf);
    out.extend_from_slice(&buf[..len]);
}

/// Reads a variable-length integer at `*at`, moving past it.
fn get<V: VarInt + Default>(bytes: &[u8], at: &mut usize) -> V {
    // The bytes were written by `put` of the same type: they always decode. Were they not,
    // the entry would read as zero rather than stop the run.
    match bytes.get(*at..).and_then(V::decode_var) {
        Some((n, len)) => {
            *at += len;
            n
        }
        None => V::default(),
    }
}

/// One block of `entries` (sorted, one per address, at least one).
fn pack<K: Key>(entries: &[(K, Summary)]) -> Block<K> {
    let first = entries.first().map_or(K::from_u128(0), |e| e.0);
    let mut out = Vec::with_capacity(entries.len() * 16);
    let (mut key, mut time) = (first.to_u128(), 0i64);
    for (k, s) in entries {
        let step = k.to_u128().wrapping_sub(key);
        put(&mut out, step as u64);
        if K::WIDE {
            put(&mut out, (step >> 64) as u64);
        }
        put(&mut out, s.packets);
        put(&mut out, s.sent);
        put(&mut out, s.bytes);
        put(&mut out, s.first_ns.wrapping_sub(time));
        put(&mut out, s.last_ns.wrapping_sub(s.first_ns));
        put(&mut out, s.flows);
        put(&mut out, s.endpoints);
        key = k.to_u128();
        time = s.first_ns;
    }
    Block {
        first,
        len: entries.len() as u32,
        bytes: out.into_boxed_slice(),
    }
}

/// Appends the entries of `block` to `out`.
fn unpack<K: Key>(block: &Block<K>, out: &mut Vec<(K, Summary)>) {
    let bytes = &block.bytes[..];
    let mut at = 0;
    let (mut key, mut time) = (block.first.to_u128(), 0i64);
    for _ in 0..block.len {
        let mut step = u128::from(get::<u64>(bytes, &mut at));
        if K::WIDE {
            step |= u128::from(get::<u64>(bytes, &mut at)) << 64;
        }
        key = key.wrapping_add(step);
        let packets = get(bytes, &mut at);
        let sent = get(bytes, &mut at);
        let total = get(bytes, &mut at);
        let first_ns = time.wrapping_add(get::<i64>(bytes, &mut at));
        let last_ns = first_ns.wrapping_add(get::<i64>(bytes, &mut at));
        let flows = get(bytes, &mut at);
        let endpoints = get(bytes, &mut at);
        time = first_ns;
        out.push((
            K::from_u128(key),
            Summary {
                packets,
                sent,
                bytes: total,
                first_ns,
                last_ns,
                flows,
                endpoints,
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn summary() -> impl Strategy<Value = Summary> {
        (
            any::<[u64; 3]>(),
            any::<i64>(),
            any::<i64>(),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(
                |([packets, sent, bytes], first_ns, last_ns, flows, endpoints)| Summary {
                    packets,
                    sent,
                    bytes,
                    first_ns,
                    last_ns,
                    flows,
                    endpoints,
                },
            )
    }

    /// Small counters, so that merged ones do not overflow.
    fn small_summary() -> impl Strategy<Value = Summary> {
        (
            0u64..1 << 40,
            0u64..1 << 40,
            -(1i64 << 60)..1 << 60,
            0u32..1 << 30,
        )
            .prop_map(|(packets, bytes, first_ns, flows)| Summary {
                packets,
                sent: packets / 2,
                bytes,
                first_ns,
                last_ns: first_ns + (bytes as i64),
                flows,
                endpoints: flows / 3,
            })
    }

    fn model<K: Key>(entries: &[(K, Summary)]) -> Vec<(K, Summary)> {
        let mut m: BTreeMap<K, Summary> = BTreeMap::new();
        for (k, s) in entries {
            m.entry(*k).and_modify(|had| had.merge(s)).or_insert(*s);
        }
        m.into_iter().collect()
    }

    type Entries<K> = Vec<(K, Summary)>;

    /// `entries` made sorted and unique by key, packed and read back: (read back, entries).
    fn round_trip<K: Key>(mut entries: Entries<K>) -> (Entries<K>, Entries<K>) {
        entries.sort_by_key(|e| e.0);
        entries.dedup_by_key(|e| e.0);
        let block = pack(&entries);
        let mut back = Vec::new();
        unpack(&block, &mut back);
        (back, entries)
    }

    proptest! {
        #[test]
        fn a_block_reads_back_as_written_v4(
            entries in prop::collection::vec((any::<u32>(), summary()), 1..300),
        ) {
            let (back, entries) = round_trip(entries);
            prop_assert_eq!(back, entries);
        }

        #[test]
        fn a_block_reads_back_as_written_v6(
            entries in prop::collection::vec((any::<u128>(), summary()), 1..300),
        ) {
            let entries = entries.into_iter().map(|(k, s)| (Ipv6Addr::from(k), s)).collect();
            let (back, entries) = round_trip(entries);
            prop_assert_eq!(back, entries);
        }

        #[test]
        fn the_log_merges_as_a_map_would(
            entries in prop::collection::vec((0u32..2_000, small_summary()), 0..3_000),
            settle_every in 1usize..700,
        ) {
            let mut log = Log::default();
            for (i, (k, s)) in entries.iter().enumerate() {
                log.push(*k, *s);
                if i % settle_every == 0 {
                    log.settle();
                }
            }
            let back: Vec<_> = log.drain().collect();
            prop_assert_eq!(back, model(&entries));
            prop_assert_eq!(log.len(), 0);
        }

        #[test]
        fn logs_appended_merge_as_a_map_would(
            a in prop::collection::vec((any::<u128>(), small_summary()), 0..500),
            b in prop::collection::vec((any::<u128>(), small_summary()), 0..500),
        ) {
            let six = |v: &[(u128, Summary)]| -> Vec<(Ipv6Addr, Summary)> {
                v.iter().map(|(k, s)| (Ipv6Addr::from(*k % 1_000), *s)).collect()
            };
            let (a, b) = (six(&a), six(&b));
            let (mut la, mut lb) = (Log::default(), Log::default());
            for (k, s) in &a {
                la.push(*k, *s);
            }
            la.settle();
            for (k, s) in &b {
                lb.push(*k, *s);
            }
            lb.settle();
            la.append(lb);
            let all: Vec<_> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(la.drain().collect::<Vec<_>>(), model(&all));
        }
    }

    #[test]
    fn hosts_in_address_order_pack_into_full_blocks_of_few_bytes() {
        let s = Summary {
            packets: 3,
            sent: 1,
            bytes: 300,
            first_ns: 1_700_000_000_000_000_000,
            last_ns: 1_700_000_001_000_000_000,
            flows: 1,
            endpoints: 1,
        };
        let mut log = Log::default();
        let n = 4 * MIN_FRESH as u32 + 17;
        for i in 0..n {
            let mut s = s;
            s.first_ns += i64::from(i) * 100_000;
            s.last_ns += i64::from(i) * 100_000;
            log.push(0x0a00_0000 + i, s);
        }
        log.settle();
        assert_eq!(log.len(), n as usize);
        let bytes: usize = log.blocks.iter().map(|b| b.bytes.len()).sum();
        // A host of a network counted in order: one byte of address, a few of counters, three of
        // time since the one before, five of duration.
        assert!(bytes < 16 * n as usize, "{bytes} bytes for {n} hosts");
        // Blocks are full but for the last few.
        assert!(
            log.blocks.len() <= n as usize / BLOCK + 5,
            "{}",
            log.blocks.len()
        );
        let back: Vec<_> = log.drain().collect();
        assert_eq!(back.len(), n as usize);
        assert!(back.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(back[5].1.first_ns, s.first_ns + 500_000);
    }
}
