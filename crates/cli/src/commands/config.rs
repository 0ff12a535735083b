//! `identitymesh config example|check|apply|export`: configuration as code.

use anyhow::{Result, anyhow};
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_domain::audit::NewAudit;
use identitymesh_domain::config::compile;
use std::path::PathBuf;

use crate::context::{Ctx, cli_actor, read_config_file};

/// The commented example configuration embedded in the binary.
pub const EXAMPLE: &str = include_str!("../../assets/example.toml");

/// Configuration subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the commented example configuration.
    Example,
    /// Check a configuration file: every error with its line.
    Check {
        /// The file.
        file: PathBuf,
    },
    /// Check and store a configuration file as the new active version (audited).
    Apply {
        /// The file.
        file: PathBuf,
    },
    /// Write the active configuration to standard output or a file.
    Export {
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List stored configuration versions.
    Versions,
}

pub async fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<u8> {
    match cmd {
        ConfigCommand::Example => {
            print!("{EXAMPLE}");
            Ok(0)
        }
        ConfigCommand::Check { file } => {
            let text = read_config_file(&file)?;
            match compile(&text, KNOWN_KINDS) {
                Ok(c) => {
                    println!(
                        "{}: OK ({} connectors, {} mesh types, {} cycles)",
                        file.display(),
                        c.connectors.len(),
                        c.mesh_types.len(),
                        c.cycles.len()
                    );
                    Ok(0)
                }
                Err(errors) => {
                    for e in &errors.0 {
                        eprintln!("{}:{e}", file.display());
                    }
                    Ok(1)
                }
            }
        }
        ConfigCommand::Apply { file } => {
            let text = read_config_file(&file)?;
            let version = apply_text(ctx, &text, &cli_actor())
                .await
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            println!(
                "applied {} as configuration version {version}",
                file.display()
            );
            Ok(0)
        }
        ConfigCommand::Export { output } => {
            let store = ctx.store(false).await?;
            let active = store
                .run_blocking(|tx| tx.active_config())
                .await?
                .ok_or_else(|| anyhow!("no configuration has been applied yet"))?;
            match output {
                Some(path) => std::fs::write(&path, &active.content)?,
                None => print!("{}", active.content),
            }
            Ok(0)
        }
        ConfigCommand::Versions => {
            let store = ctx.store(false).await?;
            for v in store.run_blocking(|tx| tx.config_versions(50)).await? {
                println!(
                    "{:>4}  {}  {}  {}",
                    v.id,
                    v.created_at.to_rfc3339(),
                    v.author,
                    &v.hash[..12.min(v.hash.len())]
                );
            }
            Ok(0)
        }
    }
}

/// Compiles and stores a configuration, auditing the change. Returns the version number.
pub async fn apply_text(ctx: &Ctx, text: &str, actor: &str) -> Result<i64> {
    let config =
        compile(text, KNOWN_KINDS).map_err(|e| anyhow!("the configuration has errors:\n{e}"))?;
    crate::commands::license::check_connectors(ctx, config.connectors.len())?;
    let store = ctx.store(true).await?;
    let (content, hash, actor) = (text.to_owned(), config.hash.clone(), actor.to_owned());
    let now = identitymesh_engine::Clock::now(&identitymesh_engine::SystemClock);
    let version = store
        .run_blocking(move |tx| {
            let before = tx.active_config()?.map(|v| v.id);
            let version = tx.apply_config(&content, &hash, &actor, now)?;
            if before != Some(version) {
                let record = NewAudit {
                    actor: actor.clone(),
                    action: "config.apply".into(),
                    target: format!("config:{version}"),
                    before: before.map(|b| serde_json::json!({ "version": b })),
                    after: Some(serde_json::json!({ "version": version, "hash": hash })),
                    run_id: None,
                };
                tx.append_audit(&record, now)?;
            }
            Ok(version)
        })
        .await?;
    Ok(version)
}
