//! Fuzz target: the QUIC Initial decoder (`decode::quic::Connections::datagram`) over a few
//! datagrams sharing its state. The first byte says how many datagrams the rest is cut into
//! (low two bits, plus one) and which of them the server sends (high bits). Never panics;
//! a name it gives is non-empty, bounded, lowercase, without control characters; the state
//! stays within its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::quic::{self, conn::MAX_PENDING, Connections, Endpoints};

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(head & 3) + 1;
    let client = Endpoints {
        src: "192.0.2.1".parse().unwrap(),
        sport: 50000,
        dst: "198.51.100.2".parse().unwrap(),
        dport: 443,
    };
    let server = Endpoints {
        src: client.dst,
        sport: client.dport,
        dst: client.src,
        dport: client.sport,
    };
    let mut conns = Connections::new();
    let size = rest.len().div_ceil(n).max(1);
    for (i, datagram) in rest.chunks(size).enumerate() {
        let ends = if head & (0x10 << i) != 0 { server } else { client };
        let _ = quic::looks_like_initial(datagram);
        if let Ok(Some(name)) = conns.datagram(ends, datagram) {
            assert!(!name.is_empty());
            assert!(name.len() <= 255 * 4, "name too long: {}", name.len());
            assert!(
                !name.chars().any(|c| c.is_control() || c.is_ascii_uppercase()),
                "bad name {name:?}"
            );
        }
        assert!(conns.pending() <= MAX_PENDING);
    }
});
