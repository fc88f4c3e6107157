//! Stage 2, decode: IPv4 and IPv6 fragment reassembly. The general path ([`super::layers`])
//! hands each fragment here as a [`Fragment`]; when the last hole of a datagram is filled,
//! [`Reassembler::add`] returns the whole datagram behind a fresh IP header (no fragment
//! fields), which the caller decodes as any other packet: one datagram, one packet for the
//! flow table, its DNS answer or request parsed as usual. Unfragmented packets never come
//! here and are never copied.
//!
//! Bounds (all in capture time and bytes, stated in the constants below): a datagram waits
//! at most [`TIMEOUT_NS`] (30 s, Linux's `ipfrag_time`; looked for at most once a second of
//! capture time, so up to 31 s) from its first fragment; at most
//! [`MAX_PENDING_BYTES`] are buffered over all datagrams and at most [`MAX_PENDING`]
//! datagrams wait at once (the oldest is dropped to make room); a datagram holds at most
//! [`MAX_PIECES`] separate pieces and at most 65,535 bytes. Each dropped datagram is counted.
//!
//! Overlaps: a fragment that repeats bytes already received exactly (a retransmission) is
//! ignored. Otherwise, for IPv4 the first bytes received win (new bytes fill only the holes,
//! as BSD and Windows reassemble: the host most likely saw what came first); for IPv6 the
//! whole datagram is dropped, as RFC 5722 requires (Linux does so for IPv4 too since 4.19;
//! an observer cannot know which stack the receiver ran, and first-wins keeps the evidence
//! of the common case, a plain retransmission with different boundaries).
//!
//! Hand-written rather than etherparse's `defrag::IpDefragPool`: that pool has no byte or
//! count limit and no timeout of its own, and lets the last bytes received win.

use std::collections::HashMap;
use std::net::IpAddr;

/// How long a datagram waits for its missing fragments, in capture nanoseconds.
pub const TIMEOUT_NS: i64 = 30_000_000_000;
/// The most bytes buffered for all incomplete datagrams together.
pub const MAX_PENDING_BYTES: usize = 4 << 20;
/// The most incomplete datagrams at once.
pub const MAX_PENDING: usize = 1024;
/// The most separate pieces (received ranges) of one datagram.
pub const MAX_PIECES: usize = 64;
/// Room kept at the start of each buffer for the IP header written when it completes.
const HEADROOM: usize = 40;

/// One IP fragment, borrowed from its packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The datagram's identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// The protocol of the datagram's payload.
    pub proto: u8,
    /// Where this fragment's bytes go in the datagram's payload.
    pub offset: u32,
    /// More fragments follow (false for the last one).
    pub more: bool,
    /// Bytes of the fragment the decoder read as headers (an IPv4 AH, IPv6 extension headers
    /// after the fragment header): they come first, then `payload`. Nearly always empty.
    pub head: &'a [u8],
    /// The fragment's bytes as captured (after `head`).
    pub payload: &'a [u8],
    /// The fragment's bytes were cut by the snaplen (the datagram can never complete).
    pub cut: bool,
}

/// What happened to fragments, for the report's decode counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragmentCounts {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams made whole (each then decoded as one packet).
    pub reassembled: u64,
    /// Datagrams dropped incomplete: timed out, pushed out by the bounds, or still missing
    /// pieces when the input ended.
    pub incomplete: u64,
    /// Datagrams dropped for overlapping fragments (IPv6, RFC 5722) or inconsistent lengths.
    pub overlapping: u64,
}

impl FragmentCounts {
    /// Adds another set of counts to this one.
    pub fn merge(&mut self, o: &FragmentCounts) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.incomplete += o.incomplete;
        self.overlapping += o.overlapping;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

#[derive(Debug)]
struct Datagram {
    first_ns: i64,
    /// HEADROOM bytes, then the payload as far as received (holes are zeros).
    buf: Vec<u8>,
    /// Received ranges of the payload, sorted, not touching.
    have: Vec<(u32, u32)>,
    /// The payload's length, once the last fragment came.
    end: Option<u32>,
}

/// Pending datagrams. See the module documentation for its bounds.
#[derive(Debug, Default)]
pub struct Reassembler {
    pending: HashMap<Key, Datagram>,
    /// The datagrams of `pending` in the order their first fragment came, while the bounds are
    /// reached (the oldest is dropped first).
    arrived: crate::arrivals::Arrivals<Key>,
    bytes: usize,
    /// Capture time of the last look for timed-out datagrams (done at most once a second).
    last_sweep_ns: i64,
    /// Counts so far.
    pub counts: FragmentCounts,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Reassembler {
        Reassembler::default()
    }

    /// Adds a fragment seen at `ts_ns`. Returns the whole datagram (an IP header then the
    /// payload) when this fragment completed it.
    pub fn add(&mut self, ts_ns: i64, f: &Fragment<'_>) -> Option<Vec<u8>> {
        self.counts.fragments += 1;
        self.expire(ts_ns);
        let key = Key {
            src: f.src,
            dst: f.dst,
            id: f.id,
            proto: f.proto,
        };
        // Rare: only when the decoder read some of the fragment as headers.
        let joined;
        let bytes: &[u8] = if f.head.is_empty() {
            f.payload
        } else {
            joined = [f.head, f.payload].concat();
            &joined
        };
        let len = u32::try_from(bytes.len()).ok()?;
        let start = f.offset;
        let stop = start.checked_add(len)?;
        let v6 = f.src.is_ipv6();
        // The payload must fit the header's 16-bit length field.
        let limit = if v6 { 65_535 } else { 65_515 };
        if f.cut || stop > limit || (f.more && len % 8 != 0) || len == 0 {
            self.drop_datagram(&key, true);
            return None;
        }
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= MAX_PENDING {
                self.drop_oldest();
            }
            self.pending.insert(
                key,
                Datagram {
                    first_ns: ts_ns,
                    buf: vec![0; HEADROOM],
                    have: Vec::new(),
                    end: None,
                },
            );
            let held = self.pending.len();
            self.arrived
                .push(key, ts_ns, held, arrived_at(&self.pending));
        }
        let Some(d) = self.pending.get_mut(&key) else {
            return None; // just inserted
        };
        let before = d.buf.len();
        match merge(d, start, stop, f.more, bytes, v6) {
            Merge::Kept => {}
            Merge::Drop => {
                self.counts.overlapping += 1;
                self.remove(&key);
                return None;
            }
        }
        // `merge` only ever grows the buffer; the total is the sum of the buffers.
        self.bytes += d.buf.len().saturating_sub(before);
        let complete = matches!((d.end, d.have.as_slice()), (Some(end), [(0, e)]) if *e == end);
        if complete {
            let d = self.pending.remove(&key)?;
            self.bytes = self.bytes.saturating_sub(d.buf.len());
            self.counts.reassembled += 1;
            return Some(finish(key, d.buf));
        }
        while self.bytes > MAX_PENDING_BYTES && !self.pending.is_empty() {
            self.drop_oldest();
        }
        None
    }

    /// Counts every datagram still waiting as incomplete and frees them (at the end of the
    /// input).
    pub fn finish(&mut self) {
        self.counts.incomplete += self.pending.len() as u64;
        self.pending.clear();
        self.arrived.clear();
        self.bytes = 0;
    }

    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.bytes
    }

    fn expire(&mut self, now: i64) {
        if self.pending.is_empty() || now.saturating_sub(self.last_sweep_ns) < 1_000_000_000 {
            return;
        }
        self.last_sweep_ns = now;
        let before = self.pending.len();
        self.pending
            .retain(|_, d| now.saturating_sub(d.first_ns) <= TIMEOUT_NS);
        let gone = before - self.pending.len();
        if gone > 0 {
            self.counts.incomplete += gone as u64;
            self.bytes = self.pending.values().map(|d| d.buf.len()).sum();
        }
    }

    fn drop_oldest(&mut self) {
        let pending = self.pending.iter().map(|(k, d)| (*k, d.first_ns));
        if let Some((k, _)) = self.arrived.take_oldest(pending, arrived_at(&self.pending)) {
            self.drop_datagram(&k, false);
        }
    }

    /// Drops a pending datagram as incomplete (`bad`: a fragment that cannot be used).
    fn drop_datagram(&mut self, key: &Key, bad: bool) {
        if self.remove(key) || bad {
            self.counts.incomplete += 1;
        }
    }

    fn remove(&mut self, key: &Key) -> bool {
        match self.pending.remove(key) {
            Some(d) => {
                self.bytes = self.bytes.saturating_sub(d.buf.len());
                true
            }
            None => false,
        }
    }
}

/// Whether the datagram of `key` whose first fragment came at `at` still waits in `pending`.
fn arrived_at(pending: &HashMap<Key, Datagram>) -> impl Fn(&Key, i64) -> bool + '_ {
    move |key, at| pending.get(key).is_some_and(|d| d.first_ns == at)
}

enum Merge {
    Kept,
    Drop,
}

/// Adds `[start, stop)` to a datagram by the overlap policy of the module documentation.
fn merge(d: &mut Datagram, start: u32, stop: u32, more: bool, bytes: &[u8], v6: bool) -> Merge {
    if let Some(end) = d.end {
        if stop > end || (!more && stop != end) {
            return Merge::Drop;
        }
    } else if !more {
        if d.have.iter().any(|&(_, e)| e > stop) {
            return Merge::Drop;
        }
        d.end = Some(stop);
    }
    let overlaps = d.have.iter().any(|&(s, e)| s < stop && start < e);
    if overlaps {
        if d.have.contains(&(start, stop)) || d.have.iter().any(|&(s, e)| s <= start && stop <= e) {
            return Merge::Kept; // a retransmission: nothing new
        }
        if v6 {
            return Merge::Drop;
        }
    }
    if d.have.len() >= MAX_PIECES {
        return Merge::Drop;
    }
    let need = HEADROOM + stop as usize;
    if d.buf.len() < need {
        d.buf.resize(need, 0);
    }
    // First wins: copy only the parts of [start, stop) not received yet.
    let mut at = start;
    for &(s, e) in d.have.iter().chain(std::iter::once(&(stop, stop))) {
        if e <= at {
            continue;
        }
        let hole_end = s.min(stop);
        if hole_end > at {
            let (from, to) = ((at - start) as usize, (hole_end - start) as usize);
            let dst = HEADROOM + at as usize;
            if let (Some(src), Some(out)) =
                (bytes.get(from..to), d.buf.get_mut(dst..dst + (to - from)))
            {
                out.copy_from_slice(src);
            }
        }
        at = at.max(e);
        if at >= stop {
            break;
        }
    }
    // Record the range and merge neighbours.
    d.have.push((start, stop));
    d.have.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(d.have.len());
    for &(s, e) in &d.have {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    d.have = merged;
    Merge::Kept
}

/// Writes an unfragmented IP header in front of the payload and returns the packet.
fn finish(key: Key, mut buf: Vec<u8>) -> Vec<u8> {
    let payload_len = buf.len().saturating_sub(HEADROOM);
    match (key.src, key.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + payload_len)
                .unwrap_or(u16::MAX)
                .to_be_bytes();
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&total);
            h[8] = 64;
            h[9] = key.proto;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let csum = checksum(&h);
            h[10..12].copy_from_slice(&csum.to_be_bytes());
            buf.drain(..HEADROOM - 20);
            if let Some(out) = buf.get_mut(..20) {
                out.copy_from_slice(&h);
            }
        }
        (s, d) => {
            let len = u16::try_from(payload_len).unwrap_or(u16::MAX).to_be_bytes();
            let mut h = [0u8; 40];
            h[0] = 0x60;
            h[4..6].copy_from_slice(&len);
            h[6] = key.proto;
            h[7] = 64;
            h[8..24].copy_from_slice(&v6_octets(s));
            h[24..40].copy_from_slice(&v6_octets(d));
            if let Some(out) = buf.get_mut(..40) {
                out.copy_from_slice(&h);
            }
        }
    }
    buf
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
    }
}

fn checksum(h: &[u8; 20]) -> u16 {
    let mut sum: u32 = h
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u32, offset: u32, more: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment {
            src: IpAddr::from([10, 0, 0, 1]),
            dst: IpAddr::from([10, 0, 0, 2]),
            id,
            proto: 17,
            offset,
            more,
            head: &[],
            payload,
            cut: false,
        }
    }

    #[test]
    fn ipv4_overlaps_keep_the_first_bytes() {
        let mut r = Reassembler::new();
        assert_eq!(r.add(0, &frag(1, 0, true, &[1; 16])), None);
        // Overlaps the first 8 bytes with other data, adds 8 new ones.
        assert_eq!(r.add(0, &frag(1, 8, true, &[2; 16])), None);
        // An exact retransmission changes nothing.
        assert_eq!(r.add(0, &frag(1, 8, true, &[3; 16])), None);
        let whole = r.add(0, &frag(1, 24, false, &[4; 4])).unwrap();
        assert_eq!(&whole[..2], &[0x45, 0]);
        assert_eq!(u16::from_be_bytes([whole[2], whole[3]]), 20 + 28);
        assert_eq!(checksum(whole[..20].try_into().unwrap()), 0);
        let payload = &whole[20..];
        assert_eq!(payload[..16], [1; 16]);
        assert_eq!(payload[16..24], [2; 8]);
        assert_eq!(payload[24..], [4; 4]);
        assert_eq!(r.counts.reassembled, 1);
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn timeouts_bounds_and_bad_fragments() {
        let mut r = Reassembler::new();
        r.add(0, &frag(1, 0, true, &[1; 8]));
        // 31 s later the first datagram is gone.
        r.add(31_000_000_000, &frag(2, 0, true, &[1; 8]));
        assert_eq!(r.counts.incomplete, 1);
        assert_eq!(r.add(31_000_000_000, &frag(1, 8, false, &[1; 8])), None);
        // An unaligned middle fragment and one beyond 64 KiB are refused.
        r.add(0, &frag(3, 0, true, &[1; 7]));
        r.add(0, &frag(4, 65_512, false, &[1; 16]));
        assert_eq!(r.counts.incomplete, 3);
        // A last fragment that ends before data already held: inconsistent, dropped.
        r.add(31_000_000_000, &frag(2, 0, false, &[1; 4]));
        assert_eq!(r.counts.overlapping, 1);
        // The count bound: the oldest goes first.
        let mut r = Reassembler::new();
        for id in 0..(MAX_PENDING as u32 + 10) {
            r.add(i64::from(id), &frag(id, 0, true, &[0; 8]));
        }
        assert_eq!(r.counts.incomplete, 10);
        assert!(r.buffered() <= MAX_PENDING_BYTES);
        r.finish();
        assert_eq!(r.counts.incomplete, 10 + MAX_PENDING as u64);
        // The byte bound: big fragments push out the oldest.
        let mut r = Reassembler::new();
        let big = vec![0u8; 60_000];
        for id in 0..100 {
            r.add(id, &frag(id as u32, 0, true, &big));
            assert!(r.buffered() <= MAX_PENDING_BYTES);
        }
        assert!(r.counts.incomplete > 0);
    }

    proptest::proptest! {
        #[test]
        fn any_fragments_never_panic_and_stay_bounded(
            frags in proptest::collection::vec(
                (0u32..3, 0u32..200, proptest::prelude::any::<bool>(), 0usize..300, 0i64..40),
                0..60,
            ),
        ) {
            let mut r = Reassembler::new();
            let data = vec![7u8; 300];
            for (id, off, more, len, t) in frags {
                let f = frag(id, off * 8, more, &data[..len]);
                if let Some(whole) = r.add(t * 1_000_000_000, &f) {
                    proptest::prop_assert!(whole.len() >= 20);
                }
                proptest::prop_assert!(r.buffered() <= MAX_PENDING_BYTES);
            }
        }
    }
}
