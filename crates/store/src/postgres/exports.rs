//! The export queue (PostgreSQL), with the SQLite module's rules: one item per staged
//! object, replaced in place by one upsert while pending or failed, left alone (and its id
//! returned) while held or dead-lettered.

use chrono::{DateTime, Utc};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::{ExportItem, ExportState, NewExport};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::db;
use crate::codec::{RawExport, missing, reason_str, to_json};
use crate::port::StoreResult;

macro_rules! select_export {
    ($tail:literal) => {
        concat!(
            "SELECT id, connector, staged_id, anchor, mesh_id, op::text, reason, state, attempts, last_error, hold_id
             FROM export_queue ",
            $tail
        )
    };
}

fn raw_export(r: &PgRow) -> Result<RawExport, sqlx::Error> {
    Ok(RawExport {
        id: r.try_get(0)?,
        connector: r.try_get(1)?,
        staged_id: r.try_get(2)?,
        anchor: r.try_get(3)?,
        mesh_id: r.try_get(4)?,
        op: r.try_get(5)?,
        reason: r.try_get(6)?,
        state: r.try_get(7)?,
        attempts: r.try_get(8)?,
        last_error: r.try_get(9)?,
        hold_id: r.try_get(10)?,
    })
}

fn decode_all(op: &'static str, rows: Vec<PgRow>) -> StoreResult<Vec<ExportItem>> {
    rows.iter()
        .map(|r| raw_export(r).map_err(db(op)).and_then(RawExport::decode))
        .collect()
}

pub(super) async fn queue_export(
    c: &mut PgConnection,
    e: &NewExport,
    run_id: i64,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "queue_export";
    let op = to_json(OP, &e.op)?;
    let replaced: Option<i64> = sqlx::query_scalar(
        "INSERT INTO export_queue (connector, staged_id, anchor, mesh_id, op, reason, state, attempts,
             run_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, 'pending', 0, $7, $8, $8)
         ON CONFLICT (staged_id) DO UPDATE SET
             connector = EXCLUDED.connector, anchor = EXCLUDED.anchor, mesh_id = EXCLUDED.mesh_id,
             op = EXCLUDED.op, reason = EXCLUDED.reason, state = 'pending', attempts = 0,
             last_error = NULL, hold_id = NULL, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at
         WHERE export_queue.state IN ('pending', 'failed')
         RETURNING id",
    )
    .bind(e.connector.as_str())
    .bind(e.staged_id)
    .bind(e.anchor.as_str())
    .bind(e.mesh_id.map(|m| m.0))
    .bind(op)
    .bind(reason_str(e.reason))
    .bind(run_id)
    .bind(at)
    .fetch_optional(&mut *c)
    .await
    .map_err(db(OP))?;
    if let Some(id) = replaced {
        return Ok(id);
    }
    // A held or dead-letter item is in the way: it stays, and is the queued export.
    sqlx::query_scalar("SELECT id FROM export_queue WHERE staged_id = $1")
        .bind(e.staged_id)
        .fetch_one(c)
        .await
        .map_err(db(OP))
}

pub(super) async fn export_for_staged(
    c: &mut PgConnection,
    staged_id: i64,
) -> StoreResult<Option<ExportItem>> {
    const OP: &str = "export_for_staged";
    let row = sqlx::query(select_export!("WHERE staged_id = $1"))
        .bind(staged_id)
        .fetch_optional(c)
        .await
        .map_err(db(OP))?;
    row.map(|r| raw_export(&r).map_err(db(OP)).and_then(RawExport::decode))
        .transpose()
}

pub(super) async fn cancel_exports_for_staged(
    c: &mut PgConnection,
    staged_id: i64,
) -> StoreResult<u64> {
    sqlx::query("DELETE FROM export_queue WHERE staged_id = $1")
        .bind(staged_id)
        .execute(c)
        .await
        .map(|d| d.rows_affected())
        .map_err(db("cancel_exports_for_staged"))
}

pub(super) async fn export_page(
    c: &mut PgConnection,
    connector: &ConnectorName,
    states: &[ExportState],
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<ExportItem>> {
    const OP: &str = "export_page";
    if states.is_empty() {
        return Ok(Vec::new());
    }
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let rows = sqlx::query(select_export!(
        "WHERE connector = $1 AND state = ANY($2) AND id > $3 ORDER BY id LIMIT $4"
    ))
    .bind(connector.as_str())
    .bind(states)
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    decode_all(OP, rows)
}

pub(super) async fn count_exports(
    c: &mut PgConnection,
    connector: &ConnectorName,
    state: ExportState,
    destructive_only: bool,
) -> StoreResult<u64> {
    let sql = if destructive_only {
        "SELECT COUNT(*) FROM export_queue WHERE connector = $1 AND state = $2
             AND reason IN ('deprovision_delete', 'deprovision_disable')"
    } else {
        "SELECT COUNT(*) FROM export_queue WHERE connector = $1 AND state = $2"
    };
    let n: i64 = sqlx::query_scalar(sql)
        .bind(connector.as_str())
        .bind(state.as_str())
        .fetch_one(c)
        .await
        .map_err(db("count_exports"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn hold_pending_exports(
    c: &mut PgConnection,
    connector: &ConnectorName,
    hold_id: i64,
) -> StoreResult<u64> {
    sqlx::query("UPDATE export_queue SET state = 'held', hold_id = $2 WHERE connector = $1 AND state = 'pending'")
        .bind(connector.as_str())
        .bind(hold_id)
        .execute(c)
        .await
        .map(|d| d.rows_affected())
        .map_err(db("hold_pending_exports"))
}

pub(super) async fn release_held_exports(
    c: &mut PgConnection,
    connector: &ConnectorName,
) -> StoreResult<u64> {
    sqlx::query("UPDATE export_queue SET state = 'pending', hold_id = NULL WHERE connector = $1 AND state = 'held'")
        .bind(connector.as_str())
        .execute(c)
        .await
        .map(|d| d.rows_affected())
        .map_err(db("release_held_exports"))
}

pub(super) async fn reject_held_exports(
    c: &mut PgConnection,
    connector: &ConnectorName,
) -> StoreResult<Vec<ExportItem>> {
    const OP: &str = "reject_held_exports";
    let rows = sqlx::query(
        "DELETE FROM export_queue WHERE connector = $1 AND state = 'held'
         RETURNING id, connector, staged_id, anchor, mesh_id, op::text, reason, state, attempts, last_error, hold_id",
    )
    .bind(connector.as_str())
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    let mut items = decode_all(OP, rows)?;
    items.sort_by_key(|i| i.id);
    Ok(items)
}

pub(super) async fn complete_export(c: &mut PgConnection, id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM export_queue WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(drop)
        .map_err(db("complete_export"))
}

pub(super) async fn fail_export(
    c: &mut PgConnection,
    id: i64,
    message: &str,
    dead: bool,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    const OP: &str = "fail_export";
    let state = if dead {
        ExportState::DeadLetter
    } else {
        ExportState::Failed
    };
    let done = sqlx::query(
        "UPDATE export_queue SET state = $2, attempts = attempts + 1, last_error = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(message)
    .bind(at)
    .execute(c)
    .await
    .map_err(db(OP))?;
    if done.rows_affected() == 0 {
        Err(missing(OP, "export", id))
    } else {
        Ok(())
    }
}
