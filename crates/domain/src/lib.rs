//! # identitymesh-domain
//!
//! The pure model of IdentityMesh and its sync decisions: names and anchors, attribute values
//! (absent, empty and cleared kept apart), schemas, the one normaliser, connector-space
//! objects, mesh objects with provenance, the export queue's operations, runs, audit records,
//! watermarks, the configuration model, and the decisions a sync makes — join, compose,
//! plan exports, guard.
//!
//! It must not depend on tokio, a database driver or a web framework: every decision here is
//! a function of its inputs, testable without I/O. The store, the connectors and the engine
//! depend on this crate, never the other way round.

#![warn(missing_docs)]

pub mod audit;
pub mod compose;
pub mod config;
pub mod delta;
pub mod export;
pub mod guard;
pub mod join;
pub mod mesh;
pub mod names;
pub mod normalize;
pub mod run;
pub mod schema;
pub mod staged;
pub mod value;
pub mod watermark;

mod error;

pub use error::DomainError;
pub use names::{Anchor, ConnectorName, MeshId};
pub use value::{Attributes, Contribution, Value};
