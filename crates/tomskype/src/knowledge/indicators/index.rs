//! Knowledge, indicators: the match index. Answers which indicators an address, a DNS name, an
//! HTTP request or a remote port matches, fast enough to ask for every endpoint, name and
//! flow of a report: names through a map of every parent name, ports through a bitmap; the
//! few address indicators are scanned only for an address whose first octet one of them holds
//! (a bitmap), the request indicators always. Also the set as the flow stage's
//! [`Watch`], so that nothing an indicator could match is dropped by a bound.

use std::net::IpAddr;
use std::sync::Arc;

use ipnetwork::IpNetwork;
use rustc_hash::FxHashMap;

use super::{Indicator, IndicatorSet, Matcher};
use crate::flow::Watch;

/// The lookup structures over a set's indicators, built again whenever a file is added.
#[derive(Debug, Clone, Default)]
pub(super) struct Index {
    /// Name indicators by name: position in the set's `indicators`, in file order. A report
    /// looks up every name of every endpoint and query.
    by_name: FxHashMap<String, Vec<usize>>,
    /// Bit `p` set when some port indicator names port `p`: most ports have none, and a host
    /// can open flows to thousands of remote ports. Empty for an empty set.
    ports: Vec<u64>,
    /// Bit `o` set when some address indicator holds IPv4 addresses whose first octet is `o`:
    /// nearly every endpoint's has none, and then the address indicators are not scanned
    /// (summarising asks for every endpoint of every host gathered).
    v4_octets: [u64; 4],
    /// Whether some address indicator holds IPv6 addresses.
    v6: bool,
}

impl Index {
    /// Whether some address indicator may hold `ip` (when false, none does).
    #[inline]
    fn may_hold(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => {
                let octet = usize::from(a.octets()[0]);
                self.v4_octets[octet / 64] & 1 << (octet % 64) != 0
            }
            IpAddr::V6(_) => self.v6,
        }
    }
}

impl Index {
    /// The index of `indicators`.
    pub(super) fn new(indicators: &[Indicator]) -> Index {
        let mut index = Index {
            by_name: FxHashMap::default(),
            ports: vec![0; (1 << 16) / 64],
            v4_octets: [0; 4],
            v6: false,
        };
        let mut v4_range = |first: u32, last: u32| {
            for octet in first >> 24..=last >> 24 {
                // `octet` < 256, so `octet / 64` < 4.
                index.v4_octets[octet as usize / 64] |= 1 << (octet % 64);
            }
        };
        for (at, ind) in indicators.iter().enumerate() {
            match &ind.matcher {
                Matcher::Ip(IpAddr::V4(a)) => v4_range(u32::from(*a), u32::from(*a)),
                Matcher::Net(IpNetwork::V4(n)) => {
                    v4_range(u32::from(n.network()), u32::from(n.broadcast()));
                }
                Matcher::Ip(IpAddr::V6(_)) | Matcher::Net(IpNetwork::V6(_)) => index.v6 = true,
                Matcher::Name(n) => index.by_name.entry(n.clone()).or_default().push(at),
                &Matcher::Port { port, .. } => {
                    // `port / 64` < 1024, the length of `ports`.
                    index.ports[usize::from(port / 64)] |= 1 << (port % 64);
                }
                _ => {}
            }
        }
        index
    }
}

impl IndicatorSet {
    /// Indicators matching an address.
    pub fn match_addr(&self, ip: IpAddr) -> impl Iterator<Item = &Indicator> {
        let scan = if self.index.may_hold(ip) {
            &self.indicators[..]
        } else {
            &[]
        };
        scan.iter().filter(move |i| match &i.matcher {
            Matcher::Ip(a) => *a == ip,
            Matcher::Net(n) => n.contains(ip),
            _ => false,
        })
    }

    /// The one address indicator that speaks for `ip`: of those matching it, the most
    /// specific (an `ip` before any `net`, a longer prefix before a shorter one; the first in
    /// file order among equals). One address is one server, however many ranges hold it.
    pub fn match_addr_most_specific(&self, ip: IpAddr) -> Option<&Indicator> {
        let prefix = |i: &Indicator| match &i.matcher {
            Matcher::Ip(_) => 129,
            Matcher::Net(n) => n.prefix(),
            _ => 0,
        };
        let mut best: Option<&Indicator> = None;
        for i in self.match_addr(ip) {
            if best.is_none_or(|b| prefix(i) > prefix(b)) {
                best = Some(i);
            }
        }
        best
    }

    /// Indicators matching a DNS name (also the host of an HTTP request or a TLS name): those
    /// whose name is `name` or a parent of it (see [`name_under`]), in file order.
    pub fn match_name(&self, name: &str) -> Vec<&Indicator> {
        self.name_positions(name)
            .into_iter()
            .filter_map(|i| self.indicators.get(i))
            .collect()
    }

    /// Positions in `indicators` of the indicators [`IndicatorSet::match_name`] returns.
    fn name_positions(&self, name: &str) -> Vec<usize> {
        if self.index.by_name.is_empty() {
            return Vec::new();
        }
        let lower = lower_name(name);
        let mut at: Vec<usize> = suffixes(&lower)
            .filter_map(|suffix| self.index.by_name.get(suffix))
            .flatten()
            .copied()
            .collect();
        at.sort_unstable();
        at.dedup();
        at
    }

    /// Whether some indicator matches the DNS name `name` ([`IndicatorSet::match_name`] is not
    /// empty): stopping at the first of its suffixes an indicator names, and allocating
    /// nothing but for a name with capitals. What the gathering asks of every name a quiet
    /// host holds before summarising it (`enrich::summary`).
    pub fn watches_name(&self, name: &str) -> bool {
        !self.index.by_name.is_empty()
            && suffixes(&lower_name(name)).any(|suffix| self.index.by_name.contains_key(suffix))
    }

    /// Indicators matching an HTTP request (URL, query parameter, User-Agent).
    pub fn match_http(
        &self,
        host: Option<&str>,
        target: &str,
        user_agent: Option<&str>,
    ) -> Vec<&Indicator> {
        self.http_positions(host, target, user_agent)
            .filter_map(|at| self.indicators.get(at))
            .collect()
    }

    /// Positions in `indicators` of the indicators [`IndicatorSet::match_http`] returns.
    fn http_positions<'a>(
        &'a self,
        host: Option<&'a str>,
        target: &'a str,
        user_agent: Option<&'a str>,
    ) -> impl Iterator<Item = usize> + 'a {
        let (req_host, path) = split_target(host, target);
        self.indicators
            .iter()
            .enumerate()
            .filter(move |(_, i)| match &i.matcher {
                Matcher::HttpUrl { host: h, path: p } => {
                    req_host.is_some_and(|rh| name_under(rh, h)) && path.starts_with(p.as_str())
                }
                Matcher::HttpParam { host: h, param } => {
                    req_host.is_some_and(|rh| name_under(rh, h)) && has_param(path, param)
                }
                Matcher::UserAgent(ua) => user_agent == Some(ua.as_str()),
                _ => false,
            })
            .map(|(at, _)| at)
    }

    /// The set as a [`Watch`] for the flow stage: names and requests that some indicator
    /// matches are kept past the flow table's bounds (a copy of the set, shared by workers).
    pub fn watch(&self) -> Arc<dyn Watch> {
        Arc::new(self.clone())
    }

    /// Whether some port indicator names `port` (for any protocol): when not, no flow to it
    /// can match one.
    pub fn names_port(&self, port: u16) -> bool {
        self.index
            .ports
            .get(usize::from(port / 64))
            .is_some_and(|w| w & 1 << (port % 64) != 0)
    }

    /// Indicators matching a remote port.
    pub fn match_port(&self, proto: u8, port: u16) -> impl Iterator<Item = &Indicator> {
        let candidates = if self.names_port(port) {
            &self.indicators[..]
        } else {
            &[]
        };
        candidates.iter().filter(move |i| match i.matcher {
            Matcher::Port { proto: p, port: q } => q == port && (p == 0 || p == proto),
            _ => false,
        })
    }
}

/// Watch groups are indicator positions: one name per matching indicator is kept past a bound.
impl Watch for IndicatorSet {
    fn watch_name(&self, name: &str) -> Vec<u32> {
        let at = self.name_positions(name).into_iter();
        at.filter_map(|at| u32::try_from(at).ok()).collect()
    }

    fn watches_name(&self, name: &str) -> bool {
        IndicatorSet::watches_name(self, name)
    }

    /// The request's own indicators (URL, parameter, User-Agent) and its host's.
    fn watch_request(
        &self,
        host: Option<&str>,
        target: &str,
        user_agent: Option<&str>,
    ) -> Vec<u32> {
        let by_host = host.map(|h| self.name_positions(h)).unwrap_or_default();
        let at = self.http_positions(host, target, user_agent).chain(by_host);
        at.filter_map(|at| u32::try_from(at).ok()).collect()
    }
}

/// A name as indicator names are written: without a trailing dot, lowercase ASCII (copied only
/// when it has capitals).
fn lower_name(name: &str) -> std::borrow::Cow<'_, str> {
    let name = name.trim_end_matches('.');
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        name.to_ascii_lowercase().into()
    } else {
        name.into()
    }
}

/// `name` and each of its parents, cut at the dots: `a.b.c`, `b.c`, `c`.
fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::once(0)
        .chain(name.match_indices('.').map(|(at, _)| at + 1))
        .filter_map(|from| name.get(from..))
}

/// True when `name` is `parent` or a name under it (at a label boundary), ignoring case and a
/// trailing dot.
pub fn name_under(name: &str, parent: &str) -> bool {
    // Compared as bytes: a name from the wire (an HTTP Host) may hold non-ASCII characters,
    // and slicing the `str` at `n - p` could then cut one in two (a panic).
    let name = name.trim_end_matches('.').as_bytes();
    let Some(start) = name.len().checked_sub(parent.len()) else {
        return false;
    };
    if !name
        .get(start..)
        .is_some_and(|tail| tail.eq_ignore_ascii_case(parent.as_bytes()))
    {
        return false;
    }
    start == 0 || name.get(start - 1) == Some(&b'.')
}

/// The host and the path+query of a request, from its Host and its target (which may be in
/// absolute form, as sent to proxies).
fn split_target<'a>(host: Option<&'a str>, target: &'a str) -> (Option<&'a str>, &'a str) {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            let (h, path) = match rest.find('/') {
                Some(at) => (&rest[..at], &rest[at..]),
                None => (rest, "/"),
            };
            let h = h.rsplit_once(':').map_or(h, |(h, _)| h);
            return (host.or(Some(h)), path);
        }
    }
    (host, target)
}

fn has_param(path: &str, param: &str) -> bool {
    let Some((_, query)) = path.split_once('?') else {
        return false;
    };
    query.split('&').any(|kv| {
        kv.split('=')
            .next()
            .is_some_and(|k| k.eq_ignore_ascii_case(param))
    })
}

#[cfg(test)]
mod tests {
    use super::super::load::HEADER;
    use super::super::Role;
    use super::*;

    fn set() -> IndicatorSet {
        IndicatorSet::embedded().expect("the shipped set loads")
    }

    proptest::proptest! {
        /// The octet filter never hides a match: for any address, and a set with nets of every
        /// size in both families, the indicators matched are those a plain scan finds.
        #[test]
        fn address_matches_are_a_plain_scans(
            v4 in proptest::prelude::any::<u32>(),
            v6 in proptest::prelude::any::<u128>(),
            net in proptest::prelude::any::<u32>(),
            prefix in 0u8..=32,
        ) {
            let mut s = set();
            let low = std::net::Ipv4Addr::from(net & !u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0));
            let text = format!(
                "@set\tlab\t1\n@source\tlab\tour lab\n{HEADER}\n\
                 lab-net\ttom\tnet\t{low}/{prefix}\t0.9\ttom\t-\tlab\tany net\n\
                 lab-v6\ttom\tnet\t2001:db8::/32\t0.9\ttom\t-\tlab\ta v6 net\n"
            );
            s.add_text("lab.tsv", &text).expect("the test set loads");
            let v6_in = u128::from(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)) | v6 >> 32;
            for ip in [
                IpAddr::from(std::net::Ipv4Addr::from(v4)),
                IpAddr::from(std::net::Ipv4Addr::from(net)),
                IpAddr::from(std::net::Ipv6Addr::from(v6)),
                IpAddr::from(std::net::Ipv6Addr::from(v6_in)),
            ] {
                let fast: Vec<&str> = s.match_addr(ip).map(|i| i.id.as_str()).collect();
                let plain: Vec<&str> = s
                    .indicators
                    .iter()
                    .filter(|i| match &i.matcher {
                        Matcher::Ip(a) => *a == ip,
                        Matcher::Net(n) => n.contains(ip),
                        _ => false,
                    })
                    .map(|i| i.id.as_str())
                    .collect();
                proptest::prop_assert_eq!(fast, plain, "{}", ip);
            }
        }
    }

    #[test]
    fn non_ascii_names_do_not_panic() {
        // Found by fuzzing (fuzz/RESULTS.md): `é` straddles the byte where `skype.com` would
        // start, and slicing the str there panicked. An HTTP Host can carry such a name.
        assert!(!name_under("\u{e9}kype.com", "skype.com"));
        assert!(!name_under("\u{7c6}kype.tom.com", "skype.tom.com"));
        assert!(name_under("\u{e9}.skype.com", "skype.com"));
        assert!(set().match_name("\u{e9}kype.com").is_empty());
        assert!(set()
            .match_http(Some("\u{e9}kypetools.tom.com"), "/agent/keyfile_u", None)
            .is_empty());
    }

    #[test]
    fn names_match_at_label_boundaries() {
        assert!(name_under("download.skype.tom.com", "skype.tom.com"));
        assert!(name_under("SKYPE.TOM.COM.", "skype.tom.com"));
        assert!(!name_under("notskype.tom.com", "skype.tom.com"));
        assert!(!name_under("tom.com", "skype.tom.com"));
        let s = set();
        let ids: Vec<_> = s
            .match_name("skypetools.tom.com")
            .into_iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(ids, ["tom-name-skypetools"]);
        assert!(s.match_name("www.tom.com").is_empty());
        assert!(s
            .match_name("ui.skype.com")
            .iter()
            .all(|i| i.role == Role::Skype));
    }

    #[test]
    fn http_requests_match_urls_and_params() {
        let s = set();
        let ids: Vec<_> = s
            .match_http(
                Some("skypetools1.tom.com"),
                "/en_return_time.php?login_id=bob&code=00",
                None,
            )
            .into_iter()
            .map(|i| i.id.as_str())
            .collect();
        assert!(ids.contains(&"tom-url-return-time"));
        assert!(ids.contains(&"tom-param-login-id"));
        // Browsing TOM's portal is not evidence.
        assert!(s
            .match_http(Some("www.tom.com"), "/index.html?id=3", None)
            .is_empty());
        // Absolute-form targets carry the host.
        let ids: Vec<_> = s
            .match_http(
                None,
                "http://news.tom.com/skype_miniportal_2011.html?skype_id=x",
                None,
            )
            .into_iter()
            .map(|i| i.id.as_str())
            .collect();
        assert!(ids.contains(&"tom-url-miniportal") && ids.contains(&"tom-param-skype-id"));
        let ua = s
            .match_http(
                Some("example.com"),
                "/",
                Some("Mozilla/3.0 (compatible; Indy Library)"),
            )
            .len();
        assert_eq!(ua, 1);
    }

    #[test]
    fn addresses_and_ports() {
        let s = set();
        let ids: Vec<_> = s
            .match_addr("211.100.41.76".parse().unwrap())
            .map(|i| i.id.as_str())
            .collect();
        assert!(
            ids.contains(&"tom-server-211.100.41.76") && ids.contains(&"tom-net-211.100.40.0-23")
        );
        assert_eq!(s.match_addr("8.8.8.8".parse().unwrap()).count(), 0);
        assert_eq!(s.match_port(17, 33033).count(), 1);
        assert_eq!(s.match_port(17, 9010).count(), 0);
        assert_eq!(s.match_port(6, 9010).count(), 1);
    }

    #[test]
    fn port_bitmap_equals_a_linear_scan() {
        let mut s = set();
        let text = format!("@set\tlab\t1\n@source\tlab\tour lab\n{HEADER}\nlab-1\ttom\tport\tudp/65535\t0.9\ttom\t-\tlab\tlast port\nlab-2\ttom\tport\tany/0\t0.9\ttom\t-\tlab\tport zero\n");
        s.add_text("lab.tsv", &text).unwrap();
        let mut hits = 0;
        for proto in [6u8, 17] {
            for port in 0..=u16::MAX {
                let linear: Vec<&str> = s
                    .indicators
                    .iter()
                    .filter(|i| matches!(i.matcher, Matcher::Port { proto: p, port: q } if q == port && (p == 0 || p == proto)))
                    .map(|i| i.id.as_str())
                    .collect();
                let fast: Vec<&str> = s.match_port(proto, port).map(|i| i.id.as_str()).collect();
                assert_eq!(fast, linear, "{proto}/{port}");
                hits += fast.len();
            }
        }
        assert!(hits >= 3, "{hits}");
        for port in 0..=u16::MAX {
            let named = s
                .indicators
                .iter()
                .any(|i| matches!(i.matcher, Matcher::Port { port: q, .. } if q == port));
            assert_eq!(s.names_port(port), named, "{port}");
        }
    }

    proptest::proptest! {
        /// The name index finds exactly what testing every name indicator in turn finds, in
        /// the same order, for names made of the shipped names' labels (upper and lower case,
        /// extra labels, dots where they should not be, a byte outside ASCII); and
        /// `watches_name` says whether it found any.
        #[test]
        fn name_index_equals_a_linear_scan(
            parts in proptest::collection::vec((0usize..200, 0u8..6), 1..5),
            trailing in 0usize..3,
        ) {
            let s = set();
            let labels: Vec<String> = s
                .indicators
                .iter()
                .filter_map(|i| match &i.matcher {
                    Matcher::Name(n) => Some(n.clone()),
                    _ => None,
                })
                .flat_map(|n| n.split('.').map(str::to_owned).collect::<Vec<_>>())
                .chain(["x".into(), "".into(), "é".into()])
                .collect();
            let mut name = String::new();
            for (i, (pick, style)) in parts.iter().enumerate() {
                if i > 0 {
                    name.push('.');
                }
                let label = &labels[pick % labels.len()];
                match style {
                    0 => name.push_str(&label.to_ascii_uppercase()),
                    1 => name.push_str(&format!("{label}.")),
                    _ => name.push_str(label),
                }
            }
            name.push_str(&".".repeat(trailing));
            // Every full shipped name, too, with a prefix.
            let full: Vec<String> = s
                .indicators
                .iter()
                .filter_map(|i| match &i.matcher {
                    Matcher::Name(n) => Some(format!("{}.{n}", parts.len())),
                    _ => None,
                })
                .collect();
            for candidate in std::iter::once(&name).chain(&full) {
                let linear: Vec<&str> = s
                    .indicators
                    .iter()
                    .filter(|i| matches!(&i.matcher, Matcher::Name(n) if name_under(candidate, n)))
                    .map(|i| i.id.as_str())
                    .collect();
                proptest::prop_assert_eq!(s.watches_name(candidate), !linear.is_empty(), "{}", candidate);
                proptest::prop_assert_eq!(Watch::watches_name(&s, candidate), !linear.is_empty());
                let indexed: Vec<&str> = s.match_name(candidate).iter().map(|i| i.id.as_str()).collect();
                proptest::prop_assert_eq!(indexed, linear, "{}", candidate);
            }
        }
    }
}
