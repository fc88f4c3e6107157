//! Stage 1, capture: writers for classic pcap and pcapng files.
//!
//! Used by the sample generator (`samples`) and by the live capture's `--write`. The writers
//! emit exactly what they are given: no packet is inspected, reordered or checked against its
//! link type. Classic pcap is written little-endian unless the caller asks for big-endian (the
//! reader must be tested on both); pcapng is always written in the machine-independent
//! little-endian order with one section. Compression is left to the caller (wrap the `Write`).

use std::io::{self, Write};

/// Byte order of a classic pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian (what x86 machines write).
    Little,
    /// Big-endian (what SPARC/PowerPC machines wrote).
    Big,
}

/// Writes a classic libpcap file: a 24-byte header, then one 16-byte record header per packet.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
    nanos: bool,
    order: ByteOrder,
}

impl<W: Write> PcapWriter<W> {
    /// Writes a little-endian pcap header (version 2.4) and returns the writer.
    ///
    /// `nanos` selects nanosecond timestamps (magic `a1b23c4d`) instead of microseconds.
    pub fn new(w: W, link_type: u32, snaplen: u32, nanos: bool) -> io::Result<Self> {
        Self::with_byte_order(w, link_type, snaplen, nanos, ByteOrder::Little)
    }

    /// Like [`PcapWriter::new`], in the given byte order.
    pub fn with_byte_order(
        mut w: W,
        link_type: u32,
        snaplen: u32,
        nanos: bool,
        order: ByteOrder,
    ) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut header = Vec::with_capacity(24);
        put_u32(&mut header, order, magic);
        put_u16(&mut header, order, 2);
        put_u16(&mut header, order, 4);
        put_u32(&mut header, order, 0); // thiszone: timestamps are UTC
        put_u32(&mut header, order, 0); // sigfigs
        put_u32(&mut header, order, snaplen);
        put_u32(&mut header, order, link_type);
        w.write_all(&header)?;
        Ok(PcapWriter {
            inner: w,
            nanos,
            order,
        })
    }

    /// Writes one record: `data` is what was captured, `orig_len` the length on the wire.
    ///
    /// Fails with `InvalidInput` when the time is before 1970 or after 2106 (the format's
    /// 32-bit seconds), or when `data` is longer than 4 GiB.
    pub fn write_packet(&mut self, ts_nanos: i64, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts_nanos.div_euclid(1_000_000_000))
            .map_err(|_| invalid("timestamp out of the range of a pcap file"))?;
        let frac = ts_nanos.rem_euclid(1_000_000_000);
        let frac = if self.nanos { frac } else { frac / 1000 };
        // rem_euclid of 1e9 is below 1e9, which fits in u32.
        let frac = u32::try_from(frac).map_err(|_| invalid("timestamp fraction"))?;
        let caplen = u32::try_from(data.len()).map_err(|_| invalid("packet longer than 4 GiB"))?;
        let mut header = Vec::with_capacity(16);
        put_u32(&mut header, self.order, secs);
        put_u32(&mut header, self.order, frac);
        put_u32(&mut header, self.order, caplen);
        put_u32(&mut header, self.order, orig_len.max(caplen));
        self.inner.write_all(&header)?;
        self.inner.write_all(data)
    }

    /// Returns the underlying writer (flush it yourself if it buffers).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

/// Writes a pcapng file: one section header block, interface description blocks, and enhanced
/// packet blocks, all little-endian.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    inner: W,
    /// Per interface: whether its timestamps are in nanoseconds (else microseconds).
    iface_nanos: Vec<bool>,
}

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 0x0000_0001;
const EPB_TYPE: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;

impl<W: Write> PcapngWriter<W> {
    /// Writes the section header block (version 1.0, section length unknown).
    pub fn new(mut w: W) -> io::Result<Self> {
        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        write_block(&mut w, SHB_TYPE, &body)?;
        Ok(PcapngWriter {
            inner: w,
            iface_nanos: Vec::new(),
        })
    }

    /// Describes an interface (IDB with `if_tsresol`, and `if_name` when given); returns its id.
    pub fn add_interface(
        &mut self,
        link_type: u32,
        snaplen: u32,
        name: Option<&str>,
        tsresol_nanos: bool,
    ) -> io::Result<u32> {
        let link = u16::try_from(link_type)
            .map_err(|_| invalid("link type does not fit the 16 bits of a pcapng block"))?;
        let id =
            u32::try_from(self.iface_nanos.len()).map_err(|_| invalid("too many interfaces"))?;
        let mut body = Vec::with_capacity(48);
        body.extend_from_slice(&link.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&snaplen.to_le_bytes());
        if let Some(name) = name {
            put_option(&mut body, OPT_IF_NAME, name.as_bytes())?;
        }
        put_option(
            &mut body,
            OPT_IF_TSRESOL,
            &[if tsresol_nanos { 9 } else { 6 }],
        )?;
        put_option(&mut body, OPT_END, &[])?;
        write_block(&mut self.inner, IDB_TYPE, &body)?;
        self.iface_nanos.push(tsresol_nanos);
        Ok(id)
    }

    /// Writes one enhanced packet block on interface `iface` (data padded to 4 bytes).
    ///
    /// Fails with `InvalidInput` for an interface that was never added or a time before 1970.
    pub fn write_packet(
        &mut self,
        iface: u32,
        ts_nanos: i64,
        orig_len: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let nanos = usize::try_from(iface)
            .ok()
            .and_then(|i| self.iface_nanos.get(i).copied())
            .ok_or_else(|| invalid("packet on an interface that was never added"))?;
        let ts = u64::try_from(ts_nanos).map_err(|_| invalid("timestamp before 1970"))?;
        let units = if nanos { ts } else { ts / 1000 };
        let caplen = u32::try_from(data.len()).map_err(|_| invalid("packet longer than 4 GiB"))?;
        let mut body = Vec::with_capacity(20 + data.len() + 3);
        body.extend_from_slice(&iface.to_le_bytes());
        body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(units as u32).to_le_bytes()); // low 32 bits, truncation meant
        body.extend_from_slice(&caplen.to_le_bytes());
        body.extend_from_slice(&orig_len.max(caplen).to_le_bytes());
        body.extend_from_slice(data);
        pad4(&mut body);
        write_block(&mut self.inner, EPB_TYPE, &body)
    }

    /// Returns the underlying writer (flush it yourself if it buffers).
    pub fn into_inner(self) -> W {
        self.inner
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn put_u16(buf: &mut Vec<u8>, order: ByteOrder, v: u16) {
    match order {
        ByteOrder::Little => buf.extend_from_slice(&v.to_le_bytes()),
        ByteOrder::Big => buf.extend_from_slice(&v.to_be_bytes()),
    }
}

fn put_u32(buf: &mut Vec<u8>, order: ByteOrder, v: u32) {
    match order {
        ByteOrder::Little => buf.extend_from_slice(&v.to_le_bytes()),
        ByteOrder::Big => buf.extend_from_slice(&v.to_be_bytes()),
    }
}

fn pad4(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// Appends a pcapng option (code, length, value padded to 4).
fn put_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) -> io::Result<()> {
    let len = u16::try_from(value.len()).map_err(|_| invalid("option longer than 64 KiB"))?;
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(value);
    pad4(buf);
    Ok(())
}

/// Writes a block: type, total length, body (already padded), total length again.
fn write_block<W: Write>(w: &mut W, block_type: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12).map_err(|_| invalid("block longer than 4 GiB"))?;
    let mut block = Vec::with_capacity(body.len() + 12);
    block.extend_from_slice(&block_type.to_le_bytes());
    block.extend_from_slice(&total.to_le_bytes());
    block.extend_from_slice(body);
    block.extend_from_slice(&total.to_le_bytes());
    w.write_all(&block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    fn be32(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn pcap_header_and_record_little_endian() {
        let mut w = PcapWriter::new(Vec::new(), 1, 65535, false).unwrap();
        w.write_packet(1_221_550_872_123_456_789, 60, &[0xaa; 5])
            .unwrap();
        let b = w.into_inner();
        assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[4..8], &[2, 0, 4, 0]);
        assert_eq!(le32(&b, 8), 0);
        assert_eq!(le32(&b, 16), 65535);
        assert_eq!(le32(&b, 20), 1);
        assert_eq!(le32(&b, 24), 1_221_550_872);
        assert_eq!(le32(&b, 28), 123_456); // microseconds
        assert_eq!(le32(&b, 32), 5);
        assert_eq!(le32(&b, 36), 60);
        assert_eq!(&b[40..], &[0xaa; 5]);
    }

    #[test]
    fn pcap_nanos_big_endian() {
        let mut w =
            PcapWriter::with_byte_order(Vec::new(), 276, 128, true, ByteOrder::Big).unwrap();
        w.write_packet(1_500_000_000_000_000_007, 3, &[1, 2, 3])
            .unwrap();
        let b = w.into_inner();
        assert_eq!(&b[0..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&b[4..8], &[0, 2, 0, 4]);
        assert_eq!(be32(&b, 16), 128);
        assert_eq!(be32(&b, 20), 276);
        assert_eq!(be32(&b, 24), 1_500_000_000);
        assert_eq!(be32(&b, 28), 7);
        assert_eq!(be32(&b, 32), 3);
        assert_eq!(be32(&b, 36), 3);
        assert_eq!(b.len(), 24 + 16 + 3);
    }

    #[test]
    fn pcap_orig_len_never_below_caplen_and_bad_times_refused() {
        let mut w = PcapWriter::new(Vec::new(), 1, 65535, false).unwrap();
        w.write_packet(0, 0, &[0; 10]).unwrap();
        assert!(w.write_packet(-1, 10, &[0; 10]).is_err());
        assert!(w.write_packet(i64::MAX, 10, &[0; 10]).is_err());
        let b = w.into_inner();
        assert_eq!(le32(&b, 36), 10);
        assert_eq!(b.len(), 24 + 16 + 10);
    }

    #[test]
    fn pcapng_blocks_lengths_padding_and_trailers() {
        let mut w = PcapngWriter::new(Vec::new()).unwrap();
        let eth = w.add_interface(1, 65535, Some("eth0"), false).unwrap();
        let raw = w.add_interface(101, 96, None, true).unwrap();
        assert_eq!((eth, raw), (0, 1));
        w.write_packet(raw, 1_355_217_605_000_000_001, 100, &[7; 5])
            .unwrap();
        w.write_packet(eth, 1_355_217_605_000_001_000, 8, &[9; 8])
            .unwrap();
        assert!(w.write_packet(2, 0, 1, &[0]).is_err());
        let b = w.into_inner();

        // SHB: 28 bytes, byte-order magic, version 1.0, section length -1.
        assert_eq!(le32(&b, 0), SHB_TYPE);
        assert_eq!(le32(&b, 4), 28);
        assert_eq!(le32(&b, 8), BYTE_ORDER_MAGIC);
        assert_eq!(&b[12..16], &[1, 0, 0, 0]);
        assert_eq!(&b[16..24], &[0xff; 8]);
        assert_eq!(le32(&b, 24), 28);

        // IDB 0: link type 1, if_name "eth0", if_tsresol 6, end of options.
        let mut at = 28;
        assert_eq!(le32(&b, at), IDB_TYPE);
        let len = le32(&b, at + 4) as usize;
        assert_eq!(len, 8 + 8 + 8 + 8 + 4 + 4);
        assert_eq!(&b[at + 8..at + 12], &[1, 0, 0, 0]);
        assert_eq!(le32(&b, at + 12), 65535);
        assert_eq!(&b[at + 16..at + 24], &[2, 0, 4, 0, b'e', b't', b'h', b'0']);
        assert_eq!(&b[at + 24..at + 32], &[9, 0, 1, 0, 6, 0, 0, 0]);
        assert_eq!(&b[at + 32..at + 36], &[0, 0, 0, 0]);
        assert_eq!(le32(&b, at + len - 4), len as u32);

        // IDB 1: raw IP, no name, nanosecond resolution.
        at += len;
        let len = le32(&b, at + 4) as usize;
        assert_eq!(len, 32);
        assert_eq!(&b[at + 8..at + 10], &[101, 0]);
        assert_eq!(&b[at + 16..at + 24], &[9, 0, 1, 0, 9, 0, 0, 0]);
        assert_eq!(le32(&b, at + len - 4), 32);

        // EPB on interface 1: nanosecond units, 5 bytes padded to 8.
        at += len;
        assert_eq!(le32(&b, at), EPB_TYPE);
        let len = le32(&b, at + 4) as usize;
        assert_eq!(len, 32 + 8);
        assert_eq!(le32(&b, at + 8), 1);
        let units = (u64::from(le32(&b, at + 12)) << 32) | u64::from(le32(&b, at + 16));
        assert_eq!(units, 1_355_217_605_000_000_001);
        assert_eq!(le32(&b, at + 20), 5);
        assert_eq!(le32(&b, at + 24), 100);
        assert_eq!(&b[at + 28..at + 36], &[7, 7, 7, 7, 7, 0, 0, 0]);
        assert_eq!(le32(&b, at + len - 4), len as u32);

        // EPB on interface 0: microsecond units, no padding needed.
        at += len;
        let len = le32(&b, at + 4) as usize;
        assert_eq!(len, 32 + 8);
        let units = (u64::from(le32(&b, at + 12)) << 32) | u64::from(le32(&b, at + 16));
        assert_eq!(units, 1_355_217_605_000_001);
        assert_eq!(at + len, b.len());
    }
}
