//! Knowledge: the country of an address, from a GeoIP database.
//!
//! [`GeoIp`] reads a MaxMind-format (`.mmdb`) database: the one compiled into the binary from
//! `data/geoip/` ([`GeoIp::embedded`]), a file the user names ([`GeoIp::open`]) or one found at
//! the standard locations ([`GeoIp::discover`]). Two record layouts are understood and detected
//! when the database is opened: MaxMind's `{"country": {"iso_code": "CN"}}` (with
//! `registered_country.iso_code` as the fallback) and ip-location-db's `{"country_code": "CN"}`.
//! A file with neither, or one that is not a well-formed mmdb, is refused with an error naming it.
//! [`GeoIp::country`] never answers for special-purpose addresses ([`crate::addr`]): databases
//! map some of them to countries (the embedded one puts 192.168.1.1 in AU).
//!
//! Left out: cities, ASNs, anything beyond the country code; online lookups of any kind.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{MaxMindDbError, PathElement, Reader, WithinOptions};
use serde::Deserialize;
use thiserror::Error;

use crate::addr;

mod country;
mod mmdb;

pub use country::Country;
use mmdb::{check_search_tree, date_from_epoch};

/// The database compiled into the binary; see `data/geoip/README.md` for its source and licence.
static EMBEDDED: &[u8] = include_bytes!("../../../data/geoip/geo-whois-asn-country.mmdb");

/// The [`GeoIpInfo::source`] of the embedded database.
pub const EMBEDDED_SOURCE: &str = "embedded";

/// Where [`GeoIp::discover`] looks, in order. `/var/lib/GeoIP` is where Debian's and Ubuntu's
/// `geoipupdate` package writes; `/usr/share/GeoIP` is used by MaxMind's own packages and by
/// Fedora's; `/usr/local/share/GeoIP` by `geoipupdate` built from source. (Debian's
/// `geoip-database` package installs only the legacy `GeoIP.dat`, which is not an mmdb.)
pub const STANDARD_LOCATIONS: &[&str] = &[
    "/var/lib/GeoIP/GeoIP2-Country.mmdb",
    "/var/lib/GeoIP/GeoLite2-Country.mmdb",
    "/var/lib/GeoIP/GeoIP2-City.mmdb",
    "/var/lib/GeoIP/GeoLite2-City.mmdb",
    "/usr/share/GeoIP/GeoIP2-Country.mmdb",
    "/usr/share/GeoIP/GeoLite2-Country.mmdb",
    "/usr/share/GeoIP/GeoIP2-City.mmdb",
    "/usr/share/GeoIP/GeoLite2-City.mmdb",
    "/usr/share/GeoIP/dbip-country-lite.mmdb",
    "/usr/local/share/GeoIP/GeoIP2-Country.mmdb",
    "/usr/local/share/GeoIP/GeoLite2-Country.mmdb",
    "/usr/local/share/GeoIP/GeoIP2-City.mmdb",
    "/usr/local/share/GeoIP/GeoLite2-City.mmdb",
];

/// How many records [`GeoIp`] inspects at open time to detect the record layout.
const LAYOUT_PROBE_RECORDS: usize = 256;

/// Which record layout a database uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{"country": {"iso_code": ..}, "registered_country": {"iso_code": ..}}` (MaxMind
    /// GeoIP2/GeoLite2 Country and City, DB-IP lite).
    MaxMind,
    /// `{"country_code": ..}` (ip-location-db builds).
    IpLocationDb,
}
/// What database is in use, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoIpInfo {
    /// "embedded" or the path of the file.
    pub source: String,
    /// The metadata's `database_type`, e.g. "GeoLite2-Country" or "country ipvAll".
    pub database_type: String,
    /// The metadata's `build_epoch`, seconds since 1970 (UTC).
    pub build_epoch: u64,
    /// `build_epoch` as a UTC date, "YYYY-MM-DD".
    pub build_date: String,
    /// The record layout detected at open time.
    pub layout: Layout,
    /// The metadata's `ip_version`: 4 (IPv4 only) or 6 (IPv6, with IPv4 inside).
    pub ip_version: u16,
}

/// Why a GeoIP database could not be used. Every variant names the database.
#[derive(Debug, Error)]
pub enum GeoIpError {
    /// The file could not be read.
    #[error("cannot read geoip database {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The search tree has a record that is neither a node nor a pointer into the data
    /// section (found when a file is opened; the reader would find it only at lookup time).
    #[error("geoip database {name} is not a valid mmdb file: {reason}")]
    Malformed {
        /// "embedded" or the path.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The maxminddb reader refused the file (no metadata, a tree that does not fit, ...) or
    /// failed while reading a record.
    #[error("geoip database {name} is not a valid mmdb file")]
    Reader {
        /// "embedded" or the path.
        name: String,
        /// The reader's error.
        #[source]
        source: MaxMindDbError,
    },
    /// A well-formed database whose records carry no country code.
    #[error(
        "geoip database {name} has no country data: expected a country database with \
         `country.iso_code` (MaxMind) or `country_code` (ip-location-db) records; found database \
         type `{database_type}`"
    )]
    NotCountry {
        /// "embedded" or the path.
        name: String,
        /// The metadata's `database_type`.
        database_type: String,
    },
}

/// A country GeoIP database held in memory (the embedded one is borrowed from the binary, a
/// user file is read in whole).
#[derive(Debug)]
pub struct GeoIp {
    reader: Reader<Cow<'static, [u8]>>,
    info: GeoIpInfo,
    /// Countries already decoded, by record (every address of a country shares one).
    by_record: Memo,
}

/// A few answers kept, shared by every thread that looks up: a table of `2^bits` slots, each
/// one word holding a key and its answer (a newer key takes the slot of an older one). Looking
/// up the country of the peers of many hosts was 3.3% of a run's instructions
/// (`valgrind --tool=callgrind`, bench/RESULTS.md's 200 MB many-hosts capture: 55 M of
/// 1,666 M), a third of it decoding the record; kept by record, 38 M. Kept by address as well,
/// in 4,096 or 65,536 slots, 44 M and 38 M: the peers are mostly looked up once each.
#[derive(Debug)]
struct Memo {
    slots: Box<[std::sync::atomic::AtomicU64]>,
    shift: u32,
}

impl Memo {
    fn new(bits: u32) -> Memo {
        Memo {
            slots: (0..1usize << bits)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            shift: 64 - bits,
        }
    }

    /// The answer kept for `key` (below 2^46): `Some(None)` for a kept "no country".
    #[inline]
    fn get(&self, key: u64) -> Option<Option<Country>> {
        let slot = self.slots.get(self.slot(key))?;
        let word = slot.load(std::sync::atomic::Ordering::Relaxed);
        if word >> 16 != key + 1 {
            return None;
        }
        let [a, b] = u16::try_from(word & 0xffff).unwrap_or(0).to_be_bytes();
        Some(std::str::from_utf8(&[a, b]).ok().and_then(Country::parse))
    }

    /// Keeps `country` as the answer for `key` (below 2^46; larger keys are not kept).
    #[inline]
    fn put(&self, key: u64, country: Option<Country>) {
        if key >= 1 << 46 {
            return;
        }
        let code = country.map_or(0, |c| match c.as_str().as_bytes() {
            &[a, b] => u64::from(u16::from_be_bytes([a, b])),
            _ => 0,
        });
        if let Some(slot) = self.slots.get(self.slot(key)) {
            slot.store((key + 1) << 16 | code, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        usize::try_from(key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift).unwrap_or(0)
    }
}

impl GeoIp {
    /// The database compiled into the binary. Cheap: no copy, only the metadata and a few
    /// records are decoded (its tree is trusted; a unit test gives it the check user files
    /// get).
    pub fn embedded() -> Result<GeoIp, GeoIpError> {
        GeoIp::from_bytes(Cow::Borrowed(EMBEDDED), EMBEDDED_SOURCE.to_string(), false)
    }

    /// A database file given by the user, read into memory.
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        let bytes = std::fs::read(path).map_err(|source| GeoIpError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        GeoIp::from_file_bytes(bytes, path.display().to_string())
    }

    /// The bytes of a database file the caller read, named `name` in errors and in
    /// [`GeoIp::info`]: checked as a file given by the user is ([`GeoIp::open`]), every record
    /// of its search tree included.
    pub fn from_file_bytes(bytes: Vec<u8>, name: impl Into<String>) -> Result<GeoIp, GeoIpError> {
        GeoIp::from_bytes(Cow::Owned(bytes), name.into(), true)
    }

    /// The first database found at [`STANDARD_LOCATIONS`], else the embedded one. A file that
    /// exists there but cannot be used is an error, not silently skipped: the user would
    /// otherwise get different countries without knowing why.
    pub fn discover() -> Result<GeoIp, GeoIpError> {
        let candidates: Vec<&Path> = STANDARD_LOCATIONS.iter().map(Path::new).collect();
        GeoIp::discover_in(&candidates)
    }

    fn discover_in(candidates: &[&Path]) -> Result<GeoIp, GeoIpError> {
        match candidates.iter().find(|path| path.is_file()) {
            Some(path) => GeoIp::open(path),
            None => GeoIp::embedded(),
        }
    }

    /// Opens `bytes` named `name`; `check_records` asks for the check of every search tree
    /// record that untrusted files need (see `mmdb.rs`).
    fn from_bytes(
        bytes: Cow<'static, [u8]>,
        name: String,
        check_records: bool,
    ) -> Result<GeoIp, GeoIpError> {
        let reader_error = |source| GeoIpError::Reader {
            name: name.clone(),
            source,
        };
        if check_records {
            // A reader over the borrowed bytes checks them as the one kept will, and gives
            // the metadata that the records are read with.
            let probe = Reader::from_source(&bytes[..]).map_err(reader_error)?;
            check_search_tree(&bytes, probe.metadata()).map_err(|reason| {
                GeoIpError::Malformed {
                    name: name.clone(),
                    reason,
                }
            })?;
        }
        let reader = Reader::from_source(bytes).map_err(reader_error)?;
        let layout = detect_layout(&reader, &name)?;
        let meta = reader.metadata();
        let info = GeoIpInfo {
            source: name,
            database_type: meta.database_type.clone(),
            build_epoch: meta.build_epoch,
            build_date: date_from_epoch(meta.build_epoch),
            layout,
            ip_version: meta.ip_version,
        };
        Ok(GeoIp {
            reader,
            info,
            by_record: Memo::new(10),
        })
    }

    /// What database this is.
    pub fn info(&self) -> &GeoIpInfo {
        &self.info
    }

    /// The country of `ip`, or `None` when `ip` is in a special-purpose range, is not in the
    /// database, or its record has no usable code (or cannot be decoded: the reader decodes a
    /// record only when it is looked up). IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        if addr::special_range(ip).is_some() {
            return None;
        }
        self.lookup_raw(ip.to_canonical())
    }

    /// The database's answer for `ip`, special-purpose or not.
    fn lookup_raw(&self, ip: IpAddr) -> Option<Country> {
        if ip.is_ipv6() && self.info.ip_version == 4 {
            return None;
        }
        let found = self.reader.lookup(ip).ok()?;
        // The offset of the record in the data section (none when the address is not in the
        // database: no country, and nothing to decode).
        let record = u64::try_from(found.offset()?).ok()?;
        match self.by_record.get(record) {
            Some(kept) => kept,
            None => {
                let country = self.decode(&found);
                self.by_record.put(record, country);
                country
            }
        }
    }

    /// The country code of the record `found`.
    fn decode(&self, found: &maxminddb::LookupResult<'_, Cow<'static, [u8]>>) -> Option<Country> {
        let path = |outer| [PathElement::Key(outer), PathElement::Key("iso_code")];
        let code: Option<&str> = match self.info.layout {
            Layout::IpLocationDb => found
                .decode_path(&[PathElement::Key("country_code")])
                .ok()?,
            Layout::MaxMind => match found.decode_path(&path("country")).ok()? {
                Some(code) => Some(code),
                None => found.decode_path(&path("registered_country")).ok()?,
            },
        };
        Country::parse(code?)
    }
}

/// Looks at the first records for a country code in either layout.
fn detect_layout(reader: &Reader<Cow<'static, [u8]>>, name: &str) -> Result<Layout, GeoIpError> {
    #[derive(Deserialize)]
    struct IsoCode<'a> {
        #[serde(borrow)]
        iso_code: Option<&'a str>,
    }
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        country: Option<IsoCode<'a>>,
        #[serde(borrow)]
        registered_country: Option<IsoCode<'a>>,
        #[serde(borrow)]
        country_code: Option<&'a str>,
    }
    let reader_error = |source| GeoIpError::Reader {
        name: name.to_string(),
        source,
    };
    let networks = reader
        .networks(WithinOptions::default())
        .map_err(reader_error)?;
    for found in networks.take(LAYOUT_PROBE_RECORDS) {
        let found = found.map_err(reader_error)?;
        // A record that is not a map (e.g. a bare string) fails to decode: not a country record.
        let Ok(Some(probe)) = found.decode::<Probe>() else {
            continue;
        };
        if probe.country_code.and_then(Country::parse).is_some() {
            return Ok(Layout::IpLocationDb);
        }
        let iso = |c: Option<IsoCode>| c.and_then(|c| c.iso_code).and_then(Country::parse);
        if iso(probe.country)
            .or(iso(probe.registered_country))
            .is_some()
        {
            return Ok(Layout::MaxMind);
        }
    }
    Err(GeoIpError::NotCountry {
        name: name.to_string(),
        database_type: reader.metadata().database_type.clone(),
    })
}

#[cfg(test)]
mod tests;
