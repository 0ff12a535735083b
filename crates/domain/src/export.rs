//! The export queue: per connector, the adds, updates, renames and deletes that make a target
//! match the mesh. Membership and other multi-valued changes travel as value-level adds and
//! removes, never as a rewrite of the whole list (design invariant 6).

use serde::{Deserialize, Serialize};

use crate::names::{Anchor, ConnectorName, MeshId};
use crate::value::{Attributes, Value};

/// One attribute-level change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AttributeChange {
    /// Replace all values (single-valued attributes).
    Replace {
        /// Attribute.
        attribute: String,
        /// New values.
        values: Vec<Value>,
    },
    /// Add these values to a multi-valued attribute.
    AddValues {
        /// Attribute.
        attribute: String,
        /// Values to add.
        values: Vec<Value>,
    },
    /// Remove these values from a multi-valued attribute.
    RemoveValues {
        /// Attribute.
        attribute: String,
        /// Values to remove.
        values: Vec<Value>,
    },
    /// Remove the attribute entirely.
    Clear {
        /// Attribute.
        attribute: String,
    },
}

impl AttributeChange {
    /// The attribute the change touches.
    pub fn attribute(&self) -> &str {
        match self {
            AttributeChange::Replace { attribute, .. }
            | AttributeChange::AddValues { attribute, .. }
            | AttributeChange::RemoveValues { attribute, .. }
            | AttributeChange::Clear { attribute } => attribute,
        }
    }

    /// Applies the change to an attribute map (used to keep the connector space in step
    /// with a successful export).
    pub fn apply_to(&self, attributes: &mut Attributes) {
        match self {
            AttributeChange::Replace { attribute, values } => {
                attributes.set(attribute.clone(), values.clone())
            }
            AttributeChange::Clear { attribute } => {
                attributes.remove(attribute);
            }
            AttributeChange::AddValues { attribute, values } => {
                let mut current = attributes
                    .get(attribute)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                for v in values {
                    if !current.contains(v) {
                        current.push(v.clone());
                    }
                }
                attributes.set(attribute.clone(), current);
            }
            AttributeChange::RemoveValues { attribute, values } => {
                let mut current = attributes
                    .get(attribute)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                current.retain(|v| !values.contains(v));
                attributes.set(attribute.clone(), current);
            }
        }
    }
}

/// Why an export exists; guards count the destructive reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportReason {
    /// A new object in scope.
    Provision,
    /// Attribute changes for an object in scope.
    Update,
    /// The object left scope or its source disappeared; the target object is deleted.
    DeprovisionDelete,
    /// The object left scope or its source disappeared; the target object is disabled.
    DeprovisionDisable,
}

impl ExportReason {
    /// Whether the guard counts this export as destructive.
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            ExportReason::DeprovisionDelete | ExportReason::DeprovisionDisable
        )
    }
}

/// What to do in the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportOp {
    /// Create the object.
    Add {
        /// Its name in the target (a DN), if the target names objects.
        name: Option<String>,
        /// Its attributes.
        attributes: Attributes,
    },
    /// Change attributes (and optionally rename or move).
    Update {
        /// Attribute changes.
        changes: Vec<AttributeChange>,
        /// A new name, for a rename or move.
        new_name: Option<String>,
    },
    /// Delete the object.
    Delete,
}

impl ExportOp {
    /// A short label: add, update, delete.
    pub fn label(&self) -> &'static str {
        match self {
            ExportOp::Add { .. } => "add",
            ExportOp::Update { .. } => "update",
            ExportOp::Delete => "delete",
        }
    }
}

/// Where an export stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportState {
    /// Waiting for the next export run.
    Pending,
    /// Held by a tripped guard until an operator approves or rejects it.
    Held,
    /// Failed; retried by later export runs after back-off.
    Failed,
    /// Failed permanently (a conflict, or too many attempts); needs an operator.
    DeadLetter,
}

impl ExportState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Pending => "pending",
            ExportState::Held => "held",
            ExportState::Failed => "failed",
            ExportState::DeadLetter => "dead_letter",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => ExportState::Pending,
            "held" => ExportState::Held,
            "failed" => ExportState::Failed,
            "dead_letter" => ExportState::DeadLetter,
            _ => return None,
        })
    }
}

/// An export to queue for one target object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewExport {
    /// The target connector.
    pub connector: ConnectorName,
    /// The staged object in the target's connector space.
    pub staged_id: i64,
    /// The target object's anchor.
    pub anchor: Anchor,
    /// The mesh object it serves.
    pub mesh_id: Option<MeshId>,
    /// What to do.
    pub op: ExportOp,
    /// Why.
    pub reason: ExportReason,
}

/// A queued export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportItem {
    /// Queue id.
    pub id: i64,
    /// The target connector.
    pub connector: ConnectorName,
    /// The staged object in the target's connector space.
    pub staged_id: i64,
    /// The target object's anchor.
    pub anchor: Anchor,
    /// The mesh object it serves.
    pub mesh_id: Option<MeshId>,
    /// What to do.
    pub op: ExportOp,
    /// Why.
    pub reason: ExportReason,
    /// Where it stands.
    pub state: ExportState,
    /// How many times it was tried.
    pub attempts: i64,
    /// The last error, if any (never holds secret values).
    pub last_error: Option<String>,
    /// The guard hold it belongs to, when held.
    pub hold_id: Option<i64>,
}

/// The outcome of applying one export in the target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExportOutcome {
    /// Applied. For an add, the anchor the target assigned (may differ from the planned one).
    Applied {
        /// The anchor the target reports.
        anchor: Anchor,
    },
    /// Failed; may be retried.
    Failed {
        /// Why (no secret values).
        message: String,
    },
    /// Failed in a way retries cannot fix (a conflict with another identity).
    Permanent {
        /// Why (no secret values).
        message: String,
    },
}
