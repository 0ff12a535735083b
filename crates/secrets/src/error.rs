//! The crate's one error type. No variant ever carries a secret value, a key or a
//! passphrase: only names, key ids, paths and what went wrong.

use std::path::PathBuf;

/// Errors from sealing, opening, key files, the key ring and licenses.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// A key file is readable by group or others.
    #[error(
        "refusing to use the key file {path}: it is readable by group or others (mode {mode:03o}); \
         run `chmod 600 {path}` and make sure only the service account owns it"
    )]
    KeyFilePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file could not be read, written or understood.
    #[error("key file {path}: {message}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A record is wrapped by a key-encryption key this host does not hold.
    #[error(
        "{record} is encrypted under key-encryption key {key_id}, which this host does not hold \
         (keys present: {present}). Bring it: on a host that has it run \
         `identitymesh secrets export-key FILE`, copy FILE here, then run \
         `identitymesh secrets import-key FILE`"
    )]
    MissingKey {
        /// The key id the record names.
        key_id: String,
        /// Which record (`secret 'ldap-bind'`).
        record: String,
        /// The key ids this host holds.
        present: String,
    },
    /// Authentication failed: the blob was altered, belongs to another record, or the key
    /// with this id is not the key that sealed it.
    #[error(
        "cannot decrypt {record}: the stored data was altered or damaged (authentication failed)"
    )]
    Tampered {
        /// Which record.
        record: String,
    },
    /// A blob is too short or of an unknown format.
    #[error("cannot decrypt {record}: the stored data is damaged ({message})")]
    Damaged {
        /// Which record.
        record: String,
        /// What is wrong (lengths and versions, never content).
        message: String,
    },
    /// A passphrase-protected key file could not be opened with the passphrase given.
    #[error("cannot open the key file {path}: wrong passphrase, or the file was altered")]
    WrongPassphrase {
        /// The file.
        path: PathBuf,
    },
    /// A passphrase was refused before use.
    #[error("the passphrase is unusable: {0}")]
    Passphrase(String),
    /// A data-protection token did not verify.
    #[error("the protected token is invalid: {0}")]
    Token(&'static str),
    /// The key ring has no key active at this time.
    #[error("the data-protection key ring has no active key; rotate it to create one")]
    NoActiveKey,
    /// A license file is not a license document.
    #[error("the license {source_name} is malformed: {message}")]
    LicenseMalformed {
        /// Where it came from.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A license signature does not verify: the document was changed after signing.
    #[error(
        "the license {source_name} was altered after it was signed (signature check failed); \
         ask the issuer for a fresh copy"
    )]
    LicenseTampered {
        /// Where it came from.
        source_name: String,
    },
    /// A license names an issuer key that is not trusted here.
    #[error(
        "the license {source_name} is signed by an unknown issuer (key {key_id}); trusted issuer \
         keys are built in and can be added in IDENTITYMESH_LICENSE_ISSUERS or the data \
         directory's license-issuers file"
    )]
    LicenseUnknownIssuer {
        /// Where it came from.
        source_name: String,
        /// The issuer key id the license names.
        key_id: String,
    },
    /// A licensed limit would be exceeded.
    #[error(
        "the {edition} license of {licensee} allows {allowed} {limit}, this needs {requested}: \
         remove some or install a license with a higher {limit} limit"
    )]
    LimitExceeded {
        /// The limit's name (`connectors`).
        limit: &'static str,
        /// What the license allows.
        allowed: u64,
        /// What was asked for.
        requested: u64,
        /// The licensee.
        licensee: String,
        /// The edition.
        edition: String,
    },
    /// The operating system's random source failed.
    #[error("the system random source failed: {0}")]
    Random(String),
}

/// Shorthand for results of this crate.
pub type SecretsResult<T> = Result<T, SecretsError>;
