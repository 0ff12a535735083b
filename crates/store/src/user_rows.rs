//! Rows of the Admin API's users, sessions and API tokens (schema version 3; a user's
//! `disabled_at` since version 4).
//!
//! The store keeps what the API gives it: a role as text (`admin`, `operator`, `viewer`; the
//! database checks it), a password as an Argon2id PHC string, a session or token by the
//! blake3 hash of its secret. It never sees a password or a token in clear, and hashing and
//! verifying are the API's business.

use chrono::{DateTime, Utc};

/// A user to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// Login name, unique.
    pub name: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
}

/// A stored user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was disabled (it cannot sign in and has no sessions or tokens), if it is.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

/// A server-side session, stored by the hash of its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// blake3 hash (hex) of the session id the cookie carries.
    pub id_hash: String,
    /// The user signed in.
    pub user_id: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The last request seen (idle expiry counts from here).
    pub last_seen_at: DateTime<Utc>,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
}

/// An API token to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewApiToken {
    /// A label for people.
    pub name: String,
    /// The user it acts for.
    pub user_id: i64,
    /// The role it is scoped to (never more than its user's).
    pub role: String,
    /// blake3 hash (hex) of the token.
    pub token_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A stored API token (its hash only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// Id.
    pub id: i64,
    /// Label.
    pub name: String,
    /// The user it acts for.
    pub user_id: i64,
    /// Its role.
    pub role: String,
    /// blake3 hash (hex) of the token.
    pub token_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}
