//! Users and API tokens (admin only): the user list and creating a token for automation
//! (changing users and revoking tokens: [`super::users`]).
//! A token's value is returned once; the database keeps its hash. Creation is audited with
//! the token's id, name, role and expiry, never its value.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use chrono::Duration;
use identitymesh_domain::audit::NewAudit;
use identitymesh_store::NewApiToken;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Principal, Role, session};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

/// `GET /api/v1/users`.
pub async fn users(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let users = state.store.read_blocking(|tx| tx.users()).await?;
    let items: Vec<Value> = users.iter().map(super::users::user_json).collect();
    Ok(Json(json!({ "items": items })))
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A label.
    pub name: String,
    /// `viewer`, `operator` or `admin` (at most the caller's role).
    pub role: String,
    /// Lifetime in days (1–365).
    pub days: i64,
}

/// `POST /api/v1/tokens`: a token acting for the caller.
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::BadRequest("role must be viewer, operator or admin".into()))?;
    if role > who.role {
        return Err(ApiError::Forbidden {
            have: who.role.as_str(),
            need: role.as_str(),
        });
    }
    if !(1..=365).contains(&body.days) || body.name.is_empty() || body.name.len() > 100 {
        return Err(ApiError::BadRequest(
            "a token needs a name (1–100 characters) and 1 to 365 days".into(),
        ));
    }
    let (value, hash) = session::new_token();
    let now = state.now();
    let token = NewApiToken {
        name: body.name,
        user_id: who.user_id,
        role: role.as_str().into(),
        token_hash: hash,
        created_at: now,
        expires_at: now + Duration::days(body.days),
    };
    let actor = who.actor();
    let expires = token.expires_at;
    let id = state
        .store
        .run_blocking(move |tx| {
            let id = tx.insert_api_token(&token)?;
            let after =
                json!({ "name": token.name, "role": token.role, "expires_at": token.expires_at });
            let record = NewAudit {
                actor,
                action: "token.create".into(),
                target: format!("token:{id}"),
                before: None,
                after: Some(after),
                run_id: None,
            };
            tx.append_audit(&record, now)?;
            Ok(id)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": value, "role": role, "expires_at": expires })),
    ))
}
