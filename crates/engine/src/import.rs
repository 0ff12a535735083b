//! Import runs: stage what the source holds into the connector space. Deletions are staged
//! only from a full read the connector proves complete, with no rejected rows, that passes
//! the size guard; anything less is a partial import that stages none.

use chrono::{DateTime, Utc};
use identitymesh_connectors::{ImportEnd, ImportRecord, ImportShape};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::config::ConnectorConfig;
use identitymesh_domain::guard::{GuardVerdict, check_import_size};
use identitymesh_domain::run::{ObjectError, RunStats, RunStatus};
use identitymesh_domain::staged::{Link, PendingImport};
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_store::{NewStaged, StagedFilter, StoreResult, Tx};

/// The running state of one import.
pub(crate) struct ImportCx {
    pub connector: ConnectorName,
    pub change_time_attribute: Option<String>,
    pub run_id: i64,
    pub now: DateTime<Utc>,
    pub stats: RunStats,
    pub errors: Vec<ObjectError>,
}

/// Stages one batch inside `tx`, a savepoint per record.
pub(crate) fn stage_batch(
    cx: &mut ImportCx,
    tx: &mut dyn Tx,
    batch: Vec<ImportRecord>,
    shape: ImportShape,
) -> StoreResult<()> {
    for record in batch {
        tx.savepoint()?;
        match stage_record(cx, tx, record, shape) {
            Ok(()) => tx.release_savepoint()?,
            Err(e) => {
                tx.rollback_to_savepoint()?;
                tx.release_savepoint()?;
                cx.stats.errors += 1;
                cx.errors.push(ObjectError {
                    object: "import record".into(),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn changed_at(cx: &ImportCx, attributes: &identitymesh_domain::Attributes) -> DateTime<Utc> {
    cx.change_time_attribute
        .as_deref()
        .and_then(|a| attributes.first_text(a))
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map_or(cx.now, |t| t.with_timezone(&Utc))
}

fn stage_record(
    cx: &mut ImportCx,
    tx: &mut dyn Tx,
    record: ImportRecord,
    shape: ImportShape,
) -> StoreResult<()> {
    match record {
        ImportRecord::Rejected(error) => {
            cx.stats.rejected += 1;
            cx.errors.push(error);
        }
        ImportRecord::Delete { anchor, .. } => {
            cx.stats.read += 1;
            if let Some(existing) = tx.staged_by_anchor(&cx.connector, &anchor)? {
                tx.set_staged_pending(existing.id, PendingImport::Delete)?;
                cx.stats.staged_deletes += 1;
            }
        }
        ImportRecord::Upsert(object) => {
            cx.stats.read += 1;
            let hash = object.attributes.content_hash();
            let seen_run = if shape == ImportShape::Full {
                cx.run_id
            } else {
                0
            };
            match tx.staged_by_anchor(&cx.connector, &object.anchor)? {
                None => {
                    let at = changed_at(cx, &object.attributes);
                    tx.insert_staged(&NewStaged {
                        connector: cx.connector.clone(),
                        object_type: object.object_type,
                        anchor: object.anchor,
                        name: object.name,
                        attributes: object.attributes,
                        hash,
                        pending: PendingImport::Add,
                        link: Link::Unjoined,
                        changed_at: at,
                        seen_run,
                    })?;
                    cx.stats.staged_adds += 1;
                }
                Some(existing) if seen_run != 0 && existing.seen_run == cx.run_id => {
                    cx.stats.rejected += 1;
                    cx.errors.push(ObjectError {
                        object: format!("anchor {}", object.anchor),
                        message: "this anchor appears more than once in the source; the later occurrence was skipped — fix the duplicate in the source".into(),
                    });
                }
                Some(existing)
                    if existing.hash == hash
                        && existing.name == object.name
                        && existing.pending != PendingImport::Delete =>
                {
                    if seen_run != 0 {
                        tx.mark_staged_seen(existing.id, seen_run)?;
                    }
                    cx.stats.unchanged += 1;
                }
                Some(existing) => {
                    let pending = if existing.pending == PendingImport::Add {
                        PendingImport::Add
                    } else {
                        PendingImport::Update
                    };
                    let at = changed_at(cx, &object.attributes);
                    let seen = if seen_run != 0 {
                        seen_run
                    } else {
                        existing.seen_run
                    };
                    tx.update_staged_content(
                        existing.id,
                        object.name.as_deref(),
                        &object.attributes,
                        &hash,
                        pending,
                        at,
                        seen,
                    )?;
                    cx.stats.staged_updates += 1;
                }
            }
        }
    }
    Ok(())
}

/// What the end of an import decided.
pub(crate) struct ImportVerdict {
    pub status: RunStatus,
    pub reason: Option<String>,
}

/// Ends an import: decides completeness, stages deletions when allowed, stores the watermark.
pub(crate) fn finish(
    cx: &mut ImportCx,
    tx: &mut dyn Tx,
    config: &ConnectorConfig,
    end: ImportEnd,
    shape: ImportShape,
    kind: WatermarkKind,
    allow_shrink: bool,
) -> StoreResult<ImportVerdict> {
    if end.failed {
        return Ok(ImportVerdict {
            status: RunStatus::Failed,
            reason: end.reason.or(Some("the import failed".into())),
        });
    }
    if !end.complete {
        let reason = format!(
            "partial import, no deletion staged: {}",
            end.reason
                .unwrap_or_else(|| "the read was not complete".into())
        );
        return Ok(ImportVerdict {
            status: RunStatus::Partial,
            reason: Some(reason),
        });
    }
    if shape == ImportShape::Full {
        let unseen = tx.count_staged(&cx.connector, StagedFilter::NotSeenBy(cx.run_id))?;
        let total = tx.count_staged(&cx.connector, StagedFilter::All)?;
        let previous = total.saturating_sub(cx.stats.staged_adds);
        let seen = total.saturating_sub(unseen);
        if cx.stats.rejected > 0 && unseen > 0 {
            let reason = format!(
                "{} rows were rejected, so the import cannot prove that the {unseen} objects it did not see are gone; no deletion staged — fix the rejected rows and import again",
                cx.stats.rejected
            );
            return Ok(ImportVerdict {
                status: RunStatus::Partial,
                reason: Some(reason),
            });
        }
        if let GuardVerdict::Trip(reason) =
            check_import_size(&config.guards, seen, previous, allow_shrink)
        {
            return Ok(ImportVerdict {
                status: RunStatus::Partial,
                reason: Some(format!("partial import, no deletion staged: {reason}")),
            });
        }
        if unseen > 0 {
            cx.stats.staged_deletes += tx.stage_unseen_as_deleted(&cx.connector, cx.run_id)?;
        }
    }
    if let Some(watermark) = end.watermark {
        let text = serde_json::to_string(&watermark).unwrap_or_default();
        tx.set_watermark(&cx.connector, kind, &text, cx.now)?;
        if kind == WatermarkKind::Full {
            // a full read is also a valid starting point for the next delta
            tx.set_watermark(&cx.connector, WatermarkKind::Delta, &text, cx.now)?;
        }
    }
    let status = if cx.stats.rejected > 0 || cx.stats.errors > 0 {
        RunStatus::CompletedWithErrors
    } else {
        RunStatus::Completed
    };
    Ok(ImportVerdict {
        status,
        reason: None,
    })
}
