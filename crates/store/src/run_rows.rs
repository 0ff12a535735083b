//! The run list's filter and the answer to a cancel request: what the Admin API asks of the
//! runs table and what the engine checks at every batch boundary.

use chrono::{DateTime, Utc};
use identitymesh_domain::run::{RunProfile, RunRecord, RunStatus};

/// Filters and a keyset page of the run list. Runs come newest first (descending id); every
/// filter left `None` matches every run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunQuery {
    /// Only runs of this connector.
    pub connector: Option<String>,
    /// Only runs of this profile.
    pub profile: Option<RunProfile>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only runs started before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only runs with an id below this (the previous page's last id).
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// A recorded request to cancel a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRequest {
    /// Who asked (`user:otto`).
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
}

/// What a cancel request found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The request was recorded now.
    Requested,
    /// Someone had already asked; the first request stands (who and when are unchanged).
    AlreadyRequested(CancelRequest),
    /// The run is no longer running (its status).
    NotRunning(RunStatus),
    /// There is no such run.
    UnknownRun,
}

impl CancelOutcome {
    /// Why a cancel request changed nothing on this run: it ended, or someone asked first.
    pub(crate) fn unchanged(run: RunRecord) -> Self {
        match (run.status, run.cancel_requested_by, run.cancel_requested_at) {
            (RunStatus::Running, Some(by), Some(at)) => {
                CancelOutcome::AlreadyRequested(CancelRequest { by, at })
            }
            (status, _, _) => CancelOutcome::NotRunning(status),
        }
    }
}

impl RunQuery {
    /// What follows `SELECT … FROM runs`: the `WHERE`/`ORDER BY`/`LIMIT` tail for the filters
    /// that are set (only those, so each backend can use its indexes), placeholders
    /// written by `mark` (`?1` for SQLite, `$1` for PostgreSQL). Values bind in field order:
    /// connector, profile, status, since, until, before_id, then the limit.
    pub(crate) fn sql_tail(&self, mark: fn(usize) -> String) -> String {
        let mut n = 0;
        let mut next = || {
            n += 1;
            mark(n)
        };
        let mut clauses = Vec::new();
        let filters = [
            (self.connector.is_some(), "connector ="),
            (self.profile.is_some(), "profile ="),
            (self.status.is_some(), "status ="),
            (self.since.is_some(), "started_at >="),
            (self.until.is_some(), "started_at <"),
            (self.before_id.is_some(), "id <"),
        ];
        for (set, test) in filters {
            if set {
                clauses.push(format!("{test} {}", next()));
            }
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {} ", clauses.join(" AND "))
        };
        format!("{filter}ORDER BY id DESC LIMIT {}", next())
    }
}
