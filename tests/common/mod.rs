//! Helpers shared by the integration tests: the analyzer with the shipped knowledge (embedded
//! GeoIP, so results do not depend on the machine), and the real corpora beside the repository.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tomskype::addr::LocalNets;
use tomskype::analyze::{Analyzer, Inputs};
use tomskype::knowledge::geoip::GeoIp;
use tomskype::knowledge::indicators::IndicatorSet;
use tomskype::report::Report;

/// The analyzer with the shipped indicator set and GeoIP database.
pub fn analyzer() -> Analyzer {
    Analyzer {
        geoip: GeoIp::embedded().expect("embedded GeoIP loads"),
        indicators: IndicatorSet::embedded().expect("embedded indicators load"),
        local: LocalNets::new(Vec::new()),
    }
}

/// Analyses `paths` as `tomskype analyze` would.
pub fn analyze(paths: &[PathBuf]) -> Report {
    let a = analyzer();
    let traffic = Inputs::expand(paths).read(&a, 2, None);
    a.report(traffic)
}

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpora (`TOMSKYPE_CORPORA` overrides `../shared/corpora`), or None after a
/// printed notice when absent; absent corpora fail the test when `TOMSKYPE_REQUIRE_CORPORA=1`.
pub fn corpora() -> Option<PathBuf> {
    let root = std::env::var_os("TOMSKYPE_CORPORA")
        .map_or_else(|| root().join("../shared/corpora"), PathBuf::from);
    if root.join("MANIFEST.tsv").is_file() {
        return Some(root);
    }
    assert!(
        std::env::var("TOMSKYPE_REQUIRE_CORPORA").as_deref() != Ok("1"),
        "corpora required (TOMSKYPE_REQUIRE_CORPORA=1) but absent at {}",
        root.display()
    );
    println!("notice: {} is absent; corpus tests skipped", root.display());
    None
}
