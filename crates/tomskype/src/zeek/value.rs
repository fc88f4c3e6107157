//! Stage 1, Zeek logs: field values. Zeek writes a field as text with `\xHH` escapes (TSV) or
//! as a JSON value; this file turns either into a [`Value`] and reads the few field types the
//! pipeline needs (addresses, ports, counts, times, intervals). It knows nothing of which log
//! a field belongs to: that is `record.rs`'s work.

use std::borrow::Cow;
use std::net::IpAddr;

/// One field of one record: borrowed from the line when it has no escapes (a TSV log's fields
/// almost never do), owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// The field is unset (`-` in TSV, absent or `null` in JSON).
    Unset,
    /// A single value, unescaped.
    One(Cow<'a, str>),
    /// A set or vector, each element unescaped (empty for `(empty)` or `[]`).
    List(Vec<Cow<'a, str>>),
}

impl Value<'_> {
    /// The single value, if set and not a list.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::One(s) => Some(s),
            _ => None,
        }
    }

    /// The elements: a list's, a single value as a one-element list, none when unset.
    pub fn items(&self) -> Vec<&str> {
        match self {
            Value::Unset => Vec::new(),
            Value::One(s) => vec![s.as_ref()],
            Value::List(v) => v.iter().map(AsRef::as_ref).collect(),
        }
    }
}

/// Undoes Zeek's ASCII writer escaping: `\xHH` becomes the byte HH and `\\` a backslash;
/// any other backslash stays as it is. Bytes that do not form UTF-8 are replaced. Text with no
/// backslash comes back borrowed.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if b.get(i + 1) == Some(&b'x') {
                let hex = b
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            } else if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Parses Zeek's `time` (epoch seconds with a fraction, as `1300475167.096535`) into
/// nanoseconds since the epoch, exactly (no float rounding). Also takes `interval`s.
pub fn parse_seconds(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos: i64 = 0;
    for (k, c) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(c - b'0') * 10i64.pow(8 - k as u32);
    }
    let total = whole.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(if neg { -total } else { total })
}

/// Parses an address field.
pub fn parse_addr(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

/// Parses a `port` or `count` that must fit a port number.
pub fn parse_port(s: &str) -> Option<u16> {
    s.trim().parse().ok()
}

/// Parses a `count`.
pub fn parse_count(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_hex_and_backslashes() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("a\\x09b"), "a\tb");
        assert_eq!(unescape("/non_printable_\\x07"), "/non_printable_\u{7}");
        assert_eq!(unescape("\\\\x07"), "\\x07");
        // A broken escape stays as written.
        assert_eq!(unescape("50\\x"), "50\\x");
        assert_eq!(unescape("\\xZZ"), "\\xZZ");
        // Escaped UTF-8 bytes come back as the character.
        assert_eq!(unescape("\\xf0\\x9f\\x98\\x84"), "😄");
    }

    #[test]
    fn times_are_exact() {
        assert_eq!(
            parse_seconds("1300475167.096535"),
            Some(1_300_475_167_096_535_000)
        );
        assert_eq!(parse_seconds("0.000001"), Some(1_000));
        assert_eq!(parse_seconds("12"), Some(12_000_000_000));
        assert_eq!(parse_seconds("1.1234567891"), Some(1_123_456_789));
        assert_eq!(parse_seconds("-1.5"), Some(-1_500_000_000));
        for bad in [
            "",
            ".",
            "XXXXXXXXXX.XXXXXX",
            "1e9",
            "1.2.3",
            "99999999999999999999",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_give_items() {
        assert!(Value::Unset.items().is_empty());
        assert_eq!(Value::One("a".into()).items(), ["a"]);
        assert_eq!(
            Value::List(vec!["a".into(), "b".into()]).items(),
            ["a", "b"]
        );
        assert_eq!(Value::List(vec![]).text(), None);
        assert_eq!(parse_port("65536"), None);
        assert_eq!(parse_addr("fe80::1"), "fe80::1".parse().ok());
    }
}
