//! `identitymesh run CONNECTOR PROFILE` and `identitymesh cycle [NAME]`.

use anyhow::Result;
use identitymesh_domain::run::RunProfile;
use identitymesh_engine::{EngineError, RunOptions};

use crate::context::{Ctx, cli_actor};
use crate::output::{exit_code, print_cycle, print_run};

/// Arguments of `run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The connector.
    pub connector: String,
    /// full-import, delta-import, full-sync, delta-sync or export.
    pub profile: RunProfile,
    /// Sync or export without committing: store the change set for review.
    #[arg(long)]
    pub simulate: bool,
    /// Accept a full import that is empty or much shorter than the last one.
    #[arg(long, alias = "allow-empty")]
    pub allow_shrink: bool,
    /// With export: apply the exports a tripped guard held (audited).
    #[arg(long, conflicts_with = "reject_held")]
    pub approve_held: bool,
    /// With export: discard the exports a tripped guard held (audited).
    #[arg(long)]
    pub reject_held: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cycle`.
#[derive(clap::Args, Debug)]
pub struct CycleArgs {
    /// The cycle's name under [cycles].
    #[arg(default_value = "default")]
    pub name: String,
    /// Accept full imports that are empty or much shorter than the last one.
    #[arg(long)]
    pub allow_shrink: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Exit code when another engine holds the connector (the request was queued).
pub const BUSY: u8 = 5;

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    if (args.approve_held || args.reject_held) && args.profile != RunProfile::Export {
        anyhow::bail!("--approve-held and --reject-held go with the export profile");
    }
    let store = ctx.store(false).await?;
    let (engine, bar) = crate::progress::attach(ctx.engine(&store).await?);
    let options = RunOptions {
        simulate: args.simulate,
        allow_shrink: args.allow_shrink,
        approve_held: args.approve_held,
        reject_held: args.reject_held,
        actor: cli_actor(),
    };
    let result = engine.run(&args.connector, args.profile, &options).await;
    crate::progress::finish(bar);
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_run(&report);
            }
            Ok(exit_code(report.status))
        }
        Err(busy @ EngineError::Busy { .. }) => {
            eprintln!("{busy}");
            Ok(BUSY)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn cycle(ctx: &Ctx, args: CycleArgs) -> Result<u8> {
    let store = ctx.store(false).await?;
    let (engine, bar) = crate::progress::attach(ctx.engine(&store).await?);
    let options = RunOptions {
        allow_shrink: args.allow_shrink,
        actor: cli_actor(),
        ..RunOptions::default()
    };
    let report = engine.run_cycle(&args.name, &options).await;
    crate::progress::finish(bar);
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_cycle(&report);
    }
    Ok(exit_code(report.status))
}
