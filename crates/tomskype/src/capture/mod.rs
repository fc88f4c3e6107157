//! Stage 1, capture: turns bytes from a file, a pipe or a network interface into packets.
//!
//! Every source hands packets to a [`PacketSink`] one at a time: the packet borrows the
//! reader's buffer for the duration of the call, so nothing is allocated per packet. Problems
//! in the container (a record cut short, a block with a bad length, an unknown version) are
//! reported as [`Problem`]s with the packet number and byte offset; reading goes on where the
//! format allows, and everything read before a problem is kept. A network interface
//! ([`iface`], through libpcap) hands its packets over as they arrive instead; the session
//! around it (how long, what to show, which program owns a socket) is `live`'s work. This
//! stage knows nothing of protocols: link-layer decoding is the next stage's work (`decode`).

pub mod file;
pub mod iface;
mod input;
pub mod pcap;
pub mod pcapng;
mod shared;
mod stream;
pub mod write;

#[cfg(test)]
mod corpora;
#[cfg(test)]
mod testcap;

pub use file::{
    expand_inputs, looks_like_capture, plain_capture_len, read_bytes, read_path, read_path_waiting,
    InputItem, STREAM_WAIT,
};
pub use shared::{read_path_shared, Follow, Lead, Pass};

/// Link-layer header types (the `LINKTYPE_*` values of tcpdump.org), as numbers.
pub mod linktype {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet II (with 802.1Q/802.1ad tags inside).
    pub const ETHERNET: u32 = 1;
    /// Raw IP (v4 or v6, by the version nibble). DLT_RAW 12 and 14 on some systems too.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4 only.
    pub const IPV4: u32 = 228;
    /// Raw IPv6 only.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

/// One captured packet, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// 1-based number of this packet in its input.
    pub number: u64,
    /// Byte offset of the packet's record (or block) in the (decompressed) input.
    pub offset: u64,
    /// Capture time, nanoseconds since the Unix epoch (UTC).
    pub ts_nanos: i64,
    /// `LINKTYPE_*` of the interface the packet was captured on.
    pub link_type: u32,
    /// Length of the packet on the wire (may exceed `data.len()` when snaplen cut it).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Receives packets from any capture source.
pub trait PacketSink {
    /// Called once per packet, in capture order.
    fn packet(&mut self, packet: &Packet<'_>);
}

impl<F: FnMut(&Packet<'_>)> PacketSink for F {
    fn packet(&mut self, packet: &Packet<'_>) {
        self(packet)
    }
}

/// The container format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap, microsecond timestamps.
    Pcap,
    /// Classic libpcap, nanosecond timestamps.
    PcapNs,
    /// pcapng.
    Pcapng,
    /// Not recognised.
    Unknown,
}

/// What went wrong in a container, by kind (stable names for reports and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The input could not be opened or read (I/O error).
    Io,
    /// The input is empty.
    Empty,
    /// The input is not a pcap, pcapng or gzip-compressed one.
    NotACapture,
    /// A version of the format this reader does not know.
    UnsupportedVersion,
    /// The file header is cut short.
    TruncatedHeader,
    /// The input ends inside a packet record or block.
    TruncatedRecord,
    /// A record or block header that cannot be right (length out of range, odd, mismatched).
    BadRecord,
    /// A record whose captured length exceeds the snaplen (read anyway).
    CaplenOverSnaplen,
    /// A pcapng packet block naming an interface that was never described.
    UnknownInterface,
    /// The gzip stream is corrupt or cut short.
    Gzip,
    /// A Zeek log of a kind the pipeline does not use (files.log, weird.log, ...), not read.
    SkippedLog,
}

impl ProblemKind {
    /// Stable name, as in reports.
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Io => "io",
            ProblemKind::Empty => "empty",
            ProblemKind::NotACapture => "not-a-capture",
            ProblemKind::UnsupportedVersion => "unsupported-version",
            ProblemKind::TruncatedHeader => "truncated-header",
            ProblemKind::TruncatedRecord => "truncated-record",
            ProblemKind::BadRecord => "bad-record",
            ProblemKind::CaplenOverSnaplen => "caplen-over-snaplen",
            ProblemKind::UnknownInterface => "unknown-interface",
            ProblemKind::Gzip => "gzip",
            ProblemKind::SkippedLog => "skipped-log",
        }
    }
}

/// A problem found while reading an input; reading goes on past it where the format allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// 1-based number of the packet it concerns (the one being read), if any.
    pub packet: Option<u64>,
    /// Byte offset in the (decompressed) input where it was found.
    pub offset: Option<u64>,
    /// A sentence for people, lowercase, no final period.
    pub detail: String,
}

/// What reading one input gave, beside the packets handed to the sink.
#[derive(Debug, Clone)]
pub struct ReadSummary {
    /// The container format.
    pub format: CaptureFormat,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// Packets handed to the sink.
    pub packets: u64,
    /// Bytes of input read (decompressed).
    pub bytes: u64,
    /// Problems, in order of offset.
    pub problems: Vec<Problem>,
    /// True when nothing at all could be read (not a capture, I/O error, bad file header).
    pub unreadable: bool,
}
