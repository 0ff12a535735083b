//! `identitymesh admin-api`: the Admin API alone (runs started from it need `serve`), and the
//! wiring `serve` uses to run it beside the engine: listen address check, key ring vault,
//! bootstrap administrator (its password printed once to stderr, never logged).

use anyhow::{Context, Result, bail};
use identitymesh_api::{AppState, Security, check_plain_http, ensure_bootstrap_admin};
use identitymesh_engine::{Clock, Engine, SystemClock};
use identitymesh_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::context::Ctx;

/// Arguments of `admin-api` (and the API part of `serve`).
#[derive(clap::Args, Debug, Clone)]
pub struct ListenArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// Binds the listener and builds the state; prints the bootstrap password when one is made.
pub async fn prepare(
    ctx: &Ctx,
    store: &Store,
    engine: Option<Engine>,
    args: &ListenArgs,
) -> Result<(tokio::net::TcpListener, AppState)> {
    if let Err(message) = check_plain_http(args.listen) {
        bail!(message);
    }
    let vault = crate::commands::secrets::vault(ctx)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if let Some(password) = ensure_bootstrap_admin(store, clock.now()).await? {
        eprintln!(
            "created the administrator 'admin' with password: {password}\nsign in and keep it safe; it is not shown again"
        );
    }
    let state = AppState::new(store.clone(), engine, vault, clock, Security::default());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    Ok((listener, state))
}

/// Runs `admin-api` until Ctrl-C or SIGTERM.
pub async fn run(ctx: &Ctx, args: ListenArgs) -> Result<u8> {
    let store = ctx.store(true).await?;
    let (listener, state) = prepare(ctx, &store, None, &args).await?;
    eprintln!(
        "IdentityMesh Admin API on http://{}; Ctrl-C stops it",
        args.listen
    );
    identitymesh_api::serve(listener, state, crate::commands::serve::shutdown_signal()).await?;
    Ok(0)
}
