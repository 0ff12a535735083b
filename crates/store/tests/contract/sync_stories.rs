//! Stories of the sync path: runs, the connector space, and the transaction guarantees
//! (savepoints, dropped transactions).

use identitymesh_domain::MeshId;
use identitymesh_domain::export::{ExportOp, ExportReason};
use identitymesh_domain::run::{ObjectError, RunProfile, RunStats, RunStatus};
use identitymesh_domain::staged::{Link, LinkKind, PendingImport};
use identitymesh_store::{StagedFilter, Store, StoreError};

use crate::fixtures::{anchor, at, attrs, connector, export, staged};

pub fn runs(store: &Store) {
    let mut tx = store.begin().unwrap();
    let first = tx
        .start_run("hr", RunProfile::FullImport, false, "user:ada", at(0))
        .unwrap();
    let stats = RunStats {
        read: 10,
        staged_adds: 7,
        ..RunStats::default()
    };
    tx.update_run_stats(first, &stats).unwrap();
    let errors = [
        ObjectError {
            object: "line 3".into(),
            message: "no anchor".into(),
        },
        ObjectError {
            object: "line 9".into(),
            message: "bad date".into(),
        },
    ];
    tx.add_run_errors(first, &errors[..1]).unwrap();
    tx.add_run_errors(first, &errors[1..]).unwrap();
    let running = tx.run(first).unwrap().unwrap();
    assert_eq!(
        (running.status, running.ended_at.clone(), running.stats.read),
        (RunStatus::Running, None, 10)
    );
    tx.finish_run(
        first,
        RunStatus::CompletedWithErrors,
        &stats,
        Some("2 rows rejected"),
        at(5),
    )
    .unwrap();
    let second = tx
        .start_run("hr", RunProfile::FullImport, true, "run:1", at(10))
        .unwrap();
    tx.finish_run(
        second,
        RunStatus::Partial,
        &RunStats::default(),
        Some("truncated"),
        at(11),
    )
    .unwrap();
    let other = tx
        .start_run("ad", RunProfile::Export, false, "cli:root", at(12))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let done = tx.run(first).unwrap().unwrap();
    assert_eq!(done.status, RunStatus::CompletedWithErrors);
    assert_eq!(done.started_at, "2023-11-14T22:13:20.000000Z");
    assert_eq!(
        done.ended_at.as_deref(),
        Some("2023-11-14T22:13:25.000000Z")
    );
    assert_eq!(
        (done.profile, done.simulation, done.actor.as_str()),
        (RunProfile::FullImport, false, "user:ada")
    );
    assert_eq!(done.stats, stats);
    assert_eq!(done.reason.as_deref(), Some("2 rows rejected"));
    assert_eq!(tx.run_errors(first, 10).unwrap(), errors.to_vec());
    assert_eq!(tx.run_errors(first, 1).unwrap(), errors[..1].to_vec());
    let ids = |runs: Vec<identitymesh_domain::run::RunRecord>| {
        runs.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(tx.recent_runs(None, 10).unwrap()),
        vec![other, second, first]
    );
    assert_eq!(ids(tx.recent_runs(Some("hr"), 1).unwrap()), vec![second]);
    let last = tx.last_run(
        "hr",
        RunProfile::FullImport,
        &[RunStatus::Completed, RunStatus::CompletedWithErrors],
    );
    assert_eq!(last.unwrap().map(|r| r.id), Some(first));
    assert_eq!(
        tx.last_run("hr", RunProfile::FullImport, &[RunStatus::Partial])
            .unwrap()
            .map(|r| r.id),
        Some(second)
    );
    assert_eq!(
        tx.last_run("hr", RunProfile::DeltaSync, &[RunStatus::Completed])
            .unwrap(),
        None
    );
    assert_eq!(
        tx.last_run("hr", RunProfile::FullImport, &[]).unwrap(),
        None
    );
    assert!(tx.run(9999).unwrap().is_none());
    assert!(
        tx.finish_run(9999, RunStatus::Failed, &RunStats::default(), None, at(0))
            .is_err()
    );
}

pub fn staged_objects(store: &Store) {
    let hr = connector("hr");
    let mut tx = store.begin().unwrap();
    let ids: Vec<i64> = (1..=5)
        .map(|i| {
            tx.insert_staged(&staged("hr", &format!("00{i}"), 1))
                .unwrap()
        })
        .collect();
    let other = tx.insert_staged(&staged("ad", "001", 1)).unwrap();
    // a failed statement poisons a PostgreSQL transaction: callers wrap work in a savepoint
    tx.savepoint().unwrap();
    let duplicate = tx.insert_staged(&staged("hr", "001", 1));
    assert!(
        matches!(
            duplicate,
            Err(StoreError::Database {
                operation: "insert_staged",
                ..
            })
        ),
        "{duplicate:?}"
    );
    tx.rollback_to_savepoint().unwrap();

    let got = tx.staged_by_anchor(&hr, &anchor("003")).unwrap().unwrap();
    assert_eq!(
        (got.id, got.anchor.as_str(), got.pending),
        (ids[2], "003", PendingImport::Add)
    );
    assert_eq!(
        got.attributes,
        attrs(&[("employeeId", "003"), ("givenName", "Ada")])
    );
    assert_eq!(got.changed_at, "2023-11-14T22:13:20.000000Z");
    assert_eq!(
        tx.staged_by_id(other).unwrap().unwrap().connector,
        connector("ad")
    );
    assert!(tx.staged_by_anchor(&hr, &anchor("404")).unwrap().is_none());

    // content, anchor, seen, pending, link
    let mut changed = attrs(&[("employeeId", "001")]);
    changed.set("mail", vec![]);
    tx.update_staged_content(
        ids[0],
        None,
        &changed,
        "h2",
        PendingImport::Update,
        at(60),
        2,
    )
    .unwrap();
    let got = tx.staged_by_id(ids[0]).unwrap().unwrap();
    assert_eq!(
        (got.name, got.attributes, got.hash.as_str(), got.seen_run),
        (None, changed, "h2", 2)
    );
    tx.update_staged_anchor(ids[4], &anchor("005-new")).unwrap();
    assert!(
        tx.staged_by_anchor(&hr, &anchor("005-new"))
            .unwrap()
            .is_some()
    );
    tx.mark_staged_seen(ids[1], 2).unwrap();
    tx.mark_staged_seen(ids[2], 2).unwrap();
    tx.set_staged_pending(ids[1], PendingImport::None).unwrap();
    tx.set_staged_pending(ids[2], PendingImport::None).unwrap();
    let joined = Link::Joined {
        mesh_id: MeshId(77),
        how: LinkKind::Projected,
    };
    tx.set_staged_link(ids[1], &joined).unwrap();
    tx.set_staged_link(other, &joined).unwrap();
    let ambiguous = Link::Ambiguous {
        candidates: vec![MeshId(1), MeshId(2)],
        rule: "mail".into(),
    };
    tx.set_staged_link(ids[3], &ambiguous).unwrap();
    assert!(tx.set_staged_pending(424242, PendingImport::None).is_err());

    // pages and counts
    let page_ids = |page: Vec<identitymesh_domain::staged::StagedObject>| {
        page.iter().map(|o| o.id).collect::<Vec<_>>()
    };
    assert_eq!(
        page_ids(tx.staged_page(&hr, StagedFilter::All, 0, 2).unwrap()),
        ids[..2].to_vec()
    );
    assert_eq!(
        page_ids(tx.staged_page(&hr, StagedFilter::All, ids[1], 10).unwrap()),
        ids[2..].to_vec()
    );
    let pending = vec![ids[0], ids[3], ids[4]];
    assert_eq!(
        page_ids(tx.staged_page(&hr, StagedFilter::Pending, 0, 10).unwrap()),
        pending
    );
    assert_eq!(
        page_ids(
            tx.staged_page(&hr, StagedFilter::Pending, ids[0], 1)
                .unwrap()
        ),
        vec![ids[3]]
    );
    let unseen = vec![ids[3], ids[4]];
    assert_eq!(
        page_ids(
            tx.staged_page(&hr, StagedFilter::NotSeenBy(2), 0, 10)
                .unwrap()
        ),
        unseen
    );
    assert_eq!(tx.count_staged(&hr, StagedFilter::All).unwrap(), 5);
    assert_eq!(tx.count_staged(&hr, StagedFilter::Pending).unwrap(), 3);
    assert_eq!(tx.count_staged(&hr, StagedFilter::NotSeenBy(2)).unwrap(), 2);
    assert_eq!(
        page_ids(tx.staged_for_mesh(MeshId(77)).unwrap()),
        vec![ids[1], other]
    );
    assert_eq!(
        page_ids(tx.staged_needing_review(None, 10).unwrap()),
        vec![ids[3]]
    );
    assert_eq!(
        page_ids(
            tx.staged_needing_review(Some(&connector("ad")), 10)
                .unwrap()
        ),
        Vec::<i64>::new()
    );
    assert_eq!(tx.staged_by_id(ids[3]).unwrap().unwrap().link, ambiguous);

    // a complete import marks the unseen as deletions, in this connector only
    assert_eq!(tx.stage_unseen_as_deleted(&hr, 2).unwrap(), 2);
    assert_eq!(
        tx.staged_by_id(ids[4]).unwrap().unwrap().pending,
        PendingImport::Delete
    );
    assert_eq!(
        tx.staged_by_id(other).unwrap().unwrap().pending,
        PendingImport::Add
    );

    // deleting a staged object deletes its exports
    tx.queue_export(
        &export(
            "hr",
            ids[4],
            ExportOp::Delete,
            ExportReason::DeprovisionDelete,
        ),
        1,
        at(0),
    )
    .unwrap();
    tx.delete_staged(ids[4]).unwrap();
    assert!(tx.staged_by_id(ids[4]).unwrap().is_none());
    assert!(tx.export_for_staged(ids[4]).unwrap().is_none());
    tx.commit().unwrap();
}

pub fn savepoint_isolates_one_object(store: &Store) {
    let hr = connector("hr");
    let mut tx = store.begin().unwrap();
    for (i, id) in ["k1", "k2", "k3"].iter().enumerate() {
        tx.savepoint().unwrap();
        let inserted = tx.insert_staged(&staged("hr", id, 1)).unwrap();
        tx.set_staged_pending(inserted, PendingImport::None)
            .unwrap();
        if i == 1 {
            // the object's work fails after it wrote: only its own writes go
            let failed = tx.insert_staged(&staged("hr", "k1", 1));
            assert!(failed.is_err());
            tx.rollback_to_savepoint().unwrap();
            tx.release_savepoint().unwrap(); // tolerated after a rollback
        } else {
            tx.release_savepoint().unwrap();
        }
    }
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    let anchors: Vec<String> = tx
        .staged_page(&hr, StagedFilter::All, 0, 10)
        .unwrap()
        .into_iter()
        .map(|o| o.anchor.to_string())
        .collect();
    assert_eq!(anchors, vec!["k1", "k3"]);
    assert!(tx.rollback_to_savepoint().is_err(), "no savepoint is open");
}

pub fn dropped_tx_rolls_back(store: &Store) {
    let hr = connector("hr");
    {
        let mut tx = store.begin().unwrap();
        tx.insert_staged(&staged("hr", "gone", 1)).unwrap();
        tx.start_run("hr", RunProfile::FullImport, false, "x", at(0))
            .unwrap();
        // dropped without commit
    }
    let mut tx = store.begin().unwrap();
    tx.insert_staged(&staged("hr", "explicit", 1)).unwrap();
    tx.rollback().unwrap();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.count_staged(&hr, StagedFilter::All).unwrap(), 0);
    assert!(tx.recent_runs(None, 10).unwrap().is_empty());
}
