//! Mesh objects: search by an attribute's value, and an object's page showing each
//! attribute's value with the connector and rule that contributed it, the linked connector
//! objects and the object's history from the audit log. Both reuse the API's handlers, so
//! validation and results are the API's.

use axum::extract::{Extension, State};
use axum::response::Html;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::{UiResult, Viewer, layout};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::v1::mesh::{self as api, MeshSearch};

/// The search form's fields (empty means "any").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    #[serde(rename = "type")]
    object_type: Option<String>,
    attribute: Option<String>,
    value: Option<String>,
    after: Option<i64>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn values(v: &Value) -> Markup {
    html! {
        @match v.as_array() {
            Some(items) if items.len() == 1 => { (text(&items[0])) }
            Some(items) if items.is_empty() => { span.muted { "(empty)" } }
            Some(items) => { ul.values { @for i in items { li { (text(i)) } } } }
            None => { (text(v)) }
        }
    }
}

/// `GET /ui/mesh`.
pub async fn search(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> UiResult<Html<String>> {
    let keep = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
    let (attribute, value) = match (keep(&q.attribute), keep(&q.value)) {
        (Some(a), Some(v)) => (Some(a), Some(v)),
        _ => (None, None),
    };
    let query = MeshSearch {
        object_type: keep(&q.object_type),
        attribute: attribute.clone(),
        value: value.clone(),
        after: q.after,
        limit: Some(50),
    };
    let found = api::search(State(state), ApiQuery(query)).await?.0;
    let empty = Vec::new();
    let items = found["items"].as_array().unwrap_or(&empty);
    let shown = ["displayName", "employeeId", "mail"];
    Ok(layout::page(
        &v,
        "Mesh objects",
        html! {
            h1 { "Mesh objects" }
            form.filters method="get" action="/ui/mesh" role="search" {
                label for="type" { "Type" }
                input id="type" name="type" type="text" value=(q.object_type.as_deref().unwrap_or(""));
                label for="attribute" { "Attribute" }
                input id="attribute" name="attribute" type="text" placeholder="displayName" value=(attribute.as_deref().unwrap_or(""));
                label for="value" { "Value contains" }
                input id="value" name="value" type="search" value=(value.as_deref().unwrap_or(""));
                button type="submit" { "Search" }
            }
            @if items.is_empty() {
                p.muted { "No mesh objects match." }
            } @else {
                table {
                    caption { "Matching mesh objects (50 per page)" }
                    thead { tr {
                        th scope="col" { "Id" } th scope="col" { "Type" }
                        @for s in shown { th scope="col" { (s) } }
                    } }
                    tbody {
                        @for o in items {
                            tr {
                                td { a href={ "/ui/mesh/" (o["id"]) } { "Object " (o["id"]) } }
                                td { (text(&o["type"])) }
                                @for s in shown { td { (values(&o["attributes"][s])) } }
                            }
                        }
                    }
                }
                @if let Some(next) = found["next"].as_i64() {
                    @let query = serde_urlencoded::to_string([("after", next.to_string().as_str()), ("attribute", attribute.as_deref().unwrap_or("")), ("value", value.as_deref().unwrap_or(""))]).unwrap_or_default();
                    p { a href={ "/ui/mesh?" (query) } { "Next page" } }
                }
            }
        },
    ))
}

/// `GET /ui/mesh/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult<Html<String>> {
    let o = api::detail(State(state), ApiPath(id)).await?.0;
    let none = serde_json::Map::new();
    let empty = Vec::new();
    Ok(layout::page(
        &v,
        &format!("Mesh object {id}"),
        html! {
            h1 { "Mesh object " (id) }
            p { "Type " strong { (text(&o["type"])) } ", version " (o["version"]) "." }
            h2 { "Attributes" }
            table {
                caption { "Each attribute's value and where it came from" }
                thead { tr {
                    th scope="col" { "Attribute" } th scope="col" { "Value" } th scope="col" { "Connector" }
                    th scope="col" { "Rule" } th scope="col" { "Set at" }
                } }
                tbody {
                    @for (name, a) in o["attributes"].as_object().unwrap_or(&none) {
                        @let p = &a["provenance"];
                        tr {
                            th scope="row" { code { (name) } }
                            td { (values(&a["values"])) }
                            td { @if let Some(c) = p["connector"].as_str() { a href={ "/ui/connectors/" (c) } { (c) } } @else { span.muted { "—" } } }
                            td { code { (text(&p["rule"])) } }
                            td { (text(&p["at"])) }
                        }
                    }
                }
            }
            h2 { "Linked connector objects" }
            @let linked = o["linked"].as_array().unwrap_or(&empty);
            @if linked.is_empty() { p.muted { "No connector object is linked." } } @else {
                table {
                    caption { "Connector objects linked to this mesh object" }
                    thead { tr { th scope="col" { "Connector" } th scope="col" { "Anchor" } th scope="col" { "Object type" } th scope="col" { "Link" } th scope="col" { "Changed" } } }
                    tbody { @for l in linked { tr {
                        td { a href={ "/ui/connectors/" (text(&l["connector"])) } { (text(&l["connector"])) } }
                        td { code { (text(&l["anchor"])) } }
                        td { (text(&l["object_type"])) }
                        td { (text(&l["link"]["state"])) " " (text(&l["link"]["how"])) }
                        td { (text(&l["changed_at"])) }
                    } } }
                }
            }
            h2 { "History" }
            (history(o["history"].as_array().unwrap_or(&empty)))
        },
    ))
}

/// Audit records as a table (shared with the audit log page).
pub fn history(records: &[Value]) -> Markup {
    html! {
        @if records.is_empty() { p.muted { "No audit records." } } @else {
            table.audit {
                caption { "Audit records, newest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Actor" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Run" } th scope="col" { "Change" } } }
                tbody { @for r in records { tr {
                    td { (text(&r["at"])) }
                    td { (text(&r["actor"])) }
                    td { code { (text(&r["action"])) } }
                    td { (text(&r["target"])) }
                    td { @if let Some(run) = r["run_id"].as_i64() { a href={ "/ui/runs/" (run) } { "#" (run) } } }
                    td.change { @if !r["after"].is_null() { code { (r["after"].to_string()) } } }
                } } }
            }
        }
    }
}
