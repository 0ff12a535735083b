//! Runs and their per-object errors (SQLite). A run row is written when the run starts, its
//! counters are saved as it goes, and its status and end time when it ends; errors are
//! appended with a per-run sequence number so they read back in the order they happened.

use chrono::{DateTime, Utc};
use identitymesh_domain::run::{ObjectError, RunProfile, RunRecord, RunStats, RunStatus};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::db;
use crate::codec::{RawRun, fmt_time, missing, to_json};
use crate::port::StoreResult;
use crate::run_rows::{CancelOutcome, CancelRequest, RunQuery};

const COLUMNS: &str = "id, connector, profile, simulation, status, actor, started_at, ended_at, \
     stats, reason, cancel_requested_at, cancel_requested_by";

fn raw_run(r: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok(RawRun {
        id: r.get(0)?,
        connector: r.get(1)?,
        profile: r.get(2)?,
        simulation: r.get(3)?,
        status: r.get(4)?,
        actor: r.get(5)?,
        started_at: r.get(6)?,
        ended_at: r.get(7)?,
        stats: r.get(8)?,
        reason: r.get(9)?,
        cancel_requested_at: r.get(10)?,
        cancel_requested_by: r.get(11)?,
    })
}

pub(super) fn start_run(
    conn: &Connection,
    connector: &str,
    profile: RunProfile,
    simulation: bool,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "start_run";
    let stats = to_json(OP, &RunStats::default())?;
    conn.prepare_cached(
        "INSERT INTO runs (connector, profile, simulation, status, actor, started_at, stats)
         VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6) RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![
                connector,
                profile.as_str(),
                simulation,
                actor,
                fmt_time(at),
                stats
            ],
            |r| r.get(0),
        )
    })
    .map_err(db(OP))
}

pub(super) fn finish_run(
    conn: &Connection,
    run_id: i64,
    status: RunStatus,
    stats: &RunStats,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    const OP: &str = "finish_run";
    let stats = to_json(OP, stats)?;
    let n = conn
        .prepare_cached(
            "UPDATE runs SET status = ?2, stats = ?3, reason = ?4, ended_at = ?5 WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                run_id,
                status.as_str(),
                stats,
                reason,
                fmt_time(at)
            ])
        })
        .map_err(db(OP))?;
    if n == 0 {
        Err(missing(OP, "run", run_id))
    } else {
        Ok(())
    }
}

pub(super) fn update_run_stats(
    conn: &Connection,
    run_id: i64,
    stats: &RunStats,
) -> StoreResult<()> {
    const OP: &str = "update_run_stats";
    let stats = to_json(OP, stats)?;
    let n = conn
        .prepare_cached("UPDATE runs SET stats = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![run_id, stats]))
        .map_err(db(OP))?;
    if n == 0 {
        Err(missing(OP, "run", run_id))
    } else {
        Ok(())
    }
}

pub(super) fn add_run_errors(
    conn: &Connection,
    run_id: i64,
    errors: &[ObjectError],
) -> StoreResult<()> {
    const OP: &str = "add_run_errors";
    if errors.is_empty() {
        return Ok(());
    }
    let next: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM run_errors WHERE run_id = ?1")
        .and_then(|mut s| s.query_row(params![run_id], |r| r.get(0)))
        .map_err(db(OP))?;
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO run_errors (run_id, seq, object, message) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db(OP))?;
    for (seq, e) in (next..).zip(errors) {
        stmt.execute(params![run_id, seq, e.object, e.message])
            .map_err(db(OP))?;
    }
    Ok(())
}

pub(super) fn run(conn: &Connection, run_id: i64) -> StoreResult<Option<RunRecord>> {
    const OP: &str = "run";
    let raw = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"))
        .and_then(|mut s| s.query_row(params![run_id], raw_run).optional())
        .map_err(db(OP))?;
    raw.map(RawRun::decode).transpose()
}

pub(super) fn run_errors(
    conn: &Connection,
    run_id: i64,
    limit: u32,
) -> StoreResult<Vec<ObjectError>> {
    const OP: &str = "run_errors";
    let mut stmt = conn
        .prepare_cached(
            "SELECT object, message FROM run_errors WHERE run_id = ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(db(OP))?;
    let rows = stmt
        .query_map(params![run_id, limit], |r| {
            Ok(ObjectError {
                object: r.get(0)?,
                message: r.get(1)?,
            })
        })
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP))).collect()
}

pub(super) fn recent_runs(
    conn: &Connection,
    connector: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<RunRecord>> {
    const OP: &str = "recent_runs";
    let sql = match connector {
        Some(_) => {
            format!("SELECT {COLUMNS} FROM runs WHERE connector = ?1 ORDER BY id DESC LIMIT ?2")
        }
        None => format!("SELECT {COLUMNS} FROM runs WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2"),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db(OP))?;
    let rows = stmt
        .query_map(params![connector, limit], raw_run)
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawRun::decode))
        .collect()
}

pub(super) fn last_run(
    conn: &Connection,
    connector: &str,
    profile: RunProfile,
    statuses: &[RunStatus],
) -> StoreResult<Option<RunRecord>> {
    const OP: &str = "last_run";
    // A fixed number of slots keeps one prepared statement; unused slots repeat the first.
    let Some(first) = statuses.first() else {
        return Ok(None);
    };
    let slot = |i: usize| statuses.get(i).unwrap_or(first).as_str();
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM runs WHERE connector = ?1 AND profile = ?2
             AND status IN (?3, ?4, ?5, ?6, ?7, ?8) ORDER BY id DESC LIMIT 1"
        ))
        .and_then(|mut s| {
            s.query_row(
                params![
                    connector,
                    profile.as_str(),
                    slot(0),
                    slot(1),
                    slot(2),
                    slot(3),
                    slot(4),
                    slot(5)
                ],
                raw_run,
            )
            .optional()
        })
        .map_err(db(OP))?;
    raw.map(RawRun::decode).transpose()
}

pub(super) fn runs(conn: &Connection, query: &RunQuery) -> StoreResult<Vec<RunRecord>> {
    const OP: &str = "runs";
    let sql = format!(
        "SELECT {COLUMNS} FROM runs {}",
        query.sql_tail(|i| format!("?{i}"))
    );
    let values = [
        query.connector.clone().map(Value::Text),
        query.profile.map(|p| Value::Text(p.as_str().into())),
        query.status.map(|s| Value::Text(s.as_str().into())),
        query.since.map(|t| Value::Text(fmt_time(t))),
        query.until.map(|t| Value::Text(fmt_time(t))),
        query.before_id.map(Value::Integer),
        Some(Value::Integer(i64::from(query.limit))),
    ];
    let mut stmt = conn.prepare_cached(&sql).map_err(db(OP))?;
    let rows = stmt
        .query_map(params_from_iter(values.into_iter().flatten()), raw_run)
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawRun::decode))
        .collect()
}

pub(super) fn request_run_cancel(
    conn: &Connection,
    run_id: i64,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<CancelOutcome> {
    const OP: &str = "request_run_cancel";
    let n = conn
        .prepare_cached(
            "UPDATE runs SET cancel_requested_at = ?3, cancel_requested_by = ?2
             WHERE id = ?1 AND status = 'running' AND cancel_requested_at IS NULL",
        )
        .and_then(|mut s| s.execute(params![run_id, actor, fmt_time(at)]))
        .map_err(db(OP))?;
    if n == 1 {
        return Ok(CancelOutcome::Requested);
    }
    Ok(match run(conn, run_id)? {
        None => CancelOutcome::UnknownRun,
        Some(r) => CancelOutcome::unchanged(r),
    })
}

pub(super) fn run_cancel_request(
    conn: &Connection,
    run_id: i64,
) -> StoreResult<Option<CancelRequest>> {
    const OP: &str = "run_cancel_request";
    let row: Option<(Option<String>, Option<String>)> = conn
        .prepare_cached("SELECT cancel_requested_by, cancel_requested_at FROM runs WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row(params![run_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(db(OP))?;
    match row {
        None => Err(missing(OP, "run", run_id)),
        Some((Some(by), Some(at))) => Ok(Some(CancelRequest { by, at })),
        Some(_) => Ok(None),
    }
}
