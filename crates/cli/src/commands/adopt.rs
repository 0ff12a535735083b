//! `identitymesh adopt CONNECTOR ANCHOR --approve|--reject`: decide a pending adoption of an
//! existing target object (shown in run reports as "held for approval").

use anyhow::Result;
use identitymesh_engine::AdoptionVerdict;

use crate::context::{Ctx, cli_actor};

/// Arguments of `adopt`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The target connector.
    pub connector: String,
    /// The target object's anchor.
    pub anchor: String,
    /// Take the object over (the next sync computes its first export; preview it with `run CONNECTOR full-sync --simulate`).
    #[arg(long, required_unless_present = "reject", conflicts_with = "reject")]
    pub approve: bool,
    /// Leave it unmanaged.
    #[arg(long)]
    pub reject: bool,
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<u8> {
    let store = ctx.store(false).await?;
    let engine = ctx.engine(&store).await?;
    let verdict = if args.approve {
        AdoptionVerdict::Approve
    } else {
        AdoptionVerdict::Reject
    };
    let message = engine
        .decide_adoption(&args.connector, &args.anchor, verdict, &cli_actor())
        .await?;
    println!("{message}");
    Ok(0)
}
