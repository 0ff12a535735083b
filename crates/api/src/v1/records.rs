//! The audit log, filtered by actor and target, newest first, paged backwards. (The
//! configuration versions live in [`super::config`].)

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
        .read_blocking(move |tx| tx.audit(&filter))
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({ "items": items, "next": next })))
}
