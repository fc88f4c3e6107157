//! Fuzz target: the DNS parser (`parse`, `parse_tcp`, `parse_partial`) and `resolutions()`.
//!
//! Checks what the parser promises: bounded question and answer counts, names without
//! control characters or spaces, lowercase; a message that parses strictly parses the same
//! leniently; every name `resolutions()` yields is a record's name; a `Parser` that reuses
//! the memory of every earlier input gives the same results as the one-shot functions.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tomskype::decode::dns::{self, DnsMessage, Parser, MAX_ANSWERS, MAX_QUESTIONS};

thread_local! {
    /// One parser for the whole run: each input is parsed after all the earlier ones.
    static REUSED: RefCell<Parser> = RefCell::new(Parser::new());
}

fn check(msg: &DnsMessage) {
    assert!(msg.questions.len() <= MAX_QUESTIONS);
    assert!(msg.answers.len() <= MAX_ANSWERS);
    let names = msg
        .questions
        .iter()
        .map(|q| q.name.as_str())
        .chain(msg.answers.iter().map(|r| r.name.as_str()));
    for name in names {
        assert!(
            !name
                .chars()
                .any(|c| c.is_control() || c == ' ' || c.is_ascii_uppercase()),
            "bad presentation name {name:?}"
        );
        assert!(name.is_ascii(), "non-ASCII name {name:?}");
    }
    for (name, _) in msg.resolutions() {
        assert!(msg.answers.iter().any(|r| r.name == name));
    }
}

fuzz_target!(|data: &[u8]| {
    let strict = dns::parse(data);
    if let Ok(m) = &strict {
        check(m);
    }
    let partial = dns::parse_partial(data);
    if let Ok(m) = &partial {
        check(m);
    }
    if let Ok(m) = &strict {
        assert_eq!(
            Ok(m),
            partial.as_ref(),
            "strict success implies the same lenient result"
        );
    }
    let tcp = dns::parse_tcp(data);
    if let Ok(m) = &tcp {
        check(m);
    }
    REUSED.with(|p| {
        let mut p = p.borrow_mut();
        assert_eq!(p.parse(data).cloned(), strict, "reused parser, udp");
        assert_eq!(p.parse_tcp(data).cloned(), tcp, "reused parser, tcp");
    });
});
