//! Sample generator: a LAN's HTTP proxy (Squid-like, on port 3128) relaying its clients'
//! traffic, both sides captured. A `CONNECT host:port` tunnel: the client's request, the
//! proxy's own DNS lookup and upstream connection, `200 Connection established`, then the same
//! bytes relayed each way (so a ClientHello's SNI appears on both flows). A plain request in
//! absolute form (`GET http://host/path`): the proxy looks the host up, sends the request
//! upstream in origin form with `Via` and `X-Forwarded-For`, and relays the response with its
//! own `Via`. No caching, no authentication.

use std::net::{IpAddr, SocketAddr};

use super::packets::{Trace, MS};
use super::protocols::{self, http_request, Answer};
use super::sessions::resolve;
use super::tcp::TcpConn;

/// A proxy on the capturing side of the network.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Proxy {
    /// Where clients send their requests (the proxy's address and port 3128).
    pub(crate) listen: SocketAddr,
    /// The resolver the proxy itself asks.
    pub(crate) dns: IpAddr,
    /// The proxy's `Via` pseudonym and product, e.g. `1.1 proxy.example.lan (squid/3.3.8)`.
    pub(crate) via: &'static str,
}

/// Round trip between a client and the proxy on the same switch.
const LAN_RTT: i64 = 400_000;

/// Where the proxy connects upstream: the address of the target, looked up by the proxy
/// through its resolver when the client named a host.
pub(crate) struct Target<'a> {
    /// Host name, or an address when the client named an address.
    pub(crate) host: &'a str,
    /// Port on the server.
    pub(crate) port: u16,
    /// The resolver's answers for `host` (empty when `host` is an address).
    pub(crate) answers: &'a [Answer],
    /// Round trip from the proxy to the server.
    pub(crate) rtt: i64,
}

impl Target<'_> {
    fn address(&self) -> IpAddr {
        self.answers
            .iter()
            .find_map(|a| match a {
                Answer::Addr(ip) => Some(*ip),
                Answer::Cname(_) => None,
            })
            .or_else(|| self.host.parse().ok())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    /// The proxy's lookup (when a name was given) and its connection to the server.
    fn connect(&self, tr: &mut Trace, t: i64, proxy: &Proxy) -> TcpConn {
        let at = if self.answers.is_empty() {
            t
        } else {
            let ip = proxy.listen.ip();
            resolve(tr, t, ip, proxy.dns, self.host, self.answers, false) + MS / 4
        };
        let local = SocketAddr::new(proxy.listen.ip(), tr.ephemeral(proxy.listen.ip()));
        let server = SocketAddr::new(self.address(), self.port);
        TcpConn::open(tr, at, local, server, self.rtt)
    }
}

/// Relays one exchange: the client's bytes reach the proxy (which ACKs them), go upstream,
/// the server answers, and the proxy passes the answer down.
fn relay(
    tr: &mut Trace,
    down: &mut TcpConn,
    up: &mut TcpConn,
    request: [&[u8]; 2],
    response: [&[u8]; 2],
) {
    down.exchange(tr, request[0], &[]);
    up.wait_until(down.now() + tr.rng.range(60, 400) * 1000);
    pass_up_and_back(tr, down, up, request[1], response);
}

/// The upstream half of [`relay`]: the proxy sends `request` to the server, which answers
/// `response[0]`; the proxy passes `response[1]` down to the client.
fn pass_up_and_back(
    tr: &mut Trace,
    down: &mut TcpConn,
    up: &mut TcpConn,
    request: &[u8],
    response: [&[u8]; 2],
) {
    up.exchange(tr, request, response[0]);
    let at = up.now() + tr.rng.range(60, 400) * 1000;
    down.push_from_server(tr, at, response[1]);
}

/// Both sides close: the client its connection to the proxy, then the proxy its upstream one.
fn close_both(tr: &mut Trace, down: TcpConn, mut up: TcpConn) -> i64 {
    let end = down.close(tr);
    up.wait_until(end + tr.rng.range(100, 900) * 1000);
    up.close(tr).max(end)
}

/// `CONNECT host:port` from `client` through `proxy`, then `rounds` of (client bytes, server
/// bytes) relayed unchanged through the tunnel; returns the time of the last packet.
pub(crate) fn connect(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    proxy: &Proxy,
    target: &Target,
    user_agent: &str,
    rounds: &[(Vec<u8>, Vec<u8>)],
) -> i64 {
    let c = SocketAddr::new(client, tr.ephemeral(client));
    let mut down = TcpConn::open(tr, t, c, proxy.listen, LAN_RTT);
    let authority = format!("{}:{}", target.host, target.port);
    let request = http_request(
        "CONNECT",
        &authority,
        &authority,
        &[
            ("User-Agent", user_agent),
            ("Content-Length", "0"),
            ("Proxy-Connection", "Keep-Alive"),
            ("Pragma", "no-cache"),
        ],
        b"",
    );
    down.exchange(tr, &ansi(request), &[]);
    let at = down.now() + tr.rng.range(100, 500) * 1000;
    let mut up = target.connect(tr, at, proxy);
    let at = up.now() + tr.rng.range(60, 300) * 1000;
    down.push_from_server(tr, at, b"HTTP/1.1 200 Connection established\r\n\r\n");
    for (out, back) in rounds {
        relay(tr, &mut down, &mut up, [out, out], [back, back]);
        down.wait(tr.rng.range(5, 300) * MS);
    }
    close_both(tr, down, up)
}

/// The rounds of a TLS session inside a tunnel: ClientHello naming `sni`, a resumed
/// handshake, then application data of the given (request, response) sizes.
pub(crate) fn tls_rounds(
    tr: &mut Trace,
    sni: &str,
    sizes: &[(usize, usize)],
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let hello = protocols::tls_client_hello(&mut tr.rng, sni);
    let resume = protocols::tls_server_resume(&mut tr.rng);
    let mut rounds = vec![(hello, resume)];
    for (i, &(req, resp)) in sizes.iter().enumerate() {
        let mut out = if i == 0 {
            protocols::tls_client_finish(&mut tr.rng)
        } else {
            Vec::new()
        };
        out.extend_from_slice(&protocols::tls_app_data(&mut tr.rng, req));
        rounds.push((out, protocols::tls_app_data(&mut tr.rng, resp)));
    }
    rounds
}

/// Rounds of Skype's own obfuscated protocol (random bytes), as it tunnels its login
/// connection through a proxy.
pub(crate) fn opaque_rounds(tr: &mut Trace, n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n)
        .map(|_| {
            let up = tr.rng.range(14, 300) as usize;
            let down = tr.rng.range(20, 1200) as usize;
            (tr.rng.bytes(up), tr.rng.bytes(down))
        })
        .collect()
}

/// One plain HTTP request through the proxy.
pub(crate) struct Get<'a> {
    /// Path and query, origin form (`/agent/keyfile_u`).
    pub(crate) path: &'a str,
    /// The client's headers after Host.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// The origin server's whole response.
    pub(crate) response: Vec<u8>,
}

/// `GET http://host/path` requests from `client` on one keep-alive connection to `proxy`,
/// each sent upstream in origin form (with `Via` and `X-Forwarded-For`) on one connection to
/// the target; returns the time of the last packet.
pub(crate) fn get(
    tr: &mut Trace,
    t: i64,
    client: IpAddr,
    proxy: &Proxy,
    target: &Target,
    gets: &[Get],
) -> i64 {
    let c = SocketAddr::new(client, tr.ephemeral(client));
    let mut down = TcpConn::open(tr, t, c, proxy.listen, LAN_RTT);
    let mut up: Option<TcpConn> = None;
    let host = if target.port == 80 {
        target.host.to_string()
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let forwarded_for = client.to_string();
    for g in gets {
        let mut headers = g.headers.to_vec();
        headers.push(("Proxy-Connection", "Keep-Alive"));
        let absolute = format!("http://{host}{}", g.path);
        let downstream = ansi(http_request("GET", &absolute, &host, &headers, b""));
        let mut headers = g.headers.to_vec();
        headers.push(("Via", proxy.via));
        headers.push(("X-Forwarded-For", &forwarded_for));
        headers.push(("Cache-Control", "max-age=259200"));
        headers.push(("Connection", "keep-alive"));
        let upstream = ansi(http_request("GET", g.path, &host, &headers, b""));
        let relayed = with_header(&g.response, "Via", proxy.via);
        match up.as_mut() {
            Some(conn) => relay(
                tr,
                &mut down,
                conn,
                [&downstream, &upstream],
                [&g.response, &relayed],
            ),
            None => {
                // The proxy reads the first request before it looks the host up and connects.
                down.exchange(tr, &downstream, &[]);
                let at = down.now() + tr.rng.range(100, 500) * 1000;
                let conn = up.insert(target.connect(tr, at, proxy));
                pass_up_and_back(tr, &mut down, conn, &upstream, [&g.response, &relayed]);
            }
        }
        down.wait(tr.rng.range(20, 900) * MS);
    }
    match up {
        Some(up) => close_both(tr, down, up),
        None => down.close(tr),
    }
}

/// `request` with each `™` (UTF-8 here) as the single byte 0x99 that Windows' ANSI code page
/// (1252) gives it, as WinINet sends Skype's `User-Agent: Skype™ …`.
fn ansi(request: Vec<u8>) -> Vec<u8> {
    let tm = "\u{2122}".as_bytes();
    let mut out = Vec::with_capacity(request.len());
    let mut rest = &request[..];
    while !rest.is_empty() {
        if rest.starts_with(tm) {
            out.push(0x99);
            rest = &rest[tm.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// `message` (an HTTP request or response) with `name: value` added after its other headers.
fn with_header(message: &[u8], name: &str, value: &str) -> Vec<u8> {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |i| i + 2);
    let mut out = message[..end].to_vec();
    out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    out.extend_from_slice(&message[end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_header_goes_before_the_blank_line() {
        let r = with_header(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", "Via", "1.1 p");
        assert_eq!(r, b"HTTP/1.1 200 OK\r\nA: b\r\nVia: 1.1 p\r\n\r\nbody");
    }

    #[test]
    fn trade_mark_sign_is_one_ansi_byte() {
        assert_eq!(ansi("Skype\u{2122} 6.21".into()), b"Skype\x99 6.21");
    }
}
