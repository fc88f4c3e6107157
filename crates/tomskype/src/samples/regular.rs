//! Sample generator: scenarios of hosts running regular Skype: the 2012 client seen by its
//! servers only (the non-China rows of the GreatFire table), the 2015 client as in a real
//! capture of that year (names under skype.com/skype.net/skypeassets.com/akadns.net/
//! messenger.live.com, some flows over IPv6), the same with the user browsing Chinese sites,
//! and a call with a peer at a China residential address (an advisory, not a label change).

use std::net::{IpAddr, SocketAddr};

use super::browsing::chinese_browsing;
use super::packets::{Trace, MS, SEC};
use super::protocols::{http_request, http_response, Answer};
use super::sessions::{http, http_date, https, media, resolve, skype_tcp, skype_udp_probe, ssdp};
use super::tom::{ip, sa};
use super::Scenario;

pub(crate) const DESC_2012_REGULAR: &str = "Regular Skype (English) logging in and making a test \
call, December 2012, seen by its servers only: no DNS, no HTTP names. Servers are non-China \
rows of GreatFire's table in Skype ranges (204.9.163.0/24, 91.190.216.0/21, 78.141.179.0/24, \
212.187.172.0/24, 213.146.188.0/23) and Microsoft's (157.55.x, 64.4.x, 207.46.x), on Skype's \
ports (443, 12350, 33033, 40000+); UDP probes to peer-to-peer super nodes in Europe and the US \
and the call's media with a peer in the US. Payloads are random bytes. Host 192.168.2.14.";

/// d. Regular Skype, Dec 2012: servers only, none in China.
pub(crate) fn servers_only_2012() -> Scenario {
    let mut tr = Trace::new(0x2012_1212);
    let host = ip(192, 168, 2, 14);
    tr.local(host, [0x00, 0x1e, 0x4f, 0x9a, 0x21, 0x7c]);
    let t0 = 1_355_230_964 * SEC + 511 * MS;
    let local = sa(host, 47203);
    let mut t = t0;
    let peers = [
        (ip(86, 31, 35, 30), 59621, 30),
        (ip(71, 238, 7, 203), 18767, 120),
        (ip(81, 83, 77, 141), 17639, 25),
    ];
    for (i, (addr, port, rtt)) in peers.into_iter().enumerate() {
        skype_udp_probe(
            &mut tr,
            t0 + i as i64 * 90 * MS,
            local,
            sa(addr, port),
            rtt * MS,
            i != 1,
        );
    }
    let servers = [
        (ip(204, 9, 163, 247), 443, 48),
        (ip(204, 9, 163, 184), 443, 47),
        (ip(91, 190, 216, 25), 12350, 21),
        (ip(78, 141, 179, 11), 443, 22),
        (ip(212, 187, 172, 78), 33033, 15),
        (ip(213, 146, 189, 234), 443, 19),
        (ip(157, 55, 56, 150), 40014, 95),
        (ip(64, 4, 34, 81), 443, 110),
        (ip(207, 46, 70, 208), 443, 105),
    ];
    for (i, (addr, port, rtt)) in servers.into_iter().enumerate() {
        let start = t0 + 1500 * MS + i as i64 * 900 * MS;
        t = t.max(skype_tcp(&mut tr, start, host, sa(addr, port), rtt * MS, 3));
    }
    skype_tcp(
        &mut tr,
        t0 + 4 * SEC,
        host,
        sa(ip(86, 31, 35, 30), 59621),
        30 * MS,
        4,
    );
    ssdp(&mut tr, t0 + 7 * SEC, host);
    let t = media(
        &mut tr,
        t + 3 * SEC,
        local,
        sa(ip(76, 185, 207, 12), 45493),
        6 * SEC,
        130 * MS,
    );
    skype_tcp(
        &mut tr,
        t + 10 * SEC,
        host,
        sa(ip(91, 190, 216, 25), 12350),
        21 * MS,
        1,
    );
    Scenario::new(tr, DESC_2012_REGULAR, &[(host, "regular-skype")])
}

/// A name served from Akamai: the name, its two CNAMEs, an IPv4 and an IPv6 address.
type AkamaiName = (&'static str, &'static str, &'static str, [u8; 4], [u16; 8]);

const V6_APPS: [u16; 8] = [0x2a02, 0x26f0, 0xe1, 0x189, 0, 0, 0, 0x11e3];
const V6_ASSETS: [u16; 8] = [0x2a02, 0x26f0, 0xe1, 0x18e, 0, 0, 0, 0x1e58];

/// Regular Skype 7 starting up and signing in, as in a real 2015 capture: DNS (A and AAAA) for
/// its names, TLS with SNI to the web services, Skype's own protocol to the login servers and
/// super nodes, the update check over HTTP; a call with `call` (peer, round trip) if given.
/// Flows to addresses with an AAAA answer go over IPv6 from `host6` on interface `v6_iface`.
pub(crate) fn skype_2015(
    tr: &mut Trace,
    host: IpAddr,
    host6: Option<(IpAddr, usize)>,
    dns: IpAddr,
    t0: i64,
    call: Option<(SocketAddr, i64)>,
) -> i64 {
    let v4_iface = tr.iface;
    let aaaa = host6.is_some();
    let mut t = t0;
    // The web services over TLS, each after its lookup.
    let tls_names: [(&str, &[Answer], u16, i64); 4] = [
        (
            "b.config.skype.com",
            &[Answer::Addr(ip(157, 56, 126, 211))],
            443,
            32,
        ),
        (
            "api.skype.com",
            &[Answer::Addr(ip(65, 55, 223, 12))],
            443,
            35,
        ),
        (
            "DB3MSGR5011709.gateway.messenger.live.com",
            &[Answer::Addr(ip(157, 55, 235, 156))],
            443,
            31,
        ),
        (
            "pipe.prd.skypedata.akadns.net",
            &[Answer::Addr(ip(65, 55, 223, 33))],
            443,
            36,
        ),
    ];
    for (name, answers, port, rtt) in tls_names {
        let a = resolve(tr, t, host, dns, name, answers, aaaa);
        let Some(Answer::Addr(addr)) = answers.first() else {
            continue;
        };
        let sni = if name.starts_with("pipe.") {
            "pipe.skype.com"
        } else {
            name
        };
        let rounds = [(420, 1800), (180, 640)];
        t = https(tr, a + MS, host, sa(*addr, port), sni, rtt * MS, &rounds).min(a + 900 * MS);
    }
    // Skype's own protocol to the login servers and a relay.
    let conn = [
        Answer::Addr(ip(111, 221, 74, 38)),
        Answer::Addr(ip(157, 55, 130, 140)),
    ];
    let a = resolve(tr, t, host, dns, "conn.skype.akadns.net", &conn, aaaa);
    let login_end = skype_tcp(tr, a + MS, host, sa(ip(157, 55, 130, 140), 443), 34 * MS, 4);
    skype_tcp(
        tr,
        a + 200 * MS,
        host,
        sa(ip(111, 221, 74, 38), 443),
        260 * MS,
        2,
    );
    let a = resolve(
        tr,
        a + 300 * MS,
        host,
        dns,
        "dsn4.d.skype.net",
        &[Answer::Addr(ip(157, 55, 56, 160))],
        aaaa,
    );
    skype_tcp(
        tr,
        a + MS,
        host,
        sa(ip(157, 55, 56, 160), 33033),
        95 * MS,
        2,
    );
    let relay = ip(213, 199, 179, 142);
    let a = resolve(
        tr,
        a + 100 * MS,
        host,
        dns,
        "335.0.7.7.3.rst6.r.skype.net",
        &[Answer::Addr(relay)],
        aaaa,
    );
    skype_tcp(tr, a + MS, host, sa(relay, 40003), 33 * MS, 3);
    let local = sa(host, 13021);
    skype_udp_probe(tr, a + 50 * MS, local, sa(relay, 3478), 33 * MS, true);
    // Super nodes.
    let nodes = [
        (ip(86, 31, 35, 30), 59621, 28),
        (ip(5, 248, 186, 221), 31010, 60),
        (ip(80, 14, 46, 121), 4415, 29),
    ];
    for (i, (addr, port, rtt)) in nodes.into_iter().enumerate() {
        let start = login_end + i as i64 * 400 * MS;
        skype_udp_probe(tr, start, local, sa(addr, port), rtt * MS, true);
        skype_tcp(tr, start + 150 * MS, host, sa(addr, port), rtt * MS, 3);
    }
    // Update check.
    let ui = ip(91, 190, 218, 58);
    let a = resolve(
        tr,
        login_end + 2 * SEC,
        host,
        dns,
        "ui.skype.com",
        &[Answer::Addr(ui)],
        aaaa,
    );
    let ex = [(
        http_request(
            "GET",
            "/ui/0/7.4.0.102/en/getlatestversion?ver=7.4.0.102&uhash=1c0a3f46d2b7e9f0a1b2c3d4e5f60718",
            "ui.skype.com",
            &[("Accept", "*/*"), ("User-Agent", "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.1; Trident/7.0)")],
            b"",
        ),
        http_response("Microsoft-IIS/7.5", "text/plain", &http_date(a), b"7.5.0.102"),
    )];
    t = http(tr, a + MS, host, sa(ui, 80), 30 * MS, &ex);
    // Content from Akamai, over IPv6 when the host has it.
    let akamai: [AkamaiName; 2] = [
        (
            "apps.skype.com",
            "apps.skype.com.edgekey.net",
            "e4593.g.akamaiedge.net",
            [23, 206, 33, 166],
            V6_APPS,
        ),
        (
            "apps.skypeassets.com",
            "apps.skypeassets.com.edgekey.net",
            "e7768.b.akamaiedge.net",
            [23, 223, 73, 34],
            V6_ASSETS,
        ),
    ];
    for (name, edge, akamai_name, v4, v6) in akamai {
        let answers = [
            Answer::Cname(edge),
            Answer::Cname(akamai_name),
            Answer::Addr(IpAddr::from(v4)),
            Answer::Addr(IpAddr::from(v6)),
        ];
        let a = resolve(tr, t + 200 * MS, host, dns, name, &answers, aaaa);
        let (client, server) = match host6 {
            Some((h6, iface)) => {
                tr.iface = iface;
                (h6, IpAddr::from(v6))
            }
            None => (host, IpAddr::from(v4)),
        };
        t = https(
            tr,
            a + MS,
            client,
            sa(server, 443),
            name,
            24 * MS,
            &[(510, 14_200), (480, 3_100)],
        );
        tr.iface = v4_iface;
    }
    if let Some((peer, rtt)) = call {
        skype_udp_probe(tr, t + 5 * SEC, local, peer, rtt, true);
        t = media(tr, t + 8 * SEC, local, peer, 6 * SEC, rtt);
    }
    // Keep-alive on the login connection's successor.
    skype_tcp(
        tr,
        t + 15 * SEC,
        host,
        sa(ip(157, 55, 130, 140), 443),
        34 * MS,
        1,
    )
}

pub(crate) const DESC_2015: &str = "Regular Skype 7.4 on Windows, June 2015, modelled on a real \
capture of that year (nDPI's skype.pcap): DNS lookups (A and AAAA) through the home router \
192.168.178.1 for b.config.skype.com, api.skype.com, DB3MSGR5011709.gateway.messenger.live.com, \
pipe.prd.skypedata.akadns.net, conn.skype.akadns.net, dsn4.d.skype.net, \
335.0.7.7.3.rst6.r.skype.net, ui.skype.com, apps.skype.com and apps.skypeassets.com; TLS with \
SNI to the web services, Skype's own protocol to the login servers (443), a relay (40003, \
3478/udp) and super nodes in Europe, the update check GET \
ui.skype.com/ui/0/7.4.0.102/en/getlatestversion, and a call with a peer in the US. The Akamai \
names have AAAA answers and their TLS sessions go over IPv6 from the host's global address \
2a02:8108:4b3f:e100:5d2c:9a1:3c5f:7e12, which is the same machine (so it is labelled too). \
Answers are Microsoft/Skype/Akamai addresses chosen for the names (most as in the real \
capture); ids and bodies are invented.";

/// e. Regular Skype in 2015, with names, some flows over IPv6.
pub(crate) fn names_2015() -> Scenario {
    let mut tr = Trace::new(0x2015_0603);
    let host = ip(192, 168, 178, 23);
    let host6 = IpAddr::from([
        0x2a02, 0x8108, 0x4b3f, 0xe100, 0x5d2c, 0x9a1, 0x3c5f, 0x7e12,
    ]);
    let dns = ip(192, 168, 178, 1);
    let mac = [0x3c, 0x97, 0x0e, 0x51, 0xa2, 0x08];
    tr.local(host, mac);
    tr.local(host6, mac);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_433_332_040 * SEC + 233 * MS;
    ssdp(&mut tr, t0 + 12 * SEC, host);
    let call = (sa(ip(76, 185, 207, 12), 45493), 140 * MS);
    skype_2015(&mut tr, host, Some((host6, 0)), dns, t0, Some(call));
    Scenario::new(
        tr,
        DESC_2015,
        &[(host, "regular-skype"), (host6, "regular-skype")],
    )
}

pub(crate) const DESC_CN_SITES: &str = "Regular Skype 7.4 (names as in regular-skype-2015-names, \
IPv4 only) on a host reached through a VPN tunnel (raw IP, host 10.8.0.6, resolver 10.8.0.1), \
July 2015, while its user browses Chinese websites: www.baidu.com (HTTPS, via \
www.a.shifen.com), www.qq.com and weibo.com (HTTP), and TOM's web portal www.tom.com (HTTP, no \
Skype parameters: browsing TOM's portal is not TOM-Skype evidence). China addresses: Baidu \
220.181.112.244, Tencent 101.226.103.106, Sina 123.125.104.197; www.tom.com is given \
211.100.41.159, an address picked in TOM's 211.100.40.0/23 block but not one of the 2012 \
server-test addresses. Expected: regular-skype.";

/// f. Regular Skype plus browsing of Chinese sites (including TOM's portal).
pub(crate) fn with_chinese_sites() -> Scenario {
    let mut tr = Trace::new(0x2015_0721);
    let host = ip(10, 8, 0, 6);
    let dns = ip(10, 8, 0, 1);
    tr.local(host, [0x00, 0x00, 0x00, 0x00, 0x00, 0x06]);
    tr.local(dns, [0x00, 0x00, 0x00, 0x00, 0x00, 0x01]);
    let t0 = 1_437_487_509 * SEC + 640 * MS;
    skype_2015(&mut tr, host, None, dns, t0, None);
    chinese_browsing(&mut tr, host, dns, t0 + 20 * SEC);
    Scenario::new(tr, DESC_CN_SITES, &[(host, "regular-skype")])
}

pub(crate) const DESC_CN_PEER: &str = "Regular Skype 7.4 (names as in regular-skype-2015-names), \
May 2015, on a host with two interfaces captured into one pcapng: eth0 (Ethernet, \
192.168.1.50, resolver 192.168.1.1) and he-ipv6 (raw IP, a tunnel-broker IPv6 address \
2001:470:1f0b:5c1::2, carrying the Akamai TLS sessions). The user calls a contact whose client \
sits at a China residential address (117.89.132.58, no name, high UDP ports both sides): the \
host still runs regular Skype (expected regular-skype for both its addresses); a tool should \
add an advisory that the peer may be using TOM-Skype, not change the label.";

/// g. Regular Skype calling a peer at a China residential address.
pub(crate) fn p2p_china_peer() -> Scenario {
    let mut tr = Trace::new(0x2015_0518);
    let host = ip(192, 168, 1, 50);
    let host6 = IpAddr::from([0x2001, 0x470, 0x1f0b, 0x5c1, 0, 0, 0, 2]);
    let dns = ip(192, 168, 1, 1);
    let mac = [0x00, 0x21, 0x6a, 0x3c, 0x91, 0x0e];
    tr.local(host, mac);
    tr.local(host6, mac);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_431_969_639 * SEC + 904 * MS;
    let peer = (sa(ip(117, 89, 132, 58), 26114), 280 * MS);
    skype_2015(&mut tr, host, Some((host6, 1)), dns, t0, Some(peer));
    Scenario::new(
        tr,
        DESC_CN_PEER,
        &[(host, "regular-skype"), (host6, "regular-skype")],
    )
}
