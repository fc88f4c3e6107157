//! Stage 6, report: JSON rendering. The report model serialised with serde_json, pretty and
//! with a final newline; field order is the model's, arrays are sorted by the model.

use std::io::{self, Write};

use super::Report;

/// Writes `report` as pretty JSON.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
