//! Runs a story against a fresh database of each backend, on a blocking thread of a
//! multi-thread tokio runtime (the PostgreSQL backend bridges to its async driver with the
//! runtime handle, which needs exactly that context).
//!
//! SQLite: a file in a temporary directory (in a sub-directory that does not exist yet, to
//! prove the backend creates it). PostgreSQL: when `IDENTITYMESH_TEST_POSTGRES_URL` is set,
//! a fresh `im_test_*` database created through that URL and dropped afterwards; when it is
//! not set the PostgreSQL half is skipped, except under CI, where it fails.

use identitymesh_store::{DatabaseUrl, Store};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::hash::{BuildHasher, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming a PostgreSQL server for the tests.
pub const PG_ENV: &str = "IDENTITYMESH_TEST_POSTGRES_URL";

/// Runs `work` on a blocking thread inside a fresh multi-thread runtime, re-raising a panic.
pub fn in_runtime(work: impl FnOnce() + Send + 'static) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(rt.spawn_blocking(work)) {
        Ok(()) => {}
        Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
        Err(e) => panic!("the story task failed: {e}"),
    }
}

/// Runs a story on a fresh SQLite database.
pub fn on_sqlite(story: impl FnOnce(&Store, &DatabaseUrl) + Send + 'static) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("not-yet/identitymesh.db"));
    in_runtime(move || {
        let store = Store::open(&url, true).unwrap();
        story(&store, &url);
    });
    drop(dir);
}

/// The server URL for PostgreSQL tests, or `None` to skip them (never under CI).
fn postgres_url() -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{PG_ENV} is not set but CI is: the PostgreSQL contract tests must run in CI. \
             Start PostgreSQL with `eval \"$(.ci/postgres.sh start)\"` before `cargo test`."
        ),
        _ => {
            eprintln!(
                "skipped: set {PG_ENV} (eval \"$(.ci/postgres.sh start)\") to run the PostgreSQL half"
            );
            None
        }
    }
}

/// The same server URL pointing at another database.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// Runs one administrative statement (from a blocking thread inside the runtime).
pub fn pg_execute(url: &str, sql: String) {
    let handle = tokio::runtime::Handle::current();
    handle.block_on(async {
        let mut conn = PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
}

/// Runs a story on a fresh PostgreSQL database, when a server is configured.
pub fn on_postgres(story: impl FnOnce(&Store, &DatabaseUrl) + Send + 'static) {
    let Some(server) = postgres_url() else { return };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    // RandomState is seeded randomly per process: unique names without a clock.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let name = format!(
        "im_test_{}_{}_{random:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    in_runtime(move || {
        pg_execute(&server, format!("CREATE DATABASE {name}"));
        let url = DatabaseUrl::parse(&with_database(&server, &name)).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let store = Store::open(&url, true).unwrap();
            story(&store, &url);
        }));
        pg_execute(
            &server,
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        if let Err(panic) = outcome {
            resume_unwind(panic);
        }
    });
}

/// Runs a raw statement against the story's database, bypassing the store (to damage rows
/// or fake a newer schema).
pub fn raw_execute(url: &DatabaseUrl, sql: &str) {
    match url {
        DatabaseUrl::Sqlite(path) => {
            rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap();
        }
        DatabaseUrl::Postgres(raw) => pg_execute(raw, sql.to_owned()),
    }
}

#[test]
fn database_names_are_swapped_in_urls() {
    assert_eq!(
        with_database("postgres://u@h:1/postgres", "x"),
        "postgres://u@h:1/x"
    );
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=require", "x"),
        "postgres://u@h/x?sslmode=require"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
