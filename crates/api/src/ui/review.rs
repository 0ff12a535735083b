//! What waits for an operator: exports held by a tripped guard (approve or reject, each an
//! export run through the engine), adoptions awaiting approval, and ambiguous joins.

use axum::extract::{Extension, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::{ExportItem, ExportState};
use identitymesh_domain::run::RunProfile;
use identitymesh_domain::staged::{Link, StagedObject};
use identitymesh_engine::{AdoptionVerdict, RunOptions};
use maud::{Markup, html};

use super::connectors::after_start;
use super::{FormFields, UiResult, Viewer, layout};
use crate::auth::Role;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::AppState;
use crate::v1::connectors::{connector_config, start_run};

fn decide(v: &Viewer, action: &str, hidden: &[(&str, &str)], label: &str) -> Markup {
    let secondary = hidden.iter().any(|(_, val)| *val == "reject");
    html! {
        @if v.who.role >= Role::Operator {
            form.inline method="post" action=(action) {
                (layout::csrf(v))
                @for (k, val) in hidden { input type="hidden" name=(k) value=(val); }
                button type="submit" class=[secondary.then_some("secondary")] { (label) }
            }
        }
    }
}

fn held_section(v: &Viewer, name: &str, items: &[ExportItem]) -> Markup {
    let action = format!("/ui/review/{name}/held");
    html! {
        section.card id={ "held-" (name) } aria-labelledby={ "h-" (name) } {
            h3 id={ "h-" (name) } { (name) ": " (items.len()) " held export(s)" }
            @if !items.is_empty() {
                table {
                    caption { "Exports to " (name) " held by a tripped guard" }
                    thead { tr { th scope="col" { "Queue id" } th scope="col" { "Anchor" } th scope="col" { "Operation" } th scope="col" { "Mesh object" } } }
                    tbody { @for e in items { tr {
                        td.num { (e.id) }
                        td { code { (e.anchor) } }
                        td { (e.op.label()) }
                        td { @if let Some(m) = e.mesh_id { a href={ "/ui/mesh/" (m.0) } { "Object " (m.0) } } }
                    } } }
                }
                div.actions {
                    (decide(v, &action, &[("decision", "approve")], &format!("Approve and export to {name}")))
                    (decide(v, &action, &[("decision", "reject")], &format!("Reject the held exports to {name}")))
                }
            }
        }
    }
}

fn staged_row(v: &Viewer, s: &StagedObject) -> Markup {
    let action = format!("/ui/review/{}/adoption", s.connector);
    let anchor = s.anchor.to_string();
    html! {
        tr {
            td { a href={ "/ui/connectors/" (s.connector) } { (s.connector) } }
            td { code { (anchor) } }
            @match &s.link {
                Link::AwaitingAdoption { candidate, reason } => {
                    td { "Adoption of " a href={ "/ui/mesh/" (candidate.0) } { "object " (candidate.0) } " — " (reason) }
                    td {
                        (decide(v, &action, &[("anchor", &anchor), ("verdict", "approve")], "Approve adoption"))
                        (decide(v, &action, &[("anchor", &anchor), ("verdict", "reject")], "Reject adoption"))
                    }
                }
                Link::Ambiguous { candidates, rule } => {
                    td { "Ambiguous join (" code { (rule) } "): "
                        @for c in candidates { a href={ "/ui/mesh/" (c.0) } { "object " (c.0) } " " } }
                    td.muted { "Fix the data or the join rule" }
                }
                _ => { td { "—" } td {} }
            }
        }
    }
}

/// `GET /ui/review`.
pub async fn page(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let config = connector_config(&state).await?;
    let names: Vec<ConnectorName> = config.connectors.values().map(|c| c.name.clone()).collect();
    let (held, staged) = state
        .store
        .read_blocking(move |tx| {
            let mut held = Vec::new();
            for n in names {
                let items = tx.export_page(&n, &[ExportState::Held], 0, 500)?;
                held.push((n.to_string(), items));
            }
            Ok((held, tx.staged_needing_review(None, 200)?))
        })
        .await?;
    Ok(layout::page(
        &v,
        "Review",
        html! {
            h1 { "Review" }
            h2 { "Held exports" }
            p.muted { "A guard holds an export run's destructive changes until an operator decides. Approving runs an export that applies them; rejecting discards them." }
            @for (name, items) in &held { (held_section(&v, name, items)) }
            h2 { "Adoptions and join conflicts" }
            @if staged.is_empty() { p.muted { "Nothing awaits a decision." } } @else {
                table {
                    caption { "Connector objects waiting for a decision" }
                    thead { tr { th scope="col" { "Connector" } th scope="col" { "Anchor" } th scope="col" { "Situation" } th scope="col" { "Decision" } } }
                    tbody { @for s in &staged { (staged_row(&v, s)) } }
                }
            }
        },
    ))
}

/// `POST /ui/review/{name}/held` with `decision=approve|reject`: an export run.
pub async fn held_decision(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
    ApiPath(name): ApiPath<String>,
) -> UiResult<Response> {
    let mut options = RunOptions {
        actor: v.who.actor(),
        ..RunOptions::default()
    };
    match form.get("decision")? {
        "approve" => options.approve_held = true,
        "reject" => options.reject_held = true,
        other => {
            return Err(ApiError::BadRequest(format!(
                "decision must be approve or reject, not '{other}'"
            )));
        }
    }
    let (_, answer) = start_run(&state, &name, RunProfile::Export, options).await?;
    Ok(after_start(&answer.0))
}

/// `POST /ui/review/{name}/adoption` with `anchor` and `verdict=approve|reject`.
pub async fn adoption(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    Extension(form): Extension<FormFields>,
    ApiPath(name): ApiPath<String>,
) -> UiResult<Response> {
    let verdict = match form.get("verdict")? {
        "approve" => AdoptionVerdict::Approve,
        "reject" => AdoptionVerdict::Reject,
        other => {
            return Err(ApiError::BadRequest(format!(
                "verdict must be approve or reject, not '{other}'"
            )));
        }
    };
    state
        .engine()?
        .decide_adoption(&name, form.get("anchor")?, verdict, &v.who.actor())
        .await?;
    Ok(Redirect::to("/ui/review").into_response())
}
