//! Stage 2, decode: DNS names, with compression, in presentation form (part of [`super`]).
//!
//! [`read_name`] follows compression pointers only strictly backwards, so it always ends,
//! and refuses names over 255 bytes on the wire; [`push_label`] writes a label the way `dig`
//! does. Nothing here allocates beyond the name being built.

use super::DnsError;

/// Longest name on the wire (length bytes, label bytes and the final zero), RFC 1035 3.1.
const MAX_NAME_WIRE_LEN: usize = 255;
/// Most compression pointers followed in one name. A name has at most 127 labels, so a
/// sensible encoder never needs more; the cap bounds the work a chain of pointers that
/// point at pointers can cause (up to 32 Ki steps per name otherwise).
const MAX_POINTERS: usize = 127;

/// A failure inside a record: the data ran out, or it is malformed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fail {
    /// The data ends inside the name or record.
    Short,
    /// The name or record is malformed.
    Bad(DnsError),
}
use Fail::{Bad, Short};

impl From<DnsError> for Fail {
    fn from(e: DnsError) -> Self {
        Bad(e)
    }
}

/// Reads the (possibly compressed) name at `start` into `name` (cleared first), in
/// presentation form; returns the offset just after it in place (after its first pointer, or
/// its final zero). On failure `name` holds whatever was read.
///
/// Termination: every pointer must point strictly before the start of the run of labels it
/// ends (the name's start, or the previous pointer's target), so the runs start at strictly
/// decreasing offsets; and each run moves forward through the finite message. The work is
/// bounded too: at most [`MAX_POINTERS`] pointers and 255 bytes of labels.
pub(super) fn read_name(msg: &[u8], start: usize, name: &mut String) -> Result<usize, Fail> {
    name.clear();
    let mut pos = start;
    let mut run_start = start;
    let mut end_in_place = None;
    let mut wire_len = 0usize;
    let mut pointers = 0usize;
    loop {
        let Some(&len) = msg.get(pos) else {
            return Err(Short);
        };
        match len & 0xc0 {
            0x00 => {
                wire_len += 1 + usize::from(len);
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(Bad(DnsError::BadName {
                        offset: pos,
                        reason: "name longer than 255 bytes",
                    }));
                }
                if len == 0 {
                    return Ok(end_in_place.unwrap_or(pos + 1));
                }
                let Some(label) = msg.get(pos + 1..pos + 1 + usize::from(len)) else {
                    return Err(Short);
                };
                if !name.is_empty() {
                    name.push('.');
                }
                push_label(name, label);
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let Some(&low) = msg.get(pos + 1) else {
                    return Err(Short);
                };
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                if target >= run_start {
                    return Err(Bad(if target >= msg.len() {
                        DnsError::PointerOutOfRange {
                            offset: pos,
                            target,
                        }
                    } else {
                        DnsError::PointerLoop {
                            offset: pos,
                            target,
                        }
                    }));
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(Bad(DnsError::BadName {
                        offset: pos,
                        reason: "too many compression pointers",
                    }));
                }
                end_in_place.get_or_insert(pos + 2);
                run_start = target;
                pos = target;
            }
            _ => {
                return Err(Bad(DnsError::BadName {
                    offset: pos,
                    reason: "reserved label type (or label longer than 63 bytes)",
                }))
            }
        }
    }
}

/// Appends one label in presentation form (lowercase, `\DDD` for unprintable bytes).
fn push_label(name: &mut String, label: &[u8]) {
    // Nearly every label is plain printable ASCII: pushed lowercased in one pass, with no
    // UTF-8 check of bytes already known to be ASCII (that check was a quarter of the cost of
    // reading a name: `valgrind --tool=callgrind`, bench/RESULTS.md "DNS names").
    // The test reads every byte (no early exit), so that it is vectorised.
    let plain = label.iter().fold(true, |plain, &b| {
        plain & (matches!(b, b'!'..=b'~') & (b != b'.') & (b != b'\\'))
    });
    if plain {
        // SAFETY: every byte of `label` is in b'!'..=b'~' (tested just above), so it is ASCII,
        // and ASCII bytes alone are valid UTF-8.
        let text = unsafe { std::str::from_utf8_unchecked(label) };
        let from = name.len();
        name.push_str(text);
        if let Some(added) = name.get_mut(from..) {
            added.make_ascii_lowercase();
        }
        return;
    }
    for &b in label {
        match b {
            b'.' | b'\\' => {
                name.push('\\');
                name.push(char::from(b));
            }
            b'!'..=b'~' => name.push(char::from(b.to_ascii_lowercase())),
            _ => {
                name.push('\\');
                name.push(char::from(b'0' + b / 100));
                name.push(char::from(b'0' + b / 10 % 10));
                name.push(char::from(b'0' + b % 10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, DnsError};
    use super::*;

    /// A header announcing `qd` questions and nothing else.
    fn header(qd: u16) -> Vec<u8> {
        let mut m = vec![0; 12];
        m[4..6].copy_from_slice(&qd.to_be_bytes());
        m
    }

    /// [`read_name`] into a fresh string.
    fn name_at(msg: &[u8], start: usize) -> Result<(String, usize), Fail> {
        let mut name = "left over".to_owned();
        read_name(msg, start, &mut name).map(|end| (name, end))
    }

    #[test]
    fn long_pointer_chains_are_refused() {
        // "a", then pointers each pointing at the one before: n pointers to follow.
        let chain = |n: usize| {
            let mut m = b"\x01a\x00".to_vec();
            let mut prev = 0u16;
            for _ in 0..n {
                let at = m.len() as u16;
                m.extend_from_slice(&(0xc000 | prev).to_be_bytes());
                prev = at;
            }
            (m, usize::from(prev))
        };
        let (m, last) = chain(MAX_POINTERS);
        assert_eq!(name_at(&m, last), Ok(("a".into(), last + 2)));
        let (m, last) = chain(MAX_POINTERS + 1);
        assert!(matches!(
            name_at(&m, last),
            Err(Bad(DnsError::BadName {
                reason: "too many compression pointers",
                ..
            }))
        ));
    }

    #[test]
    fn end_in_place_is_after_the_first_pointer() {
        let m = b"\x03com\x00\x03www\xc0\x00\x01x\xc0\x05junk";
        assert_eq!(name_at(m, 0), Ok(("com".into(), 5)));
        assert_eq!(name_at(m, 5), Ok(("www.com".into(), 11)));
        assert_eq!(name_at(m, 11), Ok(("x.www.com".into(), 15)));
        assert_eq!(name_at(&m[..14], 11), Err(Short));
        assert_eq!(name_at(m, 99), Err(Short));
    }

    #[test]
    fn root_and_escaped_names() {
        let mut m = header(2);
        m.push(0); // root
        m.extend_from_slice(&[0, 2, 0, 1]);
        m.extend_from_slice(b"\x05a.b\x01\\\x02\x00 \x03Com\x00");
        m.extend_from_slice(&[0, 1, 0, 1]);
        let p = parse(&m).unwrap();
        assert_eq!(p.questions[0].name, "");
        assert_eq!(
            p.questions[1].name,
            "a\\.b\x01\\\\.\\000\\032.com".replace('\x01', "\\001")
        );
        assert!(!p.questions[1]
            .name
            .chars()
            .any(|c| c.is_control() || c == ' '));
    }

    #[test]
    fn compression_loops_are_errors() {
        // Pointer to itself.
        let mut m = header(1);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(
            parse(&m),
            Err(DnsError::PointerLoop {
                offset: 12,
                target: 12
            })
        );
        // A label, then a pointer back to that label (a two-step loop).
        let mut m = header(1);
        m.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(
            parse(&m),
            Err(DnsError::PointerLoop {
                offset: 14,
                target: 12
            })
        );
        // A forward pointer to a pointer back: the forward one is refused.
        let mut m = header(1);
        m.extend_from_slice(&[0xc0, 16, 0, 1, 0xc0, 12, 0, 1]);
        assert_eq!(
            parse(&m),
            Err(DnsError::PointerLoop {
                offset: 12,
                target: 16
            })
        );
        // Backwards into a run that then points forward again.
        let mut m = header(2);
        m.extend_from_slice(&[1, b'a', 0xc0, 20, 0, 1, 0, 1]); // q1 at 12, pointer to q2
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // q2 at 20, pointer to q1
        assert_eq!(
            parse(&m),
            Err(DnsError::PointerLoop {
                offset: 14,
                target: 20
            })
        );
    }

    #[test]
    fn pointer_past_end() {
        let mut m = header(1);
        m.extend_from_slice(&[0xc1, 0xff, 0, 1, 0, 1]);
        assert_eq!(
            parse(&m),
            Err(DnsError::PointerOutOfRange {
                offset: 12,
                target: 0x1ff
            })
        );
    }

    #[test]
    fn bad_labels() {
        let mut m = header(1);
        m.push(64);
        m.extend_from_slice(&[b'a'; 64]);
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(matches!(
            parse(&m),
            Err(DnsError::BadName { offset: 12, .. })
        ));
        // 5 labels of 63 bytes: 320 bytes on the wire.
        let mut m = header(1);
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(matches!(
            parse(&m),
            Err(DnsError::BadName {
                reason: "name longer than 255 bytes",
                ..
            })
        ));
        // Exactly 255 on the wire: 4 * (1 + 62) + (1 + 1) + the final zero.
        let mut m = header(1);
        for _ in 0..4 {
            m.push(62);
            m.extend_from_slice(&[b'b'; 62]);
        }
        m.extend_from_slice(b"\x01c");
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        let p = parse(&m).unwrap();
        assert_eq!(p.questions[0].name.len(), 4 * 63 + 1);
        // One byte more is refused.
        m[12 + 4 * 63] = 2;
        m.insert(12 + 4 * 63 + 1, b'c');
        assert!(matches!(parse(&m), Err(DnsError::BadName { .. })));
    }

    proptest::proptest! {
        /// The one-pass copy of plain labels writes what the byte-by-byte form writes, for any
        /// bytes (after any name already there).
        #[test]
        fn labels_read_as_byte_by_byte(
            before in "[a-z.]{0,8}",
            label in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let mut fast = before.clone();
            push_label(&mut fast, &label);
            let mut slow = before;
            for &b in &label {
                match b {
                    b'.' | b'\\' => slow.push_str(&format!("\\{}", char::from(b))),
                    b'!'..=b'~' => slow.push(char::from(b.to_ascii_lowercase())),
                    _ => slow.push_str(&format!("\\{b:03}")),
                }
            }
            proptest::prop_assert_eq!(fast, slow);
        }
    }
}
