//! Export of the indicator set for other engines and scripts (`tomskype export`,
//! `tomskype indicators`). Reads the indicator set ([`crate::knowledge::indicators`]); writes
//! text: a Zeek Intel file (`zeek_intel`), Suricata rules (`suricata`), CSV (`csv`), and here
//! JSON and the listing for people.

pub mod csv;
pub mod suricata;
pub mod zeek_intel;

use std::io::{self, Write};

use serde::Serialize;

use crate::knowledge::indicators::{Indicator, IndicatorSet, SetInfo};
use crate::report::schema::{json, Json};
use crate::textsafe::{Safe, SafeDisplay};

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
    #[serde(serialize_with = "json")]
    set: SetInfo,
    sources: &'a std::collections::BTreeMap<String, String>,
    indicators: Json<'a, [Indicator]>,
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
                indicators: Json(&set.indicators),
            };
            // Keeps the error's kind: a closed pipe (`| head -1`) must stay recognisable.
            crate::textsafe::write_json_pretty(&mut *out, &doc)?;
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
        Safe(&info.versions.join(" + ")),
        info.count,
        info.sha256
    )?;
    for i in &set.indicators {
        let valid = if i.valid.is_always() {
            String::new()
        } else {
            format!(", only in {}", i.valid)
        };
        writeln!(
            out,
            "\n{} ({}): {}",
            Safe(&i.id),
            i.role.meaning(),
            Safe(&i.description)
        )?;
        writeln!(
            out,
            "  matches {} · weight {}{valid} · source {}",
            SafeDisplay(&i.matcher),
            i.weight,
            Safe(&i.source)
        )?;
    }
    writeln!(out, "\nsources:")?;
    for (k, v) in &set.sources {
        writeln!(out, "  {}: {}", Safe(k), Safe(v))?;
    }
    Ok(())
}
