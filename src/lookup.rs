//! `tomskype lookup`: what the knowledge base says about addresses (country, special-purpose
//! range, indicators matched), without any traffic. Uses the enrich stage's lookups only.

use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;

use crate::addr;
use crate::enrich::geoip::{Country, GeoIp};
use crate::enrich::indicators::IndicatorSet;
use crate::textsafe::Safe;

/// What is known of one address.
#[derive(Debug, Clone, Serialize)]
pub struct AddrInfo {
    /// The address.
    pub address: IpAddr,
    /// Its country (never for special-purpose addresses).
    pub country: Option<Country>,
    /// Its special-purpose range, if any.
    pub special: Option<&'static str>,
    /// Indicators it matches: (id, role, weight, validity, description).
    pub indicators: Vec<IndicatorRef>,
}

/// An indicator an address matched.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRef {
    /// Its id.
    pub id: String,
    /// `tom`, `skype` or `not-evidence`.
    pub role: crate::enrich::indicators::Role,
    /// Its weight.
    pub weight: f64,
    /// When it means what it says.
    pub valid: String,
    /// Its source key.
    pub source: String,
    /// What it is.
    pub description: String,
}

/// Looks up each address.
pub fn lookup(addrs: &[IpAddr], geoip: &GeoIp, set: &IndicatorSet) -> Vec<AddrInfo> {
    addrs
        .iter()
        .map(|&a| AddrInfo {
            address: a,
            country: geoip.country(a),
            special: addr::special_range(a).map(|s| s.name()),
            indicators: set
                .match_addr(a)
                .map(|i| IndicatorRef {
                    id: i.id.clone(),
                    role: i.role,
                    weight: i.weight,
                    valid: i.valid.to_string(),
                    source: i.source.clone(),
                    description: i.description.clone(),
                })
                .collect(),
        })
        .collect()
}

/// Writes lookups for people.
pub fn write_text(infos: &[AddrInfo], out: &mut dyn Write) -> io::Result<()> {
    for i in infos {
        let country = i.country.map_or_else(|| "-".to_owned(), |c| c.to_string());
        let special = i
            .special
            .map_or_else(String::new, |s| format!("  special range: {s}"));
        writeln!(out, "{}  country: {country}{special}", i.address)?;
        if i.indicators.is_empty() {
            writeln!(out, "  no indicator")?;
        }
        for r in &i.indicators {
            writeln!(
                out,
                "  {} ({:?}, weight {}, valid {}, source {}): {}",
                Safe(&r.id),
                r.role,
                r.weight,
                r.valid,
                Safe(&r.source),
                Safe(&r.description)
            )?;
        }
    }
    Ok(())
}
