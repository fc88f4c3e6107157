//! Stage 1, capture (interfaces, feature `live`): libpcap itself. Lists the interfaces and
//! opens one for capture: not promiscuous (the machine's own traffic is what matters), whole
//! packets ([`SNAPLEN`]), immediate delivery, a large kernel buffer, and non-blocking reads,
//! so that whoever reads it can stop on time.

use super::{is_permission_error, IfaceError, Interface, SNAPLEN};
use crate::capture::Packet;

/// How long libpcap may hold packets before handing them over (where the kernel batches).
const READ_TIMEOUT_MS: i32 = 200;
/// Kernel buffer for packets not read yet (bursts while the reader is busy).
const BUFFER_BYTES: i32 = 16 << 20;

impl From<&pcap::Device> for Interface {
    fn from(d: &pcap::Device) -> Interface {
        Interface {
            name: d.name.clone(),
            description: d.desc.clone(),
            addresses: d.addresses.iter().map(|a| a.addr).collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
        }
    }
}

/// The interfaces libpcap can capture on, in its order.
pub fn list() -> Result<Vec<Interface>, IfaceError> {
    // Windows: find Npcap first, or say to install it.
    #[cfg(windows)]
    super::npcap::ensure()?;
    let devices = pcap::Device::list().map_err(|e| IfaceError::List {
        detail: e.to_string(),
    })?;
    Ok(devices.iter().map(Interface::from).collect())
}

/// An interface open for capture: packets in arrival order, read without blocking.
pub struct Capture {
    cap: pcap::Capture<pcap::Active>,
    /// The name people know the interface by ([`Interface::display_name`]).
    name: String,
    /// libpcap's data link type (`DLT_*`, as libpcap maps it to `LINKTYPE_*`).
    datalink: i32,
    /// libpcap's name for it.
    datalink_name: String,
    /// Packets handed over so far.
    packets: u64,
    /// Captured bytes handed over so far.
    bytes: u64,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("name", &self.name)
            .field("datalink", &self.datalink)
            .field("packets", &self.packets)
            .finish_non_exhaustive()
    }
}

/// libpcap's message for people: never empty.
fn detail(e: &pcap::Error) -> String {
    match e.to_string() {
        s if s.trim().is_empty() || s.trim() == "libpcap error:" => {
            "libpcap gave no reason".to_owned()
        }
        s => s,
    }
}

/// Opens `interface` for capture: not promiscuous, whole packets, immediate delivery, short
/// timeout, non-blocking.
pub fn open(interface: &Interface) -> Result<Capture, IfaceError> {
    // People see Npcap's description on Windows, not its `\Device\NPF_{GUID}` name.
    let name = interface.display_name().to_owned();
    let fail = |e: pcap::Error| {
        let detail = detail(&e);
        if is_permission_error(&detail) {
            IfaceError::Permission {
                iface: name.clone(),
                detail,
            }
        } else {
            IfaceError::Open {
                iface: name.clone(),
                detail,
            }
        }
    };
    let cap = pcap::Capture::from_device(interface.name.as_str())
        .map_err(fail)?
        .promisc(false)
        // SNAPLEN is 65535, well inside i32.
        .snaplen(SNAPLEN as i32);
    // Immediate delivery where the library has it (on Windows, WinPcap 4.1 and Wine do not:
    // there packets come at the read timeout instead).
    #[cfg(windows)]
    let immediate = super::npcap::has(c"pcap_set_immediate_mode");
    #[cfg(not(windows))]
    let immediate = true;
    let cap = if immediate {
        cap.immediate_mode(true)
    } else {
        cap
    };
    let cap = cap
        .timeout(READ_TIMEOUT_MS)
        .buffer_size(BUFFER_BYTES)
        .open()
        .map_err(fail)?
        // Non-blocking: a blocking read may never return on an idle interface (libpcap does
        // not promise that the timeout fires without packets), and the reader must see the
        // clock and its stop signal.
        .setnonblock()
        .map_err(fail)?;
    let dl = cap.get_datalink();
    Ok(Capture {
        datalink: dl.0,
        datalink_name: dl.get_name().unwrap_or_else(|_| "unknown".into()),
        cap,
        name,
        packets: 0,
        bytes: 0,
    })
}

impl Capture {
    /// The name people know the interface by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `LINKTYPE_*` of its packets as libpcap gives it (negative values are not link
    /// types of any decoder).
    pub fn datalink(&self) -> i32 {
        self.datalink
    }

    /// libpcap's name for the link type (`EN10MB`), `unknown` when it has none.
    pub fn datalink_name(&self) -> &str {
        &self.datalink_name
    }

    /// The next packet if one is waiting, `Ok(None)` if none is (wait a little and ask again).
    /// An error means the interface failed or went away: nothing more will come.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, IfaceError> {
        match self.cap.next_packet() {
            Ok(p) => {
                self.packets += 1;
                let offset = self.bytes;
                self.bytes += p.data.len() as u64;
                Ok(Some(Packet {
                    number: self.packets,
                    offset,
                    ts_nanos: header_ts(p.header),
                    // A negative type is no decoder's: u32::MAX is refused like it.
                    link_type: u32::try_from(self.datalink).unwrap_or(u32::MAX),
                    orig_len: p.header.len,
                    data: p.data,
                }))
            }
            // Nothing to read (non-blocking).
            Err(pcap::Error::TimeoutExpired) => Ok(None),
            Err(e) => Err(IfaceError::Read {
                iface: self.name.clone(),
                detail: e.to_string(),
            }),
        }
    }

    /// Packets the system dropped before they could be read (kernel buffer full, interface
    /// drops), when libpcap can tell.
    pub fn dropped(&mut self) -> Option<u64> {
        let stats = self.cap.stats().ok()?;
        Some(u64::from(stats.dropped) + u64::from(stats.if_dropped))
    }
}

/// Nanoseconds since the epoch of a libpcap time stamp (microsecond precision).
fn ts_nanos(sec: i64, usec: i64) -> i64 {
    sec.saturating_mul(1_000_000_000)
        .saturating_add(usec.saturating_mul(1000))
}

/// The time stamp of a libpcap packet header, in nanoseconds since the epoch.
// `time_t` and `suseconds_t` are i64 on 64-bit Linux but i32 on some 32-bit targets.
#[allow(clippy::useless_conversion)]
fn header_ts(h: &pcap::PacketHeader) -> i64 {
    ts_nanos(i64::from(h.ts.tv_sec), i64::from(h.ts.tv_usec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_nanoseconds() {
        assert_eq!(ts_nanos(1_700_000_000, 123_456), 1_700_000_000_123_456_000);
        assert_eq!(ts_nanos(i64::MAX, 999_999), i64::MAX);
    }
}
