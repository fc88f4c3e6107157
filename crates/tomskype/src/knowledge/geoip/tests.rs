//! Unit tests of [`GeoIp`](super::GeoIp): the embedded database, both record layouts, the
//! refusal of files that are not country databases or not well-formed, and damaged files that
//! must never make opening or lookups panic.

use super::mmdb::test_writer::{iso, map, string, tiny_mmdb};
use super::mmdb::METADATA_MARKER;
use super::*;

const TEST_DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/geoip");

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
    // The embedded database is opened without the check of every record; it would pass it.
    if let Err(e) = GeoIp::from_bytes(Cow::Borrowed(EMBEDDED), EMBEDDED_SOURCE.into(), true) {
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
    let (_dir, _path, result) = open_bytes(&tiny_mmdb("Strings", 1, &string("CN"), &string("US")));
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
    let no_metadata = "could not find MaxMind DB metadata";
    assert_refused(b"", "empty", no_metadata);
    assert_refused(b"\xd4\xc3\xb2\xa1 not an mmdb at all", "pcap", no_metadata);
    let half = EMBEDDED.get(..EMBEDDED.len() / 2).unwrap_or_default();
    assert_refused(half, "first half", no_metadata);
    let too_short = "search tree extends beyond the metadata section";
    let tail = EMBEDDED.get(EMBEDDED.len() - 4000..).unwrap_or_default();
    assert_refused(tail, "tail only", too_short);
    let mut junk = METADATA_MARKER.to_vec();
    junk.extend_from_slice(b"\xff\xff\xff");
    assert_refused(&junk, "junk metadata", "not a valid mmdb file");
    let country = map(&[("country_code", string("CN"))]);
    // The tree claims more nodes than the file holds.
    assert_refused(
        &tiny_mmdb("T", 1000, &country, &country),
        "big node_count",
        too_short,
    );
    assert_refused(
        &tiny_mmdb("T", 0, &country, &country),
        "no nodes",
        "node_count - Expected: positive integer Actual: 0",
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

/// The databases the damage test starts from: MaxMind's test database (MaxMind layout, IPv6
/// with an IPv4 subtree) and a hand-made one-node IPv4 database (ip-location-db layout).
fn undamaged() -> [Vec<u8>; 2] {
    let maxmind = Path::new(TEST_DATA).join("GeoIP2-Country-Test.mmdb");
    let maxmind = match std::fs::read(&maxmind) {
        Ok(b) => b,
        Err(e) => panic!("{}: {e}", maxmind.display()),
    };
    let country = map(&[("country_code", string("CN"))]);
    [maxmind, tiny_mmdb("T", 1, &country, &country)]
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(512))]

    /// A database with bytes overwritten anywhere and perhaps cut short, opened as a user's
    /// file is (every tree record checked) and as the embedded one is (trusted): opening
    /// succeeds or fails, lookups answer or say nothing, and nothing panics. (maxminddb 0.27
    /// panicked on a trusted file whose tree had a record just above `node_count`, and on a
    /// tree cut short.)
    #[test]
    fn damaged_databases_never_panic(
        which in 0usize..2,
        writes in proptest::collection::vec(
            (proptest::num::usize::ANY, proptest::num::u8::ANY),
            1..16,
        ),
        cut in proptest::option::weighted(0.2, proptest::num::usize::ANY),
        addresses in proptest::collection::vec(proptest::num::u128::ANY, 16),
    ) {
        let mut bytes = undamaged().into_iter().nth(which).unwrap_or_default();
        let len = bytes.len();
        for (at, value) in writes {
            if let Some(b) = bytes.get_mut(at % len) {
                *b = value;
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (len + 1));
        }
        for check_records in [true, false] {
            let opened = GeoIp::from_bytes(Cow::Owned(bytes.clone()), "damaged".into(), check_records);
            let Ok(g) = opened else {
                continue;
            };
            for &a in &addresses {
                // The low 32 bits as IPv4, too: most of a database's tree is IPv4.
                for addr in [IpAddr::from(a.to_be_bytes()), IpAddr::from((a as u32).to_be_bytes())] {
                    let _ = g.lookup_raw(addr);
                    let _ = g.country(addr);
                }
            }
        }
    }
}

#[test]
fn kept_answers_are_the_databases() {
    // Every answer, kept or not, is what decoding the address's record gives: for addresses
    // spread over the whole IPv4 space and some IPv6 ones, looked up twice (the second time
    // from the kept records), in both layouts (ip-location-db's embedded one, MaxMind's).
    let dir = Path::new(TEST_DATA);
    let mut dbs = vec![embedded(), open(&dir.join("GeoIP2-Country-Test.mmdb"))];
    // And with four slots, where records take each other's (the embedded database's 155
    // records met below have a slot each of the 1,024).
    for mut g in [embedded(), open(&dir.join("GeoIP2-Country-Test.mmdb"))] {
        g.by_record = Memo::new(2);
        dbs.push(g);
    }
    for g in &dbs {
        let mut seen = std::collections::BTreeSet::new();
        // Addresses the test database has (see above), and some spread over both families.
        let known = [
            "81.2.69.142",
            "89.160.20.112",
            "2001:250::1",
            "2001:238::1",
            "214.1.1.1",
        ];
        let spread = (0u32..20_000).flat_map(|i| {
            let v4 = IpAddr::from(i.wrapping_mul(0x9e37_79b1).to_be_bytes());
            let v6 = IpAddr::from((u128::from(i) << 100 | 0x2400 << 112).to_be_bytes());
            [v4, v6]
        });
        let addrs: Vec<IpAddr> = known.iter().map(|a| ip(a)).chain(spread).collect();
        for pass in 0..2 {
            for &ip in &addrs {
                let want = g
                    .reader
                    .lookup(ip)
                    .ok()
                    .filter(|_| !(ip.is_ipv6() && g.info.ip_version == 4))
                    .and_then(|found| found.offset().and(g.decode(&found)));
                assert_eq!(g.lookup_raw(ip), want, "{ip} in pass {pass}");
                seen.insert(want);
            }
        }
        // The lookups met several countries, and addresses with none.
        assert!(seen.len() > 2 && seen.contains(&None), "{seen:?}");
    }
}

#[test]
fn a_memo_keeps_the_last_answer_per_slot() {
    let m = Memo::new(1);
    assert_eq!(m.get(5), None);
    m.put(5, cc("CN"));
    m.put(6, None);
    for key in [5, 6] {
        let kept = m.get(key);
        // Two slots: the keys either share one (the later wins) or each kept its own.
        assert!(kept.is_none() || kept == Some(if key == 5 { cc("CN") } else { None }));
    }
    m.put(7, cc("US"));
    assert_eq!(m.get(7), Some(cc("US")));
    // Keys too large to be kept are not.
    m.put(1 << 46, cc("FR"));
    assert_eq!(m.get(1 << 46), None);
}
