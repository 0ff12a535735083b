//! # identitymesh-store
//!
//! Everything durable lives in one SQL database: identities, connector spaces, the export
//! queue, runs, audit, watermarks, configuration versions. This crate is the only place that
//! speaks SQL. One [`Store`] handle serves both backends — embedded SQLite (the default, a
//! file in the data directory, WAL mode) and PostgreSQL (production) — chosen at run time
//! from the database URL; both are always compiled in. Migrations live per backend side by
//! side under `migrations/{sqlite,postgres}/` with matching names, and one contract test suite
//! (`tests/contract.rs`) must pass on both.
//!
//! The port is synchronous and transaction-shaped: the engine's per-object work runs inside
//! one [`Tx`] with a savepoint per object, so a failure rolls back that object alone. Call it
//! from a blocking context (a `spawn_blocking` task or a plain thread), never directly from an
//! async task: the PostgreSQL backend bridges to its async driver with the runtime handle it
//! was opened on. [`Store::run_blocking`] does that hop for async callers.
//!
//! Secrets, the data-protection key ring and the key settings are stored as sealed blobs only;
//! [`vault::Vault`] is where those blobs meet `identitymesh-secrets`, which seals and opens them.
//!
//! It must not depend on the engine, the connectors or any web framework, and driver types
//! (rusqlite, sqlx) never appear in its public API.

#![warn(missing_docs)]

mod codec;
mod error;
mod migrations;
mod port;
mod postgres;
mod relay_rows;
mod run_rows;
mod secret_rows;
mod space_rows;
mod sqlite;
mod url;
mod user_rows;
pub mod vault;

pub use error::StoreError;
pub use port::*;
pub use relay_rows::{
    EnrollmentTokenRecord, NewEnrollmentToken, NewRelay, RelayRecord, RelayStatus,
};
pub use run_rows::{CancelOutcome, CancelRequest, RunQuery};
pub use secret_rows::{
    KeyMode, KeySettings, SecretInfo, StoredProtectionKey, StoredSecret, WrappedKeyRow, WrappedKind,
};
pub use space_rows::{SpaceQuery, SpaceState};
pub use url::DatabaseUrl;
pub use user_rows::{ApiTokenRecord, NewApiToken, NewUser, SessionRecord, UserRecord};
