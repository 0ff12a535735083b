//! Who is calling and what they may do. Every route under `/api/v1` (except signing in and
//! the OpenAPI document) sits behind [`require`] with the least role it needs, so a route
//! cannot be added without a role. A caller is either a browser with a session cookie — then
//! every state-changing request also needs the anti-forgery token and, when the browser sends
//! an `Origin`, a same-origin one — or automation with `Authorization: Bearer TOKEN`.

pub mod bootstrap;
pub mod password;
pub mod session;
pub mod throttle;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Roles, least to most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything except users and the audit log.
    Viewer,
    /// Also starts runs, decides held exports and adoptions, reads the audit log.
    Operator,
    /// Also manages users and tokens.
    Admin,
}

impl Role {
    /// Parses `admin`, `operator` or `viewer`.
    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// How the caller authenticated.
#[derive(Clone, Debug)]
pub enum Via {
    /// A browser session (the hash of its id).
    Session(String),
    /// An API token (its id).
    Token(i64),
}

/// The authenticated caller, put in the request's extensions by [`require`].
#[derive(Clone, Debug)]
pub struct Principal {
    /// User id.
    pub user_id: i64,
    /// User name.
    pub name: String,
    /// Effective role (a token's role, never more than its user's).
    pub role: Role,
    /// How.
    pub via: Via,
}

impl Principal {
    /// The actor string of audit records and runs: `user:NAME` or `token:ID:NAME`.
    pub fn actor(&self) -> String {
        match self.via {
            Via::Session(_) => format!("user:{}", self.name),
            Via::Token(id) => format!("token:{id}:{}", self.name),
        }
    }
}

/// Middleware: authenticate, check the role, check anti-forgery for browser writes.
pub async fn require(
    State((state, need)): State<(AppState, Role)>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let principal = authenticate(&state, req.headers()).await?;
    if principal.role < need {
        return Err(ApiError::Forbidden {
            have: principal.role.as_str(),
            need: need.as_str(),
        });
    }
    if let Via::Session(id_hash) = &principal.via
        && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    {
        check_origin(req.headers())?;
        let token = req
            .headers()
            .get(session::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        session::verify_csrf(&state, id_hash, token).await?;
    }
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}

/// Who the request's credentials name, if anyone valid.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        return session::token_principal(state, token.trim()).await;
    }
    let cookie = session::cookie_value(headers).ok_or(ApiError::Unauthenticated)?;
    session::session_principal(state, &cookie).await
}

/// A browser's `Origin`, when sent, must be this server (scheme and host).
pub fn check_origin(headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| ApiError::Forgery("the Origin header is not valid"))?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let same = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|o| o == host);
    if same {
        Ok(())
    } else {
        Err(ApiError::Forgery("the request comes from another origin"))
    }
}
