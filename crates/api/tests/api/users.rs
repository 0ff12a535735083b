//! Users and tokens over the API and the UI: creating users under the password policy,
//! changing roles, disabling (sessions and tokens end at once, sign-in fails like a wrong
//! password), deleting, the last-administrator rule, the token list without secrets,
//! revoking a token, and administrators only.

use identitymesh_testkit::backends;
use serde_json::{Value, json};

use crate::helpers::{App, PASSWORD, Session, error_code};

async fn patch(app: &App, s: &Session, name: &str, body: Value) -> reqwest::Response {
    app.http
        .patch(app.url(&format!("/api/v1/users/{name}")))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete(app: &App, s: &Session, path: &str) -> reqwest::Response {
    app.http
        .delete(app.url(path))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap()
}

async fn sign_in(app: &App, name: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/session"))
        .json(&json!({ "name": name, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn login_with(app: &App, name: &str, password: &str) -> Session {
    let r = sign_in(app, name, password).await;
    assert_eq!(r.status(), 201, "sign-in of {name}");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    Session {
        cookie,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn new_token(app: &App, s: &Session) -> (i64, String) {
    let r = app
        .post(s, "/api/v1/tokens")
        .json(&json!({ "name": "ci", "role": "viewer", "days": 30 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    (
        body["id"].as_i64().unwrap(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

async fn bearer_status(app: &App, token: &str) -> u16 {
    let r = app
        .http
        .get(app.url("/api/v1/runs"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_change_disable_and_delete_users() {
    for backend in backends() {
        let app = App::start(backend).await;
        let ada = app.login("ada").await;
        let create = |name: &'static str, password: &'static str| {
            app.post(&ada, "/api/v1/users")
                .json(&json!({ "name": name, "role": "admin", "password": password }))
                .send()
        };
        let short = create("olga", "too-short").await.unwrap();
        assert_eq!(short.status(), 400);
        assert!(short.text().await.unwrap().contains("12 characters"));
        let same = create("olga.operator", "OLGA.OPERATOR").await.unwrap();
        assert_eq!(same.status(), 400, "the password may not be the name");
        assert_eq!(create("olga", PASSWORD).await.unwrap().status(), 201);
        assert_eq!(
            create("olga", PASSWORD).await.unwrap().status(),
            409,
            "name taken"
        );
        let bad_role = app
            .post(&ada, "/api/v1/users")
            .json(&json!({ "name": "x", "role": "root", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(bad_role.status(), 400);

        let olga = app.login("olga").await;
        let (_, token) = new_token(&app, &olga).await;
        assert_eq!(bearer_status(&app, &token).await, 200);
        let r = patch(&app, &ada, "olga", json!({ "disabled": true })).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["disabled"], true);
        assert_eq!(
            app.get(&olga, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            401,
            "her session ended at once"
        );
        assert_eq!(bearer_status(&app, &token).await, 401, "her token too");
        let refused = sign_in(&app, "olga", PASSWORD).await;
        assert_eq!(refused.status(), 401);
        let wrong = sign_in(&app, "ada", "not the password").await;
        let (refused, wrong): (Value, Value) =
            (refused.json().await.unwrap(), wrong.json().await.unwrap());
        assert_eq!(refused, wrong, "the same failure as a wrong password");

        assert_eq!(
            patch(&app, &ada, "olga", json!({ "disabled": false }))
                .await
                .status(),
            200
        );
        assert_eq!(sign_in(&app, "olga", PASSWORD).await.status(), 201);
        let r = patch(
            &app,
            &ada,
            "olga",
            json!({ "role": "viewer", "password": "another good password" }),
        )
        .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["role"], "viewer");
        assert_eq!(
            sign_in(&app, "olga", PASSWORD).await.status(),
            401,
            "old password"
        );
        assert_eq!(
            sign_in(&app, "olga", "another good password")
                .await
                .status(),
            201
        );
        assert_eq!(patch(&app, &ada, "olga", json!({})).await.status(), 400);
        assert_eq!(
            patch(&app, &ada, "nobody", json!({ "role": "admin" }))
                .await
                .status(),
            404
        );
        assert_eq!(
            patch(&app, &ada, "olga", json!({ "colour": "red" }))
                .await
                .status(),
            400
        );

        let olga = login_with(&app, "olga", "another good password").await;
        assert_eq!(delete(&app, &ada, "/api/v1/users/olga").await.status(), 204);
        assert_eq!(
            app.get(&olga, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        assert_eq!(delete(&app, &ada, "/api/v1/users/olga").await.status(), 404);

        let audit = app
            .get(&ada, "/api/v1/audit?actor=user:ada&limit=500")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for action in ["user.add", "user.update", "user.delete"] {
            assert!(audit.contains(action), "{action} in {audit}");
        }
        assert!(
            !audit.contains(PASSWORD)
                && !audit.contains("another good password")
                && !audit.contains("argon2")
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_enabled_administrator_stays() {
    for backend in backends() {
        let app = App::start(backend).await;
        let ada = app.login("ada").await;
        for (change, word) in [
            (json!({ "role": "operator" }), "demoted"),
            (json!({ "disabled": true }), "disabled"),
        ] {
            let r = patch(&app, &ada, "ada", change).await;
            assert_eq!(r.status(), 409);
            let body: Value = r.json().await.unwrap();
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("last enabled administrator") && message.contains(word),
                "{message}"
            );
        }
        assert_eq!(delete(&app, &ada, "/api/v1/users/ada").await.status(), 409);
        // with a second administrator, the first may step down; then the second is the last
        assert_eq!(
            patch(&app, &ada, "otto", json!({ "role": "admin" }))
                .await
                .status(),
            200
        );
        assert_eq!(
            patch(&app, &ada, "ada", json!({ "role": "viewer" }))
                .await
                .status(),
            200
        );
        let otto = app.login("otto").await;
        assert_eq!(
            patch(&app, &otto, "otto", json!({ "disabled": true }))
                .await
                .status(),
            409
        );
        // a disabled administrator does not count
        assert_eq!(
            patch(
                &app,
                &otto,
                "ada",
                json!({ "role": "admin", "disabled": true })
            )
            .await
            .status(),
            200
        );
        assert_eq!(
            delete(&app, &otto, "/api/v1/users/otto").await.status(),
            409
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_listed_without_secrets_and_revoked() {
    for backend in backends() {
        let app = App::start(backend).await;
        let ada = app.login("ada").await;
        let (id, token) = new_token(&app, &ada).await;
        let list = app.get(&ada, "/api/v1/tokens").send().await.unwrap();
        assert_eq!(list.status(), 200);
        let text = list.text().await.unwrap();
        assert!(
            !text.contains(&token) && !text.contains(&token[4..]),
            "no value: {text}"
        );
        let hashes = app
            .env
            .store
            .run_blocking(|tx| tx.api_tokens())
            .await
            .unwrap();
        assert!(
            hashes.iter().all(|t| !text.contains(&t.token_hash)),
            "no hash: {text}"
        );
        let list: Value = serde_json::from_str(&text).unwrap();
        let item = &list["items"][0];
        assert_eq!(
            (
                item["id"].as_i64(),
                item["owner"].as_str(),
                item["role"].as_str()
            ),
            (Some(id), Some("ada"), Some("viewer"))
        );
        assert!(item["expires_at"].is_string() && item["created_at"].is_string());

        assert_eq!(bearer_status(&app, &token).await, 200);
        assert_eq!(
            delete(&app, &ada, &format!("/api/v1/tokens/{id}"))
                .await
                .status(),
            204
        );
        assert_eq!(bearer_status(&app, &token).await, 401, "revoked");
        assert_eq!(
            delete(&app, &ada, &format!("/api/v1/tokens/{id}"))
                .await
                .status(),
            404
        );
        let audit = app
            .get(&ada, "/api/v1/audit?limit=500")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(audit.contains("token.revoke") && audit.contains("user:ada"));
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_and_viewers_are_refused() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    for name in ["otto", "vera"] {
        let s = app.login(name).await;
        let create = app
            .post(&s, "/api/v1/users")
            .json(&json!({ "name": "mallory", "role": "admin", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(create.status(), 403, "{name}");
        assert_eq!(error_code(create).await, "forbidden");
        assert_eq!(
            patch(&app, &s, name, json!({ "role": "admin" }))
                .await
                .status(),
            403
        );
        assert_eq!(delete(&app, &s, "/api/v1/users/ada").await.status(), 403);
        assert_eq!(
            app.get(&s, "/api/v1/tokens").send().await.unwrap().status(),
            403
        );
        assert_eq!(delete(&app, &s, "/api/v1/tokens/1").await.status(), 403);
        assert_eq!(app.get(&s, "/ui/users").send().await.unwrap().status(), 403);
    }
    app.stop().await;
}

async fn form(app: &App, s: &Session, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut body: Vec<(&str, &str)> = vec![("csrf", &s.csrf)];
    body.extend_from_slice(fields);
    app.http
        .post(app.url(path))
        .header("cookie", &s.cookie)
        .form(&body)
        .send()
        .await
        .unwrap()
}

async fn role_of(app: &App, name: &str) -> Option<(String, bool)> {
    let name = name.to_owned();
    let user = app
        .env
        .store
        .run_blocking(move |tx| tx.user_by_name(&name))
        .await
        .unwrap();
    user.map(|u| (u.role, u.disabled_at.is_some()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_users_page_creates_changes_and_deletes() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    let ada = app.login("ada").await;
    let page = app
        .get(&ada, "/ui/users")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Add user")
            && page.contains("Disable vera")
            && page.contains("name=\"csrf\"")
    );
    let no_token = app
        .http
        .post(app.url("/ui/users"))
        .header("cookie", &ada.cookie)
        .form(&[("name", "pat"), ("role", "viewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403, "anti-forgery token required");
    assert_eq!(role_of(&app, "pat").await, None);
    let created = form(
        &app,
        &ada,
        "/ui/users",
        &[("name", "pat"), ("role", "viewer"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(created.status(), 303);
    assert_eq!(role_of(&app, "pat").await, Some(("viewer".into(), false)));
    form(
        &app,
        &ada,
        "/ui/users/pat",
        &[("action", "role"), ("role", "operator")],
    )
    .await;
    assert_eq!(role_of(&app, "pat").await, Some(("operator".into(), false)));
    form(&app, &ada, "/ui/users/pat", &[("action", "disable")]).await;
    assert_eq!(role_of(&app, "pat").await, Some(("operator".into(), true)));
    let last = form(&app, &ada, "/ui/users/ada", &[("action", "delete")]).await;
    assert_eq!(last.status(), 409, "the last administrator");
    assert!(
        last.text()
            .await
            .unwrap()
            .contains("last enabled administrator")
    );
    form(&app, &ada, "/ui/users/pat", &[("action", "delete")]).await;
    assert_eq!(role_of(&app, "pat").await, None);
    let (id, token) = new_token(&app, &ada).await;
    let page = app
        .get(&ada, "/ui/users")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("Revoke token {id}")) && !page.contains(&token));
    form(&app, &ada, &format!("/ui/tokens/{id}/revoke"), &[]).await;
    assert_eq!(bearer_status(&app, &token).await, 401);
    app.stop().await;
}
