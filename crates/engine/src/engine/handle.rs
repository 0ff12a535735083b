//! Starting a run and steering it while it goes. [`Engine::start_run`] takes the connector's
//! lease and records the run row, then hands back the run's id at once with the rest of the
//! work as a future ([`RunHandle`]): the Admin API answers with the id while the run goes
//! on. While it goes, every batch commits its running counters into the run row in the same
//! transaction, so any process sharing the database reads live progress, and first reads
//! the run's cancel request: an operator's request (recorded by any process, see
//! `Tx::request_run_cancel`) stops the run at the next batch boundary with the status
//! `cancelled`. Committed batches are kept; a cancelled import stages no deletion and
//! advances no watermark.

use identitymesh_store::CancelRequest;
use std::future::Future;
use std::pin::Pin;

use super::*;

/// The rest of a started run: await it for the report.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<RunReport, EngineError>> + Send>>;

/// A run the engine has started: its row exists under `id`; `join` does the work. Dropping
/// `join` without awaiting it leaves the run recorded as running and its connector leased
/// until the lease expires, so await it (or spawn it).
pub struct RunHandle {
    /// The run's id, readable in the store from now on.
    pub id: i64,
    /// The run's work, ending with its report.
    pub join: RunFuture,
}

impl std::fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunHandle").field("id", &self.id).finish()
    }
}

/// What starting a run recorded, for the work that follows.
struct Started {
    config: ConnectorConfig,
    profile: RunProfile,
    simulate: bool,
    run_id: i64,
    token: i64,
}

impl Outcome {
    /// A run stopped at a batch boundary because `request` asked; `kept` says what stays.
    pub(super) fn cancelled(
        request: &CancelRequest,
        stats: RunStats,
        errors: Vec<ObjectError>,
        kept: &str,
    ) -> Self {
        Outcome {
            status: RunStatus::Cancelled,
            stats,
            errors,
            reason: Some(format!(
                "cancelled by {} (asked at {}); {kept}",
                request.by, request.at
            )),
        }
    }
}

impl Engine {
    /// Starts one profile on one connector: takes the connector's lease, records the run and
    /// returns its id with the work still to do. A connector another engine holds is
    /// [`EngineError::Busy`] (the request is queued), as with [`Engine::run`].
    pub async fn start_run(
        &self,
        connector: &str,
        profile: RunProfile,
        options: &RunOptions,
    ) -> Result<RunHandle, EngineError> {
        let started = self.begin_run(connector, profile, options).await?;
        let id = started.run_id;
        let (engine, options) = (self.clone(), options.clone());
        let join: RunFuture = Box::pin(async move { engine.execute(started, &options).await });
        Ok(RunHandle { id, join })
    }

    async fn begin_run(
        &self,
        connector: &str,
        profile: RunProfile,
        options: &RunOptions,
    ) -> Result<Started, EngineError> {
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
        Ok(Started {
            config,
            profile,
            simulate,
            run_id,
            token: lease.token,
        })
    }

    async fn execute(&self, s: Started, options: &RunOptions) -> Result<RunReport, EngineError> {
        let (config, run_id, token) = (&s.config, s.run_id, s.token);
        let outcome = match s.profile {
            RunProfile::FullImport | RunProfile::DeltaImport => {
                let delta = s.profile == RunProfile::DeltaImport;
                self.import(config, delta, options, run_id, token).await
            }
            RunProfile::FullSync | RunProfile::DeltaSync => {
                let full = s.profile == RunProfile::FullSync;
                self.sync(config, full, s.simulate, run_id, token).await
            }
            RunProfile::Export => {
                self.export(config, options, s.simulate, run_id, token)
                    .await
            }
        };
        let outcome = outcome.unwrap_or_else(|e| Outcome::failed(e.to_string()));
        let connector = config.name.as_str();
        if outcome.status == RunStatus::Cancelled {
            self.audit_cancel(connector, s.profile, run_id, &outcome.stats)
                .await?;
        }
        let report = self
            .finish_run(connector, s.profile, s.simulate, run_id, outcome)
            .await?;
        let (name, holder) = (connector.to_owned(), self.holder.clone());
        self.blocking(move |tx| tx.release_lease(&name, &holder, token))
            .await?;
        tracing::info!(
            run_id,
            connector,
            status = report.status.as_str(),
            "run finished"
        );
        Ok(report)
    }

    /// Records who cancelled the run, when they asked, and what it had done.
    async fn audit_cancel(
        &self,
        connector: &str,
        profile: RunProfile,
        run_id: i64,
        stats: &RunStats,
    ) -> Result<(), EngineError> {
        let request = self
            .blocking(move |tx| tx.run_cancel_request(run_id))
            .await?;
        let (by, at) =
            request.map_or_else(|| (format!("run:{run_id}"), None), |r| (r.by, Some(r.at)));
        let after = serde_json::json!({
            "connector": connector, "profile": profile, "requested_at": at, "stats": stats,
        });
        self.audit("run.cancelled", format!("run:{run_id}"), by, after, run_id)
            .await
    }
}
