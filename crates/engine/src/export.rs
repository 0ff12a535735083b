//! Export runs: the guard first, then the connector applies the queue. Snapshot connectors
//! (a CSV file) are rewritten whole from the connector space with pending operations applied,
//! after checking the file has not changed since IdentityMesh last read or wrote it;
//! per-item connectors apply each operation and report its outcome.

use chrono::{DateTime, Utc};
use identitymesh_connectors::ConnectorError;
use identitymesh_domain::export::{ExportItem, ExportOp, ExportState};
use identitymesh_domain::run::RunStats;
use identitymesh_domain::watermark::{
    WATERMARK_FORMAT, Watermark, WatermarkKind, WatermarkProblem, read_watermark,
};
use identitymesh_domain::{Anchor, Attributes, ConnectorName};
use identitymesh_store::{StagedFilter, StoreResult, Tx};
use std::collections::{HashMap, VecDeque};

/// States an export run picks up.
pub(crate) const RUNNABLE: [ExportState; 2] = [ExportState::Pending, ExportState::Failed];

/// Attempts before an item goes to the dead-letter state.
pub(crate) const MAX_ATTEMPTS: i64 = 5;

/// A fingerprint of an operation, to apply only what was actually written.
pub(crate) fn op_fingerprint(op: &ExportOp) -> String {
    blake3::hash(serde_json::to_string(op).unwrap_or_default().as_bytes())
        .to_hex()
        .to_string()
}

/// Checks that a snapshot target still holds what IdentityMesh last read or wrote.
pub(crate) fn check_drift(
    tx: &mut dyn Tx,
    connector: &ConnectorName,
    source_id: &str,
    current: Option<&str>,
) -> StoreResult<Result<(), String>> {
    let stored = tx.watermark(connector, WatermarkKind::Full)?;
    let verdict = match (current, read_watermark(stored.as_deref(), source_id)) {
        (None, Err(WatermarkProblem::Missing)) => Ok(()),
        (Some(now), Ok(w)) if w.position == now => Ok(()),
        (None, _) => Err(format!(
            "the target {source_id} has disappeared since IdentityMesh last wrote it"
        )),
        (Some(_), Err(WatermarkProblem::Missing)) => Err(format!(
            "the target {source_id} exists but was never imported, so its rows would be lost"
        )),
        (Some(_), _) => Err(format!(
            "the target {source_id} was changed by someone else since IdentityMesh last read or wrote it"
        )),
    };
    Ok(verdict.map_err(|why| format!("{why}; run `identitymesh run {connector} full-import` and `full-sync` first, then export again")))
}

/// Streams a connector space with its pending operations applied: the content of the new
/// snapshot. Records which queue items it wrote.
pub(crate) struct SnapshotRows<'a> {
    pub tx: &'a mut dyn Tx,
    pub connector: ConnectorName,
    pub after_id: i64,
    pub buffer: VecDeque<(Anchor, Attributes)>,
    pub written: HashMap<i64, String>,
    pub done: bool,
}

impl SnapshotRows<'_> {
    fn fill(&mut self) -> StoreResult<()> {
        let page = self
            .tx
            .staged_page(&self.connector, StagedFilter::All, self.after_id, 1000)?;
        let Some(last) = page.last() else {
            self.done = true;
            return Ok(());
        };
        self.after_id = last.id;
        for object in page {
            let item = self
                .tx
                .export_for_staged(object.id)?
                .filter(|i| RUNNABLE.contains(&i.state));
            let Some(item) = item else {
                if !object.attributes.is_empty() {
                    self.buffer.push_back((object.anchor, object.attributes));
                }
                continue;
            };
            self.written.insert(item.id, op_fingerprint(&item.op));
            match item.op {
                ExportOp::Add { attributes, .. } => {
                    self.buffer.push_back((object.anchor, attributes))
                }
                ExportOp::Update { changes, .. } => {
                    let mut attributes = object.attributes;
                    changes.iter().for_each(|c| c.apply_to(&mut attributes));
                    self.buffer.push_back((object.anchor, attributes));
                }
                ExportOp::Delete => {}
            }
        }
        Ok(())
    }
}

impl Iterator for SnapshotRows<'_> {
    type Item = Result<(Anchor, Attributes), ConnectorError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.buffer.is_empty() && !self.done {
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(ConnectorError::Source(format!(
                    "reading the connector space failed: {e}"
                ))));
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}

/// Keeps the connector space in step with an applied export and removes it from the queue.
pub(crate) fn mark_applied(
    tx: &mut dyn Tx,
    item: &ExportItem,
    now: DateTime<Utc>,
    stats: &mut RunStats,
) -> StoreResult<()> {
    match &item.op {
        ExportOp::Delete => {
            tx.delete_staged(item.staged_id)?;
            stats.exported_deletes += 1;
            return Ok(());
        }
        ExportOp::Add { name, attributes } => {
            tx.update_staged_content(
                item.staged_id,
                name.as_deref(),
                attributes,
                &attributes.content_hash(),
                identitymesh_domain::staged::PendingImport::None,
                now,
                0,
            )?;
            stats.exported_adds += 1;
        }
        ExportOp::Update { changes, new_name } => {
            if let Some(object) = tx.staged_by_id(item.staged_id)? {
                let mut attributes = object.attributes.clone();
                changes.iter().for_each(|c| c.apply_to(&mut attributes));
                let name = new_name.as_deref().or(object.name.as_deref());
                tx.update_staged_content(
                    object.id,
                    name,
                    &attributes,
                    &attributes.content_hash(),
                    object.pending,
                    object.changed_at.parse().unwrap_or(now),
                    object.seen_run,
                )?;
            }
            stats.exported_updates += 1;
        }
    }
    tx.complete_export(item.id)
}

/// Applies the outcomes of a snapshot write: only the items that were written, unchanged
/// since, are marked applied. Returns how many.
pub(crate) fn apply_written(
    tx: &mut dyn Tx,
    connector: &ConnectorName,
    written: &HashMap<i64, String>,
    after_id: i64,
    now: DateTime<Utc>,
    stats: &mut RunStats,
) -> StoreResult<Option<i64>> {
    let page = tx.export_page(connector, &RUNNABLE, after_id, 500)?;
    let Some(last) = page.last().map(|i| i.id) else {
        return Ok(None);
    };
    for item in page {
        if written.get(&item.id) == Some(&op_fingerprint(&item.op)) {
            mark_applied(tx, &item, now, stats)?;
        }
    }
    Ok(Some(last))
}

/// The watermark recording what a snapshot write left in the target.
pub(crate) fn snapshot_watermark(source_id: String, fingerprint: String) -> String {
    serde_json::to_string(&Watermark {
        format: WATERMARK_FORMAT,
        source_id,
        position: fingerprint,
    })
    .unwrap_or_default()
}
