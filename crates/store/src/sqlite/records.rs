//! Watermarks, the audit log, configuration versions and simulation change sets (SQLite):
//! the small append-or-replace records around a run. The audit query has one statement per
//! combination of filters so each can use its index (`actor, id` or `target, id`) and read
//! newest first without sorting.

use chrono::{DateTime, Utc};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::audit::{AuditRecord, NewAudit};
use identitymesh_domain::watermark::WatermarkKind;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{RawAudit, RawConfig, decode_change, fmt_time, to_json};
use crate::port::{AuditFilter, ConfigVersion, StoreResult};

pub(super) fn watermark(
    conn: &Connection,
    connector: &ConnectorName,
    kind: WatermarkKind,
) -> StoreResult<Option<String>> {
    conn.prepare_cached("SELECT value FROM watermarks WHERE connector = ?1 AND kind = ?2")
        .and_then(|mut s| {
            s.query_row(params![connector.as_str(), kind.as_str()], |r| r.get(0))
                .optional()
        })
        .map_err(db("watermark"))
}

pub(super) fn set_watermark(
    conn: &Connection,
    connector: &ConnectorName,
    kind: WatermarkKind,
    value: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO watermarks (connector, kind, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (connector, kind) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| s.execute(params![connector.as_str(), kind.as_str(), value, fmt_time(at)]))
    .map(drop)
    .map_err(db("set_watermark"))
}

pub(super) fn clear_watermark(
    conn: &Connection,
    connector: &ConnectorName,
    kind: WatermarkKind,
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM watermarks WHERE connector = ?1 AND kind = ?2")
        .and_then(|mut s| s.execute(params![connector.as_str(), kind.as_str()]))
        .map(drop)
        .map_err(db("clear_watermark"))
}

pub(super) fn append_audit(
    conn: &Connection,
    record: &NewAudit,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "append_audit";
    let before = record.before.as_ref().map(|v| to_json(OP, v)).transpose()?;
    let after = record.after.as_ref().map(|v| to_json(OP, v)).transpose()?;
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, target, before, after, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![
                fmt_time(at),
                record.actor,
                record.action,
                record.target,
                before,
                after,
                record.run_id
            ],
            |r| r.get(0),
        )
    })
    .map_err(db(OP))
}

fn raw_audit(r: &Row<'_>) -> rusqlite::Result<RawAudit> {
    Ok(RawAudit {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        before: r.get(5)?,
        after: r.get(6)?,
        run_id: r.get(7)?,
    })
}

pub(super) fn audit(conn: &Connection, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
    const OP: &str = "audit";
    const COLUMNS: &str = "SELECT id, at, actor, action, target, before, after, run_id FROM audit ";
    let before_id = filter.before_id.unwrap_or(i64::MAX);
    let (tail, params): (&str, Vec<&dyn rusqlite::ToSql>) = match (&filter.actor, &filter.target) {
        (None, None) => (
            "WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            vec![&before_id, &filter.limit],
        ),
        (Some(a), None) => (
            "WHERE actor = ?3 AND id < ?1 ORDER BY id DESC LIMIT ?2",
            vec![&before_id, &filter.limit, a],
        ),
        (None, Some(t)) => (
            "WHERE target = ?3 AND id < ?1 ORDER BY id DESC LIMIT ?2",
            vec![&before_id, &filter.limit, t],
        ),
        (Some(a), Some(t)) => (
            "WHERE actor = ?3 AND target = ?4 AND id < ?1 ORDER BY id DESC LIMIT ?2",
            vec![&before_id, &filter.limit, a, t],
        ),
    };
    let mut stmt = conn
        .prepare_cached(&format!("{COLUMNS}{tail}"))
        .map_err(db(OP))?;
    let rows = stmt
        .query_map(params.as_slice(), raw_audit)
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawAudit::decode))
        .collect()
}

fn raw_config(r: &Row<'_>) -> rusqlite::Result<RawConfig> {
    Ok(RawConfig {
        id: r.get(0)?,
        hash: r.get(1)?,
        author: r.get(2)?,
        created_at: r.get(3)?,
        content: r.get(4)?,
    })
}

pub(super) fn apply_config(
    conn: &Connection,
    content: &str,
    hash: &str,
    author: &str,
    at: DateTime<Utc>,
) -> StoreResult<i64> {
    const OP: &str = "apply_config";
    if let Some(active) = active_config(conn)?
        && active.hash == hash
        && active.content == content
    {
        return Ok(active.id);
    }
    conn.prepare_cached("UPDATE config_versions SET active = 0 WHERE active")
        .and_then(|mut s| s.execute([]))
        .map_err(db(OP))?;
    conn.prepare_cached(
        "INSERT INTO config_versions (hash, author, created_at, content, active) VALUES (?1, ?2, ?3, ?4, 1)
         RETURNING id",
    )
    .and_then(|mut s| s.query_row(params![hash, author, fmt_time(at), content], |r| r.get(0)))
    .map_err(db(OP))
}

pub(super) fn active_config(conn: &Connection) -> StoreResult<Option<ConfigVersion>> {
    let raw = conn
        .prepare_cached(
            "SELECT id, hash, author, created_at, content FROM config_versions WHERE active",
        )
        .and_then(|mut s| s.query_row([], raw_config).optional())
        .map_err(db("active_config"))?;
    raw.map(RawConfig::decode).transpose()
}

pub(super) fn config_versions(conn: &Connection, limit: u32) -> StoreResult<Vec<ConfigVersion>> {
    const OP: &str = "config_versions";
    let mut stmt = conn
        .prepare_cached("SELECT id, hash, author, created_at, '' FROM config_versions ORDER BY id DESC LIMIT ?1")
        .map_err(db(OP))?;
    let rows = stmt.query_map(params![limit], raw_config).map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawConfig::decode))
        .collect()
}

pub(super) fn store_simulation(
    conn: &Connection,
    run_id: i64,
    changes: &[serde_json::Value],
) -> StoreResult<()> {
    const OP: &str = "store_simulation";
    let next: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM simulations WHERE run_id = ?1")
        .and_then(|mut s| s.query_row(params![run_id], |r| r.get(0)))
        .map_err(db(OP))?;
    let mut stmt = conn
        .prepare_cached("INSERT INTO simulations (run_id, seq, change) VALUES (?1, ?2, ?3)")
        .map_err(db(OP))?;
    for (seq, change) in (next..).zip(changes) {
        stmt.execute(params![run_id, seq, to_json(OP, change)?])
            .map_err(db(OP))?;
    }
    Ok(())
}

pub(super) fn simulation(conn: &Connection, run_id: i64) -> StoreResult<Vec<serde_json::Value>> {
    const OP: &str = "simulation";
    let mut stmt = conn
        .prepare_cached("SELECT seq, change FROM simulations WHERE run_id = ?1 ORDER BY seq")
        .map_err(db(OP))?;
    let rows = stmt
        .query_map(params![run_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(db(OP))?;
    rows.map(|r| {
        r.map_err(db(OP))
            .and_then(|(seq, raw)| decode_change(run_id, seq, &raw))
    })
    .collect()
}
