//! Stage 6, report: JSON renderings. `--format json` is the report model serialised with
//! serde_json (the stages' facts in it as [`super::schema`] writes them), pretty, with a final
//! newline; field order is the model's, arrays are sorted by the model. Machines with no sign of Skype are counted (`quiet_hosts`), not listed, unless
//! `--all-hosts` asks for them: a capture of a big network has hundreds of thousands.
//! `--format jsonl` streams the same content one object a line for pipelines: a header (schema,
//! tool, knowledge), one line per host, a footer (inputs, sources, totals). While a stream or a
//! live capture is read, the header comes first, before reading, and a `verdict-changed` line
//! tells each host whose verdict changes as it changes ([`write_change`]), before the hosts'
//! final lines. Strings are exact;
//! control, bidi and format characters in them are written as `\uXXXX` escapes
//! ([`crate::textsafe::write_json_pretty`]) so the output is safe to print too.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::model::{InputReport, MemoryReport, ToolInfo, Totals};
use super::schema::Json;
use super::{HostReport, Report};
use crate::classify::Label;
use crate::knowledge::geoip::GeoIpInfo;
use crate::knowledge::indicators::SetInfo;

/// The report as written: the hosts chosen, the others counted.
#[derive(Serialize)]
struct View<'r> {
    schema: &'static str,
    tool: &'r ToolInfo,
    indicators: Json<'r, SetInfo>,
    geoip: Json<'r, GeoIpInfo>,
    inputs: &'r [InputReport],
    hosts: Vec<&'r HostReport>,
    quiet_hosts: usize,
    sources: &'r BTreeMap<String, String>,
    totals: &'r Totals,
    #[serde(skip_serializing_if = "MemoryReport::is_empty")]
    memory: &'r MemoryReport,
}

fn view(report: &Report, all_hosts: bool) -> View<'_> {
    let hosts: Vec<&HostReport> = report
        .hosts
        .iter()
        .filter(|h| all_hosts || h.has_sign())
        .collect();
    View {
        schema: report.schema,
        tool: &report.tool,
        indicators: Json(&report.indicators),
        geoip: Json(&report.geoip),
        inputs: &report.inputs,
        quiet_hosts: report.host_count() - hosts.len(),
        hosts,
        sources: &report.sources,
        totals: &report.totals,
        memory: &report.memory,
    }
}

/// Writes `report` as pretty JSON, through a buffer: serde_json writes a few bytes at a time,
/// and a locked stdout flushes at every newline, which made one system call per line.
/// `all_hosts` lists the hosts with no sign too.
pub fn write(report: &Report, out: &mut dyn Write, all_hosts: bool) -> io::Result<()> {
    let mut buf = io::BufWriter::with_capacity(1 << 16, out);
    // Keeps the error's kind (a closed pipe must stay recognisable as one).
    crate::textsafe::write_json_pretty(&mut buf, &view(report, all_hosts))?;
    buf.write_all(b"\n")?;
    buf.flush()
}

/// One line of `--format jsonl`.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Line<'r> {
    Header {
        schema: &'static str,
        tool: &'r ToolInfo,
        indicators: Json<'r, SetInfo>,
        geoip: Json<'r, GeoIpInfo>,
    },
    Host(&'r HostReport),
    VerdictChanged {
        /// Capture time of the look that saw it.
        at: String,
        /// The label told before.
        was: Json<'r, Label>,
        /// The host as it stood then.
        host: &'r HostReport,
    },
    Footer {
        inputs: &'r [InputReport],
        quiet_hosts: usize,
        sources: &'r BTreeMap<String, String>,
        totals: &'r Totals,
        #[serde(skip_serializing_if = "MemoryReport::is_empty")]
        memory: &'r MemoryReport,
    },
}

/// Writes the header line of `--format jsonl` on its own, before the input is read (then
/// [`write_lines`] is told not to write it again): it says what the knowledge is, from
/// `indicators` and `geoip`, as the report will.
pub fn write_header(
    indicators: &SetInfo,
    geoip: &GeoIpInfo,
    out: &mut dyn Write,
) -> io::Result<()> {
    let header = Line::Header {
        schema: super::model::SCHEMA,
        tool: &ToolInfo::default(),
        indicators: Json(indicators),
        geoip: Json(geoip),
    };
    write_line(out, &header)
}

/// Writes a `verdict-changed` line: `host` as it stood at capture time `at_ns`, when its label
/// stopped being `was`. Flushed, so that a reader sees it at once.
pub fn write_change(
    at_ns: i64,
    was: Label,
    host: &HostReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let line = Line::VerdictChanged {
        at: crate::timefmt::rfc3339(at_ns),
        was: Json(&was),
        host,
    };
    write_line(out, &line)?;
    out.flush()
}

/// One line and its newline.
fn write_line(out: &mut dyn Write, line: &Line<'_>) -> io::Result<()> {
    crate::textsafe::write_json_compact(&mut *out, line)?;
    out.write_all(b"\n")
}

/// Writes `report` as JSON lines: a header (unless `header` says it was written already, by
/// [`write_header`]), one line per host (with a sign, or every host with `all_hosts`), a footer.
pub fn write_lines(
    report: &Report,
    out: &mut dyn Write,
    all_hosts: bool,
    header: bool,
) -> io::Result<()> {
    let v = view(report, all_hosts);
    let mut buf = io::BufWriter::with_capacity(1 << 16, out);
    let first = Line::Header {
        schema: v.schema,
        tool: v.tool,
        indicators: v.indicators,
        geoip: v.geoip,
    };
    let footer = Line::Footer {
        inputs: v.inputs,
        quiet_hosts: v.quiet_hosts,
        sources: v.sources,
        totals: v.totals,
        memory: v.memory,
    };
    let lines = std::iter::once(first)
        .filter(|_| header)
        .chain(v.hosts.iter().map(|h| Line::Host(h)))
        .chain(std::iter::once(footer));
    for line in lines {
        write_line(&mut buf, &line)?;
    }
    buf.flush()
}
