//! `identitymesh admin-api`: the Admin API alone (runs started from it need `serve`), and the
//! wiring `serve` uses to run it beside the engine: the TLS certificate (checked before
//! anything binds) or the plain-HTTP loopback check, key ring vault, license, bootstrap
//! administrator (its password printed once to stderr, never logged).

use anyhow::{Context, Result, bail};
use identitymesh_api::{
    AppState, Security, TlsConfig, check_plain_http, ensure_bootstrap_admin, serve, serve_tls,
};
use identitymesh_engine::{Clock, Engine, SystemClock};
use identitymesh_store::Store;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::context::Ctx;

/// Arguments of `admin-api` (and the API part of `serve`).
#[derive(clap::Args, Debug, Clone)]
pub struct ListenArgs {
    /// Address to listen on (plain HTTP only on loopback; any address with --tls-cert/--tls-key).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate (chain); needs --tls-key. `identitymesh certs self-signed` makes one.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// A bound, ready Admin API: listener, state, and TLS when configured.
pub struct Prepared {
    /// The bound listener.
    pub listener: tokio::net::TcpListener,
    /// The state.
    pub state: AppState,
    /// TLS, when a certificate was given.
    pub tls: Option<TlsConfig>,
}

impl Prepared {
    /// The URL the API answers on.
    pub fn url(&self, listen: SocketAddr) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{listen}")
    }

    /// Serves until `shutdown` completes: HTTPS with a certificate, else plain HTTP.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        match self.tls {
            Some(tls) => serve_tls(self.listener, self.state, tls, shutdown).await,
            None => serve(self.listener, self.state, shutdown).await,
        }
    }
}

/// The certificate and key, checked; or, without them, the loopback check for plain HTTP.
fn tls(args: &ListenArgs) -> Result<Option<TlsConfig>> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(TlsConfig::from_pem_files(cert, key)?)),
        (None, None) => match check_plain_http(args.listen) {
            Ok(()) => Ok(None),
            Err(message) => bail!(message),
        },
        _ => bail!(
            "--tls-cert and --tls-key go together: give both, or neither for plain HTTP on loopback"
        ),
    }
}

/// Checks TLS, binds the listener and builds the state; prints the bootstrap password when
/// one is made.
pub async fn prepare(
    ctx: &Ctx,
    store: &Store,
    engine: Option<Engine>,
    args: &ListenArgs,
) -> Result<Prepared> {
    let tls = tls(args)?;
    let vault = crate::commands::secrets::vault(ctx)?;
    let license = crate::commands::license::current(ctx)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if let Some(password) = ensure_bootstrap_admin(store, clock.now()).await? {
        eprintln!(
            "created the administrator 'admin' with password: {password}\nsign in and keep it safe; it is not shown again"
        );
    }
    let security = Security {
        tls: tls.is_some(),
        ..Security::default()
    };
    let state = AppState::new(store.clone(), engine, vault, clock, security).with_license(license);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    Ok(Prepared {
        listener,
        state,
        tls,
    })
}

/// Runs `admin-api` until Ctrl-C or SIGTERM.
pub async fn run(ctx: &Ctx, args: ListenArgs) -> Result<u8> {
    let store = ctx.store(true).await?;
    let api = prepare(ctx, &store, None, &args).await?;
    eprintln!(
        "IdentityMesh Admin API on {}; Ctrl-C stops it",
        api.url(args.listen)
    );
    api.serve(crate::commands::serve::shutdown_signal()).await?;
    Ok(0)
}
