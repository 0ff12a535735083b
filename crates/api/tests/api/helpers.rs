//! The app on port 0 with a temporary database (SQLite always, PostgreSQL when configured),
//! a manual clock, users of every role, and a client that keeps the session cookie.

use identitymesh_api::{AppState, Role, Security, add_user, serve};
use identitymesh_secrets::{Kek, KeySet};
use identitymesh_store::vault::Vault;
use identitymesh_testkit::{ManualClock, TestEnv};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

pub const CONFIG: &str = r#"
[mesh.person]
attributes = [{ name = "employeeId", unique = true }, { name = "displayName" }]

[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
precedence = 1
columns = ["employeeId", "displayName"]
projection = { delete_when_gone = true }

[connectors.hr.csv]
path = "hr.csv"

[[connectors.hr.join]]
mesh_attribute = "employeeId"
value = "trim(employeeId)"

[connectors.hr.flows_in]
employeeId = "trim(employeeId)"
displayName = "displayName"
"#;

pub struct App {
    pub env: TestEnv,
    pub base: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl App {
    pub async fn start(backend: identitymesh_testkit::Backend) -> App {
        let env = TestEnv::new(backend).await;
        env.write(
            "hr.csv",
            "employeeId,displayName\n1,Ada Lovelace\n2,Alan Turing\n",
        );
        let engine = env.engine(CONFIG);
        let clock = env.clock.clone();
        let vault = Vault::new(KeySet::new(Kek::generate().unwrap()));
        let state = AppState::new(
            env.store.clone(),
            Some(engine),
            vault,
            Arc::new(clock.clone()),
            Security::default(),
        );
        use identitymesh_engine::Clock;
        for (name, role) in [
            ("ada", Role::Admin),
            ("otto", Role::Operator),
            ("vera", Role::Viewer),
        ] {
            add_user(&env.store, name, role, PASSWORD, "test", clock.now())
                .await
                .unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, state, async move {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        App {
            env,
            base,
            clock,
            http,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, name: &str) -> Session {
        let r = self
            .http
            .post(self.url("/api/v1/session"))
            .json(&json!({ "name": name, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "login of {name}");
        let cookie = r
            .headers()
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = r.json().await.unwrap();
        Session {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    pub fn get(&self, s: &Session, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).header(COOKIE, &s.cookie)
    }

    pub fn post(&self, s: &Session, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header(COOKIE, &s.cookie)
            .header("x-csrf-token", &s.csrf)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.env.cleanup().await;
    }
}

pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// Asserts the one error body shape and returns the code.
pub async fn error_code(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].is_string(), "error body: {body}");
    body["error"]["code"].as_str().unwrap().to_owned()
}
