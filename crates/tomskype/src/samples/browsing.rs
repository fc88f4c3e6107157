//! Sample generator: a user's web browsing (a lookup, then an HTTPS or HTTP visit), everyday
//! and to Chinese sites, that the scenarios with and without Skype reuse.

use std::net::IpAddr;

use super::packets::{Trace, MS, SEC};
use super::protocols::{http_request, http_response, Answer};
use super::sessions::{http, http_date, https, resolve};
use super::tom::{ip, sa};

/// A 2015 desktop Chrome.
pub(crate) const CHROME_UA: &str =
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/43.0.2357.130 Safari/537.36";

/// The first address among `answers`.
fn first_addr(answers: &[Answer]) -> IpAddr {
    answers
        .iter()
        .find_map(|a| match a {
            Answer::Addr(ip) => Some(*ip),
            Answer::Cname(_) => None,
        })
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Looks `name` up and visits it over HTTPS (SNI `name`); returns the end time.
pub(crate) fn browse_https(
    tr: &mut Trace,
    t: i64,
    host: IpAddr,
    dns: IpAddr,
    name: &str,
    answers: &[Answer],
    rtt: i64,
) -> i64 {
    let a = resolve(tr, t, host, dns, name, answers, false);
    let server = sa(first_addr(answers), 443);
    https(
        tr,
        a + MS,
        host,
        server,
        name,
        rtt,
        &[(620, 18_400), (540, 6_300), (530, 2_100)],
    )
}

/// Looks up the name of `url` (`name/path`, no scheme) and fetches it over HTTP with a
/// browser's headers; returns the end time.
pub(crate) fn browse_http(
    tr: &mut Trace,
    t: i64,
    host: IpAddr,
    dns: IpAddr,
    url: &str,
    answers: &[Answer],
    rtt: i64,
) -> i64 {
    let (name, path) = url.find('/').map_or((url, "/"), |i| (&url[..i], &url[i..]));
    let a = resolve(tr, t, host, dns, name, answers, false);
    let mut page = b"<!DOCTYPE html><html><head><title>".to_vec();
    page.extend_from_slice(name.as_bytes());
    page.extend_from_slice(b"</title></head><body>");
    page.extend_from_slice(tr.rng.hex(4000).as_bytes());
    page.extend_from_slice(b"</body></html>");
    let ex = [(
        http_request(
            "GET",
            path,
            name,
            &[
                ("Connection", "keep-alive"),
                ("Accept", "text/html,application/xhtml+xml"),
                ("User-Agent", CHROME_UA),
            ],
            b"",
        ),
        http_response("nginx", "text/html", &http_date(a), &page),
    )];
    http(tr, a + MS, host, sa(first_addr(answers), 80), rtt, &ex)
}

/// Ordinary browsing, some of it to China sites.
pub(crate) fn everyday_browsing(tr: &mut Trace, host: IpAddr, dns: IpAddr, t0: i64) -> i64 {
    let google = [Answer::Addr(ip(216, 58, 210, 36))];
    let t = browse_https(tr, t0, host, dns, "www.google.com", &google, 21 * MS);
    let wiki = [
        Answer::Cname("text-lb.esams.wikimedia.org"),
        Answer::Addr(ip(91, 198, 174, 192)),
    ];
    let t = browse_https(
        tr,
        t + 3 * SEC,
        host,
        dns,
        "en.wikipedia.org",
        &wiki,
        18 * MS,
    );
    let bbc = [
        Answer::Cname("www.bbc.net.uk"),
        Answer::Addr(ip(212, 58, 244, 67)),
    ];
    let t = browse_http(
        tr,
        t + 7 * SEC,
        host,
        dns,
        "www.bbc.co.uk/news",
        &bbc,
        16 * MS,
    );
    let bing = [
        Answer::Cname("any.edge.bing.com"),
        Answer::Addr(ip(204, 79, 197, 200)),
    ];
    let t = browse_https(tr, t + 5 * SEC, host, dns, "www.bing.com", &bing, 25 * MS);
    let baidu = [
        Answer::Cname("www.a.shifen.com"),
        Answer::Addr(ip(220, 181, 112, 244)),
    ];
    let t = browse_https(
        tr,
        t + 6 * SEC,
        host,
        dns,
        "www.baidu.com",
        &baidu,
        190 * MS,
    );
    browse_http(
        tr,
        t + 4 * SEC,
        host,
        dns,
        "www.qq.com/",
        &[Answer::Addr(ip(101, 226, 103, 106))],
        210 * MS,
    )
}

/// Browsing Baidu, QQ, Weibo and TOM's portal; returns the end time.
pub(crate) fn chinese_browsing(tr: &mut Trace, host: IpAddr, dns: IpAddr, t0: i64) -> i64 {
    let baidu = [
        Answer::Cname("www.a.shifen.com"),
        Answer::Addr(ip(220, 181, 112, 244)),
        Answer::Addr(ip(220, 181, 111, 188)),
    ];
    let t = browse_https(tr, t0, host, dns, "www.baidu.com", &baidu, 190 * MS);
    let t = browse_http(
        tr,
        t + 4 * SEC,
        host,
        dns,
        "www.qq.com/",
        &[Answer::Addr(ip(101, 226, 103, 106))],
        210 * MS,
    );
    let t = browse_http(
        tr,
        t + 6 * SEC,
        host,
        dns,
        "weibo.com/",
        &[Answer::Addr(ip(123, 125, 104, 197))],
        200 * MS,
    );
    let tom = ip(211, 100, 41, 159);
    let t = browse_http(
        tr,
        t + 5 * SEC,
        host,
        dns,
        "www.tom.com/",
        &[Answer::Addr(tom)],
        205 * MS,
    );
    let news = [(
        http_request(
            "GET",
            "/news/",
            "www.tom.com",
            &[
                ("Accept", "text/html"),
                ("User-Agent", CHROME_UA),
                ("Referer", "http://www.tom.com/"),
            ],
            b"",
        ),
        http_response(
            "nginx",
            "text/html; charset=gb2312",
            &http_date(t),
            &[b'x'; 2048],
        ),
    )];
    http(tr, t + 9 * SEC, host, sa(tom, 80), 205 * MS, &news)
}
