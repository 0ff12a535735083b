//! The audit log with filters (operators and above, as in the API) and the users page
//! (administrators): the users with forms to create one, change a role, disable or enable,
//! and delete, and the API tokens with a form to revoke each. The forms carry the
//! anti-forgery token and go through the same functions as the API (`v1::users`), so the
//! password policy, the last-administrator rule and the audit are the same.

use axum::Router;
use axum::extract::{Extension, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use identitymesh_store::UserRecord;
use maud::{Markup, html};
use serde::Deserialize;

use super::mesh::history;
use super::{FormFields, UiResult, Viewer, guarded, layout};
use crate::auth::Role;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::v1::records::{self, AuditQuery};
use crate::v1::users::{
    By, NewUserBody, UserChange, change_user, create_user, delete_user, revoke_token, token_list,
};

/// The users page's form targets (administrators).
pub fn router(state: &AppState) -> Router<AppState> {
    let admin = Router::new()
        .route("/ui/users", post(create))
        .route("/ui/users/{name}", post(change))
        .route("/ui/tokens/{id}/revoke", post(revoke));
    guarded(state, Role::Admin, admin)
}

/// The audit filter form's fields (empty means "any").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditForm {
    actor: Option<String>,
    target: Option<String>,
    before: Option<i64>,
}

/// `GET /ui/audit`.
pub async fn audit(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiQuery(q): ApiQuery<AuditForm>,
) -> UiResult<Html<String>> {
    let keep = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let (actor, target) = (keep(&q.actor), keep(&q.target));
    let query = AuditQuery {
        actor: actor.clone(),
        target: target.clone(),
        before: q.before,
        limit: Some(100),
    };
    let found = records::audit(State(state), ApiQuery(query)).await?.0;
    let empty = Vec::new();
    let items = found["items"].as_array().unwrap_or(&empty);
    let (a, t) = (actor.unwrap_or_default(), target.unwrap_or_default());
    Ok(layout::page(
        &v,
        "Audit log",
        html! {
            h1 { "Audit log" }
            form.filters method="get" action="/ui/audit" {
                label for="actor" { "Actor" }
                input id="actor" name="actor" type="text" placeholder="user:ada" value=(a);
                label for="target" { "Target" }
                input id="target" name="target" type="text" placeholder="mesh:1" value=(t);
                button type="submit" { "Filter" }
            }
            (history(items))
            @if let Some(next) = found["next"].as_i64() {
                @let query = serde_urlencoded::to_string([("actor", a.as_str()), ("target", t.as_str()), ("before", next.to_string().as_str())]).unwrap_or_default();
                p { a href={ "/ui/audit?" (query) } { "Older records" } }
            }
        },
    ))
}

const ROLES: [&str; 3] = ["viewer", "operator", "admin"];

fn user_row(v: &Viewer, u: &UserRecord) -> Markup {
    let action = format!("/ui/users/{}", u.name);
    let role_id = format!("role-{}", u.id);
    html! {
        tr {
            td { (u.name) }
            td { (u.role) }
            td { @if u.disabled_at.is_some() { span.badge.warn { "disabled" } } @else { span.badge.ok { "enabled" } } }
            td { (u.created_at.to_rfc3339()) }
            td.actions {
                form.inline method="post" action=(action) {
                    (layout::csrf(v))
                    input type="hidden" name="action" value="role";
                    label for=(role_id) { "Role" }
                    select id=(role_id) name="role" {
                        @for r in ROLES { option value=(r) selected[r == u.role] { (r) } }
                    }
                    button type="submit" { "Change role" }
                }
                form.inline method="post" action=(action) {
                    (layout::csrf(v))
                    @if u.disabled_at.is_some() {
                        input type="hidden" name="action" value="enable";
                        button type="submit" { "Enable " (u.name) }
                    } @else {
                        input type="hidden" name="action" value="disable";
                        button.secondary type="submit" { "Disable " (u.name) }
                    }
                }
                form.inline method="post" action=(action) {
                    (layout::csrf(v))
                    input type="hidden" name="action" value="delete";
                    button.secondary type="submit" { "Delete " (u.name) }
                }
            }
        }
    }
}

fn create_form(v: &Viewer) -> Markup {
    html! {
        section.card aria-labelledby="new-user-h" {
            h2 id="new-user-h" { "Add a user" }
            form method="post" action="/ui/users" {
                (layout::csrf(v))
                label for="new-name" { "Name" }
                input id="new-name" name="name" type="text" required autocomplete="off";
                label for="new-role" { "Role" }
                select id="new-role" name="role" { @for r in ROLES { option value=(r) { (r) } } }
                label for="new-password" { "Password (12 characters or more, not the name)" }
                input id="new-password" name="password" type="password" required minlength="12" autocomplete="new-password";
                button type="submit" { "Add user" }
            }
        }
    }
}

fn tokens_table(v: &Viewer, tokens: &[serde_json::Value]) -> Markup {
    html! {
        @if tokens.is_empty() { p.muted { "No API tokens." } } @else {
            table {
                caption { "API tokens (their values are shown once, at creation)" }
                thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Owner" } th scope="col" { "Role" } th scope="col" { "Expires" } th scope="col" { "Revoke" } } }
                tbody { @for t in tokens { tr {
                    td.num { (t["id"]) }
                    td { (t["name"].as_str().unwrap_or_default()) }
                    td { (t["owner"].as_str().unwrap_or("—")) }
                    td { (t["role"].as_str().unwrap_or_default()) }
                    td { (t["expires_at"].as_str().unwrap_or_default()) @if t["expired"] == true { " (expired)" } }
                    td { form.inline method="post" action={ "/ui/tokens/" (t["id"]) "/revoke" } {
                        (layout::csrf(v))
                        button.secondary type="submit" { "Revoke token " (t["id"]) }
                    } }
                } } }
            }
        }
    }
}

/// `GET /ui/users`.
pub async fn users(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let users = state.store.read_blocking(|tx| tx.users()).await?;
    let tokens = token_list(&state).await?;
    Ok(layout::page(
        &v,
        "Users",
        html! {
            h1 { "Users" }
            table {
                caption { "Users who can sign in" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { "Created" } th scope="col" { "Change" } } }
                tbody { @for u in &users { (user_row(&v, u)) } }
            }
            p.muted { "Disabling or deleting a user ends its sessions and revokes its API tokens at once. The last enabled administrator cannot be demoted, disabled or deleted." }
            (create_form(&v))
            h2 { "API tokens" }
            (tokens_table(&v, &tokens))
        },
    ))
}

/// `POST /ui/users`: adds a user.
pub async fn create(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
) -> UiResult<Response> {
    let body = NewUserBody {
        name: form.get("name")?.trim().to_owned(),
        role: form.get("role")?.to_owned(),
        password: form.get("password")?.to_owned(),
    };
    create_user(&state, &v.who, &body).await?;
    Ok(Redirect::to("/ui/users").into_response())
}

/// `POST /ui/users/{name}` with `action` = `role` (and `role`), `disable`, `enable` or `delete`.
pub async fn change(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
    ApiPath(name): ApiPath<String>,
) -> UiResult<Response> {
    let mut change = UserChange::default();
    match form.get("action")? {
        "role" => change.role = Some(form.get("role")?.to_owned()),
        "disable" => change.disabled = Some(true),
        "enable" => change.disabled = Some(false),
        "delete" => {
            delete_user(&By::caller(&state, &v.who), name).await?;
            return Ok(Redirect::to("/ui/users").into_response());
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "action must be role, disable, enable or delete, not '{other}'"
            )));
        }
    }
    change_user(&By::caller(&state, &v.who), name, change).await?;
    Ok(Redirect::to("/ui/users").into_response())
}

/// `POST /ui/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult<Response> {
    revoke_token(&By::caller(&state, &v.who), id).await?;
    Ok(Redirect::to("/ui/users").into_response())
}
