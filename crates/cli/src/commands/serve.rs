//! `identitymesh serve` / `engine`: the Sync Engine in the foreground. It runs queued run
//! requests as they arrive and the configured cycle on an interval, and stops cleanly at a
//! run boundary on Ctrl-C or SIGTERM.

use anyhow::Result;
use identitymesh_engine::RunOptions;
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

pub async fn run(ctx: &Ctx, args: Args, with_api: bool) -> Result<u8> {
    let store = ctx.store(true).await?;
    let engine = ctx.engine(&store).await?;
    let (stop_api, api_stopped) = tokio::sync::watch::channel(false);
    let api = if with_api {
        let (listener, state) =
            crate::commands::admin_api::prepare(ctx, &store, Some(engine.clone()), &args.api)
                .await?;
        eprintln!("IdentityMesh Admin API on http://{}", args.api.listen);
        let mut stopped = api_stopped.clone();
        Some(tokio::spawn(identitymesh_api::serve(
            listener,
            state,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        )))
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
    loop {
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
