//! Health, metrics, the error body for hostile input, the OpenAPI document, and a run
//! started over the API whose detail is then readable.

use identitymesh_testkit::backends;
use serde_json::{Value, json};

use crate::helpers::{App, error_code};

#[tokio::test(flavor = "multi_thread")]
async fn health_ready_metrics_and_headers() {
    for backend in backends() {
        let app = App::start(backend).await;
        let r = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            app.http
                .get(app.url("/readyz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let metrics = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("identitymesh_export_queue{connector=\"hr\",state=\"held\"} 0"),
            "{metrics}"
        );
        assert!(metrics.contains("identitymesh_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"), "{metrics}");
        let r = app.http.get(app.url("/nowhere")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(error_code(r).await, "not_found");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_bodies_and_filters_get_4xx() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("otto").await;
        let runs = "/api/v1/connectors/hr/runs";
        let cases = [
            (
                app.post(&s, runs)
                    .header("content-type", "application/json")
                    .body("{not json"),
                400,
            ),
            (
                app.post(&s, runs)
                    .json(&json!({ "profile": "full-import", "surprise": 1 })),
                400,
            ),
            (
                app.post(&s, runs).json(&json!({ "profile": "backwards" })),
                400,
            ),
            (
                app.post(&s, runs)
                    .header("content-type", "application/json")
                    .body(vec![b' '; 200_000]),
                413,
            ),
            (app.post(&s, runs).body("profile=x"), 415),
            (app.get(&s, "/api/v1/runs?limit=0"), 400),
            (app.get(&s, "/api/v1/runs?limit=abc"), 400),
            (app.get(&s, "/api/v1/runs?colour=red"), 400),
            (app.get(&s, "/api/v1/runs?status=sideways"), 400),
            (app.get(&s, "/api/v1/runs/notanumber"), 400),
            (app.get(&s, "/api/v1/mesh?after=-5"), 400),
            (
                app.get(&s, "/api/v1/connectors/hr/held-exports?limit=100000"),
                400,
            ),
            (app.get(&s, "/api/v1/runs/999"), 404),
        ];
        for (request, status) in cases {
            let r = request.send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{}", r.url());
            error_code(r).await;
        }
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_started_over_the_api_finishes_and_is_readable() {
    for backend in backends() {
        let app = App::start(backend).await;
        let s = app.login("otto").await;
        let r = app
            .post(&s, "/api/v1/connectors/hr/runs")
            .json(&json!({ "profile": "full-import" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
        let mut status = String::new();
        for _ in 0..500 {
            let run: Value = app
                .get(&s, &format!("/api/v1/runs/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            status = run["run"]["status"].as_str().unwrap().to_owned();
            if status != "running" {
                assert_eq!(run["run"]["actor"], "user:otto");
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(status, "completed");
        let list: Value = app
            .get(&s, "/api/v1/runs?connector=hr")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"][0]["id"], id);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_exists() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    let doc: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path, _, _) in identitymesh_api::v1::operations() {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
        let url = app.url(&path.replace("{name}", "hr").replace("{id}", "1"));
        let r = app
            .http
            .request(method.to_uppercase().parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            assert_ne!(
                error_code(r).await,
                "not_found",
                "{method} {path} is routed"
            );
        }
        assert_ne!(
            app.http
                .request(method.to_uppercase().parse().unwrap(), app.url(path))
                .send()
                .await
                .unwrap()
                .status(),
            405,
            "{method} {path}"
        );
    }
    app.stop().await;
}
