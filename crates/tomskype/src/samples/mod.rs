//! Sample captures with known answers, made by a deterministic generator.
//!
//! There are no public captures of TOM-Skype, so the project makes realistic ones: each
//! scenario simulates hosts whose client is known (the ground truth, never derived from the
//! classifier) and writes their traffic as real packets (checksums right, TCP handshakes and
//! teardowns, DNS/TLS/HTTP built field by field) into pcap, pcapng or gzip-compressed pcap,
//! over several link types and with the container's awkward cases (big-endian, nanosecond
//! stamps, snaplen, a record cut off). Every run makes the same bytes: a fixed-seed PRNG, no
//! clock, no hash-map order. `captures/` in the repository holds the output; regenerate it with
//! `cargo run --example make_samples`. This module is outside the analysis pipeline: it only
//! uses `capture::write`.

mod browsing;
#[cfg(test)]
mod idle_tests;
mod middleboxes;
mod other;
pub(crate) mod packets;
pub(crate) mod protocols;
mod proxy;
pub(crate) mod quic;
mod regular;
mod render;
mod sessions;
mod tcp;
mod tom;
mod traps;
#[cfg(test)]
mod trust_tests;
#[cfg(test)]
pub(crate) mod watch_tests;
pub(crate) mod wire;

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::capture::write::ByteOrder;
use packets::{Frame, Link, Trace};
use render::{output, render, Container, Output, PCAP_LE};

/// One generated capture and its ground truth.
#[derive(Debug, Clone)]
pub struct Sample {
    /// File name, with its extension (`.pcap`, `.pcapng` or `.pcap.gz`).
    pub file_name: String,
    /// What the scenario simulates, and which details are invented.
    pub description: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Host address -> label (`tom-skype`, `regular-skype`, `no-skype`, or `inconclusive` when
    /// the capture cannot show what the host runs): what a careful analyst would say of the
    /// simulated host. Client hosts are listed, and a router, forwarder or proxy when the
    /// scenario is about it; otherwise the LAN's router/resolver is not.
    pub expected: BTreeMap<String, String>,
}

impl Sample {
    /// File name of the expected-labels JSON beside the capture (`NAME.expected.json`).
    pub fn expected_file_name(&self) -> String {
        format!("{}.expected.json", stem(&self.file_name))
    }

    /// The expected-labels JSON: `{"description": ..., "hosts": {...}}`, pretty-printed with
    /// sorted keys and a trailing newline.
    pub fn expected_json(&self) -> String {
        #[derive(Serialize)]
        struct Expected<'a> {
            description: &'a str,
            hosts: &'a BTreeMap<String, String>,
        }
        let value = Expected {
            description: self.description,
            hosts: &self.expected,
        };
        // Serialising strings and a string map cannot fail.
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn stem(file_name: &str) -> &str {
    [".pcap.gz", ".pcapng", ".pcap"]
        .iter()
        .find_map(|ext| file_name.strip_suffix(ext))
        .unwrap_or(file_name)
}

/// A scenario's packets and ground truth, before a container is chosen.
pub(crate) struct Scenario {
    frames: Vec<Frame>,
    locals: BTreeMap<IpAddr, [u8; 6]>,
    description: &'static str,
    expected: Vec<(IpAddr, &'static str)>,
}

impl Scenario {
    pub(crate) fn new(
        trace: Trace,
        description: &'static str,
        expected: &[(IpAddr, &'static str)],
    ) -> Scenario {
        let (frames, locals) = trace.finish();
        Scenario {
            frames,
            locals,
            description,
            expected: expected.to_vec(),
        }
    }

    /// Keeps only the frames `keep` accepts, as a capture filter or a one-direction mirror
    /// port would. Applied after the trace is finished, so the kept packets carry the IP
    /// identification numbers their senders gave them (with the gaps a filter leaves).
    pub(crate) fn retain(mut self, keep: impl Fn(&Frame) -> bool) -> Scenario {
        self.frames.retain(|f| keep(f));
        self
    }
}

const DESC_SNAPLEN: &str = "The 2008 TOM-Skype Chinese-build scenario \
(tom-skype-cn-2008-keyword-upload) captured with snaplen 96: every packet is cut to 96 bytes \
(original lengths kept). What survives still shows it: the DNS answer for skypetools.tom.com \
fits whole, and the HTTP request line GET /agent/skypever.php?md5=nofile is visible though its \
headers are not. Response bodies and the upload path are invented, as in the full scenario.";

const DESC_TRUNCATED: &str = "The 2011 TOM-Skype login-beacon scenario \
(tom-skype-cn-2011-login-beacon), untagged Ethernet, little-endian, with the file cut off in the \
middle of its last packet record, as when a capture is killed mid-write. All the evidence comes \
before the cut, so the verdict is the scenario's; a reader should warn about the last record. \
The Skype id, the code and all response bodies are invented.";

fn outputs() -> Vec<(fn() -> Scenario, Output)> {
    use Link::{Ethernet, Pppoe, Raw, Sll2, Vlan};
    let mut snap = output(
        "tom-skype-cn-2008-keyword-upload-snaplen96",
        PCAP_LE,
        &[(Ethernet, "eth0")],
    );
    snap.snaplen = 96;
    snap.description = Some(DESC_SNAPLEN);
    let mut cut = output(
        "tom-skype-cn-2011-login-beacon-truncated",
        PCAP_LE,
        &[(Ethernet, "eth0")],
    );
    cut.truncate_last = true;
    cut.description = Some(DESC_TRUNCATED);
    let big = Container::Pcap {
        nanos: false,
        order: ByteOrder::Big,
    };
    let nanos = Container::Pcap {
        nanos: true,
        order: ByteOrder::Little,
    };
    vec![
        (
            tom::cn_2008_keyword_upload,
            output(
                "tom-skype-cn-2008-keyword-upload",
                PCAP_LE,
                &[(Ethernet, "eth0")],
            ),
        ),
        (tom::cn_2008_keyword_upload, snap),
        (
            tom::cn_2011_login_beacon,
            output("tom-skype-cn-2011-login-beacon", big, &[(Vlan(20), "eth0")]),
        ),
        (tom::cn_2011_login_beacon, cut),
        (
            tom::en_2012_servers_only,
            output("tom-skype-en-2012-servers-only", nanos, &[(Sll2, "any")]),
        ),
        (
            regular::servers_only_2012,
            output(
                "regular-skype-2012-servers-only",
                Container::PcapGz,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            regular::names_2015,
            output(
                "regular-skype-2015-names",
                Container::Pcapng,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            regular::with_chinese_sites,
            output(
                "regular-skype-with-chinese-sites",
                PCAP_LE,
                &[(Raw, "tun0")],
            ),
        ),
        (
            regular::p2p_china_peer,
            output(
                "regular-skype-p2p-china-peer",
                Container::Pcapng,
                &[(Ethernet, "eth0"), (Raw, "he-ipv6")],
            ),
        ),
        (
            other::no_skype_browsing,
            output("no-skype-browsing", PCAP_LE, &[(Ethernet, "eth0")]),
        ),
        (
            wire::tom_over_pppoe,
            output("tom-skype-over-pppoe", PCAP_LE, &[(Pppoe(0x1a2b), "eth0")]),
        ),
        (
            wire::regular_split_client_hello,
            output(
                "regular-skype-split-client-hello",
                Container::Pcapng,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            quic::regular_quic_only,
            output(
                "regular-skype-quic-only",
                Container::Pcapng,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            other::lan_several_hosts,
            output(
                "lan-several-hosts",
                Container::Pcapng,
                &[(Ethernet, "eth1")],
            ),
        ),
        (
            traps::browser_on_tom_skype_pages,
            output(
                "no-skype-browser-on-tom-skype-pages",
                PCAP_LE,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            middleboxes::tom_skype_behind_dns_forwarder,
            output(
                "tom-skype-behind-dns-forwarder",
                PCAP_LE,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            traps::inbound_only_mirror,
            output(
                "tom-skype-inbound-only-mirror",
                PCAP_LE,
                &[(Ethernet, "mirror0")],
            ),
        ),
        (
            middleboxes::skype_through_http_proxy,
            output(
                "regular-skype-through-http-proxy",
                PCAP_LE,
                &[(Ethernet, "eth0")],
            ),
        ),
        (
            traps::busy_host,
            output(
                "tom-skype-busy-host",
                Container::Pcapng,
                &[(Ethernet, "eth0")],
            ),
        ),
    ]
}

/// Every sample, generated afresh (the same bytes on every call).
pub fn all() -> Vec<Sample> {
    outputs()
        .into_iter()
        .map(|(make, out)| {
            let scenario = make();
            let bytes = render(&scenario, &out);
            let ext = match out.container {
                Container::Pcap { .. } => "pcap",
                Container::PcapGz => "pcap.gz",
                Container::Pcapng => "pcapng",
            };
            Sample {
                file_name: format!("{}.{ext}", out.stem),
                description: out.description.unwrap_or(scenario.description),
                bytes,
                expected: scenario
                    .expected
                    .iter()
                    .map(|(ip, label)| (ip.to_string(), (*label).to_string()))
                    .collect(),
            }
        })
        .collect()
}

/// Names (file stems) of all samples, in the order [`all`] returns them.
pub fn scenario_names() -> Vec<&'static str> {
    outputs().into_iter().map(|(_, out)| out.stem).collect()
}

/// Writes every sample and its `NAME.expected.json` into `dir` (created if missing); returns
/// the paths written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for sample in all() {
        let path = dir.join(&sample.file_name);
        std::fs::write(&path, &sample.bytes)?;
        written.push(path);
        let path = dir.join(sample.expected_file_name());
        std::fs::write(&path, sample.expected_json())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// (caplen, orig_len, data) of each record of a pcap in either byte order; the flag says
    /// whether the last record was cut short.
    type Records = Vec<(u32, u32, Vec<u8>)>;

    fn pcap_records(b: &[u8]) -> (u32, Records, bool) {
        let big = b[0..4] == [0xa1, 0xb2, 0xc3, 0xd4] || b[0..4] == [0xa1, 0xb2, 0x3c, 0x4d];
        let u32_at = |at: usize| {
            let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            if big {
                u32::from_be_bytes(w)
            } else {
                u32::from_le_bytes(w)
            }
        };
        let link = u32_at(20);
        let mut at = 24;
        let mut out = Vec::new();
        while at + 16 <= b.len() {
            let (cap, orig) = (u32_at(at + 8), u32_at(at + 12));
            let end = at + 16 + cap as usize;
            if end > b.len() {
                return (link, out, true);
            }
            out.push((cap, orig, b[at + 16..end].to_vec()));
            at = end;
        }
        (link, out, at != b.len())
    }

    #[test]
    fn every_format_case_appears() {
        let all = all();
        let find = |stem: &str| {
            all.iter()
                .find(|s| s.file_name.starts_with(stem))
                .expect("sample exists")
        };

        let big = find("tom-skype-cn-2011-login-beacon.pcap");
        assert_eq!(&big.bytes[0..4], &[0xa1, 0xb2, 0xc3, 0xd4]);
        let (link, recs, cut) = pcap_records(&big.bytes);
        assert_eq!((link, cut), (1, false));
        assert!(recs
            .iter()
            .all(|(_, _, d)| d[12..14] == [0x81, 0x00] && d[14..16] == [0, 20]));

        let cut_file = find("tom-skype-cn-2011-login-beacon-truncated");
        let (_, recs, cut) = pcap_records(&cut_file.bytes);
        assert!(cut, "the last record is cut short");
        assert_eq!(recs.len() + 1, pcap_records(&big.bytes).1.len());

        let snap = find("tom-skype-cn-2008-keyword-upload-snaplen96");
        let (_, recs, _) = pcap_records(&snap.bytes);
        assert!(recs.iter().all(|(cap, orig, _)| *cap <= 96 && orig >= cap));
        assert!(recs.iter().any(|(cap, orig, _)| orig > cap));
        let dns_answer = recs
            .iter()
            .any(|(cap, orig, d)| cap == orig && d.windows(4).any(|w| w == [211, 100, 40, 173]));
        assert!(dns_answer, "the DNS answer survives the snaplen whole");

        let nanos = find("tom-skype-en-2012-servers-only");
        assert_eq!(&nanos.bytes[0..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(pcap_records(&nanos.bytes).0, 276);

        let gz = find("regular-skype-2012-servers-only");
        assert!(gz.file_name.ends_with(".pcap.gz"));
        assert_eq!(&gz.bytes[0..3], &[0x1f, 0x8b, 0x08]);
        assert_eq!(&gz.bytes[4..8], &[0, 0, 0, 0], "gzip mtime is zero");
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gz.bytes[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert!(!pcap_records(&plain).1.is_empty());

        let raw = find("regular-skype-with-chinese-sites");
        let (link, recs, _) = pcap_records(&raw.bytes);
        assert_eq!(link, 101);
        assert!(recs.iter().all(|(_, _, d)| d[0] >> 4 == 4));

        // pcapng with two interfaces of different link types, and IPv6 on the second.
        let two = find("regular-skype-p2p-china-peer");
        let b = &two.bytes;
        let mut idb_links = Vec::new();
        let mut at = 0;
        while at + 12 <= b.len() {
            let len = u32::from_le_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]) as usize;
            if b[at..at + 4] == [1, 0, 0, 0] {
                idb_links.push(u16::from_le_bytes([b[at + 8], b[at + 9]]));
            }
            at += len;
        }
        assert_eq!(idb_links, vec![1, 101]);
        assert!(
            two.expected.keys().any(|h| h.contains(':')),
            "an IPv6 host is labelled"
        );
    }

    #[test]
    fn names_are_unique_and_kebab_case() {
        let names = scenario_names();
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| n
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')));
    }
}
