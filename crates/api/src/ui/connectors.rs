//! Connectors: the list with a "run now" form per run profile (operators and above), a
//! connector's page with its schema and run history, and starting a run, which redirects to
//! the run's page.

use axum::extract::{Extension, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use identitymesh_domain::run::RunProfile;
use identitymesh_engine::RunOptions;
use maud::{Markup, html};

use super::{FormFields, UiResult, Viewer, layout};
use crate::auth::Role;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::v1::connectors::{connector_config, start_run};

/// The "run now" form of one connector: a profile picker and a button.
fn run_now(v: &Viewer, name: &str) -> Markup {
    let id = format!("profile-{name}");
    html! {
        @if v.who.role >= Role::Operator {
            form.inline method="post" action={ "/ui/connectors/" (name) "/run" } {
                (layout::csrf(v))
                label for=(id) { "Profile" }
                select id=(id) name="profile" {
                    @for p in RunProfile::ALL { option value=(p.as_str()) { (p.as_str()) } }
                }
                button type="submit" { "Run now" }
            }
        }
    }
}

/// `GET /ui/connectors`.
pub async fn list(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let config = connector_config(&state).await?;
    Ok(layout::page(
        &v,
        "Connectors",
        html! {
            h1 { "Connectors" }
            table {
                caption { "Connectors of the active configuration" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Mesh type" }
                    th scope="col" { "Precedence" } th scope="col" { "Run" }
                } }
                tbody {
                    @for c in config.connectors.values() {
                        tr {
                            td { a href={ "/ui/connectors/" (c.name) } { (c.name) } }
                            td { (c.kind) }
                            td { (c.mesh_type.as_deref().unwrap_or("—")) }
                            td.num { (c.precedence) }
                            td { (run_now(&v, c.name.as_str())) }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /ui/connectors/{name}`.
pub async fn detail(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(space_q): ApiQuery<crate::v1::space::SpaceSearch>,
) -> UiResult<Html<String>> {
    let config = connector_config(&state).await?;
    let c = config
        .connectors
        .values()
        .find(|c| c.name.as_str() == name)
        .ok_or_else(|| ApiError::NotFound(format!("no connector named '{name}'")))?;
    let key = name.clone();
    let runs = state
        .store
        .read_blocking(move |tx| tx.recent_runs(Some(&key), 50))
        .await?;
    let space = super::space::section(&state, &c.name, &space_q).await?;
    Ok(layout::page(
        &v,
        &format!("Connector {name}"),
        html! {
            h1 { "Connector " (name) }
            dl.facts {
                dt { "Type" } dd { (c.kind) }
                dt { "Object type" } dd { (c.schema.name) }
                dt { "Anchor" } dd { code { (c.schema.anchor) } }
                dt { "Mesh type" } dd { (c.mesh_type.as_deref().unwrap_or("—")) }
                dt { "Precedence" } dd { (c.precedence) }
                dt { "Join rules" } dd { (c.join.len()) }
                dt { "Inbound flows" } dd { (c.flows_in.len()) }
                dt { "Provisioning" } dd { @if c.provisioning.is_some() { "yes" } @else { "no" } }
            }
            (run_now(&v, &name))
            h2 { "Schema" }
            table {
                caption { "Attributes of " (c.schema.name) }
                thead { tr { th scope="col" { "Attribute" } th scope="col" { "Kind" } th scope="col" { "Multi-valued" } } }
                tbody {
                    @for a in &c.schema.attributes {
                        tr { td { code { (a.name) } } td { (format!("{:?}", a.kind).to_lowercase()) } td { @if a.multi { "yes" } @else { "no" } } }
                    }
                }
            }
            h2 { "Run history" }
            (layout::runs_table(&format!("The newest runs of {name}"), &runs))
            (space)
        },
    ))
}

/// `POST /ui/connectors/{name}/run`: starts the run and shows its page.
pub async fn run_now_post(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
    ApiPath(name): ApiPath<String>,
) -> UiResult<Response> {
    let profile: RunProfile = form
        .get("profile")?
        .parse()
        .map_err(|e: identitymesh_domain::DomainError| ApiError::BadRequest(e.to_string()))?;
    let options = RunOptions {
        actor: v.who.actor(),
        ..RunOptions::default()
    };
    let (_, answer) = start_run(&state, &name, profile, options).await?;
    Ok(after_start(&answer.0))
}

/// Where to go after starting a run: its page, or the run list when it was queued.
pub fn after_start(answer: &serde_json::Value) -> Response {
    match answer["run_id"].as_i64() {
        Some(id) => Redirect::to(&format!("/ui/runs/{id}")).into_response(),
        None => Redirect::to("/ui/runs?queued=1").into_response(),
    }
}
