//! A relay end to end, as two hosts would run it: a license for one relay agent installed
//! (`relay enroll-token` is refused without one), `relay enroll-token` on the main host,
//! `serve` (engine, Admin API and hub) and `relay run` as real child processes, an HR file
//! that only the relay's data directory holds, imported through the hub, synced, and
//! exported to a local target file; then the relay restarted on its key alone, and relays
//! with an unknown or used token refused for good.

use serde_json::Value;
use std::time::Duration;

use crate::csv::Table;
use crate::helpers::DataDir;
use crate::license::{ISSUERS_ENV, relay_license, trusted};
use crate::live::{Api, Child, start_serve};

const PASSWORD: &str = "correct horse battery";
const PERSONS: usize = 500;

/// HR is hosted by the relay `branch` (its `path` resolves in the relay's data directory);
/// the target file is local to the main host.
const CONFIG: &str = r#"
[mesh.person]
attributes = [
  { name = "employeeId", unique = true },
  { name = "displayName" },
  { name = "department" },
]

[connectors.hr]
type = "csv"
relay = "branch"
mesh_type = "person"
anchor = "EmpID"
columns = ["EmpID", "Name", "Department"]
projection = {}
csv = { path = "hr.csv" }
join = [{ mesh_attribute = "employeeId", value = "trim(EmpID)" }]
flows_in = { employeeId = "trim(EmpID)", displayName = "collapse_spaces(Name)", department = "trim(Department)" }

[connectors.directory]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
columns = ["employeeId", "displayName", "department"]
csv = { path = "directory.csv", missing_file = "empty" }
provisioning = { anchor = "employeeId" }
flows_out = { employeeId = "employeeId", displayName = "displayName", department = "department" }
"#;

fn employee_id(i: usize) -> String {
    (10_000 + i).to_string()
}

/// The HR export: padded values the flows trim.
fn hr_csv() -> String {
    let mut text = String::from("EmpID,Name,Department\n");
    for i in 1..=PERSONS {
        text += &format!(" {} ,Person  {i},Dept {} \n", employee_id(i), i % 7);
    }
    text
}

#[track_caller]
fn stat(run: &Value, key: &str) -> u64 {
    run["stats"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("no statistic {key} in {run}"))
}

#[track_caller]
fn assert_completed(run: &Value) {
    assert_eq!(run["status"], "completed", "{run}");
}

/// `relay run` against `hub` with the relay's data directory `dir`, and `extra` arguments.
fn relay_args(hub: &str, dir: &DataDir, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--log", "info", "relay", "run", "--hub", hub, "--data-dir"];
    args.push(dir.path().to_str().unwrap());
    args.extend_from_slice(extra);
    args.into_iter().map(str::to_owned).collect()
}

/// Without a license (the community edition allows no relay), `relay enroll-token` is refused
/// naming the limit; then a license for one relay agent is installed. The environment that
/// trusts its (test) issuer, for every later command on the main host.
fn install_license(main: &DataDir) -> [(&'static str, String); 1] {
    let refused = main.run(&["relay", "enroll-token", "branch"]);
    refused.expect_code(1);
    let message = &refused.stderr;
    assert!(
        message.contains("relay_agents") && message.contains("community"),
        "{message}"
    );
    assert!(refused.stdout.is_empty(), "no token: {}", refused.stdout);
    let env = [(ISSUERS_ENV, trusted())];
    let file = relay_license(main, 1).display().to_string();
    let installed = main.run_with(&["license", "install", &file], None, &vars(&env));
    installed.expect_code(0);
    env
}

fn vars<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `relay enroll-token branch`: the token's value alone on stdout, the next step on stderr,
/// the API's checks (here: the hours, and the license's one relay agent taken by the token).
fn enroll_token(main: &DataDir, env: &[(&'static str, String)]) -> String {
    let env = vars(env);
    let created = main.run_with(&["relay", "enroll-token", "branch"], None, &env);
    created.expect_code(0);
    let token = created.stdout.trim().to_owned();
    assert_eq!(created.stdout, format!("{token}\n"), "one line on stdout");
    assert!(token.starts_with("imr_") && token.len() > 20, "{token}");
    let hint = &created.stderr;
    assert!(hint.contains("relay run --hub"), "{hint}");
    assert!(!hint.contains(&token), "the value is shown once: {hint}");
    let bad = main.run_with(
        &["relay", "enroll-token", "branch", "--hours", "0"],
        None,
        &env,
    );
    bad.expect_code(1);
    let message = &bad.stderr;
    assert!(message.contains("hours must be 1 to 168"), "{message}");
    let over = main.run_with(&["relay", "enroll-token", "branch-2"], None, &env);
    over.expect_code(1);
    let message = &over.stderr;
    assert!(
        message.contains("allows 1 relay_agents, this needs 2"),
        "{message}"
    );
    token
}

/// The token as the API lists it: created by the command line (and audited), used by the relay.
async fn assert_token_used(api: &Api, relay_id: &Value) {
    let tokens = api.get("/api/v1/relays/enrollment-tokens").await;
    let issued = &tokens["items"][0];
    assert_eq!(issued["name"], "branch", "{tokens}");
    let creator = issued["created_by"].as_str().unwrap();
    assert!(creator.starts_with("cli:"), "{tokens}");
    assert_eq!(&issued["relay_id"], relay_id, "{tokens}");
    let audit = api.get("/api/v1/audit?limit=500").await;
    let audited =
        audit["items"].as_array().unwrap().iter().any(|a| {
            a["action"] == "relay.enrollment_token" && a["actor"].as_str() == Some(creator)
        });
    assert!(audited, "no audit record of the token: {audit}");
}

/// The exported target file: one row per person, values trimmed by the flows.
fn assert_target(path: &std::path::Path) {
    let target = Table::read(path);
    assert_eq!(target.header, ["employeeId", "displayName", "department"]);
    assert_eq!(target.rows.len(), PERSONS);
    let mut ids = target.column("employeeId");
    ids.sort();
    let expected: Vec<String> = (1..=PERSONS).map(employee_id).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        target.row_where("employeeId", &employee_id(42)),
        [employee_id(42), "Person 42".into(), "Dept 0".into()]
    );
}

#[tokio::test]
async fn a_relay_enrolled_with_a_cli_token_carries_an_import_to_the_target() {
    let (main, relay_dir, logs) = (DataDir::new(), DataDir::new(), DataDir::new());
    std::fs::write(relay_dir.file("hr.csv"), hr_csv()).unwrap();
    std::fs::write(main.file("relay.toml"), CONFIG).unwrap();
    let config = main.file("relay.toml").display().to_string();
    main.run(&["config", "apply", &config]).expect_code(0);
    let env = install_license(&main);
    let token = enroll_token(&main, &env);
    let add_admin = ["users", "add", "ada", "--role", "admin"];
    main.run_with(&add_admin, Some(PASSWORD), &[])
        .expect_code(0);

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (mut serve, base) = start_serve(&main, logs.path(), &http, &vars(&env)).await;
    let api = Api::sign_in(&http, &base, "ada", PASSWORD).await;
    let hub = format!("ws://{}/hub/v1", base.trim_start_matches("http://"));
    let first = relay_args(
        &hub,
        &relay_dir,
        &["--enroll-token", &token, "--name", "branch"],
    );
    let mut relay = Child::spawn("relay-1", &first, logs.path());
    let enrolled = api
        .await_relay("branch", true, &mut [&mut serve, &mut relay])
        .await;
    assert!(relay_dir.file("relay.key").exists() && relay_dir.file("relay.json").exists());
    let relay_id = enrolled["id"].clone();
    assert_token_used(&api, &relay_id).await;

    let mut running = [&mut serve, &mut relay];
    let import = api.run("hr", "full-import", &mut running).await;
    assert_completed(&import);
    assert_eq!(stat(&import, "read"), PERSONS as u64, "{import}");
    assert_eq!(stat(&import, "staged_adds"), PERSONS as u64, "{import}");
    assert_eq!(stat(&import, "rejected"), 0, "{import}");
    let sync = api.run("hr", "full-sync", &mut running).await;
    assert_completed(&sync);
    assert_eq!(stat(&sync, "projected"), PERSONS as u64, "{sync}");
    let export = api.run("directory", "export", &mut running).await;
    assert_completed(&export);
    assert_eq!(stat(&export, "exported_adds"), PERSONS as u64, "{export}");
    assert_eq!(api.mesh_count().await, PERSONS);
    assert_target(&main.file("directory.csv"));

    // restarted without the token: the key and relay.json in its data directory suffice
    drop(relay);
    api.await_relay("branch", false, &mut [&mut serve]).await;
    let again = relay_args(&hub, &relay_dir, &[]);
    let mut relay = Child::spawn("relay-2", &again, logs.path());
    let back = api
        .await_relay("branch", true, &mut [&mut serve, &mut relay])
        .await;
    assert_eq!(back["id"], relay_id, "the same relay, not a new enrollment");
    let log = relay.output();
    assert!(
        log.contains(&format!("relay {}: connecting", relay_id.as_str().unwrap())),
        "{log}"
    );
    let mut running = [&mut serve, &mut relay];
    let import = api.run("hr", "full-import", &mut running).await;
    assert_completed(&import);
    assert_eq!(stat(&import, "read"), PERSONS as u64, "{import}");
    assert_eq!(stat(&import, "unchanged"), PERSONS as u64, "{import}");

    // an unknown token, and the used one, are refused for good: exit 1, naming the problem
    let unknown = "imr_not-a-token-anyone-issued";
    for (name, token) in [("unknown", unknown), ("used", token.as_str())] {
        let fresh = DataDir::new();
        let extra = ["--enroll-token", token, "--name", "branch-2"];
        let args = relay_args(&hub, &fresh, &extra);
        let mut refused = Child::spawn(&format!("relay-{name}"), &args, logs.path());
        assert_eq!(refused.wait_exit().await, 1, "{}", refused.output());
        let stderr = refused.stderr();
        assert!(
            stderr.contains("bad_enrollment_token") && stderr.contains("unknown, used or expired"),
            "{name} token: {stderr}"
        );
    }
    assert!(serve.exited().is_none(), "{}", serve.output());
}
