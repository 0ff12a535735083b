//! The Admin API's reads (SQLite): a connector-space search page and a configuration version
//! by id. The search walks `(connector, id)` like the engine's pages; the state filters use
//! the same partial indexes (pending imports) and the export queue's unique `staged_id`. An
//! attribute search reads each object's JSON (`json_each`) and is a scan of the connector's
//! objects: fine for an operator's search, not for a hot path.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;
use crate::codec::{RawConfig, RawStaged};
use crate::port::{ConfigVersion, StoreResult};
use crate::space_rows::SpaceQuery;
use identitymesh_domain::staged::StagedObject;

/// The one search statement: every filter is a parameter that, when NULL, matches all.
const SPACE_PAGE: &str = "SELECT s.id, s.connector, s.object_type, s.anchor, s.name, s.attributes,
        s.hash, s.pending, s.link, s.changed_at, s.seen_run
     FROM staged_objects s
     WHERE s.connector = ?1 AND s.id > ?2
       AND (?4 IS NULL OR s.anchor = ?4)
       AND (?5 <> 'pending-import' OR s.pending <> 'none')
       AND (?5 <> 'pending-export' OR EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = s.id))
       AND (?5 <> 'unjoined' OR s.link_state <> 'joined')
       AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(s.attributes -> ?6) v
                                  WHERE lower(CAST(v.value AS TEXT)) = lower(?7)))
     ORDER BY s.id LIMIT ?3";

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

pub(super) fn space_page(conn: &Connection, q: &SpaceQuery) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "space_page";
    let (attribute, value) = match &q.attribute {
        Some((a, v)) => (
            Some(format!("$.\"{}\"", a.replace('"', ""))),
            Some(v.as_str()),
        ),
        None => (None, None),
    };
    let mut stmt = conn.prepare_cached(SPACE_PAGE).map_err(db(OP))?;
    let rows = stmt
        .query_map(
            params![
                q.connector.as_str(),
                q.after_id,
                q.limit,
                q.anchor.as_ref().map(|a| a.as_str()),
                q.state.as_str(),
                attribute,
                value
            ],
            raw_staged,
        )
        .map_err(db(OP))?;
    rows.map(|r| r.map_err(db(OP)).and_then(RawStaged::decode))
        .collect()
}

pub(super) fn config_version(conn: &Connection, id: i64) -> StoreResult<Option<ConfigVersion>> {
    let raw = conn
        .prepare_cached(
            "SELECT id, hash, author, created_at, content FROM config_versions WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.query_row(params![id], |r| {
                Ok(RawConfig {
                    id: r.get(0)?,
                    hash: r.get(1)?,
                    author: r.get(2)?,
                    created_at: r.get(3)?,
                    content: r.get(4)?,
                })
            })
            .optional()
        })
        .map_err(db("config_version"))?;
    raw.map(RawConfig::decode).transpose()
}
