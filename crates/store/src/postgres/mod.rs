//! The PostgreSQL backend.
//!
//! The port is synchronous and sqlx is async, so the backend keeps the tokio runtime
//! [`Handle`] it was opened on and runs each call with `handle.block_on`: callers are on a
//! blocking thread (`spawn_blocking`, [`crate::Store::run_blocking`]), never on an async task.
//! A transaction ([`tx::PgTx`]) owns a pooled connection (at most [`MAX_CONNECTIONS`]) with
//! an open `sqlx::Transaction`; dropping it without commit rolls back when the connection
//! returns to the pool. TLS follows the URL's `sslmode`. Errors name the URL only in its
//! redacted form, and a driver message is scrubbed of the password before it is shown.
//!
//! JSON columns are JSONB; values are bound as text and cast (`$1::jsonb`) and read back as
//! `::text`, so both backends share the row decoding in [`crate::codec`]. The SQL lives in one
//! module per area, like the SQLite backend.

mod exports;
mod leases;
mod mesh;
mod records;
mod relays;
mod runs;
mod secrets;
mod space;
mod staged;
mod tx;
mod users;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::str::FromStr;
use std::time::Duration;
use tokio::runtime::Handle;

use crate::error::StoreError;
use crate::migrations;
use crate::port::{Backend, StoreResult, Tx};
use crate::url::redact_url;

/// Pool size: the engine, the API and a few background tasks.
const MAX_CONNECTIONS: u32 = 8;
/// Lock id serialising concurrent `migrate` runs.
const MIGRATION_LOCK: i64 = 0x1de4_717e;
/// Rows per statement in the baseline bulk insert.
const BASELINE_CHUNK: usize = 10_000;

/// The PostgreSQL backend.
pub(crate) struct PostgresBackend {
    pool: PgPool,
    handle: Handle,
}

/// Maps a driver error to the port's error. sqlx shows a server error's message, not its
/// detail (where PostgreSQL would echo key values), and never shows bound parameters.
pub(super) fn db(operation: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Database {
        operation,
        message: e.to_string(),
    }
}

/// Removes the URL's password (user-info or `password=` parameter) from a message.
fn scrub(message: String, raw_url: &str) -> String {
    let mut secrets = Vec::new();
    if let Some((_, rest)) = raw_url.split_once("://") {
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            secrets.extend(userinfo.split_once(':').map(|(_, p)| p.to_owned()));
        }
        if let Some((_, query)) = rest.split_once('?') {
            secrets.extend(
                query
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("password="))
                    .map(str::to_owned),
            );
        }
    }
    secrets
        .into_iter()
        .filter(|s| !s.is_empty())
        .fold(message, |m, s| m.replace(&s, "***"))
}

impl PostgresBackend {
    /// Connects a pool. Must run inside a tokio runtime, on a blocking thread.
    pub(crate) fn open(raw: &str) -> StoreResult<Self> {
        let connect_error = |message: String| StoreError::Connect {
            url: redact_url(raw),
            message: scrub(message, raw),
        };
        let handle = Handle::try_current().map_err(|_| {
            connect_error(
                "the PostgreSQL backend must be opened inside a tokio runtime (from a blocking thread)".into(),
            )
        })?;
        let options = PgConnectOptions::from_str(raw).map_err(|e| connect_error(e.to_string()))?;
        let pool = handle
            .block_on(
                PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(Duration::from_secs(15))
                    .connect_with(options),
            )
            .map_err(|e| connect_error(e.to_string()))?;
        Ok(Self { pool, handle })
    }
}

/// The highest applied version, 0 for an empty database.
async fn found_version(c: &mut PgConnection) -> StoreResult<i64> {
    const OP: &str = "reading the schema version";
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
        .fetch_one(&mut *c)
        .await
        .map_err(db(OP))?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations")
        .fetch_one(&mut *c)
        .await
        .map_err(db(OP))
}

async fn migrate(pool: &PgPool, apply: bool) -> StoreResult<()> {
    const OP: &str = "migrate";
    let mut conn = pool.acquire().await.map_err(db(OP))?;
    // Read-only check first: a newer (or, without apply, older) schema changes nothing.
    if migrations::pending(found_version(&mut conn).await?, apply)?.is_empty() {
        return Ok(());
    }
    let mut tx = conn.begin().await.map_err(db(OP))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db(OP))?;
    // Another process may have migrated while we waited for the lock.
    let todo = migrations::pending(found_version(&mut tx).await?, apply)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await
    .map_err(db(OP))?;
    for m in todo {
        sqlx::raw_sql(m.postgres)
            .execute(&mut *tx)
            .await
            .map_err(db(OP))?;
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(db(OP))?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "applied PostgreSQL migration"
        );
    }
    tx.commit().await.map_err(db(OP))
}

async fn baseline(
    pool: &PgPool,
    rows: &mut dyn Iterator<Item = (String, String)>,
) -> StoreResult<u64> {
    const OP: &str = "baseline_bulk_insert";
    let mut tx = pool.begin().await.map_err(db(OP))?;
    let mut count = 0u64;
    loop {
        let (a, b): (Vec<String>, Vec<String>) = (&mut *rows).take(BASELINE_CHUNK).unzip();
        if a.is_empty() {
            break;
        }
        let done =
            sqlx::query("INSERT INTO baseline (a, b) SELECT * FROM UNNEST($1::text[], $2::text[])")
                .bind(a)
                .bind(b)
                .execute(&mut *tx)
                .await
                .map_err(db(OP))?;
        count += done.rows_affected();
    }
    tx.commit().await.map_err(db(OP))?;
    Ok(count)
}

impl Backend for PostgresBackend {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn migrate(&self, apply: bool) -> StoreResult<()> {
        self.handle.block_on(migrate(&self.pool, apply))
    }

    fn schema_version(&self) -> StoreResult<i64> {
        self.handle.block_on(async {
            let mut conn = self.pool.acquire().await.map_err(db("schema_version"))?;
            found_version(&mut conn).await
        })
    }

    fn begin(&self) -> StoreResult<Box<dyn Tx + '_>> {
        let tx = self
            .handle
            .block_on(self.pool.begin())
            .map_err(db("begin"))?;
        Ok(Box::new(tx::PgTx::new(self.handle.clone(), tx)))
    }

    fn begin_read(&self) -> StoreResult<Box<dyn Tx + '_>> {
        let tx = self
            .handle
            .block_on(self.pool.begin_with("BEGIN READ ONLY"))
            .map_err(db("begin a read"))?;
        Ok(Box::new(tx::PgTx::new(self.handle.clone(), tx)))
    }

    fn baseline_bulk_insert(
        &self,
        rows: &mut dyn Iterator<Item = (String, String)>,
    ) -> StoreResult<u64> {
        self.handle.block_on(baseline(&self.pool, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn scrub_hides_both_password_spellings() {
        let url = "postgres://svc:S3cret@db:5432/im?sslmode=require&password=Other1";
        let shown = scrub("bad S3cret and Other1".into(), url);
        assert_eq!(shown, "bad *** and ***");
    }
}
