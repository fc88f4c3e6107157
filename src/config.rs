//! From flags to the objects that do the work: opens the GeoIP database, loads the indicator
//! files, parses expectations and the language, decides on colour. Every refusal is a
//! [`Failure`] that names the file or the flag it concerns.

use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use tomskype::report::lang::Lang;

use crate::cli::{ColorChoice, KnowledgeArgs, ReportArgs};
use crate::failure::Failure;
use tomskype::addr::LocalNets;
use tomskype::analyze::Analyzer;
use tomskype::knowledge::geoip::GeoIp;
use tomskype::knowledge::indicators::IndicatorSet;
use tomskype::report::expect::Expectation;

/// The shipped indicator set plus the user's files.
pub fn indicators(files: &[PathBuf]) -> Result<IndicatorSet, Box<Failure>> {
    let mut set = IndicatorSet::embedded().map_err(Failure::ShippedIndicators)?;
    for f in files {
        set.add_file(f).map_err(|source| Failure::Indicators {
            path: f.clone(),
            source,
        })?;
    }
    Ok(set)
}

/// The GeoIP database the flags ask for.
pub fn geoip(choice: Option<&Path>) -> Result<GeoIp, Box<Failure>> {
    match choice {
        Some(p) if p == Path::new("embedded") => {
            Ok(GeoIp::embedded().map_err(Failure::ShippedGeoIp)?)
        }
        Some(p) => Ok(GeoIp::open(p).map_err(|source| Failure::GeoIp {
            path: p.to_path_buf(),
            source,
        })?),
        None => Ok(GeoIp::discover().map_err(Failure::FoundGeoIp)?),
    }
}

/// The knowledge base: GeoIP and indicators.
pub fn knowledge(k: &KnowledgeArgs) -> Result<(GeoIp, IndicatorSet), Box<Failure>> {
    Ok((
        geoip(k.geoip_db.as_deref())?,
        indicators(&k.indicator_files)?,
    ))
}

/// One `--expect` value. The library parses it and says what is wrong; which part is wrong
/// is read here the way it reads it (the address, before the last `=`, is checked first).
pub fn expectation(value: &str) -> Result<Expectation, Box<Failure>> {
    Ok(value.parse::<Expectation>().map_err(|detail| {
        let value_owned = value.to_owned();
        match value.rsplit_once('=') {
            Some((address, _)) if address.trim().parse::<IpAddr>().is_err() => {
                Failure::ExpectAddress {
                    value: value_owned,
                    address: address.to_owned(),
                    detail,
                }
            }
            parts => Failure::ExpectLabel {
                value: value_owned,
                label: parts.map_or(value, |(_, label)| label).to_owned(),
                detail,
            },
        }
    })?)
}

/// Everything an analysis needs, and the expectations to check.
pub fn analyzer(r: &ReportArgs) -> Result<(Analyzer, Vec<Expectation>), Box<Failure>> {
    let expected = r
        .expect
        .iter()
        .map(|s| expectation(s))
        .collect::<Result<Vec<_>, _>>()?;
    let (geoip, indicators) = knowledge(&r.knowledge)?;
    let local = LocalNets::new(r.local_nets.clone());
    Ok((
        Analyzer {
            geoip,
            indicators,
            local,
        },
        expected,
    ))
}

/// Whether to colour text on standard output.
pub fn colour(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// The language of the people's reports: `--lang` when given (refused when it names no
/// language of ours), else the environment's.
pub fn lang(choice: Option<&str>) -> Result<Lang, Box<Failure>> {
    match choice {
        None => Ok(Lang::from_env()),
        Some(tag) => Ok(Lang::parse(tag).ok_or_else(|| Failure::Lang(tag.to_owned()))?),
    }
}

/// A number of seconds from a flag, refused (by `refuse`) when it is negative, not a number
/// or too large for a duration.
pub fn seconds(
    value: f64,
    refuse: fn(f64) -> Failure,
) -> Result<std::time::Duration, Box<Failure>> {
    Ok(std::time::Duration::try_from_secs_f64(value).map_err(|_| refuse(value))?)
}

/// Columns for the text report: the terminal's when standard output is one, else 100.
pub fn text_width() -> usize {
    if !std::io::stdout().is_terminal() {
        return 100;
    }
    terminal_size::terminal_size().map_or(100, |(w, _)| usize::from(w.0))
}

/// The reader's time zone (`TZ`, else the system's), when it is not UTC: the people's reports
/// then give capture times in it beside UTC.
pub fn local_zone() -> Option<jiff::tz::TimeZone> {
    let tz = jiff::tz::TimeZone::try_system().ok()?;
    let utc_names = [
        "UTC",
        "Etc/UTC",
        "Etc/Universal",
        "Universal",
        "Zulu",
        "Etc/Zulu",
    ];
    match tz.iana_name() {
        Some(name) if utc_names.contains(&name) => None,
        // A fixed offset of zero is UTC too.
        None if tz
            .to_fixed_offset()
            .is_ok_and(|o| o == jiff::tz::Offset::UTC) =>
        {
            None
        }
        _ => Some(tz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expectation_names_the_part_that_is_wrong() {
        assert!(expectation("10.0.0.1=tom-skype").is_ok());
        match expectation("1.2.3=tom-skype").map_err(|b| *b) {
            Err(Failure::ExpectAddress {
                address, detail, ..
            }) => {
                assert_eq!(address, "1.2.3");
                assert!(detail.contains("not an IP"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // Both wrong: the address is what the library refuses first.
        assert!(matches!(
            expectation("x=y").map_err(|b| *b),
            Err(Failure::ExpectAddress { .. })
        ));
        for (value, label) in [("tom", "tom"), ("10.0.0.1=tom", "tom"), ("::1=", "")] {
            match expectation(value).map_err(|b| *b) {
                Err(Failure::ExpectLabel {
                    label: l, detail, ..
                }) => {
                    assert_eq!(l, label);
                    assert!(detail.contains("not a label"), "{detail}");
                }
                other => panic!("{value}: {other:?}"),
            }
        }
    }

    #[test]
    fn seconds_refuse_what_is_not_a_duration() {
        assert_eq!(
            seconds(1.5, Failure::InputTimeout).unwrap(),
            std::time::Duration::from_millis(1500)
        );
        assert!(seconds(0.0, Failure::InputTimeout).is_ok());
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                seconds(bad, Failure::InputTimeout).map_err(|b| *b),
                Err(Failure::InputTimeout(_))
            ));
        }
    }
}
