//! Relay agents (SQLite): enrollment tokens by hash, relays with their presence, and the
//! hub's per-relay outbox and inbox position.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{fmt_time, parse_time};
use crate::error::StoreError;
use crate::port::StoreResult;
use crate::relay_rows::{
    EnrollmentTokenRecord, NewEnrollmentToken, NewRelay, RelayRecord, RelayStatus,
};

const RELAY_COLUMNS: &str = "id, name, public_key, status, created_at, host, agent_version, \
     connected_instance, connected_since, last_heartbeat_at, inbox_upto";

fn time(id: &str, raw: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    raw.map(|r| parse_time("relay", id, &r)).transpose()
}

/// Reads a relay row: the driver's part, then the checked conversion.
fn relay_row(r: &Row<'_>) -> rusqlite::Result<RawRelay> {
    Ok(RawRelay {
        id: r.get(0)?,
        name: r.get(1)?,
        public_key: r.get(2)?,
        status: r.get(3)?,
        created_at: r.get(4)?,
        host: r.get(5)?,
        agent_version: r.get(6)?,
        connected_instance: r.get(7)?,
        connected_since: r.get(8)?,
        last_heartbeat_at: r.get(9)?,
        inbox_upto: r.get(10)?,
    })
}

struct RawRelay {
    id: String,
    name: String,
    public_key: String,
    status: String,
    created_at: String,
    host: Option<String>,
    agent_version: Option<String>,
    connected_instance: Option<String>,
    connected_since: Option<String>,
    last_heartbeat_at: Option<String>,
    inbox_upto: i64,
}

fn relay(raw: RawRelay) -> StoreResult<RelayRecord> {
    let status = RelayStatus::parse(&raw.status).ok_or_else(|| StoreError::Corrupt {
        what: "relay",
        id: raw.id.clone(),
        message: format!("unknown status '{}'", raw.status),
    })?;
    Ok(RelayRecord {
        created_at: parse_time("relay", &raw.id, &raw.created_at)?,
        connected_since: time(&raw.id, raw.connected_since)?,
        last_heartbeat_at: time(&raw.id, raw.last_heartbeat_at)?,
        inbox_upto: u64::try_from(raw.inbox_upto).unwrap_or_default(),
        status,
        name: raw.name,
        public_key: raw.public_key,
        host: raw.host,
        agent_version: raw.agent_version,
        connected_instance: raw.connected_instance,
        id: raw.id,
    })
}

fn name_taken(name: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::NameTaken {
                what: "relay",
                name: name.to_owned(),
            }
        }
        other => db("saving a relay")(other),
    }
}

fn name_is_free(conn: &Connection, name: &str, except: &str) -> StoreResult<bool> {
    conn.prepare_cached("SELECT COUNT(*) FROM relays WHERE name = ?1 AND id <> ?2")
        .and_then(|mut s| s.query_row(params![name, except], |r| r.get::<_, i64>(0)))
        .map(|n| n == 0)
        .map_err(db("checking a relay name"))
}

pub(super) fn insert_enrollment_token(
    conn: &Connection,
    t: &NewEnrollmentToken,
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO relay_enrollment_tokens (name, token_hash, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.name,
            t.token_hash,
            t.created_by,
            fmt_time(t.created_at),
            fmt_time(t.expires_at)
        ])
    })
    .map_err(db("insert_enrollment_token"))?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn enrollment_tokens(conn: &Connection) -> StoreResult<Vec<EnrollmentTokenRecord>> {
    type Raw = (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let raws: Vec<Raw> = conn
        .prepare_cached(
            "SELECT id, name, created_by, created_at, expires_at, used_at, relay_id
             FROM relay_enrollment_tokens ORDER BY id DESC",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect()
        })
        .map_err(db("enrollment_tokens"))?;
    raws.into_iter()
        .map(|(id, name, created_by, created, expires, used, relay_id)| {
            let t = |raw: &str| parse_time("enrollment token", &id.to_string(), raw);
            Ok(EnrollmentTokenRecord {
                created_at: t(&created)?,
                expires_at: t(&expires)?,
                used_at: used.as_deref().map(t).transpose()?,
                id,
                name,
                created_by,
                relay_id,
            })
        })
        .collect()
}

pub(super) fn enroll_relay(
    conn: &Connection,
    token_hash: &str,
    new: &NewRelay,
    at: DateTime<Utc>,
) -> StoreResult<Option<RelayRecord>> {
    let name: Option<String> = conn
        .prepare_cached(
            "SELECT name FROM relay_enrollment_tokens
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        )
        .and_then(|mut s| s.query_row(params![token_hash, fmt_time(at)], |r| r.get(0)))
        .optional()
        .map_err(db("enroll_relay"))?;
    let Some(name) = name else {
        return Ok(None);
    };
    if !name_is_free(conn, &name, &new.id)? {
        return Err(StoreError::NameTaken {
            what: "relay",
            name,
        });
    }
    conn.prepare_cached(
        "INSERT INTO relays (id, name, public_key, status, created_at) VALUES (?1, ?2, ?3, 'active', ?4)",
    )
    .and_then(|mut s| s.execute(params![new.id, name, new.public_key, fmt_time(at)]))
    .map_err(name_taken(&name))?;
    conn.prepare_cached(
        "UPDATE relay_enrollment_tokens SET used_at = ?2, relay_id = ?3 WHERE token_hash = ?1",
    )
    .and_then(|mut s| s.execute(params![token_hash, fmt_time(at), new.id]))
    .map_err(db("enroll_relay"))?;
    relay_by_id(conn, &new.id)
}

pub(super) fn relay_by_id(conn: &Connection, id: &str) -> StoreResult<Option<RelayRecord>> {
    conn.prepare_cached(&format!("SELECT {RELAY_COLUMNS} FROM relays WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id], relay_row).optional())
        .map_err(db("relay"))?
        .map(relay)
        .transpose()
}

pub(super) fn relays(conn: &Connection) -> StoreResult<Vec<RelayRecord>> {
    let raws: Vec<RawRelay> = conn
        .prepare_cached(&format!("SELECT {RELAY_COLUMNS} FROM relays ORDER BY name"))
        .and_then(|mut s| s.query_map([], relay_row)?.collect())
        .map_err(db("relays"))?;
    raws.into_iter().map(relay).collect()
}

pub(super) fn set_relay_status(
    conn: &Connection,
    id: &str,
    status: RelayStatus,
) -> StoreResult<bool> {
    conn.prepare_cached("UPDATE relays SET status = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, status.as_str()]))
        .map(|n| n > 0)
        .map_err(db("set_relay_status"))
}

pub(super) fn rename_relay(conn: &Connection, id: &str, name: &str) -> StoreResult<bool> {
    conn.prepare_cached("UPDATE relays SET name = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, name]))
        .map(|n| n > 0)
        .map_err(name_taken(name))
}

pub(super) fn relay_connected(
    conn: &Connection,
    id: &str,
    instance: &str,
    host: &str,
    version: &str,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE relays SET connected_instance = ?2, host = ?3, agent_version = ?4,
                connected_since = ?5, last_heartbeat_at = ?5 WHERE id = ?1",
    )
    .and_then(|mut s| s.execute(params![id, instance, host, version, fmt_time(at)]))
    .map(drop)
    .map_err(db("relay_connected"))
}

pub(super) fn relay_heartbeat(conn: &Connection, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    conn.prepare_cached("UPDATE relays SET last_heartbeat_at = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, fmt_time(at)]))
        .map(drop)
        .map_err(db("relay_heartbeat"))
}

pub(super) fn relay_disconnected(conn: &Connection, id: &str, instance: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE relays SET connected_instance = NULL, connected_since = NULL
         WHERE id = ?1 AND connected_instance = ?2",
    )
    .and_then(|mut s| s.execute(params![id, instance]))
    .map(drop)
    .map_err(db("relay_disconnected"))
}

pub(super) fn relay_inbox_applied(conn: &Connection, id: &str, seq: u64) -> StoreResult<()> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    conn.prepare_cached("UPDATE relays SET inbox_upto = MAX(inbox_upto, ?2) WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, seq]))
        .map(drop)
        .map_err(db("relay_inbox_applied"))
}

pub(super) fn push_relay_outbox(
    conn: &Connection,
    id: &str,
    frame: &str,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let seq: i64 = conn
        .prepare_cached(
            "UPDATE relays SET outbox_next = outbox_next + 1 WHERE id = ?1 RETURNING outbox_next - 1",
        )
        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
        .optional()
        .map_err(db("push_relay_outbox"))?
        .ok_or_else(|| StoreError::Database {
            operation: "push_relay_outbox",
            message: format!("no relay with id {id}"),
        })?;
    conn.prepare_cached(
        "INSERT INTO relay_outbox (relay_id, seq, frame, created_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![id, seq, frame, fmt_time(at)]))
    .map_err(db("push_relay_outbox"))?;
    Ok(u64::try_from(seq).unwrap_or_default())
}

pub(super) fn relay_outbox(conn: &Connection, id: &str) -> StoreResult<Vec<(u64, String)>> {
    conn.prepare_cached("SELECT seq, frame FROM relay_outbox WHERE relay_id = ?1 ORDER BY seq")
        .and_then(|mut s| {
            s.query_map([id], |r| {
                Ok((
                    u64::try_from(r.get::<_, i64>(0)?).unwrap_or_default(),
                    r.get(1)?,
                ))
            })?
            .collect()
        })
        .map_err(db("relay_outbox"))
}

pub(super) fn ack_relay_outbox(conn: &Connection, id: &str, upto: u64) -> StoreResult<u64> {
    let upto = i64::try_from(upto).unwrap_or(i64::MAX);
    conn.prepare_cached("DELETE FROM relay_outbox WHERE relay_id = ?1 AND seq <= ?2")
        .and_then(|mut s| s.execute(params![id, upto]))
        .map(|n| n as u64)
        .map_err(db("ack_relay_outbox"))
}
