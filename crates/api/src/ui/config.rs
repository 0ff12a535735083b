//! The configuration page: every stored version (the active one marked, each with an export
//! link) and a diff between two chosen versions, as the API computes it (`v1::config`).

use axum::Router;
use axum::extract::{Extension, State};
use axum::response::Html;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::{UiResult, Viewer, guarded, layout};
use crate::auth::Role;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::v1::config::compare_versions;

/// The route: the page, for everyone signed in (as the API's version reads).
pub fn router(state: &AppState) -> Router<AppState> {
    guarded(
        state,
        Role::Viewer,
        Router::new().route("/ui/config", get(page)),
    )
}

/// The diff form's fields (both or neither).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffForm {
    from: Option<i64>,
    to: Option<i64>,
}

fn picker(id: &str, label: &str, ids: &[i64], chosen: Option<i64>) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(id) {
            @for v in ids { option value=(v) selected[Some(*v) == chosen] { "version " (v) } }
        }
    }
}

fn diff_section(d: &Value) -> Markup {
    let unified = d["unified"].as_str().unwrap_or_default();
    let names = |section: &str, kind: &str| -> String {
        d["summary"][section][kind]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    html! {
        section.card id="diff" aria-labelledby="diff-h" {
            h2 id="diff-h" { "Version " (d["from"]) " → version " (d["to"]) }
            p { (d["lines_added"]) " line(s) added, " (d["lines_removed"]) " removed." }
            dl.facts {
                @for section in ["connectors", "mesh", "cycles"] {
                    @for kind in ["added", "removed", "changed"] {
                        @let n = names(section, kind);
                        @if !n.is_empty() { dt { (section) " " (kind) } dd { (n) } }
                    }
                }
            }
            @if unified.is_empty() { p.muted { "The two versions are identical." } }
            @else { pre { code { (unified) } } }
        }
    }
}

/// `GET /ui/config`, optionally `?from=ID&to=ID`.
pub async fn page(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiQuery(q): ApiQuery<DiffForm>,
) -> UiResult<Html<String>> {
    let (versions, active) = state
        .store
        .read_blocking(|tx| Ok((tx.config_versions(500)?, tx.active_config()?.map(|v| v.id))))
        .await?;
    let diff = match (q.from, q.to) {
        (Some(from), Some(to)) => Some(compare_versions(&state, from, to).await?),
        (None, None) => None,
        _ => {
            return Err(ApiError::BadRequest(
                "choose both versions to compare".into(),
            ));
        }
    };
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let (from, to) = (
        q.from.or(ids.get(1).copied()),
        q.to.or(ids.first().copied()),
    );
    Ok(layout::page(
        &v,
        "Configuration",
        html! {
            h1 { "Configuration" }
            @if versions.is_empty() { p.muted { "No configuration has been applied yet." } } @else {
                table {
                    caption { "Configuration versions, newest first" }
                    thead { tr { th scope="col" { "Version" } th scope="col" { "Applied" } th scope="col" { "By" } th scope="col" { "Hash" } th scope="col" { "File" } } }
                    tbody { @for c in &versions { tr {
                        td { (c.id) @if active == Some(c.id) { " " span.badge.ok { "active" } } }
                        td { (c.created_at.to_rfc3339()) }
                        td { (c.author) }
                        td { code { (c.hash.get(..12).unwrap_or(&c.hash)) } }
                        td { a href={ "/api/v1/config/versions/" (c.id) "/export" } { "Export version " (c.id) } }
                    } } }
                }
                form.filters method="get" action="/ui/config#diff" {
                    (picker("from", "From", &ids, from))
                    (picker("to", "To", &ids, to))
                    button type="submit" { "Compare" }
                }
            }
            @if let Some(d) = &diff { (diff_section(d)) }
            p.muted { "Apply a configuration with " code { "identitymesh config apply FILE" } " or " code { "POST /api/v1/config" } "." }
        },
    ))
}
