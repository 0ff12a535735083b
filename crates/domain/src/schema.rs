//! Connector and mesh schemas: object types, their attributes and which one is the anchor.

use serde::{Deserialize, Serialize};

use crate::normalize::Normalizer;

/// The type of an attribute's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// Text.
    #[default]
    String,
    /// A 64-bit integer.
    Integer,
    /// true / false.
    Boolean,
    /// A point in time, stored as RFC 3339 text with an explicit zone.
    DateTime,
    /// Raw bytes.
    Binary,
    /// A reference to another object (by anchor in a connector, by mesh id in the mesh).
    Reference,
}

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSchema {
    /// The attribute's name as the system spells it.
    pub name: String,
    /// The type of its values.
    #[serde(default, rename = "type")]
    pub kind: ValueKind,
    /// Whether it holds several values (a set unless `ordered`).
    #[serde(default)]
    pub multi: bool,
    /// Whether a multi-valued attribute's order matters.
    #[serde(default)]
    pub ordered: bool,
    /// Whether values compare case-sensitively (default: no, as in directories).
    #[serde(default)]
    pub case_sensitive: bool,
    /// Whether values are secrets: never logged, never echoed in errors, redacted in audit.
    #[serde(default)]
    pub secret: bool,
    /// Whether a mesh attribute must be unique per object type (uses the join normaliser).
    #[serde(default)]
    pub unique: bool,
    /// Compare as an e-mail address: domain always case-folded, local part as `case_sensitive`.
    #[serde(default)]
    pub email: bool,
    /// Index normalised values of this mesh attribute (for `lookup` in flows).
    #[serde(default)]
    pub indexed: bool,
}

impl AttributeSchema {
    /// A single-valued, case-insensitive text attribute.
    pub fn text(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            kind: ValueKind::String,
            multi: false,
            ordered: false,
            case_sensitive: false,
            secret: false,
            unique: false,
            email: false,
            indexed: false,
        }
    }

    /// The normaliser used for joins, uniqueness and change detection of this attribute.
    pub fn normalizer(&self) -> Normalizer {
        Normalizer {
            case_fold: !self.case_sensitive,
            email: self.email,
        }
    }
}

/// An object type with its anchor and attributes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectTypeSchema {
    /// The object type's name (person, group, …).
    pub name: String,
    /// The attribute holding the anchor. Required: a DN or a name is not a stable identity.
    pub anchor: String,
    /// The attributes.
    pub attributes: Vec<AttributeSchema>,
}

impl ObjectTypeSchema {
    /// Looks an attribute up by name (case-insensitively, as directories do).
    pub fn attribute(&self, name: &str) -> Option<&AttributeSchema> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The names of attributes declared secret.
    pub fn secret_attributes(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(|a| a.secret)
            .map(|a| a.name.as_str())
    }
}
