//! Zeek logs as a traffic source: reads `conn.log`, `dns.log`, `ssl.log` and `http.log`
//! (Zeek's ASCII TSV or JSON lines, plain or gzip'd, rotated names too) into the same
//! [`FlowTable`](crate::flow::FlowTable) the packet path builds, so enrichment, classification and the report work
//! unchanged: only the source stage differs. [`sniff`] tells a Zeek log from a capture by its
//! first bytes; [`read_logs`] reads a set of logs into one table, conn logs last (so that
//! their flows can leave the table in batches with their names: [`read_logs_in_batches`]),
//! and sums up each log in a [`LogSummary`].
//!
//! Other logs (files, weird, x509, ...) are recognised but not read: their summary says so.
//! Bad lines are counted as problems with line number and byte offset; reading goes on.

pub mod json;
pub mod read;
pub mod record;
pub mod tsv;
pub mod value;

#[cfg(test)]
mod testdata;

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

pub use read::{
    read_log, read_log_bytes, read_logs, read_logs_in_batches, Handed, LogSummary, LOOK_RECORDS,
};
pub use value::Value;

/// The longest line read; longer ones are bad records (and skipped, not kept in memory).
pub const MAX_LINE: usize = 1 << 20;
/// At most this many problems are listed per log; the rest are counted in a last one.
pub const MAX_PROBLEMS: usize = 100;
/// How many bytes [`sniff`] looks at (decompressed).
pub const SNIFF_BYTES: usize = 1024;

/// A record of any format: its fields by Zeek name (`id.orig_h`, `query`, ...).
pub trait Record {
    /// The field `name`, if the log has that column.
    fn field(&self, name: &str) -> Option<&Value<'_>>;
}

/// Which log a file is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogKind {
    /// conn.log: one record per connection.
    Conn,
    /// dns.log: questions and answers.
    Dns,
    /// ssl.log: TLS (and QUIC) handshakes.
    Ssl,
    /// http.log: requests.
    Http,
    /// Any other log (by its `#path` or file name); not read.
    Other(String),
}

impl LogKind {
    /// The kind named `name` (a `#path` value or a file name prefix).
    pub fn from_name(name: &str) -> LogKind {
        match name {
            "conn" => LogKind::Conn,
            "dns" => LogKind::Dns,
            "ssl" => LogKind::Ssl,
            "http" => LogKind::Http,
            other => LogKind::Other(other.to_owned()),
        }
    }

    /// The kind a file name says: the part before the first dot
    /// (`conn.2024-01-01-00-00-00.log.gz` is a conn log).
    pub fn from_file_name(path: &Path) -> LogKind {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        LogKind::from_name(name.split('.').next().unwrap_or(""))
    }

    /// Its name: `conn`, `dns`, `ssl`, `http` or the other log's.
    pub fn name(&self) -> &str {
        match self {
            LogKind::Conn => "conn",
            LogKind::Dns => "dns",
            LogKind::Ssl => "ssl",
            LogKind::Http => "http",
            LogKind::Other(n) => n,
        }
    }

    /// Whether the pipeline reads this kind.
    pub fn is_used(&self) -> bool {
        !matches!(self, LogKind::Other(_))
    }
}

/// How a log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Zeek's ASCII format, with `#` headers (or the one-line header of `zeek-cut -m`).
    Tsv,
    /// One JSON object per line.
    Json,
}

/// What [`sniff`] found out about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// Which log (from `#path`, else from the file name).
    pub kind: LogKind,
    /// How it is written.
    pub format: LogFormat,
    /// Whether it is gzip-compressed.
    pub gzip: bool,
}

/// Whether `path` is a Zeek log, from its first bytes (at most [`SNIFF_BYTES`], decompressed
/// when it is gzip'd): None for captures, other files and files that cannot be read.
pub fn sniff(path: &Path) -> Option<Sniffed> {
    let mut file = File::open(path).ok()?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).ok()?;
    let gzip = n == 2 && magic == [0x1f, 0x8b];
    // The same descriptor, rewound: a second open could fail where the first did not (too
    // many open files) and lose the log.
    file.rewind().ok()?;
    let mut head = vec![0u8; SNIFF_BYTES];
    let n = if gzip {
        let mut dec = MultiGzDecoder::new(BufReader::new(file));
        read_up_to(&mut dec, &mut head).ok()?
    } else {
        read_up_to(&mut file.take(SNIFF_BYTES as u64), &mut head).ok()?
    };
    let (format, path_kind) = sniff_bytes(head.get(..n)?)?;
    let kind = path_kind.unwrap_or_else(|| LogKind::from_file_name(&strip_gz(path)));
    Some(Sniffed { kind, format, gzip })
}

fn strip_gz(path: &Path) -> PathBuf {
    match path.to_str().and_then(|s| s.strip_suffix(".gz")) {
        Some(s) => PathBuf::from(s),
        None => path.to_owned(),
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A stream cut short still tells what it starts with.
            Err(_) if n > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Whether `head` (the first bytes of a file, decompressed) starts a Zeek log: its format and,
/// for TSV with a `#path` line among them, its kind. Comment lines (`#` but not a Zeek
/// directive) before the log are allowed.
pub fn sniff_bytes(head: &[u8]) -> Option<(LogFormat, Option<LogKind>)> {
    // Captures never start with text; their magic numbers have bytes no log starts with.
    let text = String::from_utf8_lossy(head);
    let mut format = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if format.is_none() {
            if line.starts_with("#separator ") {
                format = Some(LogFormat::Tsv);
            } else if line.starts_with('{') {
                return Some((LogFormat::Json, None));
            } else if line.starts_with('#') {
                continue;
            } else if line.contains('\t')
                && line.split('\t').any(|n| n == "uid" || n == "id.orig_h")
            {
                // The header line of `zeek-cut -m`.
                return Some((LogFormat::Tsv, None));
            } else {
                return None;
            }
        } else if let Some(p) = line.strip_prefix("#path") {
            let name = p.trim_start_matches(['\t', ' ']).trim();
            return Some((LogFormat::Tsv, Some(LogKind::from_name(name))));
        } else if !line.starts_with('#') {
            break;
        }
    }
    format.map(|f| (f, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::testdata::{gzip, write, CONN};

    #[test]
    fn sniffs_logs_and_not_captures() {
        let d = tempfile::tempdir().unwrap();
        let tsv = write(d.path(), "x.log", CONN.as_bytes());
        let s = sniff(&tsv).unwrap();
        assert_eq!(
            (s.kind, s.format, s.gzip),
            (LogKind::Conn, LogFormat::Tsv, false)
        );
        let gz = write(
            d.path(),
            "conn.2024-01-01-00-00-00.log.gz",
            &gzip(CONN.as_bytes()),
        );
        assert!(sniff(&gz).unwrap().gzip);
        let js = write(d.path(), "dns.log", b"{\"ts\":1}\n");
        let s = sniff(&js).unwrap();
        assert_eq!((s.kind, s.format), (LogKind::Dns, LogFormat::Json));
        let jgz = write(
            d.path(),
            "http.00:00:00-01:00:00.log.gz",
            &gzip(b"{\"ts\":1}\n"),
        );
        assert_eq!(sniff(&jgz).unwrap().kind, LogKind::Http);
        let other = write(d.path(), "files.log", b"#separator \\x09\n#path\tfiles\n");
        assert_eq!(sniff(&other).unwrap().kind, LogKind::Other("files".into()));
        let pcap = write(d.path(), "a.pcap", &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
        assert_eq!(sniff(&pcap), None);
        let pcap_gz = write(
            d.path(),
            "a.pcap.gz",
            &gzip(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
        );
        assert_eq!(sniff(&pcap_gz), None);
        let text = write(d.path(), "notes.txt", b"hello\n");
        assert_eq!(sniff(&text), None);
        assert_eq!(sniff(&d.path().join("missing.log")), None);
        let cut = write(d.path(), "conn.log.cut", b"ts\tuid\thistory\n1\tC1\tS\n");
        assert_eq!(sniff(&cut).unwrap().kind, LogKind::Conn);
    }
}
