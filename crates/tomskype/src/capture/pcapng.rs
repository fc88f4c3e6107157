//! Stage 1, capture: the pcapng file format.
//!
//! Walks the blocks of every section (each Section Header Block sets its own byte order and
//! starts a fresh list of interfaces), keeps each interface's link type, snaplen and timestamp
//! resolution and offset (`if_tsresol`, `if_tsoffset`), and hands the packets of Enhanced,
//! Simple and obsolete Packet Blocks to the sink without copying them. Every other block type
//! (name resolution, statistics, decryption secrets, custom) is skipped by its length. After a
//! block whose length cannot be right (4 GB, beyond the end of the file, a trailer that
//! disagrees), the reader reports it with its offset and scans forward for the next valid
//! block: a sound Section Header Block, or a block of a known type of the current section whose
//! length, trailer and interface hold and which is followed by another such block (or the end
//! of the input), so every valid packet after the damage is kept. Options are only read where a value is needed; an option that
//! overruns its block is reported and the rest of that block's options ignored.

use super::input::{scan_forward, u16_at, u32_at, Input, Outcome, ProblemLog};
use super::{CaptureFormat, Packet, PacketSink, ProblemKind};

/// Block type of a Section Header Block (the same bytes in either byte order).
pub const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
/// Name resolution block.
const NRB: u32 = 4;
/// Interface statistics block.
const ISB: u32 = 5;
/// The byte-order magic of a Section Header Block, as written by its writer.
const BOM: u32 = 0x1a2b_3c4d;
/// Longest block believed (libpcap's limit too).
const MAX_BLOCK: usize = 16 << 20;
/// Longest Section Header Block the resync recognises.
const MAX_SHB_RESYNC: usize = 4096;
/// Longest block of the current section the resync recognises (libpcap's usual snaplen).
const MAX_BLOCK_RESYNC: usize = 256 * 1024;
/// Block types the resync accepts inside a section: interface description, packet, simple
/// packet, name resolution, interface statistics, enhanced packet, systemd journal export,
/// decryption secrets.
const RESYNC_KINDS: [u32; 8] = [IDB, PB, SPB, NRB, ISB, EPB, 9, 0x0a];

/// True when `head` starts with a pcapng Section Header Block type.
pub fn is_pcapng_magic(head: &[u8]) -> bool {
    u32_at(head, 0, false) == Some(SHB)
}

/// How raw timestamps of an interface turn into nanoseconds.
#[derive(Debug, Clone, Copy)]
enum Scale {
    /// Units of 10^-k seconds with k <= 9: multiply.
    Mul(i128),
    /// Units of 10^-k seconds with k > 9: divide.
    Div(i128),
    /// Units of 2^-k seconds.
    Pow2(u32),
}

/// One interface of the current section.
#[derive(Debug, Clone, Copy)]
struct Iface {
    link_type: u32,
    snaplen: u32,
    scale: Scale,
    offset_nanos: i64,
}

impl Iface {
    #[inline(always)]
    fn ts_nanos(&self, raw: u64) -> i64 {
        let raw = i128::from(raw);
        let nanos = match self.scale {
            Scale::Mul(m) => raw * m,
            Scale::Div(d) => raw / d,
            Scale::Pow2(k) => (raw * 1_000_000_000) >> k,
        };
        let nanos = nanos.saturating_add(i128::from(self.offset_nanos));
        i64::try_from(nanos).unwrap_or(i64::MAX)
    }
}

/// The section being read.
#[derive(Debug, Default)]
struct Section {
    big_endian: bool,
    ifaces: Vec<Iface>,
}

/// Reads a pcapng file from its first byte, handing each packet to `sink`.
pub(crate) fn read<I: Input, S: PacketSink>(
    input: &mut I,
    sink: &mut S,
    log: &mut ProblemLog,
) -> Outcome {
    let mut out = Outcome {
        format: CaptureFormat::Pcapng,
        packets: 0,
        unreadable: true,
    };
    // None while no section is usable (before the first one, or in one of an unknown version).
    let mut section: Option<Section> = None;
    let mut last_ts = 0i64;
    loop {
        let number = out.packets + 1;
        let offset = input.offset();
        let head = match input.peek(12) {
            Ok(head) => head,
            Err(err) => return with_error(log, err, number, offset, out),
        };
        if head.is_empty() {
            return out;
        }
        let (kind, big_endian, len) = match header(head, section.as_ref()) {
            Header::Block(kind, big_endian, len) => (kind, big_endian, len),
            Header::Truncated(kind) => {
                truncated(log, head.len(), kind, number, offset, out.unreadable);
                return out;
            }
            Header::Bad(detail) => {
                log.push(ProblemKind::BadRecord, Some(number), Some(offset), detail);
                if resync(input, log, number, offset, section.as_ref()) {
                    continue;
                }
                return out;
            }
        };
        let block = match input.peek(len) {
            Ok(block) => block,
            Err(err) => return with_error(log, err, number, offset, out),
        };
        let body = match body(block, kind, big_endian, len, section.as_ref()) {
            Ok(body) => body,
            Err(None) => {
                truncated(log, block.len(), kind, number, offset, out.unreadable);
                return out;
            }
            Err(Some(detail)) => {
                log.push(ProblemKind::BadRecord, Some(number), Some(offset), detail);
                if resync(input, log, number, offset, section.as_ref()) {
                    continue;
                }
                return out;
            }
        };
        let got = match (kind, section.as_mut()) {
            (SHB, _) => {
                match section_header(body, big_endian, log, number, offset) {
                    Some(s) => {
                        section = Some(s);
                        out.unreadable = false;
                    }
                    None if out.unreadable => return out,
                    None => section = None,
                }
                None
            }
            (EPB | PB, Some(s)) => Some(packet_block(kind, body, s, len, number)),
            (SPB, Some(s)) => Some(simple_packet_block(body, s)),
            (IDB, Some(s)) => {
                let iface = interface(body, s.big_endian, log, number, offset);
                s.ifaces.push(iface);
                None
            }
            _ => None,
        };
        match got {
            Some(Ok(p)) => {
                if let Some(detail) = p.warning {
                    log.push(
                        ProblemKind::CaplenOverSnaplen,
                        Some(number),
                        Some(offset),
                        detail,
                    );
                }
                // A simple packet block has no timestamp: it takes the previous packet's.
                if let Some(raw) = p.ts_raw {
                    last_ts = p.iface.ts_nanos(raw);
                }
                sink.packet(&Packet {
                    number,
                    offset,
                    ts_nanos: last_ts,
                    link_type: p.iface.link_type,
                    orig_len: p.orig_len,
                    data: p.data,
                });
                out.packets = number;
            }
            Some(Err((kind, detail))) => log.push(kind, Some(number), Some(offset), detail),
            None => {}
        }
        input.consume(len);
    }
}

/// How a block's first 12 bytes read.
enum Header {
    /// Its type, byte order (big-endian when true) and length, plausible.
    Block(u32, bool, usize),
    /// Cut short by the end of the input (the type read so far).
    Truncated(u32),
    /// Impossible: what is wrong (the reader resynchronises).
    Bad(String),
}

/// Reads a block's type, byte order and length from `head` (up to its first 12 bytes).
#[inline(always)]
fn header(head: &[u8], section: Option<&Section>) -> Header {
    // The section header's type reads the same in both byte orders; other blocks' types are in
    // the order of their section.
    let mut kind = u32_at(head, 0, false).unwrap_or(0);
    let big_endian = if kind == SHB {
        match u32_at(head, 8, false) {
            Some(BOM) => false,
            Some(bom) if bom == BOM.swap_bytes() => true,
            Some(_) => {
                return Header::Bad("section header block with a bad byte-order magic".to_string())
            }
            None => return Header::Truncated(kind),
        }
    } else {
        let big_endian = section.is_some_and(|s| s.big_endian);
        if big_endian {
            kind = kind.swap_bytes();
        }
        big_endian
    };
    let Some(len) = u32_at(head, 4, big_endian) else {
        return Header::Truncated(kind);
    };
    let len = len as usize;
    if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
        return Header::Bad(format!(
            "block of type {kind:#x} has an impossible length {len}"
        ));
    }
    Header::Block(kind, big_endian, len)
}

/// The body of a block of `len` bytes (between its header and trailer): Err(None) when the
/// input ends inside it, Err(Some(what is wrong)) when its length or trailer is (the reader
/// resynchronises).
#[inline(always)]
fn body<'b>(
    block: &'b [u8],
    kind: u32,
    big_endian: bool,
    len: usize,
    section: Option<&Section>,
) -> Result<&'b [u8], Option<String>> {
    let (Some(body), Some(trailer)) = (block.get(8..len - 4), u32_at(block, len - 4, big_endian))
    else {
        // Past the end: a file cut short, unless a sound section follows inside the block,
        // which makes the length the thing that is wrong.
        if (1..block.len()).any(|p| valid_block_at(block, p, section, true)) {
            return Err(Some(format!(
                "block of type {kind:#x} claims {len} bytes, beyond the end of the input and past valid blocks"
            )));
        }
        return Err(None);
    };
    if trailer as usize != len {
        return Err(Some(format!(
            "block of type {kind:#x} has length {len} but its trailer says {trailer}"
        )));
    }
    Ok(body)
}

/// One packet read from a packet block.
struct PacketFields<'b> {
    /// Its interface.
    iface: Iface,
    /// Its raw timestamp; none in a simple packet block.
    ts_raw: Option<u64>,
    orig_len: u32,
    data: &'b [u8],
    /// A problem that does not stop the packet being read (captured beyond the snaplen).
    warning: Option<String>,
}

/// The packet of an enhanced (or obsolete) packet block, or the problem that skips it.
#[inline(always)]
fn packet_block<'b>(
    kind: u32,
    body: &'b [u8],
    s: &Section,
    len: usize,
    number: u64,
) -> Result<PacketFields<'b>, (ProblemKind, String)> {
    let be = s.big_endian;
    let fields = if kind == EPB {
        u32_at(body, 0, be)
            .zip(u32_at(body, 4, be))
            .zip(u32_at(body, 8, be))
    } else {
        u16_at(body, 0, be)
            .map(u32::from)
            .zip(u32_at(body, 4, be))
            .zip(u32_at(body, 8, be))
    };
    let caplen = u32_at(body, 12, be);
    let orig_len = u32_at(body, 16, be);
    let (Some(((id, hi), lo)), Some(caplen), Some(orig_len)) = (fields, caplen, orig_len) else {
        let detail = format!("packet block of {len} bytes is too short for its fields");
        return Err((ProblemKind::BadRecord, detail));
    };
    let Some(&iface) = s.ifaces.get(id as usize) else {
        let detail = format!("packet names interface {id}, which was never described");
        return Err((ProblemKind::UnknownInterface, detail));
    };
    let Some(data) = body.get(20..20 + caplen as usize) else {
        let detail = format!("captured length {caplen} overruns the packet block");
        return Err((ProblemKind::BadRecord, detail));
    };
    let warning = (caplen > iface.snaplen && iface.snaplen != 0).then(|| {
        format!(
            "packet {number} has {caplen} captured bytes, more than the snaplen {}",
            iface.snaplen
        )
    });
    Ok(PacketFields {
        iface,
        ts_raw: Some((u64::from(hi) << 32) | u64::from(lo)),
        orig_len,
        data,
        warning,
    })
}

/// The packet of a simple packet block (first interface, no timestamp), or the problem that
/// skips it.
#[inline(always)]
fn simple_packet_block<'b>(
    body: &'b [u8],
    s: &Section,
) -> Result<PacketFields<'b>, (ProblemKind, String)> {
    let Some(&iface) = s.ifaces.first() else {
        let detail = "simple packet block before any interface".to_string();
        return Err((ProblemKind::UnknownInterface, detail));
    };
    let orig_len = u32_at(body, 0, s.big_endian).unwrap_or(0);
    let mut caplen = (orig_len as usize).min(body.len().saturating_sub(4));
    if iface.snaplen != 0 {
        caplen = caplen.min(iface.snaplen as usize);
    }
    Ok(PacketFields {
        iface,
        ts_raw: None,
        orig_len,
        data: body.get(4..4 + caplen).unwrap_or_default(),
        warning: None,
    })
}

/// Records an input error and hands back the outcome so far.
fn with_error(
    log: &mut ProblemLog,
    err: super::input::InputError,
    number: u64,
    offset: u64,
    out: Outcome,
) -> Outcome {
    log.input_error(err, number, offset);
    out
}

/// Reports a block cut short by the end of the input (the file header, if nothing was read).
fn truncated(log: &mut ProblemLog, have: usize, kind: u32, number: u64, offset: u64, first: bool) {
    let (problem, what) = if first {
        (
            ProblemKind::TruncatedHeader,
            "section header block".to_string(),
        )
    } else {
        (
            ProblemKind::TruncatedRecord,
            format!("block of type {kind:#x}"),
        )
    };
    let detail = format!("input ends inside a {what} after {have} bytes");
    log.push(problem, Some(number), Some(offset), detail);
}

/// Checks a Section Header Block's body (after type and length); None for a version this
/// reader does not know (reported).
fn section_header(
    body: &[u8],
    big_endian: bool,
    log: &mut ProblemLog,
    number: u64,
    offset: u64,
) -> Option<Section> {
    let major = u16_at(body, 4, big_endian).unwrap_or(0);
    let minor = u16_at(body, 6, big_endian).unwrap_or(0);
    // libpcap reads 1.0 and 1.2 (1.2 was written by some tools by mistake), nothing else.
    if !(major == 1 && (minor == 0 || minor == 2)) {
        let detail = format!("pcapng version {major}.{minor} is not supported (only 1.0)");
        log.push(
            ProblemKind::UnsupportedVersion,
            Some(number),
            Some(offset),
            detail,
        );
        return None;
    }
    options(
        body.get(16..).unwrap_or_default(),
        big_endian,
        log,
        number,
        offset,
        |_, _| (),
    );
    Some(Section {
        big_endian,
        ifaces: Vec::new(),
    })
}

/// Decodes an Interface Description Block's body.
fn interface(body: &[u8], be: bool, log: &mut ProblemLog, number: u64, offset: u64) -> Iface {
    let mut iface = Iface {
        link_type: u16_at(body, 0, be).map_or(0, u32::from),
        snaplen: u32_at(body, 4, be).unwrap_or(0),
        scale: Scale::Mul(1000),
        offset_nanos: 0,
    };
    let mut bad_resol = None;
    options(
        body.get(8..).unwrap_or_default(),
        be,
        log,
        number,
        offset,
        |code, value| match (code, value) {
            (9, [resol]) => {
                let exp = u32::from(resol & 0x7f);
                iface.scale = match (resol & 0x80 != 0, exp) {
                    (true, _) => Scale::Pow2(exp),
                    (false, 0..=9) => Scale::Mul(10i128.pow(9 - exp)),
                    (false, 10..=38) => Scale::Div(10i128.pow(exp - 9)),
                    (false, _) => {
                        bad_resol = Some(*resol);
                        Scale::Mul(1000)
                    }
                };
            }
            (14, [a, b, c, d, e, f, g, h]) => {
                let raw = [*a, *b, *c, *d, *e, *f, *g, *h];
                let secs = if be {
                    i64::from_be_bytes(raw)
                } else {
                    i64::from_le_bytes(raw)
                };
                iface.offset_nanos = secs.saturating_mul(1_000_000_000);
            }
            _ => {}
        },
    );
    if let Some(resol) = bad_resol {
        let detail = format!(
            "interface timestamp resolution {resol:#x} is out of range, using microseconds"
        );
        log.push(ProblemKind::BadRecord, Some(number), Some(offset), detail);
    }
    iface
}

/// Walks a block's options, calling `each(code, value)`; reports an option that overruns.
fn options(
    mut bytes: &[u8],
    be: bool,
    log: &mut ProblemLog,
    number: u64,
    offset: u64,
    mut each: impl FnMut(u16, &[u8]),
) {
    while let (Some(code), Some(len)) = (u16_at(bytes, 0, be), u16_at(bytes, 2, be)) {
        if code == 0 {
            return;
        }
        let len = usize::from(len);
        let Some(value) = bytes.get(4..4 + len) else {
            let detail = format!("option {code} of length {len} overruns its block");
            log.push(ProblemKind::BadRecord, Some(number), Some(offset), detail);
            return;
        };
        each(code, value);
        bytes = bytes.get(4 + len.div_ceil(4) * 4..).unwrap_or_default();
    }
}

/// After a bad block at `start`, scans forward for the next valid block ([`valid_block_at`])
/// and positions the input there. Returns false when there is none.
fn resync<I: Input>(
    input: &mut I,
    log: &mut ProblemLog,
    number: u64,
    start: u64,
    section: Option<&Section>,
) -> bool {
    let extra = 2 * MAX_BLOCK_RESYNC.max(MAX_SHB_RESYNC) + 12;
    let found = scan_forward(input, log, number, extra, |bytes, p, at_eof| {
        valid_block_at(bytes, p, section, at_eof)
    });
    let skipped = input.offset() - start;
    let detail = match found {
        None => return false,
        Some(true) => {
            format!("skipped {skipped} bytes after a bad block to the next valid block")
        }
        Some(false) => format!(
            "no valid block found in the {skipped} bytes after a bad block; the rest is not read"
        ),
    };
    log.push(ProblemKind::BadRecord, Some(number), Some(start), detail);
    found == Some(true)
}

/// Whether a block that the reader can go on from starts at `p` in `bytes`: a sound Section
/// Header Block, or (inside a section) a sound block of the section that is followed by
/// another sound block, or by the end of the input (`at_eof`).
fn valid_block_at(bytes: &[u8], p: usize, section: Option<&Section>, at_eof: bool) -> bool {
    let Some(at) = bytes.get(p..) else {
        return false;
    };
    if sound_shb(at) {
        return true;
    }
    let Some(s) = section else {
        return false;
    };
    let Some(len) = sound_block(at, s) else {
        return false;
    };
    match at.get(len..) {
        Some([]) => at_eof,
        Some(next) => {
            sound_shb(next)
                || sound_block(next, s).is_some()
                // The next block runs past the bytes at hand: its header must at least be
                // believable (a block cut by the end of the input, or a long one).
                || (next.len() < MAX_BLOCK_RESYNC
                    && u32_at(next, 0, s.big_endian).is_some_and(|k| RESYNC_KINDS.contains(&k))
                    && u32_at(next, 4, s.big_endian)
                        .is_some_and(|l| l as usize > next.len() && l % 4 == 0))
        }
        None => false,
    }
}

/// The length of the block of section `s` at the start of `bytes`, when its type is known, its
/// length believable, its trailer agrees and its packets name an interface of the section.
fn sound_block(bytes: &[u8], s: &Section) -> Option<usize> {
    let be = s.big_endian;
    let kind = u32_at(bytes, 0, be)?;
    let len = u32_at(bytes, 4, be)? as usize;
    if !RESYNC_KINDS.contains(&kind)
        || !(min_len(kind)..=MAX_BLOCK_RESYNC).contains(&len)
        || !len.is_multiple_of(4)
    {
        return None;
    }
    if u32_at(bytes, len - 4, be)? as usize != len {
        return None;
    }
    let iface = match kind {
        EPB => Some(u32_at(bytes, 8, be)? as usize),
        PB => Some(usize::from(u16_at(bytes, 8, be)?)),
        _ => None,
    };
    match iface {
        Some(id) if id >= s.ifaces.len() => None,
        _ => Some(len),
    }
}

/// The shortest block of `kind` the format allows (pcapng draft, section 4): its header,
/// trailer and fixed fields. A shorter one cannot be real, however its length and trailer agree
/// (12 bytes inside a packet that read `00 00 00 03 00 00 00 0c` would pass for an empty
/// simple packet block).
fn min_len(kind: u32) -> usize {
    match kind {
        EPB | PB => 32,
        ISB => 24,
        IDB => 20,
        SPB | NRB => 16,
        _ => 12,
    }
}

/// Whether `bytes` starts with a whole Section Header Block of believable shape.
fn sound_shb(bytes: &[u8]) -> bool {
    if u32_at(bytes, 0, false) != Some(SHB) {
        return false;
    }
    let be = match u32_at(bytes, 8, false) {
        Some(BOM) => false,
        Some(bom) if bom == BOM.swap_bytes() => true,
        _ => return false,
    };
    let Some(len) = u32_at(bytes, 4, be).map(|l| l as usize) else {
        return false;
    };
    (28..=MAX_SHB_RESYNC).contains(&len)
        && len % 4 == 0
        && u32_at(bytes, len - 4, be) == Some(len as u32)
}

#[cfg(test)]
mod tests {
    use super::super::input::SliceInput;
    use super::super::testcap::Ng;
    use super::super::Problem;
    use super::*;

    type Got = Vec<(u64, i64, u32, u32, Vec<u8>)>;

    fn read_all(bytes: &[u8]) -> (Got, Outcome, Vec<Problem>) {
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

    fn kinds(problems: &[Problem]) -> Vec<ProblemKind> {
        problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn reads_sections_of_both_byte_orders_with_their_interfaces() {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0)
            .idb(1, 65535, &[])
            .idb(101, 65535, &[(9, vec![9])])
            .epb(0, 1_500_000_000_000_000, &[1, 2, 3], 3)
            .epb(1, 1_500_000_000_123_456_789, &[4; 5], 50)
            .block(4, &[0; 8]) // name resolution: skipped
            .block(5, &[0; 12]) // interface statistics: skipped
            .block(0x4000_0bad, &[1, 2, 3]) // custom: skipped
            .shb(true, 1, 0)
            .idb(
                113,
                0,
                &[(9, vec![0x80 | 10]), (14, 100i64.to_be_bytes().to_vec())],
            )
            .epb(0, 3 << 10, &[7; 7], 7)
            .pb(0, 5 << 10, &[8; 2])
            .spb(&[9; 6], 6);
        let (got, out, problems) = read_all(&ng.bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!out.unreadable);
        assert_eq!(out.packets, 5);
        assert_eq!(got[0], (1, 1_500_000_000_000_000_000, 1, 3, vec![1, 2, 3]));
        assert_eq!(got[1], (2, 1_500_000_000_123_456_789, 101, 50, vec![4; 5]));
        // 2^-10 s units plus a 100 s offset.
        let base = 100_000_000_000i64;
        assert_eq!(got[2], (3, base + 3 * 1_000_000_000, 113, 7, vec![7; 7]));
        assert_eq!(got[3].1, base + 5 * 1_000_000_000);
        assert_eq!(got[3].4, vec![8; 2]);
        // The simple packet block takes interface 0 and the previous timestamp.
        assert_eq!(got[4], (5, base + 5 * 1_000_000_000, 113, 6, vec![9; 6]));
    }

    #[test]
    fn simple_packet_block_honours_snaplen_and_padding() {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0)
            .idb(1, 4, &[])
            .spb(&[1, 2, 3, 4, 5], 5)
            .spb(&[6, 7], 2);
        let (got, _, problems) = read_all(&ng.bytes());
        assert!(problems.is_empty());
        assert_eq!(got[0].4, vec![1, 2, 3, 4]);
        assert_eq!(got[1].4, vec![6, 7]);
    }

    #[test]
    fn unknown_interface_skips_the_packet() {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0)
            .idb(1, 0, &[])
            .epb(3, 0, &[1], 1)
            .epb(0, 0, &[2], 1);
        let (got, _, problems) = read_all(&ng.bytes());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].4, vec![2]);
        assert_eq!(kinds(&problems), vec![ProblemKind::UnknownInterface]);
        assert_eq!(problems[0].packet, Some(1));
    }

    #[test]
    fn interfaces_do_not_outlive_their_section() {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0)
            .idb(1, 0, &[])
            .shb(false, 1, 0)
            .epb(0, 0, &[1], 1);
        let (got, _, problems) = read_all(&ng.bytes());
        assert!(got.is_empty());
        assert_eq!(kinds(&problems), vec![ProblemKind::UnknownInterface]);
    }

    #[test]
    fn unknown_versions_are_refused() {
        for (major, minor) in [(0, 1), (1, 1), (2, 0)] {
            let mut ng = Ng::new();
            ng.shb(false, major, minor)
                .idb(1, 0, &[])
                .epb(0, 0, &[1], 1);
            let (got, out, problems) = read_all(&ng.bytes());
            assert!(got.is_empty());
            assert!(out.unreadable);
            assert_eq!(kinds(&problems), vec![ProblemKind::UnsupportedVersion]);
        }
        let mut ng = Ng::new();
        ng.shb(true, 1, 2).idb(1, 0, &[]).epb(0, 0, &[1], 1);
        assert_eq!(read_all(&ng.bytes()).0.len(), 1);
    }

    fn two_sections() -> (Vec<u8>, usize) {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0).idb(1, 0, &[]).epb(0, 0, &[1], 1);
        let bad_at = ng.out.len();
        ng.epb(0, 0, &[2], 1).epb(0, 0, &[3], 1);
        ng.shb(false, 1, 0).idb(1, 0, &[]).epb(0, 0, &[4], 1);
        (ng.bytes(), bad_at)
    }

    #[test]
    fn bad_block_lengths_resync_to_the_next_valid_block() {
        for bad_len in [0u32, 7, 13, 0x7fff_fff0, 0xffff_fff0, 2000] {
            let (mut bytes, at) = two_sections();
            bytes[at + 4..at + 8].copy_from_slice(&bad_len.to_le_bytes());
            let (got, out, problems) = read_all(&bytes);
            let data: Vec<u8> = got.iter().map(|g| g.4[0]).collect();
            assert_eq!(data, vec![1, 3, 4], "length {bad_len}");
            assert_eq!(out.packets, 3);
            assert_eq!(
                kinds(&problems),
                vec![ProblemKind::BadRecord; 2],
                "{problems:?}"
            );
            assert_eq!(problems[0].offset, Some(at as u64));
            assert_eq!(problems[0].packet, Some(2));
        }
    }

    #[test]
    fn resync_inside_one_section_keeps_every_valid_packet_after() {
        let mut ng = Ng::new();
        ng.shb(true, 1, 0).idb(1, 0, &[]).epb(0, 0, &[1], 1);
        let bad_at = ng.out.len();
        ng.epb(0, 0, &[2; 40], 40);
        for k in 3..=60u8 {
            ng.epb(0, u64::from(k), &[k; 30], 30).block(5, &[0; 12]);
        }
        let mut bytes = ng.bytes();
        // A 4 GB length, big-endian.
        bytes[bad_at + 4..bad_at + 8].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        let (got, _, problems) = read_all(&bytes);
        let data: Vec<u8> = got.iter().map(|g| g.4[0]).collect();
        assert_eq!(data, [1].into_iter().chain(3..=60).collect::<Vec<u8>>());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].detail.contains("impossible length"));
        assert_eq!(problems[0].offset, Some(bad_at as u64));
        assert!(problems[1].detail.contains("to the next valid block"));
        // A packet block naming an interface that does not exist is no place to resume.
        let mut ng = Ng::new();
        ng.shb(false, 1, 0).idb(1, 0, &[]);
        let bad_at = ng.out.len();
        ng.epb(0, 0, &[2; 8], 8)
            .epb(7, 0, &[3; 8], 8)
            .epb(0, 0, &[4; 8], 8);
        let mut bytes = ng.bytes();
        bytes[bad_at + 4..bad_at + 8].copy_from_slice(&5u32.to_le_bytes());
        let (got, _, _) = read_all(&bytes);
        let data: Vec<u8> = got.iter().map(|g| g.4[0]).collect();
        assert_eq!(data, vec![4]);
    }

    #[test]
    fn mismatched_trailer_is_a_bad_record() {
        let (mut bytes, at) = two_sections();
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        bytes[at + len - 4] ^= 4;
        let (got, _, problems) = read_all(&bytes);
        assert_eq!(got.len(), 3);
        assert!(
            problems[0].detail.contains("trailer"),
            "{}",
            problems[0].detail
        );
    }

    #[test]
    fn block_cut_short_at_eof() {
        let (bytes, at) = two_sections();
        for cut in [at + 1, at + 11, at + 20] {
            let (got, _, problems) = read_all(&bytes[..cut]);
            assert_eq!(got.len(), 1);
            assert_eq!(kinds(&problems), vec![ProblemKind::TruncatedRecord]);
            assert_eq!(problems[0].offset, Some(at as u64));
        }
        let (_, out, problems) = read_all(&bytes[..20]);
        assert!(out.unreadable);
        assert_eq!(kinds(&problems), vec![ProblemKind::TruncatedHeader]);
    }

    #[test]
    fn overrunning_option_is_reported_and_reading_goes_on() {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0);
        // An interface whose option claims 300 bytes inside a 20-byte block.
        let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0];
        body.extend_from_slice(&[9, 0, 0x2c, 1]);
        ng.block(1, &body).epb(0, 7, &[5], 1);
        let (got, _, problems) = read_all(&ng.bytes());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, 7000, "default resolution is microseconds");
        assert_eq!(kinds(&problems), vec![ProblemKind::BadRecord]);
        assert!(problems[0].detail.contains("overruns"));
    }

    #[test]
    fn caplen_beyond_the_block_skips_the_packet() {
        let mut ng = Ng::new();
        ng.shb(false, 1, 0).idb(1, 0, &[]);
        let at = ng.out.len();
        ng.epb(0, 0, &[1, 2, 3, 4], 4).epb(0, 0, &[5], 1);
        let mut bytes = ng.bytes();
        bytes[at + 20..at + 24].copy_from_slice(&1000u32.to_le_bytes());
        let (got, _, problems) = read_all(&bytes);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].4, vec![5]);
        assert_eq!(kinds(&problems), vec![ProblemKind::BadRecord]);
    }

    #[test]
    fn timestamp_resolutions() {
        let iface = |scale| Iface {
            link_type: 1,
            snaplen: 0,
            scale,
            offset_nanos: -5,
        };
        assert_eq!(iface(Scale::Mul(1)).ts_nanos(10), 5);
        assert_eq!(iface(Scale::Div(1000)).ts_nanos(10_000), 5);
        assert_eq!(iface(Scale::Pow2(1)).ts_nanos(1), 499_999_995);
        assert_eq!(
            iface(Scale::Mul(1_000_000_000)).ts_nanos(u64::MAX),
            i64::MAX
        );
    }
}
