//! `identitymesh users add|disable|enable|remove NAME`: the Admin API's users from the
//! command line. A password is read from standard input (or a prompt without echo on a
//! terminal), never from the command line. The changes go through the API crate's own
//! functions, so the password policy, the last-administrator rule, ending a disabled user's
//! sessions and tokens, and the audit are the same as over the API.

use anyhow::{Result, bail};
use identitymesh_api::v1::users::{By, UserChange, change_user, check_policy, delete_user};
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
    /// Disable a user: it cannot sign in, and its sessions and API tokens end now.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// Login name.
        name: String,
    },
    /// Delete a user with its sessions and API tokens.
    Remove {
        /// Login name.
        name: String,
    },
}

fn read_password(name: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password(format!(
            "password for {name}: "
        ))?);
    }
    let mut raw = String::new();
    std::io::stdin().read_to_string(&mut raw)?;
    Ok(raw.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(ctx: &Ctx, cmd: UsersCommand) -> Result<u8> {
    let store = ctx.store(true).await?;
    let by = By {
        store: store.clone(),
        actor: cli_actor(),
        at: SystemClock.now(),
    };
    match cmd {
        UsersCommand::Add { name, role } => {
            let Some(role) = Role::parse(&role) else {
                bail!("role must be admin, operator or viewer")
            };
            let password = read_password(&name)?;
            check_policy(&name, &password)?;
            add_user(&store, &name, role, &password, &by.actor, by.at).await?;
            println!("added user '{name}' ({})", role.as_str());
        }
        UsersCommand::Disable { name } => {
            let change = UserChange {
                disabled: Some(true),
                ..UserChange::default()
            };
            change_user(&by, name.clone(), change).await?;
            println!("disabled user '{name}'; its sessions and API tokens have ended");
        }
        UsersCommand::Enable { name } => {
            let change = UserChange {
                disabled: Some(false),
                ..UserChange::default()
            };
            change_user(&by, name.clone(), change).await?;
            println!("enabled user '{name}'");
        }
        UsersCommand::Remove { name } => {
            delete_user(&by, name.clone()).await?;
            println!("removed user '{name}'");
        }
    }
    Ok(0)
}
