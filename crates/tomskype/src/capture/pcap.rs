//! Stage 1, capture: the classic libpcap file format (`.pcap`).
//!
//! Reads the 24-byte file header (either byte order, microsecond or nanosecond magic, major
//! version 2 only, as libpcap) and then each 16-byte record header and its bytes, handing every
//! packet to the sink without copying it. A record cut short by the end of the input ends the
//! read with a `TruncatedRecord` problem; a record longer than the snaplen is read with a
//! `CaplenOverSnaplen` problem; a record length that cannot be right is a `BadRecord`, after
//! which the reader scans forward for the next plausible record header and goes on from there.
//! Detecting the format (magic, gzip) is `file.rs`'s work.

use super::input::{scan_forward, u32_at, Input, Outcome, ProblemLog};
use super::{CaptureFormat, Packet, PacketSink, ProblemKind};

/// Microsecond-resolution magic, as written by the host that made the file.
pub const MAGIC_US: u32 = 0xa1b2_c3d4;
/// Nanosecond-resolution magic.
pub const MAGIC_NS: u32 = 0xa1b2_3c4d;

/// Size of the file header.
pub(crate) const FILE_HEADER: usize = 24;
/// Size of a record header.
const RECORD_HEADER: usize = 16;
/// Records up to this size are believable whatever the snaplen says (libpcap's usual maximum).
const PLAUSIBLE_RECORD: u32 = 256 * 1024;
/// No record is believed beyond this size, whatever the snaplen says.
const MAX_RECORD: u32 = 16 << 20;
/// Neighbouring records' timestamps differ by at most this much, for the resync.
const RESYNC_MAX_GAP_SECS: i64 = 86_400;

/// True when `head` starts with a classic pcap magic, in either byte order.
pub fn is_pcap_magic(head: &[u8]) -> bool {
    [MAGIC_US, MAGIC_NS]
        .iter()
        .any(|m| u32_at(head, 0, false) == Some(*m) || u32_at(head, 0, true) == Some(*m))
}

/// What the file header says.
#[derive(Debug, Clone, Copy)]
struct Header {
    big_endian: bool,
    nanos: bool,
    snaplen: u32,
    link_type: u32,
    /// Longest record believed: the snaplen, within [`PLAUSIBLE_RECORD`]..=[`MAX_RECORD`].
    max_record: u32,
}

/// One record header, decoded.
#[derive(Debug, Clone, Copy)]
struct Record {
    secs: u32,
    frac: u32,
    incl_len: u32,
    orig_len: u32,
}

impl Header {
    #[inline(always)]
    fn record(&self, bytes: &[u8]) -> Option<Record> {
        // One length test for the four fields (then none of the reads below can fail).
        let head: &[u8; RECORD_HEADER] = bytes.first_chunk()?;
        let field = |at: usize| {
            let raw = [head[at], head[at + 1], head[at + 2], head[at + 3]];
            if self.big_endian {
                u32::from_be_bytes(raw)
            } else {
                u32::from_le_bytes(raw)
            }
        };
        Some(Record {
            secs: field(0),
            frac: field(4),
            incl_len: field(8),
            orig_len: field(12),
        })
    }

    #[inline(always)]
    fn ts_nanos(&self, rec: &Record) -> i64 {
        let frac = if self.nanos {
            i64::from(rec.frac)
        } else {
            i64::from(rec.frac) * 1000
        };
        i64::from(rec.secs) * 1_000_000_000 + frac
    }

    /// Whether `rec` looks like a real record header (used by the resync only).
    fn plausible(&self, rec: &Record, near_secs: Option<u32>) -> bool {
        let frac_max = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        rec.frac < frac_max
            && rec.incl_len <= self.max_record
            && rec.orig_len >= rec.incl_len
            && rec.orig_len <= MAX_RECORD
            && match near_secs {
                Some(near) => (i64::from(rec.secs) - i64::from(near)).abs() <= RESYNC_MAX_GAP_SECS,
                None => true,
            }
    }
}

/// Records in a row that must read as plausible, each starting where the one before ends and
/// within a day of it, for [`first_record_in`] to take an offset as a record's start: the
/// reader's resync asks for two, and in the payload of packets (other captures, tunnels) two
/// in a row were found by chance often enough to misread stretches of a sample.
const CHAIN: usize = 8;

/// The offset in `window`, a stretch from the middle of the classic pcap file whose first
/// bytes are `head`, of the first record that starts [`CHAIN`] plausible records in a row,
/// all inside `window`. For readers of a sample of a large file (`analyze`'s shard weighing),
/// which start each stretch afresh at a record instead of reading the stretches as one file
/// with seams. `None` when `head` is no pcap file header or no such record starts in `window`.
pub(crate) fn first_record_in(head: &[u8], window: &[u8]) -> Option<usize> {
    let mut out = Outcome {
        format: CaptureFormat::Pcap,
        packets: 0,
        unreadable: false,
    };
    let header = parse_header(head, &mut ProblemLog::default(), &mut out)?;
    (0..window.len()).find(|&start| {
        let (mut at, mut near) = (start, None);
        for _ in 0..CHAIN {
            let Some(rec) = window.get(at..).and_then(|b| header.record(b)) else {
                return false;
            };
            // Stricter than the resync: a packet has bytes, and time goes forward.
            let forward = near.is_none_or(|before| rec.secs >= before);
            if !header.plausible(&rec, near) || rec.incl_len == 0 || !forward {
                return false;
            }
            near = Some(rec.secs);
            at += RECORD_HEADER + rec.incl_len as usize;
        }
        at <= window.len()
    })
}

/// Reads a pcap file from its first byte, handing each packet to `sink`.
pub(crate) fn read<I: Input, S: PacketSink>(
    input: &mut I,
    sink: &mut S,
    log: &mut ProblemLog,
) -> Outcome {
    let mut out = Outcome {
        format: CaptureFormat::Pcap,
        packets: 0,
        unreadable: true,
    };
    let head = match input.peek(FILE_HEADER) {
        Ok(head) => head,
        Err(err) => {
            log.input_error(err, 1, 0);
            return out;
        }
    };
    let Some(header) = parse_header(head, log, &mut out) else {
        return out;
    };
    input.consume(FILE_HEADER);
    out.unreadable = false;
    read_records(input, sink, log, &header, &mut out);
    out
}

/// Decodes the file header, reporting why it cannot be used.
fn parse_header(head: &[u8], log: &mut ProblemLog, out: &mut Outcome) -> Option<Header> {
    let (big_endian, nanos) = match (u32_at(head, 0, false), u32_at(head, 0, true)) {
        (Some(MAGIC_US), _) => (false, false),
        (Some(MAGIC_NS), _) => (false, true),
        (_, Some(MAGIC_US)) => (true, false),
        (_, Some(MAGIC_NS)) => (true, true),
        _ => {
            let detail = "no pcap magic number".to_string();
            log.push(ProblemKind::NotACapture, None, Some(0), detail);
            return None;
        }
    };
    out.format = if nanos {
        CaptureFormat::PcapNs
    } else {
        CaptureFormat::Pcap
    };
    if head.len() < FILE_HEADER {
        let detail = format!(
            "pcap file header cut short: {} of {FILE_HEADER} bytes",
            head.len()
        );
        log.push(ProblemKind::TruncatedHeader, None, Some(0), detail);
        return None;
    }
    let major = super::input::u16_at(head, 4, big_endian)?;
    let minor = super::input::u16_at(head, 6, big_endian)?;
    if major != 2 {
        let detail = format!("pcap version {major}.{minor} is not supported (only 2.x)");
        log.push(ProblemKind::UnsupportedVersion, None, Some(4), detail);
        return None;
    }
    let snaplen = u32_at(head, 16, big_endian)?;
    // libpcap's LT_LINKTYPE: the low 16 bits are the link type; the upper bits carry the FCS
    // length and reserved flags, which libpcap masks off (it refuses non-zero reserved bits;
    // this reader only ignores them, as there is nothing in them it needs).
    let link_type = u32_at(head, 20, big_endian)? & 0xffff;
    let max_record = snaplen.clamp(PLAUSIBLE_RECORD, MAX_RECORD);
    Some(Header {
        big_endian,
        nanos,
        snaplen,
        link_type,
        max_record,
    })
}

/// The record loop: the hot path.
fn read_records<I: Input, S: PacketSink>(
    input: &mut I,
    sink: &mut S,
    log: &mut ProblemLog,
    header: &Header,
    out: &mut Outcome,
) {
    let mut last_secs: Option<u32> = None;
    loop {
        let number = out.packets + 1;
        let offset = input.offset();
        let rec = match input.peek(RECORD_HEADER) {
            Ok(bytes) => match header.record(bytes) {
                Some(rec) => rec,
                None if bytes.is_empty() => return,
                None => {
                    let detail = format!(
                        "input ends inside the header of packet {number}: {} of {RECORD_HEADER} bytes",
                        bytes.len()
                    );
                    log.push(
                        ProblemKind::TruncatedRecord,
                        Some(number),
                        Some(offset),
                        detail,
                    );
                    return;
                }
            },
            Err(err) => return log.input_error(err, number, offset),
        };
        if rec.incl_len > header.max_record {
            let detail = format!(
                "packet {number} claims {} captured bytes (at most {} are believable)",
                rec.incl_len, header.max_record
            );
            log.push(ProblemKind::BadRecord, Some(number), Some(offset), detail);
            if !resync(input, log, header, last_secs, number) {
                return;
            }
            continue;
        }
        let len = rec.incl_len as usize;
        let need = RECORD_HEADER + len;
        let bytes = match input.peek(need) {
            Ok(bytes) => bytes,
            Err(err) => return log.input_error(err, number, offset),
        };
        let Some(data) = bytes.get(RECORD_HEADER..need) else {
            let detail = format!(
                "input ends inside packet {number}: {} of {len} captured bytes present",
                bytes.len().saturating_sub(RECORD_HEADER)
            );
            log.push(
                ProblemKind::TruncatedRecord,
                Some(number),
                Some(offset),
                detail,
            );
            return;
        };
        if rec.incl_len > header.snaplen && header.snaplen != 0 {
            let detail = format!(
                "packet {number} has {} captured bytes, more than the snaplen {}",
                rec.incl_len, header.snaplen
            );
            log.push(
                ProblemKind::CaplenOverSnaplen,
                Some(number),
                Some(offset),
                detail,
            );
        }
        sink.packet(&Packet {
            number,
            offset,
            ts_nanos: header.ts_nanos(&rec),
            link_type: header.link_type,
            orig_len: rec.orig_len,
            data,
        });
        out.packets = number;
        last_secs = Some(rec.secs);
        input.consume(need);
    }
}

/// After a bad record header at the current position, scans forward for the next plausible
/// record and positions the input there. Returns false when the input ends (or the scan limit
/// is reached) without one; the skipped bytes are reported either way.
fn resync<I: Input>(
    input: &mut I,
    log: &mut ProblemLog,
    header: &Header,
    last_secs: Option<u32>,
    number: u64,
) -> bool {
    let start = input.offset();
    let extra = 2 * RECORD_HEADER + header.max_record as usize;
    let found = scan_forward(input, log, number, extra, |bytes, p, at_eof| {
        candidate(bytes, p, header, last_secs, at_eof)
    });
    let skipped = input.offset() - start;
    let detail = match found {
        None => return false,
        Some(true) => format!(
            "skipped {skipped} bytes after the bad header of packet {number} to the next plausible record"
        ),
        Some(false) => format!(
            "no plausible record found in the {skipped} bytes after the bad header of packet {number}"
        ),
    };
    log.push(ProblemKind::BadRecord, Some(number), Some(start), detail);
    found == Some(true)
}

/// Whether a record header at `p` in `bytes` is plausible, and so is the next one (or the input
/// ends exactly after it).
fn candidate(bytes: &[u8], p: usize, h: &Header, near: Option<u32>, at_eof: bool) -> bool {
    let Some(rec) = bytes.get(p..).and_then(|b| h.record(b)) else {
        return false;
    };
    if !h.plausible(&rec, near) {
        return false;
    }
    let next = p + RECORD_HEADER + rec.incl_len as usize;
    match bytes.get(next..).and_then(|b| h.record(b)) {
        Some(after) => h.plausible(&after, Some(rec.secs)),
        None => at_eof && next == bytes.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::SliceInput;
    use super::super::testcap::{pcap, Pkt};
    use super::*;

    type Got = Vec<(u64, i64, u32, u32, Vec<u8>)>;

    fn read_all(bytes: &[u8]) -> (Got, Outcome, Vec<super::super::Problem>) {
        let mut got = Vec::new();
        let mut log = ProblemLog::default();
        let mut sink = |p: &Packet<'_>| {
            got.push((
                p.number,
                p.ts_nanos,
                p.link_type,
                p.orig_len,
                p.data.to_vec(),
            ))
        };
        let out = read(&mut SliceInput::new(bytes), &mut sink, &mut log);
        (got, out, log.finish())
    }

    fn pkts() -> Vec<Pkt> {
        vec![
            Pkt::new(1_600_000_000, 123_456, vec![1, 2, 3]),
            Pkt::new(1_600_000_001, 999_999, vec![9; 60]),
            Pkt::new(1_600_000_002, 0, vec![]),
        ]
    }

    #[test]
    fn reads_both_byte_orders_and_resolutions() {
        for be in [false, true] {
            for ns in [false, true] {
                let bytes = pcap(be, ns, 65535, 1, &pkts());
                let (got, out, problems) = read_all(&bytes);
                assert!(problems.is_empty(), "{problems:?}");
                assert!(!out.unreadable);
                let want_fmt = if ns {
                    CaptureFormat::PcapNs
                } else {
                    CaptureFormat::Pcap
                };
                assert_eq!(out.format, want_fmt);
                assert_eq!(got.len(), 3);
                let scale = if ns { 1 } else { 1000 };
                assert_eq!(got[0].1, 1_600_000_000_000_000_000 + 123_456 * scale);
                assert_eq!(got[1].4, vec![9; 60]);
                assert_eq!(got[2].0, 3);
                assert_eq!(got[0].2, 1);
            }
        }
    }

    #[test]
    fn masks_upper_link_type_bits() {
        let mut bytes = pcap(false, false, 65535, 1, &pkts());
        bytes[20..24].copy_from_slice(&0x0030_0071u32.to_le_bytes());
        let (got, _, problems) = read_all(&bytes);
        assert!(problems.is_empty());
        assert_eq!(got[0].2, 113);
    }

    #[test]
    fn rejects_other_major_versions() {
        let mut bytes = pcap(false, false, 65535, 1, &pkts());
        bytes[4] = 1;
        let (got, out, problems) = read_all(&bytes);
        assert!(got.is_empty());
        assert!(out.unreadable);
        assert_eq!(problems[0].kind, ProblemKind::UnsupportedVersion);
        bytes[4] = 2;
        bytes[6] = 5; // 2.5 is fine for libpcap
        assert_eq!(read_all(&bytes).0.len(), 3);
    }

    #[test]
    fn truncated_file_header() {
        let bytes = pcap(false, false, 65535, 1, &[]);
        let (_, out, problems) = read_all(&bytes[..10]);
        assert!(out.unreadable);
        assert_eq!(problems[0].kind, ProblemKind::TruncatedHeader);
    }

    /// In a window cut anywhere from a capture whose packets carry pcap records (a capture of
    /// a capture being copied), the first record found is a real one. (A capture made to
    /// mislead it, of packets all alike, can: the offset only decides which stretch of a
    /// sample is weighed, never what is reported.)
    #[test]
    fn first_record_in_a_window_is_a_real_one() {
        // Each packet's data is a small pcap record of its own: one record in a row that a
        // two-record check can take for real.
        let inner = |i: u32| {
            // An Ethernet header, then the record carried.
            let mut data = vec![0x00, 0x1b, 0x21, 0x3a, 0x4c, 0x5d, 0x00, 0x0c, 0x29, 0x6e];
            data.extend_from_slice(&[0x7f, 0x80, 0x08, 0x00]);
            for v in [1000 + i, 0, 8, 8] {
                data.extend_from_slice(&v.to_le_bytes());
            }
            data.extend_from_slice(&[0x45; 8]);
            // Lengths vary, as a real capture's do.
            data.extend_from_slice(&vec![i as u8; 40 + (i as usize * 37) % 90]);
            data
        };
        let pkts: Vec<Pkt> = (0..200)
            .map(|i| Pkt::new(1000 + i, i * 7919 % 1_000_000, inner(i)))
            .collect();
        let bytes = pcap(false, false, 65535, 1, &pkts);
        let mut starts = vec![FILE_HEADER];
        for p in &pkts {
            let next = starts.last().unwrap() + RECORD_HEADER + p.data.len();
            starts.push(next);
        }
        for cut in (FILE_HEADER..bytes.len() - 2000).step_by(7) {
            let window = &bytes[cut..cut + 2000];
            let found = first_record_in(&bytes, window).map(|p| cut + p);
            let want = starts.iter().copied().find(|&s| s >= cut);
            assert_eq!(found, want, "cut at {cut}");
        }
        assert_eq!(first_record_in(b"not a capture at all....", &bytes), None);
    }

    #[test]
    fn record_cut_short_keeps_earlier_packets() {
        let bytes = pcap(true, false, 65535, 1, &pkts());
        // Cut inside packet 2's data, then inside packet 2's header, then one stray byte.
        for (cut, want) in [
            (24 + 19 + 16 + 10, 1),
            (24 + 19 + 5, 1),
            (24 + 19 + 16 + 60 + 1, 2),
        ] {
            let (got, out, problems) = read_all(&bytes[..cut]);
            assert_eq!(got.len(), want, "cut {cut}");
            assert_eq!(out.packets, want as u64);
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].kind, ProblemKind::TruncatedRecord);
            assert_eq!(problems[0].packet, Some(want as u64 + 1));
            assert_eq!(
                problems[0].offset,
                Some(if want == 1 { 43 } else { 43 + 76 })
            );
        }
    }

    #[test]
    fn caplen_over_snaplen_is_read_and_reported_up_to_the_cap() {
        let many: Vec<Pkt> = (0..30).map(|i| Pkt::new(100 + i, 0, vec![7; 80])).collect();
        let bytes = pcap(false, false, 64, 1, &many);
        let (got, _, problems) = read_all(&bytes);
        assert_eq!(got.len(), 30);
        assert!(got.iter().all(|g| g.4.len() == 80));
        assert_eq!(problems.len(), 21);
        assert!(problems
            .iter()
            .all(|p| p.kind == ProblemKind::CaplenOverSnaplen));
        assert!(problems[20].detail.contains("10 more"));
    }

    #[test]
    fn absurd_caplen_is_skipped_by_resync() {
        let list: Vec<Pkt> = (0..6)
            .map(|i| Pkt::new(1000 + i, 5, vec![i as u8; 100]))
            .collect();
        let mut bytes = pcap(false, false, 65535, 1, &list);
        // Packet 3's captured length becomes 4 GB.
        let third = 24 + 2 * 116;
        bytes[third + 8..third + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let (got, out, problems) = read_all(&bytes);
        let numbers: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5]);
        assert_eq!(got[2].4, vec![3; 100], "resync lands on the old packet 4");
        assert_eq!(out.packets, 5);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.kind == ProblemKind::BadRecord));
        assert_eq!(problems[0].offset, Some(third as u64));
        assert!(
            problems[1].detail.contains("skipped 116 bytes"),
            "{}",
            problems[1].detail
        );
    }

    #[test]
    fn absurd_caplen_in_the_last_record_stops() {
        let mut bytes = pcap(false, false, 65535, 1, &pkts());
        let third = 24 + 19 + 76;
        bytes[third + 8..third + 12].copy_from_slice(&0x1000_0000u32.to_le_bytes());
        let (got, _, problems) = read_all(&bytes);
        assert_eq!(got.len(), 2);
        assert_eq!(problems.len(), 2);
        assert!(problems[1].detail.starts_with("no plausible record"));
    }

    #[test]
    fn garbage_after_header_never_hangs() {
        let mut bytes = pcap(false, true, 0, 1, &[]);
        bytes.extend((0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let (_, out, _) = read_all(&bytes);
        assert!(!out.unreadable);
    }
}
