//! tomskype: tell TOM-Skype from regular Skype in network traffic, per host, with the evidence.
//!
//! (crate docs are filled in with the pipeline once the stages exist)

pub mod addr;
pub mod capture;
pub mod decode;
pub mod enrich;
pub mod samples;
