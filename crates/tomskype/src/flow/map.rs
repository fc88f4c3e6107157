//! Stage 3, flows: the flow store, one look-up per packet. Built for tables far larger than
//! the CPU caches (hundreds of thousands of flows in a capture of a few GB):
//!
//! - the flows live in a dense vector, in the order they were first seen (so iterating is a
//!   sequential scan, and the order does not depend on hashing);
//! - beside it, an open-addressing index (linear probing) of 8-byte words, each holding the
//!   flow's position and 24 bits of its hash, so a probe almost never reads a flow that is not
//!   the one looked for;
//! - IPv4 flows (nearly all of them) take one 64-byte cache line each; IPv6 ones are kept apart;
//! - a look-up can be split in three steps ([`FlowMap::probe`] → [`FlowMap::prefetch`] →
//!   [`FlowMap::prefetch_flow`] → [`FlowMap::count`]) so that the per-packet driver asks the
//!   memory for a packet's index word and flow while it decodes the next packets, instead of
//!   waiting for each cache miss in turn.
//!
//! Flows leave the map only in bulk ([`FlowMap::remove_marked`], when they have been idle long
//! enough): the survivors keep their order, and the index is rebuilt for them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::key::{Dir, FlowKey};
use super::record::{Flow, Opener};

/// A key with its hash, ready to be looked up (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    key: FlowKey,
    hash: u64,
}

impl Probe {
    /// The flow key looked up.
    pub fn key(&self) -> &FlowKey {
        &self.key
    }

    /// The key's hash (the same for both directions).
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// Every flow by key. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct FlowMap {
    v4: Store<u32>,
    v6: Store<[u8; 16]>,
}

impl FlowMap {
    /// An empty map.
    pub fn new() -> FlowMap {
        FlowMap::default()
    }

    /// Number of flows.
    pub fn len(&self) -> usize {
        self.v4.slots.len() + self.v6.slots.len()
    }

    /// Whether there are no flows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the map's next growth allocates at once, if it is near it (see `flow::growth`).
    pub fn growth_ahead(&self) -> usize {
        self.v4.growth_ahead() + self.v6.growth_ahead()
    }

    /// Makes room for `additional` more IPv4 flows without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.v4.reserve(additional);
    }

    /// Hashes `key` for the steps below.
    #[inline]
    pub fn probe(&self, key: &FlowKey) -> Probe {
        let hash = match Family::of(key) {
            Family::V4(k) => k.hash(),
            Family::V6(k) => k.hash(),
        };
        Probe { key: *key, hash }
    }

    /// Asks the memory for the index word where `probe`'s look-up starts. A hint only.
    #[inline]
    pub fn prefetch(&self, probe: &Probe) {
        if is_v4(&probe.key) {
            self.v4.prefetch_index(probe.hash);
        } else {
            self.v6.prefetch_index(probe.hash);
        }
    }

    /// Reads the index word where `probe`'s look-up starts (best after [`FlowMap::prefetch`])
    /// and asks the memory for the flow it points to, if its hash bits match. A hint only.
    #[inline]
    pub fn prefetch_flow(&self, probe: &Probe) {
        if is_v4(&probe.key) {
            self.v4.prefetch_slot(probe.hash);
        } else {
            self.v6.prefetch_slot(probe.hash);
        }
    }

    /// Counts one packet of `bytes` wire bytes at time `ts` on the flow of `probe`, sent in
    /// direction `dir` (a new flow if it was not there). `syn` says whether it was a TCP SYN,
    /// `syn_ack` a SYN+ACK.
    #[inline]
    pub fn count(
        &mut self,
        probe: &Probe,
        ts: i64,
        dir: Dir,
        bytes: u32,
        syn: bool,
        syn_ack: bool,
    ) {
        match Family::of(&probe.key) {
            Family::V4(k) => self
                .v4
                .upsert(&k, probe.hash, ts)
                .count(&probe.key, ts, dir, bytes, syn, syn_ack),
            Family::V6(k) => self
                .v6
                .upsert(&k, probe.hash, ts)
                .count(&probe.key, ts, dir, bytes, syn, syn_ack),
        }
    }

    /// Adds a whole flow: a new one, or merged into the one with the same key.
    pub fn add(&mut self, key: &FlowKey, flow: &Flow) {
        let hash = self.probe(key).hash;
        match Family::of(key) {
            Family::V4(k) => self.v4.add(&k, hash, flow),
            Family::V6(k) => self.v6.add(&k, hash, flow),
        }
    }

    /// The flow of `key`.
    pub fn get(&self, key: &FlowKey) -> Option<Flow> {
        let hash = self.probe(key).hash;
        match Family::of(key) {
            Family::V4(k) => self.v4.find(&k, hash).map(|i| self.v4.slots[i].flow()),
            Family::V6(k) => self.v6.find(&k, hash).map(|i| self.v6.slots[i].flow()),
        }
    }

    /// Whether there is a flow with `key`.
    pub fn contains_key(&self, key: &FlowKey) -> bool {
        self.get(key).is_some()
    }

    /// Every flow: the IPv4 ones then the others, each in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = (FlowKey, Flow)> + '_ {
        let v4 = self.v4.slots.iter().map(|s| (s.key(), s.flow()));
        let v6 = self.v6.slots.iter().map(|s| (s.key(), s.flow()));
        v4.chain(v6)
    }

    /// Marks, in `marks` (one bit per flow, in the order of [`FlowMap::iter`]: bit `i % 64` of
    /// word `i / 64`), the flows `done` says are over, and returns how many. `done` is given
    /// a flow's IP protocol and the time of its last packet: all the sweeps of a capture ask
    /// (`FlowTable::take_idle`), so that a sweep reads two fields of each flow and makes
    /// nothing for the flows that go on. A bit a flow, not a list of those over: a sweep of a
    /// big network's stream ends a million flows at once.
    pub fn mark_where(&self, mut done: impl FnMut(u8, i64) -> bool, marks: &mut Vec<u64>) -> usize {
        marks.clear();
        marks.resize(self.len().div_ceil(64), 0);
        let slots = self.v4.slots.iter().map(|s| (s.proto, s.last_ns));
        let slots = slots.chain(self.v6.slots.iter().map(|s| (s.proto, s.last_ns)));
        let mut count = 0;
        for (i, (proto, last)) in slots.enumerate() {
            if done(proto, last) {
                marks[i / 64] |= 1 << (i % 64);
                count += 1;
            }
        }
        count
    }

    /// The position of `key`'s flow in [`FlowMap::iter`]'s order, if there.
    pub fn position(&self, key: &FlowKey) -> Option<usize> {
        match Family::of(key) {
            Family::V4(k) => self.v4.find(&k, k.hash()),
            Family::V6(k) => self.v6.find(&k, k.hash()).map(|i| i + self.v4.slots.len()),
        }
    }

    /// The flow at position `pos` of [`FlowMap::iter`]'s order.
    pub fn at(&self, pos: usize) -> Option<(FlowKey, Flow)> {
        match pos.checked_sub(self.v4.slots.len()) {
            None => self.v4.slots.get(pos).map(|s| (s.key(), s.flow())),
            Some(i) => self.v6.slots.get(i).map(|s| (s.key(), s.flow())),
        }
    }

    /// Removes the flows marked in `marks` (as [`FlowMap::mark_where`] marks them); the others
    /// keep their order. The index is rebuilt (and shrunk, so that the memory of a past burst
    /// of flows is given back): a cost in the number of flows left, paid once per call that
    /// removes any.
    pub fn remove_marked(&mut self, marks: &[u64]) {
        let n4 = self.v4.slots.len();
        self.v4.remove_at(marked(marks).take_while(|&p| p < n4));
        self.v6
            .remove_at(marked(marks).skip_while(|&p| p < n4).map(|p| p - n4));
    }

    /// Every flow key, in the order of [`FlowMap::iter`].
    pub fn keys(&self) -> impl Iterator<Item = FlowKey> + '_ {
        self.iter().map(|(k, _)| k)
    }
}

/// Whether position `at` is marked in `marks` (see [`FlowMap::mark_where`]).
pub fn is_marked(marks: &[u64], at: usize) -> bool {
    marks.get(at / 64).is_some_and(|w| w >> (at % 64) & 1 != 0)
}

/// The positions marked in `marks` (see [`FlowMap::mark_where`]), ascending.
pub fn marked(marks: &[u64]) -> Marked<'_> {
    Marked {
        words: marks,
        at: 0,
        bits: 0,
    }
}

/// The iterator of [`marked`]: a loop over the words, with the bits of the current one left
/// (a plain struct: the `flat_map` it replaces cost twice the instructions per position).
#[derive(Debug, Clone)]
pub struct Marked<'a> {
    /// The words not yet read.
    words: &'a [u64],
    /// The position of the current word's bit 0 plus 64 (0 before the first word).
    at: usize,
    /// The current word's bits not yet handed out.
    bits: u64,
}

impl Iterator for Marked<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            let (&word, rest) = self.words.split_first()?;
            self.words = rest;
            self.bits = word;
            self.at += 64;
        }
        let b = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.at - 64 + b)
    }
}

/// Whether both ends are IPv4 (the compact store).
#[inline(always)]
fn is_v4(key: &FlowKey) -> bool {
    matches!((key.a, key.b), (IpAddr::V4(_), IpAddr::V4(_)))
}

/// A key packed for its store.
enum Family {
    V4(Packed<u32>),
    V6(Packed<[u8; 16]>),
}

impl Family {
    #[inline(always)]
    fn of(key: &FlowKey) -> Family {
        let ports = u32::from(key.a_port) << 16 | u32::from(key.b_port);
        match (key.a, key.b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Family::V4(Packed {
                a: u32::from(a),
                b: u32::from(b),
                ports,
                proto: key.proto,
                fam: 0,
            }),
            (a, b) => {
                // A key with one IPv4 end (only malformed logs make one) keeps that end as a
                // mapped address, with a bit saying so: it never meets a real ::ffff:0:0/96 one.
                let (a, a4) = wide(a);
                let (b, b4) = wide(b);
                Family::V6(Packed {
                    a,
                    b,
                    ports,
                    proto: key.proto,
                    fam: u8::from(a4) | u8::from(b4) << 1,
                })
            }
        }
    }
}

fn wide(ip: IpAddr) -> ([u8; 16], bool) {
    match ip {
        IpAddr::V4(v4) => (v4.to_ipv6_mapped().octets(), true),
        IpAddr::V6(v6) => (v6.octets(), false),
    }
}

/// An address as the stores keep it.
trait Addr: Copy + Eq + std::fmt::Debug {
    /// The address as two words, for hashing.
    fn words(&self) -> (u64, u64);
    /// The address back; `v4` says an IPv6-wide one was an IPv4 address.
    fn ip(&self, v4: bool) -> IpAddr;
}

impl Addr for u32 {
    #[inline(always)]
    fn words(&self) -> (u64, u64) {
        (u64::from(*self), 0)
    }
    fn ip(&self, _: bool) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(*self))
    }
}

impl Addr for [u8; 16] {
    #[inline(always)]
    fn words(&self) -> (u64, u64) {
        let x = u128::from_le_bytes(*self);
        (x as u64, (x >> 64) as u64)
    }
    fn ip(&self, v4: bool) -> IpAddr {
        let v6 = Ipv6Addr::from(*self);
        match v6.to_ipv4_mapped() {
            Some(v4addr) if v4 => IpAddr::V4(v4addr),
            _ => IpAddr::V6(v6),
        }
    }
}

/// A key as a store keeps it: the ports as one word (`a_port` high), and `fam` saying which
/// ends of an IPv6-wide key were IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed<A> {
    a: A,
    b: A,
    ports: u32,
    proto: u8,
    fam: u8,
}

/// Folded multiply: the high and low halves of the 128-bit product, xored. Mixes every input
/// bit into both the high bits (the index position) and the low ones (the hash bits kept).
#[inline(always)]
fn fold(x: u64, y: u64) -> u64 {
    let m = u128::from(x) * u128::from(y);
    (m as u64) ^ ((m >> 64) as u64)
}

const SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

impl<A: Addr> Packed<A> {
    #[inline(always)]
    fn hash(&self) -> u64 {
        let (a0, a1) = self.a.words();
        let (b0, b1) = self.b.words();
        let mut h = fold(a0 ^ SEEDS[0], b0 ^ SEEDS[1]);
        if a1 | b1 != 0 {
            h = fold(h ^ a1, b1 ^ SEEDS[2]);
        }
        let rest = u64::from(self.ports) | u64::from(self.proto) << 32 | u64::from(self.fam) << 40;
        fold(h ^ rest, SEEDS[3])
    }
}

/// One flow as stored: counters first, then the key, then the opener. For IPv4 this is exactly
/// 64 bytes (checked below), and slots are 64-byte aligned: one cache line per flow.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Slot<A> {
    packets: [u64; 2],
    bytes: [u64; 2],
    first_ns: i64,
    last_ns: i64,
    a: A,
    b: A,
    ports: u32,
    proto: u8,
    fam: u8,
    opener: Opener,
}

const _: () = assert!(size_of::<Slot<u32>>() == 64);

impl<A: Addr> Slot<A> {
    fn new(k: &Packed<A>, ts: i64) -> Slot<A> {
        let f = Flow::new(ts);
        Slot {
            packets: f.packets,
            bytes: f.bytes,
            first_ns: f.first_ns,
            last_ns: f.last_ns,
            a: k.a,
            b: k.b,
            ports: k.ports,
            proto: k.proto,
            fam: k.fam,
            opener: f.opener,
        }
    }

    #[inline(always)]
    fn is(&self, k: &Packed<A>) -> bool {
        self.a == k.a
            && self.b == k.b
            && self.ports == k.ports
            && self.proto == k.proto
            && self.fam == k.fam
    }

    fn packed(&self) -> Packed<A> {
        Packed {
            a: self.a,
            b: self.b,
            ports: self.ports,
            proto: self.proto,
            fam: self.fam,
        }
    }

    fn key(&self) -> FlowKey {
        FlowKey {
            proto: self.proto,
            a: self.a.ip(self.fam & 1 != 0),
            a_port: (self.ports >> 16) as u16,
            b: self.b.ip(self.fam & 2 != 0),
            b_port: self.ports as u16,
        }
    }

    fn flow(&self) -> Flow {
        Flow {
            packets: self.packets,
            bytes: self.bytes,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
            opener: self.opener,
        }
    }

    fn set(&mut self, f: &Flow) {
        self.packets = f.packets;
        self.bytes = f.bytes;
        self.first_ns = f.first_ns;
        self.last_ns = f.last_ns;
        self.opener = f.opener;
    }

    #[inline(always)]
    fn count(&mut self, key: &FlowKey, ts: i64, dir: Dir, bytes: u32, syn: bool, syn_ack: bool) {
        let mut f = self.flow();
        f.count(key, ts, dir, bytes, syn, syn_ack);
        self.set(&f);
    }
}

/// Index words: the slot's position + 1 in the low 40 bits (0 = empty), hash bits above.
const POS_BITS: u32 = 40;
const POS_MASK: u64 = (1 << POS_BITS) - 1;
/// The smallest index.
const MIN_INDEX: usize = 64;

/// The flows of one address family, with their index.
#[derive(Debug, Clone)]
struct Store<A> {
    slots: Vec<Slot<A>>,
    /// Length a power of two, or 0 before the first flow; at most 5/8 full.
    index: Vec<u64>,
    /// 64 - log2(index length): the position is the hash's top bits.
    shift: u32,
}

impl<A> Default for Store<A> {
    fn default() -> Self {
        Store {
            slots: Vec::new(),
            index: Vec::new(),
            shift: 64,
        }
    }
}

impl<A: Addr> Store<A> {
    #[inline(always)]
    fn start(&self, hash: u64) -> usize {
        // `shift` is 64 only while the index is empty (checked by the callers): a shift by
        // 64 would overflow, so it is taken as "position 0".
        hash.checked_shr(self.shift).unwrap_or(0) as usize
    }

    #[inline(always)]
    fn tag(hash: u64) -> u64 {
        hash << POS_BITS
    }

    #[inline(always)]
    fn prefetch_index(&self, hash: u64) {
        if let Some(word) = self.index.get(self.start(hash)) {
            crate::hints::prefetch(word);
        }
    }

    #[inline(always)]
    fn prefetch_slot(&self, hash: u64) {
        if let Some(&word) = self.index.get(self.start(hash)) {
            if word != 0 && word & !POS_MASK == Self::tag(hash) {
                if let Some(slot) = self.slots.get(((word & POS_MASK) as usize).wrapping_sub(1)) {
                    crate::hints::prefetch(slot);
                }
            }
        }
    }

    /// The position in `slots` of the flow `k`, if there.
    #[inline]
    fn find(&self, k: &Packed<A>, hash: u64) -> Option<usize> {
        self.seek(k, hash).ok()
    }

    /// The position in `slots` of `k`, or the free index position where it would go.
    #[inline(always)]
    fn seek(&self, k: &Packed<A>, hash: u64) -> Result<usize, usize> {
        if self.index.is_empty() {
            return Err(0);
        }
        let mask = self.index.len() - 1;
        let tag = Self::tag(hash);
        let mut pos = self.start(hash);
        loop {
            let word = self.index[pos];
            if word == 0 {
                return Err(pos);
            }
            if word & !POS_MASK == tag {
                let i = (word & POS_MASK) as usize - 1;
                if self.slots[i].is(k) {
                    return Ok(i);
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    /// The slot of `k`, made (first seen at `ts`) if it was not there.
    #[inline(always)]
    fn upsert(&mut self, k: &Packed<A>, hash: u64, ts: i64) -> &mut Slot<A> {
        match self.seek(k, hash) {
            Ok(i) => &mut self.slots[i],
            Err(pos) => self.insert(k, hash, ts, pos),
        }
    }

    /// Adds the whole flow `f` as `k`'s, or merges it into `k`'s.
    fn add(&mut self, k: &Packed<A>, hash: u64, f: &Flow) {
        match self.seek(k, hash) {
            Ok(i) => {
                let slot = &mut self.slots[i];
                let mut merged = slot.flow();
                merged.merge(f);
                slot.set(&merged);
            }
            Err(pos) => self.insert(k, hash, f.first_ns, pos).set(f),
        }
    }

    #[cold]
    #[inline(never)]
    fn insert(&mut self, k: &Packed<A>, hash: u64, ts: i64, mut pos: usize) -> &mut Slot<A> {
        if (self.slots.len() + 1) * 8 > self.index.len() * 5 {
            self.grow((self.slots.len() + 1) * 2);
            pos = self.free_pos(hash);
        }
        if self.slots.len() == self.slots.capacity() {
            self.slots.reserve(self.slots.len().max(64));
            crate::hints::huge_pages(&self.slots);
        }
        self.slots.push(Slot::new(k, ts));
        let n = self.slots.len();
        self.index[pos] = Self::tag(hash) | n as u64;
        &mut self.slots[n - 1]
    }

    /// The first free index position on `hash`'s probe path (for a key known to be absent).
    fn free_pos(&self, hash: u64) -> usize {
        let mask = self.index.len() - 1;
        let mut pos = self.start(hash);
        while self.index[pos] != 0 {
            pos = (pos + 1) & mask;
        }
        pos
    }

    /// The slots' next growth (moved whole: both held for a moment) and the index's (the old
    /// one is given back first, but the new one is up to four times its size), if near.
    fn growth_ahead(&self) -> usize {
        let index = if super::growth::near(self.slots.len() * 8, self.index.len() * 5) {
            self.index.len() * 4 * size_of::<u64>()
        } else {
            0
        };
        super::growth::of_vec(&self.slots) + index
    }

    fn reserve(&mut self, additional: usize) {
        let want = self.slots.len() + additional;
        if want * 8 > self.index.len() * 5 {
            self.grow(want);
        }
        self.slots.reserve(additional);
        crate::hints::huge_pages(&self.slots);
    }

    /// Removes the slots at `gone` (ascending); see [`FlowMap::remove_marked`].
    fn remove_at(&mut self, gone: impl Iterator<Item = usize>) {
        let mut gone = gone.peekable();
        let Some(&first) = gone.peek() else {
            return;
        };
        // Each slot after the first gone moves down over the gaps, in order.
        let mut kept = first;
        for at in first..self.slots.len() {
            if gone.next_if_eq(&at).is_some() {
                continue;
            }
            self.slots[kept] = self.slots[at];
            kept += 1;
        }
        self.slots.truncate(kept);
        if self.slots.capacity() > 4 * self.slots.len().max(64) {
            self.slots.shrink_to(2 * self.slots.len());
        }
        // The index keeps its length unless it is more than four times what the flows left
        // need: a sweep ends flows that new ones replace, and an index shrunk to the flows
        // left was grown again (and rebuilt once more) as they came.
        let want = Self::index_len(self.slots.len());
        let len = if self.index.len() > 4 * want {
            want
        } else {
            self.index.len().max(want)
        };
        self.reindex(len);
    }

    /// The index length for `flows` flows: a power of two, at most 5/8 full.
    fn index_len(flows: usize) -> usize {
        (flows * 8 / 5 + 1).next_power_of_two().max(MIN_INDEX)
    }

    /// Rebuilds the index with room for `flows` flows at most 5/8 full.
    fn grow(&mut self, flows: usize) {
        let len = Self::index_len(flows);
        if len <= self.index.len() {
            return;
        }
        self.reindex(len);
    }

    /// Rebuilds the index at `len` words (a power of two, room for every flow).
    fn reindex(&mut self, len: usize) {
        // The old index is given back first: not held beside the new one.
        self.index = Vec::new();
        self.index = vec![0; len];
        crate::hints::huge_pages(&self.index);
        self.shift = 64 - len.trailing_zeros();
        for (i, slot) in self.slots.iter().enumerate() {
            let hash = slot.packed().hash();
            let pos = {
                let mask = len - 1;
                let mut pos = self.start(hash);
                while self.index[pos] != 0 {
                    pos = (pos + 1) & mask;
                }
                pos
            };
            self.index[pos] = Self::tag(hash) | (i as u64 + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn keys_come_back_as_they_went_in() {
        let keys = [
            FlowKey::new(6, ip("192.0.2.1"), 1, ip("198.51.100.2"), 2).0,
            FlowKey::new(17, ip("2001:db8::1"), 53, ip("2001:db8::2"), 5353).0,
            // A mapped IPv6 address and a plain IPv4 one are different ends.
            FlowKey::new(17, ip("::ffff:192.0.2.1"), 53, ip("2001:db8::2"), 53).0,
            FlowKey::new(17, ip("192.0.2.1"), 53, ip("2001:db8::2"), 53).0,
            FlowKey::new(58, ip("::"), 0, ip("::ffff:0.0.0.0"), 0).0,
        ];
        let mut m = FlowMap::new();
        for (i, k) in keys.iter().enumerate() {
            let p = m.probe(k);
            m.count(&p, i as i64, Dir::AToB, 100, false, false);
        }
        assert_eq!(m.len(), keys.len());
        for k in &keys {
            assert_eq!(m.get(k).unwrap().total_packets(), 1, "{k:?}");
        }
        let mut back: Vec<FlowKey> = m.keys().collect();
        let mut want = keys.to_vec();
        back.sort();
        want.sort();
        assert_eq!(back, want);
    }

    #[test]
    fn marked_hands_out_the_set_bits_in_order() {
        let marks = [0, 1 << 63 | 1, 0, 0, 0b1010];
        let got: Vec<usize> = marked(&marks).collect();
        assert_eq!(got, [64, 127, 257, 259]);
        let every: Vec<usize> = (0..400).filter(|&at| is_marked(&marks, at)).collect();
        assert_eq!(every, got);
        assert_eq!(marked(&[]).count(), 0);
        assert_eq!(marked(&[0, 0]).count(), 0);
    }

    #[test]
    fn iterates_in_the_order_first_seen() {
        let mut m = FlowMap::new();
        let keys: Vec<FlowKey> = (0..1000u16)
            .map(|i| FlowKey::new(6, ip("10.0.0.1"), i, ip("10.0.0.2"), 80).0)
            .collect();
        for (i, k) in keys.iter().enumerate().rev() {
            let p = m.probe(k);
            m.count(&p, i as i64, Dir::AToB, 1, false, false);
        }
        let seen: Vec<FlowKey> = m.keys().collect();
        let want: Vec<FlowKey> = keys.iter().rev().copied().collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn prefetching_changes_nothing_and_tolerates_an_empty_map() {
        let mut m = FlowMap::new();
        let k = FlowKey::new(6, ip("192.0.2.1"), 1, ip("198.51.100.2"), 2).0;
        let p = m.probe(&k);
        m.prefetch(&p);
        m.prefetch_flow(&p);
        assert!(m.get(&k).is_none());
        m.count(&p, 5, Dir::BToA, 10, false, false);
        m.prefetch(&p);
        m.prefetch_flow(&p);
        let f = m.get(&k).unwrap();
        assert_eq!((f.packets, f.bytes), ([0, 1], [0, 10]));
    }

    #[test]
    fn add_merges_whole_flows() {
        let mut m = FlowMap::new();
        let k = FlowKey::new(6, ip("192.0.2.1"), 1, ip("198.51.100.2"), 2).0;
        let f = Flow {
            packets: [2, 3],
            bytes: [20, 30],
            first_ns: 10,
            last_ns: 20,
            opener: Opener::BGuess,
        };
        m.add(&k, &f);
        m.add(
            &k,
            &Flow {
                first_ns: 5,
                opener: Opener::A,
                ..f
            },
        );
        let got = m.get(&k).unwrap();
        assert_eq!(got.packets, [4, 6]);
        assert_eq!((got.first_ns, got.last_ns), (5, 20));
        assert_eq!(got.opener, Opener::A);
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            (0u8..4).prop_map(|x| IpAddr::V4(Ipv4Addr::new(192, 0, 2, x))),
            (0u16..3).prop_map(|x| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x))),
            (0u8..2).prop_map(|x| IpAddr::V6(Ipv4Addr::new(192, 0, 2, x).to_ipv6_mapped())),
        ]
    }

    proptest! {
        /// The map agrees with a plain hash map on any sequence of packets, whole flows and
        /// removals of the flows last seen before some time, across index growth and shrinking
        /// (the key space is small, so keys repeat).
        #[test]
        fn agrees_with_a_hash_map(
            ops in proptest::collection::vec(
                (0u8..9, 0u8..3, any_ip(), 0u16..40, any_ip(), 0u16..3, -5i64..5, any::<bool>(), 0u32..2000),
                0..600,
            )
        ) {
            let mut m = FlowMap::new();
            let mut model: HashMap<FlowKey, Flow> = HashMap::new();
            for (op, proto, src, sport, dst, dport, ts, syn, len) in ops {
                let (key, dir) = FlowKey::new(proto, src, sport, dst, dport);
                if op == 0 {
                    let before: Vec<FlowKey> = m.keys().collect();
                    let mut gone = Vec::new();
                    let mut marks = Vec::new();
                    let count = m.mark_where(|_, last| last < ts, &mut marks);
                    gone.extend(marked(&marks).map(|p| m.at(p).unwrap()));
                    prop_assert_eq!(gone.len(), count);
                    m.remove_marked(&marks);
                    let mut want: Vec<(FlowKey, Flow)> =
                        model.iter().filter(|(_, f)| f.last_ns < ts).map(|(k, f)| (*k, *f)).collect();
                    model.retain(|_, f| f.last_ns >= ts);
                    // Removed in the order first seen, the rest keep theirs.
                    let order = |k: &FlowKey| before.iter().position(|b| b == k);
                    want.sort_by_key(|(k, _)| order(k));
                    prop_assert_eq!(gone, want);
                    let kept: Vec<FlowKey> = m.keys().collect();
                    let want_kept: Vec<FlowKey> =
                        before.into_iter().filter(|k| model.contains_key(k)).collect();
                    prop_assert_eq!(kept, want_kept);
                } else if op == 1 {
                    let f = Flow {
                        packets: [1, 2],
                        bytes: [u64::from(len), 3],
                        first_ns: ts,
                        last_ns: ts + 1,
                        opener: if syn { Opener::B } else { Opener::AGuess },
                    };
                    m.add(&key, &f);
                    match model.get_mut(&key) {
                        Some(old) => old.merge(&f),
                        None => {
                            model.insert(key, f);
                        }
                    }
                } else {
                    let p = m.probe(&key);
                    m.prefetch(&p);
                    m.prefetch_flow(&p);
                    m.count(&p, ts, dir, len, syn, false);
                    let f = model.entry(key).or_insert_with(|| Flow::new(ts));
                    f.count(&key, ts, dir, len, syn, false);
                }
            }
            prop_assert_eq!(m.len(), model.len());
            for (at, key) in m.keys().enumerate() {
                prop_assert_eq!(m.position(&key), Some(at));
            }
            let got: HashMap<FlowKey, Flow> = m.iter().collect();
            prop_assert_eq!(got, model);
        }
    }
}
