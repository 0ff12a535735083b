//! The agent's one error type. Messages name the file, the hub or the frame at fault and what
//! to do; none carries a secret, a token or key material.

use std::path::PathBuf;

use identitymesh_protocol::{ProtocolError, RefusalCode};

/// Errors of the relay agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The hub URL or a TLS setting is unusable; the agent cannot start.
    #[error("{0}")]
    Setup(String),
    /// A file of the data directory could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong and what to do.
        message: String,
    },
    /// Key material or a sealed secret could not be used.
    #[error(transparent)]
    Secrets(#[from] identitymesh_secrets::SecretsError),
    /// The hub refused this relay for good (revoked, disabled, unknown key, bad enrollment
    /// token, incompatible version, the license's relay limit reached): retrying would not
    /// help.
    #[error("the hub refused this relay ({code}): {message}")]
    Refused {
        /// The hub's code.
        code: &'static str,
        /// The hub's explanation.
        message: String,
    },
    /// The connection failed or closed; the agent reconnects.
    #[error("connection: {0}")]
    Connection(String),
    /// The hub broke the protocol; the agent drops the connection and reconnects.
    #[error("protocol violation by the hub: {0}")]
    Protocol(#[from] ProtocolError),
}

impl AgentError {
    /// Whether the agent must stop instead of reconnecting.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            AgentError::Setup(_)
                | AgentError::File { .. }
                | AgentError::Secrets(_)
                | AgentError::Refused { .. }
        )
    }

    /// The refusal for `code`, if it is one that ends the agent.
    pub(crate) fn from_refusal(code: RefusalCode, message: String) -> Self {
        let name = match code {
            RefusalCode::VersionMismatch => "version_mismatch",
            RefusalCode::Unauthenticated => "unauthenticated",
            RefusalCode::BadEnrollmentToken => "bad_enrollment_token",
            RefusalCode::Revoked => "revoked",
            RefusalCode::Disabled => "disabled",
            RefusalCode::ProtocolViolation => "protocol_violation",
            RefusalCode::Replaced => "replaced",
            RefusalCode::ShuttingDown => "shutting_down",
            RefusalCode::LicenseLimit => "license_limit",
        };
        match code {
            RefusalCode::VersionMismatch
            | RefusalCode::Unauthenticated
            | RefusalCode::BadEnrollmentToken
            | RefusalCode::Revoked
            | RefusalCode::Disabled
            | RefusalCode::LicenseLimit => AgentError::Refused {
                code: name,
                message,
            },
            _ => {
                AgentError::Connection(format!("the hub closed the connection ({name}): {message}"))
            }
        }
    }

    pub(crate) fn file(path: &std::path::Path, message: impl Into<String>) -> Self {
        AgentError::File {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}
