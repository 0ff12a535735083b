//! Every run profile against a real store and real files, and simulations that store their
//! change set and commit nothing else.

use identitymesh_domain::export::{ExportOp, ExportState};
use identitymesh_domain::run::RunStatus;
use identitymesh_engine::RunOptions;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_profile_moves_a_change_from_source_to_target() {
    on_every_backend(async |env| {
        let file = env.path().join("directory.csv");
        env.write("hr.csv", hr_file(5, |_| "active"));
        let engine = env.engine(&hr_directory());

        let import = run(&engine, "hr", FullImport).await;
        assert_status(&import, RunStatus::Completed);
        assert_eq!((import.stats.read, import.stats.staged_adds), (5, 5));
        let sync = run(&engine, "hr", FullSync).await;
        assert_status(&sync, RunStatus::Completed);
        assert_eq!((sync.stats.synced, sync.stats.projected, sync.stats.queued_adds), (5, 5, 5));
        let export = run(&engine, "directory", Export).await;
        assert_status(&export, RunStatus::Completed);
        assert_eq!(export.stats.exported_adds, 5);
        assert_eq!(read_csv(&file).len(), 5);

        // the confirming import and a delta sync find nothing to do
        assert_status(&run(&engine, "directory", FullImport).await, RunStatus::Completed);
        assert_status(&run(&engine, "directory", DeltaSync).await, RunStatus::Completed);
        assert!(all_exports(env, "directory").await.is_empty(), "{:#?}", all_exports(env, "directory").await);

        // one changed row travels by delta import, delta sync and export
        env.write("hr.csv", hr_file(5, |_| "active").replace("1002,Person 2,person2@example.test,Sales", "1002,Person 2,person2@example.test,Finance"));
        let delta = run(&engine, "hr", DeltaImport).await;
        assert_status(&delta, RunStatus::Completed);
        assert_eq!((delta.stats.staged_updates, delta.stats.unchanged), (1, 4));
        let delta_sync = run(&engine, "hr", DeltaSync).await;
        assert_status(&delta_sync, RunStatus::Completed);
        assert_eq!((delta_sync.stats.synced, delta_sync.stats.mesh_updates, delta_sync.stats.queued_updates), (1, 1, 1));
        let queued = exports(env, "directory", &[ExportState::Pending]).await;
        assert_eq!(queued.len(), 1);
        assert!(matches!(&queued[0].op, ExportOp::Update { changes, .. } if changes.len() == 1 && changes[0].attribute() == "department"), "{queued:#?}");
        let export = run(&engine, "directory", Export).await;
        assert_eq!((export.stats.exported_adds, export.stats.exported_updates), (0, 1));
        let rows = read_csv_by(&file, "employeeId");
        assert_eq!(rows["1002"]["department"], "Finance");
        assert_eq!(rows["1001"]["department"], "Sales");

        // a full sync now changes nothing
        let full = run(&engine, "hr", FullSync).await;
        assert_eq!((full.stats.synced, full.stats.mesh_updates, full.stats.queued_updates), (5, 0, 0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_full_sync_stores_a_change_set_and_commits_nothing_else() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(5, |_| "active"));
        let engine = env.engine(&hr_directory());
        run(&engine, "hr", FullImport).await;

        let simulate = RunOptions {
            simulate: true,
            ..opts()
        };
        let report = run_with(&engine, "hr", FullSync, &simulate).await;
        assert_status(&report, RunStatus::Completed);
        assert!(report.simulation);
        assert_eq!((report.stats.projected, report.stats.queued_adds), (5, 5));
        assert!(run_record(env, report.run_id).await.simulation);
        let run_id = report.run_id;
        let changes = env
            .store
            .run_blocking(move |tx| tx.simulation(run_id))
            .await
            .unwrap();
        let count = |action: &str| changes.iter().filter(|c| c["action"] == action).count();
        assert_eq!(
            (count("mesh.create"), count("export.queue")),
            (5, 5),
            "{changes:#?}"
        );

        assert_eq!(mesh_count(env).await, 0, "no mesh object was committed");
        assert!(
            all_exports(env, "directory").await.is_empty(),
            "no export was queued"
        );
        assert!(audit(env).await.is_empty(), "no audit record was committed");
        let real = run(&engine, "hr", FullSync).await;
        assert_eq!(
            real.stats.projected, 5,
            "the pending changes are still there"
        );

        // a simulated export previews the queue and writes nothing
        let preview = run_with(&engine, "directory", Export, &simulate).await;
        assert_status(&preview, RunStatus::Completed);
        let run_id = preview.run_id;
        let changes = env
            .store
            .run_blocking(move |tx| tx.simulation(run_id))
            .await
            .unwrap();
        assert_eq!(changes.len(), 5, "{changes:#?}");
        assert!(!env.path().join("directory.csv").exists());
        assert_eq!(
            exports(env, "directory", &[ExportState::Pending])
                .await
                .len(),
            5
        );
    })
    .await;
}
