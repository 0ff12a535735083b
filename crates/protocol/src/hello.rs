//! The handshake: hello, then enrollment (once) or challenge and proof, then welcome — or a
//! refusal naming why.
//!
//! ```text
//! relay                         hub
//!   hello {versions, host} ──▶
//!   enroll {token, key}    ──▶            (first connection only)
//!                          ◀── challenge {nonce, version}
//!   proof {relay_id, sig}  ──▶
//!                          ◀── welcome {relay_id, connectors, received_upto}
//! ```

use serde::{Deserialize, Serialize};

use crate::error::ProtocolError;
use crate::frame::SUPPORTED_VERSIONS;

/// Longest host, agent version or relay name accepted.
const MAX_TEXT: usize = 255;

fn bounded(field: &'static str, value: &str) -> Result<(), ProtocolError> {
    if value.len() > MAX_TEXT || value.chars().any(char::is_control) {
        return Err(ProtocolError::Invalid {
            field,
            reason: format!("at most {MAX_TEXT} characters, no control characters"),
        });
    }
    Ok(())
}

/// The relay's opening frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// Lowest protocol version the relay speaks.
    pub min_version: u32,
    /// Highest protocol version the relay speaks.
    pub max_version: u32,
    /// The relay's build (`identitymesh 0.1.0`).
    pub agent_version: String,
    /// The relay's host name.
    pub host: String,
    /// The id it was enrolled under; `None` before enrollment.
    pub relay_id: Option<String>,
}

impl Hello {
    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        if self.min_version > self.max_version {
            return Err(ProtocolError::Invalid {
                field: "min_version",
                reason: "greater than max_version".into(),
            });
        }
        bounded("agent_version", &self.agent_version)?;
        bounded("host", &self.host)?;
        if let Some(id) = &self.relay_id {
            bounded("relay_id", id)?;
        }
        Ok(())
    }
}

/// The version both sides speak (the highest), or the refusal to send.
pub fn negotiate(hello: &Hello) -> Result<u32, Refusal> {
    let low = hello.min_version.max(*SUPPORTED_VERSIONS.start());
    let high = hello.max_version.min(*SUPPORTED_VERSIONS.end());
    if low > high {
        return Err(Refusal {
            code: RefusalCode::VersionMismatch,
            message: format!(
                "the relay speaks protocol {}..={}, this Admin API speaks {}..={}: upgrade the older of the two",
                hello.min_version,
                hello.max_version,
                SUPPORTED_VERSIONS.start(),
                SUPPORTED_VERSIONS.end()
            ),
        });
    }
    Ok(high)
}

/// A one-time enrollment token. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnrollmentToken(pub String);

impl std::fmt::Debug for EnrollmentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnrollmentToken(***)")
    }
}

/// The relay's first-time enrollment: the token an administrator created and the public
/// key the relay generated and keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    /// The one-time token.
    pub token: EnrollmentToken,
    /// The relay's Ed25519 public key, 32 bytes in unpadded base64url.
    pub public_key: String,
    /// The name to show (defaults to the host name).
    pub name: String,
}

impl Enroll {
    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        bounded("name", &self.name)?;
        if self.public_key.len() != 43
            || !self
                .public_key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ProtocolError::Invalid {
                field: "public_key",
                reason: "an Ed25519 public key in unpadded base64url (43 characters)".into(),
            });
        }
        if self.token.0.is_empty() || self.token.0.len() > MAX_TEXT {
            return Err(ProtocolError::Invalid {
                field: "token",
                reason: "an enrollment token of 1 to 255 characters".into(),
            });
        }
        Ok(())
    }
}

/// The hub's challenge: sign [`challenge_payload`] over this nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// 32 random bytes, unpadded base64url.
    pub nonce: String,
    /// The negotiated protocol version.
    pub version: u32,
    /// On a connection that enrolled: the id the hub just assigned, which the proof names
    /// (an enrolling relay cannot know it before). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_id: Option<String>,
}

/// The relay's answer to a challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// The enrolled relay id.
    pub relay_id: String,
    /// Ed25519 signature of [`challenge_payload`], unpadded base64url.
    pub signature: String,
    /// The highest hub sequence number the relay has applied (the hub drops those from its
    /// outbox and resends the rest).
    pub received_upto: u64,
}

/// The hub's acceptance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Welcome {
    /// The relay's id (new on enrollment).
    pub relay_id: String,
    /// The connectors assigned to this relay.
    pub connectors: Vec<String>,
    /// How often to ping; the hub drops a relay silent for three intervals.
    pub heartbeat_seconds: u32,
    /// The highest relay sequence number the hub has applied.
    pub received_upto: u64,
}

/// Why a peer refuses a connection. Sent, then the connection closes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// Machine-readable reason.
    pub code: RefusalCode,
    /// What is wrong and what to do.
    pub message: String,
}

/// Reasons for a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// No common protocol version.
    VersionMismatch,
    /// Unknown relay, wrong key or bad signature.
    Unauthenticated,
    /// The enrollment token is unknown, used or expired.
    BadEnrollmentToken,
    /// The relay was revoked by an administrator.
    Revoked,
    /// The relay is disabled.
    Disabled,
    /// A frame broke the protocol.
    ProtocolViolation,
    /// The same relay connected again; this older connection is closed.
    Replaced,
    /// The other side is shutting down.
    ShuttingDown,
    /// Enrolling this relay would exceed the license's `relay_agents` limit.
    LicenseLimit,
}

/// The bytes a relay signs to answer a challenge: bound to the protocol, the relay id, the
/// hub's origin (so a challenge cannot be relayed from another hub) and the nonce.
pub fn challenge_payload(relay_id: &str, hub_origin: &str, nonce: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + relay_id.len() + hub_origin.len() + nonce.len());
    for part in ["identitymesh-hub-v1", relay_id, hub_origin, nonce] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}
