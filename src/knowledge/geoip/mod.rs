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
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::addr;

mod country;
mod mmdb;

pub use country::Country;
use mmdb::{check_structure, date_from_epoch};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// `{"country": {"iso_code": ..}, "registered_country": {"iso_code": ..}}` (MaxMind
    /// GeoIP2/GeoLite2 Country and City, DB-IP lite).
    #[serde(rename = "maxmind")]
    MaxMind,
    /// `{"country_code": ..}` (ip-location-db builds).
    #[serde(rename = "ip-location-db")]
    IpLocationDb,
}

impl Layout {
    /// The name used in reports: "maxmind" or "ip-location-db".
    pub fn name(&self) -> &'static str {
        match self {
            Layout::MaxMind => "maxmind",
            Layout::IpLocationDb => "ip-location-db",
        }
    }
}

/// What database is in use, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The bytes are not a MaxMind DB file, or its structure is broken.
    #[error("geoip database {name} is not a valid mmdb file: {reason}")]
    Malformed {
        /// "embedded" or the path.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The maxminddb reader refused the file or failed while reading a record.
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
}

impl GeoIp {
    /// The database compiled into the binary. Cheap: no copy, only the metadata and a few
    /// records are decoded.
    pub fn embedded() -> Result<GeoIp, GeoIpError> {
        GeoIp::from_bytes(Cow::Borrowed(EMBEDDED), EMBEDDED_SOURCE.to_string(), false)
    }

    /// A database file given by the user, read into memory.
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        let bytes = std::fs::read(path).map_err(|source| GeoIpError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        GeoIp::from_bytes(Cow::Owned(bytes), path.display().to_string(), true)
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

    /// Opens `bytes` named `name`; `check_records` asks for the full search-tree check that
    /// untrusted files need.
    fn from_bytes(
        bytes: Cow<'static, [u8]>,
        name: String,
        check_records: bool,
    ) -> Result<GeoIp, GeoIpError> {
        check_structure(&bytes, &name, check_records)?;
        let reader = Reader::from_source(bytes).map_err(|source| GeoIpError::Reader {
            name: name.clone(),
            source,
        })?;
        let layout = detect_layout(&reader, &name)?;
        let meta = &reader.metadata;
        let info = GeoIpInfo {
            source: name,
            database_type: meta.database_type.clone(),
            build_epoch: meta.build_epoch,
            build_date: date_from_epoch(meta.build_epoch),
            layout,
            ip_version: meta.ip_version,
        };
        Ok(GeoIp { reader, info })
    }

    /// What database this is.
    pub fn info(&self) -> &GeoIpInfo {
        &self.info
    }

    /// The country of `ip`, or `None` when `ip` is in a special-purpose range, is not in the
    /// database, or its record has no usable code. IPv4-mapped IPv6 addresses are looked up as
    /// IPv4.
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
        database_type: reader.metadata.database_type.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::mmdb::test_writer::{iso, map, string, tiny_mmdb};
    use super::mmdb::METADATA_MARKER;
    use super::*;

    const TEST_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/geoip");

    fn ip(s: &str) -> IpAddr {
        match s.parse() {
            Ok(ip) => ip,
            Err(_) => panic!("bad test address {s}"),
        }
    }

    fn embedded() -> GeoIp {
        match GeoIp::embedded() {
            Ok(g) => g,
            Err(e) => panic!("embedded database refused: {e}"),
        }
    }

    fn open(path: &Path) -> GeoIp {
        match GeoIp::open(path) {
            Ok(g) => g,
            Err(e) => panic!("{} refused: {e}", path.display()),
        }
    }

    fn cc(code: &str) -> Option<Country> {
        Country::parse(code)
    }

    /// Writes `bytes` to a fresh temporary file and tries to open it.
    fn open_bytes(bytes: &[u8]) -> (tempfile::TempDir, PathBuf, Result<GeoIp, GeoIpError>) {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let path = dir.path().join("test.mmdb");
        if let Err(e) = std::fs::write(&path, bytes) {
            panic!("write {}: {e}", path.display());
        }
        let result = GeoIp::open(&path);
        (dir, path, result)
    }

    #[test]
    fn embedded_info() {
        let g = embedded();
        let info = g.info();
        assert_eq!(info.source, EMBEDDED_SOURCE);
        assert_eq!(info.layout, Layout::IpLocationDb);
        assert_eq!(info.ip_version, 6);
        assert!(info.build_epoch > 1_700_000_000, "{}", info.build_epoch);
        assert_eq!(info.build_date, date_from_epoch(info.build_epoch));
        let json = serde_json::to_value(info).ok();
        let layout = json.as_ref().and_then(|j| j.get("layout")?.as_str());
        assert_eq!(layout, Some("ip-location-db"));
    }

    #[test]
    fn embedded_known_countries() {
        let g = embedded();
        // Long-stable assignments: 114DNS and China Telecom/Unicom ranges, Google, Alibaba v6.
        for (addr, code) in [
            ("114.114.114.114", "CN"),
            ("218.30.111.75", "CN"),
            ("202.96.128.86", "CN"),
            ("8.8.8.8", "US"),
            ("2400:3200::1", "CN"),
            ("240e::1", "CN"),
            ("2001:4860:4860::8888", "US"),
            ("::ffff:114.114.114.114", "CN"),
        ] {
            assert_eq!(g.country(ip(addr)), cc(code), "{addr}");
        }
    }

    #[test]
    fn special_ranges_get_no_country_though_the_db_has_one() {
        let g = embedded();
        let private = ip("192.168.1.1");
        assert!(
            g.lookup_raw(private).is_some(),
            "the raw database maps 192.168.1.1"
        );
        assert_eq!(g.country(private), None);
        for addr in [
            "10.0.0.1",
            "127.0.0.1",
            "100.64.0.1",
            "224.0.0.251",
            "255.255.255.255",
        ] {
            assert_eq!(g.country(ip(addr)), None, "{addr}");
        }
        for addr in [
            "::1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(g.country(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn embedded_tree_passes_the_untrusted_file_check() {
        if let Err(e) = check_structure(EMBEDDED, EMBEDDED_SOURCE, true) {
            panic!("{e}");
        }
    }

    #[test]
    fn maxmind_layout() {
        let g = open(&Path::new(TEST_DATA).join("GeoIP2-Country-Test.mmdb"));
        let info = g.info();
        assert_eq!(info.layout, Layout::MaxMind);
        assert_eq!(info.database_type, "GeoIP2-Country");
        assert!(info.source.ends_with("GeoIP2-Country-Test.mmdb"));
        // Values from MaxMind's source-data/GeoIP2-Country-Test.json.
        assert_eq!(g.country(ip("81.2.69.142")), cc("GB"));
        assert_eq!(
            g.country(ip("89.160.20.112")),
            cc("SE"),
            "country, not registered DE"
        );
        assert_eq!(g.country(ip("2001:250::1")), cc("CN"));
        assert_eq!(g.country(ip("2001:238::1")), cc("TW"));
        assert_eq!(g.country(ip("2a02:d500::1")), None, "continent only");
        assert_eq!(g.country(ip("214.1.1.1")), None, "traits only");
        assert_eq!(g.country(ip("1.1.1.1")), None, "not in the database");
    }

    #[test]
    fn maxmind_layout_falls_back_to_registered_country() {
        let left = map(&[("registered_country", iso("cn"))]);
        let right = map(&[("country", iso("JP")), ("registered_country", iso("US"))]);
        let (_dir, _path, result) = open_bytes(&tiny_mmdb("Test-Country", 1, &left, &right));
        let g = match result {
            Ok(g) => g,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(g.info().layout, Layout::MaxMind);
        assert_eq!(g.info().ip_version, 4);
        assert_eq!(g.info().build_date, "2023-11-14");
        assert_eq!(g.country(ip("8.8.8.8")), Some(Country::CHINA));
        assert_eq!(g.country(ip("200.1.1.1")), cc("JP"));
        assert_eq!(g.country(ip("::ffff:200.1.1.1")), cc("JP"));
        assert_eq!(
            g.country(ip("2400:3200::1")),
            None,
            "IPv6 in an IPv4-only database"
        );
    }

    #[test]
    fn ip_location_db_layout_hand_made() {
        let left = map(&[("country_code", string("KR"))]);
        let right = map(&[("country_code", string("??"))]);
        let (_dir, _path, result) = open_bytes(&tiny_mmdb("country ipv4", 1, &left, &right));
        let g = match result {
            Ok(g) => g,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(g.info().layout, Layout::IpLocationDb);
        assert_eq!(g.country(ip("8.8.8.8")), cc("KR"));
        assert_eq!(g.country(ip("200.1.1.1")), None, "not a country code");
    }

    #[test]
    fn asn_database_is_refused() {
        let path = Path::new(TEST_DATA).join("GeoLite2-ASN-Test.mmdb");
        let err = match GeoIp::open(&path) {
            Ok(_) => panic!("ASN database accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("GeoLite2-ASN-Test.mmdb"), "{err}");
        assert!(err.contains("`country.iso_code` (MaxMind)"), "{err}");
        assert!(err.contains("`country_code` (ip-location-db)"), "{err}");
        assert!(err.contains("found database type `GeoLite2-ASN`"), "{err}");
    }

    #[test]
    fn string_valued_database_is_refused() {
        let (_dir, _path, result) =
            open_bytes(&tiny_mmdb("Strings", 1, &string("CN"), &string("US")));
        assert!(
            matches!(result, Err(GeoIpError::NotCountry { ref database_type, .. })
            if database_type == "Strings")
        );
    }

    fn assert_refused(bytes: &[u8], what: &str, expect: &str) {
        let (_dir, path, result) = open_bytes(bytes);
        let err = match result {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e,
        };
        let text = format!(
            "{err}: {}",
            std::error::Error::source(&err).map_or(String::new(), |s| s.to_string())
        );
        assert!(text.contains(&path.display().to_string()), "{what}: {text}");
        assert!(text.contains(expect), "{what}: {text}");
    }

    #[test]
    fn malformed_files_are_refused() {
        assert_refused(b"", "empty", "no metadata section");
        assert_refused(
            b"\xd4\xc3\xb2\xa1 not an mmdb at all",
            "pcap",
            "no metadata section",
        );
        let half = EMBEDDED.get(..EMBEDDED.len() / 2).unwrap_or_default();
        assert_refused(half, "first half", "no metadata section");
        let tail = EMBEDDED.get(EMBEDDED.len() - 4000..).unwrap_or_default();
        assert_refused(tail, "tail only", "truncated");
        let mut junk = METADATA_MARKER.to_vec();
        junk.extend_from_slice(b"\xff\xff\xff");
        assert_refused(&junk, "junk metadata", "not a valid mmdb file");
        let country = map(&[("country_code", string("CN"))]);
        // The tree claims more nodes than the file holds.
        assert_refused(
            &tiny_mmdb("T", 1000, &country, &country),
            "big node_count",
            "truncated",
        );
        // A record just above node_count (1): neither a node nor a data pointer.
        let mut bad = tiny_mmdb("T", 1, &country, &country);
        if let Some(rec) = bad.get_mut(0..3) {
            rec.copy_from_slice(&[0, 0, 5]);
        }
        assert_refused(&bad, "record 5", "search tree node 0 has record 5");
        // A pointer past the end of the data section.
        let mut far = tiny_mmdb("T", 1, &country, &country);
        if let Some(rec) = far.get_mut(3..6) {
            rec.copy_from_slice(&[0, 0x10, 0]);
        }
        assert_refused(&far, "far pointer", "search tree node 0 has record 4096");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = match GeoIp::open(Path::new("/nonexistent/GeoLite2-Country.mmdb")) {
            Ok(_) => panic!("opened a missing file"),
            Err(e) => e,
        };
        assert!(matches!(err, GeoIpError::Read { .. }));
        assert!(err
            .to_string()
            .contains("/nonexistent/GeoLite2-Country.mmdb"));
    }

    #[test]
    fn discover_takes_the_first_existing_file_or_embedded() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let missing = dir.path().join("GeoLite2-Country.mmdb");
        let test_db = Path::new(TEST_DATA).join("GeoIP2-Country-Test.mmdb");
        let junk = dir.path().join("junk.mmdb");
        if let Err(e) = std::fs::write(&junk, b"junk") {
            panic!("{e}");
        }
        let found = GeoIp::discover_in(&[&missing, &test_db, &junk]);
        assert_eq!(found.ok().map(|g| g.info().layout), Some(Layout::MaxMind));
        let none = GeoIp::discover_in(&[&missing]);
        assert_eq!(
            none.ok().map(|g| g.info().source.clone()).as_deref(),
            Some(EMBEDDED_SOURCE)
        );
        assert!(
            GeoIp::discover_in(&[&missing, &junk]).is_err(),
            "a broken file is an error"
        );
        // On this machine: whatever discover() picks must be usable.
        assert!(GeoIp::discover().is_ok());
    }
}
