//! Stage 3, flows: the per-packet driver. Decodes each packet (the fast path, else the general
//! path with its tunnels and fragments), updates the flow table, and hands the few packets
//! that may carry names (DNS, TLS ClientHello, HTTP request) to the application parsers,
//! joining the first TCP segments of a direction when a message spans several
//! ([`super::streams`]) and IP fragments into datagrams ([`decode::Reassembler`]); it watches
//! the first segments of TCP connections for Skype's classic framing
//! ([`super::skype::TcpOpenings`]). It pairs each DNS answer with the question it answers
//! (client and server address and port, transport, transaction id, name), so that the table
//! can tell a client's own answers from ones nobody asked for, and records who sent each
//! request.

use crate::capture::{linktype, Packet, PacketSink};
use crate::decode::app::{AppFact, Inspector, Malformed};
use crate::decode::{self, layers, tcp_flags, DecodeStats, Decoded, Layer, Reassembler, Skip};

use std::sync::Arc;

use super::names::{DnsKey, PendingDns, Watch};
use super::skype::TcpOpenings;
use super::streams::{Segment, Streams, MAX_STREAM_BYTES};
use super::{Dir, FlowKey, FlowTable, HttpFact, Probe};

/// Builds a [`FlowTable`] from packets. Implements [`PacketSink`], so any capture source can
/// feed it.
///
/// Each packet's flow is counted two packets later: its index word is asked for when it is
/// decoded, its flow one packet later, and both are in cache when it is counted (see
/// [`crate::flow::FlowMap`]). [`Tracker::table`] and [`Tracker::into_parts`] count what is
/// still pending first.
#[derive(Debug, Default)]
pub struct Tracker {
    table: FlowTable,
    /// What the decoder made of the packets.
    pub stats: DecodeStats,
    /// Packets not counted yet: `[newest, older]`.
    pending: [Option<Pending>; 2],
    inspector: Inspector,
    dns_waiting: PendingDns,
    fragments: Reassembler,
    streams: Streams,
    skype_tcp: TcpOpenings,
}

/// A packet whose flow is still to be counted.
#[derive(Debug, Clone, Copy)]
struct Pending {
    probe: Probe,
    ts: i64,
    dir: Dir,
    bytes: u32,
    syn: bool,
    syn_ack: bool,
}

impl Tracker {
    /// A tracker with an empty table.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A tracker whose table keeps what `watch` names past every bound.
    pub fn with_watch(watch: Arc<dyn Watch>) -> Tracker {
        Tracker {
            table: FlowTable::with_watch(watch),
            ..Tracker::default()
        }
    }

    /// DNS questions that stopped waiting for their answer while it could still come (the
    /// store of waiting questions was full, and they were the oldest): their answers read as
    /// unsolicited.
    pub fn dns_questions_dropped(&self) -> u64 {
        self.dns_waiting.dropped
    }

    /// The flows and names seen so far.
    pub fn table(&mut self) -> &FlowTable {
        self.flush();
        &self.table
    }

    /// Takes out of the table the flows that are over at `now` (see [`FlowTable::take_idle`]),
    /// after counting the packets still pending and reading the TCP directions buffered for
    /// longer than streams wait ([`super::streams::TIMEOUT_NS`], shorter than any flow's
    /// timeout), so that what they held is on their flows when these leave. DNS questions
    /// too old to be answered stop waiting ([`PendingDns::expire`]).
    pub fn take_idle(
        &mut self,
        now: i64,
        batch: usize,
        each: impl FnMut(&[super::Ended], &FlowTable),
    ) {
        self.streams.expire(now);
        self.dns_waiting.expire(now);
        self.read_given_up();
        self.flush();
        self.table.take_idle(now, batch, each);
    }

    /// Reads what is still buffered (see [`Tracker::into_parts`]) and takes every flow out of
    /// the table, with its names: the end of an input, gathered in pieces (the rest of the
    /// table is then had with [`Tracker::into_parts`]).
    pub fn take_all(&mut self, batch: usize, each: impl FnMut(&[super::Ended], &FlowTable)) {
        self.fragments.finish();
        self.streams.finish();
        self.read_given_up();
        self.flush();
        self.table.take_all(batch, each);
    }

    /// Takes out of the table the half of the flows silent for longest, over or not (see
    /// [`FlowTable::take_oldest_half`]), after counting the packets still pending.
    pub fn take_oldest_half(
        &mut self,
        batch: usize,
        each: impl FnMut(&[super::Ended], &FlowTable),
    ) {
        self.flush();
        self.table.take_oldest_half(batch, each);
    }

    /// The table, to change it (live capture adds the programs that owned sockets).
    pub fn table_mut(&mut self) -> &mut FlowTable {
        self.flush();
        &mut self.table
    }

    /// The flows and names seen, and the decoder's statistics. Datagrams still missing
    /// fragments count as incomplete; TCP directions still buffered are read as far as they
    /// go.
    pub fn into_parts(mut self) -> (FlowTable, DecodeStats) {
        self.fragments.finish();
        self.streams.finish();
        self.read_given_up();
        self.flush();
        self.stats.fragments = self.fragments.counts;
        self.stats.tcp_reassembly = self.streams.counts;
        (self.table, self.stats)
    }

    /// Bytes held now for fragments and TCP streams (bounded by [`decode::fragments`]'s and
    /// [`super::streams`]' limits: 4 MiB and 8 MiB).
    pub fn buffered(&self) -> usize {
        self.fragments.buffered() + self.streams.buffered()
    }

    /// Counts the packets still pending, oldest first.
    fn flush(&mut self) {
        let [newest, older] = std::mem::take(&mut self.pending);
        for p in [older, newest].into_iter().flatten() {
            self.apply(&p);
        }
    }

    #[inline(always)]
    fn apply(&mut self, p: &Pending) {
        self.table
            .count(&p.probe, p.ts, p.dir, p.bytes, p.syn, p.syn_ack);
    }

    /// Queues `p`: asks for its index word, for the flow of the packet before it, and counts
    /// the one before that.
    #[inline(always)]
    fn enqueue(&mut self, p: Pending) {
        self.table.flows.prefetch(&p.probe);
        if let Some(oldest) = self.pending[1].take() {
            self.apply(&oldest);
        }
        if let Some(prev) = &self.pending[0] {
            self.table.flows.prefetch_flow(&prev.probe);
        }
        self.pending[1] = self.pending[0].take();
        self.pending[0] = Some(p);
    }
}

impl PacketSink for Tracker {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        // The packet's bytes were cut by the snaplen: its payload cannot be joined to others.
        let cut = packet.data.len() < packet.orig_len as usize;
        match decode::fast_path(packet.link_type, packet.data) {
            Some(d) => self.decoded(&d, packet.ts_nanos, packet.orig_len, cut),
            None => self.general(
                packet.link_type,
                packet.data,
                packet.ts_nanos,
                packet.orig_len,
                cut,
            ),
        }
    }
}

impl Tracker {
    /// A packet the fast path refused: tunnels, fragments, other link types, bad headers.
    #[inline(never)]
    fn general(&mut self, link_type: u32, data: &[u8], ts: i64, orig_len: u32, cut: bool) {
        // The frame's bytes go to its first result (A-MSDU subframes after it count 0).
        let mut bytes = orig_len;
        let tunnels = layers::each(link_type, data, &mut |layer| {
            self.layer(layer, ts, bytes, cut);
            bytes = 0;
        });
        self.stats.count_tunnels(tunnels);
    }

    fn layer(&mut self, layer: Layer<'_>, ts: i64, bytes: u32, cut: bool) {
        match layer {
            Layer::Packet(d) => self.decoded(&d, ts, bytes, cut),
            Layer::Skipped(why) => self.stats.skip(why),
            Layer::Fragment(f) => {
                let Some(datagram) = self.fragments.add(ts, &f) else {
                    return;
                };
                // The whole datagram, behind a header without fragment fields, goes through
                // the general path as one packet.
                let len = u32::try_from(datagram.len()).unwrap_or(u32::MAX);
                let tunnels = layers::each(linktype::RAW, &datagram, &mut |inner| match inner {
                    Layer::Packet(d) => self.decoded(&d, ts, len, false),
                    Layer::Skipped(why) => self.stats.skip(why),
                    // Cannot happen: the header written has no fragment fields.
                    Layer::Fragment(_) => self.stats.skip(Skip::Fragment),
                });
                self.stats.count_tunnels(tunnels);
            }
        }
    }

    #[inline(always)]
    fn decoded(&mut self, d: &Decoded<'_>, ts: i64, bytes: u32, cut: bool) {
        self.stats.decoded += 1;
        if !decode::has_ports(d) && (d.proto == decode::proto::TCP || d.proto == decode::proto::UDP)
        {
            self.stats.transport_truncated += 1;
        }
        let (key, dir) = FlowKey::new(d.proto, d.src, d.sport, d.dst, d.dport);
        let is_tcp = d.proto == decode::proto::TCP;
        let syn = is_tcp && d.tcp_flags & tcp_flags::SYN != 0;
        let syn_ack = syn && d.tcp_flags & tcp_flags::ACK != 0;
        let probe = self.table.flows.probe(&key);
        let hash = probe.hash();
        self.enqueue(Pending {
            probe,
            ts,
            dir,
            bytes,
            syn,
            syn_ack,
        });
        if d.payload.is_empty() && !syn {
            return;
        }
        if is_tcp && decode::has_ports(d) {
            if self.skype_tcp.segment(hash, dir, d, ts, cut) {
                self.table.skype_classic_tcp(ts, key);
            }
            match self.streams.segment(hash, key, dir, d, ts) {
                Segment::InPlace => {}
                Segment::Held => return self.read_given_up(),
                Segment::Joined(joined) => {
                    let full = joined.len() >= MAX_STREAM_BYTES;
                    let whole = Decoded {
                        payload: joined,
                        ..*d
                    };
                    let found = if full {
                        self.inspector.inspect_final(&whole)
                    } else {
                        self.inspector.inspect(&whole)
                    };
                    if record(
                        &mut self.table,
                        &mut self.dns_waiting,
                        &mut self.stats,
                        found,
                        &whole,
                        key,
                        ts,
                    ) {
                        self.streams.close(hash, key, dir, !full);
                    }
                    return self.read_given_up();
                }
            }
            if d.payload.is_empty() {
                return;
            }
            let found = self.inspector.inspect(d);
            if matches!(found, Err(Malformed::NeedMore)) {
                if cut {
                    let found = self.inspector.inspect_final(d);
                    record(
                        &mut self.table,
                        &mut self.dns_waiting,
                        &mut self.stats,
                        found,
                        d,
                        key,
                        ts,
                    );
                } else {
                    self.streams.start(hash, key, dir, d, ts);
                    self.read_given_up();
                }
                return;
            }
            record(
                &mut self.table,
                &mut self.dns_waiting,
                &mut self.stats,
                found,
                d,
                key,
                ts,
            );
            return;
        }
        let found = self.inspector.inspect(d);
        record(
            &mut self.table,
            &mut self.dns_waiting,
            &mut self.stats,
            found,
            d,
            key,
            ts,
        );
    }

    /// Reads the TCP directions the stream buffers gave up, as far as their bytes go.
    fn read_given_up(&mut self) {
        while let Some((head, bytes, ts)) = self.streams.take_given_up() {
            let d = Decoded {
                payload: &bytes,
                ..head
            };
            let (key, _) = FlowKey::new(d.proto, d.src, d.sport, d.dst, d.dport);
            let found = self.inspector.inspect_final(&d);
            record(
                &mut self.table,
                &mut self.dns_waiting,
                &mut self.stats,
                found,
                &d,
                key,
                ts,
            );
        }
    }
}

/// Records what the application parsers found in `d` (flow `key`, time `ts`), pairing DNS
/// answers with their questions in `dns_waiting`. Returns false when the message goes on in
/// later segments (nothing recorded).
fn record(
    table: &mut FlowTable,
    dns_waiting: &mut PendingDns,
    stats: &mut DecodeStats,
    found: Result<Option<AppFact<'_>>, Malformed>,
    d: &Decoded<'_>,
    key: FlowKey,
    ts: i64,
) -> bool {
    match found {
        Ok(None) => {}
        Ok(Some(AppFact::Dns(msg))) => {
            let first = msg.questions.first().map(|q| q.name.as_str());
            if msg.is_response {
                // Sent by the server to the client: paired with the client's question.
                let (server, client) = (d.src, d.dst);
                let key = DnsKey {
                    client: (client, d.dport),
                    server: (server, d.sport),
                    proto: d.proto,
                    id: msg.id,
                };
                let solicited = first.is_some_and(|name| dns_waiting.answer(&key, ts, name));
                if solicited && d.sport == 53 {
                    table.dns_served(server, client);
                }
                for (name, addr) in msg.resolutions() {
                    table.dns_answer(ts, client, name, addr, solicited);
                }
            } else {
                let client = d.src;
                for q in &msg.questions {
                    table.dns_query(ts, client, &q.name);
                }
                if let Some(name) = first {
                    let key = DnsKey {
                        client: (client, d.sport),
                        server: (d.dst, d.dport),
                        proto: d.proto,
                        id: msg.id,
                    };
                    dns_waiting.ask(key, ts, name);
                }
            }
        }
        Ok(Some(AppFact::Sni(name))) => table.tls_sni(ts, key, d.src, &name),
        // Skype speaks to one peer at a time: a datagram to a group (HSRP hellos, say) that
        // happens to look like Skype's framing is not Skype.
        Ok(Some(AppFact::Skype(_))) if crate::addr::is_never_endpoint(d.dst) => {}
        Ok(Some(AppFact::Skype(sign))) => table.skype_sign(ts, key, sign),
        Ok(Some(AppFact::Http(req))) => {
            let fact = HttpFact {
                ts_ns: ts,
                method: req.method,
                host: req.host,
                target: req.target,
                user_agent: req.user_agent,
                referer: req.referer,
                via: req.via,
                client: d.src,
            };
            table.http_request(key, fact);
        }
        Err(Malformed::Dns) => stats.app_malformed.dns += 1,
        Err(Malformed::Tls) => stats.app_malformed.tls += 1,
        Err(Malformed::Http) => stats.app_malformed.http += 1,
        Err(Malformed::Quic) => stats.app_malformed.quic += 1,
        Err(Malformed::NeedMore) => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{self, Packet};

    /// Every packet's flow, counted at once (no pipeline), as the reference.
    fn direct(bytes: &[u8]) -> FlowTable {
        let mut t = FlowTable::default();
        capture::read_bytes(bytes, &mut |p: &Packet<'_>| {
            if let Ok(d) = decode::decode(p.link_type, p.data) {
                let (key, dir) = FlowKey::new(d.proto, d.src, d.sport, d.dst, d.dport);
                let syn = d.proto == decode::proto::TCP && d.tcp_flags & tcp_flags::SYN != 0;
                let syn_ack = syn && d.tcp_flags & tcp_flags::ACK != 0;
                t.packet(p.ts_nanos, key, dir, p.orig_len, syn, syn_ack);
            }
        });
        t
    }

    fn flows(t: &FlowTable) -> Vec<(FlowKey, super::super::Flow)> {
        let mut v: Vec<_> = t.flows.iter().collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    #[test]
    fn pipelined_counting_equals_counting_at_once() {
        for sample in crate::samples::all() {
            let want = direct(&sample.bytes);
            let mut tracker = Tracker::new();
            capture::read_bytes(&sample.bytes, &mut tracker);
            let (got, _) = tracker.into_parts();
            assert_eq!(flows(&got), flows(&want), "{}", sample.file_name);
            assert_eq!(
                (got.first_ns, got.last_ns),
                (want.first_ns, want.last_ns),
                "{}",
                sample.file_name
            );
            assert!(!got.flows.is_empty(), "{}", sample.file_name);
        }
    }

    #[test]
    fn the_table_is_complete_whenever_it_is_read() {
        // Live capture reads the table between packets: nothing may still be pending then.
        let sample = &crate::samples::all()[0];
        let mut tracker = Tracker::new();
        let mut reference = FlowTable::default();
        let mut seen = 0u64;
        capture::read_bytes(&sample.bytes, &mut |p: &Packet<'_>| {
            tracker.packet(p);
            if let Ok(d) = decode::decode(p.link_type, p.data) {
                let (key, dir) = FlowKey::new(d.proto, d.src, d.sport, d.dst, d.dport);
                let syn = d.proto == decode::proto::TCP && d.tcp_flags & tcp_flags::SYN != 0;
                let syn_ack = syn && d.tcp_flags & tcp_flags::ACK != 0;
                reference.packet(p.ts_nanos, key, dir, p.orig_len, syn, syn_ack);
            }
            seen += 1;
            if seen.is_multiple_of(3) {
                assert_eq!(flows(tracker.table()), flows(&reference), "packet {seen}");
            }
        });
        assert!(seen > 10);
        assert_eq!(flows(tracker.table()), flows(&reference));
    }
}
