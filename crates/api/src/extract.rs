//! Extractors that turn every rejection into an [`ApiError`], so malformed JSON, unknown
//! fields, oversized bodies and bad query strings get the one error body with a 4xx.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest body accepted (JSON and forms).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body; types should `deny_unknown_fields`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(json_error(e)),
        }
    }
}

fn json_error(e: JsonRejection) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(BODY_LIMIT),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMedia(
            "send the body as JSON with Content-Type: application/json".into(),
        ),
        _ => ApiError::BadRequest(format!(
            "the JSON body is not acceptable: {}",
            e.body_text()
        )),
    }
}

/// A URL-encoded form body (the sign-in form).
pub struct ApiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiForm<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Self(v)),
            Err(e) => Err(form_error(e)),
        }
    }
}

fn form_error(e: FormRejection) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(BODY_LIMIT),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMedia("send the form URL-encoded".into())
        }
        _ => ApiError::BadRequest(format!("the form is not acceptable: {}", e.body_text())),
    }
}

/// A query string; types should `deny_unknown_fields`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::BadRequest(format!("invalid query: {}", e.body_text()))
            })
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| {
                ApiError::BadRequest(format!("invalid path: {}", e.body_text()))
            })
    }
}

/// `?limit=&after=`: keyset pagination, newest or lowest id first depending on the list.
#[derive(Clone, Copy, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// How many (1–500, default 50).
    pub limit: Option<u32>,
    /// Continue after this id (from the previous page's `next`).
    pub after: Option<i64>,
}

impl Page {
    /// The checked limit.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit.unwrap_or(50) {
            n @ 1..=500 => Ok(n),
            n => Err(ApiError::BadRequest(format!(
                "limit {n} is out of range: use 1 to 500"
            ))),
        }
    }
    /// The checked cursor (0 = from the start).
    pub fn after(&self) -> Result<i64, ApiError> {
        match self.after.unwrap_or(0) {
            n if n >= 0 => Ok(n),
            n => Err(ApiError::BadRequest(format!(
                "after {n} is out of range: use an id from a previous page"
            ))),
        }
    }
}
