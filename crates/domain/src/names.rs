//! Validated names and identifiers, each parsed once at the edge and trusted afterwards.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::DomainError;

/// The name of a configured connector: lower-case ASCII letters, digits, `-` and `_`,
/// starting with a letter, at most 63 characters. Used in file paths, URLs and log lines,
/// so it is deliberately narrow.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConnectorName(String);

impl ConnectorName {
    /// Parses a connector name, saying what is wrong when it is not acceptable.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid_start = raw.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let valid_rest = raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if raw.is_empty() || raw.len() > 63 || !valid_start || !valid_rest {
            return Err(DomainError::InvalidName {
                kind: "connector name",
                name: raw.chars().take(80).collect(),
                rule: "lower-case letters, digits, '-' and '_', starting with a letter, at most 63 characters",
            });
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ConnectorName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ConnectorName> for String {
    fn from(value: ConnectorName) -> Self {
        value.0
    }
}

impl fmt::Display for ConnectorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The immutable identifier of an external object (entryUUID, objectGUID, an HR employee id).
/// Identity follows the anchor, never the DN or the display name. An anchor is kept exactly as
/// the source gave it (leading zeros survive); it may not be empty or hold control characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Anchor(String);

impl Anchor {
    /// The longest anchor accepted, in bytes.
    pub const MAX_LEN: usize = 1024;

    /// Parses an anchor value.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.trim().is_empty() {
            return Err(DomainError::InvalidAnchor("the anchor is empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(DomainError::InvalidAnchor(
                "the anchor is longer than 1024 bytes",
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(DomainError::InvalidAnchor(
                "the anchor holds a control character",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The anchor as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Anchor {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Anchor> for String {
    fn from(value: Anchor) -> Self {
        value.0
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stable id of a mesh object. Assigned by the store; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MeshId(pub i64);

impl fmt::Display for MeshId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mesh:{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_names_are_narrow() {
        assert!(ConnectorName::parse("hr").is_ok());
        assert!(ConnectorName::parse("ad-main_2").is_ok());
        for bad in ["", "HR", "1hr", "h r", "h/r", &"a".repeat(64)] {
            assert!(ConnectorName::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn anchors_keep_leading_zeros_and_refuse_blanks() {
        assert_eq!(
            Anchor::parse("007").map(|a| a.to_string()).ok(),
            Some("007".into())
        );
        assert!(Anchor::parse("  ").is_err());
        assert!(Anchor::parse("a\nb").is_err());
    }
}
