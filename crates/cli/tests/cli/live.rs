//! Long-running children of the binary (`serve`, `relay run`) for process-level tests: each
//! killed and reaped when dropped, so no exit path of a test leaves one behind; waits that
//! poll against a deadline instead of sleeping; and an administrator's session on the Admin
//! API of a running `serve`.

use serde_json::{Value, json};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{DataDir, isolated_command};

/// Generous: the machine may be busy building; every wait polls and ends as soon as it can.
const DEADLINE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);

/// A child process of the binary, killed (and reaped) when dropped, on every exit path.
pub struct Child {
    name: String,
    process: std::process::Child,
    out: PathBuf,
    err: PathBuf,
}

impl Child {
    pub fn spawn(name: &str, args: &[impl AsRef<OsStr>], logs: &Path) -> Child {
        Child::spawn_with(name, args, logs, &[])
    }

    /// [`Child::spawn`] with `env` added to its isolated environment.
    pub fn spawn_with(
        name: &str,
        args: &[impl AsRef<OsStr>],
        logs: &Path,
        env: &[(&str, &str)],
    ) -> Child {
        let (out, err) = (
            logs.join(format!("{name}.out")),
            logs.join(format!("{name}.err")),
        );
        let process = isolated_command()
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("the identitymesh binary starts");
        Child {
            name: name.to_owned(),
            process,
            out,
            err,
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Both outputs, for failure messages.
    pub fn output(&self) -> String {
        let out = std::fs::read_to_string(&self.out).unwrap_or_default();
        format!(
            "--- {0} stdout\n{out}--- {0} stderr\n{1}",
            self.name,
            self.stderr()
        )
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.process.try_wait().unwrap()
    }

    /// Waits for the process to end on its own; its exit code.
    pub async fn wait_exit(&mut self) -> i32 {
        let waiting = Waiting::new(format!("{} to exit", self.name));
        loop {
            if let Some(status) = self.exited() {
                return status.code().unwrap_or(-1);
            }
            waiting.tick(&mut []).await;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A wait with the deadline: each tick sleeps one poll interval and fails the test past
/// the deadline or as soon as a process that should keep running has exited.
pub struct Waiting {
    what: String,
    until: Instant,
}

impl Waiting {
    pub fn new(what: impl Into<String>) -> Self {
        Waiting {
            what: what.into(),
            until: Instant::now() + DEADLINE,
        }
    }

    pub async fn tick(&self, running: &mut [&mut Child]) {
        for child in running.iter_mut() {
            if let Some(status) = child.exited() {
                panic!(
                    "{} exited ({status}) while waiting for {}\n{}",
                    child.name,
                    self.what,
                    child.output()
                );
            }
        }
        if Instant::now() >= self.until {
            let logs: Vec<String> = running.iter().map(|c| c.output()).collect();
            panic!(
                "gave up after {DEADLINE:?} waiting for {}\n{}",
                self.what,
                logs.join("\n")
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Starts `serve` (no scheduled cycle) on a free loopback port, trying another port when
/// the one picked was taken meanwhile, with `env` added to its environment; the process and
/// the API's base URL once it answers.
pub async fn start_serve(
    main: &DataDir,
    logs: &Path,
    http: &reqwest::Client,
    env: &[(&str, &str)],
) -> (Child, String) {
    for attempt in 1..=3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let data = main.path().display().to_string();
        let args = [
            "--data-dir",
            &data,
            "serve",
            "--interval",
            "0",
            "--listen",
            &listen,
        ];
        let mut serve = Child::spawn_with(&format!("serve-{attempt}"), &args, logs, env);
        let base = format!("http://{listen}");
        let waiting = Waiting::new("the Admin API to answer /healthz");
        loop {
            if serve.exited().is_some() {
                assert!(
                    serve.stderr().contains("cannot listen"),
                    "{}",
                    serve.output()
                );
                break;
            }
            let health = http.get(format!("{base}/healthz")).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return (serve, base);
            }
            waiting.tick(&mut []).await;
        }
    }
    panic!("serve found no free port in three attempts");
}

/// An administrator's session on the Admin API.
pub struct Api {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Api {
    pub async fn sign_in(http: &reqwest::Client, base: &str, name: &str, password: &str) -> Api {
        let r = http
            .post(format!("{base}/api/v1/session"))
            .json(&json!({ "name": name, "password": password }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "sign-in: {}", r.status());
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let body: Value = r.json().await.unwrap();
        Api {
            http: http.clone(),
            base: base.to_owned(),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// The relay `name` as the API lists it, once it has enrolled.
    pub async fn relay(&self, name: &str) -> Option<Value> {
        let relays = self.get("/api/v1/relays").await;
        let items = relays["items"].as_array().unwrap();
        items.iter().find(|r| r["name"] == name).cloned()
    }

    /// Waits until the relay is (or is no longer) connected to this hub; the relay then.
    pub async fn await_relay(
        &self,
        name: &str,
        connected: bool,
        running: &mut [&mut Child],
    ) -> Value {
        let waiting = Waiting::new(format!("relay {name} connected = {connected}"));
        loop {
            match self.relay(name).await {
                Some(relay) if relay["connected_here"] == connected => return relay,
                _ => waiting.tick(running).await,
            }
        }
    }

    /// Starts a run and waits for its end; the run as stored, with its statistics.
    pub async fn run(&self, connector: &str, profile: &str, running: &mut [&mut Child]) -> Value {
        let path = format!("/api/v1/connectors/{connector}/runs");
        let started = self
            .call(
                reqwest::Method::POST,
                &path,
                Some(json!({ "profile": profile })),
            )
            .await;
        let id = started["run_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{connector} {profile} did not start: {started}"));
        let waiting = Waiting::new(format!("run #{id} ({connector} {profile}) to end"));
        loop {
            let run = self.get(&format!("/api/v1/runs/{id}")).await;
            if run["run"]["status"] != "running" {
                return run["run"].clone();
            }
            waiting.tick(running).await;
        }
    }

    /// How many mesh persons there are, counted page by page.
    pub async fn mesh_count(&self) -> usize {
        let (mut count, mut after) = (0, 0);
        loop {
            let page = self
                .get(&format!("/api/v1/mesh?type=person&limit=200&after={after}"))
                .await;
            count += page["items"].as_array().unwrap().len();
            match page["next"].as_i64() {
                Some(next) => after = next,
                None => return count,
            }
        }
    }
}
