//! # identitymesh-testkit
//!
//! What tests need to run IdentityMesh for real without ceremony: a temporary store on
//! SQLite — or on PostgreSQL when `IDENTITYMESH_TEST_POSTGRES_URL` names a server (a fresh
//! database per test) — a manual clock, and an engine over a configuration written into a
//! temporary directory. It is a dev-dependency only; nothing in the product depends on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_domain::config::compile;
use identitymesh_engine::{Clock, Engine};
use identitymesh_store::{DatabaseUrl, Store};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "IDENTITYMESH_TEST_POSTGRES_URL";

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in a temporary directory.
    Sqlite,
    /// PostgreSQL from `IDENTITYMESH_TEST_POSTGRES_URL`.
    Postgres,
}

/// The backends to run a test on: SQLite always; PostgreSQL when configured. In CI a
/// missing PostgreSQL is a failure, not a skip.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if std::env::var(POSTGRES_ENV).is_ok() {
        out.push(Backend::Postgres);
    } else if std::env::var("CI").is_ok() {
        panic!(
            "CI is set but {POSTGRES_ENV} is not: start PostgreSQL with `eval \"$(.ci/postgres.sh start)\"`"
        );
    }
    out
}

/// A manual clock: time moves only when the test says so.
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock at 2026-01-01T09:00:00Z.
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
        )))
    }
    /// Moves time forward.
    pub fn advance(&self, seconds: i64) {
        let mut t = self.0.lock().unwrap();
        *t += chrono::Duration::seconds(seconds);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// A temporary directory, a store in it (or in a fresh PostgreSQL database), and helpers.
pub struct TestEnv {
    /// The directory for configuration and files.
    pub dir: tempfile::TempDir,
    /// The store.
    pub store: Store,
    /// The database URL.
    pub url: String,
    /// The clock engines built here use.
    pub clock: ManualClock,
    pg_admin: Option<(String, String)>,
}

#[allow(clippy::disallowed_methods)] // a unique name, not a time
fn random_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}_{nanos}", std::process::id())
}

impl TestEnv {
    /// A fresh environment on `backend`. Call from a tokio runtime (multi-thread).
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_admin) = match backend {
            Backend::Sqlite => (
                format!("sqlite:{}", dir.path().join("identitymesh.db").display()),
                None,
            ),
            Backend::Postgres => {
                let admin = std::env::var(POSTGRES_ENV).unwrap();
                let db = format!("im_test_{}", random_suffix());
                let pool = sqlx::PgPool::connect(&admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                (format!("{base}/{db}"), Some((admin, db)))
            }
        };
        let parsed = DatabaseUrl::parse(&url).unwrap();
        let store = tokio::task::spawn_blocking(move || Store::open(&parsed, true))
            .await
            .unwrap()
            .unwrap();
        Self {
            dir,
            store,
            url,
            clock: ManualClock::new(),
            pg_admin,
        }
    }

    /// The directory path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file into the directory and returns its path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        path
    }

    /// An engine over this store with the configuration `toml` (paths relative to the dir).
    pub fn engine(&self, toml: &str) -> Engine {
        let config = compile(toml, KNOWN_KINDS)
            .unwrap_or_else(|e| panic!("test configuration does not compile:\n{e}"));
        Engine::new(
            self.store.clone(),
            config,
            self.dir.path().to_path_buf(),
            Arc::new(self.clock.clone()),
            "test-engine".into(),
        )
    }

    /// Drops a PostgreSQL test database (SQLite needs nothing).
    pub async fn cleanup(self) {
        let Some((admin, db)) = self.pg_admin.clone() else {
            return;
        };
        drop(self.store);
        if let Ok(pool) = sqlx::PgPool::connect(&admin).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
            )))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    }
}
