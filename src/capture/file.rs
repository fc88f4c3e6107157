//! TEMPORARY stub (replaced by the capture branch).
use super::*;
pub fn read_path<S: PacketSink>(_path: &std::path::Path, _sink: &mut S) -> ReadSummary {
    ReadSummary {
        format: CaptureFormat::Unknown,
        gzip: false,
        packets: 0,
        bytes: 0,
        problems: vec![],
        unreadable: true,
    }
}
