//! Stage 1, Zeek logs: what a record means. Each conn.log record becomes one flow, each
//! dns.log record a question (and the answers' addresses, each resolved from the question and
//! from every CNAME name in the answer), each ssl.log record a TLS server name on its flow and
//! each http.log record a request on its flow: the same calls on the [`FlowTable`] that the
//! packet path makes, so the later stages cannot tell the sources apart. Fields are found by
//! name, so extra or reordered columns do not matter; the fields a record cannot do without
//! (time, addresses, ports) make it a bad record when missing or malformed.

use std::net::IpAddr;

use crate::flow::{Dir, Flow, FlowKey, FlowTable, HttpFact, Opener};

use super::value::{parse_addr, parse_count, parse_port, parse_seconds, Value};
use super::{LogKind, Record};

fn text<'a>(r: &'a dyn Record, name: &str) -> Option<&'a str> {
    r.field(name).and_then(Value::text)
}

fn need<'a>(r: &'a dyn Record, name: &str) -> Result<&'a str, String> {
    match r.field(name) {
        Some(Value::One(s)) => Ok(s),
        Some(_) => Err(format!("field {name} is unset")),
        None => Err(format!("no field {name}")),
    }
}

/// The record's time in ns since the epoch: epoch seconds, or ISO 8601 in UTC.
fn time(r: &dyn Record) -> Result<i64, String> {
    let ts = need(r, "ts")?;
    parse_seconds(ts)
        .or_else(|| parse_iso8601(ts))
        .ok_or_else(|| format!("ts `{}` is not a time", clip(ts)))
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

fn addr(r: &dyn Record, name: &str) -> Result<IpAddr, String> {
    let v = need(r, name)?;
    parse_addr(v).ok_or_else(|| format!("{name} `{}` is not an address", clip(v)))
}

fn port(r: &dyn Record, name: &str) -> Result<u16, String> {
    let v = need(r, name)?;
    parse_port(v).ok_or_else(|| format!("{name} `{}` is not a port", clip(v)))
}

/// The flow key of a record's `id.*` fields, and the direction from orig to resp.
fn key(r: &dyn Record, proto: u8) -> Result<(FlowKey, Dir), String> {
    let (oh, rh) = (addr(r, "id.orig_h")?, addr(r, "id.resp_h")?);
    // ICMP "ports" in Zeek are type and code; the packet path keys ICMP flows with none.
    let (op, rp) = if proto == 1 || proto == 58 {
        (0, 0)
    } else {
        (port(r, "id.orig_p")?, port(r, "id.resp_p")?)
    };
    Ok(FlowKey::new(proto, oh, op, rh, rp))
}

/// Applies one record of a log of `kind` to `table`. Records of kinds the pipeline does not
/// use are ignored. Errors say what is wrong with the record.
pub fn apply(kind: &LogKind, r: &dyn Record, table: &mut FlowTable) -> Result<(), String> {
    match kind {
        LogKind::Conn => conn(r, table),
        LogKind::Dns => dns(r, table),
        LogKind::Ssl => ssl(r, table),
        LogKind::Http => http(r, table),
        LogKind::Other(_) => Ok(()),
    }
}

fn conn(r: &dyn Record, table: &mut FlowTable) -> Result<(), String> {
    let ts = time(r)?;
    let v6 = matches!(parse_addr(need(r, "id.orig_h")?), Some(IpAddr::V6(_)));
    let proto = match need(r, "proto")? {
        "tcp" => 6,
        "udp" => 17,
        "icmp" if v6 => 58,
        "icmp" => 1,
        // unknown_transport: no ports to key it by; the packet path skips such packets too.
        _ => return Ok(()),
    };
    let (key, dir) = key(r, proto)?;
    let duration = match text(r, "duration") {
        Some(d) => {
            parse_seconds(d).ok_or_else(|| format!("duration `{}` is not an interval", clip(d)))?
        }
        None => 0,
    };
    let count = |name: &str| -> Result<u64, String> {
        match text(r, name) {
            Some(v) => parse_count(v).ok_or_else(|| format!("{name} `{}` is not a count", clip(v))),
            None => Ok(0),
        }
    };
    let (o, p) = (dir as usize, dir.reverse() as usize);
    let mut packets = [0; 2];
    let mut bytes = [0; 2];
    packets[o] = count("orig_pkts")?;
    packets[p] = count("resp_pkts")?;
    bytes[o] = count("orig_ip_bytes")?;
    bytes[p] = count("resp_ip_bytes")?;
    // Zeek's originator opened the connection; it is certain when the history starts with
    // the originator's SYN, a guess otherwise (as the packet path guesses).
    let certain = proto == 6 && text(r, "history").is_some_and(|h| h.starts_with('S'));
    let opener = match (dir, certain) {
        (Dir::AToB, true) => Opener::A,
        (Dir::BToA, true) => Opener::B,
        (Dir::AToB, false) => Opener::AGuess,
        (Dir::BToA, false) => Opener::BGuess,
    };
    if proto == 17 && !table.flows.contains_key(&key) {
        // ssl.log, read before conn.log, put the server names of every handshake on the TCP
        // flow of its addresses and ports (it has no protocol column): those of a UDP
        // connection with no TCP one of the same addresses and ports are QUIC's.
        let (tcp, _) = self::key(r, 6)?;
        if !table.flows.contains_key(&tcp) {
            table.move_server_names(&tcp, key);
        }
    }
    table.add_flow(
        key,
        Flow {
            packets,
            bytes,
            first_ns: ts,
            last_ns: ts.saturating_add(duration.max(0)),
            opener,
        },
    );
    Ok(())
}

fn dns(r: &dyn Record, table: &mut FlowTable) -> Result<(), String> {
    let ts = time(r)?;
    let client = addr(r, "id.orig_h")?;
    let Some(query) = text(r, "query").map(|q| q.trim_end_matches('.')) else {
        return Ok(());
    };
    if query.is_empty() {
        return Ok(());
    }
    table.dns_query(ts, client, query);
    // Zeek pairs answers with their question (id and ports) and measures the round trip; an
    // answer logged without a round trip answered no question Zeek saw.
    let solicited = text(r, "rtt").is_some();
    if solicited {
        if let Ok(server) = addr(r, "id.resp_h") {
            if r.field("answers").is_some_and(|a| !a.items().is_empty())
                && port(r, "id.resp_p") == Ok(53)
            {
                table.dns_served(server, client);
            }
        }
    }
    let answers = r.field("answers").map(Value::items).unwrap_or_default();
    let (ips, names): (Vec<&str>, Vec<&str>) =
        answers.into_iter().partition(|a| parse_addr(a).is_some());
    // Zeek lists CNAME targets and addresses together: every address was reached from the
    // question through every CNAME name listed (as the packet path records the chain).
    let names: Vec<&str> = names
        .into_iter()
        .map(|n| n.trim_end_matches('.'))
        .filter(|n| !n.is_empty() && !n.contains([' ', '\t']))
        .collect();
    for ip in ips.iter().filter_map(|a| parse_addr(a)) {
        table.dns_answer(ts, client, query, ip, solicited);
        for name in &names {
            table.dns_answer(ts, client, name, ip, solicited);
        }
    }
    Ok(())
}

fn ssl(r: &dyn Record, table: &mut FlowTable) -> Result<(), String> {
    let ts = time(r)?;
    let Some(name) = text(r, "server_name").filter(|n| !n.is_empty()) else {
        return Ok(());
    };
    // ssl.log has no protocol column: TLS is TCP, unless conn.log sees the connection as UDP
    // only (QUIC). conn.log is read after it (see `read_logs`), and `conn` moves the names
    // then; when its flows are already here, they say it now.
    let (tcp, _) = key(r, 6)?;
    let (udp, _) = key(r, 17)?;
    let key = if !table.flows.contains_key(&tcp) && table.flows.contains_key(&udp) {
        udp
    } else {
        tcp
    };
    table.tls_sni(ts, key, addr(r, "id.orig_h")?, name);
    Ok(())
}

fn http(r: &dyn Record, table: &mut FlowTable) -> Result<(), String> {
    let ts = time(r)?;
    let method = text(r, "method");
    let uri = text(r, "uri");
    if method.is_none() && uri.is_none() {
        // A response without a request: nothing the client sent.
        return Ok(());
    }
    let (key, _) = key(r, 6)?;
    let host = text(r, "host").map(host_only).filter(|h| !h.is_empty());
    table.http_request(
        key,
        HttpFact {
            ts_ns: ts,
            method: method.unwrap_or_default().to_owned(),
            host,
            target: uri.unwrap_or_default().to_owned(),
            user_agent: text(r, "user_agent").map(str::to_owned),
            referer: text(r, "referrer").map(str::to_owned),
            // Zeek lists proxy headers (Via, X-Forwarded-For, ...) in `proxied`.
            via: r.field("proxied").is_some_and(|p| !p.items().is_empty()),
            client: addr(r, "id.orig_h")?,
        },
    );
    Ok(())
}

/// A Host value lowercased and without its port (`[v6]:port` too).
fn host_only(h: &str) -> String {
    let h = h.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(inner, _)| inner)
    } else if h.matches(':').count() == 1 {
        h.split_once(':').map_or(h, |(name, _)| name)
    } else {
        h
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (what Zeek writes with `JSON::TS_ISO8601`).
fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, clock) = s.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        parse_seconds(&format!("0.{frac}"))?
    };
    let days = crate::timefmt::days_from_civil(y, m, day);
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::super::json::parse_line;
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn run(kind: LogKind, line: &str, t: &mut FlowTable) -> Result<(), String> {
        let r = parse_line(line).unwrap();
        apply(&kind, &r, t)
    }

    #[test]
    fn conn_records_become_flows() {
        let mut t = FlowTable::default();
        run(LogKind::Conn, r#"{"ts":10.5,"id.orig_h":"192.168.1.2","id.orig_p":50000,"id.resp_h":"211.100.41.6","id.resp_p":80,"proto":"tcp","duration":2.25,"orig_pkts":3,"resp_pkts":4,"orig_ip_bytes":100,"resp_ip_bytes":900,"history":"ShADadfF"}"#, &mut t).unwrap();
        let (k, d) = FlowKey::new(6, ip("192.168.1.2"), 50000, ip("211.100.41.6"), 80);
        let f = t.flows.get(&k).unwrap();
        assert_eq!(f.packets[d as usize], 3);
        assert_eq!(f.bytes[d.reverse() as usize], 900);
        assert_eq!((f.first_ns, f.last_ns), (10_500_000_000, 12_750_000_000));
        assert_eq!(k.sender(f.opener.side().unwrap()).0, ip("192.168.1.2"));
        assert!(matches!(f.opener, Opener::A | Opener::B));
        // The responder is the lower address here: the opener is end b, still certain.
        run(LogKind::Conn, r#"{"ts":1,"id.orig_h":"10.0.0.9","id.orig_p":40000,"id.resp_h":"1.1.1.1","id.resp_p":53,"proto":"udp"}"#, &mut t).unwrap();
        let (k, _) = FlowKey::new(17, ip("10.0.0.9"), 40000, ip("1.1.1.1"), 53);
        assert_eq!(t.flows.get(&k).unwrap().opener, Opener::BGuess);
        // ICMP over IPv6 is protocol 58, with no ports.
        run(LogKind::Conn, r#"{"ts":1,"id.orig_h":"fe80::1","id.orig_p":135,"id.resp_h":"ff02::1","id.resp_p":136,"proto":"icmp"}"#, &mut t).unwrap();
        assert!(t.flows.keys().any(|k| k.proto == 58 && k.a_port == 0));
    }

    #[test]
    fn bad_conn_records_say_why() {
        let mut t = FlowTable::default();
        let cases = [
            (
                r#"{"ts":"XXXXXXXXXX.XXXXXX","id.orig_h":"1.2.3.4","id.orig_p":1,"id.resp_h":"1.2.3.5","id.resp_p":2,"proto":"tcp"}"#,
                "ts",
            ),
            (
                r#"{"ts":1,"id.orig_h":"1.2.3","id.orig_p":1,"id.resp_h":"1.2.3.5","id.resp_p":2,"proto":"tcp"}"#,
                "not an address",
            ),
            (
                r#"{"ts":1,"id.orig_h":"1.2.3.4","id.orig_p":70000,"id.resp_h":"1.2.3.5","id.resp_p":2,"proto":"tcp"}"#,
                "not a port",
            ),
            (
                r#"{"ts":1,"id.orig_h":"1.2.3.4","id.resp_h":"1.2.3.5","id.resp_p":2,"proto":"tcp"}"#,
                "no field id.orig_p",
            ),
            (
                r#"{"ts":1,"id.orig_h":"1.2.3.4","id.orig_p":1,"id.resp_h":"1.2.3.5","id.resp_p":2,"proto":"tcp","orig_pkts":-1}"#,
                "not a count",
            ),
        ];
        for (line, want) in cases {
            let e = run(LogKind::Conn, line, &mut t).unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        assert!(t.flows.is_empty());
    }

    #[test]
    fn dns_answers_resolve_from_the_question_and_the_cnames() {
        let mut t = FlowTable::default();
        run(LogKind::Dns, r#"{"ts":5,"id.orig_h":"192.168.1.2","id.orig_p":3000,"id.resp_h":"8.8.8.8","id.resp_p":53,"query":"skype.tom.com","answers":["cdn.tom.com.","211.100.41.6","2001:db8::1"]}"#, &mut t).unwrap();
        assert!(t.queries[&ip("192.168.1.2")]
            .names
            .contains_key("skype.tom.com"));
        for a in ["211.100.41.6", "2001:db8::1"] {
            let names = &t.resolved[&(ip("192.168.1.2"), ip(a))].names;
            assert!(names.contains_key("skype.tom.com") && names.contains_key("cdn.tom.com"));
            // No round trip: Zeek saw no question for it.
            assert!(!names["skype.tom.com"].solicited);
        }
        // With a round trip, the answer is the client's own, and the server a resolver.
        run(LogKind::Dns, r#"{"ts":5,"id.orig_h":"192.168.1.3","id.orig_p":3000,"id.resp_h":"8.8.8.8","id.resp_p":53,"query":"skype.tom.com","rtt":0.02,"answers":["211.100.41.6"]}"#, &mut t).unwrap();
        assert!(
            t.resolved[&(ip("192.168.1.3"), ip("211.100.41.6"))].names["skype.tom.com"].solicited
        );
        assert_eq!(t.dns_servers[&ip("8.8.8.8")].kept, vec![ip("192.168.1.3")]);
        // A question without an answer is still a question.
        run(
            LogKind::Dns,
            r#"{"ts":6,"id.orig_h":"192.168.1.2","query":"ui.skype.com","answers":null}"#,
            &mut t,
        )
        .unwrap();
        assert_eq!(t.queries[&ip("192.168.1.2")].names.len(), 2);
    }

    #[test]
    fn a_quic_server_name_read_before_its_conn_record_moves_to_the_udp_flow() {
        let mut t = FlowTable::default();
        let id =
            r#""id.orig_h":"192.168.1.2","id.orig_p":50000,"id.resp_h":"1.2.3.4","id.resp_p":443"#;
        let other =
            r#""id.orig_h":"192.168.1.2","id.orig_p":50001,"id.resp_h":"1.2.3.4","id.resp_p":443"#;
        for i in [id, other] {
            let line = format!(r#"{{"ts":1,{i},"server_name":"www.google.de"}}"#);
            run(LogKind::Ssl, &line, &mut t).unwrap();
        }
        run(
            LogKind::Conn,
            &format!(r#"{{"ts":1,{id},"proto":"udp"}}"#),
            &mut t,
        )
        .unwrap();
        let conn = format!(r#"{{"ts":1,{other},"proto":"tcp"}}"#);
        run(LogKind::Conn, &conn, &mut t).unwrap();
        let key = |proto, port| FlowKey::new(proto, ip("192.168.1.2"), port, ip("1.2.3.4"), 443).0;
        assert!(t.facts[&key(17, 50000)].sni.contains_key("www.google.de"));
        assert!(!t.facts.contains_key(&key(6, 50000)));
        // A TCP connection keeps its names.
        assert!(t.facts[&key(6, 50001)].sni.contains_key("www.google.de"));
    }

    #[test]
    fn ssl_and_http_attach_to_their_flows() {
        let mut t = FlowTable::default();
        let id =
            r#""id.orig_h":"192.168.1.2","id.orig_p":50000,"id.resp_h":"1.2.3.4","id.resp_p":443"#;
        run(
            LogKind::Conn,
            &format!(r#"{{"ts":1,{id},"proto":"udp"}}"#),
            &mut t,
        )
        .unwrap();
        run(
            LogKind::Ssl,
            &format!(r#"{{"ts":1,{id},"server_name":"www.google.de"}}"#),
            &mut t,
        )
        .unwrap();
        let (udp, _) = FlowKey::new(17, ip("192.168.1.2"), 50000, ip("1.2.3.4"), 443);
        assert!(t.facts[&udp].sni.contains_key("www.google.de"));
        run(LogKind::Http, &format!(r#"{{"ts":2,{id},"method":"GET","host":"SkypeTools1.TOM.com:80","uri":"/en_return_time.php?login_id=x","user_agent":"UA"}}"#), &mut t).unwrap();
        let (tcp, _) = FlowKey::new(6, ip("192.168.1.2"), 50000, ip("1.2.3.4"), 443);
        let req = &t.facts[&tcp].http[0];
        assert_eq!(req.host.as_deref(), Some("skypetools1.tom.com"));
        assert_eq!(req.target, "/en_return_time.php?login_id=x");
        assert_eq!(req.ts_ns, 2_000_000_000);
    }

    #[test]
    fn hosts_lose_their_ports() {
        assert_eq!(host_only("Example.COM:8080"), "example.com");
        assert_eq!(host_only("[2001:db8::1]:80"), "2001:db8::1");
        assert_eq!(host_only("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn iso_times() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(
            parse_iso8601("2011-03-18T19:06:07.096535Z"),
            Some(1_300_475_167_096_535_000)
        );
        assert_eq!(parse_iso8601("2011-13-18T19:06:07Z"), None);
        assert_eq!(parse_iso8601("2011-03-18 19:06:07"), None);
    }
}
