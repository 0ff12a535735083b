//! Relay agents: their presence, enrollment tokens, and the administrator's controls —
//! rename, disable, enable, revoke. A revoked or disabled relay is disconnected at once (on
//! this instance; another instance refuses it at its next connection) and refused after.
//! An enrollment token's value is shown once, at creation, and stored by hash only.

use axum::Json;
use axum::Router;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::Duration;
use identitymesh_domain::audit::NewAudit;
use identitymesh_protocol::{Refusal, RefusalCode};
use identitymesh_secrets::license::{License, Limit};
use identitymesh_store::{NewEnrollmentToken, RelayRecord, RelayStatus, StoreResult, Tx};
use serde::Deserialize;
use serde_json::{Value, json};

use super::users::By;
use super::{Operation, guarded};
use crate::auth::password::{random_secret, secret_hash};
use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// The routes of this module.
pub const OPERATIONS: &[Operation] = &[
    (
        "get",
        "/api/v1/relays",
        Some(Role::Viewer),
        "Relay agents with their presence (connected where and since when, last heartbeat) and connectors",
    ),
    (
        "patch",
        "/api/v1/relays/{id}",
        Some(Role::Admin),
        "Rename, disable or enable a relay (body {\"name\": …, \"status\": \"active\"|\"disabled\"})",
    ),
    (
        "post",
        "/api/v1/relays/{id}/revoke",
        Some(Role::Admin),
        "Revoke a relay for good: it is disconnected at once and refused after",
    ),
    (
        "get",
        "/api/v1/relays/enrollment-tokens",
        Some(Role::Admin),
        "Enrollment tokens (never their values): name, creator, expiry, which relay used it",
    ),
    (
        "post",
        "/api/v1/relays/enrollment-tokens",
        Some(Role::Admin),
        "Create a one-time enrollment token for a relay named NAME (its value is shown once)",
    ),
];

/// The routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new().route("/api/v1/relays", get(list));
    let admin = Router::new()
        .route("/api/v1/relays/{id}", axum::routing::patch(change))
        .route("/api/v1/relays/{id}/revoke", post(revoke))
        .route(
            "/api/v1/relays/enrollment-tokens",
            get(tokens).post(create_token),
        );
    guarded(state, Role::Viewer, viewer).merge(guarded(state, Role::Admin, admin))
}

/// A relay name: what connectors put in `relay = "…"`.
pub fn check_relay_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "'{name}' is not a relay name: 1 to 100 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// The connectors of the running configuration that name this relay.
pub fn assigned_connectors(state: &AppState, relay_name: &str) -> Vec<String> {
    state
        .engine
        .as_ref()
        .map(|e| {
            e.config()
                .connectors
                .values()
                .filter(|c| c.relay.as_deref() == Some(relay_name))
                .map(|c| c.name.to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn relay_json(r: &RelayRecord, state: &AppState) -> Value {
    let connectors = assigned_connectors(state, &r.name);
    json!({
        "id": r.id, "name": r.name, "status": r.status.as_str(), "created_at": r.created_at,
        "host": r.host, "agent_version": r.agent_version,
        "connected": r.connected_instance.is_some(), "connected_instance": r.connected_instance,
        "connected_here": state.hub.is_connected(&r.id), "connected_since": r.connected_since,
        "last_heartbeat_at": r.last_heartbeat_at, "connectors": connectors,
    })
}

/// `GET /api/v1/relays`.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let relays = state.store.read_blocking(|tx| tx.relays()).await?;
    let items: Vec<Value> = relays.iter().map(|r| relay_json(r, &state)).collect();
    Ok(Json(json!({ "items": items })))
}

/// The body of `POST /api/v1/relays/enrollment-tokens`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The name the relay gets (what connectors name in `relay = "…"`).
    pub name: String,
    /// Hours until the token expires (1–168, default 24).
    pub hours: Option<i64>,
}

async fn audit(
    state: &AppState,
    actor: String,
    action: &str,
    target: String,
    after: Value,
) -> ApiResult<()> {
    let now = state.now();
    let record = NewAudit {
        actor,
        action: action.into(),
        target,
        before: None,
        after: Some(after),
        run_id: None,
    };
    state
        .store
        .run_blocking(move |tx| tx.append_audit(&record, now).map(drop))
        .await?;
    Ok(())
}

/// How long an enrollment token lives unless its creator says otherwise, in hours.
pub const DEFAULT_TOKEN_HOURS: i64 = 24;

/// The longest an enrollment token may live, in hours.
pub const MAX_TOKEN_HOURS: i64 = 168;

/// The places of the `relay_agents` limit taken at `at`: relays enrolled and not revoked (a
/// disabled relay can be enabled again, so it keeps its place), and enrollment tokens still
/// outstanding (unused and unexpired).
pub fn relay_places(tx: &mut dyn Tx, at: chrono::DateTime<chrono::Utc>) -> StoreResult<(u64, u64)> {
    let relays = tx
        .relays()?
        .iter()
        .filter(|r| r.status != RelayStatus::Revoked)
        .count() as u64;
    let tokens = tx
        .enrollment_tokens()?
        .iter()
        .filter(|t| t.used_at.is_none() && t.expires_at > at)
        .count() as u64;
    Ok((relays, tokens))
}

/// A new enrollment token, created and audited in one transaction by `by` (the API's
/// signed-in caller, or the command line): its id, its value (shown once, stored by hash)
/// and its expiry. Refused (409, naming the limit) when the relays holding a place and the
/// outstanding tokens already fill the `relay_agents` limit of `license`; the count is taken
/// in the transaction that stores the token.
pub async fn issue_enrollment_token(
    by: &By,
    license: &License,
    name: &str,
    hours: i64,
) -> ApiResult<(i64, String, chrono::DateTime<chrono::Utc>)> {
    check_relay_name(name)?;
    if !(1..=MAX_TOKEN_HOURS).contains(&hours) {
        return Err(ApiError::BadRequest(format!(
            "hours must be 1 to {MAX_TOKEN_HOURS}, not {hours}"
        )));
    }
    let value = format!("imr_{}", random_secret(32));
    let token = NewEnrollmentToken {
        name: name.to_owned(),
        token_hash: secret_hash(&value),
        created_by: by.actor.clone(),
        created_at: by.at,
        expires_at: by.at + Duration::hours(hours),
    };
    let expires = token.expires_at;
    let license = license.clone();
    let id = by
        .in_tx(move |tx, by| {
            let (relays, tokens) = relay_places(tx, by.at)?;
            license
                .check_limit(Limit::RelayAgents, relays + tokens + 1)
                .map_err(|e| {
                    ApiError::Conflict(format!(
                        "cannot create an enrollment token: {e} (relay_agents counts the relays \
                         enrolled and not revoked, {relays} now, and the unused, unexpired \
                         enrollment tokens, {tokens} now)"
                    ))
                })?;
            let id = tx.insert_enrollment_token(&token)?;
            let after = json!({ "name": token.name, "expires_at": token.expires_at });
            let target = format!("enrollment-token:{id}");
            by.audit(tx, "relay.enrollment_token", target, None, Some(after))?;
            Ok(id)
        })
        .await?;
    Ok((id, value, expires))
}

/// `POST /api/v1/relays/enrollment-tokens`: the value is in this answer only.
pub async fn create_token(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let hours = body.hours.unwrap_or(DEFAULT_TOKEN_HOURS);
    let by = By::caller(&state, &who);
    let (id, value, expires) =
        issue_enrollment_token(&by, state.license(), &body.name, hours).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": body.name, "token": value, "expires_at": expires })),
    ))
}

/// `GET /api/v1/relays/enrollment-tokens`.
pub async fn tokens(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let tokens = state
        .store
        .read_blocking(|tx| tx.enrollment_tokens())
        .await?;
    let items: Vec<Value> = tokens
        .iter()
        .map(|t| json!({ "id": t.id, "name": t.name, "created_by": t.created_by, "created_at": t.created_at,
                         "expires_at": t.expires_at, "used_at": t.used_at, "relay_id": t.relay_id }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// The body of `PATCH /api/v1/relays/{id}`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayChange {
    /// A new name.
    pub name: Option<String>,
    /// `active` or `disabled` (use the revoke operation to revoke).
    pub status: Option<String>,
}

/// The relay with this id, or a 404 naming it.
pub async fn existing(state: &AppState, id: &str) -> ApiResult<RelayRecord> {
    let key = id.to_owned();
    state
        .store
        .read_blocking(move |tx| tx.relay(&key))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no relay with id '{id}'")))
}

/// Renames a relay and/or sets it `active` or `disabled` (a disabled one is disconnected at
/// once); returns it as it is now.
pub async fn change_relay(
    state: &AppState,
    id: &str,
    change: RelayChange,
    actor: String,
) -> ApiResult<RelayRecord> {
    let relay = existing(state, id).await?;
    let status = match change.status.as_deref() {
        None => None,
        Some("active") => Some(RelayStatus::Active),
        Some("disabled") => Some(RelayStatus::Disabled),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "status must be active or disabled, not '{other}' (revoke with POST /api/v1/relays/{{id}}/revoke)"
            )));
        }
    };
    if relay.status == RelayStatus::Revoked && status.is_some() {
        return Err(ApiError::Conflict(
            "a revoked relay stays revoked: enroll it again with a new token".into(),
        ));
    }
    if let Some(name) = &change.name {
        check_relay_name(name)?;
    }
    let (key, name) = (id.to_owned(), change.name.clone());
    state
        .store
        .run_blocking(move |tx| {
            if let Some(name) = &name {
                tx.rename_relay(&key, name)?;
            }
            if let Some(status) = status {
                tx.set_relay_status(&key, status)?;
            }
            Ok(())
        })
        .await?;
    if status == Some(RelayStatus::Disabled) {
        let refusal = Refusal {
            code: RefusalCode::Disabled,
            message: "an administrator disabled this relay".into(),
        };
        state.hub.disconnect(id, refusal);
    }
    let after = json!({ "name": change.name, "status": change.status });
    audit(state, actor, "relay.change", format!("relay:{id}"), after).await?;
    existing(state, id).await
}

/// `PATCH /api/v1/relays/{id}`.
pub async fn change(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RelayChange>,
) -> ApiResult<Json<Value>> {
    let relay = change_relay(&state, &id, body, who.actor()).await?;
    Ok(Json(relay_json(&relay, &state)))
}

/// Revokes a relay: refused from now on, disconnected at once from this instance.
pub async fn revoke_relay(state: &AppState, id: &str, actor: String) -> ApiResult<()> {
    existing(state, id).await?;
    let key = id.to_owned();
    state
        .store
        .run_blocking(move |tx| tx.set_relay_status(&key, RelayStatus::Revoked))
        .await?;
    let refusal = Refusal {
        code: RefusalCode::Revoked,
        message: "an administrator revoked this relay".into(),
    };
    state.hub.disconnect(id, refusal);
    audit(
        state,
        actor,
        "relay.revoke",
        format!("relay:{id}"),
        json!({ "status": "revoked" }),
    )
    .await
}

/// `POST /api/v1/relays/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    revoke_relay(&state, &id, who.actor()).await?;
    let relay = existing(&state, &id).await?;
    Ok(Json(relay_json(&relay, &state)))
}
