//! Mesh objects: the central identities, with per-attribute provenance.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::names::MeshId;
use crate::value::Attributes;

/// Which connector and rule set an attribute's value, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The contributing connector.
    pub connector: String,
    /// The rule (flow) that produced the value, e.g. `flows.in.givenName`.
    pub rule: String,
    /// When the value was set (RFC 3339).
    pub at: String,
}

/// One identity in the mesh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshObject {
    /// The stable id.
    pub id: MeshId,
    /// The object type (person, group, …).
    pub object_type: String,
    /// The composed attributes.
    pub attributes: Attributes,
    /// For each attribute, where its value came from.
    pub provenance: BTreeMap<String, Provenance>,
    /// Incremented on every change (optimistic concurrency and audit).
    pub version: i64,
}

/// A mesh object that does not exist yet (the result of a projection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMeshObject {
    /// The object type.
    pub object_type: String,
    /// The composed attributes.
    pub attributes: Attributes,
    /// Provenance of each attribute.
    pub provenance: BTreeMap<String, Provenance>,
}

/// A normalised value of a mesh attribute, indexed for joins and uniqueness.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MeshKey {
    /// The mesh attribute.
    pub attribute: String,
    /// The normalised value.
    pub key: String,
    /// Whether the attribute is declared unique.
    pub unique: bool,
}
