//! The connector-space search on a connector's page: a GET form (anchor, attribute and
//! value, state) and a page of matching objects with a link to the next page. The filters
//! and paging are the API's (`v1::space`), so a bad filter gets the same clear message.

use identitymesh_domain::ConnectorName;
use maud::{Markup, html};
use serde_json::Value;

use super::UiResult;
use crate::state::AppState;
use crate::v1::space::{SpaceSearch, search_page, space_query};

const STATES: [(&str, &str); 4] = [
    ("all", "All objects"),
    ("pending-import", "Pending import"),
    ("pending-export", "Pending export"),
    ("unjoined", "Not joined"),
];

fn link_text(item: &Value) -> Markup {
    let state = item["link"]["state"].as_str().unwrap_or("unknown");
    html! {
        @if let Some(mesh) = item["mesh_id"].as_i64() {
            a href={ "/ui/mesh/" (mesh) } { "object " (mesh) }
        } @else {
            (state.replace('_', " "))
        }
    }
}

fn form(name: &str, q: &SpaceSearch) -> Markup {
    let value = |s: &Option<String>| s.clone().unwrap_or_default();
    let current = q.state.clone().unwrap_or_else(|| "all".into());
    html! {
        form.filters method="get" action={ "/ui/connectors/" (name) } {
            label for="space-anchor" { "Anchor" }
            input id="space-anchor" name="anchor" type="text" value=(value(&q.anchor));
            label for="space-attribute" { "Attribute" }
            input id="space-attribute" name="attribute" type="text" placeholder="displayName" value=(value(&q.attribute));
            label for="space-value" { "Value" }
            input id="space-value" name="value" type="text" value=(value(&q.value));
            label for="space-state" { "State" }
            select id="space-state" name="state" {
                @for (v, label) in STATES { option value=(v) selected[v == current] { (label) } }
            }
            button type="submit" { "Search" }
        }
    }
}

fn next_link(name: &str, q: &SpaceSearch, next: i64) -> String {
    let pairs = [
        ("anchor", q.anchor.clone().unwrap_or_default()),
        ("attribute", q.attribute.clone().unwrap_or_default()),
        ("value", q.value.clone().unwrap_or_default()),
        ("state", q.state.clone().unwrap_or_default()),
        ("after", next.to_string()),
    ];
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    format!("/ui/connectors/{name}?{query}#space")
}

/// The search section of a connector's page.
pub async fn section(state: &AppState, name: &ConnectorName, q: &SpaceSearch) -> UiResult<Markup> {
    let page = search_page(state, space_query(name.clone(), q)?).await?;
    let empty = Vec::new();
    let items = page["items"].as_array().unwrap_or(&empty);
    Ok(html! {
        section id="space" aria-labelledby="space-h" {
            h2 id="space-h" { "Connector space" }
            (form(name.as_str(), q))
            @if items.is_empty() { p.muted { "No objects match." } } @else {
                table {
                    caption { "Objects of " (name) " in its connector space" }
                    thead { tr { th scope="col" { "Anchor" } th scope="col" { "Name" } th scope="col" { "Pending import" } th scope="col" { "Mesh link" } th scope="col" { "Changed" } } }
                    tbody { @for i in items { tr {
                        td { code { (i["anchor"].as_str().unwrap_or_default()) } }
                        td { (i["name"].as_str().unwrap_or("—")) }
                        td { (i["pending_import"].as_str().unwrap_or_default()) }
                        td { (link_text(i)) }
                        td { (i["changed_at"].as_str().unwrap_or_default()) }
                    } } }
                }
                @if let Some(next) = page["next"].as_i64() {
                    p { a href=(next_link(name.as_str(), q, next)) { "Next objects" } }
                }
            }
        }
    })
}
