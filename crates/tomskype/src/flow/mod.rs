//! Stage 3, flows: what each machine talked to. The [`Tracker`] takes packets from any capture
//! source, decodes them (stage 2) and keeps a [`FlowTable`]: per direction-free flow, packets,
//! bytes, times and who opened it, plus the names seen beside the flows (DNS answers and
//! questions, TLS server names, HTTP requests, Skype protocol signs), each with the machine it
//! belongs to.
//!
//! This stage does not decide which end is "the host": that needs the local networks, which
//! is the next stage's knowledge (`enrich`).

pub(crate) mod growth;
pub mod key;
pub mod map;
pub mod names;
pub mod record;
pub mod skype;
pub mod streams;
pub mod table;
pub mod tracker;
pub mod ways;

#[cfg(test)]
mod reassembly_tests;
#[cfg(test)]
mod tunnel_tests;

pub use key::{Dir, FlowKey, PortName};
pub use map::{FlowMap, Probe};
pub use names::{NameSet, Seen, Watch};
pub use record::{Flow, Opener};
pub use skype::{SkypeFacts, SkypeProtocol};
pub use table::{Ended, FlowFacts, FlowTable, HttpFact, WaitingShed};
pub use tracker::Tracker;
