//! Stage 6, report: the report model (what a run found, per host and per input) and its two
//! renderings, text for people and JSON for scripts. The JSON schema is versioned
//! ([`model::SCHEMA`]) and documented in `docs/REPORT.md`; its output is stable: sorted, and
//! free of wall-clock times (only capture times appear). The JSON of the facts the stages
//! return lives here too ([`schema`]): no stage's type implements `Serialize`.

pub mod expect;
pub mod html;
pub mod json;
pub mod lang;
pub mod model;
pub mod people;
pub mod schema;
pub mod text;
pub mod world;

pub use model::{HostReport, InputReport, Report};
