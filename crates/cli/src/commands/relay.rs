//! `identitymesh relay …`: the relay agent. `relay run` dials out to the Admin API's hub,
//! enrolls once with a token, then proves its key on every connection and carries out the
//! hub's commands with the connectors assigned to it; it reconnects after any failure and
//! stops (exit 1) only when the hub refuses it for good. `relay secrets set NAME` seals a
//! relay-hosted connector's credential under this host's key in the relay's data directory;
//! it never crosses the hub. `relay enroll-token NAME`, on the main host, creates the one-time
//! token a new relay enrolls with — the same function, checks and audit as the Admin API's
//! `POST /api/v1/relays/enrollment-tokens`.

use anyhow::{Result, anyhow, bail};
use identitymesh_agent::{
    Agent, AgentOptions, Backoff, EnrollmentToken, LocalSecrets, SECRETS_DIR, SystemClock,
};
use identitymesh_api::v1::relays::{DEFAULT_TOKEN_HOURS, issue_enrollment_token};
use identitymesh_api::v1::users::By;
use identitymesh_engine::Clock as _;
use identitymesh_secrets::SecretString;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;

use crate::context::{Ctx, cli_actor};

/// Relay subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum RelayCommand {
    /// Run the relay agent in the foreground: dial out to the hub, carry out its commands; Ctrl-C stops it.
    Run(RunArgs),
    /// Credentials of relay-hosted connectors, sealed under this host's key in the data directory.
    #[command(subcommand)]
    Secrets(RelaySecretsCommand),
    /// On the main host: create a one-time enrollment token for the relay NAME and print it (once) on standard output; needs a license with room in its relay_agents limit.
    EnrollToken {
        /// The relay's name: what connectors put in `relay = "NAME"`.
        name: String,
        /// Hours until the token expires (1 to 168).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_TOKEN_HOURS)]
        hours: i64,
    },
}

/// Arguments of `relay run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The hub: wss://ADMIN-API-HOST[:PORT]/hub/v1 (ws:// only to a loopback host, or with --allow-insecure).
    #[arg(long, value_name = "URL", env = "IDENTITYMESH_HUB")]
    pub hub: String,
    /// The one-time enrollment token an administrator created; needed on the first start only.
    #[arg(long, value_name = "TOKEN", env = "IDENTITYMESH_ENROLL_TOKEN", value_parser = parse_token)]
    pub enroll_token: Option<EnrollmentToken>,
    /// The name to enroll under (default: this host's name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// A PEM bundle of the certificate authorities to trust for the hub (default: the public web roots).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Allow plain ws:// to a host that is not loopback (only on a network you trust).
    #[arg(long)]
    pub allow_insecure: bool,
}

/// `relay secrets` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum RelaySecretsCommand {
    /// Seal a secret on this relay; the value comes from standard input (or a prompt without echo), never the command line.
    Set {
        /// The secret's name, as the connector's `secrets = { SETTING = "NAME" }` names it.
        name: String,
    },
}

fn parse_token(raw: &str) -> Result<EnrollmentToken, String> {
    if raw.is_empty() || raw.len() > 255 {
        return Err("an enrollment token of 1 to 255 characters".into());
    }
    Ok(EnrollmentToken(raw.to_owned()))
}

pub async fn run(ctx: &Ctx, cmd: RelayCommand) -> Result<u8> {
    match cmd {
        RelayCommand::Run(args) => run_agent(ctx, args).await,
        RelayCommand::Secrets(RelaySecretsCommand::Set { name }) => set_secret(ctx, &name),
        RelayCommand::EnrollToken { name, hours } => enroll_token(ctx, &name, hours).await,
    }
}

/// Creates the token in the store of `--data-dir`/`--database` (audited as the command
/// line's actor), prints its value alone on standard output and the next steps on standard
/// error.
async fn enroll_token(ctx: &Ctx, name: &str, hours: i64) -> Result<u8> {
    let store = ctx.store(true).await?;
    let by = By {
        store: store.clone(),
        actor: cli_actor(),
        at: identitymesh_engine::SystemClock.now(),
    };
    let license = crate::commands::license::current(ctx)?;
    let (_, token, expires) = issue_enrollment_token(&by, &license, name, hours).await?;
    println!("{token}");
    eprintln!(
        "created a one-time enrollment token for relay '{name}', valid until {} (shown only this once)",
        expires.format("%Y-%m-%d %H:%M UTC")
    );
    // a hint only: a token may well be created before the configuration names the relay
    let named = ctx.active_config(&store).await.is_ok_and(|config| {
        config
            .connectors
            .values()
            .any(|c| c.relay.as_deref() == Some(name))
    });
    if !named {
        eprintln!(
            "no connector of the active configuration names it yet: set relay = \"{name}\" on the connectors it hosts"
        );
    }
    eprintln!(
        "on the relay's host, run:\n  identitymesh relay run --hub wss://ADMIN-API-HOST:PORT/hub/v1 --enroll-token TOKEN --name {name} --data-dir RELAY-DATA-DIR"
    );
    Ok(0)
}

async fn run_agent(ctx: &Ctx, args: RunArgs) -> Result<u8> {
    let options = AgentOptions {
        hub: args.hub,
        data_dir: ctx.data_dir.clone(),
        enroll_token: args.enroll_token,
        name: args.name,
        ca_file: args.ca_file,
        allow_insecure: args.allow_insecure,
        backoff: Backoff::default(),
    };
    let agent = Agent::new(options, Arc::new(SystemClock))?;
    let identity = agent.identity();
    match identity.relay_id() {
        Some(id) => eprintln!("relay {id}: connecting to the hub"),
        None => eprintln!(
            "relay (public key {}): enrolling with the hub",
            identity.public_key()
        ),
    }
    tokio::select! {
        fatal = agent.run() => Err(anyhow!(fatal)),
        _ = tokio::signal::ctrl_c() => {
            eprintln!("relay stopped");
            Ok(0)
        }
    }
}

fn set_secret(ctx: &Ctx, name: &str) -> Result<u8> {
    let value = read_value(name)?;
    LocalSecrets::open(&ctx.data_dir)?.set(name, &value)?;
    println!(
        "secret '{name}' sealed under this host's key in {}",
        ctx.data_dir.join(SECRETS_DIR).display()
    );
    Ok(0)
}

/// A prompt without echo on a terminal, otherwise standard input with one trailing line
/// break removed.
fn read_value(name: &str) -> Result<SecretString> {
    let value = if std::io::stdin().is_terminal() {
        SecretString::new(rpassword::prompt_password(format!(
            "value of secret '{name}': "
        ))?)
    } else {
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .map_err(|e| anyhow!("cannot read the value from standard input: {e}"))?;
        let trimmed = raw
            .strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .unwrap_or(&raw)
            .to_owned();
        drop(SecretString::new(raw));
        SecretString::new(trimmed)
    };
    if value.is_empty() {
        bail!(
            "the value of secret '{name}' is empty: pipe it on standard input (printf '%s' \"$VALUE\" | identitymesh relay secrets set {name})"
        );
    }
    Ok(value)
}
