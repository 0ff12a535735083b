//! License and secret status: the license (community and licensed) with usage, secrets set,
//! listed, deleted — their values never in any response or audit record — roles enforced,
//! bad bodies refused with a 4xx, and the UI page with its password form.

use chrono::NaiveDate;
use identitymesh_api::{AppState, Role, Security, add_user, serve};
use identitymesh_engine::Clock;
use identitymesh_secrets::{Kek, KeySet, License, LicenseDocument, Limits};
use identitymesh_store::vault::Vault;
use identitymesh_testkit::{Backend, TestEnv, backends};
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::helpers::{App, CONFIG, PASSWORD, Session, error_code};

const VALUE: &str = "hunter2-Very-Secret-Value";

fn put(app: &App, s: &Session, name: &str) -> reqwest::RequestBuilder {
    app.http
        .put(app.url(&format!("/api/v1/secrets/{name}")))
        .header(COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
}

fn delete(app: &App, s: &Session, name: &str) -> reqwest::RequestBuilder {
    app.http
        .delete(app.url(&format!("/api/v1/secrets/{name}")))
        .header(COOKIE, &s.cookie)
        .header("x-csrf-token", &s.csrf)
}

async fn text(r: reqwest::RequestBuilder) -> (u16, String) {
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn community_license_with_usage() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("vera").await;
        let (status, body) = text(app.get(&s, "/api/v1/license")).await;
        assert_eq!(status, 200, "{body}");
        let l: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(l["state"], "community", "{l}");
        assert_eq!(l["edition"], "community");
        assert_eq!(
            l["limits"]["mesh_objects"]["limit"],
            Value::Null,
            "unlimited"
        );
        assert_eq!(l["limits"]["mesh_objects"]["used"], 0);
        assert_eq!(l["limits"]["connectors"]["used"], 1, "the hr connector");
        assert_eq!(l["limits"]["relay_agents"]["limit"], 0);
        assert_eq!(l["days_left"], Value::Null);
        app.stop().await;
    }
}

/// A licensed app on port 0 (the helpers' app runs the community edition).
async fn licensed(expires: NaiveDate) -> (TestEnv, String) {
    let env = TestEnv::new(Backend::Sqlite).await;
    env.write("hr.csv", "employeeId,displayName\n1,Ada Lovelace\n");
    add_user(
        &env.store,
        "vera",
        Role::Viewer,
        PASSWORD,
        "test",
        env.clock.now(),
    )
    .await
    .unwrap();
    let document = LicenseDocument {
        id: "L-1".into(),
        licensee: "Test Corp".into(),
        edition: "standard".into(),
        issued: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        expires,
        grace_days: 30,
        limits: Limits {
            mesh_objects: Some(1000),
            connectors: Some(3),
            relay_agents: None,
        },
        features: vec!["scale-out".into()],
    };
    let state = AppState::new(
        env.store.clone(),
        Some(env.engine(CONFIG)),
        Vault::new(KeySet::new(Kek::generate().unwrap())),
        Arc::new(env.clock.clone()),
        Security::default(),
    )
    .with_license(License::licensed(document));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, state, std::future::pending()));
    (env, base)
}

#[tokio::test(flavor = "multi_thread")]
async fn licensed_status_counts_days_and_limits() {
    let today = identitymesh_testkit::ManualClock::new().now().date_naive();
    let expires = today + chrono::Days::new(10);
    let (env, base) = licensed(expires).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({ "name": "vera", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let l: Value = http
        .get(format!("{base}/api/v1/license"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(l["state"], "valid", "{l}");
    assert_eq!(l["licensee"], "Test Corp");
    assert_eq!(l["edition"], "standard");
    assert_eq!(l["expires"], expires.to_string());
    assert_eq!(l["days_left"], 10);
    assert_eq!(l["limits"]["mesh_objects"]["limit"], 1000);
    assert_eq!(l["limits"]["mesh_objects"]["used"], 0);
    assert_eq!(l["limits"]["connectors"]["limit"], 3);
    assert_eq!(l["features"], json!(["scale-out"]));
    assert_eq!(l["warning"], Value::Null);
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_set_listed_and_deleted_but_never_read() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("ada").await;
        let (status, body) =
            text(put(&app, &s, "ldap-bind").json(&json!({ "value": VALUE }))).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains(VALUE), "{body}");
        let r: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (r["name"].as_str(), r["version"].as_i64()),
            (Some("ldap-bind"), Some(1))
        );
        let (status, body) =
            text(put(&app, &s, "ldap-bind").json(&json!({ "value": "second" }))).await;
        assert_eq!(status, 200, "{body}");
        let (status, list) = text(app.get(&s, "/api/v1/secrets")).await;
        assert_eq!(status, 200, "{list}");
        assert!(!list.contains(VALUE) && !list.contains("second"), "{list}");
        let items: Value = serde_json::from_str(&list).unwrap();
        let item = &items["items"][0];
        assert_eq!(item["name"], "ldap-bind", "{items}");
        assert_eq!(item["set"], true);
        assert_eq!(item["version"], 2);
        assert!(item["updated_at"].is_string());
        let (_, audit) = text(app.get(&s, "/api/v1/audit?limit=500")).await;
        assert!(
            audit.contains("secrets.set") && audit.contains("secret:ldap-bind"),
            "{audit}"
        );
        assert!(audit.contains("user:ada"), "the actor is recorded: {audit}");
        assert!(
            !audit.contains(VALUE) && !audit.contains("second"),
            "{audit}"
        );
        let (status, _) = text(delete(&app, &s, "ldap-bind")).await;
        assert_eq!(status, 204);
        let (_, list) = text(app.get(&s, "/api/v1/secrets")).await;
        assert_eq!(
            serde_json::from_str::<Value>(&list).unwrap()["items"],
            json!([])
        );
        let r = delete(&app, &s, "ldap-bind").send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(error_code(r).await, "not_found");
        let (_, audit) = text(app.get(&s, "/api/v1/audit?limit=500")).await;
        assert!(audit.contains("secrets.delete"), "{audit}");
        let stored = app
            .env
            .store
            .run_blocking(|tx| tx.secret_infos())
            .await
            .unwrap();
        assert!(stored.is_empty());
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_administrators_touch_secrets() {
    for backend in backends() {
        let app = App::start(backend).await;
        let admin = app.login("ada").await;
        let (status, _) = text(put(&app, &admin, "api-key").json(&json!({ "value": VALUE }))).await;
        assert_eq!(status, 200);
        for name in ["vera", "otto"] {
            let s = app.login(name).await;
            let cases = [
                app.get(&s, "/api/v1/secrets"),
                put(&app, &s, "api-key").json(&json!({ "value": "mine" })),
                delete(&app, &s, "api-key"),
            ];
            for request in cases {
                let r = request.send().await.unwrap();
                assert_eq!(r.status(), 403, "{name}");
                assert_eq!(error_code(r).await, "forbidden");
            }
            assert_eq!(
                app.get(&s, "/api/v1/license")
                    .send()
                    .await
                    .unwrap()
                    .status(),
                200
            );
        }
        let (_, list) = text(app.get(&admin, "/api/v1/secrets")).await;
        assert!(list.contains("\"version\":1"), "untouched: {list}");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_secret_bodies_and_names_get_4xx() {
    let app = App::start(Backend::Sqlite).await;
    let s = app.login("ada").await;
    let cases = [
        (
            put(&app, &s, "x")
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (put(&app, &s, "x").json(&json!({})), 400),
        (put(&app, &s, "x").json(&json!({ "value": "" })), 400),
        (
            put(&app, &s, "x").json(&json!({ "value": "v", "purpose": "p" })),
            400,
        ),
        (put(&app, &s, "x").json(&json!({ "value": 7 })), 400),
        (put(&app, &s, "a%20b").json(&json!({ "value": "v" })), 400),
        (put(&app, &s, "-x").json(&json!({ "value": "v" })), 400),
        (put(&app, &s, "x").body("value=v"), 415),
        (delete(&app, &s, "a%20b"), 400),
    ];
    for (i, (request, want)) in cases.into_iter().enumerate() {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "case {i}");
        let body = r.text().await.unwrap();
        assert!(body.contains("\"message\""), "case {i}: {body}");
    }
    let stored = app
        .env
        .store
        .run_blocking(|tx| tx.secret_infos())
        .await
        .unwrap();
    assert!(stored.is_empty(), "nothing was stored");
    app.stop().await;
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_shows_the_license_and_lets_administrators_set_secrets() {
    let app = App::start(Backend::Sqlite).await;
    let vera = app.login("vera").await;
    let (status, html) = text(app.get(&vera, "/ui/system")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("License and secrets") && html.contains("community"),
        "{html}"
    );
    assert!(
        !html.contains("Set a secret"),
        "viewers see no secrets: {html}"
    );
    let vera_post = app
        .http
        .post(app.url("/ui/system/secrets"))
        .header(COOKIE, &vera.cookie)
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("name", "x"),
            ("value", VALUE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(vera_post.status(), 403);
    let ada = app.login("ada").await;
    let (_, html) = text(app.get(&ada, "/ui/system")).await;
    assert!(html.contains("type=\"password\""), "{html}");
    let forged = app
        .http
        .post(app.url("/ui/system/secrets"))
        .header(COOKIE, &ada.cookie)
        .form(&[("csrf", "forged"), ("name", "ldap-bind"), ("value", VALUE)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "anti-forgery token checked");
    let r = app
        .http
        .post(app.url("/ui/system/secrets"))
        .header(COOKIE, &ada.cookie)
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("name", "ldap-bind"),
            ("value", VALUE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/system");
    let (_, html) = text(app.get(&ada, "/ui/system")).await;
    assert!(
        html.contains("ldap-bind") && html.contains(">set<"),
        "{html}"
    );
    assert!(!html.contains(VALUE), "the value is never shown");
    let r = app
        .http
        .post(app.url("/ui/system/secrets/delete"))
        .header(COOKIE, &ada.cookie)
        .form(&[("csrf", csrf_of(&html).as_str()), ("name", "ldap-bind")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let stored = app
        .env
        .store
        .run_blocking(|tx| tx.secret_infos())
        .await
        .unwrap();
    assert!(stored.is_empty(), "deleted from the page");
    app.stop().await;
}
