//! Sessions, anti-forgery tokens and API tokens.
//!
//! A session lives in the database under the blake3 hash of a random id. The cookie carries
//! that id protected by the data-protection key ring (purpose `session`): authenticated
//! encryption that any instance sharing the database can open, that survives a restart, and
//! that a copied database alone cannot forge. The anti-forgery token is the session's hash
//! protected for another purpose (`csrf`), so it is bound to the session and useless with any
//! other. Sessions end after an idle timeout and an absolute one. API tokens are random
//! strings stored by hash, scoped to a role and expiring.

use axum::http::{HeaderMap, header};
use chrono::Duration;
use identitymesh_store::SessionRecord;

use super::password::{random_secret, secret_hash};
use super::{Principal, Role, Via};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "im_session";
/// The header carrying the anti-forgery token.
pub const CSRF_HEADER: &str = "x-csrf-token";
const SESSION_PURPOSE: &str = "identitymesh.session";
const CSRF_PURPOSE: &str = "identitymesh.csrf";
/// A session's recorded activity is refreshed at most this often (idle expiry is measured
/// from it, so it is at most this much early).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The session cookie's value in a request, if any.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

/// A new session for a user: (cookie value, anti-forgery token).
pub async fn create(state: &AppState, user_id: i64) -> ApiResult<(String, String)> {
    let ring = state.key_ring().await?;
    let now = state.now();
    let id = random_secret(32);
    let id_hash = secret_hash(&id);
    let record = SessionRecord {
        id_hash: id_hash.clone(),
        user_id,
        created_at: now,
        last_seen_at: now,
        expires_at: now + state.security.absolute_timeout,
    };
    state
        .store
        .run_blocking(move |tx| tx.insert_session(&record))
        .await?;
    let protect = |purpose, payload: &str| {
        ring.protect(purpose, payload.as_bytes(), now)
            .map_err(|e| ApiError::Internal(e.to_string()))
    };
    Ok((
        protect(SESSION_PURPOSE, &id)?,
        protect(CSRF_PURPOSE, &id_hash)?,
    ))
}

/// The `Set-Cookie` value for a session (or, with `None`, one that clears it).
pub fn set_cookie(state: &AppState, value: Option<&str>) -> String {
    let secure = if state.security.tls { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; Path=/; HttpOnly; SameSite=Strict{secure}; Max-Age={}",
            state.security.absolute_timeout.num_seconds()
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict{secure}; Max-Age=0"),
    }
}

/// The anti-forgery token of a session.
pub async fn csrf_token(state: &AppState, id_hash: &str) -> ApiResult<String> {
    let ring = state.key_ring().await?;
    ring.protect(CSRF_PURPOSE, id_hash.as_bytes(), state.now())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Refuses unless `token` is this session's anti-forgery token.
pub async fn verify_csrf(state: &AppState, id_hash: &str, token: &str) -> ApiResult<()> {
    const MISSING: &str = "this request changes state and needs the session's anti-forgery token in the X-CSRF-Token header";
    if token.is_empty() {
        return Err(ApiError::Forgery(MISSING));
    }
    let ring = state.key_ring().await?;
    match ring.unprotect(CSRF_PURPOSE, token, state.now()) {
        Ok(payload) if payload == id_hash.as_bytes() => Ok(()),
        _ => Err(ApiError::Forgery(
            "the anti-forgery token is not valid for this session",
        )),
    }
}

/// The signed-in user of a session cookie, touching the session.
pub async fn session_principal(state: &AppState, cookie: &str) -> ApiResult<Principal> {
    let ring = state.key_ring().await?;
    let now = state.now();
    let id = ring
        .unprotect(SESSION_PURPOSE, cookie, now)
        .map_err(|_| ApiError::Unauthenticated)?;
    let id_hash = secret_hash(std::str::from_utf8(&id).map_err(|_| ApiError::Unauthenticated)?);
    let idle = state.security.idle_timeout;
    let key = id_hash.clone();
    // a read: requests never queue behind a run's write transaction to check a session
    let found = state
        .store
        .read_blocking(move |tx| {
            let Some(session) = tx.session(&key)? else {
                return Ok(None);
            };
            Ok(tx.user_by_id(session.user_id)?.map(|u| (session, u)))
        })
        .await?;
    let Some((session, user)) = found else {
        return Err(ApiError::Unauthenticated);
    };
    let key = id_hash.clone();
    if now >= session.expires_at || now - session.last_seen_at >= idle {
        state
            .store
            .run_blocking(move |tx| tx.delete_session(&key))
            .await?;
        return Err(ApiError::Unauthenticated);
    }
    // idle expiry counts from the last recorded activity, written at most once a minute
    if now - session.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECONDS) {
        state
            .store
            .run_blocking(move |tx| tx.touch_session(&key, now))
            .await?;
    }
    if user.disabled_at.is_some() {
        return Err(ApiError::Unauthenticated);
    }
    let role = Role::parse(&user.role).ok_or(ApiError::Unauthenticated)?;
    Ok(Principal {
        user_id: user.id,
        name: user.name,
        role,
        via: Via::Session(id_hash),
    })
}

/// Ends a session.
pub async fn end(state: &AppState, id_hash: &str) -> ApiResult<()> {
    let key = id_hash.to_owned();
    state
        .store
        .run_blocking(move |tx| tx.delete_session(&key))
        .await?;
    Ok(())
}

/// A new API token's value (shown once): `imt_` and 32 random bytes.
pub fn new_token() -> (String, String) {
    let token = format!("imt_{}", random_secret(32));
    let hash = secret_hash(&token);
    (token, hash)
}

/// The user an API token acts for, with the token's role (never above the user's).
pub async fn token_principal(state: &AppState, token: &str) -> ApiResult<Principal> {
    let hash = secret_hash(token);
    let now = state.now();
    let found = state
        .store
        .read_blocking(move |tx| {
            let Some(t) = tx.api_token_by_hash(&hash)? else {
                return Ok(None);
            };
            if now >= t.expires_at {
                return Ok(None);
            }
            let user = tx.user_by_id(t.user_id)?;
            Ok(user.filter(|u| u.disabled_at.is_none()).map(|u| (t, u)))
        })
        .await?;
    let (token, user) = found.ok_or(ApiError::Unauthenticated)?;
    let user_role = Role::parse(&user.role).ok_or(ApiError::Unauthenticated)?;
    let token_role = Role::parse(&token.role).ok_or(ApiError::Unauthenticated)?;
    Ok(Principal {
        user_id: user.id,
        name: user.name,
        role: user_role.min(token_role),
        via: Via::Token(token.id),
    })
}
