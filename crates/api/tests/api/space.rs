//! The connector space over the API and on a connector's page: state filters (pending
//! import, pending export, not joined), anchor and attribute-value search, paging, one
//! object with its staged values, mesh link and queued export, and clear 400s for bad
//! filters — after real imports and syncs of the CSV connector.

use identitymesh_domain::export::{ExportOp, ExportReason, NewExport};
use identitymesh_domain::run::RunProfile;
use identitymesh_domain::{Anchor, ConnectorName};
use identitymesh_engine::{Clock, RunOptions};
use identitymesh_testkit::backends;
use serde_json::Value;

use crate::helpers::{App, CONFIG, Session, error_code};

async fn run(app: &App, profile: RunProfile) {
    let options = RunOptions {
        actor: "test".into(),
        ..RunOptions::default()
    };
    let report = app
        .env
        .engine(CONFIG)
        .run("hr", profile, &options)
        .await
        .unwrap();
    assert_eq!(report.stats.errors, 0, "{profile:?}");
}

async fn page(app: &App, s: &Session, query: &str) -> Value {
    let r = app
        .get(s, &format!("/api/v1/connectors/hr/objects{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

async fn anchors(app: &App, s: &Session, query: &str) -> Vec<String> {
    page(app, s, query).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["anchor"].as_str().unwrap().to_owned())
        .collect()
}

async fn queue_delete_of(app: &App, anchor: &str) {
    let (connector, anchor) = (
        ConnectorName::parse("hr").unwrap(),
        Anchor::parse(anchor).unwrap(),
    );
    let now = app.clock.now();
    app.env
        .store
        .run_blocking(move |tx| {
            let staged = tx.staged_by_anchor(&connector, &anchor)?.unwrap();
            let export = NewExport {
                connector,
                staged_id: staged.id,
                anchor,
                mesh_id: staged.link.mesh_id(),
                op: ExportOp::Delete,
                reason: ExportReason::DeprovisionDelete,
            };
            tx.queue_export(&export, 1, now)
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_search_and_paging() {
    for backend in backends() {
        let app = App::start(backend).await;
        let vera = app.login("vera").await;
        assert!(
            anchors(&app, &vera, "").await.is_empty(),
            "nothing imported yet"
        );
        run(&app, RunProfile::FullImport).await;
        assert_eq!(
            anchors(&app, &vera, "?state=pending-import").await,
            ["1", "2"]
        );
        assert_eq!(anchors(&app, &vera, "?state=unjoined").await, ["1", "2"]);
        assert!(
            anchors(&app, &vera, "?state=pending-export")
                .await
                .is_empty()
        );
        assert_eq!(
            anchors(&app, &vera, "?attribute=displayName&value=ada%20LOVELACE").await,
            ["1"]
        );
        assert_eq!(anchors(&app, &vera, "?anchor=2&state=all").await, ["2"]);

        let first = page(&app, &vera, "?limit=1").await;
        let next = first["next"].as_i64().unwrap();
        let second = page(&app, &vera, &format!("?limit=1&after={next}")).await;
        assert_eq!(second["items"][0]["anchor"], "2");
        let third = page(&app, &vera, &format!("?limit=1&after={}", second["next"])).await;
        assert!(third["items"].as_array().unwrap().is_empty());
        assert!(third["next"].is_null());

        let one = app
            .get(&vera, "/api/v1/connectors/hr/objects/1")
            .send()
            .await
            .unwrap();
        assert_eq!(one.status(), 200);
        let one: Value = one.json().await.unwrap();
        assert_eq!(one["attributes"]["displayName"][0], "Ada Lovelace");
        assert_eq!(one["pending_import"], "add");
        assert!(one["mesh_id"].is_null() && one["pending_export"].is_null());

        run(&app, RunProfile::FullSync).await;
        assert!(
            anchors(&app, &vera, "?state=pending-import")
                .await
                .is_empty()
        );
        assert!(anchors(&app, &vera, "?state=unjoined").await.is_empty());
        queue_delete_of(&app, "2").await;
        assert_eq!(anchors(&app, &vera, "?state=pending-export").await, ["2"]);
        let two: Value = app
            .get(&vera, "/api/v1/connectors/hr/objects/2")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mesh = two["mesh_id"].as_i64().unwrap();
        assert_eq!(two["mesh_url"], format!("/api/v1/mesh/{mesh}"));
        assert_eq!(two["pending_export"]["op"]["kind"], "delete");
        assert_eq!(two["pending_export"]["state"], "pending");

        let ui = app
            .get(&vera, "/ui/connectors/hr?state=pending-export")
            .send()
            .await
            .unwrap();
        assert_eq!(ui.status(), 200);
        let html = ui.text().await.unwrap();
        assert!(
            html.contains("Connector space") && html.contains(&format!("/ui/mesh/{mesh}")),
            "{html}"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_filters_get_a_clear_400() {
    let app = App::start(identitymesh_testkit::Backend::Sqlite).await;
    let vera = app.login("vera").await;
    for (query, needle) in [
        ("?state=bogus", "pending-import"),
        ("?limit=501", "1 to 500"),
        ("?limit=0", "1 to 500"),
        ("?limit=ten", "invalid query"),
        ("?after=-1", "after"),
        ("?attribute=displayName", "'value'"),
        ("?value=Ada", "'attribute'"),
        ("?colour=red", "invalid query"),
    ] {
        let r = app
            .get(&vera, &format!("/api/v1/connectors/hr/objects{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let body: Value = r.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
    let unknown = app
        .get(&vera, "/api/v1/connectors/nope/objects")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_code(unknown).await, "not_found");
    let missing = app
        .get(&vera, "/api/v1/connectors/hr/objects/999")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let ui = app
        .get(&vera, "/ui/connectors/hr?state=bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 400, "the page says so too");
    app.stop().await;
}
