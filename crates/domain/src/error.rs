//! The domain's one error type.

/// Errors of the domain model: invalid names and values, invalid configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// A name that does not follow its rule.
    #[error("invalid {kind} '{name}': use {rule}")]
    InvalidName {
        /// What kind of name.
        kind: &'static str,
        /// The offending name (truncated).
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// An anchor value that cannot identify an object.
    #[error("invalid anchor: {0}; every object needs a non-empty anchor value")]
    InvalidAnchor(&'static str),
    /// A run profile name that does not exist.
    #[error(
        "unknown run profile '{0}': use full-import, delta-import, full-sync, delta-sync or export"
    )]
    UnknownProfile(String),
    /// Configuration that cannot be applied.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
}
