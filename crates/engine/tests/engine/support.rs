//! Helpers shared by the engine tests: running a test on every backend, running profiles,
//! reading the store and the files a CSV target writes, and the configurations and CSV
//! files most tests start from.

use identitymesh_connectors::csv::{CsvFormat, CsvReader};
use identitymesh_domain::audit::AuditRecord;
use identitymesh_domain::export::{ExportItem, ExportState};
use identitymesh_domain::mesh::MeshObject;
use identitymesh_domain::run::{ObjectError, RunProfile, RunRecord};
use identitymesh_domain::staged::StagedObject;
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_domain::{Anchor, ConnectorName};
use identitymesh_engine::{Engine, RunOptions, RunReport};
use identitymesh_store::{AuditFilter, StagedFilter};
use identitymesh_testkit::{TestEnv, backends};
use std::collections::BTreeMap;
use std::path::Path;

pub use identitymesh_domain::run::RunProfile::{
    DeltaImport, DeltaSync, Export, FullImport, FullSync,
};

/// Runs `test` once per backend, each time on a fresh environment.
pub async fn on_every_backend(test: impl AsyncFn(&TestEnv)) {
    for backend in backends() {
        eprintln!("--- backend {backend:?}");
        let env = TestEnv::new(backend).await;
        test(&env).await;
        env.cleanup().await;
    }
}

/// A connector name.
pub fn cn(name: &str) -> ConnectorName {
    ConnectorName::parse(name).unwrap()
}

/// The environment's clock time.
pub fn now(env: &TestEnv) -> chrono::DateTime<chrono::Utc> {
    use identitymesh_engine::Clock;
    env.clock.now()
}

/// Run options of an operator called `test`.
pub fn opts() -> RunOptions {
    RunOptions {
        actor: "cli:test".into(),
        ..RunOptions::default()
    }
}

/// Runs one profile with default options; an engine error fails the test.
pub async fn run(engine: &Engine, connector: &str, profile: RunProfile) -> RunReport {
    run_with(engine, connector, profile, &opts()).await
}

/// Runs one profile with the given options; an engine error fails the test.
pub async fn run_with(
    engine: &Engine,
    connector: &str,
    profile: RunProfile,
    options: &RunOptions,
) -> RunReport {
    engine
        .run(connector, profile, options)
        .await
        .unwrap_or_else(|e| panic!("{connector} {profile}: {e}"))
}

/// Runs the steps in order and returns their reports.
pub async fn run_steps(engine: &Engine, steps: &[(&str, RunProfile)]) -> Vec<RunReport> {
    let mut out = Vec::new();
    for (connector, profile) in steps {
        out.push(run(engine, connector, *profile).await);
    }
    out
}

/// Every mesh object, in id order.
pub async fn mesh_objects(env: &TestEnv) -> Vec<MeshObject> {
    env.store
        .run_blocking(|tx| tx.mesh_page(None, 0, 100_000))
        .await
        .unwrap()
}

/// How many mesh objects exist.
pub async fn mesh_count(env: &TestEnv) -> u64 {
    env.store
        .run_blocking(|tx| tx.count_mesh(None))
        .await
        .unwrap()
}

/// The mesh object whose `attribute` has the text `value`.
pub async fn mesh_where(env: &TestEnv, attribute: &str, value: &str) -> MeshObject {
    let all = mesh_objects(env).await;
    all.into_iter()
        .find(|m| text(m, attribute).as_deref() == Some(value))
        .unwrap_or_else(|| panic!("no mesh object with {attribute} = {value}"))
}

/// The first value of a mesh attribute as text.
pub fn text(mesh: &MeshObject, attribute: &str) -> Option<String> {
    mesh.attributes.first_text(attribute)
}

/// Every staged object of a connector, in id order.
pub async fn staged(env: &TestEnv, connector: &str) -> Vec<StagedObject> {
    let name = cn(connector);
    env.store
        .run_blocking(move |tx| tx.staged_page(&name, StagedFilter::All, 0, 100_000))
        .await
        .unwrap()
}

/// One staged object by anchor.
pub async fn staged_by_anchor(
    env: &TestEnv,
    connector: &str,
    anchor: &str,
) -> Option<StagedObject> {
    let (name, anchor) = (cn(connector), Anchor::parse(anchor).unwrap());
    env.store
        .run_blocking(move |tx| tx.staged_by_anchor(&name, &anchor))
        .await
        .unwrap()
}

/// A connector's exports in the given states, in queue order.
pub async fn exports(env: &TestEnv, connector: &str, states: &[ExportState]) -> Vec<ExportItem> {
    let (name, states) = (cn(connector), states.to_vec());
    env.store
        .run_blocking(move |tx| tx.export_page(&name, &states, 0, 100_000))
        .await
        .unwrap()
}

/// Every export of a connector, whatever its state.
pub async fn all_exports(env: &TestEnv, connector: &str) -> Vec<ExportItem> {
    exports(
        env,
        connector,
        &[
            ExportState::Pending,
            ExportState::Held,
            ExportState::Failed,
            ExportState::DeadLetter,
        ],
    )
    .await
}

/// Every audit record, newest first.
pub async fn audit(env: &TestEnv) -> Vec<AuditRecord> {
    env.store
        .run_blocking(|tx| {
            tx.audit(&AuditFilter {
                limit: 100_000,
                ..AuditFilter::default()
            })
        })
        .await
        .unwrap()
}

/// The audit records of one action.
pub async fn audit_of(env: &TestEnv, action: &str) -> Vec<AuditRecord> {
    audit(env)
        .await
        .into_iter()
        .filter(|a| a.record.action == action)
        .collect()
}

/// Every stored error of a run.
pub async fn run_errors(env: &TestEnv, run_id: i64) -> Vec<ObjectError> {
    env.store
        .run_blocking(move |tx| tx.run_errors(run_id, 100_000))
        .await
        .unwrap()
}

/// The stored run record.
pub async fn run_record(env: &TestEnv, run_id: i64) -> RunRecord {
    env.store
        .run_blocking(move |tx| tx.run(run_id))
        .await
        .unwrap()
        .unwrap()
}

/// The stored watermark text of a connector.
pub async fn watermark(env: &TestEnv, connector: &str, kind: WatermarkKind) -> Option<String> {
    let name = cn(connector);
    env.store
        .run_blocking(move |tx| tx.watermark(&name, kind))
        .await
        .unwrap()
}

/// The rows of a CSV file as column → value maps (via the connector's own strict reader).
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = CsvReader::open(path, &CsvFormat::default()).unwrap();
    let headers = reader.headers().to_vec();
    let mut rows = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = record.unwrap();
        rows.push(headers.iter().cloned().zip(record.fields).collect());
    }
    rows
}

/// The rows of a CSV file keyed by one column.
pub fn read_csv_by(path: &Path, key: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    read_csv(path)
        .into_iter()
        .map(|row| (row[key].clone(), row))
        .collect()
}

/// Asserts that a report has the status, printing the report otherwise.
#[track_caller]
pub fn assert_status(report: &RunReport, status: identitymesh_domain::run::RunStatus) {
    assert_eq!(
        report.status, status,
        "{} {}: {report:#?}",
        report.connector, report.profile
    );
}

// ---------------------------------------------------------------- configurations

/// The mesh person type used by most tests.
pub const MESH: &str = r#"
[mesh.person]
attributes = [
  { name = "employeeId", unique = true },
  { name = "login", unique = true },
  { name = "displayName", case_sensitive = true },
  { name = "mail", email = true },
  { name = "department" },
  { name = "status" },
  { name = "telephoneNumber" },
  { name = "title" },
]
"#;

/// The HR source: `employeeId,displayName,mail,department,status` in `hr.csv`, projecting one
/// person per row, deleting it when the row disappears.
pub const HR: &str = r#"
[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
precedence = 1
columns = ["employeeId", "displayName", "mail", "department", "status"]
projection = { delete_when_gone = true }

[connectors.hr.csv]
path = "hr.csv"

[[connectors.hr.join]]
mesh_attribute = "employeeId"
value = "trim(employeeId)"

[connectors.hr.flows_in]
employeeId = "trim(employeeId)"
displayName = "displayName"
mail = "trim(mail)"
department = "department"
status = "lower(trim(status))"
"#;

/// The HR header line.
pub const HR_HEADER: &str = "employeeId,displayName,mail,department,status";

/// A directory target file (`directory.csv`, created by the first export) provisioned with
/// every person in `scope`, deprovisioned with `deprovision`.
pub fn directory(scope: &str, deprovision: &str) -> String {
    format!(
        r#"
[connectors.directory]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
columns = ["employeeId", "displayName", "mail", "department", "accountStatus"]

[connectors.directory.csv]
path = "directory.csv"
missing_file = "empty"

[connectors.directory.provisioning]
scope = '{scope}'
anchor = "employeeId"
deprovision = "{deprovision}"

[connectors.directory.flows_out]
employeeId = "employeeId"
displayName = "displayName"
mail = "mail"
department = "department"
"#
    )
}

/// MESH + HR + a directory provisioning every active person, deleting leavers.
pub fn hr_directory() -> String {
    format!("{MESH}{HR}{}", directory(r#"status == "active""#, "delete"))
}

/// One HR row for person `i` (employee id 1000 + i).
pub fn hr_row(i: u32, department: &str, status: &str) -> String {
    format!(
        "{},Person {i},person{i}@example.test,{department},{status}",
        1000 + i
    )
}

/// An HR file of people `1..=n`; `status(i)` gives each one's status.
pub fn hr_file(n: u32, status: impl Fn(u32) -> &'static str) -> String {
    let mut out = String::from(HR_HEADER);
    out.push('\n');
    for i in 1..=n {
        out.push_str(&hr_row(i, "Sales", status(i)));
        out.push('\n');
    }
    out
}

/// Imports and syncs HR, then exports the directory: the state after a first cycle.
pub async fn provision_directory(engine: &Engine) {
    for report in run_steps(
        engine,
        &[("hr", FullImport), ("hr", FullSync), ("directory", Export)],
    )
    .await
    {
        assert_status(&report, identitymesh_domain::run::RunStatus::Completed);
    }
}
