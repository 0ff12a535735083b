//! Runs: the list (filtered in the database by connector, profile, status and start time,
//! newest first, in keyset pages), one run's detail with its statistics — live while it
//! runs, since the engine commits its counters with every batch — and per-object errors,
//! and cancelling a running run. A cancel is a request recorded in the database, so any
//! instance can take it; the engine running the run stops at its next batch boundary.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use identitymesh_domain::audit::NewAudit;
use identitymesh_domain::run::{RunProfile, RunRecord, RunStatus};
use identitymesh_store::{CancelOutcome, CancelRequest, RunQuery};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Filters and page of the run list. Empty values mean "any".
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunFilter {
    /// Only this connector.
    pub connector: Option<String>,
    /// Only this profile: full-import, delta-import, full-sync, delta-sync or export.
    pub profile: Option<String>,
    /// Only this status: running, completed, completed_with_errors, partial, failed, held or
    /// cancelled.
    pub status: Option<String>,
    /// Only runs started at or after this time (RFC 3339, or a date meaning its midnight UTC).
    pub since: Option<String>,
    /// Only runs started before this time (RFC 3339, or a date meaning its midnight UTC).
    pub until: Option<String>,
    /// Only runs with an id below this: the previous page's `next`.
    pub before: Option<i64>,
    /// How many (1–500, default 50).
    pub limit: Option<u32>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Parses a run status, or a 400 listing the valid ones.
pub fn parse_status(raw: &str) -> ApiResult<RunStatus> {
    RunStatus::parse(raw).ok_or_else(|| {
        let all: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::BadRequest(format!(
            "status '{raw}' is not a run status; use one of {}",
            all.join(", ")
        ))
    })
}

fn parse_profile(raw: &str) -> ApiResult<RunProfile> {
    raw.parse().map_err(|_| {
        let all: Vec<&str> = RunProfile::ALL.iter().map(|p| p.as_str()).collect();
        ApiError::BadRequest(format!(
            "profile '{raw}' is not a run profile; use one of {}",
            all.join(", ")
        ))
    })
}

fn parse_time(field: &str, raw: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{field} '{raw}' is not a time; use RFC 3339 (2024-05-01T08:00:00Z) or a date (2024-05-01)"
            ))
        })
}

impl RunFilter {
    /// The checked store query (one row more than the page, to know whether another
    /// follows); `connector` from the path wins over none in the query.
    pub fn to_query(&self, path_connector: Option<&str>) -> ApiResult<RunQuery> {
        let limit = match self.limit.unwrap_or(50) {
            n @ 1..=500 => n,
            n => {
                return Err(ApiError::BadRequest(format!(
                    "limit {n} is out of range: use 1 to 500"
                )));
            }
        };
        if let Some(b) = self.before.filter(|b| *b < 1) {
            return Err(ApiError::BadRequest(format!(
                "before {b} is out of range: use a run id (1 or more) from a previous page's next"
            )));
        }
        if path_connector.is_some() && given(&self.connector).is_some() {
            return Err(ApiError::BadRequest(
                "the connector is in the path; leave out the connector filter".into(),
            ));
        }
        let since = given(&self.since)
            .map(|s| parse_time("since", s))
            .transpose()?;
        let until = given(&self.until)
            .map(|u| parse_time("until", u))
            .transpose()?;
        if let (Some(s), Some(u)) = (since, until)
            && u <= s
        {
            return Err(ApiError::BadRequest(
                "until must be later than since".into(),
            ));
        }
        Ok(RunQuery {
            connector: path_connector.or(given(&self.connector)).map(str::to_owned),
            profile: given(&self.profile).map(parse_profile).transpose()?,
            status: given(&self.status).map(parse_status).transpose()?,
            since,
            until,
            before_id: self.before,
            limit: limit + 1,
        })
    }
}

/// One page of runs: at most `query.limit - 1`, and the cursor of the next page if any.
pub async fn page(state: &AppState, query: RunQuery) -> ApiResult<(Vec<RunRecord>, Option<i64>)> {
    let size = query.limit.saturating_sub(1) as usize;
    let mut runs = state.store.read_blocking(move |tx| tx.runs(&query)).await?;
    let next = (runs.len() > size).then(|| {
        runs.truncate(size);
        runs.last().map(|r| r.id)
    });
    Ok((runs, next.flatten()))
}

/// The run list answer for `filter`, optionally of the path's connector.
pub async fn listed(
    state: &AppState,
    filter: &RunFilter,
    connector: Option<&str>,
) -> ApiResult<Json<Value>> {
    let (items, next) = page(state, filter.to_query(connector)?).await?;
    Ok(Json(json!({ "items": items, "next": next })))
}

/// `GET /api/v1/runs`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<RunFilter>,
) -> ApiResult<Json<Value>> {
    listed(&state, &filter, None).await
}

/// `GET /api/v1/runs/{id}`: the run (its `stats` are live while it runs, with
/// `cancel_requested_at`/`_by` once someone asked) and its first 500 object errors.
pub async fn detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let (run, errors) = state
        .store
        .read_blocking(move |tx| Ok((tx.run(id)?, tx.run_errors(id, 500)?)))
        .await?;
    let run = run.ok_or_else(|| ApiError::NotFound(format!("no run #{id}")))?;
    Ok(Json(json!({ "run": run, "errors": errors })))
}

/// Records a cancel request on a running run, auditing the first request; asking again
/// answers with the first request. A run that ended is a 409, an unknown one a 404.
pub async fn request_cancel(state: &AppState, id: i64, actor: String) -> ApiResult<CancelRequest> {
    let now = state.now();
    let outcome = state
        .store
        .run_blocking(move |tx| {
            let outcome = tx.request_run_cancel(id, &actor, now)?;
            if outcome != CancelOutcome::Requested {
                return Ok(outcome);
            }
            let record = NewAudit {
                actor,
                action: "run.cancel_requested".into(),
                target: format!("run:{id}"),
                before: None,
                after: None,
                run_id: Some(id),
            };
            tx.append_audit(&record, now)?;
            // the request as stored, so a first and a repeated request answer alike
            Ok(tx
                .run_cancel_request(id)?
                .map_or(outcome, CancelOutcome::AlreadyRequested))
        })
        .await?;
    match outcome {
        CancelOutcome::AlreadyRequested(request) => Ok(request),
        CancelOutcome::NotRunning(status) => Err(ApiError::Conflict(format!(
            "run #{id} is not running (it ended {}); only a running run can be cancelled",
            status.as_str()
        ))),
        CancelOutcome::UnknownRun | CancelOutcome::Requested => {
            Err(ApiError::NotFound(format!("no run #{id}")))
        }
    }
}

/// `POST /api/v1/runs/{id}/cancel`: 202 once the request is recorded; the run stops at its
/// next batch boundary with the status `cancelled` (poll `GET /api/v1/runs/{id}`).
pub async fn cancel(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = request_cancel(&state, id, who.actor()).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "run_id": id, "cancel_requested_by": request.by, "cancel_requested_at": request.at,
            "href": format!("/api/v1/runs/{id}"),
        })),
    ))
}
