//! Envelope encryption of secrets.
//!
//! Each secret gets its own random 32-byte data key. The value is sealed with the data key
//! (XChaCha20-Poly1305) bound to the secret's name, purpose and version, so a ciphertext
//! copied onto another row, or an old version replayed, fails to open. The data key is
//! sealed ("wrapped") by a key-encryption key with its own nonce, bound to the KEK id and the
//! record it belongs to; the wrapped key records the KEK id. Rotating a KEK therefore only
//! rewraps 73-byte data keys, never touches a value, and needs no secret re-entered.
//! Data-protection keys (the key ring) are wrapped the same way, as their own records.

use std::fmt;

use crate::crypto::{aad, open, random_key, seal};
use crate::error::SecretsResult;
use crate::kek::KeySet;
use crate::secret::SecretBytes;

/// Which record a wrapped key belongs to; part of the wrap's associated data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// A named secret.
    Secret(&'a str),
    /// A data-protection key by id.
    ProtectionKey(&'a str),
}

impl Record<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Record::Secret(_) => "secret",
            Record::ProtectionKey(_) => "protection-key",
        }
    }
    fn id(&self) -> &str {
        match self {
            Record::Secret(id) | Record::ProtectionKey(id) => id,
        }
    }
}

impl fmt::Display for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Secret(name) => write!(f, "secret '{name}'"),
            Record::ProtectionKey(id) => write!(f, "data-protection key {id}"),
        }
    }
}

/// What a secret's value is bound to: the ciphertext opens only under the same label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretLabel<'a> {
    /// The secret's name.
    pub name: &'a str,
    /// What it is for (`connector`, …).
    pub purpose: &'a str,
    /// Its version: increases each time the value is set.
    pub version: i64,
}

/// A key wrapped by a key-encryption key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// The id of the KEK that wrapped it.
    pub kek_id: String,
    /// `version ‖ nonce ‖ sealed key ‖ tag`.
    pub blob: Vec<u8>,
}

/// An envelope-encrypted secret value, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedSecret {
    /// The wrapped data key.
    pub key: WrappedKey,
    /// The value sealed with the data key.
    pub ciphertext: Vec<u8>,
}

fn wrap_aad(kek_id: &str, record: &Record<'_>) -> Vec<u8> {
    aad(
        "identitymesh wrapped key v1",
        &[
            kek_id.as_bytes(),
            record.kind().as_bytes(),
            record.id().as_bytes(),
        ],
    )
}

fn value_aad(label: &SecretLabel<'_>) -> Vec<u8> {
    aad(
        "identitymesh secret value v1",
        &[
            label.name.as_bytes(),
            label.purpose.as_bytes(),
            &label.version.to_be_bytes(),
        ],
    )
}

impl KeySet {
    /// Wraps `key` for `record` under the KEK `kek_id`.
    pub fn wrap(
        &self,
        kek_id: &str,
        record: &Record<'_>,
        key: &SecretBytes,
    ) -> SecretsResult<WrappedKey> {
        let kek = self.require(kek_id, &record.to_string())?;
        let blob = seal(kek.material(), &wrap_aad(kek_id, record), key.expose())?;
        Ok(WrappedKey {
            kek_id: kek_id.to_owned(),
            blob,
        })
    }

    /// Unwraps a key of `record`: an error names a missing KEK, or says the blob was altered.
    pub fn unwrap_key(
        &self,
        record: &Record<'_>,
        wrapped: &WrappedKey,
    ) -> SecretsResult<SecretBytes> {
        let name = record.to_string();
        let kek = self.require(&wrapped.kek_id, &name)?;
        open(
            kek.material(),
            &wrap_aad(&wrapped.kek_id, record),
            &wrapped.blob,
            &name,
        )
    }

    /// Rewraps a key of `record` under the KEK `to_kek` (a no-op copy when already there).
    pub fn rewrap(
        &self,
        record: &Record<'_>,
        wrapped: &WrappedKey,
        to_kek: &str,
    ) -> SecretsResult<WrappedKey> {
        let key = self.unwrap_key(record, wrapped)?;
        self.wrap(to_kek, record, &key)
    }

    /// Seals a secret value under a fresh data key wrapped by the KEK `kek_id`.
    pub fn seal_secret(
        &self,
        kek_id: &str,
        label: &SecretLabel<'_>,
        value: &[u8],
    ) -> SecretsResult<SealedSecret> {
        let data_key = random_key()?;
        let key = self.wrap(kek_id, &Record::Secret(label.name), &data_key)?;
        let ciphertext = seal(data_key.expose(), &value_aad(label), value)?;
        Ok(SealedSecret { key, ciphertext })
    }

    /// Opens a sealed secret value.
    pub fn open_secret(
        &self,
        label: &SecretLabel<'_>,
        sealed: &SealedSecret,
    ) -> SecretsResult<SecretBytes> {
        let record = Record::Secret(label.name);
        let data_key = self.unwrap_key(&record, &sealed.key)?;
        open(
            data_key.expose(),
            &value_aad(label),
            &sealed.ciphertext,
            &record.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::error::SecretsError;
    use crate::kek::Kek;

    const VALUE: &[u8] = b"Tr1cky,Pa$$";

    fn label(version: i64) -> SecretLabel<'static> {
        SecretLabel {
            name: "ldap-bind",
            purpose: "connector",
            version,
        }
    }

    fn keys() -> KeySet {
        KeySet::new(Kek::generate().unwrap())
    }

    #[test]
    fn round_trip() {
        let keys = keys();
        let host = keys.host_id().as_str().to_owned();
        let sealed = keys.seal_secret(&host, &label(1), VALUE).unwrap();
        assert_eq!(sealed.key.kek_id, host);
        assert_eq!(
            keys.open_secret(&label(1), &sealed).unwrap().expose(),
            VALUE
        );
        assert!(!format!("{sealed:?}").contains("Tr1cky"));
    }

    #[test]
    fn wrong_key_names_the_missing_key() {
        let a = keys();
        let sealed = a
            .seal_secret(a.host_id().as_str(), &label(1), VALUE)
            .unwrap();
        let err = keys().open_secret(&label(1), &sealed).unwrap_err();
        assert!(matches!(err, SecretsError::MissingKey { .. }));
        let shown = err.to_string();
        assert!(
            shown.contains(a.host_id().as_str()) && shown.contains("ldap-bind"),
            "{shown}"
        );
    }

    #[test]
    fn a_different_key_under_the_same_id_fails_authentication() {
        let a = keys();
        let mut sealed = a
            .seal_secret(a.host_id().as_str(), &label(1), VALUE)
            .unwrap();
        let b = keys();
        sealed.key.kek_id = b.host_id().to_string();
        assert!(matches!(
            b.open_secret(&label(1), &sealed),
            Err(SecretsError::Tampered { .. })
        ));
    }

    #[test]
    fn corrupted_or_truncated_blobs_are_clear_errors() {
        let keys = keys();
        let sealed = keys
            .seal_secret(keys.host_id().as_str(), &label(1), VALUE)
            .unwrap();
        let mut bad = sealed.clone();
        bad.ciphertext[30] ^= 0x40;
        assert!(matches!(
            keys.open_secret(&label(1), &bad),
            Err(SecretsError::Tampered { .. })
        ));
        let mut short = sealed.clone();
        short.ciphertext.truncate(12);
        assert!(matches!(
            keys.open_secret(&label(1), &short),
            Err(SecretsError::Damaged { .. })
        ));
        let mut wrapped = sealed;
        wrapped.key.blob.truncate(40);
        assert!(keys.open_secret(&label(1), &wrapped).is_err());
    }

    #[test]
    fn aad_binds_name_purpose_and_version() {
        let keys = keys();
        let sealed = keys
            .seal_secret(keys.host_id().as_str(), &label(2), VALUE)
            .unwrap();
        for other in [
            label(1),
            SecretLabel {
                purpose: "api",
                ..label(2)
            },
            SecretLabel {
                name: "other",
                ..label(2)
            },
        ] {
            assert!(keys.open_secret(&other, &sealed).is_err(), "{other:?}");
        }
    }

    #[test]
    fn rewrap_moves_a_key_to_another_kek() {
        let mut keys = keys();
        let new = Kek::generate().unwrap();
        let new_id = new.id().to_string();
        keys.insert(new);
        let sealed = keys
            .seal_secret(keys.host_id().as_str(), &label(1), VALUE)
            .unwrap();
        let rewrapped = keys
            .rewrap(&Record::Secret("ldap-bind"), &sealed.key, &new_id)
            .unwrap();
        assert_eq!(rewrapped.kek_id, new_id);
        let moved = SealedSecret {
            key: rewrapped,
            ciphertext: sealed.ciphertext,
        };
        assert_eq!(keys.open_secret(&label(1), &moved).unwrap().expose(), VALUE);
        // the wrap is bound to its record: another secret's wrapped key does not open here
        assert!(
            keys.unwrap_key(&Record::Secret("other"), &moved.key)
                .is_err()
        );
    }
}
