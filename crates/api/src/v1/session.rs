//! Signing in and out. `POST /api/v1/session` takes JSON (`{"name", "password"}`) or the
//! sign-in form, throttles failures per user name and client address, and answers with the
//! session cookie and the anti-forgery token. Every sign-in, failure and sign-out is audited.

use axum::Json;
use axum::extract::{ConnectInfo, Extension, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identitymesh_domain::audit::NewAudit;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;

use crate::auth::password::{verify_dummy, verify_password};
use crate::auth::{Principal, Via, check_origin, session};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiForm, ApiJson};
use crate::state::AppState;

/// Sign-in credentials.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// User name.
    pub name: String,
    /// Password.
    pub password: String,
}

async fn audit(state: &AppState, actor: String, action: &str, after: Value) -> ApiResult<()> {
    let record = NewAudit {
        actor,
        action: action.into(),
        target: "session".into(),
        before: None,
        after: Some(after),
        run_id: None,
    };
    let now = state.now();
    state
        .store
        .run_blocking(move |tx| tx.append_audit(&record, now))
        .await?;
    Ok(())
}

/// `POST /api/v1/session`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> ApiResult<Response> {
    check_origin(req.headers())?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let creds: Credentials = if is_form {
        ApiForm::<Credentials>::from_request(req, &()).await?.0
    } else {
        ApiJson::<Credentials>::from_request(req, &()).await?.0
    };
    let address = peer.ip().to_string();
    let (now, sec) = (state.now(), state.security.clone());
    if let Some(wait) =
        state
            .throttle
            .locked(&creds.name, &address, now, sec.max_failures, sec.lockout)
    {
        return Err(ApiError::Throttled(wait));
    }
    let name = creds.name.clone();
    let user = state
        .store
        .read_blocking(move |tx| tx.user_by_name(&name))
        .await?;
    let password = creds.password;
    let (user, ok) = tokio::task::spawn_blocking(move || match user {
        Some(u) => {
            let ok = verify_password(&password, &u.password_hash);
            (Some(u), ok)
        }
        None => {
            verify_dummy(&password);
            (None, false)
        }
    })
    .await?;
    // a disabled user fails exactly as a wrong password does
    let Some(user) = user.filter(|u| ok && u.disabled_at.is_none()) else {
        state
            .throttle
            .fail(&creds.name, &address, now, sec.max_failures, sec.lockout);
        audit(
            &state,
            format!("user:{}", creds.name),
            "session.login_failed",
            json!({ "address": address }),
        )
        .await?;
        return Err(ApiError::BadCredentials);
    };
    state.throttle.succeed(&creds.name, &address);
    let (cookie, csrf) = session::create(&state, user.id).await?;
    audit(
        &state,
        format!("user:{}", user.name),
        "session.login",
        json!({ "address": address }),
    )
    .await?;
    let body = json!({ "name": user.name, "role": user.role, "csrf_token": csrf });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    set_cookie(&mut response, &session::set_cookie(&state, Some(&cookie)));
    Ok(response)
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = header::HeaderValue::from_str(value) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
}

/// `GET /api/v1/session`: who is signed in, and the session's anti-forgery token.
pub async fn whoami(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Value>> {
    let csrf = match &who.via {
        Via::Session(id_hash) => Some(session::csrf_token(&state, id_hash).await?),
        Via::Token(_) => None,
    };
    Ok(Json(
        json!({ "name": who.name, "role": who.role, "csrf_token": csrf }),
    ))
}

/// `DELETE /api/v1/session`: signs out.
pub async fn logout(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    _headers: HeaderMap,
) -> ApiResult<Response> {
    if let Via::Session(id_hash) = &who.via {
        session::end(&state, id_hash).await?;
    }
    audit(&state, who.actor(), "session.logout", json!({})).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &session::set_cookie(&state, None));
    Ok(response)
}
