//! Stage 3, flows: the Skype protocol signs seen on one flow, and the decision over the whole
//! flow that one packet cannot make (see [`crate::decode::skype`]).
//!
//! A Microsoft STUN attribute is enough by itself. A classic Skype UDP datagram is only a
//! candidate (its function byte is one random byte in 256 of any encrypted traffic), so a flow
//! shows classic Skype UDP when at least [`MIN_CLASSIC_UDP`] candidates with different first
//! bytes were seen and candidates are at least half of the flow's packets. A long encrypted
//! flow of another protocol has about one candidate in 256 packets; DNSCrypt, the false
//! positive that nDPI's tests keep, repeats its client magic in the first 8 bytes of every
//! query, so its candidates count once. The state is a few counters per flow.
//!
//! Skype's classic TCP framing is judged on a connection's first three data segments
//! ([`TcpOpenings`], the rule in [`crate::decode::skype`]'s docs). Only connections whose SYN
//! and SYN+ACK were seen are watched, for at most [`OPENING_TIMEOUT_NS`], each in one entry of
//! a table of [`OPENING_SLOTS`] ([`super::ways`]: 160 KiB, allocated at the first SYN): a SYN
//! writes an entry, every later segment with a payload costs a few tag compares, and the entry
//! is freed as soon as the opening is judged. A segment is taken only where the sequence
//! numbers say it belongs (a retransmission is skipped; a gap, a cut payload or a data segment
//! before the SYN+ACK ends the watch: the sizes could not be told). Handshakes whose keys pick
//! the same set of the table are watched side by side; only when all of a set's entries are
//! being watched does the oldest give way, and that connection is not judged.

pub use crate::decode::skype::SkypeProtocol;
use crate::decode::skype::{self, SkypeSign, TcpShape};
use crate::decode::{tcp_flags, Decoded};

use super::ways::{Ways, WAYS};
use super::Dir;

/// Distinct classic-UDP candidates a flow needs.
pub const MIN_CLASSIC_UDP: u32 = 2;

/// Skype protocol signs seen on one flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkypeFacts {
    /// Packets with Microsoft STUN attributes.
    pub ms_stun: u32,
    /// Packets framed as classic Skype UDP.
    pub classic_udp: u32,
    /// Connections (this flow's, or several merged) that opened as classic Skype TCP.
    pub classic_tcp: u32,
    /// Of those, packets whose first 8 bytes repeat the previous candidate's.
    pub classic_udp_repeats: u32,
    /// Time of the first sign, ns since the epoch.
    pub first_ns: Option<i64>,
    /// First 8 bytes of the last classic candidate.
    last_head: [u8; 8],
}

impl SkypeFacts {
    /// Counts one packet's sign, seen at `ts`.
    pub fn add(&mut self, ts: i64, sign: SkypeSign) {
        self.first_ns = Some(self.first_ns.map_or(ts, |t| t.min(ts)));
        match sign {
            SkypeSign::MsStun => self.ms_stun = self.ms_stun.saturating_add(1),
            SkypeSign::ClassicUdp(head) => {
                if self.classic_udp > 0 && head == self.last_head {
                    self.classic_udp_repeats = self.classic_udp_repeats.saturating_add(1);
                }
                self.classic_udp = self.classic_udp.saturating_add(1);
                self.last_head = head;
            }
        }
    }

    /// Counts a connection that opened as classic Skype TCP, judged at `ts`.
    pub fn add_classic_tcp(&mut self, ts: i64) {
        self.first_ns = Some(self.first_ns.map_or(ts, |t| t.min(ts)));
        self.classic_tcp = self.classic_tcp.saturating_add(1);
    }

    /// Adds the counts of another record of the same flow.
    pub fn merge(&mut self, other: &SkypeFacts) {
        self.ms_stun = self.ms_stun.saturating_add(other.ms_stun);
        self.classic_tcp = self.classic_tcp.saturating_add(other.classic_tcp);
        self.classic_udp = self.classic_udp.saturating_add(other.classic_udp);
        self.classic_udp_repeats = self
            .classic_udp_repeats
            .saturating_add(other.classic_udp_repeats);
        self.first_ns = match (self.first_ns, other.first_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// The Skype protocols this flow showed, given its packet count (both ways).
    pub fn protocols(&self, flow_packets: u64) -> Vec<SkypeProtocol> {
        let mut out = Vec::new();
        if self.classic_tcp > 0 {
            out.push(SkypeProtocol::ClassicTcp);
        }
        let distinct = self.classic_udp.saturating_sub(self.classic_udp_repeats);
        if distinct >= MIN_CLASSIC_UDP && u64::from(self.classic_udp) * 2 >= flow_packets {
            out.push(SkypeProtocol::ClassicUdp);
        }
        if self.ms_stun > 0 {
            out.push(SkypeProtocol::MsStun);
        }
        out
    }
}

/// Entries of the table of watched TCP openings (a power of two).
pub const OPENING_SLOTS: usize = 4096;
/// How long an opening is watched from its SYN, in capture nanoseconds: two minutes. Skype's
/// connections may wait more than 30 s between the handshake and their first data (three of
/// nDPI's `skype_no_unknown.pcap` do); an older watch ends, and its place is free.
pub const OPENING_TIMEOUT_NS: i64 = 120_000_000_000;

/// One data segment of a watched opening.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpeningSegment {
    /// Sent by the end that sent the SYN.
    pub from_opener: bool,
    /// Payload bytes.
    pub len: u16,
    /// What the payload looks like.
    pub shape: TcpShape,
}

/// A connection's opening being watched.
#[derive(Debug, Clone, Copy, Default)]
struct Opening {
    /// The next sequence number expected in each direction (indexed by [`Dir`]).
    next: [u32; 2],
    /// The direction of the SYN.
    opener: u8,
    /// The SYN+ACK was seen.
    answered: bool,
    /// Data segments taken.
    count: u8,
    segments: [OpeningSegment; 3],
}

/// The TCP openings watched for Skype's classic framing (see the module docs).
#[derive(Debug)]
pub struct TcpOpenings {
    slots: Ways<Opening>,
}

impl Default for TcpOpenings {
    fn default() -> TcpOpenings {
        // Sets picked by bits 40 and up of the flow's hash (not those that pick `streams`'
        // hint sets, so that two flows sharing a set there need not share one here).
        TcpOpenings {
            slots: Ways::new(OPENING_SLOTS / WAYS, 40, OPENING_TIMEOUT_NS),
        }
    }
}

impl TcpOpenings {
    /// Nothing watched yet.
    pub fn new() -> TcpOpenings {
        TcpOpenings::default()
    }

    /// Looks at one TCP segment `d` of the flow whose table hash is `hash`, sent in direction
    /// `dir` at `ts` (ns); `cut` when the snaplen cut its payload. True when this segment
    /// completes an opening framed as classic Skype TCP (once per connection).
    #[inline]
    pub fn segment(&mut self, hash: u64, dir: Dir, d: &Decoded<'_>, ts: i64, cut: bool) -> bool {
        let tag = hash | 1;
        if d.tcp_flags & tcp_flags::SYN != 0 {
            self.handshake(tag, dir, d, ts);
            return false;
        }
        if d.payload.is_empty() || self.slots.is_empty() {
            return false;
        }
        let Some(slot) = self.slots.get(tag, ts) else {
            return false;
        };
        let (ends, classic) = data(slot, dir, d, cut);
        if ends {
            self.slots.remove(tag);
        }
        classic
    }

    #[cold]
    fn handshake(&mut self, tag: u64, dir: Dir, d: &Decoded<'_>, ts: i64) {
        let next = d.seq.wrapping_add(1);
        if d.tcp_flags & tcp_flags::ACK == 0 {
            if !skype::classic_tcp_port(d.dport) {
                return;
            }
            let mut opening = Opening {
                opener: dir as u8,
                ..Opening::default()
            };
            opening.next[dir as usize] = next;
            self.slots.insert(tag, ts, opening);
        } else if let Some(slot) = self.slots.get(tag, ts) {
            if slot.opener != dir as u8 && slot.count == 0 {
                slot.next[dir as usize] = next;
                slot.answered = true;
            }
        }
    }
}

/// Takes a data segment into a watched opening. Says whether the watch ends (the opening is
/// judged, or can no longer be) and whether it opened as classic Skype TCP.
fn data(slot: &mut Opening, dir: Dir, d: &Decoded<'_>, cut: bool) -> (bool, bool) {
    let i = dir as usize;
    let ahead = d.seq.wrapping_sub(slot.next[i]);
    if ahead >= 1 << 31 {
        // Bytes already taken, sent again: a retransmission.
        return (false, false);
    }
    let len = u16::try_from(d.payload.len());
    let (Ok(len), true, false, 0) = (len, slot.answered, cut, ahead) else {
        // No SYN+ACK, a payload cut by the snaplen, or a gap (a segment lost or late).
        return (true, false);
    };
    slot.next[i] = d.seq.wrapping_add(u32::from(len));
    // `count` is below 3 here: `judge` decides by the third segment, and the watch ends.
    slot.segments[usize::from(slot.count)] = OpeningSegment {
        from_opener: i == usize::from(slot.opener),
        len,
        shape: skype::tcp_shape(d.payload),
    };
    slot.count += 1;
    let judged = judge(&slot.segments[..usize::from(slot.count)]);
    (judged.is_some(), judged == Some(true))
}

/// Whether a connection's first data segments open as classic Skype TCP: `Some(true)` or
/// `Some(false)` once they tell, `None` while more are needed (at most three).
pub fn judge(segments: &[OpeningSegment]) -> Option<bool> {
    use TcpShape::*;
    let first = segments.first()?;
    let min_first = skype::CLASSIC_TCP_MIN_FIRST;
    match (first.from_opener, first.shape) {
        (true, EmptyHandshake) => {
            let second = segments.get(1)?;
            Some(!second.from_opener && second.shape == EmptyAppData)
        }
        (true, Obfuscated) if usize::from(first.len) >= min_first => {
            let second = segments.get(1)?;
            if second.from_opener
                || second.shape != Obfuscated
                || usize::from(second.len) < min_first
            {
                return Some(false);
            }
            let third = segments.get(2)?;
            Some(
                third.from_opener
                    && third.shape == Obfuscated
                    && skype::CLASSIC_TCP_THIRD_SIZES.contains(&usize::from(third.len)),
            )
        }
        (true, Sslv2Hello) => {
            let second = segments.get(1)?;
            if !second.from_opener
                || matches!(
                    second.shape,
                    Tls | EmptyHandshake | EmptyAppData | Sslv2Hello
                )
            {
                return Some(false);
            }
            Some(!segments.get(2)?.from_opener)
        }
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic(first: u8) -> SkypeSign {
        SkypeSign::ClassicUdp([first, 0x97, 2, 1, 2, 3, 4, 5])
    }

    #[test]
    fn classic_udp_needs_two_distinct_candidates_and_most_packets() {
        let mut f = SkypeFacts::default();
        f.add(5, classic(1));
        assert_eq!(f.protocols(1), vec![]);
        f.add(3, classic(2));
        assert_eq!(f.protocols(4), vec![SkypeProtocol::ClassicUdp]);
        assert_eq!(f.protocols(5), vec![]);
        assert_eq!(f.first_ns, Some(3));
    }

    #[test]
    fn a_repeated_magic_counts_once() {
        // DNSCrypt: every query starts with the same 8 bytes.
        let mut f = SkypeFacts::default();
        for _ in 0..3 {
            f.add(1, classic(7));
        }
        assert_eq!((f.classic_udp, f.classic_udp_repeats), (3, 2));
        assert_eq!(f.protocols(6), vec![]);
    }

    #[test]
    fn ms_stun_is_enough_alone_and_merges_add() {
        let mut f = SkypeFacts::default();
        f.add(9, SkypeSign::MsStun);
        assert_eq!(f.protocols(1000), vec![SkypeProtocol::MsStun]);
        let mut g = SkypeFacts::default();
        g.add(2, classic(1));
        g.add(3, classic(2));
        f.merge(&g);
        assert_eq!(f.first_ns, Some(2));
        assert_eq!(
            f.protocols(4),
            vec![SkypeProtocol::ClassicUdp, SkypeProtocol::MsStun]
        );
    }

    fn seg(from_opener: bool, len: u16, shape: TcpShape) -> OpeningSegment {
        OpeningSegment {
            from_opener,
            len,
            shape,
        }
    }

    #[test]
    fn judged_openings() {
        use TcpShape::*;
        let obf = |o, n| seg(o, n, Obfuscated);
        // The obfuscated opening: sizes, order and shapes.
        assert_eq!(judge(&[]), None);
        assert_eq!(judge(&[obf(true, 92)]), None);
        assert_eq!(judge(&[obf(true, 92), obf(false, 63)]), None);
        for third in [3, 8, 17] {
            assert_eq!(
                judge(&[obf(true, 92), obf(false, 63), obf(true, third)]),
                Some(true)
            );
        }
        for third in [4, 9, 14, 16] {
            assert_eq!(
                judge(&[obf(true, 92), obf(false, 63), obf(true, third)]),
                Some(false)
            );
        }
        assert_eq!(judge(&[obf(false, 92)]), Some(false));
        assert_eq!(judge(&[obf(true, 13)]), Some(false));
        assert_eq!(judge(&[obf(true, 92), obf(false, 13)]), Some(false));
        assert_eq!(judge(&[obf(true, 92), obf(true, 63)]), Some(false));
        assert_eq!(
            judge(&[obf(true, 92), obf(false, 63), obf(false, 8)]),
            Some(false)
        );
        assert_eq!(
            judge(&[obf(true, 92), seg(false, 63, Other), obf(true, 8)]),
            Some(false)
        );
        assert_eq!(
            judge(&[obf(true, 92), obf(false, 63), seg(true, 8, Other)]),
            Some(false)
        );
        // Empty TLS records: the answer must be the empty application-data record.
        let hello = seg(true, 5, EmptyHandshake);
        assert_eq!(judge(&[hello]), None);
        assert_eq!(judge(&[hello, seg(false, 5, EmptyAppData)]), Some(true));
        assert_eq!(judge(&[hello, seg(false, 79, Tls)]), Some(false));
        assert_eq!(judge(&[hello, seg(true, 5, EmptyAppData)]), Some(false));
        assert_eq!(judge(&[seg(false, 5, EmptyHandshake)]), Some(false));
        // SSLv2 hello: the opener talks again before any answer, not in TLS, then an answer.
        let v2 = seg(true, 72, Sslv2Hello);
        assert_eq!(judge(&[v2]), None);
        assert_eq!(judge(&[v2, obf(true, 27)]), None);
        assert_eq!(judge(&[v2, obf(true, 27), seg(false, 79, Tls)]), Some(true));
        assert_eq!(
            judge(&[v2, seg(true, 27, Other), obf(false, 30)]),
            Some(true)
        );
        assert_eq!(judge(&[v2, obf(true, 27), obf(true, 30)]), Some(false));
        assert_eq!(judge(&[v2, seg(false, 763, Tls)]), Some(false));
        assert_eq!(judge(&[v2, seg(true, 118, Tls)]), Some(false));
        // Anything else is judged on its first segment.
        assert_eq!(judge(&[seg(true, 300, Tls)]), Some(false));
        assert_eq!(judge(&[seg(true, 30, Other)]), Some(false));
    }

    /// Segments of one connection, 10.0.0.2:50075 (opener) to 198.51.100.7:`port`.
    struct Conn {
        port: u16,
        seq: [u32; 2],
    }

    impl Conn {
        fn packet<'a>(
            &self,
            from_opener: bool,
            flags: u8,
            seq: u32,
            payload: &'a [u8],
        ) -> Decoded<'a> {
            let (c, s): (std::net::IpAddr, std::net::IpAddr) =
                ("10.0.0.2".parse().unwrap(), "198.51.100.7".parse().unwrap());
            let (src, dst, sport, dport) = if from_opener {
                (c, s, 50075, self.port)
            } else {
                (s, c, self.port, 50075)
            };
            Decoded {
                src,
                dst,
                proto: 6,
                sport,
                dport,
                tcp_flags: flags,
                seq,
                payload,
            }
        }

        fn dir(from_opener: bool) -> Dir {
            if from_opener {
                Dir::AToB
            } else {
                Dir::BToA
            }
        }

        /// Feeds a segment; the sequence number advances unless `resend`.
        fn send(
            &mut self,
            t: &mut TcpOpenings,
            from_opener: bool,
            payload: &[u8],
            resend: bool,
        ) -> bool {
            let i = usize::from(!from_opener);
            let seq = if resend {
                self.seq[i].wrapping_sub(payload.len() as u32)
            } else {
                self.seq[i]
            };
            if !resend {
                self.seq[i] = seq.wrapping_add(payload.len() as u32);
            }
            let d = self.packet(from_opener, tcp_flags::ACK | 0x08, seq, payload);
            t.segment(
                0xfeed_beef_0000_0000 | u64::from(self.port),
                Conn::dir(from_opener),
                &d,
                0,
                false,
            )
        }

        fn open(t: &mut TcpOpenings, port: u16, answered: bool) -> Conn {
            let conn = Conn {
                port,
                seq: [u32::MAX - 40, 7_000],
            };
            let hash = 0xfeed_beef_0000_0000 | u64::from(port);
            let syn = conn.packet(true, tcp_flags::SYN, conn.seq[0].wrapping_sub(1), b"");
            assert!(!t.segment(hash, Dir::AToB, &syn, 0, false));
            if answered {
                let syn_ack =
                    conn.packet(false, tcp_flags::SYN | tcp_flags::ACK, conn.seq[1] - 1, b"");
                assert!(!t.segment(hash, Dir::BToA, &syn_ack, 0, false));
            }
            conn
        }
    }

    const FIRST: [u8; 20] = [
        0x6f, 0xe8, 0x84, 0xa4, 0xd6, 0x58, 0x35, 0xc7, 0x91, 0xc8, 0x60, 0x60, 0x48, 0x1d, 0xdf,
        0x2b, 0xcc, 0x0b, 0xda, 0xc1,
    ];
    const ANSWER: [u8; 16] = [
        0x5d, 0xf8, 0x47, 0x77, 0x97, 0xe4, 0xca, 0x61, 0x0e, 0x14, 0xed, 0x93, 0xd0, 0xcd, 0xbd,
        0x0e,
    ];
    const THIRD: [u8; 8] = [0xc4, 0x7f, 0x4b, 0x43, 0x8e, 0xbe, 0x18, 0xac];

    #[test]
    fn openings_are_watched_in_sequence_order() {
        let mut t = TcpOpenings::new();
        // In order, across the sequence number's wrap, with retransmissions skipped.
        let mut c = Conn::open(&mut t, 40003, true);
        assert!(!c.send(&mut t, true, &FIRST, false));
        assert!(!c.send(&mut t, true, &FIRST, true));
        assert!(!c.send(&mut t, false, &ANSWER, false));
        assert!(!c.send(&mut t, false, &ANSWER, true));
        assert!(c.send(&mut t, true, &THIRD, false));
        // Judged once: the slot is free again.
        assert!(!c.send(&mut t, true, &THIRD, true));
        assert!(!c.send(&mut t, true, &THIRD, false));
        assert!(t.slots.get(0xfeed_beef_0000_0000 | 40003, 0).is_none());
        // No SYN+ACK seen, a well-known port, a gap, a cut payload: not judged.
        let mut c = Conn::open(&mut t, 40004, false);
        for (from, p) in [(true, &FIRST[..]), (false, &ANSWER), (true, &THIRD)] {
            assert!(!c.send(&mut t, from, p, false));
        }
        let mut c = Conn::open(&mut t, 22, true);
        for (from, p) in [(true, &FIRST[..]), (false, &ANSWER), (true, &THIRD)] {
            assert!(!c.send(&mut t, from, p, false));
        }
        let mut c = Conn::open(&mut t, 40005, true);
        assert!(!c.send(&mut t, true, &FIRST, false));
        c.seq[1] += 63;
        assert!(!c.send(&mut t, false, &ANSWER, false));
        assert!(!c.send(&mut t, true, &THIRD, false));
        let mut c = Conn::open(&mut t, 40006, true);
        assert!(!c.send(&mut t, true, &FIRST, false));
        assert!(!c.send(&mut t, false, &ANSWER, false));
        let d = c.packet(true, tcp_flags::ACK, c.seq[0], &THIRD);
        assert!(!t.segment(0xfeed_beef_0000_0000 | 40006, Dir::AToB, &d, 0, true));
        // Two handshakes whose hashes pick the same set (the bits from 40 up are the same
        // here): both connections are judged, whichever came first.
        let mut a = Conn::open(&mut t, 40007, true);
        assert!(!a.send(&mut t, true, &FIRST, false));
        let mut b = Conn::open(&mut t, 40008, true);
        assert!(!a.send(&mut t, false, &ANSWER, false));
        assert!(a.send(&mut t, true, &THIRD, false));
        assert!(!b.send(&mut t, true, &FIRST, false));
        assert!(!b.send(&mut t, false, &ANSWER, false));
        assert!(b.send(&mut t, true, &THIRD, false));
        // An opening is watched for OPENING_TIMEOUT_NS only.
        let c = Conn::open(&mut t, 40009, true);
        let hash = 0xfeed_beef_0000_0000 | 40009;
        let d = c.packet(true, tcp_flags::ACK, c.seq[0], &FIRST);
        assert!(!t.segment(hash, Dir::AToB, &d, OPENING_TIMEOUT_NS + 1, false));
        assert!(t.slots.get(hash | 1, 0).is_some(), "not taken, still there");
    }

    #[test]
    fn classic_tcp_counts_once_per_connection_and_merges() {
        let mut f = SkypeFacts::default();
        assert_eq!(f.protocols(10), vec![]);
        f.add_classic_tcp(7);
        assert_eq!(f.protocols(10_000), vec![SkypeProtocol::ClassicTcp]);
        let mut g = SkypeFacts::default();
        g.add_classic_tcp(3);
        f.merge(&g);
        assert_eq!((f.classic_tcp, f.first_ns), (2, Some(3)));
    }
}
