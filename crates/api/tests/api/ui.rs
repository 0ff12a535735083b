//! The web admin UI over HTTP: the sign-in form flow, every page for the least role that may
//! open it (with the data a run put there), role enforcement, anti-forgery and origin checks
//! on POSTs, error pages, and no inline script or style anywhere.

use identitymesh_domain::run::RunProfile::{FullImport, FullSync};
use identitymesh_engine::RunOptions;
use identitymesh_testkit::Backend;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::Value;

use crate::helpers::{App, CONFIG, PASSWORD};

/// A browser-like session of the UI: the cookie and the anti-forgery token from a page.
pub struct UiSession {
    pub cookie: String,
}

async fn sign_in(app: &App, name: &str) -> UiSession {
    let r = app
        .http
        .post(app.url("/ui/signin"))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in of {name}");
    assert_eq!(r.headers()[LOCATION], "/ui");
    let set = r.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    UiSession {
        cookie: set.split(';').next().unwrap().to_owned(),
    }
}

async fn page(app: &App, s: &UiSession, path: &str) -> (u16, String) {
    let r = app
        .http
        .get(app.url(path))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    if status == 200 {
        let ct = r.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
    let body = r.text().await.unwrap();
    assert_clean(path, &body);
    (status, body)
}

/// No script and no inline style: the CSP forbids both.
fn assert_clean(path: &str, html: &str) {
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "{path} has a script");
    assert!(!lower.contains(" style="), "{path} has an inline style");
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with the csrf field");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn seeded() -> App {
    let app = App::start(Backend::Sqlite).await;
    let engine = app.env.engine(CONFIG);
    for profile in [FullImport, FullSync] {
        engine
            .run("hr", profile, &RunOptions::default())
            .await
            .unwrap();
    }
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_form_sets_the_cookie_and_shows_failures_and_throttling() {
    let app = App::start(Backend::Sqlite).await;
    let r = app.http.get(app.url("/ui")).send().await.unwrap();
    assert_eq!(r.status(), 303, "no session: to the sign-in page");
    assert_eq!(r.headers()[LOCATION], "/ui/signin");
    let form = app.http.get(app.url("/ui/signin")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert_clean("/ui/signin", &html);
    assert!(html.contains("<label for=\"name\">") && html.contains("<label for=\"password\">"));

    let s = sign_in(&app, "vera").await;
    let (status, html) = page(&app, &s, "/ui").await;
    assert_eq!(status, 200);
    assert!(html.contains("vera (viewer)"));

    let wrong = [("name", "otto"), ("password", "nope")];
    let r = app
        .http
        .post(app.url("/ui/signin"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let html = r.text().await.unwrap();
    assert!(html.contains("wrong user name or password"), "{html}");
    assert!(html.contains("value=\"otto\""), "the name is kept");
    for _ in 0..5 {
        app.http
            .post(app.url("/ui/signin"))
            .form(&wrong)
            .send()
            .await
            .unwrap();
    }
    let r = app
        .http
        .post(app.url("/ui/signin"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("too many failed sign-ins"));

    // signing out ends the session
    let (_, html) = page(&app, &s, "/ui").await;
    let r = app
        .http
        .post(app.url("/ui/signout"))
        .header(COOKIE, &s.cookie)
        .form(&[("csrf", csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/ui/signin");
    let r = app
        .http
        .get(app.url("/ui"))
        .header(COOKIE, &s.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the old cookie no longer works");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_renders_with_its_data_for_the_least_role() {
    let app = seeded().await;
    let (vera, otto, ada) = (
        sign_in(&app, "vera").await,
        sign_in(&app, "otto").await,
        sign_in(&app, "ada").await,
    );
    let found: Value = app
        .http
        .get(app.url("/api/v1/mesh?attribute=displayName&value=ada"))
        .header(COOKIE, &vera.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mesh_id = found["items"][0]["id"].as_i64().unwrap();
    let runs: Value = app
        .http
        .get(app.url("/api/v1/runs"))
        .header(COOKIE, &vera.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run_id = runs["items"][0]["id"].as_i64().unwrap();
    let expectations: Vec<(String, &[&str])> = vec![
        (
            "/ui".into(),
            &[
                "Recent runs",
                "full-sync",
                "Engine",
                "Held exports",
                "Join conflicts",
            ],
        ),
        ("/ui/connectors".into(), &["hr", "csv", "person"]),
        (
            "/ui/connectors/hr".into(),
            &["Schema", "employeeId", "Run history", "full-import"],
        ),
        (
            "/ui/runs".into(),
            &["full-import", "full-sync", "completed"],
        ),
        (
            format!("/ui/runs/{run_id}"),
            &["Statistics", "projected", "Object errors"],
        ),
        (
            "/ui/mesh?attribute=displayName&value=ada".into(),
            &["Ada Lovelace"],
        ),
        (
            format!("/ui/mesh/{mesh_id}"),
            &[
                "Ada Lovelace",
                "hr",
                "flows",
                "Linked connector objects",
                "History",
            ],
        ),
        (
            "/ui/review".into(),
            &["Held exports", "Nothing awaits a decision"],
        ),
    ];
    for (path, wanted) in &expectations {
        let (status, html) = page(&app, &vera, path).await;
        assert_eq!(status, 200, "{path}");
        for w in *wanted {
            assert!(html.contains(w), "{path} lacks {w}:\n{html}");
        }
        assert!(html.contains("<h1>"), "{path} has a heading");
        assert!(
            !html.contains("Run now"),
            "a viewer gets no run form on {path}"
        );
    }
    let (_, search) = page(&app, &vera, "/ui/mesh?attribute=displayName&value=ada").await;
    assert!(!search.contains("Alan Turing"), "the search filters");
    // the audit log is for operators, users for administrators, as in the API
    assert_eq!(page(&app, &vera, "/ui/audit").await.0, 403);
    let (status, html) = page(&app, &otto, "/ui/audit?actor=user%3Aotto").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("session.login") && !html.contains("user:vera"),
        "{html}"
    );
    let (_, html) = page(&app, &otto, "/ui/connectors").await;
    assert!(html.contains("Run now"));
    assert_eq!(page(&app, &otto, "/ui/users").await.0, 403);
    let (status, html) = page(&app, &ada, "/ui/users").await;
    assert_eq!(status, 200);
    assert!(html.contains("vera") && html.contains("operator"));
    // errors are pages with clear messages
    let (status, html) = page(&app, &vera, "/ui/runs/9999").await;
    assert_eq!(status, 404);
    assert!(html.contains("there is no run #9999"), "{html}");
    assert_eq!(page(&app, &vera, "/ui/runs/abc").await.0, 400);
    assert_eq!(page(&app, &vera, "/ui/nowhere").await.0, 404);
    let (status, html) = page(&app, &vera, "/ui/audit").await;
    assert_eq!(status, 403);
    assert!(
        html.contains("needs &#39;operator&#39;") || html.contains("needs 'operator'"),
        "{html}"
    );
    let css = app
        .http
        .get(app.url("/ui/static/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_need_the_token_the_origin_and_the_role() {
    let app = seeded().await;
    let (vera, otto) = (sign_in(&app, "vera").await, sign_in(&app, "otto").await);
    let (_, html) = page(&app, &otto, "/ui/connectors").await;
    let token = csrf_of(&html);
    let run = app.url("/ui/connectors/hr/run");
    let post = |s: &UiSession| app.http.post(&run).header(COOKIE, s.cookie.clone());

    let r = post(&otto)
        .form(&[("profile", "full-import")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no anti-forgery field");
    let html = r.text().await.unwrap();
    assert!(html.contains("anti-forgery"), "{html}");
    assert_clean("refusal", &html);
    let forged = [("profile", "full-import"), ("csrf", "forged")];
    assert_eq!(
        post(&otto).form(&forged).send().await.unwrap().status(),
        403
    );
    let good = [("profile", "full-import"), ("csrf", token.as_str())];
    let r = post(&otto)
        .header(ORIGIN, "http://evil.example")
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another origin");

    let (_, vera_page) = page(&app, &vera, "/ui").await;
    let vera_form = [("profile", "full-import"), ("csrf", &csrf_of(&vera_page))];
    let r = post(&vera).form(&vera_form).send().await.unwrap();
    assert_eq!(r.status(), 403, "a viewer may not run");
    assert!(r.text().await.unwrap().contains("needs"));

    let r = post(&otto)
        .header(ORIGIN, app.base.clone())
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/ui/runs/"), "{location}");
    let (status, html) = page(&app, &otto, &location).await;
    assert_eq!(status, 200);
    assert!(html.contains("user:otto") && html.contains("full-import"));
    let (status, partial) = page(&app, &otto, &format!("{location}?partial=1")).await;
    assert_eq!(status, 200);
    assert!(partial.starts_with("<section id=\"live\"") && !partial.contains("<html"));

    let bad = [("decision", "maybe"), ("csrf", token.as_str())];
    let r = app
        .http
        .post(app.url("/ui/review/hr/held"))
        .header(COOKIE, &otto.cookie)
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    app.stop().await;
}
