//! Zeek logs: reading. [`read_logs`] reads a set of logs into one [`FlowTable`], conn logs
//! first (ssl.log needs them to tell QUIC from TLS); [`read_log`] reads one, line by line
//! through a bounded buffer (plain or gzip'd), handing each record to `record.rs` and
//! counting bad lines as problems with line number and byte offset, in a [`LogSummary`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use crate::capture::{Problem, ProblemKind};
use crate::flow::{FlowTable, Watch};

use super::{json, record, sniff, tsv, LogFormat, LogKind, Sniffed, MAX_LINE, MAX_PROBLEMS};

/// What reading one log gave.
#[derive(Debug, Clone)]
pub struct LogSummary {
    /// The log's path.
    pub path: PathBuf,
    /// Which log it is (after reading `#path`).
    pub kind: LogKind,
    /// How it is written.
    pub format: LogFormat,
    /// Whether it was gzip'd.
    pub gzip: bool,
    /// Records read (data lines applied to the table).
    pub records: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Bad lines and read errors, in order (at most [`MAX_PROBLEMS`] plus one summing up).
    pub problems: Vec<Problem>,
    /// Whether the log was left unread because the pipeline does not use its kind.
    pub skipped: bool,
    /// True when nothing could be read (I/O error at the start, not a Zeek log).
    pub unreadable: bool,
}

/// Reads every log in `paths` into one table: dns, ssl and http logs first, conn logs last
/// (ssl.log's names are kept on the TCP flow of their addresses and ports, and a conn record
/// that finds the connection UDP moves them: see `record::conn`), each kind in the order given.
/// Summaries come back in the order of `paths`. `watch`, when given, keeps what it names past
/// the table's bounds.
pub fn read_logs(paths: &[PathBuf], watch: Option<Arc<dyn Watch>>) -> (FlowTable, Vec<LogSummary>) {
    read_logs_in_batches(paths, watch, usize::MAX, &mut |_, _| {})
}

/// Why [`read_logs_in_batches`] hands the table over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Conn records have put the batch's flows in it, or the last log is read: its flows may
    /// be taken out.
    Flows,
    /// [`LOOK_RECORDS`] more records were read (of any log): a look at the memory held. The
    /// flows must stay (an ssl.log's or http.log's names wait on theirs for the conn record);
    /// the names may be thinned.
    Look,
}

/// Records between two [`Handed::Look`]s: a dns.log is read whole before the conn.log, and a
/// long one's names alone can pass a memory budget (1,000,000 lookups of new names,
/// `bench/make_dnslog.py`, peaked at 691 MB; with a look every 4,096 records, at 200 MB under
/// `--max-memory 200M`).
pub const LOOK_RECORDS: u64 = 1 << 12;

/// [`read_logs`], handing the table to `batch` ([`Handed::Flows`]) whenever conn records have
/// put `every` flows in it (so that it can take them out: a conn.log of millions of
/// connections need not be held whole), and once more after the last log if flows are left
/// in it (a log shorter than `every`, or the end of a longer one, is no exception to what
/// `batch` does with them). The names of the other logs are in the table by then, read first.
/// Every [`LOOK_RECORDS`] records of any log it is handed over for a look ([`Handed::Look`]).
pub fn read_logs_in_batches(
    paths: &[PathBuf],
    watch: Option<Arc<dyn Watch>>,
    every: usize,
    batch: &mut dyn FnMut(&mut FlowTable, Handed),
) -> (FlowTable, Vec<LogSummary>) {
    let mut table = FlowTable {
        watch,
        ..FlowTable::default()
    };
    let sniffed: Vec<Option<Sniffed>> = paths.iter().map(|p| sniff(p)).collect();
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_by_key(|&i| {
        let kind = sniffed.get(i).cloned().flatten().map(|s| s.kind);
        (kind == Some(LogKind::Conn), kind)
    });
    let mut summaries: Vec<Option<LogSummary>> = vec![None; paths.len()];
    let mut batches = Batches {
        every,
        batch,
        records: 0,
    };
    for i in order {
        let (Some(path), Some(slot)) = (paths.get(i), summaries.get_mut(i)) else {
            continue;
        };
        let s = sniffed.get(i).cloned().flatten();
        *slot = Some(read_log_into(path, s, &mut table, Some(&mut batches)));
    }
    if !table.flows.is_empty() {
        (batches.batch)(&mut table, Handed::Flows);
    }
    (table, summaries.into_iter().flatten().collect())
}

/// Where records hand the table over, and how often.
struct Batches<'a> {
    every: usize,
    batch: &'a mut dyn FnMut(&mut FlowTable, Handed),
    /// Records read, of every log.
    records: u64,
}

/// Reads one log into `table`; `sniffed` is what [`sniff`] said of it (None: not a log).
pub fn read_log(path: &Path, sniffed: Option<Sniffed>, table: &mut FlowTable) -> LogSummary {
    read_log_into(path, sniffed, table, None)
}

/// [`read_log`], handing the table to `batches` as conn records fill it.
fn read_log_into(
    path: &Path,
    sniffed: Option<Sniffed>,
    table: &mut FlowTable,
    batches: Option<&mut Batches<'_>>,
) -> LogSummary {
    let (mut summary, gzip) = match begin(path, sniffed) {
        Ok(ready) => ready,
        Err(done) => return done,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            summary.unreadable = true;
            summary.problems.push(io_problem(&e, false, None, 0));
            return summary;
        }
    };
    let reader = BufReader::new(file);
    if gzip {
        read_lines(
            BufReader::new(MultiGzDecoder::new(reader)),
            &mut summary,
            table,
            batches,
        );
    } else {
        read_lines(reader, &mut summary, table, batches);
    }
    summary
}

/// Reads one plain (not gzip'd) log held in memory into `table`, as [`read_log`] reads a file:
/// sniffed from its first bytes, `path` naming it (its file name gives the kind when the log
/// has no `#path` line). For fuzzing and tests.
pub fn read_log_bytes(path: &Path, bytes: &[u8], table: &mut FlowTable) -> LogSummary {
    let head = bytes.get(..super::SNIFF_BYTES).unwrap_or(bytes);
    let sniffed = super::sniff_bytes(head).map(|(format, kind)| Sniffed {
        kind: kind.unwrap_or_else(|| LogKind::from_file_name(path)),
        format,
        gzip: false,
    });
    match begin(path, sniffed) {
        Ok((mut summary, _)) => {
            read_lines(bytes, &mut summary, table, None);
            summary
        }
        Err(done) => done,
    }
}

/// The summary of a log about to be read and whether it is gzip'd; Err with the finished
/// summary when it is not to be read (not a log, or a kind the pipeline does not use).
fn begin(path: &Path, sniffed: Option<Sniffed>) -> Result<(LogSummary, bool), LogSummary> {
    let mut summary = LogSummary {
        path: path.to_owned(),
        kind: LogKind::Other("unknown".into()),
        format: LogFormat::Tsv,
        gzip: false,
        records: 0,
        bytes: 0,
        problems: Vec::new(),
        skipped: false,
        unreadable: false,
    };
    let Some(s) = sniffed else {
        summary.unreadable = true;
        summary.problems.push(Problem {
            kind: ProblemKind::NotACapture,
            packet: None,
            offset: None,
            detail: "not a Zeek log (no #separator header, JSON object or zeek-cut header)".into(),
        });
        return Err(summary);
    };
    summary.kind = s.kind.clone();
    summary.format = s.format;
    summary.gzip = s.gzip;
    if !s.kind.is_used() {
        summary.skipped = true;
        summary.problems.push(Problem {
            kind: ProblemKind::SkippedLog,
            packet: None,
            offset: None,
            detail: format!(
                "zeek {} log not read (only conn, dns, ssl and http logs are used)",
                s.kind.name()
            ),
        });
        return Err(summary);
    }
    Ok((summary, s.gzip))
}

fn io_problem(e: &io::Error, gzip: bool, line: Option<u64>, offset: u64) -> Problem {
    Problem {
        kind: if gzip {
            ProblemKind::Gzip
        } else {
            ProblemKind::Io
        },
        packet: line,
        offset: Some(offset),
        detail: format!("cannot read on: {e}"),
    }
}

struct Problems<'a> {
    summary: &'a mut LogSummary,
    more: u64,
}

impl Problems<'_> {
    fn bad(&mut self, line: u64, offset: u64, detail: String) {
        if self.summary.problems.len() < MAX_PROBLEMS {
            self.summary.problems.push(Problem {
                kind: ProblemKind::BadRecord,
                packet: Some(line),
                offset: Some(offset),
                detail: format!("line {line}: {detail}"),
            });
        } else {
            self.more += 1;
        }
    }
}

fn read_lines<R: BufRead>(
    mut reader: R,
    summary: &mut LogSummary,
    table: &mut FlowTable,
    mut batches: Option<&mut Batches<'_>>,
) {
    let mut header = tsv::TsvHeader::default();
    let mut kind = summary.kind.clone();
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut line_no = 0u64;
    let mut problems = Problems { summary, more: 0 };
    loop {
        buf.clear();
        let got = match (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
        {
            Ok(n) => n,
            Err(e) => {
                let p = io_problem(&e, problems.summary.gzip, Some(line_no + 1), offset);
                problems.summary.problems.push(p);
                problems.summary.unreadable = line_no == 0;
                break;
            }
        };
        if got == 0 {
            break;
        }
        line_no += 1;
        let start = offset;
        offset += got as u64;
        if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
            // Skip the rest of the over-long line without keeping it.
            let mut skipped = 0u64;
            loop {
                buf.clear();
                match (&mut reader).take(64 << 10).read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        skipped += n as u64;
                        if buf.last() == Some(&b'\n') {
                            break;
                        }
                    }
                }
            }
            offset += skipped;
            problems.bad(line_no, start, format!("line longer than {MAX_LINE} bytes"));
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        let line = text.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            continue;
        }
        let result = match summary_format(line) {
            LineKind::Header => {
                header.directive(line);
                if let Some(p) = &header.path {
                    kind = LogKind::from_name(p);
                }
                continue;
            }
            LineKind::Json => json::parse_line(line).and_then(|r| record::apply(&kind, &r, table)),
            LineKind::Tsv if !header.has_fields() && header.cut_header(line) => continue,
            LineKind::Tsv => header
                .record(line)
                .and_then(|r| record::apply(&kind, &r, table)),
        };
        match result {
            Ok(()) => problems.summary.records += 1,
            Err(why) => problems.bad(line_no, start, why),
        }
        if let Some(b) = batches.as_deref_mut() {
            if kind == LogKind::Conn && table.flows.len() >= b.every {
                (b.batch)(table, Handed::Flows);
            }
            b.records += 1;
            if b.records % LOOK_RECORDS == 0 {
                (b.batch)(table, Handed::Look);
            }
        }
    }
    let more = problems.more;
    if more > 0 {
        summary.problems.push(Problem {
            kind: ProblemKind::BadRecord,
            packet: None,
            offset: None,
            detail: format!("{more} more bad lines not listed"),
        });
    }
    summary.kind = kind;
    summary.bytes = offset;
}

enum LineKind {
    Header,
    Json,
    Tsv,
}

fn summary_format(line: &str) -> LineKind {
    if line.starts_with('#') {
        LineKind::Header
    } else if line.starts_with('{') {
        LineKind::Json
    } else {
        LineKind::Tsv
    }
}

#[cfg(test)]
mod tests {
    use super::super::{sniff, MAX_LINE, MAX_PROBLEMS};
    use super::*;
    use std::net::IpAddr;

    use super::super::testdata::{gzip, write, CONN};

    #[test]
    fn a_log_in_memory_reads_as_the_same_file() {
        let d = tempfile::tempdir().unwrap();
        let mut text = CONN.to_owned();
        text.push_str("not a record\n");
        let path = write(d.path(), "conn.log", text.as_bytes());
        let mut t1 = FlowTable::default();
        let from_file = read_log(&path, sniff(&path), &mut t1);
        let mut t2 = FlowTable::default();
        let from_bytes = read_log_bytes(&path, text.as_bytes(), &mut t2);
        assert!(from_file.records > 0);
        assert_eq!(from_file.records, from_bytes.records);
        assert_eq!(from_file.problems, from_bytes.problems);
        assert_eq!(from_file.kind, from_bytes.kind);
        assert_eq!(from_file.format, from_bytes.format);
        let mut t3 = FlowTable::default();
        let other = read_log_bytes(Path::new("x.log"), b"\x00\x01binary", &mut t3);
        assert!(other.unreadable);
    }

    #[test]
    fn reads_a_log_and_counts_bad_lines() {
        let d = tempfile::tempdir().unwrap();
        for (name, data) in [
            ("conn.log", CONN.as_bytes().to_vec()),
            ("conn.log.gz", gzip(CONN.as_bytes())),
        ] {
            let p = write(d.path(), name, &data);
            let mut t = FlowTable::default();
            let s = read_log(&p, sniff(&p), &mut t);
            assert_eq!(s.records, 2, "{name}");
            assert_eq!(s.bytes, CONN.len() as u64);
            assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
            let bad = &s.problems[0];
            assert_eq!(bad.kind, ProblemKind::BadRecord);
            assert_eq!(bad.packet, Some(11));
            let at = CONN.find("this line").unwrap() as u64;
            assert_eq!(bad.offset, Some(at));
            assert_eq!(t.flows.len(), 2);
            let ip: IpAddr = "211.100.41.6".parse().unwrap();
            assert!(t.flows.keys().any(|k| k.b == ip && k.b_port == 80));
            assert_eq!((&s.kind, s.format), (&LogKind::Conn, LogFormat::Tsv));
        }
    }

    #[test]
    fn cut_gzip_and_long_lines_are_problems_not_panics() {
        let d = tempfile::tempdir().unwrap();
        let mut gz = gzip(CONN.as_bytes());
        gz.truncate(gz.len() / 2);
        let p = write(d.path(), "conn.log.gz", &gz);
        let mut t = FlowTable::default();
        let s = read_log(&p, sniff(&p), &mut t);
        assert!(
            s.problems.iter().any(|p| p.kind == ProblemKind::Gzip),
            "{:?}",
            s.problems
        );
        let mut long = b"{\"ts\":1}\n{\"x\":\"".to_vec();
        long.resize(MAX_LINE + 100, b'a');
        long.extend_from_slice(b"\"}\n{\"ts\":2}\n");
        let p = write(d.path(), "http.log", &long);
        let s = read_log(&p, sniff(&p), &mut t);
        assert_eq!(s.problems.len(), 1);
        assert_eq!(s.problems[0].packet, Some(2));
        assert_eq!(s.bytes, long.len() as u64);
    }

    #[test]
    fn many_bad_lines_are_summed_up() {
        let d = tempfile::tempdir().unwrap();
        let text = "{\"ts\":1,\"id.orig_h\":\"10.0.0.1\"}\nnot json\n".repeat(MAX_PROBLEMS + 10);
        let p = write(d.path(), "dns.log", text.as_bytes());
        let mut t = FlowTable::default();
        let s = read_log(&p, sniff(&p), &mut t);
        assert_eq!(s.problems.len(), MAX_PROBLEMS + 1);
        assert!(s.problems.last().unwrap().detail.starts_with("10 more"));
    }

    #[test]
    fn read_logs_puts_conn_first_and_skips_other_logs() {
        let d = tempfile::tempdir().unwrap();
        let id = r#""id.orig_h":"10.0.0.2","id.orig_p":5000,"id.resp_h":"1.2.3.4","id.resp_p":443"#;
        let ssl = write(
            d.path(),
            "ssl.log",
            format!("{{\"ts\":2,{id},\"server_name\":\"a.example\"}}\n").as_bytes(),
        );
        let conn = write(
            d.path(),
            "conn.log",
            format!("{{\"ts\":1,{id},\"proto\":\"udp\"}}\n").as_bytes(),
        );
        let files = write(d.path(), "files.log", b"{\"ts\":1}\n");
        let (t, s) = read_logs(&[ssl.clone(), files, conn], None);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].path, ssl);
        assert!(s[1].skipped && s[1].problems[0].kind == ProblemKind::SkippedLog);
        assert_eq!(s[1].kind, LogKind::Other("files".into()));
        assert_eq!(s[1].format, LogFormat::Json);
        // The SNI went on the UDP flow conn.log described, though ssl.log came first.
        assert!(t.facts.keys().all(|k| k.proto == 17));
        assert_eq!(t.facts.len(), 1);
    }
}
