//! Serving: the whole router (operations endpoints, `/api/v1`, the UI, middleware for metrics,
//! security headers and the body limit) and two servers over a bound listener that stop
//! gracefully when the shutdown future completes — they stop accepting, let requests in
//! flight finish, then return:
//!
//! - [`serve_tls`]: HTTPS with rustls. It marks the state as TLS (session cookies get
//!   `Secure`) and adds `Strict-Transport-Security` to every response.
//! - [`serve`]: plain HTTP, only on a loopback address ([`check_plain_http`]); anything
//!   reachable from another host needs a certificate.
//!
//! Concurrency of [`serve_tls`]: one task per connection, the TLS handshake inside it (a slow
//! client never blocks accepting), bounded by [`HANDSHAKE_TIMEOUT`].

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{HeaderValue, Request, header};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::ops;
use crate::state::AppState;
use crate::tls::TlsConfig;
use crate::v1;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// `Strict-Transport-Security` under TLS: one year, this host only.
const HSTS: &str = "max-age=31536000";

/// The application: every route with its middleware, over `state`. Under TLS
/// (`state.security.tls`) every response also carries `Strict-Transport-Security`.
pub fn router(state: AppState) -> Router {
    let tls = state.security.tls;
    let app = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(v1::router(&state))
        .merge(crate::ui::router(&state))
        .merge(crate::hub::Hub::router())
        .fallback(|| async {
            ApiError::NotFound("no such route; /api/v1/openapi.json lists them".into())
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), ops::track))
        .layer(from_fn(ops::security_headers))
        .with_state(state);
    if tls {
        app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        app
    }
}

/// Refuses plain HTTP off the loopback interface: anything reachable from another host must
/// be served over TLS (`--tls-cert`/`--tls-key`) or fronted by a TLS proxy on loopback.
pub fn check_plain_http(addr: SocketAddr) -> Result<(), String> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "refusing to serve plain HTTP on {addr}: it is not a loopback address, and passwords and session cookies would cross the network in clear. Serve HTTPS with --tls-cert CERT.pem --tls-key KEY.pem (`identitymesh certs self-signed --host NAME --out DIR` makes a pair for a first run), or listen on 127.0.0.1 behind a TLS proxy"
        ))
    }
}

/// Serves `state` over plain HTTP on `listener` until `shutdown` completes. Refuses a
/// listener that is not on a loopback address ([`check_plain_http`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    check_plain_http(listener.local_addr()?)
        .map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidInput, m))?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves `state` over HTTPS on `listener` until `shutdown` completes, on any address.
pub async fn serve_tls(
    listener: TcpListener,
    mut state: AppState,
    tls: TlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.security.tls = true;
    let app = router(state);
    let acceptor = TlsAcceptor::from(tls.server_config());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let conn = connection(acceptor.clone(), app.clone(), tcp, peer, &graceful);
                    tokio::spawn(conn);
                }
                // out of file descriptors and the like: the listener stays usable; back off
                // briefly so a persistent failure does not spin
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One connection: the TLS handshake, then HTTP/1.1 until the client or shutdown ends it.
fn connection(
    acceptor: TlsAcceptor,
    app: Router,
    tcp: TcpStream,
    peer: SocketAddr,
    graceful: &GracefulShutdown,
) -> impl Future<Output = ()> + Send + 'static {
    let watcher = graceful.watcher();
    async move {
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        };
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            // what `into_make_service_with_connect_info` gives plain HTTP: sign-in throttling
            // counts failures per client address
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service);
        if let Err(e) = watcher.watch(conn).await {
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}
