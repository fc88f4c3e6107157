//! Stage 3, flows: the per-packet driver. Decodes each packet, updates the flow table, and
//! hands the few packets that may carry names (DNS, TLS ClientHello, HTTP request) to the
//! application parsers.

use crate::capture::{Packet, PacketSink};
use crate::decode::app::{self, AppFact, Malformed};
use crate::decode::{self, tcp_flags, DecodeStats};

use super::{FlowKey, FlowTable, HttpFact};

/// Builds a [`FlowTable`] from packets. Implements [`PacketSink`], so any capture source can
/// feed it.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The flows and names seen so far.
    pub table: FlowTable,
    /// What the decoder made of the packets.
    pub stats: DecodeStats,
}

impl Tracker {
    /// A tracker with an empty table.
    pub fn new() -> Tracker {
        Tracker::default()
    }
}

impl PacketSink for Tracker {
    #[inline]
    fn packet(&mut self, packet: &Packet<'_>) {
        let d = match decode::decode(packet.link_type, packet.data) {
            Ok(d) => d,
            Err(why) => {
                self.stats.skip(why);
                return;
            }
        };
        self.stats.decoded += 1;
        if !decode::has_ports(&d)
            && (d.proto == decode::proto::TCP || d.proto == decode::proto::UDP)
        {
            self.stats.transport_truncated += 1;
        }
        let (key, dir) = FlowKey::new(d.proto, d.src, d.sport, d.dst, d.dport);
        let is_tcp = d.proto == decode::proto::TCP;
        let syn = is_tcp && d.tcp_flags & tcp_flags::SYN != 0;
        let syn_ack = syn && d.tcp_flags & tcp_flags::ACK != 0;
        self.table
            .packet(packet.ts_nanos, key, dir, packet.orig_len, syn, syn_ack);
        if d.payload.is_empty() {
            return;
        }
        let ts = packet.ts_nanos;
        match app::inspect(&d) {
            Ok(None) => {}
            Ok(Some(AppFact::Dns(msg))) => {
                // The client is whoever sent the question, or receives the answer.
                let client = if msg.is_response { d.dst } else { d.src };
                for q in &msg.questions {
                    if !msg.is_response {
                        self.table.dns_query(ts, client, &q.name);
                    }
                }
                if msg.is_response {
                    for (name, addr) in msg.resolutions() {
                        self.table.dns_answer(ts, name, addr);
                    }
                }
            }
            Ok(Some(AppFact::Sni(name))) => self.table.tls_sni(ts, key, &name),
            Ok(Some(AppFact::Http(req))) => {
                let fact = HttpFact {
                    ts_ns: ts,
                    method: req.method,
                    host: req.host,
                    target: req.target,
                    user_agent: req.user_agent,
                };
                self.table.http_request(key, fact);
            }
            Err(Malformed::Dns) => self.stats.app_malformed.dns += 1,
            Err(Malformed::Tls) => self.stats.app_malformed.tls += 1,
            Err(Malformed::Http) => self.stats.app_malformed.http += 1,
        }
    }
}
