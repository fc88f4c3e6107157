//! Stage 6, report: checking a report against expected verdicts (`--expect`), for regression
//! runs. `LABEL` alone is the capture's overall verdict: the most significant label of any
//! host, in the order tom-skype, inconclusive, regular-skype, no-skype. A report without any
//! host meets no expectation: there is nothing to check. `ADDR=LABEL` is one host's label.

use std::net::IpAddr;

use super::Report;
use crate::classify::Label;

/// One expected verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// The host, or None for the overall verdict.
    pub addr: Option<IpAddr>,
    /// The label expected.
    pub label: Label,
}

impl std::str::FromStr for Expectation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, label) = match s.rsplit_once('=') {
            Some((a, l)) => (
                Some(
                    a.trim()
                        .parse::<IpAddr>()
                        .map_err(|_| format!("`{a}` is not an IP address"))?,
                ),
                l,
            ),
            None => (None, s),
        };
        let label = Label::parse(label.trim()).ok_or_else(|| {
            format!("`{label}` is not a label (tom-skype, regular-skype, no-skype, inconclusive)")
        })?;
        Ok(Expectation { addr, label })
    }
}

/// The overall verdict of a report (no-skype when it has no host; hosts whose reports were not
/// kept are no-skype).
pub fn overall(report: &Report) -> Label {
    report
        .hosts
        .iter()
        .map(|h| h.verdict.label)
        .max_by_key(|&l| l.severity())
        .unwrap_or(Label::NoSkype)
}

/// Every expectation that the report does not meet, in words.
pub fn mismatches(report: &Report, expected: &[Expectation]) -> Vec<String> {
    let mut out = Vec::new();
    for e in expected {
        match e.addr {
            None if report.host_count() == 0 => out.push(format!(
                "no host in the report to check, expected an overall verdict of {}",
                e.label.name()
            )),
            None => {
                let got = overall(report);
                if got != e.label {
                    out.push(format!(
                        "overall verdict is {}, expected {}",
                        got.name(),
                        e.label.name()
                    ));
                }
            }
            Some(addr) => match report.label_of(addr) {
                None => out.push(format!(
                    "host {addr} is not in the report, expected {}",
                    e.label.name()
                )),
                Some(label) if label != e.label => out.push(format!(
                    "host {addr} is {}, expected {}",
                    label.name(),
                    e.label.name()
                )),
                Some(_) => {}
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let e: Expectation = "192.168.1.34=regular-skype".parse().unwrap();
        assert_eq!(e.addr, Some("192.168.1.34".parse().unwrap()));
        assert_eq!(e.label, Label::RegularSkype);
        let e: Expectation = "tom-skype".parse().unwrap();
        assert_eq!((e.addr, e.label), (None, Label::TomSkype));
        let e: Expectation = "2001:db8::1=no-skype".parse().unwrap();
        assert_eq!(e.addr, Some("2001:db8::1".parse().unwrap()));
        assert!("tom"
            .parse::<Expectation>()
            .unwrap_err()
            .contains("not a label"));
        assert!("1.2.3=tom-skype"
            .parse::<Expectation>()
            .unwrap_err()
            .contains("not an IP"));
    }
}
