//! Sample generator: application payloads built by hand. DNS queries and responses (question,
//! then A/AAAA/CNAME answers whose owner names are compression pointers), a TLS 1.2 ClientHello
//! with SNI and the records of an abbreviated (resumed) handshake, HTTP/1.1 requests and
//! responses. Only what the scenarios need; no encryption is real.

use std::net::IpAddr;

use super::packets::Rng;

/// One DNS answer record.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// An alias to another name.
    Cname(&'static str),
    /// An address (A for IPv4, AAAA for IPv6).
    Addr(IpAddr),
}

/// DNS record types used here.
pub(crate) const QTYPE_A: u16 = 1;
pub(crate) const QTYPE_AAAA: u16 = 28;

fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn dns_header(id: u16, flags: u16, answers: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out
}

/// A recursive query for `name` of type `qtype`.
pub(crate) fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = dns_header(id, 0x0100, 0);
    put_name(&mut out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

/// The response to [`dns_query`]: the question again, then `answers` in order. The first
/// answer's owner points at the question's name; after a CNAME, owners point at its target.
/// Address answers of the other family than `qtype` asks for are left out.
pub(crate) fn dns_response(
    id: u16,
    name: &str,
    qtype: u16,
    answers: &[Answer],
    ttl: u32,
) -> Vec<u8> {
    let fits = |a: &&Answer| match a {
        Answer::Cname(_) => true,
        Answer::Addr(IpAddr::V4(_)) => qtype == QTYPE_A,
        Answer::Addr(IpAddr::V6(_)) => qtype == QTYPE_AAAA,
    };
    let kept: Vec<&Answer> = answers.iter().filter(fits).collect();
    let mut out = dns_header(id, 0x8180, kept.len() as u16);
    put_name(&mut out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    let mut owner: u16 = 12; // the question's name
    for answer in kept {
        out.extend_from_slice(&(0xc000 | owner).to_be_bytes());
        let (rtype, rdata_start) = match answer {
            Answer::Cname(_) => (5u16, out.len() + 8 + 2),
            Answer::Addr(IpAddr::V4(_)) => (QTYPE_A, 0),
            Answer::Addr(IpAddr::V6(_)) => (QTYPE_AAAA, 0),
        };
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        let mut rdata = Vec::new();
        match answer {
            Answer::Cname(target) => put_name(&mut rdata, target),
            Answer::Addr(IpAddr::V4(a)) => rdata.extend_from_slice(&a.octets()),
            Answer::Addr(IpAddr::V6(a)) => rdata.extend_from_slice(&a.octets()),
        }
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&rdata);
        if rtype == 5 {
            owner = rdata_start as u16;
        }
    }
    out
}

fn u16be(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

fn u24be(v: usize) -> [u8; 3] {
    let b = (v as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 0x03, 0x03];
    out.extend_from_slice(&u16be(body.len()));
    out.extend_from_slice(body);
    out
}

fn extension(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    out.extend_from_slice(&u16be(data.len()));
    out.extend_from_slice(data);
}

/// A TLS 1.2 ClientHello record naming `sni`, with a session id to resume (2015-era
/// browser-like cipher suites and extensions).
pub(crate) fn tls_client_hello(rng: &mut Rng, sni: &str) -> Vec<u8> {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(32);
    hello.extend_from_slice(&rng.bytes(32));
    let suites: [u16; 14] = [
        0xc02b, 0xc02f, 0xc00a, 0xc009, 0xc013, 0xc014, 0xc012, 0xc007, 0xc011, 0x0033, 0x0032,
        0x0039, 0x002f, 0x0035,
    ];
    hello.extend_from_slice(&u16be(suites.len() * 2));
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    let mut sni_data = Vec::new();
    sni_data.extend_from_slice(&u16be(sni.len() + 3));
    sni_data.push(0); // host_name
    sni_data.extend_from_slice(&u16be(sni.len()));
    sni_data.extend_from_slice(sni.as_bytes());
    extension(&mut ext, 0x0000, &sni_data);
    extension(&mut ext, 0xff01, &[0]); // renegotiation_info
    extension(&mut ext, 0x000a, &[0, 6, 0, 0x17, 0, 0x18, 0, 0x19]); // supported_groups
    extension(&mut ext, 0x000b, &[1, 0]); // ec_point_formats
    extension(&mut ext, 0x0023, &[]); // session_ticket
    extension(&mut ext, 0x0010, b"\x00\x09\x08http/1.1"); // ALPN
    extension(&mut ext, 0x0005, &[1, 0, 0, 0, 0]); // status_request
    let sigalgs: [u16; 9] = [
        0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0402, 0x0202, 0x0101,
    ];
    let mut sig = u16be(sigalgs.len() * 2).to_vec();
    for s in sigalgs {
        sig.extend_from_slice(&s.to_be_bytes());
    }
    extension(&mut ext, 0x000d, &sig);
    hello.extend_from_slice(&u16be(ext.len()));
    hello.extend_from_slice(&ext);
    let mut handshake = vec![1];
    handshake.extend_from_slice(&u24be(hello.len()));
    handshake.extend_from_slice(&hello);
    let mut out = vec![0x16, 0x03, 0x01];
    out.extend_from_slice(&u16be(handshake.len()));
    out.extend_from_slice(&handshake);
    out
}

/// The server's side of a resumed handshake: ServerHello, ChangeCipherSpec, encrypted Finished.
pub(crate) fn tls_server_resume(rng: &mut Rng) -> Vec<u8> {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&rng.bytes(32));
    hello.push(32);
    hello.extend_from_slice(&rng.bytes(32));
    hello.extend_from_slice(&0xc02fu16.to_be_bytes());
    hello.push(0);
    let mut ext = Vec::new();
    extension(&mut ext, 0xff01, &[0]);
    hello.extend_from_slice(&u16be(ext.len()));
    hello.extend_from_slice(&ext);
    let mut handshake = vec![2];
    handshake.extend_from_slice(&u24be(hello.len()));
    handshake.extend_from_slice(&hello);
    let mut out = record(0x16, &handshake);
    out.extend_from_slice(&record(0x14, &[1]));
    out.extend_from_slice(&record(0x16, &rng.bytes(40)));
    out
}

/// The client's ChangeCipherSpec and encrypted Finished.
pub(crate) fn tls_client_finish(rng: &mut Rng) -> Vec<u8> {
    let mut out = record(0x14, &[1]);
    out.extend_from_slice(&record(0x16, &rng.bytes(40)));
    out
}

/// One application-data record with `len` bytes of ciphertext.
pub(crate) fn tls_app_data(rng: &mut Rng, len: usize) -> Vec<u8> {
    record(0x17, &rng.bytes(len))
}

/// An HTTP/1.1 request. `headers` follow Host and come before the body's Content-Length.
pub(crate) fn http_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// An HTTP/1.1 `200 OK` response with a body.
pub(crate) fn http_response(server: &str, content_type: &str, date: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nDate: {date}\r\nServer: {server}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        body.len()
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_response_points_at_question_and_cname_target() {
        let answers = [
            Answer::Cname("a.b.cn"),
            Answer::Addr("1.2.3.4".parse().unwrap()),
            Answer::Addr("::1".parse().unwrap()),
        ];
        let r = dns_response(0x1234, "x.tom.com", QTYPE_A, &answers, 60);
        assert_eq!(&r[0..4], &[0x12, 0x34, 0x81, 0x80]);
        assert_eq!(&r[6..8], &[0, 2]); // AAAA answer left out of an A response
        let q_end = 12 + 11 + 4;
        assert_eq!(&r[q_end..q_end + 4], &[0xc0, 12, 0, 5]);
        let target_at = q_end + 12;
        assert_eq!(r[target_at], 1);
        assert_eq!(&r[target_at + 8..target_at + 10], &[0xc0, target_at as u8]);
        assert_eq!(&r[r.len() - 4..], &[1, 2, 3, 4]);
        let q = dns_query(0x1234, "x.tom.com", QTYPE_A);
        assert_eq!(&r[12..q_end], &q[12..]);
    }

    #[test]
    fn client_hello_lengths_agree() {
        let mut rng = Rng::new(3);
        let h = tls_client_hello(&mut rng, "api.skype.com");
        let rec_len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        assert_eq!(rec_len + 5, h.len());
        let hs_len = (usize::from(h[6]) << 16) | (usize::from(h[7]) << 8) | usize::from(h[8]);
        assert_eq!(hs_len + 4, rec_len);
        let pos = h.windows(13).position(|w| w == b"api.skype.com");
        assert!(pos.is_some());
    }

    #[test]
    fn http_request_has_content_length_for_post() {
        let r = http_request("POST", "/x", "1.2.3.4", &[], b"abc");
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("POST /x HTTP/1.1\r\nHost: 1.2.3.4\r\n"));
        assert!(text.ends_with("Content-Length: 3\r\n\r\nabc"));
    }
}
