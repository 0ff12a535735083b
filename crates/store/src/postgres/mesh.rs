//! Mesh objects and their indexed keys (PostgreSQL). A clash on a unique key is looked up
//! before anything changes, so it is reported with the holder's id; the insert itself uses
//! `ON CONFLICT DO NOTHING` so that a concurrent writer winning the race cannot abort the
//! caller's transaction, and a key that did not land is looked up again to name its holder.

use chrono::{DateTime, Utc};
use identitymesh_domain::mesh::{MeshKey, MeshObject, NewMeshObject, Provenance};
use identitymesh_domain::{Attributes, MeshId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::collections::BTreeMap;

use super::db;
use crate::codec::{RawMesh, missing, to_json};
use crate::error::StoreError;
use crate::port::StoreResult;

const SELECT: &str =
    "SELECT id, object_type, attributes::text, provenance::text, version FROM mesh_objects ";

fn raw_mesh(r: &PgRow) -> Result<RawMesh, sqlx::Error> {
    Ok(RawMesh {
        id: r.try_get(0)?,
        object_type: r.try_get(1)?,
        attributes: r.try_get(2)?,
        provenance: r.try_get(3)?,
        version: r.try_get(4)?,
    })
}

pub(super) async fn insert_mesh(
    c: &mut PgConnection,
    o: &NewMeshObject,
    at: DateTime<Utc>,
) -> StoreResult<MeshId> {
    const OP: &str = "insert_mesh";
    let attributes = to_json(OP, &o.attributes)?;
    let provenance = to_json(OP, &o.provenance)?;
    sqlx::query_scalar(
        "INSERT INTO mesh_objects (object_type, attributes, provenance, version, created_at, updated_at)
         VALUES ($1, $2::jsonb, $3::jsonb, 1, $4, $4) RETURNING id",
    )
    .bind(&o.object_type)
    .bind(attributes)
    .bind(provenance)
    .bind(at)
    .fetch_one(c)
    .await
    .map(MeshId)
    .map_err(db(OP))
}

pub(super) async fn mesh_by_id(
    c: &mut PgConnection,
    id: MeshId,
) -> StoreResult<Option<MeshObject>> {
    const OP: &str = "mesh_by_id";
    let row = sqlx::query(select_mesh("WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(c)
        .await
        .map_err(db(OP))?;
    row.map(|r| raw_mesh(&r).map_err(db(OP)).and_then(RawMesh::decode))
        .transpose()
}

/// The select with a tail; the few strings are built once per call, which is cheap next to
/// the round trip.
fn select_mesh(tail: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{SELECT}{tail}"))
}

pub(super) async fn update_mesh(
    c: &mut PgConnection,
    id: MeshId,
    attributes: &Attributes,
    provenance: &BTreeMap<String, Provenance>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    const OP: &str = "update_mesh";
    let attributes = to_json(OP, attributes)?;
    let provenance = to_json(OP, provenance)?;
    let done = sqlx::query(
        "UPDATE mesh_objects SET attributes = $2::jsonb, provenance = $3::jsonb, version = version + 1,
             updated_at = $4 WHERE id = $1",
    )
    .bind(id.0)
    .bind(attributes)
    .bind(provenance)
    .bind(at)
    .execute(c)
    .await
    .map_err(db(OP))?;
    if done.rows_affected() == 0 {
        Err(missing(OP, "mesh object", id.0))
    } else {
        Ok(())
    }
}

pub(super) async fn delete_mesh(c: &mut PgConnection, id: MeshId) -> StoreResult<()> {
    const OP: &str = "delete_mesh";
    sqlx::query("DELETE FROM mesh_keys WHERE mesh_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await
        .map_err(db(OP))?;
    sqlx::query("DELETE FROM mesh_objects WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await
        .map_err(db(OP))?;
    Ok(())
}

/// Another object holding one of the unique keys, if any: (attribute, holder).
async fn unique_holder(
    c: &mut PgConnection,
    id: MeshId,
    object_type: &str,
    keys: &[&MeshKey],
) -> StoreResult<Option<(String, i64)>> {
    let attributes: Vec<&str> = keys.iter().map(|k| k.attribute.as_str()).collect();
    let values: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    let row = sqlx::query(
        "SELECT k.attribute, k.mesh_id FROM mesh_keys k
         JOIN UNNEST($3::text[], $4::text[]) AS t(attribute, key) ON k.attribute = t.attribute AND k.key = t.key
         WHERE k.object_type = $1 AND k.is_unique AND k.mesh_id <> $2 LIMIT 1",
    )
    .bind(object_type)
    .bind(id.0)
    .bind(attributes)
    .bind(values)
    .fetch_optional(c)
    .await
    .map_err(db("replace_mesh_keys"))?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .transpose()
        .map_err(db("replace_mesh_keys"))
}

/// [`insert_mesh`] and the object's keys, for a new object: any unique key's holder is
/// looked up first, so a clash stores nothing.
pub(super) async fn insert_mesh_with_keys(
    c: &mut PgConnection,
    o: &NewMeshObject,
    keys: &[MeshKey],
    at: DateTime<Utc>,
) -> StoreResult<MeshId> {
    let unique: Vec<&MeshKey> = keys.iter().filter(|k| k.unique).collect();
    // ids start at 1: MeshId(0) excludes no holder
    if !unique.is_empty()
        && let Some((attribute, holder)) =
            unique_holder(c, MeshId(0), &o.object_type, &unique).await?
    {
        return Err(StoreError::UniqueViolation {
            object_type: o.object_type.clone(),
            attribute,
            holder,
        });
    }
    let id = insert_mesh(c, o, at).await?;
    if let Err(e) = replace_mesh_keys(c, id, &o.object_type, keys).await {
        // a concurrent writer took a key after the check: store nothing
        delete_mesh(c, id).await?;
        return Err(e);
    }
    Ok(id)
}

pub(super) async fn replace_mesh_keys(
    c: &mut PgConnection,
    id: MeshId,
    object_type: &str,
    keys: &[MeshKey],
) -> StoreResult<()> {
    const OP: &str = "replace_mesh_keys";
    let violation = |(attribute, holder): (String, i64)| StoreError::UniqueViolation {
        object_type: object_type.to_owned(),
        attribute,
        holder,
    };
    let unique: Vec<&MeshKey> = keys.iter().filter(|k| k.unique).collect();
    if !unique.is_empty()
        && let Some(found) = unique_holder(c, id, object_type, &unique).await?
    {
        return Err(violation(found));
    }
    sqlx::query("DELETE FROM mesh_keys WHERE mesh_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await
        .map_err(db(OP))?;
    if keys.is_empty() {
        return Ok(());
    }
    let attributes: Vec<&str> = keys.iter().map(|k| k.attribute.as_str()).collect();
    let values: Vec<&str> = keys.iter().map(|k| k.key.as_str()).collect();
    let flags: Vec<bool> = keys.iter().map(|k| k.unique).collect();
    let done = sqlx::query(
        "INSERT INTO mesh_keys (mesh_id, object_type, attribute, key, is_unique)
         SELECT $1, $2, t.a, t.k, t.u FROM UNNEST($3::text[], $4::text[], $5::bool[]) AS t(a, k, u)
         ON CONFLICT DO NOTHING",
    )
    .bind(id.0)
    .bind(object_type)
    .bind(attributes)
    .bind(values)
    .bind(flags)
    .execute(&mut *c)
    .await
    .map_err(db(OP))?;
    // Fewer rows than keys: a duplicate in the list, or a unique key taken meanwhile.
    if done.rows_affected() < keys.len() as u64
        && !unique.is_empty()
        && let Some(found) = unique_holder(c, id, object_type, &unique).await?
    {
        return Err(violation(found));
    }
    Ok(())
}

pub(super) async fn mesh_ids_by_key(
    c: &mut PgConnection,
    object_type: &str,
    attribute: &str,
    key: &str,
) -> StoreResult<Vec<MeshId>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT mesh_id FROM mesh_keys WHERE object_type = $1 AND attribute = $2 AND key = $3
         ORDER BY mesh_id",
    )
    .bind(object_type)
    .bind(attribute)
    .bind(key)
    .fetch_all(c)
    .await
    .map_err(db("mesh_ids_by_key"))?;
    Ok(ids.into_iter().map(MeshId).collect())
}

pub(super) async fn mesh_page(
    c: &mut PgConnection,
    object_type: Option<&str>,
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<MeshObject>> {
    const OP: &str = "mesh_page";
    let query = match object_type {
        Some(t) => sqlx::query(select_mesh(
            "WHERE object_type = $3 AND id > $1 ORDER BY id LIMIT $2",
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .bind(t),
        None => sqlx::query(select_mesh("WHERE id > $1 ORDER BY id LIMIT $2"))
            .bind(after_id)
            .bind(i64::from(limit)),
    };
    let rows = query.fetch_all(c).await.map_err(db(OP))?;
    rows.iter()
        .map(|r| raw_mesh(r).map_err(db(OP)).and_then(RawMesh::decode))
        .collect()
}

pub(super) async fn count_mesh(
    c: &mut PgConnection,
    object_type: Option<&str>,
) -> StoreResult<u64> {
    let query = match object_type {
        Some(t) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM mesh_objects WHERE object_type = $1").bind(t)
        }
        None => sqlx::query_scalar("SELECT COUNT(*) FROM mesh_objects"),
    };
    let n: i64 = query.fetch_one(c).await.map_err(db("count_mesh"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
