//! Runs: the list (filtered in the database by connector and status, in pages of 50 with
//! "older" and "newest" links) and one run's page with statistics and per-object errors.
//! While a run is running its page reloads itself every two seconds with
//! `<meta http-equiv="refresh">` (no script), shows the counters the engine commits with every
//! batch, and offers operators a Cancel button (a form POST with the anti-forgery token);
//! `?partial=1` answers with just the live section.

use axum::extract::{Extension, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use identitymesh_domain::run::{RunRecord, RunStatus};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{self, Frame};
use super::{UiResult, Viewer};
use crate::auth::Role;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::v1::runs::{RunFilter, page, request_cancel};

/// Runs per page of the list.
const PAGE: u32 = 50;

/// Filters and page of the run list (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunListQuery {
    connector: Option<String>,
    status: Option<String>,
    before: Option<i64>,
    queued: Option<u8>,
}

fn trimmed(s: &Option<String>) -> &str {
    s.as_deref().map_or("", str::trim)
}

/// The list URL with these filters and cursor (values URL-encoded).
fn list_url(q: &RunListQuery, before: Option<i64>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (key, value) in [("connector", &q.connector), ("status", &q.status)] {
        if !trimmed(value).is_empty() {
            pairs.push((key, trimmed(value).to_owned()));
        }
    }
    if let Some(b) = before {
        pairs.push(("before", b.to_string()));
    }
    match serde_urlencoded::to_string(&pairs) {
        Ok(query) if !query.is_empty() => format!("/ui/runs?{query}"),
        _ => "/ui/runs".to_owned(),
    }
}

fn filters(q: &RunListQuery) -> Markup {
    let chosen = trimmed(&q.status);
    html! {
        form.filters method="get" action="/ui/runs" {
            label for="connector" { "Connector" }
            input id="connector" name="connector" type="text" value=(trimmed(&q.connector));
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" { "any" }
                @for s in RunStatus::ALL {
                    option value=(s.as_str()) selected[chosen == s.as_str()] { (s.as_str().replace('_', " ")) }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

fn pager(q: &RunListQuery, next: Option<i64>) -> Markup {
    html! {
        @if q.before.is_some() || next.is_some() {
            nav.pager aria-label="Pages of runs" {
                @if q.before.is_some() { a href=(list_url(q, None)) { "Newest runs" } " " }
                @if let Some(n) = next { a href=(list_url(q, Some(n))) rel="next" { "Older runs" } }
            }
        }
    }
}

/// `GET /ui/runs`.
pub async fn list(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiQuery(q): ApiQuery<RunListQuery>,
) -> UiResult<Html<String>> {
    let filter = RunFilter {
        connector: q.connector.clone(),
        status: q.status.clone(),
        before: q.before,
        limit: Some(PAGE),
        ..RunFilter::default()
    };
    let (runs, next) = page(&state, filter.to_query(None)?).await?;
    let caption = if q.before.is_some() {
        "Older runs, newest first"
    } else {
        "Runs, newest first"
    };
    Ok(layout::page(
        &v,
        "Runs",
        html! {
            h1 { "Runs" }
            @if q.queued.is_some() {
                p.notice role="status" { "Another engine holds that connector: the run was queued and starts when it is free." }
            }
            (filters(&q))
            (layout::runs_table(caption, &runs))
            (pager(&q, next))
        },
    ))
}

/// `?partial=1` asks for the live section only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailQuery {
    partial: Option<u8>,
}

fn counted(run: &RunRecord) -> Vec<(String, u64)> {
    let stats = serde_json::to_value(&run.stats).unwrap_or_default();
    stats
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            v.as_u64()
                .filter(|n| *n > 0)
                .map(|n| (k.replace('_', " "), n))
        })
        .collect()
}

fn live(run: &RunRecord) -> Markup {
    let counted = counted(run);
    let running = run.status == RunStatus::Running;
    html! {
        section id="live" aria-labelledby="stats" aria-live="polite" {
            dl.facts {
                dt { "Status" } dd { (layout::status(run.status)) }
                dt { "Connector" } dd { a href={ "/ui/connectors/" (run.connector) } { (run.connector) } }
                dt { "Profile" } dd { (run.profile.as_str()) @if run.simulation { " (simulation)" } }
                dt { "Actor" } dd { (run.actor) }
                dt { "Started" } dd { (run.started_at) }
                dt { "Ended" } dd { (run.ended_at.as_deref().unwrap_or("—")) }
                @if let (Some(by), Some(at)) = (&run.cancel_requested_by, &run.cancel_requested_at) {
                    dt { "Cancel requested" } dd { "by " (by) " at " (at) }
                }
                @if let Some(reason) = &run.reason { dt { "Reason" } dd { (reason) } }
            }
            h2 id="stats" { @if running { "Statistics so far" } @else { "Statistics" } }
            @if counted.is_empty() {
                p.muted { "Nothing counted yet." }
            } @else {
                table.stats {
                    caption { @if running { "Counts committed so far (zeros left out)" } @else { "Counts of this run (zeros left out)" } }
                    tbody { @for (k, n) in &counted { tr { th scope="row" { (k) } td.num { (n) } } } }
                }
            }
        }
    }
}

/// The running run's notice and, for operators, its Cancel button.
fn running_controls(v: &Viewer, run: &RunRecord) -> Markup {
    let id = run.id;
    html! {
        p.notice role="status" { "This run is still running; the page reloads every two seconds. "
            a href={ "/ui/runs/" (id) } { "Refresh now" } }
        @if run.cancel_requested_at.is_some() {
            p.notice { "Cancel requested: the run stops at its next batch boundary and keeps what it committed." }
        } @else if v.who.role >= Role::Operator {
            form.inline method="post" action={ "/ui/runs/" (id) "/cancel" } {
                (layout::csrf(v))
                button type="submit" class="secondary" aria-describedby="cancel-help" { "Cancel run #" (id) }
                " "
                span.muted id="cancel-help" { "Stops at the next batch boundary; committed batches are kept and nothing is deleted." }
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
        .read_blocking(move |tx| Ok((tx.run(id)?, tx.run_errors(id, 500)?)))
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
            @if running { (running_controls(&v, &run)) }
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

/// `POST /ui/runs/{id}/cancel`: records the request (audited) and shows the run again; a run
/// that ended meanwhile just shows its final page.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(v): Extension<Viewer>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult<Response> {
    match request_cancel(&state, id, v.who.actor()).await {
        Ok(_) | Err(ApiError::Conflict(_)) => {
            Ok(Redirect::to(&format!("/ui/runs/{id}")).into_response())
        }
        Err(e) => Err(e),
    }
}
