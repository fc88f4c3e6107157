//! Stage 1, capture: one regular capture file read once for several sinks at the same time,
//! and walked once, on as many threads as asked.
//!
//! When one large file is read by several workers, each of which handles only some of its
//! packets (`analyze`'s shards), each worker once read and walked the whole file: the kernel
//! copied it once per worker (0.3 s of system time per reader for 1.6 GB, a fifth of one
//! thread's time), and then, with the file read once, every worker still ran the format reader
//! over every record and tested every packet's shard: on bench/make_capture.py's 400 MB
//! capture that cost `--threads 2` 2,962 M instructions against 2,568 M for one thread
//! (`valgrind --tool=callgrind`; bench/RESULTS.md). [`read_path_shared`] reads and walks the
//! file once. The first sink *leads*: it alone reads the file, in chunks of [`CHUNK`] bytes
//! with plain `read()` calls (never a memory map, see `file.rs`), runs the format reader over
//! them ([`ChunkInput`], zero copy but for a record that straddles two chunks) and is handed
//! every packet ([`Lead`]). It says which packets the others need ([`Pass`]), and those are
//! written to an index of the chunk, one list per other sink: each packet's number, offset,
//! time, link type and length, and where its bytes are in the chunk (a record that straddled
//! two chunks is copied beside the index). Once the leader has walked a chunk, the index is
//! sealed, and the other sinks (*followers*) are shown their lists, not the file: they never
//! run the format reader, and never touch the bytes of a packet that is not theirs
//! ([`Follow`]).
//!
//! Threads are not tied to followers ([`Pool`]): whichever thread is free shows any follower
//! no other thread is showing packets its next sealed chunk, the one that holds back the
//! oldest chunk first. The leader's thread does too when it may read no further ahead (at
//! most [`IN_FLIGHT`] chunks are kept, so memory stays bounded and the followers find the
//! bytes still in the cache the cores share), and once it has read the file. So the work goes
//! to the threads that are free, whatever the followers were dealt, and each follower is shown
//! its packets in order, by one thread at a time. The leader finds every packet and every
//! problem one reader alone would: the summary is its.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use super::file::{read_input, GZIP_MAGIC};
use super::input::{Input, InputError};
use super::{Packet, PacketSink, ProblemKind, ReadSummary};

/// The bytes of one chunk: large enough that the locking and the handing over cost nothing
/// next to walking it, small enough that [`IN_FLIGHT`] of them stay in the cache the cores
/// share.
const CHUNK: usize = 1 << 20;

/// Most chunks read and not yet shown to every follower: the memory of a shared read is at most
/// this many chunks and their indexes. The followers' work is uneven over stretches of a file (a
/// bulk transfer is one address pair, hence one follower's), and the leader must be able to run
/// ahead over such a stretch: on the 1.6 GB capture of bench/RESULTS.md, `--threads 2` took
/// 1.10-1.17 s with 4, 1.03-1.08 s with 8, 0.85-0.86 s with 16 (and one run of 1.30 s) and
/// 0.88-0.91 s with 32 (6 interleaved runs each). With fewer, the leader is kept showing the
/// followers their chunks more than reading, and the other thread runs out of sealed ones.
const IN_FLIGHT: usize = 16;

/// How far ahead of its place a thread asks for bytes that are not in its core's cache, so that
/// they arrive while it works on what it has instead of one cache line at a time: the chunk the
/// kernel has just copied into a buffer that a follower, on the other core, read last (16 MiB of
/// buffers do not stay in a core's 2 MiB of L2), and the entries the leader wrote on its core.
/// In a profile of `--threads 2` on the 1.6 GB capture of bench/RESULTS.md (`perf record -e
/// cpu-clock`), the leader's costliest instruction was its first read of each record's header,
/// and a follower's its read of the entry it prefetched from. Interleaved runs of `--threads 2`
/// there, 16 each, in two sittings (a build that read the distances from the environment): with
/// neither of the first two, median 0.845 and 0.955 s (CPU 1.645 and 1.85 s); with the walk 768
/// bytes ahead and the entries 24 ahead, 0.795 and 0.910 s (CPU 1.555 and 1.78 s); either alone
/// gained about a third of that; 1,536 bytes, 48 entries, or packets 8 ahead did no better.
///
/// The leader's walk: the next records' headers and IP headers, 768 bytes on (about two
/// records of that capture).
const WALK_AHEAD: usize = 768;
/// A follower's entries.
const ENTRIES_AHEAD: usize = 24;
/// A follower's packets (the first two cache lines of each): 6% less time than none.
const PACKETS_AHEAD: usize = 4;

/// What the followers need of a packet the leader was handed ([`Lead::lead`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nothing.
    No,
    /// Its time (and number and offset), not its bytes: every follower is shown it.
    Time,
    /// The whole packet, to follower `shard` (1 for the first sink after the leader); when
    /// `swept`, every other follower is shown its time.
    To {
        /// The follower.
        shard: u8,
        /// Whether the others are shown its time.
        swept: bool,
    },
}

/// The sink that leads a shared read: it is handed every packet of the file, as a
/// [`PacketSink`] is, and says what the followers need of it.
pub trait Lead {
    /// Takes `packet` and says what the followers need of it.
    fn lead(&mut self, packet: &Packet<'_>) -> Pass;
}

/// A sink that follows a shared read: it is shown, in capture order, every packet the leader
/// passed on to it, and every packet whose time the leader passed on to all
/// ([`Pass::Time`], [`Pass::To`] `swept`).
pub trait Follow {
    /// Shows `packet`: with its bytes, and `mine`, when the leader passed it to this follower;
    /// otherwise its time, number and offset only (its `data` is then not the packet's).
    fn follow(&mut self, packet: &Packet<'_>, mine: bool);
}

/// One packet of a chunk's index, as one follower is shown it: 32 bytes, two to a cache line.
/// The leader writes the entries on its core and the follower reads them on another, so every
/// line of them crosses between the cores' caches. At 56 bytes (every field whole), pushing
/// them was a third of the samples in `Leading::packet`, the leader's passing on (`perf record`
/// of `--threads 2` on the 1.6 GB capture of bench/RESULTS.md).
///
/// A packet's number and offset are kept as differences from the first of its index's
/// ([`Index::base`]), and its place and length with [`Entry::len`]'s flags: every packet of one
/// chunk fits (a record is at most 16 MiB and a chunk 1 MiB), and one that would not is kept
/// whole in [`Index::wide`] ([`WIDE`]).
#[derive(Debug, Clone, Copy)]
struct Entry {
    ts_nanos: i64,
    /// The packet's number and offset, less [`Index::base`]'s.
    number: u32,
    offset: u32,
    link_type: u32,
    orig_len: u32,
    /// Where the captured bytes are: `at..at + len` of the chunk, or of the index's `spill`;
    /// with [`WIDE`], the place in [`Index::wide`] of the whole entry.
    at: u32,
    /// The captured length (the bits under [`FLAGS`]) and the flags [`MINE`], [`SPILLED`] and
    /// [`WIDE`].
    len: u32,
}

/// The follower's own packet (with its bytes), not its time only.
const MINE: u32 = 1 << 31;
/// Its bytes are in the index's `spill`, not in the chunk.
const SPILLED: u32 = 1 << 30;
/// The entry is in [`Index::wide`]: some field did not fit.
const WIDE: u32 = 1 << 29;
const FLAGS: u32 = MINE | SPILLED | WIDE;

/// A packet of an index whose number, offset, place or length did not fit an [`Entry`].
#[derive(Debug, Clone, Copy)]
struct Wide {
    number: u64,
    offset: u64,
    at: usize,
    len: usize,
}

impl Entry {
    fn mine(&self) -> bool {
        self.len & MINE != 0
    }

    fn spilled(&self) -> bool {
        self.len & SPILLED != 0
    }

    fn wide(&self) -> bool {
        self.len & WIDE != 0
    }

    /// The bytes of a packet of the follower's own that are in the chunk (not spilled, not
    /// wide): where they start and how many there are.
    fn in_chunk(&self) -> Option<(usize, usize)> {
        (self.len & FLAGS == MINE).then_some((self.at as usize, (self.len & !FLAGS) as usize))
    }
}

/// What the leader passed on from one chunk.
#[derive(Debug, Default)]
struct Index {
    /// What each follower is shown (the first list is follower 1's).
    lists: Vec<Vec<Entry>>,
    /// The bytes of passed packets that are not in the chunk (a record that straddled two).
    spill: Vec<u8>,
    /// The number and offset of the first packet passed on (the entries' are differences).
    base: Option<(u64, u64)>,
    /// The packets that did not fit an [`Entry`].
    wide: Vec<Wide>,
}

impl Index {
    /// An empty index of a chunk for `followers`.
    fn new(followers: usize) -> Self {
        Index {
            lists: (0..followers).map(|_| Vec::new()).collect(),
            spill: Vec::new(),
            base: None,
            wide: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.lists.iter_mut().for_each(Vec::clear);
        self.spill.clear();
        self.base = None;
        self.wide.clear();
    }

    /// The packet `e` of this index, of the chunk whose walked bytes are `walked`, and whether
    /// it is the follower's own (else only its time, number and offset are the packet's).
    /// `base` is [`Index::base`] (read once for all entries by the caller).
    #[inline(always)]
    fn packet<'a>(&'a self, e: &Entry, base: (u64, u64), walked: &'a [u8]) -> (Packet<'a>, bool) {
        let mut number = base.0.wrapping_add(u64::from(e.number));
        let mut offset = base.1.wrapping_add(u64::from(e.offset));
        let mut at = e.at as usize;
        let mut len = (e.len & !FLAGS) as usize;
        if e.wide() {
            if let Some(w) = self.wide.get(at) {
                (number, offset, at, len) = (w.number, w.offset, w.at, w.len);
            }
        }
        let mine = e.mine();
        let data = if !mine {
            &[][..]
        } else if e.spilled() {
            self.spill
                .get(at..at.saturating_add(len))
                .unwrap_or_default()
        } else {
            walked.get(at..at.saturating_add(len)).unwrap_or_default()
        };
        let packet = Packet {
            number,
            offset,
            ts_nanos: e.ts_nanos,
            link_type: e.link_type,
            orig_len: e.orig_len,
            data,
        };
        (packet, mine)
    }
}

/// A chunk of the file, read.
struct Chunk {
    /// The bytes; only the first `len` were read.
    data: Vec<u8>,
    len: usize,
    /// The file ended (or a read failed) in this chunk: no chunk follows.
    last: bool,
    /// The read error that ended the file early, if one did.
    error: Option<InputError>,
    /// What the leader passed on from it: set once the leader has walked it.
    index: OnceLock<Index>,
}

/// What the threads share, under one lock.
struct Ring {
    /// The chunks still needed by the leader or some follower, from the chunk numbered `base`
    /// on.
    chunks: VecDeque<Arc<Chunk>>,
    base: u64,
    /// Chunks whose index is set (the leader has walked them), from the first.
    sealed: u64,
    /// The leader is done: no chunk is sealed after `sealed`.
    led_out: bool,
    /// The chunk the leader reads next (the first), and the chunk each follower is to be shown
    /// next (`u64::MAX` once it is done).
    next: Vec<u64>,
    /// The followers being shown a chunk, by one thread or another.
    taken: Vec<bool>,
    /// Buffers and indexes of chunks no one needs any more, for the next chunks.
    spare: Vec<(Vec<u8>, Index)>,
    /// Buffers allocated (the tests check the bound).
    #[cfg_attr(not(test), allow(dead_code))]
    made: usize,
}

/// A file being read once for a leader and its followers.
struct Shared {
    file: File,
    /// Bytes per chunk ([`CHUNK`]) and most chunks kept ([`IN_FLIGHT`]): smaller in tests.
    chunk: usize,
    in_flight: usize,
    ring: Mutex<Ring>,
    /// Signalled when a chunk is sealed or dropped, a follower is shown a chunk or is done,
    /// or the leader is done.
    changed: Condvar,
}

impl Shared {
    /// A shared reading of `file` for a leader and `followers`.
    fn new(file: File, followers: usize, chunk: usize, in_flight: usize) -> Self {
        Shared {
            file,
            chunk: chunk.max(1),
            in_flight: in_flight.max(1),
            ring: Mutex::new(Ring {
                chunks: VecDeque::new(),
                base: 0,
                sealed: 0,
                led_out: false,
                next: vec![0; followers + 1],
                taken: vec![false; followers + 1],
                spare: Vec::new(),
                made: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A thread that panicked while holding the lock left the ring as it was between two
        // steps (every change is made whole under the lock), so the others carry on; the panic
        // itself is re-raised when its thread is joined.
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'r>(&self, ring: MutexGuard<'r, Ring>) -> MutexGuard<'r, Ring> {
        self.changed.wait(ring).unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the next chunk of the file into `data`, as [`super::input::ReaderInput`] does:
    /// until the chunk is full, the file ends or a read fails (then the bytes before the
    /// failure are kept).
    fn read(&self, mut data: Vec<u8>) -> Chunk {
        let mut len = 0;
        let mut error = None;
        let mut last = false;
        while len < data.len() {
            // `len < data.len()`, so the range is in bounds.
            match (&self.file).read(&mut data[len..]) {
                Ok(0) => {
                    last = true;
                    break;
                }
                Ok(got) => len += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    last = true;
                    error = Some(InputError {
                        kind: ProblemKind::Io,
                        detail: e.to_string(),
                    });
                    break;
                }
            }
        }
        Chunk {
            data,
            len,
            last,
            error,
            index: OnceLock::new(),
        }
    }

    /// The leader has walked `chunk` (the next one to seal) and passed on `index` from it.
    fn seal(&self, chunk: &Chunk, index: Index) {
        // Only the leader sets an index, once per chunk.
        let _ = chunk.index.set(index);
        let mut ring = self.lock();
        ring.sealed += 1;
        self.changed.notify_all();
    }

    /// The leader (`who` 0) or follower `who` is done with the whole file (the leader: and
    /// seals no more chunks; a follower: and is no thread's any more).
    fn leave(&self, who: usize) {
        let mut ring = self.lock();
        if who == 0 {
            ring.led_out = true;
        }
        if let Some(next) = ring.next.get_mut(who) {
            *next = u64::MAX;
        }
        if let Some(taken) = ring.taken.get_mut(who) {
            *taken = false;
        }
        ring.settle();
        self.changed.notify_all();
    }
}

impl Ring {
    /// Drops the chunks no one needs any more, keeping their buffers; and, once the leader is
    /// done, marks done the followers shown every chunk it sealed. Whether a follower was.
    fn settle(&mut self) -> bool {
        let mut finished = false;
        if self.led_out {
            for (next, taken) in self.next.iter_mut().zip(&self.taken).skip(1) {
                if !taken && *next != u64::MAX && *next >= self.sealed {
                    *next = u64::MAX;
                    finished = true;
                }
            }
        }
        let oldest = self.next.iter().copied().min().unwrap_or(u64::MAX);
        let followers = self.next.len().saturating_sub(1);
        while self.base < oldest {
            let Some(chunk) = self.chunks.pop_front() else {
                break;
            };
            self.base += 1;
            // Everyone has moved past it, but one thread may still be dropping its reference:
            // then the buffers are simply freed.
            if let Ok(chunk) = Arc::try_unwrap(chunk) {
                let mut index = chunk
                    .index
                    .into_inner()
                    .unwrap_or_else(|| Index::new(followers));
                index.clear();
                self.spare.push((chunk.data, index));
            }
        }
        finished
    }

    /// A follower no thread is showing a chunk, whose next chunk is sealed, the oldest such
    /// first (it holds back the reuse of the oldest buffer): taken, with its chunk.
    fn take(&mut self) -> Option<(usize, u64, Arc<Chunk>)> {
        let (who, next) = self
            .next
            .iter()
            .zip(&self.taken)
            .enumerate()
            .skip(1)
            .filter(|&(_, (&next, &taken))| !taken && next < self.sealed)
            .map(|(who, (&next, _))| (who, next))
            .min_by_key(|&(who, next)| (next, who))?;
        let at = usize::try_from(next.checked_sub(self.base)?).ok()?;
        let chunk = Arc::clone(self.chunks.get(at)?);
        *self.taken.get_mut(who)? = true;
        Some((who, next, chunk))
    }

    /// Whether every follower is done.
    fn followed_out(&self) -> bool {
        self.next.iter().skip(1).all(|&next| next == u64::MAX)
    }
}

/// The followers of a shared reading, and the reading: any thread (the leader's, when it
/// would otherwise wait, and then once it is done) shows any follower no other thread is
/// showing a chunk its next sealed chunk. A follower is thus shown the chunks in order, by one
/// thread at a time, and the work goes to whichever thread is free: a split file's work is
/// never evenly dealt by a sample, and a core of a shared machine slows down and speeds up
/// while the others do not.
struct Pool<'p, F> {
    shared: &'p Shared,
    /// Followers 1, 2, ... (each locked only by the thread that took it).
    followers: &'p [Apart<Mutex<F>>],
}

impl<F: Follow> Pool<'_, F> {
    /// Shows follower `who` the entries of `chunk` (numbered `next`) for it, then gives the
    /// follower back: the ring, locked again.
    fn show(&self, who: usize, next: u64, chunk: Arc<Chunk>) -> MutexGuard<'_, Ring> {
        /// Gives a follower whose sink panicked up, so that no one waits for it: its panic
        /// is re-raised when its thread is joined.
        struct GiveUp<'s>(&'s Shared, usize);
        impl Drop for GiveUp<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.leave(self.1);
                }
            }
        }
        let give_up = GiveUp(self.shared, who);
        if let Some(follower) = who.checked_sub(1).and_then(|k| self.followers.get(k)) {
            let mut sink = follower.0.lock().unwrap_or_else(|e| e.into_inner());
            show_list(&chunk, who, &mut *sink);
        }
        drop(give_up);
        drop(chunk);
        let mut ring = self.shared.lock();
        if let Some(taken) = ring.taken.get_mut(who) {
            *taken = false;
        }
        if let Some(n) = ring.next.get_mut(who) {
            *n = next + 1;
        }
        ring.settle();
        self.shared.changed.notify_all();
        ring
    }

    /// Shows a follower no other thread holds its next sealed chunk, when there is one, else
    /// waits for a change: the ring, locked again.
    fn help_or_wait<'s>(&'s self, mut ring: MutexGuard<'s, Ring>) -> MutexGuard<'s, Ring> {
        match ring.take() {
            Some((who, next, chunk)) => {
                drop(ring);
                self.show(who, next, chunk)
            }
            None => self.shared.wait(ring),
        }
    }

    /// Shows the followers their chunks, as they are sealed, until every follower is done.
    fn serve(&self) {
        let mut ring = self.shared.lock();
        loop {
            if ring.settle() {
                self.shared.changed.notify_all();
            }
            if ring.followed_out() {
                return;
            }
            ring = self.help_or_wait(ring);
        }
    }

    /// The chunk numbered `index`, read for the leader, which is done with every chunk before
    /// it, once fewer than [`IN_FLIGHT`] are kept: until then, the leader shows the followers
    /// their chunks, oldest first.
    fn read_next(&self, index: u64) -> (Arc<Chunk>, Index) {
        let mut ring = self.shared.lock();
        if let Some(next) = ring.next.first_mut() {
            *next = index;
        }
        ring.settle();
        while ring.chunks.len() >= self.shared.in_flight {
            ring = self.help_or_wait(ring);
        }
        let spare = ring.spare.pop();
        ring.made += usize::from(spare.is_none());
        let followers = ring.next.len().saturating_sub(1);
        drop(ring);
        let (chunk, index) =
            spare.unwrap_or_else(|| (vec![0; self.shared.chunk], Index::new(followers)));
        let chunk = Arc::new(self.shared.read(chunk));
        self.shared.lock().chunks.push_back(Arc::clone(&chunk));
        (chunk, index)
    }
}

/// Shows follower `who` (1 or more) what the leader passed on to it from `chunk`.
fn show_list<F: Follow>(chunk: &Chunk, who: usize, sink: &mut F) {
    let Some(index) = chunk.index.get() else {
        return;
    };
    let Some(list) = who.checked_sub(1).and_then(|k| index.lists.get(k)) else {
        return;
    };
    let walked = chunk.data.get(..chunk.len).unwrap_or_default();
    let base = index.base.unwrap_or_default();
    for (i, e) in list.iter().enumerate() {
        // What follows was written on the leader's core: ask for it before it is needed,
        // instead of waiting for each cache line in turn. The entries [`ENTRIES_AHEAD`] on,
        // and the first two cache lines of the packet [`PACKETS_AHEAD`] on.
        if let Some(ahead) = list.get(i + ENTRIES_AHEAD) {
            crate::hints::prefetch(ahead);
        }
        if let Some((at, len)) = list.get(i + PACKETS_AHEAD).and_then(Entry::in_chunk) {
            if let Some(byte) = walked.get(at) {
                crate::hints::prefetch(byte);
            }
            if let Some(byte) = walked.get(at + 64).filter(|_| len > 64) {
                crate::hints::prefetch(byte);
            }
        }
        let (packet, mine) = index.packet(e, base, walked);
        sink.follow(&packet, mine);
    }
}

/// The index of the chunk the leader is walking, being written.
#[derive(Default)]
struct Builder {
    /// Where the bytes read into the chunk being walked are, as addresses (empty before the
    /// first chunk): a packet's bytes inside them are passed on as a place in the chunk.
    walked: std::ops::Range<usize>,
    index: Index,
}

impl Builder {
    /// Writes `packet` into the index, as `pass` says.
    #[inline]
    fn push(&mut self, packet: &Packet<'_>, pass: Pass) {
        let (to, swept) = match pass {
            Pass::No => return,
            Pass::Time => (0, true),
            Pass::To { shard, swept } => (usize::from(shard), swept),
        };
        let (base_number, base_offset) = *self
            .index
            .base
            .get_or_insert((packet.number, packet.offset));
        // Differences that do not fit (never, for the packets of one chunk: a packet before the
        // index's first, which wraps around, or more than 4 GiB or 2^32 packets after it): the
        // entry is wide. One test for both, not a branch per field (the leader does this for
        // every packet it passes on); one more below for the place and length.
        let number = packet.number.wrapping_sub(base_number);
        let offset = packet.offset.wrapping_sub(base_offset);
        let narrow = (number | offset) >> 32 == 0;
        let mut entry = Entry {
            ts_nanos: packet.ts_nanos,
            number: number as u32,
            offset: offset as u32,
            link_type: packet.link_type,
            orig_len: packet.orig_len,
            at: 0,
            len: 0,
        };
        if swept {
            // Every other follower is shown its time.
            if !narrow {
                entry.at = self.wide_at(packet, 0, 0);
                entry.len = WIDE;
            }
            for (k, list) in self.index.lists.iter_mut().enumerate() {
                if k + 1 != to {
                    list.push(entry);
                }
            }
        }
        let Some(k) = to.checked_sub(1).filter(|&k| k < self.index.lists.len()) else {
            return;
        };
        let len = packet.data.len();
        // The bytes are in the chunk, unless the record straddled two (then the reader handed
        // over a copy): compared as addresses, so that no byte is copied to know.
        let start = packet.data.as_ptr() as usize;
        let inside = self.walked.start <= start && start.saturating_add(len) <= self.walked.end;
        let (at, spilled) = match inside.then(|| start - self.walked.start) {
            Some(from) => (from, 0),
            None => {
                let at = self.index.spill.len();
                self.index.spill.extend_from_slice(packet.data);
                (at, SPILLED)
            }
        };
        // A length with bits under the flags (a record of 512 MiB or more: the readers stop at
        // 16 MiB) is kept whole too.
        if narrow && (at as u64) >> 32 == 0 && (len as u64) < u64::from(WIDE) {
            entry.at = at as u32;
            entry.len = len as u32 | MINE | spilled;
        } else {
            entry.at = self.wide_at(packet, at, len);
            entry.len = MINE | spilled | WIDE;
        }
        if let Some(list) = self.index.lists.get_mut(k) {
            list.push(entry);
        }
    }

    /// Keeps `packet`'s number and offset, and the place `at` and length `len` of its bytes,
    /// whole in the index's [`Index::wide`]: the place there.
    #[cold]
    fn wide_at(&mut self, packet: &Packet<'_>, at: usize, len: usize) -> u32 {
        let wide = &mut self.index.wide;
        wide.push(Wide {
            number: packet.number,
            offset: packet.offset,
            at,
            len,
        });
        // An index holds the packets of one chunk of at most 1 MiB: fewer than 2^32.
        debug_assert!(wide.len() <= u32::MAX as usize);
        u32::try_from(wide.len() - 1).unwrap_or(u32::MAX)
    }
}

/// The leader's sink as the format reader sees it: every packet to the leader, and what it
/// passes on into the index.
struct Leading<'b, L> {
    sink: &'b mut L,
    builder: &'b RefCell<Builder>,
}

impl<L: Lead> PacketSink for Leading<'_, L> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        let pass = self.sink.lead(packet);
        if pass != Pass::No {
            self.builder.borrow_mut().push(packet, pass);
        }
    }
}

/// The leader's view of a [`Shared`] file: the chunks in turn, as one stream of bytes. Each
/// chunk's index is sealed when the walk moves past it, and when the walk ends.
struct ChunkInput<'a, F: Follow> {
    pool: &'a Pool<'a, F>,
    /// The index being written, and (for the addresses) the chunk being walked.
    builder: &'a RefCell<Builder>,
    /// The chunk being walked (None before the first), and the position in it.
    chunk: Option<Arc<Chunk>>,
    at: usize,
    /// The number of the next chunk.
    next: u64,
    /// Bytes copied out of the chunks, for a record that straddles two: the unconsumed ones,
    /// from `stitch_at` on, come before `chunk[at..]`.
    stitch: Vec<u8>,
    stitch_at: usize,
    consumed: u64,
}

impl<'a, F: Follow> ChunkInput<'a, F> {
    fn new(pool: &'a Pool<'a, F>, builder: &'a RefCell<Builder>) -> Self {
        ChunkInput {
            pool,
            builder,
            chunk: None,
            at: 0,
            next: 0,
            stitch: Vec::new(),
            stitch_at: 0,
            consumed: 0,
        }
    }

    /// The unwalked bytes of the current chunk.
    fn rest(&self) -> &[u8] {
        match &self.chunk {
            Some(c) => c.data.get(self.at..c.len).unwrap_or_default(),
            None => &[],
        }
    }

    /// Whether no chunk follows the current one.
    fn at_last(&self) -> bool {
        self.chunk.as_ref().is_some_and(|c| c.last)
    }

    /// Moves to the next chunk (the current one must be walked to its end).
    fn advance(&mut self) {
        self.seal();
        let (chunk, index) = self.pool.read_next(self.next);
        if let Ok(mut b) = self.builder.try_borrow_mut() {
            let bytes = chunk
                .data
                .get(..chunk.len)
                .unwrap_or_default()
                .as_ptr_range();
            b.walked = bytes.start as usize..bytes.end as usize;
            b.index = index;
        }
        self.chunk = Some(chunk);
        self.next += 1;
        self.at = 0;
    }

    /// Seals the current chunk's index and lets go of the chunk (so that its buffer can be
    /// reused as soon as every follower is done with it).
    fn seal(&mut self) {
        if let Some(chunk) = self.chunk.take() {
            // The builder is not borrowed here (the reader hands packets over between peeks),
            // unless the leader's sink panicked in the middle: then its index goes unsealed.
            if let Ok(mut b) = self.builder.try_borrow_mut() {
                b.walked = 0..0;
                let index = std::mem::take(&mut b.index);
                drop(b);
                self.pool.shared.seal(&chunk, index);
            }
        }
    }

    /// The error that ended the input, once the last chunk is reached.
    fn error(&self) -> Option<InputError> {
        self.chunk.as_ref().and_then(|c| c.error.clone())
    }
}

impl<F: Follow> Input for ChunkInput<'_, F> {
    #[inline]
    fn peek(&mut self, n: usize) -> Result<&[u8], InputError> {
        // The common case, kept small so that it is inlined into the readers' loops: nothing
        // stitched, and the bytes are in the current chunk.
        let in_chunk = self.stitch_at == self.stitch.len()
            && self
                .chunk
                .as_ref()
                .is_some_and(|c| c.len.saturating_sub(self.at) >= n.max(1));
        if in_chunk {
            return Ok(self.rest());
        }
        self.peek_slow(n)
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        let stitched = self.stitch.len() - self.stitch_at;
        if stitched == 0 {
            let len = self.chunk.as_ref().map_or(0, |c| c.len);
            self.at = self.at.saturating_add(n).min(len.max(self.at));
            // In the buffer, which is whole: past `len`, the last chunk's buffer holds old bytes
            // (asking for them is harmless); nothing is asked for in its last 768 bytes.
            if let Some(byte) = self
                .chunk
                .as_ref()
                .and_then(|c| c.data.get(self.at + WALK_AHEAD))
            {
                crate::hints::prefetch(byte);
            }
        } else if n <= stitched {
            self.stitch_at += n;
        } else {
            self.stitch_at = self.stitch.len();
            self.at = self
                .at
                .saturating_add(n - stitched)
                .min(self.rest().len() + self.at);
        }
        self.consumed += n as u64;
    }

    #[inline]
    fn offset(&self) -> u64 {
        self.consumed
    }
}

impl<F: Follow> ChunkInput<'_, F> {
    /// [`Input::peek`] past the common case: the next chunk, a record that straddles two, the
    /// end of the file.
    #[cold]
    #[inline(never)]
    fn peek_slow(&mut self, n: usize) -> Result<&[u8], InputError> {
        if self.stitch_at == self.stitch.len() {
            // The common case: the bytes are in the current chunk.
            while self.rest().is_empty() && !self.at_last() {
                self.advance();
            }
            let rest = self.rest().len();
            if rest >= n || self.at_last() {
                if rest < n {
                    if let Some(err) = self.error() {
                        return Err(err);
                    }
                }
                return Ok(self.rest());
            }
            self.stitch.clear();
            self.stitch_at = 0;
        } else if self.stitch.len() - self.stitch_at >= n {
            return Ok(self.stitch.get(self.stitch_at..).unwrap_or_default());
        } else {
            self.stitch.drain(..self.stitch_at);
            self.stitch_at = 0;
        }
        // A record that straddles chunks: copy what it needs (or what is left) out of them.
        while self.stitch.len() < n {
            let rest = match &self.chunk {
                Some(c) => c.data.get(self.at..c.len).unwrap_or_default(),
                None => &[],
            };
            if rest.is_empty() {
                if self.at_last() {
                    break;
                }
                self.advance();
                continue;
            }
            let take = rest.len().min(n - self.stitch.len());
            self.stitch
                .extend_from_slice(rest.get(..take).unwrap_or_default());
            self.at += take;
        }
        if self.stitch.len() < n {
            if let Some(err) = self.error() {
                return Err(err);
            }
        }
        Ok(&self.stitch)
    }
}

impl<F: Follow> Drop for ChunkInput<'_, F> {
    fn drop(&mut self) {
        // Done, or unwinding: the followers must not wait for the leader.
        self.seal();
        self.pool.shared.leave(0);
    }
}

/// Reads the regular, uncompressed capture file at `path` once for every sink of `sinks`, on
/// `threads` threads (the calling one and `threads - 1` of their own, at most one per sink):
/// the first sink leads (it reads and walks the file, on the calling thread, and is handed
/// every packet), the others follow, shown what the leader passes on by whichever thread is
/// free (see the module documentation). Returns the sinks and what reading gave (the
/// leader's). A path that is not a regular file, a gzip-compressed file and a file that cannot
/// be opened are read (or fail) as [`super::read_path`] does, by every sink on its own (on a
/// thread each), each handed every packet as a [`PacketSink`]; so is a file read for one sink.
/// With no sinks, the file is read once for none.
pub fn read_path_shared<S: Lead + Follow + PacketSink + Send>(
    path: &Path,
    sinks: Vec<S>,
    threads: usize,
) -> (Vec<S>, ReadSummary) {
    read_shared_in(path, sinks, threads, CHUNK, IN_FLIGHT)
}

/// A follower, alone on its cache lines: side by side, the fields one thread writes for every
/// packet shared a line with the next follower's, which another thread was writing (`--threads
/// 2` on the 1.6 GB capture of bench/RESULTS.md: 1.70 s of CPU against 1.54 s apart).
#[repr(align(128))]
struct Apart<T>(T);

/// [`read_path_shared`] in chunks of `chunk` bytes, at most `in_flight` of them at a time.
pub(super) fn read_shared_in<S: Lead + Follow + PacketSink + Send>(
    path: &Path,
    mut sinks: Vec<S>,
    threads: usize,
    chunk: usize,
    in_flight: usize,
) -> (Vec<S>, ReadSummary) {
    if sinks.len() <= 1 {
        let summary = match sinks.first_mut() {
            Some(sink) => super::read_path(path, sink),
            None => super::read_path(path, &mut |_: &Packet<'_>| {}),
        };
        return (sinks, summary);
    }
    let file = File::open(path)
        .ok()
        .filter(|f| f.metadata().is_ok_and(|m| m.is_file()));
    let Some((mut file, len)) = file.and_then(|f| {
        let len = f.metadata().ok()?.len();
        Some((f, len))
    }) else {
        return each_alone(path, sinks);
    };
    // As `file.rs` reads a file: a gzip file, and one whose first bytes cannot be read (its
    // problem is worded there), are read by each sink on its own.
    let mut head = [0u8; 2];
    match file.read_exact(&mut head) {
        Ok(()) if head == GZIP_MAGIC => return each_alone(path, sinks),
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(_) => return each_alone(path, sinks),
    }
    if file.rewind().is_err() {
        return each_alone(path, sinks);
    }
    let mut sinks = sinks.into_iter();
    let Some(mut leader) = sinks.next() else {
        return (Vec::new(), super::read_path(path, &mut |_: &Packet<'_>| {}));
    };
    let followers: Vec<Apart<Mutex<S>>> = sinks.map(|s| Apart(Mutex::new(s))).collect();
    let shared = Shared::new(file, followers.len(), chunk, in_flight);
    let mut summary = run(&shared, &mut leader, &followers, threads);
    let sinks: Vec<S> = std::iter::once(leader)
        .chain(followers.into_iter().map(|f| {
            // A follower whose sink panicked was poisoned: its panic has been re-raised.
            f.0.into_inner().unwrap_or_else(|e| e.into_inner())
        }))
        .collect();
    super::file::check_shrink(&shared.file, len, &mut summary);
    (sinks, summary)
}

/// Leads the shared reading of `shared` with `leader` on the calling thread, while
/// `threads - 1` threads of their own show the followers their chunks; the leader joins them
/// once it has read the file. What reading gave. A panic of any of them is raised here once
/// all are done, and none waits for a follower whose sink panicked (it is given up).
fn run<S: Lead + Follow + Send>(
    shared: &Shared,
    leader: &mut S,
    followers: &[Apart<Mutex<S>>],
    threads: usize,
) -> ReadSummary {
    let pool = Pool { shared, followers };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..threads.clamp(1, followers.len() + 1))
            .map(|_| s.spawn(|| pool.serve()))
            .collect();
        let builder = RefCell::new(Builder::default());
        let mut input = ChunkInput::new(&pool, &builder);
        let mut sink = Leading {
            sink: leader,
            builder: &builder,
        };
        let summary = read_input(&mut input, &mut sink, false);
        drop(input);
        pool.serve();
        for helper in helpers {
            helper
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        summary
    })
}

/// Every sink reads the file at `path` on its own, at the same time.
fn each_alone<S: PacketSink + Send>(path: &Path, mut sinks: Vec<S>) -> (Vec<S>, ReadSummary) {
    let mut summaries: Vec<Option<ReadSummary>> = (0..sinks.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        for (sink, summary) in sinks.iter_mut().zip(summaries.iter_mut()) {
            s.spawn(move || *summary = Some(super::read_path(path, sink)));
        }
    });
    // As above: every reader left its summary.
    let summary = summaries.into_iter().next().flatten();
    let summary = summary.unwrap_or_else(|| {
        super::file::failure(ProblemKind::Io, "cannot read: a reader stopped".to_string())
    });
    (sinks, summary)
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testcap::capture;
    use super::super::{read_path, Packet};
    use super::*;
    use proptest::prelude::*;

    /// A packet as a sink was handed it: number, offset, time, link type, length, bytes.
    type Got = (u64, u64, i64, u32, u32, Vec<u8>);

    fn got(p: &Packet<'_>) -> Got {
        let d = p.data.to_vec();
        (p.number, p.offset, p.ts_nanos, p.link_type, p.orig_len, d)
    }

    /// A sink of a shared read of `n` sinks. As the leader it keeps the packets numbered
    /// 0 mod `n`, passes packet `i` to follower `i mod n`, and passes the time of every fifth
    /// of its own and of every seventh of the others' to all; as a follower it keeps what is
    /// passed to it, and notes the number and time of what it is shown; as a plain sink it
    /// keeps everything.
    pub(in super::super) struct Deal {
        n: u64,
        pub(in super::super) mine: Vec<Got>,
        /// (number, offset, time) of each packet shown (follower).
        shown: Vec<(u64, u64, i64)>,
        /// (number, offset, time, follower, shown to all) of each packet passed on (leader).
        passed: Vec<(u64, u64, i64, u64, bool)>,
    }

    impl Deal {
        pub(in super::super) fn new(n: usize) -> Deal {
            Deal {
                n: n as u64,
                mine: Vec::new(),
                shown: Vec::new(),
                passed: Vec::new(),
            }
        }

        /// What the leader `self` passed on that follower `k` was to be shown.
        fn for_follower(&self, k: u64) -> Vec<(u64, u64, i64)> {
            let passed = self.passed.iter();
            let shown = passed.filter(|p| p.3 == k || p.4);
            shown.map(|p| (p.0, p.1, p.2)).collect()
        }
    }

    impl PacketSink for Deal {
        fn packet(&mut self, p: &Packet<'_>) {
            self.mine.push(got(p));
        }
    }

    impl Lead for Deal {
        fn lead(&mut self, p: &Packet<'_>) -> Pass {
            let k = p.number % self.n;
            let pass = match k {
                0 => {
                    self.mine.push(got(p));
                    match p.number % 5 {
                        0 => Pass::Time,
                        _ => Pass::No,
                    }
                }
                k => Pass::To {
                    shard: u8::try_from(k).unwrap(),
                    swept: p.number.is_multiple_of(7),
                },
            };
            let swept = matches!(pass, Pass::Time | Pass::To { swept: true, .. });
            if pass != Pass::No {
                self.passed.push((p.number, p.offset, p.ts_nanos, k, swept));
            }
            pass
        }
    }

    impl Follow for Deal {
        fn follow(&mut self, p: &Packet<'_>, mine: bool) {
            self.shown.push((p.number, p.offset, p.ts_nanos));
            if mine {
                self.mine.push(got(p));
            }
        }
    }

    /// `bytes` written to a file in a new temporary folder (kept as long as the path is used).
    fn written(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pcap");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    /// A shared read of `path` by `walkers` sinks on `threads` threads (in `chunk`-byte
    /// chunks, `in_flight` at most) gives what one reader alone gives: the leader's summary,
    /// every packet to the sink it was dealt to, byte for byte, and every follower shown, in
    /// order, every packet the leader passed to it or to all. A gzip file is read by each sink
    /// alone, whole.
    pub(in super::super) fn same_as_alone(
        path: &Path,
        walkers: usize,
        threads: usize,
        chunk: usize,
        in_flight: usize,
    ) {
        let name = path.display();
        let mut alone = Deal::new(1);
        let want = read_path(path, &mut alone);
        let sinks = (0..walkers).map(|_| Deal::new(walkers)).collect();
        let (sinks, got) = read_shared_in(path, sinks, threads, chunk, in_flight);
        assert_eq!(sinks.len(), walkers);
        let gzip = std::fs::read(path).is_ok_and(|b| b.starts_with(&GZIP_MAGIC));
        if walkers == 1 || gzip {
            for sink in &sinks {
                assert!(sink.mine == alone.mine, "{name}: read whole by each sink");
            }
        } else {
            for (k, sink) in sinks.iter().enumerate() {
                let dealt: Vec<&Got> = alone
                    .mine
                    .iter()
                    .filter(|p| p.0 % walkers as u64 == k as u64)
                    .collect();
                let mine: Vec<&Got> = sink.mine.iter().collect();
                assert!(mine == dealt, "{name}: {} of {}", mine.len(), dealt.len());
                if k > 0 {
                    let want = sinks[0].for_follower(k as u64);
                    assert!(sink.shown == want, "{name}: shown to {k}");
                }
            }
        }
        assert_eq!(got.problems, want.problems, "{name}");
        assert_eq!(
            (got.format, got.packets, got.bytes, got.unreadable, got.gzip),
            (
                want.format,
                want.packets,
                want.bytes,
                want.unreadable,
                want.gzip
            ),
            "{name}"
        );
    }

    /// Leads the shared read of `shared` with a [`Deal`] of two sinks, on this thread alone
    /// (it shows the follower its packets when it may read no further): its packets read,
    /// and the follower.
    fn lead(shared: &Shared) -> (u64, Deal) {
        let followers = vec![Apart(Mutex::new(Deal::new(2)))];
        let mut leader = Deal::new(2);
        let read = run(shared, &mut leader, &followers, 1);
        let follower = followers
            .into_iter()
            .next()
            .unwrap()
            .0
            .into_inner()
            .unwrap();
        (read.packets, follower)
    }

    fn same_as_alone_bytes(
        bytes: &[u8],
        walkers: usize,
        threads: usize,
        chunk: usize,
        in_flight: usize,
    ) {
        let (_dir, path) = written(bytes);
        same_as_alone(&path, walkers, threads, chunk, in_flight);
    }

    #[test]
    fn large_records_straddle_many_chunks() {
        let sizes = [5000, 1, 0, 70_000, 3, 65_535, 17];
        for ng in [false, true] {
            let bytes = capture(ng, false, &sizes);
            same_as_alone_bytes(&bytes, 2, 2, 1000, 2);
            same_as_alone_bytes(&bytes, 3, 2, 7, 1);
            same_as_alone_bytes(&bytes, 3, 1, 7, 1);
            same_as_alone_bytes(&bytes, 1, 1, 4096, 4);
        }
        // Damaged: a record that claims too many bytes makes the reader scan ahead in steps
        // larger than a chunk.
        let mut bytes = capture(false, false, &[100; 50]);
        bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        same_as_alone_bytes(&bytes, 2, 2, 333, 3);
        same_as_alone_bytes(&[], 2, 2, 16, 2);
        same_as_alone_bytes(b"not a capture at all", 3, 2, 4, 2);
    }

    #[test]
    fn an_entry_gives_back_the_packet_passed_on_whatever_fits_it() {
        let chunk: Vec<u8> = (0..=255).collect();
        let elsewhere = [7u8, 8, 9];
        let mut b = Builder {
            walked: chunk.as_ptr_range().start as usize..chunk.as_ptr_range().end as usize,
            index: Index::new(2),
        };
        let packet = |number, offset, data| Packet {
            number,
            offset,
            ts_nanos: number as i64 * 10 - 5,
            link_type: 113,
            orig_len: 1500,
            data,
        };
        let to = |shard, swept| Pass::To { shard, swept };
        let passed = [
            (packet(1_000, 5_000, &chunk[10..30]), to(1, false)),
            // Its time to follower 1 too.
            (packet(1_001, 5_030, &chunk[40..41]), to(2, true)),
            // Copied beside the index (a record that straddled two chunks).
            (packet(1_002, 5_100, &elsewhere[..]), to(1, false)),
            // Too far from the first to be kept as differences: whole, in `wide`, and so is
            // its time, shown to follower 2.
            (packet(1 << 40, 1 << 41, &chunk[200..256]), to(1, true)),
            // A packet before the index's first (never, from a reader) is kept whole too,
            // spilled or not.
            (packet(3, 4, &chunk[0..1]), to(2, false)),
            (packet(2, 3, &elsewhere[1..]), to(2, false)),
            // To a follower there is not: nothing is kept.
            (packet(1_003, 5_150, &elsewhere[..]), to(3, true)),
            (packet(1_003, 5_200, &[][..]), Pass::Time),
            (packet(1_004, 5_300, &chunk[50..60]), Pass::No),
        ];
        for (p, pass) in &passed {
            b.push(p, *pass);
        }
        let index = std::mem::take(&mut b.index);
        assert_eq!(index.wide.len(), 4);
        assert_eq!(index.spill, [7, 8, 9, 8, 9]);
        for follower in [1u8, 2] {
            let expected: Vec<(Got, bool)> = passed
                .iter()
                .filter_map(|(p, pass)| match *pass {
                    Pass::To { shard, .. } if shard == follower => Some((got(p), true)),
                    Pass::To { swept: true, .. } | Pass::Time => {
                        Some((got(&Packet { data: &[], ..*p }), false))
                    }
                    _ => None,
                })
                .collect();
            let list = &index.lists[usize::from(follower) - 1];
            let shown: Vec<(Got, bool)> = list
                .iter()
                .map(|e| index.packet(e, index.base.unwrap(), &chunk))
                .map(|(p, mine)| (got(&p), mine))
                .collect();
            assert_eq!(shown, expected, "follower {follower}");
        }
        // Two entries to a cache line.
        assert_eq!(size_of::<Entry>(), 32);
    }

    #[test]
    fn passed_bytes_are_the_chunks_own_unless_a_record_straddled_two() {
        // Records of 100 bytes (116 with their header) in chunks of 1,000: most are passed on
        // as a place in the chunk; only those that straddle two chunks are copied.
        let bytes = capture(false, false, &[100; 60]);
        let (_dir, path) = written(&bytes);
        let shared = Shared::new(File::open(&path).unwrap(), 1, 1000, 64);
        // The leader reads the file and no one shows the follower its packets, so that every
        // chunk is kept.
        let followers = vec![Apart(Mutex::new(Deal::new(2)))];
        let pool = Pool {
            shared: &shared,
            followers: &followers,
        };
        let builder = RefCell::new(Builder::default());
        let mut leader = Deal::new(2);
        let mut input = ChunkInput::new(&pool, &builder);
        let mut sink = Leading {
            sink: &mut leader,
            builder: &builder,
        };
        assert_eq!(read_input(&mut input, &mut sink, false).packets, 60);
        drop(input);
        let ring = shared.lock();
        let (mut placed, mut spilled) = (0, 0);
        for chunk in &ring.chunks {
            for e in chunk.index.get().unwrap().lists.iter().flatten() {
                match (e.mine(), e.spilled()) {
                    (true, true) => spilled += 1,
                    (true, false) => placed += 1,
                    (false, _) => assert_eq!(e.len, 0),
                }
            }
        }
        // 30 passed (every other one), the others (and the times) not copied.
        assert_eq!(placed + spilled, 30);
        assert!(spilled <= bytes.len() / 1000 + 1, "{spilled}");
        assert!(placed >= 20, "{placed}");
    }

    #[test]
    fn chunks_in_flight_stay_bounded_and_the_leader_helps_when_it_may_read_no_further() {
        let bytes = capture(false, false, &[1000; 400]);
        let (_dir, path) = written(&bytes);
        // No thread but the leader's: it reads until the chunks in flight are as many as
        // allowed, then shows the follower its packets to free the oldest.
        let shared = Shared::new(File::open(&path).unwrap(), 1, 4096, 3);
        let (read, follower) = lead(&shared);
        assert_eq!(read, 400);
        assert_eq!(follower.mine.len(), 200);
        // Never more buffers than the chunks in flight, and one being let go of.
        assert!(shared.lock().made <= 3 + 1, "{}", shared.lock().made);
        // Each follower in turn, oldest first: the leader took the follower that held back
        // the oldest chunk.
        let mut ring = shared.lock();
        ring.next = vec![5, 2, 1, 2];
        ring.taken = vec![false, false, true, false];
        ring.sealed = 5;
        ring.base = 5;
        assert!(ring.take().is_none(), "no chunk before the base is kept");
        ring.base = 0;
        ring.chunks = (0..5).map(|_| Arc::new(shared.read(vec![0; 1]))).collect();
        let (who, next, _) = ring.take().unwrap();
        assert_eq!((who, next), (1, 2));
        let (who, next, _) = ring.take().unwrap();
        assert_eq!((who, next), (3, 2));
        assert!(ring.take().is_none(), "every follower is taken");
    }

    #[test]
    fn a_follower_that_stops_early_holds_no_one_up() {
        let bytes = capture(false, false, &[1000; 100]);
        let (_dir, path) = written(&bytes);
        let shared = Shared::new(File::open(&path).unwrap(), 1, 512, 2);
        shared.leave(1);
        let (read, follower) = lead(&shared);
        assert_eq!((read, follower.mine.len()), (100, 0));
    }

    /// A sink that panics when it is handed its `at`th packet, leading or following.
    struct Panics(Deal, usize);

    impl PacketSink for Panics {
        fn packet(&mut self, p: &Packet<'_>) {
            self.0.packet(p);
        }
    }

    impl Lead for Panics {
        fn lead(&mut self, p: &Packet<'_>) -> Pass {
            assert!(self.0.mine.len() + self.0.passed.len() < self.1, "leader");
            self.0.lead(p)
        }
    }

    impl Follow for Panics {
        fn follow(&mut self, p: &Packet<'_>, mine: bool) {
            assert!(self.0.shown.len() < self.1, "follower");
            self.0.follow(p, mine);
        }
    }

    #[test]
    fn a_panic_on_either_side_is_raised_and_no_one_waits_forever() {
        let bytes = capture(false, false, &[200; 500]);
        let (_dir, path) = written(&bytes);
        for threads in 1..=3 {
            for (lead_at, follow_at) in [(10, usize::MAX), (usize::MAX, 10)] {
                let sinks = vec![
                    Panics(Deal::new(3), lead_at),
                    Panics(Deal::new(3), follow_at),
                    Panics(Deal::new(3), usize::MAX),
                ];
                let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    read_shared_in(&path, sinks, threads, 1024, 2)
                }));
                assert!(read.is_err());
            }
        }
    }

    proptest! {
        #[test]
        fn any_cut_and_any_chunking_read_as_one_reader(
            ng in any::<bool>(),
            sizes in proptest::collection::vec(0usize..300, 1..20),
            cut in any::<proptest::sample::Index>(),
            walkers in 1usize..5,
            threads in 1usize..4,
            chunk in 1usize..200,
            in_flight in 1usize..4,
        ) {
            let full = capture(ng, false, &sizes);
            let cut = cut.index(full.len() + 1);
            same_as_alone_bytes(&full[..cut], walkers, threads, chunk, in_flight);
        }
    }
}
