//! C-17: the deletion guard holds mass deletions, an empty import stages none, and a scope
//! change is shown as queued deletes behind the same guard.

use identitymesh_domain::export::{ExportOp, ExportReason, ExportState};
use identitymesh_domain::run::RunStatus;
use identitymesh_domain::staged::PendingImport;
use identitymesh_engine::RunOptions;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c17_a_mass_deprovisioning_is_held_until_approved_or_rejected() {
    on_every_backend(async |env| {
        let file = env.path().join("directory.csv");
        env.write("hr.csv", hr_file(1200, |_| "active"));
        let engine = env.engine(&hr_directory());
        provision_directory(&engine).await;
        assert_eq!(read_csv(&file).len(), 1200);

        env.write(
            "hr.csv",
            hr_file(1200, |i| if i <= 900 { "terminated" } else { "active" }),
        );
        assert_status(&run(&engine, "hr", FullImport).await, RunStatus::Completed);
        let sync = run(&engine, "hr", FullSync).await;
        assert_eq!(sync.stats.queued_deletes, 900, "{sync:#?}");

        let held = run(&engine, "directory", Export).await;
        assert_status(&held, RunStatus::Held);
        assert_eq!(held.stats.held, 900);
        assert_eq!(
            (
                held.stats.exported_adds,
                held.stats.exported_updates,
                held.stats.exported_deletes
            ),
            (0, 0, 0)
        );
        assert!(
            held.reason
                .as_deref()
                .unwrap_or_default()
                .contains("guard tripped"),
            "{held:#?}"
        );
        assert_eq!(run_record(env, held.run_id).await.status, RunStatus::Held);
        let queue = exports(env, "directory", &[ExportState::Held]).await;
        assert_eq!(queue.len(), 900);
        assert!(queue.iter().all(|e| e.op == ExportOp::Delete
            && e.reason == ExportReason::DeprovisionDelete
            && e.hold_id.is_some()));
        assert_eq!(read_csv(&file).len(), 1200, "nothing was exported");
        let audited = audit_of(env, "export.held").await;
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].record.after.as_ref().unwrap()["count"], 900);

        // rejected: the held deletes are discarded, audited, and the file is untouched
        let reject = RunOptions {
            reject_held: true,
            ..opts()
        };
        let rejected = run_with(&engine, "directory", Export, &reject).await;
        assert_status(&rejected, RunStatus::Completed);
        assert!(all_exports(env, "directory").await.is_empty());
        let audited = audit_of(env, "export.rejected").await;
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].record.actor, "cli:test");
        assert_eq!(audited[0].record.after.as_ref().unwrap()["count"], 900);
        assert_eq!(read_csv(&file).len(), 1200);

        // the next full sync queues them again, the guard holds them again, and approval applies them
        assert_eq!(run(&engine, "hr", FullSync).await.stats.queued_deletes, 900);
        assert_status(&run(&engine, "directory", Export).await, RunStatus::Held);
        let approve = RunOptions {
            approve_held: true,
            ..opts()
        };
        let approved = run_with(&engine, "directory", Export, &approve).await;
        assert_status(&approved, RunStatus::Completed);
        assert_eq!(approved.stats.exported_deletes, 900);
        assert_eq!(audit_of(env, "export.approved").await.len(), 1);
        assert!(all_exports(env, "directory").await.is_empty());
        let rows = read_csv_by(&file, "employeeId");
        assert_eq!(rows.len(), 300);
        assert!(rows.contains_key("1901") && !rows.contains_key("1900"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c17_b_a_header_only_file_is_partial_unless_shrinking_is_allowed() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(10, |_| "active"));
        let engine = env.engine(&hr_directory());
        run_steps(&engine, &[("hr", FullImport), ("hr", FullSync)]).await;
        let mesh_before = mesh_objects(env).await;
        assert_eq!(mesh_before.len(), 10);

        env.write("hr.csv", format!("{HR_HEADER}\n"));
        let partial = run(&engine, "hr", FullImport).await;
        assert_status(&partial, RunStatus::Partial);
        assert_eq!(partial.stats.staged_deletes, 0);
        let reason = partial.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("no deletion staged") && reason.contains("--allow-shrink"),
            "{reason}"
        );
        assert!(
            staged(env, "hr")
                .await
                .iter()
                .all(|s| s.pending != PendingImport::Delete)
        );
        run(&engine, "hr", FullSync).await;
        assert_eq!(
            mesh_objects(env).await,
            mesh_before,
            "the mesh is untouched"
        );

        let allow = RunOptions {
            allow_shrink: true,
            ..opts()
        };
        let accepted = run_with(&engine, "hr", FullImport, &allow).await;
        assert_status(&accepted, RunStatus::Completed);
        assert_eq!(accepted.stats.staged_deletes, 10);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c17_c_a_narrower_scope_shows_leavers_as_queued_deletes_behind_the_guard() {
    on_every_backend(async |env| {
        let mut hr = format!("{HR_HEADER}\n");
        for i in 1..=20 {
            hr.push_str(&hr_row(i, if i <= 5 { "App" } else { "Sales" }, "active"));
            hr.push('\n');
        }
        env.write("hr.csv", hr);
        provision_directory(&env.engine(&hr_directory())).await;
        let file = env.path().join("directory.csv");
        assert_eq!(read_csv(&file).len(), 20);

        let narrower = format!(
            "{MESH}{HR}{}",
            directory(r#"status == "active" and department == "App""#, "delete")
        );
        let engine = env.engine(&narrower);
        let sync = run(&engine, "hr", FullSync).await;
        assert_eq!(sync.stats.queued_deletes, 15, "{sync:#?}");
        let leaving = exports(env, "directory", &[ExportState::Pending]).await;
        assert_eq!(leaving.len(), 15);
        assert!(
            leaving
                .iter()
                .all(|e| e.op == ExportOp::Delete && e.reason == ExportReason::DeprovisionDelete)
        );

        let export = run(&engine, "directory", Export).await;
        assert_status(&export, RunStatus::Held);
        assert_eq!(export.stats.held, 15);
        assert_eq!(
            exports(env, "directory", &[ExportState::Held]).await.len(),
            15
        );
        assert_eq!(read_csv(&file).len(), 20, "nothing left the file");
    })
    .await;
}
