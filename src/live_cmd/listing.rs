//! The listing of `tomskype interfaces`: one interface a line, its state in words and its
//! addresses, the default marked, in the reader's language; columns measured in terminal
//! columns, so that Chinese words line up too.

use std::io::{self, Write};

use tomskype::capture::iface::{self, Interface};
use tomskype::report::lang::Messages;
use tomskype::textsafe::safe;

use super::safe_string;

/// Writes the listing of `tomskype interfaces`: one interface a line with its flags and
/// addresses, the default marked with `*`. Names and descriptions come from the system: shown
/// terminal-safe like any input.
pub(super) fn write_listing(
    m: &Messages,
    list: &[Interface],
    out: &mut dyn Write,
) -> io::Result<()> {
    use textwrap::core::display_width;

    if list.is_empty() {
        return writeln!(out, "{}", m.text("iface-none"));
    }
    let default = iface::default_interface(list).map(|i| i.name.as_str());
    let shown: Vec<String> = list.iter().map(|i| safe_string(i.display_name())).collect();
    let flags: Vec<String> = list.iter().map(|i| state(m, i)).collect();
    let width = shown.iter().map(|s| display_width(s)).max().unwrap_or(0);
    let flags_width = flags
        .iter()
        .map(|s| display_width(s))
        .max()
        .unwrap_or(0)
        .max(24);
    let pad = |s: &str, to: usize| " ".repeat(to.saturating_sub(display_width(s)));
    for ((i, shown), flags) in list.iter().zip(&shown).zip(&flags) {
        let mark = if Some(i.name.as_str()) == default {
            '*'
        } else {
            ' '
        };
        let addrs = if i.addresses.is_empty() {
            "-".to_owned()
        } else {
            i.addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            out,
            "{mark} {shown}{}  {flags}{}  {addrs}",
            pad(shown, width),
            pad(flags, flags_width)
        )?;
        // Whatever the first column does not show: the description (Linux, macOS) or the
        // device name (Windows).
        let other = if i.display_name() == i.name {
            i.description.as_deref()
        } else {
            Some(i.name.as_str())
        };
        match other {
            Some(d) if !d.trim().is_empty() => writeln!(out, "  ({})", safe(d))?,
            _ => writeln!(out)?,
        }
    }
    match default.and_then(|name| list.iter().find(|i| i.name == name)) {
        Some(i) => {
            let name = safe_string(i.display_name());
            writeln!(
                out,
                "{}",
                m.get("iface-default", &[("iface", (&name).into())])
            )
        }
        None => writeln!(out, "{}", m.text("iface-no-default")),
    }
}

/// An interface's state in words: up, running, loopback, wireless (or down).
fn state(m: &Messages, i: &Interface) -> String {
    let on: Vec<String> = [
        (i.up, "iface-flag-up"),
        (i.running, "iface-flag-running"),
        (i.loopback, "iface-flag-loopback"),
        (i.wireless, "iface-flag-wireless"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, id)| m.text(id))
    .collect();
    if on.is_empty() {
        m.text("iface-flag-down")
    } else {
        on.join(&m.text("iface-flag-separator"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tomskype::report::lang::Lang;

    fn en() -> Messages {
        Messages::new(Lang::En)
    }

    fn machine() -> Vec<Interface> {
        let iface =
            |name: &str, addrs: &[&str], up: bool, running: bool, loopback: bool| Interface {
                name: name.into(),
                description: None,
                addresses: addrs.iter().map(|a| a.parse().unwrap()).collect(),
                up,
                running,
                loopback,
                wireless: false,
            };
        vec![
            iface("any", &[], true, true, false),
            iface("lo", &["127.0.0.1", "::1"], true, true, true),
            iface("eth0", &["192.0.2.5"], true, false, false),
            iface("docker0", &["198.51.100.1"], false, false, false),
            iface("wlan0", &["192.0.2.9", "2001:db8::9"], true, true, false),
            iface("eth1", &["203.0.113.2"], true, true, false),
        ]
    }

    fn listing(m: &Messages, list: &[Interface]) -> String {
        let mut out = Vec::new();
        write_listing(m, list, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_listing_marks_the_default_and_shows_flags() {
        let mut list = machine();
        list[4].wireless = true;
        list[4].description = Some("Wi-Fi".into());
        let text = listing(&en(), &list);
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
        assert_eq!(lines[6], "* = default for `tomskype live`: wlan0");
        assert!(listing(&en(), &[]).contains("no interfaces"));

        // In Chinese the columns still line up: the addresses start in the same column.
        let zh = listing(&Messages::new(Lang::ZhCn), &list);
        let columns: Vec<usize> = zh
            .lines()
            .zip(&list)
            .map(|(l, i)| {
                let first = i.addresses.first().map_or("-".into(), |a| a.to_string());
                let at = l.find(&first).unwrap();
                textwrap::core::display_width(&l[..at])
            })
            .collect();
        assert!(columns.iter().all(|&c| c == columns[0]), "{zh}");
    }

    #[test]
    fn windows_interfaces_are_listed_by_their_description() {
        let mut lo = machine()[1].clone();
        lo.name = "\\Device\\NPF_Loopback".into();
        lo.description = Some("Adapter for loopback traffic capture".into());
        let mut wifi = machine()[4].clone();
        wifi.name = "\\Device\\NPF_{4E273621-5161-46C8-895A-48D0E52A0B83}".into();
        wifi.description = Some("Intel(R) Wi-Fi 6 AX201 160MHz".into());
        let mut bare = machine()[3].clone();
        bare.name = "\\Device\\NPF_{0000}".into();
        bare.description = Some("  ".into());
        bare.addresses.clear();
        let list = vec![lo, wifi, bare];
        let text = listing(&en(), &list);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("* Intel(R) Wi-Fi 6 AX201 160MHz"),
            "{text}"
        );
        // The device name, terminal-safe (backslashes shown escaped, as all input text is).
        let device = format!("({})", safe(&list[1].name));
        assert!(lines[1].ends_with(&device), "{text}");
        // A blank description shows nothing.
        assert!(lines[2].ends_with("-"), "{text}");
        assert!(
            lines[3].ends_with("default for `tomskype live`: Intel(R) Wi-Fi 6 AX201 160MHz"),
            "{text}"
        );
    }
}
