//! Stage 1, Zeek logs: the ASCII (TSV) format. A log opens with `#` header lines: the
//! separator (`#separator \x09`, the only one written with a space), the set separator, the
//! strings that stand for empty and unset fields, the log's `#path`, then `#fields` (column
//! names) and `#types`. [`TsvHeader`] keeps that state as the lines come and splits data lines
//! into [`Value`]s by column name. It also takes the one-line header that `zeek-cut -m` writes
//! (the column names without `#fields`). What the columns mean is `record.rs`'s work.

use rustc_hash::FxHashMap;

use super::value::{unescape, Value};
use super::Record;

/// The header state of one TSV log.
#[derive(Debug, Clone)]
pub struct TsvHeader {
    /// Field separator (a tab unless `#separator` says otherwise).
    pub separator: String,
    /// Separator of set and vector elements.
    pub set_separator: String,
    /// What an empty set or string is written as.
    pub empty: String,
    /// What an unset field is written as.
    pub unset: String,
    /// The log's `#path` (its kind: `conn`, `dns`, ...), if given.
    pub path: Option<String>,
    /// Column names, in order.
    pub fields: Vec<String>,
    /// Column types, in order (may be empty when the log has no `#types`).
    pub types: Vec<String>,
    index: FxHashMap<String, usize>,
    /// Whether each column holds sets or vectors ([`TsvHeader::list_columns`]), kept with
    /// `fields` and `types` by the two that set them.
    lists: Vec<bool>,
}

impl Default for TsvHeader {
    fn default() -> Self {
        TsvHeader {
            separator: "\t".into(),
            set_separator: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
            index: FxHashMap::default(),
            lists: Vec::new(),
        }
    }
}

/// Columns whose values are sets even when a log has no `#types` (cut logs).
const LIST_COLUMNS: [&str; 4] = ["answers", "TTLs", "tunnel_parents", "tags"];

impl TsvHeader {
    /// Takes one `#` line. Lines that are not Zeek directives (comments, `#open` and `#close`
    /// with their dates) are ignored.
    pub fn directive(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("#separator ") {
            let sep = unescape(rest.trim_end_matches(['\r', '\n']));
            if !sep.is_empty() {
                self.separator = sep.into_owned();
            }
            return;
        }
        let Some(body) = line.strip_prefix('#') else {
            return;
        };
        let Some((key, value)) = body.split_once(self.separator.as_str()) else {
            return;
        };
        match key {
            "set_separator" => self.set_separator = unescape(value).into_owned(),
            "empty_field" => self.empty = unescape(value).into_owned(),
            "unset_field" => self.unset = unescape(value).into_owned(),
            "path" => self.path = Some(unescape(value).into_owned()),
            "fields" => self.set_fields(owned(split(value, &self.separator))),
            "types" => self.set_types(owned(split(value, &self.separator))),
            _ => {}
        }
    }

    /// Whether the column names are known.
    pub fn has_fields(&self) -> bool {
        !self.fields.is_empty()
    }

    /// Takes the column-name line that `zeek-cut -m` writes in place of the header, when it
    /// looks like one (tab-separated names, among them `uid` or `id.orig_h`). Returns whether
    /// it did.
    pub fn cut_header(&mut self, line: &str) -> bool {
        let names: Vec<String> = line.split('\t').map(str::to_owned).collect();
        let looks = names.len() > 1
            && names.iter().any(|n| n == "uid" || n == "id.orig_h")
            && names.iter().all(|n| {
                !n.is_empty()
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
            });
        if looks {
            self.set_fields(names);
        }
        looks
    }

    /// New column names: the types of the old ones no longer hold.
    fn set_fields(&mut self, names: Vec<String>) {
        self.index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        self.fields = names;
        self.set_types(Vec::new());
    }

    fn set_types(&mut self, types: Vec<String>) {
        self.types = types;
        self.lists = self.list_columns();
    }

    /// Whether each column holds sets or vectors: by its type, or by its name when the log
    /// has no types.
    fn list_columns(&self) -> Vec<bool> {
        (0..self.fields.len())
            .map(|column| match self.types.get(column) {
                Some(t) => t.starts_with("set[") || t.starts_with("vector["),
                None => self
                    .fields
                    .get(column)
                    .is_some_and(|n| LIST_COLUMNS.contains(&n.as_str())),
            })
            .collect()
    }

    /// Splits a data line into a record. Fails (with the reason) when there is no `#fields`
    /// yet or the line has the wrong number of columns. The values borrow from `line`.
    pub fn record<'a>(&'a self, line: &'a str) -> Result<TsvRecord<'a>, String> {
        if self.fields.is_empty() {
            return Err("data line before the #fields header".into());
        }
        let mut values = Vec::with_capacity(self.fields.len());
        let mut raw = split(line, &self.separator);
        // The columns first: `zip` asks its first iterator first, and a field past the last
        // column must stay in `raw` to be counted.
        for (&list, v) in self.lists.iter().zip(raw.by_ref()) {
            values.push(if v == self.unset {
                Value::Unset
            } else if list {
                if v == self.empty {
                    Value::List(Vec::new())
                } else {
                    Value::List(split(v, &self.set_separator).map(unescape).collect())
                }
            } else if v == self.empty {
                Value::One("".into())
            } else {
                Value::One(unescape(v))
            });
        }
        let found = values.len() + raw.count();
        if found != self.fields.len() {
            return Err(format!(
                "expected {} fields, found {found}",
                self.fields.len()
            ));
        }
        Ok(TsvRecord {
            header: self,
            values,
        })
    }
}

/// The header's column names and types: unescaped, owned.
fn owned<'a>(parts: impl Iterator<Item = &'a str>) -> Vec<String> {
    parts.map(|p| unescape(p).into_owned()).collect()
}

/// `text` split at `sep`: at a one-byte separator (a tab, a comma: what Zeek writes) by a
/// byte search, not `str::split`'s general search for a string (which took 6% of reading a
/// conn.log).
fn split<'a>(text: &'a str, sep: &'a str) -> Split<'a> {
    match sep.as_bytes() {
        &[b] if b.is_ascii() => Split::Char(text.split(char::from(b))),
        _ => Split::Str(text.split(sep)),
    }
}

/// [`split`]'s two ways.
enum Split<'a> {
    Char(std::str::Split<'a, char>),
    Str(std::str::Split<'a, &'a str>),
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Split::Char(s) => s.next(),
            Split::Str(s) => s.next(),
        }
    }
}

/// One data line of a TSV log.
#[derive(Debug)]
pub struct TsvRecord<'a> {
    header: &'a TsvHeader,
    values: Vec<Value<'a>>,
}

impl Record for TsvRecord<'_> {
    fn field(&self, name: &str) -> Option<&Value<'_>> {
        self.header
            .index
            .get(name)
            .and_then(|&i| self.values.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lines: &[&str]) -> TsvHeader {
        let mut h = TsvHeader::default();
        for l in lines {
            h.directive(l);
        }
        h
    }

    const DNS: [&str; 7] = [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tdns",
        "#fields\tts\tquery\tanswers\trcode_name",
        "#types\ttime\tstring\tvector[string]\tstring",
    ];

    #[test]
    fn reads_the_header_and_splits_sets() {
        let h = header(&DNS);
        assert_eq!(h.path.as_deref(), Some("dns"));
        assert_eq!(h.fields.len(), 4);
        let r = h
            .record("1.5\tskype.tom.com\tcdn.tom.com,211.100.41.6\t-")
            .unwrap();
        assert_eq!(
            r.field("answers").unwrap().items(),
            ["cdn.tom.com", "211.100.41.6"]
        );
        assert_eq!(r.field("rcode_name"), Some(&Value::Unset));
        assert_eq!(r.field("nope"), None);
        let r = h.record("1.5\t(empty)\t(empty)\tNOERROR").unwrap();
        assert_eq!(r.field("query"), Some(&Value::One("".into())));
        assert_eq!(r.field("answers"), Some(&Value::List(Vec::new())));
    }

    #[test]
    fn other_separators_and_escapes() {
        let h = header(&[
            "#separator \\x7c",
            "#set_separator|;",
            "#unset_field|NONE",
            "#fields|uri|tags",
            "#types|string|set[enum]",
        ]);
        let r = h.record("/a\\x7cb|x;y").unwrap();
        assert_eq!(r.field("uri").unwrap().text(), Some("/a|b"));
        assert_eq!(r.field("tags").unwrap().items(), ["x", "y"]);
        assert_eq!(
            h.record("NONE|NONE").unwrap().field("uri"),
            Some(&Value::Unset)
        );
    }

    #[test]
    fn bad_lines_say_why() {
        let h = header(&DNS);
        assert!(h
            .record("1\t2")
            .unwrap_err()
            .contains("expected 4 fields, found 2"));
        assert!(h
            .record("1\t2\t3\t4\t5")
            .unwrap_err()
            .contains("expected 4 fields, found 5"));
        let empty = TsvHeader::default();
        assert!(empty.record("a\tb").unwrap_err().contains("#fields"));
    }

    #[test]
    fn separators_of_several_bytes() {
        let h = header(&[
            "#separator \x3a\x3a",
            "#set_separator::, ",
            "#fields::uri::tags",
            "#types::string::set[enum]",
        ]);
        let r = h.record("/a:b::x, y").unwrap();
        assert_eq!(r.field("uri").unwrap().text(), Some("/a:b"));
        assert_eq!(r.field("tags").unwrap().items(), ["x", "y"]);
        assert!(h.record("/a::b::c").unwrap_err().contains("found 3"));
    }

    #[test]
    fn a_new_fields_line_forgets_the_old_types() {
        let mut h = header(&DNS);
        h.directive("#fields\tanswers\tquery");
        // No types now: `answers` is a set by its name, `query` is not.
        let r = h.record("a,b\tc,d").unwrap();
        assert_eq!(r.field("answers").unwrap().items(), ["a", "b"]);
        assert_eq!(r.field("query").unwrap().text(), Some("c,d"));
    }

    #[test]
    fn values_without_escapes_borrow_the_line() {
        let h = header(&DNS);
        let r = h.record("1.5\tskype.tom.com\ta\\x2cb,c\t-").unwrap();
        assert!(matches!(
            r.field("query"),
            Some(Value::One(std::borrow::Cow::Borrowed("skype.tom.com")))
        ));
        assert_eq!(r.field("answers").unwrap().items(), ["a,b", "c"]);
    }

    #[test]
    fn takes_zeek_cut_headers() {
        let mut h = TsvHeader::default();
        assert!(!h.cut_header("hello world"));
        assert!(!h.cut_header("1.2\t3.4"));
        assert!(h.cut_header("uid\tid.orig_h\tid.resp_h\tanswers"));
        let r = h.record("C1\t10.0.0.1\t10.0.0.2\ta,b").unwrap();
        assert_eq!(r.field("answers").unwrap().items(), ["a", "b"]);
    }
}
