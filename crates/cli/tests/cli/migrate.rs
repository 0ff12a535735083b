//! `migrate` and the database URL: the schema version, unsupported URLs, secrets in URLs.

use crate::helpers::{DataDir, identitymesh, num};

#[test]
fn migrate_prints_the_schema_version_and_is_idempotent() {
    let dir = DataDir::new();
    let first = dir.run(&["migrate"]);
    first.expect_code(0);
    assert!(first.stdout.contains("schema version"), "{}", first.stdout);
    let version: u32 = first
        .stdout
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no version number in {:?}", first.stdout));
    assert!(version >= 1);
    assert!(
        dir.file("identitymesh.db").exists(),
        "the embedded database lives in the data directory"
    );
    let second = dir.run(&["migrate"]);
    second.expect_code(0);
    assert_eq!(second.stdout, first.stdout);
}

#[test]
fn an_unsupported_database_url_fails_naming_the_supported_ones_without_the_password() {
    let dir = DataDir::new();
    let out = dir.run(&["--database", "mysql://u:S3cretPw@h/db", "migrate"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("sqlite:") && out.stderr.contains("postgres://"),
        "the message names the supported URLs: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("S3cretPw") && !out.stdout.contains("S3cretPw"),
        "the password leaked: {}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn a_password_in_the_database_url_environment_variable_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_identitymesh"))
        .args(["--data-dir", &dir.path().display().to_string(), "migrate"])
        .env("IDENTITYMESH_DATABASE_URL", "mysql://u:S3cretPw@h/db")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        all.contains("postgres://") && !all.contains("S3cretPw"),
        "{all}"
    );
}

/// The main job on PostgreSQL, when the tests have a server (`eval "$(bash .ci/postgres.sh start)"`).
#[tokio::test(flavor = "multi_thread")]
async fn quickstart_runs_on_postgresql_when_a_server_is_configured() {
    use identitymesh_testkit::{Backend, TestEnv, backends};
    if !backends().contains(&Backend::Postgres) {
        println!("skipped: {} is not set", identitymesh_testkit::POSTGRES_ENV);
        return;
    }
    let env = TestEnv::new(Backend::Postgres).await;
    let url = env.url.clone();
    let dir = DataDir::new();
    let (first, second, migrate) = tokio::task::spawn_blocking(move || {
        let first = dir.quickstart(&["--database", &url]);
        let second = dir.quickstart(&["--database", &url]);
        let migrate = identitymesh(&[
            "--data-dir",
            &dir.path().display().to_string(),
            "--database",
            &url,
            "migrate",
        ]);
        (first, second, migrate)
    })
    .await
    .unwrap();
    env.cleanup().await;
    assert_eq!(num(&first, "projected"), 60, "{first}");
    assert_eq!(num(&first, "errors"), 0, "{first}");
    assert!(
        first["database"]
            .as_str()
            .unwrap()
            .starts_with("postgres://"),
        "{first}"
    );
    crate::helpers::assert_no_changes(&second);
    migrate.expect_code(0);
    assert!(
        migrate.stdout.contains("schema version"),
        "{}",
        migrate.stdout
    );
}
