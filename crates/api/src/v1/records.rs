//! The audit log (filtered by actor and target, newest first, paged backwards) and the
//! configuration versions (the list, and the active one with its text).

use axum::Json;
use axum::extract::State;
use identitymesh_store::AuditFilter;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Filters of the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this actor (`user:alice`).
    pub actor: Option<String>,
    /// Only this target (`mesh:42`).
    pub target: Option<String>,
    /// Only records older than this id (the previous page's `next`).
    pub before: Option<i64>,
    /// How many (1–500, default 50).
    pub limit: Option<u32>,
}

/// `GET /api/v1/audit`.
pub async fn audit(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let limit = match q.limit.unwrap_or(50) {
        n @ 1..=500 => n,
        n => {
            return Err(ApiError::BadRequest(format!(
                "limit {n} is out of range: use 1 to 500"
            )));
        }
    };
    if q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::BadRequest(
            "before must be an audit record id (1 or more)".into(),
        ));
    }
    let filter = AuditFilter {
        actor: q.actor,
        target: q.target,
        before_id: q.before,
        limit,
    };
    let items = state
        .store
        .run_blocking(move |tx| tx.audit(&filter))
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({ "items": items, "next": next })))
}

/// `GET /api/v1/config/versions`.
pub async fn versions(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let versions = state
        .store
        .run_blocking(|tx| tx.config_versions(500))
        .await?;
    let items: Vec<Value> = versions.iter().map(|v| json!({ "id": v.id, "hash": v.hash, "author": v.author, "created_at": v.created_at })).collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/config/active`.
pub async fn active(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let active = state.store.run_blocking(|tx| tx.active_config()).await?;
    let v =
        active.ok_or_else(|| ApiError::NotFound("no configuration has been applied yet".into()))?;
    Ok(Json(
        json!({ "id": v.id, "hash": v.hash, "author": v.author, "created_at": v.created_at, "content": v.content }),
    ))
}
