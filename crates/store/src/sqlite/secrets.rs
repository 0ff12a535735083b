//! Secrets, the data-protection key ring and the key settings (SQLite). Only sealed blobs
//! and metadata pass through here; nothing in these statements is ever a value in clear.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::fmt_time;
use crate::port::StoreResult;
use crate::secret_rows::{
    KeySettings, RawProtectionKey, RawSecret, SecretInfo, StoredProtectionKey, StoredSecret,
    WrappedKeyRow, WrappedKind, decode_settings, wrapped_table,
};

const SECRET_COLUMNS: &str =
    "name, purpose, version, kek_id, wrapped_key, ciphertext, created_at, updated_at, last_used_at";

fn raw_secret(r: &Row<'_>) -> rusqlite::Result<RawSecret> {
    Ok(RawSecret {
        name: r.get(0)?,
        purpose: r.get(1)?,
        version: r.get(2)?,
        kek_id: r.get(3)?,
        wrapped_key: r.get(4)?,
        ciphertext: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        last_used_at: r.get(8)?,
    })
}

pub(super) fn put_secret(conn: &Connection, s: &StoredSecret) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO secrets (name, purpose, version, kek_id, wrapped_key, ciphertext, created_at, updated_at, last_used_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (name) DO UPDATE SET purpose = excluded.purpose, version = excluded.version,
             kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key,
             ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
    )
    .and_then(|mut st| {
        st.execute(params![
            s.name,
            s.purpose,
            s.version,
            s.kek_id,
            s.wrapped_key,
            s.ciphertext,
            fmt_time(s.created_at),
            fmt_time(s.updated_at),
            s.last_used_at.map(fmt_time)
        ])
    })
    .map(drop)
    .map_err(db("put_secret"))
}

pub(super) fn secret(conn: &Connection, name: &str) -> StoreResult<Option<StoredSecret>> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE name = ?1"
        ))
        .and_then(|mut s| s.query_row(params![name], raw_secret).optional())
        .map_err(db("secret"))?;
    raw.map(RawSecret::decode).transpose()
}

pub(super) fn secret_infos(conn: &Connection) -> StoreResult<Vec<SecretInfo>> {
    const OP: &str = "secret_infos";
    // the blobs are selected empty: listing never reads sealed data
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, purpose, version, kek_id, x'', x'', created_at, updated_at, last_used_at
             FROM secrets ORDER BY name",
        )
        .map_err(db(OP))?;
    let rows = stmt.query_map([], raw_secret).map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawSecret::info))
        .collect()
}

pub(super) fn delete_secret(conn: &Connection, name: &str) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM secrets WHERE name = ?1")
        .and_then(|mut s| s.execute(params![name]))
        .map(|n| n > 0)
        .map_err(db("delete_secret"))
}

pub(super) fn touch_secret(conn: &Connection, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
    conn.prepare_cached("UPDATE secrets SET last_used_at = ?2 WHERE name = ?1")
        .and_then(|mut s| s.execute(params![name, fmt_time(at)]))
        .map(drop)
        .map_err(db("touch_secret"))
}

pub(super) fn wrapped_keys(conn: &Connection) -> StoreResult<Vec<WrappedKeyRow>> {
    const OP: &str = "wrapped_keys";
    let mut stmt = conn
        .prepare_cached(
            "SELECT 0, name, kek_id, wrapped_key FROM secrets
             UNION ALL SELECT 1, id, kek_id, wrapped_key FROM protection_keys ORDER BY 1, 2",
        )
        .map_err(db(OP))?;
    let rows = stmt
        .query_map([], |r| {
            let kind: i64 = r.get(0)?;
            Ok(WrappedKeyRow {
                kind: if kind == 0 {
                    WrappedKind::Secret
                } else {
                    WrappedKind::ProtectionKey
                },
                id: r.get(1)?,
                kek_id: r.get(2)?,
                wrapped_key: r.get(3)?,
            })
        })
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP))).collect()
}

pub(super) fn replace_wrapped_key(
    conn: &Connection,
    kind: WrappedKind,
    id: &str,
    kek_id: &str,
    wrapped_key: &[u8],
) -> StoreResult<()> {
    const OP: &str = "replace_wrapped_key";
    let (table, key) = wrapped_table(kind);
    let n = conn
        .prepare_cached(&format!(
            "UPDATE {table} SET kek_id = ?2, wrapped_key = ?3 WHERE {key} = ?1"
        ))
        .and_then(|mut s| s.execute(params![id, kek_id, wrapped_key]))
        .map_err(db(OP))?;
    if n == 1 {
        Ok(())
    } else {
        Err(crate::error::StoreError::Database {
            operation: OP,
            message: format!("{table} row '{id}' does not exist"),
        })
    }
}

pub(super) fn put_protection_key(conn: &Connection, k: &StoredProtectionKey) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO protection_keys (id, kek_id, wrapped_key, created_at, activates_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            k.id,
            k.kek_id,
            k.wrapped_key,
            fmt_time(k.created_at),
            fmt_time(k.activates_at),
            fmt_time(k.expires_at)
        ])
    })
    .map(drop)
    .map_err(db("put_protection_key"))
}

pub(super) fn protection_keys(conn: &Connection) -> StoreResult<Vec<StoredProtectionKey>> {
    const OP: &str = "protection_keys";
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, kek_id, wrapped_key, created_at, activates_at, expires_at
             FROM protection_keys ORDER BY activates_at, id",
        )
        .map_err(db(OP))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(RawProtectionKey {
                id: r.get(0)?,
                kek_id: r.get(1)?,
                wrapped_key: r.get(2)?,
                created_at: r.get(3)?,
                activates_at: r.get(4)?,
                expires_at: r.get(5)?,
            })
        })
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawProtectionKey::decode))
        .collect()
}

pub(super) fn delete_expired_protection_keys(
    conn: &Connection,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    conn.prepare_cached("DELETE FROM protection_keys WHERE expires_at < ?1")
        .and_then(|mut s| s.execute(params![fmt_time(before)]))
        .map(|n| n as u64)
        .map_err(db("delete_expired_protection_keys"))
}

pub(super) fn key_settings(conn: &Connection) -> StoreResult<Option<KeySettings>> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached("SELECT kek_id, mode, updated_at FROM key_settings WHERE id = 1")
        .and_then(|mut s| {
            s.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(db("key_settings"))?;
    row.map(|(k, m, u)| decode_settings(k, &m, &u)).transpose()
}

pub(super) fn set_key_settings(conn: &Connection, s: &KeySettings) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO key_settings (id, kek_id, mode, updated_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET kek_id = excluded.kek_id, mode = excluded.mode, updated_at = excluded.updated_at",
    )
    .and_then(|mut st| st.execute(params![s.kek_id, s.mode.as_str(), fmt_time(s.updated_at)]))
    .map(drop)
    .map_err(db("set_key_settings"))
}
