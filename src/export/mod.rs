//! Export of the indicator set for other engines and scripts (`tomskype export`,
//! `tomskype indicators`). Reads the enrich stage's indicator set; writes text: a Zeek Intel
//! file (`zeek_intel`), Suricata rules (`suricata`), CSV (`csv`), and here JSON and the
//! listing for people.

pub mod csv;
pub mod suricata;
pub mod zeek_intel;

use std::io::{self, Write};

use serde::Serialize;

use crate::enrich::indicators::{Indicator, IndicatorSet, SetInfo};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Zeek Intel framework file.
    ZeekIntel,
    /// Suricata rules.
    Suricata,
    /// CSV.
    Csv,
    /// JSON.
    Json,
}

/// Version of the JSON of `tomskype indicators --format json` and `export --format json`.
pub const SCHEMA: &str = "tomskype-indicators/1";

#[derive(Serialize)]
struct JsonExport<'a> {
    schema: &'static str,
    set: SetInfo,
    sources: &'a std::collections::BTreeMap<String, String>,
    indicators: &'a [Indicator],
}

/// Writes the set in `format`; `sid_base` is the first Suricata rule id.
pub fn write(
    set: &IndicatorSet,
    format: Format,
    sid_base: u32,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::ZeekIntel => zeek_intel::write(set, out),
        Format::Suricata => suricata::write(set, sid_base, out),
        Format::Csv => csv::write(set, out),
        Format::Json => {
            let doc = JsonExport {
                schema: SCHEMA,
                set: set.info(),
                sources: &set.sources,
                indicators: &set.indicators,
            };
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
    }
}

/// Lists the set for people: one indicator a line, then the sources.
pub fn write_listing(set: &IndicatorSet, out: &mut dyn Write) -> io::Result<()> {
    let info = set.info();
    writeln!(
        out,
        "indicator set {} ({} indicators, sha256 {})",
        info.versions.join(" + "),
        info.count,
        info.sha256
    )?;
    for i in &set.indicators {
        let valid = if i.valid.is_always() {
            String::new()
        } else {
            format!(", only in {}", i.valid)
        };
        writeln!(out, "\n{} ({}): {}", i.id, i.role.meaning(), i.description)?;
        writeln!(
            out,
            "  matches {} · weight {}{valid} · source {}",
            i.matcher, i.weight, i.source
        )?;
    }
    writeln!(out, "\nsources:")?;
    for (k, v) in &set.sources {
        writeln!(out, "  {k}: {v}")?;
    }
    Ok(())
}
