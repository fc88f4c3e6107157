//! Live capture (`live`): which local program owns which socket, on each system that can
//! tell. The live session samples this now and then and attaches the programs to the flow
//! table (first owner seen of a socket wins); a connection that opens and closes between two
//! samples is not attributed. Nothing here captures or decodes packets.
//!
//! - Linux: the kernel's socket tables and each process's open files under `/proc`
//!   ([`procnet`]); run and tested on Linux.
//! - Windows: the TCP and UDP owner tables of the IP Helper API (`GetExtendedTcpTable`,
//!   `GetExtendedUdpTable`) and the image name of each owning process ([`iphlp`]). The parsing
//!   of the tables is tested everywhere; the calls run in CI under Wine, which lists the
//!   sockets but gives them no owner (pid 0), so naming the owner runs only on Windows itself
//!   (the release workflow's test step).
//! - macOS: each process's socket descriptors through `libproc` (`proc_pidinfo`,
//!   `proc_pidfdinfo`). Compiled in CI (`cargo check`), never run here: no macOS machine.
//! - Elsewhere: nothing is attributed ([`SUPPORTED`] is false).

pub mod iphlp;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "linux")]
pub mod procnet;

use std::net::IpAddr;

use rustc_hash::FxHashMap;

/// Local sockets → programs: (local address, local port, IP protocol) → `name (pid N)`.
pub type Owners = FxHashMap<(IpAddr, u16, u8), String>;

/// Whether this system can tell which program owns a socket.
pub const SUPPORTED: bool = cfg!(any(target_os = "linux", windows, target_os = "macos"));

/// The owners of the local TCP and UDP sockets right now, as far as the caller may see them
/// (all programs as root or Administrator, mostly one's own otherwise). Empty where the system
/// cannot tell, or on any failure: what cannot be read is simply not attributed.
pub fn snapshot() -> Owners {
    #[cfg(target_os = "linux")]
    {
        procnet::snapshot(std::path::Path::new("/proc"))
    }
    #[cfg(windows)]
    {
        iphlp::snapshot()
    }
    #[cfg(target_os = "macos")]
    {
        macos::snapshot()
    }
    #[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
    {
        Owners::default()
    }
}

/// How a program is named in reports, the same on every system: `name (pid N)`, `?` when the
/// name could not be read.
pub fn label(name: &str, pid: u32) -> String {
    let name = if name.is_empty() { "?" } else { name };
    format!("{name} (pid {pid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_uniform() {
        assert_eq!(label("skype", 42), "skype (pid 42)");
        assert_eq!(label("", 7), "? (pid 7)");
    }

    /// A socket of this very process is attributed to it, on every system that can tell.
    /// (On macOS this is only compiled; under Wine, which gives sockets no owner, the tables
    /// themselves are checked by `iphlp`'s test instead.)
    #[test]
    fn a_socket_of_this_process_is_its_own() {
        #[cfg(windows)]
        if iphlp::under_wine() {
            return;
        }
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let owners = snapshot();
        if !SUPPORTED {
            assert!(owners.is_empty());
            return;
        }
        let me = format!("(pid {})", std::process::id());
        let got = owners.get(&("127.0.0.1".parse().unwrap(), port, 17));
        assert!(got.is_some_and(|p| p.ends_with(&me)), "{got:?}");
    }
}
