//! Stories of secrets, the key ring and the key settings (issue 3): the rows themselves,
//! then the vault over them — round trip, a copied database on a host without the key,
//! tampering, a rotation that rewraps everything in one transaction or nothing.

use chrono::Duration;
use identitymesh_secrets::{Kek, KeySet, SecretString, SecretsError};
use identitymesh_store::vault::Vault;
use identitymesh_store::{
    AuditFilter, DatabaseUrl, KeyMode, KeySettings, Store, StoreError, StoredProtectionKey,
    StoredSecret, WrappedKind,
};

use crate::fixtures::at;
use crate::harness::raw_execute;

const VALUE: &str = "Tr1cky,Pa$$";

fn stored(name: &str, version: i64) -> StoredSecret {
    StoredSecret {
        name: name.into(),
        purpose: "connector".into(),
        version,
        kek_id: "k1".into(),
        wrapped_key: vec![1, 0, 255, 7],
        ciphertext: vec![9; 40],
        created_at: at(version),
        updated_at: at(version),
        last_used_at: None,
    }
}

pub fn secret_rows(store: &Store) {
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.secret("ldap").unwrap(), None);
    tx.put_secret(&stored("ldap", 1)).unwrap();
    tx.touch_secret("ldap", at(5)).unwrap();
    tx.put_secret(&stored("ldap", 2)).unwrap();
    tx.put_secret(&stored("api", 1)).unwrap();
    let got = tx.secret("ldap").unwrap().unwrap();
    assert_eq!(
        (got.version, got.created_at, got.updated_at),
        (2, at(1), at(2))
    );
    assert_eq!(
        got.last_used_at,
        Some(at(5)),
        "an update keeps the last use"
    );
    assert_eq!(got.wrapped_key, vec![1, 0, 255, 7]);
    assert!(
        !format!("{got:?}").contains("255"),
        "Debug shows no blob bytes"
    );
    let infos = tx.secret_infos().unwrap();
    assert_eq!(
        infos.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["api", "ldap"]
    );
    tx.put_protection_key(&StoredProtectionKey {
        id: "p1".into(),
        kek_id: "k1".into(),
        wrapped_key: vec![3; 73],
        created_at: at(0),
        activates_at: at(0),
        expires_at: at(100),
    })
    .unwrap();
    let wrapped = tx.wrapped_keys().unwrap();
    assert_eq!(wrapped.len(), 3);
    assert_eq!(wrapped[2].kind, WrappedKind::ProtectionKey);
    tx.replace_wrapped_key(WrappedKind::Secret, "api", "k2", &[4, 4])
        .unwrap();
    tx.replace_wrapped_key(WrappedKind::ProtectionKey, "p1", "k2", &[5])
        .unwrap();
    assert!(
        tx.replace_wrapped_key(WrappedKind::Secret, "nope", "k2", &[4])
            .is_err()
    );
    assert_eq!(tx.secret("api").unwrap().unwrap().kek_id, "k2");
    assert_eq!(tx.protection_keys().unwrap()[0].wrapped_key, vec![5]);
    assert_eq!(tx.delete_expired_protection_keys(at(50)).unwrap(), 0);
    assert_eq!(tx.delete_expired_protection_keys(at(101)).unwrap(), 1);
    assert!(tx.delete_secret("api").unwrap());
    assert!(!tx.delete_secret("api").unwrap());
    assert_eq!(tx.key_settings().unwrap(), None);
    let settings = KeySettings {
        kek_id: "k2".into(),
        mode: KeyMode::Shared,
        updated_at: at(3),
    };
    tx.set_key_settings(&settings).unwrap();
    tx.set_key_settings(&settings).unwrap();
    assert_eq!(tx.key_settings().unwrap(), Some(settings));
    tx.commit().unwrap();
}

fn host() -> KeySet {
    KeySet::new(Kek::generate().unwrap())
}

pub fn vault_round_trip_copy_and_tamper(store: &Store, url: &DatabaseUrl) {
    let keys = host();
    let vault = Vault::new(keys.clone());
    let mut tx = store.begin().unwrap();
    assert_eq!(
        vault
            .set(
                tx.as_mut(),
                "ldap-bind",
                "connector",
                &SecretString::from(VALUE),
                "cli:ada",
                at(0)
            )
            .unwrap(),
        1
    );
    assert_eq!(
        vault
            .set(
                tx.as_mut(),
                "ldap-bind",
                "connector",
                &SecretString::from(VALUE),
                "cli:ada",
                at(1)
            )
            .unwrap(),
        2
    );
    vault
        .set(
            tx.as_mut(),
            "scim-token",
            "connector",
            &SecretString::from("tok-123456"),
            "cli:ada",
            at(1),
        )
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    assert_eq!(
        vault
            .get(tx.as_mut(), "ldap-bind", at(2))
            .unwrap()
            .unwrap()
            .expose(),
        VALUE
    );
    assert_eq!(
        tx.secret("ldap-bind").unwrap().unwrap().last_used_at,
        Some(at(2))
    );
    assert!(vault.get(tx.as_mut(), "missing", at(2)).unwrap().is_none());
    assert!(
        vault
            .check(tx.as_mut(), None)
            .unwrap()
            .iter()
            .all(|c| c.result.is_ok())
    );
    let audit = tx
        .audit(&AuditFilter {
            limit: 50,
            ..AuditFilter::default()
        })
        .unwrap();
    assert!(audit.iter().any(|a| a.record.action == "secrets.set"));
    assert!(!format!("{audit:?}").contains(VALUE), "no value in audit");
    tx.commit().unwrap();

    // the database carried to another host, without the key
    let elsewhere = Vault::new(host());
    let mut tx = store.begin().unwrap();
    let err = elsewhere.get(tx.as_mut(), "ldap-bind", at(3)).unwrap_err();
    let shown = err.to_string();
    assert!(
        matches!(err, StoreError::Secrets(SecretsError::MissingKey { .. })),
        "{shown}"
    );
    assert!(
        shown.contains(keys.host_id().as_str()) && shown.contains("import-key"),
        "{shown}"
    );
    assert!(
        elsewhere.check(tx.as_mut(), Some("ldap-bind")).unwrap()[0]
            .result
            .is_err()
    );
    drop(tx);

    // a tampered ciphertext: a clear error, never garbage
    let flip = match url {
        DatabaseUrl::Sqlite(_) => {
            "UPDATE secrets SET ciphertext = zeroblob(60) WHERE name = 'scim-token'"
        }
        DatabaseUrl::Postgres(_) => {
            "UPDATE secrets SET ciphertext = decode(repeat('00', 60), 'hex') WHERE name = 'scim-token'"
        }
    };
    raw_execute(url, flip);
    let mut tx = store.begin().unwrap();
    let err = vault
        .get(tx.as_mut(), "scim-token", at(4))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("scim-token") && err.contains("damaged"),
        "{err}"
    );
    let checks = vault.check(tx.as_mut(), None).unwrap();
    assert_eq!(checks.iter().filter(|c| c.result.is_err()).count(), 1);
    assert!(
        vault
            .delete(tx.as_mut(), "scim-token", "cli:ada", at(5))
            .unwrap()
    );
    tx.commit().unwrap();
}

pub fn rotation_rewraps_everything_or_nothing(store: &Store) {
    let mut keys = host();
    let old = keys.host_id().to_string();
    let vault = Vault::new(keys.clone());
    let mut tx = store.begin().unwrap();
    for name in ["a", "b", "c"] {
        vault
            .set(
                tx.as_mut(),
                name,
                "connector",
                &SecretString::from(VALUE),
                "cli",
                at(0),
            )
            .unwrap();
    }
    vault
        .rotate_key_ring(tx.as_mut(), at(0), at(0), Duration::days(90), "cli")
        .unwrap();
    tx.commit().unwrap();

    let new = Kek::generate().unwrap();
    let new_id = new.id().to_string();
    keys.insert(new.clone());
    let vault = Vault::new(keys);
    let mut tx = store.begin().unwrap();
    assert_eq!(
        vault
            .rewrap_all(tx.as_mut(), &new_id, KeyMode::Shared, "cli", at(1))
            .unwrap(),
        4
    );
    tx.commit().unwrap();

    // only the new key is needed now
    let only_new = Vault::new(KeySet::new(new));
    let mut tx = store.begin().unwrap();
    assert_eq!(
        only_new
            .get(tx.as_mut(), "b", at(2))
            .unwrap()
            .unwrap()
            .expose(),
        VALUE
    );
    assert_eq!(only_new.key_ring(tx.as_mut()).unwrap().keys().len(), 1);
    let settings = tx.key_settings().unwrap().unwrap();
    assert_eq!(
        (settings.kek_id.as_str(), settings.mode),
        (new_id.as_str(), KeyMode::Shared)
    );
    // a host lacking the KEK of any record cannot rotate: nothing changes
    let stranger = host();
    let stranger_id = stranger.host_id().to_string();
    let err = Vault::new(stranger)
        .rewrap_all(tx.as_mut(), &stranger_id, KeyMode::Host, "cli", at(3))
        .unwrap_err();
    assert!(err.to_string().contains(&new_id), "{err}");
    drop(tx);
    let mut tx = store.begin().unwrap();
    assert!(
        tx.wrapped_keys()
            .unwrap()
            .iter()
            .all(|w| w.kek_id == new_id)
    );
    assert_ne!(old, new_id);
    let rotations = tx
        .audit(&AuditFilter {
            limit: 50,
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(
        rotations
            .iter()
            .filter(|a| a.record.action == "key.rotate")
            .count(),
        1
    );
}

pub fn key_ring_across_instances(store: &Store) {
    let keys = host();
    let a = Vault::new(keys.clone());
    let b = Vault::new(keys);
    let mut tx = store.begin().unwrap();
    let first = a
        .rotate_key_ring(tx.as_mut(), at(0), at(0), Duration::seconds(1000), "api")
        .unwrap();
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    let token = a
        .key_ring(tx.as_mut())
        .unwrap()
        .protect("session", b"user:ada", at(10))
        .unwrap();
    // another instance, same database: verifies what the first minted
    let ring_b = b.key_ring(tx.as_mut()).unwrap();
    assert_eq!(
        ring_b.unprotect("session", &token, at(20)).unwrap(),
        b"user:ada"
    );
    assert!(ring_b.unprotect("csrf", &token, at(20)).is_err());
    let second = b
        .rotate_key_ring(
            tx.as_mut(),
            at(900),
            at(900),
            Duration::seconds(1000),
            "api",
        )
        .unwrap();
    let ring = a.key_ring(tx.as_mut()).unwrap();
    assert_eq!(
        ring.active_key(at(901)).map(|k| k.id.clone()),
        Some(second.id.clone())
    );
    assert_eq!(
        ring.unprotect("session", &token, at(999)).unwrap(),
        b"user:ada"
    );
    assert!(ring.unprotect("session", &token, at(1000)).is_err());
    // the next rotation after the first key expired drops it
    b.rotate_key_ring(
        tx.as_mut(),
        at(1500),
        at(1500),
        Duration::seconds(1000),
        "api",
    )
    .unwrap();
    let ids: Vec<String> = tx
        .protection_keys()
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert!(!ids.contains(&first.id) && ids.contains(&second.id));
    tx.commit().unwrap();
}

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone)]
struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// C-48: set, use, check, rotate, a copied database and a tampered blob, all at TRACE level;
/// the value appears in no log line, error (Display or Debug), audit record or Debug output.
pub fn c48_no_value_in_logs_errors_or_audit(store: &Store, url: &DatabaseUrl) {
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Sink(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let mut seen: Vec<String> = Vec::new();
    tracing::subscriber::with_default(subscriber, || {
        let mut keys = host();
        let vault = Vault::new(keys.clone());
        let mut tx = store.begin().unwrap();
        let value = SecretString::from(VALUE);
        seen.push(format!("{value:?} {value}"));
        vault
            .set(tx.as_mut(), "ldap-bind", "connector", &value, "cli", at(0))
            .unwrap();
        let opened = vault.get(tx.as_mut(), "ldap-bind", at(1)).unwrap();
        seen.push(format!(
            "{opened:?} {vault:?} {:?}",
            tx.secret("ldap-bind").unwrap()
        ));
        seen.push(format!("{:?}", vault.check(tx.as_mut(), None).unwrap()));
        tx.commit().unwrap();
        let new = Kek::generate().unwrap();
        let new_id = new.id().to_string();
        keys.insert(new);
        let mut tx = store.begin().unwrap();
        Vault::new(keys)
            .rewrap_all(tx.as_mut(), &new_id, KeyMode::Host, "cli", at(2))
            .unwrap();
        tx.commit().unwrap();
        let mut tx = store.begin().unwrap();
        let err = Vault::new(host())
            .get(tx.as_mut(), "ldap-bind", at(3))
            .unwrap_err();
        seen.push(format!("{err} {err:?}"));
        drop(tx);
        let flip = match url {
            DatabaseUrl::Sqlite(_) => "UPDATE secrets SET ciphertext = substr(ciphertext, 1, 30)",
            DatabaseUrl::Postgres(_) => {
                "UPDATE secrets SET ciphertext = substring(ciphertext from 1 for 30)"
            }
        };
        raw_execute(url, flip);
        let mut tx = store.begin().unwrap();
        let err = vault.get(tx.as_mut(), "ldap-bind", at(4)).unwrap_err();
        seen.push(format!("{err} {err:?}"));
        let audit = tx
            .audit(&AuditFilter {
                limit: 100,
                ..AuditFilter::default()
            })
            .unwrap();
        assert!(audit.iter().any(|a| a.record.action == "key.rotate"));
        seen.push(serde_json::to_string(&audit).unwrap());
        seen.push(format!("{audit:?}"));
        tracing::trace!("story finished");
    });
    let logs = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("story finished"),
        "the subscriber captured nothing"
    );
    seen.push(logs);
    for text in &seen {
        assert!(
            !text.contains(VALUE) && !text.contains("Tr1cky"),
            "the value leaked: {text}"
        );
    }
}
