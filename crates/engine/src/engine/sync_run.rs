//! Sync runs of the engine: pages of staged objects, one transaction per page, one savepoint
//! per object (crate::sync holds the per-object work); simulations roll back and keep the
//! change set.

use super::*;

/// What a cancelled sync keeps.
const KEPT: &str = "the pages synced before it are kept; the objects it did not reach keep their pending changes for the next sync";
/// What a cancelled simulation keeps.
const SIMULATED: &str =
    "a simulation commits nothing; the change set computed until then is stored";

impl Engine {
    pub(super) async fn sync(
        &self,
        config: &ConnectorConfig,
        full: bool,
        simulate: bool,
        run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let (store, engine_config, name, now) = (
            self.store.clone(),
            self.config(),
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
        let (stats, errors, cancel) = tokio::task::spawn_blocking(move || -> StoreResult<_> {
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
                let mut cancel = None;
                while let Some(last) = sync_page(&mut cx, tx.as_mut(), &name, filter, after)? {
                    after = last;
                    cancel = tx.run_cancel_request(run_id)?;
                    if cancel.is_some() {
                        break;
                    }
                }
                tx.rollback()?;
                let changes = cx.changes.take().unwrap_or_default();
                let mut tx = store.begin()?;
                tx.store_simulation(run_id, &changes)?;
                tx.commit()?;
                return Ok((cx.stats, cx.errors, cancel));
            }
            loop {
                let mut tx = store.begin()?;
                tx.check_fence(name.as_str(), token)?;
                if let Some(request) = tx.run_cancel_request(run_id)? {
                    tx.rollback()?;
                    return Ok((cx.stats, cx.errors, Some(request)));
                }
                let next = sync_page(&mut cx, tx.as_mut(), &name, filter, after)?;
                tx.update_run_stats(run_id, &cx.stats)?;
                tx.commit()?;
                if let Some(p) = &progress {
                    p(name.as_str(), &cx.stats);
                }
                match next {
                    Some(last) => after = last,
                    None => break,
                }
            }
            Ok((cx.stats, cx.errors, None))
        })
        .await??;
        if let Some(request) = cancel {
            let kept = if simulate { SIMULATED } else { KEPT };
            return Ok(Outcome::cancelled(&request, stats, errors, kept));
        }
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
}
