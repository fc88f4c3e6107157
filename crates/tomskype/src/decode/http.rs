//! Stage 2, decode: the request line and a few headers of an HTTP/1.x request.
//!
//! [`looks_like_request`] is the cheap test for the first bytes a client sends on a TCP
//! connection; [`parse_request`] then reads the request line, the `Host`, `User-Agent` and
//! `Referer` headers, whether a `Via` header is present, and whether the end of the headers was seen, from at most [`MAX_HEAD_LEN`]
//! bytes and [`MAX_HEADERS`] header lines. [`HttpRequest::path`] and
//! [`HttpRequest::query_param_names`] give what the classifier matches on (TOM-Skype's
//! `/agent/...` downloads and `skype_id=`/`login_id=` beacons).
//!
//! Left out: responses, bodies, chunked encoding, percent-decoding, HTTP/2 (binary, and
//! nearly always inside TLS) and requests after the first one on a connection. Text from the
//! wire is converted lossily (invalid UTF-8 becomes U+FFFD) and control characters are
//! written `\xHH` (or `\u{H}` above 0xff), so no field ever holds one.

use thiserror::Error;

/// At most this many bytes of a payload are scanned.
pub const MAX_HEAD_LEN: usize = 8192;
/// At most this many header lines are scanned.
pub const MAX_HEADERS: usize = 64;

/// The request methods recognised (each must be followed by a space).
const METHODS: [&[u8]; 9] = [
    b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"CONNECT", b"PATCH", b"TRACE",
];

/// Why a payload is not an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// It does not start with a known method and a space.
    #[error("not an http request")]
    NotHttp,
    /// The request line is malformed.
    #[error("bad http request line: {reason}")]
    BadRequestLine {
        /// What is wrong.
        reason: &'static str,
    },
}

/// The start of an HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method (one of the recognised ones).
    pub method: String,
    /// The request target as sent: `path?query` (origin form), `http://host/path` (absolute
    /// form, to proxies), `host:port` (CONNECT) or `*`. When the request line is cut short,
    /// the bytes of it that are present.
    pub target: String,
    /// The protocol version (`HTTP/1.1`); empty for an HTTP/0.9 request (`GET /path` alone
    /// on its line) and when the request line is cut short.
    pub version: String,
    /// The host: the first `Host` header, or else the authority of an absolute-form (or
    /// CONNECT) target; lowercased, without `:port`, user info or a trailing dot; an IPv6
    /// literal keeps its brackets. `None` when absent or empty.
    pub host: Option<String>,
    /// The first `User-Agent` header, trimmed.
    pub user_agent: Option<String>,
    /// The first `Referer` header, trimmed: a browser sends it for what a page made it fetch
    /// (scripts, images, frames), so the request was the page's doing, not the user's program.
    pub referer: Option<String>,
    /// Whether a `Via` header was present: a proxy relayed the request for someone else.
    pub via: bool,
    /// The empty line ending the headers (CRLF CRLF or LF LF) was seen within the limits.
    pub complete: bool,
}

impl HttpRequest {
    /// The path and query of the target: the target itself in origin form (and for
    /// CONNECT's `host:port` and `*`), the part after the authority in absolute form (`/`
    /// when nothing follows the authority).
    pub fn path(&self) -> &str {
        match authority_span(&self.target) {
            // The span ends at an ASCII byte or the end: a char boundary.
            Some((_, end)) => match self.target.get(end..) {
                Some("") | None => "/",
                Some(rest) => rest,
            },
            None => &self.target,
        }
    }

    /// The names of the query's parameters (`a` and `c` for `?a=b&c=d`), in order, as sent:
    /// neither lowercased nor percent-decoded; empty names are skipped, and the query ends
    /// at a `#`.
    pub fn query_param_names(&self) -> impl Iterator<Item = &str> {
        let path = self.path();
        let query = path.split_once('?').map_or("", |(_, q)| q);
        let query = query.split('#').next().unwrap_or("");
        query
            .split('&')
            .map(|pair| pair.split('=').next().unwrap_or(""))
            .filter(|name| !name.is_empty())
    }
}

/// Whether `payload` starts with a recognised method and a space (looks at 8 bytes at most).
pub fn looks_like_request(payload: &[u8]) -> bool {
    method_len(payload).is_some()
}

fn method_len(payload: &[u8]) -> Option<usize> {
    // Fast reject on the first byte, before comparing methods.
    if !matches!(
        payload.first(),
        Some(b'G' | b'P' | b'H' | b'D' | b'O' | b'C' | b'T')
    ) {
        return None;
    }
    METHODS
        .iter()
        .find(|m| payload.starts_with(m) && payload.get(m.len()) == Some(&b' '))
        .map(|m| m.len())
}

/// Parses the start of an HTTP request (see [`HttpRequest`] for what is kept).
///
/// A request cut short still parses: with the request line complete, header lines are read
/// up to the last complete one (`complete` is false); with the request line itself cut, the
/// target holds the bytes present and the version is empty. A complete request line must
/// read `METHOD SP target SP HTTP/...` (or `METHOD SP target`, HTTP/0.9), else
/// [`HttpError::BadRequestLine`].
pub fn parse_request(payload: &[u8]) -> Result<HttpRequest, HttpError> {
    let method_len = method_len(payload).ok_or(HttpError::NotHttp)?;
    let head = payload.get(..MAX_HEAD_LEN).unwrap_or(payload);
    let mut lines = head.split_inclusive(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let (line, terminated) = match first.strip_suffix(b"\n") {
        Some(line) => (line.strip_suffix(b"\r").unwrap_or(line), true),
        None => (first, false),
    };
    // method_len() saw the method and a space at the start of the payload; the first line
    // holds them as it ends at a newline, which they are not.
    let rest = line.get(method_len + 1..).unwrap_or_default();
    let (target, version) = match rest.iter().position(|&b| b == b' ') {
        // `i` is a position in `rest`: the slice cannot panic.
        Some(i) => (&rest[..i], rest.get(i + 1..).unwrap_or_default()),
        None => (rest, &b""[..]),
    };
    if target.is_empty() {
        return Err(HttpError::BadRequestLine {
            reason: "empty request target",
        });
    }
    // A complete line without a version is an HTTP/0.9 request (`GET /path`).
    let version = if terminated && !(version.is_empty() && rest.len() == target.len()) {
        if !version.starts_with(b"HTTP/") || version.contains(&b' ') {
            return Err(HttpError::BadRequestLine {
                reason: "no http version",
            });
        }
        text(version)
    } else {
        String::new()
    };
    let mut req = HttpRequest {
        method: text(payload.get(..method_len).unwrap_or_default()),
        target: text(target),
        version,
        host: None,
        user_agent: None,
        referer: None,
        via: false,
        complete: false,
    };
    if terminated {
        read_headers(lines, &mut req);
    }
    if req.host.is_none() {
        req.host = match authority_span(&req.target) {
            Some((start, end)) => req.target.get(start..end).and_then(authority_host),
            None if req.method == "CONNECT" => normalize_host(&req.target),
            None => None,
        };
    }
    Ok(req)
}

/// Reads header lines (each ending with LF) up to the empty line, keeping Host and
/// User-Agent; a last line without its LF is ignored.
fn read_headers<'a>(lines: impl Iterator<Item = &'a [u8]>, req: &mut HttpRequest) {
    // At most MAX_HEADERS header lines, then the empty line.
    for (i, line) in lines.take(MAX_HEADERS + 1).enumerate() {
        let Some(line) = line.strip_suffix(b"\n") else {
            return; // partial last line
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            req.complete = true;
            return;
        }
        if i == MAX_HEADERS {
            return;
        }
        // Folded continuation lines and lines without a colon are skipped.
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        // `colon` is a position in `line`: the slice cannot panic.
        let (name, value) = (&line[..colon], line.get(colon + 1..).unwrap_or_default());
        let value = value.trim_ascii();
        if name.eq_ignore_ascii_case(b"host") && req.host.is_none() {
            req.host = normalize_host(&text(value));
        } else if name.eq_ignore_ascii_case(b"user-agent") && req.user_agent.is_none() {
            req.user_agent = Some(text(value));
        } else if name.eq_ignore_ascii_case(b"referer") && req.referer.is_none() {
            req.referer = Some(text(value)).filter(|r| !r.is_empty());
        } else if name.eq_ignore_ascii_case(b"via") {
            req.via = true;
        }
    }
}

/// Whether a User-Agent is a web browser's. Browsers all announce `Mozilla/`; so does the
/// Delphi Indy library's default that TOM's ContentFilter sent, which is a program, not a
/// browser.
pub fn is_browser(user_agent: Option<&str>) -> bool {
    user_agent.is_some_and(|ua| {
        (ua.starts_with("Mozilla/") || ua.starts_with("Opera/")) && !ua.contains("Indy Library")
    })
}

/// What follows `http://` or `https://` (any case) at the start of `target`: the authority and
/// path of an absolute URI, as a proxy is sent; None for any other target.
pub fn without_scheme(target: &str) -> Option<&str> {
    ["http://", "https://"].iter().find_map(|scheme| {
        target
            .get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .and_then(|_| target.get(scheme.len()..))
    })
}

/// Byte span of the authority in an absolute-form target (`scheme://authority/...`).
fn authority_span(target: &str) -> Option<(usize, usize)> {
    let sep = target.find("://")?;
    let scheme = target.get(..sep)?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let start = sep + 3;
    let after = target.get(start..)?;
    let end = after
        .find(['/', '?', '#'])
        .map_or(target.len(), |i| start + i);
    Some((start, end))
}

/// The host of an authority (`user@host:port`).
fn authority_host(authority: &str) -> Option<String> {
    let host = authority.rsplit('@').next().unwrap_or(authority);
    normalize_host(host)
}

/// Lowercases a Host value and strips its port and one trailing dot; keeps `[v6]`
/// brackets, and leaves a bare IPv6 address (more than one colon) whole.
fn normalize_host(value: &str) -> Option<String> {
    let value = value.trim();
    let host = if value.starts_with('[') {
        // `i` is the position of the one-byte ']': a char boundary inside `value`.
        value.find(']').map_or(value, |i| &value[..=i])
    } else {
        match value.split_once(':') {
            Some((h, port)) if !port.contains(':') => h,
            _ => value,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Bytes from the wire as text: lossy UTF-8, control characters escaped.
fn text(bytes: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(bytes);
    if !lossy.chars().any(char::is_control) {
        return lossy.into_owned();
    }
    let mut out = String::with_capacity(lossy.len() + 8);
    for c in lossy.chars() {
        if !c.is_control() {
            out.push(c);
        } else if u32::from(c) <= 0xff {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn get_with_host_and_user_agent() {
        let p = b"GET /index.html?a=1 HTTP/1.1\r\nHost: Example.COM\r\nUser-Agent:  curl/8.0 \r\nAccept: */*\r\n\r\nbody";
        assert!(looks_like_request(p));
        let r = parse_request(p).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/index.html?a=1");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(r.host.as_deref(), Some("example.com"));
        assert_eq!(r.user_agent.as_deref(), Some("curl/8.0"));
        assert!(r.complete);
        assert_eq!(r.path(), "/index.html?a=1");
    }

    #[test]
    fn tom_requests() {
        let p = b"GET /agent/skypever.php?md5=nofile HTTP/1.1\r\nHost: skypetools.tom.com\r\nUser-Agent: Mozilla/3.0 (compatible; Indy Library)\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert_eq!(r.host.as_deref(), Some("skypetools.tom.com"));
        assert_eq!(
            r.user_agent.as_deref(),
            Some("Mozilla/3.0 (compatible; Indy Library)")
        );
        assert_eq!(r.path(), "/agent/skypever.php?md5=nofile");
        assert_eq!(r.query_param_names().collect::<Vec<_>>(), ["md5"]);
        let p = b"GET /en_return_time.php?login_id=alice&code=0123456789abcdef0123456789abcdef HTTP/1.1\r\nHost: skypetools1.tom.com\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert_eq!(r.host.as_deref(), Some("skypetools1.tom.com"));
        assert_eq!(r.user_agent, None);
        assert_eq!(
            r.query_param_names().collect::<Vec<_>>(),
            ["login_id", "code"]
        );
    }

    #[test]
    fn absolute_form() {
        let p = b"GET http://user@SkypeTools.Tom.com:8080/agent/keyfile?skype_id=bob&=x&Skype_Ver=3.6#frag HTTP/1.0\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert_eq!(r.host.as_deref(), Some("skypetools.tom.com"));
        assert_eq!(
            r.path(),
            "/agent/keyfile?skype_id=bob&=x&Skype_Ver=3.6#frag"
        );
        assert_eq!(
            r.query_param_names().collect::<Vec<_>>(),
            ["skype_id", "Skype_Ver"]
        );
        // A Host header wins over the target's authority.
        let p = b"GET http://a.example HTTP/1.1\r\nHost: b.example\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert_eq!(r.host.as_deref(), Some("b.example"));
        assert_eq!(r.path(), "/");
        let r = parse_request(b"CONNECT login.skype.com:443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.host.as_deref(), Some("login.skype.com"));
        assert_eq!(r.path(), "login.skype.com:443");
    }

    #[test]
    fn host_ports_and_ipv6() {
        let host = |h: &str| {
            let p = format!("GET / HTTP/1.1\r\nHost: {h}\r\n\r\n");
            parse_request(p.as_bytes()).unwrap().host
        };
        assert_eq!(host("Example.com:8080").as_deref(), Some("example.com"));
        assert_eq!(host("[2001:DB8::1]:443").as_deref(), Some("[2001:db8::1]"));
        assert_eq!(host("[::1]").as_deref(), Some("[::1]"));
        assert_eq!(host("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(host("example.org.").as_deref(), Some("example.org"));
        assert_eq!(host(""), None);
        assert_eq!(host(":80"), None);
    }

    #[test]
    fn incomplete_requests() {
        // No end of headers: the partial last line is ignored.
        let p = b"POST /x HTTP/1.1\r\nUser-Agent: a\r\nHost: skype.tom.c";
        let r = parse_request(p).unwrap();
        assert!(!r.complete);
        assert_eq!(r.user_agent.as_deref(), Some("a"));
        assert_eq!(r.host, None);
        // The request line itself cut (a 96-byte snaplen, say).
        let r = parse_request(b"GET /en_return_time.php?login_id=alice&co").unwrap();
        assert!(!r.complete);
        assert_eq!(r.version, "");
        assert_eq!(
            r.query_param_names().collect::<Vec<_>>(),
            ["login_id", "co"]
        );
        let r = parse_request(b"GET /a HTTP/1.").unwrap();
        assert_eq!((r.target.as_str(), r.version.as_str()), ("/a", ""));
        // Too many headers: stops without seeing the end.
        let mut p = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            p.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        p.extend_from_slice(b"\r\n");
        assert!(parse_request(&p).unwrap().complete);
        let mut more = p[..p.len() - 2].to_vec();
        more.extend_from_slice(b"Host: late\r\n\r\n");
        let r = parse_request(&more).unwrap();
        assert!(!r.complete);
        assert_eq!(r.host, None);
    }

    #[test]
    fn lf_only_line_endings() {
        let r = parse_request(b"HEAD /h HTTP/1.0\nhost: A.B\nuser-agent: x\n\n").unwrap();
        assert!(r.complete);
        assert_eq!(r.version, "HTTP/1.0");
        assert_eq!(r.host.as_deref(), Some("a.b"));
        assert_eq!(r.user_agent.as_deref(), Some("x"));
    }

    #[test]
    fn junk_and_bad_request_lines() {
        assert!(!looks_like_request(b"GETX / HTTP/1.1"));
        assert!(!looks_like_request(b"get / HTTP/1.1"));
        assert!(!looks_like_request(&[0x16, 3, 1, 0, 5]));
        assert!(!looks_like_request(b""));
        assert_eq!(parse_request(&[0xff, 0, 1, 2]), Err(HttpError::NotHttp));
        assert!(matches!(
            parse_request(b"GET  / HTTP/1.1\r\n\r\n"),
            Err(HttpError::BadRequestLine { .. })
        ));
        assert!(matches!(
            parse_request(b"GET /path \r\n\r\n"),
            Err(HttpError::BadRequestLine {
                reason: "no http version"
            })
        ));
        // HTTP/0.9: no version, no headers.
        let r = parse_request(b"GET /path\r\n").unwrap();
        assert_eq!((r.target.as_str(), r.version.as_str()), ("/path", ""));
        assert!(matches!(
            parse_request(b"GET / FOO/1.1\r\n\r\n"),
            Err(HttpError::BadRequestLine { .. })
        ));
    }

    #[test]
    fn binary_bytes_are_escaped() {
        let p = b"GET /a\x01\xff\x7fb HTTP/1.1\r\nHost: ex\x1bample.com\r\nUser-Agent: \xc2\x85z\t\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert_eq!(r.target, "/a\\x01\u{fffd}\\x7fb");
        assert_eq!(r.host.as_deref(), Some("ex\\x1bample.com"));
        assert_eq!(r.user_agent.as_deref(), Some("\\x85z"));
    }

    fn no_control(s: &str) -> bool {
        !s.chars().any(char::is_control)
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_request(&data);
        }

        #[test]
        fn any_bytes_after_a_method_never_panic(
            tail in proptest::collection::vec(any::<u8>(), 0..300),
            m in 0usize..METHODS.len(),
        ) {
            let mut p = METHODS[m].to_vec();
            p.push(b' ');
            p.extend_from_slice(&tail);
            if let Ok(r) = parse_request(&p) {
                prop_assert!(no_control(&r.target) && no_control(&r.version));
                prop_assert!(r.host.as_deref().is_none_or(no_control));
                prop_assert!(r.user_agent.as_deref().is_none_or(no_control));
                let _ = r.path();
                let _ = r.query_param_names().count();
            }
        }

        #[test]
        fn every_truncation_is_handled(cut in 0usize..200) {
            let p = b"GET http://x.tom.com:81/a?skype_id=1 HTTP/1.1\r\nHost: skype.tom.com\r\nUser-Agent: u\r\n\r\n";
            let cut = cut.min(p.len());
            if let Ok(r) = parse_request(&p[..cut]) {
                prop_assert_eq!(r.complete, cut == p.len());
                let full = "http://x.tom.com:81/a?skype_id=1";
                prop_assert!(full.starts_with(&r.target));
                prop_assert!(r.version.is_empty() || (r.target == full && r.version == "HTTP/1.1"));
            }
        }
    }
}
