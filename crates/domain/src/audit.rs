//! Audit records: who changed what, when, from what to what (design invariant 8). Secret
//! values are redacted before a record is built.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Actor {
    /// A signed-in user.
    User(String),
    /// An API token.
    Token(String),
    /// A run, by id.
    Run(i64),
    /// The command line, as the operating-system user.
    Cli(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(n) => write!(f, "user:{n}"),
            Actor::Token(n) => write!(f, "token:{n}"),
            Actor::Run(id) => write!(f, "run:{id}"),
            Actor::Cli(n) => write!(f, "cli:{n}"),
        }
    }
}

/// An audit record to write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAudit {
    /// Who.
    pub actor: String,
    /// What kind of change: `mesh.create`, `mesh.update`, `join`, `export.held`, `config.apply` …
    pub action: String,
    /// What was changed: `mesh:42`, `hr/anchor 1001`, `config:3`.
    pub target: String,
    /// The state before (changed fields only), secrets redacted.
    pub before: Option<serde_json::Value>,
    /// The state after (changed fields only), secrets redacted.
    pub after: Option<serde_json::Value>,
    /// The run that made it, if any.
    pub run_id: Option<i64>,
}

/// A stored audit record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Id, increasing.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The record.
    #[serde(flatten)]
    pub record: NewAudit,
}

/// The placeholder written instead of a secret value.
pub const REDACTED: &str = "<redacted>";
