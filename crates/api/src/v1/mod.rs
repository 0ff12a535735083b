//! The REST API under `/api/v1`. Routes are grouped by the least role they need and each
//! group sits behind [`crate::auth::require`]; [`operations`] lists every route for the
//! OpenAPI document (a test checks that each one answers).

pub mod config;
pub mod connectors;
pub mod mesh;
pub mod openapi;
pub mod records;
pub mod relays;
pub mod review;
pub mod runs;
pub mod session;
pub mod space;
pub mod system;
pub mod tokens;
pub mod users;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::auth::{Role, require};
use crate::state::AppState;

/// One documented operation: method, path, least role (`None`: no sign-in), summary.
pub type Operation = (&'static str, &'static str, Option<Role>, &'static str);

/// Every route of the API: the core routes of this module, then each area module's own.
pub fn operations() -> impl Iterator<Item = &'static Operation> {
    CORE_OPERATIONS
        .iter()
        .chain(system::OPERATIONS.iter())
        .chain(config::OPERATIONS.iter())
        .chain(space::OPERATIONS.iter())
        .chain(users::OPERATIONS.iter())
        .chain(relays::OPERATIONS.iter())
}

/// The routes registered by [`router`] itself.
const CORE_OPERATIONS: &[Operation] = &[
    (
        "post",
        "/api/v1/session",
        None,
        "Sign in (JSON or form); sets the session cookie, returns the anti-forgery token",
    ),
    (
        "get",
        "/api/v1/session",
        Some(Role::Viewer),
        "Who is signed in, and the session's anti-forgery token",
    ),
    ("delete", "/api/v1/session", Some(Role::Viewer), "Sign out"),
    ("get", "/api/v1/openapi.json", None, "This document"),
    (
        "get",
        "/api/v1/connectors",
        Some(Role::Viewer),
        "Connectors of the active configuration",
    ),
    (
        "get",
        "/api/v1/connectors/{name}",
        Some(Role::Viewer),
        "A connector with its schema",
    ),
    (
        "get",
        "/api/v1/connectors/{name}/runs",
        Some(Role::Viewer),
        "Runs of a connector, newest first",
    ),
    (
        "post",
        "/api/v1/connectors/{name}/runs",
        Some(Role::Operator),
        "Start a run or a simulation; returns the run id",
    ),
    (
        "get",
        "/api/v1/connectors/{name}/held-exports",
        Some(Role::Viewer),
        "Exports held by a tripped guard",
    ),
    (
        "post",
        "/api/v1/connectors/{name}/held-exports/approve",
        Some(Role::Operator),
        "Approve the held exports (an export run)",
    ),
    (
        "post",
        "/api/v1/connectors/{name}/held-exports/reject",
        Some(Role::Operator),
        "Reject the held exports (an export run)",
    ),
    (
        "post",
        "/api/v1/connectors/{name}/adoptions",
        Some(Role::Operator),
        "Approve or reject an adoption",
    ),
    (
        "get",
        "/api/v1/runs",
        Some(Role::Viewer),
        "Runs, filtered by connector, profile, status and start time, newest first",
    ),
    (
        "get",
        "/api/v1/runs/{id}",
        Some(Role::Viewer),
        "A run with statistics and per-object errors",
    ),
    (
        "post",
        "/api/v1/runs/{id}/cancel",
        Some(Role::Operator),
        "Ask a running run to stop at its next batch boundary (status cancelled)",
    ),
    (
        "get",
        "/api/v1/mesh",
        Some(Role::Viewer),
        "Search mesh objects by attribute value",
    ),
    (
        "get",
        "/api/v1/mesh/{id}",
        Some(Role::Viewer),
        "A mesh object with provenance, links and history",
    ),
    (
        "get",
        "/api/v1/conflicts",
        Some(Role::Viewer),
        "Ambiguous joins and adoptions awaiting a decision",
    ),
    (
        "get",
        "/api/v1/audit",
        Some(Role::Operator),
        "The audit log, filtered by actor and target",
    ),
    ("get", "/api/v1/users", Some(Role::Admin), "Users"),
    (
        "post",
        "/api/v1/tokens",
        Some(Role::Admin),
        "Create an API token (its value is shown once)",
    ),
];

/// Puts `routes` behind sign-in with at least `role`.
pub(crate) fn guarded(state: &AppState, role: Role, routes: Router<AppState>) -> Router<AppState> {
    routes.route_layer(from_fn_with_state((state.clone(), role), require))
}

/// The `/api/v1` routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new()
        .route(
            "/api/v1/session",
            get(session::whoami).delete(session::logout),
        )
        .route("/api/v1/connectors", get(connectors::list))
        .route("/api/v1/connectors/{name}", get(connectors::detail))
        .route("/api/v1/connectors/{name}/held-exports", get(review::held))
        .route("/api/v1/runs", get(runs::list))
        .route("/api/v1/runs/{id}", get(runs::detail))
        .route("/api/v1/mesh", get(mesh::search))
        .route("/api/v1/mesh/{id}", get(mesh::detail))
        .route("/api/v1/conflicts", get(review::conflicts));
    let operator = Router::new()
        .route(
            "/api/v1/connectors/{name}/held-exports/approve",
            post(review::approve),
        )
        .route(
            "/api/v1/connectors/{name}/held-exports/reject",
            post(review::reject),
        )
        .route("/api/v1/connectors/{name}/adoptions", post(review::decide))
        .route("/api/v1/runs/{id}/cancel", post(runs::cancel))
        .route("/api/v1/audit", get(records::audit));
    // one path, two roles: reading a connector's runs is for viewers, starting one for operators
    let runs_of = Router::new()
        .route(
            "/api/v1/connectors/{name}/runs",
            get(connectors::runs)
                .route_layer(from_fn_with_state((state.clone(), Role::Viewer), require)),
        )
        .merge(
            Router::new().route(
                "/api/v1/connectors/{name}/runs",
                post(connectors::start)
                    .route_layer(from_fn_with_state((state.clone(), Role::Operator), require)),
            ),
        );
    let admin = Router::new()
        .route("/api/v1/users", get(tokens::users))
        .route("/api/v1/tokens", post(tokens::create));
    Router::new()
        .route("/api/v1/session", post(session::login))
        .route("/api/v1/openapi.json", get(openapi::document))
        .merge(guarded(state, Role::Viewer, viewer))
        .merge(guarded(state, Role::Operator, operator))
        .merge(guarded(state, Role::Admin, admin))
        .merge(runs_of)
        .merge(system::router(state))
        .merge(config::router(state))
        .merge(space::router(state))
        .merge(users::router(state))
        .merge(relays::router(state))
}
