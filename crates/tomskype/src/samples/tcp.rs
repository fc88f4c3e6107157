//! Sample generator: a TCP connection as seen at the client's network: the three-way
//! handshake with Windows-like SYN options, data in MSS-sized segments with PSH on the last and
//! delayed ACKs, request/response exchanges timed by the round trip, and the FIN teardown.
//! Sequence and acknowledgment numbers follow the bytes sent; no loss or retransmission.

use std::net::SocketAddr;

use etherparse::{TcpHeader, TcpOptionElement};

use super::packets::{Trace, MS};

/// A TCP connection seen from the client's side of the network: the client's packets are
/// stamped when sent, the server's when they arrive (one round trip later).
#[derive(Debug)]
pub(crate) struct TcpConn {
    client: SocketAddr,
    server: SocketAddr,
    rtt: i64,
    cseq: u32,
    sseq: u32,
    mss: usize,
    now: i64,
}

/// Window fields after the handshake: 256 << 8 = 65536 bytes, 229 << 7 = 29312 bytes.
const CLIENT_WINDOW: u16 = 256;
const SERVER_WINDOW: u16 = 229;

impl TcpConn {
    /// Three-way handshake starting at `t`; `rtt` is the round trip to the server.
    pub(crate) fn open(
        tr: &mut Trace,
        t: i64,
        client: SocketAddr,
        server: SocketAddr,
        rtt: i64,
    ) -> TcpConn {
        let cseq = tr.rng.next_u64() as u32;
        let sseq = tr.rng.next_u64() as u32;
        let mss: u16 = if client.is_ipv4() { 1460 } else { 1440 };
        let mut syn = TcpHeader::new(client.port(), server.port(), cseq, 8192);
        syn.syn = true;
        set_options(&mut syn, mss, 8);
        tr.tcp(t, client, server, syn, &[]);
        let server_mss = mss - [0, 0, 20, 80][(tr.rng.next_u64() % 4) as usize];
        let mut synack = TcpHeader::new(server.port(), client.port(), sseq, 29200);
        synack.syn = true;
        synack.ack = true;
        synack.acknowledgment_number = cseq.wrapping_add(1);
        set_options(&mut synack, server_mss, 7);
        let t_synack = t + rtt;
        tr.tcp(t_synack, server, client, synack, &[]);
        let conn = TcpConn {
            client,
            server,
            rtt,
            cseq: cseq.wrapping_add(1),
            sseq: sseq.wrapping_add(1),
            mss: usize::from(server_mss.min(mss)),
            now: t_synack + tr.rng.range(40, 300) * 1000,
        };
        let ack = conn.header(true, true);
        tr.tcp(conn.now, client, server, ack, &[]);
        conn
    }

    /// Lets time pass without packets.
    pub(crate) fn wait(&mut self, dt: i64) {
        self.now += dt;
    }

    /// The time of the connection's last packet (or of the end of its last wait).
    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    /// Lets time pass until `t`, if that is later (a relay waiting for its other side).
    pub(crate) fn wait_until(&mut self, t: i64) {
        self.now = self.now.max(t);
    }

    /// The server sends `data` unprompted at `t` (or now, if later), as a proxy relaying what
    /// its upstream sent; the client ACKs it.
    pub(crate) fn push_from_server(&mut self, tr: &mut Trace, t: i64, data: &[u8]) {
        let last = self.send(tr, false, t.max(self.now), data);
        self.now = last + 300 * 1000;
    }

    fn header(&self, from_client: bool, ack: bool) -> TcpHeader {
        let mut h = if from_client {
            let mut h = TcpHeader::new(
                self.client.port(),
                self.server.port(),
                self.cseq,
                CLIENT_WINDOW,
            );
            h.acknowledgment_number = self.sseq;
            h
        } else {
            let mut h = TcpHeader::new(
                self.server.port(),
                self.client.port(),
                self.sseq,
                SERVER_WINDOW,
            );
            h.acknowledgment_number = self.cseq;
            h
        };
        h.ack = ack;
        h
    }

    /// Sends `data` in MSS-sized segments from one side starting at `t`; returns the time
    /// of the last segment. The receiver ACKs every second segment (delayed ACK).
    fn send(&mut self, tr: &mut Trace, from_client: bool, t: i64, data: &[u8]) -> i64 {
        let mut ts = t;
        let chunks: Vec<&[u8]> = data.chunks(self.mss).collect();
        let n = chunks.len();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut h = self.header(from_client, true);
            h.psh = i + 1 == n;
            let (src, dst) = if from_client {
                (self.client, self.server)
            } else {
                (self.server, self.client)
            };
            tr.tcp(ts, src, dst, h, chunk);
            if from_client {
                self.cseq = self.cseq.wrapping_add(chunk.len() as u32);
            } else {
                self.sseq = self.sseq.wrapping_add(chunk.len() as u32);
                // The client (at the capture point) ACKs received data right away.
                if i % 2 == 1 || i + 1 == n {
                    let ack = self.header(true, true);
                    let at = ts + tr.rng.range(30, 200) * 1000;
                    tr.tcp(at, self.client, self.server, ack, &[]);
                }
            }
            if i + 1 < n {
                ts += tr.rng.range(20, 400) * 1000;
            }
        }
        ts
    }

    /// The client sends `request`; the server answers `response` one round trip later
    /// (plus a few ms of processing). An empty response is a bare ACK.
    pub(crate) fn exchange(&mut self, tr: &mut Trace, request: &[u8], response: &[u8]) {
        let start = self.now + tr.rng.range(50, 300) * 1000;
        let sent = self.send(tr, true, start, request);
        let reply = sent + self.rtt + tr.rng.range(1, 25) * MS;
        if response.is_empty() {
            let ack = self.header(false, true);
            tr.tcp(reply, self.server, self.client, ack, &[]);
            self.now = reply;
        } else {
            let last = self.send(tr, false, reply, response);
            self.now = last + 300 * 1000;
        }
    }

    /// The client closes: FIN/ACK, the server's FIN/ACK a round trip later, the last ACK.
    pub(crate) fn close(mut self, tr: &mut Trace) -> i64 {
        let mut fin = self.header(true, true);
        fin.fin = true;
        tr.tcp(self.now, self.client, self.server, fin, &[]);
        self.cseq = self.cseq.wrapping_add(1);
        let t = self.now + self.rtt;
        let mut sfin = self.header(false, true);
        sfin.fin = true;
        tr.tcp(t, self.server, self.client, sfin, &[]);
        self.sseq = self.sseq.wrapping_add(1);
        let end = t + tr.rng.range(40, 200) * 1000;
        let ack = self.header(true, true);
        tr.tcp(end, self.client, self.server, ack, &[]);
        end
    }
}

/// SYN options as Windows 7 sends them: MSS, NOP, WS, NOP, NOP, SACK permitted.
fn set_options(h: &mut TcpHeader, mss: u16, scale: u8) {
    use TcpOptionElement::{
        MaximumSegmentSize, Noop, SelectiveAcknowledgementPermitted, WindowScale,
    };
    let options = [
        MaximumSegmentSize(mss),
        Noop,
        WindowScale(scale),
        Noop,
        Noop,
        SelectiveAcknowledgementPermitted,
    ];
    // Twelve bytes of options always fit the forty a TCP header allows.
    h.set_options(&options).expect("syn options fit");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::packets::{frame_bytes, Link, SEC};
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    #[test]
    fn tcp_connection_has_consistent_sequence_numbers() {
        let mut tr = Trace::new(1);
        let c: SocketAddr = "192.168.1.34:50000".parse().unwrap();
        let s: SocketAddr = "157.55.56.150:443".parse().unwrap();
        tr.local(c.ip(), [2, 0, 0, 0, 0, 1]);
        let mut conn = TcpConn::open(&mut tr, SEC, c, s, 100 * MS);
        conn.exchange(&mut tr, b"hello", &[0x42; 3000]);
        conn.close(&mut tr);
        let (frames, locals) = tr.finish();
        let mut expect_client_seq = None;
        let mut server_bytes = 0;
        for f in &frames {
            let bytes = frame_bytes(Link::Ethernet, f, &locals);
            let p = SlicedPacket::from_ethernet(&bytes).unwrap();
            let Some(NetSlice::Ipv4(ip)) = p.net else {
                panic!("not ipv4")
            };
            let Some(TransportSlice::Tcp(tcp)) = p.transport else {
                panic!("not tcp")
            };
            let from_client = ip.header().source() == [192, 168, 1, 34];
            if from_client && tcp.syn() {
                expect_client_seq = Some(tcp.sequence_number().wrapping_add(1));
            } else if from_client {
                assert_eq!(Some(tcp.sequence_number()), expect_client_seq);
                let used = tcp.payload().len() as u32 + u32::from(tcp.fin());
                expect_client_seq = expect_client_seq.map(|s| s.wrapping_add(used));
            } else if !from_client {
                server_bytes += tcp.payload().len();
            }
            if !from_client {
                assert!(bytes.len() >= 60, "received frames are padded");
            }
        }
        assert_eq!(server_bytes, 3000);
        assert!(frames.windows(2).all(|w| w[0].ts <= w[1].ts));
    }
}
