//! Commands, hub → relay. Each travels in a reliable frame: the relay applies it once and
//! acknowledges it; its results come back as reliable frames of their own.

use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::ExportItem;
use identitymesh_domain::watermark::Watermark;
use serde::{Deserialize, Serialize};

use crate::error::ProtocolError;

/// Most export items one command carries.
pub const MAX_EXPORTS_PER_COMMAND: usize = 10_000;
/// Largest import batch a hub may ask for.
pub const MAX_BATCH: u32 = 10_000;

/// What the hub asks a relay to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// Check the connector for changes now (a cheap probe: a file's fingerprint, a
    /// directory's change number) and answer with a change notice if there are any.
    SyncTrigger {
        /// The connector to probe.
        connector: ConnectorName,
    },
    /// Take this configuration: the relay keeps the connectors assigned to it.
    ConfigReload(ConfigReload),
    /// Run an import and stream its batches.
    RunImport(ImportRequest),
    /// Stop streaming an import (the engine's run was cancelled or failed).
    CancelImport {
        /// The engine's run id.
        run_id: i64,
    },
    /// Apply these queued exports, in order, and report each outcome.
    ApplyExports {
        /// The engine's run id.
        run_id: i64,
        /// The connector.
        connector: ConnectorName,
        /// The items.
        items: Vec<ExportItem>,
    },
}

/// A configuration for a relay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigReload {
    /// The configuration version id.
    pub version: i64,
    /// The configuration text (TOML; secret references only, never values — a relay-hosted
    /// connector's secrets live on the relay host).
    pub config_toml: String,
    /// The connectors of that configuration this relay hosts.
    pub connectors: Vec<ConnectorName>,
}

/// An import to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// The engine's run id; every batch names it.
    pub run_id: i64,
    /// The connector.
    pub connector: ConnectorName,
    /// Full or delta.
    pub mode: ImportRequestMode,
    /// Records per batch (1 to [`MAX_BATCH`]).
    pub batch_size: u32,
}

/// Full or delta, with the watermark for a delta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImportRequestMode {
    /// Everything.
    Full,
    /// Changes since the watermark.
    Delta {
        /// Where the last import ended.
        watermark: Watermark,
    },
}

impl Command {
    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        match self {
            Command::RunImport(r) if r.batch_size == 0 || r.batch_size > MAX_BATCH => {
                Err(ProtocolError::Invalid {
                    field: "batch_size",
                    reason: format!("1 to {MAX_BATCH}, not {}", r.batch_size),
                })
            }
            Command::ApplyExports { items, .. } if items.len() > MAX_EXPORTS_PER_COMMAND => {
                Err(ProtocolError::Invalid {
                    field: "items",
                    reason: format!(
                        "at most {MAX_EXPORTS_PER_COMMAND} per command, not {}",
                        items.len()
                    ),
                })
            }
            _ => Ok(()),
        }
    }
}
