//! Errors as pages. Handlers fail with the API's [`crate::ApiError`], whose one mapping
//! decides the status and the message; this middleware turns that JSON error body into an
//! HTML page with the same status (and headers such as `Retry-After`), so the UI never
//! repeats the error-to-status mapping.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::Value;

use super::layout;

/// Middleware: a 4xx/5xx JSON error body becomes an HTML page.
pub async fn html(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let body: Value = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Value::Null,
    };
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or("the request failed")
        .to_owned();
    let code = body["error"]["code"].as_str().unwrap_or("error").to_owned();
    let title = status.canonical_reason().unwrap_or("Error");
    let page = layout::bare(
        title,
        html! {
            h1 { (status.as_u16()) " " (title) }
            p.error role="alert" { (message) }
            p.muted { "Error code: " code { (code) } }
            @if code == "unauthenticated" {
                p { a href="/ui/signin" { "Sign in" } }
            } @else {
                p { a href="/ui" { "Back to the dashboard" } }
            }
        },
    );
    let mut out = page.into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    *out.status_mut() = status;
    for (name, value) in parts.headers.iter() {
        out.headers_mut().insert(name.clone(), value.clone());
    }
    out
}
