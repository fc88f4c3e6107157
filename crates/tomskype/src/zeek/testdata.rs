//! Tests only: a small conn.log and helpers shared by the Zeek readers' tests.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A TSV conn.log with a comment, one bad line and an unset-heavy record.
pub(crate) const CONN: &str = "### a btest comment line\n#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open 2024-01-01-00-00-00\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\thistory\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tinterval\tcount\tcount\tcount\tcount\tstring\n1300475167.096535\tC1\t10.0.0.2\t50000\t211.100.41.6\t80\ttcp\t1.5\t5\t400\t4\t3000\tShADadFf\nthis line is bad\n1300475168.0\tC2\t10.0.0.2\t50001\t1.2.3.4\t443\ttcp\t-\t-\t-\t-\t-\t-\n#close 2024-01-01-00-00-01\n";

pub(crate) fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
