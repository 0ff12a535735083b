//! The Admin API's users, sessions and API tokens (SQLite), and the run counts its metrics
//! read. Passwords arrive as Argon2id PHC strings and sessions and tokens as hashes: nothing
//! here is a secret in clear.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{fmt_time, parse_time};
use crate::port::StoreResult;
use crate::user_rows::{ApiTokenRecord, NewApiToken, NewUser, SessionRecord, UserRecord};

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, disabled_at";
const SESSION_COLUMNS: &str = "id_hash, user_id, created_at, last_seen_at, expires_at";
const TOKEN_COLUMNS: &str = "id, name, user_id, role, token_hash, created_at, expires_at";

type RawUser = (i64, String, String, String, String, Option<String>);
type RawSession = (String, i64, String, String, String);
type RawToken = (i64, String, i64, String, String, String, String);

fn raw_user(r: &Row<'_>) -> rusqlite::Result<RawUser> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn user((id, name, role, password_hash, created, disabled): RawUser) -> StoreResult<UserRecord> {
    let key = id.to_string();
    let created_at = parse_time("user", &key, &created)?;
    let disabled_at = disabled.map(|d| parse_time("user", &key, &d)).transpose()?;
    Ok(UserRecord {
        id,
        name,
        role,
        password_hash,
        created_at,
        disabled_at,
    })
}

fn raw_session(r: &Row<'_>) -> rusqlite::Result<RawSession> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn session_row(
    (id_hash, user_id, created, seen, expires): RawSession,
) -> StoreResult<SessionRecord> {
    let t = |raw: &str| parse_time("session", &id_hash, raw);
    Ok(SessionRecord {
        created_at: t(&created)?,
        last_seen_at: t(&seen)?,
        expires_at: t(&expires)?,
        id_hash: id_hash.clone(),
        user_id,
    })
}

fn raw_token(r: &Row<'_>) -> rusqlite::Result<RawToken> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn token(
    (id, name, user_id, role, token_hash, created, expires): RawToken,
) -> StoreResult<ApiTokenRecord> {
    let t = |raw: &str| parse_time("api token", &id.to_string(), raw);
    Ok(ApiTokenRecord {
        created_at: t(&created)?,
        expires_at: t(&expires)?,
        id,
        name,
        user_id,
        role,
        token_hash,
    })
}

pub(super) fn count_users(conn: &Connection) -> StoreResult<u64> {
    conn.prepare_cached("SELECT COUNT(*) FROM users")
        .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
        .map(|n| u64::try_from(n).unwrap_or_default())
        .map_err(db("count_users"))
}

pub(super) fn insert_user(
    conn: &Connection,
    u: &NewUser,
    at: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
    conn.prepare_cached(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![u.name, u.role, u.password_hash, fmt_time(at)],
            |r| r.get(0),
        )
        .optional()
    })
    .map_err(db("insert_user"))
}

fn one_user(
    conn: &Connection,
    op: &'static str,
    filter: &str,
    key: &dyn rusqlite::ToSql,
) -> StoreResult<Option<UserRecord>> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {filter} = ?1"
        ))
        .and_then(|mut s| s.query_row([key], raw_user).optional())
        .map_err(db(op))?;
    raw.map(user).transpose()
}

pub(super) fn user_by_name(conn: &Connection, name: &str) -> StoreResult<Option<UserRecord>> {
    one_user(conn, "user_by_name", "name", &name)
}

pub(super) fn user_by_id(conn: &Connection, id: i64) -> StoreResult<Option<UserRecord>> {
    one_user(conn, "user_by_id", "id", &id)
}

pub(super) fn users(conn: &Connection) -> StoreResult<Vec<UserRecord>> {
    const OP: &str = "users";
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
        .map_err(db(OP))?;
    let rows = stmt.query_map([], raw_user).map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(user)).collect()
}

pub(super) fn insert_session(conn: &Connection, s: &SessionRecord) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            s.id_hash,
            s.user_id,
            fmt_time(s.created_at),
            fmt_time(s.last_seen_at),
            fmt_time(s.expires_at)
        ])
    })
    .map(drop)
    .map_err(db("insert_session"))
}

pub(super) fn session(conn: &Connection, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?1"
        ))
        .and_then(|mut s| s.query_row(params![id_hash], raw_session).optional())
        .map_err(db("session"))?;
    raw.map(session_row).transpose()
}

pub(super) fn touch_session(
    conn: &Connection,
    id_hash: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1")
        .and_then(|mut s| s.execute(params![id_hash, fmt_time(at)]))
        .map(drop)
        .map_err(db("touch_session"))
}

pub(super) fn delete_session(conn: &Connection, id_hash: &str) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")
        .and_then(|mut s| s.execute(params![id_hash]))
        .map(|n| n > 0)
        .map_err(db("delete_session"))
}

pub(super) fn delete_expired_sessions(
    conn: &Connection,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    conn.prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")
        .and_then(|mut s| s.execute(params![fmt_time(before)]))
        .map(|n| n as u64)
        .map_err(db("delete_expired_sessions"))
}

pub(super) fn insert_api_token(conn: &Connection, t: &NewApiToken) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO api_tokens (name, user_id, role, token_hash, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![
                t.name,
                t.user_id,
                t.role,
                t.token_hash,
                fmt_time(t.created_at),
                fmt_time(t.expires_at)
            ],
            |r| r.get(0),
        )
    })
    .map_err(db("insert_api_token"))
}

pub(super) fn api_token_by_hash(
    conn: &Connection,
    token_hash: &str,
) -> StoreResult<Option<ApiTokenRecord>> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1"
        ))
        .and_then(|mut s| s.query_row(params![token_hash], raw_token).optional())
        .map_err(db("api_token_by_hash"))?;
    raw.map(token).transpose()
}

pub(super) fn api_tokens(conn: &Connection) -> StoreResult<Vec<ApiTokenRecord>> {
    const OP: &str = "api_tokens";
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id DESC"
        ))
        .map_err(db(OP))?;
    let rows = stmt.query_map([], raw_token).map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(token)).collect()
}

pub(super) fn delete_api_token(conn: &Connection, id: i64) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM api_tokens WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id]))
        .map(|n| n > 0)
        .map_err(db("delete_api_token"))
}

pub(super) fn run_status_counts(conn: &Connection) -> StoreResult<Vec<(String, u64)>> {
    const OP: &str = "run_status_counts";
    let mut stmt = conn
        .prepare_cached("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
        .map_err(db(OP))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or_default(),
            ))
        })
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP))).collect()
}

// ---- user administration (the Admin API's users endpoints) ----

fn update_user(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<bool> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map(|n| n > 0)
        .map_err(db(op))
}

pub(super) fn set_user_role(conn: &Connection, id: i64, role: &str) -> StoreResult<bool> {
    update_user(
        conn,
        "set_user_role",
        "UPDATE users SET role = ?2 WHERE id = ?1",
        &[&id, &role],
    )
}

pub(super) fn set_user_password(conn: &Connection, id: i64, hash: &str) -> StoreResult<bool> {
    update_user(
        conn,
        "set_user_password",
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        &[&id, &hash],
    )
}

pub(super) fn set_user_disabled(
    conn: &Connection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> StoreResult<bool> {
    update_user(
        conn,
        "set_user_disabled",
        "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
        &[&id, &at.map(fmt_time)],
    )
}

pub(super) fn end_user_access(conn: &Connection, id: i64) -> StoreResult<u64> {
    const OP: &str = "end_user_access";
    let mut ended = 0;
    for sql in [
        "DELETE FROM sessions WHERE user_id = ?1",
        "DELETE FROM api_tokens WHERE user_id = ?1",
    ] {
        ended += conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params![id]))
            .map_err(db(OP))? as u64;
    }
    Ok(ended)
}

pub(super) fn delete_user(conn: &Connection, id: i64) -> StoreResult<bool> {
    end_user_access(conn, id)?;
    update_user(
        conn,
        "delete_user",
        "DELETE FROM users WHERE id = ?1",
        &[&id],
    )
}

pub(super) fn enabled_admin_ids(conn: &Connection) -> StoreResult<Vec<i64>> {
    const OP: &str = "enabled_admin_ids";
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id",
        )
        .map_err(db(OP))?;
    let rows = stmt.query_map([], |r| r.get(0)).map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP))).collect()
}
