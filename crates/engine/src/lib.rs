//! # identitymesh-engine
//!
//! The Sync Engine: executes run profiles (full and delta import, full and delta sync,
//! export) and cycles, and owns the sync semantics of the design's section 3. Import stages
//! what a source holds and only ever stages deletions from a provably complete read; sync
//! joins or projects each connector object, composes the mesh object and queues the exports
//! that make every target match, one object per savepoint so a failure rolls back that
//! object alone; export applies the queue behind the guards.
//!
//! Time is a parameter ([`Clock`]); state is passed in ([`Engine`] holds the store, the
//! compiled configuration and the clock). This crate must not depend on a web framework:
//! the Admin API drives it, not the other way round.

#![warn(missing_docs)]

mod adoption;
mod clock;
mod connector_secrets;
mod engine;
mod error;
mod export;
mod import;
mod report;
mod sync;

pub use adoption::AdoptionVerdict;
pub use clock::{Clock, SystemClock};
pub use engine::{Engine, RunFuture, RunHandle, RunOptions};
pub use error::EngineError;
pub use report::{CycleReport, RunReport};
