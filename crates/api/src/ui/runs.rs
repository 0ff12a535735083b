//! Runs: the list (filtered by connector and status) and one run's page with statistics and
//! per-object errors. While a run is running its page reloads itself every two seconds with
//! `<meta http-equiv="refresh">` (no script) and offers a refresh link; `?partial=1` answers
//! with just the live section.

use axum::extract::{Extension, State};
use axum::response::{Html, IntoResponse, Response};
use identitymesh_domain::run::{RunRecord, RunStatus};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Frame};
use super::{UiResult, Viewer};
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Filters of the run list (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunListQuery {
    connector: Option<String>,
    status: Option<String>,
    queued: Option<u8>,
}

fn some(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `GET /ui/runs`.
pub async fn list(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiQuery(q): ApiQuery<RunListQuery>,
) -> UiResult<Html<String>> {
    let status = match some(&q.status) {
        Some(s) => Some(
            RunStatus::parse(s)
                .ok_or_else(|| ApiError::BadRequest(format!("'{s}' is not a run status")))?,
        ),
        None => None,
    };
    let connector = some(&q.connector).map(str::to_owned);
    let key = connector.clone();
    let runs = state
        .store
        .run_blocking(move |tx| tx.recent_runs(key.as_deref(), 1000))
        .await?;
    let runs: Vec<RunRecord> = runs
        .into_iter()
        .filter(|r| status.is_none_or(|s| r.status == s))
        .take(100)
        .collect();
    let statuses = [
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::CompletedWithErrors,
        RunStatus::Partial,
        RunStatus::Failed,
        RunStatus::Held,
    ];
    Ok(layout::page(
        &v,
        "Runs",
        html! {
            h1 { "Runs" }
            @if q.queued.is_some() {
                p.notice role="status" { "Another engine holds that connector: the run was queued and starts when it is free." }
            }
            form.filters method="get" action="/ui/runs" {
                label for="connector" { "Connector" }
                input id="connector" name="connector" type="text" value=(connector.as_deref().unwrap_or(""));
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "any" }
                    @for s in statuses {
                        option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) }
                    }
                }
                button type="submit" { "Filter" }
            }
            (layout::runs_table("Runs, newest first (at most 100)", &runs))
        },
    ))
}

/// `?partial=1` asks for the live section only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailQuery {
    partial: Option<u8>,
}

fn live(run: &RunRecord) -> Markup {
    let stats = serde_json::to_value(&run.stats).unwrap_or_default();
    let counted: Vec<(String, u64)> = stats
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            v.as_u64()
                .filter(|n| *n > 0)
                .map(|n| (k.replace('_', " "), n))
        })
        .collect();
    html! {
        section id="live" aria-labelledby="stats" aria-live="polite" {
            dl.facts {
                dt { "Status" } dd { (layout::status(run.status)) }
                dt { "Connector" } dd { a href={ "/ui/connectors/" (run.connector) } { (run.connector) } }
                dt { "Profile" } dd { (run.profile.as_str()) @if run.simulation { " (simulation)" } }
                dt { "Actor" } dd { (run.actor) }
                dt { "Started" } dd { (run.started_at) }
                dt { "Ended" } dd { (run.ended_at.as_deref().unwrap_or("—")) }
                @if let Some(reason) = &run.reason { dt { "Reason" } dd { (reason) } }
            }
            h2 id="stats" { "Statistics" }
            @if counted.is_empty() {
                p.muted { "Nothing counted yet." }
            } @else {
                table.stats {
                    caption { "Counts of this run (zeros left out)" }
                    tbody { @for (k, n) in &counted { tr { th scope="row" { (k) } td.num { (n) } } } }
                }
            }
        }
    }
}

/// `GET /ui/runs/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> UiResult<Response> {
    let (run, errors) = state
        .store
        .run_blocking(move |tx| Ok((tx.run(id)?, tx.run_errors(id, 500)?)))
        .await?;
    let run = run.ok_or_else(|| ApiError::NotFound(format!("there is no run #{id}")))?;
    if q.partial.is_some() {
        return Ok(Html(live(&run).into_string()).into_response());
    }
    let running = run.status == RunStatus::Running;
    let frame = Frame {
        viewer: Some(&v),
        refresh: running.then_some(2),
    };
    Ok(layout::framed(
        &format!("Run #{id}"),
        &frame,
        html! {
            h1 { "Run #" (id) }
            @if running {
                p.notice role="status" { "This run is still running; the page reloads every two seconds. "
                    a href={ "/ui/runs/" (id) } { "Refresh now" } }
            }
            (live(&run))
            h2 { "Object errors" }
            @if errors.is_empty() {
                p.muted { "No object errors." }
            } @else {
                table {
                    caption { "Objects this run could not process (at most 500)" }
                    thead { tr { th scope="col" { "Object" } th scope="col" { "Error" } } }
                    tbody { @for e in &errors { tr { td { code { (e.object) } } td { (e.message) } } } }
                }
            }
        },
    )
    .into_response())
}
