//! Mesh objects and their indexed keys (SQLite). Keys are the normalised values the join
//! rules and uniqueness checks look up; a partial unique index over the unique ones is the
//! last word on uniqueness. [`replace_mesh_keys`] looks for a holder first so that a clash
//! is reported with the holder's id and leaves the object's keys as they were.

use chrono::{DateTime, Utc};
use identitymesh_domain::mesh::{MeshKey, MeshObject, NewMeshObject, Provenance};
use identitymesh_domain::{Attributes, MeshId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeMap;

use super::db;
use crate::codec::{RawMesh, fmt_time, missing, to_json};
use crate::error::StoreError;
use crate::port::StoreResult;

fn raw_mesh(r: &Row<'_>) -> rusqlite::Result<RawMesh> {
    Ok(RawMesh {
        id: r.get(0)?,
        object_type: r.get(1)?,
        attributes: r.get(2)?,
        provenance: r.get(3)?,
        version: r.get(4)?,
    })
}

pub(super) fn insert_mesh(
    conn: &Connection,
    o: &NewMeshObject,
    at: DateTime<Utc>,
) -> StoreResult<MeshId> {
    const OP: &str = "insert_mesh";
    let attributes = to_json(OP, &o.attributes)?;
    let provenance = to_json(OP, &o.provenance)?;
    let at = fmt_time(at);
    conn.prepare_cached(
        "INSERT INTO mesh_objects (object_type, attributes, provenance, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?4) RETURNING id",
    )
    .and_then(|mut s| s.query_row(params![o.object_type, attributes, provenance, at], |r| r.get(0)))
    .map(MeshId)
    .map_err(db(OP))
}

pub(super) fn mesh_by_id(conn: &Connection, id: MeshId) -> StoreResult<Option<MeshObject>> {
    const OP: &str = "mesh_by_id";
    let raw = conn
        .prepare_cached("SELECT id, object_type, attributes, provenance, version FROM mesh_objects WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![id.0], raw_mesh).optional())
        .map_err(db(OP))?;
    raw.map(RawMesh::decode).transpose()
}

pub(super) fn update_mesh(
    conn: &Connection,
    id: MeshId,
    attributes: &Attributes,
    provenance: &BTreeMap<String, Provenance>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    const OP: &str = "update_mesh";
    let attributes = to_json(OP, attributes)?;
    let provenance = to_json(OP, provenance)?;
    let n = conn
        .prepare_cached(
            "UPDATE mesh_objects SET attributes = ?2, provenance = ?3, version = version + 1, updated_at = ?4
             WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.0, attributes, provenance, fmt_time(at)]))
        .map_err(db(OP))?;
    if n == 0 {
        Err(missing(OP, "mesh object", id.0))
    } else {
        Ok(())
    }
}

pub(super) fn delete_mesh(conn: &Connection, id: MeshId) -> StoreResult<()> {
    const OP: &str = "delete_mesh";
    conn.prepare_cached("DELETE FROM mesh_keys WHERE mesh_id = ?1")
        .and_then(|mut s| s.execute(params![id.0]))
        .and_then(|_| conn.prepare_cached("DELETE FROM mesh_objects WHERE id = ?1"))
        .and_then(|mut s| s.execute(params![id.0]))
        .map(drop)
        .map_err(db(OP))
}

/// Another object holding a unique key, if any.
fn unique_holder(
    conn: &Connection,
    id: MeshId,
    object_type: &str,
    key: &MeshKey,
) -> StoreResult<Option<i64>> {
    conn.prepare_cached(
        "SELECT mesh_id FROM mesh_keys WHERE object_type = ?1 AND attribute = ?2 AND key = ?3 AND is_unique
             AND mesh_id <> ?4 LIMIT 1",
    )
    .and_then(|mut s| s.query_row(params![object_type, key.attribute, key.key, id.0], |r| r.get(0)).optional())
    .map_err(db("replace_mesh_keys"))
}

pub(super) fn replace_mesh_keys(
    conn: &Connection,
    id: MeshId,
    object_type: &str,
    keys: &[MeshKey],
) -> StoreResult<()> {
    const OP: &str = "replace_mesh_keys";
    for key in keys.iter().filter(|k| k.unique) {
        if let Some(holder) = unique_holder(conn, id, object_type, key)? {
            return Err(StoreError::UniqueViolation {
                object_type: object_type.to_owned(),
                attribute: key.attribute.clone(),
                holder,
            });
        }
    }
    conn.prepare_cached("DELETE FROM mesh_keys WHERE mesh_id = ?1")
        .and_then(|mut s| s.execute(params![id.0]))
        .map_err(db(OP))?;
    // One writer: nobody can take a unique key between the check above and this insert.
    // OR IGNORE only drops a key listed twice for this object.
    let mut stmt = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO mesh_keys (mesh_id, object_type, attribute, key, is_unique)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db(OP))?;
    for key in keys {
        stmt.execute(params![
            id.0,
            object_type,
            key.attribute,
            key.key,
            key.unique
        ])
        .map_err(db(OP))?;
    }
    Ok(())
}

/// [`insert_mesh`] and the object's keys. The object is new, so there is nothing to delete
/// and no key of its own to exclude: the keys go straight in, and the unique index is the
/// check. On a clash the holder is looked up, the object removed again, and the error
/// names the holder.
pub(super) fn insert_mesh_with_keys(
    conn: &Connection,
    o: &NewMeshObject,
    keys: &[MeshKey],
    at: DateTime<Utc>,
) -> StoreResult<MeshId> {
    const OP: &str = "insert_mesh_with_keys";
    let id = insert_mesh(conn, o, at)?;
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO mesh_keys (mesh_id, object_type, attribute, key, is_unique)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db(OP))?;
    for (i, key) in keys.iter().enumerate() {
        // a key listed twice lands once, as with replace_mesh_keys
        if keys[..i]
            .iter()
            .any(|k| k.attribute == key.attribute && k.key == key.key)
        {
            continue;
        }
        let result = stmt.execute(params![
            id.0,
            o.object_type,
            key.attribute,
            key.key,
            key.unique
        ]);
        match result {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation && key.unique =>
            {
                let holder = unique_holder(conn, id, &o.object_type, key)?;
                delete_mesh(conn, id)?;
                return Err(match holder {
                    Some(holder) => StoreError::UniqueViolation {
                        object_type: o.object_type.clone(),
                        attribute: key.attribute.clone(),
                        holder,
                    },
                    None => StoreError::Database {
                        operation: OP,
                        message: "a unique key clashed with no holder".into(),
                    },
                });
            }
            Err(e) => {
                delete_mesh(conn, id)?;
                return Err(db(OP)(e));
            }
        }
    }
    Ok(id)
}

pub(super) fn mesh_ids_by_key(
    conn: &Connection,
    object_type: &str,
    attribute: &str,
    key: &str,
) -> StoreResult<Vec<MeshId>> {
    const OP: &str = "mesh_ids_by_key";
    let mut stmt = conn
        .prepare_cached(
            // no DISTINCT: the primary key (mesh_id, attribute, key) already makes each
            // mesh_id appear once for one attribute and key
            "SELECT mesh_id FROM mesh_keys WHERE object_type = ?1 AND attribute = ?2 AND key = ?3
             ORDER BY mesh_id",
        )
        .map_err(db(OP))?;
    let rows = stmt
        .query_map(params![object_type, attribute, key], |r| r.get(0))
        .map_err(db(OP))?;
    rows.map(|r| r.map(MeshId).map_err(db(OP))).collect()
}

pub(super) fn mesh_page(
    conn: &Connection,
    object_type: Option<&str>,
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<MeshObject>> {
    const OP: &str = "mesh_page";
    let sql = match object_type {
        Some(_) => {
            "SELECT id, object_type, attributes, provenance, version FROM mesh_objects
             WHERE object_type = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
        }
        None => {
            "SELECT id, object_type, attributes, provenance, version FROM mesh_objects
             WHERE ?1 IS NULL AND id > ?2 ORDER BY id LIMIT ?3"
        }
    };
    let mut stmt = conn.prepare_cached(sql).map_err(db(OP))?;
    let rows = stmt
        .query_map(params![object_type, after_id, limit], raw_mesh)
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawMesh::decode))
        .collect()
}

pub(super) fn count_mesh(conn: &Connection, object_type: Option<&str>) -> StoreResult<u64> {
    const OP: &str = "count_mesh";
    let sql = match object_type {
        Some(_) => "SELECT COUNT(*) FROM mesh_objects WHERE object_type = ?1",
        None => "SELECT COUNT(*) FROM mesh_objects WHERE ?1 IS NULL",
    };
    let n: i64 = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row(params![object_type], |r| r.get(0)))
        .map_err(db(OP))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
