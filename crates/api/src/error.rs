//! The crate's one error type and its one mapping to HTTP: every failure, from a malformed
//! body to a database outage, leaves as a status and the same JSON body
//! `{"error": {"code": "...", "message": "..."}}`. Handlers return `Result<_, ApiError>` and
//! use `?`; nothing else decides a status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identitymesh_engine::EngineError;
use identitymesh_store::StoreError;
use serde_json::json;

/// What went wrong, as the client should see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: a body, a filter, a page out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the server accepts.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body is not JSON (or not a form) where one is required.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// No valid session or token.
    #[error("sign in first: no valid session or API token")]
    Unauthenticated,
    /// Signed in, but the role does not allow this.
    #[error("your role '{have}' cannot do this; it needs '{need}'")]
    Forbidden {
        /// The caller's role.
        have: &'static str,
        /// The role needed.
        need: &'static str,
    },
    /// A state-changing browser request without a valid anti-forgery token or from
    /// another origin.
    #[error("{0}")]
    Forgery(&'static str),
    /// Wrong name or password (never says which).
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many failed sign-ins.
    #[error("too many failed sign-ins for this user from this address; try again in {0} seconds")]
    Throttled(u64),
    /// No such thing.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The body is well-formed but its content is invalid; `details` lists every problem
    /// (a configuration's errors with path and line) and goes into the error body.
    #[error("{message}")]
    Invalid {
        /// The summary.
        message: String,
        /// Every problem, as JSON.
        details: serde_json::Value,
    },
    /// A part this process does not run (the engine in a standalone `admin-api`).
    #[error("{0}")]
    Unavailable(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else unexpected; the message is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMedia(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Forgery(_) => (StatusCode::FORBIDDEN, "forgery"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "throttled"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Store(StoreError::NameTaken { .. }) => (StatusCode::CONFLICT, "name_taken"),
            ApiError::Store(StoreError::Connect { .. }) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            ApiError::Store(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(s) => ApiError::Store(s),
            EngineError::UnknownConnector(_) | EngineError::UnknownCycle(_) => {
                ApiError::NotFound(e.to_string())
            }
            EngineError::NotApplicable(m) => ApiError::Conflict(m),
            EngineError::Busy { .. } => ApiError::Conflict(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            // the detail goes to the log, which never holds secrets; the client gets a pointer
            tracing::error!(error = %self, "request failed");
            "an internal error occurred; the server log has the details".to_owned()
        } else {
            self.to_string()
        };
        let mut body = json!({ "error": { "code": code, "message": message } });
        if let ApiError::Invalid { details, .. } = &self {
            body["error"]["details"] = details.clone();
        }
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Throttled(seconds) = self
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
