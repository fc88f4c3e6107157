//! Stage 6, report: JSON rendering. The report model serialised with serde_json, pretty and
//! with a final newline; field order is the model's, arrays are sorted by the model.

use std::io::{self, Write};

use super::Report;

/// Writes `report` as pretty JSON, through a buffer: serde_json writes a few bytes at a time,
/// and a locked stdout flushes at every newline, which made one system call per line.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buf, report).map_err(io::Error::other)?;
    buf.write_all(b"\n")?;
    buf.flush()
}
