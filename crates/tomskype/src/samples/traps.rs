//! Sample generator: traps for the classifier (issue 11), each a host whose client is known
//! but whose traffic can mislead: a browser without Skype on a shop page that embeds TOM's
//! Skype button script and links to TOM's download page; a one-direction mirror of a TOM-Skype
//! host that holds only what was sent to it; a busy host whose thousands of ordinary lookups,
//! and dozens of junk names for a TOM server's address, come before its TOM-Skype login.
//! Proxies and DNS forwarders are in `middleboxes`.

use std::io::Write;
use std::net::IpAddr;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Crc};

use super::packets::{Rng, Trace, MS, SEC};
use super::protocols::{http_request, http_response, Answer};
use super::sessions::{http, http_date, https, resolve};
use super::tom::{ip, sa, tom_2011_session};
use super::Scenario;

/// Firefox 3.6 on Windows XP, Chinese locale (mid-2011).
const FIREFOX_UA: &str =
    "Mozilla/5.0 (Windows; U; Windows NT 5.1; zh-CN; rv:1.9.2.18) Gecko/20110614 Firefox/3.6.18";

/// Firefox 3.6's request headers for a page, a script or an image, after Host.
fn firefox_headers<'a>(accept: &'a str, referer: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        ("User-Agent", FIREFOX_UA),
        ("Accept", accept),
        ("Accept-Language", "zh-cn,zh;q=0.5"),
        ("Accept-Encoding", "gzip,deflate"),
        ("Accept-Charset", "GB2312,utf-8;q=0.7,*;q=0.7"),
        ("Keep-Alive", "115"),
        ("Connection", "keep-alive"),
    ];
    if let Some(r) = referer {
        h.push(("Referer", r));
    }
    h
}

const PAGE: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const IMAGE: &str = "image/png,image/*;q=0.8,*/*;q=0.5";
const CSS: &str = "text/css,*/*;q=0.1";

/// A GET as Firefox sends it, and the server's answer with `body`.
fn get(
    path: &str,
    host: &str,
    accept: &str,
    referer: Option<&str>,
    (server, content_type, date): (&str, &str, &str),
    body: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let headers = firefox_headers(accept, referer);
    (
        http_request("GET", path, host, &headers, b""),
        http_response(server, content_type, date, body),
    )
}

/// A valid `side` x `side` RGB PNG of random pixels (an invented image that image decoders
/// still accept).
fn png(rng: &mut Rng, side: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut header = side.to_be_bytes().to_vec();
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    let mut rows = Vec::new();
    for _ in 0..side {
        rows.push(0); // filter: none
        rows.extend_from_slice(&rng.bytes(side as usize * 3));
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let pixels = z
        .write_all(&rows)
        .and_then(|()| z.finish())
        .unwrap_or_default();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &pixels);
    chunk(&mut out, b"IEND", &[]);
    out
}

pub(crate) const DESC_BROWSER: &str = "No Skype at all, August 2011: a Windows XP PC \
(192.168.1.40, resolver 192.168.1.1) with Firefox 3.6 opens a Chinese shop page \
(www.lanjing-mall.com.cn at 122.225.36.71, both invented) whose customer-service corner embeds \
TOM's Skype button script http://skype.tom.com/script/skypeCheck40.js and a Skype online-status \
image http://mystatus.skype.com/smallicon/lanjing_kefu01. The browser resolves skype.tom.com \
(answer 211.100.41.18, TOM's block) and mystatus.skype.com (204.9.163.137, Skype's block; the \
host part is invented) and fetches both with the browser's User-Agent, Accept and the shop page \
as Referer. Half a minute later the user clicks the shop's 'download TOM-Skype' link: \
http://skype.tom.com/download/ (Referer: the shop page) with its style sheet and two images. \
No installer is downloaded and no Skype client runs: the trap is a visit to TOM's Skype web \
pages (issue 11). Page, script and image bodies are invented. Expected: no-skype.";

/// A browser without Skype on a shop page that embeds TOM's Skype button, then on TOM's
/// download page.
pub(crate) fn browser_on_tom_skype_pages() -> Scenario {
    let mut tr = Trace::new(0x2011_0814);
    let host = ip(192, 168, 1, 40);
    let dns = ip(192, 168, 1, 1);
    tr.local(host, [0x00, 0x1e, 0x8c, 0x3b, 0x72, 0x0d]);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_313_302_351 * SEC + 604 * MS;
    let shop_name = "www.lanjing-mall.com.cn";
    let shop = ip(122, 225, 36, 71);
    let shop_url = "http://www.lanjing-mall.com.cn/";
    let a = resolve(
        &mut tr,
        t0,
        host,
        dns,
        shop_name,
        &[Answer::Addr(shop)],
        false,
    );
    let date = http_date(a);
    let server = ("nginx/0.8.54", "text/html; charset=gb2312", date.as_str());
    let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; \
charset=gb2312\"><link rel=\"stylesheet\" href=\"/css/shop.css\"><script type=\"text/javascript\" \
src=\"http://skype.tom.com/script/skypeCheck40.js\"></script></head><body>"
        .to_vec();
    page.extend_from_slice(tr.rng.hex(3000).as_bytes());
    page.extend_from_slice(
        b"<div class=\"kefu\"><a href=\"skype:lanjing_kefu01?call\"><img \
src=\"http://mystatus.skype.com/smallicon/lanjing_kefu01\"></a> <a \
href=\"http://skype.tom.com/download/\" target=\"_blank\">TOM-Skype</a></div></body></html>",
    );
    let css = tr.rng.hex(1200);
    let logo = png(&mut tr.rng, 30);
    let ex = [
        get("/", shop_name, PAGE, None, server, &page),
        get(
            "/css/shop.css",
            shop_name,
            CSS,
            Some(shop_url),
            ("nginx/0.8.54", "text/css", &date),
            css.as_bytes(),
        ),
        get(
            "/images/logo.png",
            shop_name,
            IMAGE,
            Some(shop_url),
            ("nginx/0.8.54", "image/png", &date),
            &logo,
        ),
    ];
    let shop_end = http(&mut tr, a + MS, host, sa(shop, 80), 38 * MS, &ex);

    // The page's script and status image, loaded while the page's own assets arrive.
    let tom = ip(211, 100, 41, 18);
    let t = a + 140 * MS;
    let a = resolve(
        &mut tr,
        t,
        host,
        dns,
        "skype.tom.com",
        &[Answer::Addr(tom)],
        false,
    );
    let script = b"function skypeCheck(){try{var s=new ActiveXObject(\"Skype.Detection\");\
return true;}catch(e){}return navigator.mimeTypes&&navigator.mimeTypes[\"application/x-skype\"]\
?true:false;}function skypeInstall(){window.open(\"http://skype.tom.com/download/\");}";
    let date = http_date(a);
    let apache = ("Apache", "application/x-javascript", date.as_str());
    let ex = [get(
        "/script/skypeCheck40.js",
        "skype.tom.com",
        "*/*",
        Some(shop_url),
        apache,
        script,
    )];
    http(&mut tr, a + MS, host, sa(tom, 80), 41 * MS, &ex);
    let status = ip(204, 9, 163, 137);
    let a = resolve(
        &mut tr,
        t + 20 * MS,
        host,
        dns,
        "mystatus.skype.com",
        &[Answer::Addr(status)],
        false,
    );
    let icon = png(&mut tr.rng, 16);
    let ex = [get(
        "/smallicon/lanjing_kefu01",
        "mystatus.skype.com",
        IMAGE,
        Some(shop_url),
        ("Apache", "image/png", &http_date(a)),
        &icon,
    )];
    http(&mut tr, a + MS, host, sa(status, 80), 160 * MS, &ex);

    // The user clicks the download link: Firefox still has skype.tom.com in its DNS cache.
    let t = shop_end + 31 * SEC;
    let page_url = "http://skype.tom.com/download/";
    let mut page =
        b"<html><head><title>TOM-Skype \xcf\xc2\xd4\xd8</title><link rel=\"stylesheet\" \
href=\"/css/skype.css\"></head><body><a href=\"http://download.skype.tom.com/Tom-SkypeSetup.exe\">\
<img src=\"/images/download_btn.png\"></a>"
            .to_vec();
    page.extend_from_slice(tr.rng.hex(2400).as_bytes());
    page.extend_from_slice(b"<img src=\"/images/tomskype_logo.png\"></body></html>");
    let css = tr.rng.hex(900);
    let button = png(&mut tr.rng, 24);
    let logo = png(&mut tr.rng, 26);
    let date = http_date(t);
    let ex = [
        get(
            "/download/",
            "skype.tom.com",
            PAGE,
            Some(shop_url),
            ("Apache", "text/html; charset=gb2312", &date),
            &page,
        ),
        get(
            "/css/skype.css",
            "skype.tom.com",
            CSS,
            Some(page_url),
            ("Apache", "text/css", &date),
            css.as_bytes(),
        ),
        get(
            "/images/download_btn.png",
            "skype.tom.com",
            IMAGE,
            Some(page_url),
            ("Apache", "image/png", &date),
            &button,
        ),
        get(
            "/images/tomskype_logo.png",
            "skype.tom.com",
            IMAGE,
            Some(page_url),
            ("Apache", "image/png", &date),
            &logo,
        ),
    ];
    http(&mut tr, t, host, sa(tom, 80), 41 * MS, &ex);
    Scenario::new(tr, DESC_BROWSER, &[(host, "no-skype")])
}

pub(crate) const DESC_MIRROR: &str = "A one-direction capture, July 2011: a mirror port that \
copies only the traffic sent TO host 10.0.0.23 (as a capture filtered on 'dst host 10.0.0.23'). \
The host runs the TOM-Skype 5.1.4.98 login of tom-skype-cn-2011-login-beacon (resolver 10.0.0.1, \
Skype id invented), but only the frames addressed to it are kept: the resolver's DNS answers for \
skypetools1.tom.com, skypetools.tom.com, skype.tom.com and news.tom.com, the servers' SYN-ACKs, \
ACKs and HTTP responses, and the Skype servers' replies. The host's own questions and requests \
(the beacon URL, keyfile_u, skype_id=) are not in the file: anyone could have sent everything \
it holds, so a careful analyst says inconclusive (issue 11: a host that only receives is still a \
host). Response bodies and the Skype id are invented.";

/// The TOM-Skype 2011 login seen through a mirror that copies only what the host receives.
pub(crate) fn inbound_only_mirror() -> Scenario {
    let mut tr = Trace::new(0x2011_0705);
    let host = ip(10, 0, 0, 23);
    let dns = ip(10, 0, 0, 1);
    tr.local(host, [0x00, 0x24, 0xe8, 0x61, 0x0b, 0x3d]);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_309_833_104 * SEC + 271 * MS;
    tom_2011_session(&mut tr, host, dns, t0, "wangfang_bj");
    Scenario::new(tr, DESC_MIRROR, &[(host, "inconclusive")])
        .retain(|f| f.destination() == Some(host))
}

pub(crate) const DESC_BUSY: &str = "A busy developer's PC, October 2011 (192.168.5.50, \
resolver 192.168.5.1): about four minutes of build tools, package mirrors, map tiles, shop and \
news pages make 5,000 DNS lookups of distinct ordinary names (invented, such as \
img17.cdn3.taoyuan-shop.cn or api212.svc.yunhe-data.com; answered with addresses in six \
invented-for-the-purpose blocks, none of them Skype's or TOM's); one name in fifty is then \
visited over HTTPS. Next come 70 lookups of distinct junk names (a1.tomcdn-mirror.net ... \
a70.tomcdn-mirror.net, invented) that all resolve to 211.100.40.173, the shared server that \
skypetools.tom.com resolves to seconds later, in the TOM-Skype 5.1.4.98 login of \
tom-skype-cn-2011-login-beacon (beacon, keyfile_u, ad pop-up, mini portal). The trap (issue 11): \
caps on stored names must not drop the TOM lookup behind thousands of others, nor keep the junk \
names for the TOM server's address instead of skypetools.tom.com. Skype id and bodies invented. \
Expected: tom-skype.";

/// Name patterns of the busy host's lookups: (prefix, domain, first two octets of answers).
const BUSY_NAMES: [(&str, &str, [u8; 2]); 6] = [
    ("img", "cdn{k}.taoyuan-shop.cn", [122, 225]),
    ("api", "svc.yunhe-data.com", [59, 151]),
    ("build", "ci.devlab-hosting.net", [74, 86]),
    ("static", "news-feed.com.cn", [125, 39]),
    ("t", "tiles.openmap-cn.org", [119, 147]),
    ("mirror", "pkg-repo.net", [69, 163]),
];

/// A busy host: thousands of ordinary lookups, junk names for a TOM server, then TOM-Skype.
pub(crate) fn busy_host() -> Scenario {
    let mut tr = Trace::new(0x2011_1011);
    let host = ip(192, 168, 5, 50);
    let dns = ip(192, 168, 5, 1);
    tr.local(host, [0x00, 0x1c, 0xc0, 0x8e, 0x41, 0x27]);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_318_316_726 * SEC + 93 * MS;
    let mut counters = [0u32; BUSY_NAMES.len()];
    let mut t = t0;
    for n in 0..5_000 {
        let which = tr.rng.range(0, BUSY_NAMES.len() as i64 - 1) as usize;
        let (prefix, domain, net) = BUSY_NAMES[which];
        counters[which] += 1;
        let k = tr.rng.range(1, 8).to_string();
        let name = format!("{prefix}{}.{}", counters[which], domain.replace("{k}", &k));
        let addr = IpAddr::from([
            net[0],
            net[1],
            tr.rng.range(0, 255) as u8,
            tr.rng.range(1, 254) as u8,
        ]);
        let a = resolve(&mut tr, t, host, dns, &name, &[Answer::Addr(addr)], false);
        if n % 50 == 49 {
            let rtt = tr.rng.range(20, 220) * MS;
            https(
                &mut tr,
                a + MS,
                host,
                sa(addr, 443),
                &name,
                rtt,
                &[(380, 1400)],
            );
        }
        t += tr.rng.range(4, 90) * MS;
    }
    let tools = ip(211, 100, 40, 173);
    for n in 1..=70 {
        let name = format!("a{n}.tomcdn-mirror.net");
        resolve(&mut tr, t, host, dns, &name, &[Answer::Addr(tools)], false);
        t += tr.rng.range(30, 600) * MS;
    }
    tom_2011_session(&mut tr, host, dns, t + 8 * SEC, "zhang.dev2011");
    Scenario::new(tr, DESC_BUSY, &[(host, "tom-skype")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn mirror_keeps_only_what_the_host_received() {
        let host = ip(10, 0, 0, 23);
        let s = inbound_only_mirror();
        let parts: Vec<_> = s.frames.iter().filter_map(|f| f.parts()).collect();
        assert_eq!(parts.len(), s.frames.len());
        assert!(parts.iter().all(|(_, dst, _)| dst.ip() == host));
        let tom_answer = parts
            .iter()
            .any(|(src, _, p)| src.port() == 53 && contains(p, b"\x0bskypetools1\x03tom\x03com"));
        assert!(tom_answer, "the DNS answer for the beacon's name is kept");
        assert!(!parts.iter().any(|(_, _, p)| contains(p, b"GET /")));
    }

    #[test]
    fn busy_host_asks_thousands_of_names_before_its_tom_one() {
        let host = ip(192, 168, 5, 50);
        let s = busy_host();
        let questions: Vec<&[u8]> = s
            .frames
            .iter()
            .filter_map(|f| f.parts())
            .filter(|(src, dst, _)| src.ip() == host && dst.port() == 53)
            .map(|(_, _, p)| p)
            .collect();
        let tom_at = questions
            .iter()
            .position(|p| contains(p, b"\x0askypetools\x03tom"))
            .expect("skypetools.tom.com is asked");
        assert!(tom_at >= 5_070, "{tom_at} questions before the TOM one");
        let distinct: std::collections::BTreeSet<_> = questions[..tom_at].iter().collect();
        assert!(distinct.len() > 5_000);
        let tools = [211, 100, 40, 173];
        let answers_for_tools = s
            .frames
            .iter()
            .filter_map(|f| f.parts())
            .filter(|(src, dst, p)| src.port() == 53 && dst.ip() == host && p.ends_with(&tools))
            .count();
        assert_eq!(
            answers_for_tools, 71,
            "70 junk names and skypetools.tom.com"
        );
    }

    #[test]
    fn browser_fetches_tom_pages_as_a_browser() {
        let s = browser_on_tom_skype_pages();
        let requests: Vec<&[u8]> = s
            .frames
            .iter()
            .filter_map(|f| f.parts())
            .filter(|(_, dst, p)| dst.port() == 80 && p.starts_with(b"GET "))
            .map(|(_, _, p)| p)
            .collect();
        assert_eq!(requests.len(), 9);
        assert!(requests.iter().all(|r| contains(r, FIREFOX_UA.as_bytes())));
        let tom: Vec<_> = requests
            .iter()
            .filter(|r| contains(r, b"Host: skype.tom.com"))
            .collect();
        assert_eq!(tom.len(), 5);
        assert!(tom.iter().all(|r| contains(r, b"Referer: http://")));
        assert!(!requests
            .iter()
            .any(|r| contains(r, b"skype_id=") || contains(r, b".exe")));
        let udp_not_dns = s
            .frames
            .iter()
            .filter_map(|f| f.parts())
            .any(|(src, dst, _)| {
                src.port() != 53 && dst.port() != 53 && src.port() != 80 && dst.port() != 80
            });
        assert!(!udp_not_dns, "only DNS and HTTP: no Skype client traffic");
    }
}
