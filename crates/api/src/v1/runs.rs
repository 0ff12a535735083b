//! Runs: the list (filtered by connector and status, newest first) and one run's detail with
//! statistics and per-object errors.

use axum::Json;
use axum::extract::State;
use identitymesh_domain::run::RunStatus;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Filters of the run list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFilter {
    /// Only this connector.
    pub connector: Option<String>,
    /// Only this status.
    pub status: Option<RunStatus>,
    /// Only runs with id below this (the previous page's `next`).
    pub before: Option<i64>,
    /// How many (1–500, default 50).
    pub limit: Option<u32>,
}

/// `GET /api/v1/runs`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<RunFilter>,
) -> ApiResult<Json<Value>> {
    let limit = match f.limit.unwrap_or(50) {
        n @ 1..=500 => n,
        n => {
            return Err(ApiError::BadRequest(format!(
                "limit {n} is out of range: use 1 to 500"
            )));
        }
    };
    if f.before.is_some_and(|b| b < 1) {
        return Err(ApiError::BadRequest(
            "before must be a run id (1 or more)".into(),
        ));
    }
    let RunFilter {
        connector,
        status,
        before,
        ..
    } = f;
    // the store pages recent runs without filters, so read a generous window and filter here
    let runs = state
        .store
        .run_blocking(move |tx| tx.recent_runs(connector.as_deref(), 5000))
        .await?;
    let items: Vec<_> = runs
        .into_iter()
        .filter(|r| before.is_none_or(|b| r.id < b) && status.is_none_or(|s| r.status == s))
        .take(limit as usize)
        .collect();
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({ "items": items, "next": next })))
}

/// `GET /api/v1/runs/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let (run, errors) = state
        .store
        .run_blocking(move |tx| Ok((tx.run(id)?, tx.run_errors(id, 500)?)))
        .await?;
    let run = run.ok_or_else(|| ApiError::NotFound(format!("no run #{id}")))?;
    Ok(Json(json!({ "run": run, "errors": errors })))
}
