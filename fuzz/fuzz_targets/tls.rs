//! Fuzz target: `tls::client_hello_sni`: never panics, and a name it gives is non-empty,
//! bounded, lowercase, without control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::tls;

fuzz_target!(|data: &[u8]| {
    let looks = tls::looks_like_tls_handshake(data);
    if let Ok(Some(name)) = tls::client_hello_sni(data) {
        assert!(
            looks,
            "an SNI came out of something that does not look like TLS"
        );
        assert!(!name.is_empty());
        assert!(name.len() <= 255 * 4, "name too long: {}", name.len());
        assert!(
            !name
                .chars()
                .any(|c| c.is_control() || c.is_ascii_uppercase()),
            "bad name {name:?}"
        );
    }
});
