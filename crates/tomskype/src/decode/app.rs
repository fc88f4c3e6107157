//! Stage 2, decode: picks the packets that may carry names and hands them to the application
//! parsers. Choosing is cheap and stateless: DNS by port (53, mDNS 5353, LLMNR 5355), TLS by
//! the first bytes of a TCP payload (a handshake record), HTTP by a request method at the
//! start of a TCP payload, QUIC by a long header of a known version starting a UDP payload on
//! any port, Skype's own protocols by a STUN cookie or Skype's UDP framing. Everything else
//! costs a couple of byte compares. The QUIC decoder keeps bounded state between datagrams
//! (a ClientHello may span several Initial packets). Skype's classic TCP framing is not looked
//! for here: it is judged on a connection's first segments together, by the flow tracker
//! (`flow::skype::TcpOpenings`, with [`skype::tcp_shape`]).

use super::quic::{self, Endpoints};
use super::{dns, http, proto, skype, tls, Decoded};

/// An application-layer fact found in one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppFact<'a> {
    /// A DNS message (the [`Inspector`]'s, until its next packet).
    Dns(&'a dns::DnsMessage),
    /// The server name of a TLS ClientHello (over TCP, or in QUIC Initial packets).
    Sni(String),
    /// A sign of Skype's own protocols (to be weighed over the whole flow).
    Skype(skype::SkypeSign),
    /// An HTTP request.
    Http(http::HttpRequest),
}

/// Which parser refused a payload that looked like its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A DNS message that did not parse.
    Dns,
    /// A TLS ClientHello that did not parse.
    Tls,
    /// An HTTP request that did not parse.
    Http,
    /// Not malformed: a TLS ClientHello, HTTP request head or DNS-over-TCP message that goes
    /// on in later TCP segments. Only [`Inspector::inspect`] says so (the flow tracker then
    /// buffers the stream's first bytes); [`Inspector::inspect_final`] reads what is there.
    NeedMore,
    /// A QUIC Initial that could not be decrypted or read.
    Quic,
}

const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// Looks at packets one after another; keeps the DNS parser's memory between them.
#[derive(Debug, Default)]
pub struct Inspector {
    dns: dns::Parser,
    quic: quic::Connections,
}

impl Inspector {
    /// An inspector with nothing kept yet.
    pub fn new() -> Inspector {
        Inspector::default()
    }

    /// Looks for a DNS message, TLS server name (over TCP or QUIC), HTTP request or sign of
    /// Skype's protocols in a decoded packet; says [`Malformed::NeedMore`] for a TCP payload
    /// that starts a message but does not hold all of it.
    pub fn inspect(&mut self, d: &Decoded<'_>) -> Result<Option<AppFact<'_>>, Malformed> {
        self.inspect_with(d, false)
    }

    /// As [`Inspector::inspect`], for the last bytes there will be: a message cut short is
    /// read as far as it goes (a ClientHello whose server name is missing gives nothing, and
    /// is not malformed).
    pub fn inspect_final(&mut self, d: &Decoded<'_>) -> Result<Option<AppFact<'_>>, Malformed> {
        self.inspect_with(d, true)
    }

    fn inspect_with(
        &mut self,
        d: &Decoded<'_>,
        last: bool,
    ) -> Result<Option<AppFact<'_>>, Malformed> {
        let dns_port = DNS_PORTS.contains(&d.sport) || DNS_PORTS.contains(&d.dport);
        match d.proto {
            proto::UDP if dns_port => match self.dns.parse(d.payload) {
                Ok(msg) => Ok(Some(AppFact::Dns(msg))),
                Err(_) => Err(Malformed::Dns),
            },
            proto::UDP => {
                if quic::looks_like_initial(d.payload) {
                    let ends = Endpoints {
                        src: d.src,
                        sport: d.sport,
                        dst: d.dst,
                        dport: d.dport,
                    };
                    return match self.quic.datagram(ends, d.payload) {
                        Ok(Some(name)) => Ok(Some(AppFact::Sni(name))),
                        Ok(None) => Ok(None),
                        Err(_) => Err(Malformed::Quic),
                    };
                }
                Ok(skype::udp(d.sport, d.dport, d.payload).map(AppFact::Skype))
            }
            proto::TCP => {
                if d.sport == 53 || d.dport == 53 {
                    let whole = match d.payload {
                        [a, b, rest @ ..] => {
                            rest.len() >= usize::from(u16::from_be_bytes([*a, *b]))
                        }
                        _ => false,
                    };
                    if !whole && !last {
                        return Err(Malformed::NeedMore);
                    }
                    return match self.dns.parse_tcp(d.payload) {
                        Ok(msg) => Ok(Some(AppFact::Dns(msg))),
                        // A later segment of a long TCP answer: not the start of a message.
                        Err(_) => Ok(None),
                    };
                }
                if tls::looks_like_tls_handshake(d.payload) {
                    return match tls::client_hello_sni(d.payload) {
                        Ok(Some(name)) => Ok(Some(AppFact::Sni(name))),
                        Ok(None) => Ok(None),
                        Err(tls::TlsError::NotClientHello { .. }) => Ok(None),
                        Err(tls::TlsError::Incomplete) if last => Ok(None),
                        Err(tls::TlsError::Incomplete) => Err(Malformed::NeedMore),
                        Err(_) => Err(Malformed::Tls),
                    };
                }
                if http::looks_like_request(d.payload) {
                    return match http::parse_request(d.payload) {
                        Ok(req)
                            if !req.complete && !last && d.payload.len() < http::MAX_HEAD_LEN =>
                        {
                            Err(Malformed::NeedMore)
                        }
                        Ok(req) => Ok(Some(AppFact::Http(req))),
                        Err(_) => Err(Malformed::Http),
                    };
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}
