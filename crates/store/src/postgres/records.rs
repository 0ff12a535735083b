//! Watermarks, the audit log, configuration versions and simulation change sets
//! (PostgreSQL). The audit query has one statement per combination of filters so each can
//! use its index and read newest first without sorting.

use chrono::{DateTime, Utc};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::audit::{AuditRecord, NewAudit};
use identitymesh_domain::watermark::WatermarkKind;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::db;
use crate::codec::{RawAudit, RawConfig, decode_change, fmt_time, to_json};
use crate::port::{AuditFilter, ConfigVersion, StoreResult};

pub(super) async fn watermark(
    c: &mut PgConnection,
    connector: &ConnectorName,
    kind: WatermarkKind,
) -> StoreResult<Option<String>> {
    sqlx::query_scalar("SELECT value FROM watermarks WHERE connector = $1 AND kind = $2")
        .bind(connector.as_str())
        .bind(kind.as_str())
        .fetch_optional(c)
        .await
        .map_err(db("watermark"))
}

pub(super) async fn set_watermark(
    c: &mut PgConnection,
    connector: &ConnectorName,
    kind: WatermarkKind,
    value: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO watermarks (connector, kind, value, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (connector, kind) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
    )
    .bind(connector.as_str())
    .bind(kind.as_str())
    .bind(value)
    .bind(at)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("set_watermark"))
}

pub(super) async fn clear_watermark(
    c: &mut PgConnection,
    connector: &ConnectorName,
    kind: WatermarkKind,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM watermarks WHERE connector = $1 AND kind = $2")
        .bind(connector.as_str())
        .bind(kind.as_str())
        .execute(c)
        .await
        .map(drop)
        .map_err(db("clear_watermark"))
}

pub(super) async fn append_audit(
    c: &mut PgConnection,
    record: &NewAudit,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "append_audit";
    let before = record.before.as_ref().map(|v| to_json(OP, v)).transpose()?;
    let after = record.after.as_ref().map(|v| to_json(OP, v)).transpose()?;
    sqlx::query_scalar(
        "INSERT INTO audit (at, actor, action, target, before, after, run_id)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7) RETURNING id",
    )
    .bind(at)
    .bind(&record.actor)
    .bind(&record.action)
    .bind(&record.target)
    .bind(before)
    .bind(after)
    .bind(record.run_id)
    .fetch_one(c)
    .await
    .map_err(db(OP))
}

fn raw_audit(r: &PgRow) -> Result<RawAudit, sqlx::Error> {
    Ok(RawAudit {
        id: r.try_get(0)?,
        at: fmt_time(r.try_get(1)?),
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        target: r.try_get(4)?,
        before: r.try_get(5)?,
        after: r.try_get(6)?,
        run_id: r.try_get(7)?,
    })
}

macro_rules! select_audit {
    ($tail:literal) => {
        concat!(
            "SELECT id, at, actor, action, target, before::text, after::text, run_id FROM audit ",
            $tail
        )
    };
}

pub(super) async fn audit(
    c: &mut PgConnection,
    filter: &AuditFilter,
) -> StoreResult<Vec<AuditRecord>> {
    const OP: &str = "audit";
    let query = match (&filter.actor, &filter.target) {
        (None, None) => sqlx::query(select_audit!("WHERE id < $1 ORDER BY id DESC LIMIT $2")),
        (Some(_), None) => sqlx::query(select_audit!(
            "WHERE actor = $3 AND id < $1 ORDER BY id DESC LIMIT $2"
        )),
        (None, Some(_)) => sqlx::query(select_audit!(
            "WHERE target = $3 AND id < $1 ORDER BY id DESC LIMIT $2"
        )),
        (Some(_), Some(_)) => sqlx::query(select_audit!(
            "WHERE actor = $3 AND target = $4 AND id < $1 ORDER BY id DESC LIMIT $2"
        )),
    };
    let mut query = query
        .bind(filter.before_id.unwrap_or(i64::MAX))
        .bind(i64::from(filter.limit));
    if let Some(actor) = &filter.actor {
        query = query.bind(actor.as_str());
    }
    if let Some(target) = &filter.target {
        query = query.bind(target.as_str());
    }
    let rows = query.fetch_all(c).await.map_err(db(OP))?;
    rows.iter()
        .map(|r| raw_audit(r).map_err(db(OP)).and_then(RawAudit::decode))
        .collect()
}

fn raw_config(r: &PgRow) -> Result<RawConfig, sqlx::Error> {
    Ok(RawConfig {
        id: r.try_get(0)?,
        hash: r.try_get(1)?,
        author: r.try_get(2)?,
        created_at: fmt_time(r.try_get(3)?),
        content: r.try_get(4)?,
    })
}

pub(super) async fn apply_config(
    c: &mut PgConnection,
    content: &str,
    hash: &str,
    author: &str,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "apply_config";
    // Serialise concurrent applies: the active row is the lock.
    let active: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, hash, content FROM config_versions WHERE active FOR UPDATE")
            .fetch_optional(&mut *c)
            .await
            .map_err(db(OP))?;
    if let Some((id, active_hash, active_content)) = active
        && active_hash == hash
        && active_content == content
    {
        return Ok(id);
    }
    sqlx::query("UPDATE config_versions SET active = FALSE WHERE active")
        .execute(&mut *c)
        .await
        .map_err(db(OP))?;
    sqlx::query_scalar(
        "INSERT INTO config_versions (hash, author, created_at, content, active) VALUES ($1, $2, $3, $4, TRUE)
         RETURNING id",
    )
    .bind(hash)
    .bind(author)
    .bind(at)
    .bind(content)
    .fetch_one(c)
    .await
    .map_err(db(OP))
}

pub(super) async fn active_config(c: &mut PgConnection) -> StoreResult<Option<ConfigVersion>> {
    const OP: &str = "active_config";
    let row = sqlx::query(
        "SELECT id, hash, author, created_at, content FROM config_versions WHERE active",
    )
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    row.map(|r| raw_config(&r).map_err(db(OP)).and_then(RawConfig::decode))
        .transpose()
}

pub(super) async fn config_versions(
    c: &mut PgConnection,
    limit: u32,
) -> StoreResult<Vec<ConfigVersion>> {
    const OP: &str = "config_versions";
    let rows = sqlx::query(
        "SELECT id, hash, author, created_at, '' FROM config_versions ORDER BY id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter()
        .map(|r| raw_config(r).map_err(db(OP)).and_then(RawConfig::decode))
        .collect()
}

pub(super) async fn store_simulation(
    c: &mut PgConnection,
    run_id: i64,
    changes: &[serde_json::Value],
) -> StoreResult<()> {
    const OP: &str = "store_simulation";
    if changes.is_empty() {
        return Ok(());
    }
    let texts = changes
        .iter()
        .map(|v| to_json(OP, v))
        .collect::<StoreResult<Vec<String>>>()?;
    sqlx::query(
        "INSERT INTO simulations (run_id, seq, change)
         SELECT $1, (SELECT COALESCE(MAX(seq), 0) FROM simulations WHERE run_id = $1) + t.n, t.c::jsonb
         FROM UNNEST($2::text[]) WITH ORDINALITY AS t(c, n)",
    )
    .bind(run_id)
    .bind(texts)
    .execute(c)
    .await
    .map(drop)
    .map_err(db(OP))
}

pub(super) async fn simulation(
    c: &mut PgConnection,
    run_id: i64,
) -> StoreResult<Vec<serde_json::Value>> {
    const OP: &str = "simulation";
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, change::text FROM simulations WHERE run_id = $1 ORDER BY seq")
            .bind(run_id)
            .fetch_all(c)
            .await
            .map_err(db(OP))?;
    rows.into_iter()
        .map(|(seq, raw)| decode_change(run_id, seq, &raw))
        .collect()
}
