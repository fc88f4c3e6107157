//! Fuzz target: `http::parse_request` and the request's helper methods.
//!
//! A parsed request's fields never hold control characters; `path()` is a suffix of the
//! target (or `/`); every query parameter name is non-empty and inside the path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::http;

fuzz_target!(|data: &[u8]| {
    let looks = http::looks_like_request(data);
    if let Ok(req) = http::parse_request(data) {
        assert!(looks);
        let fields = [&req.method, &req.target, &req.version]
            .into_iter()
            .chain(req.host.as_ref())
            .chain(req.user_agent.as_ref());
        for f in fields {
            assert!(
                !f.chars().any(char::is_control),
                "control character in {f:?}"
            );
        }
        let path = req.path();
        assert!(path == "/" || req.target.ends_with(path));
        for name in req.query_param_names() {
            assert!(!name.is_empty());
            assert!(path.contains(name));
        }
    }
});
