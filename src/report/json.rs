//! Stage 6, report: JSON rendering. The report model serialised with serde_json, pretty and
//! with a final newline; field order is the model's, arrays are sorted by the model. Strings
//! are exact; control, bidi and format characters in them are written as `\uXXXX` escapes
//! ([`crate::textsafe::write_json_pretty`]) so the file is safe to print too.

use std::io::{self, Write};

use super::Report;

/// Writes `report` as pretty JSON, through a buffer: serde_json writes a few bytes at a time,
/// and a locked stdout flushes at every newline, which made one system call per line.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = io::BufWriter::with_capacity(1 << 16, out);
    // Keeps the error's kind (a closed pipe must stay recognisable as one).
    crate::textsafe::write_json_pretty(&mut buf, report)?;
    buf.write_all(b"\n")?;
    buf.flush()
}
