//! Secrets, the data-protection key ring and the key settings (PostgreSQL). Only sealed
//! blobs (BYTEA) and metadata pass through here; nothing is ever a value in clear.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use super::db;
use crate::codec::fmt_time;
use crate::error::StoreError;
use crate::port::StoreResult;
use crate::secret_rows::{
    KeySettings, RawProtectionKey, RawSecret, SecretInfo, StoredProtectionKey, StoredSecret,
    WrappedKeyRow, WrappedKind, decode_settings, wrapped_table,
};

fn raw_secret(r: &PgRow) -> Result<RawSecret, sqlx::Error> {
    Ok(RawSecret {
        name: r.try_get(0)?,
        purpose: r.try_get(1)?,
        version: r.try_get(2)?,
        kek_id: r.try_get(3)?,
        wrapped_key: r.try_get(4)?,
        ciphertext: r.try_get(5)?,
        created_at: fmt_time(r.try_get(6)?),
        updated_at: fmt_time(r.try_get(7)?),
        last_used_at: r.try_get::<Option<DateTime<Utc>>, _>(8)?.map(fmt_time),
    })
}

pub(super) async fn put_secret(c: &mut PgConnection, s: &StoredSecret) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO secrets (name, purpose, version, kek_id, wrapped_key, ciphertext, created_at, updated_at, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (name) DO UPDATE SET purpose = EXCLUDED.purpose, version = EXCLUDED.version,
             kek_id = EXCLUDED.kek_id, wrapped_key = EXCLUDED.wrapped_key,
             ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at",
    )
    .bind(&s.name)
    .bind(&s.purpose)
    .bind(s.version)
    .bind(&s.kek_id)
    .bind(&s.wrapped_key)
    .bind(&s.ciphertext)
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(s.last_used_at)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("put_secret"))
}

pub(super) async fn secret(c: &mut PgConnection, name: &str) -> StoreResult<Option<StoredSecret>> {
    const OP: &str = "secret";
    let row = sqlx::query(
        "SELECT name, purpose, version, kek_id, wrapped_key, ciphertext, created_at, updated_at, last_used_at
         FROM secrets WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    row.map(|r| raw_secret(&r).map_err(db(OP)).and_then(RawSecret::decode))
        .transpose()
}

pub(super) async fn secret_infos(c: &mut PgConnection) -> StoreResult<Vec<SecretInfo>> {
    const OP: &str = "secret_infos";
    // the blobs are selected empty: listing never reads sealed data
    let rows = sqlx::query(
        "SELECT name, purpose, version, kek_id, ''::bytea, ''::bytea, created_at, updated_at, last_used_at
         FROM secrets ORDER BY name",
    )
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter()
        .map(|r| raw_secret(r).map_err(db(OP)).and_then(RawSecret::info))
        .collect()
}

pub(super) async fn delete_secret(c: &mut PgConnection, name: &str) -> StoreResult<bool> {
    sqlx::query("DELETE FROM secrets WHERE name = $1")
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(db("delete_secret"))
}

pub(super) async fn touch_secret(
    c: &mut PgConnection,
    name: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE secrets SET last_used_at = $2 WHERE name = $1")
        .bind(name)
        .bind(at)
        .execute(c)
        .await
        .map(drop)
        .map_err(db("touch_secret"))
}

pub(super) async fn wrapped_keys(c: &mut PgConnection) -> StoreResult<Vec<WrappedKeyRow>> {
    const OP: &str = "wrapped_keys";
    let rows = sqlx::query(
        "SELECT 0::INT, name, kek_id, wrapped_key FROM secrets
         UNION ALL SELECT 1::INT, id, kek_id, wrapped_key FROM protection_keys ORDER BY 1, 2",
    )
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter()
        .map(|r| {
            let kind: i32 = r.try_get(0)?;
            Ok(WrappedKeyRow {
                kind: if kind == 0 {
                    WrappedKind::Secret
                } else {
                    WrappedKind::ProtectionKey
                },
                id: r.try_get(1)?,
                kek_id: r.try_get(2)?,
                wrapped_key: r.try_get(3)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db(OP))
}

pub(super) async fn replace_wrapped_key(
    c: &mut PgConnection,
    kind: WrappedKind,
    id: &str,
    kek_id: &str,
    wrapped_key: &[u8],
) -> StoreResult<()> {
    const OP: &str = "replace_wrapped_key";
    let (table, key) = wrapped_table(kind);
    // table and column come from a closed list, never from input
    let sql = format!("UPDATE {table} SET kek_id = $2, wrapped_key = $3 WHERE {key} = $1");
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(kek_id)
        .bind(wrapped_key)
        .execute(c)
        .await
        .map_err(db(OP))?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Database {
            operation: OP,
            message: format!("{table} row '{id}' does not exist"),
        })
    }
}

pub(super) async fn put_protection_key(
    c: &mut PgConnection,
    k: &StoredProtectionKey,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO protection_keys (id, kek_id, wrapped_key, created_at, activates_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&k.id)
    .bind(&k.kek_id)
    .bind(&k.wrapped_key)
    .bind(k.created_at)
    .bind(k.activates_at)
    .bind(k.expires_at)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("put_protection_key"))
}

pub(super) async fn protection_keys(c: &mut PgConnection) -> StoreResult<Vec<StoredProtectionKey>> {
    const OP: &str = "protection_keys";
    let rows = sqlx::query(
        "SELECT id, kek_id, wrapped_key, created_at, activates_at, expires_at
         FROM protection_keys ORDER BY activates_at, id",
    )
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter()
        .map(|r| {
            Ok(RawProtectionKey {
                id: r.try_get(0)?,
                kek_id: r.try_get(1)?,
                wrapped_key: r.try_get(2)?,
                created_at: fmt_time(r.try_get(3)?),
                activates_at: fmt_time(r.try_get(4)?),
                expires_at: fmt_time(r.try_get(5)?),
            })
        })
        .map(|r: Result<RawProtectionKey, sqlx::Error>| {
            r.map_err(db(OP)).and_then(RawProtectionKey::decode)
        })
        .collect()
}

pub(super) async fn delete_expired_protection_keys(
    c: &mut PgConnection,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    sqlx::query("DELETE FROM protection_keys WHERE expires_at < $1")
        .bind(before)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        .map_err(db("delete_expired_protection_keys"))
}

pub(super) async fn key_settings(c: &mut PgConnection) -> StoreResult<Option<KeySettings>> {
    const OP: &str = "key_settings";
    let row = sqlx::query("SELECT kek_id, mode, updated_at FROM key_settings WHERE id = 1")
        .fetch_optional(c)
        .await
        .map_err(db(OP))?;
    let Some(r) = row else { return Ok(None) };
    let (kek_id, mode, updated_at): (String, String, DateTime<Utc>) = (
        r.try_get(0).map_err(db(OP))?,
        r.try_get(1).map_err(db(OP))?,
        r.try_get(2).map_err(db(OP))?,
    );
    decode_settings(kek_id, &mode, &fmt_time(updated_at)).map(Some)
}

pub(super) async fn set_key_settings(c: &mut PgConnection, s: &KeySettings) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO key_settings (id, kek_id, mode, updated_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET kek_id = EXCLUDED.kek_id, mode = EXCLUDED.mode, updated_at = EXCLUDED.updated_at",
    )
    .bind(&s.kek_id)
    .bind(s.mode.as_str())
    .bind(s.updated_at)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("set_key_settings"))
}
