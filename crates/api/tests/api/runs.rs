//! Runs over the API and the UI: the run list filtered and paged in the database, bad filter
//! values refused with a 400 naming the problem, live progress and cancel requests on a
//! running run (one recorded as another instance's engine would: the run row, its counters
//! committed batch by batch), and the run page's refresh, counters and Cancel button.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use identitymesh_domain::run::{RunProfile, RunStats, RunStatus};
use identitymesh_engine::{Clock, RunOptions};
use identitymesh_testkit::backends;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::helpers::{App, CONFIG, PASSWORD, Session, error_code};

/// Records a run as an engine would: started at `at`, finished with `status` unless running.
async fn recorded_run(
    app: &App,
    connector: &str,
    profile: RunProfile,
    status: RunStatus,
    at: DateTime<Utc>,
) -> i64 {
    let connector = connector.to_owned();
    app.env
        .store
        .run_blocking(move |tx| {
            let id = tx.start_run(&connector, profile, false, "cli:test", at)?;
            if status != RunStatus::Running {
                tx.finish_run(id, status, &RunStats::default(), None, at)?;
            }
            Ok(id)
        })
        .await
        .unwrap()
}

async fn get_json(app: &App, s: &Session, path: &str) -> Value {
    let r = app.get(s, path).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_run_list_filters_and_pages_in_the_database() {
    for backend in backends() {
        let app = App::start(backend).await;
        let vera = app.login("vera").await;
        let t0 = app.clock.now();
        let hour = |h: i64| t0 + Duration::hours(h);
        let (imp, sync, exp) = (
            RunProfile::FullImport,
            RunProfile::FullSync,
            RunProfile::Export,
        );
        let r = [
            recorded_run(&app, "hr", imp, RunStatus::Completed, hour(0)).await,
            recorded_run(&app, "hr", imp, RunStatus::Failed, hour(1)).await,
            recorded_run(&app, "ad", exp, RunStatus::Completed, hour(2)).await,
            recorded_run(&app, "hr", sync, RunStatus::Completed, hour(3)).await,
            recorded_run(&app, "hr", imp, RunStatus::Cancelled, hour(4)).await,
        ];
        let list = |q: &str| format!("/api/v1/runs?{q}");
        assert_eq!(
            ids(&get_json(&app, &vera, &list("connector=hr&status=completed")).await),
            vec![r[3], r[0]]
        );
        assert_eq!(
            ids(&get_json(&app, &vera, &list("profile=full-import")).await),
            vec![r[4], r[1], r[0]]
        );
        assert_eq!(
            ids(&get_json(&app, &vera, &list("status=cancelled")).await),
            vec![r[4]]
        );
        let window = format!("since={}&until={}", stamp(hour(1)), stamp(hour(3)));
        assert_eq!(
            ids(&get_json(&app, &vera, &list(&window)).await),
            vec![r[2], r[1]]
        );
        // empty values (an HTML form's untouched fields) mean "any"
        assert_eq!(
            ids(&get_json(&app, &vera, &list("connector=&status=&limit=50")).await).len(),
            5
        );
        // keyset pages: `next` is the cursor of the following page, null on the last
        let first = get_json(&app, &vera, &list("connector=hr&limit=2")).await;
        assert_eq!(ids(&first), vec![r[4], r[3]]);
        let next = first["next"].as_i64().unwrap();
        let second = get_json(
            &app,
            &vera,
            &list(&format!("connector=hr&limit=2&before={next}")),
        )
        .await;
        assert_eq!(ids(&second), vec![r[1], r[0]]);
        assert!(second["next"].is_null(), "{second}");
        // a connector's runs take the same filters
        let of_hr = get_json(&app, &vera, "/api/v1/connectors/hr/runs?status=completed").await;
        assert_eq!(ids(&of_hr), vec![r[3], r[0]]);
        let of_ad = get_json(&app, &vera, "/api/v1/connectors/ad/runs?limit=1").await;
        assert_eq!(
            (ids(&of_ad), of_ad["next"].clone()),
            (vec![r[2]], Value::Null)
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_run_filters_get_a_400_naming_the_problem() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    let vera = app.login("vera").await;
    let cases = [
        (
            "/api/v1/runs?status=sideways",
            "status 'sideways' is not a run status",
        ),
        (
            "/api/v1/runs?profile=backwards",
            "profile 'backwards' is not a run profile",
        ),
        (
            "/api/v1/runs?since=yesterday",
            "since 'yesterday' is not a time",
        ),
        (
            "/api/v1/runs?until=2024-13-01",
            "until '2024-13-01' is not a time",
        ),
        (
            "/api/v1/runs?since=2024-05-02&until=2024-05-01",
            "until must be later than since",
        ),
        ("/api/v1/runs?limit=0", "limit 0 is out of range"),
        ("/api/v1/runs?limit=501", "limit 501 is out of range"),
        ("/api/v1/runs?before=0", "before 0 is out of range"),
        ("/api/v1/runs?before=abc", "invalid query"),
        ("/api/v1/runs?colour=red", "unknown field"),
        (
            "/api/v1/connectors/hr/runs?connector=ad",
            "the connector is in the path",
        ),
        ("/api/v1/connectors/hr/runs?status=done", "not a run status"),
    ];
    for (path, message) in cases {
        let r = app.get(&vera, path).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{path}");
        let text = body["error"]["message"].as_str().unwrap();
        assert!(text.contains(message), "{path}: {text}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_run_shows_live_progress_and_can_be_cancelled_once() {
    for backend in backends() {
        let app = App::start(backend).await;
        let (vera, otto, ada) = (
            app.login("vera").await,
            app.login("otto").await,
            app.login("ada").await,
        );
        let at = app.clock.now();
        let id = recorded_run(&app, "hr", RunProfile::FullImport, RunStatus::Running, at).await;
        let live = RunStats {
            read: 1000,
            staged_adds: 990,
            ..RunStats::default()
        };
        app.env
            .store
            .run_blocking(move |tx| tx.update_run_stats(id, &live))
            .await
            .unwrap();
        let detail = get_json(&app, &vera, &format!("/api/v1/runs/{id}")).await;
        assert_eq!(detail["run"]["status"], "running");
        assert_eq!(detail["run"]["stats"]["read"], 1000, "{detail}");
        assert!(detail["run"]["cancel_requested_at"].is_null());

        let cancel = format!("/api/v1/runs/{id}/cancel");
        let r = app.post(&vera, &cancel).send().await.unwrap();
        assert_eq!(r.status(), 403, "a viewer may not cancel");
        let r = app.post(&otto, &cancel).send().await.unwrap();
        assert_eq!(r.status(), 202);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["cancel_requested_by"], "user:otto");
        // asking again is accepted and keeps the first request
        let r = app.post(&ada, &cancel).send().await.unwrap();
        assert_eq!(r.status(), 202);
        assert_eq!(
            r.json::<Value>().await.unwrap()["cancel_requested_by"],
            "user:otto"
        );
        let detail = get_json(&app, &vera, &format!("/api/v1/runs/{id}")).await;
        assert_eq!(detail["run"]["cancel_requested_by"], "user:otto");
        assert!(detail["run"]["cancel_requested_at"].is_string());
        assert_eq!(
            detail["run"]["status"], "running",
            "the engine decides when it stops"
        );
        let audit = get_json(&app, &otto, "/api/v1/audit?actor=user:otto").await;
        let requests: Vec<&Value> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "run.cancel_requested")
            .collect();
        assert_eq!(requests.len(), 1, "{audit}");
        assert_eq!(requests[0]["target"], format!("run:{id}"));

        let done = recorded_run(&app, "hr", RunProfile::FullSync, RunStatus::Completed, at).await;
        let r = app
            .post(&otto, &format!("/api/v1/runs/{done}/cancel"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("is not running"),
            "{body}"
        );
        let r = app
            .post(&otto, "/api/v1/runs/9999/cancel")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(error_code(r).await, "not_found");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_started_over_the_api_answers_with_its_id_and_is_listed_running_or_done() {
    for backend in backends() {
        let app = App::start(backend).await;
        let otto = app.login("otto").await;
        let r = app
            .post(&otto, "/api/v1/connectors/hr/runs")
            .json(&json!({ "profile": "full-import" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
        // the id is the run's row: readable at once, whatever the run's progress
        let detail = get_json(&app, &otto, &format!("/api/v1/runs/{id}")).await;
        assert_eq!(detail["run"]["actor"], "user:otto");
        assert_eq!(detail["run"]["profile"], "full-import");
        let listed = get_json(&app, &otto, "/api/v1/connectors/hr/runs").await;
        assert_eq!(ids(&listed)[0], id);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_over_the_api_stops_the_engine_at_its_next_batch() {
    for backend in backends() {
        let app = App::start(backend).await;
        let otto = app.login("otto").await;
        let mut csv = String::from("employeeId,displayName\n");
        for i in 1..=2500 {
            csv.push_str(&format!("{i},Person {i}\n"));
        }
        app.env.write("hr.csv", csv);
        // the engine calls this after each committed batch: the first one asks to cancel
        let run_id = Arc::new(AtomicI64::new(0));
        let (id_seen, http, url) = (run_id.clone(), app.http.clone(), app.base.clone());
        let (cookie, csrf) = (otto.cookie.clone(), otto.csrf.clone());
        let asked = Arc::new(AtomicBool::new(false));
        let engine =
            app.env
                .engine(CONFIG)
                .with_progress(Arc::new(move |_: &str, _: &RunStats| {
                    if asked.swap(true, Ordering::SeqCst) {
                        return;
                    }
                    let id = id_seen.load(Ordering::SeqCst);
                    let request = http
                        .post(format!("{url}/api/v1/runs/{id}/cancel"))
                        .header(COOKIE, &cookie)
                        .header("x-csrf-token", &csrf);
                    let status = tokio::task::block_in_place(|| {
                        tokio::runtime::Handle::current()
                            .block_on(async { request.send().await.unwrap().status() })
                    });
                    assert_eq!(status, 202);
                }));
        let options = RunOptions {
            actor: "cli:test".into(),
            ..RunOptions::default()
        };
        let handle = engine
            .start_run("hr", RunProfile::FullImport, &options)
            .await
            .unwrap();
        run_id.store(handle.id, Ordering::SeqCst);
        let report = handle.join.await.unwrap();
        assert_eq!(report.status, RunStatus::Cancelled, "{report:#?}");
        assert_eq!(report.stats.read, 1000, "stopped after the first batch");
        let detail = get_json(&app, &otto, &format!("/api/v1/runs/{}", handle.id)).await;
        assert_eq!(detail["run"]["status"], "cancelled");
        assert_eq!(detail["run"]["stats"]["staged_adds"], 1000);
        assert_eq!(detail["run"]["cancel_requested_by"], "user:otto");
        let cancelled = get_json(&app, &otto, "/api/v1/runs?status=cancelled").await;
        assert_eq!(ids(&cancelled), vec![handle.id]);
        let audit = get_json(&app, &otto, "/api/v1/audit?actor=user:otto").await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["action"].as_str())
            .collect();
        assert!(
            actions.contains(&"run.cancel_requested") && actions.contains(&"run.cancelled"),
            "{actions:?}"
        );
        app.stop().await;
    }
}

// ---------------------------------------------------------------- the UI's run pages

async fn ui_sign_in(app: &App, name: &str) -> String {
    let r = app
        .http
        .post(app.url("/ui/signin"))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-in of {name}");
    let set = r.headers()[SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn ui_page(app: &App, cookie: &str, path: &str) -> (u16, String) {
    let r = app
        .http
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let html = r.text().await.unwrap();
    assert!(
        !html.to_lowercase().contains("<script"),
        "{path} has a script"
    );
    (status, html)
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker).expect("a form with the csrf field") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"2\">";

#[tokio::test(flavor = "multi_thread")]
async fn the_run_page_refreshes_while_running_and_operators_can_cancel_it() {
    for backend in backends() {
        let app = App::start(backend).await;
        let (otto, vera) = (
            ui_sign_in(&app, "otto").await,
            ui_sign_in(&app, "vera").await,
        );
        let at = app.clock.now();
        let id = recorded_run(&app, "hr", RunProfile::FullImport, RunStatus::Running, at).await;
        let live = RunStats {
            read: 1000,
            staged_adds: 1000,
            ..RunStats::default()
        };
        let stats = live.clone();
        app.env
            .store
            .run_blocking(move |tx| tx.update_run_stats(id, &stats))
            .await
            .unwrap();
        let path = format!("/ui/runs/{id}");
        let (status, html) = ui_page(&app, &otto, &path).await;
        assert_eq!(status, 200);
        assert!(html.contains(REFRESH), "refreshes while running");
        assert!(
            html.contains("staged adds") && html.contains("1000"),
            "live counters"
        );
        assert!(html.contains(&format!("action=\"/ui/runs/{id}/cancel\"")));
        let (_, viewer_html) = ui_page(&app, &vera, &path).await;
        assert!(
            !viewer_html.contains("/cancel\""),
            "no Cancel button for a viewer"
        );

        let post = |cookie: &str, token: &str| {
            app.http
                .post(app.url(&format!("/ui/runs/{id}/cancel")))
                .header(COOKIE, cookie)
                .header(ORIGIN, app.base.clone())
                .form(&[("csrf", token.to_owned())])
        };
        let r = post(&otto, "forged").send().await.unwrap();
        assert_eq!(r.status(), 403, "a forged anti-forgery token");
        let r = post(&vera, &csrf_of(&viewer_html)).send().await.unwrap();
        assert_eq!(r.status(), 403, "a viewer may not cancel");
        let r = post(&otto, &csrf_of(&html)).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()[LOCATION], path.as_str());
        let (_, html) = ui_page(&app, &otto, &path).await;
        assert!(
            html.contains("Cancel requested") && html.contains("by user:otto"),
            "{html}"
        );
        assert!(
            !html.contains("/cancel\""),
            "asked already: no second button"
        );

        app.env
            .store
            .run_blocking(move |tx| {
                tx.finish_run(
                    id,
                    RunStatus::Cancelled,
                    &live,
                    Some("cancelled by user:otto"),
                    at,
                )
            })
            .await
            .unwrap();
        let (_, html) = ui_page(&app, &otto, &path).await;
        assert!(
            !html.contains("http-equiv=\"refresh\""),
            "no refresh once it ended"
        );
        assert!(html.contains("cancelled"));
        // a run that ended meanwhile: the button's POST just shows the final page
        let r = post(&otto, &csrf_of(&html)).send().await.unwrap();
        assert_eq!(r.status(), 303);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_run_list_page_filters_and_pages() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    let vera = ui_sign_in(&app, "vera").await;
    let at = app.clock.now();
    let mut hr = Vec::new();
    for _ in 0..51 {
        hr.push(recorded_run(&app, "hr", RunProfile::FullImport, RunStatus::Completed, at).await);
    }
    let ad = recorded_run(&app, "ad", RunProfile::Export, RunStatus::Failed, at).await;
    let (status, html) = ui_page(&app, &vera, "/ui/runs?connector=hr&status=completed").await;
    assert_eq!(status, 200);
    assert!(html.contains("<label for=\"connector\">") && html.contains("<label for=\"status\">"));
    assert!(
        html.contains("<option value=\"completed\" selected>"),
        "the filter is kept"
    );
    assert!(
        !html.contains(&format!("/ui/runs/{ad}\"")),
        "other connectors left out"
    );
    assert!(html.contains(&format!("/ui/runs/{}\"", hr[50])));
    assert!(
        !html.contains(&format!("/ui/runs/{}\"", hr[0])),
        "50 per page"
    );
    let older = format!(
        "/ui/runs?connector=hr&amp;status=completed&amp;before={}",
        hr[1]
    );
    assert!(html.contains(&older), "an older-runs link: {html}");
    let (_, page2) = ui_page(&app, &vera, &older.replace("&amp;", "&")).await;
    assert!(page2.contains(&format!("/ui/runs/{}\"", hr[0])));
    assert!(
        page2.contains("Newest runs") && !page2.contains("rel=\"next\""),
        "the last page links back to the newest, not further"
    );
    let (status, html) = ui_page(&app, &vera, "/ui/runs?status=sideways").await;
    assert_eq!(status, 400);
    assert!(html.contains("not a run status"));
    app.stop().await;
}
