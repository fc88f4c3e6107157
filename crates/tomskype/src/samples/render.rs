//! Sample generator: writing a scenario into its container. Frames each packet for its
//! interface's link type, cuts it to the snaplen, and writes pcap (either byte order, micro- or
//! nanosecond stamps, optionally with the last record cut in half), pcapng (one interface block
//! per link) or gzip-compressed pcap with a zero mtime, so the bytes never depend on the clock.

use std::io::{self, Write};

use flate2::{Compression, GzBuilder};

use super::packets::{frame_bytes, Link};
use super::Scenario;
use crate::capture::write::{ByteOrder, PcapWriter, PcapngWriter};

/// The container a sample is written in.
#[derive(Debug, Clone, Copy)]
pub(super) enum Container {
    /// Classic pcap with micro- or nanosecond stamps in either byte order.
    Pcap { nanos: bool, order: ByteOrder },
    /// Classic pcap (microseconds, little-endian), gzip-compressed.
    PcapGz,
    /// pcapng, one interface block per link.
    Pcapng,
}

/// How one sample file is made from a scenario.
pub(super) struct Output {
    pub(super) stem: &'static str,
    pub(super) container: Container,
    /// Link type (and pcapng interface name) per interface; pcap uses the first.
    pub(super) links: &'static [(Link, &'static str)],
    pub(super) snaplen: u32,
    /// Cut the last record's data in half, as a capture killed mid-write.
    pub(super) truncate_last: bool,
    /// Replaces the scenario's description (for variants).
    pub(super) description: Option<&'static str>,
}

/// Classic pcap, microseconds, little-endian.
pub(super) const PCAP_LE: Container = Container::Pcap {
    nanos: false,
    order: ByteOrder::Little,
};
/// A snaplen that keeps every packet whole.
const FULL: u32 = 65535;

/// An output with the whole packets and the scenario's own description.
pub(super) fn output(
    stem: &'static str,
    container: Container,
    links: &'static [(Link, &'static str)],
) -> Output {
    Output {
        stem,
        container,
        links,
        snaplen: FULL,
        truncate_last: false,
        description: None,
    }
}

/// The bytes of the sample file `out` makes from `scenario`.
pub(super) fn render(scenario: &Scenario, out: &Output) -> Vec<u8> {
    // Writing into a Vec cannot fail, and every timestamp and length is in range, so the
    // writers' errors cannot happen here; an empty file would make the reproducibility test fail.
    render_into(scenario, out).unwrap_or_default()
}

fn render_into(scenario: &Scenario, out: &Output) -> io::Result<Vec<u8>> {
    let records: Vec<(usize, i64, u32, Vec<u8>)> = scenario
        .frames
        .iter()
        .map(|f| {
            let (link, _) = out.links.get(f.iface).copied().unwrap_or((Link::Raw, ""));
            let mut data = frame_bytes(link, f, &scenario.locals);
            let orig = data.len() as u32;
            data.truncate(out.snaplen as usize);
            (f.iface, f.ts, orig, data)
        })
        .collect();
    let pcap = match out.container {
        Container::Pcap { nanos, order } => Some((nanos, order)),
        Container::PcapGz => Some((false, ByteOrder::Little)),
        Container::Pcapng => None,
    };
    let mut bytes = if let Some((nanos, order)) = pcap {
        let link = out.links.first().map_or(Link::Ethernet, |l| l.0);
        let mut w =
            PcapWriter::with_byte_order(Vec::new(), link.link_type(), out.snaplen, nanos, order)?;
        // Offset of the last record: the 24-byte file header, then 16 bytes + data per record.
        let mut last_start = 24;
        let mut offset = 24;
        for (_, ts, orig, data) in &records {
            last_start = offset;
            offset += 16 + data.len();
            w.write_packet(*ts, *orig, data)?;
        }
        let mut bytes = w.into_inner();
        if out.truncate_last {
            if let Some((_, _, _, data)) = records.last() {
                bytes.truncate(last_start + 16 + data.len() / 2);
            }
        }
        bytes
    } else {
        let mut w = PcapngWriter::new(Vec::new())?;
        for (link, name) in out.links {
            w.add_interface(link.link_type(), out.snaplen, Some(name), false)?;
        }
        for (iface, ts, orig, data) in &records {
            w.write_packet(*iface as u32, *ts, *orig, data)?;
        }
        w.into_inner()
    };
    if let Container::PcapGz = out.container {
        let mut gz = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Vec::new(), Compression::best());
        gz.write_all(&bytes)?;
        bytes = gz.finish()?;
    }
    Ok(bytes)
}
