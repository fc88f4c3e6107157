//! From flags to the objects that do the work: opens the GeoIP database, loads the indicator
//! files, parses expectations, decides on colour. Every error names the file it concerns.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result};
use tomskype::report::lang::Lang;

use crate::cli::{ColorChoice, KnowledgeArgs, ReportArgs};
use tomskype::addr::LocalNets;
use tomskype::analyze::Analyzer;
use tomskype::knowledge::geoip::GeoIp;
use tomskype::knowledge::indicators::IndicatorSet;
use tomskype::report::expect::Expectation;

/// The shipped indicator set plus the user's files.
pub fn indicators(files: &[std::path::PathBuf]) -> Result<IndicatorSet> {
    let mut set = IndicatorSet::embedded().context("the shipped indicator set is broken")?;
    for f in files {
        set.add_file(f)
            .with_context(|| format!("refusing indicator file {}", f.display()))?;
    }
    Ok(set)
}

/// The GeoIP database the flags ask for.
pub fn geoip(choice: Option<&Path>) -> Result<GeoIp> {
    match choice {
        Some(p) if p == Path::new("embedded") => {
            GeoIp::embedded().context("the shipped GeoIP database is broken")
        }
        Some(p) => {
            GeoIp::open(p).with_context(|| format!("refusing GeoIP database {}", p.display()))
        }
        None => GeoIp::discover().context("no usable GeoIP database"),
    }
}

/// The knowledge base: GeoIP and indicators.
pub fn knowledge(k: &KnowledgeArgs) -> Result<(GeoIp, IndicatorSet)> {
    Ok((
        geoip(k.geoip_db.as_deref())?,
        indicators(&k.indicator_files)?,
    ))
}

/// Everything an analysis needs, and the expectations to check.
pub fn analyzer(r: &ReportArgs) -> Result<(Analyzer, Vec<Expectation>)> {
    let expected = r
        .expect
        .iter()
        .map(|s| {
            s.parse::<Expectation>()
                .map_err(|e| anyhow::anyhow!("--expect {s}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
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
pub fn lang(choice: Option<&str>) -> Result<Lang> {
    match choice {
        None => Ok(Lang::from_env()),
        Some(tag) => Lang::parse(tag).ok_or_else(|| {
            anyhow::anyhow!("--lang {tag}: not a language of the reports (en, zh-CN, zh-TW)")
        }),
    }
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
