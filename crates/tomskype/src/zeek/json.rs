//! Stage 1, Zeek logs: the JSON format (`LogAscii::use_json=T`): one object per line with
//! flat, dotted keys (`"id.orig_h"`), sets and vectors as arrays, times as epoch seconds (or
//! ISO 8601 strings with `JSON::TS_ISO8601`). [`parse_line`] turns a line into a record of
//! [`Value`]s; what the fields mean is `record.rs`'s work.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::value::Value;
use super::Record;

/// One line of a JSON log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonRecord {
    fields: BTreeMap<String, Value<'static>>,
}

impl Record for JsonRecord {
    fn field(&self, name: &str) -> Option<&Value<'_>> {
        self.fields.get(name)
    }
}

fn scalar(v: &Json) -> Option<Cow<'static, str>> {
    match v {
        Json::String(s) => Some(s.clone().into()),
        Json::Number(n) => Some(n.to_string().into()),
        Json::Bool(b) => Some(if *b { "T" } else { "F" }.into()),
        Json::Null | Json::Array(_) | Json::Object(_) => None,
    }
}

/// Parses one line. Nested objects (which Zeek does not write) are flattened with dots.
pub fn parse_line(line: &str) -> Result<JsonRecord, String> {
    let obj: serde_json::Map<String, Json> =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut fields = BTreeMap::new();
    flatten("", obj, &mut fields);
    Ok(JsonRecord { fields })
}

fn flatten(
    prefix: &str,
    obj: serde_json::Map<String, Json>,
    out: &mut BTreeMap<String, Value<'static>>,
) {
    for (k, v) in obj {
        let key = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        let value = match v {
            Json::Object(inner) => {
                flatten(&key, inner, out);
                continue;
            }
            Json::Null => Value::Unset,
            Json::Array(items) => Value::List(items.iter().filter_map(scalar).collect()),
            other => scalar(&other).map_or(Value::Unset, Value::One),
        };
        out.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flat_keys_arrays_and_numbers() {
        let r = parse_line(
            r#"{"ts":1300475167.096535,"id.orig_h":"10.0.0.1","id.orig_p":5353,"answers":["a.example","1.2.3.4"],"AA":false,"rtt":null}"#,
        )
        .unwrap();
        assert_eq!(r.field("ts").unwrap().text(), Some("1300475167.096535"));
        assert_eq!(r.field("id.orig_p").unwrap().text(), Some("5353"));
        assert_eq!(
            r.field("answers").unwrap().items(),
            ["a.example", "1.2.3.4"]
        );
        assert_eq!(r.field("AA").unwrap().text(), Some("F"));
        assert_eq!(r.field("rtt"), Some(&Value::Unset));
        assert_eq!(r.field("query"), None);
    }

    #[test]
    fn nested_objects_flatten() {
        let r = parse_line(r#"{"id":{"orig_h":"10.0.0.1","resp_p":80}}"#).unwrap();
        assert_eq!(r.field("id.orig_h").unwrap().text(), Some("10.0.0.1"));
        assert_eq!(r.field("id.resp_p").unwrap().text(), Some("80"));
    }

    #[test]
    fn bad_lines_are_refused() {
        for bad in ["", "[1,2]", "{\"ts\":XXXXXXXXXX.XXXXXX}", "{\"a\":1", "42"] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }
}
