//! License and secrets: the license in force with its limits against usage (everyone signed
//! in), and for administrators the secrets by name — set or not, which connectors use them —
//! with a form to set a value (a password field: never echoed, never shown again) and to
//! delete one. The forms carry the anti-forgery token like every UI form; the values go
//! through the same functions as the API, so they are sealed and audited the same way.

use axum::Router;
use axum::extract::{Extension, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use identitymesh_secrets::SecretString;
use maud::{Markup, html};

use super::{FormFields, UiResult, Viewer, guarded, layout};
use crate::auth::Role;
use crate::state::AppState;
use crate::v1::system::{
    LicenseView, SecretView, license_view, remove_secret, secret_views, store_secret,
};

/// The routes: the page for viewers, the forms' targets for administrators.
pub fn router(state: &AppState) -> Router<AppState> {
    let viewer = Router::new().route("/ui/system", get(page));
    let admin = Router::new()
        .route("/ui/system/secrets", post(set))
        .route("/ui/system/secrets/delete", post(delete));
    guarded(state, Role::Viewer, viewer).merge(guarded(state, Role::Admin, admin))
}

fn limit_text(limit: Option<u64>, used: Option<u64>) -> String {
    let limit = limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
    match used {
        Some(used) => format!("{used} of {limit}"),
        None => format!("{limit} allowed"),
    }
}

fn license_section(l: &LicenseView) -> Markup {
    html! {
        section.card aria-labelledby="license-h" {
            h2 id="license-h" { "License" }
            @if let Some(w) = &l.warning { p.error role="alert" { (w) } }
            dl {
                dt { "Edition" } dd { (l.edition) }
                dt { "Licensee" } dd { (l.licensee) }
                dt { "Status" } dd { (l.status) }
                @if let Some(days) = l.days_left { dt { "Days left" } dd { (days.max(0)) } }
                @if !l.features.is_empty() { dt { "Features" } dd { (l.features.join(", ")) } }
            }
            table {
                caption { "Limits and current usage" }
                thead { tr { th scope="col" { "Limit" } th scope="col" { "Used of allowed" } } }
                tbody { @for (name, u) in &l.limits {
                    tr { td { (name.replace('_', " ")) } td { (limit_text(u.limit, u.used)) } }
                } }
            }
        }
    }
}

fn secret_row(v: &Viewer, s: &SecretView) -> Markup {
    let used_by: Vec<String> = s
        .used_by
        .iter()
        .map(|r| format!("{}.{}", r.connector, r.setting))
        .collect();
    html! {
        tr {
            td { code { (s.name) } }
            td { @if s.set { span.badge.ok { "set" } } @else { span.badge.bad { "not set" } } }
            td { @if let Some(t) = s.updated_at { time { (t) } } @else { "—" } }
            td { (if used_by.is_empty() { "—".to_owned() } else { used_by.join(", ") }) }
            td { @if s.set {
                form.inline method="post" action="/ui/system/secrets/delete" {
                    (layout::csrf(v))
                    input type="hidden" name="name" value=(s.name);
                    button.secondary type="submit" { "Delete " (s.name) }
                }
            } }
        }
    }
}

fn secrets_section(v: &Viewer, secrets: &[SecretView]) -> Markup {
    html! {
        section.card aria-labelledby="secrets-h" {
            h2 id="secrets-h" { "Secrets" }
            p.muted { "Connector credentials, by name. Values can be set here but are never shown." }
            @if secrets.is_empty() { p.muted { "No secret is stored or referenced." } } @else {
                table {
                    caption { "Stored secrets and the secrets connectors name" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "State" } th scope="col" { "Updated" }
                        th scope="col" { "Used by" } th scope="col" { "Action" } } }
                    tbody { @for s in secrets { (secret_row(v, s)) } }
                }
            }
            h3 { "Set a secret" }
            form method="post" action="/ui/system/secrets" autocomplete="off" {
                (layout::csrf(v))
                label for="secret-name" { "Name" }
                input id="secret-name" name="name" type="text" required placeholder="ldap-bind";
                label for="secret-value" { "Value" }
                input id="secret-value" name="value" type="password" required autocomplete="new-password";
                button type="submit" { "Set secret" }
            }
        }
    }
}

/// `GET /ui/system`.
pub async fn page(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let license = license_view(&state).await?;
    let secrets = if v.who.role >= Role::Admin {
        Some(secret_views(&state).await?)
    } else {
        None
    };
    Ok(layout::page(
        &v,
        "License and secrets",
        html! {
            h1 { "License and secrets" }
            (license_section(&license))
            @if let Some(secrets) = &secrets { (secrets_section(&v, secrets)) }
        },
    ))
}

/// `POST /ui/system/secrets` with `name` and `value`.
pub async fn set(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
) -> UiResult<Response> {
    let name = form.get("name")?.trim().to_owned();
    let value = SecretString::new(form.get("value")?.to_owned());
    store_secret(&state, &name, value, v.who.actor()).await?;
    Ok(Redirect::to("/ui/system").into_response())
}

/// `POST /ui/system/secrets/delete` with `name`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
) -> UiResult<Response> {
    remove_secret(&state, form.get("name")?, v.who.actor()).await?;
    Ok(Redirect::to("/ui/system").into_response())
}
