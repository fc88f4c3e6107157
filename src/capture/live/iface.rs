//! Stage 1, capture (live): the interfaces libpcap offers, which one to capture on by default,
//! and the `tomskype interfaces` listing. The choice works on plain [`Interface`] values, so
//! it is tested without libpcap or privileges; only [`list`] asks libpcap.
//!
//! On Windows, Npcap names interfaces `\Device\NPF_{GUID}` and describes them as people know
//! them ("Intel(R) Wi-Fi 6 AX201 160MHz"): there the description is the name shown
//! ([`Interface::display_name`]), and `--interface` takes either.

use std::io::{self, Write};
use std::net::IpAddr;

use super::LiveError;
use crate::textsafe::Safe;

/// An interface as live capture sees it.
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
pub fn list() -> Result<Vec<Interface>, LiveError> {
    // Windows: find Npcap first, or say to install it.
    #[cfg(windows)]
    super::npcap::ensure()?;
    let devices = pcap::Device::list().map_err(|e| LiveError::List {
        detail: e.to_string(),
    })?;
    Ok(devices.iter().map(Interface::from).collect())
}

/// The default interface: the first that is up, running, not loopback and has an address.
pub fn default_interface(list: &[Interface]) -> Option<&Interface> {
    list.iter().find(|i| i.is_default_candidate())
}

/// The interface to capture on: the one named `wanted`, or the default.
pub fn choose<'a>(list: &'a [Interface], wanted: Option<&str>) -> Result<&'a Interface, LiveError> {
    match wanted {
        Some(name) => list
            .iter()
            .find(|i| i.name == name)
            .or_else(|| list.iter().find(|i| i.is_named(name)))
            .ok_or_else(|| LiveError::NoSuchInterface {
                name: name.to_owned(),
                available: names(list),
            }),
        None => default_interface(list).ok_or_else(|| LiveError::NoDefault {
            available: names(list),
        }),
    }
}

/// The names of `list`, comma-separated, for error messages.
fn names(list: &[Interface]) -> String {
    if list.is_empty() {
        return "none (is this user allowed to capture?)".into();
    }
    list.iter()
        .map(|i| {
            let shown = i.display_name();
            if shown.contains(',') || shown.contains(' ') {
                format!("\"{shown}\"")
            } else {
                shown.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the listing of `tomskype interfaces`: one interface a line with its flags and
/// addresses, the default marked with `*`.
pub fn write_listing(list: &[Interface], out: &mut dyn Write) -> io::Result<()> {
    if list.is_empty() {
        writeln!(
            out,
            "no interfaces found (libpcap lists none: is this user allowed to capture?)"
        )?;
        return Ok(());
    }
    let default = default_interface(list).map(|i| i.name.as_str());
    let width = list
        .iter()
        .map(|i| i.display_name().chars().count())
        .max()
        .unwrap_or(0);
    for i in list {
        let mark = if Some(i.name.as_str()) == default {
            '*'
        } else {
            ' '
        };
        let flags: Vec<&str> = [
            (i.up, "up"),
            (i.running, "running"),
            (i.loopback, "loopback"),
            (i.wireless, "wireless"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        let flags = if flags.is_empty() {
            "down".to_owned()
        } else {
            flags.join(",")
        };
        let addrs = if i.addresses.is_empty() {
            "-".to_owned()
        } else {
            i.addresses
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        // Names and descriptions come from the system: shown terminal-safe like any input.
        write!(
            out,
            "{mark} {:<width$}  {flags:<24}  {addrs}",
            Safe(i.display_name())
        )?;
        // Whatever the first column does not show: the description (Linux, macOS) or the
        // device name (Windows).
        let other = if i.display_name() == i.name {
            i.description.as_deref()
        } else {
            Some(i.name.as_str())
        };
        match other {
            Some(d) if !d.trim().is_empty() => writeln!(out, "  ({})", Safe(d))?,
            _ => writeln!(out)?,
        }
    }
    match default.and_then(|name| list.iter().find(|i| i.name == name)) {
        Some(i) => writeln!(
            out,
            "* = default for `tomskype live`: {}",
            Safe(i.display_name())
        ),
        None => writeln!(
            out,
            "no default: no interface is up, running, not loopback and has an address; \
             name one with --interface"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = choose(&list, Some("does-not-exist"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does-not-exist"), "{err}");
        assert!(err.contains("lo, eth0, docker0, wlan0, eth1"), "{err}");
        let only_lo = vec![iface("lo", &["127.0.0.1"], true, true, true)];
        let err = choose(&only_lo, None).unwrap_err().to_string();
        assert!(err.contains("--interface") && err.contains("lo"), "{err}");
        let err = choose(&[], Some("eth0")).unwrap_err().to_string();
        assert!(err.contains("allowed to capture"), "{err}");
    }

    #[test]
    fn the_listing_marks_the_default_and_shows_flags() {
        let mut list = machine();
        list[4].wireless = true;
        list[4].description = Some("Wi-Fi".into());
        let mut out = Vec::new();
        write_listing(&list, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), list.len() + 1);
        assert!(lines[4].starts_with("* wlan0"), "{text}");
        assert!(lines[4].contains("up,running,wireless"), "{text}");
        assert!(
            lines[4].contains("192.0.2.9 2001:db8::9  (Wi-Fi)"),
            "{text}"
        );
        assert!(lines[1].contains("loopback"), "{text}");
        assert!(lines[3].contains("down"), "{text}");
        assert_eq!(lines.iter().filter(|l| l.starts_with('*')).count(), 2);
        assert!(lines[6].ends_with("wlan0"), "{text}");
        let mut out = Vec::new();
        write_listing(&[], &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("no interfaces"));
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

        let mut out = Vec::new();
        write_listing(&list, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("* Intel(R) Wi-Fi 6 AX201 160MHz"),
            "{text}"
        );
        // The device name, terminal-safe (backslashes shown escaped, as all input text is).
        let device = format!("({})", Safe(&list[1].name));
        assert!(lines[1].ends_with(&device), "{text}");
        // A blank description shows nothing.
        assert!(lines[2].ends_with("-"), "{text}");
        assert!(
            lines[3].ends_with("default for `tomskype live`: Intel(R) Wi-Fi 6 AX201 160MHz"),
            "{text}"
        );
    }
}
