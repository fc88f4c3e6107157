//! Test helpers (compiled for tests only): build small pcap and pcapng captures byte by byte,
//! independently of the writers in `write.rs`, so the readers are checked against the formats
//! as specified rather than against our own writer.

/// A packet to put in a test capture.
#[derive(Debug, Clone)]
pub(crate) struct Pkt {
    pub secs: u32,
    /// Microseconds or nanoseconds, as the capture's resolution says.
    pub frac: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl Pkt {
    pub(crate) fn new(secs: u32, frac: u32, data: Vec<u8>) -> Self {
        Self {
            secs,
            frac,
            orig_len: data.len() as u32,
            data,
        }
    }
}

fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// A classic pcap file.
pub(crate) fn pcap(be: bool, ns: bool, snaplen: u32, link: u32, pkts: &[Pkt]) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, if ns { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }, be);
    put16(&mut out, 2, be);
    put16(&mut out, 4, be);
    put32(&mut out, 0, be);
    put32(&mut out, 0, be);
    put32(&mut out, snaplen, be);
    put32(&mut out, link, be);
    for p in pkts {
        put32(&mut out, p.secs, be);
        put32(&mut out, p.frac, be);
        put32(&mut out, p.data.len() as u32, be);
        put32(&mut out, p.orig_len, be);
        out.extend_from_slice(&p.data);
    }
    out
}

/// A pcapng file under construction; every section may have its own byte order.
#[derive(Debug, Default)]
pub(crate) struct Ng {
    pub out: Vec<u8>,
    be: bool,
}

/// An option of a pcapng block: code and value (padding is added).
pub(crate) type Opt = (u16, Vec<u8>);

impl Ng {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn opts(&self, opts: &[Opt]) -> Vec<u8> {
        let mut body = Vec::new();
        if opts.is_empty() {
            return body;
        }
        for (code, value) in opts {
            put16(&mut body, *code, self.be);
            put16(&mut body, value.len() as u16, self.be);
            body.extend_from_slice(value);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        body.extend_from_slice(&[0; 4]);
        body
    }

    /// Any block: type, body (padded to 4 bytes), both lengths.
    pub(crate) fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let be = self.be;
        put32(&mut self.out, kind, be);
        put32(&mut self.out, len, be);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + padded - body.len(), 0);
        put32(&mut self.out, len, be);
        self
    }

    /// A Section Header Block of the given version, starting a section in byte order `be`.
    pub(crate) fn shb(&mut self, be: bool, major: u16, minor: u16) -> &mut Self {
        self.be = be;
        let mut body = Vec::new();
        put32(&mut body, 0x1a2b_3c4d, be);
        put16(&mut body, major, be);
        put16(&mut body, minor, be);
        body.extend_from_slice(&[0xff; 8]);
        let opts = self.opts(&[(4, b"test".to_vec())]);
        body.extend_from_slice(&opts);
        self.block(0x0a0d_0d0a, &body)
    }

    /// An Interface Description Block.
    pub(crate) fn idb(&mut self, link: u16, snaplen: u32, opts: &[Opt]) -> &mut Self {
        let mut body = Vec::new();
        put16(&mut body, link, self.be);
        put16(&mut body, 0, self.be);
        put32(&mut body, snaplen, self.be);
        let opts = self.opts(opts);
        body.extend_from_slice(&opts);
        self.block(1, &body)
    }

    /// An Enhanced Packet Block.
    pub(crate) fn epb(&mut self, iface: u32, ts: u64, data: &[u8], orig: u32) -> &mut Self {
        let mut body = Vec::new();
        put32(&mut body, iface, self.be);
        put32(&mut body, (ts >> 32) as u32, self.be);
        put32(&mut body, ts as u32, self.be);
        put32(&mut body, data.len() as u32, self.be);
        put32(&mut body, orig, self.be);
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        let opts = self.opts(&[(1, b"comment".to_vec())]);
        body.extend_from_slice(&opts);
        self.block(6, &body)
    }

    /// A Simple Packet Block.
    pub(crate) fn spb(&mut self, data: &[u8], orig: u32) -> &mut Self {
        let mut body = Vec::new();
        put32(&mut body, orig, self.be);
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    /// An obsolete Packet Block.
    pub(crate) fn pb(&mut self, iface: u16, ts: u64, data: &[u8]) -> &mut Self {
        let mut body = Vec::new();
        put16(&mut body, iface, self.be);
        put16(&mut body, 0, self.be);
        put32(&mut body, (ts >> 32) as u32, self.be);
        put32(&mut body, ts as u32, self.be);
        put32(&mut body, data.len() as u32, self.be);
        put32(&mut body, data.len() as u32, self.be);
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    /// The bytes so far.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

/// Compresses `data` with gzip.
pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A pcap or pcapng capture of `sizes.len()` packets, mixing in skipped blocks.
pub(crate) fn capture(ng: bool, be: bool, sizes: &[usize]) -> Vec<u8> {
    if !ng {
        let pkts: Vec<Pkt> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| Pkt::new(i as u32, 1, vec![i as u8; n]))
            .collect();
        return pcap(be, false, 65535, 1, &pkts);
    }
    let mut b = Ng::new();
    b.shb(be, 1, 0).idb(1, 0, &[]).idb(101, 0, &[(9, vec![9])]);
    for (i, &n) in sizes.iter().enumerate() {
        match i % 4 {
            0 => b.epb(0, i as u64, &vec![i as u8; n], n as u32),
            1 => b
                .epb(1, i as u64, &vec![i as u8; n], n as u32)
                .block(5, &[0; 12]),
            2 => b.spb(&vec![i as u8; n], n as u32),
            _ => b
                .shb(!be, 1, 0)
                .idb(1, 0, &[])
                .idb(101, 0, &[(9, vec![9])])
                .pb(0, i as u64, &vec![i as u8; n]),
        };
    }
    b.bytes()
}
