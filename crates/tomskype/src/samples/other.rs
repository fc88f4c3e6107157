//! Sample generator: scenarios without Skype, and the LAN that mixes every kind of host.

use std::net::IpAddr;

use super::browsing::{chinese_browsing, everyday_browsing};
use super::packets::{Trace, MS, SEC};
use super::regular::skype_2015;
use super::sessions::ssdp;
use super::tom::{ip, sa, tom_2011_session};
use super::Scenario;

/// Dropbox's LAN sync announcement, broadcast (never a host, never evidence).
fn lan_sync(tr: &mut Trace, t: i64, host: IpAddr, broadcast: IpAddr) {
    let msg = br#"{"host_int": 118426543196853123, "version": [2, 0], "displayname": "", "port": 17500, "namespaces": [482917361]}"#;
    tr.udp(
        t,
        sa(host, 17500),
        sa(IpAddr::from([255, 255, 255, 255]), 17500),
        msg,
    );
    tr.udp(t + 300 * 1000, sa(host, 17500), sa(broadcast, 17500), msg);
}

pub(crate) const DESC_NO_SKYPE: &str = "No Skype at all, March 2015: one host (192.168.0.12, \
resolver 192.168.0.1) browses www.google.com, en.wikipedia.org, www.bing.com and \
www.baidu.com over HTTPS (SNI) and www.bbc.co.uk and www.qq.com over HTTP, each after a DNS \
lookup (China sites included: a China endpoint with nothing tying it to Skype is not \
evidence; Bing is Microsoft but not Skype). Also SSDP to 239.255.255.250 and Dropbox LAN-sync \
broadcasts, which are never hosts. Expected: no-skype.";

/// h. A host browsing ordinary sites, no Skype.
pub(crate) fn no_skype_browsing() -> Scenario {
    let mut tr = Trace::new(0x2015_0302);
    let host = ip(192, 168, 0, 12);
    let dns = ip(192, 168, 0, 1);
    tr.local(host, [0xf0, 0xde, 0xf1, 0x33, 0x0a, 0x6b]);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    let t0 = 1_425_328_431 * SEC + 12 * MS;
    lan_sync(&mut tr, t0 + 200 * MS, host, ip(192, 168, 0, 255));
    ssdp(&mut tr, t0 + 2 * SEC, host);
    let t = everyday_browsing(&mut tr, host, dns, t0 + SEC);
    lan_sync(&mut tr, t + 3 * SEC, host, ip(192, 168, 0, 255));
    Scenario::new(tr, DESC_NO_SKYPE, &[(host, "no-skype")])
}

pub(crate) const DESC_LAN: &str = "An office LAN in April 2013 (pcapng, Ethernet), router and \
resolver 192.168.10.1, four hosts at once: 192.168.10.21 runs TOM-Skype (the 2011 login beacon, \
keyfile_u, ad pop-up and mini portal of tom-skype-cn-2011-login-beacon); 192.168.10.22 runs \
regular Skype (names as in regular-skype-2015-names, IPv4 only); 192.168.10.23 only browses \
(Google, Wikipedia, BBC, Bing, Baidu, QQ); 192.168.10.24 runs regular Skype, browses Chinese \
sites and calls a peer at a China residential address (117.89.132.58): regular-skype, with an \
advisory at most. SSDP multicast from several hosts. Ids and bodies are invented.";

/// i. A LAN with a TOM-Skype host, two regular Skype hosts and one without Skype.
pub(crate) fn lan_several_hosts() -> Scenario {
    let mut tr = Trace::new(0x2013_0417);
    let dns = ip(192, 168, 10, 1);
    let tom = ip(192, 168, 10, 21);
    let regular = ip(192, 168, 10, 22);
    let browser = ip(192, 168, 10, 23);
    let cn_peer = ip(192, 168, 10, 24);
    tr.local(dns, [0x00, 0x1f, 0x33, 0x2a, 0x5c, 0x01]);
    tr.local(tom, [0x00, 0x24, 0xe8, 0x61, 0x0b, 0x15]);
    tr.local(regular, [0x00, 0x24, 0xe8, 0x61, 0x0b, 0x16]);
    tr.local(browser, [0x00, 0x24, 0xe8, 0x61, 0x0b, 0x17]);
    tr.local(cn_peer, [0x00, 0x24, 0xe8, 0x61, 0x0b, 0x18]);
    let t0 = 1_366_186_930 * SEC + 350 * MS;
    ssdp(&mut tr, t0, browser);
    ssdp(&mut tr, t0 + 4 * SEC, tom);
    tom_2011_session(&mut tr, tom, dns, t0 + 2 * SEC, "liu.yang88");
    skype_2015(&mut tr, regular, None, dns, t0 + 5 * SEC, None);
    everyday_browsing(&mut tr, browser, dns, t0 + 3 * SEC);
    let peer = (sa(ip(117, 89, 132, 58), 26114), 280 * MS);
    skype_2015(&mut tr, cn_peer, None, dns, t0 + 9 * SEC, Some(peer));
    chinese_browsing(&mut tr, cn_peer, dns, t0 + 40 * SEC);
    Scenario::new(
        tr,
        DESC_LAN,
        &[
            (tom, "tom-skype"),
            (regular, "regular-skype"),
            (browser, "no-skype"),
            (cn_peer, "regular-skype"),
        ],
    )
}
