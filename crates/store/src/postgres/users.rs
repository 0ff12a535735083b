//! The Admin API's users, sessions and API tokens (PostgreSQL), and the run counts its
//! metrics read. Passwords arrive as Argon2id PHC strings and sessions and tokens as hashes:
//! nothing here is a secret in clear.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use super::db;
use crate::port::StoreResult;
use crate::user_rows::{ApiTokenRecord, NewApiToken, NewUser, SessionRecord, UserRecord};

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, disabled_at";
const SESSION_COLUMNS: &str = "id_hash, user_id, created_at, last_seen_at, expires_at";
const TOKEN_COLUMNS: &str = "id, name, user_id, role, token_hash, created_at, expires_at";

fn user(r: &PgRow) -> Result<UserRecord, sqlx::Error> {
    Ok(UserRecord {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: r.try_get(2)?,
        password_hash: r.try_get(3)?,
        created_at: r.try_get(4)?,
        disabled_at: r.try_get(5)?,
    })
}

fn session_row(r: &PgRow) -> Result<SessionRecord, sqlx::Error> {
    Ok(SessionRecord {
        id_hash: r.try_get(0)?,
        user_id: r.try_get(1)?,
        created_at: r.try_get(2)?,
        last_seen_at: r.try_get(3)?,
        expires_at: r.try_get(4)?,
    })
}

fn token(r: &PgRow) -> Result<ApiTokenRecord, sqlx::Error> {
    Ok(ApiTokenRecord {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        user_id: r.try_get(2)?,
        role: r.try_get(3)?,
        token_hash: r.try_get(4)?,
        created_at: r.try_get(5)?,
        expires_at: r.try_get(6)?,
    })
}

pub(super) async fn count_users(c: &mut PgConnection) -> StoreResult<u64> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
        .fetch_one(c)
        .await
        .map(|n| u64::try_from(n).unwrap_or_default())
        .map_err(db("count_users"))
}

pub(super) async fn insert_user(
    c: &mut PgConnection,
    u: &NewUser,
    at: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING RETURNING id",
    )
    .bind(&u.name)
    .bind(&u.role)
    .bind(&u.password_hash)
    .bind(at)
    .fetch_optional(c)
    .await
    .map_err(db("insert_user"))
}

async fn one_user(
    c: &mut PgConnection,
    op: &'static str,
    sql: String,
    bind: impl FnOnce(
        sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> StoreResult<Option<UserRecord>> {
    let row = bind(sqlx::query(AssertSqlSafe(sql)))
        .fetch_optional(c)
        .await
        .map_err(db(op))?;
    row.map(|r| user(&r).map_err(db(op))).transpose()
}

pub(super) async fn user_by_name(
    c: &mut PgConnection,
    name: &str,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
    one_user(c, "user_by_name", sql, |q| q.bind(name.to_owned())).await
}

pub(super) async fn user_by_id(c: &mut PgConnection, id: i64) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    one_user(c, "user_by_id", sql, |q| q.bind(id)).await
}

pub(super) async fn users(c: &mut PgConnection) -> StoreResult<Vec<UserRecord>> {
    const OP: &str = "users";
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY name"
    )))
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter().map(|r| user(r).map_err(db(OP))).collect()
}

pub(super) async fn insert_session(c: &mut PgConnection, s: &SessionRecord) -> StoreResult<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
    )))
    .bind(&s.id_hash)
    .bind(s.user_id)
    .bind(s.created_at)
    .bind(s.last_seen_at)
    .bind(s.expires_at)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("insert_session"))
}

pub(super) async fn session(
    c: &mut PgConnection,
    id_hash: &str,
) -> StoreResult<Option<SessionRecord>> {
    const OP: &str = "session";
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1"
    )))
    .bind(id_hash)
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    row.map(|r| session_row(&r).map_err(db(OP))).transpose()
}

pub(super) async fn touch_session(
    c: &mut PgConnection,
    id_hash: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(id_hash)
        .bind(at)
        .execute(c)
        .await
        .map(drop)
        .map_err(db("touch_session"))
}

pub(super) async fn delete_session(c: &mut PgConnection, id_hash: &str) -> StoreResult<bool> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(c)
        .await
        .map(|d| d.rows_affected() > 0)
        .map_err(db("delete_session"))
}

pub(super) async fn delete_expired_sessions(
    c: &mut PgConnection,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(before)
        .execute(c)
        .await
        .map(|d| d.rows_affected())
        .map_err(db("delete_expired_sessions"))
}

pub(super) async fn insert_api_token(c: &mut PgConnection, t: &NewApiToken) -> StoreResult<i64> {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO api_tokens (name, user_id, role, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&t.name)
    .bind(t.user_id)
    .bind(&t.role)
    .bind(&t.token_hash)
    .bind(t.created_at)
    .bind(t.expires_at)
    .fetch_one(c)
    .await
    .map_err(db("insert_api_token"))
}

pub(super) async fn api_token_by_hash(
    c: &mut PgConnection,
    token_hash: &str,
) -> StoreResult<Option<ApiTokenRecord>> {
    const OP: &str = "api_token_by_hash";
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
    )))
    .bind(token_hash)
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    row.map(|r| token(&r).map_err(db(OP))).transpose()
}

pub(super) async fn api_tokens(c: &mut PgConnection) -> StoreResult<Vec<ApiTokenRecord>> {
    const OP: &str = "api_tokens";
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id DESC"
    )))
    .fetch_all(c)
    .await
    .map_err(db(OP))?;
    rows.iter().map(|r| token(r).map_err(db(OP))).collect()
}

pub(super) async fn delete_api_token(c: &mut PgConnection, id: i64) -> StoreResult<bool> {
    sqlx::query("DELETE FROM api_tokens WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|d| d.rows_affected() > 0)
        .map_err(db("delete_api_token"))
}

pub(super) async fn run_status_counts(c: &mut PgConnection) -> StoreResult<Vec<(String, u64)>> {
    const OP: &str = "run_status_counts";
    let rows = sqlx::query("SELECT status, COUNT(*) FROM runs GROUP BY status ORDER BY status")
        .fetch_all(c)
        .await
        .map_err(db(OP))?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(0).map_err(db(OP))?;
            let n: i64 = r.try_get(1).map_err(db(OP))?;
            Ok((status, u64::try_from(n).unwrap_or_default()))
        })
        .collect()
}

// ---- user administration (the Admin API's users endpoints) ----

pub(super) async fn set_user_role(c: &mut PgConnection, id: i64, role: &str) -> StoreResult<bool> {
    sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
        .bind(id)
        .bind(role)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(db("set_user_role"))
}

pub(super) async fn set_user_password(
    c: &mut PgConnection,
    id: i64,
    hash: &str,
) -> StoreResult<bool> {
    sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(db("set_user_password"))
}

pub(super) async fn set_user_disabled(
    c: &mut PgConnection,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> StoreResult<bool> {
    sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(db("set_user_disabled"))
}

pub(super) async fn end_user_access(c: &mut PgConnection, id: i64) -> StoreResult<u64> {
    const OP: &str = "end_user_access";
    let mut ended = 0;
    for sql in [
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM api_tokens WHERE user_id = $1",
    ] {
        ended += sqlx::query(sql)
            .bind(id)
            .execute(&mut *c)
            .await
            .map_err(db(OP))?
            .rows_affected();
    }
    Ok(ended)
}

pub(super) async fn delete_user(c: &mut PgConnection, id: i64) -> StoreResult<bool> {
    end_user_access(c, id).await?;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(db("delete_user"))
}

/// Locks the rows it reads (`FOR UPDATE`), so two transactions demoting the last two
/// administrators at once cannot both see the other one still enabled.
pub(super) async fn enabled_admin_ids(c: &mut PgConnection) -> StoreResult<Vec<i64>> {
    sqlx::query_scalar::<_, i64>(
        "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE",
    )
    .fetch_all(c)
    .await
    .map_err(db("enabled_admin_ids"))
}
