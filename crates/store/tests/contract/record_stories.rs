//! Stories of the records around runs (watermarks, audit, configuration, simulations),
//! coordination (leases, run requests), and the schema and decoding guarantees.

use identitymesh_domain::audit::NewAudit;
use identitymesh_domain::run::RunProfile;
use identitymesh_domain::watermark::WatermarkKind;
use identitymesh_store::{
    AuditFilter, DatabaseUrl, SCHEMA_VERSION, StagedFilter, Store, StoreError,
};
use serde_json::json;

use crate::fixtures::{at, connector, staged};
use crate::harness::raw_execute;

pub fn watermarks(store: &Store) {
    let hr = connector("hr");
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.watermark(&hr, WatermarkKind::Delta).unwrap(), None);
    tx.set_watermark(&hr, WatermarkKind::Delta, r#"{"format":2}"#, at(0))
        .unwrap();
    tx.set_watermark(&hr, WatermarkKind::Delta, "v2", at(1))
        .unwrap();
    tx.set_watermark(&hr, WatermarkKind::Full, "f1", at(1))
        .unwrap();
    assert_eq!(
        tx.watermark(&hr, WatermarkKind::Delta).unwrap().as_deref(),
        Some("v2")
    );
    assert_eq!(
        tx.watermark(&connector("ad"), WatermarkKind::Delta)
            .unwrap(),
        None
    );
    tx.clear_watermark(&hr, WatermarkKind::Delta).unwrap();
    assert_eq!(tx.watermark(&hr, WatermarkKind::Delta).unwrap(), None);
    assert_eq!(
        tx.watermark(&hr, WatermarkKind::Full).unwrap().as_deref(),
        Some("f1")
    );
    tx.commit().unwrap();
}

pub fn audit(store: &Store) {
    let mut tx = store.begin().unwrap();
    let record = |actor: &str, target: &str| NewAudit {
        actor: actor.into(),
        action: "mesh.update".into(),
        target: target.into(),
        before: Some(json!({"title": ["a"]})),
        after: None,
        run_id: Some(3),
    };
    let a1 = tx.append_audit(&record("run:3", "mesh:1"), at(0)).unwrap();
    let a2 = tx
        .append_audit(&record("user:ada", "mesh:1"), at(1))
        .unwrap();
    let a3 = tx.append_audit(&record("run:3", "mesh:2"), at(2)).unwrap();
    let ids = |filter: AuditFilter, tx: &mut dyn identitymesh_store::Tx| {
        tx.audit(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    let all = AuditFilter {
        limit: 10,
        ..AuditFilter::default()
    };
    assert_eq!(ids(all.clone(), tx.as_mut()), vec![a3, a2, a1]);
    assert_eq!(
        ids(
            AuditFilter {
                actor: Some("run:3".into()),
                ..all.clone()
            },
            tx.as_mut()
        ),
        vec![a3, a1]
    );
    assert_eq!(
        ids(
            AuditFilter {
                target: Some("mesh:1".into()),
                ..all.clone()
            },
            tx.as_mut()
        ),
        vec![a2, a1]
    );
    let both = AuditFilter {
        actor: Some("run:3".into()),
        target: Some("mesh:1".into()),
        ..all.clone()
    };
    assert_eq!(ids(both, tx.as_mut()), vec![a1]);
    assert_eq!(
        ids(
            AuditFilter {
                before_id: Some(a3),
                limit: 1,
                ..all.clone()
            },
            tx.as_mut()
        ),
        vec![a2]
    );
    let first = tx
        .audit(&AuditFilter {
            before_id: Some(a2),
            ..all
        })
        .unwrap()
        .remove(0);
    assert_eq!(first.at, "2023-11-14T22:13:20.000000Z");
    assert_eq!(first.record, record("run:3", "mesh:1"));
    tx.commit().unwrap();
}

pub fn config_versions(store: &Store) {
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.active_config().unwrap(), None);
    let v1 = tx.apply_config("a = 1", "h1", "user:ada", at(0)).unwrap();
    let v2 = tx.apply_config("a = 2", "h2", "user:bob", at(1)).unwrap();
    assert!(v2 > v1);
    // identical content re-applied: no new version
    assert_eq!(
        tx.apply_config("a = 2", "h2", "user:eve", at(2)).unwrap(),
        v2
    );
    let active = tx.active_config().unwrap().unwrap();
    assert_eq!(
        (
            active.id,
            active.content.as_str(),
            active.author.as_str(),
            active.created_at
        ),
        (v2, "a = 2", "user:bob", at(1))
    );
    // going back to older content is a new version
    let v3 = tx.apply_config("a = 1", "h1", "user:ada", at(3)).unwrap();
    assert!(v3 > v2);
    let versions = tx.config_versions(10).unwrap();
    assert_eq!(
        versions.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![v3, v2, v1]
    );
    assert!(versions.iter().all(|v| v.content.is_empty()));
    assert_eq!(tx.config_versions(1).unwrap().len(), 1);
    tx.commit().unwrap();
}

pub fn simulations(store: &Store) {
    let mut tx = store.begin().unwrap();
    let run = tx
        .start_run("hr", RunProfile::FullSync, true, "user:ada", at(0))
        .unwrap();
    assert!(tx.simulation(run).unwrap().is_empty());
    let changes = vec![
        json!({"op": "add", "anchor": "007"}),
        json!({"op": "delete", "n": 2}),
    ];
    tx.store_simulation(run, &changes[..1]).unwrap();
    tx.store_simulation(run, &changes[1..]).unwrap();
    tx.store_simulation(run, &[]).unwrap();
    assert_eq!(tx.simulation(run).unwrap(), changes);
    tx.commit().unwrap();
}

pub fn leases(store: &Store) {
    let mut tx = store.begin().unwrap();
    let first = tx
        .acquire_lease("hr", "engine-a", at(0), 30)
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.holder.as_str(), first.expires_at),
        ("engine-a", at(30))
    );
    // another holder is refused while it is live
    assert_eq!(
        tx.acquire_lease("hr", "engine-b", at(10), 30).unwrap(),
        None
    );
    // renewal keeps the token
    let renewed = tx
        .acquire_lease("hr", "engine-a", at(20), 30)
        .unwrap()
        .unwrap();
    assert_eq!((renewed.token, renewed.expires_at), (first.token, at(50)));
    tx.check_fence("hr", first.token).unwrap();
    // expiry: another engine takes over with a higher token; the old one is fenced off
    let taken = tx
        .acquire_lease("hr", "engine-b", at(50), 30)
        .unwrap()
        .unwrap();
    assert!(taken.token > first.token);
    assert_eq!(tx.lease("hr").unwrap(), Some(taken.clone()));
    match tx.check_fence("hr", first.token) {
        Err(StoreError::StaleLease { connector, token }) => {
            assert_eq!((connector.as_str(), token), ("hr", first.token))
        }
        other => panic!("expected a stale lease, got {other:?}"),
    }
    // releasing with a stale token does nothing; with the right one frees it
    tx.release_lease("hr", "engine-a", first.token).unwrap();
    assert!(tx.lease("hr").unwrap().is_some());
    tx.release_lease("hr", "engine-b", taken.token).unwrap();
    assert_eq!(tx.lease("hr").unwrap(), None);
    assert!(tx.check_fence("hr", taken.token).is_err());
    // tokens keep increasing after the row is gone, and per connector
    let next = tx
        .acquire_lease("hr", "engine-a", at(60), 30)
        .unwrap()
        .unwrap();
    assert!(next.token > taken.token);
    let other = tx
        .acquire_lease("ad", "engine-a", at(60), 30)
        .unwrap()
        .unwrap();
    assert!(other.token > next.token);
    tx.commit().unwrap();
}

pub fn run_requests(store: &Store) {
    let mut tx = store.begin().unwrap();
    let r1 = tx
        .enqueue_run_request("hr", RunProfile::DeltaImport, "user:ada", at(0))
        .unwrap();
    let r2 = tx
        .enqueue_run_request("ad", RunProfile::Export, "token:ci", at(1))
        .unwrap();
    let queued = tx.run_requests(10).unwrap();
    assert_eq!(
        queued.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r1, r2]
    );
    assert_eq!(
        (
            queued[1].profile,
            queued[1].actor.as_str(),
            queued[1].requested_at
        ),
        (RunProfile::Export, "token:ci", at(1))
    );
    assert!(tx.take_run_request(r1).unwrap());
    assert!(!tx.take_run_request(r1).unwrap());
    assert_eq!(tx.run_requests(10).unwrap().len(), 1);
    tx.commit().unwrap();
}

pub fn baseline_bulk_insert(store: &Store) {
    let mut rows = (0..25_000).map(|i| (format!("a{i}"), format!("b{i}")));
    assert_eq!(store.baseline_bulk_insert(&mut rows).unwrap(), 25_000);
}

/// A newer schema is refused whatever `migrate` says, and is left as it was.
pub fn schema_too_new_is_refused(store: &Store, url: &DatabaseUrl) {
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    // reopening an up-to-date database, with or without migrate, is fine
    Store::open(url, false).unwrap();
    Store::open(url, true).unwrap();
    let future = SCHEMA_VERSION + 1;
    raw_execute(
        url,
        &format!(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({future}, 'future', '2030-01-01T00:00:00Z')"
        ),
    );
    for migrate in [true, false] {
        match Store::open(url, migrate) {
            Err(StoreError::SchemaTooNew { found, known }) => {
                assert_eq!((found, known), (future, SCHEMA_VERSION))
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }
    assert_eq!(store.schema_version().unwrap(), future);
}

/// A row that does not decode is reported as damaged, naming the table and id.
pub fn damaged_rows_are_reported(store: &Store, url: &DatabaseUrl) {
    let mut tx = store.begin().unwrap();
    let id = tx.insert_staged(&staged("hr", "x1", 1)).unwrap();
    tx.insert_staged(&staged("hr", "x2", 1)).unwrap();
    tx.commit().unwrap();
    raw_execute(
        url,
        &format!("UPDATE staged_objects SET attributes = '[1, 2]' WHERE id = {id}"),
    );
    let mut tx = store.begin().unwrap();
    match tx.staged_by_id(id) {
        Err(StoreError::Corrupt {
            what, id: shown, ..
        }) => assert_eq!((what, shown), ("staged_objects", id.to_string())),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(matches!(
        tx.staged_page(&connector("hr"), StagedFilter::All, 0, 10),
        Err(StoreError::Corrupt { .. })
    ));
}
