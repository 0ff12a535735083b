//! `identitymesh serve` / `engine`: the Sync Engine in the foreground. It runs queued run
//! requests as they arrive and the configured cycle on an interval, and stops cleanly at a
//! run boundary on Ctrl-C or SIGTERM.

use anyhow::Result;
use identitymesh_api::hub::{Hub, HubSettings, RelayConnectors};
use identitymesh_engine::{RunOptions, SystemClock};
use std::sync::Arc;
use std::time::Duration;

use crate::context::Ctx;
use crate::output::{print_cycle, print_run};

/// Arguments of `serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Seconds between cycles (0: only queued requests).
    #[arg(long, default_value_t = 300)]
    pub interval: u64,
    /// The cycle to run on the interval.
    #[arg(long, default_value = "default")]
    pub cycle: String,
    /// The Admin API's settings (`serve` only).
    #[command(flatten)]
    pub api: crate::commands::admin_api::ListenArgs,
}

pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The relay hub of this process, named after the host and process, enrolling relays within
/// the `relay_agents` limit of `license`.
fn relay_hub(store: &identitymesh_store::Store, license: identitymesh_secrets::License) -> Hub {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    let instance = format!("{host}:{}", std::process::id());
    Hub::new(
        store.clone(),
        Arc::new(SystemClock),
        instance,
        HubSettings::default(),
        Arc::new(license),
    )
}

/// The id of the active configuration version.
async fn active_version(store: &identitymesh_store::Store) -> Result<Option<i64>> {
    Ok(store
        .read_blocking(|tx| tx.active_config())
        .await?
        .map(|v| v.id))
}

/// Loads the active configuration into the engine (and tells the relays) when its version
/// is not `loaded`; returns the version now loaded. A version that does not compile is
/// reported and skipped: the engine keeps running the last good one.
async fn follow_configuration(
    store: &identitymesh_store::Store,
    engine: &identitymesh_engine::Engine,
    hub: Option<&Hub>,
    loaded: Option<i64>,
) -> Option<i64> {
    let active = match store.read_blocking(|tx| tx.active_config()).await {
        Ok(Some(active)) if Some(active.id) != loaded => active,
        Ok(_) => return loaded,
        Err(e) => {
            eprintln!("cannot read the active configuration: {e}");
            return loaded;
        }
    };
    match identitymesh_domain::config::compile(
        &active.content,
        identitymesh_connectors::KNOWN_KINDS,
    ) {
        Ok(config) => {
            if let Some(hub) = hub {
                hub.configuration_applied(active.id, &active.content, &config)
                    .await;
            }
            engine.replace_config(config);
            eprintln!("configuration version {} is active", active.id);
        }
        Err(e) => eprintln!(
            "configuration version {} does not compile; still running the previous one:\n{e}",
            active.id
        ),
    }
    Some(active.id)
}

pub async fn run(ctx: &Ctx, args: Args, with_api: bool) -> Result<u8> {
    let store = ctx.store(true).await?;
    let engine = ctx.engine(&store).await?;
    // the relay hub lives in the Admin API; the engine reaches relay-hosted connectors
    // through it, so both run in this process (`engine` alone refuses such connectors)
    let hub = if with_api {
        Some(relay_hub(&store, crate::commands::license::current(ctx)?))
    } else {
        None
    };
    let engine = match &hub {
        Some(hub) => engine.with_remote_connectors(Arc::new(RelayConnectors::new(hub.clone()))),
        None => engine,
    };
    let (stop_api, api_stopped) = tokio::sync::watch::channel(false);
    let hub_for_reload = hub.clone();
    let api = if let Some(hub) = hub {
        let mut prepared =
            crate::commands::admin_api::prepare(ctx, &store, Some(engine.clone()), &args.api)
                .await?;
        prepared.state = prepared.state.with_hub(hub);
        eprintln!(
            "IdentityMesh Admin API on {}",
            prepared.url(args.api.listen)
        );
        let mut stopped = api_stopped.clone();
        Some(tokio::spawn(prepared.serve(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })))
    } else {
        None
    };
    let options = RunOptions {
        actor: "engine:scheduler".into(),
        ..RunOptions::default()
    };
    eprintln!(
        "IdentityMesh engine running on {} (cycle '{}' every {}s); Ctrl-C stops it",
        ctx.url.redacted(),
        args.cycle,
        args.interval
    );
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut next_cycle = tokio::time::Instant::now();
    let mut loaded = active_version(&store).await?;
    loop {
        // a version applied elsewhere (`config apply`, another instance) runs from the
        // next run on, and relays hear of it
        loaded = follow_configuration(&store, &engine, hub_for_reload.as_ref(), loaded).await;
        let requests = store.run_blocking(|tx| tx.run_requests(10)).await?;
        for request in requests {
            let id = request.id;
            if store
                .run_blocking(move |tx| tx.take_run_request(id))
                .await?
            {
                let options = RunOptions {
                    actor: request.actor.clone(),
                    ..RunOptions::default()
                };
                match engine
                    .run(&request.connector, request.profile, &options)
                    .await
                {
                    Ok(report) => print_run(&report),
                    Err(e) => eprintln!("queued run #{id} failed to start: {e}"),
                }
            }
        }
        if args.interval > 0 && tokio::time::Instant::now() >= next_cycle {
            match engine.run_cycle(&args.cycle, &options).await {
                Ok(report) => print_cycle(&report),
                Err(e) => eprintln!("cycle '{}' failed: {e}", args.cycle),
            }
            next_cycle = tokio::time::Instant::now() + Duration::from_secs(args.interval);
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    let _ = stop_api.send(true);
    if let Some(api) = api {
        api.await??;
    }
    eprintln!("stopped");
    Ok(0)
}
