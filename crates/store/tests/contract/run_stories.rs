//! Stories of the Admin API's run operations: the filtered, paged run list and cancel
//! requests (recorded once, only on a running run, readable by the engine).

use identitymesh_domain::run::{RunProfile, RunRecord, RunStats, RunStatus};
use identitymesh_store::{CancelOutcome, CancelRequest, RunQuery, Store};

use crate::fixtures::at;

fn ids(runs: Vec<RunRecord>) -> Vec<i64> {
    runs.into_iter().map(|r| r.id).collect()
}

fn query(limit: u32) -> RunQuery {
    RunQuery {
        limit,
        ..RunQuery::default()
    }
}

/// Six runs: hr full-import ×3 (completed, failed, running), hr full-sync, ad export ×2.
fn six_runs(store: &Store) -> Vec<i64> {
    let mut tx = store.begin().unwrap();
    let plan = [
        ("hr", RunProfile::FullImport, Some(RunStatus::Completed)),
        ("hr", RunProfile::FullImport, Some(RunStatus::Failed)),
        ("ad", RunProfile::Export, Some(RunStatus::Completed)),
        ("hr", RunProfile::FullSync, Some(RunStatus::Completed)),
        ("ad", RunProfile::Export, Some(RunStatus::Held)),
        ("hr", RunProfile::FullImport, None),
    ];
    let mut ids = Vec::new();
    for (i, (connector, profile, status)) in (0i64..).zip(plan) {
        let id = tx
            .start_run(connector, profile, false, "user:ada", at(i * 100))
            .unwrap();
        if let Some(status) = status {
            tx.finish_run(id, status, &RunStats::default(), None, at(i * 100 + 5))
                .unwrap();
        }
        ids.push(id);
    }
    tx.commit().unwrap();
    ids
}

pub fn run_list_filters_and_pages(store: &Store) {
    let r = six_runs(store);
    let mut tx = store.begin().unwrap();
    let all = |q: RunQuery, tx: &mut dyn identitymesh_store::Tx| ids(tx.runs(&q).unwrap());
    assert_eq!(
        all(query(10), tx.as_mut()),
        vec![r[5], r[4], r[3], r[2], r[1], r[0]]
    );
    let hr = RunQuery {
        connector: Some("hr".into()),
        ..query(10)
    };
    assert_eq!(all(hr.clone(), tx.as_mut()), vec![r[5], r[3], r[1], r[0]]);
    let hr_imports = RunQuery {
        profile: Some(RunProfile::FullImport),
        ..hr.clone()
    };
    assert_eq!(all(hr_imports.clone(), tx.as_mut()), vec![r[5], r[1], r[0]]);
    let completed = RunQuery {
        status: Some(RunStatus::Completed),
        ..query(10)
    };
    assert_eq!(all(completed, tx.as_mut()), vec![r[3], r[2], r[0]]);
    let running = RunQuery {
        status: Some(RunStatus::Running),
        ..query(10)
    };
    assert_eq!(all(running, tx.as_mut()), vec![r[5]]);
    // since is inclusive, until exclusive: runs started at 100, 200 and 300
    let window = RunQuery {
        since: Some(at(100)),
        until: Some(at(400)),
        ..query(10)
    };
    assert_eq!(all(window, tx.as_mut()), vec![r[3], r[2], r[1]]);
    // keyset pages of two hr runs: the cursor is the last id of the previous page
    let first = all(
        RunQuery {
            limit: 2,
            ..hr.clone()
        },
        tx.as_mut(),
    );
    assert_eq!(first, vec![r[5], r[3]]);
    let second = RunQuery {
        before_id: Some(r[3]),
        limit: 2,
        ..hr.clone()
    };
    assert_eq!(all(second, tx.as_mut()), vec![r[1], r[0]]);
    let past_the_end = RunQuery {
        before_id: Some(r[0]),
        ..hr
    };
    assert!(all(past_the_end, tx.as_mut()).is_empty());
    let nobody = RunQuery {
        connector: Some("nobody".into()),
        status: Some(RunStatus::Completed),
        ..query(10)
    };
    assert!(all(nobody, tx.as_mut()).is_empty());
    let everything_matches = RunQuery {
        connector: Some("hr".into()),
        profile: Some(RunProfile::FullImport),
        status: Some(RunStatus::Failed),
        since: Some(at(0)),
        until: Some(at(1000)),
        before_id: Some(r[5] + 1),
        limit: 5,
    };
    assert_eq!(all(everything_matches, tx.as_mut()), vec![r[1]]);
}

pub fn cancel_requests(store: &Store) {
    let r = six_runs(store);
    let running = r[5];
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.run_cancel_request(running).unwrap(), None);
    assert_eq!(
        tx.request_run_cancel(running, "user:otto", at(1000))
            .unwrap(),
        CancelOutcome::Requested
    );
    let first = CancelRequest {
        by: "user:otto".into(),
        at: "2023-11-14T22:30:00.000000Z".into(),
    };
    assert_eq!(tx.run_cancel_request(running).unwrap(), Some(first.clone()));
    // asking again keeps the first request
    assert_eq!(
        tx.request_run_cancel(running, "user:ada", at(2000))
            .unwrap(),
        CancelOutcome::AlreadyRequested(first.clone())
    );
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let stored = tx.run(running).unwrap().unwrap();
    assert_eq!(
        stored.status,
        RunStatus::Running,
        "the engine decides when it stops"
    );
    assert_eq!(
        (
            stored.cancel_requested_by.as_deref(),
            stored.cancel_requested_at.as_deref()
        ),
        (Some("user:otto"), Some(first.at.as_str()))
    );
    assert_eq!(
        tx.request_run_cancel(r[1], "user:otto", at(1000)).unwrap(),
        CancelOutcome::NotRunning(RunStatus::Failed)
    );
    assert_eq!(tx.run_cancel_request(r[1]).unwrap(), None);
    assert_eq!(
        tx.request_run_cancel(9999, "user:otto", at(1000)).unwrap(),
        CancelOutcome::UnknownRun
    );
    assert!(
        tx.run_cancel_request(9999).is_err(),
        "an unknown run is an error"
    );
    tx.finish_run(
        running,
        RunStatus::Cancelled,
        &RunStats::default(),
        Some("cancelled"),
        at(1001),
    )
    .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    let done = tx.run(running).unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Cancelled);
    assert_eq!(done.cancel_requested_by.as_deref(), Some("user:otto"));
    assert_eq!(
        tx.request_run_cancel(running, "user:ada", at(3000))
            .unwrap(),
        CancelOutcome::NotRunning(RunStatus::Cancelled)
    );
    let cancelled = RunQuery {
        status: Some(RunStatus::Cancelled),
        ..query(10)
    };
    assert_eq!(ids(tx.runs(&cancelled).unwrap()), vec![running]);
}
