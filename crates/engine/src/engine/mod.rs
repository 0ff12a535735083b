//! The engine handle: runs profiles and cycles on the store with the active configuration.

mod export_run;
mod handle;
mod import_run;
mod sync_run;

pub use handle::{RunFuture, RunHandle};

use chrono::{DateTime, Utc};
use identitymesh_connectors::{
    Connector, ConnectorSecrets, ExportStyle, ImportMode, ImportShape, RemoteConnectors,
    open_connector,
};
use identitymesh_domain::audit::NewAudit;
use identitymesh_domain::config::{Config, ConnectorConfig};
use identitymesh_domain::export::ExportState;
use identitymesh_domain::guard::{GuardVerdict, check_destructive};
use identitymesh_domain::run::{ObjectError, RunProfile, RunStats, RunStatus};
use identitymesh_domain::watermark::{WatermarkKind, read_watermark};
use identitymesh_store::vault::Vault;
use identitymesh_store::{StagedFilter, Store, StoreError, StoreResult, Tx};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use crate::clock::Clock;
use crate::error::EngineError;
use crate::export::{
    MAX_ATTEMPTS, RUNNABLE, SnapshotRows, apply_written, check_drift, mark_applied,
    snapshot_watermark,
};
use crate::import::{ImportCx, finish, stage_batch};
use crate::report::{CycleReport, RunReport, severity};
use crate::sync::{MeshLimit, SyncCx, sync_page};

/// Seconds a connector lease lasts unless renewed (every batch renews it).
const LEASE_SECONDS: i64 = 300;
/// Records per import batch.
const IMPORT_BATCH: usize = 1000;
/// Errors kept in a report (all are stored).
const REPORT_ERRORS: usize = 20;

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Compute and store the change set without committing anything else.
    pub simulate: bool,
    /// Accept a full import that is empty or much shorter than the last one.
    pub allow_shrink: bool,
    /// Release the held exports of a tripped guard and apply them.
    pub approve_held: bool,
    /// Discard the held exports of a tripped guard.
    pub reject_held: bool,
    /// Who asked (`cli:alice`, `user:bob`).
    pub actor: String,
}

/// Called with progress counters after every batch.
pub type Progress = Arc<dyn Fn(&str, &RunStats) + Send + Sync>;

/// The Sync Engine.
#[derive(Clone)]
pub struct Engine {
    store: Store,
    /// Shared by every clone, so a configuration applied through the Admin API reaches the
    /// scheduler's clone too ([`Engine::replace_config`]).
    config: Arc<RwLock<Arc<Config>>>,
    base_dir: PathBuf,
    clock: Arc<dyn Clock>,
    holder: String,
    progress: Option<Progress>,
    vault: Option<Arc<Vault>>,
    mesh_object_limit: Option<u64>,
    /// Stand-ins for connectors hosted by relays (set by the process running the hub).
    remote: Option<Arc<dyn RemoteConnectors>>,
}

struct Outcome {
    status: RunStatus,
    stats: RunStats,
    errors: Vec<ObjectError>,
    reason: Option<String>,
}

impl Outcome {
    fn failed(reason: String) -> Self {
        Outcome {
            status: RunStatus::Failed,
            stats: RunStats::default(),
            errors: Vec::new(),
            reason: Some(reason),
        }
    }
}

impl Engine {
    /// An engine over a store and a compiled configuration; relative paths in connector
    /// settings resolve against `base_dir`. `holder` names this engine instance in leases.
    pub fn new(
        store: Store,
        config: Config,
        base_dir: PathBuf,
        clock: Arc<dyn Clock>,
        holder: String,
    ) -> Self {
        Self {
            store,
            config: Arc::new(RwLock::new(Arc::new(config))),
            base_dir,
            clock,
            holder,
            progress: None,
            vault: None,
            mesh_object_limit: None,
            remote: None,
        }
    }

    /// Runs connectors whose configuration names a relay through `remote` (the hub).
    pub fn with_remote_connectors(mut self, remote: Arc<dyn RemoteConnectors>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Enforces a licensed number of mesh objects: a projection beyond it is an error on that
    /// object, naming the limit; nothing else stops.
    pub fn with_mesh_object_limit(mut self, limit: Option<u64>) -> Self {
        self.mesh_object_limit = limit;
        self
    }

    /// Opens the secrets connectors name (`secrets = { … }`) with these keys. Without a vault
    /// a connector that names a secret fails its runs, saying so.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(Arc::new(vault));
        self
    }

    /// Opens the secrets `config` names, by connector setting, recording their use: what the
    /// connector is built with. A missing secret or one that cannot be opened is an error
    /// naming the connector, the setting, the secret and what to do.
    pub async fn resolve_connector_secrets(
        &self,
        config: &ConnectorConfig,
    ) -> Result<ConnectorSecrets, EngineError> {
        crate::connector_secrets::resolve(&self.store, self.vault.clone(), config, self.clock.now())
            .await
    }

    /// Builds a run's connector, its secrets opened first: nothing is read before they are.
    async fn open_connector(
        &self,
        config: &ConnectorConfig,
    ) -> Result<Box<dyn Connector>, EngineError> {
        if let Some(relay) = &config.relay {
            // its secrets live on the relay host: nothing is resolved here
            return match &self.remote {
                Some(remote) => Ok(remote.open(config)?),
                None => Err(identitymesh_connectors::ConnectorError::Unavailable {
                    connector: config.name.to_string(),
                    message: format!(
                        "is hosted by relay '{relay}', and this process runs no relay hub: run it with `identitymesh serve`"
                    ),
                }
                .into()),
            };
        }
        let secrets = self.resolve_connector_secrets(config).await?;
        Ok(open_connector(config, &self.base_dir, secrets)?)
    }

    /// Reports progress after every batch.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The configuration it runs.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `config` from the next run on, in this engine and every clone of it (a run
    /// already going keeps the configuration it started with).
    pub fn replace_config(&self, config: Config) {
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
    }

    /// The store it writes.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current time by the engine's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn connector(&self, name: &str) -> Result<ConnectorConfig, EngineError> {
        self.config()
            .connector(name)
            .cloned()
            .ok_or_else(|| EngineError::UnknownConnector(name.to_owned()))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut dyn Tx) -> StoreResult<T> + Send + 'static,
    ) -> Result<T, EngineError> {
        Ok(self.store.run_blocking(work).await?)
    }

    /// Runs one profile on one connector, holding the connector's lease for the duration:
    /// [`Engine::start_run`] awaited to the end.
    pub async fn run(
        &self,
        connector: &str,
        profile: RunProfile,
        options: &RunOptions,
    ) -> Result<RunReport, EngineError> {
        self.start_run(connector, profile, options)
            .await?
            .join
            .await
    }

    async fn queue_request(
        &self,
        connector: &str,
        profile: RunProfile,
        options: &RunOptions,
        now: DateTime<Utc>,
    ) -> Result<EngineError, EngineError> {
        let (name, actor) = (connector.to_owned(), options.actor.clone());
        let (request_id, holder) = self
            .blocking(move |tx| {
                let id = tx.enqueue_run_request(&name, profile, &actor, now)?;
                let holder = tx.lease(&name)?.map(|l| l.holder).unwrap_or_default();
                Ok((id, holder))
            })
            .await?;
        Ok(EngineError::Busy {
            connector: connector.to_owned(),
            holder,
            request_id,
        })
    }

    async fn finish_run(
        &self,
        connector: &str,
        profile: RunProfile,
        simulate: bool,
        run_id: i64,
        mut outcome: Outcome,
    ) -> Result<RunReport, EngineError> {
        let now = self.clock.now();
        let (stats, errors, reason, status) = (
            outcome.stats.clone(),
            outcome.errors.clone(),
            outcome.reason.clone(),
            outcome.status,
        );
        self.blocking(move |tx| {
            for chunk in errors.chunks(500) {
                tx.add_run_errors(run_id, chunk)?;
            }
            tx.finish_run(run_id, status, &stats, reason.as_deref(), now)
        })
        .await?;
        outcome.errors.truncate(REPORT_ERRORS);
        Ok(RunReport {
            run_id,
            connector: connector.to_owned(),
            profile,
            simulation: simulate,
            status: outcome.status,
            stats: outcome.stats,
            reason: outcome.reason,
            errors: outcome.errors,
        })
    }

    /// Runs a named cycle: its steps in order, stopping at a failed or cancelled step.
    pub async fn run_cycle(
        &self,
        name: &str,
        options: &RunOptions,
    ) -> Result<CycleReport, EngineError> {
        let steps = self
            .config()
            .cycles
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::UnknownCycle(name.to_owned()))?;
        let mut runs = Vec::new();
        let mut status = RunStatus::Completed;
        for step in steps {
            let report = self
                .run(step.connector.as_str(), step.profile, options)
                .await?;
            if severity(report.status) > severity(status) {
                status = report.status;
            }
            let failed = matches!(report.status, RunStatus::Failed | RunStatus::Cancelled);
            runs.push(report);
            if failed {
                break;
            }
        }
        Ok(CycleReport {
            cycle: name.to_owned(),
            runs,
            status,
        })
    }

    fn report(&self, connector: &str, stats: &RunStats) {
        if let Some(progress) = &self.progress {
            progress(connector, stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The Admin API runs engine work on its async runtime: the futures must be `Send`.
    #[allow(
        dead_code,
        clippy::diverging_sub_expression,
        unreachable_code,
        unused_variables
    )]
    fn engine_futures_are_send(engine: &Engine, options: &RunOptions) {
        assert_send(&engine.run("c", RunProfile::FullImport, options));
        assert_send(&engine.run_cycle("c", options));
        assert_send(&engine.start_run("c", RunProfile::FullImport, options));
    }
}
