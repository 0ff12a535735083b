//! The subcommands, one module each.

pub mod admin_api;
pub mod adopt;
pub mod bench;
pub mod certs;
pub mod config;
pub mod license;
pub mod quickstart;
pub mod relay;
pub mod run;
pub mod secrets;
pub mod serve;
pub mod users;

use anyhow::Result;

use crate::context::Ctx;
use crate::{Cli, Command};

/// Runs the chosen subcommand and returns the process exit code.
pub async fn dispatch(cli: Cli) -> Result<u8> {
    let ctx = Ctx::new(&cli)?;
    match cli.command {
        Command::Quickstart(args) => quickstart::run(&ctx, args).await,
        Command::Run(args) => run::run(&ctx, args).await,
        Command::Cycle(args) => run::cycle(&ctx, args).await,
        Command::Migrate => {
            let store = ctx.store(true).await?;
            // the store's calls block (PostgreSQL drives its own runtime): off the async threads
            let version = tokio::task::spawn_blocking(move || store.schema_version()).await??;
            println!(
                "database {} is at schema version {version}",
                ctx.url.redacted()
            );
            Ok(0)
        }
        Command::Config(cmd) => config::run(&ctx, cmd).await,
        Command::Serve(args) => serve::run(&ctx, args, true).await,
        Command::Engine(args) => serve::run(&ctx, args, false).await,
        Command::Bench(args) => bench::run(&ctx, args).await,
        Command::Secrets(cmd) => secrets::run(&ctx, cmd).await,
        Command::License(cmd) => license::run(&ctx, cmd).await,
        Command::Adopt(args) => adopt::run(&ctx, args).await,
        Command::AdminApi(args) => admin_api::run(&ctx, args).await,
        Command::Users(cmd) => users::run(&ctx, cmd).await,
        Command::Certs(cmd) => certs::run(cmd).await,
        Command::Relay(cmd) => relay::run(&ctx, cmd).await,
    }
}
