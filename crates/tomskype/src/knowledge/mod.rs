//! What is known before any traffic is read: the indicator set ([`indicators`]) and the GeoIP
//! country database ([`geoip`]). Not a stage of the pipeline but what the stages consult: the
//! flow stage keeps what an indicator could match past its bounds ([`crate::flow::Watch`]),
//! `enrich` looks up every endpoint and name, `classify` weighs what matched; `export` and
//! `lookup` read the same knowledge without any traffic.
//!
//! Both are loaded once, checked as they load (a malformed file is refused with an error naming
//! it), and then only read: a loaded set or database is shared by every worker. Nothing here
//! decides anything about a host.

pub mod geoip;
pub mod indicators;
