//! # identitymesh-secrets
//!
//! The cryptography of IdentityMesh, and nothing else: it seals and opens connector secrets
//! (envelope encryption: a random data key per secret, wrapped by a key-encryption key),
//! manages the key-encryption keys on disk (the host key, imported and shared keys,
//! passphrase-protected exports), runs the data-protection key ring that signs cookies and
//! anti-forgery tokens, and verifies Ed25519-signed licenses.
//!
//! The key design decision: **blobs travel with the database, keys do not.** Every blob
//! names the id of the key that wrapped it, so a database carried to a host without that key
//! fails with an error naming the missing key id and the ceremony that brings it — never
//! garbage, never a panic. Time is always a parameter.
//!
//! What it must not depend on: tokio, sqlx, rusqlite, axum or any store. The store persists
//! the blobs this crate produces (`identitymesh-store`'s vault joins the two); this crate only
//! seals, opens and handles key files. Secret material lives in [`SecretString`] and
//! [`SecretBytes`], which zero themselves on drop and print `<redacted>`; no error of this
//! crate ever carries a value, a key or a passphrase.

#![warn(missing_docs)]

mod crypto;
mod envelope;
mod error;
mod kek;
mod keyfile;
mod keyring;
pub mod license;
mod secret;

pub use envelope::{Record, SealedSecret, SecretLabel, WrappedKey};
pub use error::{SecretsError, SecretsResult};
pub use kek::{HOST_KEY_FILE, KEYS_DIR, Kek, KeyDir, KeyId, KeySet, check_private};
pub use keyfile::{
    KEY_EXPORT_FORMAT, KdfParams, MIN_PASSPHRASE, export_key, exported_key_id, import_key,
};
pub use keyring::{KeyRing, ProtectionKey};
pub use license::{License, LicenseDocument, LicenseStatus, Limit, Limits};
pub use secret::{SecretBytes, SecretString};

/// Re-exported so the issuing tool and tests can make issuer keys without another dependency.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
