//! Mesh objects: search by an attribute's value, and one object's detail — every attribute
//! with its provenance, the linked connector objects and the object's audit history.

use axum::Json;
use axum::extract::State;
use identitymesh_domain::MeshId;
use identitymesh_store::AuditFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Search parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeshSearch {
    /// Only this object type.
    #[serde(rename = "type")]
    pub object_type: Option<String>,
    /// With `value`: the attribute to match.
    pub attribute: Option<String>,
    /// A case-insensitive substring of the attribute's text.
    pub value: Option<String>,
    /// Continue after this id.
    pub after: Option<i64>,
    /// How many (1–200, default 50).
    pub limit: Option<u32>,
}

/// `GET /api/v1/mesh`.
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MeshSearch>,
) -> ApiResult<Json<Value>> {
    let limit = match q.limit.unwrap_or(50) {
        n @ 1..=200 => n as usize,
        n => {
            return Err(ApiError::BadRequest(format!(
                "limit {n} is out of range: use 1 to 200"
            )));
        }
    };
    let after = match q.after.unwrap_or(0) {
        n if n >= 0 => n,
        n => return Err(ApiError::BadRequest(format!("after {n} is out of range"))),
    };
    if q.value.is_some() != q.attribute.is_some() {
        return Err(ApiError::BadRequest(
            "give both attribute and value, or neither".into(),
        ));
    }
    let needle = q.value.map(|v| v.to_lowercase());
    let (attribute, object_type) = (q.attribute, q.object_type);
    let found = state
        .store
        .read_blocking(move |tx| {
            let (mut out, mut cursor) = (Vec::new(), after);
            // scan in id order (bounded) until the page is full
            for _ in 0..50 {
                let page = tx.mesh_page(object_type.as_deref(), cursor, 1000)?;
                let Some(last) = page.last() else { break };
                cursor = last.id.0;
                out.extend(page.into_iter().filter(|o| match (&attribute, &needle) {
                    (Some(a), Some(n)) => o.attributes.get(a).is_some_and(|vs| {
                        vs.iter().any(|v| v.to_text().to_lowercase().contains(n))
                    }),
                    _ => true,
                }));
                if out.len() >= limit {
                    break;
                }
            }
            out.truncate(limit);
            Ok(out)
        })
        .await?;
    let next = (found.len() == limit)
        .then(|| found.last().map(|o| o.id.0))
        .flatten();
    let items: Vec<Value> = found
        .iter()
        .map(|o| json!({ "id": o.id, "type": o.object_type, "attributes": o.attributes }))
        .collect();
    Ok(Json(json!({ "items": items, "next": next })))
}

/// `GET /api/v1/mesh/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let found = state
        .store
        .read_blocking(move |tx| {
            let Some(object) = tx.mesh_by_id(MeshId(id))? else {
                return Ok(None);
            };
            let linked = tx.staged_for_mesh(MeshId(id))?;
            let history = tx.audit(&AuditFilter {
                target: Some(format!("mesh:{id}")),
                limit: 100,
                ..AuditFilter::default()
            })?;
            Ok(Some((object, linked, history)))
        })
        .await?;
    let (object, linked, history) =
        found.ok_or_else(|| ApiError::NotFound(format!("no mesh object {id}")))?;
    let attributes: serde_json::Map<String, Value> = object
        .attributes
        .iter()
        .map(|(name, values)| {
            (
                name.clone(),
                json!({ "values": values, "provenance": object.provenance.get(name) }),
            )
        })
        .collect();
    let linked: Vec<Value> = linked
        .iter()
        .map(|s| json!({ "connector": s.connector, "anchor": s.anchor, "name": s.name, "object_type": s.object_type, "link": s.link, "changed_at": s.changed_at }))
        .collect();
    Ok(Json(
        json!({ "id": object.id, "type": object.object_type, "version": object.version, "attributes": attributes, "linked": linked, "history": history }),
    ))
}
