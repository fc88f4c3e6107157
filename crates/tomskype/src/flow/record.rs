//! Stage 3, flows: one flow's record: packet and byte counts per direction, first and last
//! time, and who opened it. [`super::map::FlowMap`] stores them; [`super::table::FlowTable`]
//! keeps the names seen beside them.

use super::key::{Dir, FlowKey};

/// Who opened a flow, and how sure that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Opener {
    /// Not known yet.
    #[default]
    Unknown,
    /// End `a`, guessed from the first packet or the ports.
    AGuess,
    /// End `b`, guessed from the first packet or the ports.
    BGuess,
    /// End `a`, seen sending the TCP SYN.
    A,
    /// End `b`, seen sending the TCP SYN.
    B,
}

impl Opener {
    /// The end that opened the flow, if known or guessed.
    pub fn side(self) -> Option<Dir> {
        match self {
            Opener::A | Opener::AGuess => Some(Dir::AToB),
            Opener::B | Opener::BGuess => Some(Dir::BToA),
            Opener::Unknown => None,
        }
    }
}

/// Counters of one flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Packets per direction, indexed by [`Dir`].
    pub packets: [u64; 2],
    /// Bytes on the wire per direction, indexed by [`Dir`].
    pub bytes: [u64; 2],
    /// Time of the first packet, ns since the epoch.
    pub first_ns: i64,
    /// Time of the last packet, ns since the epoch.
    pub last_ns: i64,
    /// Who opened it.
    pub opener: Opener,
}

impl Flow {
    pub(crate) fn new(ts: i64) -> Flow {
        Flow {
            packets: [0; 2],
            bytes: [0; 2],
            first_ns: ts,
            last_ns: ts,
            opener: Opener::Unknown,
        }
    }

    /// Packets both ways.
    pub fn total_packets(&self) -> u64 {
        self.packets[0] + self.packets[1]
    }

    /// Bytes both ways.
    pub fn total_bytes(&self) -> u64 {
        self.bytes[0] + self.bytes[1]
    }

    /// Counts one packet of `bytes` wire bytes at `ts`, sent in direction `dir` on flow `key`.
    /// `syn` says whether it was a TCP SYN, `syn_ack` a SYN+ACK.
    #[inline(always)]
    pub(crate) fn count(
        &mut self,
        key: &FlowKey,
        ts: i64,
        dir: Dir,
        bytes: u32,
        syn: bool,
        syn_ack: bool,
    ) {
        let d = dir as usize;
        self.packets[d] += 1;
        self.bytes[d] += u64::from(bytes);
        self.first_ns = self.first_ns.min(ts);
        self.last_ns = self.last_ns.max(ts);
        if syn {
            // A SYN is sent by the opener; a SYN+ACK by the other end.
            let opener_dir = if syn_ack { dir.reverse() } else { dir };
            self.opener = match opener_dir {
                Dir::AToB => Opener::A,
                Dir::BToA => Opener::B,
            };
        } else if self.opener == Opener::Unknown {
            self.opener = guess_opener(key, dir);
        }
    }

    pub(crate) fn merge(&mut self, other: &Flow) {
        for i in 0..2 {
            self.packets[i] += other.packets[i];
            self.bytes[i] += other.bytes[i];
        }
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        let certain = |o: Opener| matches!(o, Opener::A | Opener::B);
        if self.opener == Opener::Unknown || (!certain(self.opener) && certain(other.opener)) {
            self.opener = other.opener;
        }
    }
}

/// Guesses who opened a flow whose opening was not seen: the sender of the first packet,
/// unless the ports say otherwise (a packet from a well-known port to an ephemeral one is a
/// server's answer).
pub(crate) fn guess_opener(key: &FlowKey, dir: Dir) -> Opener {
    let (_, sport) = key.sender(dir);
    let (_, dport) = key.receiver(dir);
    let server_answers = sport < 1024 && dport >= 1024;
    let first_sender = if server_answers { dir.reverse() } else { dir };
    match first_sender {
        Dir::AToB => Opener::AGuess,
        Dir::BToA => Opener::BGuess,
    }
}
