//! Stage 2, decode: the server name in a QUIC client's Initial packets.
//!
//! A QUIC client opens a connection with Initial packets whose CRYPTO frames carry a TLS 1.3
//! ClientHello. They are encrypted, but with keys derived from the connection id in their
//! own header ([`crypto`]), so any observer can read them, as Wireshark and nDPI do. This
//! module parses long headers (RFC 9000 §17.2; RFC 9369 for v2), walks the packets coalesced
//! in one UDP datagram, removes header protection, decrypts Initial payloads, and reads their
//! frames (PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE: all that an Initial may hold). The
//! CRYPTO data is joined by offset in [`conn::Connections`], per connection, so a ClientHello
//! spread over several frames and packets is read as one; its server name then comes from
//! [`super::tls::handshake_sni`].
//!
//! Versions: 1, 2 and the drafts 29 to 32 (same keys as version 1, another salt). Google's
//! older gQUIC (Q0xx) is not decoded. Packet numbers are taken as sent (a client's first
//! Initial packets are numbered from 0, so no reconstruction is needed). Left out: Handshake,
//! 0-RTT and 1-RTT packets (keys from the TLS exchange, out of reach), Retry tokens.

pub mod conn;
pub mod crypto;

use thiserror::Error;

pub use conn::{Connections, Endpoints};

/// QUIC versions whose Initial packets this module opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// QUIC version 1 (RFC 9000), 0x00000001.
    V1,
    /// QUIC version 2 (RFC 9369), 0x6b3343cf.
    V2,
    /// IETF drafts 29 to 32 (0xff00001d..0xff000020).
    Draft29,
}

const V1_SALT: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const V2_SALT: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
const DRAFT29_SALT: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];

impl Version {
    /// The version of a version field, if known here.
    pub fn from_wire(v: u32) -> Option<Version> {
        match v {
            0x0000_0001 => Some(Version::V1),
            0x6b33_43cf => Some(Version::V2),
            0xff00_001d..=0xff00_0020 => Some(Version::Draft29),
            _ => None,
        }
    }

    /// The salt of the initial secret.
    pub fn salt(self) -> &'static [u8] {
        match self {
            Version::V1 => &V1_SALT,
            Version::V2 => &V2_SALT,
            Version::Draft29 => &DRAFT29_SALT,
        }
    }

    /// HKDF labels of the key, IV and header-protection key.
    pub fn labels(self) -> [&'static [u8]; 3] {
        match self {
            Version::V1 | Version::Draft29 => [b"quic key", b"quic iv", b"quic hp"],
            Version::V2 => [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"],
        }
    }

    /// The long-header type bits of an Initial packet (v2 renumbered the types).
    pub fn initial_type(self) -> u8 {
        match self {
            Version::V1 | Version::Draft29 => 0,
            Version::V2 => 1,
        }
    }

    /// The long-header type bits of a Retry packet.
    fn retry_type(self) -> u8 {
        match self {
            Version::V1 | Version::Draft29 => 3,
            Version::V2 => 0,
        }
    }
}

/// Why a QUIC datagram gave no server name although it started like a QUIC Initial.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuicError {
    /// A header field reaches past the datagram (or past the snaplen).
    #[error("quic {0} is cut short")]
    Truncated(&'static str),
    /// A connection id longer than 20 bytes.
    #[error("quic connection id longer than 20 bytes")]
    LongConnectionId,
    /// Neither the client's nor (for a known connection) the server's keys open the packet.
    #[error("quic initial packet does not decrypt")]
    Undecryptable,
    /// A frame that cannot be read, or that an Initial packet may not hold.
    #[error("quic initial frame type {0:#x} is not allowed or cut short")]
    BadFrame(u64),
    /// The CRYPTO data is larger, or more scattered, than this decoder keeps.
    #[error("quic crypto data beyond the decoder's bounds")]
    TooLarge,
    /// The CRYPTO data holds a ClientHello that does not parse.
    #[error("quic client hello: {0}")]
    Tls(#[from] super::tls::TlsError),
}

/// Whether a UDP payload starts like a QUIC Initial packet of a version known here: long
/// header with the fixed bit, a known version, the Initial type. Looks at five bytes.
#[inline]
pub fn looks_like_initial(payload: &[u8]) -> bool {
    match payload {
        [first, a, b, c, d, ..] if first & 0xc0 == 0xc0 => {
            match Version::from_wire(u32::from_be_bytes([*a, *b, *c, *d])) {
                Some(v) => (first >> 4) & 3 == v.initial_type(),
                None => false,
            }
        }
        _ => false,
    }
}

/// Reads a variable-length integer (RFC 9000 §16) at `*pos`, moving `*pos` past it.
pub fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *data.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = data.get(*pos..*pos + len)?;
    let value = bytes[1..]
        .iter()
        .fold(u64::from(first & 0x3f), |v, &b| v << 8 | u64::from(b));
    *pos += len;
    Some(value)
}

/// A long header's fields, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader<'a> {
    /// The first byte as sent (its low bits still protected).
    pub first: u8,
    /// The version, when known here.
    pub version: Option<Version>,
    /// Destination connection id.
    pub dcid: &'a [u8],
    /// Source connection id.
    pub scid: &'a [u8],
    /// Whether this is an Initial packet of a known version.
    pub initial: bool,
    /// Offset of the packet number (Initial, Handshake and 0-RTT packets).
    pub pn_offset: usize,
    /// Length of the whole packet; the next coalesced packet starts there.
    pub len: usize,
}

fn cid<'a>(data: &'a [u8], pos: &mut usize, what: &'static str) -> Result<&'a [u8], QuicError> {
    let n = usize::from(*data.get(*pos).ok_or(QuicError::Truncated(what))?);
    if n > 20 {
        return Err(QuicError::LongConnectionId);
    }
    let id = data
        .get(*pos + 1..*pos + 1 + n)
        .ok_or(QuicError::Truncated(what))?;
    *pos += 1 + n;
    Ok(id)
}

/// Parses the long header at the start of `data` (the first bit must be set). Packets of
/// an unknown version, Retry and Version Negotiation packets take the rest of the datagram.
pub fn long_header(data: &[u8]) -> Result<LongHeader<'_>, QuicError> {
    let Some(&[first, a, b, c, d]) = data.first_chunk::<5>() else {
        return Err(QuicError::Truncated("long header"));
    };
    let version = Version::from_wire(u32::from_be_bytes([a, b, c, d]));
    let mut pos = 5;
    let dcid = cid(data, &mut pos, "destination connection id")?;
    let scid = cid(data, &mut pos, "source connection id")?;
    let ty = (first >> 4) & 3;
    let mut h = LongHeader {
        first,
        version,
        dcid,
        scid,
        initial: false,
        pn_offset: pos,
        len: data.len(),
    };
    let Some(v) = version else {
        return Ok(h);
    };
    if ty == v.retry_type() {
        return Ok(h);
    }
    h.initial = ty == v.initial_type();
    if h.initial {
        let token_len = varint(data, &mut pos).ok_or(QuicError::Truncated("token length"))?;
        pos = usize::try_from(token_len)
            .ok()
            .and_then(|n| pos.checked_add(n))
            .filter(|&end| end <= data.len())
            .ok_or(QuicError::Truncated("token"))?;
    }
    let length = varint(data, &mut pos).ok_or(QuicError::Truncated("length"))?;
    h.pn_offset = pos;
    h.len = usize::try_from(length)
        .ok()
        .and_then(|n| pos.checked_add(n))
        .filter(|&end| end <= data.len())
        .ok_or(QuicError::Truncated("packet"))?;
    Ok(h)
}

/// Removes header protection and decrypts the packet `pkt` (exactly one packet, header
/// included) with `keys`. Returns the plaintext frames, or `None` when the keys do not fit.
pub fn open_packet(
    pkt: &[u8],
    pn_offset: usize,
    keys: &crypto::Keys,
) -> Result<Option<Vec<u8>>, QuicError> {
    let sample_at = pn_offset + 4;
    let sample = pkt
        .get(sample_at..sample_at + crypto::SAMPLE_LEN)
        .and_then(|s| <&[u8; crypto::SAMPLE_LEN]>::try_from(s).ok())
        .ok_or(QuicError::Truncated("header protection sample"))?;
    let mask = keys.mask(sample);
    let first = pkt.first().ok_or(QuicError::Truncated("packet"))? ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 3) + 1;
    let pn_end = pn_offset + pn_len;
    // The sample lies past the longest packet number, so the header is in the packet.
    let mut header = pkt
        .get(..pn_end)
        .ok_or(QuicError::Truncated("packet"))?
        .to_vec();
    header[0] = first;
    let mut pn = 0u64;
    for (byte, m) in header[pn_offset..].iter_mut().zip(&mask[1..]) {
        *byte ^= m;
        pn = pn << 8 | u64::from(*byte);
    }
    let mut body = pkt.get(pn_end..).unwrap_or_default().to_vec();
    Ok(keys.open(pn, &header, &mut body).map(|n| {
        body.truncate(n);
        body
    }))
}

fn skip_varints(data: &[u8], pos: &mut usize, n: usize) -> Option<()> {
    for _ in 0..n {
        varint(data, pos)?;
    }
    Some(())
}

/// The CRYPTO frames of a decrypted Initial payload, as (offset, data), in packet order.
pub fn crypto_frames(plain: &[u8]) -> Result<Vec<(u64, &[u8])>, QuicError> {
    let mut out = Vec::new();
    let mut pos = 0;
    // Each pass consumes at least the frame type byte.
    while pos < plain.len() {
        let at = pos;
        let ty = varint(plain, &mut pos).ok_or(QuicError::BadFrame(0))?;
        match ty {
            0x00 | 0x01 => {} // PADDING, PING
            0x02 | 0x03 => {
                // ACK: largest acknowledged, delay, range count, first range, the ranges,
                // and with 0x03 three ECN counts.
                skip_varints(plain, &mut pos, 2).ok_or(QuicError::BadFrame(ty))?;
                let count = varint(plain, &mut pos).ok_or(QuicError::BadFrame(ty))?;
                let count = usize::try_from(count)
                    .ok()
                    .filter(|&c| c <= plain.len())
                    .ok_or(QuicError::BadFrame(ty))?;
                let ecn = if ty == 0x03 { 3 } else { 0 };
                skip_varints(plain, &mut pos, 1 + 2 * count + ecn)
                    .ok_or(QuicError::BadFrame(ty))?;
            }
            0x06 => {
                let offset = varint(plain, &mut pos).ok_or(QuicError::BadFrame(ty))?;
                let len = varint(plain, &mut pos).ok_or(QuicError::BadFrame(ty))?;
                let data = usize::try_from(len)
                    .ok()
                    .and_then(|n| plain.get(pos..pos.checked_add(n)?))
                    .ok_or(QuicError::BadFrame(ty))?;
                pos += data.len();
                out.push((offset, data));
            }
            0x1c => {
                // CONNECTION_CLOSE ends what the packet says.
                return Ok(out);
            }
            _ => return Err(QuicError::BadFrame(ty)),
        }
        debug_assert!(pos > at);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
