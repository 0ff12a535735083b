//! Authorization matrix, anti-forgery, session expiry on a manual clock, sign-in
//! throttling, API tokens, and passwords never echoed.

use identitymesh_api::Role;
use identitymesh_api::v1::operations;
use identitymesh_testkit::backends;
use serde_json::{Value, json};

use crate::helpers::{App, PASSWORD, error_code};

/// Every role × every guarded operation: below the role → 403, at or above → not 401/403.
#[tokio::test(flavor = "multi_thread")]
async fn authorization_matrix() {
    for backend in backends() {
        let app = App::start(backend).await;
        let sessions = [
            (Role::Viewer, app.login("vera").await),
            (Role::Operator, app.login("otto").await),
            (Role::Admin, app.login("ada").await),
        ];
        for (method, path, need, _) in operations() {
            let Some(need) = need else { continue };
            let path = path.replace("{name}", "hr").replace("{id}", "1");
            if *method == "delete" {
                continue; // signing out ends the session the matrix reuses
            }
            let anonymous = app
                .http
                .request(method.to_uppercase().parse().unwrap(), app.url(&path))
                .send()
                .await
                .unwrap();
            assert_eq!(anonymous.status(), 401, "anonymous {method} {path}");
            for (role, s) in &sessions {
                let request = match *method {
                    "get" => app.get(s, &path),
                    "post" => app.post(s, &path).json(&json!({})),
                    // PATCH and the like: the same session, token and body, the real method
                    other => app
                        .http
                        .request(other.to_uppercase().parse().unwrap(), app.url(&path))
                        .header("cookie", &s.cookie)
                        .header("x-csrf-token", &s.csrf)
                        .json(&json!({})),
                };
                let status = request.send().await.unwrap().status().as_u16();
                if role < need {
                    assert_eq!(status, 403, "{role:?} {method} {path}");
                } else {
                    assert!(
                        status != 401 && status != 403 && status < 500,
                        "{role:?} {method} {path}: {status}"
                    );
                }
            }
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn state_changes_need_the_anti_forgery_token_and_same_origin() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("otto").await;
        let other = app.login("ada").await;
        let path = "/api/v1/connectors/hr/runs";
        let body = json!({ "profile": "full-import", "simulate": false });
        let no_token = app
            .http
            .post(app.url(path))
            .header("cookie", &s.cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(no_token.status(), 403);
        assert_eq!(error_code(no_token).await, "forgery");
        let wrong = app
            .http
            .post(app.url(path))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &other.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403, "another session's token");
        let cross = app
            .post(&s, path)
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(cross.status(), 403, "another origin");
        let cross_login = app
            .http
            .post(app.url("/api/v1/session"))
            .header("origin", "https://evil.example")
            .json(&json!({ "name": "otto", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(cross_login.status(), 403);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_expire_when_idle_and_absolutely() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("vera").await;
        assert_eq!(
            app.get(&s, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        app.clock.advance(29 * 60);
        assert_eq!(
            app.get(&s, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "activity keeps it alive"
        );
        app.clock.advance(31 * 60);
        assert_eq!(
            app.get(&s, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            401,
            "idle for 31 minutes"
        );
        let s = app.login("vera").await;
        for _ in 0..25 {
            app.clock.advance(29 * 60);
            let _ = app.get(&s, "/api/v1/session").send().await.unwrap();
        }
        assert_eq!(
            app.get(&s, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            401,
            "past the absolute 12 hours"
        );
        let s = app.login("vera").await;
        let out = app
            .http
            .delete(app.url("/api/v1/session"))
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 204);
        assert_eq!(
            app.get(&s, "/api/v1/session")
                .send()
                .await
                .unwrap()
                .status(),
            401,
            "signed out"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_is_throttled_per_user_and_address() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    let attempt = |password: &'static str| {
        app.http
            .post(app.url("/api/v1/session"))
            .json(&json!({ "name": "vera", "password": password }))
            .send()
    };
    for _ in 0..5 {
        let r = attempt("wrong password!").await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(error_code(r).await, "bad_credentials");
    }
    let r = attempt(PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429, "even the right password waits");
    assert!(r.headers().contains_key("retry-after"));
    app.login("otto").await; // another user is not affected
    app.clock.advance(15 * 60);
    assert_eq!(attempt(PASSWORD).await.unwrap().status(), 201);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_tokens_are_scoped_expiring_and_never_stored_or_echoed() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("ada").await;
        let r = app
            .post(&s, "/api/v1/tokens")
            .json(&json!({ "name": "ci", "role": "viewer", "days": 1 }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let bearer = |path: &str| app.http.get(app.url(path)).bearer_auth(&token).send();
        assert_eq!(bearer("/api/v1/runs").await.unwrap().status(), 200);
        assert_eq!(
            bearer("/api/v1/users").await.unwrap().status(),
            403,
            "scoped to viewer"
        );
        let users = app
            .get(&s, "/api/v1/users")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !users.contains("argon2") && !users.contains(PASSWORD),
            "no hash or password: {users}"
        );
        let audit = app
            .get(&s, "/api/v1/audit?limit=500")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            audit.contains("token.create") && audit.contains("session.login"),
            "{audit}"
        );
        assert!(
            !audit.contains(&token) && !audit.contains(PASSWORD),
            "no secret in the audit log"
        );
        let in_db = app
            .env
            .store
            .run_blocking(|tx| tx.api_tokens())
            .await
            .unwrap();
        assert!(in_db.iter().all(|t| t.token_hash != token), "stored hashed");
        app.clock.advance(86_400);
        assert_eq!(
            bearer("/api/v1/runs").await.unwrap().status(),
            401,
            "expired"
        );
        app.stop().await;
    }
}
