//! Connectors refer to stored secrets by name (`secrets = { bind_password = "ldap-bind" }`):
//! the engine opens them through the vault when it builds the connector for a run, hands the
//! values to the connector factory, records their use, and fails the run before anything is
//! read when one is missing or cannot be opened — naming the connector, the setting, the
//! secret and what to do, never the value.

use identitymesh_domain::config::compile;
use identitymesh_domain::run::RunStatus;
use identitymesh_engine::{Clock, Engine, EngineError};
use identitymesh_secrets::{Kek, KeySet, SecretString};
use identitymesh_store::vault::Vault;
use identitymesh_testkit::TestEnv;
use std::sync::Arc;

use crate::support::*;

const SECRET: &str = "Tr1cky,Pa$$";

/// A directory connector (a type this build does not have: resolution does not need it).
const LDAP: &str = r#"
[connectors.dir]
type = "ldap"
anchor = "uid"
columns = ["uid"]
ldap = { host = "ldap.example.test", bind_dn = "cn=svc-sync,ou=Svc,dc=example,dc=test" }
secrets = { bind_password = "ldap-bind" }
"#;

/// A CSV source that (wrongly) names a secret, over a file with rows.
const CSV_WITH_SECRET: &str = r#"
[mesh.person]
attributes = [{ name = "login", unique = true }]

[connectors.apps]
type = "csv"
mesh_type = "person"
anchor = "login"
columns = ["login"]
projection = { delete_when_gone = true }
csv = { path = "apps.csv" }
secrets = { password = "apps-pw" }
[connectors.apps.flows_in]
login = "login"
"#;

fn keys() -> KeySet {
    KeySet::new(Kek::generate().unwrap())
}

/// An engine over `toml` (connector types `csv` and `ldap`), with `keys` when given.
fn engine(env: &TestEnv, toml: &str, keys: Option<KeySet>) -> Engine {
    let config = compile(toml, &["csv", "ldap"]).unwrap();
    let engine = Engine::new(
        env.store.clone(),
        config,
        env.path().to_path_buf(),
        Arc::new(env.clock.clone()),
        "test-engine".into(),
    );
    match keys {
        Some(keys) => engine.with_vault(Vault::new(keys)),
        None => engine,
    }
}

async fn set_secret(env: &TestEnv, keys: &KeySet, name: &str, value: &str) {
    let (vault, name, value) = (
        Vault::new(keys.clone()),
        name.to_owned(),
        SecretString::from(value),
    );
    let at = env.clock.now();
    env.store
        .run_blocking(move |tx| vault.set(tx, &name, "connector", &value, "cli:test", at))
        .await
        .unwrap();
}

async fn last_used(env: &TestEnv, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let infos = env
        .store
        .run_blocking(|tx| tx.secret_infos())
        .await
        .unwrap();
    infos
        .into_iter()
        .find(|i| i.name == name)
        .unwrap()
        .last_used_at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_hands_the_named_secret_to_the_connector_factory() {
    on_every_backend(async |env| {
        let keys = keys();
        set_secret(env, &keys, "ldap-bind", SECRET).await;
        set_secret(env, &keys, "other", "not-this-one").await;
        assert_eq!(last_used(env, "ldap-bind").await, None);
        env.clock.advance(60);

        let engine = engine(env, LDAP, Some(keys));
        let dir = engine.config().connector("dir").unwrap().clone();
        let secrets = engine.resolve_connector_secrets(&dir).await.unwrap();
        assert_eq!(
            secrets.settings().collect::<Vec<_>>(),
            vec!["bind_password"]
        );
        assert_eq!(
            secrets.get("bind_password").map(SecretString::expose),
            Some(SECRET),
            "exactly the stored value, under the connector's setting name"
        );
        let shown = format!("{secrets:?}");
        assert!(
            shown.contains("bind_password") && !shown.contains(SECRET),
            "{shown}"
        );
        assert_eq!(
            last_used(env, "ldap-bind").await,
            Some(env.clock.now()),
            "reading a secret for a connector records its use"
        );
        assert_eq!(last_used(env, "other").await, None);

        // an engine started without keys cannot open any
        let without_keys = self::engine(env, LDAP, None);
        let err = without_keys
            .resolve_connector_secrets(&dir)
            .await
            .unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, EngineError::Secret { .. }), "{shown}");
        assert!(
            shown.contains("connector 'dir'")
                && shown.contains("'bind_password'")
                && shown.contains("'ldap-bind'")
                && shown.contains("key-encryption keys"),
            "{shown}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_fails_the_run_before_anything_is_read() {
    on_every_backend(async |env| {
        env.write("apps.csv", "login\njdoe\njroe\n");
        let keys = keys();
        let engine = engine(env, CSV_WITH_SECRET, Some(keys.clone()));

        for profile in [FullImport, Export] {
            let report = run(&engine, "apps", profile).await;
            assert_status(&report, RunStatus::Failed);
            let reason = report.reason.clone().unwrap_or_default();
            for needle in [
                "connector 'apps'",
                "setting 'password'",
                "secret 'apps-pw'",
                "not stored",
                "identitymesh secrets set apps-pw",
            ] {
                assert!(reason.contains(needle), "{needle:?} missing in: {reason}");
            }
            assert_eq!(report.stats.read, 0, "{report:#?}");
        }
        assert!(staged(env, "apps").await.is_empty(), "nothing was staged");

        // once the secret exists it is opened, and the CSV connector refuses it by setting
        set_secret(env, &keys, "apps-pw", SECRET).await;
        let report = run(&engine, "apps", FullImport).await;
        assert_status(&report, RunStatus::Failed);
        let reason = report.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("secrets.password") && reason.contains("takes no secrets"),
            "{reason}"
        );
        assert!(!format!("{report:?}").contains(SECRET), "{report:#?}");
        assert!(staged(env, "apps").await.is_empty(), "nothing was staged");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_sealed_under_an_absent_key_fails_the_run_naming_the_key() {
    on_every_backend(async |env| {
        env.write("apps.csv", "login\njdoe\n");
        let elsewhere = keys();
        let absent_id = elsewhere.host_id().to_string();
        set_secret(env, &elsewhere, "apps-pw", SECRET).await;

        let here = keys();
        let engine = engine(env, CSV_WITH_SECRET, Some(here));
        let report = run(&engine, "apps", FullImport).await;
        assert_status(&report, RunStatus::Failed);
        let reason = report.reason.clone().unwrap_or_default();
        for needle in [
            "connector 'apps'",
            "setting 'password'",
            "secret 'apps-pw'",
            absent_id.as_str(),
            "identitymesh secrets import-key FILE",
        ] {
            assert!(reason.contains(needle), "{needle:?} missing in: {reason}");
        }
        assert!(!reason.contains(SECRET), "{reason}");
        assert_eq!(report.stats.read, 0, "{report:#?}");
        assert!(staged(env, "apps").await.is_empty(), "nothing was staged");
        assert_eq!(
            last_used(env, "apps-pw").await,
            None,
            "a secret that did not open was not used"
        );
        let record = run_record(env, report.run_id).await;
        assert_eq!(record.status, RunStatus::Failed);
    })
    .await;
}
