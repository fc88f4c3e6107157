//! Stage 1, capture: the byte sources the file readers walk, and the problem log they fill.
//!
//! The pcap and pcapng readers are written once against [`Input`], a peek/consume window over
//! the input, and run over two sources: a whole slice in memory ([`SliceInput`], zero copy),
//! and any `Read` (a file, a pipe, stdin, a gzip stream) through a bounded buffer
//! ([`ReaderInput`]) that grows only to hold the record being read; `shared.rs` adds a third,
//! the chunks of a file read once for several walkers. Files are not
//! memory-mapped: a file truncated while mapped kills the reader with SIGBUS, and plain reads
//! cost little more (bench/RESULTS.md, "mmap or read()"). [`ProblemLog`] caps how many problems of one kind an
//! input can report. Nothing here knows a file format.

use std::io::{self, Read};

use super::{Problem, ProblemKind};

/// Why an [`Input`] could not give more bytes (beside the normal end of input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputError {
    /// `Io` for a read error, `Gzip` for a corrupt or cut gzip stream.
    pub kind: ProblemKind,
    /// What happened, for people.
    pub detail: String,
}

/// A forward-only window over an input.
pub(crate) trait Input {
    /// Returns the unconsumed bytes from the current position: at least `n` of them unless the
    /// input ends first (then all that is left). Never allocates beyond the bytes present.
    fn peek(&mut self, n: usize) -> Result<&[u8], InputError>;
    /// Moves the position `n` bytes forward; `n` must not exceed what the last `peek` returned.
    fn consume(&mut self, n: usize);
    /// Bytes consumed so far: the offset of the current position in the (decompressed) input.
    fn offset(&self) -> u64;
}

/// A whole input already in memory.
pub(crate) struct SliceInput<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceInput<'a> {
    /// Reads `data` from its first byte.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }
}

impl Input for SliceInput<'_> {
    #[inline(always)]
    fn peek(&mut self, _n: usize) -> Result<&[u8], InputError> {
        Ok(self.data.get(self.pos..).unwrap_or_default())
    }

    #[inline(always)]
    fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }

    #[inline(always)]
    fn offset(&self) -> u64 {
        self.pos as u64
    }
}

/// The buffer a [`ReaderInput`] starts with and reads by: small enough to stay in a core's
/// L2 cache between the copy from the page cache and the walk over the records.
const CHUNK: usize = 256 << 10;
/// [`CHUNK`], for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) const CHUNK_FOR_TESTS: usize = CHUNK;

/// Any `Read`, through a buffer of about [`CHUNK`] bytes that grows only when one record needs
/// more (and then only as far as the bytes that actually arrive).
pub(crate) struct ReaderInput<R> {
    reader: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    consumed: u64,
    eof: bool,
    error: Option<InputError>,
    error_kind: ProblemKind,
}

impl<R: Read> ReaderInput<R> {
    /// Reads from `reader`; read errors are reported with `error_kind` (`Io` or `Gzip`).
    pub(crate) fn new(reader: R, error_kind: ProblemKind) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            start: 0,
            end: 0,
            consumed: 0,
            eof: false,
            error: None,
            error_kind,
        }
    }

    /// Fills the buffer until it holds `n` unconsumed bytes or the input ends.
    fn fill(&mut self, n: usize) {
        if self.start > 0 && self.buf.len() - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < n && !self.eof {
            if self.end == self.buf.len() {
                // Grow by what is needed for this read, capped at one chunk per step, so an
                // absurd `n` only costs memory for bytes that really arrive.
                let want = (n - (self.end - self.start)).clamp(CHUNK / 16, CHUNK);
                self.buf
                    .resize(self.end + want.max(CHUNK.saturating_sub(self.end)), 0);
            }
            // `end < buf.len()` after the resize above, so the range is in bounds.
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Keep what arrived before the error: the readers use it first and meet
                    // the error only when they need more.
                    self.eof = true;
                    self.error = Some(InputError {
                        kind: self.error_kind,
                        detail: e.to_string(),
                    });
                }
            }
        }
    }
}

impl<R: Read> Input for ReaderInput<R> {
    #[inline]
    fn peek(&mut self, n: usize) -> Result<&[u8], InputError> {
        if self.end - self.start < n {
            return self.peek_slow(n);
        }
        Ok(self.buffered())
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }

    #[inline]
    fn offset(&self) -> u64 {
        self.consumed
    }
}

impl<R: Read> ReaderInput<R> {
    /// [`Input::peek`] when fewer than `n` bytes are buffered: reads more first.
    #[inline(never)]
    fn peek_slow(&mut self, n: usize) -> Result<&[u8], InputError> {
        self.fill(n);
        if let (true, Some(err)) = (self.end - self.start < n, &self.error) {
            return Err(err.clone());
        }
        Ok(self.buffered())
    }

    /// The bytes read and not yet consumed.
    #[inline(always)]
    fn buffered(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }
}

/// Most problems of one kind listed per input; the rest are counted in one closing problem.
pub(crate) const MAX_PROBLEMS_PER_KIND: u32 = 20;

/// The problems of one input, at most [`MAX_PROBLEMS_PER_KIND`] of each kind.
#[derive(Debug, Default)]
pub(crate) struct ProblemLog {
    problems: Vec<Problem>,
    counts: [u32; 16],
}

impl ProblemLog {
    /// Records a problem (or only counts it, past the cap for its kind).
    pub(crate) fn push(
        &mut self,
        kind: ProblemKind,
        packet: Option<u64>,
        offset: Option<u64>,
        detail: String,
    ) {
        let slot = kind as usize % 16;
        self.counts[slot] = self.counts[slot].saturating_add(1);
        if self.counts[slot] <= MAX_PROBLEMS_PER_KIND {
            self.problems.push(Problem {
                kind,
                packet,
                offset,
                detail,
            });
        }
    }

    /// Records a problem reported by an [`Input`].
    pub(crate) fn input_error(&mut self, err: InputError, packet: u64, offset: u64) {
        let what = match err.kind {
            ProblemKind::Gzip => "gzip stream is corrupt or cut short",
            _ => "read error",
        };
        let detail = format!(
            "{what} after {offset} decompressed bytes: {}",
            err.detail.to_lowercase()
        );
        self.push(err.kind, Some(packet), Some(offset), detail);
    }

    /// How many problems of `kind` were found (listed or not).
    pub(crate) fn count(&self, kind: ProblemKind) -> u32 {
        self.counts[kind as usize % 16]
    }

    /// The listed problems, followed by one per kind that went over the cap.
    pub(crate) fn finish(mut self) -> Vec<Problem> {
        let listed: Vec<ProblemKind> = self.problems.iter().map(|p| p.kind).collect();
        let mut seen = Vec::new();
        for kind in listed {
            if seen.contains(&kind) {
                continue;
            }
            seen.push(kind);
            let more = self.count(kind).saturating_sub(MAX_PROBLEMS_PER_KIND);
            if more > 0 {
                let name = kind.name();
                self.problems.push(Problem {
                    kind,
                    packet: None,
                    offset: None,
                    detail: format!("{more} more {name} problems not listed"),
                });
            }
        }
        self.problems
    }
}

/// What a format reader tells the caller beside the problems.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// The format, once its header was read.
    pub format: super::CaptureFormat,
    /// Packets handed to the sink.
    pub packets: u64,
    /// True when the file header could not be read, so nothing was.
    pub unreadable: bool,
}

/// Reads a little-endian or big-endian `u32` at `at` (None past the end).
#[inline(always)]
pub(crate) fn u32_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

/// Reads a `u16` like [`u32_at`].
#[inline(always)]
pub(crate) fn u16_at(bytes: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let raw: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

/// How far a reader scans past a bad record or block for the next good one.
pub(crate) const RESYNC_LIMIT: usize = 64 << 20;
/// How much it looks at per step of that scan.
pub(crate) const RESYNC_STEP: usize = 256 * 1024;

/// After a bad record or block at the current position, scans forward (past its first byte at
/// least) for the first offset `p` of a peeked window where `good(bytes, p, at_eof)` holds, in
/// steps of [`RESYNC_STEP`] with `extra` bytes of look-ahead, for at most [`RESYNC_LIMIT`]
/// bytes. Consumes up to that offset and returns `Some(true)`; `Some(false)` when none was
/// found (the scanned bytes are consumed); `None` after an input error, which is logged.
pub(crate) fn scan_forward<I: Input>(
    input: &mut I,
    log: &mut ProblemLog,
    number: u64,
    extra: usize,
    mut good: impl FnMut(&[u8], usize, bool) -> bool,
) -> Option<bool> {
    let window = RESYNC_STEP + extra;
    let mut scanned = 0usize;
    let mut skip = 1usize;
    while scanned < RESYNC_LIMIT {
        let bytes = match input.peek(window) {
            Ok(bytes) => bytes,
            Err(err) => {
                log.input_error(err, number, input.offset());
                return None;
            }
        };
        let at_eof = bytes.len() < window;
        let last = bytes.len().min(RESYNC_STEP);
        if let Some(p) = (skip..last).find(|&p| good(bytes, p, at_eof)) {
            input.consume(p);
            return Some(true);
        }
        let ends_here = at_eof && last == bytes.len();
        input.consume(last);
        if ends_here {
            break;
        }
        scanned += last;
        skip = 0;
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn reader_input_peeks_across_reads_and_stops_at_eof() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let mut input = ReaderInput::new(Trickle(&data, 7), ProblemKind::Io);
        assert_eq!(input.peek(10).unwrap()[..10], data[..10]);
        input.consume(10);
        assert_eq!(input.offset(), 10);
        let rest = input.peek(100_000).unwrap();
        assert_eq!(rest, &data[10..]);
        let n = rest.len();
        input.consume(n);
        assert!(input.peek(1).unwrap().is_empty());
        assert_eq!(input.offset(), 5000);
    }

    #[test]
    fn reader_input_does_not_allocate_for_absent_bytes() {
        let data = [1u8; 100];
        let mut input = ReaderInput::new(&data[..], ProblemKind::Io);
        assert_eq!(input.peek(usize::MAX / 2).unwrap().len(), 100);
        assert!(input.buf.len() <= 2 * CHUNK);
    }

    #[test]
    fn reader_input_reports_errors_with_its_kind() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        let mut input = ReaderInput::new(Broken, ProblemKind::Gzip);
        let err = input.peek(1).unwrap_err();
        assert_eq!(err.kind, ProblemKind::Gzip);
        assert_eq!(input.peek(1).unwrap_err(), err);
    }

    #[test]
    fn slice_input_consumes_within_bounds() {
        let data = [1u8, 2, 3];
        let mut input = SliceInput::new(&data);
        input.consume(2);
        assert_eq!(input.peek(5).unwrap(), &[3]);
        input.consume(9);
        assert!(input.peek(1).unwrap().is_empty());
        assert_eq!(input.offset(), 3);
    }

    #[test]
    fn problem_log_caps_each_kind_and_counts_the_rest() {
        let mut log = ProblemLog::default();
        for i in 0..25 {
            log.push(ProblemKind::CaplenOverSnaplen, Some(i), None, "x".into());
        }
        log.push(ProblemKind::TruncatedRecord, Some(26), None, "y".into());
        assert_eq!(log.count(ProblemKind::CaplenOverSnaplen), 25);
        let problems = log.finish();
        assert_eq!(problems.len(), 22);
        let last = problems.last().unwrap();
        assert_eq!(last.kind, ProblemKind::CaplenOverSnaplen);
        assert!(
            last.detail.starts_with("5 more caplen-over-snaplen"),
            "{}",
            last.detail
        );
    }
}
