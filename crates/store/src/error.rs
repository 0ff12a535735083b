//! The store's one error type.

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("cannot open the database at {url}: {message}")]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The database URL is not one this build understands.
    #[error("unsupported database URL '{0}': use sqlite:PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl(String),
    /// The database was written by a newer IdentityMesh.
    #[error(
        "the database schema is at version {found}, newer than this build's {known}: \
         upgrade identitymesh (or restore a backup made for this version); nothing was changed"
    )]
    SchemaTooNew {
        /// Version found in the database.
        found: i64,
        /// Highest version this build knows.
        known: i64,
    },
    /// The database schema is older than this build and migrations have not been applied.
    #[error(
        "the database schema is at version {found}, this build needs {known}: run `identitymesh migrate`"
    )]
    SchemaTooOld {
        /// Version found.
        found: i64,
        /// Version needed.
        known: i64,
    },
    /// A unique value is already taken by another object.
    #[error("the value of '{attribute}' is already used by another {object_type} (mesh:{holder})")]
    UniqueViolation {
        /// Object type.
        object_type: String,
        /// The unique attribute.
        attribute: String,
        /// The mesh object holding the value.
        holder: i64,
    },
    /// A name that must be unique (a relay's) is taken.
    #[error("a {what} named '{name}' already exists: choose another name")]
    NameTaken {
        /// What kind of record.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A fencing token was refused: another engine holds the lease now.
    #[error(
        "the lease on connector '{connector}' was lost (token {token} is stale): this engine must stop writing"
    )]
    StaleLease {
        /// The connector.
        connector: String,
        /// The token presented.
        token: i64,
    },
    /// A stored record could not be decoded.
    #[error("stored {what} {id} is damaged: {message}")]
    Corrupt {
        /// What kind of record.
        what: &'static str,
        /// Its id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// Any other database error.
    #[error("database error during {operation}: {message}")]
    Database {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's message (never holds bound parameter values).
        message: String,
    },
    /// A secret or key could not be sealed or opened. The message names the record and the
    /// key id, never a value.
    #[error(transparent)]
    Secrets(#[from] identitymesh_secrets::SecretsError),
}
