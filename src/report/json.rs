//! Stage 6, report: JSON rendering. The report model serialised with serde_json, pretty and
//! with a final newline; field order is the model's, arrays are sorted by the model.

use std::io::{self, Write};

use super::Report;

/// Writes `report` as pretty JSON, through a buffer: serde_json writes a few bytes at a time,
/// and a locked stdout flushes at every newline, which made one system call per line.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buf, report).map_err(|e| match e.io_error_kind() {
        // Keep the kind (a closed pipe must stay recognisable as one).
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })?;
    buf.write_all(b"\n")?;
    buf.flush()
}
