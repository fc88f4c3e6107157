//! Stage 1, capture (interfaces): this machine's network interfaces as a source of packets,
//! through libpcap (Npcap on Windows; feature `live`): which interfaces there are (`list`),
//! which one to capture on by default ([`choose`]), and an open interface that hands over its
//! packets as they arrive, without blocking (`Capture`). The choice works on plain
//! [`Interface`] values, so it is tested without libpcap or privileges; only `list` and
//! `open` ask libpcap (they and `Capture` exist with the `live` feature).
//!
//! On Windows, Npcap names interfaces `\Device\NPF_{GUID}` and describes them as people know
//! them ("Intel(R) Wi-Fi 6 AX201 160MHz"): there the description is the name shown
//! ([`Interface::display_name`]), and [`choose`] takes either.
//!
//! This is a source and nothing more: how long to capture, what the packets mean and what to
//! tell a person is the live session's work (`live`). Errors are typed ([`IfaceError`]) and
//! nothing is printed.

#[cfg(feature = "live")]
mod libpcap;
#[cfg(all(feature = "live", windows))]
mod npcap;

#[cfg(feature = "live")]
pub use libpcap::{list, open, Capture};

use std::net::IpAddr;

/// Bytes kept of each packet: all of them (the evidence is in headers and first segments,
/// but a whole packet costs nothing on one machine's traffic).
pub const SNAPLEN: u32 = 65535;

/// What can go wrong with an interface. The messages are for logs and library users; a
/// program that talks to people words them itself (the `tomskype` binary does, in the
/// reader's language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IfaceError {
    /// libpcap could not list the interfaces.
    #[error("cannot list network interfaces: {detail}")]
    List {
        /// libpcap's message.
        detail: String,
    },
    /// No interface has that name.
    #[error("no interface named {name}; the interfaces are: {}", names(available))]
    NoSuchInterface {
        /// The name asked for.
        name: String,
        /// The display names of the real interfaces, in libpcap's order.
        available: Vec<String>,
    },
    /// No interface is a sensible default.
    #[error(
        "no interface is up, running, not loopback and with an address; name one with \
         --interface (the interfaces are: {})",
        names(available)
    )]
    NoDefault {
        /// The display names of the real interfaces, in libpcap's order.
        available: Vec<String>,
    },
    /// Npcap is not installed (Windows).
    #[error("live capture on Windows needs Npcap, which is not installed (wpcap.dll not found)")]
    NoNpcap,
    /// The user may not capture.
    #[error("no permission to capture on {iface} ({detail})")]
    Permission {
        /// The interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
    /// libpcap could not open the interface for another reason.
    #[error("cannot capture on {iface}: {detail}")]
    Open {
        /// The interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
    /// Reading failed after the capture had started (the interface went away).
    #[error("capture on {iface} stopped: {detail}")]
    Read {
        /// The interface.
        iface: String,
        /// libpcap's message.
        detail: String,
    },
}

/// Interface names for a message: comma-separated, quoted when they hold a comma or a space
/// (Windows' descriptions do).
fn names(available: &[String]) -> String {
    if available.is_empty() {
        return "none (is this user allowed to capture?)".into();
    }
    available
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name`, in double quotes when it holds a comma or a space, so that a list of names reads
/// unambiguously.
pub fn quote(name: &str) -> String {
    if name.contains(',') || name.contains(' ') {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    }
}

/// Whether libpcap's error message says the user lacks the right to capture.
pub fn is_permission_error(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    // Linux and macOS say "permission denied" or "not permitted"; Windows "access is denied".
    d.contains("permission") || d.contains("not permitted") || d.contains("access is denied")
}

/// An interface, as libpcap lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its name, as given to `--interface`.
    pub name: String,
    /// libpcap's description of it, if any.
    pub description: Option<String>,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
    /// Administratively up.
    pub up: bool,
    /// Running (link up).
    pub running: bool,
    /// A loopback interface.
    pub loopback: bool,
    /// A wireless interface.
    pub wireless: bool,
}

impl Interface {
    /// Whether it is a sensible default: up, running, not loopback, with an address.
    pub fn is_default_candidate(&self) -> bool {
        self.up && self.running && !self.loopback && !self.addresses.is_empty()
    }

    /// The name people know it by: Npcap's description for Npcap's `\Device\NPF_…` device
    /// names (Windows), the name itself elsewhere (`eth0`, `en0`).
    pub fn display_name(&self) -> &str {
        match &self.description {
            Some(d) if self.name.starts_with("\\Device\\") && !d.trim().is_empty() => d.trim(),
            _ => &self.name,
        }
    }

    /// Whether `wanted` names it: its name exactly, or its display name in any case.
    fn is_named(&self, wanted: &str) -> bool {
        self.name == wanted || self.display_name().eq_ignore_ascii_case(wanted.trim())
    }
}

/// The default interface: the first that is up, running, not loopback and has an address.
pub fn default_interface(list: &[Interface]) -> Option<&Interface> {
    list.iter().find(|i| i.is_default_candidate())
}

/// The interface to capture on: the one named `wanted` (its name exactly, else its display
/// name in any case), or the default.
pub fn choose<'a>(
    list: &'a [Interface],
    wanted: Option<&str>,
) -> Result<&'a Interface, IfaceError> {
    let available = || list.iter().map(|i| i.display_name().to_owned()).collect();
    match wanted {
        Some(name) => list
            .iter()
            .find(|i| i.name == name)
            .or_else(|| list.iter().find(|i| i.is_named(name)))
            .ok_or_else(|| IfaceError::NoSuchInterface {
                name: name.to_owned(),
                available: available(),
            }),
        None => default_interface(list).ok_or_else(|| IfaceError::NoDefault {
            available: available(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An interface with no description.
    fn iface(name: &str, addrs: &[&str], up: bool, running: bool, loopback: bool) -> Interface {
        Interface {
            name: name.into(),
            description: None,
            addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
            up,
            running,
            loopback,
            wireless: false,
        }
    }

    fn machine() -> Vec<Interface> {
        vec![
            iface("any", &[], true, true, false),
            iface("lo", &["127.0.0.1", "::1"], true, true, true),
            iface("eth0", &["192.0.2.5"], true, false, false),
            iface("docker0", &["198.51.100.1"], false, false, false),
            iface("wlan0", &["192.0.2.9", "2001:db8::9"], true, true, false),
            iface("eth1", &["203.0.113.2"], true, true, false),
        ]
    }

    #[test]
    fn the_default_is_the_first_up_running_non_loopback_with_an_address() {
        let list = machine();
        assert_eq!(default_interface(&list).unwrap().name, "wlan0");
        assert_eq!(choose(&list, None).unwrap().name, "wlan0");
        assert_eq!(choose(&list, Some("lo")).unwrap().name, "lo");
        let only_lo = vec![iface("lo", &["127.0.0.1"], true, true, true)];
        assert!(default_interface(&only_lo).is_none());
    }

    #[test]
    fn an_unknown_or_missing_interface_names_the_real_ones() {
        let list = machine();
        let err = choose(&list, Some("does-not-exist")).unwrap_err();
        let IfaceError::NoSuchInterface { name, available } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(name, "does-not-exist");
        assert_eq!(available.len(), list.len());
        let err = err.to_string();
        assert!(err.contains("does-not-exist"), "{err}");
        assert!(err.contains("lo, eth0, docker0, wlan0, eth1"), "{err}");
        let only_lo = vec![iface("lo", &["127.0.0.1"], true, true, true)];
        let err = choose(&only_lo, None).unwrap_err().to_string();
        assert!(err.contains("--interface") && err.contains("lo"), "{err}");
        let err = choose(&[], Some("eth0")).unwrap_err().to_string();
        assert!(err.contains("allowed to capture"), "{err}");
    }

    #[test]
    fn permission_errors_are_recognised() {
        assert!(is_permission_error(
            "libpcap error: You don't have permission to perform this capture on that device (socket: Operation not permitted)"
        ));
        assert!(is_permission_error("socket: Operation not permitted"));
        assert!(is_permission_error(
            "Error opening adapter: Access is denied.  (5)"
        ));
        assert!(!is_permission_error("No such device exists"));
    }

    /// Npcap's interfaces as a Windows machine lists them.
    fn windows_machine() -> Vec<Interface> {
        let mut lo = iface("\\Device\\NPF_Loopback", &["127.0.0.1"], true, true, true);
        lo.description = Some("Adapter for loopback traffic capture".into());
        let mut wifi = iface(
            "\\Device\\NPF_{4E273621-5161-46C8-895A-48D0E52A0B83}",
            &["192.168.1.23"],
            true,
            true,
            false,
        );
        wifi.description = Some("Intel(R) Wi-Fi 6 AX201 160MHz".into());
        let mut bare = iface("\\Device\\NPF_{0000}", &[], false, false, false);
        bare.description = Some("  ".into());
        vec![lo, wifi, bare]
    }

    #[test]
    fn windows_interfaces_go_by_their_description() {
        let list = windows_machine();
        assert_eq!(list[1].display_name(), "Intel(R) Wi-Fi 6 AX201 160MHz");
        // No usable description: the device name it is.
        assert_eq!(list[2].display_name(), "\\Device\\NPF_{0000}");
        // Linux names stay as they are, even with a description.
        let mut eth = iface("eth0", &[], true, true, false);
        eth.description = Some("Ethernet".into());
        assert_eq!(eth.display_name(), "eth0");

        for wanted in [
            "Intel(R) Wi-Fi 6 AX201 160MHz",
            "intel(r) wi-fi 6 ax201 160mhz",
            "\\Device\\NPF_{4E273621-5161-46C8-895A-48D0E52A0B83}",
        ] {
            assert_eq!(choose(&list, Some(wanted)).unwrap().name, list[1].name);
        }
        let err = choose(&list, Some("Wi-Fi")).unwrap_err().to_string();
        assert!(
            err.contains("\"Intel(R) Wi-Fi 6 AX201 160MHz\"") && !err.contains("NPF_{4E"),
            "{err}"
        );
    }
}
