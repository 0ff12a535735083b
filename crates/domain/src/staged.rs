//! The connector space: per connector, the staged copy of every external object as last
//! imported, what is pending for it, and how it is linked to the mesh.

use serde::{Deserialize, Serialize};

use crate::names::{Anchor, ConnectorName, MeshId};
use crate::value::Attributes;

/// An object as a connector read it from its system, before staging.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedObject {
    /// The connector's object type.
    pub object_type: String,
    /// The immutable identifier.
    pub anchor: Anchor,
    /// The object's name in its system (a DN, a file row's display name), if it has one.
    pub name: Option<String>,
    /// The attributes as read.
    pub attributes: Attributes,
}

/// What an import found changed for a staged object, waiting for the next sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingImport {
    /// Nothing pending.
    None,
    /// New since the last import.
    Add,
    /// Changed since the last import.
    Update,
    /// Gone from the source (only ever staged by a complete import).
    Delete,
}

impl PendingImport {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingImport::None => "none",
            PendingImport::Add => "add",
            PendingImport::Update => "update",
            PendingImport::Delete => "delete",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "none" => PendingImport::None,
            "add" => PendingImport::Add,
            "update" => PendingImport::Update,
            "delete" => PendingImport::Delete,
            _ => return None,
        })
    }
}

/// How a staged object is linked to the mesh.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Link {
    /// Not linked (a disconnector): no join rule matched and no projection applies.
    Unjoined,
    /// Linked to a mesh object.
    Joined {
        /// The mesh object.
        mesh_id: MeshId,
        /// How the link came about.
        how: LinkKind,
    },
    /// Several mesh objects matched the join rules: stopped for this object until resolved.
    Ambiguous {
        /// The candidates found.
        candidates: Vec<MeshId>,
        /// The join rule that found them.
        rule: String,
    },
    /// One unmanaged target object matched a mesh object; adoption waits for approval.
    AwaitingAdoption {
        /// The mesh object it would be linked to.
        candidate: MeshId,
        /// Why it was not adopted automatically.
        reason: String,
    },
}

impl Link {
    /// The linked mesh object, if joined.
    pub fn mesh_id(&self) -> Option<MeshId> {
        match self {
            Link::Joined { mesh_id, .. } => Some(*mesh_id),
            _ => None,
        }
    }
}

/// How a link was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// The object created a new mesh object.
    Projected,
    /// A join rule matched exactly one mesh object.
    Joined,
    /// IdentityMesh created the object in the target (a managed object).
    Provisioned,
    /// An existing, unmanaged target object was adopted.
    Adopted,
    /// An operator linked it by hand.
    Manual,
}

/// A staged object in a connector space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedObject {
    /// The store's row id.
    pub id: i64,
    /// The connector it belongs to.
    pub connector: ConnectorName,
    /// The connector's object type.
    pub object_type: String,
    /// The immutable identifier.
    pub anchor: Anchor,
    /// The object's name in its system.
    pub name: Option<String>,
    /// The attributes as last imported (or, for a target, as last exported and confirmed).
    pub attributes: Attributes,
    /// Content hash of `attributes`.
    pub hash: String,
    /// What the last import found changed.
    pub pending: PendingImport,
    /// The link to the mesh.
    pub link: Link,
    /// When the source last changed this object (RFC 3339): the time the import first saw
    /// the current content, or a source timestamp where the connector provides one. Used to
    /// break ties between contributors of equal precedence.
    pub changed_at: String,
    /// The run that last saw this object in a full import.
    pub seen_run: i64,
}
