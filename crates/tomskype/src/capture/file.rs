//! Stage 1, capture: the entry points for capture files, pipes and in-memory captures.
//!
//! [`read_path`] opens an input (a file, or `-` for stdin), [`read_bytes`] takes one already in
//! memory; both tell pcap from pcapng (and gzip-compressed either) by the magic number, never
//! by the name, and hand the packets to a [`PacketSink`]. Files, gzip streams and pipes are all
//! read with plain `read()` calls through a bounded buffer, never whole and never through a
//! memory map (a file truncated while mapped kills the reader with SIGBUS); a file that shrinks
//! while it is read is reported up to the cut.
//! [`expand_inputs`] turns directories named on the command line into the files inside them.
//! Reading the formats themselves is `pcap.rs` and `pcapng.rs`'s work.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use flate2::bufread::MultiGzDecoder;

use super::input::{Input, Outcome, ProblemLog, ReaderInput, SliceInput};
use super::stream::{self, Source, TimedStream};
use super::{pcap, pcapng, CaptureFormat, PacketSink, ProblemKind, ReadSummary};

/// The first two bytes of every gzip member.
pub(super) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One input to read: a path, or standard input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputItem {
    /// Standard input (`-` on the command line).
    Stdin,
    /// A path, which may not exist or not be readable (reading it reports why).
    Path(PathBuf),
    /// A folder (or an entry of one) that could not be listed or inspected, with the reason:
    /// an input that cannot be read, never a silent loss.
    Unlistable {
        /// The folder or entry.
        path: PathBuf,
        /// Why, in lowercase words (`cannot list the folder: permission denied`).
        reason: String,
    },
}

impl InputItem {
    /// The path to hand to [`read_path`] (`-` for stdin).
    pub fn path(&self) -> &Path {
        match self {
            InputItem::Stdin => Path::new("-"),
            InputItem::Path(path) | InputItem::Unlistable { path, .. } => path,
        }
    }
}

impl std::fmt::Display for InputItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputItem::Stdin => f.write_str("<stdin>"),
            InputItem::Path(path) | InputItem::Unlistable { path, .. } => {
                write!(f, "{}", path.display())
            }
        }
    }
}

/// Expands the inputs named by the user: `-` is stdin, a directory becomes every regular file
/// under it (recursively, sorted by path; symbolic links to files count, links to directories
/// are not followed; FIFOs, sockets and devices inside folders are left alone), anything else
/// (even a path that does not exist) stays as it is, so the reader can report what is wrong
/// with it. A folder or entry that cannot be listed or inspected becomes
/// [`InputItem::Unlistable`] with the reason. The order of `paths` is kept.
pub fn expand_inputs(paths: &[PathBuf]) -> Vec<InputItem> {
    let mut items = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            items.push(InputItem::Stdin);
        } else if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found);
            found.sort_by(|a, b| a.path().cmp(b.path()));
            items.extend(found);
        } else {
            items.push(InputItem::Path(path.clone()));
        }
    }
    items
}

/// Collects the regular files under `dir`; a folder that cannot be listed, an entry that cannot
/// be inspected and a link that cannot be followed are kept as [`InputItem::Unlistable`].
fn walk(dir: &Path, found: &mut Vec<InputItem>) {
    let unlistable = |path: &Path, doing: &str, err: &io::Error| InputItem::Unlistable {
        path: path.to_path_buf(),
        reason: io_detail(doing, err),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => return found.push(unlistable(dir, "cannot list the folder", &err)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                // The listing broke off: what it did not give is lost, so say so once.
                found.push(unlistable(dir, "cannot list the whole folder", &err));
                break;
            }
        };
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk(&path, found),
            Ok(kind) if kind.is_file() => found.push(InputItem::Path(path)),
            Ok(kind) if kind.is_symlink() => match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => found.push(InputItem::Path(path)),
                Ok(_) => {}
                Err(err) => found.push(unlistable(&path, "cannot follow the link", &err)),
            },
            Ok(_) => {}
            Err(err) => found.push(unlistable(&path, "cannot inspect", &err)),
        }
    }
}

/// Reads a capture held in memory (pcap, pcapng, or either gzip-compressed).
pub fn read_bytes<S: PacketSink>(bytes: &[u8], sink: &mut S) -> ReadSummary {
    if bytes.starts_with(&GZIP_MAGIC) {
        return read_gzip(bytes, sink);
    }
    read_input(&mut SliceInput::new(bytes), sink, false)
}

/// How long [`read_path`] waits for a pipe, FIFO or device to give bytes.
pub const STREAM_WAIT: Duration = Duration::from_secs(30);

/// Reads a capture file, or stdin for `-`, waiting at most [`STREAM_WAIT`] for a pipe or FIFO
/// to deliver (see [`read_path_waiting`]).
pub fn read_path<S: PacketSink>(path: &Path, sink: &mut S) -> ReadSummary {
    read_path_waiting(path, STREAM_WAIT, sink)
}

/// Reads a capture file, or stdin for `-`. Never fails: an input that cannot be opened or read
/// gives a summary with an `Io` problem and `unreadable` set. Stdin and a path that is not a
/// regular file (a named pipe, `/dev/stdin`, `<(cmd)`) are opened and read once, as a stream,
/// on a thread of their own (`capture/stream.rs`): when one gives nothing (not even its end)
/// within `wait`, as a FIFO without a writer, it is reported unreadable; when it stalls for
/// `wait` after some bytes, what came is analysed and the stall is a problem. Either way the
/// call returns, so the other inputs still get their report.
pub fn read_path_waiting<S: PacketSink>(path: &Path, wait: Duration, sink: &mut S) -> ReadSummary {
    let source = if path.as_os_str() == "-" {
        Some(Source::Stdin)
    } else if stream::is_stream(path) {
        Some(Source::Path(path.to_owned()))
    } else {
        None
    };
    if let Some(source) = source {
        return match TimedStream::start(source, wait) {
            Ok(stream) => {
                let mut summary = read_stream(BufReader::with_capacity(64 << 10, stream), sink);
                if let Some(p) = summary.problems.first_mut() {
                    if p.kind == ProblemKind::NotACapture {
                        p.detail
                            .push_str("; Zeek logs are read from files, not from pipes");
                    }
                }
                summary
            }
            Err(err) => failure(
                ProblemKind::Io,
                io_detail("cannot start a thread to read", &err),
            ),
        };
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) => return failure(ProblemKind::Io, io_detail("cannot open", &err)),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(err) => return failure(ProblemKind::Io, io_detail("cannot inspect", &err)),
    };
    if meta.is_dir() {
        return failure(ProblemKind::Io, "cannot read: is a directory".to_string());
    }
    if meta.is_file() {
        return read_file(file, meta.len(), sink);
    }
    read_stream(BufReader::with_capacity(1 << 20, file), sink)
}

/// Reads a regular file of `len` bytes with plain `read()` calls into a bounded buffer. Not
/// through a memory map: a file truncated while mapped kills the process with SIGBUS when the
/// reader touches the lost pages (a `tcpdump -C` ring, logrotate's `copytruncate`), and
/// `read()` costs only about 3% more CPU (bench/RESULTS.md, "mmap or read()"). A file that
/// shrinks while it is read is reported up to the cut, with an `Io` problem at the offset
/// where it ended.
fn read_file<S: PacketSink>(mut file: File, len: u64, sink: &mut S) -> ReadSummary {
    let mut head = [0u8; 2];
    let mut have = 0;
    while have < head.len() {
        match file.read(&mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return failure(ProblemKind::Io, io_detail("cannot read", &err)),
        }
    }
    if let Err(err) = file.rewind() {
        return failure(ProblemKind::Io, io_detail("cannot rewind", &err));
    }
    let gzip = head[..have] == GZIP_MAGIC;
    let mut summary = if gzip {
        read_gzip(BufReader::with_capacity(1 << 20, &file), sink)
    } else {
        read_input(&mut ReaderInput::new(&file, ProblemKind::Io), sink, false)
    };
    check_shrink(&file, len, &mut summary);
    summary
}

/// Adds a problem to `summary` when `file`, `len` bytes long when reading began, is shorter now.
pub(super) fn check_shrink(file: &File, len: u64, summary: &mut ReadSummary) {
    if let Ok(now) = file.metadata().map(|m| m.len()) {
        if now < len {
            summary.problems.push(super::Problem {
                kind: ProblemKind::Io,
                packet: None,
                offset: Some(now),
                detail: format!(
                    "the file shrank from {len} to {now} bytes while it was read (truncated or \
                     rewritten): analysed what was read before the cut"
                ),
            });
        }
    }
}

/// Reads a stream (a pipe, stdin, a file that cannot be mapped), gunzipping it if it starts
/// with the gzip magic. Memory stays bounded by the largest record.
fn read_stream<R: BufRead, S: PacketSink>(mut reader: R, sink: &mut S) -> ReadSummary {
    // Look at the first two bytes without losing them, even from a pipe that gives one at a time.
    let mut head = [0u8; 2];
    let mut have = 0;
    while have < 2 {
        match reader.read(&mut head[have..]) {
            Ok(0) => break,
            Ok(n) => have += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return failure(ProblemKind::Io, io_detail("cannot read", &err)),
        }
    }
    let prefix = head.get(..have).unwrap_or_default();
    let whole = io::Cursor::new(prefix).chain(reader);
    if prefix == GZIP_MAGIC {
        read_gzip(whole, sink)
    } else {
        read_input(&mut ReaderInput::new(whole, ProblemKind::Io), sink, false)
    }
}

/// Reads a gzip-compressed capture as a stream.
fn read_gzip<R: BufRead, S: PacketSink>(compressed: R, sink: &mut S) -> ReadSummary {
    let count = Rc::new(std::cell::Cell::new(0u64));
    let counted = Counted {
        inner: compressed,
        count: Rc::clone(&count),
    };
    let gunzip = Gunzip {
        decoder: MultiGzDecoder::new(counted),
        count,
    };
    read_input(&mut ReaderInput::new(gunzip, ProblemKind::Gzip), sink, true)
}

/// Counts the compressed bytes the decoder consumes, to say where a corrupt stream went wrong.
struct Counted<R> {
    inner: R,
    count: Rc<std::cell::Cell<u64>>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.count.set(self.count.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// A gzip decoder whose errors say how far into the compressed bytes they happened.
struct Gunzip<R: BufRead> {
    decoder: MultiGzDecoder<Counted<R>>,
    count: Rc<std::cell::Cell<u64>>,
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(|err| {
            let what = match err.kind() {
                io::ErrorKind::UnexpectedEof => "stream cut short".to_string(),
                _ => err.to_string().to_lowercase(),
            };
            let at = self.count.get();
            io::Error::new(err.kind(), format!("{what} near compressed byte {at}"))
        })
    }
}

/// Detects the format at the start of `input` and reads it.
pub(super) fn read_input<I: Input, S: PacketSink>(
    input: &mut I,
    sink: &mut S,
    gzip: bool,
) -> ReadSummary {
    let mut log = ProblemLog::default();
    let mut summary = ReadSummary {
        format: CaptureFormat::Unknown,
        gzip,
        packets: 0,
        bytes: 0,
        problems: Vec::new(),
        unreadable: true,
    };
    let head = match input.peek(4) {
        Ok(head) => head,
        Err(err) => {
            log.input_error(err, 1, 0);
            summary.problems = log.finish();
            return summary;
        }
    };
    let outcome = if head.is_empty() {
        log.push(
            ProblemKind::Empty,
            None,
            None,
            "the input is empty".to_string(),
        );
        None
    } else if pcap::is_pcap_magic(head) {
        Some(pcap::read(input, sink, &mut log))
    } else if pcapng::is_pcapng_magic(head) {
        Some(pcapng::read(input, sink, &mut log))
    } else if head.len() < 4 && is_magic_prefix(head) {
        let detail = format!(
            "the input ends after {} bytes, inside the file header",
            head.len()
        );
        log.push(ProblemKind::TruncatedHeader, None, Some(0), detail);
        None
    } else {
        let what = if gzip { "decompressed input" } else { "input" };
        let detail = format!("the {what} is not a pcap or pcapng capture (unknown magic number)");
        log.push(ProblemKind::NotACapture, None, Some(0), detail);
        None
    };
    if let Some(Outcome {
        format,
        packets,
        unreadable,
    }) = outcome
    {
        summary.format = format;
        summary.packets = packets;
        summary.unreadable = unreadable;
    }
    summary.bytes = input.offset();
    summary.problems = log.finish();
    summary
}

/// Whether a short input is the start of a known magic number (a file cut inside its header).
fn is_magic_prefix(head: &[u8]) -> bool {
    let magics = [
        pcap::MAGIC_US.to_le_bytes(),
        pcap::MAGIC_US.to_be_bytes(),
        pcap::MAGIC_NS.to_le_bytes(),
        pcap::MAGIC_NS.to_be_bytes(),
        pcapng::SHB.to_le_bytes(),
    ];
    magics.iter().any(|m| m.starts_with(head))
}

/// A summary for an input that could not be read at all.
pub(super) fn failure(kind: ProblemKind, detail: String) -> ReadSummary {
    let mut log = ProblemLog::default();
    log.push(kind, None, None, detail);
    ReadSummary {
        format: CaptureFormat::Unknown,
        gzip: false,
        packets: 0,
        bytes: 0,
        problems: log.finish(),
        unreadable: true,
    }
}

/// Says what an I/O error means, in lowercase words.
pub(crate) fn io_detail(doing: &str, err: &io::Error) -> String {
    let what = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => err.to_string().to_lowercase(),
    };
    format!("{doing}: {what}")
}

/// Whether the file at `path` starts like a capture this module reads: a pcap or pcapng magic,
/// directly or inside gzip. Reads at most a few bytes (and one gzip block).
pub fn looks_like_capture(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    let mut raw = BufReader::new(file);
    if raw.read_exact(&mut head).is_err() {
        return false;
    }
    if head[..2] == GZIP_MAGIC {
        // The same descriptor, rewound (a second open could fail: too many open files).
        if raw.rewind().is_err() {
            return false;
        }
        let mut dec = MultiGzDecoder::new(raw);
        if dec.read_exact(&mut head).is_err() {
            return false;
        }
    }
    pcap::is_pcap_magic(&head) || pcapng::is_pcapng_magic(&head)
}

/// The length of the file at `path` when it is a regular file that starts with a pcap or
/// pcapng magic, uncompressed: one that several readers can each read from its start (a pipe
/// gives its bytes once, a gzip stream must be inflated whole by each). None otherwise.
pub fn plain_capture_len(path: &Path) -> Option<u64> {
    // `-` is standard input whatever the folder holds; and a FIFO must not be opened (that
    // waits for a writer), so the kind is asked of the path first.
    if path.as_os_str() == "-" || !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut head = [0u8; 4];
    file.read_exact(&mut head).ok()?;
    (pcap::is_pcap_magic(&head) || pcapng::is_pcapng_magic(&head)).then_some(meta.len())
}

#[cfg(test)]
mod tests {
    use super::super::testcap::{capture, gzip, pcap, Ng, Pkt};
    use super::super::{Packet, Problem};
    use super::*;
    use proptest::prelude::*;

    type Got = Vec<(u64, u64, i64, u32, Vec<u8>)>;

    fn collect(
        read: impl FnOnce(&mut dyn FnMut(&Packet<'_>)) -> ReadSummary,
    ) -> (Got, ReadSummary) {
        let mut got = Vec::new();
        let summary = read(&mut |p: &Packet<'_>| {
            got.push((p.number, p.offset, p.ts_nanos, p.link_type, p.data.to_vec()))
        });
        (got, summary)
    }

    fn from_bytes(bytes: &[u8]) -> (Got, ReadSummary) {
        collect(|sink| read_bytes(bytes, &mut |p: &Packet<'_>| sink(p)))
    }

    /// A reader that hands out the bytes in pieces of the given sizes (cycled), like a pipe.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        steps: Vec<usize>,
        turn: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let step = self
                .steps
                .get(self.turn % self.steps.len().max(1))
                .copied()
                .unwrap_or(1);
            self.turn += 1;
            let n = step.max(1).min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn from_stream(bytes: &[u8], steps: Vec<usize>) -> (Got, ReadSummary) {
        let reader = Trickle {
            data: bytes.to_vec(),
            pos: 0,
            steps,
            turn: 0,
        };
        collect(|sink| {
            read_stream(BufReader::with_capacity(64, reader), &mut |p: &Packet<
                '_,
            >| {
                sink(p)
            })
        })
    }

    fn kinds(problems: &[Problem]) -> Vec<ProblemKind> {
        problems.iter().map(|p| p.kind).collect()
    }

    fn sample_pcap(n: u32) -> Vec<u8> {
        let pkts: Vec<Pkt> = (0..n)
            .map(|i| {
                Pkt::new(
                    1_700_000_000 + i,
                    i * 7,
                    vec![i as u8; 40 + (i as usize * 37) % 1400],
                )
            })
            .collect();
        pcap(false, false, 65535, 1, &pkts)
    }

    #[test]
    fn empty_and_foreign_inputs() {
        let (_, s) = from_bytes(&[]);
        assert_eq!(kinds(&s.problems), vec![ProblemKind::Empty]);
        assert!(s.unreadable);
        let (_, s) = from_bytes(b"GET / HTTP/1.1\r\n");
        assert_eq!(kinds(&s.problems), vec![ProblemKind::NotACapture]);
        assert!(s.unreadable);
        assert_eq!(s.format, CaptureFormat::Unknown);
        let (_, s) = from_bytes(&[0xd4, 0xc3]);
        assert_eq!(kinds(&s.problems), vec![ProblemKind::TruncatedHeader]);
        let (_, s) = from_bytes(&gzip(b"plain text, not a capture"));
        assert_eq!(kinds(&s.problems), vec![ProblemKind::NotACapture]);
        assert!(s.gzip);
    }

    #[test]
    fn gzip_is_detected_by_magic_and_streamed() {
        let plain = sample_pcap(300);
        let (want, s0) = from_bytes(&plain);
        let (got, s) = from_bytes(&gzip(&plain));
        assert_eq!(got, want);
        assert!(s.gzip && !s0.gzip);
        assert_eq!(s.bytes, plain.len() as u64);
        assert!(s.problems.is_empty());
        // Two gzip members one after the other are one stream (as `cat a.gz b.gz` makes).
        let mut two = gzip(&plain[..1000]);
        two.extend(gzip(&plain[1000..]));
        assert_eq!(from_bytes(&two).0, want);
    }

    #[test]
    fn corrupt_or_cut_gzip_keeps_the_packets_before() {
        let plain = sample_pcap(3000);
        let (want, _) = from_bytes(&plain);
        let packed = gzip(&plain);
        let mut corrupt = packed.clone();
        let mid = corrupt.len() / 2;
        for b in &mut corrupt[mid..mid + 64] {
            *b ^= 0x5a;
        }
        for (bad, cut) in [(&corrupt[..], false), (&packed[..packed.len() / 2], true)] {
            let (got, s) = from_bytes(bad);
            assert!(!got.is_empty() && got.len() < want.len(), "{}", got.len());
            // Corrupt deflate data may decode to garbage before the error shows (the CRC comes
            // last), so only a cut stream must give exactly a prefix.
            let same = got.iter().zip(&want).take_while(|(g, w)| g == w).count();
            assert!(
                same > 100 && (!cut || same == got.len()),
                "{same} of {}",
                got.len()
            );
            let p = s.problems.last().unwrap();
            assert_eq!(p.kind, ProblemKind::Gzip, "{:?}", s.problems);
            assert!(p.detail.contains("compressed byte"), "{}", p.detail);
            assert!(p.detail.contains("decompressed bytes"), "{}", p.detail);
            if cut {
                assert_eq!(s.problems.len(), 1);
                assert_eq!(p.packet, Some(got.len() as u64 + 1));
            }
        }
    }

    #[test]
    fn streaming_gives_the_same_as_a_slice() {
        let mut ng = Ng::new();
        ng.shb(true, 1, 0)
            .idb(1, 0, &[])
            .epb(0, 5, &[1; 3000], 3000)
            .spb(&[2; 10], 10);
        for bytes in [sample_pcap(500), ng.bytes(), gzip(&sample_pcap(50))] {
            let (want, ws) = from_bytes(&bytes);
            let (got, gs) = from_stream(&bytes, vec![1, 3, 4096, 7]);
            assert_eq!(got, want);
            assert_eq!(gs.packets, ws.packets);
            assert_eq!(gs.format, ws.format);
            assert_eq!(gs.gzip, ws.gzip);
        }
    }

    #[test]
    fn read_path_maps_files_and_streams_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let plain = sample_pcap(100);
        let (want, _) = from_bytes(&plain);
        let a = dir.path().join("a.pcap");
        std::fs::write(&a, &plain).unwrap();
        let b = dir.path().join("b.bin");
        std::fs::write(&b, gzip(&plain)).unwrap();
        let (got, s) = collect(|sink| read_path(&a, &mut |p: &Packet<'_>| sink(p)));
        assert_eq!(got, want);
        assert!(!s.gzip && !s.unreadable);
        let (got, s) = collect(|sink| read_path(&b, &mut |p: &Packet<'_>| sink(p)));
        assert_eq!(got, want);
        assert!(s.gzip);
        let empty = dir.path().join("empty.pcap");
        std::fs::write(&empty, b"").unwrap();
        let (_, s) = collect(|sink| read_path(&empty, &mut |p: &Packet<'_>| sink(p)));
        assert_eq!(kinds(&s.problems), vec![ProblemKind::Empty]);
    }

    #[test]
    fn file_cut_while_read_is_reported_up_to_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring.pcap");
        let bytes = sample_pcap(6000);
        assert!(bytes.len() > 3 * super::super::input::CHUNK_FOR_TESTS);
        std::fs::write(&path, &bytes).unwrap();
        let (all, _) = from_bytes(&bytes);
        let cut = bytes.len() as u64 / 2;
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        // The sink truncates the file under the reader at its tenth packet, as a `tcpdump -C`
        // ring or logrotate's copytruncate would.
        let (got, s) = collect(|sink| {
            read_path(&path, &mut |p: &Packet<'_>| {
                if p.number == 10 {
                    file.set_len(cut).unwrap();
                }
                sink(p)
            })
        });
        assert!(got.len() > 10 && got.len() < all.len(), "{}", got.len());
        assert_eq!(got[..], all[..got.len()]);
        assert!(got.iter().all(|p| p.1 < cut));
        let shrank = s
            .problems
            .iter()
            .find(|p| p.detail.contains("shrank"))
            .unwrap();
        assert_eq!(shrank.kind, ProblemKind::Io);
        assert_eq!(shrank.offset, Some(cut));
        assert!(!s.unreadable);
    }

    #[test]
    fn read_path_reports_open_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pcap");
        let s = read_path(&missing, &mut |_: &Packet<'_>| {});
        assert!(s.unreadable);
        assert_eq!(kinds(&s.problems), vec![ProblemKind::Io]);
        assert!(s.problems[0].detail.contains("no such file or directory"));
        let s = read_path(dir.path(), &mut |_: &Packet<'_>| {});
        assert!(s.unreadable);
        assert!(
            s.problems[0].detail.contains("is a directory"),
            "{}",
            s.problems[0].detail
        );
    }

    #[test]
    fn expand_inputs_walks_directories_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        for name in ["b.pcap", ".hidden", "sub/a.pcap", "sub/deeper/z", "a.txt"] {
            std::fs::write(root.join(name), b"x").unwrap();
        }
        let missing = root.join("nope");
        let items = expand_inputs(&[PathBuf::from("-"), root.to_path_buf(), missing.clone()]);
        let mut want = vec![InputItem::Stdin];
        for name in [".hidden", "a.txt", "b.pcap", "sub/a.pcap", "sub/deeper/z"] {
            want.push(InputItem::Path(root.join(name)));
        }
        want.push(InputItem::Path(missing));
        assert_eq!(items, want);
        assert_eq!(items[0].path(), Path::new("-"));
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic_and_stream_like_slices(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            magic in 0usize..4,
            steps in proptest::collection::vec(1usize..50, 1..4),
        ) {
            let mut bytes = bytes;
            let heads: [&[u8]; 4] = [&[], &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0], &[0x0a, 0x0d, 0x0d, 0x0a], &[0x1f, 0x8b]];
            let mut input = heads[magic].to_vec();
            input.append(&mut bytes);
            let (got, s) = from_bytes(&input);
            let (sgot, ss) = from_stream(&input, steps);
            prop_assert_eq!(got, sgot);
            prop_assert_eq!(s.problems, ss.problems);
        }

        #[test]
        fn truncation_keeps_a_prefix(
            ng in any::<bool>(),
            be in any::<bool>(),
            sizes in proptest::collection::vec(0usize..200, 1..12),
            cut in any::<proptest::sample::Index>(),
        ) {
            let full = capture(ng, be, &sizes);
            let (all, s) = from_bytes(&full);
            prop_assert!(s.problems.is_empty(), "{:?}", s.problems);
            prop_assert_eq!(all.len(), sizes.len());
            let cut = cut.index(full.len() + 1);
            let (got, _) = from_bytes(&full[..cut]);
            prop_assert_eq!(&got[..], &all[..got.len()]);
            // Every packet whose record ends before the cut is there, none that starts after it.
            let ends: Vec<u64> = all.iter().skip(1).map(|p| p.1).chain([full.len() as u64]).collect();
            let complete = ends.iter().filter(|&&e| e <= cut as u64).count();
            let started = all.iter().filter(|p| p.1 < cut as u64).count();
            prop_assert!(got.len() >= complete && got.len() <= started);
            let gz = gzip(&full);
            let (zgot, _) = from_bytes(&gz[..cut.min(gz.len())]);
            prop_assert_eq!(&zgot[..], &all[..zgot.len()]);
        }
    }
}
