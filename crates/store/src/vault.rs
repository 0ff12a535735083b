//! The vault: where sealed blobs in the database meet the keys on this host.
//!
//! [`Vault`] holds the key-encryption keys present ([`KeySet`]) and works inside a caller's
//! transaction, so a value set, a rewrap of every wrapped key, or a key-ring rotation commits
//! atomically with its audit record. The database records which KEK new records are wrapped
//! with ([`KeySettings`]); a database that has never held one adopts this host's key. Opening
//! a record wrapped by a KEK this host lacks is an error naming that key id and the ceremony
//! that brings it. Audit records name secrets and key ids, never values.

use chrono::{DateTime, Duration, Utc};
use identitymesh_domain::audit::NewAudit;
use identitymesh_secrets::{
    KeyRing, KeySet, ProtectionKey, Record, SealedSecret, SecretLabel, SecretString, SecretsError,
    WrappedKey,
};
use serde_json::json;

use crate::port::{StoreResult, Tx};
use crate::secret_rows::{KeyMode, KeySettings, StoredProtectionKey, StoredSecret, WrappedKind};

/// The outcome of checking one record.
#[derive(Debug)]
pub struct CheckOutcome {
    /// `secret 'NAME'` or `data-protection key ID`.
    pub record: String,
    /// The KEK it is wrapped under.
    pub kek_id: String,
    /// Whether it opened (the error names what is wrong, never a value).
    pub result: Result<(), SecretsError>,
}

/// Seals, opens and rewraps records through a transaction, with this host's keys.
#[derive(Clone, Debug)]
pub struct Vault {
    keys: KeySet,
}

fn audit(
    tx: &mut dyn Tx,
    actor: &str,
    action: &str,
    target: String,
    after: serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let record = NewAudit {
        actor: actor.to_owned(),
        action: action.to_owned(),
        target,
        before: None,
        after: Some(after),
        run_id: None,
    };
    tx.append_audit(&record, at).map(drop)
}

impl Vault {
    /// A vault over the keys present on this host.
    pub fn new(keys: KeySet) -> Self {
        Self { keys }
    }

    /// The keys present.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Which KEK the database wraps new records with; a database that has none recorded
    /// adopts this host's key (host mode) and records it.
    pub fn settings(&self, tx: &mut dyn Tx, at: DateTime<Utc>) -> StoreResult<KeySettings> {
        if let Some(s) = tx.key_settings()? {
            return Ok(s);
        }
        let s = KeySettings {
            kek_id: self.keys.host_id().to_string(),
            mode: KeyMode::Host,
            updated_at: at,
        };
        tx.set_key_settings(&s)?;
        Ok(s)
    }

    /// Sets a secret's value (a new version), audited as `secrets.set`. Returns the version.
    pub fn set(
        &self,
        tx: &mut dyn Tx,
        name: &str,
        purpose: &str,
        value: &SecretString,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let kek_id = self.settings(tx, at)?.kek_id;
        let existing = tx.secret(name)?;
        let version = existing.as_ref().map_or(1, |s| s.version + 1);
        let label = SecretLabel {
            name,
            purpose,
            version,
        };
        let sealed = self
            .keys
            .seal_secret(&kek_id, &label, value.expose().as_bytes())?;
        tx.put_secret(&StoredSecret {
            name: name.to_owned(),
            purpose: purpose.to_owned(),
            version,
            kek_id: sealed.key.kek_id,
            wrapped_key: sealed.key.blob,
            ciphertext: sealed.ciphertext,
            created_at: existing.as_ref().map_or(at, |s| s.created_at),
            updated_at: at,
            last_used_at: existing.and_then(|s| s.last_used_at),
        })?;
        let after = json!({ "version": version, "purpose": purpose, "kek_id": kek_id });
        audit(
            tx,
            actor,
            "secrets.set",
            format!("secret:{name}"),
            after,
            at,
        )?;
        Ok(version)
    }

    fn open(&self, stored: &StoredSecret) -> Result<SecretString, SecretsError> {
        let label = SecretLabel {
            name: &stored.name,
            purpose: &stored.purpose,
            version: stored.version,
        };
        let sealed = SealedSecret {
            key: WrappedKey {
                kek_id: stored.kek_id.clone(),
                blob: stored.wrapped_key.clone(),
            },
            ciphertext: stored.ciphertext.clone(),
        };
        let bytes = self.keys.open_secret(&label, &sealed)?;
        SecretString::from_utf8(bytes).ok_or_else(|| SecretsError::Damaged {
            record: format!("secret '{}'", stored.name),
            message: "the value is not UTF-8 text".into(),
        })
    }

    /// A secret's value for use (recording the use), or `None` when no such secret exists.
    pub fn get(
        &self,
        tx: &mut dyn Tx,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SecretString>> {
        let Some(stored) = tx.secret(name)? else {
            return Ok(None);
        };
        let value = self.open(&stored)?;
        tx.touch_secret(name, at)?;
        Ok(Some(value))
    }

    /// Opens every secret (or the one named) and, for all, every data-protection key, without
    /// returning any value. A named secret that does not exist gives an empty list.
    pub fn check(&self, tx: &mut dyn Tx, name: Option<&str>) -> StoreResult<Vec<CheckOutcome>> {
        let mut out = Vec::new();
        let names: Vec<String> = match name {
            Some(n) => vec![n.to_owned()],
            None => tx.secret_infos()?.into_iter().map(|i| i.name).collect(),
        };
        for n in names {
            if let Some(stored) = tx.secret(&n)? {
                let result = self.open(&stored).map(drop);
                out.push(CheckOutcome {
                    record: format!("secret '{n}'"),
                    kek_id: stored.kek_id,
                    result,
                });
            }
        }
        if name.is_none() {
            for k in tx.protection_keys()? {
                let result = self.unwrap_protection_key(&k).map(drop);
                out.push(CheckOutcome {
                    record: Record::ProtectionKey(&k.id).to_string(),
                    kek_id: k.kek_id,
                    result,
                });
            }
        }
        Ok(out)
    }

    /// Deletes a secret, audited as `secrets.delete`. Whether it existed.
    pub fn delete(
        &self,
        tx: &mut dyn Tx,
        name: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let existed = tx.delete_secret(name)?;
        if existed {
            audit(
                tx,
                actor,
                "secrets.delete",
                format!("secret:{name}"),
                json!({ "deleted": true }),
                at,
            )?;
        }
        Ok(existed)
    }

    /// Rewraps every data key and key-ring key under the KEK `to` and records it (with
    /// `mode`) as the database's KEK, audited as `key.rotate`. All or nothing: the first
    /// record that cannot be unwrapped (a missing key, a damaged blob) fails the whole call,
    /// and the caller's transaction rolls back. Returns how many keys were rewrapped.
    pub fn rewrap_all(
        &self,
        tx: &mut dyn Tx,
        to: &str,
        mode: KeyMode,
        actor: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.keys.require(to, "the new key-encryption key")?;
        let before = tx.key_settings()?.map(|s| s.kek_id);
        let mut count = 0;
        for row in tx.wrapped_keys()? {
            let record = match row.kind {
                WrappedKind::Secret => Record::Secret(&row.id),
                WrappedKind::ProtectionKey => Record::ProtectionKey(&row.id),
            };
            let wrapped = WrappedKey {
                kek_id: row.kek_id.clone(),
                blob: row.wrapped_key.clone(),
            };
            let new = self.keys.rewrap(&record, &wrapped, to)?;
            tx.replace_wrapped_key(row.kind, &row.id, &new.kek_id, &new.blob)?;
            count += 1;
        }
        tx.set_key_settings(&KeySettings {
            kek_id: to.to_owned(),
            mode,
            updated_at: at,
        })?;
        let after = json!({ "from": before, "to": to, "mode": mode.as_str(), "rewrapped": count });
        audit(tx, actor, "key.rotate", format!("kek:{to}"), after, at)?;
        Ok(count)
    }

    fn unwrap_protection_key(
        &self,
        k: &StoredProtectionKey,
    ) -> Result<ProtectionKey, SecretsError> {
        let wrapped = WrappedKey {
            kek_id: k.kek_id.clone(),
            blob: k.wrapped_key.clone(),
        };
        let material = self
            .keys
            .unwrap_key(&Record::ProtectionKey(&k.id), &wrapped)?;
        ProtectionKey::from_parts(
            k.id.clone(),
            material,
            k.created_at,
            k.activates_at,
            k.expires_at,
        )
    }

    /// The data-protection key ring: every stored key, unwrapped.
    pub fn key_ring(&self, tx: &mut dyn Tx) -> StoreResult<KeyRing> {
        let keys = tx
            .protection_keys()?
            .iter()
            .map(|k| self.unwrap_protection_key(k))
            .collect::<Result<_, _>>()?;
        Ok(KeyRing::new(keys))
    }

    /// Adds a new data-protection key active from `activates_at` for `lifetime`, wrapped under
    /// the database's KEK, and drops keys that expired before `now` (they verify nothing).
    /// Audited as `keyring.rotate`. Older keys keep verifying until they expire.
    pub fn rotate_key_ring(
        &self,
        tx: &mut dyn Tx,
        now: DateTime<Utc>,
        activates_at: DateTime<Utc>,
        lifetime: Duration,
        actor: &str,
    ) -> StoreResult<ProtectionKey> {
        let kek_id = self.settings(tx, now)?.kek_id;
        let key = ProtectionKey::generate(now, activates_at, lifetime)?;
        let wrapped = self
            .keys
            .wrap(&kek_id, &Record::ProtectionKey(&key.id), key.material())?;
        tx.put_protection_key(&StoredProtectionKey {
            id: key.id.clone(),
            kek_id: wrapped.kek_id,
            wrapped_key: wrapped.blob,
            created_at: key.created_at,
            activates_at: key.activates_at,
            expires_at: key.expires_at,
        })?;
        tx.delete_expired_protection_keys(now)?;
        let after = json!({ "activates_at": key.activates_at, "expires_at": key.expires_at });
        audit(
            tx,
            actor,
            "keyring.rotate",
            format!("protection-key:{}", key.id),
            after,
            now,
        )?;
        Ok(key)
    }
}
