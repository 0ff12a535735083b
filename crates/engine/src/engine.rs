//! The engine handle: runs profiles and cycles on the store with the active configuration.

use chrono::{DateTime, Utc};
use identitymesh_connectors::{
    Connector, ConnectorSecrets, ExportStyle, ImportMode, ImportShape, open_connector,
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
use std::sync::Arc;

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
    config: Arc<Config>,
    base_dir: PathBuf,
    clock: Arc<dyn Clock>,
    holder: String,
    progress: Option<Progress>,
    vault: Option<Arc<Vault>>,
    mesh_object_limit: Option<u64>,
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
            config: Arc::new(config),
            base_dir,
            clock,
            holder,
            progress: None,
            vault: None,
            mesh_object_limit: None,
        }
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
        let secrets = self.resolve_connector_secrets(config).await?;
        Ok(open_connector(config, &self.base_dir, secrets)?)
    }

    /// Reports progress after every batch.
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The configuration it runs.
    pub fn config(&self) -> &Config {
        &self.config
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
        self.config
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

    /// Runs one profile on one connector, holding the connector's lease for the duration.
    pub async fn run(
        &self,
        connector: &str,
        profile: RunProfile,
        options: &RunOptions,
    ) -> Result<RunReport, EngineError> {
        let config = self.connector(connector)?;
        let now = self.clock.now();
        let (name, holder) = (connector.to_owned(), self.holder.clone());
        let lease = self
            .blocking(move |tx| tx.acquire_lease(&name, &holder, now, LEASE_SECONDS))
            .await?;
        let Some(lease) = lease else {
            return Err(self.queue_request(connector, profile, options, now).await?);
        };
        let simulate = options.simulate
            && matches!(
                profile,
                RunProfile::FullSync | RunProfile::DeltaSync | RunProfile::Export
            );
        let (name, actor) = (connector.to_owned(), options.actor.clone());
        let run_id = self
            .blocking(move |tx| tx.start_run(&name, profile, simulate, &actor, now))
            .await?;
        tracing::info!(run_id, connector, profile = %profile, simulate, "run started");
        let outcome = match profile {
            RunProfile::FullImport | RunProfile::DeltaImport => {
                self.import(
                    &config,
                    profile == RunProfile::DeltaImport,
                    options,
                    run_id,
                    lease.token,
                )
                .await
            }
            RunProfile::FullSync | RunProfile::DeltaSync => {
                self.sync(
                    &config,
                    profile == RunProfile::FullSync,
                    simulate,
                    run_id,
                    lease.token,
                )
                .await
            }
            RunProfile::Export => {
                self.export(&config, options, simulate, run_id, lease.token)
                    .await
            }
        };
        let outcome = outcome.unwrap_or_else(|e| Outcome::failed(e.to_string()));
        let report = self
            .finish_run(connector, profile, simulate, run_id, outcome)
            .await?;
        let (name, holder) = (connector.to_owned(), self.holder.clone());
        self.blocking(move |tx| tx.release_lease(&name, &holder, lease.token))
            .await?;
        tracing::info!(
            run_id,
            connector,
            status = report.status.as_str(),
            "run finished"
        );
        Ok(report)
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

    /// Runs a named cycle: its steps in order, stopping at a failed step.
    pub async fn run_cycle(
        &self,
        name: &str,
        options: &RunOptions,
    ) -> Result<CycleReport, EngineError> {
        let steps = self
            .config
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
            let failed = report.status == RunStatus::Failed;
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

    async fn import(
        &self,
        config: &ConnectorConfig,
        delta: bool,
        options: &RunOptions,
        run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let mut connector = match self.open_connector(config).await {
            Ok(c) => c,
            Err(e) => return Ok(Outcome::failed(e.to_string())),
        };
        let kind = if delta {
            WatermarkKind::Delta
        } else {
            WatermarkKind::Full
        };
        let source_id = connector.source_id();
        let (mode, notice) = self.import_mode(config, &source_id, delta).await?;
        let mut stream = match connector.import(mode).await {
            Ok(s) => s,
            Err(e) => {
                return Ok(Outcome::failed(format!(
                    "{e}; nothing was staged or deleted"
                )));
            }
        };
        let shape = stream.shape();
        let mut cx = ImportCx {
            connector: config.name.clone(),
            change_time_attribute: config.change_time_attribute.clone(),
            run_id,
            now: self.clock.now(),
            stats: RunStats::default(),
            errors: Vec::new(),
        };
        loop {
            let batch = match stream.next_batch(IMPORT_BATCH).await {
                Ok(b) => b,
                Err(e) => {
                    let reason = format!("the import stopped: {e}; no deletion staged");
                    return Ok(Outcome {
                        status: RunStatus::Failed,
                        stats: cx.stats,
                        errors: cx.errors,
                        reason: Some(reason),
                    });
                }
            };
            if batch.is_empty() {
                break;
            }
            cx = self.stage(cx, batch, shape, token).await?;
            self.report(config.name.as_str(), &cx.stats);
        }
        let end = stream.finish();
        let (config_owned, allow) = (config.clone(), options.allow_shrink);
        let store = self.store.clone();
        let (cx, verdict) = tokio::task::spawn_blocking(move || -> StoreResult<_> {
            let mut tx = store.begin()?;
            tx.check_fence(config_owned.name.as_str(), token)?;
            let verdict = finish(&mut cx, tx.as_mut(), &config_owned, end, shape, kind, allow)?;
            tx.commit()?;
            Ok((cx, verdict))
        })
        .await??;
        let reason = match (verdict.reason, notice) {
            (Some(r), Some(n)) => Some(format!("{n}; {r}")),
            (r, n) => r.or(n),
        };
        Ok(Outcome {
            status: verdict.status,
            stats: cx.stats,
            errors: cx.errors,
            reason,
        })
    }

    async fn import_mode(
        &self,
        config: &ConnectorConfig,
        source_id: &str,
        delta: bool,
    ) -> Result<(ImportMode, Option<String>), EngineError> {
        if !delta {
            return Ok((ImportMode::Full, None));
        }
        let name = config.name.clone();
        let stored = self
            .blocking(move |tx| tx.watermark(&name, WatermarkKind::Delta))
            .await?;
        match read_watermark(stored.as_deref(), source_id) {
            Ok(w) => Ok((ImportMode::Delta(w), None)),
            Err(problem) => {
                tracing::warn!(connector = %config.name, %problem, "delta import runs as an explicit full import");
                Ok((
                    ImportMode::Full,
                    Some(format!("explicit full import: {problem}")),
                ))
            }
        }
    }

    async fn stage(
        &self,
        mut cx: ImportCx,
        batch: Vec<identitymesh_connectors::ImportRecord>,
        shape: ImportShape,
        token: i64,
    ) -> Result<ImportCx, EngineError> {
        let store = self.store.clone();
        Ok(
            tokio::task::spawn_blocking(move || -> StoreResult<ImportCx> {
                let mut tx = store.begin()?;
                tx.check_fence(cx.connector.as_str(), token)?;
                stage_batch(&mut cx, tx.as_mut(), batch, shape)?;
                tx.commit()?;
                Ok(cx)
            })
            .await??,
        )
    }

    async fn sync(
        &self,
        config: &ConnectorConfig,
        full: bool,
        simulate: bool,
        run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let (store, engine_config, name, now) = (
            self.store.clone(),
            self.config.clone(),
            config.name.clone(),
            self.clock.now(),
        );
        let progress = self.progress.clone();
        let mesh_object_limit = self.mesh_object_limit;
        let filter = if full {
            StagedFilter::All
        } else {
            StagedFilter::Pending
        };
        let (stats, errors) = tokio::task::spawn_blocking(move || -> StoreResult<_> {
            let mesh_limit = match mesh_object_limit {
                Some(allowed) => {
                    let mut tx = store.begin()?;
                    let existing = tx.count_mesh(None)?;
                    tx.rollback()?;
                    Some(MeshLimit { allowed, existing })
                }
                None => None,
            };
            let mut cx = SyncCx {
                config: &engine_config,
                now,
                run_id,
                stats: RunStats::default(),
                errors: Vec::new(),
                changes: simulate.then(Vec::new),
                mesh_limit,
            };
            let mut after = 0;
            if simulate {
                let mut tx = store.begin()?;
                while let Some(last) = sync_page(&mut cx, tx.as_mut(), &name, filter, after)? {
                    after = last;
                }
                tx.rollback()?;
                let changes = cx.changes.take().unwrap_or_default();
                let mut tx = store.begin()?;
                tx.store_simulation(run_id, &changes)?;
                tx.commit()?;
                return Ok((cx.stats, cx.errors));
            }
            loop {
                let mut tx = store.begin()?;
                tx.check_fence(name.as_str(), token)?;
                let next = sync_page(&mut cx, tx.as_mut(), &name, filter, after)?;
                tx.commit()?;
                if let Some(p) = &progress {
                    p(name.as_str(), &cx.stats);
                }
                match next {
                    Some(last) => after = last,
                    None => break,
                }
            }
            Ok((cx.stats, cx.errors))
        })
        .await??;
        let status = if stats.errors > 0 || !errors.is_empty() {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Completed
        };
        Ok(Outcome {
            status,
            stats,
            errors,
            reason: None,
        })
    }

    async fn audit(
        &self,
        action: &str,
        target: String,
        actor: String,
        after: serde_json::Value,
        run_id: i64,
    ) -> Result<(), EngineError> {
        let record = NewAudit {
            actor,
            action: action.to_owned(),
            target,
            before: None,
            after: Some(after),
            run_id: Some(run_id),
        };
        let now = self.clock.now();
        self.blocking(move |tx| tx.append_audit(&record, now).map(|_| ()))
            .await
    }

    async fn export(
        &self,
        config: &ConnectorConfig,
        options: &RunOptions,
        simulate: bool,
        run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let name = config.name.clone();
        let target = format!("connector:{name}");
        if options.reject_held {
            let n = name.clone();
            let rejected = self.blocking(move |tx| tx.reject_held_exports(&n)).await?;
            let anchors: Vec<String> = rejected.iter().map(|i| i.anchor.to_string()).collect();
            self.audit(
                "export.rejected",
                target,
                options.actor.clone(),
                serde_json::json!({ "count": rejected.len(), "anchors": anchors }),
                run_id,
            )
            .await?;
            let reason = format!(
                "{} held exports rejected by {}",
                rejected.len(),
                options.actor
            );
            return Ok(Outcome {
                status: RunStatus::Completed,
                stats: RunStats::default(),
                errors: Vec::new(),
                reason: Some(reason),
            });
        }
        if options.approve_held {
            let n = name.clone();
            let released = self.blocking(move |tx| tx.release_held_exports(&n)).await?;
            self.audit(
                "export.approved",
                target.clone(),
                options.actor.clone(),
                serde_json::json!({ "count": released }),
                run_id,
            )
            .await?;
        } else if let Some(outcome) = self.guard(config, run_id, &target, options).await? {
            return Ok(outcome);
        }
        if simulate {
            let n = name.clone();
            let items = self.blocking(move |tx| {
                let items = tx.export_page(&n, &RUNNABLE, 0, u32::MAX)?;
                let changes: Vec<serde_json::Value> = items.iter().map(|i| serde_json::json!({ "action": "export", "anchor": i.anchor, "op": i.op, "reason": i.reason })).collect();
                tx.store_simulation(run_id, &changes)?;
                Ok(changes.len())
            })
            .await?;
            return Ok(Outcome {
                status: RunStatus::Completed,
                stats: RunStats::default(),
                errors: Vec::new(),
                reason: Some(format!("simulation: {items} exports would be applied")),
            });
        }
        let connector = match self.open_connector(config).await {
            Ok(c) => c,
            Err(e) => return Ok(Outcome::failed(e.to_string())),
        };
        match connector.export_style() {
            ExportStyle::Snapshot => self.export_snapshot(config, connector, run_id, token).await,
            ExportStyle::PerItem => self.export_items(config, connector, token).await,
        }
    }

    async fn guard(
        &self,
        config: &ConnectorConfig,
        run_id: i64,
        target: &str,
        options: &RunOptions,
    ) -> Result<Option<Outcome>, EngineError> {
        let (name, guards) = (config.name.clone(), config.guards.clone());
        let held = self
            .blocking(move |tx| {
                let destructive = tx.count_exports(&name, ExportState::Pending, true)?
                    + tx.count_exports(&name, ExportState::Failed, true)?;
                let population = tx.count_staged(&name, StagedFilter::All)?;
                match check_destructive(&guards, destructive, population) {
                    GuardVerdict::Pass => Ok(None),
                    GuardVerdict::Trip(reason) => {
                        Ok(Some((tx.hold_pending_exports(&name, run_id)?, reason)))
                    }
                }
            })
            .await?;
        let Some((count, reason)) = held else {
            return Ok(None);
        };
        self.audit(
            "export.held",
            target.to_owned(),
            format!("run:{run_id}"),
            serde_json::json!({ "count": count, "reason": reason, "requested_by": options.actor }),
            run_id,
        )
        .await?;
        let stats = RunStats {
            held: count,
            ..RunStats::default()
        };
        let reason = format!(
            "guard tripped, {count} exports held for review: {reason}. Approve with `identitymesh run {} export --approve-held` or discard with `--reject-held`",
            config.name
        );
        Ok(Some(Outcome {
            status: RunStatus::Held,
            stats,
            errors: Vec::new(),
            reason: Some(reason),
        }))
    }

    async fn export_snapshot(
        &self,
        config: &ConnectorConfig,
        mut connector: Box<dyn Connector>,
        _run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let (store, name, now) = (self.store.clone(), config.name.clone(), self.clock.now());
        tokio::task::spawn_blocking(move || -> Result<Outcome, EngineError> {
            let source_id = connector.source_id();
            let current = connector.snapshot_fingerprint()?;
            let mut tx = store.begin()?;
            tx.check_fence(name.as_str(), token)?;
            if let Err(why) = check_drift(tx.as_mut(), &name, &source_id, current.as_deref())? {
                return Ok(Outcome::failed(why));
            }
            let pending = tx.count_exports(&name, ExportState::Pending, false)?
                + tx.count_exports(&name, ExportState::Failed, false)?;
            if pending == 0 {
                return Ok(Outcome {
                    status: RunStatus::Completed,
                    stats: RunStats::default(),
                    errors: Vec::new(),
                    reason: None,
                });
            }
            let mut rows = SnapshotRows {
                tx: tx.as_mut(),
                connector: name.clone(),
                after_id: 0,
                buffer: Default::default(),
                written: HashMap::new(),
                done: false,
            };
            let written = connector.write_snapshot(&mut rows);
            let applied = std::mem::take(&mut rows.written);
            drop(rows);
            tx.rollback()?;
            let written = match written {
                Ok(w) => w,
                Err(e) => {
                    return Ok(Outcome::failed(format!(
                        "the export was not written: {e}; every export stays queued"
                    )));
                }
            };
            let mut stats = RunStats::default();
            let mut after = 0;
            loop {
                let mut tx = store.begin()?;
                tx.check_fence(name.as_str(), token)?;
                let next = apply_written(tx.as_mut(), &name, &applied, after, now, &mut stats)?;
                if next.is_none() {
                    tx.set_watermark(
                        &name,
                        identitymesh_domain::watermark::WatermarkKind::Full,
                        &snapshot_watermark(source_id.clone(), written.fingerprint.clone()),
                        now,
                    )?;
                }
                tx.commit()?;
                match next {
                    Some(last) => after = last,
                    None => break,
                }
            }
            Ok(Outcome {
                status: RunStatus::Completed,
                stats,
                errors: Vec::new(),
                reason: None,
            })
        })
        .await?
    }

    async fn export_items(
        &self,
        config: &ConnectorConfig,
        mut connector: Box<dyn Connector>,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let mut stats = RunStats::default();
        let mut errors = Vec::new();
        let mut after = 0;
        loop {
            let name = config.name.clone();
            let page = self
                .blocking(move |tx| tx.export_page(&name, &RUNNABLE, after, 200))
                .await?;
            let Some(last) = page.last().map(|i| i.id) else {
                break;
            };
            after = last;
            let outcomes = match connector.apply_exports(&page).await {
                Ok(o) => o,
                Err(e) => {
                    return Ok(Outcome {
                        status: RunStatus::Failed,
                        stats,
                        errors,
                        reason: Some(format!(
                            "the export stopped: {e}; unapplied exports stay queued"
                        )),
                    });
                }
            };
            let (name, now) = (config.name.clone(), self.clock.now());
            let (s, e) = self
                .blocking(move |tx| {
                    tx.check_fence(name.as_str(), token)?;
                    let mut stats = RunStats::default();
                    let mut errors = Vec::new();
                    for (item, outcome) in page.iter().zip(outcomes) {
                        record_outcome(tx, item, outcome, now, &mut stats, &mut errors)?;
                    }
                    Ok((stats, errors))
                })
                .await?;
            merge(&mut stats, &s);
            errors.extend(e);
            self.report(config.name.as_str(), &stats);
        }
        let status = if errors.is_empty() {
            RunStatus::Completed
        } else {
            RunStatus::CompletedWithErrors
        };
        Ok(Outcome {
            status,
            stats,
            errors,
            reason: None,
        })
    }
}

fn record_outcome(
    tx: &mut dyn Tx,
    item: &identitymesh_domain::export::ExportItem,
    outcome: identitymesh_domain::export::ExportOutcome,
    now: DateTime<Utc>,
    stats: &mut RunStats,
    errors: &mut Vec<ObjectError>,
) -> Result<(), StoreError> {
    use identitymesh_domain::export::ExportOutcome;
    let object = format!("{}/anchor {}", item.connector, item.anchor);
    match outcome {
        ExportOutcome::Applied { anchor } => {
            if anchor != item.anchor {
                tx.update_staged_anchor(item.staged_id, &anchor)?;
            }
            mark_applied(tx, item, now, stats)
        }
        ExportOutcome::Failed { message } => {
            let dead = item.attempts + 1 >= MAX_ATTEMPTS;
            stats.errors += 1;
            errors.push(ObjectError {
                object,
                message: message.clone(),
            });
            tx.fail_export(item.id, &message, dead, now)
        }
        ExportOutcome::Permanent { message } => {
            stats.errors += 1;
            errors.push(ObjectError {
                object,
                message: message.clone(),
            });
            tx.fail_export(item.id, &message, true, now)
        }
    }
}

fn merge(into: &mut RunStats, from: &RunStats) {
    into.exported_adds += from.exported_adds;
    into.exported_updates += from.exported_updates;
    into.exported_deletes += from.exported_deletes;
    into.errors += from.errors;
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
    }
}
