//! Tests of the QUIC Initial decoder: the RFC 9001 and RFC 9369 Appendix A examples, a
//! ClientHello over several frames and packets, coalesced packets, the server's and the
//! client's later packets, and the bounds.

use super::conn::{MAX_CRYPTO_BYTES, MAX_PENDING};
use super::crypto::Side;
use super::*;
use crate::samples::quic::{client_hello, crypto_frame, initial_packet, Rng};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rfc_packet(file: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/data/quic/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    hex(&std::fs::read_to_string(path).unwrap())
}

fn ends(client_port: u16) -> Endpoints {
    Endpoints {
        src: "192.0.2.1".parse().unwrap(),
        sport: client_port,
        dst: "198.51.100.7".parse().unwrap(),
        dport: 443,
    }
}

fn server(e: Endpoints) -> Endpoints {
    Endpoints {
        src: e.dst,
        sport: e.dport,
        dst: e.src,
        dport: e.sport,
    }
}

#[test]
fn rfc9001_and_rfc9369_client_initials() {
    for file in [
        "rfc9001-a2-client-initial.hex",
        "rfc9369-a2-client-initial.hex",
    ] {
        let pkt = rfc_packet(file);
        assert!(looks_like_initial(&pkt), "{file}");
        let h = long_header(&pkt).unwrap();
        assert_eq!(h.dcid, hex("8394c8f03e515708"), "{file}");
        assert_eq!((h.scid.len(), h.pn_offset, h.len), (0, 18, 1200), "{file}");
        let mut c = Connections::new();
        assert_eq!(
            c.datagram(ends(5000), &pkt),
            Ok(Some("example.com".into())),
            "{file}"
        );
        assert_eq!(c.pending(), 0, "{file}");
    }
}

#[test]
fn the_rfc_plaintext_comes_out() {
    let pkt = rfc_packet("rfc9001-a2-client-initial.hex");
    let keys = crypto::Keys::new(Version::V1, &hex("8394c8f03e515708"), Side::Client).unwrap();
    let plain = open_packet(&pkt, 18, &keys).unwrap().unwrap();
    assert_eq!(plain.len(), 1162);
    assert_eq!(&plain[..8], hex("060040f1010000ed"));
    let frames = crypto_frames(&plain).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!((frames[0].0, frames[0].1.len()), (0, 241));
}

#[test]
fn tampered_or_cut_packets_are_errors() {
    let mut pkt = rfc_packet("rfc9001-a2-client-initial.hex");
    pkt[600] ^= 1;
    let mut c = Connections::new();
    assert_eq!(c.datagram(ends(1), &pkt), Err(QuicError::Undecryptable));
    let pkt = rfc_packet("rfc9001-a2-client-initial.hex");
    assert_eq!(
        c.datagram(ends(1), &pkt[..300]),
        Err(QuicError::Truncated("packet"))
    );
    assert_eq!(
        c.datagram(ends(1), &pkt[..7]),
        Err(QuicError::Truncated("destination connection id"))
    );
    let mut long_id = pkt.clone();
    long_id[5] = 21;
    assert_eq!(
        c.datagram(ends(1), &long_id),
        Err(QuicError::LongConnectionId)
    );
}

#[test]
fn cheap_test_refuses_other_traffic() {
    assert!(!looks_like_initial(&[]));
    assert!(!looks_like_initial(&[0xc0, 0, 0, 0]));
    // A Handshake packet of v1, a v1-typed Initial claiming v2, an unknown version, gQUIC.
    assert!(!looks_like_initial(&[0xe0, 0, 0, 0, 1, 8]));
    assert!(!looks_like_initial(&[0xc0, 0x6b, 0x33, 0x43, 0xcf, 8]));
    assert!(looks_like_initial(&[0xd0, 0x6b, 0x33, 0x43, 0xcf, 8]));
    assert!(!looks_like_initial(&[0xc0, 0xde, 0xad, 0xbe, 0xef, 8]));
    assert!(!looks_like_initial(b"\xc0Q050"));
    assert!(looks_like_initial(&[0xc3, 0xff, 0, 0, 0x1d, 8]));
    // DNS, RTP, a short header.
    assert!(!looks_like_initial(&[0x12, 0x34, 1, 0, 0, 1]));
    assert!(!looks_like_initial(&[0x80, 0x00, 0, 1, 0, 0]));
    assert!(!looks_like_initial(&[0x40, 0, 0, 0, 1, 0]));
}

/// The client's first flight for `sni`, with `pq` spanning two packets.
fn flight(version: Version, dcid: &[u8], sni: &str, pq: bool) -> Vec<Vec<u8>> {
    let hello = client_hello(&mut Rng::new(9), sni, pq);
    if !pq {
        let f = crypto_frame(0, &hello);
        return vec![initial_packet(
            version,
            Side::Client,
            dcid,
            dcid,
            b"s",
            0,
            &f,
            1162,
        )];
    }
    let (a, rest) = hello.split_at(500);
    let (b, c) = rest.split_at(300);
    let mut f1 = crypto_frame(500, b);
    f1.push(0x01); // PING
    f1.extend(crypto_frame(0, a));
    let f2 = [vec![0x02, 0, 0, 0, 0], crypto_frame(800, c)].concat();
    vec![
        initial_packet(version, Side::Client, dcid, dcid, b"s", 0, &f1, 1162),
        initial_packet(version, Side::Client, dcid, dcid, b"s", 1, &f2, 1162),
    ]
}

#[test]
fn a_client_hello_over_two_packets_in_either_order() {
    for version in [Version::V1, Version::V2, Version::Draft29] {
        let pkts = flight(
            version,
            b"\x01\x02\x03\x04\x05\x06\x07\x08",
            "api.skype.com",
            true,
        );
        let mut c = Connections::new();
        assert_eq!(c.datagram(ends(7), &pkts[0]), Ok(None));
        assert_eq!(c.pending(), 1);
        assert_eq!(
            c.datagram(ends(7), &pkts[1]),
            Ok(Some("api.skype.com".into()))
        );
        assert_eq!(c.pending(), 0);
        // The second packet first.
        let mut c = Connections::new();
        assert_eq!(c.datagram(ends(7), &pkts[1]), Ok(None));
        assert_eq!(
            c.datagram(ends(7), &pkts[0]),
            Ok(Some("api.skype.com".into()))
        );
        // Both coalesced in one datagram.
        let mut c = Connections::new();
        let both = [pkts[0].clone(), pkts[1].clone()].concat();
        assert_eq!(c.datagram(ends(7), &both), Ok(Some("api.skype.com".into())));
    }
}

#[test]
fn connections_are_kept_apart() {
    let a = flight(Version::V1, b"aaaaaaaa", "a.skype.com", true);
    let b = flight(Version::V1, b"bbbbbbbb", "b.skype.com", true);
    let mut c = Connections::new();
    assert_eq!(c.datagram(ends(1), &a[0]), Ok(None));
    assert_eq!(c.datagram(ends(2), &b[0]), Ok(None));
    // The same id from another port is another connection.
    assert_eq!(c.datagram(ends(3), &a[1]), Ok(None));
    assert_eq!(c.datagram(ends(2), &b[1]), Ok(Some("b.skype.com".into())));
    assert_eq!(c.datagram(ends(1), &a[1]), Ok(Some("a.skype.com".into())));
    assert_eq!(c.pending(), 1);
}

#[test]
fn server_and_later_client_packets_are_not_errors() {
    let dcid = b"\x11\x22\x33\x44\x55\x66\x77\x88";
    let e = ends(4433);
    let mut c = Connections::new();
    let first = flight(Version::V1, dcid, "config.skype.com", false);
    assert_eq!(
        c.datagram(e, &first[0]),
        Ok(Some("config.skype.com".into()))
    );
    // The server's Initial (its own ids; keys from the client's first id), coalesced with a
    // Handshake packet and followed by padding.
    let ack = [0x02, 0, 0, 0, 0];
    let mut dgram = initial_packet(Version::V1, Side::Server, dcid, b"s", b"srv", 0, &ack, 0);
    dgram.extend_from_slice(&[
        0xe0, 0, 0, 0, 1, 1, b's', 3, b's', b'r', b'v', 4, 9, 9, 9, 9,
    ]);
    dgram.extend_from_slice(&[0; 20]);
    assert_eq!(c.datagram(server(e), &dgram), Ok(None));
    // The client's acknowledgement, sent to the server's id.
    let later = initial_packet(Version::V1, Side::Client, dcid, b"srv", b"s", 2, &ack, 1162);
    assert_eq!(c.datagram(e, &later), Ok(None));
    // Without the client's first packet, neither can be opened.
    let mut fresh = Connections::new();
    assert_eq!(fresh.datagram(e, &later), Err(QuicError::Undecryptable));
    assert_eq!(
        fresh.datagram(server(e), &dgram),
        Err(QuicError::Undecryptable)
    );
}

#[test]
fn frames_an_initial_may_not_hold_are_errors() {
    let dcid = b"12345678";
    for (frames, ty) in [
        (vec![0x08, 0, 0], 0x08u64),       // STREAM
        (vec![0x06, 0x00, 0x10, 1, 2], 6), // CRYPTO longer than the packet
        (vec![0x02, 0, 0, 0x7f], 2),       // ACK with a range count beyond the packet
    ] {
        let mut padded = frames.clone();
        if ty == 2 {
            padded.truncate(4);
        }
        let pkt = initial_packet(Version::V1, Side::Client, dcid, dcid, b"", 0, &padded, 0);
        let mut c = Connections::new();
        assert_eq!(
            c.datagram(ends(1), &pkt),
            Err(QuicError::BadFrame(ty)),
            "{frames:?}"
        );
    }
    // A CONNECTION_CLOSE ends the frames; an empty hello is a TLS error.
    let pkt = initial_packet(
        Version::V1,
        Side::Client,
        dcid,
        dcid,
        b"",
        0,
        &[0x1c, 1, 0, 0],
        40,
    );
    assert_eq!(Connections::new().datagram(ends(1), &pkt), Ok(None));
    let f = crypto_frame(0, &[2, 0, 0, 1, 0]);
    let pkt = initial_packet(Version::V1, Side::Client, dcid, dcid, b"", 0, &f, 40);
    assert!(matches!(
        Connections::new().datagram(ends(1), &pkt),
        Err(QuicError::Tls(_))
    ));
}

#[test]
fn state_is_bounded() {
    // Many connections whose first piece never comes: at most MAX_PENDING are kept.
    let mut c = Connections::new();
    for i in 0..(MAX_PENDING as u16 + 20) {
        let dcid = i.to_be_bytes();
        let f = crypto_frame(100, b"later");
        let pkt = initial_packet(Version::V1, Side::Client, &dcid, &dcid, b"", 0, &f, 1162);
        assert_eq!(c.datagram(ends(i), &pkt), Ok(None));
    }
    assert_eq!(c.pending(), MAX_PENDING);
    // Data beyond the per-connection bound is refused, and the connection dropped.
    let dcid = b"big";
    let f = crypto_frame(MAX_CRYPTO_BYTES as u64, b"x");
    let pkt = initial_packet(Version::V1, Side::Client, dcid, dcid, b"", 0, &f, 1162);
    let mut c = Connections::new();
    assert_eq!(c.datagram(ends(1), &pkt), Err(QuicError::TooLarge));
    assert_eq!(c.pending(), 0);
    // Too many separate pieces.
    let mut frames = Vec::new();
    for i in 0..40u64 {
        frames.extend(crypto_frame(10 + i * 3, b"z"));
    }
    let pkt = initial_packet(Version::V1, Side::Client, dcid, dcid, b"", 0, &frames, 1162);
    assert_eq!(c.datagram(ends(1), &pkt), Err(QuicError::TooLarge));
    assert_eq!(c.pending(), 0);
}

proptest! {
    #[test]
    fn any_bytes_after_a_long_header_never_panic(
        version in prop::sample::select(vec![[0u8, 0, 0, 1], [0x6b, 0x33, 0x43, 0xcf]]),
        body in prop::collection::vec(any::<u8>(), 0..1400),
    ) {
        let mut d = vec![0xc3];
        d.extend_from_slice(&version);
        d.extend_from_slice(&body);
        let _ = Connections::new().datagram(ends(1), &d);
    }

    #[test]
    fn every_truncation_of_the_rfc_packet_is_an_error(cut in 1usize..1200) {
        let pkt = rfc_packet("rfc9001-a2-client-initial.hex");
        prop_assert!(Connections::new().datagram(ends(1), &pkt[..cut]).is_err());
    }

    #[test]
    fn any_decrypted_frames_never_panic(frames in prop::collection::vec(any::<u8>(), 0..600)) {
        let pkt = initial_packet(Version::V1, Side::Client, b"id", b"id", b"", 0, &frames, 0);
        let _ = Connections::new().datagram(ends(1), &pkt);
    }
}
