//! Live capture, socket owners (Linux): which local program owns which socket. Reads the kernel's
//! socket tables (`/proc/net/{tcp,tcp6,udp,udp6}`: local address and port → socket inode) and
//! each process's open files (`/proc/[pid]/fd/*` → `socket:[inode]`, `/proc/[pid]/comm`), and
//! joins them into (local address, local port, protocol) → `name (pid N)`.
//!
//! Sockets come and go, so the live session samples this now and then and keeps what it saw
//! (first owner wins). Only processes whose `/proc/[pid]/fd` the caller may read are seen
//! (all of them as root, one's own otherwise). Nothing here captures or decodes packets, and
//! the socket tables are those of the caller's network namespace.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use rustc_hash::FxHashMap;

use super::{label, Owners};

/// IP protocol numbers of the tables read.
const TCP: u8 = 6;
const UDP: u8 = 17;

/// A socket from a `/proc/net` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Socket {
    /// Local address (IPv4-mapped IPv6 addresses are turned into IPv4).
    pub addr: IpAddr,
    /// Local port.
    pub port: u16,
    /// IP protocol: 6 (TCP) or 17 (UDP).
    pub proto: u8,
    /// Socket inode, the key into `/proc/[pid]/fd`.
    pub inode: u64,
}

/// Parses one `/proc/net/{tcp,tcp6,udp,udp6}` table. Lines that do not parse (the header
/// among them) are skipped, as are sockets with inode 0 (in TIME_WAIT, owned by no process).
pub fn parse_table(text: &str, proto: u8) -> Vec<Socket> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _slot = fields.next()?;
            let local = fields.next()?;
            // remote, state, queues, timer, retransmits, uid, timeout, then the inode.
            let inode: u64 = fields.nth(7)?.parse().ok()?;
            let (addr, port) = local.split_once(':')?;
            let socket = Socket {
                addr: parse_addr(addr)?,
                port: u16::from_str_radix(port, 16).ok()?,
                proto,
                inode,
            };
            (inode != 0).then_some(socket)
        })
        .collect()
}

/// Parses a `/proc/net` address: the bytes of the network-order address printed as 32-bit
/// words in the host's byte order, so each word is read back with `to_ne_bytes`.
fn parse_addr(hex: &str) -> Option<IpAddr> {
    if !hex.is_ascii() {
        return None;
    }
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut b = [0u8; 16];
            for (i, chunk) in b.chunks_exact_mut(4).enumerate() {
                chunk.copy_from_slice(&word(i)?);
            }
            let v6 = Ipv6Addr::from(b);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        _ => None,
    }
}

/// The inode of a `/proc/[pid]/fd/*` link target `socket:[12345]`.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Reads the socket tables and processes under `root` (normally `/proc`) and returns
/// (local address, local port, protocol) → `name (pid N)`. Unreadable files are skipped:
/// what cannot be read is simply not attributed.
pub fn snapshot(root: &Path) -> Owners {
    let mut by_inode: FxHashMap<u64, Socket> = FxHashMap::default();
    for (file, proto) in [("tcp", TCP), ("tcp6", TCP), ("udp", UDP), ("udp6", UDP)] {
        if let Ok(text) = std::fs::read_to_string(root.join("net").join(file)) {
            for s in parse_table(&text, proto) {
                by_inode.insert(s.inode, s);
            }
        }
    }
    let mut out = Owners::default();
    if by_inode.is_empty() {
        return out;
    }
    let Ok(procs) = std::fs::read_dir(root) else {
        return out;
    };
    for entry in procs.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let mut program: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(socket) = target
                .to_str()
                .and_then(socket_inode)
                .and_then(|i| by_inode.get(&i))
            else {
                continue;
            };
            let program = program.get_or_insert_with(|| {
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                label(comm.trim_end_matches('\n'), pid)
            });
            out.entry((socket.addr, socket.port, socket.proto))
                .or_insert_with(|| program.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21305 1 0000000000000000 100 0 0 10 0
   1: 0202000A:9C40 0A7100CB:0050 01 00000000:00000000 00:00000000 00000000  1000        0 98765 1 0000000000000000 20 4 30 10 -1
   2: 0202000A:9C41 0A7100CB:0050 06 00000000:00000000 03:00000F3A 00000000     0        0 0 3 0000000000000000
   3: garbage
";

    const UDP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000000000000000000000000000:8235 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 4242 2 0000000000000000 0
  101: 0000000000000000FFFF00000202000A:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4343 2 0000000000000000 0
  102: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4444 2 0000000000000000 0
";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // The sample tables are what a little-endian kernel prints.
    #[cfg(target_endian = "little")]
    #[test]
    fn parses_ipv4_tables_and_skips_time_wait() {
        let s = parse_table(TCP4, TCP);
        assert_eq!(
            s,
            vec![
                Socket {
                    addr: ip("127.0.0.1"),
                    port: 631,
                    proto: TCP,
                    inode: 21305
                },
                Socket {
                    addr: ip("10.0.2.2"),
                    port: 40000,
                    proto: TCP,
                    inode: 98765
                },
            ]
        );
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_ipv6_tables_and_unmaps_ipv4() {
        let s = parse_table(UDP6, UDP);
        let got: Vec<(IpAddr, u16, u64)> = s.iter().map(|s| (s.addr, s.port, s.inode)).collect();
        assert_eq!(
            got,
            vec![
                (ip("::"), 0x8235, 4242),
                (ip("10.0.2.2"), 53, 4343),
                (ip("2001:db8::1"), 443, 4444),
            ]
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        assert_eq!(parse_addr("0100007"), None);
        assert_eq!(parse_addr("0100007G"), None);
        assert_eq!(parse_addr("ééééé"), None);
        assert_eq!(parse_addr(&"0".repeat(31)), None);
        assert!(parse_table("0: 0100007F 00000000:0000 0A", TCP).is_empty());
        assert!(parse_table("0: 0100007F:FFFFF 0:0 0A 0:0 0:0 0 0 0 7", TCP).is_empty());
    }

    #[test]
    fn reads_socket_links() {
        assert_eq!(socket_inode("socket:[98765]"), Some(98765));
        assert_eq!(socket_inode("pipe:[98765]"), None);
        assert_eq!(socket_inode("socket:[98765"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[cfg(all(target_endian = "little", unix))]
    #[test]
    fn joins_tables_and_processes_of_a_fake_proc() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::write(root.join("net/tcp"), TCP4).unwrap();
        std::fs::write(root.join("net/udp6"), UDP6).unwrap();
        for (pid, comm, links) in [
            (
                "1234",
                "skype\n",
                &["socket:[98765]", "socket:[4242]", "/dev/null"][..],
            ),
            ("99", "cupsd\n", &["socket:[21305]", "pipe:[5]"][..]),
            ("self", "not-a-pid\n", &["socket:[4343]"][..]),
        ] {
            let p = root.join(pid);
            std::fs::create_dir_all(p.join("fd")).unwrap();
            std::fs::write(p.join("comm"), comm).unwrap();
            for (i, l) in links.iter().enumerate() {
                symlink(l, p.join("fd").join(i.to_string())).unwrap();
            }
        }
        let map = snapshot(root);
        assert_eq!(map.len(), 3, "{map:?}");
        assert_eq!(map[&(ip("10.0.2.2"), 40000, TCP)], "skype (pid 1234)");
        assert_eq!(map[&(ip("::"), 0x8235, UDP)], "skype (pid 1234)");
        assert_eq!(map[&(ip("127.0.0.1"), 631, TCP)], "cupsd (pid 99)");
    }

    #[test]
    fn a_missing_proc_gives_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(snapshot(&dir.path().join("absent")).is_empty());
    }
}
