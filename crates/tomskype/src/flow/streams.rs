//! Stage 3, flows: TCP reassembly of the first bytes of each direction, for the messages the
//! application parsers read (a TLS ClientHello of up to 16 KiB, an HTTP request head, a DNS
//! message over TCP whose 2-byte length arrives alone). The [`super::Tracker`] asks
//! [`Streams::segment`] about each TCP segment with a payload:
//!
//! - Nearly always the answer is [`Segment::InPlace`]: no state for this direction, read the
//!   payload where it lies (nothing copied). Only when a parser then says the message goes on
//!   ([`crate::decode::app::Malformed::NeedMore`]) does [`Streams::start`] copy the payload.
//! - A segment of a direction being buffered joins it by its sequence number: in order,
//!   out of order, retransmitted or overlapping (bytes already held win). Whenever the bytes
//!   from the start grow, [`Segment::Joined`] hands them to the parser again.
//! - Out-of-order starts: the sequence number after each SYN is kept for [`TIMEOUT_NS`] in a
//!   table of [`HINT_SLOTS`] entries ([`super::ways`]: 96 KiB, a few tag compares per
//!   segment, no allocation); a first data segment that arrives ahead of that number is held
//!   until the bytes before it come. Handshakes whose keys pick the same set keep their
//!   entries side by side; only when all of a set's entries are live does the oldest give way
//!   (it then loses only this).
//!
//! Bounds: [`MAX_STREAM_BYTES`] (16 KiB) per direction from its start, as much again in at
//! most [`MAX_HELD`] out-of-order pieces, [`MAX_TOTAL_BYTES`] over all directions and
//! [`MAX_STREAMS`] directions at once (beyond either, the oldest is given up), and
//! [`TIMEOUT_NS`] of capture time. A
//! direction given up is read as far as its bytes go (see [`Streams::take_given_up`]); its
//! state is freed once its message is read or it is given up.

use std::collections::HashMap;

use crate::decode::{tcp_flags, Decoded, TcpCounts};

use super::ways::{Ways, WAYS};
use super::{Dir, FlowKey};

/// The most bytes kept from the start of one direction.
pub const MAX_STREAM_BYTES: usize = 16 << 10;
/// The most bytes kept over all directions.
pub const MAX_TOTAL_BYTES: usize = 8 << 20;
/// The most directions buffered at once.
pub const MAX_STREAMS: usize = 4096;
/// The most out-of-order pieces held for one direction.
pub const MAX_HELD: usize = 16;
/// How long a direction may wait for missing bytes, in capture nanoseconds.
pub const TIMEOUT_NS: i64 = 30_000_000_000;
/// Entries of the table of expected first sequence numbers (a power of two).
pub const HINT_SLOTS: usize = 4096;

/// What to do with a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Segment<'s> {
    /// No state: read the payload in place.
    InPlace,
    /// The segment grew the bytes held from the start of its direction: read these.
    Joined(&'s [u8]),
    /// Held for later, or nothing new: read nothing now.
    Held,
}

#[derive(Debug, Clone, Copy, Default)]
struct Hint {
    /// The expected sequence number of the first data byte.
    next: u32,
    state: HintState,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum HintState {
    #[default]
    Empty,
    /// A SYN was seen; no data yet.
    Syn,
    /// The direction has a [`Stream`].
    Open,
}

#[derive(Debug)]
struct Stream {
    /// The packet facts of the direction (payload empty), to read the bytes later.
    head: Decoded<'static>,
    /// Sequence number of `data[0]`.
    start: u32,
    data: Vec<u8>,
    /// Out-of-order pieces: offset from `start`, bytes.
    held: Vec<(usize, Vec<u8>)>,
    first_ns: i64,
}

impl Stream {
    fn bytes(&self) -> usize {
        self.data.len() + self.held.iter().map(|(_, b)| b.len()).sum::<usize>()
    }
}

/// The directions being buffered. See the module documentation.
#[derive(Debug)]
pub struct Streams {
    hints: Ways<Hint>,
    open: HashMap<(FlowKey, Dir), Stream>,
    /// The directions of `open` in the order they opened, while the bounds are reached (the
    /// oldest gives way first).
    opened: crate::arrivals::Arrivals<(FlowKey, Dir)>,
    bytes: usize,
    given_up: Vec<(Decoded<'static>, Vec<u8>, i64)>,
    last_sweep_ns: i64,
    /// Counts so far.
    pub counts: TcpCounts,
}

fn tag(hash: u64, dir: Dir) -> u64 {
    // Never 0, so an empty slot never matches.
    (hash ^ (dir as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
}

impl Default for Streams {
    fn default() -> Streams {
        Streams {
            // Sets picked by bits 20 and up of the tag (not those that pick the openings' of
            // `super::skype`, so that two flows sharing a set there need not share one here).
            hints: Ways::new(HINT_SLOTS / WAYS, 20, TIMEOUT_NS),
            open: HashMap::new(),
            opened: Default::default(),
            bytes: 0,
            given_up: Vec::new(),
            last_sweep_ns: 0,
            counts: TcpCounts::default(),
        }
    }
}

impl Streams {
    /// No state yet.
    pub fn new() -> Streams {
        Streams::default()
    }

    /// Says what to do with a TCP segment of flow `key` (whose table hash is `hash`) in
    /// direction `dir`; `d` is the decoded segment, `ts_ns` its time.
    #[inline]
    pub fn segment(
        &mut self,
        hash: u64,
        key: FlowKey,
        dir: Dir,
        d: &Decoded<'_>,
        ts_ns: i64,
    ) -> Segment<'_> {
        let t = tag(hash, dir);
        if d.tcp_flags & tcp_flags::SYN != 0 {
            let open = self.hints.get(t, ts_ns).map(|h| h.state) == Some(HintState::Open);
            if !open {
                let hint = Hint {
                    next: d.seq.wrapping_add(1),
                    state: HintState::Syn,
                };
                self.hints.insert(t, ts_ns, hint);
            }
            return Segment::InPlace;
        }
        if d.payload.is_empty() {
            return Segment::InPlace;
        }
        if !self.open.is_empty() && ts_ns.saturating_sub(self.last_sweep_ns) > 1_000_000_000 {
            self.last_sweep_ns = ts_ns;
            self.sweep(ts_ns);
        }
        if self.hints.is_empty() {
            return Segment::InPlace;
        }
        let Some(hint) = self.hints.get(t, ts_ns) else {
            return Segment::InPlace;
        };
        match hint.state {
            HintState::Empty => Segment::InPlace,
            HintState::Syn => {
                let ahead = d.seq.wrapping_sub(hint.next) as usize;
                if ahead == 0 || ahead >= MAX_STREAM_BYTES {
                    // The first data in order (the common case), or not one we can place.
                    self.hints.remove(t);
                    return Segment::InPlace;
                }
                hint.state = HintState::Open;
                let start = hint.next;
                self.make_room();
                let mut s = Stream {
                    head: head_of(d),
                    start,
                    data: Vec::new(),
                    held: Vec::new(),
                    first_ns: ts_ns,
                };
                hold(&mut s, ahead, d.payload);
                self.bytes += s.bytes();
                self.counts.segments_buffered += 1;
                self.open.insert((key, dir), s);
                self.note_opened((key, dir), ts_ns);
                Segment::Held
            }
            HintState::Open => {
                let Some(s) = self.open.get_mut(&(key, dir)) else {
                    self.hints.remove(t);
                    return Segment::InPlace;
                };
                let before = s.bytes();
                let grew = add(s, d.seq, d.payload);
                let after = s.bytes();
                self.bytes = (self.bytes + after).saturating_sub(before);
                if after != before {
                    self.counts.segments_buffered += 1;
                }
                if self.bytes > MAX_TOTAL_BYTES {
                    // Over the total: the oldest directions go (this one too, if it is).
                    self.shrink_to(MAX_TOTAL_BYTES);
                    if !self.open.contains_key(&(key, dir)) {
                        return Segment::Held;
                    }
                }
                if grew {
                    // Borrow again for the lifetime of the answer.
                    match self.open.get(&(key, dir)) {
                        Some(s) => Segment::Joined(&s.data),
                        None => Segment::Held,
                    }
                } else {
                    Segment::Held
                }
            }
        }
    }

    /// Starts buffering a direction whose first segment `d` holds the start of a message that
    /// goes on (the payload is copied, up to [`MAX_STREAM_BYTES`]).
    pub fn start(&mut self, hash: u64, key: FlowKey, dir: Dir, d: &Decoded<'_>, ts_ns: i64) {
        if self.open.contains_key(&(key, dir)) {
            return;
        }
        self.make_room();
        let keep = d.payload.get(..MAX_STREAM_BYTES).unwrap_or(d.payload);
        let s = Stream {
            head: head_of(d),
            start: d.seq,
            data: keep.to_vec(),
            held: Vec::new(),
            first_ns: ts_ns,
        };
        self.bytes += s.bytes();
        self.counts.segments_buffered += 1;
        self.open.insert((key, dir), s);
        self.note_opened((key, dir), ts_ns);
        let t = tag(hash, dir);
        let hint = Hint {
            next: d.seq,
            state: HintState::Open,
        };
        self.hints.insert(t, ts_ns, hint);
    }

    /// Whether a direction's bytes reached [`MAX_STREAM_BYTES`]: its parser must decide now.
    pub fn is_full(&self, key: FlowKey, dir: Dir) -> bool {
        self.open
            .get(&(key, dir))
            .is_some_and(|s| s.data.len() >= MAX_STREAM_BYTES)
    }

    /// Frees a direction whose message was read (`whole`: it was read complete).
    pub fn close(&mut self, hash: u64, key: FlowKey, dir: Dir, whole: bool) {
        if let Some(s) = self.open.remove(&(key, dir)) {
            self.bytes = self.bytes.saturating_sub(s.bytes());
            if whole {
                self.counts.reassembled += 1;
            } else {
                self.counts.incomplete += 1;
            }
        }
        self.hints.remove(tag(hash, dir));
    }

    /// Gives up every direction still buffered (at the end of the input).
    pub fn finish(&mut self) {
        let all: Vec<_> = self.open.keys().copied().collect();
        for k in all {
            self.give_up(k);
        }
        self.opened.clear();
    }

    /// The next direction given up (by a bound, the timeout or [`Streams::finish`]): its
    /// packet facts, the bytes held from its start (to read as far as they go) and the time
    /// of its first buffered segment.
    pub fn take_given_up(&mut self) -> Option<(Decoded<'static>, Vec<u8>, i64)> {
        self.given_up.pop()
    }

    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.bytes
    }

    fn give_up(&mut self, k: (FlowKey, Dir)) {
        if let Some(s) = self.open.remove(&k) {
            self.bytes = self.bytes.saturating_sub(s.bytes());
            self.counts.incomplete += 1;
            if !s.data.is_empty() {
                self.given_up.push((s.head, s.data, s.first_ns));
            }
        }
    }

    /// Gives up the directions buffered for longer than [`TIMEOUT_NS`] at `now` (before their
    /// flows leave the table: what is read from them must find its flow).
    pub fn expire(&mut self, now: i64) {
        if !self.open.is_empty() {
            self.sweep(now);
        }
    }

    fn sweep(&mut self, now: i64) {
        let old: Vec<_> = self
            .open
            .iter()
            .filter(|(_, s)| now.saturating_sub(s.first_ns) > TIMEOUT_NS)
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            self.give_up(k);
        }
    }

    /// Gives up the oldest directions until one more fits the bounds.
    fn make_room(&mut self) {
        while self.open.len() >= MAX_STREAMS {
            if !self.give_up_oldest() {
                break;
            }
        }
        self.shrink_to(MAX_TOTAL_BYTES.saturating_sub(MAX_STREAM_BYTES));
    }

    /// Gives up the oldest directions until at most `limit` bytes are held.
    fn shrink_to(&mut self, limit: usize) {
        while self.bytes > limit {
            if !self.give_up_oldest() {
                break;
            }
        }
    }

    fn give_up_oldest(&mut self) -> bool {
        let open = self.open.iter().map(|(k, s)| (*k, s.first_ns));
        match self.opened.take_oldest(open, opened_at(&self.open)) {
            Some((k, _)) => {
                self.give_up(k);
                true
            }
            None => false,
        }
    }

    /// Notes that direction `k` opened at `ts_ns` (see `crate::arrivals`).
    fn note_opened(&mut self, k: (FlowKey, Dir), ts_ns: i64) {
        let held = self.open.len();
        self.opened.push(k, ts_ns, held, opened_at(&self.open));
    }
}

/// Whether direction `k` opened at `at` is still buffered in `open`.
fn opened_at(open: &HashMap<(FlowKey, Dir), Stream>) -> impl Fn(&(FlowKey, Dir), i64) -> bool + '_ {
    move |k, at| open.get(k).is_some_and(|s| s.first_ns == at)
}

fn head_of(d: &Decoded<'_>) -> Decoded<'static> {
    Decoded {
        src: d.src,
        dst: d.dst,
        proto: d.proto,
        sport: d.sport,
        dport: d.dport,
        tcp_flags: d.tcp_flags,
        seq: d.seq,
        payload: &[],
    }
}

/// Holds an out-of-order piece at `offset` (bounded in count and by the stream's limit).
fn hold(s: &mut Stream, offset: usize, bytes: &[u8]) {
    if s.held.len() >= MAX_HELD || offset >= MAX_STREAM_BYTES {
        return;
    }
    let room = MAX_STREAM_BYTES - offset;
    let keep = bytes.get(..room).unwrap_or(bytes);
    // Held pieces together stay within one direction's limit too.
    let held: usize = s.held.iter().map(|(_, b)| b.len()).sum();
    if held + keep.len() > MAX_STREAM_BYTES {
        return;
    }
    if s.held
        .iter()
        .any(|(o, b)| *o == offset && b.len() >= keep.len())
    {
        return; // a retransmission
    }
    s.held.push((offset, keep.to_vec()));
}

/// Adds a segment at sequence number `seq`. Returns whether the bytes from the start grew.
fn add(s: &mut Stream, seq: u32, bytes: &[u8]) -> bool {
    let offset = seq.wrapping_sub(s.start) as usize;
    if offset >= MAX_STREAM_BYTES {
        // Before the start (a wrapped difference) or beyond the limit: nothing to keep. A
        // segment that starts before the start but reaches into it is trimmed.
        let back = s.start.wrapping_sub(seq) as usize;
        if back < bytes.len() && back < MAX_STREAM_BYTES {
            return add(s, s.start, bytes.get(back..).unwrap_or_default());
        }
        return false;
    }
    if offset > s.data.len() {
        hold(s, offset, bytes);
        return false;
    }
    let before = s.data.len();
    append_at(s, offset, bytes);
    // Pull in held pieces that now touch the end; each pass removes one piece.
    while let Some(i) = s.held.iter().position(|(o, _)| *o <= s.data.len()) {
        let (o, b) = s.held.swap_remove(i);
        append_at(s, o, &b);
    }
    s.data.len() > before
}

/// Appends the part of `bytes` (which starts at `offset <= data.len()`) beyond the end of
/// the data held, up to the limit: bytes already held win.
fn append_at(s: &mut Stream, offset: usize, bytes: &[u8]) {
    let skip = s.data.len().saturating_sub(offset);
    let room = MAX_STREAM_BYTES.saturating_sub(s.data.len());
    if let Some(new) = bytes.get(skip..) {
        s.data.extend_from_slice(new.get(..room).unwrap_or(new));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn seg(sport: u16, seq: u32, payload: &[u8]) -> (FlowKey, Dir, Decoded<'_>) {
        let (src, dst) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let (key, dir) = FlowKey::new(6, src, sport, dst, 443);
        let d = Decoded {
            src,
            dst,
            proto: 6,
            sport,
            dport: 443,
            tcp_flags: tcp_flags::ACK,
            seq,
            payload,
        };
        (key, dir, d)
    }

    #[test]
    fn a_direction_keeps_at_most_its_limit() {
        let mut s = Streams::new();
        let chunk = vec![1u8; 1000];
        let (key, dir, d) = seg(1, 0, &chunk);
        assert_eq!(s.segment(7, key, dir, &d, 0), Segment::InPlace);
        s.start(7, key, dir, &d, 0);
        let mut last = 0;
        for i in 1..40u32 {
            let (key, dir, d) = seg(1, i * 1000, &chunk);
            if let Segment::Joined(b) = s.segment(7, key, dir, &d, 0) {
                last = b.len();
            }
        }
        assert_eq!(last, MAX_STREAM_BYTES);
        assert!(s.is_full(key, dir));
        assert_eq!(s.buffered(), MAX_STREAM_BYTES);
        s.close(7, key, dir, false);
        assert_eq!(s.buffered(), 0);
        assert_eq!(s.counts.incomplete, 1);
        // Closed: the next segment is read in place again.
        let (key, dir, d) = seg(1, 50_000, &chunk);
        assert_eq!(s.segment(7, key, dir, &d, 0), Segment::InPlace);
    }

    #[test]
    fn the_total_budget_gives_up_the_oldest() {
        let mut s = Streams::new();
        let chunk = vec![1u8; MAX_STREAM_BYTES];
        let n = MAX_TOTAL_BYTES / MAX_STREAM_BYTES + 5;
        for i in 0..n {
            let (key, dir, d) = seg(i as u16 + 1, 0, &chunk);
            s.start(i as u64, key, dir, &d, i as i64);
            assert!(s.buffered() <= MAX_TOTAL_BYTES);
        }
        let mut given_up = 0;
        while let Some((head, bytes, ts)) = s.take_given_up() {
            assert_eq!(bytes.len(), MAX_STREAM_BYTES);
            assert!(
                head.sport <= 5 && ts <= 4,
                "the oldest first: {} {ts}",
                head.sport
            );
            given_up += 1;
        }
        assert_eq!(given_up, n - MAX_TOTAL_BYTES / MAX_STREAM_BYTES);
        s.finish();
        assert_eq!(s.counts.incomplete as usize, n);
        assert_eq!(s.buffered(), 0);
    }

    #[test]
    fn a_late_timeout_gives_up_a_waiting_direction() {
        let mut s = Streams::new();
        let (key, dir, d) = seg(1, 0, b"\x16\x03\x01\x10\x00");
        s.start(3, key, dir, &d, 0);
        let (key2, dir2, d2) = seg(2, 0, b"x");
        s.segment(9, key2, dir2, &d2, TIMEOUT_NS + 2_000_000_000);
        assert!(s.take_given_up().is_some());
        assert_eq!(s.buffered(), 0);
    }
}
