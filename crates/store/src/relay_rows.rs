//! Rows of relay agents, their enrollment tokens and the hub's outbox (schema version 5).
//!
//! Enrollment tokens are kept by the blake3 hash of their value, like API tokens: a copy of
//! the database enrolls nobody. A relay's public key is public by nature. Outbox frames are
//! protocol frames as JSON text, which hold secret references but never secret values.

use chrono::{DateTime, Utc};

/// Whether a relay may connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayStatus {
    /// May connect.
    Active,
    /// Refused until enabled again.
    Disabled,
    /// Refused for good.
    Revoked,
}

impl RelayStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayStatus::Active => "active",
            RelayStatus::Disabled => "disabled",
            RelayStatus::Revoked => "revoked",
        }
    }
    /// Reads the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(RelayStatus::Active),
            "disabled" => Some(RelayStatus::Disabled),
            "revoked" => Some(RelayStatus::Revoked),
            _ => None,
        }
    }
}

/// A relay to enroll. Its name is the one the administrator gave the enrollment token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRelay {
    /// Its id (`r-…`, random).
    pub id: String,
    /// Ed25519 public key, unpadded base64url.
    pub public_key: String,
}

/// A stored relay with its presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayRecord {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Ed25519 public key, unpadded base64url.
    pub public_key: String,
    /// Whether it may connect.
    pub status: RelayStatus,
    /// Enrolled at.
    pub created_at: DateTime<Utc>,
    /// Host name it reported.
    pub host: Option<String>,
    /// Build it reported.
    pub agent_version: Option<String>,
    /// The Admin API instance it is connected to, if connected.
    pub connected_instance: Option<String>,
    /// Connected since.
    pub connected_since: Option<DateTime<Utc>>,
    /// Last heartbeat.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Highest relay sequence number the hub applied.
    pub inbox_upto: u64,
}

/// An enrollment token to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEnrollmentToken {
    /// The name the relay will get.
    pub name: String,
    /// blake3 hash of the token value.
    pub token_hash: String,
    /// Who created it.
    pub created_by: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Unusable after.
    pub expires_at: DateTime<Utc>,
}

/// A stored enrollment token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentTokenRecord {
    /// Id.
    pub id: i64,
    /// The name the relay will get.
    pub name: String,
    /// Who created it.
    pub created_by: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Unusable after.
    pub expires_at: DateTime<Utc>,
    /// When a relay used it.
    pub used_at: Option<DateTime<Utc>>,
    /// The relay that used it.
    pub relay_id: Option<String>,
}
