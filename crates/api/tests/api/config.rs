//! Configuration over the API: apply (TOML or JSON, dry run), versions, diff, export; a bad
//! configuration is refused with every error's path and line and changes nothing; the
//! running engine runs the applied version; only administrators apply.

use identitymesh_testkit::backends;
use serde_json::{Value, json};

use crate::helpers::{App, CONFIG, Session, error_code};

const CRM: &str = r#"
[connectors.crm]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
precedence = 2
columns = ["employeeId", "displayName"]

[connectors.crm.csv]
path = "crm.csv"

[[connectors.crm.join]]
mesh_attribute = "employeeId"
value = "trim(employeeId)"

[connectors.crm.flows_in]
displayName = "displayName"
"#;

/// Two mistakes: an anchor that is not a column, and a flow with a broken expression.
const BAD: &str = r#"
[mesh.person]
attributes = [{ name = "employeeId", unique = true }]

[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "nosuch"
precedence = 1
columns = ["employeeId"]

[connectors.hr.csv]
path = "hr.csv"

[connectors.hr.flows_in]
employeeId = "trim(employeeId"
"#;

async fn apply_text(app: &App, s: &Session, text: &str, query: &str) -> reqwest::Response {
    app.post(s, &format!("/api/v1/config{query}"))
        .header("content-type", "text/plain")
        .body(text.to_owned())
        .send()
        .await
        .unwrap()
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

async fn version_count(app: &App, s: &Session) -> usize {
    let list = json_of(app.get(s, "/api/v1/config/versions").send().await.unwrap()).await;
    list["items"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_dry_run_versions_diff_and_export() {
    for backend in backends() {
        let app = App::start(backend).await;
        let ada = app.login("ada").await;
        let dry = apply_text(&app, &ada, CONFIG, "?dry_run=true").await;
        assert_eq!(dry.status(), 200);
        let dry = json_of(dry).await;
        assert_eq!(dry["valid"], true);
        assert!(
            dry["unified"]
                .as_str()
                .unwrap()
                .contains("+[connectors.hr]")
        );
        assert_eq!(
            version_count(&app, &ada).await,
            0,
            "a dry run stores nothing"
        );

        let first = apply_text(&app, &ada, CONFIG, "").await;
        assert_eq!(first.status(), 201);
        let first = json_of(first).await;
        assert_eq!(
            (first["version"].as_i64(), first["changed"].as_bool()),
            (Some(1), Some(true))
        );
        let again = apply_text(&app, &ada, CONFIG, "").await;
        assert_eq!(again.status(), 200, "the same text is no new version");
        assert_eq!(json_of(again).await["version"], 1);

        let text = format!("{CONFIG}{CRM}");
        let second = app
            .post(&ada, "/api/v1/config")
            .json(&json!({ "toml": text, "comment": "add the CRM" }))
            .send()
            .await
            .unwrap();
        assert_eq!(second.status(), 201);
        let second = json_of(second).await;
        assert_eq!(second["version"], 2);
        assert_eq!(second["previous"], 1);
        assert_eq!(second["summary"]["connectors"]["added"], json!(["crm"]));

        let connectors = json_of(app.get(&ada, "/api/v1/connectors").send().await.unwrap()).await;
        let names: Vec<&str> = connectors["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["crm", "hr"],
            "the running engine runs the new version"
        );

        let diff = app
            .get(&ada, "/api/v1/config/diff?from=1&to=2")
            .send()
            .await
            .unwrap();
        assert_eq!(diff.status(), 200);
        let diff = json_of(diff).await;
        let unified = diff["unified"].as_str().unwrap();
        assert!(
            unified.starts_with("--- version 1\n+++ version 2\n"),
            "{unified}"
        );
        assert!(unified.contains("+[connectors.crm]"), "{unified}");
        assert_eq!(diff["summary"]["connectors"]["added"], json!(["crm"]));
        assert_eq!(diff["lines_removed"], 0);

        let v1 = json_of(
            app.get(&ada, "/api/v1/config/versions/1")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (v1["content"].as_str(), v1["active"].as_bool()),
            (Some(CONFIG), Some(false))
        );
        let file = app
            .get(&ada, "/api/v1/config/versions/2/export")
            .send()
            .await
            .unwrap();
        assert_eq!(file.status(), 200);
        assert!(
            file.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let disposition = file.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment;") && disposition.contains("v2.toml"));
        assert_eq!(file.text().await.unwrap(), text);

        let vera = app.login("vera").await;
        let ui = app
            .get(&vera, "/ui/config?from=1&to=2")
            .send()
            .await
            .unwrap();
        assert_eq!(ui.status(), 200);
        let html = ui.text().await.unwrap();
        assert!(
            html.contains("+[connectors.crm]") && html.contains("Export version 2"),
            "{html}"
        );
        assert!(
            html.contains("href=\"/ui/config\""),
            "the navigation links the page"
        );
        let half = app.get(&vera, "/ui/config?from=1").send().await.unwrap();
        assert_eq!(half.status(), 400);

        let audit = app
            .get(&ada, "/api/v1/audit?limit=500")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            audit.contains("config.apply") && audit.contains("add the CRM"),
            "{audit}"
        );
        assert_eq!(
            audit.matches("\"config.apply\"").count(),
            2,
            "one record per new version"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_configuration_lists_every_error_and_changes_nothing() {
    for backend in backends() {
        let app = App::start(backend).await;
        let ada = app.login("ada").await;
        assert_eq!(apply_text(&app, &ada, CONFIG, "").await.status(), 201);
        for query in ["", "?dry_run=true"] {
            let r = apply_text(&app, &ada, BAD, query).await;
            assert_eq!(r.status(), 422, "{query}");
            let body = json_of(r).await;
            assert_eq!(body["error"]["code"], "invalid");
            let details = body["error"]["details"].as_array().unwrap();
            assert!(!details.is_empty(), "{body}");
            for d in details {
                assert!(
                    d["path"]
                        .as_str()
                        .is_some_and(|p| p.starts_with("connectors.hr")),
                    "{d}"
                );
                assert!(d["line"].as_u64().is_some_and(|l| l > 0), "{d}");
                assert!(!d["message"].as_str().unwrap().is_empty());
            }
        }
        let r = apply_text(&app, &ada, "this is = = not toml", "").await;
        assert_eq!(r.status(), 422);
        assert_eq!(version_count(&app, &ada).await, 1, "nothing stored");
        let active = json_of(app.get(&ada, "/api/v1/config/active").send().await.unwrap()).await;
        assert_eq!(active["id"], 1);
        let xml = app
            .post(&ada, "/api/v1/config")
            .header("content-type", "application/xml")
            .body("<config/>")
            .send()
            .await
            .unwrap();
        assert_eq!(xml.status(), 415);
        for (path, status) in [
            ("/api/v1/config/diff?from=1", 400),
            ("/api/v1/config/diff?from=1&to=99", 404),
            ("/api/v1/config/versions/0", 400),
            ("/api/v1/config/versions/abc", 400),
            ("/api/v1/config/versions/42/export", 404),
        ] {
            let r = app.get(&ada, path).send().await.unwrap();
            assert_eq!(r.status(), status, "{path}");
            error_code(r).await;
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_administrators_apply() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    for name in ["otto", "vera"] {
        let s = app.login(name).await;
        let r = apply_text(&app, &s, CONFIG, "").await;
        assert_eq!(r.status(), 403, "{name}");
        assert_eq!(error_code(r).await, "forbidden");
        assert_eq!(
            app.get(&s, "/api/v1/config/versions")
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{name} reads versions"
        );
    }
    let ada = app.login("ada").await;
    assert_eq!(version_count(&app, &ada).await, 0);
    app.stop().await;
}

/// `serve` hands the API one clone of the engine and keeps another for its scheduler: a
/// configuration applied through either reaches both.
#[tokio::test(flavor = "multi_thread")]
async fn every_clone_of_the_engine_runs_the_replaced_configuration() {
    let env = identitymesh_testkit::TestEnv::new(identitymesh_testkit::Backend::Sqlite).await;
    let api_side = env.engine(CONFIG);
    let scheduler_side = api_side.clone();
    let text = format!("{CONFIG}{CRM}");
    let config =
        identitymesh_domain::config::compile(&text, identitymesh_connectors::KNOWN_KINDS).unwrap();
    api_side.replace_config(config);
    assert!(scheduler_side.config().connector("crm").is_some());
    assert_eq!(scheduler_side.config().hash, api_side.config().hash);
    env.cleanup().await;
}
