//! Leases with fencing tokens, and queued run requests (PostgreSQL). Granting is one upsert
//! that only succeeds when the lease is missing, expired or already the caller's, so two
//! engines racing for a connector cannot both win; new grants draw from `lease_token_seq`,
//! which never goes back, and a renewal keeps its token.

use chrono::{DateTime, Duration, Utc};
use identitymesh_domain::run::RunProfile;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::db;
use crate::codec::{RawLease, RawRunRequest, fmt_time};
use crate::error::StoreError;
use crate::port::{Lease, RunRequest, StoreResult};

fn raw_lease(r: &PgRow) -> Result<RawLease, sqlx::Error> {
    Ok(RawLease {
        connector: r.try_get(0)?,
        holder: r.try_get(1)?,
        token: r.try_get(2)?,
        expires_at: fmt_time(r.try_get(3)?),
    })
}

pub(super) async fn acquire_lease(
    c: &mut PgConnection,
    connector: &str,
    holder: &str,
    now: DateTime<Utc>,
    ttl_seconds: i64,
) -> StoreResult<Option<Lease>> {
    const OP: &str = "acquire_lease";
    let row = sqlx::query(
        "INSERT INTO leases (connector, holder, token, expires_at)
         VALUES ($1, $2, nextval('lease_token_seq'), $3)
         ON CONFLICT (connector) DO UPDATE SET
             token = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.token ELSE EXCLUDED.token END,
             holder = EXCLUDED.holder,
             expires_at = EXCLUDED.expires_at
         WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $4
         RETURNING connector, holder, token, expires_at",
    )
    .bind(connector)
    .bind(holder)
    .bind(now + Duration::seconds(ttl_seconds))
    .bind(now)
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    row.map(|r| raw_lease(&r).map_err(db(OP)).and_then(RawLease::decode))
        .transpose()
}

pub(super) async fn release_lease(
    c: &mut PgConnection,
    connector: &str,
    holder: &str,
    token: i64,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM leases WHERE connector = $1 AND holder = $2 AND token = $3")
        .bind(connector)
        .bind(holder)
        .bind(token)
        .execute(c)
        .await
        .map(drop)
        .map_err(db("release_lease"))
}

pub(super) async fn lease(c: &mut PgConnection, connector: &str) -> StoreResult<Option<Lease>> {
    const OP: &str = "lease";
    let row =
        sqlx::query("SELECT connector, holder, token, expires_at FROM leases WHERE connector = $1")
            .bind(connector)
            .fetch_optional(c)
            .await
            .map_err(db(OP))?;
    row.map(|r| raw_lease(&r).map_err(db(OP)).and_then(RawLease::decode))
        .transpose()
}

pub(super) async fn check_fence(
    c: &mut PgConnection,
    connector: &str,
    token: i64,
) -> StoreResult<()> {
    // FOR SHARE: a take-over cannot commit between this check and the fenced write.
    let current: Option<i64> =
        sqlx::query_scalar("SELECT token FROM leases WHERE connector = $1 FOR SHARE")
            .bind(connector)
            .fetch_optional(c)
            .await
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

pub(super) async fn enqueue_run_request(
    c: &mut PgConnection,
    connector: &str,
    profile: RunProfile,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO run_requests (connector, profile, actor, requested_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(connector)
    .bind(profile.as_str())
    .bind(actor)
    .bind(at)
    .fetch_one(c)
    .await
    .map_err(db("enqueue_run_request"))
}

pub(super) async fn run_requests(c: &mut PgConnection, limit: u32) -> StoreResult<Vec<RunRequest>> {
    const OP: &str = "run_requests";
    let rows = sqlx::query(
        "SELECT id, connector, profile, actor, requested_at FROM run_requests ORDER BY id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter()
        .map(|r| {
            let raw = RawRunRequest {
                id: r.try_get(0).map_err(db(OP))?,
                connector: r.try_get(1).map_err(db(OP))?,
                profile: r.try_get(2).map_err(db(OP))?,
                actor: r.try_get(3).map_err(db(OP))?,
                requested_at: fmt_time(r.try_get(4).map_err(db(OP))?),
            };
            raw.decode()
        })
        .collect()
}

pub(super) async fn take_run_request(c: &mut PgConnection, id: i64) -> StoreResult<bool> {
    sqlx::query("DELETE FROM run_requests WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|d| d.rows_affected() > 0)
        .map_err(db("take_run_request"))
}
