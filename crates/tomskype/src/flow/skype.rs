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

use serde::Serialize;

pub use crate::decode::skype::SkypeProtocol;
use crate::decode::skype::SkypeSign;

/// Distinct classic-UDP candidates a flow needs.
pub const MIN_CLASSIC_UDP: u32 = 2;

/// Skype protocol signs seen on one flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SkypeFacts {
    /// Packets with Microsoft STUN attributes.
    pub ms_stun: u32,
    /// Packets framed as classic Skype UDP.
    pub classic_udp: u32,
    /// Of those, packets whose first 8 bytes repeat the previous candidate's.
    pub classic_udp_repeats: u32,
    /// Time of the first sign, ns since the epoch.
    pub first_ns: Option<i64>,
    /// First 8 bytes of the last classic candidate.
    #[serde(skip)]
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

    /// Adds the counts of another record of the same flow.
    pub fn merge(&mut self, other: &SkypeFacts) {
        self.ms_stun = self.ms_stun.saturating_add(other.ms_stun);
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
}
