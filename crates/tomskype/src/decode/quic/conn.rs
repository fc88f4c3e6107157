//! Stage 2, decode: what the QUIC decoder keeps between datagrams, within fixed bounds.
//!
//! Two small tables. The CRYPTO data of ClientHellos still incomplete, per connection (the
//! UDP ends and the client's Destination Connection ID): at most [`MAX_PENDING`]
//! connections of at most [`MAX_CRYPTO_BYTES`] bytes in at most [`MAX_RANGES`] pieces each,
//! the least recently used dropped first, and each dropped as soon as its ClientHello is
//! read. And the original Destination Connection ID of the last [`MAX_KNOWN`] client
//! connections: a client's later Initial packets (sent to the server's chosen id) and the
//! server's Initial packets are protected with keys from that first id, so without it they
//! could not be told from garbage.

use std::collections::VecDeque;
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::crypto::{Keys, Side};
use super::{crypto_frames, long_header, open_packet, QuicError, Version};
use crate::decode::tls::{self, TlsError};

/// Longest ClientHello kept per connection, in bytes.
pub const MAX_CRYPTO_BYTES: usize = 16 * 1024;
/// Most pieces (separate byte ranges) of CRYPTO data kept per connection.
pub const MAX_RANGES: usize = 32;
/// Most connections with an incomplete ClientHello kept at once.
pub const MAX_PENDING: usize = 64;
/// Most client connections whose first connection id is remembered.
pub const MAX_KNOWN: usize = 4096;

/// The UDP ends of a datagram, as sent (source first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoints {
    /// Sender address.
    pub src: IpAddr,
    /// Sender port.
    pub sport: u16,
    /// Receiver address.
    pub dst: IpAddr,
    /// Receiver port.
    pub dport: u16,
}

impl Endpoints {
    fn reverse(self) -> Endpoints {
        Endpoints {
            src: self.dst,
            sport: self.dport,
            dst: self.src,
            dport: self.sport,
        }
    }
}

/// A connection id (at most 20 bytes), stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Cid {
    len: u8,
    bytes: [u8; 20],
}

impl Cid {
    fn new(id: &[u8]) -> Cid {
        let mut bytes = [0; 20];
        let len = id.len().min(20);
        bytes[..len].copy_from_slice(&id[..len]);
        Cid {
            len: len as u8, // at most 20
            bytes,
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(20)]
    }
}

/// CRYPTO data of one ClientHello being gathered.
#[derive(Debug)]
struct Pending {
    ends: Endpoints,
    dcid: Cid,
    data: Vec<u8>,
    /// Byte ranges present, sorted and disjoint.
    ranges: Vec<(usize, usize)>,
    used: u64,
}

impl Pending {
    /// Adds `piece` at `offset`; returns the length of the data present from offset 0.
    fn add(&mut self, offset: u64, piece: &[u8]) -> Result<usize, QuicError> {
        let start = usize::try_from(offset).map_err(|_| QuicError::TooLarge)?;
        if start >= MAX_CRYPTO_BYTES {
            return Err(QuicError::TooLarge);
        }
        let end = start.saturating_add(piece.len()).min(MAX_CRYPTO_BYTES);
        if end > self.data.len() {
            self.data.resize(end, 0);
        }
        self.data[start..end].copy_from_slice(&piece[..end - start]);
        self.ranges.push((start, end));
        self.ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        if merged.len() > MAX_RANGES {
            return Err(QuicError::TooLarge);
        }
        self.ranges = merged;
        Ok(match self.ranges.first() {
            Some(&(0, e)) => e,
            _ => 0,
        })
    }
}

/// The QUIC decoder's memory between datagrams (see the module docs for its bounds).
#[derive(Debug, Default)]
pub struct Connections {
    pending: Vec<Pending>,
    known: FxHashMap<Endpoints, Cid>,
    known_order: VecDeque<Endpoints>,
    clock: u64,
}

impl Connections {
    /// Nothing kept yet.
    pub fn new() -> Connections {
        Connections::default()
    }

    /// Connections whose ClientHello is still incomplete.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Reads the packets of one UDP datagram sent from `ends.src` to `ends.dst` whose payload
    /// starts like a QUIC long header. Returns the server name of a ClientHello completed by
    /// this datagram, `Ok(None)` when there is none (yet, or at all, or the packet is the
    /// server's), and an error when the datagram is QUIC that cannot be read.
    pub fn datagram(
        &mut self,
        ends: Endpoints,
        payload: &[u8],
    ) -> Result<Option<String>, QuicError> {
        let mut pos = 0;
        let mut name = None;
        let mut error = None;
        // Each pass moves on by a whole packet (at least its 7-byte header).
        while let Some(rest) = payload.get(pos..).filter(|r| !r.is_empty()) {
            if rest[0] & 0x80 == 0 {
                break; // a short-header packet, or padding: nothing more to read
            }
            let h = match long_header(rest) {
                Ok(h) => h,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            if let (true, Some(v)) = (h.initial, h.version) {
                let pkt = rest.get(..h.len).unwrap_or(rest);
                match self.initial(ends, v, h.dcid, h.pn_offset, pkt) {
                    Ok(Some(n)) => name = name.or(Some(n)),
                    Ok(None) => {}
                    Err(e) => error = error.or(Some(e)),
                }
            }
            if h.version.is_none() {
                break; // its length is unknown
            }
            pos += h.len.max(1);
        }
        match (name, error) {
            (Some(n), _) => Ok(Some(n)),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }

    /// One Initial packet `pkt`.
    fn initial(
        &mut self,
        ends: Endpoints,
        version: Version,
        dcid: &[u8],
        pn_offset: usize,
        pkt: &[u8],
    ) -> Result<Option<String>, QuicError> {
        // A client's first flight: keys from the packet's own id.
        let keys = Keys::new(version, dcid, Side::Client).ok_or(QuicError::Undecryptable)?;
        if let Some(plain) = open_packet(pkt, pn_offset, &keys)? {
            self.remember(ends, Cid::new(dcid));
            return self.frames(ends, Cid::new(dcid), &plain);
        }
        // A client's later packet, to the server's id: keys from its first id.
        if let Some(&first) = self.known.get(&ends) {
            if first.as_slice() != dcid {
                let keys = Keys::new(version, first.as_slice(), Side::Client)
                    .ok_or(QuicError::Undecryptable)?;
                if let Some(plain) = open_packet(pkt, pn_offset, &keys)? {
                    return self.frames(ends, first, &plain);
                }
            }
        }
        // The server's packet: keys from the client's first id, server side.
        if let Some(&first) = self.known.get(&ends.reverse()) {
            let keys = Keys::new(version, first.as_slice(), Side::Server)
                .ok_or(QuicError::Undecryptable)?;
            if open_packet(pkt, pn_offset, &keys)?.is_some() {
                return Ok(None);
            }
        }
        Err(QuicError::Undecryptable)
    }

    fn remember(&mut self, ends: Endpoints, dcid: Cid) {
        if self.known.insert(ends, dcid).is_none() {
            self.known_order.push_back(ends);
            while self.known_order.len() > MAX_KNOWN {
                if let Some(old) = self.known_order.pop_front() {
                    self.known.remove(&old);
                }
            }
        }
    }

    /// Adds the CRYPTO frames of a client's decrypted Initial to its connection.
    fn frames(
        &mut self,
        ends: Endpoints,
        dcid: Cid,
        plain: &[u8],
    ) -> Result<Option<String>, QuicError> {
        let frames = crypto_frames(plain)?;
        if frames.is_empty() {
            return Ok(None); // an ACK or PING only
        }
        self.clock += 1;
        let at = match self
            .pending
            .iter()
            .position(|p| p.ends == ends && p.dcid == dcid)
        {
            Some(i) => i,
            None => {
                if self.pending.len() >= MAX_PENDING {
                    // Drop the least recently used (the bound keeps this scan short).
                    if let Some(old) = (0..self.pending.len()).min_by_key(|&i| self.pending[i].used)
                    {
                        self.pending.swap_remove(old);
                    }
                }
                self.pending.push(Pending {
                    ends,
                    dcid,
                    data: Vec::new(),
                    ranges: Vec::new(),
                    used: 0,
                });
                self.pending.len() - 1
            }
        };
        let mut result = Ok(0);
        {
            let p = &mut self.pending[at];
            p.used = self.clock;
            for (offset, piece) in frames {
                result = p.add(offset, piece);
                if result.is_err() {
                    break;
                }
            }
        }
        let have = match result {
            Ok(n) => n,
            Err(e) => {
                self.pending.swap_remove(at);
                return Err(e);
            }
        };
        if have == 0 {
            return Ok(None); // the first piece is still to come
        }
        // `have` is the end of a range, within the data.
        let outcome = tls::handshake_sni(self.pending[at].data.get(..have).unwrap_or_default());
        match outcome {
            Err(TlsError::Incomplete) if have < MAX_CRYPTO_BYTES => Ok(None),
            Err(TlsError::Incomplete) => {
                self.pending.swap_remove(at);
                Err(QuicError::TooLarge)
            }
            Ok(name) => {
                self.pending.swap_remove(at);
                Ok(name)
            }
            Err(e) => {
                self.pending.swap_remove(at);
                Err(QuicError::Tls(e))
            }
        }
    }
}
