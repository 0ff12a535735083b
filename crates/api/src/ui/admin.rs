//! The audit log with filters (operators and above, as in the API) and the users list
//! (administrators).

use axum::extract::{Extension, State};
use axum::response::Html;
use maud::html;
use serde::Deserialize;

use super::mesh::history;
use super::{UiResult, Viewer, layout};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::v1::records::{self, AuditQuery};

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

/// `GET /ui/users`.
pub async fn users(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let users = state.store.run_blocking(|tx| tx.users()).await?;
    Ok(layout::page(
        &v,
        "Users",
        html! {
            h1 { "Users" }
            table {
                caption { "Users who can sign in" }
                thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Created" } } }
                tbody { @for u in &users { tr {
                    td.num { (u.id) } td { (u.name) } td { (u.role) } td { (u.created_at.to_rfc3339()) }
                } } }
            }
            p.muted { "Add users with " code { "identitymesh users add NAME --role ROLE" } "." }
        },
    ))
}
