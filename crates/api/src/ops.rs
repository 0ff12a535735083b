//! Operations endpoints and middleware: `/healthz` (the process answers), `/readyz` (the
//! database answers and its schema is this build's), `/metrics` (Prometheus text: runs by
//! status, export queue depth by connector and state, requests by route with latency), the
//! request-metrics middleware and the security headers every response carries.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use identitymesh_domain::export::ExportState;
use identitymesh_store::SCHEMA_VERSION;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::v1::connectors::connector_config;

const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
const EXPORT_STATES: [ExportState; 4] = [
    ExportState::Pending,
    ExportState::Held,
    ExportState::Failed,
    ExportState::DeadLetter,
];

/// Request counters by (method, route, status).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Middleware: counts requests and their latency by matched route (never the raw path, so
/// ids do not explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut map = state
        .metrics
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let series = map
        .entry((method, route, response.status().as_u16()))
        .or_default();
    series.count += 1;
    series.sum += seconds;
    for (i, bound) in BUCKETS.iter().enumerate() {
        if seconds <= *bound {
            series.buckets[i] += 1;
        }
    }
    response
}

/// Middleware: security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let pairs = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // same-origin: browsers then send the real Origin on form posts, which the anti-forgery
        // Origin check needs (no-referrer makes them send `Origin: null`)
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<&'static str> {
    let store = state.store.clone();
    let version = tokio::task::spawn_blocking(move || store.schema_version()).await??;
    if version != SCHEMA_VERSION {
        return Err(ApiError::Unavailable(format!(
            "the database schema is at version {version}, this build needs {SCHEMA_VERSION}: run `identitymesh migrate`"
        )));
    }
    Ok("ready\n")
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let config = connector_config(&state).await.ok();
    let names: Vec<_> = config
        .map(|c| c.connectors.keys().cloned().collect())
        .unwrap_or_default();
    let (runs, depth) = state
        .store
        .read_blocking(move |tx| {
            let runs = tx.run_status_counts()?;
            let mut depth = Vec::new();
            for name in &names {
                for s in EXPORT_STATES {
                    depth.push((name.to_string(), s, tx.count_exports(name, s, false)?));
                }
            }
            Ok((runs, depth))
        })
        .await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP identitymesh_runs Runs recorded, by status.\n# TYPE identitymesh_runs gauge"
    );
    for (status, n) in runs {
        let _ = writeln!(out, "identitymesh_runs{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP identitymesh_export_queue Queued exports, by connector and state.\n# TYPE identitymesh_export_queue gauge"
    );
    for (connector, s, n) in depth {
        let _ = writeln!(
            out,
            "identitymesh_export_queue{{connector=\"{connector}\",state=\"{}\"}} {n}",
            s.as_str()
        );
    }
    write_requests(&state, &mut out);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

fn write_requests(state: &AppState, out: &mut String) {
    let map = state
        .metrics
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let _ = writeln!(
        out,
        "# HELP identitymesh_http_request_duration_seconds HTTP requests by route and status.\n# TYPE identitymesh_http_request_duration_seconds histogram"
    );
    for ((method, route, status), s) in map.iter() {
        let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
        for (bound, n) in BUCKETS.iter().zip(s.buckets) {
            let _ = writeln!(
                out,
                "identitymesh_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "identitymesh_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            s.count
        );
        let _ = writeln!(
            out,
            "identitymesh_http_request_duration_seconds_sum{{{labels}}} {}",
            s.sum
        );
        let _ = writeln!(
            out,
            "identitymesh_http_request_duration_seconds_count{{{labels}}} {}",
            s.count
        );
    }
}
