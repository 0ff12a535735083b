//! `identitymesh users add NAME --role R`: a user of the Admin API, the password read from
//! standard input (or a prompt without echo on a terminal), never from the command line.

use anyhow::{Result, bail};
use identitymesh_api::{Role, add_user};
use identitymesh_engine::{Clock, SystemClock};
use std::io::{IsTerminal, Read};

use crate::context::{Ctx, cli_actor};

/// `users` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum UsersCommand {
    /// Add a user (password from standard input or a prompt).
    Add {
        /// Login name.
        name: String,
        /// admin, operator or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: UsersCommand) -> Result<u8> {
    let UsersCommand::Add { name, role } = cmd;
    let Some(role) = Role::parse(&role) else {
        bail!("role must be admin, operator or viewer")
    };
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("password for {name}: "))?
    } else {
        let mut raw = String::new();
        std::io::stdin().read_to_string(&mut raw)?;
        raw.trim_end_matches(['\r', '\n']).to_owned()
    };
    let store = ctx.store(true).await?;
    add_user(
        &store,
        &name,
        role,
        &password,
        &cli_actor(),
        SystemClock.now(),
    )
    .await?;
    println!("added user '{name}' ({})", role.as_str());
    Ok(0)
}
