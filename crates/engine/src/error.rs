//! The engine's one error type.

use identitymesh_connectors::ConnectorError;
use identitymesh_store::StoreError;

/// Errors that stop a run (per-object problems are recorded on the run instead).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A connector failed as a whole (unreachable, misconfigured).
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    /// No such connector in the active configuration.
    #[error(
        "no connector named '{0}' in the active configuration; `identitymesh config export` shows it"
    )]
    UnknownConnector(String),
    /// No such cycle.
    #[error("no cycle named '{0}' in the active configuration (add it under [cycles])")]
    UnknownCycle(String),
    /// The profile cannot run on this connector.
    #[error("{0}")]
    NotApplicable(String),
    /// Another engine holds the connector's lease; the request was queued.
    #[error(
        "connector '{connector}' is busy with a run held by {holder}; the request was queued as #{request_id} and will run when it is free"
    )]
    Busy {
        /// Connector.
        connector: String,
        /// Current holder.
        holder: String,
        /// The queued request.
        request_id: i64,
    },
    /// A secret the connector's configuration names is missing or cannot be opened. The
    /// message names the connector, the setting, the secret and what to do; never a value.
    #[error(
        "connector '{connector}' cannot run: its setting '{setting}' takes the secret '{secret}', {problem}"
    )]
    Secret {
        /// Connector.
        connector: String,
        /// The connector setting (`bind_password`).
        setting: String,
        /// The stored secret's name.
        secret: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A background task failed.
    #[error("internal task failure: {0}")]
    Task(String),
}

impl From<tokio::task::JoinError> for EngineError {
    fn from(e: tokio::task::JoinError) -> Self {
        EngineError::Task(e.to_string())
    }
}
