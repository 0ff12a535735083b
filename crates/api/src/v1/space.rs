//! A connector's space over the API: the staged copy of every object the connector read (or
//! the engine provisioned), searchable by anchor and by an attribute's value, filtered by
//! state — pending imports waiting for a sync, objects with an export in the queue, objects
//! not joined to the mesh — and paged by id; and one object with its staged values, its link
//! to the mesh and its queued export.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use identitymesh_domain::export::ExportItem;
use identitymesh_domain::staged::StagedObject;
use identitymesh_domain::{Anchor, ConnectorName};
use identitymesh_store::{SpaceQuery, SpaceState};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Operation, guarded};
use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, Page};
use crate::state::AppState;
use crate::v1::connectors::connector_config;

/// The routes of this module.
pub const OPERATIONS: &[Operation] = &[
    (
        "get",
        "/api/v1/connectors/{name}/objects",
        Some(Role::Viewer),
        "Search a connector's space by anchor or attribute value, filtered by state",
    ),
    (
        "get",
        "/api/v1/connectors/{name}/objects/{anchor}",
        Some(Role::Viewer),
        "A connector object: staged values, link to the mesh, queued export",
    ),
];

/// The routes of this module, behind the viewer role.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new()
        .route("/api/v1/connectors/{name}/objects", get(search))
        .route("/api/v1/connectors/{name}/objects/{anchor}", get(object));
    guarded(state, Role::Viewer, viewer)
}

/// Filters and page of a connector-space search.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpaceSearch {
    /// Only the object with this anchor.
    pub anchor: Option<String>,
    /// With `value`: only objects whose attribute has this value (ignoring case).
    pub attribute: Option<String>,
    /// The value `attribute` must have.
    pub value: Option<String>,
    /// `all` (default), `pending-import`, `pending-export` or `unjoined`.
    pub state: Option<String>,
    /// How many (1–500, default 50).
    pub limit: Option<u32>,
    /// Continue after this id (the previous page's `next`).
    pub after: Option<i64>,
}

/// The checked store query of a search.
pub fn space_query(connector: ConnectorName, q: &SpaceSearch) -> ApiResult<SpaceQuery> {
    let page = Page {
        limit: q.limit,
        after: q.after,
    };
    let state = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => SpaceState::All,
        Some(raw) => SpaceState::parse(raw).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "state '{raw}' is not known: use all, pending-import, pending-export or unjoined"
            ))
        })?,
    };
    let anchor = match q.anchor.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => {
            Some(Anchor::parse(raw).map_err(|e| ApiError::BadRequest(format!("anchor: {e}")))?)
        }
    };
    let keep = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let attribute = match (keep(&q.attribute), keep(&q.value)) {
        (Some(a), Some(v)) => Some((a.trim().to_owned(), v.trim().to_owned())),
        (None, None) => None,
        _ => {
            return Err(ApiError::BadRequest(
                "search by attribute needs both 'attribute' and 'value'".into(),
            ));
        }
    };
    Ok(SpaceQuery {
        connector,
        state,
        anchor,
        attribute,
        after_id: page.after()?,
        limit: page.limit()?,
    })
}

/// The connector by name, if the active configuration has it.
pub async fn known_connector(state: &AppState, name: &str) -> ApiResult<ConnectorName> {
    let config = connector_config(state).await?;
    config
        .connectors
        .keys()
        .find(|c| c.as_str() == name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no connector named '{name}'")))
}

/// One object of a search page.
pub fn summary(s: &StagedObject) -> Value {
    json!({ "id": s.id, "anchor": s.anchor, "name": s.name, "object_type": s.object_type,
            "pending_import": s.pending, "link": s.link, "mesh_id": s.link.mesh_id(),
            "changed_at": s.changed_at })
}

/// A page of a search: the objects and the cursor of the next page.
pub async fn search_page(state: &AppState, query: SpaceQuery) -> ApiResult<Value> {
    let limit = query.limit as usize;
    let found = state
        .store
        .read_blocking(move |tx| tx.space_page(&query))
        .await?;
    let next = (found.len() == limit)
        .then(|| found.last().map(|s| s.id))
        .flatten();
    let items: Vec<Value> = found.iter().map(summary).collect();
    Ok(json!({ "items": items, "next": next }))
}

/// `GET /api/v1/connectors/{name}/objects`.
pub async fn search(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<SpaceSearch>,
) -> ApiResult<Json<Value>> {
    let connector = known_connector(&state, &name).await?;
    let query = space_query(connector, &q)?;
    Ok(Json(search_page(&state, query).await?))
}

fn export_json(e: &ExportItem) -> Value {
    json!({ "id": e.id, "op": e.op, "reason": e.reason, "state": e.state,
            "attempts": e.attempts, "last_error": e.last_error, "hold_id": e.hold_id })
}

/// `GET /api/v1/connectors/{name}/objects/{anchor}`.
pub async fn object(
    State(state): State<AppState>,
    ApiPath((name, anchor)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    let connector = known_connector(&state, &name).await?;
    let key = Anchor::parse(&anchor).map_err(|e| ApiError::BadRequest(format!("anchor: {e}")))?;
    let found = state
        .store
        .read_blocking(move |tx| {
            let Some(object) = tx.staged_by_anchor(&connector, &key)? else {
                return Ok(None);
            };
            let export = tx.export_for_staged(object.id)?;
            Ok(Some((object, export)))
        })
        .await?;
    let (object, export) = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "connector '{name}' has no object with anchor '{anchor}'"
        ))
    })?;
    let mut body = summary(&object);
    body["attributes"] = json!(object.attributes);
    body["hash"] = json!(object.hash);
    body["seen_run"] = json!(object.seen_run);
    body["mesh_url"] = json!(
        object
            .link
            .mesh_id()
            .map(|m| format!("/api/v1/mesh/{}", m.0))
    );
    body["pending_export"] = export.as_ref().map_or(Value::Null, export_json);
    Ok(Json(body))
}
