//! Export runs of the engine: held-export decisions, the guard, then the connector applies
//! the queue (snapshot rewrite or per item).

use super::*;

/// What a cancelled export keeps.
const KEPT: &str =
    "the exports applied before it are recorded; the rest stay queued for the next export";

impl Engine {
    pub(super) async fn audit(
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

    pub(super) async fn export(
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
            ExportStyle::PerItem => self.export_items(config, connector, run_id, token).await,
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
        run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let (store, name, now) = (self.store.clone(), config.name.clone(), self.clock.now());
        tokio::task::spawn_blocking(move || -> Result<Outcome, EngineError> {
            let source_id = connector.source_id();
            let current = connector.snapshot_fingerprint()?;
            let mut tx = store.begin()?;
            tx.check_fence(name.as_str(), token)?;
            if let Some(request) = tx.run_cancel_request(run_id)? {
                return Ok(Outcome::cancelled(
                    &request,
                    RunStats::default(),
                    Vec::new(),
                    KEPT,
                ));
            }
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
                tx.update_run_stats(run_id, &stats)?;
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
        run_id: i64,
        token: i64,
    ) -> Result<Outcome, EngineError> {
        let mut stats = RunStats::default();
        let mut errors = Vec::new();
        let mut after = 0;
        loop {
            let name = config.name.clone();
            let (page, cancel) = self
                .blocking(move |tx| {
                    let cancel = tx.run_cancel_request(run_id)?;
                    Ok((tx.export_page(&name, &RUNNABLE, after, 200)?, cancel))
                })
                .await?;
            if let Some(request) = cancel {
                return Ok(Outcome::cancelled(&request, stats, errors, KEPT));
            }
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
            let (name, now, so_far) = (config.name.clone(), self.clock.now(), stats.clone());
            let (s, e) = self
                .blocking(move |tx| {
                    tx.check_fence(name.as_str(), token)?;
                    let mut stats = RunStats::default();
                    let mut errors = Vec::new();
                    for (item, outcome) in page.iter().zip(outcomes) {
                        record_outcome(tx, item, outcome, now, &mut stats, &mut errors)?;
                    }
                    merge(&mut stats, &so_far);
                    tx.update_run_stats(run_id, &stats)?;
                    Ok((stats, errors))
                })
                .await?;
            stats = s;
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
