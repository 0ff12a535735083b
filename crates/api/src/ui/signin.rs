//! Signing in and out. The form posts to `/ui/signin`; the API's sign-in does the work
//! (throttling, Argon2id, the session, the audit record) and the UI turns its answer into a
//! redirect to the dashboard with the session cookie, or the form again with the reason —
//! wrong credentials, or how long a throttled user must wait.

use axum::body::Body;
use axum::extract::{ConnectInfo, Extension, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use std::net::SocketAddr;

use super::{UiResult, Viewer, layout};
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::state::AppState;
use crate::v1::session;

fn form(name: &str, problem: Option<&str>) -> Response {
    layout::bare(
        "Sign in",
        html! {
            h1 { "Sign in to IdentityMesh" }
            @if let Some(p) = problem { p.error role="alert" { (p) } }
            form.card method="post" action="/ui/signin" {
                p {
                    label for="name" { "User name" }
                    input id="name" name="name" type="text" autocomplete="username" required autofocus value=(name);
                }
                p {
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                }
                p { button type="submit" { "Sign in" } }
            }
        },
    )
    .into_response()
}

/// `GET /ui/signin`.
pub async fn page() -> Response {
    form("", None)
}

/// `POST /ui/signin`: the session cookie and a redirect to the dashboard, or the form again.
pub async fn sign_in(
    State(state): State<AppState>,
    connect: ConnectInfo<SocketAddr>,
    req: Request,
) -> UiResult<Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::TooLarge(BODY_LIMIT))?;
    let name = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "name"))
        .map(|(_, v)| v)
        .unwrap_or_default();
    let req = Request::from_parts(parts, Body::from(bytes));
    match session::login(State(state), connect, req).await {
        Ok(answer) => {
            let mut out = Redirect::to("/ui").into_response();
            if let Some(cookie) = answer.headers().get(header::SET_COOKIE) {
                out.headers_mut().insert(header::SET_COOKIE, cookie.clone());
            }
            Ok(out)
        }
        Err(e @ (ApiError::BadCredentials | ApiError::Throttled(_))) => {
            let status = match e {
                ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let mut out = form(&name, Some(&e.to_string()));
            *out.status_mut() = status;
            Ok(out)
        }
        Err(e) => Err(e),
    }
}

/// `POST /ui/signout`: ends the session (audited) and returns to the sign-in page.
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Response> {
    let answer = session::logout(State(state), Extension(v.who), HeaderMap::new()).await?;
    let mut out = Redirect::to("/ui/signin").into_response();
    if let Some(cookie) = answer.headers().get(header::SET_COOKIE) {
        out.headers_mut().insert(header::SET_COOKIE, cookie.clone());
    }
    Ok(out)
}
