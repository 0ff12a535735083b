//! Runs and their per-object errors (PostgreSQL). Same rules as the SQLite module: a run
//! row at start, counters as it goes, status and end time at the end, errors appended with
//! a per-run sequence number.

use chrono::{DateTime, Utc};
use identitymesh_domain::run::{ObjectError, RunProfile, RunRecord, RunStats, RunStatus};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use super::db;
use crate::codec::{RawRun, fmt_time, missing, to_json};
use crate::port::StoreResult;
use crate::run_rows::{CancelOutcome, CancelRequest, RunQuery};

macro_rules! select_run {
    ($tail:literal) => {
        concat!(
            "SELECT id, connector, profile, simulation, status, actor, started_at, ended_at, stats::text, reason,
             cancel_requested_at, cancel_requested_by FROM runs ",
            $tail
        )
    };
}

fn raw_run(r: &PgRow) -> Result<RawRun, sqlx::Error> {
    Ok(RawRun {
        id: r.try_get(0)?,
        connector: r.try_get(1)?,
        profile: r.try_get(2)?,
        simulation: r.try_get(3)?,
        status: r.try_get(4)?,
        actor: r.try_get(5)?,
        started_at: fmt_time(r.try_get(6)?),
        ended_at: r.try_get::<Option<DateTime<Utc>>, _>(7)?.map(fmt_time),
        stats: r.try_get(8)?,
        reason: r.try_get(9)?,
        cancel_requested_at: r.try_get::<Option<DateTime<Utc>>, _>(10)?.map(fmt_time),
        cancel_requested_by: r.try_get(11)?,
    })
}

fn decode_all(op: &'static str, rows: Vec<PgRow>) -> StoreResult<Vec<RunRecord>> {
    rows.iter()
        .map(|r| raw_run(r).map_err(db(op)).and_then(RawRun::decode))
        .collect()
}

pub(super) async fn start_run(
    c: &mut PgConnection,
    connector: &str,
    profile: RunProfile,
    simulation: bool,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "start_run";
    let stats = to_json(OP, &RunStats::default())?;
    sqlx::query_scalar(
        "INSERT INTO runs (connector, profile, simulation, status, actor, started_at, stats)
         VALUES ($1, $2, $3, 'running', $4, $5, $6::jsonb) RETURNING id",
    )
    .bind(connector)
    .bind(profile.as_str())
    .bind(simulation)
    .bind(actor)
    .bind(at)
    .bind(stats)
    .fetch_one(c)
    .await
    .map_err(db(OP))
}

pub(super) async fn finish_run(
    c: &mut PgConnection,
    run_id: i64,
    status: RunStatus,
    stats: &RunStats,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    const OP: &str = "finish_run";
    let stats = to_json(OP, stats)?;
    let done = sqlx::query(
        "UPDATE runs SET status = $2, stats = $3::jsonb, reason = $4, ended_at = $5 WHERE id = $1",
    )
    .bind(run_id)
    .bind(status.as_str())
    .bind(stats)
    .bind(reason)
    .bind(at)
    .execute(c)
    .await
    .map_err(db(OP))?;
    if done.rows_affected() == 0 {
        Err(missing(OP, "run", run_id))
    } else {
        Ok(())
    }
}

pub(super) async fn update_run_stats(
    c: &mut PgConnection,
    run_id: i64,
    stats: &RunStats,
) -> StoreResult<()> {
    const OP: &str = "update_run_stats";
    let stats = to_json(OP, stats)?;
    let done = sqlx::query("UPDATE runs SET stats = $2::jsonb WHERE id = $1")
        .bind(run_id)
        .bind(stats)
        .execute(c)
        .await
        .map_err(db(OP))?;
    if done.rows_affected() == 0 {
        Err(missing(OP, "run", run_id))
    } else {
        Ok(())
    }
}

pub(super) async fn add_run_errors(
    c: &mut PgConnection,
    run_id: i64,
    errors: &[ObjectError],
) -> StoreResult<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let objects: Vec<&str> = errors.iter().map(|e| e.object.as_str()).collect();
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    sqlx::query(
        "INSERT INTO run_errors (run_id, seq, object, message)
         SELECT $1, (SELECT COALESCE(MAX(seq), 0) FROM run_errors WHERE run_id = $1) + t.n, t.o, t.m
         FROM UNNEST($2::text[], $3::text[]) WITH ORDINALITY AS t(o, m, n)",
    )
    .bind(run_id)
    .bind(objects)
    .bind(messages)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("add_run_errors"))
}

pub(super) async fn run(c: &mut PgConnection, run_id: i64) -> StoreResult<Option<RunRecord>> {
    const OP: &str = "run";
    let row = sqlx::query(select_run!("WHERE id = $1"))
        .bind(run_id)
        .fetch_optional(c)
        .await
        .map_err(db(OP))?;
    row.map(|r| raw_run(&r).map_err(db(OP)).and_then(RawRun::decode))
        .transpose()
}

pub(super) async fn run_errors(
    c: &mut PgConnection,
    run_id: i64,
    limit: u32,
) -> StoreResult<Vec<ObjectError>> {
    const OP: &str = "run_errors";
    let rows = sqlx::query(
        "SELECT object, message FROM run_errors WHERE run_id = $1 ORDER BY seq LIMIT $2",
    )
    .bind(run_id)
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter()
        .map(|r| {
            Ok(ObjectError {
                object: r.try_get(0)?,
                message: r.try_get(1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db(OP))
}

pub(super) async fn recent_runs(
    c: &mut PgConnection,
    connector: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<RunRecord>> {
    const OP: &str = "recent_runs";
    let query = match connector {
        Some(name) => sqlx::query(select_run!(
            "WHERE connector = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(name),
        None => sqlx::query(select_run!("ORDER BY id DESC LIMIT $1")),
    };
    let rows = query
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
        .map_err(db(OP))?;
    decode_all(OP, rows)
}

pub(super) async fn last_run(
    c: &mut PgConnection,
    connector: &str,
    profile: RunProfile,
    statuses: &[RunStatus],
) -> StoreResult<Option<RunRecord>> {
    const OP: &str = "last_run";
    if statuses.is_empty() {
        return Ok(None);
    }
    let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
    let row = sqlx::query(select_run!(
        "WHERE connector = $1 AND profile = $2 AND status = ANY($3) ORDER BY id DESC LIMIT 1"
    ))
    .bind(connector)
    .bind(profile.as_str())
    .bind(statuses)
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    row.map(|r| raw_run(&r).map_err(db(OP)).and_then(RawRun::decode))
        .transpose()
}

pub(super) async fn runs(c: &mut PgConnection, query: &RunQuery) -> StoreResult<Vec<RunRecord>> {
    const OP: &str = "runs";
    let sql = format!("{}{}", select_run!(""), query.sql_tail(|i| format!("${i}")));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    if let Some(connector) = &query.connector {
        q = q.bind(connector.as_str());
    }
    if let Some(profile) = query.profile {
        q = q.bind(profile.as_str());
    }
    if let Some(status) = query.status {
        q = q.bind(status.as_str());
    }
    for at in [query.since, query.until].into_iter().flatten() {
        q = q.bind(at);
    }
    if let Some(before) = query.before_id {
        q = q.bind(before);
    }
    let rows = q
        .bind(i64::from(query.limit))
        .fetch_all(c)
        .await
        .map_err(db(OP))?;
    decode_all(OP, rows)
}

pub(super) async fn request_run_cancel(
    c: &mut PgConnection,
    run_id: i64,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<CancelOutcome> {
    const OP: &str = "request_run_cancel";
    let done = sqlx::query(
        "UPDATE runs SET cancel_requested_at = $3, cancel_requested_by = $2
         WHERE id = $1 AND status = 'running' AND cancel_requested_at IS NULL",
    )
    .bind(run_id)
    .bind(actor)
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(db(OP))?;
    if done.rows_affected() == 1 {
        return Ok(CancelOutcome::Requested);
    }
    Ok(match run(c, run_id).await? {
        None => CancelOutcome::UnknownRun,
        Some(r) => CancelOutcome::unchanged(r),
    })
}

pub(super) async fn run_cancel_request(
    c: &mut PgConnection,
    run_id: i64,
) -> StoreResult<Option<CancelRequest>> {
    const OP: &str = "run_cancel_request";
    let row =
        sqlx::query("SELECT cancel_requested_by, cancel_requested_at FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_optional(c)
            .await
            .map_err(db(OP))?
            .ok_or_else(|| missing(OP, "run", run_id))?;
    let by: Option<String> = row.try_get(0).map_err(db(OP))?;
    let at: Option<DateTime<Utc>> = row.try_get(1).map_err(db(OP))?;
    Ok(by.zip(at).map(|(by, at)| CancelRequest {
        by,
        at: fmt_time(at),
    }))
}
