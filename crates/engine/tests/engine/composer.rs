//! C-42: precedence with absent, empty and explicitly cleared values, and equal precedence
//! decided by source change time rather than run order.

use identitymesh_domain::export::ExportState;
use identitymesh_domain::run::RunStatus;

use crate::support::*;

/// HR (precedence 1, clear token `<CLEAR>`) projects; AD (precedence 2) joins by employeeId.
/// Both contribute telephoneNumber and department and carry a change time.
fn config(hr_empty: &str, department_rule: &str) -> String {
    format!(
        r#"{MESH}
[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
precedence = 1
clear_token = "<CLEAR>"
change_time_attribute = "changedAt"
columns = ["employeeId", "telephoneNumber", "department", "changedAt"]
projection = {{ delete_when_gone = true }}
csv = {{ path = "hr.csv" }}
[[connectors.hr.join]]
mesh_attribute = "employeeId"
value = "employeeId"
[connectors.hr.flows_in]
employeeId = "employeeId"
telephoneNumber = {{ expr = "telephoneNumber", empty = "{hr_empty}" }}
department = "department"

[connectors.ad]
type = "csv"
mesh_type = "person"
anchor = "sAMAccountName"
precedence = 2
change_time_attribute = "changedAt"
columns = ["sAMAccountName", "employeeId", "telephoneNumber", "department", "changedAt"]
csv = {{ path = "ad.csv" }}
[[connectors.ad.join]]
mesh_attribute = "employeeId"
value = "employeeId"
[connectors.ad.flows_in]
telephoneNumber = "telephoneNumber"
department = "department"
{department_rule}
{}"#,
        directory("true", "delete")
    )
}

const HR_ABC: &str = "employeeId,telephoneNumber,department,changedAt\n\
1,,Sales,2026-01-01T09:00:00Z\n\
2,,Sales,2026-01-01T09:00:00Z\n\
3,<CLEAR>,Sales,2026-01-01T09:00:00Z\n";

const AD_ABC: &str = "sAMAccountName,employeeId,telephoneNumber,department,changedAt\n\
a,1,+1 555 0100,,2026-01-01T09:30:00Z\n\
b,2,+1 555 0101,,2026-01-01T09:30:00Z\n\
c,3,+1 555 0102,,2026-01-01T09:30:00Z\n";

async fn import_and_sync(engine: &identitymesh_engine::Engine) {
    for report in run_steps(
        engine,
        &[
            ("hr", FullImport),
            ("ad", FullImport),
            ("hr", FullSync),
            ("ad", FullSync),
        ],
    )
    .await
    {
        assert_status(&report, RunStatus::Completed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c42_precedence_no_contribution_and_clear_token() {
    on_every_backend(async |env| {
        env.write("hr.csv", HR_ABC);
        env.write("ad.csv", AD_ABC);
        import_and_sync(&env.engine(&config("no-contribution", ""))).await;

        let a = mesh_where(env, "employeeId", "1").await;
        assert_eq!(
            text(&a, "telephoneNumber").as_deref(),
            Some("+1 555 0100"),
            "A: HR made no contribution"
        );
        assert_eq!(a.provenance["telephoneNumber"].connector, "ad");
        let b = mesh_where(env, "employeeId", "2").await;
        assert_eq!(
            text(&b, "telephoneNumber").as_deref(),
            Some("+1 555 0101"),
            "B: empty means no contribution by default"
        );
        let c = mesh_where(env, "employeeId", "3").await;
        assert_eq!(
            c.attributes.get("telephoneNumber"),
            None,
            "C: the clear token clears, AD's value is not used"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c42_an_empty_cell_clears_when_the_flow_says_so() {
    on_every_backend(async |env| {
        env.write("hr.csv", HR_ABC);
        env.write("ad.csv", AD_ABC);
        import_and_sync(&env.engine(&config("clear", ""))).await;

        let b = mesh_where(env, "employeeId", "2").await;
        assert_eq!(
            b.attributes.get("telephoneNumber"),
            None,
            "B: empty = \"clear\" clears, AD's value is not used"
        );
        let c = mesh_where(env, "employeeId", "3").await;
        assert_eq!(c.attributes.get("telephoneNumber"), None);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c42_equal_precedence_is_decided_by_change_time_not_run_order() {
    on_every_backend(async |env| {
        env.write("hr.csv", "employeeId,telephoneNumber,department,changedAt\n1,,Sales,2026-01-01T09:00:00Z\n");
        env.write("ad.csv", "sAMAccountName,employeeId,telephoneNumber,department,changedAt\njdoe,1,,Marketing,2026-01-01T09:30:00Z\n");
        let engine = env.engine(&config("no-contribution", "\n[composer.person]\ndepartment = { rule = \"latest\" }\n"));

        // day 1: HR, then AD
        run_steps(&engine, &[("hr", FullImport), ("hr", FullSync), ("ad", FullImport), ("ad", FullSync)]).await;
        let day1 = mesh_where(env, "employeeId", "1").await;
        assert_eq!(text(&day1, "department").as_deref(), Some("Marketing"));
        assert_eq!(day1.provenance["department"].connector, "ad");
        assert_status(&run(&engine, "directory", Export).await, RunStatus::Completed);
        assert_eq!(read_csv(&env.path().join("directory.csv"))[0]["department"], "Marketing");

        // day 2: AD, then HR, with nothing changed in either source
        env.clock.advance(86_400);
        for report in run_steps(&engine, &[("ad", FullImport), ("ad", FullSync), ("hr", FullImport), ("hr", FullSync)]).await {
            assert_eq!(report.stats.mesh_updates, 0, "{report:#?}");
        }
        let day2 = mesh_where(env, "employeeId", "1").await;
        assert_eq!(day2.attributes, day1.attributes, "the same mesh value whatever the run order");
        assert!(exports(env, "directory", &[ExportState::Pending]).await.is_empty(), "no alternating exports");
        let export = run(&engine, "directory", Export).await;
        assert_eq!((export.stats.exported_adds, export.stats.exported_updates, export.stats.exported_deletes), (0, 0, 0));
    })
    .await;
}
