//! The dashboard: engine status, recent runs, recent failures, held exports per connector
//! and join conflicts waiting for a decision.

use axum::extract::{Extension, State};
use axum::response::Html;
use identitymesh_domain::ConnectorName;
use identitymesh_domain::export::ExportState;
use identitymesh_domain::run::RunStatus;
use maud::html;

use super::{UiResult, Viewer, layout};
use crate::state::AppState;
use crate::v1::connectors::connector_config;

/// `GET /ui`.
pub async fn page(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
) -> UiResult<Html<String>> {
    let config = connector_config(&state).await.ok();
    let names: Vec<ConnectorName> = config
        .iter()
        .flat_map(|c| c.connectors.values().map(|c| c.name.clone()))
        .collect();
    let (runs, held, conflicts) = state
        .store
        .read_blocking(move |tx| {
            let runs = tx.recent_runs(None, 200)?;
            let mut held = Vec::new();
            for name in &names {
                let n = tx.export_page(name, &[ExportState::Held], 0, 500)?.len();
                held.push((name.to_string(), n));
            }
            let conflicts = tx.staged_needing_review(None, 500)?.len();
            Ok((runs, held, conflicts))
        })
        .await?;
    let failures: Vec<_> = runs
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                RunStatus::Failed | RunStatus::Partial | RunStatus::CompletedWithErrors
            )
        })
        .take(10)
        .cloned()
        .collect();
    let recent: Vec<_> = runs.iter().take(10).cloned().collect();
    let running = runs
        .iter()
        .filter(|r| r.status == RunStatus::Running)
        .count();
    Ok(layout::page(
        &v,
        "Dashboard",
        html! {
            h1 { "Dashboard" }
            section.cards aria-label="Status" {
                div.card {
                    h2 { "Engine" }
                    @if state.engine.is_some() {
                        p { span.badge.ok { "running" } " This process runs the engine: runs start immediately." }
                    } @else {
                        p { span.badge.warn { "not here" } " This process serves the Admin API only; start " code { "identitymesh serve" } " to run work from here." }
                    }
                    p { (running) " run(s) in progress." }
                }
                div.card {
                    h2 { "Held exports" }
                    @if held.is_empty() { p.muted { "No connectors configured." } }
                    ul {
                        @for (name, n) in &held {
                            li { a href={ "/ui/review#held-" (name) } { (name) } ": " strong { (n) } " held" }
                        }
                    }
                }
                div.card {
                    h2 { "Join conflicts" }
                    p { strong { (conflicts) } " object(s) need a decision. " a href="/ui/review" { "Review" } }
                }
            }
            section aria-labelledby="recent" {
                h2 id="recent" { "Recent runs" }
                (layout::runs_table("The ten newest runs", &recent))
            }
            section aria-labelledby="failures" {
                h2 id="failures" { "Failures" }
                (layout::runs_table("Recent runs that failed, stopped partway or had errors", &failures))
            }
        },
    ))
}
