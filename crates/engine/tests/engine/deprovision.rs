//! Deprovisioning a person who leaves scope: delete, disable or only disconnect.

use identitymesh_domain::Value;
use identitymesh_domain::export::{AttributeChange, ExportOp, ExportReason, ExportState};
use identitymesh_domain::run::RunStatus;
use identitymesh_domain::staged::Link;

use crate::support::*;

fn config(deprovision: &str) -> String {
    let mut config = format!(
        "{MESH}{HR}{}",
        directory(r#"status == "active""#, deprovision)
    );
    if deprovision == "disable" {
        config.push_str(
            "\n[connectors.directory.provisioning.disable]\naccountStatus = '\"disabled\"'\n",
        );
    }
    config
}

/// Provisions five people, then terminates 1002 in HR and syncs.
async fn terminate_one(
    env: &identitymesh_testkit::TestEnv,
    deprovision: &str,
) -> (identitymesh_engine::Engine, identitymesh_engine::RunReport) {
    env.write("hr.csv", hr_file(5, |_| "active"));
    let engine = env.engine(&config(deprovision));
    provision_directory(&engine).await;
    env.write(
        "hr.csv",
        hr_file(5, |i| if i == 2 { "terminated" } else { "active" }),
    );
    assert_status(&run(&engine, "hr", FullImport).await, RunStatus::Completed);
    let sync = run(&engine, "hr", FullSync).await;
    assert_status(&sync, RunStatus::Completed);
    (engine, sync)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovision_delete_exports_exactly_one_delete() {
    on_every_backend(async |env| {
        let (engine, sync) = terminate_one(env, "delete").await;
        assert_eq!(
            (sync.stats.queued_deletes, sync.stats.queued_updates),
            (1, 0),
            "{sync:#?}"
        );
        let export = run(&engine, "directory", Export).await;
        assert_status(&export, RunStatus::Completed);
        assert_eq!(
            (
                export.stats.exported_adds,
                export.stats.exported_updates,
                export.stats.exported_deletes
            ),
            (0, 0, 1)
        );
        let rows = read_csv_by(&env.path().join("directory.csv"), "employeeId");
        assert_eq!(
            rows.keys().map(String::as_str).collect::<Vec<_>>(),
            ["1001", "1003", "1004", "1005"]
        );
        assert!(staged_by_anchor(env, "directory", "1002").await.is_none());
        assert_eq!(
            run(&engine, "hr", FullSync).await.stats.queued_deletes,
            0,
            "nothing more to delete"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovision_disable_exports_the_disable_flows_as_an_update() {
    on_every_backend(async |env| {
        let (engine, sync) = terminate_one(env, "disable").await;
        assert_eq!(
            (sync.stats.queued_disables, sync.stats.queued_deletes),
            (1, 0),
            "{sync:#?}"
        );
        let queued = exports(env, "directory", &[ExportState::Pending]).await;
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].anchor.as_str(), "1002");
        assert_eq!(queued[0].reason, ExportReason::DeprovisionDisable);
        let expected = vec![AttributeChange::Replace {
            attribute: "accountStatus".into(),
            values: vec![Value::str("disabled")],
        }];
        assert_eq!(
            queued[0].op,
            ExportOp::Update {
                changes: expected,
                new_name: None
            }
        );

        let export = run(&engine, "directory", Export).await;
        assert_eq!(
            (export.stats.exported_updates, export.stats.exported_deletes),
            (1, 0)
        );
        let rows = read_csv_by(&env.path().join("directory.csv"), "employeeId");
        assert_eq!(rows.len(), 5);
        assert_eq!(rows["1002"]["accountStatus"], "disabled");
        assert_eq!(rows["1002"]["displayName"], "Person 2");
        assert_eq!(rows["1001"]["accountStatus"], "");
        assert_eq!(
            run(&engine, "hr", FullSync).await.stats.queued_disables,
            0,
            "disabled once"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovision_disconnect_exports_nothing_and_removes_the_link() {
    on_every_backend(async |env| {
        let before = std::fs::read(env.path().join("directory.csv")).ok();
        assert!(before.is_none());
        let (engine, sync) = terminate_one(env, "disconnect").await;
        let file = std::fs::read(env.path().join("directory.csv")).unwrap();
        assert_eq!(sync.stats.disconnects, 1, "{sync:#?}");
        assert!(all_exports(env, "directory").await.is_empty());
        let object = staged_by_anchor(env, "directory", "1002").await.unwrap();
        assert_eq!(object.link, Link::Unjoined);
        assert!(
            audit_of(env, "disconnect")
                .await
                .iter()
                .any(|a| a.record.target == "directory/anchor 1002")
        );

        let export = run(&engine, "directory", Export).await;
        assert_status(&export, RunStatus::Completed);
        assert_eq!(
            (export.stats.exported_updates, export.stats.exported_deletes),
            (0, 0)
        );
        assert_eq!(
            std::fs::read(env.path().join("directory.csv")).unwrap(),
            file,
            "the target file is untouched"
        );
    })
    .await;
}
