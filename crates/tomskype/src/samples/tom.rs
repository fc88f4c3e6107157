//! Sample generator: scenarios of hosts running TOM-Skype (2008 Chinese build with the keyword
//! filter, 2011 login beacon and portal requests, the 2012 English build seen by its servers
//! only). Names, URLs and server addresses come from `indicators/RESEARCH.md` and the GreatFire
//! 2012 table; what those sources do not give (response bodies, ids, the upload path) is
//! invented and said to be so in each description.

use std::net::{IpAddr, SocketAddr};

use super::packets::{Trace, MS, SEC};
use super::protocols::{http_request, http_response, Answer};
use super::sessions::{http, http_date, media, resolve, skype_tcp, skype_udp_probe, ssdp};
use super::Scenario;

pub(crate) fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::from([a, b, c, d])
}

pub(crate) fn sa(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// User-Agent of TOM's ContentFilter.exe (Delphi Indy HTTP client).
pub(crate) const INDY_UA: &str = "Mozilla/3.0 (compatible; Indy Library)";
/// User-Agent of the Internet Explorer control that renders the client's portal pages.
pub(crate) const IE8_UA: &str = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)";

pub(crate) const DESC_2008: &str = "TOM-Skype Chinese build, September 2008, one Windows host \
(192.168.1.101) behind a home router that resolves DNS (192.168.1.1). Skype login and peer \
traffic (UDP probes, TCP on Skype ports to 212.187.172.0/24 and 204.9.163.0/24, a super node \
in China), then TOM's ContentFilter: DNS for skypetools.tom.com (answer 211.100.40.173), HTTP \
GET /agent/skypever.php?md5=nofile with User-Agent 'Mozilla/3.0 (compatible; Indy Library)', \
the keyword list /agent/newkeyfile/keyfile, a short call, and on a keyword hit an HTTP POST \
to 219.232.255.99 with no name. The POST's path (/upload) and every response body are \
invented: the real upload host/path was never recovered, so they carry no evidence weight; the \
names, URLs, User-Agent and addresses are those of RESEARCH.md and the GreatFire 2012 table.";

/// a. TOM-Skype Chinese build, 2008: version check, keyword list, upload on a keyword hit.
pub(crate) fn cn_2008_keyword_upload() -> Scenario {
    let mut tr = Trace::new(0x2008_0916);
    let host = ip(192, 168, 1, 101);
    let dns = ip(192, 168, 1, 1);
    tr.local(host, [0x00, 0x16, 0xd3, 0x4a, 0x11, 0x9c]);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_221_550_872 * SEC + 118 * MS;
    let skype_port = 29463;
    let local = sa(host, skype_port);
    // Login: probes to super nodes, then the login servers on Skype's ports.
    let mut t = skype_udp_probe(
        &mut tr,
        t0,
        local,
        sa(ip(86, 31, 35, 30), 59621),
        290 * MS,
        true,
    );
    skype_udp_probe(
        &mut tr,
        t0 + 40 * MS,
        local,
        sa(ip(222, 94, 157, 83), 28761),
        45 * MS,
        true,
    );
    skype_udp_probe(
        &mut tr,
        t0 + 90 * MS,
        local,
        sa(ip(71, 238, 7, 203), 18767),
        240 * MS,
        false,
    );
    t = skype_tcp(
        &mut tr,
        t,
        host,
        sa(ip(212, 187, 172, 78), 33033),
        310 * MS,
        4,
    )
    .max(t);
    skype_tcp(
        &mut tr,
        t0 + 2 * SEC,
        host,
        sa(ip(204, 9, 163, 184), 443),
        330 * MS,
        3,
    );
    skype_tcp(
        &mut tr,
        t + 300 * MS,
        host,
        sa(ip(222, 94, 157, 83), 28761),
        45 * MS,
        6,
    );

    // ContentFilter.exe right after login.
    let tom = ip(211, 100, 40, 173);
    let answered = resolve(
        &mut tr,
        t + SEC,
        host,
        dns,
        "skypetools.tom.com",
        &[Answer::Addr(tom)],
        false,
    );
    let date = http_date(answered);
    let ver_body = b"0\r\n".to_vec();
    let keyfile = tr.rng.bytes(3_184);
    let exchanges = [
        (
            http_request(
                "GET",
                "/agent/skypever.php?md5=nofile",
                "skypetools.tom.com",
                &[("Accept", "text/html, */*"), ("User-Agent", INDY_UA)],
                b"",
            ),
            http_response("Apache/2.0.54 (Unix)", "text/html", &date, &ver_body),
        ),
        (
            http_request(
                "GET",
                "/agent/newkeyfile/keyfile",
                "skypetools.tom.com",
                &[("Accept", "text/html, */*"), ("User-Agent", INDY_UA)],
                b"",
            ),
            http_response(
                "Apache/2.0.54 (Unix)",
                "application/octet-stream",
                &date,
                &keyfile,
            ),
        ),
    ];
    let t = http(
        &mut tr,
        answered + 2 * MS,
        host,
        sa(tom, 80),
        38 * MS,
        &exchanges,
    );

    // A call with a contact in Europe, then a chat message that hits a keyword.
    let t = media(
        &mut tr,
        t + 20 * SEC,
        local,
        sa(ip(81, 83, 77, 141), 17639),
        6 * SEC,
        280 * MS,
    );
    let upload_ip = ip(219, 232, 255, 99);
    let body = tr.rng.bytes(296);
    let upload = [(
        http_request(
            "POST",
            "/upload",
            "219.232.255.99",
            &[
                ("Content-Type", "application/octet-stream"),
                ("User-Agent", INDY_UA),
            ],
            &body,
        ),
        http_response("Apache/2.0.54 (Unix)", "text/html", &http_date(t), b"1"),
    )];
    let t = http(
        &mut tr,
        t + 35 * SEC,
        host,
        sa(upload_ip, 80),
        52 * MS,
        &upload,
    );
    skype_tcp(
        &mut tr,
        t + 4 * SEC,
        host,
        sa(ip(212, 187, 172, 78), 33033),
        310 * MS,
        2,
    );
    Scenario::new(tr, DESC_2008, &[(host, "tom-skype")])
}

pub(crate) const DESC_2011: &str = "TOM-Skype 5.1.4.98 (Chinese build), June 2011, one host \
(10.0.0.23) on VLAN 20 of an office LAN, resolver 10.0.0.1. After the Skype login (UDP probes, \
TCP to 91.190.216.0/21 and a super node) the client sends TOM's login beacon \
skypetools1.tom.com/en_return_time.php?login_id=<id>&code=<32 hex>, fetches the \
surveillance keyword list skypetools.tom.com/agent/keyfile_u, and loads the ad pop-up \
skype.tom.com/ad/pop/...?skype_ver=5.1.4.98&skype_id=<id> and the mini portal \
news.tom.com/skype_miniportal_2011.html?skype_id=<id>&skype_ver=5.1.4.98, each after a DNS \
lookup. URLs are those of RESEARCH.md; the Skype id, the code, the addresses chosen in \
211.100.40.0/23 and all response bodies are invented.";

/// b. TOM-Skype 2011: login beacon, keyfile_u, ad pop-up and mini portal.
pub(crate) fn cn_2011_login_beacon() -> Scenario {
    let mut tr = Trace::new(0x2011_0609);
    let host = ip(10, 0, 0, 23);
    let dns = ip(10, 0, 0, 1);
    tr.local(host, [0x00, 0x24, 0xe8, 0x61, 0x0b, 0x3d]);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_307_585_737 * SEC + 402 * MS;
    tom_2011_session(&mut tr, host, dns, t0, "xiaoli_sh2011");
    Scenario::new(tr, DESC_2011, &[(host, "tom-skype")])
}

/// The 2011 TOM-Skype login sequence for `host` (shared with the LAN scenario).
pub(crate) fn tom_2011_session(
    tr: &mut Trace,
    host: IpAddr,
    dns: IpAddr,
    t0: i64,
    skype_id: &str,
) -> i64 {
    let local = sa(host, 21388);
    let mut t = skype_udp_probe(
        tr,
        t0,
        local,
        sa(ip(91, 190, 216, 24), 12350),
        300 * MS,
        true,
    );
    skype_udp_probe(
        tr,
        t0 + 60 * MS,
        local,
        sa(ip(58, 212, 93, 40), 39104),
        35 * MS,
        true,
    );
    t = skype_tcp(tr, t, host, sa(ip(91, 190, 216, 25), 443), 300 * MS, 3).max(t);
    skype_tcp(
        tr,
        t0 + 3 * SEC,
        host,
        sa(ip(58, 212, 93, 40), 39104),
        35 * MS,
        5,
    );

    let code = tr.rng.hex(32);
    let beacon_ip = ip(211, 100, 41, 63);
    let a = resolve(
        tr,
        t + 500 * MS,
        host,
        dns,
        "skypetools1.tom.com",
        &[Answer::Addr(beacon_ip)],
        false,
    );
    let path = format!("/en_return_time.php?login_id={skype_id}&code={code}");
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
    let t = http(tr, a + MS, host, sa(beacon_ip, 80), 42 * MS, &ex);

    let tools = ip(211, 100, 40, 173);
    let a = resolve(
        tr,
        t + 800 * MS,
        host,
        dns,
        "skypetools.tom.com",
        &[Answer::Addr(tools)],
        false,
    );
    let keyfile = tr.rng.bytes(2_416);
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
    let t = http(tr, a + MS, host, sa(tools, 80), 40 * MS, &ex);

    let ad = ip(211, 100, 41, 18);
    let a = resolve(
        tr,
        t + 2 * SEC,
        host,
        dns,
        "skype.tom.com",
        &[Answer::Addr(ad)],
        false,
    );
    let path = format!("/ad/pop/index.html?skype_ver=5.1.4.98&skype_id={skype_id}");
    let page = b"<html><head><meta charset=\"gb2312\"></head><body><a href=\"http://skype.tom.com/\"><img src=\"pop.jpg\"></a></body></html>";
    let ex = [(
        http_request(
            "GET",
            &path,
            "skype.tom.com",
            &[
                ("Accept", "*/*"),
                ("Accept-Language", "zh-cn"),
                ("User-Agent", IE8_UA),
            ],
            b"",
        ),
        http_response("Apache", "text/html", &http_date(a), page),
    )];
    let t = http(tr, a + MS, host, sa(ad, 80), 41 * MS, &ex);

    let news = ip(211, 100, 40, 15);
    let a = resolve(
        tr,
        t + 1500 * MS,
        host,
        dns,
        "news.tom.com",
        &[Answer::Addr(news)],
        false,
    );
    let path = format!("/skype_miniportal_2011.html?skype_id={skype_id}&skype_ver=5.1.4.98");
    let mut portal =
        b"<html><head><meta charset=\"gb2312\"><title>TOM</title></head><body>".to_vec();
    portal.extend_from_slice(tr.rng.hex(1800).as_bytes());
    portal.extend_from_slice(b"</body></html>");
    let ex = [(
        http_request(
            "GET",
            &path,
            "news.tom.com",
            &[
                ("Accept", "*/*"),
                ("Accept-Language", "zh-cn"),
                ("User-Agent", IE8_UA),
            ],
            b"",
        ),
        http_response("Apache", "text/html", &http_date(a), &portal),
    )];
    let t = http(tr, a + MS, host, sa(news, 80), 39 * MS, &ex);
    skype_tcp(
        tr,
        t + 25 * SEC,
        host,
        sa(ip(91, 190, 216, 25), 443),
        300 * MS,
        2,
    )
}

pub(crate) const DESC_2012_TOM: &str = "TOM-Skype English build logging in and making a test \
call, December 2012, as in GreatFire's server test: no DNS and no HTTP names at all, only the \
servers it talks to. Seven China servers that both TOM builds contacted (110.81.238.33, \
211.100.40.173, 211.100.41.76, 218.30.111.75, 218.6.12.214, 219.232.255.99, 220.162.97.165) \
and three that one TOM build did (117.25.148.250, 180.149.134.221, 61.160.200.197), plus \
Skype/Microsoft servers from the same table (204.9.163.247, 91.190.216.53, 213.146.189.237, \
157.55.56.150, 64.4.9.158) and the call's media relay 213.199.179.150, on ports 443, \
12350, 33033 and high UDP ports; SSDP to 239.255.255.250 (multicast, never a host). Payloads \
are random bytes. Host 192.168.0.105, captured on Linux's 'any' device (SLL2).";

/// c. TOM-Skype English build, Dec 2012: the servers of the GreatFire table, no names.
pub(crate) fn en_2012_servers_only() -> Scenario {
    let mut tr = Trace::new(0x2012_1211);
    let host = ip(192, 168, 0, 105);
    tr.local(host, [0x00, 0x26, 0x9e, 0x05, 0x7b, 0x42]);
    let t0 = 1_355_217_605 * SEC + 77 * MS;
    let local = sa(host, 38562);
    let mut t = ssdp(&mut tr, t0, host);
    let skype = [
        (ip(204, 9, 163, 247), 443, 210),
        (ip(91, 190, 216, 53), 12350, 190),
        (ip(213, 146, 189, 237), 443, 200),
        (ip(157, 55, 56, 150), 443, 240),
        (ip(64, 4, 9, 158), 443, 230),
    ];
    for (i, (addr, port, rtt)) in skype.into_iter().enumerate() {
        let start = t0 + 400 * MS + i as i64 * 700 * MS;
        t = t.max(skype_tcp(&mut tr, start, host, sa(addr, port), rtt * MS, 3));
    }
    let china = [
        (ip(110, 81, 238, 33), 443, 62),
        (ip(211, 100, 40, 173), 443, 48),
        (ip(211, 100, 41, 76), 443, 47),
        (ip(218, 30, 111, 75), 443, 55),
        (ip(218, 6, 12, 214), 33033, 71),
        (ip(219, 232, 255, 99), 443, 44),
        (ip(220, 162, 97, 165), 12350, 66),
        (ip(117, 25, 148, 250), 443, 68),
        (ip(180, 149, 134, 221), 443, 41),
        (ip(61, 160, 200, 197), 443, 59),
    ];
    for (i, (addr, port, rtt)) in china.into_iter().enumerate() {
        let start = t0 + 2 * SEC + i as i64 * 1300 * MS;
        t = t.max(skype_tcp(&mut tr, start, host, sa(addr, port), rtt * MS, 2));
        if i % 3 == 0 {
            let udp_port = 10_000 + tr.rng.range(0, 50_000) as u16;
            skype_udp_probe(
                &mut tr,
                start + 200 * MS,
                local,
                sa(addr, udp_port),
                rtt * MS,
                true,
            );
        }
    }
    let relay = sa(ip(213, 199, 179, 150), 40011);
    let t = media(&mut tr, t + 5 * SEC, local, relay, 6 * SEC, 220 * MS);
    skype_tcp(
        &mut tr,
        t + 2 * SEC,
        host,
        sa(ip(219, 232, 255, 99), 443),
        44 * MS,
        1,
    );
    Scenario::new(tr, DESC_2012_TOM, &[(host, "tom-skype")])
}
