//! Fuzz target: `IndicatorSet::add_text` on arbitrary UTF-8 text.
//!
//! Never panics; on success every indicator is well-formed (id of the allowed characters,
//! weight in 0..=1, names lowercase and non-empty, HTTP paths starting with `/`), and the
//! matching functions run on names taken from the input without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

use tomskype::knowledge::indicators::{IndicatorSet, Matcher};

static EMBEDDED: OnceLock<IndicatorSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut set = IndicatorSet::default();
    let before = set.indicators.len();
    match set.add_text("fuzz.tsv", text) {
        Err(e) => {
            assert_eq!(set.indicators.len(), before, "nothing added on error");
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.tsv:"), "error names the file: {msg}");
        }
        Ok(()) => {
            for i in &set.indicators {
                assert!(!i.id.is_empty());
                assert!((0.0..=1.0).contains(&i.weight));
                assert!(!i.source.trim().is_empty());
                match &i.matcher {
                    Matcher::Name(n) => assert!(!n.is_empty() && *n == n.to_ascii_lowercase()),
                    Matcher::HttpUrl { host, path } => {
                        assert!(!host.is_empty() && path.starts_with('/'))
                    }
                    Matcher::HttpParam { host, param } => {
                        assert!(!host.is_empty() && !param.is_empty())
                    }
                    Matcher::UserAgent(ua) => assert!(!ua.is_empty()),
                    _ => {}
                }
            }
            let _ = set.info();
        }
    }
    // Match every line's words as names, hosts and paths: arbitrary text from the wire.
    let set = EMBEDDED.get_or_init(|| match IndicatorSet::embedded() {
        Ok(s) => s,
        Err(e) => panic!("embedded set: {e}"),
    });
    for word in text.split(['\t', '\n']).take(16) {
        let _ = set.match_name(word);
        let _ = set.match_http(Some(word), word, Some(word));
        let _ = tomskype::knowledge::indicators::name_under(word, "skype.tom.com");
    }
});
