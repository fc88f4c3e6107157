//! Sample generator: scenarios whose evidence hides on the wire. TOM-Skype behind an ADSL
//! modem's PPPoE session (every frame inside PPPoE), and a regular Skype client whose
//! ClientHellos are too long for one TCP segment (one of them overtaken by its second
//! segment). Also the long ClientHellos themselves, shared with the reassembly tests.

use std::net::{IpAddr, SocketAddr};

use super::packets::{Rng, Trace, MS, SEC};
use super::protocols::{self, http_request, http_response, Answer};
use super::sessions::{http, http_date, resolve, skype_tcp, skype_udp_probe};
use super::tcp::TcpConn;
use super::tom::{ip, sa, IE8_UA, INDY_UA};
use super::Scenario;

fn u16be(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

fn extension(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    out.extend_from_slice(&u16be(data.len()));
    out.extend_from_slice(data);
}

/// A TLS 1.3 ClientHello record of about 1,800 bytes naming `sni`: its key share
/// (X25519MLKEM768, 1,216 bytes, then X25519) comes before the server_name extension, so
/// the name lies beyond the first 1,460 bytes of a TCP stream.
#[cfg(test)]
pub(crate) fn pq_client_hello(rng: &mut Rng, sni: &str) -> Vec<u8> {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(32);
    hello.extend_from_slice(&rng.bytes(32));
    let suites: [u16; 5] = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f];
    hello.extend_from_slice(&u16be(suites.len() * 2));
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    extension(&mut ext, 0x002b, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions
    extension(&mut ext, 0x000a, &[0, 6, 0x11, 0xec, 0, 0x1d, 0, 0x17]); // supported_groups
    let mut shares = Vec::new();
    shares.extend_from_slice(&0x11ecu16.to_be_bytes());
    shares.extend_from_slice(&u16be(1216));
    shares.extend_from_slice(&rng.bytes(1216));
    shares.extend_from_slice(&0x001du16.to_be_bytes());
    shares.extend_from_slice(&u16be(32));
    shares.extend_from_slice(&rng.bytes(32));
    let mut ks = u16be(shares.len()).to_vec();
    ks.extend_from_slice(&shares);
    extension(&mut ext, 0x0033, &ks); // key_share
    extension(
        &mut ext,
        0x000d,
        &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01],
    ); // signature_algorithms
    extension(&mut ext, 0x0010, b"\x00\x0c\x02h2\x08http/1.1"); // ALPN
    let mut sni_data = u16be(sni.len() + 3).to_vec();
    sni_data.push(0);
    sni_data.extend_from_slice(&u16be(sni.len()));
    sni_data.extend_from_slice(sni.as_bytes());
    extension(&mut ext, 0x0000, &sni_data); // server_name, late as in a shuffled order
    extension(&mut ext, 0x0015, &[0; 370]); // padding
    hello.extend_from_slice(&u16be(ext.len()));
    hello.extend_from_slice(&ext);
    let mut handshake = vec![1, 0];
    handshake.extend_from_slice(&u16be(hello.len()));
    handshake.extend_from_slice(&hello);
    let mut out = vec![0x16, 0x03, 0x01];
    out.extend_from_slice(&u16be(handshake.len()));
    out.extend_from_slice(&handshake);
    out
}

/// A TLS 1.2 ClientHello record of about 1,800 bytes naming `sni`, as a 2015 client resuming
/// a session sends it: a long session ticket (1,400 bytes, an invented length) comes before
/// the server_name extension, so the name lies beyond the first TCP segment.
pub(crate) fn ticket_client_hello(rng: &mut Rng, sni: &str) -> Vec<u8> {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(32);
    hello.extend_from_slice(&rng.bytes(32));
    let suites: [u16; 8] = [
        0xc02b, 0xc02f, 0xc00a, 0xc009, 0xc013, 0xc014, 0x002f, 0x0035,
    ];
    hello.extend_from_slice(&u16be(suites.len() * 2));
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    extension(&mut ext, 0xff01, &[0]); // renegotiation_info
    extension(&mut ext, 0x000a, &[0, 6, 0, 0x17, 0, 0x18, 0, 0x19]); // supported_groups
    extension(&mut ext, 0x000b, &[1, 0]); // ec_point_formats
    extension(&mut ext, 0x0023, &rng.bytes(1400)); // session_ticket
    let mut sni_data = u16be(sni.len() + 3).to_vec();
    sni_data.push(0);
    sni_data.extend_from_slice(&u16be(sni.len()));
    sni_data.extend_from_slice(sni.as_bytes());
    extension(&mut ext, 0x0000, &sni_data);
    extension(
        &mut ext,
        0x000d,
        &[0, 6, 0x04, 0x01, 0x05, 0x01, 0x02, 0x01],
    ); // signature_algorithms
    extension(&mut ext, 0x0015, &[0; 180]); // padding
    hello.extend_from_slice(&u16be(ext.len()));
    hello.extend_from_slice(&ext);
    let mut handshake = vec![1, 0];
    handshake.extend_from_slice(&u16be(hello.len()));
    handshake.extend_from_slice(&hello);
    let mut out = vec![0x16, 0x03, 0x01];
    out.extend_from_slice(&u16be(handshake.len()));
    out.extend_from_slice(&handshake);
    out
}

pub(crate) const DESC_PPPOE: &str = "TOM-Skype 5.1 (Chinese build), November 2010, on a home PC \
behind an ADSL modem in bridge mode: the PC dials PPPoE itself, so every frame is an Ethernet \
PPPoE session frame (session 0x1a2b) carrying PPP and IPv4, as most of China connected then. \
The PC's address 123.118.52.207 (China Unicom Beijing ADSL) and the ISP resolver 202.106.0.20 \
are plausible for the time and place, not taken from a capture. After the Skype login the \
client sends TOM's login beacon skypetools1.tom.com/en_return_time.php?login_id=<id>&code=<32 \
hex> and fetches the keyword list skypetools.tom.com/agent/keyfile_u, each after a DNS lookup. \
The URLs are those RESEARCH.md documents from 2011 sources (their use in late 2010 is \
assumed); the Skype id, the code, the addresses in 211.100.40.0/23 and the bodies are \
invented.";

/// TOM-Skype over PPPoE: the login beacon and the keyword list, every frame in PPPoE.
pub(crate) fn tom_over_pppoe() -> Scenario {
    let mut tr = Trace::new(0x2010_1122);
    let host = ip(123, 118, 52, 207);
    let dns = ip(202, 106, 0, 20);
    tr.local(host, [0x00, 0x1e, 0x90, 0x3c, 0x7a, 0x52]);
    let t0 = 1_290_412_833 * SEC + 118 * MS;
    let local = sa(host, 33516);
    let t = skype_udp_probe(
        &mut tr,
        t0,
        local,
        sa(ip(91, 190, 216, 21), 12350),
        280 * MS,
        true,
    );
    let t = skype_tcp(&mut tr, t, host, sa(ip(91, 190, 216, 21), 443), 280 * MS, 3);
    let beacon = ip(211, 100, 41, 63);
    let a = resolve(
        &mut tr,
        t + 600 * MS,
        host,
        dns,
        "skypetools1.tom.com",
        &[Answer::Addr(beacon)],
        false,
    );
    let code = tr.rng.hex(32);
    let path = format!("/en_return_time.php?login_id=wangfang1983&code={code}");
    let ex = [(
        http_request(
            "GET",
            &path,
            "skypetools1.tom.com",
            &[("Accept", "*/*"), ("User-Agent", IE8_UA)],
            b"",
        ),
        http_response("Apache", "text/html", &http_date(a), b"ok"),
    )];
    let t = http(&mut tr, a + MS, host, sa(beacon, 80), 38 * MS, &ex);
    let tools = ip(211, 100, 40, 173);
    let a = resolve(
        &mut tr,
        t + 900 * MS,
        host,
        dns,
        "skypetools.tom.com",
        &[Answer::Addr(tools)],
        false,
    );
    let keyfile = tr.rng.bytes(2_208);
    let ex = [(
        http_request(
            "GET",
            "/agent/keyfile_u",
            "skypetools.tom.com",
            &[("Accept", "text/html, */*"), ("User-Agent", INDY_UA)],
            b"",
        ),
        http_response(
            "Apache",
            "application/octet-stream",
            &http_date(a),
            &keyfile,
        ),
    )];
    http(&mut tr, a + MS, host, sa(tools, 80), 37 * MS, &ex);
    Scenario::new(tr, DESC_PPPOE, &[(host, "tom-skype")])
}

pub(crate) const DESC_SPLIT: &str = "Regular Skype 7.x, June 2015, one host (192.168.1.34, \
resolver 192.168.1.1) whose only Skype signs are the server names of its TLS ClientHellos: the \
names were resolved before the capture started (no DNS in it), and the servers' addresses \
(Microsoft Azure, invented in 40.112.0.0/13 and 104.40.0.0/13) are in no indicator. Each \
ClientHello resumes a session with a 1,400-byte ticket (an invented length) before its \
server_name extension, so it is about 1,800 bytes and spans two TCP segments, the name in \
the second; on the connection to api.skype.com the second segment arrives before the first \
(overtaken in the network). Expected: regular-skype, which needs TCP reassembly.";

/// A regular Skype client whose ClientHellos span two TCP segments.
pub(crate) fn regular_split_client_hello() -> Scenario {
    let mut tr = Trace::new(0x2015_0611);
    let host = ip(192, 168, 1, 34);
    tr.local(host, [0x60, 0x67, 0x20, 0x8e, 0x14, 0x2a]);
    tr.local(ip(192, 168, 1, 1), [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let mut t = 1_434_012_207 * SEC + 77 * MS;
    let servers = [
        ("login.skype.com", ip(40, 113, 87, 220), false),
        ("api.skype.com", ip(104, 44, 195, 97), true),
        (
            "client-s.gateway.messenger.live.com",
            ip(40, 114, 12, 6),
            false,
        ),
    ];
    for (name, addr, overtaken) in servers {
        t = split_https(
            &mut tr,
            t + 700 * MS,
            host,
            sa(addr, 443),
            name,
            160 * MS,
            overtaken,
        );
    }
    Scenario::new(tr, DESC_SPLIT, &[(host, "regular-skype")])
}

/// An HTTPS session whose long ClientHello spans two segments; `overtaken`: the second
/// segment is captured first.
fn split_https(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    server: SocketAddr,
    sni: &str,
    rtt: i64,
    overtaken: bool,
) -> i64 {
    let c = SocketAddr::new(client, tr.ephemeral(client));
    let mut conn = TcpConn::open(tr, t, c, server, rtt);
    let hello = ticket_client_hello(&mut tr.rng, sni);
    let resume = protocols::tls_server_resume(&mut tr.rng);
    let first = tr.len();
    conn.exchange(tr, &hello, &resume);
    if overtaken {
        // The exchange added the client's two segments first.
        tr.swap_times(first, first + 1);
    }
    let mut out = protocols::tls_client_finish(&mut tr.rng);
    out.extend_from_slice(&protocols::tls_app_data(&mut tr.rng, 420));
    let back = protocols::tls_app_data(&mut tr.rng, 1800);
    conn.exchange(tr, &out, &back);
    conn.close(tr)
}
