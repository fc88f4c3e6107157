//! Live capture, socket owners (macOS): socket owners through `libproc`, as `lsof -i` finds them:
//! every process (`proc_listpids`), its descriptors (`proc_pidinfo` with
//! `PROC_PIDLISTFDS`), and for each socket descriptor its local address and port
//! (`proc_pidfdinfo` with `PROC_PIDFDSOCKETINFO`). Only processes the caller may inspect are
//! seen (all of them as root). Compiled in CI for both macOS architectures, never run there:
//! the project has no macOS machine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libproc::libproc::bsd_info::BSDInfo;
use libproc::libproc::file_info::{pidfdinfo, ListFDs, ProcFDType};
use libproc::libproc::net_info::{InSockInfo, SocketFDInfo, SocketInfoKind};
use libproc::libproc::proc_pid::{listpidinfo, name, pidinfo};
use libproc::processes::{pids_by_type, ProcFilter};

use super::{label, Owners};

/// `insi_vflag` bits (`<sys/proc_info.h>`).
const INI_IPV4: u8 = 0x1;
const INI_IPV6: u8 = 0x2;

/// Reads the socket descriptors of every process the caller may inspect.
pub(super) fn snapshot() -> Owners {
    let mut out = Owners::default();
    let Ok(pids) = pids_by_type(ProcFilter::All) else {
        return out;
    };
    for pid in pids {
        let Ok(ipid) = i32::try_from(pid) else {
            continue;
        };
        if ipid <= 0 {
            continue;
        }
        let Ok(info) = pidinfo::<BSDInfo>(ipid, 0) else {
            continue;
        };
        let Ok(fds) = listpidinfo::<ListFDs>(ipid, info.pbi_nfiles as usize) else {
            continue;
        };
        let mut program: Option<String> = None;
        for fd in fds {
            if !matches!(ProcFDType::from(fd.proc_fdtype), ProcFDType::Socket) {
                continue;
            }
            let Ok(sock) = pidfdinfo::<SocketFDInfo>(ipid, fd.proc_fd) else {
                continue;
            };
            let Ok(proto) = u8::try_from(sock.psi.soi_protocol) else {
                continue;
            };
            if proto != 6 && proto != 17 {
                continue;
            }
            // The kernel fills the union member that `soi_kind` names.
            let ini: InSockInfo = match SocketInfoKind::from(sock.psi.soi_kind) {
                // SAFETY: a TCP socket (`soi_kind`) carries its address in `pri_tcp.tcpsi_ini`.
                SocketInfoKind::Tcp => unsafe { sock.psi.soi_proto.pri_tcp.tcpsi_ini },
                // SAFETY: another IP socket (`soi_kind`) carries its address in `pri_in`.
                SocketInfoKind::In => unsafe { sock.psi.soi_proto.pri_in },
                _ => continue,
            };
            let Some(addr) = local_addr(&ini) else {
                continue;
            };
            // The port is kept in network byte order in the low 16 bits.
            let port = u16::from_be(ini.insi_lport as u16);
            let program = program
                .get_or_insert_with(|| label(&name(ipid).unwrap_or_default(), pid))
                .clone();
            out.entry((addr, port, proto)).or_insert(program);
        }
    }
    out
}

/// The local address of an IP socket.
fn local_addr(ini: &InSockInfo) -> Option<IpAddr> {
    if ini.insi_vflag & INI_IPV4 != 0 {
        // SAFETY: with INI_IPV4 the kernel stores an IPv4 address in `ina_46`.
        let a = unsafe { ini.insi_laddr.ina_46.i46a_addr4.s_addr };
        Some(IpAddr::V4(Ipv4Addr::from(a.to_ne_bytes())))
    } else if ini.insi_vflag & INI_IPV6 != 0 {
        // SAFETY: with INI_IPV6 the kernel stores an IPv6 address in `ina_6`.
        let a = unsafe { ini.insi_laddr.ina_6.s6_addr };
        let v6 = Ipv6Addr::from(a);
        Some(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        })
    } else {
        None
    }
}
