//! License and secret status: the license in force (or the community edition) with its
//! limits against current usage, and the stored connector secrets — by name only.
//!
//! A secret's value can be set and deleted here but never read: no response of this module
//! carries a value, and the audit records (`secrets.set`, `secrets.delete`, written by the
//! store's vault in the same transaction as the change) name the secret and the actor only.
//! Values are sealed through the same vault as `identitymesh secrets set`.

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, routing::put};
use chrono::{DateTime, NaiveDate, Utc};
use identitymesh_domain::config::check_secret_name;
use identitymesh_secrets::{LicenseStatus, SecretString};
use identitymesh_store::{SecretInfo, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

use super::{Operation, guarded};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::v1::connectors::connector_config;

/// The purpose a new secret is sealed for, as `identitymesh secrets set` defaults it.
const DEFAULT_PURPOSE: &str = "connector";

/// The routes of this module.
pub const OPERATIONS: &[Operation] = &[
    (
        "get",
        "/api/v1/license",
        Some(Role::Viewer),
        "The license in force (or the community edition), its expiry and limits against usage",
    ),
    (
        "get",
        "/api/v1/secrets",
        Some(Role::Admin),
        "Stored and referenced secrets: names, whether set, when updated, which connectors use them; never values",
    ),
    (
        "put",
        "/api/v1/secrets/{name}",
        Some(Role::Admin),
        "Set a secret's value (body {\"value\": \"…\"}); the value is never returned",
    ),
    (
        "delete",
        "/api/v1/secrets/{name}",
        Some(Role::Admin),
        "Delete a stored secret",
    ),
];

/// The routes: the license for viewers, secrets for administrators.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new().route("/api/v1/license", get(license));
    let admin = Router::new()
        .route("/api/v1/secrets", get(secrets))
        .route("/api/v1/secrets/{name}", put(set).delete(delete));
    guarded(state, Role::Viewer, viewer).merge(guarded(state, Role::Admin, admin))
}

/// A limit and how much of it is used (`limit` absent: unlimited).
#[derive(Debug, Serialize)]
pub struct Usage {
    /// What the license allows.
    pub limit: Option<u64>,
    /// What exists now, when this process can count it.
    pub used: Option<u64>,
}

/// The license as `GET /api/v1/license` shows it.
#[derive(Debug, Serialize)]
pub struct LicenseView {
    /// `community`, `valid`, `in_grace` or `past_grace`.
    pub state: &'static str,
    /// The status in words.
    pub status: String,
    /// `community`, `standard`, `enterprise`, ….
    pub edition: String,
    /// Who it is issued to.
    pub licensee: String,
    /// The license's serial number.
    pub id: Option<String>,
    /// The last valid day.
    pub expires: Option<NaiveDate>,
    /// The last day of the grace period.
    pub grace_ends: Option<NaiveDate>,
    /// Days until expiry (negative: expired that many days ago).
    pub days_left: Option<i64>,
    /// Licensed features.
    pub features: Vec<String>,
    /// Mesh objects, connectors and relay agents: the limit and current usage.
    pub limits: BTreeMap<&'static str, Usage>,
    /// The warning an expired license gives, if any.
    pub warning: Option<String>,
}

fn state_name(status: &LicenseStatus) -> &'static str {
    match status {
        LicenseStatus::Community => "community",
        LicenseStatus::Valid { .. } => "valid",
        LicenseStatus::InGrace { .. } => "in_grace",
        LicenseStatus::PastGrace { .. } => "past_grace",
    }
}

/// The license in force with current usage: what the API and the UI show.
pub(crate) async fn license_view(state: &AppState) -> ApiResult<LicenseView> {
    let license = state.license().clone();
    let today = state.now().date_naive();
    let mesh = state.store.read_blocking(|tx| tx.count_mesh(None)).await?;
    let now = state.now();
    let (relays, tokens) = state
        .store
        .read_blocking(move |tx| super::relays::relay_places(tx, now))
        .await?;
    let connectors = connector_config(state)
        .await
        .ok()
        .map(|c| c.connectors.len() as u64);
    let status = license.status(today);
    let document = license.document();
    let grace_ends = match &status {
        LicenseStatus::InGrace { grace_ends, .. } => Some(*grace_ends),
        LicenseStatus::PastGrace { grace_ended, .. } => Some(*grace_ended),
        _ => None,
    };
    let limits = license.limits();
    let usage = |limit, used| Usage { limit, used };
    Ok(LicenseView {
        state: state_name(&status),
        status: status.to_string(),
        edition: license.edition().to_owned(),
        licensee: license.licensee().to_owned(),
        id: document.map(|d| d.id.clone()),
        expires: document.map(|d| d.expires),
        grace_ends,
        days_left: document.map(|d| (d.expires - today).num_days()),
        features: document.map(|d| d.features.clone()).unwrap_or_default(),
        limits: BTreeMap::from([
            ("mesh_objects", usage(limits.mesh_objects, Some(mesh))),
            ("connectors", usage(limits.connectors, connectors)),
            // relays enrolled and not revoked, and outstanding enrollment tokens
            (
                "relay_agents",
                usage(limits.relay_agents, Some(relays + tokens)),
            ),
        ]),
        warning: license.warning(today),
    })
}

/// `GET /api/v1/license`.
pub async fn license(State(state): State<AppState>) -> ApiResult<Json<LicenseView>> {
    Ok(Json(license_view(&state).await?))
}

/// A connector setting that takes its value from a secret.
#[derive(Clone, Debug, Serialize)]
pub struct Reference {
    /// The connector.
    pub connector: String,
    /// Its setting (`bind_password`).
    pub setting: String,
}

/// One secret by name: stored, referenced by the active configuration, or both. No value.
#[derive(Debug, Serialize)]
pub struct SecretView {
    /// The name.
    pub name: String,
    /// Whether a value is stored.
    pub set: bool,
    /// What it is sealed for.
    pub purpose: Option<String>,
    /// Its version (each set adds one).
    pub version: Option<i64>,
    /// The key-encryption key it is wrapped under (a key id, never key material).
    pub key_id: Option<String>,
    /// When it was last set.
    pub updated_at: Option<DateTime<Utc>>,
    /// When a connector last opened it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The connector settings that name it.
    pub used_by: Vec<Reference>,
}

impl SecretView {
    fn new(name: String, info: Option<&SecretInfo>) -> Self {
        Self {
            name,
            set: info.is_some(),
            purpose: info.map(|i| i.purpose.clone()),
            version: info.map(|i| i.version),
            key_id: info.map(|i| i.kek_id.clone()),
            updated_at: info.map(|i| i.updated_at),
            last_used_at: info.and_then(|i| i.last_used_at),
            used_by: Vec::new(),
        }
    }
}

/// Every stored secret and every secret the active configuration names, by name.
pub(crate) async fn secret_views(state: &AppState) -> ApiResult<Vec<SecretView>> {
    let infos = state.store.read_blocking(|tx| tx.secret_infos()).await?;
    let mut views: BTreeMap<String, SecretView> = infos
        .iter()
        .map(|i| (i.name.clone(), SecretView::new(i.name.clone(), Some(i))))
        .collect();
    // without an applied configuration nothing references a secret yet
    if let Ok(config) = connector_config(state).await {
        for (connector, c) in &config.connectors {
            for (setting, secret) in &c.secrets {
                views
                    .entry(secret.clone())
                    .or_insert_with(|| SecretView::new(secret.clone(), None))
                    .used_by
                    .push(Reference {
                        connector: connector.to_string(),
                        setting: setting.clone(),
                    });
            }
        }
    }
    Ok(views.into_values().collect())
}

/// `GET /api/v1/secrets`.
pub async fn secrets(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "items": secret_views(&state).await? })))
}

/// The body of `PUT /api/v1/secrets/{name}`. Its `Debug` never shows the value.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecretValue {
    /// The value (not empty).
    #[schemars(length(min = 1))]
    pub value: String,
}

impl fmt::Debug for NewSecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewSecretValue { value: <redacted> }")
    }
}

fn checked_name(name: &str) -> ApiResult<()> {
    check_secret_name(name).map_err(ApiError::BadRequest)
}

/// A vault failure (a key this host lacks, a damaged record) as a 409 naming the record
/// and what to do; anything else unchanged.
fn vault_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Secrets(s) => ApiError::Conflict(s.to_string()),
        other => ApiError::Store(other),
    }
}

/// Seals `value` as secret `name` through the vault (audited as `secrets.set` by `actor`);
/// a secret that exists keeps its purpose. Returns the new version.
pub(crate) async fn store_secret(
    state: &AppState,
    name: &str,
    value: SecretString,
    actor: String,
) -> ApiResult<i64> {
    checked_name(name)?;
    if value.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "the value of secret '{name}' is empty: send {{\"value\": \"…\"}} with the value"
        )));
    }
    let (vault, now, name) = (state.vault.clone(), state.now(), name.to_owned());
    state
        .store
        .run_blocking(move |tx| {
            let purpose = tx
                .secret(&name)?
                .map_or_else(|| DEFAULT_PURPOSE.to_owned(), |s| s.purpose);
            vault.set(tx, &name, &purpose, &value, &actor, now)
        })
        .await
        .map_err(vault_error)
}

/// Deletes secret `name` (audited as `secrets.delete` by `actor`); 404 when there is none.
pub(crate) async fn remove_secret(state: &AppState, name: &str, actor: String) -> ApiResult<()> {
    checked_name(name)?;
    let (vault, now, owned) = (state.vault.clone(), state.now(), name.to_owned());
    let existed = state
        .store
        .run_blocking(move |tx| vault.delete(tx, &owned, &actor, now))
        .await?;
    if existed {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no secret named '{name}' is stored"
        )))
    }
}

/// `PUT /api/v1/secrets/{name}`: 200 with the name and new version, never the value.
pub async fn set(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<NewSecretValue>,
) -> ApiResult<Json<Value>> {
    let value = SecretString::new(body.value);
    let version = store_secret(&state, &name, value, who.actor()).await?;
    Ok(Json(
        json!({ "name": name, "set": true, "version": version }),
    ))
}

/// `DELETE /api/v1/secrets/{name}`: 204.
pub async fn delete(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    remove_secret(&state, &name, who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
