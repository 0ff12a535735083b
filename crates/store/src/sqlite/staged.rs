//! The connector space (SQLite): staged objects, their pending import state and their link
//! to the mesh. This is the hottest path of a sync, so every statement is a constant string
//! kept prepared. The link is stored as JSON with two denormalised columns beside it —
//! `mesh_id` (for "every connector object of this identity") and `link_state` (for the
//! review list) — written together with it by [`set_staged_link`] and [`insert_staged`].
//! Pages walk `(connector, id)` so a million-object connector pages in constant time per
//! page; pending objects have their own partial index.

use chrono::{DateTime, Utc};
use identitymesh_domain::staged::{Link, PendingImport, StagedObject};
use identitymesh_domain::{Anchor, Attributes, ConnectorName, MeshId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{RawStaged, fmt_time, link_state, missing, to_json};
use crate::port::{NewStaged, StagedFilter, StoreResult};

macro_rules! select_staged {
    ($tail:literal) => {
        concat!(
            "SELECT id, connector, object_type, anchor, name, attributes, hash, pending, link, changed_at, seen_run
             FROM staged_objects ",
            $tail
        )
    };
}

fn raw_staged(r: &Row<'_>) -> rusqlite::Result<RawStaged> {
    Ok(RawStaged {
        id: r.get(0)?,
        connector: r.get(1)?,
        object_type: r.get(2)?,
        anchor: r.get(3)?,
        name: r.get(4)?,
        attributes: r.get(5)?,
        hash: r.get(6)?,
        pending: r.get(7)?,
        link: r.get(8)?,
        changed_at: r.get(9)?,
        seen_run: r.get(10)?,
    })
}

fn one(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    param: &dyn rusqlite::ToSql,
) -> StoreResult<Option<StagedObject>> {
    let raw = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row([param], raw_staged).optional())
        .map_err(db(op))?;
    raw.map(RawStaged::decode).transpose()
}

fn many(
    conn: &Connection,
    op: &'static str,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<StagedObject>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db(op))?;
    let rows = stmt.query_map(params, raw_staged).map_err(db(op))?;
    rows.map(|r| r.map_err(db(op)).and_then(RawStaged::decode))
        .collect()
}

fn exactly_one(op: &'static str, id: i64, changed: usize) -> StoreResult<()> {
    if changed == 0 {
        Err(missing(op, "staged object", id))
    } else {
        Ok(())
    }
}

pub(super) fn insert_staged(conn: &Connection, o: &NewStaged) -> StoreResult<i64> {
    const OP: &str = "insert_staged";
    let attributes = to_json(OP, &o.attributes)?;
    let link = to_json(OP, &o.link)?;
    conn.prepare_cached(
        "INSERT INTO staged_objects (connector, object_type, anchor, name, attributes, hash, pending,
             link, link_state, mesh_id, changed_at, seen_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![
                o.connector.as_str(),
                o.object_type,
                o.anchor.as_str(),
                o.name,
                attributes,
                o.hash,
                o.pending.as_str(),
                link,
                link_state(&o.link),
                o.link.mesh_id().map(|m| m.0),
                fmt_time(o.changed_at),
                o.seen_run
            ],
            |r| r.get(0),
        )
    })
    .map_err(db(OP))
}

pub(super) fn staged_by_anchor(
    conn: &Connection,
    connector: &ConnectorName,
    anchor: &Anchor,
) -> StoreResult<Option<StagedObject>> {
    const OP: &str = "staged_by_anchor";
    let raw = conn
        .prepare_cached(select_staged!("WHERE connector = ?1 AND anchor = ?2"))
        .and_then(|mut s| {
            s.query_row(params![connector.as_str(), anchor.as_str()], raw_staged)
                .optional()
        })
        .map_err(db(OP))?;
    raw.map(RawStaged::decode).transpose()
}

pub(super) fn staged_by_id(conn: &Connection, id: i64) -> StoreResult<Option<StagedObject>> {
    one(conn, "staged_by_id", select_staged!("WHERE id = ?1"), &id)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn update_staged_content(
    conn: &Connection,
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
    let n = conn
        .prepare_cached(
            "UPDATE staged_objects SET name = ?2, attributes = ?3, hash = ?4, pending = ?5, changed_at = ?6,
                 seen_run = ?7 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, name, attributes, hash, pending.as_str(), fmt_time(changed_at), seen_run]))
        .map_err(db(OP))?;
    exactly_one(OP, id, n)
}

pub(super) fn update_staged_anchor(conn: &Connection, id: i64, anchor: &Anchor) -> StoreResult<()> {
    const OP: &str = "update_staged_anchor";
    let n = conn
        .prepare_cached("UPDATE staged_objects SET anchor = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, anchor.as_str()]))
        .map_err(db(OP))?;
    // Queued exports carry the anchor too: keep them pointing at the same object.
    conn.prepare_cached("UPDATE export_queue SET anchor = ?2 WHERE staged_id = ?1")
        .and_then(|mut s| s.execute(params![id, anchor.as_str()]))
        .map_err(db(OP))?;
    exactly_one(OP, id, n)
}

pub(super) fn mark_staged_seen(conn: &Connection, id: i64, run_id: i64) -> StoreResult<()> {
    const OP: &str = "mark_staged_seen";
    let n = conn
        .prepare_cached("UPDATE staged_objects SET seen_run = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, run_id]))
        .map_err(db(OP))?;
    exactly_one(OP, id, n)
}

pub(super) fn set_staged_pending(
    conn: &Connection,
    id: i64,
    pending: PendingImport,
) -> StoreResult<()> {
    const OP: &str = "set_staged_pending";
    let n = conn
        .prepare_cached("UPDATE staged_objects SET pending = ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, pending.as_str()]))
        .map_err(db(OP))?;
    exactly_one(OP, id, n)
}

pub(super) fn set_staged_link(conn: &Connection, id: i64, link: &Link) -> StoreResult<()> {
    const OP: &str = "set_staged_link";
    let json = to_json(OP, link)?;
    let n = conn
        .prepare_cached(
            "UPDATE staged_objects SET link = ?2, link_state = ?3, mesh_id = ?4 WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                json,
                link_state(link),
                link.mesh_id().map(|m| m.0)
            ])
        })
        .map_err(db(OP))?;
    exactly_one(OP, id, n)
}

pub(super) fn set_staged_link_and_pending(
    conn: &Connection,
    id: i64,
    link: &Link,
    pending: PendingImport,
) -> StoreResult<()> {
    const OP: &str = "set_staged_link_and_pending";
    let json = to_json(OP, link)?;
    let n = conn
        .prepare_cached(
            "UPDATE staged_objects SET link = ?2, link_state = ?3, mesh_id = ?4, pending = ?5 WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                json,
                link_state(link),
                link.mesh_id().map(|m| m.0),
                pending.as_str()
            ])
        })
        .map_err(db(OP))?;
    exactly_one(OP, id, n)
}

/// Inserts a staged object unless its (connector, anchor) is taken; `None` then.
pub(super) fn insert_staged_if_new(conn: &Connection, o: &NewStaged) -> StoreResult<Option<i64>> {
    const OP: &str = "insert_staged_with_export";
    let attributes = to_json(OP, &o.attributes)?;
    let link = to_json(OP, &o.link)?;
    conn.prepare_cached(
        "INSERT INTO staged_objects (connector, object_type, anchor, name, attributes, hash, pending,
             link, link_state, mesh_id, changed_at, seen_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (connector, anchor) DO NOTHING RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![
                o.connector.as_str(),
                o.object_type,
                o.anchor.as_str(),
                o.name,
                attributes,
                o.hash,
                o.pending.as_str(),
                link,
                link_state(&o.link),
                o.link.mesh_id().map(|m| m.0),
                fmt_time(o.changed_at),
                o.seen_run
            ],
            |r| r.get(0),
        )
        .optional()
    })
    .map_err(db(OP))
}

pub(super) fn delete_staged(conn: &Connection, id: i64) -> StoreResult<()> {
    const OP: &str = "delete_staged";
    conn.prepare_cached("DELETE FROM export_queue WHERE staged_id = ?1")
        .and_then(|mut s| s.execute(params![id]))
        .and_then(|_| conn.prepare_cached("DELETE FROM staged_objects WHERE id = ?1"))
        .and_then(|mut s| s.execute(params![id]))
        .map(drop)
        .map_err(db(OP))
}

pub(super) fn staged_page(
    conn: &Connection,
    connector: &ConnectorName,
    filter: StagedFilter,
    after_id: i64,
    limit: u32,
) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "staged_page";
    let c = connector.as_str();
    match filter {
        StagedFilter::All => many(
            conn,
            OP,
            select_staged!("WHERE connector = ?1 AND id > ?2 ORDER BY id LIMIT ?3"),
            &[&c, &after_id, &limit],
        ),
        StagedFilter::Pending => many(
            conn,
            OP,
            select_staged!(
                "WHERE connector = ?1 AND pending <> 'none' AND id > ?2 ORDER BY id LIMIT ?3"
            ),
            &[&c, &after_id, &limit],
        ),
        StagedFilter::NotSeenBy(run) => many(
            conn,
            OP,
            select_staged!(
                "WHERE connector = ?1 AND seen_run <> ?4 AND NOT EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = staged_objects.id AND q.reason = 'provision') AND id > ?2 ORDER BY id LIMIT ?3"
            ),
            &[&c, &after_id, &limit, &run],
        ),
    }
}

pub(super) fn count_staged(
    conn: &Connection,
    connector: &ConnectorName,
    filter: StagedFilter,
) -> StoreResult<u64> {
    const OP: &str = "count_staged";
    let c = connector.as_str();
    let count: i64 = match filter {
        StagedFilter::All => conn
            .prepare_cached("SELECT COUNT(*) FROM staged_objects WHERE connector = ?1")
            .and_then(|mut s| s.query_row(params![c], |r| r.get(0))),
        StagedFilter::Pending => conn
            .prepare_cached(
                "SELECT COUNT(*) FROM staged_objects WHERE connector = ?1 AND pending <> 'none'",
            )
            .and_then(|mut s| s.query_row(params![c], |r| r.get(0))),
        StagedFilter::NotSeenBy(run) => conn
            .prepare_cached(
                "SELECT COUNT(*) FROM staged_objects WHERE connector = ?1 AND seen_run <> ?2 AND NOT EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = staged_objects.id AND q.reason = 'provision')",
            )
            .and_then(|mut s| s.query_row(params![c, run], |r| r.get(0))),
    }
    .map_err(db(OP))?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) fn stage_unseen_as_deleted(
    conn: &Connection,
    connector: &ConnectorName,
    run_id: i64,
) -> StoreResult<u64> {
    const OP: &str = "stage_unseen_as_deleted";
    let n = conn
        .prepare_cached(
            "UPDATE staged_objects SET pending = 'delete' WHERE connector = ?1 AND seen_run <> ?2 AND NOT EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = staged_objects.id AND q.reason = 'provision')",
        )
        .and_then(|mut s| s.execute(params![connector.as_str(), run_id]))
        .map_err(db(OP))?;
    Ok(n as u64)
}

pub(super) fn staged_for_mesh(
    conn: &Connection,
    mesh_id: MeshId,
) -> StoreResult<Vec<StagedObject>> {
    many(
        conn,
        "staged_for_mesh",
        select_staged!("WHERE mesh_id = ?1 ORDER BY id"),
        &[&mesh_id.0],
    )
}

pub(super) fn staged_needing_review(
    conn: &Connection,
    connector: Option<&ConnectorName>,
    limit: u32,
) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "staged_needing_review";
    match connector {
        Some(c) => many(
            conn,
            OP,
            select_staged!(
                "WHERE connector = ?1 AND link_state IN ('ambiguous', 'awaiting_adoption') ORDER BY id LIMIT ?2"
            ),
            &[&c.as_str(), &limit],
        ),
        None => many(
            conn,
            OP,
            select_staged!(
                "WHERE link_state IN ('ambiguous', 'awaiting_adoption') ORDER BY id LIMIT ?1"
            ),
            &[&limit],
        ),
    }
}
