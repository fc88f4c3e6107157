//! Fuzz target: the QUIC Initial decoder (`decode::quic::Connections::datagram`) over a few
//! datagrams sharing its state. The first byte says how many datagrams the rest is cut into
//! (low two bits, plus one), whether each chunk is a datagram as sent (bit 2 clear) or the
//! plaintext frames of a client Initial that the target encrypts first (bit 2 set, so that
//! the frame parser, the reassembly and the ClientHello parser are reached past the AEAD
//! tag), and which datagrams the server sends (high bits). Never panics; a name it gives is
//! non-empty, bounded, lowercase, without control characters; the state stays within its
//! bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tomskype::decode::quic::crypto::{Keys, Side};
use tomskype::decode::quic::{self, conn::MAX_PENDING, Connections, Endpoints, Version};

const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// A client Initial (v1, 4-byte packet number `pn`) carrying `frames`, protected as RFC 9001
/// says.
fn seal(frames: &[u8], pn: u32) -> Vec<u8> {
    let Some(keys) = Keys::new(Version::V1, &DCID, Side::Client) else {
        return Vec::new();
    };
    let mut payload = frames.to_vec();
    // Header protection samples 16 bytes from 4 bytes past the packet number.
    payload.resize(payload.len().max(4), 0);
    let mut pkt = vec![0xc3, 0, 0, 0, 1, DCID.len() as u8];
    pkt.extend_from_slice(&DCID);
    pkt.extend_from_slice(&[0, 0]); // no source id, no token
    let length = (4 + payload.len() + 16).min(0x3fff);
    pkt.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    let pn_offset = pkt.len();
    pkt.extend_from_slice(&pn.to_be_bytes());
    payload.truncate(length - 4 - 16);
    if keys.seal(u64::from(pn), &pkt, &mut payload).is_none() {
        return Vec::new();
    }
    pkt.extend_from_slice(&payload);
    let mut sample = [0u8; 16];
    sample.copy_from_slice(&pkt[pn_offset + 4..pn_offset + 20]);
    let mask = keys.mask(&sample);
    pkt[0] ^= mask[0] & 0x0f;
    for (b, m) in pkt[pn_offset..pn_offset + 4].iter_mut().zip(&mask[1..]) {
        *b ^= m;
    }
    pkt
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(head & 3) + 1;
    let encrypt = head & 4 != 0;
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
    for (i, chunk) in rest.chunks(size).enumerate() {
        let sealed;
        let (ends, datagram) = if encrypt {
            sealed = seal(chunk, i as u32);
            (client, &sealed[..])
        } else if head & (0x10 << i) != 0 {
            (server, chunk)
        } else {
            (client, chunk)
        };
        let _ = quic::looks_like_initial(datagram);
        if let Ok(Some(name)) = conns.datagram(ends, datagram) {
            assert!(!name.is_empty());
            assert!(name.len() <= 255 * 4, "name too long: {}", name.len());
            assert!(
                !name
                    .chars()
                    .any(|c| c.is_control() || c.is_ascii_uppercase()),
                "bad name {name:?}"
            );
        }
        assert!(conns.pending() <= MAX_PENDING);
    }
});
