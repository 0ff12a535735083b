//! Wiring: where the data lives, which database, the active configuration, and the engine.

use anyhow::{Context, Result, anyhow, bail};
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_domain::config::{Config, compile};
use identitymesh_engine::{Clock, Engine, SystemClock};
use identitymesh_store::{DatabaseUrl, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Cli;

/// Installs the log subscriber (stderr). Logs never carry attribute values or secrets.
pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Where things are.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database.
    pub url: DatabaseUrl,
}

impl Ctx {
    /// From the command line.
    pub fn new(cli: &Cli) -> Result<Self> {
        let url = match &cli.database {
            Some(raw) => DatabaseUrl::parse(raw)?,
            None => DatabaseUrl::Sqlite(cli.data_dir.join("identitymesh.db")),
        };
        Ok(Self {
            data_dir: cli.data_dir.clone(),
            url,
        })
    }

    /// Opens the store; `migrate` applies pending migrations.
    pub async fn store(&self, migrate: bool) -> Result<Store> {
        if let DatabaseUrl::Sqlite(_) = self.url {
            std::fs::create_dir_all(&self.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    self.data_dir.display()
                )
            })?;
        }
        // a database this command creates gets the current schema, so a fresh data directory
        // reports what is really missing (a configuration) instead of asking for `migrate`
        let migrate = migrate || matches!(&self.url, DatabaseUrl::Sqlite(path) if !path.exists());
        let url = self.url.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&url, migrate)).await??;
        Ok(store)
    }

    /// The active configuration, compiled.
    pub async fn active_config(&self, store: &Store) -> Result<Config> {
        let active = store.run_blocking(|tx| tx.active_config()).await?;
        let Some(version) = active else {
            bail!(
                "no configuration has been applied to {}; run `identitymesh config apply FILE` (or `identitymesh quickstart`)",
                self.url.redacted()
            );
        };
        compile(&version.content, KNOWN_KINDS).map_err(|e| {
            anyhow!(
                "the active configuration (version {}) no longer compiles:\n{e}",
                version.id
            )
        })
    }

    /// An engine over the active configuration. When a connector names secrets
    /// (`secrets = { … }`), the engine gets this host's keys (the data directory's key files,
    /// as `identitymesh secrets` uses them) to open them; a key file others can read is
    /// refused here, naming the `chmod` that fixes it.
    pub async fn engine(&self, store: &Store) -> Result<Engine> {
        let config = self.active_config(store).await?;
        let needs_keys = config.connectors.values().any(|c| !c.secrets.is_empty());
        let license = crate::commands::license::current(self)?;
        let today = SystemClock.now().date_naive();
        if let Some(warning) = license.warning(today) {
            eprintln!("warning: {warning}");
            tracing::warn!("{warning}");
        }
        let engine = Engine::new(
            store.clone(),
            config,
            self.data_dir.clone(),
            Arc::new(SystemClock),
            engine_holder(),
        )
        .with_mesh_object_limit(license.limits().mesh_objects);
        if !needs_keys {
            return Ok(engine);
        }
        let vault = crate::commands::secrets::vault(self).context("connectors of the active configuration name secrets, which need this host's key-encryption keys")?;
        Ok(engine.with_vault(vault))
    }
}

/// This process's name in leases: host and process id.
pub fn engine_holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty());
    format!(
        "{}:{}",
        host.unwrap_or_else(|| "localhost".into()),
        std::process::id()
    )
}

/// Who runs the command line.
pub fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// Reads a configuration file, naming it in errors.
pub fn read_config_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))
}
