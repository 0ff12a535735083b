//! Sync runs: every staged object of a connector (full) or those with pending changes
//! (delta) is joined or projected, its mesh object composed, and the exports that make each
//! target match are queued. A failure rolls back that object alone and is recorded against
//! it; the run goes on.
//!
//! Isolation is optimistic: a page first runs under one savepoint for the whole page. When
//! every object succeeds (the usual case) that is all; when one fails, the page is rolled
//! back to that savepoint and run again with one savepoint per object, which isolates the
//! failure exactly as before. The second pass sees the same database state, so it makes the
//! same decisions. A per-object savepoint costs a statement journal copy of every page the
//! object touches; skipping it on clean pages is most of a sync's SQLite overhead. After a
//! page with failures the next one runs isolated straight away, so a run where many objects
//! fail does not pay twice for every page.

mod mesh;
mod object;
mod provision;
pub(crate) mod scope;

use chrono::{DateTime, Utc};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::audit::{NewAudit, REDACTED};
use identitymesh_domain::config::Config;
use identitymesh_domain::run::{ObjectError, RunStats};
use identitymesh_domain::schema::AttributeSchema;
use identitymesh_domain::staged::StagedObject;
use identitymesh_domain::Attributes;
use identitymesh_store::{StagedFilter, StoreResult, Tx};

pub(crate) use object::sync_object;

/// Objects per transaction.
pub(crate) const BATCH: u32 = 500;

/// The state of one sync run, threaded through the per-object work.
pub(crate) struct SyncCx<'a> {
    pub config: &'a Config,
    pub now: DateTime<Utc>,
    pub run_id: i64,
    pub stats: RunStats,
    pub errors: Vec<ObjectError>,
    /// The change set, recorded when simulating.
    pub changes: Option<Vec<serde_json::Value>>,
    /// Run the next page with one savepoint per object (the last page had a failure).
    pub isolate_next_page: bool,
}

/// What a failed optimistic page must undo in the run's state.
struct Mark {
    stats: RunStats,
    errors: usize,
    changes: usize,
}

impl SyncCx<'_> {
    pub fn actor(&self) -> String {
        format!("run:{}", self.run_id)
    }

    /// Records a change for a simulation's change set.
    pub fn record(&mut self, change: serde_json::Value) {
        if let Some(changes) = self.changes.as_mut() {
            changes.push(change);
        }
    }

    /// Writes an audit record, and notes it in the change set.
    pub fn audit(&mut self, tx: &mut dyn Tx, action: &str, target: String, before: Option<serde_json::Value>, after: Option<serde_json::Value>) -> StoreResult<()> {
        let record = NewAudit { actor: self.actor(), action: action.to_owned(), target, before, after, run_id: Some(self.run_id) };
        if self.changes.is_some() {
            self.record(serde_json::json!({ "action": record.action, "target": record.target, "before": record.before, "after": record.after }));
        }
        tx.append_audit(&record, self.now)?;
        Ok(())
    }
}

/// The attributes as audit JSON, secrets redacted.
pub(crate) fn audit_json(attributes: &Attributes, schema: &[AttributeSchema], only: Option<&[String]>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, values) in attributes.iter() {
        if only.is_some_and(|o| !o.contains(name)) {
            continue;
        }
        let secret = schema.iter().any(|a| a.name == *name && a.secret);
        let value = if secret { serde_json::Value::String(REDACTED.into()) } else { serde_json::to_value(values).unwrap_or_default() };
        map.insert(name.clone(), value);
    }
    serde_json::Value::Object(map)
}

/// Syncs one page of staged objects inside `tx`. Returns the last id.
pub(crate) fn sync_page(cx: &mut SyncCx, tx: &mut dyn Tx, connector: &ConnectorName, filter: StagedFilter, after_id: i64) -> StoreResult<Option<i64>> {
    let page = tx.staged_page(connector, filter, after_id, BATCH)?;
    let Some(last) = page.last().map(|s| s.id) else { return Ok(None) };
    if !cx.isolate_next_page && std::env::var_os("IM_AB_OLD").is_none() {
        let mark = Mark { stats: cx.stats.clone(), errors: cx.errors.len(), changes: cx.changes.as_ref().map_or(0, Vec::len) };
        tx.savepoint()?;
        if sync_all(cx, tx, &page).is_ok() {
            tx.release_savepoint()?;
            return Ok(Some(last));
        }
        // one object failed: undo the whole page, then redo it object by object
        tx.rollback_to_savepoint()?;
        cx.stats = mark.stats;
        cx.errors.truncate(mark.errors);
        if let Some(changes) = cx.changes.as_mut() {
            changes.truncate(mark.changes);
        }
    }
    let errors_before = cx.stats.errors;
    for object in &page {
        sync_one_isolated(cx, tx, object)?;
    }
    cx.isolate_next_page = cx.stats.errors > errors_before;
    Ok(Some(last))
}

/// Syncs every object of a page, stopping at the first failure.
fn sync_all(cx: &mut SyncCx, tx: &mut dyn Tx, page: &[StagedObject]) -> ObjectResult<()> {
    for object in page {
        sync_object(cx, tx, object)?;
        cx.stats.synced += 1;
    }
    Ok(())
}

fn sync_one_isolated(cx: &mut SyncCx, tx: &mut dyn Tx, object: &StagedObject) -> StoreResult<()> {
    let stats_before = cx.stats.clone();
    let changes_before = cx.changes.as_ref().map_or(0, Vec::len);
    tx.savepoint()?;
    match sync_object(cx, tx, object) {
        Ok(()) => {
            cx.stats.synced += 1;
            tx.release_savepoint()
        }
        Err(problem) => {
            tx.rollback_to_savepoint()?;
            tx.release_savepoint()?;
            cx.stats = stats_before;
            if let Some(changes) = cx.changes.as_mut() {
                changes.truncate(changes_before);
            }
            cx.stats.errors += 1;
            let label = format!("{} anchor {}", object.connector, object.anchor);
            cx.errors.push(ObjectError { object: label, message: problem.to_string() });
            Ok(())
        }
    }
}

/// Why one object's sync failed. Store failures of the object's own writes are object
/// problems too (a unique value taken); the run goes on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ObjectProblem {
    #[error("{0}")]
    Rule(String),
    #[error(transparent)]
    Store(#[from] identitymesh_store::StoreError),
}

pub(crate) type ObjectResult<T> = Result<T, ObjectProblem>;
