//! tomskype: tell TOM-Skype from regular Skype in network traffic, per host, with the evidence.
//!
//! The library does the work, in stages that each use only the types of the stage before:
//!
//! ```text
//! capture ──► decode ──► flow ──► enrich ──► classify ──► report
//! pcap/pcapng  link, IP,   per flow:  per host: GeoIP,   evidence →  text / JSON
//! gzip, live   ports, DNS, packets,   indicators,        verdict
//!              SNI, HTTP   bytes,     names
//!                          times
//! ```
//!
//! What the stages consult is [`knowledge`], loaded before any traffic: the indicator set (flow
//! keeps what it could match past its bounds, enrich matches it, classify weighs the matches)
//! and the GeoIP database (enrich). `export` and `lookup` read it without traffic.
//!
//! Two drivers run the whole pipeline: [`analyze`] over captures and logs on disk, and [`live`]
//! over a network interface of this machine (feature `live`: packets from
//! [`capture::iface`], the same stages after them). Neither prints nor installs signal
//! handlers: they return typed errors and report progress to the caller. The `tomskype`
//! binary is their command line.
//!
//! ```
//! use tomskype::analyze::{Analyzer, Inputs};
//! use tomskype::addr::LocalNets;
//! use tomskype::knowledge::{geoip::GeoIp, indicators::IndicatorSet};
//!
//! let analyzer = Analyzer {
//!     geoip: GeoIp::embedded()?,
//!     indicators: IndicatorSet::embedded()?,
//!     local: LocalNets::new(Vec::new()),
//! };
//! let capture = "captures/tom-skype-cn-2011-login-beacon.pcap";
//! # let capture = &format!("{}/../../{capture}", env!("CARGO_MANIFEST_DIR"));
//! let inputs = Inputs::expand(&[capture.into()]);
//! let report = analyzer.report(inputs.read(&analyzer, 1, None));
//! for host in &report.hosts {
//!     println!("{} {}", host.address, host.verdict.label.name());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod addr;
pub mod analyze;
mod arrivals;
pub mod capture;
pub mod classify;
pub mod decode;
pub mod enrich;
pub mod export;
pub mod flow;
mod hints;
pub mod knowledge;
pub mod live;
pub mod lookup;
pub mod report;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod textsafe;
pub mod timefmt;
pub mod zeek;
