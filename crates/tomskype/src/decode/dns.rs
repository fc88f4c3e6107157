//! Stage 2, decode: the DNS message parser (also mDNS and LLMNR, which share the format).
//!
//! [`parse`] reads one message (a UDP payload), [`parse_partial`] one that may be cut short
//! (snaplen), [`parse_tcp`] the first message of a TCP payload (2-byte length prefix). Only
//! what the later stages need is kept: the header's id, QR bit, RCODE and TC bit, the
//! questions (name and type) and the answer section's records, with A, AAAA and CNAME data
//! decoded. The authority and additional sections are not read. Names are given in a
//! presentation form that never holds control characters (see [`DnsMessage`]);
//! [`DnsMessage::resolutions`] follows CNAME chains to pair names with addresses.
//!
//! The input is untrusted: counts in the header never drive allocation (at most
//! [`MAX_QUESTIONS`] questions and [`MAX_ANSWERS`] answers are kept, and every record read
//! consumes input), compression pointers must point strictly backwards so that following
//! them always ends, and names longer than 255 bytes on the wire are rejected.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use thiserror::Error;

mod name;
use name::{read_name, Fail, Fail::Bad, Fail::Short};

/// At most this many questions are kept (the rest are skipped over).
pub const MAX_QUESTIONS: usize = 64;
/// At most this many answer records are read.
pub const MAX_ANSWERS: usize = 64;
/// Size of the fixed header.
const HEADER_LEN: usize = 12;

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;

/// The message section a record belongs to (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The question section.
    Question,
    /// The answer section.
    Answer,
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Section::Question => "question",
            Section::Answer => "answer",
        })
    }
}

/// Why a DNS message could not be parsed. Offsets count from the start of the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DnsError {
    /// Fewer bytes than the header (or the TCP length prefix) needs.
    #[error("dns message too short: {len} bytes")]
    TooShort {
        /// Bytes present.
        len: usize,
    },
    /// A name is malformed.
    #[error("bad dns name at offset {offset}: {reason}")]
    BadName {
        /// Where the offending label (or length byte) is.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A compression pointer does not point strictly backwards, so it could loop.
    #[error("dns compression pointer at offset {offset} does not point backwards (to {target})")]
    PointerLoop {
        /// Where the pointer is.
        offset: usize,
        /// Where it points.
        target: usize,
    },
    /// A compression pointer points past the end of the message.
    #[error("dns compression pointer at offset {offset} points past the end (to {target})")]
    PointerOutOfRange {
        /// Where the pointer is.
        offset: usize,
        /// Where it points.
        target: usize,
    },
    /// The message ends before a section the header announces.
    #[error("dns message ends inside the {section} section at offset {offset}")]
    Truncated {
        /// The section being read.
        section: Section,
        /// Where the data ran out (the start of the record that does not fit).
        offset: usize,
    },
    /// A record's data does not fit its type (an A record whose data is not 4 bytes, say).
    #[error("bad dns record data at offset {offset} (type {rtype}, {rdlength} bytes)")]
    BadRecordData {
        /// Where the record data starts.
        offset: usize,
        /// The record type.
        rtype: u16,
        /// The record data length.
        rdlength: u16,
    },
}

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    /// The queried name (see [`DnsMessage`] for the form).
    pub name: String,
    /// QTYPE (1 = A, 28 = AAAA, 255 = ANY, ...).
    pub qtype: u16,
}

/// The decoded data of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name this record's name is an alias of.
    Cname(String),
    /// Any other type, not decoded (the record type).
    Other(u16),
}

/// One resource record of the answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner name.
    pub name: String,
    /// TTL in seconds, as sent.
    pub ttl: u32,
    /// The decoded data.
    pub data: DnsData,
}

/// A parsed DNS message.
///
/// Names are lowercase ASCII, labels joined by `.`, with no trailing dot; the root is `""`.
/// Like `dig`, bytes in a label outside `!`..=`~` are written `\DDD` (decimal), and a `.` or
/// `\` inside a label is written `\.` or `\\`, so a name never holds a control character or
/// a space.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsMessage {
    /// The transaction id.
    pub id: u16,
    /// The QR bit: this is a response.
    pub is_response: bool,
    /// The response code (low 4 bits of the flags; 3 = NXDOMAIN).
    pub rcode: u8,
    /// The questions (at most [`MAX_QUESTIONS`]).
    pub questions: Vec<DnsQuestion>,
    /// The answer section's records (at most [`MAX_ANSWERS`]).
    pub answers: Vec<DnsRecord>,
    /// The header's TC bit is set, or (from [`parse_partial`] and [`parse_tcp`]) the data
    /// ended before all the questions and answers the header announces.
    pub truncated: bool,
}

impl DnsMessage {
    /// The (name, address) pairs the answer section establishes.
    ///
    /// For each A or AAAA record, in answer order, this yields first the record's own name,
    /// then every name that leads to it through a chain of CNAME records in the answer
    /// section (nearest alias first, then its aliases, and so on), each name once per
    /// address record. For the question `www.skype.com` answered by
    /// `www.skype.com CNAME x.akadns.net` and `x.akadns.net A 1.2.3.4`, it yields
    /// `("x.akadns.net", 1.2.3.4)` then `("www.skype.com", 1.2.3.4)`. Names that are only
    /// questions, with no records linking them, are not yielded. CNAME cycles end the walk
    /// (each name is visited once).
    pub fn resolutions(&self) -> impl Iterator<Item = (&str, IpAddr)> + '_ {
        let mut out = Vec::new();
        for record in &self.answers {
            let ip = match record.data {
                DnsData::A(a) => IpAddr::V4(a),
                DnsData::Aaaa(a) => IpAddr::V6(a),
                _ => continue,
            };
            // Breadth-first walk backwards over CNAME edges (alias -> target). `names`
            // holds each name once, so the walk ends even when the CNAMEs form a cycle;
            // it is bounded by MAX_ANSWERS names.
            let mut names: Vec<&str> = vec![record.name.as_str()];
            let mut next = 0;
            while let Some(&target) = names.get(next) {
                next += 1;
                for alias in &self.answers {
                    if let DnsData::Cname(cname) = &alias.data {
                        if cname == target && !names.contains(&alias.name.as_str()) {
                            names.push(alias.name.as_str());
                        }
                    }
                }
            }
            out.extend(names.into_iter().map(|n| (n, ip)));
        }
        out.into_iter()
    }
}

/// Parses one complete DNS message (a UDP payload).
///
/// Every question and every answer (up to [`MAX_ANSWERS`]) that the header announces must
/// be present, else [`DnsError::Truncated`]; use [`parse_partial`] for data cut short.
pub fn parse(msg: &[u8]) -> Result<DnsMessage, DnsError> {
    let mut m = DnsMessage::default();
    parse_inner(msg, false, &mut m, &mut Vec::new())?;
    Ok(m)
}

/// Parses a DNS message that may have been cut short (by the capture's snaplen, say).
///
/// Reading stops at the first question or answer that does not fit in the data, keeping
/// what was read before it, and sets `truncated`. Malformed names (loops, bad pointers,
/// reserved label types) are still errors.
pub fn parse_partial(msg: &[u8]) -> Result<DnsMessage, DnsError> {
    let mut m = DnsMessage::default();
    parse_inner(msg, true, &mut m, &mut Vec::new())?;
    Ok(m)
}

/// Parses the first DNS message of a TCP payload (a 2-byte length, then the message).
///
/// When the payload holds less than the length announces, the part present is read as by
/// [`parse_partial`] (and `truncated` is set); bytes after the first message are ignored.
pub fn parse_tcp(payload: &[u8]) -> Result<DnsMessage, DnsError> {
    let mut m = DnsMessage::default();
    parse_tcp_inner(payload, &mut m, &mut Vec::new())?;
    Ok(m)
}

/// The same parses as [`parse`] and [`parse_tcp`], with the same results, but reusing the
/// memory of the previous message (its names' strings): the per-packet path parses millions
/// of messages, and allocating every name anew was a good part of its cost.
#[derive(Debug, Default)]
pub struct Parser {
    msg: DnsMessage,
    /// Strings of earlier messages' names, cleared, for the next names.
    spare: Vec<String>,
}

impl Parser {
    /// A parser with nothing to reuse yet.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// [`parse`], into this parser's message.
    pub fn parse(&mut self, msg: &[u8]) -> Result<&DnsMessage, DnsError> {
        self.recycle();
        parse_inner(msg, false, &mut self.msg, &mut self.spare)?;
        Ok(&self.msg)
    }

    /// [`parse_tcp`], into this parser's message.
    pub fn parse_tcp(&mut self, payload: &[u8]) -> Result<&DnsMessage, DnsError> {
        self.recycle();
        parse_tcp_inner(payload, &mut self.msg, &mut self.spare)?;
        Ok(&self.msg)
    }

    /// Keeps the strings of the last message for the next one.
    fn recycle(&mut self) {
        let m = &mut self.msg;
        self.spare.extend(m.questions.drain(..).map(|q| q.name));
        for r in m.answers.drain(..) {
            self.spare.push(r.name);
            if let DnsData::Cname(target) = r.data {
                self.spare.push(target);
            }
        }
    }
}

fn parse_tcp_inner(
    payload: &[u8],
    m: &mut DnsMessage,
    spare: &mut Vec<String>,
) -> Result<(), DnsError> {
    let Some((len, rest)) = payload.split_first_chunk::<2>() else {
        return Err(DnsError::TooShort { len: payload.len() });
    };
    let len = usize::from(u16::from_be_bytes(*len));
    match rest.get(..len) {
        Some(msg) => parse_inner(msg, false, m, spare),
        None => {
            parse_inner(rest, true, m, spare)?;
            m.truncated = true;
            Ok(())
        }
    }
}

/// Parses `msg` into `m` (whose questions and answers must be empty), taking the strings for
/// names from `spare` while it has any.
fn parse_inner(
    msg: &[u8],
    lenient: bool,
    m: &mut DnsMessage,
    spare: &mut Vec<String>,
) -> Result<(), DnsError> {
    let Some(header) = msg.first_chunk::<HEADER_LEN>() else {
        return Err(DnsError::TooShort { len: msg.len() });
    };
    // `header` is a [u8; 12] and `i` is at most 6 below: the indexing cannot panic.
    let word = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let flags = word(2);
    let qdcount = word(4);
    let ancount = word(6);
    m.id = word(0);
    m.is_response = flags & 0x8000 != 0;
    m.rcode = (flags & 0x000f) as u8;
    m.truncated = flags & 0x0200 != 0;
    debug_assert!(m.questions.is_empty() && m.answers.is_empty());
    let mut pos = HEADER_LEN;
    // A name's string: a spare one, or a new one big enough for most names.
    let mut fresh = || spare.pop().unwrap_or_else(|| String::with_capacity(48));
    // Every question consumes at least 5 bytes, so this loop is bounded by the data.
    for _ in 0..qdcount {
        match read_question(msg, pos, fresh()) {
            Ok((q, end)) => {
                if m.questions.len() < MAX_QUESTIONS {
                    m.questions.push(q);
                }
                pos = end;
            }
            Err(Short) if lenient => {
                m.truncated = true;
                return Ok(());
            }
            Err(Short) => {
                return Err(DnsError::Truncated {
                    section: Section::Question,
                    offset: pos,
                })
            }
            Err(Bad(e)) => return Err(e),
        }
    }
    for _ in 0..usize::from(ancount).min(MAX_ANSWERS) {
        match read_record(msg, pos, &mut fresh) {
            Ok((r, end)) => {
                m.answers.push(r);
                pos = end;
            }
            Err(Short) if lenient => {
                m.truncated = true;
                return Ok(());
            }
            Err(Short) => {
                return Err(DnsError::Truncated {
                    section: Section::Answer,
                    offset: pos,
                })
            }
            Err(Bad(e)) => return Err(e),
        }
    }
    Ok(())
}

fn be16(msg: &[u8], pos: usize) -> Result<u16, Fail> {
    match msg.get(pos..pos + 2) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(Short),
    }
}

fn read_question(msg: &[u8], pos: usize, mut name: String) -> Result<(DnsQuestion, usize), Fail> {
    let end = read_name(msg, pos, &mut name)?;
    let qtype = be16(msg, end)?;
    be16(msg, end + 2)?; // qclass, not kept
    Ok((DnsQuestion { name, qtype }, end + 4))
}

fn read_record(
    msg: &[u8],
    pos: usize,
    fresh: &mut impl FnMut() -> String,
) -> Result<(DnsRecord, usize), Fail> {
    let mut name = fresh();
    let end = read_name(msg, pos, &mut name)?;
    let rtype = be16(msg, end)?;
    let ttl = match msg.get(end + 4..end + 8) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => return Err(Short),
    };
    let rdlength = be16(msg, end + 8)?;
    let start = end + 10;
    let rdata_end = start + usize::from(rdlength);
    let Some(rdata) = msg.get(start..rdata_end) else {
        return Err(Short);
    };
    let bad = || {
        Bad(DnsError::BadRecordData {
            offset: start,
            rtype,
            rdlength,
        })
    };
    let data = match rtype {
        TYPE_A => DnsData::A(Ipv4Addr::from(
            <[u8; 4]>::try_from(rdata).map_err(|_| bad())?,
        )),
        TYPE_AAAA => DnsData::Aaaa(Ipv6Addr::from(
            <[u8; 16]>::try_from(rdata).map_err(|_| bad())?,
        )),
        TYPE_CNAME => {
            // The name must lie within the record data (its pointers may reach anywhere
            // before it in the message). Slicing cannot panic: `get(start..rdata_end)`
            // succeeded above.
            let mut target = fresh();
            let target_end =
                read_name(&msg[..rdata_end], start, &mut target).map_err(|e| match e {
                    Short => bad(),
                    other => other,
                })?;
            if target_end != rdata_end {
                return Err(bad());
            }
            DnsData::Cname(target)
        }
        other => DnsData::Other(other),
    };
    Ok((DnsRecord { name, ttl, data }, rdata_end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Appends an uncompressed name.
    fn name(out: &mut Vec<u8>, n: &str) {
        for label in n.split('.').filter(|l| !l.is_empty()) {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }

    fn header(id: u16, flags: u16, qd: u16, an: u16) -> Vec<u8> {
        let mut m = Vec::new();
        for w in [id, flags, qd, an, 0, 0] {
            m.extend_from_slice(&w.to_be_bytes());
        }
        m
    }

    /// Appends a record header (type, class IN, ttl, rdlength) after its owner name.
    fn rr(out: &mut Vec<u8>, rtype: u16, ttl: u32, rdlen: u16) {
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&rdlen.to_be_bytes());
    }

    /// A response to `www.Skype.com A`: www.skype.com CNAME x.akadns.com (compressed:
    /// "x.akadns" + pointer to "com" of the question), then x.akadns.com A 1.2.3.4 and
    /// x.akadns.com AAAA 2001:db8::1, both owner names as pointers to the CNAME's data.
    fn skype_response() -> Vec<u8> {
        let mut m = header(0xbeef, 0x8180, 1, 3);
        name(&mut m, "www.Skype.com");
        m.extend_from_slice(&[0, 1, 0, 1]);
        // answer 1: pointer to the question name (offset 12)
        m.extend_from_slice(&[0xc0, 12]);
        rr(&mut m, TYPE_CNAME, 300, 11);
        let cname_at = m.len();
        m.extend_from_slice(b"\x01x\x06akadns");
        m.extend_from_slice(&[0xc0, 12 + 4 + 6]); // the "com" label of the question
                                                  // answer 2
        m.extend_from_slice(&[0xc0, cname_at as u8]);
        rr(&mut m, TYPE_A, 20, 4);
        m.extend_from_slice(&[1, 2, 3, 4]);
        // answer 3
        m.extend_from_slice(&[0xc0, cname_at as u8]);
        rr(&mut m, TYPE_AAAA, 20, 16);
        m.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        m
    }

    #[test]
    fn parses_compressed_cname_chain() {
        let m = parse(&skype_response()).unwrap();
        assert_eq!(m.id, 0xbeef);
        assert!(m.is_response);
        assert_eq!(m.rcode, 0);
        assert!(!m.truncated);
        assert_eq!(
            m.questions,
            vec![DnsQuestion {
                name: "www.skype.com".into(),
                qtype: 1
            }]
        );
        assert_eq!(m.answers.len(), 3);
        assert_eq!(m.answers[0].name, "www.skype.com");
        assert_eq!(m.answers[0].ttl, 300);
        assert_eq!(m.answers[0].data, DnsData::Cname("x.akadns.com".into()));
        assert_eq!(m.answers[1].name, "x.akadns.com");
        assert_eq!(m.answers[1].data, DnsData::A(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(m.answers[2].name, "x.akadns.com");
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(m.answers[2].data, DnsData::Aaaa(v6));
        let res: Vec<_> = m.resolutions().collect();
        let v4 = IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(
            res,
            vec![
                ("x.akadns.com", v4),
                ("www.skype.com", v4),
                ("x.akadns.com", IpAddr::V6(v6)),
                ("www.skype.com", IpAddr::V6(v6)),
            ]
        );
    }

    #[test]
    fn tcp_framing() {
        let msg = skype_response();
        let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&msg);
        framed.extend_from_slice(b"next message");
        let m = parse_tcp(&framed).unwrap();
        assert_eq!(m, parse(&msg).unwrap());
        // Cut inside the last answer: the first two are kept.
        let cut = &framed[..framed.len() - 12 - 10];
        let m = parse_tcp(cut).unwrap();
        assert!(m.truncated);
        assert_eq!(m.answers.len(), 2);
        assert_eq!(parse_tcp(&[0]), Err(DnsError::TooShort { len: 1 }));
    }

    #[test]
    fn truncated_sections() {
        let msg = skype_response();
        let cut = &msg[..msg.len() - 3];
        assert!(matches!(
            parse(cut),
            Err(DnsError::Truncated {
                section: Section::Answer,
                ..
            })
        ));
        let p = parse_partial(cut).unwrap();
        assert!(p.truncated);
        assert_eq!(p.answers.len(), 2);
        let cut = &msg[..20];
        assert_eq!(
            parse(cut),
            Err(DnsError::Truncated {
                section: Section::Question,
                offset: 12
            })
        );
        let p = parse_partial(cut).unwrap();
        assert!(p.truncated && p.questions.is_empty());
        assert_eq!(parse(&msg[..11]), Err(DnsError::TooShort { len: 11 }));
    }

    #[test]
    fn header_fields_and_tc_bit() {
        // A query with TC set and NXDOMAIN rcode (odd for a query, but the bits are read).
        let mut m = header(7, 0x0203, 1, 0);
        name(&mut m, "EXAMPLE.org.");
        m.extend_from_slice(&[0, 28, 0, 1]);
        let p = parse(&m).unwrap();
        assert!(!p.is_response && p.truncated);
        assert_eq!(p.rcode, 3);
        assert_eq!(p.questions[0].name, "example.org");
        assert_eq!(p.questions[0].qtype, 28);
    }

    #[test]
    fn huge_counts_little_data() {
        let mut m = header(1, 0x8000, 0xffff, 0xffff);
        name(&mut m, "a.b");
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert!(matches!(
            parse(&m),
            Err(DnsError::Truncated {
                section: Section::Question,
                ..
            })
        ));
        let p = parse_partial(&m).unwrap();
        assert_eq!(p.questions.len(), 1);
        assert!(p.truncated);
    }

    #[test]
    fn question_and_answer_caps() {
        let mut m = header(1, 0x8000, 100, 100);
        for _ in 0..100 {
            m.extend_from_slice(&[0, 0, 1, 0, 1]);
        }
        for i in 0..100u8 {
            m.push(0);
            rr(&mut m, TYPE_A, 1, 4);
            m.extend_from_slice(&[10, 0, 0, i]);
        }
        let p = parse(&m).unwrap();
        assert_eq!(p.questions.len(), MAX_QUESTIONS);
        assert_eq!(p.answers.len(), MAX_ANSWERS);
        assert_eq!(p.answers[0].data, DnsData::A(Ipv4Addr::new(10, 0, 0, 0)));
    }

    #[test]
    fn bad_record_data_and_other_types() {
        let mut m = header(1, 0x8000, 0, 2);
        m.push(0);
        rr(&mut m, 16, 5, 3); // TXT
        m.extend_from_slice(b"\x02hi");
        m.push(0);
        rr(&mut m, TYPE_A, 5, 3);
        m.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            parse(&m),
            Err(DnsError::BadRecordData {
                offset: m.len() - 3,
                rtype: 1,
                rdlength: 3
            })
        );
        m.truncate(m.len() - 3 - 11);
        m[7] = 1;
        let p = parse(&m).unwrap();
        assert_eq!(p.answers[0].data, DnsData::Other(16));
    }

    #[test]
    fn cname_cycle_ends() {
        let mut m = header(1, 0x8000, 0, 3);
        for (owner, target) in [("a", "b"), ("b", "a")] {
            name(&mut m, owner);
            rr(&mut m, TYPE_CNAME, 1, 3);
            name(&mut m, target);
        }
        name(&mut m, "a");
        rr(&mut m, TYPE_A, 1, 4);
        m.extend_from_slice(&[9, 9, 9, 9]);
        let p = parse(&m).unwrap();
        let names: Vec<&str> = p.resolutions().map(|(n, _)| n).collect();
        assert_eq!(names, vec!["a", "b"]);
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse(&data);
            let _ = parse_partial(&data);
            let _ = parse_tcp(&data);
        }

        #[test]
        fn any_header_with_names_never_panic(
            tail in proptest::collection::vec(any::<u8>(), 0..300),
            qd in 0u16..4, an in 0u16..8,
        ) {
            // A plausible header makes the random bytes reach the name and record code.
            let mut m = header(1, 0x8000, qd, an);
            m.extend_from_slice(&tail);
            if let Ok(p) = parse_partial(&m) {
                prop_assert!(p.questions.len() <= usize::from(qd));
                let _ = p.resolutions().count();
            }
        }

        #[test]
        fn every_truncation_is_handled(cut in 0usize..200) {
            let msg = skype_response();
            let cut = cut.min(msg.len());
            let part = &msg[..cut];
            if cut < msg.len() {
                prop_assert!(parse(part).is_err());
            }
            if cut >= HEADER_LEN {
                let p = parse_partial(part).unwrap();
                prop_assert_eq!(p.truncated, cut < msg.len());
            }
        }

        /// A parser that reuses the strings of the messages before gives exactly what the
        /// one-shot functions give, whatever came before (good messages, cut ones, garbage).
        #[test]
        fn a_reused_parser_equals_a_fresh_one(
            inputs in proptest::collection::vec(
                (0usize..4, 0usize..200, proptest::collection::vec(any::<u8>(), 0..40)),
                1..12,
            )
        ) {
            let mut parser = Parser::new();
            for (kind, cut, junk) in inputs {
                let mut msg = match kind {
                    0 => skype_response(),
                    1 => {
                        let mut m = header(7, 0, 2, 0);
                        name(&mut m, "A.Very.Long.Name.Of.Many.Labels.example");
                        m.extend_from_slice(&[0, 1, 0, 1]);
                        name(&mut m, "b.example");
                        m.extend_from_slice(&[0, 28, 0, 1]);
                        m
                    }
                    2 => header(1, 0x8000, 1, 3),
                    _ => Vec::new(),
                };
                msg.truncate(cut.max(HEADER_LEN).min(msg.len()));
                msg.extend_from_slice(&junk);
                prop_assert_eq!(parser.parse(&msg).cloned(), parse(&msg));
                let mut tcp = (msg.len() as u16).to_be_bytes().to_vec();
                tcp.extend_from_slice(&msg[..msg.len() / 2]);
                prop_assert_eq!(parser.parse_tcp(&tcp).cloned(), parse_tcp(&tcp));
            }
        }
    }
}
