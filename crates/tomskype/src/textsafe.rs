//! Text for terminals: the one place where text that came from input (capture payloads, Zeek
//! logs, file names, indicator files, problem details) is made safe to print for people.
//!
//! A terminal obeys what it is sent: an escape sequence in a DNS name can clear the screen,
//! retitle the window or paint a fake verdict over the real one, and Unicode bidi and format
//! characters can reorder or hide what is shown. [`safe`] shows every such character as an
//! escape instead: C0 and C1 controls, DEL and ESC as `\xHH`, and the characters of Unicode's
//! general categories Cf (format: bidi embeddings, overrides and isolates, zero-width
//! characters, the byte-order mark), Zl and Zp (line and paragraph separators) as `\u{HHHH}`.
//! A backslash is doubled, so that an escape in the output always means an escaped character.
//! Everything else, other scripts included, is kept as it is. The text report shows input
//! through [`safe`]; the HTML report escapes for HTML and shows unsafe characters with
//! [`push_escaped`], the same way.
//!
//! JSON keeps the data exact: [`write_json_pretty`] writes what `serde_json` writes, except
//! that the same characters are written as JSON `\uXXXX` escapes (serde_json escapes only
//! U+0000-U+001F), so a JSON report is also safe to `cat` and still parses to the same strings.

use std::borrow::Cow;
use std::fmt;
use std::io;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Whether `c` must not reach a terminal as it is.
pub fn is_unsafe(c: char) -> bool {
    // ASCII first: nearly every character of a report, and only its controls are unsafe.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// `s` with every unsafe character escaped (and backslashes doubled); borrowed when there is
/// nothing to escape.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\\' || is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends `c` to `out`, escaped if it is unsafe (a backslash doubled).
fn push_char(out: &mut String, c: char) {
    if c == '\\' {
        out.push_str("\\\\");
    } else if !is_unsafe(c) {
        out.push(c);
    } else {
        push_escaped(out, c);
    }
}

/// Appends the escape of `c` to `out`: `\xHH` below U+0100, `\u{HHHH}` above (for formats with
/// their own escaping, as HTML, which still show unsafe characters the same way).
pub fn push_escaped(out: &mut String, c: char) {
    use fmt::Write as _;
    // Writing to a String cannot fail.
    if (c as u32) < 0x100 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// A `Display` that shows a string through [`safe`]: `format!("{}", Safe(&name))`.
#[derive(Debug, Clone, Copy)]
pub struct Safe<'a>(pub &'a str);

impl fmt::Display for Safe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Through `pad`, so that widths and alignment (`{:<24}`) still apply.
        f.pad(&safe(self.0))
    }
}

/// A `Display` that shows any other `Display` (a path, an error chain) through [`safe`].
#[derive(Debug, Clone, Copy)]
pub struct SafeDisplay<T>(pub T);

impl<T: fmt::Display> fmt::Display for SafeDisplay<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = if f.alternate() {
            format!("{:#}", self.0)
        } else {
            self.0.to_string()
        };
        f.pad(&safe(&text))
    }
}

/// Writes `value` as pretty JSON (as `serde_json::to_writer_pretty`), with every unsafe
/// character written as a `\uXXXX` escape; the JSON parses to exactly the same data. Errors
/// keep their I/O kind, so a closed pipe is still recognisable.
pub fn write_json_pretty<W: io::Write, T: ?Sized + serde::Serialize>(
    out: W,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeJson::default());
    value
        .serialize(&mut ser)
        .map_err(|e| match e.io_error_kind() {
            Some(kind) => io::Error::new(kind, e),
            None => io::Error::other(e),
        })
}

/// [`write_json_pretty`] on one line, as `serde_json::to_writer` writes (for JSON lines).
pub fn write_json_compact<W: io::Write, T: ?Sized + serde::Serialize>(
    out: W,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeCompact);
    value
        .serialize(&mut ser)
        .map_err(|e| match e.io_error_kind() {
            Some(kind) => io::Error::new(kind, e),
            None => io::Error::other(e),
        })
}

/// Writes a piece of a JSON string with every unsafe character as `\uXXXX` (UTF-16 units).
fn write_safe_fragment<W: ?Sized + io::Write>(w: &mut W, fragment: &str) -> io::Result<()> {
    // Fast path, measured: printable ASCII needs no look-up (serde_json escapes the C0 controls
    // itself; DEL and everything past ASCII are checked below). On a 40 MB capture's JSON
    // report the per-character check cost 611 M instructions, 5x the rest of the writing.
    // (`is_ascii` and `contains` on bytes go a word or a vector at a time.)
    if fragment.is_ascii() && !fragment.as_bytes().contains(&0x7f) {
        return w.write_all(fragment.as_bytes());
    }
    let mut start = 0;
    for (i, c) in fragment.char_indices() {
        if is_unsafe(c) {
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
    }
    w.write_all(&fragment.as_bytes()[start..])
}

/// serde_json's compact formatter (the trait's defaults), with unsafe characters escaped.
struct SafeCompact;

impl serde_json::ser::Formatter for SafeCompact {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_safe_fragment(w, fragment)
    }
}

/// serde_json's pretty formatter, with unsafe characters in strings escaped.
#[derive(Default)]
struct SafeJson {
    pretty: serde_json::ser::PrettyFormatter<'static>,
}

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_safe_fragment(w, fragment)
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        for s in [
            "",
            "skype.tom.com",
            "北京 ünïcödé",
            "a b\u{a0}c",
            "emoji 🙂",
        ] {
            assert!(matches!(safe(s), Cow::Borrowed(t) if t == s), "{s}");
        }
    }

    #[test]
    fn controls_and_escape_sequences_are_shown_escaped() {
        assert_eq!(safe("\x1b[2Jgone"), "\\x1b[2Jgone");
        assert_eq!(safe("a\nb\rc\td\0e\x7f"), "a\\x0ab\\x0dc\\x09d\\x00e\\x7f");
        assert_eq!(safe("c1 \u{9b}31m"), "c1 \\x9b31m");
        assert_eq!(safe("back\\slash"), "back\\\\slash");
        // An escape already written out in the input stays distinguishable from a real one.
        assert_ne!(safe("\\x1b"), safe("\x1b"));
    }

    #[test]
    fn bidi_format_and_separator_characters_are_shown_escaped() {
        let cases = [
            ('\u{202e}', "\\u{202e}"),
            ('\u{202a}', "\\u{202a}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
            ('\u{200b}', "\\u{200b}"),
            ('\u{200f}', "\\u{200f}"),
            ('\u{2028}', "\\u{2028}"),
            ('\u{2029}', "\\u{2029}"),
            ('\u{feff}', "\\u{feff}"),
            ('\u{ad}', "\\xad"),
            ('\u{e0041}', "\\u{e0041}"),
        ];
        for (c, want) in cases {
            assert!(is_unsafe(c), "{c:?}");
            assert_eq!(safe(&format!("x{c}y")), format!("x{want}y"));
        }
    }

    #[test]
    fn no_unsafe_character_survives() {
        let all: String = (0u32..0x11_0000).filter_map(char::from_u32).collect();
        let out = safe(&all);
        assert!(!out.chars().any(is_unsafe));
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn json_is_exact_and_safe() {
        let value = serde_json::json!({
            "k\u{202e}": ["a\x1b[2J\u{9b}\u{2028}\u{e0041}\u{7f}", "plain 北京 \\ \" /", 1.5, null],
        });
        let mut out = Vec::new();
        write_json_pretty(&mut out, &value).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'), "{text}");
        assert!(
            text.contains("\\u001b[2J\\u009b\\u2028\\udb40\\udc41\\u007f"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        // Plain data comes out as serde_json writes it.
        let plain = serde_json::json!({"a": [1, {"b": "c"}], "d": "北京"});
        let mut out = Vec::new();
        write_json_pretty(&mut out, &plain).unwrap();
        assert_eq!(out, serde_json::to_vec_pretty(&plain).unwrap());
        let mut out = Vec::new();
        write_json_compact(&mut out, &plain).unwrap();
        assert_eq!(out, serde_json::to_vec(&plain).unwrap());
        let mut out = Vec::new();
        write_json_compact(&mut out, &value).unwrap();
        assert!(!String::from_utf8_lossy(&out).chars().any(is_unsafe));
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
            value
        );
    }

    #[test]
    fn display_wrappers_escape_and_keep_padding() {
        assert_eq!(format!("[{:<6}]", Safe("a\x1b")), "[a\\x1b ]");
        let path = std::path::Path::new("dir/\u{202e}gpj.pcap");
        assert_eq!(
            SafeDisplay(path.display()).to_string(),
            "dir/\\u{202e}gpj.pcap"
        );
    }
}
