//! The connector space (PostgreSQL): staged objects, their pending import state and their
//! link to the mesh, with the same denormalised `mesh_id` and `link_state` columns and the
//! same `(connector, id)` paging as the SQLite module.

use chrono::{DateTime, Utc};
use identitymesh_domain::staged::{Link, PendingImport, StagedObject};
use identitymesh_domain::{Anchor, Attributes, ConnectorName, MeshId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::db;
use crate::codec::{RawStaged, fmt_time, link_state, missing, to_json};
use crate::port::{NewStaged, StagedFilter, StoreResult};

macro_rules! select_staged {
    ($tail:literal) => {
        concat!(
            "SELECT id, connector, object_type, anchor, name, attributes::text, hash, pending, link::text,
                 changed_at, seen_run
             FROM staged_objects ",
            $tail
        )
    };
}

fn raw_staged(r: &PgRow) -> Result<RawStaged, sqlx::Error> {
    Ok(RawStaged {
        id: r.try_get(0)?,
        connector: r.try_get(1)?,
        object_type: r.try_get(2)?,
        anchor: r.try_get(3)?,
        name: r.try_get(4)?,
        attributes: r.try_get(5)?,
        hash: r.try_get(6)?,
        pending: r.try_get(7)?,
        link: r.try_get(8)?,
        changed_at: fmt_time(r.try_get(9)?),
        seen_run: r.try_get(10)?,
    })
}

fn decode_one(op: &'static str, row: Option<PgRow>) -> StoreResult<Option<StagedObject>> {
    row.map(|r| raw_staged(&r).map_err(db(op)).and_then(RawStaged::decode))
        .transpose()
}

fn decode_all(op: &'static str, rows: Vec<PgRow>) -> StoreResult<Vec<StagedObject>> {
    rows.iter()
        .map(|r| raw_staged(r).map_err(db(op)).and_then(RawStaged::decode))
        .collect()
}

fn exactly_one(op: &'static str, id: i64, changed: u64) -> StoreResult<()> {
    if changed == 0 {
        Err(missing(op, "staged object", id))
    } else {
        Ok(())
    }
}

pub(super) async fn insert_staged(c: &mut PgConnection, o: &NewStaged) -> StoreResult<i64> {
    const OP: &str = "insert_staged";
    let attributes = to_json(OP, &o.attributes)?;
    let link = to_json(OP, &o.link)?;
    sqlx::query_scalar(
        "INSERT INTO staged_objects (connector, object_type, anchor, name, attributes, hash, pending,
             link, link_state, mesh_id, changed_at, seen_run)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, $9, $10, $11, $12) RETURNING id",
    )
    .bind(o.connector.as_str())
    .bind(&o.object_type)
    .bind(o.anchor.as_str())
    .bind(o.name.as_deref())
    .bind(attributes)
    .bind(&o.hash)
    .bind(o.pending.as_str())
    .bind(link)
    .bind(link_state(&o.link))
    .bind(o.link.mesh_id().map(|m| m.0))
    .bind(o.changed_at)
    .bind(o.seen_run)
    .fetch_one(c)
    .await
    .map_err(db(OP))
}

pub(super) async fn staged_by_anchor(
    c: &mut PgConnection,
    connector: &ConnectorName,
    anchor: &Anchor,
) -> StoreResult<Option<StagedObject>> {
    const OP: &str = "staged_by_anchor";
    let row = sqlx::query(select_staged!("WHERE connector = $1 AND anchor = $2"))
        .bind(connector.as_str())
        .bind(anchor.as_str())
        .fetch_optional(c)
        .await
        .map_err(db(OP))?;
    decode_one(OP, row)
}

pub(super) async fn staged_by_id(
    c: &mut PgConnection,
    id: i64,
) -> StoreResult<Option<StagedObject>> {
    const OP: &str = "staged_by_id";
    let row = sqlx::query(select_staged!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(db(OP))?;
    decode_one(OP, row)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn update_staged_content(
    c: &mut PgConnection,
    id: i64,
    name: Option<&str>,
    attributes: &Attributes,
    hash: &str,
    pending: PendingImport,
    changed_at: DateTime<Utc>,
    seen_run: i64,
) -> StoreResult<()> {
    const OP: &str = "update_staged_content";
    let attributes = to_json(OP, attributes)?;
    let done = sqlx::query(
        "UPDATE staged_objects SET name = $2, attributes = $3::jsonb, hash = $4, pending = $5, changed_at = $6,
             seen_run = $7 WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(attributes)
    .bind(hash)
    .bind(pending.as_str())
    .bind(changed_at)
    .bind(seen_run)
    .execute(c)
    .await
    .map_err(db(OP))?;
    exactly_one(OP, id, done.rows_affected())
}

pub(super) async fn update_staged_anchor(
    c: &mut PgConnection,
    id: i64,
    anchor: &Anchor,
) -> StoreResult<()> {
    const OP: &str = "update_staged_anchor";
    let done = sqlx::query("UPDATE staged_objects SET anchor = $2 WHERE id = $1")
        .bind(id)
        .bind(anchor.as_str())
        .execute(&mut *c)
        .await
        .map_err(db(OP))?;
    // Queued exports carry the anchor too: keep them pointing at the same object.
    sqlx::query("UPDATE export_queue SET anchor = $2 WHERE staged_id = $1")
        .bind(id)
        .bind(anchor.as_str())
        .execute(c)
        .await
        .map_err(db(OP))?;
    exactly_one(OP, id, done.rows_affected())
}

async fn set_one(
    c: &mut PgConnection,
    op: &'static str,
    sql: &'static str,
    id: i64,
    value: &str,
) -> StoreResult<()> {
    let done = sqlx::query(sql)
        .bind(id)
        .bind(value)
        .execute(c)
        .await
        .map_err(db(op))?;
    exactly_one(op, id, done.rows_affected())
}

pub(super) async fn mark_staged_seen(
    c: &mut PgConnection,
    id: i64,
    run_id: i64,
) -> StoreResult<()> {
    const OP: &str = "mark_staged_seen";
    let done = sqlx::query("UPDATE staged_objects SET seen_run = $2 WHERE id = $1")
        .bind(id)
        .bind(run_id)
        .execute(c)
        .await
        .map_err(db(OP))?;
    exactly_one(OP, id, done.rows_affected())
}

pub(super) async fn set_staged_pending(
    c: &mut PgConnection,
    id: i64,
    pending: PendingImport,
) -> StoreResult<()> {
    set_one(
        c,
        "set_staged_pending",
        "UPDATE staged_objects SET pending = $2 WHERE id = $1",
        id,
        pending.as_str(),
    )
    .await
}

pub(super) async fn set_staged_link(c: &mut PgConnection, id: i64, link: &Link) -> StoreResult<()> {
    const OP: &str = "set_staged_link";
    let json = to_json(OP, link)?;
    let done = sqlx::query(
        "UPDATE staged_objects SET link = $2::jsonb, link_state = $3, mesh_id = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(json)
    .bind(link_state(link))
    .bind(link.mesh_id().map(|m| m.0))
    .execute(c)
    .await
    .map_err(db(OP))?;
    exactly_one(OP, id, done.rows_affected())
}

pub(super) async fn set_staged_link_and_pending(
    c: &mut PgConnection,
    id: i64,
    link: &Link,
    pending: PendingImport,
) -> StoreResult<()> {
    const OP: &str = "set_staged_link_and_pending";
    let json = to_json(OP, link)?;
    let done = sqlx::query(
        "UPDATE staged_objects SET link = $2::jsonb, link_state = $3, mesh_id = $4, pending = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(json)
    .bind(link_state(link))
    .bind(link.mesh_id().map(|m| m.0))
    .bind(pending.as_str())
    .execute(c)
    .await
    .map_err(db(OP))?;
    exactly_one(OP, id, done.rows_affected())
}

pub(super) async fn delete_staged(c: &mut PgConnection, id: i64) -> StoreResult<()> {
    const OP: &str = "delete_staged";
    sqlx::query("DELETE FROM export_queue WHERE staged_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map_err(db(OP))?;
    sqlx::query("DELETE FROM staged_objects WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map_err(db(OP))?;
    Ok(())
}

pub(super) async fn staged_page(
    c: &mut PgConnection,
    connector: &ConnectorName,
    filter: StagedFilter,
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "staged_page";
    let query = match filter {
        StagedFilter::All => sqlx::query(select_staged!(
            "WHERE connector = $1 AND id > $2 ORDER BY id LIMIT $3"
        )),
        StagedFilter::Pending => sqlx::query(select_staged!(
            "WHERE connector = $1 AND pending <> 'none' AND id > $2 ORDER BY id LIMIT $3"
        )),
        StagedFilter::NotSeenBy(_) => sqlx::query(select_staged!(
            "WHERE connector = $1 AND seen_run <> $4 AND NOT EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = staged_objects.id AND q.reason = 'provision') AND id > $2 ORDER BY id LIMIT $3"
        )),
    };
    let query = query
        .bind(connector.as_str())
        .bind(after_id)
        .bind(i64::from(limit));
    let query = match filter {
        StagedFilter::NotSeenBy(run) => query.bind(run),
        _ => query,
    };
    let rows = query.fetch_all(c).await.map_err(db(OP))?;
    decode_all(OP, rows)
}

pub(super) async fn count_staged(
    c: &mut PgConnection,
    connector: &ConnectorName,
    filter: StagedFilter,
) -> StoreResult<u64> {
    let query = match filter {
        StagedFilter::All => {
            sqlx::query_scalar("SELECT COUNT(*) FROM staged_objects WHERE connector = $1")
        }
        StagedFilter::Pending => sqlx::query_scalar(
            "SELECT COUNT(*) FROM staged_objects WHERE connector = $1 AND pending <> 'none'",
        ),
        StagedFilter::NotSeenBy(run) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM staged_objects WHERE connector = $2 AND seen_run <> $1 AND NOT EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = staged_objects.id AND q.reason = 'provision')",
        )
        .bind(run),
    };
    let n: i64 = query
        .bind(connector.as_str())
        .fetch_one(c)
        .await
        .map_err(db("count_staged"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn stage_unseen_as_deleted(
    c: &mut PgConnection,
    connector: &ConnectorName,
    run_id: i64,
) -> StoreResult<u64> {
    sqlx::query(
        "UPDATE staged_objects SET pending = 'delete' WHERE connector = $1 AND seen_run <> $2 AND NOT EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = staged_objects.id AND q.reason = 'provision')",
    )
    .bind(connector.as_str())
    .bind(run_id)
    .execute(c)
    .await
    .map(|d| d.rows_affected())
    .map_err(db("stage_unseen_as_deleted"))
}

pub(super) async fn staged_for_mesh(
    c: &mut PgConnection,
    mesh_id: MeshId,
) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "staged_for_mesh";
    let rows = sqlx::query(select_staged!("WHERE mesh_id = $1 ORDER BY id"))
        .bind(mesh_id.0)
        .fetch_all(c)
        .await
        .map_err(db(OP))?;
    decode_all(OP, rows)
}

pub(super) async fn staged_needing_review(
    c: &mut PgConnection,
    connector: Option<&ConnectorName>,
    limit: u32,
) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "staged_needing_review";
    let query = match connector {
        Some(name) => sqlx::query(select_staged!(
            "WHERE connector = $2 AND link_state IN ('ambiguous', 'awaiting_adoption') ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .bind(name.as_str()),
        None => sqlx::query(select_staged!(
            "WHERE link_state IN ('ambiguous', 'awaiting_adoption') ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit)),
    };
    let rows = query.fetch_all(c).await.map_err(db(OP))?;
    decode_all(OP, rows)
}
