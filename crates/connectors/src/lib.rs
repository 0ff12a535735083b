//! # identitymesh-connectors
//!
//! The connector contract and its implementations. A connector knows how to read one kind of
//! external system (import, as a stream of batches, ending with a statement of whether the
//! read provably saw the whole source) and how to change it (export). It knows nothing of
//! the mesh, the store or the sync rules: the engine decides, connectors carry out.
//!
//! Two export styles exist: per-item systems (directories, SCIM) apply queued operations one
//! by one and report each outcome; snapshot systems (a CSV file) are rewritten whole and
//! atomically from the connector space with the pending operations applied.
//!
//! This crate must not depend on the store, the engine or a web framework. It may be hosted
//! by a relay agent on another machine, where there is no database.

#![warn(missing_docs)]

pub mod csv;
mod csv_connector;
mod error;
pub mod ldap;
mod remote;
mod secrets;

use async_trait::async_trait;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::export::{ExportItem, ExportOutcome};
use identitymesh_domain::run::ObjectError;
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::watermark::Watermark;
use identitymesh_domain::{Anchor, Attributes};
use std::path::Path;

pub use csv_connector::{CsvConnector, CsvSettings};
pub use error::ConnectorError;
pub use remote::RemoteConnectors;
pub use secrets::ConnectorSecrets;

/// Connector types this build provides (for configuration validation).
pub const KNOWN_KINDS: &[&str] = &["csv", "ldap"];

/// What kind of import to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportMode {
    /// Everything.
    Full,
    /// What changed since this watermark (already checked to belong to this source).
    Delta(Watermark),
}

/// What an import stream holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportShape {
    /// Every object of the source: objects not seen are deletion candidates if complete.
    Full,
    /// Only changes (upserts and deletes).
    Delta,
    /// Nothing changed since the watermark: the stream is empty.
    Unchanged,
}

/// One item of an import stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportRecord {
    /// An object as it is now.
    Upsert(ImportedObject),
    /// An object the source reports deleted (delta streams only).
    Delete {
        /// Connector object type.
        object_type: String,
        /// Its anchor.
        anchor: Anchor,
    },
    /// A row or entry that could not be read; the import goes on.
    Rejected(ObjectError),
}

/// How an import ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportEnd {
    /// Whether the read provably saw the whole source (or every change, for a delta).
    pub complete: bool,
    /// Whether the read failed outright (e.g. an unterminated quote), as opposed to partial.
    pub failed: bool,
    /// Why it is not complete.
    pub reason: Option<String>,
    /// The position to store, as the source gave it; `None` leaves the stored one.
    pub watermark: Option<Watermark>,
}

/// A running import.
#[async_trait]
pub trait ImportStream: Send {
    /// What the stream holds.
    fn shape(&self) -> ImportShape;
    /// The next batch of at most `max` records; an empty batch ends the stream.
    async fn next_batch(&mut self, max: usize) -> Result<Vec<ImportRecord>, ConnectorError>;
    /// Ends the stream and says whether it was complete.
    fn finish(self: Box<Self>) -> ImportEnd;
}

/// How a connector applies exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportStyle {
    /// Operation by operation ([`Connector::apply_exports`]).
    PerItem,
    /// The whole content rewritten at once ([`Connector::write_snapshot`]).
    Snapshot,
}

/// Result of writing a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotWritten {
    /// Objects written.
    pub objects: u64,
    /// Fingerprint of what was written (becomes the drift-check watermark).
    pub fingerprint: String,
}

/// A connection to one external system.
#[async_trait]
pub trait Connector: Send {
    /// The identity of the system answering (a file path, a server's id): watermarks are
    /// bound to it.
    fn source_id(&self) -> String;

    /// Starts an import.
    async fn import(&mut self, mode: ImportMode) -> Result<Box<dyn ImportStream>, ConnectorError>;

    /// How this connector exports.
    fn export_style(&self) -> ExportStyle;

    /// Applies exports one by one (per-item connectors).
    async fn apply_exports(
        &mut self,
        items: &[ExportItem],
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        let _ = items;
        Err(ConnectorError::Unsupported("per-item export"))
    }

    /// The fingerprint of the current content of a snapshot target (`None` if it does not
    /// exist yet), to detect changes made since the last import.
    fn snapshot_fingerprint(&self) -> Result<Option<String>, ConnectorError> {
        Ok(None)
    }

    /// Rewrites a snapshot target with exactly these objects, atomically. Called on a
    /// blocking thread; `rows` may fail part-way, in which case nothing is written.
    fn write_snapshot(
        &mut self,
        rows: &mut dyn Iterator<Item = Result<(Anchor, Attributes), ConnectorError>>,
    ) -> Result<SnapshotWritten, ConnectorError> {
        let _ = rows;
        Err(ConnectorError::Unsupported("snapshot export"))
    }
}

/// Builds the connector a configuration describes. Relative paths resolve against
/// `base_dir` (the configuration file's directory). `secrets` holds the values of the
/// secrets its configuration names (`secrets = { bind_password = "ldap-bind" }`), by
/// connector setting name, already opened by the engine; a connector type that takes no
/// secrets refuses any, naming the setting.
pub fn open_connector(
    config: &ConnectorConfig,
    base_dir: &Path,
    secrets: ConnectorSecrets,
) -> Result<Box<dyn Connector>, ConnectorError> {
    match config.kind.as_str() {
        "csv" => {
            csv_connector::refuse_secrets(config, secrets.settings())?;
            Ok(Box::new(CsvConnector::from_config(config, base_dir)?))
        }
        "ldap" => Ok(Box::new(ldap::LdapConnector::from_config(
            config, base_dir, &secrets,
        )?)),
        other => Err(ConnectorError::Config {
            connector: config.name.to_string(),
            message: format!("connector type '{other}' is not available in this build"),
        }),
    }
}
