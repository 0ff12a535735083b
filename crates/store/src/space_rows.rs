//! What the Admin API asks of a connector space: which objects a search page holds. The
//! filters combine (all must hold); the page walks the connector's objects in id order.

use identitymesh_domain::{Anchor, ConnectorName};

/// Which staged objects by their state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpaceState {
    /// Every object.
    #[default]
    All,
    /// Objects with a pending import change (add, update or delete) waiting for a sync.
    PendingImport,
    /// Objects with an export in the queue (pending, failed, held or dead).
    PendingExport,
    /// Objects not joined to a mesh object: disconnectors, ambiguous joins and adoptions
    /// awaiting a decision.
    Unjoined,
}

impl SpaceState {
    /// Parses `all`, `pending-import`, `pending-export` or `unjoined`.
    pub fn parse(raw: &str) -> Option<SpaceState> {
        Some(match raw {
            "all" => SpaceState::All,
            "pending-import" => SpaceState::PendingImport,
            "pending-export" => SpaceState::PendingExport,
            "unjoined" => SpaceState::Unjoined,
            _ => return None,
        })
    }

    /// The spelling [`SpaceState::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceState::All => "all",
            SpaceState::PendingImport => "pending-import",
            SpaceState::PendingExport => "pending-export",
            SpaceState::Unjoined => "unjoined",
        }
    }
}

/// A page of a connector-space search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpaceQuery {
    /// The connector.
    pub connector: ConnectorName,
    /// Only objects in this state.
    pub state: SpaceState,
    /// Only the object with this anchor.
    pub anchor: Option<Anchor>,
    /// Only objects with a value of this attribute equal to this text (ignoring case).
    pub attribute: Option<(String, String)>,
    /// Only objects with an id above this (the previous page's last id; 0 from the start).
    pub after_id: i64,
    /// At most this many.
    pub limit: u32,
}
