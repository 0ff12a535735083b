//! Serving: the whole router (operations endpoints, `/api/v1`, middleware for metrics,
//! security headers and the body limit) and a server over a bound listener that stops
//! gracefully when the shutdown future completes: it stops accepting, lets requests in
//! flight finish, then returns.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::ops;
use crate::state::AppState;
use crate::v1;

/// The application: every route with its middleware, over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(v1::router(&state))
        .merge(crate::ui::router(&state))
        .fallback(|| async {
            ApiError::NotFound("no such route; /api/v1/openapi.json lists them".into())
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), ops::track))
        .layer(from_fn(ops::security_headers))
        .with_state(state)
}

/// Refuses plain HTTP off the loopback interface: TLS is not built into the server yet, so
/// anything reachable from another host must be fronted by a TLS proxy on loopback.
pub fn check_plain_http(addr: SocketAddr) -> Result<(), String> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "refusing to serve plain HTTP on {addr}: it is not a loopback address. TLS (--tls-cert/--tls-key) is not available in this build yet; listen on 127.0.0.1 and put a TLS proxy in front"
        ))
    }
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
