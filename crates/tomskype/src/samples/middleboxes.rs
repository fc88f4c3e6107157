//! Sample generator: scenarios with a box in the middle that acts for its clients (issue 11):
//! a home router that forwards its LAN's DNS questions to the ISP's resolver, in front of a
//! TOM-Skype client and a browsing client; an office HTTP proxy that connects upstream for a
//! regular Skype client and a TOM-Skype client. The middle box runs no Skype itself, though
//! its own packets carry its clients' names and reach their servers.

use std::net::{IpAddr, SocketAddr};

use super::browsing::everyday_browsing;
use super::packets::{Trace, MS, SEC};
use super::protocols::{http_response, Answer};
use super::proxy::{self, connect, opaque_rounds, tls_rounds, Get, Proxy, Target};
use super::sessions::{http_date, ssdp};
use super::tom::{ip, sa, tom_2011_session, IE8_UA, INDY_UA};
use super::Scenario;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX: i64 = 2_208_988_800;

/// An NTP timestamp (seconds since 1900, 32-bit fraction) for a time in nanoseconds since 1970.
fn ntp_time(ts: i64) -> [u8; 8] {
    let secs = (ts.div_euclid(SEC) + NTP_UNIX) as u32;
    let frac = ((ts.rem_euclid(SEC) as u64) << 32) / SEC as u64;
    let mut out = [0; 8];
    out[..4].copy_from_slice(&secs.to_be_bytes());
    out[4..].copy_from_slice(&(frac as u32).to_be_bytes());
    out
}

/// One NTP v4 poll from `client` (ntpd, port 123) and the server's answer `rtt` later.
fn ntp(tr: &mut Trace, t: i64, client: IpAddr, server: SocketAddr, rtt: i64) {
    let c = SocketAddr::new(client, 123);
    let mut ask = vec![0x23, 0, 6, 0xe9];
    ask.extend_from_slice(&[0; 36]);
    ask.extend_from_slice(&ntp_time(t));
    tr.udp(t, c, server, &ask);
    let mut reply = vec![0x24, 2, 6, 0xec, 0, 0, 0, 0x1c, 0, 0, 0x03, 0x9a];
    reply.extend_from_slice(&[0xca, 0x70, 0x0a, 0x24]); // reference id: its own upstream server
    reply.extend_from_slice(&ntp_time(t - 37 * SEC));
    reply.extend_from_slice(&ntp_time(t));
    reply.extend_from_slice(&ntp_time(t + rtt / 2));
    reply.extend_from_slice(&ntp_time(t + rtt / 2 + 40_000));
    tr.udp(t + rtt, server, c, &reply);
}

pub(crate) const DESC_FORWARDER: &str = "A home LAN behind a router that forwards DNS, May 2011: \
the router 192.168.2.1 answers its clients' questions on port 53 and, for every name asked, \
first asks the ISP's resolver 202.96.209.133 itself (its own transaction id and a random source \
port, as dnsmasq does), then answers the client; both questions and both answers are in the \
capture. Client 192.168.2.23 runs TOM-Skype 5.1.4.98 (the login of \
tom-skype-cn-2011-login-beacon through the router: skypetools1.tom.com beacon, keyfile_u, ad \
pop-up, mini portal). Client 192.168.2.31 only browses (Google, Wikipedia, BBC, Bing, Baidu, \
QQ). SSDP from 192.168.2.23 to 239.255.255.250 (multicast, never a host). The router itself \
only polls an NTP server (210.72.145.44) besides forwarding. The trap \
(issue 11): the router's upstream questions for TOM names are its clients' lookups, not its \
own. Skype id and bodies are invented. Expected: 192.168.2.23 tom-skype, 192.168.2.31 and the \
router 192.168.2.1 no-skype.";

/// A DNS forwarder in front of a TOM-Skype client and a browsing client.
pub(crate) fn tom_skype_behind_dns_forwarder() -> Scenario {
    let mut tr = Trace::new(0x2011_0521);
    let router = ip(192, 168, 2, 1);
    let tom = ip(192, 168, 2, 23);
    let browser = ip(192, 168, 2, 31);
    tr.local(router, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    tr.local(tom, [0x00, 0x1e, 0x90, 0x4f, 0x2c, 0x17]);
    tr.local(browser, [0x00, 0x25, 0x64, 0xa8, 0x13, 0x5e]);
    tr.forward_dns(router, sa(ip(202, 96, 209, 133), 53));
    let t0 = 1_305_985_207 * SEC + 518 * MS;
    let ntp_server = sa(ip(210, 72, 145, 44), 123);
    for i in 0..3 {
        ntp(&mut tr, t0 + i * 64 * SEC, router, ntp_server, 46 * MS);
    }
    ssdp(&mut tr, t0 + 2 * SEC, tom);
    tom_2011_session(&mut tr, tom, router, t0 + 4 * SEC, "chen_jie1985");
    everyday_browsing(&mut tr, browser, router, t0 + 9 * SEC);
    Scenario::new(
        tr,
        DESC_FORWARDER,
        &[
            (tom, "tom-skype"),
            (browser, "no-skype"),
            (router, "no-skype"),
        ],
    )
}

pub(crate) const DESC_PROXY: &str = "An office LAN whose clients reach the Internet only through \
an HTTP proxy (Squid 3.3 on 10.1.0.2, port 3128; it resolves names through 10.1.0.1), November \
2014. Client 10.1.0.20 runs regular Skype 6.21.0.104: CONNECT api.skype.com:443, \
login.skype.com:443 and client-s.gateway.messenger.live.com:443, each followed by TLS in the \
tunnel (ClientHello with the matching SNI), CONNECT 157.55.130.140:443 for Skype's own login \
protocol, and GET http://ui.skype.com/ui/0/6.21.0.104/en/getlatestversion?ver=6.21.0.104&uhash=... \
in absolute form with User-Agent 'Skype' + 0x99 (the trade mark sign in Windows-1252, as a DPI \
product's source records Skype's update check; the version after it is invented). Client \
10.1.0.21 still runs an old TOM-Skype 5.1 install through the same proxy: CONNECT \
91.190.216.25:443 for Skype's login, GET http://skypetools1.tom.com/en_return_time.php?login_id=...\
&code=<32 hex> and GET http://skypetools.tom.com/agent/keyfile_u (Indy User-Agent). The proxy \
looks every name up itself and opens its own connections to the servers (Skype/Microsoft \
91.190.216.0/21, 157.55.0.0/16, 65.55.0.0/16; TOM 211.100.41.63 and .76): the tunnels carry \
the clients' bytes unchanged (so the ClientHellos and their SNI appear on the proxy's flows \
too), plain requests go upstream in origin form with Via and X-Forwarded-For. The trap (issue \
11): the proxy carries its clients' evidence but runs no Skype. Ids, hashes and bodies are \
invented; server addresses are chosen in the blocks named. Expected: 10.1.0.20 regular-skype, \
10.1.0.21 tom-skype, the proxy 10.1.0.2 no-skype.";

/// Skype 6.21's update check and tunnel User-Agent (the ™ is sent as one ANSI byte).
const SKYPE_UA: &str = "Skype\u{2122} 6.21";

/// Regular Skype and TOM-Skype clients behind an office HTTP proxy.
pub(crate) fn skype_through_http_proxy() -> Scenario {
    let mut tr = Trace::new(0x2014_1118);
    let resolver = ip(10, 1, 0, 1);
    let proxy_ip = ip(10, 1, 0, 2);
    let regular = ip(10, 1, 0, 20);
    let tom = ip(10, 1, 0, 21);
    tr.local(resolver, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    tr.local(proxy_ip, [0x00, 0x50, 0x56, 0x9a, 0x3e, 0x02]);
    tr.local(regular, [0x00, 0x23, 0xae, 0x71, 0x5d, 0xc4]);
    tr.local(tom, [0x00, 0x23, 0xae, 0x71, 0x60, 0x1b]);
    let px = Proxy {
        listen: sa(proxy_ip, 3128),
        dns: resolver,
        via: "1.1 proxy.office.lan (squid/3.3.8)",
    };
    let t0 = 1_416_275_530 * SEC + 147 * MS;

    // Regular Skype 6.21 signing in.
    let tls_names: [(&str, IpAddr, i64); 3] = [
        ("api.skype.com", ip(65, 55, 223, 12), 35),
        ("login.skype.com", ip(91, 190, 216, 81), 30),
        (
            "client-s.gateway.messenger.live.com",
            ip(157, 55, 235, 147),
            31,
        ),
    ];
    let mut t = t0;
    for (name, addr, rtt) in tls_names {
        let answers = [Answer::Addr(addr)];
        let target = Target {
            host: name,
            port: 443,
            answers: &answers,
            rtt: rtt * MS,
        };
        let rounds = tls_rounds(&mut tr, name, &[(420, 1800), (180, 640)]);
        let end = connect(&mut tr, t, regular, &px, &target, SKYPE_UA, &rounds);
        t = end.min(t + 900 * MS);
    }
    let login = Target {
        host: "157.55.130.140",
        port: 443,
        answers: &[],
        rtt: 34 * MS,
    };
    let rounds = opaque_rounds(&mut tr, 4);
    let t = connect(&mut tr, t, regular, &px, &login, SKYPE_UA, &rounds);
    let ui = [Answer::Addr(ip(91, 190, 218, 58))];
    let target = Target {
        host: "ui.skype.com",
        port: 80,
        answers: &ui,
        rtt: 30 * MS,
    };
    let uhash = format!("1{}", tr.rng.hex(32));
    let path = format!("/ui/0/6.21.0.104/en/getlatestversion?ver=6.21.0.104&uhash={uhash}");
    let date = http_date(t);
    let gets = [Get {
        path: &path,
        headers: &[("User-Agent", SKYPE_UA), ("Cache-Control", "no-cache")],
        response: http_response("Microsoft-IIS/7.5", "text/plain", &date, b"6.21.0.104"),
    }];
    proxy::get(&mut tr, t + 2 * SEC, regular, &px, &target, &gets);

    // TOM-Skype through the same proxy, a little later.
    let t = t0 + 11 * SEC;
    let login = Target {
        host: "91.190.216.25",
        port: 443,
        answers: &[],
        rtt: 300 * MS,
    };
    let rounds = opaque_rounds(&mut tr, 3);
    let t = connect(&mut tr, t, tom, &px, &login, IE8_UA, &rounds);
    let beacon = [Answer::Addr(ip(211, 100, 41, 63))];
    let target = Target {
        host: "skypetools1.tom.com",
        port: 80,
        answers: &beacon,
        rtt: 42 * MS,
    };
    let path = format!(
        "/en_return_time.php?login_id=huang_wei77&code={}",
        tr.rng.hex(32)
    );
    let gets = [Get {
        path: &path,
        headers: &[("Accept", "*/*"), ("User-Agent", IE8_UA)],
        response: http_response("Apache", "text/html", &http_date(t), b"ok"),
    }];
    let t = proxy::get(&mut tr, t + 500 * MS, tom, &px, &target, &gets);
    let tools = [Answer::Addr(ip(211, 100, 41, 76))];
    let target = Target {
        host: "skypetools.tom.com",
        port: 80,
        answers: &tools,
        rtt: 40 * MS,
    };
    let keyfile = tr.rng.bytes(2_416);
    let gets = [Get {
        path: "/agent/keyfile_u",
        headers: &[("Accept", "text/html, */*"), ("User-Agent", INDY_UA)],
        response: http_response(
            "Apache",
            "application/octet-stream",
            &http_date(t),
            &keyfile,
        ),
    }];
    proxy::get(&mut tr, t + 800 * MS, tom, &px, &target, &gets);
    Scenario::new(
        tr,
        DESC_PROXY,
        &[
            (regular, "regular-skype"),
            (tom, "tom-skype"),
            (proxy_ip, "no-skype"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// The DNS question name of a message, dotted.
    fn qname(p: &[u8]) -> String {
        let mut labels = Vec::new();
        let mut at = 12;
        while let Some(&len) = p.get(at) {
            if len == 0 {
                break;
            }
            let label = &p[at + 1..at + 1 + usize::from(len)];
            labels.push(String::from_utf8_lossy(label).into_owned());
            at += 1 + usize::from(len);
        }
        labels.join(".")
    }

    #[test]
    fn forwarder_asks_upstream_between_question_and_answer() {
        let s = tom_skype_behind_dns_forwarder();
        let router = ip(192, 168, 2, 1);
        let upstream = ip(202, 96, 209, 133);
        let mut by_name: std::collections::BTreeMap<String, Vec<(IpAddr, IpAddr)>> =
            Default::default();
        for (src, dst, p) in s.frames.iter().filter_map(|f| f.parts()) {
            if src.port() == 53 || dst.port() == 53 {
                by_name
                    .entry(qname(p))
                    .or_default()
                    .push((src.ip(), dst.ip()));
            }
        }
        assert!(by_name.contains_key("skypetools.tom.com"));
        assert!(by_name.contains_key("www.google.com"));
        for (name, seen) in by_name {
            let client = seen[0].0;
            let expect = vec![
                (client, router),
                (router, upstream),
                (upstream, router),
                (router, client),
            ];
            assert_eq!(seen, expect, "{name}");
        }
    }

    #[test]
    fn proxy_relays_tunnels_and_rewrites_plain_requests() {
        let s = skype_through_http_proxy();
        let parts: Vec<_> = s.frames.iter().filter_map(|f| f.parts()).collect();
        let sent = |from: IpAddr, to: IpAddr, needle: &[u8]| {
            parts
                .iter()
                .any(|(src, dst, p)| src.ip() == from && dst.ip() == to && contains(p, needle))
        };
        let (proxy, regular, tom) = (ip(10, 1, 0, 2), ip(10, 1, 0, 20), ip(10, 1, 0, 21));
        assert!(sent(
            regular,
            proxy,
            b"CONNECT api.skype.com:443 HTTP/1.1\r\n"
        ));
        assert!(
            sent(regular, proxy, b"\x00\x0dapi.skype.com"),
            "SNI in the tunnel"
        );
        assert!(
            sent(proxy, ip(65, 55, 223, 12), b"\x00\x0dapi.skype.com"),
            "SNI upstream"
        );
        assert!(sent(
            regular,
            proxy,
            b"GET http://ui.skype.com/ui/0/6.21.0.104/"
        ));
        assert!(sent(regular, proxy, b"User-Agent: Skype\x99 6.21\r\n"));
        assert!(sent(proxy, ip(91, 190, 218, 58), b"GET /ui/0/6.21.0.104/"));
        assert!(sent(
            tom,
            proxy,
            b"GET http://skypetools.tom.com/agent/keyfile_u HTTP/1.1"
        ));
        let upstream = ip(211, 100, 41, 76);
        assert!(sent(proxy, upstream, b"GET /agent/keyfile_u HTTP/1.1"));
        assert!(sent(proxy, upstream, b"X-Forwarded-For: 10.1.0.21\r\n"));
        assert!(sent(proxy, tom, b"Via: 1.1 proxy.office.lan (squid/3.3.8)"));
        // The clients talk to the proxy only.
        assert!(parts
            .iter()
            .all(|(src, dst, _)| { ![regular, tom].contains(&src.ip()) || dst.ip() == proxy }));
    }
}
