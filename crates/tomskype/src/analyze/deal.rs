//! How the packets of a split input reach its shards: one thread reads the file, as one thread
//! alone would, and deals each packet to the shard that owns it ([`Dealer`]): its own packets
//! it tracks itself (shard 0), the others' it copies into batches that go to their threads
//! ([`follow`]) over bounded channels, with the capture time those shards must see between
//! their packets.
//!
//! Why one reader and not one per shard: every reader of the whole file pays the kernel's copy
//! of it and the walk over its records (for bench/make_capture.py's 1.6 GB capture, 0.3 s of a
//! thread's 1.6 s), and a second walk over bytes another core brought in misses the cache on
//! every record. Reading the file once in shared 1 MiB chunks walked by every shard (commit
//! 9b1a47d) saved the second copy, but the second walk and the second shard test of every
//! packet cost almost as much again (`perf`: 1.4 s of CPU more than one thread's 8 s of
//! samples, against 4 s more with a reader per shard). Dealt, each packet is walked and tested
//! once, and a shard's thread touches only its own packets' bytes (copied while they are still
//! in the reader's cache). The reading thread does more than the others, so it is given less
//! tracking to do ([`super::shard::balance`]'s head start for shard 0).
//!
//! Memory stays bounded: each shard has [`BATCHES`] batches of about [`BATCH_BYTES`] bytes (a
//! batch grows past that only to hold one packet larger than it), and the reader waits for a
//! batch to come back when all of a shard's are full.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};

use super::gather::{Gatherer, SWEEP_NS};
use super::shard::Shard;
use crate::capture::{Packet, PacketSink};

/// What a shard's packets go into: its [`Gatherer`] (the tests use others). Every capture time
/// that could make the gatherer sweep is given to `clock`, in order, and the shard's own
/// packets to `track`, each after its time.
pub(super) trait Tracks {
    /// Capture time `ts` has come (see [`Gatherer`]: sweeps).
    fn clock(&mut self, ts: i64);
    /// One of the shard's packets, after its time.
    fn track(&mut self, packet: &Packet<'_>);
}

impl Tracks for Gatherer<'_> {
    #[inline]
    fn clock(&mut self, ts: i64) {
        Gatherer::clock(self, ts);
    }

    #[inline]
    fn track(&mut self, packet: &Packet<'_>) {
        Gatherer::track(self, packet);
    }
}

/// Bytes of packets a batch holds before it goes to its shard: small enough to stay in the
/// cache between the copy and the shard's walk over it.
pub(super) const BATCH_BYTES: usize = 256 << 10;

/// Batches per shard, in its hands, waiting for it or being filled.
pub(super) const BATCHES: usize = 8;

/// A packet of a batch (its bytes are `bytes[start..start + len]` of the batch), or, with
/// `len` [`TICK`], only a capture time the shard must see.
#[derive(Debug, Clone, Copy)]
struct Entry {
    number: u64,
    offset: u64,
    ts_nanos: i64,
    link_type: u32,
    orig_len: u32,
    start: usize,
    len: usize,
}

/// [`Entry::len`] of a capture time without a packet.
const TICK: usize = usize::MAX;

/// Packets for one shard, with their bytes.
#[derive(Debug, Default)]
pub(super) struct Batch {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// The reader's end of one shard's batches.
struct Out {
    /// The batch being filled, and how many bytes it takes before it goes ([`BATCH_BYTES`]).
    batch: Batch,
    batch_bytes: usize,
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
    /// Batches made so far (at most [`BATCHES`]).
    made: usize,
    /// When the shard's gatherer sweeps next, as [`Gatherer`] reckons it: the shard must see
    /// every capture time at which it would sweep, and only those matter (a time before it
    /// cannot start a sweep).
    next_ns: i64,
}

impl Out {
    /// Whether capture time `ts` makes the shard's gatherer sweep; if so, when it sweeps next.
    #[inline(always)]
    fn sweeps_at(&mut self, ts: i64) -> bool {
        if ts < self.next_ns {
            return false;
        }
        self.next_ns = ts
            .div_euclid(SWEEP_NS)
            .saturating_mul(SWEEP_NS)
            .saturating_add(SWEEP_NS);
        true
    }

    #[inline]
    fn push(&mut self, p: &Packet<'_>, tick: bool) {
        let (start, len) = if tick {
            (0, TICK)
        } else {
            let start = self.batch.bytes.len();
            self.batch.bytes.extend_from_slice(p.data);
            (start, p.data.len())
        };
        self.batch.entries.push(Entry {
            number: p.number,
            offset: p.offset,
            ts_nanos: p.ts_nanos,
            link_type: p.link_type,
            orig_len: p.orig_len,
            start,
            len,
        });
        if self.batch.bytes.len() >= self.batch_bytes
            || self.batch.entries.len() >= self.batch_bytes / 64
        {
            self.send();
        }
    }

    /// Hands the batch being filled to the shard, and takes an empty one: a new one while
    /// there are fewer than [`BATCHES`], else the next the shard gives back.
    fn send(&mut self) {
        if !self.hand_over() {
            return;
        }
        self.batch = match self.empty.try_recv() {
            Ok(batch) => batch,
            Err(TryRecvError::Empty) if self.made < BATCHES => {
                self.made += 1;
                new_batch(self.batch_bytes)
            }
            Err(_) => self.empty.recv().unwrap_or_default(),
        };
    }

    /// Hands the batch being filled to the shard; false when the shard's thread is gone (it
    /// panicked: the panic is re-raised when it is joined), and its packets no longer matter.
    fn hand_over(&mut self) -> bool {
        match self.full.send(std::mem::take(&mut self.batch)) {
            Ok(()) => true,
            Err(back) => {
                self.batch = back.0;
                self.batch.bytes.clear();
                self.batch.entries.clear();
                false
            }
        }
    }
}

/// An empty batch with room for `bytes` bytes of packets (and some of the packet that fills
/// it) and their entries.
fn new_batch(bytes: usize) -> Batch {
    Batch {
        bytes: Vec::with_capacity(bytes + 2048),
        entries: Vec::with_capacity(bytes / 64 + 1),
    }
}

/// The reader's sink: it tracks shard 0's packets itself and deals the others'.
pub(super) struct Dealer<T> {
    shard: Shard,
    /// Shard 0's gatherer.
    own: T,
    /// Shards 1 to n-1.
    outs: Vec<Out>,
}

/// A shard's end of its batches: given to [`follow`].
pub(super) struct Inbox {
    full: Receiver<Batch>,
    empty: SyncSender<Batch>,
}

impl<T: Tracks> Dealer<T> {
    /// A dealer for shard 0 of `shard.n` (`shard.k` must be 0), tracking into `own`, and the
    /// inboxes of shards 1 to n-1, in order, whose batches hold about `batch_bytes` bytes of
    /// packets ([`BATCH_BYTES`]).
    pub(super) fn new(shard: Shard, own: T, batch_bytes: usize) -> (Dealer<T>, Vec<Inbox>) {
        let mut outs = Vec::new();
        let mut inboxes = Vec::new();
        for _ in 1..shard.n {
            // Room for every batch in each channel: a send never waits, only taking an empty
            // batch back does, so the bound is the batches made.
            let (full_tx, full_rx) = sync_channel(BATCHES);
            let (empty_tx, empty_rx) = sync_channel(BATCHES);
            outs.push(Out {
                batch: new_batch(batch_bytes),
                batch_bytes,
                full: full_tx,
                empty: empty_rx,
                made: 1,
                next_ns: i64::MIN,
            });
            inboxes.push(Inbox {
                full: full_rx,
                empty: empty_tx,
            });
        }
        (Dealer { shard, own, outs }, inboxes)
    }

    /// Hands every shard what is left in its batch; the shards' threads end when they have
    /// walked it.
    pub(super) fn finish(mut self) -> T {
        for out in &mut self.outs {
            out.hand_over();
        }
        self.own
    }
}

impl<T: Tracks> PacketSink for Dealer<T> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        let k = self.shard.owner(packet.link_type, packet.data);
        self.own.clock(packet.ts_nanos);
        if k == 0 {
            self.own.track(packet);
        }
        for (j, out) in self.outs.iter_mut().enumerate() {
            let sweeps = out.sweeps_at(packet.ts_nanos);
            if usize::from(k) == j + 1 {
                out.push(packet, false);
            } else if sweeps {
                out.push(packet, true);
            }
        }
    }
}

/// A shard's thread: walks the batches of `inbox` into `gatherer` until the dealer is done,
/// giving each batch back when walked.
pub(super) fn follow<T: Tracks>(inbox: Inbox, mut gatherer: T) -> T {
    for mut batch in inbox.full.iter() {
        for e in &batch.entries {
            gatherer.clock(e.ts_nanos);
            if e.len == TICK {
                continue;
            }
            let Some(data) = batch.bytes.get(e.start..e.start.saturating_add(e.len)) else {
                continue;
            };
            gatherer.track(&Packet {
                number: e.number,
                offset: e.offset,
                ts_nanos: e.ts_nanos,
                link_type: e.link_type,
                orig_len: e.orig_len,
                data,
            });
        }
        batch.bytes.clear();
        batch.entries.clear();
        // The dealer may be done and gone: then the batch is simply freed.
        let _ = inbox.empty.send(batch);
    }
    gatherer
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a shard saw: its packets (number, capture time) and the capture times at which its
    /// gatherer would sweep.
    #[derive(Default)]
    struct Seen {
        packets: Vec<(u64, i64)>,
        sweeps: Vec<i64>,
        next_ns: Option<i64>,
    }

    impl Tracks for Seen {
        fn clock(&mut self, ts: i64) {
            // As `Gatherer::clock` decides.
            if self.next_ns.is_none_or(|next| ts >= next) {
                self.sweeps.push(ts);
                self.next_ns = Some(ts.div_euclid(SWEEP_NS) * SWEEP_NS + SWEEP_NS);
            }
        }

        fn track(&mut self, packet: &Packet<'_>) {
            self.packets.push((packet.number, packet.ts_nanos));
        }
    }

    /// IPv4 frames between a few address pairs, of many sizes, at times that go forward by
    /// seconds to minutes and sometimes back.
    fn frames() -> Vec<(i64, Vec<u8>)> {
        (0u32..3000)
            .map(|i| {
                let mut f = vec![0u8; 14 + 20 + (i as usize * 97) % 1500];
                f[12..14].copy_from_slice(&[0x08, 0x00]);
                f[14] = 0x45;
                f[26..30].copy_from_slice(&[10, 0, 0, (i % 7) as u8]);
                f[30..34].copy_from_slice(&[10, 0, 1, (i % 5) as u8]);
                let back = if i % 50 == 0 { -90 } else { 0 };
                let ts = i64::from(i) * 7_000_000_000 + back * 1_000_000_000;
                (ts, f)
            })
            .collect()
    }

    #[test]
    fn every_shard_gets_its_packets_and_sweeps_where_one_thread_would() {
        let frames = frames();
        fn packet(i: usize, (ts, f): &(i64, Vec<u8>)) -> Packet<'_> {
            Packet {
                number: i as u64 + 1,
                offset: i as u64 * 100,
                ts_nanos: *ts,
                link_type: crate::capture::linktype::ETHERNET,
                orig_len: f.len() as u32,
                data: f,
            }
        }
        // One thread: every packet, every sweep.
        let mut alone = Seen::default();
        for (i, f) in frames.iter().enumerate() {
            alone.clock(f.0);
            alone.track(&packet(i, f));
        }
        for n in [2u8, 3] {
            let mut owners = [0u8; 64];
            for (b, o) in owners.iter_mut().enumerate() {
                *o = (b % usize::from(n)) as u8;
            }
            let shard = Shard { k: 0, n, owners };
            // Batches of a few packets, so that many are handed over and given back.
            let (mut dealer, inboxes) = Dealer::new(shard, Seen::default(), 3000);
            let seen: Vec<Seen> = std::thread::scope(|s| {
                let followers: Vec<_> = inboxes
                    .into_iter()
                    .map(|inbox| s.spawn(|| follow(inbox, Seen::default())))
                    .collect();
                for (i, f) in frames.iter().enumerate() {
                    dealer.packet(&packet(i, f));
                }
                let mut all = vec![dealer.finish()];
                all.extend(followers.into_iter().map(|f| f.join().unwrap()));
                all
            });
            let mut dealt = 0;
            for (k, shard_seen) in seen.iter().enumerate() {
                let own: Vec<(u64, i64)> = frames
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, f))| usize::from(shard.owner(1, f)) == k)
                    .map(|(i, (ts, _))| (i as u64 + 1, *ts))
                    .collect();
                assert!(!own.is_empty());
                assert_eq!(shard_seen.packets, own, "shard {k} of {n}");
                // The gatherer of every shard sweeps at the same capture times as one thread's.
                assert_eq!(shard_seen.sweeps, alone.sweeps, "shard {k} of {n}");
                dealt += own.len();
            }
            assert_eq!(dealt, frames.len());
        }
    }

    #[test]
    fn a_slow_shard_holds_the_reader_to_its_batches() {
        let frames = frames();
        let shard = Shard {
            k: 0,
            n: 2,
            owners: [1; 64],
        };
        let (mut dealer, mut inboxes) = Dealer::new(shard, Seen::default(), 1000);
        let inbox = inboxes.pop().unwrap();
        std::thread::scope(|s| {
            let reader = s.spawn(move || {
                for (i, (ts, f)) in frames.iter().enumerate() {
                    dealer.packet(&Packet {
                        number: i as u64 + 1,
                        offset: 0,
                        ts_nanos: *ts,
                        link_type: 1,
                        orig_len: f.len() as u32,
                        data: f,
                    });
                }
                let made = dealer.outs[0].made;
                dealer.finish();
                made
            });
            // The shard does not walk its batches yet: the reader fills every one it may make
            // and waits for one to come back.
            std::thread::sleep(std::time::Duration::from_millis(200));
            assert!(!reader.is_finished());
            let seen = follow(inbox, Seen::default());
            assert_eq!(seen.packets.len(), 3000);
            assert!(reader.join().unwrap() <= BATCHES);
        });
    }
}
