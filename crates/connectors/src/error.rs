//! The connectors' one error type. Messages name the connector, the file or server, and
//! what to do; they never carry attribute values or credentials.

/// Errors from connectors.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The connector's settings are wrong.
    #[error("connector '{connector}': {message}")]
    Config {
        /// Connector name.
        connector: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A CSV file problem.
    #[error(transparent)]
    Csv(#[from] crate::csv::CsvError),
    /// The system could not be reached or refused us.
    #[error("connector '{connector}': {message}")]
    Unavailable {
        /// Connector name.
        connector: String,
        /// What happened and what to check.
        message: String,
    },
    /// The operation is not something this connector does.
    #[error("this connector does not support {0}")]
    Unsupported(&'static str),
    /// Reading the connector space failed while writing a snapshot.
    #[error("{0}")]
    Source(String),
}
