//! Stage 4, enrich. (stub)
pub mod geoip;
