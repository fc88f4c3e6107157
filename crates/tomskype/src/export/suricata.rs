//! Export, Suricata: the indicator set as Suricata 7 rules (sticky buffers). Each `tom` and
//! `skype` indicator gives one or more rules, numbered from `sid_base` in file order, so the
//! same set always gets the same sids: addresses and networks an `ip` rule; names a `dns`
//! (`dns.query`), a `tls` (`tls.sni`) and an `http` (`http.host`) rule, each matching the name
//! and the names under it (`dotprefix` + `endswith`); HTTP URLs, query parameters and
//! User-Agents an `http` rule; ports a `tcp` and/or `udp` rule. `http.host` is normalised to
//! lowercase by Suricata, so its patterns are written in lowercase.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::knowledge::indicators::{Indicator, IndicatorSet, Matcher};

use super::zeek_intel::{comment, exported, role_name, source_url};

/// The classtype of every rule (`classification.config`: "Potential Corporate Privacy
/// Violation").
pub const CLASSTYPE: &str = "policy-violation";

/// Escapes text for a quoted `msg`: `;`, `"` and `\` get a backslash; control characters go.
fn msg_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ';' | '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if crate::textsafe::is_unsafe(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Writes bytes for a `content:"..."`: printable ASCII as is, except `"` `;` `\` `|`, which
/// (with every other byte) go in `|HH|` hex.
fn content(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && !b"\";\\|:".contains(&b) {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "|{b:02X}|");
        }
    }
    out
}

/// A regex literal for a parameter name: letters, digits, `_` and `-` as is, others `\xHH`.
fn pcre_literal(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// The short description in a `msg`: the first 80 characters.
fn short(s: &str) -> String {
    let mut t: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        t.push_str("...");
    }
    t
}

/// The rule headers and bodies (options before the common ones) of one indicator.
pub fn rule_bodies(i: &Indicator) -> Vec<(String, String)> {
    let home = "$HOME_NET any";
    match &i.matcher {
        Matcher::Ip(ip) => vec![(format!("alert ip {home} -> {ip} any"), String::new())],
        Matcher::Net(n) => vec![(format!("alert ip {home} -> {n} any"), String::new())],
        Matcher::Name(n) => {
            let dot = content(&format!(".{}", n.to_ascii_lowercase()));
            vec![
                (
                    format!("alert dns {home} -> any any"),
                    format!("dns.query; dotprefix; content:\"{dot}\"; endswith; nocase; "),
                ),
                (
                    format!("alert tls {home} -> any any"),
                    format!("tls.sni; dotprefix; content:\"{dot}\"; endswith; nocase; "),
                ),
                (
                    format!("alert http {home} -> any any"),
                    format!("http.host; dotprefix; content:\"{dot}\"; endswith; "),
                ),
            ]
        }
        Matcher::HttpUrl { host, path } => vec![(
            format!("alert http {home} -> any any"),
            format!(
                "http.host; dotprefix; content:\"{}\"; endswith; http.uri; content:\"{}\"; startswith; ",
                content(&format!(".{}", host.to_ascii_lowercase())),
                content(path)
            ),
        )],
        Matcher::HttpParam { host, param } => vec![(
            format!("alert http {home} -> any any"),
            format!(
                "http.host; dotprefix; content:\"{}\"; endswith; http.uri; content:\"{}\"; nocase; pcre:\"/[?&]{}(?:[=&]|$)/i\"; ",
                content(&format!(".{}", host.to_ascii_lowercase())),
                content(param),
                pcre_literal(param)
            ),
        )],
        Matcher::UserAgent(ua) => vec![(
            format!("alert http {home} -> any any"),
            format!("http.user_agent; content:\"{}\"; startswith; endswith; ", content(ua)),
        )],
        Matcher::Port { proto, port } => {
            let protos: &[&str] = match proto {
                6 => &["tcp"],
                17 => &["udp"],
                _ => &["tcp", "udp"],
            };
            protos
                .iter()
                .map(|p| (format!("alert {p} {home} -> $EXTERNAL_NET {port}"), String::new()))
                .collect()
        }
    }
}

/// Writes the rules; sids count up from `sid_base` in file order.
pub fn write(set: &IndicatorSet, sid_base: u32, out: &mut dyn Write) -> io::Result<()> {
    let info = set.info();
    writeln!(
        out,
        "# tomskype indicator set {} (sha256 {}): Suricata 7 rules, sids from {sid_base}",
        comment(&info.versions.join(" + ")),
        info.sha256
    )?;
    let mut sid = u64::from(sid_base);
    for i in set.indicators.iter().filter(|i| exported(i)) {
        let msg = msg_text(&format!(
            "TOMSKYPE {} {}: {}",
            role_name(i.role),
            i.id,
            short(&i.description)
        ));
        let reference = source_url(set, &i.source)
            .map(|u| {
                let u = u
                    .trim_start_matches("https://")
                    .trim_start_matches("http://");
                format!("reference:url,{}; ", msg_text(u))
            })
            .unwrap_or_default();
        let metadata = format!(
            "metadata:source {}, indicator {}, weight {}",
            metadata_word(&i.source),
            metadata_word(&i.id),
            i.weight
        );
        for (header, body) in rule_bodies(i) {
            let Ok(this) = u32::try_from(sid) else {
                return Err(io::Error::other(format!(
                    "sid base {sid_base} leaves too few sids for the set"
                )));
            };
            writeln!(
                out,
                "{header} (msg:\"{msg}\"; {body}{reference}{metadata}; classtype:{CLASSTYPE}; sid:{this}; rev:1;)"
            )?;
            sid += 1;
        }
    }
    Ok(())
}

/// A metadata value: one word without `,` `;` `"` or spaces.
fn metadata_word(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_whitespace()
                || crate::textsafe::is_unsafe(c)
                || matches!(c, ',' | ';' | '"' | '\\')
            {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(set: &IndicatorSet, base: u32) -> Vec<String> {
        let mut out = Vec::new();
        write(set, base, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }

    fn sid(rule: &str) -> u32 {
        let at = rule.find("sid:").unwrap() + 4;
        rule[at..].split(';').next().unwrap().parse().unwrap()
    }

    #[test]
    fn sids_are_unique_consecutive_and_stable() {
        let set = IndicatorSet::embedded().unwrap();
        let a = rules(&set, 9_700_000);
        let sids: Vec<u32> = a.iter().map(|r| sid(r)).collect();
        let want: Vec<u32> = (9_700_000..9_700_000 + a.len() as u32).collect();
        assert_eq!(sids, want);
        assert_eq!(a, rules(&set, 9_700_000));
        assert!(a
            .iter()
            .all(|r| r.ends_with("rev:1;)") && r.contains("classtype:policy-violation")));
        assert!(!a.iter().any(|r| r.contains("gfw-forged")));
        let mut over = Vec::new();
        assert!(write(&set, u32::MAX - 2, &mut over).is_err());
    }

    #[test]
    fn rules_for_each_kind() {
        let set = IndicatorSet::embedded().unwrap();
        let a = rules(&set, 1);
        let of = |id: &str| -> Vec<&String> {
            a.iter()
                .filter(|r| r.contains(&format!(" {id}:")))
                .collect()
        };
        let name = of("tom-name-skype-tom-com");
        assert_eq!(name.len(), 3);
        assert!(name[0].starts_with(
            "alert dns $HOME_NET any -> any any (msg:\"TOMSKYPE tom tom-name-skype-tom-com: "
        ));
        assert!(
            name[0].contains("dns.query; dotprefix; content:\".skype.tom.com\"; endswith; nocase;")
        );
        assert!(name[1].contains("tls.sni;") && name[2].contains("http.host;"));
        let url = of("tom-url-return-time");
        assert!(url[0].contains("http.uri; content:\"/en_return_time.php\"; startswith;"));
        let param = of("tom-param-login-id");
        assert!(param[0].contains("pcre:\"/[?&]login_id(?:[=&]|$)/i\""));
        let ua = of("tom-ua-indy");
        assert!(ua[0].contains(
            "content:\"Mozilla/3.0 (compatible|3B| Indy Library)\"; startswith; endswith;"
        ));
        assert_eq!(of("skype-port-any-33033").len(), 2);
        assert!(of("skype-port-tcp-9010")[0]
            .starts_with("alert tcp $HOME_NET any -> $EXTERNAL_NET 9010 "));
        assert!(of("tom-net-211.100.40.0-23")[0]
            .starts_with("alert ip $HOME_NET any -> 211.100.40.0/23 any "));
        assert!(a.iter().all(|r| r.contains("metadata:source ")));
    }

    #[test]
    fn escapes() {
        assert_eq!(msg_text("a;b\"c\\d"), "a\\;b\\\"c\\\\d");
        assert_eq!(content("a\"b;c|d\\"), "a|22|b|3B|c|7C|d|5C|");
        assert_eq!(pcre_literal("a.b"), "a\\x2eb");
    }
}
