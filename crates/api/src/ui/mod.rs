//! The web admin UI under `/ui`: server-rendered HTML (maud templates compiled into the
//! binary), no JavaScript at all and no external assets — one stylesheet served from the
//! binary at `/ui/static/style.css`. The content security policy forbids inline script and
//! style, so pages carry neither; a running run's page refreshes itself with
//! `<meta http-equiv="refresh">`, and `?partial=1` answers with just the live section (the
//! partial for in-page updates, kanidm-style).
//!
//! Roles are enforced exactly as in the API: each route group sits behind [`ui_require`] with
//! the least role it needs. A browser without a session is sent to the sign-in page. Every
//! state-changing request (a POST) is checked here, before any handler runs: the `Origin`
//! must be this server and the URL-encoded body must carry the session's anti-forgery token
//! in the hidden `csrf` field. The parsed fields reach handlers as [`FormFields`].

mod admin;
mod config;
mod connectors;
mod dashboard;
mod errors;
mod layout;
mod mesh;
mod relays;
mod review;
mod runs;
mod signin;
mod space;
mod system;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::HashMap;

use crate::auth::{Principal, Role, Via, check_origin, session};
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::state::AppState;

/// The stylesheet, compiled into the binary.
const STYLE: &str = include_str!("style.css");

/// Result of a UI handler: errors are the API's, shown as an HTML page by [`errors::html`].
pub type UiResult<T> = Result<T, ApiError>;

/// The fields of a checked POST form (the anti-forgery field removed).
#[derive(Clone, Debug, Default)]
pub struct FormFields(pub HashMap<String, String>);

impl FormFields {
    /// A field's value, or a 400 naming it.
    pub fn get(&self, name: &str) -> UiResult<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ApiError::BadRequest(format!("the form lacks '{name}'")))
    }
}

/// The signed-in user and the session's anti-forgery token, for rendering forms.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// Who.
    pub who: Principal,
    /// The token to put in every form's hidden `csrf` field.
    pub csrf: String,
}

/// Middleware: a session (else to the sign-in page), the role, and for a POST the origin and
/// the anti-forgery field.
pub async fn ui_require(
    State((state, need)): State<(AppState, Role)>,
    req: Request,
    next: Next,
) -> Response {
    match check(&state, need, req).await {
        Ok(req) => next.run(req).await,
        Err(ApiError::Unauthenticated) => Redirect::to("/ui/signin").into_response(),
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, need: Role, req: Request) -> UiResult<Request> {
    // the UI is for browsers: a session cookie, never a bearer token
    let cookie = session::cookie_value(req.headers()).ok_or(ApiError::Unauthenticated)?;
    let who = session::session_principal(state, &cookie).await?;
    if who.role < need {
        return Err(ApiError::Forbidden {
            have: who.role.as_str(),
            need: need.as_str(),
        });
    }
    let Via::Session(id_hash) = &who.via else {
        return Err(ApiError::Unauthenticated);
    };
    let csrf = session::csrf_token(state, id_hash).await?;
    let (mut parts, body) = req.into_parts();
    let body = if matches!(parts.method, Method::GET | Method::HEAD) {
        body
    } else {
        check_origin(&parts.headers)?;
        let bytes = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| ApiError::TooLarge(BODY_LIMIT))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("the form is not acceptable: {e}")))?;
        let mut fields: HashMap<String, String> = pairs.into_iter().collect();
        let token = fields.remove("csrf").unwrap_or_default();
        if token.is_empty() {
            return Err(ApiError::Forgery(
                "this form lacks its anti-forgery token; reload the page and try again",
            ));
        }
        session::verify_csrf(state, id_hash, &token).await?;
        parts.extensions.insert(FormFields(fields));
        Body::from(bytes)
    };
    parts.extensions.insert(Viewer { who, csrf });
    Ok(Request::from_parts(parts, body))
}

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

fn guarded(state: &AppState, role: Role, routes: Router<AppState>) -> Router<AppState> {
    routes.route_layer(from_fn_with_state((state.clone(), role), ui_require))
}

/// The `/ui` routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new()
        .route("/ui", get(dashboard::page))
        .route("/ui/signout", post(signin::sign_out))
        .route("/ui/connectors", get(connectors::list))
        .route("/ui/connectors/{name}", get(connectors::detail))
        .route("/ui/runs", get(runs::list))
        .route("/ui/runs/{id}", get(runs::detail))
        .route("/ui/mesh", get(mesh::search))
        .route("/ui/mesh/{id}", get(mesh::detail))
        .route("/ui/review", get(review::page));
    let operator = Router::new()
        .route("/ui/connectors/{name}/run", post(connectors::run_now_post))
        .route("/ui/runs/{id}/cancel", post(runs::cancel))
        .route("/ui/review/{name}/held", post(review::held_decision))
        .route("/ui/review/{name}/adoption", post(review::adoption))
        .route("/ui/audit", get(admin::audit));
    let admin = Router::new().route("/ui/users", get(admin::users));
    Router::new()
        .route("/ui/", get(|| async { Redirect::permanent("/ui") }))
        .route("/ui/signin", get(signin::page).post(signin::sign_in))
        .route("/ui/static/style.css", get(stylesheet))
        .merge(guarded(state, Role::Viewer, viewer))
        .merge(guarded(state, Role::Operator, operator))
        .merge(guarded(state, Role::Admin, admin))
        .merge(system::router(state))
        .merge(relays::router(state))
        .merge(admin::router(state))
        .merge(config::router(state))
        .route(
            "/ui/{*rest}",
            get(|| async { ApiError::NotFound("there is no such page".into()) }),
        )
        .layer(from_fn(errors::html))
}
