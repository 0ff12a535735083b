//! The export queue (SQLite). At most one queued export per staged object (a unique index
//! on `staged_id`): queuing again replaces a pending or failed item in place (same id, new
//! operation, attempts reset) in one upsert, while a held or dead-letter item is left
//! untouched for the operator and its id returned. Pages walk `(connector, id)`.

use chrono::{DateTime, Utc};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::{ExportItem, ExportState, NewExport};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{RawExport, fmt_time, missing, reason_str, to_json};
use crate::port::StoreResult;

macro_rules! select_export {
    ($tail:literal) => {
        concat!(
            "SELECT id, connector, staged_id, anchor, mesh_id, op, reason, state, attempts, last_error, hold_id
             FROM export_queue ",
            $tail
        )
    };
}

fn raw_export(r: &Row<'_>) -> rusqlite::Result<RawExport> {
    Ok(RawExport {
        id: r.get(0)?,
        connector: r.get(1)?,
        staged_id: r.get(2)?,
        anchor: r.get(3)?,
        mesh_id: r.get(4)?,
        op: r.get(5)?,
        reason: r.get(6)?,
        state: r.get(7)?,
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        hold_id: r.get(10)?,
    })
}

fn many(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<ExportItem>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db(op))?;
    let rows = stmt.query_map(params, raw_export).map_err(db(op))?;
    rows.map(|r| r.map_err(db(op)).and_then(RawExport::decode))
        .collect()
}

pub(super) fn queue_export(
    conn: &Connection,
    e: &NewExport,
    run_id: i64,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    queue_export_for(conn, e, e.staged_id, run_id, at)
}

/// [`queue_export`] for the staged object `staged_id` (whatever `e.staged_id` says).
pub(super) fn queue_export_for(
    conn: &Connection,
    e: &NewExport,
    staged_id: i64,
    run_id: i64,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "queue_export";
    let op = to_json(OP, &e.op)?;
    let replaced: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO export_queue (connector, staged_id, anchor, mesh_id, op, reason, state, attempts,
                 run_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, ?8)
             ON CONFLICT (staged_id) DO UPDATE SET
                 connector = excluded.connector, anchor = excluded.anchor, mesh_id = excluded.mesh_id,
                 op = excluded.op, reason = excluded.reason, state = 'pending', attempts = 0,
                 last_error = NULL, hold_id = NULL, run_id = excluded.run_id, updated_at = excluded.updated_at
             WHERE export_queue.state IN ('pending', 'failed')
             RETURNING id",
        )
        .and_then(|mut s| {
            s.query_row(
                params![e.connector.as_str(), staged_id, e.anchor.as_str(), e.mesh_id.map(|m| m.0), op, reason_str(e.reason), run_id, fmt_time(at)],
                |r| r.get(0),
            )
            .optional()
        })
        .map_err(db(OP))?;
    if let Some(id) = replaced {
        return Ok(id);
    }
    // A held or dead-letter item is in the way: it stays, and is the queued export.
    conn.prepare_cached("SELECT id FROM export_queue WHERE staged_id = ?1")
        .and_then(|mut s| s.query_row(params![staged_id], |r| r.get(0)))
        .map_err(db(OP))
}

pub(super) fn export_for_staged(
    conn: &Connection,
    staged_id: i64,
) -> StoreResult<Option<ExportItem>> {
    const OP: &str = "export_for_staged";
    let raw = conn
        .prepare_cached(select_export!("WHERE staged_id = ?1"))
        .and_then(|mut s| s.query_row(params![staged_id], raw_export).optional())
        .map_err(db(OP))?;
    raw.map(RawExport::decode).transpose()
}

pub(super) fn cancel_exports_for_staged(conn: &Connection, staged_id: i64) -> StoreResult<u64> {
    conn.prepare_cached("DELETE FROM export_queue WHERE staged_id = ?1")
        .and_then(|mut s| s.execute(params![staged_id]))
        .map(|n| n as u64)
        .map_err(db("cancel_exports_for_staged"))
}

pub(super) fn export_page(
    conn: &Connection,
    connector: &ConnectorName,
    states: &[ExportState],
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<ExportItem>> {
    // Four slots (one per state) keep one prepared statement; unused slots repeat the first.
    // `+state` keeps SQLite on the (connector, id) index, which pages in constant time.
    let Some(first) = states.first() else {
        return Ok(Vec::new());
    };
    let slot = |i: usize| states.get(i).unwrap_or(first).as_str();
    many(
        conn,
        "export_page",
        select_export!(
            "WHERE connector = ?1 AND +state IN (?4, ?5, ?6, ?7) AND id > ?2 ORDER BY id LIMIT ?3"
        ),
        &[
            &connector.as_str(),
            &after_id,
            &limit,
            &slot(0),
            &slot(1),
            &slot(2),
            &slot(3),
        ],
    )
}

pub(super) fn count_exports(
    conn: &Connection,
    connector: &ConnectorName,
    state: ExportState,
    destructive_only: bool,
) -> StoreResult<u64> {
    let sql = if destructive_only {
        "SELECT COUNT(*) FROM export_queue WHERE connector = ?1 AND state = ?2
             AND reason IN ('deprovision_delete', 'deprovision_disable')"
    } else {
        "SELECT COUNT(*) FROM export_queue WHERE connector = ?1 AND state = ?2"
    };
    let n: i64 = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(params![connector.as_str(), state.as_str()], |r| r.get(0)))
        .map_err(db("count_exports"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) fn hold_pending_exports(
    conn: &Connection,
    connector: &ConnectorName,
    hold_id: i64,
) -> StoreResult<u64> {
    conn.prepare_cached("UPDATE export_queue SET state = 'held', hold_id = ?2 WHERE connector = ?1 AND state = 'pending'")
        .and_then(|mut s| s.execute(params![connector.as_str(), hold_id]))
        .map(|n| n as u64)
        .map_err(db("hold_pending_exports"))
}

pub(super) fn release_held_exports(
    conn: &Connection,
    connector: &ConnectorName,
) -> StoreResult<u64> {
    conn.prepare_cached("UPDATE export_queue SET state = 'pending', hold_id = NULL WHERE connector = ?1 AND state = 'held'")
        .and_then(|mut s| s.execute(params![connector.as_str()]))
        .map(|n| n as u64)
        .map_err(db("release_held_exports"))
}

pub(super) fn reject_held_exports(
    conn: &Connection,
    connector: &ConnectorName,
) -> StoreResult<Vec<ExportItem>> {
    const OP: &str = "reject_held_exports";
    let held = many(
        conn,
        OP,
        select_export!("WHERE connector = ?1 AND state = 'held' ORDER BY id"),
        &[&connector.as_str()],
    )?;
    conn.prepare_cached("DELETE FROM export_queue WHERE connector = ?1 AND state = 'held'")
        .and_then(|mut s| s.execute(params![connector.as_str()]))
        .map_err(db(OP))?;
    Ok(held)
}

pub(super) fn complete_export(conn: &Connection, id: i64) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM export_queue WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id]))
        .map(drop)
        .map_err(db("complete_export"))
}

pub(super) fn fail_export(
    conn: &Connection,
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
    let n = conn
        .prepare_cached(
            "UPDATE export_queue SET state = ?2, attempts = attempts + 1, last_error = ?3, updated_at = ?4
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, state.as_str(), message, fmt_time(at)]))
        .map_err(db(OP))?;
    if n == 0 {
        Err(missing(OP, "export", id))
    } else {
        Ok(())
    }
}
