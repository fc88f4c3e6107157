//! Fuzz target: the Skype protocol recognizer (`decode::skype`). The first four bytes are the
//! UDP ports, the rest the payload, which is also read as a TCP segment's. Never panics; a
//! Microsoft STUN sign only comes from a payload with STUN's magic cookie, a classic sign never
//! from the excluded ports; each TCP shape holds what its name says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::skype::{self, SkypeSign, TcpShape};

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
    let tls_header = matches!(payload, [0x14..=0x17, 0x03, ..]);
    match skype::tcp_shape(payload) {
        TcpShape::EmptyHandshake => assert!(matches!(payload, [0x16, 3, 0..=3, 0, 0])),
        TcpShape::EmptyAppData => assert!(matches!(payload, [0x17, 3, 0..=3, 0, 0])),
        TcpShape::Tls => assert!(tls_header),
        TcpShape::Sslv2Hello => {
            let [h, l, 1, 3, ..] = *payload else {
                panic!("an SSLv2 hello without its header: {payload:02x?}");
            };
            assert!(h & 0x80 != 0);
            assert_eq!(
                usize::from(h & 0x7f) * 256 + usize::from(l) + 2,
                payload.len()
            );
        }
        TcpShape::Obfuscated => {
            let head = &payload[..payload.len().min(8)];
            assert!(payload.len() >= 3 && !tls_header);
            assert!(head.iter().any(|&b| b >= 0x80));
            assert!(head.iter().filter(|&&b| b == 0).count() <= 1);
        }
        TcpShape::Other => {}
    }
});
