//! Stage 1, capture: one regular capture file read once for several walkers at the same time.
//!
//! When one large file is read by several workers, each of which handles only some of its
//! packets (`analyze`'s shards), every worker still has to walk every record. Reading the file
//! once per worker made the kernel copy it once per worker: 0.3 s of system time per reader for
//! 1.6 GB, a fifth of one thread's time (bench/RESULTS.md, "One large file on both cores").
//! [`read_path_shared`] reads it once: the file is cut into chunks of [`CHUNK`] bytes, each
//! read with plain `read()` calls (never a memory map, see `file.rs`) by whichever walker needs
//! it first, into a buffer that every walker then walks in place ([`ChunkInput`], zero copy
//! but for a record that straddles two chunks). The walker ahead does the reading, so the cost
//! of the copy goes to the one with less work of its own. At most [`IN_FLIGHT`] chunks are
//! kept (the walker ahead waits for the last one to finish with the oldest), so memory stays
//! bounded, and the walkers stay close enough together that the trailing one finds the bytes
//! still in the shared cache. Each walker runs the same format reader over the same bytes, so
//! each finds the same packets and the same problems as one reader alone.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::file::{read_input, GZIP_MAGIC};
use super::input::{Input, InputError};
use super::{PacketSink, ProblemKind, ReadSummary};

/// The bytes of one chunk: large enough that the locking and the handing over cost nothing
/// next to walking it, small enough that [`IN_FLIGHT`] of them stay in the cache the cores
/// share.
const CHUNK: usize = 1 << 20;

/// Most chunks read and not yet walked by every walker: the memory of a shared read is at most
/// this many chunks (plus one per walker).
const IN_FLIGHT: usize = 8;

/// A chunk of the file, read.
struct Chunk {
    /// The bytes; only the first `len` were read.
    data: Vec<u8>,
    len: usize,
    /// The file ended (or a read failed) in this chunk: no chunk follows.
    last: bool,
    /// The read error that ended the file early, if one did.
    error: Option<InputError>,
}

/// What the walkers share, under one lock.
struct Ring {
    /// The chunks still needed by some walker, from the chunk numbered `base` on.
    chunks: VecDeque<Arc<Chunk>>,
    base: u64,
    /// A walker is reading the next chunk.
    reading: bool,
    /// The chunk each walker needs next (`u64::MAX` once it is done).
    next: Vec<u64>,
    /// Buffers of chunks every walker is done with, for the next chunks to be read into.
    spare: Vec<Vec<u8>>,
    /// Buffers allocated (the tests check the bound).
    #[cfg_attr(not(test), allow(dead_code))]
    made: usize,
}

/// A file being read once for several walkers.
struct Shared {
    file: File,
    /// Bytes per chunk ([`CHUNK`]) and most chunks kept ([`IN_FLIGHT`]): smaller in tests.
    chunk: usize,
    in_flight: usize,
    ring: Mutex<Ring>,
    /// Signalled when a chunk is added or dropped.
    changed: Condvar,
}

impl Shared {
    fn new(file: File, walkers: usize, chunk: usize, in_flight: usize) -> Self {
        Shared {
            file,
            chunk: chunk.max(1),
            in_flight: in_flight.max(1),
            ring: Mutex::new(Ring {
                chunks: VecDeque::new(),
                base: 0,
                reading: false,
                next: vec![0; walkers],
                spare: Vec::new(),
                made: 0,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A walker that panicked while holding the lock left the ring as it was between two
        // steps (every change is made whole under the lock), so the others carry on; the panic
        // itself is re-raised when its thread is joined.
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The chunk numbered `index` for `walker`, which is done with every chunk before it: read
    /// by this walker when it is the first to need it.
    fn chunk(&self, walker: usize, index: u64) -> Arc<Chunk> {
        let mut ring = self.lock();
        ring.release(walker, index);
        self.changed.notify_all();
        loop {
            let have = ring.base + ring.chunks.len() as u64;
            if index < have {
                let at = usize::try_from(index - ring.base).unwrap_or(usize::MAX);
                if let Some(chunk) = ring.chunks.get(at) {
                    return Arc::clone(chunk);
                }
            }
            if index == have && !ring.reading && ring.chunks.len() < self.in_flight {
                ring.reading = true;
                let buf = ring.spare.pop();
                ring.made += usize::from(buf.is_none());
                drop(ring);
                let chunk = Arc::new(self.read(buf));
                ring = self.lock();
                ring.reading = false;
                ring.chunks.push_back(Arc::clone(&chunk));
                self.changed.notify_all();
                return chunk;
            }
            ring = self.changed.wait(ring).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Reads the next chunk of the file into `buf` (or a new buffer), as
    /// [`super::input::ReaderInput`] does: until the chunk is full, the file ends or a read
    /// fails (then the bytes before the failure are kept).
    fn read(&self, buf: Option<Vec<u8>>) -> Chunk {
        let mut data = buf.unwrap_or_else(|| vec![0; self.chunk]);
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
        }
    }

    /// `walker` is done with the whole file.
    fn leave(&self, walker: usize) {
        let mut ring = self.lock();
        ring.release(walker, u64::MAX);
        self.changed.notify_all();
    }
}

impl Ring {
    /// `walker` needs no chunk before `index` any more: drops the chunks no walker needs,
    /// keeping their buffers.
    fn release(&mut self, walker: usize, index: u64) {
        if let Some(next) = self.next.get_mut(walker) {
            *next = index;
        }
        let oldest = self.next.iter().copied().min().unwrap_or(u64::MAX);
        while self.base < oldest {
            let Some(chunk) = self.chunks.pop_front() else {
                break;
            };
            self.base += 1;
            // Every walker has moved past it, but one may still be dropping its reference:
            // then the buffer is simply freed.
            if let Ok(chunk) = Arc::try_unwrap(chunk) {
                self.spare.push(chunk.data);
            }
        }
    }
}

/// One walker's view of a [`Shared`] file: the chunks in turn, as one stream of bytes.
struct ChunkInput<'a> {
    shared: &'a Shared,
    walker: usize,
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

impl<'a> ChunkInput<'a> {
    fn new(shared: &'a Shared, walker: usize) -> Self {
        ChunkInput {
            shared,
            walker,
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
        // Let go of the current chunk before asking for the next, so that its buffer can be
        // reused as soon as every walker is done with it.
        self.chunk = None;
        self.chunk = Some(self.shared.chunk(self.walker, self.next));
        self.next += 1;
        self.at = 0;
    }

    /// The error that ended the input, once the last chunk is reached.
    fn error(&self) -> Option<InputError> {
        self.chunk.as_ref().and_then(|c| c.error.clone())
    }
}

impl Input for ChunkInput<'_> {
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

impl ChunkInput<'_> {
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

impl Drop for ChunkInput<'_> {
    fn drop(&mut self) {
        // Done, or unwinding: the other walkers must not wait for this one.
        self.shared.leave(self.walker);
    }
}

/// Reads the regular, uncompressed capture file at `path` once for every sink of `sinks`, each
/// walking it on a thread of its own (the first on the calling thread), and hands every sink
/// every packet, as [`super::read_path`] would. Returns the sinks and what reading gave (the
/// same for every sink). A path that is not a regular file, a gzip-compressed file and a file
/// that cannot be opened are read (or fail) as [`super::read_path`] does, once for each sink.
/// With no sinks, the file is read once for none.
pub fn read_path_shared<S: PacketSink + Send>(path: &Path, sinks: Vec<S>) -> (Vec<S>, ReadSummary) {
    read_shared_in(path, sinks, CHUNK, IN_FLIGHT)
}

/// [`read_path_shared`] in chunks of `chunk` bytes, at most `in_flight` of them at a time.
pub(super) fn read_shared_in<S: PacketSink + Send>(
    path: &Path,
    mut sinks: Vec<S>,
    chunk: usize,
    in_flight: usize,
) -> (Vec<S>, ReadSummary) {
    if sinks.is_empty() {
        return (
            sinks,
            super::read_path(path, &mut |_: &super::Packet<'_>| {}),
        );
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
    let shared = Shared::new(file, sinks.len(), chunk, in_flight);
    let mut summaries: Vec<Option<ReadSummary>> = (0..sinks.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let mut rest = sinks.iter_mut().zip(summaries.iter_mut()).enumerate();
        let first = rest.next();
        for (walker, (sink, summary)) in rest {
            let shared = &shared;
            s.spawn(move || {
                let mut input = ChunkInput::new(shared, walker);
                *summary = Some(read_input(&mut input, sink, false));
            });
        }
        if let Some((walker, (sink, summary))) = first {
            let mut input = ChunkInput::new(&shared, walker);
            *summary = Some(read_input(&mut input, sink, false));
        }
    });
    // Every walker left its summary: one that panicked had its panic re-raised by the scope.
    let summary = summaries.into_iter().next().flatten();
    let mut summary = summary.unwrap_or_else(|| {
        super::file::failure(ProblemKind::Io, "cannot read: a reader stopped".to_string())
    });
    super::file::check_shrink(&shared.file, len, &mut summary);
    (sinks, summary)
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
    use super::super::{read_bytes, Packet};
    use super::*;
    use proptest::prelude::*;

    /// What a reader hands a sink, packet by packet.
    #[derive(Default)]
    pub(in super::super) struct Collect(
        pub(in super::super) Vec<(u64, u64, i64, u32, u32, Vec<u8>)>,
    );

    impl PacketSink for Collect {
        fn packet(&mut self, p: &Packet<'_>) {
            let d = p.data.to_vec();
            self.0
                .push((p.number, p.offset, p.ts_nanos, p.link_type, p.orig_len, d));
        }
    }

    /// `bytes` written to a file in a new temporary folder (kept as long as the path is used).
    fn written(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pcap");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    /// Walks `input` to its end, asking for `peek` bytes at a time and taking at most `most`
    /// of those it gets; the bytes walked.
    fn walk_to_end(input: &mut ChunkInput<'_>, peek: usize, most: usize) -> usize {
        let mut n = 0;
        loop {
            let b = input.peek(peek).unwrap();
            if b.is_empty() {
                return n;
            }
            let k = b.len().min(most);
            input.consume(k);
            n += k;
        }
    }

    /// Every walker of a shared read of `bytes` (in `chunk`-byte chunks, `in_flight` at most)
    /// gets what one reader of the same bytes in memory gets.
    fn same_as_alone(bytes: &[u8], walkers: usize, chunk: usize, in_flight: usize) {
        let (_dir, path) = written(bytes);
        let mut alone = Collect::default();
        let want = read_bytes(bytes, &mut alone);
        let sinks = (0..walkers).map(|_| Collect::default()).collect();
        let (sinks, got) = read_shared_in(&path, sinks, chunk, in_flight);
        assert_eq!(sinks.len(), walkers);
        for sink in sinks {
            assert!(
                sink.0 == alone.0,
                "{} of {} packets",
                sink.0.len(),
                alone.0.len()
            );
        }
        assert_eq!(got.problems, want.problems);
        assert_eq!(
            (got.format, got.packets, got.bytes, got.unreadable, got.gzip),
            (
                want.format,
                want.packets,
                want.bytes,
                want.unreadable,
                want.gzip
            )
        );
    }

    #[test]
    fn large_records_straddle_many_chunks() {
        let sizes = [5000, 1, 0, 70_000, 3, 65_535, 17];
        for ng in [false, true] {
            let bytes = capture(ng, false, &sizes);
            same_as_alone(&bytes, 2, 1000, 2);
            same_as_alone(&bytes, 3, 7, 1);
            same_as_alone(&bytes, 1, 4096, 4);
        }
        // Damaged: a record that claims too many bytes makes the reader scan ahead in steps
        // larger than a chunk.
        let mut bytes = capture(false, false, &[100; 50]);
        bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        same_as_alone(&bytes, 2, 333, 3);
        same_as_alone(&[], 2, 16, 2);
        same_as_alone(b"not a capture at all", 2, 4, 2);
    }

    #[test]
    fn chunks_in_flight_stay_bounded() {
        let bytes = capture(false, false, &[1000; 400]);
        let (_dir, path) = written(&bytes);
        let shared = Shared::new(File::open(&path).unwrap(), 2, 4096, 3);
        std::thread::scope(|s| {
            let ahead = s.spawn(|| walk_to_end(&mut ChunkInput::new(&shared, 0), 1, usize::MAX));
            // The walker ahead reads until the chunks in flight are as many as allowed, and
            // waits there for this one.
            std::thread::sleep(std::time::Duration::from_millis(200));
            assert!(!ahead.is_finished());
            assert_eq!(shared.lock().chunks.len(), 3);
            let n = walk_to_end(&mut ChunkInput::new(&shared, 1), 100, 100);
            assert_eq!(n, bytes.len());
            assert_eq!(ahead.join().unwrap(), bytes.len());
        });
        // Never more buffers than the chunks in flight and one per walker.
        assert!(shared.lock().made <= 3 + 2, "{}", shared.lock().made);
    }

    #[test]
    fn a_walker_that_stops_early_holds_no_one_up() {
        let bytes = capture(false, false, &[1000; 100]);
        let (_dir, path) = written(&bytes);
        let shared = Shared::new(File::open(&path).unwrap(), 2, 512, 2);
        drop(ChunkInput::new(&shared, 1));
        let n = walk_to_end(&mut ChunkInput::new(&shared, 0), 1, usize::MAX);
        assert_eq!(n, bytes.len());
    }

    proptest! {
        #[test]
        fn any_cut_and_any_chunking_read_as_one_reader(
            ng in any::<bool>(),
            sizes in proptest::collection::vec(0usize..300, 1..20),
            cut in any::<proptest::sample::Index>(),
            walkers in 1usize..4,
            chunk in 1usize..200,
            in_flight in 1usize..4,
        ) {
            let full = capture(ng, false, &sizes);
            let cut = cut.index(full.len() + 1);
            same_as_alone(&full[..cut], walkers, chunk, in_flight);
        }
    }
}
