//! Connectors of the active configuration: list, detail with schema, start a run (or a
//! simulation) through the engine in the background, and the connector's run history.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_domain::config::{Config, compile};
use identitymesh_domain::run::RunProfile;
use identitymesh_engine::{EngineError, RunOptions};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The configuration connectors come from: the engine's, else the active version compiled.
pub async fn connector_config(state: &AppState) -> ApiResult<Arc<Config>> {
    if let Some(engine) = &state.engine {
        return Ok(engine.config());
    }
    let active = state.store.read_blocking(|tx| tx.active_config()).await?;
    let version = active.ok_or_else(|| {
        ApiError::NotFound(
            "no configuration has been applied yet; run `identitymesh config apply FILE`".into(),
        )
    })?;
    compile(&version.content, KNOWN_KINDS)
        .map(Arc::new)
        .map_err(|e| {
            ApiError::Conflict(format!(
                "the active configuration (version {}) does not compile: {e}",
                version.id
            ))
        })
}

/// `GET /api/v1/connectors`.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let config = connector_config(&state).await?;
    let items: Vec<Value> = config
        .connectors
        .values()
        .map(|c| json!({ "name": c.name, "kind": c.kind, "object_type": c.schema.name, "mesh_type": c.mesh_type, "precedence": c.precedence }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/connectors/{name}`.
pub async fn detail(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let config = connector_config(&state).await?;
    let c = config
        .connectors
        .values()
        .find(|c| c.name.as_str() == name)
        .ok_or_else(|| unknown(&name))?;
    Ok(Json(json!({
        "name": c.name, "kind": c.kind, "mesh_type": c.mesh_type, "precedence": c.precedence,
        "schema": c.schema, "join_rules": c.join.len(), "inbound_flows": c.flows_in.len(),
        "provisioning": c.provisioning.is_some(),
    })))
}

fn unknown(name: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no connector named '{name}' in the active configuration"
    ))
}

/// The body of `POST /api/v1/connectors/{name}/runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// `full-import`, `delta-import`, `full-sync`, `delta-sync` or `export`.
    pub profile: RunProfile,
    /// Compute the change set without committing it.
    #[serde(default)]
    pub simulate: bool,
}

/// `POST /api/v1/connectors/{name}/runs`: 202 with the run id once the engine has started it.
pub async fn start(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<StartRun>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let options = RunOptions {
        simulate: body.simulate,
        actor: who.actor(),
        ..RunOptions::default()
    };
    start_run(&state, &name, body.profile, options).await
}

/// Starts a run and answers with its id as soon as the engine recorded it, the run going on
/// in the background (or with the queued request when another engine holds the connector).
pub async fn start_run(
    state: &AppState,
    name: &str,
    profile: RunProfile,
    options: RunOptions,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let engine = state.engine()?.clone();
    if engine
        .config()
        .connectors
        .values()
        .all(|c| c.name.as_str() != name)
    {
        return Err(unknown(name));
    }
    let handle = match engine.start_run(name, profile, &options).await {
        Ok(handle) => handle,
        Err(EngineError::Busy {
            request_id, holder, ..
        }) => {
            let body = json!({ "queued_request": request_id, "held_by": holder });
            return Ok((StatusCode::ACCEPTED, Json(body)));
        }
        Err(e) => return Err(e.into()),
    };
    let run_id = handle.id;
    // connectors may block on files or sockets: the run goes on a blocking thread, driven by
    // the runtime's handle, so it never stalls the request workers
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = runtime.block_on(handle.join) {
            tracing::error!(run_id, error = %e, "run ended with an engine error");
        }
    });
    Ok(accepted(run_id))
}

fn accepted(run_id: i64) -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": run_id, "href": format!("/api/v1/runs/{run_id}") })),
    )
}

/// `GET /api/v1/connectors/{name}/runs`: the run list's filters and pages, of one connector.
pub async fn runs(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(filter): ApiQuery<super::runs::RunFilter>,
) -> ApiResult<Json<Value>> {
    super::runs::listed(&state, &filter, Some(&name)).await
}
