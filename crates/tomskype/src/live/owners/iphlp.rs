//! Live capture, socket owners (Windows): the socket owner tables of Windows' IP Helper API.
//! `GetExtendedTcpTable` (`TCP_TABLE_OWNER_PID_ALL`) and `GetExtendedUdpTable`
//! (`UDP_TABLE_OWNER_PID`) list every local TCP and UDP socket, IPv4 and IPv6, with the id of
//! the process that owns it; `QueryFullProcessImageNameW` names the process (`Skype.exe`).
//!
//! The tables come back as one buffer each: a 32-bit row count, then fixed-size rows. They are
//! parsed here from bytes with every length checked ([`parse`]), so the parsing is tested on
//! any system; only `snapshot` (Windows) calls the API. Processes that the caller may not
//! open (other users' and protected ones, unless run as Administrator) keep their pid with `?`
//! for a name.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One of the four owner tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `MIB_TCPTABLE_OWNER_PID` of `MIB_TCPROW_OWNER_PID` rows.
    Tcp4,
    /// `MIB_TCP6TABLE_OWNER_PID` of `MIB_TCP6ROW_OWNER_PID` rows.
    Tcp6,
    /// `MIB_UDPTABLE_OWNER_PID` of `MIB_UDPROW_OWNER_PID` rows.
    Udp4,
    /// `MIB_UDP6TABLE_OWNER_PID` of `MIB_UDP6ROW_OWNER_PID` rows.
    Udp6,
}

impl Table {
    /// All four, in the order they are read.
    pub const ALL: [Table; 4] = [Table::Tcp4, Table::Tcp6, Table::Udp4, Table::Udp6];

    /// Bytes per row, as Windows' headers define the row structures.
    pub const fn row_len(self) -> usize {
        match self {
            // state, local addr, local port, remote addr, remote port, pid: six u32.
            Table::Tcp4 => 24,
            // local addr[16], scope, port, remote addr[16], scope, port, state, pid.
            Table::Tcp6 => 56,
            // local addr, local port, pid.
            Table::Udp4 => 12,
            // local addr[16], scope, port, pid.
            Table::Udp6 => 28,
        }
    }

    /// Offsets in a row of the local address, the local port and the owning pid.
    const fn fields(self) -> (usize, usize, usize) {
        match self {
            Table::Tcp4 => (4, 8, 20),
            Table::Tcp6 => (0, 20, 52),
            Table::Udp4 => (0, 4, 8),
            Table::Udp6 => (0, 20, 24),
        }
    }

    /// IP protocol number of its sockets.
    pub const fn proto(self) -> u8 {
        match self {
            Table::Tcp4 | Table::Tcp6 => 6,
            Table::Udp4 | Table::Udp6 => 17,
        }
    }

    /// Whether its addresses are IPv6.
    pub const fn v6(self) -> bool {
        matches!(self, Table::Tcp6 | Table::Udp6)
    }
}

/// A socket of an owner table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Local address (IPv4-mapped IPv6 addresses are turned into IPv4).
    pub addr: IpAddr,
    /// Local port.
    pub port: u16,
    /// Owning process id.
    pub pid: u32,
}

/// Offset of the first row: the tables start with a 32-bit row count, and every row holds
/// only 32-bit words and byte arrays, so rows follow at 4.
const ROWS_AT: usize = 4;

/// Parses a table buffer as the API fills it (little-endian, as every Windows target is).
/// Rows past the end of `buf` are left out, whatever the count says.
pub fn parse(table: Table, buf: &[u8]) -> Vec<Row> {
    let Some(count) = buf.get(..4).and_then(|b| b.try_into().ok()) else {
        return Vec::new();
    };
    let count = u32::from_le_bytes(count) as usize;
    let rows = buf.get(ROWS_AT..).unwrap_or_default();
    rows.chunks_exact(table.row_len())
        .take(count)
        .filter_map(|row| parse_row(table, row))
        .collect()
}

/// One row; None only if the row is shorter than its table's rows (never, from [`parse`]).
fn parse_row(table: Table, row: &[u8]) -> Option<Row> {
    let (addr_at, port_at, pid_at) = table.fields();
    let addr = if table.v6() {
        let b: [u8; 16] = row.get(addr_at..addr_at + 16)?.try_into().ok()?;
        let v6 = Ipv6Addr::from(b);
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }
    } else {
        // The address is stored in network byte order.
        let b: [u8; 4] = row.get(addr_at..addr_at + 4)?.try_into().ok()?;
        IpAddr::V4(Ipv4Addr::from(b))
    };
    // The port is in network byte order in the low 16 bits of a 32-bit word: its first two
    // bytes in memory.
    let port = u16::from_be_bytes(row.get(port_at..port_at + 2)?.try_into().ok()?);
    let pid = u32::from_le_bytes(row.get(pid_at..pid_at + 4)?.try_into().ok()?);
    Some(Row { addr, port, pid })
}

#[cfg(windows)]
pub(super) use windows::snapshot;
#[cfg(windows)]
pub use windows::{read, under_wine};

#[cfg(windows)]
mod windows {
    use std::mem::size_of;

    use rustc_hash::FxHashMap;
    use windows_sys::Win32::Foundation::{CloseHandle, ERROR_INSUFFICIENT_BUFFER, NO_ERROR};
    use windows_sys::Win32::NetworkManagement::IpHelper::{
        GetExtendedTcpTable, GetExtendedUdpTable, MIB_TCP6ROW_OWNER_PID, MIB_TCPROW_OWNER_PID,
        MIB_UDP6ROW_OWNER_PID, MIB_UDPROW_OWNER_PID, TCP_TABLE_OWNER_PID_ALL, UDP_TABLE_OWNER_PID,
    };
    use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32,
        PROCESS_QUERY_LIMITED_INFORMATION,
    };

    use super::{parse, Table};
    use crate::live::owners::{label, Owners};

    // The parser's row sizes are Windows' own, checked when compiling for Windows.
    const _: () = assert!(size_of::<MIB_TCPROW_OWNER_PID>() == Table::Tcp4.row_len());
    const _: () = assert!(size_of::<MIB_TCP6ROW_OWNER_PID>() == Table::Tcp6.row_len());
    const _: () = assert!(size_of::<MIB_UDPROW_OWNER_PID>() == Table::Udp4.row_len());
    const _: () = assert!(size_of::<MIB_UDP6ROW_OWNER_PID>() == Table::Udp6.row_len());

    /// Reads the four owner tables and names their processes. Sockets of pid 0 (connections
    /// closing, owned by no process any more) are left out.
    pub(in crate::live::owners) fn snapshot() -> Owners {
        let mut names: FxHashMap<u32, String> = FxHashMap::default();
        let mut out = Owners::default();
        for table in Table::ALL {
            for row in read(table).into_iter().filter(|r| r.pid != 0) {
                let name = names.entry(row.pid).or_insert_with(|| image_name(row.pid));
                out.entry((row.addr, row.port, table.proto()))
                    .or_insert_with(|| label(name, row.pid));
            }
        }
        out
    }

    /// The rows of one table; none if the API fails.
    pub fn read(table: Table) -> Vec<super::Row> {
        fetch(table)
            .map(|buf| parse(table, &buf))
            .unwrap_or_default()
    }

    /// Whether this runs under Wine rather than Windows (Wine's ntdll has `wine_get_version`).
    /// Wine 8 lists sockets in the owner tables but gives them no owning pid (0).
    pub fn under_wine() -> bool {
        use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
        let ntdll: Vec<u16> = "ntdll.dll\0".encode_utf16().collect();
        // SAFETY: both names are NUL-terminated and outlive the calls; ntdll is always loaded.
        unsafe {
            let module = GetModuleHandleW(ntdll.as_ptr());
            !module.is_null()
                && GetProcAddress(module, c"wine_get_version".as_ptr().cast()).is_some()
        }
    }

    /// One table's buffer, or None if the API fails. The table may grow between asking its
    /// size and reading it: a few attempts, with room to spare.
    fn fetch(table: Table) -> Option<Vec<u8>> {
        let family = u32::from(if table.v6() { AF_INET6 } else { AF_INET });
        let mut want: u32 = 16 << 10;
        for _ in 0..4 {
            // u32 words: the rows hold u32 fields, so the buffer must be 4-aligned.
            let mut words = vec![0u32; (want as usize).div_ceil(4)];
            let mut len = u32::try_from(words.len() * 4).ok()?;
            // SAFETY: the buffer is `len` writable bytes, 4-aligned; the API writes at most
            // `len` bytes and sets `len` to the size it needs when that is not enough.
            let rc = unsafe {
                if table.proto() == 6 {
                    GetExtendedTcpTable(
                        words.as_mut_ptr().cast(),
                        &mut len,
                        0,
                        family,
                        TCP_TABLE_OWNER_PID_ALL,
                        0,
                    )
                } else {
                    GetExtendedUdpTable(
                        words.as_mut_ptr().cast(),
                        &mut len,
                        0,
                        family,
                        UDP_TABLE_OWNER_PID,
                        0,
                    )
                }
            };
            if rc == NO_ERROR {
                let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                bytes.truncate(len as usize);
                return Some(bytes);
            }
            if rc != ERROR_INSUFFICIENT_BUFFER {
                return None;
            }
            want = len.saturating_add(len / 4).max(want.saturating_mul(2));
        }
        None
    }

    /// The file name of a process's image (`Skype.exe`), or "" if it cannot be read.
    fn image_name(pid: u32) -> String {
        if pid == 4 {
            return "System".into();
        }
        // SAFETY: OpenProcess takes any pid; a null handle is checked before use.
        let handle = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
        if handle.is_null() {
            return String::new();
        }
        let mut buf = [0u16; 1024];
        let mut len = buf.len() as u32;
        // SAFETY: `buf` holds `len` UTF-16 units; the call writes at most that many and sets
        // `len` to the number written. The handle is valid until closed just after.
        let ok = unsafe {
            let ok =
                QueryFullProcessImageNameW(handle, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len);
            CloseHandle(handle);
            ok
        };
        if ok == 0 {
            return String::new();
        }
        let path = String::from_utf16_lossy(buf.get(..len as usize).unwrap_or_default());
        path.rsplit(['\\', '/'])
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API itself, on Windows (in CI under Wine, which lists the sockets but not their
    /// owners; the release workflow runs this on Windows, where the owner must be this process).
    #[cfg(windows)]
    #[test]
    fn the_tables_list_the_sockets_of_this_process() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let me = std::process::id();
        for (table, port) in [
            (Table::Udp4, udp.local_addr().unwrap().port()),
            (Table::Tcp4, tcp.local_addr().unwrap().port()),
        ] {
            let rows = read(table);
            let row = rows
                .iter()
                .find(|r| r.addr == IpAddr::from([127, 0, 0, 1]) && r.port == port);
            assert!(row.is_some(), "{table:?} port {port} not in {rows:?}");
            if !under_wine() {
                assert_eq!(row.map(|r| r.pid), Some(me), "{table:?}");
                let owners = super::super::snapshot();
                let got = owners.get(&(IpAddr::from([127, 0, 0, 1]), port, table.proto()));
                let want = format!(".exe (pid {me})");
                assert!(got.is_some_and(|p| p.ends_with(&want)), "{got:?}");
            }
        }
    }

    fn le(v: u32) -> [u8; 4] {
        v.to_le_bytes()
    }

    /// A port as the API stores it: network order in the low 16 bits of a u32.
    fn port(p: u16) -> [u8; 4] {
        let b = p.to_be_bytes();
        [b[0], b[1], 0, 0]
    }

    fn tcp4_row(addr: [u8; 4], p: u16, pid: u32) -> Vec<u8> {
        [le(5), addr, port(p), [203, 0, 113, 10], port(443), le(pid)].concat()
    }

    #[test]
    fn parses_ipv4_tcp_rows() {
        let mut buf = le(2).to_vec();
        buf.extend(tcp4_row([192, 168, 1, 23], 50_123, 4242));
        buf.extend(tcp4_row([0, 0, 0, 0], 3389, 4));
        assert_eq!(
            parse(Table::Tcp4, &buf),
            vec![
                Row {
                    addr: "192.168.1.23".parse().unwrap(),
                    port: 50_123,
                    pid: 4242
                },
                Row {
                    addr: "0.0.0.0".parse().unwrap(),
                    port: 3389,
                    pid: 4
                },
            ]
        );
    }

    #[test]
    fn parses_ipv6_rows_and_unmaps_ipv4() {
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let mapped = Ipv4Addr::new(10, 0, 0, 5).to_ipv6_mapped();
        let udp6 =
            |a: Ipv6Addr, p: u16, pid: u32| [&a.octets()[..], &le(0), &port(p), &le(pid)].concat();
        let mut buf = le(2).to_vec();
        buf.extend(udp6(v6, 53, 900));
        buf.extend(udp6(mapped, 3478, 901));
        let rows = parse(Table::Udp6, &buf);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].addr, rows[0].port, rows[0].pid),
            (v6.into(), 53, 900)
        );
        assert_eq!(
            (rows[1].addr, rows[1].port, rows[1].pid),
            ("10.0.0.5".parse().unwrap(), 3478, 901)
        );

        let tcp6 = [
            &v6.octets()[..],
            &le(0),
            &port(443),
            &[0u8; 16],
            &le(0),
            &port(0),
            &le(2),
            &le(77),
        ]
        .concat();
        assert_eq!(tcp6.len(), Table::Tcp6.row_len());
        let rows = parse(Table::Tcp6, &[&le(1)[..], &tcp6].concat());
        assert_eq!(
            rows,
            vec![Row {
                addr: v6.into(),
                port: 443,
                pid: 77
            }]
        );
    }

    #[test]
    fn a_count_larger_than_the_buffer_reads_only_what_is_there() {
        let udp4 = [[127, 0, 0, 1], port(5353), le(8)].concat();
        let mut buf = le(1000).to_vec();
        buf.extend(&udp4);
        buf.extend(&udp4[..5]);
        assert_eq!(parse(Table::Udp4, &buf).len(), 1);
        for table in Table::ALL {
            assert!(parse(table, &[]).is_empty());
            assert!(parse(table, &[1, 0]).is_empty());
            assert!(parse(table, &le(3)).is_empty());
        }
        // Fewer rows than the buffer holds: the count wins.
        let mut buf = le(0).to_vec();
        buf.extend(&udp4);
        assert!(parse(Table::Udp4, &buf).is_empty());
    }
}
