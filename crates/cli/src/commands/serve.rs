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
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let store = ctx.store(true).await?;
    let engine = ctx.engine(&store).await?;
    let options = RunOptions { actor: "engine:scheduler".into(), ..RunOptions::default() };
    eprintln!("IdentityMesh engine running on {} (cycle '{}' every {}s); Ctrl-C stops it", ctx.url.redacted(), args.cycle, args.interval);
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut next_cycle = tokio::time::Instant::now();
    loop {
        let requests = store.run_blocking(|tx| tx.run_requests(10)).await?;
        for request in requests {
            let id = request.id;
            if store.run_blocking(move |tx| tx.take_run_request(id)).await? {
                let options = RunOptions { actor: request.actor.clone(), ..RunOptions::default() };
                match engine.run(&request.connector, request.profile, &options).await {
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
    eprintln!("stopped");
    Ok(0)
}
