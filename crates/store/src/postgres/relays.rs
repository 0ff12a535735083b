//! Relay agents (PostgreSQL): enrollment tokens by hash, relays with their presence, and the
//! hub's per-relay outbox and inbox position.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::db;
use crate::error::StoreError;
use crate::port::StoreResult;
use crate::relay_rows::{
    EnrollmentTokenRecord, NewEnrollmentToken, NewRelay, RelayRecord, RelayStatus,
};

const RELAY_SELECT: &str = "SELECT id, name, public_key, status, created_at, host, agent_version, \
     connected_instance, connected_since, last_heartbeat_at, inbox_upto FROM relays";

fn relay(r: &PgRow) -> StoreResult<RelayRecord> {
    let read = || -> Result<RelayRecord, sqlx::Error> {
        let status: String = r.try_get(3)?;
        let id: String = r.try_get(0)?;
        let status = RelayStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("relay {id} has unknown status '{status}'").into())
        })?;
        Ok(RelayRecord {
            name: r.try_get(1)?,
            public_key: r.try_get(2)?,
            status,
            created_at: r.try_get(4)?,
            host: r.try_get(5)?,
            agent_version: r.try_get(6)?,
            connected_instance: r.try_get(7)?,
            connected_since: r.try_get(8)?,
            last_heartbeat_at: r.try_get(9)?,
            inbox_upto: u64::try_from(r.try_get::<i64, _>(10)?).unwrap_or_default(),
            id,
        })
    };
    read().map_err(db("reading a relay"))
}

fn name_taken(name: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => StoreError::NameTaken {
            what: "relay",
            name: name.to_owned(),
        },
        other => db("saving a relay")(other),
    }
}

async fn name_is_free(c: &mut PgConnection, name: &str, except: &str) -> StoreResult<bool> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM relays WHERE name = $1 AND id <> $2")
        .bind(name)
        .bind(except)
        .fetch_one(c)
        .await
        .map(|n| n == 0)
        .map_err(db("checking a relay name"))
}

pub(super) async fn insert_enrollment_token(
    c: &mut PgConnection,
    t: &NewEnrollmentToken,
) -> StoreResult<i64> {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO relay_enrollment_tokens (name, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&t.name)
    .bind(&t.token_hash)
    .bind(&t.created_by)
    .bind(t.created_at)
    .bind(t.expires_at)
    .fetch_one(c)
    .await
    .map_err(db("insert_enrollment_token"))
}

pub(super) async fn enrollment_tokens(
    c: &mut PgConnection,
) -> StoreResult<Vec<EnrollmentTokenRecord>> {
    let rows = sqlx::query(
        "SELECT id, name, created_by, created_at, expires_at, used_at, relay_id
         FROM relay_enrollment_tokens ORDER BY id DESC",
    )
    .fetch_all(c)
    .await
    .map_err(db("enrollment_tokens"))?;
    rows.iter()
        .map(|r| {
            Ok(EnrollmentTokenRecord {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                created_by: r.try_get(2)?,
                created_at: r.try_get(3)?,
                expires_at: r.try_get(4)?,
                used_at: r.try_get(5)?,
                relay_id: r.try_get(6)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db("enrollment_tokens"))
}

pub(super) async fn enroll_relay(
    c: &mut PgConnection,
    token_hash: &str,
    new: &NewRelay,
    at: DateTime<Utc>,
) -> StoreResult<Option<RelayRecord>> {
    // FOR UPDATE: two relays presenting the same token at once enroll one of them
    let name: Option<String> = sqlx::query_scalar(
        "SELECT name FROM relay_enrollment_tokens
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 FOR UPDATE",
    )
    .bind(token_hash)
    .bind(at)
    .fetch_optional(&mut *c)
    .await
    .map_err(db("enroll_relay"))?;
    let Some(name) = name else {
        return Ok(None);
    };
    if !name_is_free(c, &name, &new.id).await? {
        return Err(StoreError::NameTaken {
            what: "relay",
            name,
        });
    }
    sqlx::query(
        "INSERT INTO relays (id, name, public_key, status, created_at) VALUES ($1, $2, $3, 'active', $4)",
    )
    .bind(&new.id)
    .bind(&name)
    .bind(&new.public_key)
    .bind(at)
    .execute(&mut *c)
    .await
    .map_err(name_taken(&name))?;
    sqlx::query(
        "UPDATE relay_enrollment_tokens SET used_at = $2, relay_id = $3 WHERE token_hash = $1",
    )
    .bind(token_hash)
    .bind(at)
    .bind(&new.id)
    .execute(&mut *c)
    .await
    .map_err(db("enroll_relay"))?;
    relay_by_id(c, &new.id).await
}

pub(super) async fn relay_by_id(
    c: &mut PgConnection,
    id: &str,
) -> StoreResult<Option<RelayRecord>> {
    let sql = format!("{RELAY_SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(db("relay"))?;
    row.as_ref().map(relay).transpose()
}

pub(super) async fn relays(c: &mut PgConnection) -> StoreResult<Vec<RelayRecord>> {
    let sql = format!("{RELAY_SELECT} ORDER BY name");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(c)
        .await
        .map_err(db("relays"))?;
    rows.iter().map(relay).collect()
}

pub(super) async fn set_relay_status(
    c: &mut PgConnection,
    id: &str,
    status: RelayStatus,
) -> StoreResult<bool> {
    sqlx::query("UPDATE relays SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(db("set_relay_status"))
}

pub(super) async fn rename_relay(c: &mut PgConnection, id: &str, name: &str) -> StoreResult<bool> {
    if !name_is_free(c, name, id).await? {
        return Err(StoreError::NameTaken {
            what: "relay",
            name: name.to_owned(),
        });
    }
    sqlx::query("UPDATE relays SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
        .map_err(name_taken(name))
}

pub(super) async fn relay_connected(
    c: &mut PgConnection,
    id: &str,
    instance: &str,
    host: &str,
    version: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE relays SET connected_instance = $2, host = $3, agent_version = $4,
                connected_since = $5, last_heartbeat_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(instance)
    .bind(host)
    .bind(version)
    .bind(at)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("relay_connected"))
}

pub(super) async fn relay_heartbeat(
    c: &mut PgConnection,
    id: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query("UPDATE relays SET last_heartbeat_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(c)
        .await
        .map(drop)
        .map_err(db("relay_heartbeat"))
}

pub(super) async fn relay_disconnected(
    c: &mut PgConnection,
    id: &str,
    instance: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE relays SET connected_instance = NULL, connected_since = NULL
         WHERE id = $1 AND connected_instance = $2",
    )
    .bind(id)
    .bind(instance)
    .execute(c)
    .await
    .map(drop)
    .map_err(db("relay_disconnected"))
}

pub(super) async fn relay_inbox_applied(
    c: &mut PgConnection,
    id: &str,
    seq: u64,
) -> StoreResult<()> {
    sqlx::query("UPDATE relays SET inbox_upto = GREATEST(inbox_upto, $2) WHERE id = $1")
        .bind(id)
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .execute(c)
        .await
        .map(drop)
        .map_err(db("relay_inbox_applied"))
}

pub(super) async fn push_relay_outbox(
    c: &mut PgConnection,
    id: &str,
    frame: &str,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let seq = sqlx::query_scalar::<_, i64>(
        "UPDATE relays SET outbox_next = outbox_next + 1 WHERE id = $1 RETURNING outbox_next - 1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await
    .map_err(db("push_relay_outbox"))?
    .ok_or_else(|| StoreError::Database {
        operation: "push_relay_outbox",
        message: format!("no relay with id {id}"),
    })?;
    sqlx::query(
        "INSERT INTO relay_outbox (relay_id, seq, frame, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(seq)
    .bind(frame)
    .bind(at)
    .execute(c)
    .await
    .map_err(db("push_relay_outbox"))?;
    Ok(u64::try_from(seq).unwrap_or_default())
}

pub(super) async fn relay_outbox(
    c: &mut PgConnection,
    id: &str,
) -> StoreResult<Vec<(u64, String)>> {
    let rows = sqlx::query("SELECT seq, frame FROM relay_outbox WHERE relay_id = $1 ORDER BY seq")
        .bind(id)
        .fetch_all(c)
        .await
        .map_err(db("relay_outbox"))?;
    rows.iter()
        .map(|r| {
            Ok((
                u64::try_from(r.try_get::<i64, _>(0)?).unwrap_or_default(),
                r.try_get(1)?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db("relay_outbox"))
}

pub(super) async fn ack_relay_outbox(
    c: &mut PgConnection,
    id: &str,
    upto: u64,
) -> StoreResult<u64> {
    sqlx::query("DELETE FROM relay_outbox WHERE relay_id = $1 AND seq <= $2")
        .bind(id)
        .bind(i64::try_from(upto).unwrap_or(i64::MAX))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        .map_err(db("ack_relay_outbox"))
}
