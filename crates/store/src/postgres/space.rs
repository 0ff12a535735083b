//! The Admin API's reads (PostgreSQL): a connector-space search page and a configuration
//! version by id, with the same filters and paging as the SQLite module. An attribute search
//! reads each object's JSONB (`jsonb_array_elements_text`) and is a scan of the connector's
//! objects: fine for an operator's search, not for a hot path.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::db;
use crate::codec::{RawConfig, RawStaged, fmt_time};
use crate::port::{ConfigVersion, StoreResult};
use crate::space_rows::SpaceQuery;
use identitymesh_domain::staged::StagedObject;

/// The one search statement: every filter is a parameter that, when NULL, matches all.
const SPACE_PAGE: &str = "SELECT s.id, s.connector, s.object_type, s.anchor, s.name,
        s.attributes::text, s.hash, s.pending, s.link::text, s.changed_at, s.seen_run
     FROM staged_objects s
     WHERE s.connector = $1 AND s.id > $2
       AND ($4::text IS NULL OR s.anchor = $4)
       AND ($5::text <> 'pending-import' OR s.pending <> 'none')
       AND ($5::text <> 'pending-export' OR EXISTS (SELECT 1 FROM export_queue q WHERE q.staged_id = s.id))
       AND ($5::text <> 'unjoined' OR s.link_state <> 'joined')
       AND ($6::text IS NULL OR EXISTS (
            SELECT 1 FROM jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(s.attributes -> $6::text) = 'array' THEN s.attributes -> $6::text
                     ELSE '[]'::jsonb END) v
            WHERE lower(v) = lower($7::text)))
     ORDER BY s.id LIMIT $3";

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

pub(super) async fn space_page(
    c: &mut PgConnection,
    q: &SpaceQuery,
) -> StoreResult<Vec<StagedObject>> {
    const OP: &str = "space_page";
    let (attribute, value) = match &q.attribute {
        Some((a, v)) => (Some(a.as_str()), Some(v.as_str())),
        None => (None, None),
    };
    let rows = sqlx::query(SPACE_PAGE)
        .bind(q.connector.as_str())
        .bind(q.after_id)
        .bind(i64::from(q.limit))
        .bind(q.anchor.as_ref().map(|a| a.as_str()))
        .bind(q.state.as_str())
        .bind(attribute)
        .bind(value)
        .fetch_all(c)
        .await
        .map_err(db(OP))?;
    rows.iter()
        .map(|r| raw_staged(r).map_err(db(OP)).and_then(RawStaged::decode))
        .collect()
}

pub(super) async fn config_version(
    c: &mut PgConnection,
    id: i64,
) -> StoreResult<Option<ConfigVersion>> {
    const OP: &str = "config_version";
    let row = sqlx::query(
        "SELECT id, hash, author, created_at, content FROM config_versions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await
    .map_err(db(OP))?;
    let raw = |r: &PgRow| -> Result<RawConfig, sqlx::Error> {
        Ok(RawConfig {
            id: r.try_get(0)?,
            hash: r.try_get(1)?,
            author: r.try_get(2)?,
            created_at: fmt_time(r.try_get(3)?),
            content: r.try_get(4)?,
        })
    };
    row.map(|r| raw(&r).map_err(db(OP)).and_then(RawConfig::decode))
        .transpose()
}
