//! Sample generator: whole exchanges a client makes, built from `packets` and `protocols`:
//! a DNS lookup through the local resolver, an HTTPS session (ClientHello with SNI, resumed
//! handshake, application data), plain HTTP requests on one connection, Skype's own opaque
//! TCP sessions, Skype-like UDP media and probes, and SSDP announcements. Each takes a start
//! time and returns the time its last packet was seen, so scenarios can chain or overlap them.

use std::net::{IpAddr, SocketAddr};

use super::packets::{Trace, MS};
use super::protocols::{self, Answer, QTYPE_A, QTYPE_AAAA};
use super::tcp::TcpConn;

/// Round trip to the LAN's resolver when it answers from upstream.
fn resolver_rtt(tr: &mut Trace) -> i64 {
    tr.rng.range(8, 60) * MS
}

/// Looks `name` up through `resolver` (A, and AAAA too when `aaaa`); returns the time the
/// last answer arrived. When the trace declares `resolver` a forwarder, its own question to
/// the upstream resolver and the upstream answer come between the client's question and
/// answer.
pub(crate) fn resolve(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    resolver: IpAddr,
    name: &str,
    answers: &[Answer],
    aaaa: bool,
) -> i64 {
    let mut end = t;
    let types: &[u16] = if aaaa {
        &[QTYPE_A, QTYPE_AAAA]
    } else {
        &[QTYPE_A]
    };
    for (i, &qtype) in types.iter().enumerate() {
        let id = tr.rng.next_u64() as u16;
        let port = tr.ephemeral(client);
        let c = SocketAddr::new(client, port);
        let r = SocketAddr::new(resolver, 53);
        let sent = t + i as i64 * tr.rng.range(60, 250) * 1000;
        tr.udp(sent, c, r, &protocols::dns_query(id, name, qtype));
        if let Some(upstream) = tr.upstream_of(resolver) {
            let answered = forward(
                tr,
                sent,
                resolver,
                upstream,
                (c, id),
                (name, qtype),
                answers,
            );
            end = end.max(answered);
            continue;
        }
        let answered = sent + resolver_rtt(tr);
        let ttl = tr.rng.range(30, 3600) as u32;
        tr.udp(
            answered,
            r,
            c,
            &protocols::dns_response(id, name, qtype, answers, ttl),
        );
        end = end.max(answered);
    }
    end
}

/// A forwarder's part of one lookup, the client's question having been sent at `asked`: its
/// own question upstream (a fresh transaction id, a random source port as dnsmasq uses), the
/// upstream answer, then its answer to `client` (the client's id, the upstream TTL). Returns
/// the time the client got its answer.
fn forward(
    tr: &mut Trace,
    asked: i64,
    forwarder: IpAddr,
    upstream: SocketAddr,
    (client, id): (SocketAddr, u16),
    (name, qtype): (&str, u16),
    answers: &[Answer],
) -> i64 {
    let up_id = tr.rng.next_u64() as u16;
    let f = SocketAddr::new(forwarder, tr.rng.range(1024, 65535) as u16);
    let out = asked + tr.rng.range(150, 900) * 1000;
    tr.udp(out, f, upstream, &protocols::dns_query(up_id, name, qtype));
    let back = out + resolver_rtt(tr);
    let ttl = tr.rng.range(30, 3600) as u32;
    let upstream_answer = protocols::dns_response(up_id, name, qtype, answers, ttl);
    tr.udp(back, upstream, f, &upstream_answer);
    let answered = back + tr.rng.range(80, 400) * 1000;
    let r = SocketAddr::new(forwarder, 53);
    let answer = protocols::dns_response(id, name, qtype, answers, ttl);
    tr.udp(answered, r, client, &answer);
    answered
}

/// An HTTPS session: TLS ClientHello naming `sni`, a resumed handshake, then `rounds` of
/// (request bytes, response bytes) application data; closed by the client.
pub(crate) fn https(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    server: SocketAddr,
    sni: &str,
    rtt: i64,
    rounds: &[(usize, usize)],
) -> i64 {
    let c = SocketAddr::new(client, tr.ephemeral(client));
    let mut conn = TcpConn::open(tr, t, c, server, rtt);
    let hello = protocols::tls_client_hello(&mut tr.rng, sni);
    let resume = protocols::tls_server_resume(&mut tr.rng);
    conn.exchange(tr, &hello, &resume);
    for (i, &(req, resp)) in rounds.iter().enumerate() {
        let mut out = if i == 0 {
            protocols::tls_client_finish(&mut tr.rng)
        } else {
            Vec::new()
        };
        out.extend_from_slice(&protocols::tls_app_data(&mut tr.rng, req));
        let back = protocols::tls_app_data(&mut tr.rng, resp);
        conn.exchange(tr, &out, &back);
        conn.wait(tr.rng.range(5, 400) * MS);
    }
    conn.close(tr)
}

/// Plain HTTP: each (request, response) in turn on one keep-alive connection.
pub(crate) fn http(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    server: SocketAddr,
    rtt: i64,
    exchanges: &[(Vec<u8>, Vec<u8>)],
) -> i64 {
    let c = SocketAddr::new(client, tr.ephemeral(client));
    let mut conn = TcpConn::open(tr, t, c, server, rtt);
    for (req, resp) in exchanges {
        conn.exchange(tr, req, resp);
        conn.wait(tr.rng.range(20, 900) * MS);
    }
    conn.close(tr)
}

/// Skype's own protocol over TCP (obfuscated, not TLS even on port 443): `rounds` exchanges of
/// random-looking bytes with idle gaps, as to a login server or super node.
pub(crate) fn skype_tcp(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    server: SocketAddr,
    rtt: i64,
    rounds: usize,
) -> i64 {
    let c = SocketAddr::new(client, tr.ephemeral(client));
    let mut conn = TcpConn::open(tr, t, c, server, rtt);
    for _ in 0..rounds {
        let up = tr.rng.range(14, 300) as usize;
        let down = tr.rng.range(0, 1200) as usize;
        let req = tr.rng.bytes(up);
        let resp = tr.rng.bytes(down);
        conn.exchange(tr, &req, &resp);
        conn.wait(tr.rng.range(50, 3000) * MS);
    }
    conn.close(tr)
}

/// A Skype call's media between `local` and `peer`: one datagram of 60-200 random bytes every
/// 20 ms each way for `duration`; the peer's stream lags by half the round trip.
pub(crate) fn media(
    tr: &mut Trace,
    t: i64,
    local: SocketAddr,
    peer: SocketAddr,
    duration: i64,
    rtt: i64,
) -> i64 {
    let mut ts = t;
    let mut end = t;
    while ts < t + duration {
        let len = tr.rng.range(60, 200) as usize;
        let out = skype_datagram(tr, len);
        let at = ts + tr.rng.range(0, 900) * 1000;
        tr.udp(at, local, peer, &out);
        let len = tr.rng.range(60, 200) as usize;
        let back = skype_datagram(tr, len);
        let arrive = ts + rtt / 2 + tr.rng.range(0, 4000) * 1000;
        tr.udp(arrive, peer, local, &back);
        end = end.max(arrive);
        ts += 20 * MS;
    }
    end
}

/// Random bytes as Skype's obfuscated UDP looks, kept off RTP/RTCP's version bits so that
/// dissectors' heuristics do not take them for RTP.
fn skype_datagram(tr: &mut Trace, len: usize) -> Vec<u8> {
    let mut data = tr.rng.bytes(len);
    if let Some(first) = data.first_mut() {
        *first = (*first & 0x7f) | 0x10;
    }
    // Nor for OSI connectionless transport (a unit-data TPDU code in the second byte).
    if let Some(second) = data.get_mut(1) {
        if *second & 0xf0 == 0x40 {
            *second ^= 0x80;
        }
    }
    data
}

/// Skype's UDP probes to a super node or relay: a few short datagrams, answered when `answered`.
pub(crate) fn skype_udp_probe(
    tr: &mut Trace,
    t: i64,
    local: SocketAddr,
    peer: SocketAddr,
    rtt: i64,
    answered: bool,
) -> i64 {
    let mut ts = t;
    for _ in 0..tr.rng.range(2, 5) {
        let len = tr.rng.range(18, 60) as usize;
        let out = skype_datagram(tr, len);
        tr.udp(ts, local, peer, &out);
        if answered {
            let len = tr.rng.range(18, 120) as usize;
            let back = skype_datagram(tr, len);
            let at = ts + rtt + tr.rng.range(0, 5) * MS;
            tr.udp(at, peer, local, &back);
        }
        ts += tr.rng.range(200, 5000) * MS;
    }
    ts
}

/// SSDP M-SEARCH to the multicast group 239.255.255.250:1900 (Windows does this on its own).
pub(crate) fn ssdp(tr: &mut Trace, t: i64, local: IpAddr) -> i64 {
    let msg = b"M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\n\
ST:urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nMan:\"ssdp:discover\"\r\nMX:3\r\n\r\n";
    let c = SocketAddr::new(local, tr.ephemeral(local));
    let group: SocketAddr = SocketAddr::from(([239, 255, 255, 250], 1900));
    let mut ts = t;
    for _ in 0..3 {
        tr.udp(ts, c, group, msg);
        ts += tr.rng.range(100, 3000) * MS;
    }
    ts
}

/// An HTTP `Date:` value (RFC 1123) for a time in nanoseconds since 1970.
pub(crate) fn http_date(ts: i64) -> String {
    let secs = ts.div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = crate::timefmt::civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_formats_known_times() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(1_431_969_639 * 1_000_000_000),
            "Mon, 18 May 2015 17:20:39 GMT"
        );
        assert_eq!(
            http_date(1_330_473_600 * 1_000_000_000),
            "Wed, 29 Feb 2012 00:00:00 GMT"
        );
    }
}
