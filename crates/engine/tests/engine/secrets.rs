//! C-48: a value of a column declared secret reaches no run error, audit record, report or
//! log line, even from malformed rows and at trace level.
//!
//! This test builds its own multi-thread runtime (2 workers, like the others) so that a
//! trace-level subscriber can be installed on every runtime thread, blocking threads
//! included, without installing a process-wide subscriber that would capture the other
//! tests of this binary.

use identitymesh_domain::run::RunStatus;
use identitymesh_engine::RunReport;
use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::*;

const SECRET: &str = "Tr1cky,Pa$$";

const CONFIG: &str = r#"
[mesh.person]
attributes = [
  { name = "login", unique = true },
  { name = "role" },
  { name = "password", secret = true },
]

[connectors.apps]
type = "csv"
mesh_type = "person"
anchor = "login"
columns = ["login", "role"]
attributes = [{ name = "password", secret = true }]
projection = { delete_when_gone = true }
csv = { path = "apps.csv" }
[[connectors.apps.join]]
mesh_attribute = "login"
value = "login"
[connectors.apps.flows_in]
login = "login"
role = "role"
password = "password"
"#;

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn c48_a_secret_column_never_reaches_errors_audit_reports_or_logs() {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let on_thread = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&on_thread)))
        .build()
        .unwrap();
    let _main_thread = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(on_every_backend(async |env| {
        let reports = secret_runs(env).await;
        assert_no_secret(env, &reports).await;
    }));
    drop(runtime);

    let logs = String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned();
    assert!(logs.contains("run started"), "the trace capture works");
    assert!(!logs.contains(SECRET), "the secret is in the trace log");
}

/// Imports rows holding the secret (good and malformed ones), syncs them into the mesh, then
/// changes and removes them so every audit path (create, update, delete) runs.
async fn secret_runs(env: &identitymesh_testkit::TestEnv) -> Vec<RunReport> {
    let engine = env.engine(CONFIG);
    let mut reports = Vec::new();
    env.write(
        "apps.csv",
        "login,password,role\njdoe,old-password,Viewer\njroe,other,Viewer\n",
    );
    reports.extend(run_steps(&engine, &[("apps", FullImport), ("apps", FullSync)]).await);
    env.write(
        "apps.csv",
        format!(
            "login,password,role\n\
             jdoe,\"{SECRET}\",Viewer\n\
             jroe,\"{SECRET}\",Viewer,extra\n\
             jfoe,\"{SECRET}\"x,Viewer\n\
             jqoe,{SECRET},Viewer\n"
        ),
    );
    let import = run(&engine, "apps", FullImport).await;
    assert_eq!(import.stats.rejected, 3, "{import:#?}");
    assert_eq!(import.stats.staged_updates, 1, "{import:#?}");
    reports.push(import);
    reports.push(run(&engine, "apps", FullSync).await);
    let jdoe = mesh_where(env, "login", "jdoe").await;
    assert_eq!(
        text(&jdoe, "password").as_deref(),
        Some(SECRET),
        "the secret itself is synced"
    );

    env.write(
        "apps.csv",
        format!("login,password,role\njdoe,\"{SECRET}\",Admin\n"),
    );
    let allow = identitymesh_engine::RunOptions {
        allow_shrink: true,
        ..opts()
    };
    reports.push(run_with(&engine, "apps", FullImport, &allow).await);
    reports.push(run(&engine, "apps", FullSync).await);
    env.write("apps.csv", "login,password,role\n");
    reports.push(run_with(&engine, "apps", FullImport, &allow).await);
    let delete = run(&engine, "apps", FullSync).await;
    assert_eq!(delete.stats.mesh_deletes, 1, "{delete:#?}");
    assert_status(&delete, RunStatus::Completed);
    reports.push(delete);
    reports
}

async fn assert_no_secret(env: &identitymesh_testkit::TestEnv, reports: &[RunReport]) {
    let audit = audit(env).await;
    for action in ["mesh.create", "mesh.update", "mesh.delete", "staged.delete"] {
        assert!(
            audit.iter().any(|a| a.record.action == action),
            "the {action} path ran: {audit:#?}"
        );
    }
    let audit_json = serde_json::to_string(&audit).unwrap();
    assert!(
        audit_json.contains("<redacted>"),
        "secret attributes are redacted, not left out"
    );
    assert!(
        !audit_json.contains(SECRET),
        "the secret is in the audit log"
    );
    let mut rejected = 0;
    for report in reports {
        for rendered in [
            format!("{report:?}"),
            format!("{report:#?}"),
            serde_json::to_string(report).unwrap(),
        ] {
            assert!(
                !rendered.contains(SECRET),
                "the secret is in a report: {rendered}"
            );
        }
        let errors = run_errors(env, report.run_id).await;
        rejected += errors.len();
        assert!(
            !format!("{errors:?}").contains(SECRET),
            "the secret is in a run error: {errors:#?}"
        );
        let record = run_record(env, report.run_id).await;
        assert!(
            !format!("{record:?}").contains(SECRET),
            "the secret is in a run record: {record:#?}"
        );
    }
    assert!(rejected >= 3, "the malformed rows were reported");
}
