//! Fuzz target: the Skype protocol recognizer (`decode::skype`). The first four bytes are the
//! UDP ports, the rest the payload. Never panics; a Microsoft STUN sign only comes from a
//! payload with STUN's magic cookie, a classic sign never from the excluded ports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::skype::{self, SkypeSign};

fuzz_target!(|data: &[u8]| {
    let Some((&[a, b, c, d], payload)) = data.split_first_chunk::<4>() else {
        return;
    };
    let (sport, dport) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
    let stun = skype::ms_stun(payload);
    match skype::udp(sport, dport, payload) {
        Some(SkypeSign::MsStun) => {
            assert!(stun);
            assert_eq!(payload.get(4..8), Some(&[0x21, 0x12, 0xa4, 0x42][..]));
        }
        Some(SkypeSign::ClassicUdp(head)) => {
            assert!(![53, 80, 443, 1119].contains(&sport) && ![53, 80, 443, 1119].contains(&dport));
            let n = payload.len().min(8);
            assert_eq!(&head[..n], &payload[..n]);
        }
        None => {}
    }
});
