//! What waits for an operator: held exports of a tripped guard (approve or reject, each a
//! run through the engine) and join conflicts — ambiguous joins and adoptions awaiting a
//! decision (approve or reject through `Engine::decide_adoption`).

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::ExportState;
use identitymesh_domain::run::RunProfile;
use identitymesh_engine::{AdoptionVerdict, RunOptions};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Page};
use crate::state::AppState;
use crate::v1::connectors::start_run;

fn connector_name(raw: &str) -> ApiResult<ConnectorName> {
    ConnectorName::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `GET /api/v1/connectors/{name}/held-exports`.
pub async fn held(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(page): ApiQuery<Page>,
) -> ApiResult<Json<Value>> {
    let (connector, limit, after) = (connector_name(&name)?, page.limit()?, page.after()?);
    let items = state
        .store
        .read_blocking(move |tx| tx.export_page(&connector, &[ExportState::Held], after, limit))
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    let items: Vec<Value> = items
        .iter()
        .map(|e| json!({ "id": e.id, "anchor": e.anchor, "mesh_id": e.mesh_id, "op": e.op, "reason": e.reason, "hold_id": e.hold_id }))
        .collect();
    Ok(Json(json!({ "items": items, "next": next })))
}

/// `POST /api/v1/connectors/{name}/held-exports/approve`: an export run that applies them.
pub async fn approve(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let options = RunOptions {
        approve_held: true,
        actor: who.actor(),
        ..RunOptions::default()
    };
    start_run(&state, &name, RunProfile::Export, options).await
}

/// `POST /api/v1/connectors/{name}/held-exports/reject`: an export run that discards them.
pub async fn reject(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let options = RunOptions {
        reject_held: true,
        actor: who.actor(),
        ..RunOptions::default()
    };
    start_run(&state, &name, RunProfile::Export, options).await
}

/// Filter of the conflict list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictFilter {
    /// Only this connector.
    pub connector: Option<String>,
    /// How many (1–500, default 100).
    pub limit: Option<u32>,
}

/// `GET /api/v1/conflicts`.
pub async fn conflicts(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<ConflictFilter>,
) -> ApiResult<Json<Value>> {
    let limit = match f.limit.unwrap_or(100) {
        n @ 1..=500 => n,
        n => {
            return Err(ApiError::BadRequest(format!(
                "limit {n} is out of range: use 1 to 500"
            )));
        }
    };
    let connector = f.connector.as_deref().map(connector_name).transpose()?;
    let items = state
        .store
        .read_blocking(move |tx| tx.staged_needing_review(connector.as_ref(), limit))
        .await?;
    let items: Vec<Value> = items
        .iter()
        .map(|s| json!({ "connector": s.connector, "anchor": s.anchor, "name": s.name, "object_type": s.object_type, "link": s.link, "attributes": s.attributes }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// The body of an adoption decision.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The connector object's anchor.
    pub anchor: String,
    /// `approve` or `reject`.
    pub verdict: Verdict,
}

/// An operator's verdict.
#[derive(Clone, Copy, Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Take the object over.
    Approve,
    /// Leave it unmanaged.
    Reject,
}

/// `POST /api/v1/connectors/{name}/adoptions`.
pub async fn decide(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
    ApiJson(d): ApiJson<Decision>,
) -> ApiResult<Json<Value>> {
    let verdict = match d.verdict {
        Verdict::Approve => AdoptionVerdict::Approve,
        Verdict::Reject => AdoptionVerdict::Reject,
    };
    let message = state
        .engine()?
        .decide_adoption(&name, &d.anchor, verdict, &who.actor())
        .await?;
    Ok(Json(json!({ "result": message })))
}
