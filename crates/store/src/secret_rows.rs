//! The rows of secrets, the data-protection key ring and the key settings, as the port
//! hands them over: sealed blobs and metadata, never a value in clear. Sealing and opening
//! is `identitymesh-secrets`' job ([`crate::vault`] joins the two); this module only names the
//! columns and decodes them alike for both backends.

use chrono::{DateTime, Utc};

use crate::codec::{corrupt, parse_time};
use crate::port::StoreResult;

/// A secret as stored: metadata and its two sealed blobs.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// Unique name (connectors refer to secrets by name).
    pub name: String,
    /// What it is for; part of the ciphertext's associated data.
    pub purpose: String,
    /// Increases each time the value is set; part of the associated data.
    pub version: i64,
    /// The key-encryption key that wrapped the data key.
    pub kek_id: String,
    /// The data key, sealed by the KEK.
    pub wrapped_key: Vec<u8>,
    /// The value, sealed by the data key.
    pub ciphertext: Vec<u8>,
    /// When it was first set.
    pub created_at: DateTime<Utc>,
    /// When its value last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was last opened for use.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("name", &self.name)
            .field("purpose", &self.purpose)
            .field("version", &self.version)
            .field("kek_id", &self.kek_id)
            .field(
                "sealed_bytes",
                &(self.wrapped_key.len() + self.ciphertext.len()),
            )
            .finish_non_exhaustive()
    }
}

/// A secret's metadata, for listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretInfo {
    /// Name.
    pub name: String,
    /// Purpose.
    pub purpose: String,
    /// Version.
    pub version: i64,
    /// The KEK it is wrapped under.
    pub kek_id: String,
    /// First set.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Which table a wrapped key lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrappedKind {
    /// A secret's data key (id: the secret's name).
    Secret,
    /// A data-protection key (id: the key's id).
    ProtectionKey,
}

/// One wrapped key anywhere in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKeyRow {
    /// Its table.
    pub kind: WrappedKind,
    /// The record's id.
    pub id: String,
    /// The KEK that wrapped it.
    pub kek_id: String,
    /// The wrapped key.
    pub wrapped_key: Vec<u8>,
}

/// A data-protection key as stored (its material wrapped by the KEK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredProtectionKey {
    /// Key id.
    pub id: String,
    /// The KEK that wrapped it.
    pub kek_id: String,
    /// The key material, wrapped.
    pub wrapped_key: Vec<u8>,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Mints tokens from.
    pub activates_at: DateTime<Utc>,
    /// Its tokens stop verifying at.
    pub expires_at: DateTime<Utc>,
}

/// Whether the database is wrapped under one host's key or a key shared by several hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    /// One host's own key (`host.key`).
    Host,
    /// A key every instance holds (scale-out).
    Shared,
}

impl KeyMode {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyMode::Host => "host",
            KeyMode::Shared => "shared",
        }
    }
}

/// Which KEK new records are wrapped with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySettings {
    /// The KEK id.
    pub kek_id: String,
    /// Host or shared.
    pub mode: KeyMode,
    /// When this was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A `secrets` row with text times, as both backends read it.
pub(crate) struct RawSecret {
    pub name: String,
    pub purpose: String,
    pub version: i64,
    pub kek_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_at: String,
    pub updated_at: String,
    pub last_used_at: Option<String>,
}

impl RawSecret {
    pub(crate) fn decode(self) -> StoreResult<StoredSecret> {
        const T: &str = "secrets";
        let n = self.name.as_str();
        Ok(StoredSecret {
            created_at: parse_time(T, n, &self.created_at)?,
            updated_at: parse_time(T, n, &self.updated_at)?,
            last_used_at: self
                .last_used_at
                .as_deref()
                .map(|t| parse_time(T, n, t))
                .transpose()?,
            name: self.name,
            purpose: self.purpose,
            version: self.version,
            kek_id: self.kek_id,
            wrapped_key: self.wrapped_key,
            ciphertext: self.ciphertext,
        })
    }

    pub(crate) fn info(self) -> StoreResult<SecretInfo> {
        let s = self.decode()?;
        Ok(SecretInfo {
            name: s.name.clone(),
            purpose: s.purpose.clone(),
            version: s.version,
            kek_id: s.kek_id.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            last_used_at: s.last_used_at,
        })
    }
}

/// A `protection_keys` row with text times.
pub(crate) struct RawProtectionKey {
    pub id: String,
    pub kek_id: String,
    pub wrapped_key: Vec<u8>,
    pub created_at: String,
    pub activates_at: String,
    pub expires_at: String,
}

impl RawProtectionKey {
    pub(crate) fn decode(self) -> StoreResult<StoredProtectionKey> {
        const T: &str = "protection_keys";
        Ok(StoredProtectionKey {
            created_at: parse_time(T, &self.id, &self.created_at)?,
            activates_at: parse_time(T, &self.id, &self.activates_at)?,
            expires_at: parse_time(T, &self.id, &self.expires_at)?,
            id: self.id,
            kek_id: self.kek_id,
            wrapped_key: self.wrapped_key,
        })
    }
}

/// Decodes the `key_settings` row.
pub(crate) fn decode_settings(
    kek_id: String,
    mode: &str,
    updated_at: &str,
) -> StoreResult<KeySettings> {
    const T: &str = "key_settings";
    let mode = match mode {
        "host" => KeyMode::Host,
        "shared" => KeyMode::Shared,
        other => return Err(corrupt(T, "1", format!("unknown mode '{other}'"))),
    };
    Ok(KeySettings {
        kek_id,
        mode,
        updated_at: parse_time(T, "1", updated_at)?,
    })
}

/// The table and key column of a wrapped key's kind.
pub(crate) fn wrapped_table(kind: WrappedKind) -> (&'static str, &'static str) {
    match kind {
        WrappedKind::Secret => ("secrets", "name"),
        WrappedKind::ProtectionKey => ("protection_keys", "id"),
    }
}
