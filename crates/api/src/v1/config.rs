//! Configuration as code over the API: the stored versions (list, one with its text, the
//! active one, an export as a file), a diff between two versions, and applying a new version.
//!
//! Applying compiles the text exactly as `identitymesh config check`/`apply` do (the
//! connector types this build knows); a configuration with errors is refused with 422 and
//! every error's path, line and message, and nothing changes. A valid one becomes the active
//! version (audited as `config.apply`, like the command line) and, in a process that runs the
//! engine (`identitymesh serve`), the engine runs it from its next run on
//! ([`identitymesh_engine::Engine::replace_config`]). More connectors than the license allows
//! is refused the same way. `?dry_run=true` only checks and shows the diff against the
//! active version.

mod diff;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_domain::audit::NewAudit;
use identitymesh_domain::config::{Config, ConfigErrors, compile};
use identitymesh_secrets::Limit;
use identitymesh_store::ConfigVersion;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Operation, guarded};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// The largest configuration accepted (larger than other bodies: a configuration with many
/// connectors and rules is long).
pub const CONFIG_LIMIT: usize = 1024 * 1024;

/// The routes of this module.
pub const OPERATIONS: &[Operation] = &[
    (
        "get",
        "/api/v1/config/versions",
        Some(Role::Viewer),
        "Configuration versions, newest first",
    ),
    (
        "get",
        "/api/v1/config/active",
        Some(Role::Viewer),
        "The active configuration with its text",
    ),
    (
        "get",
        "/api/v1/config/versions/{id}",
        Some(Role::Viewer),
        "A configuration version with its text",
    ),
    (
        "get",
        "/api/v1/config/versions/{id}/export",
        Some(Role::Viewer),
        "A configuration version as a TOML file",
    ),
    (
        "get",
        "/api/v1/config/diff",
        Some(Role::Viewer),
        "A unified diff and a summary of two versions (?from=ID&to=ID)",
    ),
    (
        "post",
        "/api/v1/config",
        Some(Role::Admin),
        "Check and apply a configuration (TOML text, or JSON {toml, comment}); ?dry_run=true only checks",
    ),
];

/// The routes of this module, each behind its role.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new()
        .route("/api/v1/config/versions", get(versions))
        .route("/api/v1/config/active", get(active))
        .route("/api/v1/config/versions/{id}", get(version))
        .route("/api/v1/config/versions/{id}/export", get(export))
        .route("/api/v1/config/diff", get(diff));
    let admin = Router::new()
        .route("/api/v1/config", post(apply))
        .layer(DefaultBodyLimit::max(CONFIG_LIMIT));
    Router::new()
        .merge(guarded(state, Role::Viewer, viewer))
        .merge(guarded(state, Role::Admin, admin))
}

fn describe(v: &ConfigVersion, active: Option<i64>) -> Value {
    json!({ "id": v.id, "hash": v.hash, "author": v.author, "created_at": v.created_at,
            "active": active == Some(v.id) })
}

async fn active_id(state: &AppState) -> ApiResult<Option<i64>> {
    let active = state.store.read_blocking(|tx| tx.active_config()).await?;
    Ok(active.map(|v| v.id))
}

/// `GET /api/v1/config/versions`.
pub async fn versions(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let (list, active) = state
        .store
        .read_blocking(|tx| Ok((tx.config_versions(500)?, tx.active_config()?.map(|v| v.id))))
        .await?;
    let items: Vec<Value> = list.iter().map(|v| describe(v, active)).collect();
    Ok(Json(json!({ "items": items, "active": active })))
}

/// `GET /api/v1/config/active`.
pub async fn active(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let active = state.store.read_blocking(|tx| tx.active_config()).await?;
    let v =
        active.ok_or_else(|| ApiError::NotFound("no configuration has been applied yet".into()))?;
    let mut body = describe(&v, Some(v.id));
    body["content"] = json!(v.content);
    Ok(Json(body))
}

/// A stored version, or a 404 naming it.
pub async fn load_version(state: &AppState, id: i64) -> ApiResult<ConfigVersion> {
    if id < 1 {
        return Err(ApiError::BadRequest(format!(
            "{id} is not a configuration version: versions are numbered from 1"
        )));
    }
    state
        .store
        .read_blocking(move |tx| tx.config_version(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no configuration version {id}")))
}

/// `GET /api/v1/config/versions/{id}`.
pub async fn version(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let v = load_version(&state, id).await?;
    let mut body = describe(&v, active_id(&state).await?);
    body["content"] = json!(v.content);
    Ok(Json(body))
}

/// `GET /api/v1/config/versions/{id}/export`: the text as a file.
pub async fn export(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let v = load_version(&state, id).await?;
    let disposition = format!(
        "attachment; filename=\"identitymesh-config-v{}.toml\"",
        v.id
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        v.content,
    )
        .into_response())
}

/// The two versions of a diff.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older version.
    pub from: i64,
    /// The newer version.
    pub to: i64,
}

/// The comparison of two stored versions.
pub async fn compare_versions(state: &AppState, from: i64, to: i64) -> ApiResult<Value> {
    let (old, new) = (
        load_version(state, from).await?,
        load_version(state, to).await?,
    );
    let mut body = diff::compare(
        &old.content,
        &new.content,
        &format!("version {from}"),
        &format!("version {to}"),
    );
    body["from"] = json!(from);
    body["to"] = json!(to);
    Ok(body)
}

/// `GET /api/v1/config/diff?from=ID&to=ID`.
pub async fn diff(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(compare_versions(&state, q.from, q.to).await?))
}

/// Options of `POST /api/v1/config`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyQuery {
    /// Only check and show the diff against the active version.
    pub dry_run: Option<bool>,
}

/// The JSON form of a configuration to apply.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The TOML text.
    pub toml: String,
    /// Why (kept in the audit record).
    pub comment: Option<String>,
}

/// Reads the body: TOML text (`text/plain`, `application/toml`) or JSON `{toml, comment}`.
async fn read_body(body: Body, content_type: &str) -> ApiResult<ApplyBody> {
    let bytes = axum::body::to_bytes(body, CONFIG_LIMIT)
        .await
        .map_err(|_| ApiError::TooLarge(CONFIG_LIMIT))?;
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        "text/plain" | "application/toml" => {
            let toml = String::from_utf8(bytes.to_vec()).map_err(|_| {
                ApiError::BadRequest("the configuration is not valid UTF-8".into())
            })?;
            Ok(ApplyBody { toml, comment: None })
        }
        "application/json" => serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::BadRequest(format!("the JSON body is not acceptable: {e}"))
        }),
        _ => Err(ApiError::UnsupportedMedia(
            "send the configuration as TOML (Content-Type: text/plain or application/toml) or as JSON {\"toml\": \"...\", \"comment\": \"...\"}".into(),
        )),
    }
}

/// Compiles as the command line does; errors become a 422 listing each one.
pub fn check(text: &str) -> ApiResult<Config> {
    compile(text, KNOWN_KINDS).map_err(|ConfigErrors(errors)| ApiError::Invalid {
        message: format!(
            "the configuration has {} error(s); nothing was changed",
            errors.len()
        ),
        details: errors
            .iter()
            .map(|e| json!({ "path": e.path, "line": e.line, "message": e.message }))
            .collect(),
    })
}

/// Refuses a configuration with more connectors than the license in force allows, as
/// `identitymesh config apply` does.
fn licensed(state: &AppState, config: &Config) -> ApiResult<()> {
    let count = config.connectors.len() as u64;
    state
        .license()
        .check_limit(Limit::Connectors, count)
        .map_err(|e| ApiError::Invalid {
            message: e.to_string(),
            details: json!([{ "path": "connectors", "line": null, "message": e.to_string() }]),
        })
}

/// `POST /api/v1/config`.
pub async fn apply(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiQuery(q): ApiQuery<ApplyQuery>,
    req: Request,
) -> ApiResult<Response> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = read_body(req.into_body(), &content_type).await?;
    let config = check(&body.toml)?;
    licensed(&state, &config)?;
    if q.dry_run.unwrap_or(false) {
        return Ok(Json(dry_run(&state, &body.toml).await?).into_response());
    }
    let outcome = store_version(&state, &who, &body, &config.hash).await?;
    // another apply may have landed since; the engine runs whatever is active now
    if let Some(engine) = &state.engine
        && active_id(&state).await? == outcome["version"].as_i64()
    {
        let version = outcome["version"].as_i64().unwrap_or_default();
        state
            .hub
            .configuration_applied(version, &body.toml, &config)
            .await;
        engine.replace_config(config);
    }
    let status = if outcome["changed"] == json!(true) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)).into_response())
}

async fn dry_run(state: &AppState, text: &str) -> ApiResult<Value> {
    let active = state.store.read_blocking(|tx| tx.active_config()).await?;
    let (old, name, id) = match &active {
        Some(v) => (v.content.as_str(), format!("version {}", v.id), Some(v.id)),
        None => ("", "(nothing applied)".to_owned(), None),
    };
    let mut body = diff::compare(old, text, &name, "proposed");
    body["dry_run"] = json!(true);
    body["valid"] = json!(true);
    body["active"] = json!(id);
    Ok(body)
}

/// Stores the version and audits it (unless it is the active text already), in one
/// transaction; the answer names the version, the previous one and the diff between them.
async fn store_version(
    state: &AppState,
    who: &Principal,
    body: &ApplyBody,
    hash: &str,
) -> ApiResult<Value> {
    let (content, hash, actor, now) =
        (body.toml.clone(), hash.to_owned(), who.actor(), state.now());
    let comment = body.comment.clone();
    let (before, version, old) = state
        .store
        .run_blocking(move |tx| {
            let previous = tx.active_config()?;
            let before = previous.as_ref().map(|v| v.id);
            let version = tx.apply_config(&content, &hash, &actor, now)?;
            if before != Some(version) {
                let record = NewAudit {
                    actor,
                    action: "config.apply".into(),
                    target: format!("config:{version}"),
                    before: before.map(|b| json!({ "version": b })),
                    after: Some(json!({ "version": version, "hash": hash, "comment": comment })),
                    run_id: None,
                };
                tx.append_audit(&record, now)?;
            }
            Ok((before, version, previous.map(|v| v.content)))
        })
        .await?;
    let old_name = before.map_or("(nothing applied)".to_owned(), |b| format!("version {b}"));
    let mut out = diff::compare(
        old.as_deref().unwrap_or_default(),
        &body.toml,
        &old_name,
        &format!("version {version}"),
    );
    out["version"] = json!(version);
    out["previous"] = json!(before);
    out["changed"] = json!(before != Some(version));
    Ok(out)
}
