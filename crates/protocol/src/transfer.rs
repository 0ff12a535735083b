//! What flows back from a relay (import batches, export results) and the frames that pace
//! and acknowledge the reliable stream.

use identitymesh_domain::export::ExportOutcome;
use identitymesh_domain::run::ObjectError;
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::watermark::Watermark;
use identitymesh_domain::{Anchor, ConnectorName};
use serde::{Deserialize, Serialize};

use crate::command::MAX_BATCH;
use crate::error::ProtocolError;

/// Every reliable message up to and including `upto` arrived and was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// The highest sequence number applied.
    pub upto: u64,
}

/// Back-pressure: the relay may send `batches` more import batches for the run. A relay
/// without credit waits; the hub grants more as the engine stages what it received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    /// The engine's run id.
    pub run_id: i64,
    /// How many more batches.
    pub batches: u32,
}

/// What an import stream holds (mirrors the connector contract).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireImportShape {
    /// Every object.
    Full,
    /// Changes only.
    Delta,
    /// Nothing changed since the watermark.
    Unchanged,
}

/// An import began on the relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportStarted {
    /// The engine's run id.
    pub run_id: i64,
    /// What the stream holds.
    pub shape: WireImportShape,
    /// The identity of the system answering (watermarks are bound to it).
    pub source_id: String,
}

/// One record of an import batch (mirrors the connector contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum WireRecord {
    /// An object as it is now.
    Upsert(ImportedObject),
    /// An object the source reports deleted.
    Delete {
        /// Connector object type.
        object_type: String,
        /// Its anchor.
        anchor: Anchor,
    },
    /// An entry that could not be read.
    Rejected(ObjectError),
}

/// A batch of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBatch {
    /// The engine's run id.
    pub run_id: i64,
    /// The batch's position in the stream, from 0.
    pub index: u64,
    /// The records.
    pub records: Vec<WireRecord>,
}

impl ImportBatch {
    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        if self.records.len() > MAX_BATCH as usize {
            return Err(ProtocolError::Invalid {
                field: "records",
                reason: format!("at most {MAX_BATCH} per batch, not {}", self.records.len()),
            });
        }
        Ok(())
    }
}

/// How the import ended (mirrors the connector contract).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireImportEnd {
    /// Whether the read provably saw the whole source (or every change).
    pub complete: bool,
    /// Whether the read failed outright.
    pub failed: bool,
    /// Why it is not complete.
    pub reason: Option<String>,
    /// The position to store.
    pub watermark: Option<Watermark>,
}

/// The import is over; `batches` says how many came before, so a lost one is noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFinished {
    /// The engine's run id.
    pub run_id: i64,
    /// How many batches were sent.
    pub batches: u64,
    /// How it ended.
    pub end: WireImportEnd,
}

/// One export's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportResult {
    /// The queue item's id.
    pub item_id: i64,
    /// What happened.
    pub outcome: ExportOutcome,
}

/// The outcomes of an `apply_exports` command, in the command's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportResults {
    /// The engine's run id.
    pub run_id: i64,
    /// The connector.
    pub connector: ConnectorName,
    /// One per item.
    pub results: Vec<ExportResult>,
}

impl ExportResults {
    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        if self.results.len() > crate::command::MAX_EXPORTS_PER_COMMAND {
            return Err(ProtocolError::Invalid {
                field: "results",
                reason: "more results than a command may carry items".into(),
            });
        }
        Ok(())
    }
}

/// A command the relay could not carry out at all (an unknown connector, a connector that
/// would not open); the message says why, without secret values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandFailed {
    /// The sequence number of the command.
    pub command_seq: u64,
    /// What went wrong and what to do.
    pub message: String,
}

/// The relay saw changes in a connector's system (after a sync trigger, or on its own when
/// the connector listens): the engine may start a delta import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeNotice {
    /// The connector.
    pub connector: ConnectorName,
}
