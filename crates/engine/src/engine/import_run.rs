//! Import runs of the engine: open the connector, stream its batches into the connector
//! space, and end with the completeness verdict (crate::import holds the staging rules).

use identitymesh_store::CancelRequest;

use super::*;

/// What a cancelled import keeps and what it leaves alone.
const KEPT: &str = "the batches staged before it stay staged; no deletion was staged and the watermark was not advanced, so the next import reads them again";

impl Engine {
    pub(super) async fn import(
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
            let (staged, cancel) = self.stage(cx, batch, shape, token).await?;
            cx = staged;
            if let Some(request) = cancel {
                return Ok(Outcome::cancelled(&request, cx.stats, cx.errors, KEPT));
            }
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

    /// Stages one batch and commits it with the run's counters, unless the run was asked to
    /// cancel: then nothing of this batch is staged and the request comes back.
    async fn stage(
        &self,
        mut cx: ImportCx,
        batch: Vec<identitymesh_connectors::ImportRecord>,
        shape: ImportShape,
        token: i64,
    ) -> Result<(ImportCx, Option<CancelRequest>), EngineError> {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || -> StoreResult<_> {
            let mut tx = store.begin()?;
            tx.check_fence(cx.connector.as_str(), token)?;
            if let Some(request) = tx.run_cancel_request(cx.run_id)? {
                tx.rollback()?;
                return Ok((cx, Some(request)));
            }
            stage_batch(&mut cx, tx.as_mut(), batch, shape)?;
            tx.update_run_stats(cx.run_id, &cx.stats)?;
            tx.commit()?;
            Ok((cx, None))
        })
        .await??)
    }
}
