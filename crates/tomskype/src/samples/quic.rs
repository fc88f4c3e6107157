//! Sample generator: QUIC Initial packets, built and encrypted as a client (and its server)
//! would, with the keys of [`crate::decode::quic::crypto`]; and the scenario of a 2024 regular
//! Skype/Teams client whose only names are in them.
//!
//! The packet layout follows RFC 9000 §17.2.2 with 4-byte packet numbers and no token, as the
//! example in RFC 9001 Appendix A (a unit test checks that this builder reproduces that
//! example byte for byte).

use std::net::SocketAddr;

pub(crate) use super::packets::Rng;
use super::packets::{Trace, MS, SEC};
use super::tom::{ip, sa};
use super::Scenario;
use crate::decode::quic::crypto::{Keys, Side};
use crate::decode::quic::Version;

/// A QUIC variable-length integer in its shortest form.
pub(crate) fn varint(v: u64) -> Vec<u8> {
    match v {
        0..=63 => vec![v as u8],
        64..=16383 => (0x4000 | v as u16).to_be_bytes().to_vec(),
        16384..=0x3fff_ffff => (0x8000_0000 | v as u32).to_be_bytes().to_vec(),
        _ => (0xc000_0000_0000_0000 | v).to_be_bytes().to_vec(),
    }
}

/// A CRYPTO frame carrying `data` at `offset` of the handshake stream.
pub(crate) fn crypto_frame(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x06];
    f.extend(varint(offset));
    f.extend(varint(data.len() as u64));
    f.extend_from_slice(data);
    f
}

/// A protected Initial packet of `version` from `side`, its keys derived from `key_dcid`
/// (the client's first destination id), with header ids `dcid`/`scid`, packet number `pn`
/// (sent in 4 bytes) and `frames` padded with PADDING frames to `payload_len` bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn initial_packet(
    version: Version,
    side: Side,
    key_dcid: &[u8],
    dcid: &[u8],
    scid: &[u8],
    pn: u32,
    frames: &[u8],
    payload_len: usize,
) -> Vec<u8> {
    let wire = match version {
        Version::V1 => 1u32,
        Version::V2 => 0x6b33_43cf,
        Version::Draft29 => 0xff00_001d,
    };
    let mut payload = frames.to_vec();
    payload.resize(payload.len().max(payload_len), 0);
    let mut pkt = vec![0xc0 | version.initial_type() << 4 | 0x03];
    pkt.extend_from_slice(&wire.to_be_bytes());
    pkt.push(dcid.len() as u8);
    pkt.extend_from_slice(dcid);
    pkt.push(scid.len() as u8);
    pkt.extend_from_slice(scid);
    pkt.push(0); // no token
    let length = 4 + payload.len() + 16;
    pkt.extend_from_slice(&(0x4000 | length as u16).to_be_bytes());
    let pn_offset = pkt.len();
    pkt.extend_from_slice(&pn.to_be_bytes());
    // The keys exist for any id (a derivation cannot fail for these lengths).
    let Some(keys) = Keys::new(version, key_dcid, side) else {
        return Vec::new();
    };
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

fn extension(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A TLS 1.3 ClientHello handshake message (no record header) as a QUIC client sends it:
/// SNI, ALPN h3, X25519 key share (with `pq`, an X25519MLKEM768 share of 1216 bytes first, as
/// browsers since 2024, which makes it span two Initial packets), QUIC transport parameters.
pub(crate) fn client_hello(rng: &mut Rng, sni: &str, pq: bool) -> Vec<u8> {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(0); // no legacy session id in QUIC
    hello.extend_from_slice(&[0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03]);
    hello.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    let mut sni_data = ((sni.len() + 3) as u16).to_be_bytes().to_vec();
    sni_data.push(0);
    sni_data.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sni_data.extend_from_slice(sni.as_bytes());
    extension(&mut ext, 0x0010, b"\x00\x03\x02h3"); // ALPN
    extension(&mut ext, 0x002b, &[2, 0x03, 0x04]); // supported_versions: TLS 1.3
    extension(
        &mut ext,
        0x000d,
        &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01],
    );
    let mut shares = Vec::new();
    let mut groups = Vec::new();
    if pq {
        groups.extend_from_slice(&0x11ecu16.to_be_bytes());
        shares.extend_from_slice(&0x11ecu16.to_be_bytes());
        shares.extend_from_slice(&1216u16.to_be_bytes());
        shares.extend_from_slice(&rng.bytes(1216));
    }
    groups.extend_from_slice(&0x001du16.to_be_bytes());
    shares.extend_from_slice(&0x001du16.to_be_bytes());
    shares.extend_from_slice(&32u16.to_be_bytes());
    shares.extend_from_slice(&rng.bytes(32));
    let mut g = (groups.len() as u16).to_be_bytes().to_vec();
    g.extend_from_slice(&groups);
    extension(&mut ext, 0x000a, &g);
    let mut ks = (shares.len() as u16).to_be_bytes().to_vec();
    ks.extend_from_slice(&shares);
    extension(&mut ext, 0x0033, &ks);
    // Browsers shuffle extensions; here the server name comes after the key shares.
    extension(&mut ext, 0x0000, &sni_data);
    extension(&mut ext, 0x002d, &[1, 1]); // psk_key_exchange_modes
    let mut tp = vec![0x04, 0x04, 0x80, 0x10, 0x00, 0x00]; // initial_max_data
    tp.extend_from_slice(&[0x0f, 0x08]); // initial_source_connection_id
    tp.extend_from_slice(&rng.bytes(8));
    extension(&mut ext, 0x0039, &tp);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&hello);
    hs
}

/// One QUIC connection: the client's first flight (its ClientHello in one Initial, or in two
/// with frames out of order), the server's Initial, the client's acknowledging Initial to the
/// server's id, then `rounds` short-header datagrams each way. Returns when it ends.
#[allow(clippy::too_many_arguments)]
fn connection(
    tr: &mut Trace,
    t: i64,
    version: Version,
    client: SocketAddr,
    server: SocketAddr,
    sni: &str,
    pq: bool,
    rounds: usize,
) -> i64 {
    let rtt = tr.rng.range(15, 60) * MS;
    let dcid = tr.rng.bytes(8);
    let scid = tr.rng.bytes(8);
    let server_cid = tr.rng.bytes(8);
    let hello = client_hello(&mut tr.rng, sni, pq);
    let mut ts = t;
    if hello.len() > 1100 {
        // Two packets: the first holds the start in two frames, out of order, and a PING.
        let (a, rest) = hello.split_at(600);
        let (b, c) = rest.split_at(450);
        let mut f1 = crypto_frame(600, b);
        f1.push(0x01);
        f1.extend(crypto_frame(0, a));
        let p1 = initial_packet(version, Side::Client, &dcid, &dcid, &scid, 0, &f1, 1162);
        let p2 = initial_packet(
            version,
            Side::Client,
            &dcid,
            &dcid,
            &scid,
            1,
            &crypto_frame(1050, c),
            1162,
        );
        tr.udp(ts, client, server, &p1);
        ts += 40_000;
        tr.udp(ts, client, server, &p2);
    } else {
        let f = crypto_frame(0, &hello);
        let p = initial_packet(version, Side::Client, &dcid, &dcid, &scid, 0, &f, 1162);
        tr.udp(ts, client, server, &p);
    }
    // The server's Initial: an ACK and the start of its ServerHello, then Handshake bytes.
    ts += rtt;
    let mut sf = vec![0x02, 0x01, 0x00, 0x00, 0x01];
    let server_hello = tr.rng.bytes(90);
    sf.extend(crypto_frame(0, &server_hello));
    let mut dgram = initial_packet(version, Side::Server, &dcid, &scid, &server_cid, 0, &sf, 0);
    let mut handshake = vec![0xe0 | 0x03];
    handshake.extend_from_slice(&dgram[1..5]);
    handshake.push(8);
    handshake.extend_from_slice(&scid);
    handshake.push(8);
    handshake.extend_from_slice(&server_cid);
    let body = tr.rng.bytes(900);
    handshake.extend(varint(body.len() as u64));
    handshake.extend_from_slice(&body);
    dgram.extend_from_slice(&handshake);
    tr.udp(ts, server, client, &dgram);
    // The client acknowledges the server's Initial, now sending to the server's id.
    ts += 2 * MS;
    let ack = [0x02, 0x00, 0x00, 0x00, 0x00];
    let p = initial_packet(
        version,
        Side::Client,
        &dcid,
        &server_cid,
        &scid,
        2,
        &ack,
        1162,
    );
    tr.udp(ts, client, server, &p);
    for _ in 0..rounds {
        ts += tr.rng.range(5, 400) * MS;
        let len = tr.rng.range(40, 1200) as usize;
        let mut up = vec![0x40 | (tr.rng.next_u64() as u8 & 0x3f)];
        up.extend_from_slice(&server_cid);
        up.extend_from_slice(&tr.rng.bytes(len));
        tr.udp(ts, client, server, &up);
        let len = tr.rng.range(40, 1300) as usize;
        let mut down = vec![0x40 | (tr.rng.next_u64() as u8 & 0x3f)];
        down.extend_from_slice(&scid);
        down.extend_from_slice(&tr.rng.bytes(len));
        tr.udp(ts + rtt / 2, server, client, &down);
    }
    ts + rtt
}

pub(crate) const DESC_QUIC_ONLY: &str = "A regular Skype/Teams client of 2024 whose only names \
are in QUIC Initial packets: no DNS in the capture (a DNS-over-HTTPS resolver), no TLS over TCP. \
It opens QUIC v1 connections to api.skype.com (its ClientHello, with a post-quantum key share of \
1216 bytes, spans two Initial packets, frames out of order), to config.edge.skype.com, and a QUIC \
v2 connection to client-s.gateway.messenger.live.com; the user also browses www.example.org over \
QUIC. Server Initial packets, the client's acknowledging Initial packets and 1-RTT packets \
(random bytes) follow as on the wire. Addresses are in Microsoft's and documentation ranges; all \
keys, ids and random fields are invented. Host 192.168.50.23.";

/// A 2024 regular client whose Skype names are only in QUIC Initial packets.
pub(crate) fn regular_quic_only() -> Scenario {
    let mut tr = Trace::new(0x2024_0914);
    let host = ip(192, 168, 50, 23);
    tr.local(host, [0x3c, 0x22, 0xfb, 0x10, 0x4e, 0x91]);
    let t0 = 1_726_300_800 * SEC + 125 * MS;
    let conns: [(Version, [u8; 4], &str, bool); 4] = [
        (Version::V1, [52, 113, 194, 132], "api.skype.com", true),
        (
            Version::V1,
            [13, 107, 42, 16],
            "config.edge.skype.com",
            false,
        ),
        (
            Version::V2,
            [52, 114, 128, 75],
            "client-s.gateway.messenger.live.com",
            false,
        ),
        (Version::V1, [93, 184, 215, 14], "www.example.org", true),
    ];
    for (i, (version, [a, b, c, d], sni, pq)) in conns.into_iter().enumerate() {
        let client = sa(host, tr.ephemeral(host));
        let start = t0 + i as i64 * 700 * MS;
        connection(
            &mut tr,
            start,
            version,
            client,
            sa(ip(a, b, c, d), 443),
            sni,
            pq,
            6,
        );
    }
    Scenario::new(tr, DESC_QUIC_ONLY, &[(host, "regular-skype")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The CRYPTO frame of RFC 9001 Appendix A.2 (and RFC 9369 Appendix A.2).
    pub(crate) const RFC_CRYPTO_FRAME: &str = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff";

    #[test]
    fn reproduces_the_rfc_examples_byte_for_byte() {
        let dcid = hex("8394c8f03e515708");
        let frames = hex(RFC_CRYPTO_FRAME);
        for (version, file) in [
            (Version::V1, "rfc9001-a2-client-initial.hex"),
            (Version::V2, "rfc9369-a2-client-initial.hex"),
        ] {
            let want = std::fs::read_to_string(format!(
                "{}/../../tests/data/quic/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let got = initial_packet(version, Side::Client, &dcid, &dcid, &[], 2, &frames, 1162);
            assert_eq!(got, hex(&want), "{file}");
        }
    }

    #[test]
    fn varints_are_shortest() {
        assert_eq!(varint(37), [0x25]);
        assert_eq!(varint(15293), [0x7b, 0xbd]);
        assert_eq!(varint(494_878_333), [0x9d, 0x7f, 0x3e, 0x7d]);
        assert_eq!(
            varint(151_288_809_941_952_652),
            [0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]
        );
    }

    #[test]
    fn post_quantum_hello_needs_two_packets() {
        let mut rng = Rng::new(1);
        assert!(client_hello(&mut rng, "api.skype.com", true).len() > 1162);
        assert!(client_hello(&mut rng, "api.skype.com", false).len() < 400);
    }
}
