//! Encoding and decoding shared by both backends.
//!
//! Both backends read a row into the same plain `Raw*` struct (text for JSON columns, RFC 3339
//! text for times) and turn it into a domain type here, so the two cannot drift apart. A row
//! that does not decode is [`StoreError::Corrupt`] naming the table and the row id, never a
//! panic. Times are rendered with microseconds and a `Z`, fixed width, so that SQLite can
//! compare them as text and both backends print the same strings.

use chrono::{DateTime, SecondsFormat, Utc};
use identitymesh_domain::audit::{AuditRecord, NewAudit};
use identitymesh_domain::export::{ExportItem, ExportReason, ExportState};
use identitymesh_domain::mesh::MeshObject;
use identitymesh_domain::run::{RunProfile, RunRecord, RunStatus};
use identitymesh_domain::staged::{Link, PendingImport, StagedObject};
use identitymesh_domain::{Anchor, ConnectorName, MeshId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::StoreError;
use crate::port::{ConfigVersion, Lease, RunRequest, StoreResult};

/// Renders a time as stored: `2024-01-31T08:00:00.000000Z`.
pub(crate) fn fmt_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored time.
pub(crate) fn parse_time(table: &'static str, id: &str, raw: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(table, id, format!("bad time: {e}")))
}

/// Serialises a value for a JSON column.
pub(crate) fn to_json<T: Serialize + ?Sized>(
    operation: &'static str,
    value: &T,
) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Database {
        operation,
        message: format!("cannot encode a JSON column: {e}"),
    })
}

/// Decodes a JSON column.
pub(crate) fn from_json<T: DeserializeOwned>(
    table: &'static str,
    id: &str,
    column: &str,
    raw: &str,
) -> StoreResult<T> {
    serde_json::from_str(raw).map_err(|e| corrupt(table, id, format!("column {column}: {e}")))
}

/// A damaged-row error.
pub(crate) fn corrupt(table: &'static str, id: &str, message: String) -> StoreError {
    StoreError::Corrupt {
        what: table,
        id: id.to_owned(),
        message,
    }
}

/// A "row does not exist" error for updates that must hit one row.
pub(crate) fn missing(operation: &'static str, what: &str, id: i64) -> StoreError {
    StoreError::Database {
        operation,
        message: format!("{what} {id} does not exist"),
    }
}

/// A savepoint used out of order (the port allows one level).
pub(crate) fn savepoint_misuse(operation: &'static str, message: &str) -> StoreError {
    StoreError::Database {
        operation,
        message: message.to_owned(),
    }
}

/// The stored spelling of an export reason.
pub(crate) fn reason_str(reason: ExportReason) -> &'static str {
    match reason {
        ExportReason::Provision => "provision",
        ExportReason::Update => "update",
        ExportReason::DeprovisionDelete => "deprovision_delete",
        ExportReason::DeprovisionDisable => "deprovision_disable",
    }
}

fn parse_reason(raw: &str) -> Option<ExportReason> {
    Some(match raw {
        "provision" => ExportReason::Provision,
        "update" => ExportReason::Update,
        "deprovision_delete" => ExportReason::DeprovisionDelete,
        "deprovision_disable" => ExportReason::DeprovisionDisable,
        _ => return None,
    })
}

/// The `link_state` column: the link's tag, denormalised for the review index.
pub(crate) fn link_state(link: &Link) -> &'static str {
    match link {
        Link::Unjoined => "unjoined",
        Link::Joined { .. } => "joined",
        Link::Ambiguous { .. } => "ambiguous",
        Link::AwaitingAdoption { .. } => "awaiting_adoption",
    }
}

/// A `staged_objects` row.
pub(crate) struct RawStaged {
    pub id: i64,
    pub connector: String,
    pub object_type: String,
    pub anchor: String,
    pub name: Option<String>,
    pub attributes: String,
    pub hash: String,
    pub pending: String,
    pub link: String,
    pub changed_at: String,
    pub seen_run: i64,
}

impl RawStaged {
    pub(crate) fn decode(self) -> StoreResult<StagedObject> {
        const T: &str = "staged_objects";
        let id = self.id.to_string();
        Ok(StagedObject {
            id: self.id,
            connector: ConnectorName::parse(&self.connector)
                .map_err(|e| corrupt(T, &id, e.to_string()))?,
            object_type: self.object_type,
            anchor: Anchor::parse(&self.anchor).map_err(|e| corrupt(T, &id, e.to_string()))?,
            name: self.name,
            attributes: from_json(T, &id, "attributes", &self.attributes)?,
            hash: self.hash,
            pending: PendingImport::parse(&self.pending)
                .ok_or_else(|| corrupt(T, &id, "unknown pending state".into()))?,
            link: from_json(T, &id, "link", &self.link)?,
            changed_at: self.changed_at,
            seen_run: self.seen_run,
        })
    }
}

/// A `mesh_objects` row.
pub(crate) struct RawMesh {
    pub id: i64,
    pub object_type: String,
    pub attributes: String,
    pub provenance: String,
    pub version: i64,
}

impl RawMesh {
    pub(crate) fn decode(self) -> StoreResult<MeshObject> {
        const T: &str = "mesh_objects";
        let id = self.id.to_string();
        Ok(MeshObject {
            id: MeshId(self.id),
            object_type: self.object_type,
            attributes: from_json(T, &id, "attributes", &self.attributes)?,
            provenance: from_json(T, &id, "provenance", &self.provenance)?,
            version: self.version,
        })
    }
}

/// An `export_queue` row.
pub(crate) struct RawExport {
    pub id: i64,
    pub connector: String,
    pub staged_id: i64,
    pub anchor: String,
    pub mesh_id: Option<i64>,
    pub op: String,
    pub reason: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub hold_id: Option<i64>,
}

impl RawExport {
    pub(crate) fn decode(self) -> StoreResult<ExportItem> {
        const T: &str = "export_queue";
        let id = self.id.to_string();
        Ok(ExportItem {
            id: self.id,
            connector: ConnectorName::parse(&self.connector)
                .map_err(|e| corrupt(T, &id, e.to_string()))?,
            staged_id: self.staged_id,
            anchor: Anchor::parse(&self.anchor).map_err(|e| corrupt(T, &id, e.to_string()))?,
            mesh_id: self.mesh_id.map(MeshId),
            op: from_json(T, &id, "op", &self.op)?,
            reason: parse_reason(&self.reason)
                .ok_or_else(|| corrupt(T, &id, "unknown reason".into()))?,
            state: ExportState::parse(&self.state)
                .ok_or_else(|| corrupt(T, &id, "unknown state".into()))?,
            attempts: self.attempts,
            last_error: self.last_error,
            hold_id: self.hold_id,
        })
    }
}

/// A `runs` row.
pub(crate) struct RawRun {
    pub id: i64,
    pub connector: String,
    pub profile: String,
    pub simulation: bool,
    pub status: String,
    pub actor: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub stats: String,
    pub reason: Option<String>,
    pub cancel_requested_at: Option<String>,
    pub cancel_requested_by: Option<String>,
}

impl RawRun {
    pub(crate) fn decode(self) -> StoreResult<RunRecord> {
        const T: &str = "runs";
        let id = self.id.to_string();
        Ok(RunRecord {
            id: self.id,
            connector: self.connector,
            profile: parse_profile(T, &id, &self.profile)?,
            simulation: self.simulation,
            status: RunStatus::parse(&self.status)
                .ok_or_else(|| corrupt(T, &id, "unknown status".into()))?,
            actor: self.actor,
            started_at: self.started_at,
            ended_at: self.ended_at,
            stats: from_json(T, &id, "stats", &self.stats)?,
            reason: self.reason,
            cancel_requested_at: self.cancel_requested_at,
            cancel_requested_by: self.cancel_requested_by,
        })
    }
}

fn parse_profile(table: &'static str, id: &str, raw: &str) -> StoreResult<RunProfile> {
    raw.parse()
        .map_err(|_| corrupt(table, id, "unknown run profile".into()))
}

/// An `audit` row.
pub(crate) struct RawAudit {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub run_id: Option<i64>,
}

impl RawAudit {
    pub(crate) fn decode(self) -> StoreResult<AuditRecord> {
        const T: &str = "audit";
        let id = self.id.to_string();
        let json = |column: &str, raw: Option<String>| -> StoreResult<Option<serde_json::Value>> {
            raw.map(|r| from_json(T, &id, column, &r)).transpose()
        };
        Ok(AuditRecord {
            id: self.id,
            at: self.at,
            record: NewAudit {
                actor: self.actor,
                action: self.action,
                target: self.target,
                before: json("before", self.before)?,
                after: json("after", self.after)?,
                run_id: self.run_id,
            },
        })
    }
}

/// A `config_versions` row.
pub(crate) struct RawConfig {
    pub id: i64,
    pub hash: String,
    pub author: String,
    pub created_at: String,
    pub content: String,
}

impl RawConfig {
    pub(crate) fn decode(self) -> StoreResult<ConfigVersion> {
        let id = self.id.to_string();
        Ok(ConfigVersion {
            id: self.id,
            hash: self.hash,
            author: self.author,
            created_at: parse_time("config_versions", &id, &self.created_at)?,
            content: self.content,
        })
    }
}

/// A `leases` row.
pub(crate) struct RawLease {
    pub connector: String,
    pub holder: String,
    pub token: i64,
    pub expires_at: String,
}

impl RawLease {
    pub(crate) fn decode(self) -> StoreResult<Lease> {
        let expires_at = parse_time("leases", &self.connector, &self.expires_at)?;
        Ok(Lease {
            connector: self.connector,
            holder: self.holder,
            token: self.token,
            expires_at,
        })
    }
}

/// A `run_requests` row.
pub(crate) struct RawRunRequest {
    pub id: i64,
    pub connector: String,
    pub profile: String,
    pub actor: String,
    pub requested_at: String,
}

impl RawRunRequest {
    pub(crate) fn decode(self) -> StoreResult<RunRequest> {
        const T: &str = "run_requests";
        let id = self.id.to_string();
        Ok(RunRequest {
            id: self.id,
            connector: self.connector,
            profile: parse_profile(T, &id, &self.profile)?,
            actor: self.actor,
            requested_at: parse_time(T, &id, &self.requested_at)?,
        })
    }
}

/// Decodes one change of a simulation.
pub(crate) fn decode_change(run_id: i64, seq: i64, raw: &str) -> StoreResult<serde_json::Value> {
    from_json("simulations", &format!("{run_id}/{seq}"), "change", raw)
}
