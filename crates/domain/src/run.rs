//! Runs: one execution of one run profile on one connector, with statistics and per-object
//! errors.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// The run profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunProfile {
    /// Stage everything the source holds; detect deletions when provably complete.
    FullImport,
    /// Stage what changed since the watermark.
    DeltaImport,
    /// Sync every staged object of the connector.
    FullSync,
    /// Sync staged objects with pending changes.
    DeltaSync,
    /// Apply the connector's export queue to its system.
    Export,
}

impl RunProfile {
    /// All profiles, in documentation order.
    pub const ALL: [RunProfile; 5] = [
        RunProfile::FullImport,
        RunProfile::DeltaImport,
        RunProfile::FullSync,
        RunProfile::DeltaSync,
        RunProfile::Export,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunProfile::FullImport => "full-import",
            RunProfile::DeltaImport => "delta-import",
            RunProfile::FullSync => "full-sync",
            RunProfile::DeltaSync => "delta-sync",
            RunProfile::Export => "export",
        }
    }
}

impl fmt::Display for RunProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunProfile {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunProfile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| DomainError::UnknownProfile(s.chars().take(40).collect()))
    }
}

/// How a run ended (or that it is still going).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going.
    Running,
    /// Finished without errors.
    Completed,
    /// Finished; some objects failed and are listed.
    CompletedWithErrors,
    /// An import that could not prove it saw the whole source: nothing was deleted.
    Partial,
    /// Stopped by an error before finishing; nothing it had not committed was lost.
    Failed,
    /// Exports held by a tripped guard, waiting for approval.
    Held,
    /// Stopped at a batch boundary because an operator asked: the committed batches are
    /// kept, no deletion is staged and no watermark advanced.
    Cancelled,
}

impl RunStatus {
    /// All statuses, in documentation order.
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::CompletedWithErrors,
        RunStatus::Partial,
        RunStatus::Failed,
        RunStatus::Held,
        RunStatus::Cancelled,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::CompletedWithErrors => "completed_with_errors",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Held => "held",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "running" => RunStatus::Running,
            "completed" => RunStatus::Completed,
            "completed_with_errors" => RunStatus::CompletedWithErrors,
            "partial" => RunStatus::Partial,
            "failed" => RunStatus::Failed,
            "held" => RunStatus::Held,
            "cancelled" => RunStatus::Cancelled,
            _ => return None,
        })
    }
}

/// Counters of one run. Every field counts objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunStats {
    /// Objects read from the source.
    pub read: u64,
    /// Newly staged objects.
    pub staged_adds: u64,
    /// Staged objects whose content changed.
    pub staged_updates: u64,
    /// Staged deletions (complete imports only).
    pub staged_deletes: u64,
    /// Objects read unchanged.
    pub unchanged: u64,
    /// Rows or entries rejected (listed in the errors).
    pub rejected: u64,
    /// Objects synced.
    pub synced: u64,
    /// New mesh objects created by projection.
    pub projected: u64,
    /// Connector objects joined to existing mesh objects.
    pub joined: u64,
    /// Ambiguous joins stopped for review.
    pub ambiguous: u64,
    /// Adoptions of unmanaged target objects waiting for approval.
    pub awaiting_adoption: u64,
    /// Mesh objects whose attributes changed.
    pub mesh_updates: u64,
    /// Mesh objects deleted because their authoritative source disappeared.
    pub mesh_deletes: u64,
    /// Connector objects disconnected from the mesh.
    pub disconnects: u64,
    /// Exports queued: adds.
    pub queued_adds: u64,
    /// Exports queued: updates.
    pub queued_updates: u64,
    /// Exports queued: deletes.
    pub queued_deletes: u64,
    /// Exports queued: disables.
    pub queued_disables: u64,
    /// Exports applied: adds.
    pub exported_adds: u64,
    /// Exports applied: updates.
    pub exported_updates: u64,
    /// Exports applied: deletes.
    pub exported_deletes: u64,
    /// Exports held by a guard.
    pub held: u64,
    /// Objects that failed (listed in the errors).
    pub errors: u64,
}

/// A per-object error of a run. The message names the object (by anchor, line or id) and
/// what to do, and never holds a secret value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectError {
    /// Which object: `anchor 1001`, `line 7`, `mesh:42`.
    pub object: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// A run as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id.
    pub id: i64,
    /// Connector name.
    pub connector: String,
    /// Profile.
    pub profile: RunProfile,
    /// Whether it was a simulation.
    pub simulation: bool,
    /// Status.
    pub status: RunStatus,
    /// Who started it.
    pub actor: String,
    /// Start time (RFC 3339).
    pub started_at: String,
    /// End time (RFC 3339).
    pub ended_at: Option<String>,
    /// Statistics.
    pub stats: RunStats,
    /// Why it ended partial, held, cancelled or failed.
    pub reason: Option<String>,
    /// When an operator asked to cancel it (RFC 3339), if anyone did.
    #[serde(default)]
    pub cancel_requested_at: Option<String>,
    /// Who asked to cancel it (`user:otto`).
    #[serde(default)]
    pub cancel_requested_by: Option<String>,
}
