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

/// Waits for `child`; its peak resident memory in bytes, where the system says (Linux). On
/// Linux a child's peak starts from this process's size when the child started: spawn it
/// while this process is small.
#[cfg(target_os = "linux")]
pub fn peak_of(child: &mut std::process::Child) -> Option<u64> {
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills; the pid is our child's, not yet waited
    // for (std's `Child` is dropped without a wait).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: as above; the pointers are to live locals.
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4");
    // Linux gives the peak in KiB.
    Some(usage.ru_maxrss as u64 * 1024)
}

#[cfg(not(target_os = "linux"))]
pub fn peak_of(child: &mut std::process::Child) -> Option<u64> {
    child.wait().unwrap();
    None
}

/// Bytes in MiB, for messages.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// Runs `tomskype analyze --format json --threads 1 ARGS INPUTS` (the binary under test) as a
/// child, stderr discarded: its JSON report and its peak resident memory in bytes (None off
/// Linux). Spawn it while this process is small (see [`peak_of`]).
pub fn analyze_child<P: AsRef<Path>>(
    args: &[&str],
    inputs: &[P],
) -> (serde_json::Value, Option<u64>) {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tomskype"))
        .args(["analyze", "--format", "json", "--threads", "1"])
        .args(args)
        .args(inputs.iter().map(AsRef::as_ref))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let peak = peak_of(&mut child);
    let report = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out)));
    (report, peak)
}

/// Asserts that the run of `many` (what it is, its peak) peaked less than half as high again
/// as the run of `few`, where both peaks are known; prints both.
pub fn assert_peak_grows_little(few: (&str, Option<u64>), many: (&str, Option<u64>)) {
    let ((few_what, Some(few_peak)), (many_what, Some(many_peak))) = (few, many) else {
        return;
    };
    eprintln!(
        "peak: {few_what} {:.1} MiB, {many_what} {:.1} MiB",
        mib(few_peak),
        mib(many_peak)
    );
    assert!(
        many_peak * 2 < few_peak * 3,
        "{many_what} peaked at {:.1} MiB, {few_what} at {:.1} MiB",
        mib(many_peak),
        mib(few_peak)
    );
}
