//! The embedded SQLite backend.
//!
//! One write connection behind a [`Mutex`]: SQLite allows one writer at a time anyway, and a
//! single connection lets every statement stay prepared (`prepare_cached`) across calls, which
//! is what keeps a port call at a few microseconds on the sync hot path. A transaction
//! ([`tx::SqliteTx`]) holds the lock for its whole life and starts with `BEGIN IMMEDIATE`, so
//! it never fails half-way for lack of the write lock; dropping it without commit rolls back.
//! A second `begin` on a thread that already holds a transaction is an error, not a deadlock.
//! The file runs in WAL mode with `synchronous=NORMAL` (durable at checkpoints, never
//! corrupt), foreign keys on and a five-second busy timeout for other processes (the
//! `migrate` command, a backup) touching the same file.
//!
//! The SQL lives in one module per area: [`runs`], [`staged`], [`mesh`], [`exports`],
//! [`records`] (watermarks, audit, configuration, simulations) and [`leases`] (leases and run
//! requests).

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

use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use crate::error::StoreError;
use crate::migrations;
use crate::port::{Backend, StoreResult, Tx};

/// Statements kept prepared; comfortably more than the backend has.
const STATEMENT_CACHE: usize = 256;

/// The SQLite backend.
pub(crate) struct SqliteBackend {
    /// The one connection; whoever holds the lock owns the (single) open transaction.
    conn: Mutex<Connection>,
    /// The thread holding an open transaction, so that a second `begin` on the same thread
    /// is an error instead of a deadlock.
    owner: Mutex<Option<ThreadId>>,
    /// Read-only connections for [`Backend::begin_read`]: in WAL mode a reader sees the last
    /// committed state and never waits for the writer, so the Admin API's pages stay fast
    /// while a sync holds the write connection.
    readers: Vec<Reader>,
}

/// One read-only connection and its (unused) owner record.
struct Reader {
    conn: Mutex<Connection>,
    owner: Mutex<Option<ThreadId>>,
}

/// How many read-only connections a backend keeps.
const READERS: usize = 4;

/// Maps a driver error to the port's error. rusqlite's messages name tables and columns,
/// never bound values.
pub(super) fn db(operation: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Database {
        operation,
        message: e.to_string(),
    }
}

impl SqliteBackend {
    /// Opens (creating if needed) the database file and its parent directory.
    pub(crate) fn open(path: &Path) -> StoreResult<Self> {
        let connect_error = |message: String| StoreError::Connect {
            url: format!("sqlite:{}", path.display()),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| connect_error(format!("cannot create {}: {e}", parent.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| connect_error(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| conn.pragma_update(None, "foreign_keys", "ON"))
            // a larger page cache keeps the hot indexes of a million-object sync in memory
            .and_then(|()| conn.pragma_update(None, "cache_size", -65_536))
            .and_then(|()| conn.pragma_update(None, "temp_store", "MEMORY"))
            // checkpoint every ~40 MB of WAL instead of 4 MB: a hot index page rewritten by many
            // batches reaches the database file once per checkpoint, not once per batch
            .and_then(|()| conn.pragma_update(None, "wal_autocheckpoint", 10_000))
            .and_then(|()| conn.busy_timeout(std::time::Duration::from_secs(5)))
            .map_err(|e| connect_error(e.to_string()))?;
        // Query planner stability: plans never depend on bound values. Without it SQLite marked
        // some hot statements (the join lookup in `mesh_ids_by_key` among them) to be
        // re-prepared whenever a parameter changed, which was a re-parse and re-plan on every
        // call (about a tenth of a full sync's CPU time). No query here relies on a bound value
        // to pick an index: the partial indexes' conditions are literals or `IS NOT NULL`.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map_err(|e| connect_error(e.to_string()))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let readers = (0..READERS)
            .map(|_| open_reader(path).map_err(|e| connect_error(e.to_string())))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Self {
            conn: Mutex::new(conn),
            owner: Mutex::new(None),
            readers,
        })
    }

    /// A free reader if there is one, else the reader this thread's id hashes to.
    fn reader(&self) -> (MutexGuard<'_, Connection>, &Mutex<Option<ThreadId>>) {
        for reader in &self.readers {
            if let Ok(guard) = reader.conn.try_lock() {
                return (guard, &reader.owner);
            }
        }
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&std::thread::current().id(), &mut hasher);
        let pick = std::hash::Hasher::finish(&hasher) as usize % self.readers.len();
        let reader = &self.readers[pick];
        let guard = reader.conn.lock().unwrap_or_else(PoisonError::into_inner);
        (guard, &reader.owner)
    }

    /// Takes the connection. A panic while a transaction was open poisons the lock; the
    /// connection is still sound, so take it back and roll the abandoned work back.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        let guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if !guard.is_autocommit()
            && let Err(e) = guard.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "rolling back an abandoned SQLite transaction failed");
        }
        guard
    }
}

/// Opens a read-only connection to the (already created) database file.
fn open_reader(path: &Path) -> rusqlite::Result<Reader> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(Reader {
        conn: Mutex::new(conn),
        owner: Mutex::new(None),
    })
}

/// The highest applied version, 0 for an empty database.
fn found_version(conn: &Connection) -> StoreResult<i64> {
    const OP: &str = "reading the schema version";
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db(OP))?;
    if exists.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
    .map_err(db(OP))
}

impl Backend for SqliteBackend {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn migrate(&self, apply: bool) -> StoreResult<()> {
        const OP: &str = "migrate";
        let conn = self.lock();
        // Read-only check first: a newer (or, without apply, older) schema changes nothing.
        if migrations::pending(found_version(&conn)?, apply)?.is_empty() {
            return Ok(());
        }
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db(OP))?;
        let result = (|| {
            // Another process may have migrated between the check and the lock.
            let todo = migrations::pending(found_version(&conn)?, apply)?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .map_err(db(OP))?;
            for m in todo {
                conn.execute_batch(m.sqlite).map_err(db(OP))?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)
                     VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    params![m.version, m.name],
                )
                .map_err(db(OP))?;
                tracing::info!(
                    version = m.version,
                    name = m.name,
                    "applied SQLite migration"
                );
            }
            Ok(())
        })();
        match result {
            Ok(()) => conn.execute_batch("COMMIT").map_err(db(OP)),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn schema_version(&self) -> StoreResult<i64> {
        found_version(&self.lock())
    }

    fn begin(&self) -> StoreResult<Box<dyn Tx + '_>> {
        let me = std::thread::current().id();
        if *self.owner.lock().unwrap_or_else(PoisonError::into_inner) == Some(me) {
            return Err(StoreError::Database {
                operation: "begin",
                message:
                    "this thread already has an open SQLite transaction; commit or drop it first"
                        .into(),
            });
        }
        let conn = self.lock();
        *self.owner.lock().unwrap_or_else(PoisonError::into_inner) = Some(me);
        Ok(Box::new(tx::SqliteTx::begin(conn, &self.owner)?))
    }

    fn begin_read(&self) -> StoreResult<Box<dyn Tx + '_>> {
        let (conn, owner) = self.reader();
        if !conn.is_autocommit() {
            // a reader abandoned mid-transaction by a panic
            let _ = conn.execute_batch("ROLLBACK");
        }
        Ok(Box::new(tx::SqliteTx::begin_read(conn, owner)?))
    }

    fn baseline_bulk_insert(
        &self,
        rows: &mut dyn Iterator<Item = (String, String)>,
    ) -> StoreResult<u64> {
        const OP: &str = "baseline_bulk_insert";
        let conn = self.lock();
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db(OP))?;
        let result = (|| {
            let mut stmt = conn
                .prepare_cached("INSERT INTO baseline (a, b) VALUES (?1, ?2)")
                .map_err(db(OP))?;
            let mut count = 0u64;
            for (a, b) in rows {
                stmt.execute(params![a, b]).map_err(db(OP))?;
                count += 1;
            }
            Ok(count)
        })();
        match result {
            Ok(count) => conn.execute_batch("COMMIT").map_err(db(OP)).map(|()| count),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}
