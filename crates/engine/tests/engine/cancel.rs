//! Live progress and cancel: every batch commits the run's counters into its row while it
//! runs, and an operator's cancel request (recorded in the store, as any Admin API instance
//! would) stops a full import at the next batch boundary — status `cancelled`, the staged
//! batches kept, nothing deleted, the watermark not advanced, the actor audited — after
//! which a full import completes normally. The cancel is made deterministic by the progress
//! callback, which the engine calls after each committed batch (1,000 rows): no sleeping.

use identitymesh_domain::run::{RunStats, RunStatus};
use identitymesh_domain::staged::PendingImport;
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_engine::Engine;
use identitymesh_store::{CancelOutcome, RunQuery, Store};
use identitymesh_testkit::TestEnv;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::*;

/// What the progress callback saw and does.
#[derive(Default)]
struct Observer {
    /// Request a cancel of the running run at the next progress report.
    cancel_next: AtomicBool,
    /// The `stats` column of the running run, read from the store at each report.
    stored: Mutex<Vec<RunStats>>,
}

/// The running run of `connector` (the one whose batch was just committed).
fn running_run(store: &Store, connector: &str) -> i64 {
    let mut tx = store.begin().unwrap();
    let query = RunQuery {
        connector: Some(connector.into()),
        status: Some(RunStatus::Running),
        limit: 2,
        ..RunQuery::default()
    };
    let runs = tx.runs(&query).unwrap();
    assert_eq!(runs.len(), 1, "one running run of {connector}");
    runs[0].id
}

/// An engine whose progress callback reads the run row and, when armed, asks to cancel.
fn observed_engine(env: &TestEnv, observer: &Arc<Observer>) -> Engine {
    let (store, observer) = (env.store.clone(), observer.clone());
    let at = now(env);
    env.engine(&hr_directory())
        .with_progress(Arc::new(move |connector: &str, _: &RunStats| {
            // the callback runs on the engine's async task: leave the runtime for the store
            tokio::task::block_in_place(|| {
                let id = running_run(&store, connector);
                let mut tx = store.begin().unwrap();
                let row = tx.run(id).unwrap().unwrap();
                assert_eq!(row.status, RunStatus::Running, "running until the end");
                observer.stored.lock().unwrap().push(row.stats);
                if observer.cancel_next.swap(false, Ordering::SeqCst) {
                    let asked = tx.request_run_cancel(id, "user:otto", at).unwrap();
                    assert_eq!(asked, CancelOutcome::Requested);
                }
                tx.commit().unwrap();
            });
        }))
}

fn pending_deletes(staged: &[identitymesh_domain::staged::StagedObject]) -> usize {
    staged
        .iter()
        .filter(|s| s.pending == PendingImport::Delete)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_full_import_keeps_its_batches_deletes_nothing_and_a_later_one_completes() {
    on_every_backend(async |env| {
        let observer = Arc::new(Observer::default());
        let engine = observed_engine(env, &observer);
        env.write("hr.csv", hr_file(2500, |_| "active"));
        let first = run(&engine, "hr", FullImport).await;
        assert_status(&first, RunStatus::Completed);
        let reads: Vec<u64> = observer
            .stored
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.read)
            .collect();
        assert_eq!(
            reads,
            vec![1000, 2000, 2500],
            "live counters in the row at each batch"
        );
        let full_mark = watermark(env, "hr", WatermarkKind::Full).await;

        // the source now lacks the last 400 people: a complete read would stage their deletion
        env.write("hr.csv", hr_file(2100, |_| "active"));
        observer.stored.lock().unwrap().clear();
        observer.cancel_next.store(true, Ordering::SeqCst);
        let cancelled = run(&engine, "hr", FullImport).await;
        assert_status(&cancelled, RunStatus::Cancelled);
        assert_eq!(
            cancelled.stats.read, 1000,
            "stopped at the first batch boundary"
        );
        assert_eq!(cancelled.stats.staged_deletes, 0);
        let reason = cancelled.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("cancelled by user:otto") && reason.contains("no deletion"),
            "{reason}"
        );
        let staged_now = staged(env, "hr").await;
        assert_eq!(staged_now.len(), 2500, "nothing removed");
        assert_eq!(pending_deletes(&staged_now), 0, "no deletion staged");
        assert_eq!(
            watermark(env, "hr", WatermarkKind::Full).await,
            full_mark,
            "the watermark is not advanced"
        );
        let record = run_record(env, cancelled.run_id).await;
        assert_eq!(record.status, RunStatus::Cancelled);
        assert_eq!(record.stats.read, 1000);
        assert_eq!(record.cancel_requested_by.as_deref(), Some("user:otto"));
        assert!(record.ended_at.is_some());
        let audits = audit_of(env, "run.cancelled").await;
        assert_eq!(audits.len(), 1, "{audits:#?}");
        assert_eq!(audits[0].record.actor, "user:otto");
        assert_eq!(audits[0].record.target, format!("run:{}", cancelled.run_id));
        assert_eq!(audits[0].record.run_id, Some(cancelled.run_id));

        // the request is not sticky: the next full import reads everything and completes
        let again = run(&engine, "hr", FullImport).await;
        assert_status(&again, RunStatus::Completed);
        assert_eq!(again.stats.read, 2100);
        assert_eq!(
            again.stats.staged_deletes, 400,
            "a complete read stages the leavers"
        );
        assert_ne!(watermark(env, "hr", WatermarkKind::Full).await, full_mark);
        let record = run_record(env, again.run_id).await;
        assert_eq!(record.cancel_requested_at, None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_cancelled_before_its_first_page_syncs_nothing_and_the_next_one_runs() {
    on_every_backend(async |env| {
        let observer = Arc::new(Observer::default());
        let engine = observed_engine(env, &observer);
        env.write("hr.csv", hr_file(10, |_| "active"));
        assert_status(&run(&engine, "hr", FullImport).await, RunStatus::Completed);
        // a cancel asked before the first page: the sync stops before syncing anything
        let handle = engine.start_run("hr", FullSync, &opts()).await.unwrap();
        let asked = env
            .store
            .run_blocking(move |tx| {
                tx.request_run_cancel(handle.id, "user:otto", chrono::DateTime::UNIX_EPOCH)
            })
            .await
            .unwrap();
        assert_eq!(asked, CancelOutcome::Requested);
        let report = handle.join.await.unwrap();
        assert_status(&report, RunStatus::Cancelled);
        assert_eq!(report.stats.synced, 0);
        assert_eq!(mesh_count(env).await, 0);
        let asked_again = env
            .store
            .run_blocking(move |tx| {
                tx.request_run_cancel(report.run_id, "user:ada", chrono::DateTime::UNIX_EPOCH)
            })
            .await
            .unwrap();
        assert_eq!(asked_again, CancelOutcome::NotRunning(RunStatus::Cancelled));
        // the next sync is not affected
        let report = run(&engine, "hr", FullSync).await;
        assert_status(&report, RunStatus::Completed);
        assert_eq!(mesh_count(env).await, 10);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_export_writes_nothing_and_leaves_every_export_queued() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(5, |_| "active"));
        let engine = env.engine(&hr_directory());
        run_steps(&engine, &[("hr", FullImport), ("hr", FullSync)]).await;
        let handle = engine
            .start_run("directory", Export, &opts())
            .await
            .unwrap();
        let id = handle.id;
        let asked = env
            .store
            .run_blocking(move |tx| {
                tx.request_run_cancel(id, "user:otto", chrono::DateTime::UNIX_EPOCH)
            })
            .await
            .unwrap();
        assert_eq!(asked, CancelOutcome::Requested);
        let report = handle.join.await.unwrap();
        assert_status(&report, RunStatus::Cancelled);
        assert!(
            !env.path().join("directory.csv").exists(),
            "nothing written"
        );
        assert_eq!(
            all_exports(env, "directory").await.len(),
            5,
            "every export stays queued"
        );
        assert_status(
            &run(&engine, "directory", Export).await,
            RunStatus::Completed,
        );
        assert_eq!(read_csv(&env.path().join("directory.csv")).len(), 5);
    })
    .await;
}
