//! The configuration model: connectors, schemas, rules, guards and cycles, read from one
//! TOML file, validated and compiled (every expression) before it can be applied.
//! An error names the rule (`connectors.hr.flows_in.givenName`), the line of the file where
//! that rule is written, and the position inside the expression.

mod compile;
mod locate;
mod raw;
mod secret_refs;

pub use compile::*;
pub use raw::*;
pub use secret_refs::{check_secret_name, check_setting_name};

use std::fmt;

/// A configuration problem.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub struct ConfigError {
    /// The rule or setting at fault, as a dotted path (`connectors.hr.anchor`).
    pub path: String,
    /// The line of the configuration file, when known.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// All the problems found in one configuration, so an operator fixes them in one pass.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
