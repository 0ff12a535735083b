//! What a run or a cycle reports back.

use identitymesh_domain::run::{ObjectError, RunProfile, RunStats, RunStatus};
use serde::Serialize;

/// The outcome of one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Run id.
    pub run_id: i64,
    /// Connector.
    pub connector: String,
    /// Profile.
    pub profile: RunProfile,
    /// Whether it was a simulation.
    pub simulation: bool,
    /// Status.
    pub status: RunStatus,
    /// Counters.
    pub stats: RunStats,
    /// Why it ended partial, held or failed, or a notice (an explicit full import).
    pub reason: Option<String>,
    /// The first per-object errors (all are stored on the run).
    pub errors: Vec<ObjectError>,
}

/// The outcome of a cycle.
#[derive(Clone, Debug, Serialize)]
pub struct CycleReport {
    /// Cycle name.
    pub cycle: String,
    /// Each step's report, in order.
    pub runs: Vec<RunReport>,
    /// The worst status of any step.
    pub status: RunStatus,
}

/// Orders statuses by severity, for a cycle's overall status.
pub fn severity(status: RunStatus) -> u8 {
    match status {
        RunStatus::Completed | RunStatus::Running => 0,
        RunStatus::CompletedWithErrors => 1,
        RunStatus::Partial => 2,
        RunStatus::Held => 3,
        RunStatus::Cancelled => 4,
        RunStatus::Failed => 5,
    }
}
