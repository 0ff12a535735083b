//! Leases with fencing tokens, and queued run requests (SQLite).
//!
//! A lease is one row per connector. Granting it is a single upsert that succeeds only when
//! the row is missing, expired or already the caller's; a new grant draws its token from the
//! `counters` row, which only ever goes up, so tokens keep increasing even after a lease row
//! is released and deleted. A renewal by the same holder keeps its token: nobody else can
//! have written in between. [`check_fence`] is what every fenced write calls first.

use chrono::{DateTime, Duration, Utc};
use identitymesh_domain::run::RunProfile;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{RawLease, RawRunRequest, fmt_time};
use crate::error::StoreError;
use crate::port::{Lease, RunRequest, StoreResult};

fn raw_lease(r: &Row<'_>) -> rusqlite::Result<RawLease> {
    Ok(RawLease {
        connector: r.get(0)?,
        holder: r.get(1)?,
        token: r.get(2)?,
        expires_at: r.get(3)?,
    })
}

pub(super) fn acquire_lease(
    conn: &Connection,
    connector: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl_seconds: i64,
) -> StoreResult<Option<Lease>> {
    const OP: &str = "acquire_lease";
    // Drawn before knowing whether it is needed: a renewal or refusal leaves a gap, which
    // is harmless (tokens must increase, not be contiguous).
    let token: i64 = conn
        .prepare_cached(
            "UPDATE counters SET value = value + 1 WHERE name = 'lease_token' RETURNING value",
        )
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(db(OP))?;
    let expires_at = now + Duration::seconds(ttl_seconds);
    let raw = conn
        .prepare_cached(
            "INSERT INTO leases (connector, holder, token, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (connector) DO UPDATE SET
                 token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE excluded.token END,
                 holder = excluded.holder,
                 expires_at = excluded.expires_at
             WHERE leases.holder = excluded.holder OR leases.expires_at <= ?5
             RETURNING connector, holder, token, expires_at",
        )
        .and_then(|mut s| {
            s.query_row(params![connector, holder, token, fmt_time(expires_at), fmt_time(now)], raw_lease)
                .optional()
        })
        .map_err(db(OP))?;
    raw.map(RawLease::decode).transpose()
}

pub(super) fn release_lease(
    conn: &Connection,
    connector: &str,
    holder: &str,
    token: i64,
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM leases WHERE connector = ?1 AND holder = ?2 AND token = ?3")
        .and_then(|mut s| s.execute(params![connector, holder, token]))
        .map(drop)
        .map_err(db("release_lease"))
}

pub(super) fn lease(conn: &Connection, connector: &str) -> StoreResult<Option<Lease>> {
    let raw = conn
        .prepare_cached(
            "SELECT connector, holder, token, expires_at FROM leases WHERE connector = ?1",
        )
        .and_then(|mut s| s.query_row(params![connector], raw_lease).optional())
        .map_err(db("lease"))?;
    raw.map(RawLease::decode).transpose()
}

pub(super) fn check_fence(conn: &Connection, connector: &str, token: i64) -> StoreResult<()> {
    let current: Option<i64> = conn
        .prepare_cached("SELECT token FROM leases WHERE connector = ?1")
        .and_then(|mut s| s.query_row(params![connector], |r| r.get(0)).optional())
        .map_err(db("check_fence"))?;
    if current == Some(token) {
        Ok(())
    } else {
        Err(StoreError::StaleLease {
            connector: connector.to_owned(),
            token,
        })
    }
}

pub(super) fn enqueue_run_request(
    conn: &Connection,
    connector: &str,
    profile: RunProfile,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO run_requests (connector, profile, actor, requested_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
    )
    .and_then(|mut s| s.query_row(params![connector, profile.as_str(), actor, fmt_time(at)], |r| r.get(0)))
    .map_err(db("enqueue_run_request"))
}

pub(super) fn run_requests(conn: &Connection, limit: u32) -> StoreResult<Vec<RunRequest>> {
    const OP: &str = "run_requests";
    let mut stmt = conn
        .prepare_cached("SELECT id, connector, profile, actor, requested_at FROM run_requests ORDER BY id LIMIT ?1")
        .map_err(db(OP))?;
    let rows = stmt
        .query_map(params![limit], |r| {
            Ok(RawRunRequest {
                id: r.get(0)?,
                connector: r.get(1)?,
                profile: r.get(2)?,
                actor: r.get(3)?,
                requested_at: r.get(4)?,
            })
        })
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawRunRequest::decode))
        .collect()
}

pub(super) fn take_run_request(conn: &Connection, id: i64) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM run_requests WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id]))
        .map(|n| n > 0)
        .map_err(db("take_run_request"))
}
