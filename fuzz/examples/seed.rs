//! Writes seed corpora for the fuzz targets from capture files, using the project's own
//! reader and decoder: whole files for `capture_read`, link-type-tagged frames for
//! `decode_packet`, the DNS, TLS and HTTP payloads for `dns`, `tls` and `http`, QUIC Initial
//! datagrams for `quic` (behind its one-byte header) and UDP payloads that look like Skype's or
//! STUN, and TCP payloads with a shape of Skype's classic TCP openings, for `skype` (behind
//! their ports).
//!
//! Usage: `cargo run --example seed -- OUT_DIR CAPTURE...` (OUT_DIR gets one folder per
//! target; files are named by a hash of their content, so reruns do not duplicate them).

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use tomskype::capture::{self, Packet};
use tomskype::decode::{self, dns, http, quic, skype, tls};

const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
/// At most this many seeds per target and per capture, so that one big capture does not
/// fill a corpus with near-copies.
const PER_FILE: usize = 40;

fn write_seed(dir: &Path, bytes: &[u8]) {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    let path = dir.join(format!("{:016x}", h.finish()));
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("seed: {}: {e}", path.display());
    }
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((out, inputs)) = args.split_first() else {
        eprintln!("usage: seed OUT_DIR CAPTURE...");
        std::process::exit(2);
    };
    let targets = ["decode_packet", "dns", "tls", "http", "quic", "skype"];
    for t in targets {
        if let Err(e) = std::fs::create_dir_all(out.join(t)) {
            eprintln!("seed: {}: {e}", out.join(t).display());
            std::process::exit(2);
        }
    }
    let mut totals: HashMap<&str, usize> = HashMap::new();
    let mut unreadable = 0usize;
    for input in inputs {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut sink = |p: &Packet<'_>| {
            let mut put = |target: &'static str, bytes: &[u8]| {
                let n = counts.entry(target).or_default();
                if *n < PER_FILE {
                    *n += 1;
                    write_seed(&out.join(target), bytes);
                }
            };
            if let Some(i) = LINK_TYPES.iter().position(|&l| l == p.link_type) {
                let mut frame = vec![i as u8];
                frame.extend_from_slice(p.data);
                put("decode_packet", &frame);
            }
            let Ok(d) = decode::decode(p.link_type, p.data) else {
                return;
            };
            let payload = d.payload;
            if payload.is_empty() {
                return;
            }
            let dns_port =
                [53, 5353, 5355].contains(&d.sport) || [53, 5353, 5355].contains(&d.dport);
            let skype_tcp = d.proto == decode::proto::TCP
                && !matches!(
                    skype::tcp_shape(payload),
                    skype::TcpShape::Other | skype::TcpShape::Tls
                );
            if dns_port && (dns::parse(payload).is_ok() || dns::parse_tcp(payload).is_ok()) {
                put("dns", payload);
            } else if skype_tcp {
                let ports = [d.sport.to_be_bytes(), d.dport.to_be_bytes()].concat();
                put("skype", &[&ports[..], payload].concat());
            } else if tls::looks_like_tls_handshake(payload) {
                put("tls", payload);
            } else if http::looks_like_request(payload) {
                put("http", payload);
            } else if d.proto == decode::proto::UDP && quic::looks_like_initial(payload) {
                put("quic", &[&[0u8][..], payload].concat());
            } else if d.proto == decode::proto::UDP
                && (skype::udp(d.sport, d.dport, payload).is_some()
                    || payload.get(4..8) == Some(&[0x21, 0x12, 0xa4, 0x42][..]))
            {
                let ports = [d.sport.to_be_bytes(), d.dport.to_be_bytes()].concat();
                put("skype", &[&ports[..], payload].concat());
            }
        };
        let summary = capture::read_path(input, &mut sink);
        for (k, v) in counts {
            *totals.entry(k).or_default() += v;
        }
        if summary.unreadable {
            unreadable += 1;
        }
    }
    println!(
        "{} inputs, {unreadable} not captures (skipped)",
        inputs.len()
    );
    let mut totals: Vec<_> = totals.into_iter().collect();
    totals.sort();
    for (t, n) in totals {
        println!("{t}: {n} seeds");
    }
}
