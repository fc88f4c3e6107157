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
                self.separator = sep;
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
            "set_separator" => self.set_separator = unescape(value),
            "empty_field" => self.empty = unescape(value),
            "unset_field" => self.unset = unescape(value),
            "path" => self.path = Some(unescape(value)),
            "fields" => {
                let names = value.split(self.separator.as_str()).map(unescape).collect();
                self.set_fields(names);
                self.types.clear();
            }
            "types" => {
                self.types = value.split(self.separator.as_str()).map(unescape).collect();
            }
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
            self.types.clear();
        }
        looks
    }

    fn set_fields(&mut self, names: Vec<String>) {
        self.index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        self.fields = names;
    }

    fn is_list(&self, column: usize) -> bool {
        match self.types.get(column) {
            Some(t) => t.starts_with("set[") || t.starts_with("vector["),
            None => self
                .fields
                .get(column)
                .is_some_and(|n| LIST_COLUMNS.contains(&n.as_str())),
        }
    }

    /// Splits a data line into a record. Fails (with the reason) when there is no `#fields`
    /// yet or the line has the wrong number of columns.
    pub fn record(&self, line: &str) -> Result<TsvRecord<'_>, String> {
        if self.fields.is_empty() {
            return Err("data line before the #fields header".into());
        }
        let raw: Vec<&str> = line.split(self.separator.as_str()).collect();
        if raw.len() != self.fields.len() {
            return Err(format!(
                "expected {} fields, found {}",
                self.fields.len(),
                raw.len()
            ));
        }
        let values = raw
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if v == self.unset {
                    Value::Unset
                } else if self.is_list(i) {
                    if v == self.empty {
                        Value::List(Vec::new())
                    } else {
                        Value::List(v.split(self.set_separator.as_str()).map(unescape).collect())
                    }
                } else if v == self.empty {
                    Value::One(String::new())
                } else {
                    Value::One(unescape(v))
                }
            })
            .collect();
        Ok(TsvRecord {
            header: self,
            values,
        })
    }
}

/// One data line of a TSV log.
#[derive(Debug)]
pub struct TsvRecord<'a> {
    header: &'a TsvHeader,
    values: Vec<Value>,
}

impl Record for TsvRecord<'_> {
    fn field(&self, name: &str) -> Option<&Value> {
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
        assert_eq!(r.field("query"), Some(&Value::One(String::new())));
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
        let empty = TsvHeader::default();
        assert!(empty.record("a\tb").unwrap_err().contains("#fields"));
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
