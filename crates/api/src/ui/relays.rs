//! Relays: every enrolled relay agent with its status and presence (connected to which
//! Admin API instance, since when, last heartbeat), the connectors it hosts, and for
//! administrators the controls — enroll a new relay (the token is shown once, with the
//! command to run on the relay's host), disable, enable, revoke.

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use identitymesh_store::{RelayRecord, RelayStatus};
use maud::{Markup, html};

use super::{FormFields, UiResult, Viewer, guarded, layout};
use crate::auth::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::v1::relays::{
    DEFAULT_TOKEN_HOURS, MAX_TOKEN_HOURS, RelayChange, assigned_connectors, change_relay,
    issue_enrollment_token, revoke_relay,
};
use crate::v1::users::By;

/// The routes: the page for viewers, the forms' targets for administrators.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new().route("/ui/relays", get(page));
    let admin = Router::new()
        .route("/ui/relays/enroll", post(enroll))
        .route("/ui/relays/status", post(status));
    guarded(state, Role::Viewer, viewer).merge(guarded(state, Role::Admin, admin))
}

fn status_badge(r: &RelayRecord) -> Markup {
    match (r.status, r.connected_instance.is_some()) {
        (RelayStatus::Revoked, _) => html! { span.badge.bad { "revoked" } },
        (RelayStatus::Disabled, _) => html! { span.badge.warn { "disabled" } },
        (RelayStatus::Active, true) => html! { span.badge.ok { "connected" } },
        (RelayStatus::Active, false) => html! { span.badge.warn { "not connected" } },
    }
}

fn status_form(v: &Viewer, r: &RelayRecord, to: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action="/ui/relays/status" {
            (layout::csrf(v))
            input type="hidden" name="id" value=(r.id);
            input type="hidden" name="to" value=(to);
            button.secondary type="submit" { (label) " " (r.name) }
        }
    }
}

fn row(state: &AppState, v: &Viewer, r: &RelayRecord) -> Markup {
    let connectors = assigned_connectors(state, &r.name);
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "—".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
    };
    html! {
        tr {
            td { (r.name) br; small.muted { code { (r.id) } } }
            td { (status_badge(r)) }
            td { (r.host.as_deref().unwrap_or("—")) br; small.muted { (r.agent_version.as_deref().unwrap_or("")) } }
            td { (r.connected_instance.as_deref().unwrap_or("—")) br; small.muted { "since " (time(r.connected_since)) } }
            td { (time(r.last_heartbeat_at)) }
            td { @if connectors.is_empty() { "—" } @else { (connectors.join(", ")) } }
            @if v.who.role >= Role::Admin {
                td {
                    @match r.status {
                        RelayStatus::Active => { (status_form(v, r, "disabled", "Disable")) (status_form(v, r, "revoked", "Revoke")) }
                        RelayStatus::Disabled => { (status_form(v, r, "active", "Enable")) (status_form(v, r, "revoked", "Revoke")) }
                        RelayStatus::Revoked => { "—" }
                    }
                }
            }
        }
    }
}

fn enroll_form(v: &Viewer) -> Markup {
    html! {
        section.card aria-labelledby="enroll-h" {
            h2 id="enroll-h" { "Enroll a relay" }
            p.muted { "Creates a one-time token. Connectors name the relay in their configuration with relay = \"NAME\"." }
            form method="post" action="/ui/relays/enroll" autocomplete="off" {
                (layout::csrf(v))
                label for="relay-name" { "Relay name" }
                input id="relay-name" name="name" type="text" required pattern="[A-Za-z0-9._-]{1,100}" placeholder="branch-office";
                label for="relay-hours" { "Token valid for (hours)" }
                input id="relay-hours" name="hours" type="number" min="1" max=(MAX_TOKEN_HOURS) value=(DEFAULT_TOKEN_HOURS);
                button type="submit" { "Create enrollment token" }
            }
        }
    }
}

/// `GET /ui/relays`.
pub async fn page(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let relays = state.store.read_blocking(|tx| tx.relays()).await?;
    let admin = v.who.role >= Role::Admin;
    Ok(layout::page(
        &v,
        "Relays",
        html! {
            h1 { "Relays" }
            @if relays.is_empty() { p.muted { "No relay is enrolled." } } @else {
                table {
                    caption { "Relay agents and where they are connected" }
                    thead { tr {
                        th scope="col" { "Relay" } th scope="col" { "Status" } th scope="col" { "Host and version" }
                        th scope="col" { "Connected to" } th scope="col" { "Last heartbeat" } th scope="col" { "Connectors" }
                        @if admin { th scope="col" { "Action" } }
                    } }
                    tbody { @for r in &relays { (row(&state, &v, r)) } }
                }
            }
            @if admin { (enroll_form(&v)) }
        },
    ))
}

/// The hub's URL as the browser reached this server, for the command to show.
fn hub_url(headers: &HeaderMap, tls: bool) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("ADMIN-API-HOST");
    format!("{}://{host}/hub/v1", if tls { "wss" } else { "ws" })
}

/// `POST /ui/relays/enroll` with `name` and `hours`: shows the token once.
pub async fn enroll(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
    headers: HeaderMap,
) -> UiResult<Html<String>> {
    let name = form.get("name")?.trim().to_owned();
    let hours = form
        .get("hours")
        .ok()
        .filter(|h| !h.is_empty())
        .map_or(Ok(DEFAULT_TOKEN_HOURS), |h| h.parse::<i64>())
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "hours must be a whole number from 1 to {MAX_TOKEN_HOURS}"
            ))
        })?;
    let by = By::caller(&state, &v.who);
    let (_, token, expires) = issue_enrollment_token(&by, state.license(), &name, hours).await?;
    let command = format!(
        "identitymesh relay run --hub {} --enroll-token {token} --name {name}",
        hub_url(&headers, state.security.tls)
    );
    Ok(layout::page(
        &v,
        "Relay enrollment token",
        html! {
            h1 { "Enrollment token for " (name) }
            p role="alert" { "Copy it now: it is shown only once, and works once, until " (expires.format("%Y-%m-%d %H:%M UTC")) "." }
            section.card {
                h2 { "Run on the relay's host" }
                pre { code { (command) } }
            }
            p { a href="/ui/relays" { "Back to relays" } }
        },
    ))
}

/// `POST /ui/relays/status` with `id` and `to` = `active`, `disabled` or `revoked`.
pub async fn status(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
) -> UiResult<Response> {
    let id = form.get("id")?.to_owned();
    match form.get("to")? {
        "revoked" => revoke_relay(&state, &id, v.who.actor()).await?,
        to @ ("active" | "disabled") => {
            let change = RelayChange {
                name: None,
                status: Some(to.to_owned()),
            };
            change_relay(&state, &id, change, v.who.actor()).await?;
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "a relay can be made active, disabled or revoked, not '{other}'"
            )));
        }
    }
    Ok(Redirect::to("/ui/relays").into_response())
}
