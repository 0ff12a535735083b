//! Small builders for the stories.

use chrono::{DateTime, TimeZone, Utc};
use identitymesh_domain::export::{ExportOp, ExportReason, NewExport};
use identitymesh_domain::staged::{Link, PendingImport};
use identitymesh_domain::{Anchor, Attributes, ConnectorName, MeshId, Value};
use identitymesh_store::NewStaged;

/// A fixed instant plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + seconds, 0).unwrap()
}

pub fn connector(name: &str) -> ConnectorName {
    ConnectorName::parse(name).unwrap()
}

pub fn anchor(raw: &str) -> Anchor {
    Anchor::parse(raw).unwrap()
}

pub fn attrs(pairs: &[(&str, &str)]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), vec![Value::str(*v)]))
        .collect()
}

/// A new staged object of `connector` with anchor `id`, seen by `run`.
pub fn staged(conn: &str, id: &str, run: i64) -> NewStaged {
    let attributes = attrs(&[("employeeId", id), ("givenName", "Ada")]);
    NewStaged {
        connector: connector(conn),
        object_type: "person".into(),
        anchor: anchor(id),
        name: Some(format!("cn={id}")),
        hash: attributes.content_hash(),
        attributes,
        pending: PendingImport::Add,
        link: Link::Unjoined,
        changed_at: at(0),
        seen_run: run,
    }
}

pub fn export(conn: &str, staged_id: i64, op: ExportOp, reason: ExportReason) -> NewExport {
    NewExport {
        connector: connector(conn),
        staged_id,
        anchor: anchor(&format!("t-{staged_id}")),
        mesh_id: Some(MeshId(1)),
        op,
        reason,
    }
}
