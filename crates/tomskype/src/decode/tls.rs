//! Stage 2, decode: the server name (SNI) of a TLS ClientHello.
//!
//! [`client_hello_sni`] reads the first bytes a TLS client sends on a TCP connection: one or
//! more handshake records (content type 22, version 3.x) holding a ClientHello, and returns
//! the `host_name` of its `server_name` extension. [`looks_like_tls_handshake`] is the cheap
//! test to run first. A ClientHello cut short (split over TCP segments, or by snaplen) is read
//! as far as the data goes. Nothing else of the handshake is kept.
//!
//! [`handshake_sni`] reads a bare handshake message, without records: QUIC's CRYPTO frames
//! carry the ClientHello so (see [`super::quic`]).
//!
//! Left out: SSLv2-style ClientHellos (first byte 0x80) are [`TlsError::NotTls`]; ServerHello
//! and certificates are not read.

use thiserror::Error;

/// Content type of handshake records.
const HANDSHAKE: u8 = 22;
/// Handshake message type of a ClientHello.
const CLIENT_HELLO: u8 = 1;
/// Longest record body allowed (2^14 plus the 2048 bytes of expansion TLS 1.2 allows).
const MAX_RECORD_LEN: usize = 16384 + 2048;
/// Length of a record header (type, version, length).
const RECORD_HEADER_LEN: usize = 5;
/// Length of a handshake message header (type, 24-bit length).
const HS_HEADER_LEN: usize = 4;
/// Longest host name kept (DNS names are at most 253 characters).
const MAX_NAME_LEN: usize = 255;

/// Why no server name came out of a payload.
///
/// Offsets count from the start of the handshake message (its type byte) once records are
/// joined, except for [`TlsError::BadLength`] on the `"record length"` field, whose offset
/// is in the payload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlsError {
    /// The payload does not start with a TLS handshake record.
    #[error("not a tls handshake record")]
    NotTls,
    /// A handshake record, but its message is not a ClientHello.
    #[error("tls handshake message type {msg_type} is not a client hello")]
    NotClientHello {
        /// The handshake message type (2 = ServerHello, ...).
        msg_type: u8,
    },
    /// The data ends before the server name (or the end of the extensions) was reached.
    #[error("tls client hello is incomplete")]
    Incomplete,
    /// A length field reaches beyond the structure that holds it.
    #[error("tls {field} at offset {offset} is out of bounds")]
    BadLength {
        /// Which length field.
        field: &'static str,
        /// Where the length field is.
        offset: usize,
    },
    /// The server_name extension holds a host name that cannot be one.
    #[error("tls server name at offset {offset} is {reason}")]
    BadServerName {
        /// Where the name starts.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Whether `payload` starts like a TLS handshake record: content type 22 then version 3.0 to
/// 3.4 (and, when the length is present, a record length from 1 to 18432). Looks at five
/// bytes at most.
pub fn looks_like_tls_handshake(payload: &[u8]) -> bool {
    match payload {
        [HANDSHAKE, 3, minor, hi, lo, ..] => {
            *minor <= 4
                && (1..=MAX_RECORD_LEN).contains(&usize::from(u16::from_be_bytes([*hi, *lo])))
        }
        [HANDSHAKE, 3, minor, ..] => *minor <= 4,
        _ => false,
    }
}

/// The SNI host name of the ClientHello at the start of `payload`, the first bytes of a TCP
/// stream from a TLS client.
///
/// Returns `Ok(Some(name))` when a complete server_name extension with a host_name entry was
/// reached (even if later bytes are missing), `Ok(None)` for a ClientHello with no
/// extensions, or whose extension headers (all present; the last one's body may be cut)
/// hold no host name, [`TlsError::NotTls`] when the first three bytes are not
/// a handshake record header (checked before anything else), and
/// [`TlsError::Incomplete`] when the data ends before the answer is known. The name is
/// lowercased, loses one trailing dot, and bytes other than ASCII letters, digits, `-`, `_`
/// and `.` are written `\DDD` (decimal, as DNS names are), so it never holds control
/// characters.
pub fn client_hello_sni(payload: &[u8]) -> Result<Option<String>, TlsError> {
    let head = payload.get(..3).unwrap_or(payload);
    if !looks_like_tls_handshake(head) {
        // A prefix of a valid header is not enough to tell: wait for more.
        let prefix_ok = matches!(head, [] | [HANDSHAKE] | [HANDSHAKE, 3]);
        return Err(if prefix_ok {
            TlsError::Incomplete
        } else {
            TlsError::NotTls
        });
    }
    // The first record's first body byte is the message type: refuse a ServerHello (or an
    // encrypted message) before joining records.
    if let Some(&msg_type) = payload.get(RECORD_HEADER_LEN) {
        if msg_type != CLIENT_HELLO {
            return Err(TlsError::NotClientHello { msg_type });
        }
    }
    let hs = handshake_bytes(payload)?;
    let Some(&[_, a, b, c]) = hs.first_chunk::<HS_HEADER_LEN>() else {
        return Err(TlsError::Incomplete);
    };
    let hs_end = HS_HEADER_LEN + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
    parse_client_hello(&hs, hs_end)
}

/// The SNI host name of the ClientHello handshake message at the start of `hs` (its type
/// byte first, no record header), as QUIC carries it in CRYPTO frames. Answers as
/// [`client_hello_sni`] does, except that it never returns [`TlsError::NotTls`] and refuses
/// a message of another type with [`TlsError::NotClientHello`].
pub fn handshake_sni(hs: &[u8]) -> Result<Option<String>, TlsError> {
    let Some(&[msg_type, a, b, c]) = hs.first_chunk::<HS_HEADER_LEN>() else {
        return match hs.first() {
            Some(&t) if t != CLIENT_HELLO => Err(TlsError::NotClientHello { msg_type: t }),
            _ => Err(TlsError::Incomplete),
        };
    };
    if msg_type != CLIENT_HELLO {
        return Err(TlsError::NotClientHello { msg_type });
    }
    let hs_end = HS_HEADER_LEN + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
    parse_client_hello(hs.get(..hs_end).unwrap_or(hs), hs_end)
}

/// Joins the bodies of the leading handshake records, up to the end of the first handshake
/// message (or of the data). Allocation is bounded by the payload's length.
fn handshake_bytes(payload: &[u8]) -> Result<Vec<u8>, TlsError> {
    let mut hs = Vec::new();
    let mut pos = 0;
    // Each pass consumes a record header, so the loop ends with the payload.
    while let Some(header) = payload.get(pos..pos + RECORD_HEADER_LEN) {
        let &[ctype, major, _, hi, lo] = header else {
            return Err(TlsError::Incomplete); // unreachable: get() gave 5 bytes
        };
        if ctype != HANDSHAKE || major != 3 {
            // Another record before the message is complete.
            return Err(TlsError::BadLength {
                field: "handshake length",
                offset: 1,
            });
        }
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len == 0 || len > MAX_RECORD_LEN {
            return Err(TlsError::BadLength {
                field: "record length",
                offset: pos + 3,
            });
        }
        let body_start = pos + RECORD_HEADER_LEN;
        let body_end = (body_start + len).min(payload.len());
        hs.extend_from_slice(payload.get(body_start..body_end).unwrap_or_default());
        pos = body_start + len;
        if let Some(&[_, a, b, c]) = hs.first_chunk::<HS_HEADER_LEN>() {
            let need =
                HS_HEADER_LEN + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
            if hs.len() >= need {
                hs.truncate(need);
                break;
            }
        }
    }
    Ok(hs)
}

/// Reads the length prefix (`width` bytes) of a vector at `pos` inside a structure ending at
/// `end` (which may lie beyond the data present); returns the body's (start, end).
fn vector(
    data: &[u8],
    pos: usize,
    width: usize,
    end: usize,
    field: &'static str,
) -> Result<(usize, usize), TlsError> {
    let bad = TlsError::BadLength { field, offset: pos };
    if pos + width > end {
        return Err(bad);
    }
    let bytes = data.get(pos..pos + width).ok_or(TlsError::Incomplete)?;
    let len = bytes.iter().fold(0usize, |n, &b| n << 8 | usize::from(b));
    let body_end = pos + width + len;
    if body_end > end {
        return Err(bad);
    }
    Ok((pos + width, body_end))
}

/// Walks a ClientHello (`hs` starts at its handshake header; the message ends at `hs_end`).
fn parse_client_hello(hs: &[u8], hs_end: usize) -> Result<Option<String>, TlsError> {
    // client_version (2) and random (32).
    let mut pos = HS_HEADER_LEN + 2 + 32;
    if pos > hs_end {
        return Err(TlsError::BadLength {
            field: "handshake length",
            offset: 1,
        });
    }
    let (s, e) = vector(hs, pos, 1, hs_end, "session id length")?;
    if e - s > 32 {
        return Err(TlsError::BadLength {
            field: "session id length",
            offset: pos,
        });
    }
    pos = e;
    pos = vector(hs, pos, 2, hs_end, "cipher suites length")?.1;
    pos = vector(hs, pos, 1, hs_end, "compression methods length")?.1;
    if pos == hs_end {
        return Ok(None); // no extensions at all
    }
    let (mut pos, ext_end) = vector(hs, pos, 2, hs_end, "extensions length")?;
    // Each pass moves `pos` forward by at least 4 bytes.
    while pos < ext_end {
        if pos + 4 > ext_end {
            return Err(TlsError::BadLength {
                field: "extension header",
                offset: pos,
            });
        }
        let ext_type = match hs.get(pos..pos + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => return Err(TlsError::Incomplete),
        };
        let (s, e) = vector(hs, pos + 2, 2, ext_end, "extension length")?;
        if ext_type == 0 {
            return match hs.get(..e) {
                Some(upto) => server_name(upto, s),
                None => Err(TlsError::Incomplete),
            };
        }
        pos = e;
    }
    Ok(None)
}

/// Reads the server_name extension body at `start` (`data` ends with it); the first
/// host_name entry wins.
fn server_name(data: &[u8], start: usize) -> Result<Option<String>, TlsError> {
    if start == data.len() {
        return Ok(None); // empty extension
    }
    let (mut pos, list_end) = vector(data, start, 2, data.len(), "server name list length")?;
    while pos < list_end {
        let name_type = *data.get(pos).ok_or(TlsError::BadLength {
            field: "server name list length",
            offset: start,
        })?;
        let (s, e) = vector(data, pos + 1, 2, list_end, "server name length")?;
        if name_type == 0 {
            // `vector` checked e <= list_end <= data.len().
            let raw = data.get(s..e).ok_or(TlsError::Incomplete)?;
            return host_name(raw, s).map(Some);
        }
        pos = e;
    }
    Ok(None)
}

/// Validates and normalises a host name (see [`client_hello_sni`]).
fn host_name(raw: &[u8], offset: usize) -> Result<String, TlsError> {
    let raw = raw.strip_suffix(b".").unwrap_or(raw);
    if raw.is_empty() {
        return Err(TlsError::BadServerName {
            offset,
            reason: "empty",
        });
    }
    if raw.len() > MAX_NAME_LEN {
        return Err(TlsError::BadServerName {
            offset,
            reason: "longer than 255 bytes",
        });
    }
    let mut name = String::with_capacity(raw.len());
    for &b in raw {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            name.push(char::from(b.to_ascii_lowercase()));
        } else {
            name.push('\\');
            name.push(char::from(b'0' + b / 100));
            name.push(char::from(b'0' + b / 10 % 10));
            name.push(char::from(b'0' + b % 10));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u16b(n: usize) -> [u8; 2] {
        (n as u16).to_be_bytes()
    }

    fn ext(ext_type: u16, body: &[u8]) -> Vec<u8> {
        let mut e = ext_type.to_be_bytes().to_vec();
        e.extend_from_slice(&u16b(body.len()));
        e.extend_from_slice(body);
        e
    }

    fn sni_ext(name: &[u8]) -> Vec<u8> {
        let mut entry = vec![0];
        entry.extend_from_slice(&u16b(name.len()));
        entry.extend_from_slice(name);
        let mut list = u16b(entry.len()).to_vec();
        list.extend_from_slice(&entry);
        ext(0, &list)
    }

    /// A ClientHello handshake message (header included) with the given extensions.
    fn hello(exts: Option<&[Vec<u8>]>) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0xab; 32]); // random
        body.push(32);
        body.extend_from_slice(&[0x11; 32]); // session id
        body.extend_from_slice(&[0, 6, 0x13, 1, 0x13, 2, 0xc0, 0x2f]);
        body.extend_from_slice(&[1, 0]); // compression: null
        if let Some(exts) = exts {
            let all: Vec<u8> = exts.concat();
            body.extend_from_slice(&u16b(all.len()));
            body.extend_from_slice(&all);
        }
        let mut hs = vec![CLIENT_HELLO, 0];
        hs.extend_from_slice(&u16b(body.len()));
        hs.extend_from_slice(&body);
        hs
    }

    /// Wraps handshake bytes in records of at most `frag` bytes each.
    fn records(hs: &[u8], frag: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in hs.chunks(frag) {
            out.extend_from_slice(&[HANDSHAKE, 3, 1]);
            out.extend_from_slice(&u16b(chunk.len()));
            out.extend_from_slice(chunk);
        }
        out
    }

    fn typical() -> Vec<u8> {
        let exts = [
            ext(0xff01, &[0]),
            ext(10, &[0, 4, 0, 0x1d, 0, 0x17]),
            sni_ext(b"Login.Skype.COM."),
            ext(16, b"\x00\x03\x02h2"),
            ext(21, &[0; 40]), // padding
        ];
        records(&hello(Some(&exts)), 1 << 14)
    }

    #[test]
    fn finds_sni() {
        let p = typical();
        assert!(looks_like_tls_handshake(&p));
        assert_eq!(client_hello_sni(&p), Ok(Some("login.skype.com".into())));
        // The same message over records of 7 bytes each.
        let h = hello(Some(&[sni_ext(b"a.example")]));
        assert_eq!(
            client_hello_sni(&records(&h, 7)),
            Ok(Some("a.example".into()))
        );
    }

    #[test]
    fn no_sni() {
        let h = hello(Some(&[ext(10, &[0, 2, 0, 0x1d]), ext(0, &[])]));
        assert_eq!(client_hello_sni(&records(&h, 1000)), Ok(None));
        assert_eq!(client_hello_sni(&records(&hello(None), 1000)), Ok(None));
        // server_name with only a non-host_name entry.
        let h = hello(Some(&[ext(0, &[0, 4, 7, 0, 1, b'x'])]));
        assert_eq!(client_hello_sni(&records(&h, 1000)), Ok(None));
    }

    #[test]
    fn split_payloads() {
        let p = typical();
        let sni_end = p.windows(15).position(|w| w == b"Login.Skype.COM").unwrap() + 16;
        // Cut right after the SNI extension: the name is complete.
        assert_eq!(
            client_hello_sni(&p[..sni_end]),
            Ok(Some("login.skype.com".into()))
        );
        // Cut inside the name, or before it: incomplete.
        assert_eq!(
            client_hello_sni(&p[..sni_end - 1]),
            Err(TlsError::Incomplete)
        );
        assert_eq!(client_hello_sni(&p[..60]), Err(TlsError::Incomplete));
        assert_eq!(client_hello_sni(&p[..6]), Err(TlsError::Incomplete));
        assert_eq!(client_hello_sni(&p[..2]), Err(TlsError::Incomplete));
        // Without SNI, a cut before the last extension's header is incomplete; a cut in the
        // last extension's body is not, as no server_name can follow.
        let h = records(
            &hello(Some(&[ext(10, &[0, 2, 0, 0x1d]), ext(13, &[0; 8])])),
            1000,
        );
        assert_eq!(
            client_hello_sni(&h[..h.len() - 13]),
            Err(TlsError::Incomplete)
        );
        assert_eq!(client_hello_sni(&h[..h.len() - 3]), Ok(None));
    }

    #[test]
    fn lengths_beyond_their_container() {
        // The extensions length says 2 bytes more than the message holds.
        let mut h = hello(Some(&[sni_ext(b"a.b")]));
        let ext_len_at = 4 + 2 + 32 + 33 + 8 + 2;
        let n = u16::from_be_bytes([h[ext_len_at], h[ext_len_at + 1]]) + 2;
        h[ext_len_at..ext_len_at + 2].copy_from_slice(&n.to_be_bytes());
        assert_eq!(
            client_hello_sni(&records(&h, 1000)),
            Err(TlsError::BadLength {
                field: "extensions length",
                offset: ext_len_at
            })
        );
        // A session id of 200 bytes.
        let mut h = hello(None);
        h[4 + 34] = 200;
        assert!(matches!(
            client_hello_sni(&records(&h, 1000)),
            Err(TlsError::BadLength { .. })
        ));
        // The SNI name length reaches past the list.
        let mut e = sni_ext(b"abc");
        e[8] = 9;
        let h = hello(Some(&[e]));
        assert!(matches!(
            client_hello_sni(&records(&h, 1000)),
            Err(TlsError::BadLength {
                field: "server name length",
                ..
            })
        ));
        // A record length over the maximum.
        assert!(matches!(
            client_hello_sni(&[22, 3, 1, 0xff, 0xff, 1, 0, 0]),
            Err(TlsError::BadLength {
                field: "record length",
                offset: 3
            })
        ));
    }

    #[test]
    fn not_tls_and_not_client_hello() {
        assert_eq!(
            client_hello_sni(b"GET / HTTP/1.1\r\n"),
            Err(TlsError::NotTls)
        );
        assert_eq!(client_hello_sni(&[22, 2, 0, 0, 5]), Err(TlsError::NotTls));
        assert_eq!(client_hello_sni(&[23, 3, 3, 0, 5]), Err(TlsError::NotTls));
        assert!(!looks_like_tls_handshake(&[22, 3, 3, 0, 0]));
        assert!(!looks_like_tls_handshake(&[0x80, 0x2e, 1]));
        let mut server_hello = hello(None);
        server_hello[0] = 2;
        assert_eq!(
            client_hello_sni(&records(&server_hello, 1000)),
            Err(TlsError::NotClientHello { msg_type: 2 })
        );
    }

    #[test]
    fn odd_host_names() {
        let h = hello(Some(&[sni_ext(b"bad\x00name\x1b.Example")]));
        assert_eq!(
            client_hello_sni(&records(&h, 1000)),
            Ok(Some("bad\\000name\\027.example".into()))
        );
        let h = hello(Some(&[sni_ext(b"")]));
        assert!(matches!(
            client_hello_sni(&records(&h, 1000)),
            Err(TlsError::BadServerName {
                reason: "empty",
                ..
            })
        ));
    }

    #[test]
    fn bare_handshake_message() {
        let h = hello(Some(&[
            ext(10, &[0, 2, 0, 0x1d]),
            sni_ext(b"Api.Skype.com"),
        ]));
        assert_eq!(handshake_sni(&h), Ok(Some("api.skype.com".into())));
        let sni_end = h.windows(13).position(|w| w == b"Api.Skype.com").unwrap() + 13;
        assert_eq!(handshake_sni(&h[..sni_end - 1]), Err(TlsError::Incomplete));
        assert_eq!(
            handshake_sni(&h[..sni_end]),
            Ok(Some("api.skype.com".into()))
        );
        assert_eq!(handshake_sni(&[]), Err(TlsError::Incomplete));
        assert_eq!(handshake_sni(&[1, 0]), Err(TlsError::Incomplete));
        assert_eq!(
            handshake_sni(&[2, 0, 0, 4, 3, 3]),
            Err(TlsError::NotClientHello { msg_type: 2 })
        );
        // Bytes after the message are not read.
        let mut longer = h.clone();
        longer.extend_from_slice(&[0xff; 9]);
        assert_eq!(handshake_sni(&longer), Ok(Some("api.skype.com".into())));
    }

    proptest! {
        #[test]
        fn any_bare_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = handshake_sni(&data);
        }

        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = client_hello_sni(&data);
            let _ = looks_like_tls_handshake(&data);
        }

        #[test]
        fn any_bytes_behind_a_record_header_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let mut p = vec![22, 3, 1];
            p.extend_from_slice(&u16b(body.len().max(1)));
            p.push(CLIENT_HELLO);
            p.extend_from_slice(&body);
            let _ = client_hello_sni(&p);
        }

        #[test]
        fn every_truncation_is_handled(cut in 0usize..400, frag in 1usize..300) {
            let p = records(&hello(Some(&[ext(10, &[0, 2, 0, 0x1d]), sni_ext(b"x.tom.com")])), frag);
            let cut = cut.min(p.len());
            match client_hello_sni(&p[..cut]) {
                Ok(name) => prop_assert_eq!(name.as_deref(), Some("x.tom.com")),
                Err(e) => prop_assert_eq!(e, TlsError::Incomplete),
            }
        }
    }
}
