//! When there are fewer capture files than threads, a large file (a regular, uncompressed pcap
//! or pcapng of at least [`SPLIT_MIN_BYTES`]; see [`Inputs::split_min_bytes`]) is read by
//! several threads at once, in *shards*, one more than the threads ([`shards_for`]): each
//! shard decodes and tracks (flow table, DNS pairing, TCP reassembly, fragments, tunnels, QUIC,
//! Skype openings) only the frames of its own. The file is read and walked once
//! (`capture::read_path_shared`): shard 0 *leads* on a thread of its own, reading it in chunks
//! of 1 MiB (at most 16 in flight), running the format reader and testing every frame's
//! shard; it tracks its own frames and passes the others' on, through an index of each chunk,
//! to their shard (see [`Sharded`]). The other shards *follow*: whichever thread is free shows
//! a follower its packets from the index of its next chunk, one thread at a time per shard
//! and in order, the leader's thread too when it may read no further ahead, and once it has
//! read the file.
//!
//! A frame's shard follows from the address pair of its first IP header, as a network card's
//! symmetric receive-side scaling shards traffic among queues (and Zeek's and Suricata's
//! clusters among workers): [`decode::shard_of`] hashes the pair, both orders alike, into one
//! of 64 buckets (frames with no IP header found cheaply, such as ARP, unknown link types or
//! damaged headers, into bucket 0), and the buckets are dealt to the shards by what they cost
//! to track in a sample of the file (8 MiB in 16 stretches, see [`weigh`]), heaviest first to
//! the shard furthest below its part: shard 0 a little less than one thread's part, the work
//! of leading included, and the followers the rest in even parts ([`balance`]). A few address
//! pairs often carry most packets: one carries a third of bench/make_capture.py's capture, and
//! `hash mod 2` gave one shard 70% of its packets. How buckets are dealt changes the balance,
//! never the report.
//!
//! Why one more shard than threads: the followers being more than the threads beside the
//! leader's, a free thread always finds one no other thread is showing packets, so the work
//! goes where a core is free. A sample never deals the work exactly, and a core of a shared
//! machine slows down while the other does not; with one shard per thread, each thread waited
//! for the other 1-17% of the run, the leader most when the machine was busy. On the 1.6 GB
//! capture of bench/RESULTS.md, in two sittings of 8 interleaved runs of `--threads 2` each
//! (`bench/interleave.sh`), the median was 0.97 s against 0.975 s with one shard per thread
//! on a quiet machine and 1.065 s against 1.19 s on a busier one, and with
//! `bench/busy_core.py` taking 30% of one core (3 ms in every 10, at real-time priority),
//! 1.30 s against 1.475 s and 1.37 s against 1.495 s (bench/RESULTS.md, "A free thread shows
//! any follower its packets"). Each shard gathers its own table
//! (`enrich::gather`), and the parts are merged in (file, shard) order with
//! [`Gathered::merge`].
//!
//! Tried before: every shard walking every record of the shared chunks and testing every
//! frame's shard (until 2026-11-30: `--threads 2` on the 400 MB capture of bench/RESULTS.md
//! ran 2,962 M instructions against one thread's 2,568 M, where it now runs 2,794 M against
//! 2,589 M), and, before that, one
//! thread dealing the others copies of their packets in batches, which was slower than either
//! (`--threads 2` on the 1.6 GB capture 1.32-1.54 s against 1.02-1.08 s; commits 82653e7 and
//! f12c8c0, reverted). The index passes no copy, but where a packet's bytes are in the chunk.
//!
//! Why by address pair, and not by cutting the file into stretches of time: every piece of
//! state the tracker keeps between packets lives inside one address pair. A flow (both
//! directions), its counters and its opener; a TCP direction being reassembled and the
//! classic-Skype opening being watched; the fragments of a datagram (same source,
//! destination); a DNS question and its answer (same client and server); everything inside a
//! tunnel (the outer pair decides). So each shard's state is exactly what one thread would have
//! built from those packets, and [`Gathered::merge`] adds shards as it adds files: flow counts
//! sum, endpoints and hosts merge field by field (sums, minima, maxima, unions), and name sets
//! (DNS questions per client, answers per client and address, a resolver's clients, a proxy's
//! names) are unions while under their bounds. Cutting by time would cut every such piece of
//! state at each boundary: connections without their handshake, answers without their
//! question, reassembly without its start.
//!
//! Only shard 0, which reads the file, reports it (format, packets, bytes, problems) and counts
//! its bytes in [`Progress`]. Every shard sees the time of every frame at which shard 0's clock
//! swept, so that its sweeps happen where one thread's do ([`Gatherer::clock_swept`]). The
//! decode counts of the input are the sum of every shard's, so they equal one thread's. The
//! report does not depend on the number of threads, with these known exceptions, all past a
//! bound or at the edges of a timeout (the tests compare every sample and corpus capture read
//! by one thread and on 2 and 3 threads, byte for byte):
//! - bounds that hold per tracker hold per shard, so n shards together may keep up to n times
//!   as much where one thread would have dropped or given up: the pending DNS questions
//!   (65,536), the bytes and directions of TCP reassembly (8 MiB, 4,096), the fragments
//!   waiting for reassembly (4 MiB, 1,024 datagrams); and the tables of watched TCP openings
//!   (160 KiB) and of expected first sequence numbers (`flow::ways`: 4,096 entries each, in
//!   sets of 4), where an entry gives way to another only when all four of its set are live
//!   (they were direct-mapped, and then connections of different shards that shared a slot
//!   evicted each other in one thread only: two of nDPI's `skype.pcap` connections did);
//! - the 30 s timeouts of TCP reassembly and fragments are looked for at most once a second of
//!   capture time, on the packets the tracker sees: a direction or datagram that completes
//!   between 30 and 31 s after it started may be given up in one case and not the other;
//! - name sets past their bounds (4,096 questions per client, 64 names per client and address,
//!   64 clients per resolver, 4,096 names per proxy) keep the first names seen by one thread,
//!   but each shard's first names and then the merge's, in name order;
//! - a flow seen both inside a tunnel and outside it, or through two tunnels (two mirror
//!   sessions that copy the same traffic: tcpdump's `erspan-type-ii-2.pcap`, whose four inner
//!   flows count 8 in shards; nDPI's `6in6tunnel.pcap`, one datagram in two tunnels), or
//!   both in frames whose IP header the shard test cannot reach (802.11 A-MSDU, more than three
//!   VLAN tags) and in plain frames, is split between shards: it counts once in each, as a
//!   flow spread over two files does;
//! - past 16,384 hosts (or a memory budget reached), each shard summarises the quiet hosts it
//!   sees on what it sees of them: a host quiet in one shard for a while and showing a sign in
//!   another, or later, is listed with its endpoints from after that, and a note of the flows
//!   summarised, where one thread may list more of it. Its label, evidence, advisories and
//!   roles are the same (`tests/samples_expected.rs` summarises at every chance on 2 and 3
//!   threads to check it); on the 1 GB many-hosts capture of bench/RESULTS.md, 145 of the 226
//!   hosts listed differ from one thread's in their coverage notes and endpoints, none in
//!   those;
//! - a file that changes while the shards read it.

use std::path::{Path, PathBuf};

use super::gather::Gatherer;
use crate::capture::{self, Follow, Lead, Packet, PacketSink, Pass};
use crate::decode;
use crate::flow::FlowKey;

/// Buckets of address pairs the shards of a split input are made of ([`decode::shard_of`]
/// into this many), so that a few busy pairs can be balanced (see [`balance`]). Also the most
/// shards one input is split into.
const BUCKETS: usize = 64;

/// Stretches of a split input read to weigh its buckets, and the bytes of each: 8 MiB in all.
const SAMPLE_WINDOWS: u64 = 16;
const SAMPLE_WINDOW_BYTES: u64 = 512 << 10;

/// What a packet of the sample costs in [`weigh`], in units of about 100 instructions
/// (`valgrind --tool=callgrind` of `tomskype analyze --threads 1` on bench/make_capture.py's
/// 400 MB capture: about 1,000 for each packet decoded and counted, 1,300 more for one that
/// takes the general path (tunnels, fragments, other link types), 700 more to inspect a
/// payload (DNS, TLS, HTTP, QUIC), 900 for each flow made, then ended and gathered). DNS counts
/// 1,000 more: its names are read and stored.
mod cost {
    /// What shard 0, which leads the shared reading, does for every packet of the file beside
    /// its own tracking (see [`super::Weights::lead`]): walking the record, testing its shard
    /// and passing it on (`WALK`), and the kernel's copy of its bytes (one unit per
    /// `COPY_BYTES`). From `perf record` of `--threads 2` on the 1.6 GB capture of
    /// bench/RESULTS.md (4.9 million packets): the copy took 15% of the 1.53 s of CPU (0.15 ns
    /// a byte), the walk, the test and the passing on 7% (22 ns a packet), and tracking the
    /// rest, about 9 ns for each of the 126 million units the sample's weights come to over
    /// the file. With these, shard 0's thread had 47-49% of the samples in three runs; with
    /// `WALK` 1 and `COPY_BYTES` 200, 52-54%.
    pub(super) const WALK: u64 = 2;
    pub(super) const COPY_BYTES: u64 = 64;
    pub(super) const PACKET: u64 = 10;
    pub(super) const GENERAL: u64 = 13;
    pub(super) const PAYLOAD: u64 = 7;
    pub(super) const NEW_FLOW: u64 = 9;
    pub(super) const DNS: u64 = 10;
}

/// One shard of an input: the frames whose bucket `owners` gives to `k` (of `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shard {
    pub(super) k: u8,
    pub(super) n: u8,
    pub(super) owners: [u8; BUCKETS],
}

impl Shard {
    /// The whole input, unsplit.
    pub(super) const WHOLE: Shard = Shard {
        k: 0,
        n: 1,
        owners: [0; BUCKETS],
    };

    /// Whether the frame `data` of `link_type` is this shard's.
    #[inline(always)]
    pub(super) fn owns(&self, link_type: u32, data: &[u8]) -> bool {
        self.owner(link_type, data) == self.k
    }

    /// The shard the frame `data` of `link_type` belongs to (this one, when unsplit).
    #[inline(always)]
    fn owner(&self, link_type: u32, data: &[u8]) -> u8 {
        if self.n == 1 {
            return self.k;
        }
        let bucket = decode::shard_of(link_type, data, BUCKETS as u32) as usize;
        self.owners.get(bucket).copied().unwrap_or(0)
    }
}

/// What each bucket costs to track, in a sample of the input at `path` (`len` bytes): its
/// start (the file header, the interfaces described) and stretches spread over the rest (each
/// read afresh from its first record; see below), each packet weighed by what it will make a
/// tracker do ([`cost`]), as told by its headers. Work, not packets: a packet of a bulk
/// transfer costs far less than one that opens a flow or carries DNS, and dealing
/// bench/make_capture.py's buckets by their packets gave one shard twice the tracking work of
/// the other (`perf`: 10% against 5% of the samples in `Tracker::packet`). Not the time each
/// packet took to track, as until 2026-11-30: timing made the dealing, hence the report's
/// known exceptions (a tunnelled flow counted in two shards), differ from run to run
/// (`--threads 2` on the 400 MB capture counted 399,166 or 399,250 flows), and tracking the
/// sample cost 139 M instructions before either thread began, a twentieth of the run's
/// (`valgrind --tool=callgrind`; 15 M now). With the sample read as below and weighed so,
/// the busier thread of `--threads 2` on the 1.6 GB capture had 50.2%, 51.0% and 50.8% of
/// the run's samples (`perf record`, three runs). An estimate only: which shard a bucket goes
/// to changes the balance, never the verdicts.
pub(super) fn weigh(path: &Path, len: u64) -> Weights {
    use std::io::{Read, Seek, SeekFrom};
    let mut weights = Weights {
        buckets: [0; BUCKETS],
        lead: 0,
    };
    let Ok(mut file) = std::fs::File::open(path) else {
        return weights;
    };
    // A file no larger than the sample is read whole, once.
    let windows = if len > SAMPLE_WINDOWS * SAMPLE_WINDOW_BYTES {
        SAMPLE_WINDOWS
    } else {
        1
    };
    // Each stretch of a pcap file is read as a capture of its own, from its first record
    // (found by `first_record_in`), behind the file's header. Read as one capture with seams,
    // the reader's resync took chance bytes in packets for records: half of a sample of the
    // 400 MB capture was misread, and looking for records cost a twentieth of the whole run's
    // instructions. Other files (pcapng) are read as one, with seams.
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    for w in 0..windows {
        let at = len / windows * w;
        if file.seek(SeekFrom::Start(at)).is_err() {
            break;
        }
        let bytes = if windows == 1 {
            len
        } else {
            SAMPLE_WINDOW_BYTES
        };
        let mut window = Vec::new();
        if (&mut file).take(bytes).read_to_end(&mut window).is_err() {
            break;
        }
        match pieces.first_mut() {
            None => pieces.push(window),
            Some(first) => match capture::pcap::first_record_in(first, &window) {
                Some(start) => {
                    let mut piece = first[..capture::pcap::FILE_HEADER].to_vec();
                    piece.extend_from_slice(&window[start..]);
                    pieces.push(piece);
                }
                None => first.extend_from_slice(&window),
            },
        }
    }
    let mut flows: rustc_hash::FxHashSet<FlowKey> = rustc_hash::FxHashSet::default();
    let mut weigh_packet = |p: &Packet<'_>| {
        let bucket = decode::shard_of(p.link_type, p.data, BUCKETS as u32) as usize;
        let mut cost = cost::PACKET;
        match decode::fast_path(p.link_type, p.data) {
            None => cost += cost::GENERAL,
            Some(d) => {
                let (key, _) = FlowKey::new(d.proto, d.src, d.sport, d.dst, d.dport);
                if flows.insert(key) {
                    cost += cost::NEW_FLOW;
                }
                if !d.payload.is_empty() {
                    cost += cost::PAYLOAD;
                    if d.sport == 53 || d.dport == 53 {
                        cost += cost::DNS;
                    }
                }
            }
        }
        if let Some(w) = weights.buckets.get_mut(bucket) {
            *w += cost;
        }
        weights.lead += cost::WALK + p.data.len() as u64 / cost::COPY_BYTES;
    };
    for piece in &pieces {
        capture::read_bytes(piece, &mut weigh_packet);
    }
    weights
}

/// What the shards of a split input will have to do, as weighed in a sample ([`weigh`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Weights {
    /// What tracking each bucket's packets costs.
    pub(super) buckets: [u64; BUCKETS],
    /// What shard 0 does beside its own tracking: it leads the shared reading of the file
    /// (`capture::read_path_shared`), so it alone has the kernel copy every byte and walks
    /// every record, and it tests every packet's shard and passes on the others'.
    pub(super) lead: u64,
}

/// Which of `n` shards, read on `threads` threads, each bucket goes to. Shard 0 leads the
/// reading on a thread of its own and is given [`LEAD_SHARE`] of one thread's part of the
/// work, the work of leading included; the others share the rest evenly, and the threads show
/// them their packets as they are free (`capture::read_path_shared`), the leader's too when it
/// is ahead. The heaviest bucket goes first to the shard furthest below its part so far (ties
/// to the lower bucket and shard), then the buckets the sample did not see, in turn. Busy
/// address pairs are common (one pair carries a third of the packets of
/// bench/make_capture.py's capture), and a plain `hash mod n` left 70% of them to one shard.
/// The weights are those of [`weigh`], or any other measure of work.
pub(super) fn balance(weights: &Weights, n: u8, threads: u8) -> [u8; BUCKETS] {
    let (lead, weights) = (weights.lead, &weights.buckets);
    let mut owners = [0u8; BUCKETS];
    let n = usize::from(n.max(1));
    let threads = u128::from(threads.clamp(1, n as u8));
    // Each shard's part of the whole, in the same units (at least 1, to compare by).
    let total = u128::from(lead) + weights.iter().map(|&w| u128::from(w)).sum::<u128>();
    let first = (total * LEAD_SHARE.0 / (LEAD_SHARE.1 * threads)).max(1);
    let other = ((total.saturating_sub(first)) / (n as u128 - 1).max(1)).max(1);
    let part = |k: usize| if k == 0 || n == 1 { first } else { other };
    let mut load = vec![0u128; n];
    load[0] = u128::from(lead);
    let mut order: Vec<usize> = (0..BUCKETS).collect();
    order.sort_by_key(|&b| (std::cmp::Reverse(weights[b]), b));
    let mut unseen = 0usize;
    for b in order {
        let k = if weights[b] > 0 {
            // The lowest load / part, compared as load_a * part_b < load_b * part_a.
            (0..n)
                .min_by(|&a, &c| (load[a] * part(c), a).cmp(&(load[c] * part(a), c)))
                .unwrap_or(0)
        } else {
            unseen += 1;
            (unseen - 1) % n
        };
        load[k] += u128::from(weights[b]);
        owners[b] = u8::try_from(k).unwrap_or(0);
    }
    owners
}

/// The shards an input read on `threads` threads is split into: none on one; on more, one
/// more than the threads, so that a thread that is free can always be given a follower no
/// other thread is showing packets (`capture::read_path_shared`).
pub(super) fn shards_for(threads: u8) -> u8 {
    match threads {
        0 | 1 => 1,
        t => t.saturating_add(1).min(BUCKETS as u8),
    }
}

/// Shard 0's part of one thread's work (numerator, denominator): a little under a whole one,
/// so that it leads the reading ahead of the others (they cannot be shown a chunk before it is
/// read) and, when it is as far ahead as it may be, helps them.
const LEAD_SHARE: (u128, u128) = (7, 10);

/// How many shards each of `paths` is read in by `threads` workers: one each, unless there are
/// fewer inputs than threads; then the spare threads go to the regular, uncompressed pcap and
/// pcapng files of at least `split_min` bytes, a fair share each (the largest first for what
/// does not divide evenly).
pub(super) fn shares(paths: &[PathBuf], threads: usize, split_min: u64) -> Vec<u32> {
    let mut shares = vec![1u32; paths.len()];
    let Some(spare) = threads.checked_sub(paths.len()).filter(|&s| s > 0) else {
        return shares;
    };
    let mut big: Vec<(u64, usize)> = paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((capture::plain_capture_len(p)?, i)))
        .filter(|&(len, _)| len >= split_min)
        .collect();
    if big.is_empty() {
        return shares;
    }
    big.sort_by_key(|&(len, i)| (std::cmp::Reverse(len), i));
    let (each, rest) = (spare / big.len(), spare % big.len());
    for (rank, &(_, i)) in big.iter().enumerate() {
        let more = each + usize::from(rank < rest);
        // At most one shard per bucket.
        shares[i] = u32::try_from((1 + more).min(BUCKETS)).unwrap_or(1);
    }
    shares
}

/// A gatherer of one shard: it tracks only the frames of its shard, and its clock is shown the
/// time of every frame (or, following the leader, of every frame at which a sweep is due), so
/// that where sweeps happen does not depend on the split (see [`Gatherer`]).
pub(super) struct Sharded<'a> {
    pub(super) shard: Shard,
    pub(super) inner: Gatherer<'a>,
}

impl PacketSink for Sharded<'_> {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        self.inner.clock(packet.ts_nanos);
        if self.shard.owns(packet.link_type, packet.data) {
            self.inner.track(packet);
        }
    }
}

/// Shard 0 of a split input leads its shared reading (`capture::read_path_shared`): it is
/// handed every packet, tracks its own, and passes on the others' to their shard, and the time
/// of its own packets at which its clock swept (so that every shard sweeps where it does: see
/// [`Gatherer::clock_swept`]).
impl Lead for Sharded<'_> {
    #[inline]
    fn lead(&mut self, packet: &Packet<'_>) -> Pass {
        let swept = self.inner.clock_swept(packet.ts_nanos);
        let owner = self.shard.owner(packet.link_type, packet.data);
        if owner != self.shard.k {
            Pass::To {
                shard: owner,
                swept,
            }
        } else {
            self.inner.track(packet);
            if swept {
                Pass::Time
            } else {
                Pass::No
            }
        }
    }
}

/// The other shards follow it: shown every packet passed on, they track their own.
impl Follow for Sharded<'_> {
    #[inline]
    fn follow(&mut self, packet: &Packet<'_>, mine: bool) {
        self.inner.clock(packet.ts_nanos);
        if mine {
            self.inner.track(packet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn spare_threads_go_to_large_plain_captures() {
        let big = sample("tom-skype-busy-host.pcapng");
        let small = sample("no-skype-browsing.pcap");
        let gzip = sample("regular-skype-2012-servers-only.pcap.gz");
        let size = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert!(size(&big) > size(&small));
        // Never more shards than threads, one each when there are as many inputs as threads.
        assert_eq!(shares(std::slice::from_ref(&big), 1, 0), vec![1]);
        assert_eq!(shares(std::slice::from_ref(&big), 4, 0), vec![4]);
        assert_eq!(shares(&[big.clone(), small.clone()], 2, 0), vec![1, 1]);
        // A fair share each; what does not divide goes to the largest first.
        assert_eq!(shares(&[small.clone(), big.clone()], 5, 0), vec![2, 3]);
        // Too small, compressed, standard input, a FIFO (never opened: that would wait for a
        // writer): not split.
        assert_eq!(shares(std::slice::from_ref(&big), 4, u64::MAX), vec![1]);
        assert_eq!(shares(&[gzip, small.clone()], 4, 0), vec![1, 3]);
        assert_eq!(shares(&[PathBuf::from("-")], 4, 0), vec![1]);
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                assert_eq!(shares(&[fifo], 4, 0), vec![1]);
            }
        }
        // At most one shard per bucket.
        assert_eq!(
            shares(std::slice::from_ref(&big), 1000, 0),
            vec![BUCKETS as u32]
        );
    }

    #[test]
    fn weighing_is_the_same_in_every_run() {
        // Timed weights differed from run to run, and so did the dealing and the report's
        // known exceptions.
        let big = sample("tom-skype-busy-host.pcapng");
        let len = std::fs::metadata(&big).unwrap().len();
        let first = weigh(&big, len);
        assert!(first.buckets.iter().filter(|&&w| w > 0).count() > 1);
        assert!(first.lead > 0);
        for _ in 0..3 {
            assert_eq!(weigh(&big, len), first);
        }
    }

    #[test]
    fn buckets_are_balanced_heaviest_first() {
        let mut weights = [0u64; BUCKETS];
        weights[3] = 30;
        weights[9] = 20;
        weights[10] = 15;
        weights[11] = 10;
        let weights = Weights {
            buckets: weights,
            lead: 0,
        };
        // Three shards on two threads: shard 0's part is 7/10 of a thread's (26 of 75), the
        // others share the rest (24 each); each bucket goes to the shard furthest below its
        // part.
        let owners = balance(&weights, 3, 2);
        let load = |k: u8| -> u64 {
            (0..BUCKETS)
                .filter(|&b| owners[b] == k)
                .map(|b| weights.buckets[b])
                .sum()
        };
        assert_eq!((load(0), load(1), load(2)), (30, 20, 25));
        assert_eq!((owners[3], owners[9], owners[10], owners[11]), (0, 1, 2, 2));
        // The buckets not seen are spread in turn.
        let unseen = (0..BUCKETS).filter(|&b| weights.buckets[b] == 0);
        let mut spread = [0; 3];
        unseen.for_each(|b| spread[usize::from(owners[b])] += 1);
        assert_eq!(spread, [20, 20, 20]);
        assert!(balance(&weights, 5, 4).iter().all(|&k| k < 5));
        assert_eq!(balance(&weights, 1, 1), [0; BUCKETS]);
        // As many shards as threads: shard 0's part is 7/10 of a half.
        let two = balance(&weights, 2, 2);
        assert_eq!((two[3], two[9], two[10], two[11]), (0, 1, 1, 1));
        // Shard 0 leads the reading: it starts with that work (40 of its part of 40 here),
        // and takes no tracking.
        let led = balance(
            &Weights {
                lead: 40,
                ..weights.clone()
            },
            3,
            2,
        );
        assert_eq!((led[3], led[9], led[10], led[11]), (1, 2, 2, 1));
    }
}
