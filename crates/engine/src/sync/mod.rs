//! Sync runs: every staged object of a connector (full) or those with pending changes
//! (delta) is joined or projected, its mesh object composed, and the exports that make each
//! target match are queued. One savepoint per object: a failure rolls back that object alone
//! and is recorded against it; the run goes on.

mod mesh;
mod object;
mod provision;
pub(crate) mod scope;

use chrono::{DateTime, Utc};
use identitymesh_domain::Attributes;
use identitymesh_domain::ConnectorName;
use identitymesh_domain::audit::{NewAudit, REDACTED};
use identitymesh_domain::config::Config;
use identitymesh_domain::run::{ObjectError, RunStats};
use identitymesh_domain::schema::AttributeSchema;
use identitymesh_domain::staged::StagedObject;
use identitymesh_store::{StagedFilter, StoreResult, Tx};

pub(crate) use object::sync_object;

/// Objects per transaction: fewer commits (each writes the touched pages to the WAL once)
/// pay more than the page of staged objects held in memory costs.
pub(crate) const BATCH: u32 = 2000;

/// Inside a page, how many objects go between two looks at the run's cancel request: a
/// cancel asked meanwhile (and committed, on PostgreSQL) ends the page early, so a long page
/// does not delay it, at one small query per this many objects.
const CANCEL_CHECK_EVERY: usize = 250;

/// The state of one sync run, threaded through the per-object work.
pub(crate) struct SyncCx<'a> {
    pub config: &'a Config,
    pub now: DateTime<Utc>,
    pub run_id: i64,
    pub stats: RunStats,
    pub errors: Vec<ObjectError>,
    /// The change set, recorded when simulating.
    pub changes: Option<Vec<serde_json::Value>>,
    /// The licensed number of mesh objects and how many existed when the run started.
    pub mesh_limit: Option<MeshLimit>,
}

/// A license limit on mesh objects, checked before each projection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MeshLimit {
    /// Mesh objects the license allows.
    pub allowed: u64,
    /// Mesh objects at the start of the run.
    pub existing: u64,
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
    pub fn audit(
        &mut self,
        tx: &mut dyn Tx,
        action: &str,
        target: String,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> StoreResult<()> {
        let record = NewAudit {
            actor: self.actor(),
            action: action.to_owned(),
            target,
            before,
            after,
            run_id: Some(self.run_id),
        };
        if self.changes.is_some() {
            self.record(serde_json::json!({ "action": record.action, "target": record.target, "before": record.before, "after": record.after }));
        }
        tx.append_audit(&record, self.now)?;
        Ok(())
    }
}

/// The attributes as audit JSON, secrets redacted.
pub(crate) fn audit_json(
    attributes: &Attributes,
    schema: &[AttributeSchema],
    only: Option<&[String]>,
) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (name, values) in attributes.iter() {
        if only.is_some_and(|o| !o.contains(name)) {
            continue;
        }
        let secret = schema.iter().any(|a| a.name == *name && a.secret);
        let value = if secret {
            serde_json::Value::String(REDACTED.into())
        } else {
            serde_json::to_value(values).unwrap_or_default()
        };
        map.insert(name.clone(), value);
    }
    serde_json::Value::Object(map)
}

/// Syncs one page of staged objects inside `tx`, one savepoint each. Returns the last id
/// synced: the page's last, or an earlier one when the run was asked to cancel meanwhile
/// (the caller commits what was done and sees the request before the next page).
pub(crate) fn sync_page(
    cx: &mut SyncCx,
    tx: &mut dyn Tx,
    connector: &ConnectorName,
    filter: StagedFilter,
    after_id: i64,
) -> StoreResult<Option<i64>> {
    let page = tx.staged_page(connector, filter, after_id, BATCH)?;
    let mut done = None;
    for (i, object) in page.into_iter().enumerate() {
        if i > 0 && i % CANCEL_CHECK_EVERY == 0 && tx.run_cancel_request(cx.run_id)?.is_some() {
            break;
        }
        let id = object.id;
        sync_one_isolated(cx, tx, object)?;
        done = Some(id);
    }
    Ok(done)
}

fn sync_one_isolated(cx: &mut SyncCx, tx: &mut dyn Tx, object: StagedObject) -> StoreResult<()> {
    let stats_before = cx.stats.clone();
    let changes_before = cx.changes.as_ref().map_or(0, Vec::len);
    tx.savepoint()?;
    match sync_object(cx, tx, &object) {
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
            cx.errors.push(ObjectError {
                object: format!("{} anchor {}", object.connector, object.anchor),
                message: problem.to_string(),
            });
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
