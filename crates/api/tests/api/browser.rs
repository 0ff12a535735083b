//! The admin UI in headless Chromium, driven over WebDriver (plain HTTP calls to
//! chromedriver): sign in, run a full import, a full sync and an export with "run now",
//! watch each run finish by reloading its page, open a mesh object, trip the deletion guard
//! and approve the held export. Each step leaves a screenshot in `target/ui-screenshots/`.
//!
//! Skipped, with the reason printed, when Chromium or chromedriver is missing and `CI` is not
//! set; in CI it must run (`.ci/browser.sh` installs both).

use base64::Engine as _;
use identitymesh_api::{AppState, Role, Security, add_user, serve};
use identitymesh_secrets::{Kek, KeySet};
use identitymesh_store::vault::Vault;
use identitymesh_testkit::{Backend, TestEnv};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use crate::helpers::PASSWORD;

const CONFIG: &str = r#"
[mesh.person]
attributes = [{ name = "employeeId", unique = true }, { name = "displayName" }, { name = "status" }]

[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
precedence = 1
columns = ["employeeId", "displayName", "status"]
projection = { delete_when_gone = true }
csv = { path = "hr.csv" }
join = [{ mesh_attribute = "employeeId", value = "trim(employeeId)" }]
flows_in = { employeeId = "trim(employeeId)", displayName = "displayName", status = "lower(trim(status))" }

[connectors.directory]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
columns = ["employeeId", "displayName"]
csv = { path = "directory.csv", missing_file = "empty" }
provisioning = { scope = 'status == "active"', anchor = "employeeId", deprovision = "delete" }
flows_out = { employeeId = "employeeId", displayName = "displayName" }
guards = { max_deletes = 1 }
"#;

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Kills chromedriver when the test ends, however it ends.
struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session over plain HTTP.
struct Browser {
    http: reqwest::Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let answer: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(
            answer["value"]["error"].is_null(),
            "WebDriver {path}: {answer}"
        );
        answer["value"].clone()
    }
    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }
    async fn source(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/source", None).await;
        v.as_str().unwrap().to_owned()
    }
    async fn url(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap().to_owned()
    }
    async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        let id = v["element-6066-11e4-a52e-4f735466cecf"].as_str();
        id.unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }
    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }
    /// Clicks something that navigates (a submit button, a link) and waits until the browser
    /// has left the current page: WebDriver's click can return before a form submission's
    /// navigation commits, so reading the page straight away may still see the old one.
    async fn click_to_leave(&self, css: &str) {
        let before = self.url().await;
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = self.url().await;
            if now != before {
                let ready = self
                    .call(
                        reqwest::Method::POST,
                        "/execute/sync",
                        Some(json!({ "script": "return document.readyState", "args": [] })),
                    )
                    .await;
                if ready == "complete" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "clicking {css} never left {before}:\n{}",
                self.source().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }
    async fn screenshot(&self, name: &str) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }
    /// Reloads the current page until it contains `wanted` (bounded by a deadline).
    async fn reload_until(&self, wanted: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = self.url().await;
        loop {
            let html = self.source().await;
            if html.contains(wanted) {
                return html;
            }
            assert!(
                Instant::now() < deadline,
                "{url} never showed {wanted:?}:\n{html}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.goto(&url).await;
        }
    }
    /// Starts a run with the connectors page's "run now" form and waits for its page to show
    /// the final status.
    async fn run_now(&self, app: &str, connector: &str, profile: &str, status: &str) {
        self.goto(&format!("{app}/ui/connectors")).await;
        self.click(&format!("#profile-{connector} option[value=\"{profile}\"]"))
            .await;
        self.click_to_leave(&format!(
            "form[action=\"/ui/connectors/{connector}/run\"] button"
        ))
        .await;
        assert!(self.url().await.contains("/ui/runs/"), "a run page");
        self.reload_until(&format!("<span class=\"badge {status}"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_runs_a_cycle_and_approves_a_held_export_in_chromium() {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let chromium = which(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = which(&["chromedriver"]);
    let (Some(chromium), Some(driver)) = (chromium, driver) else {
        assert!(
            !in_ci,
            "CI must run the browser test: install chromium and chromium-driver (.ci/browser.sh)"
        );
        println!(
            "SKIPPED browser test: chromium or chromedriver is not installed (run .ci/browser.sh)"
        );
        return;
    };

    let env = TestEnv::new(Backend::Sqlite).await;
    env.write("hr.csv", "employeeId,displayName,status\n1,Ada Lovelace,active\n2,Alan Turing,active\n3,Grace Hopper,active\n");
    let clock = env.clock.clone();
    let state = AppState::new(
        env.store.clone(),
        Some(env.engine(CONFIG)),
        Vault::new(KeySet::new(Kek::generate().unwrap())),
        Arc::new(clock.clone()),
        Security::default(),
    );
    use identitymesh_engine::Clock;
    add_user(
        &env.store,
        "otto",
        Role::Operator,
        PASSWORD,
        "test",
        clock.now(),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, state, std::future::pending()));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _driver = Driver(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let wd = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{wd}/status"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,768",
    ];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args } } } });
    let session: Value = http
        .post(format!("{wd}/session"))
        .json(&caps)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {session}"));
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let b = Browser {
        http: http.clone(),
        base: format!("{wd}/session/{id}"),
        shots,
    };

    // sign in
    b.goto(&format!("{app}/ui")).await;
    assert!(b.url().await.ends_with("/ui/signin"));
    b.type_into("#name", "otto").await;
    b.type_into("#password", PASSWORD).await;
    b.screenshot("01-sign-in").await;
    b.click_to_leave("form button[type=submit]").await;
    let html = b.source().await;
    assert!(
        html.contains("otto (operator)"),
        "{}: {html}",
        b.url().await
    );
    b.screenshot("02-dashboard").await;

    // a full cycle with "run now": import, sync, export
    b.run_now(&app, "hr", "full-import", "ok").await;
    b.run_now(&app, "hr", "full-sync", "ok").await;
    b.screenshot("03-run-finished").await;
    b.run_now(&app, "directory", "export", "ok").await;
    assert!(b.source().await.contains("exported adds"));

    // a mesh object and where its values came from
    b.goto(&format!("{app}/ui/mesh")).await;
    b.type_into("#attribute", "displayName").await;
    b.type_into("#value", "grace").await;
    b.click_to_leave("form[role=search] button").await;
    b.click_to_leave("main table a").await;
    let html = b.source().await;
    assert!(
        html.contains("Grace Hopper") && html.contains("flows") && html.contains("directory"),
        "{html}"
    );
    b.screenshot("04-mesh-object").await;

    // two leavers trip the guard (at most one delete per export); approve the held export
    env.write("hr.csv", "employeeId,displayName,status\n1,Ada Lovelace,active\n2,Alan Turing,terminated\n3,Grace Hopper,terminated\n");
    b.run_now(&app, "hr", "full-import", "ok").await;
    b.run_now(&app, "hr", "full-sync", "ok").await;
    b.run_now(&app, "directory", "export", "warn").await;
    assert!(b.source().await.contains("guard tripped"));
    b.goto(&format!("{app}/ui/review")).await;
    let html = b.source().await;
    assert!(
        html.contains("directory: 2 held export(s)") && html.contains("href=\"/ui/mesh/2\""),
        "{html}"
    );
    b.screenshot("05-held-exports").await;
    b.click_to_leave("form[action=\"/ui/review/directory/held\"] button")
        .await;
    let html = b.reload_until("<span class=\"badge ok").await;
    assert!(html.contains("exported deletes"), "{html}");
    b.screenshot("06-approved").await;
    let directory = std::fs::read_to_string(env.path().join("directory.csv")).unwrap();
    assert_eq!(directory.lines().count(), 2, "header and Ada:\n{directory}");

    let _ = http.delete(format!("{wd}/session/{id}")).send().await;
    env.cleanup().await;
}
