//! The store's contract: one story per area, each run against SQLite always and against
//! PostgreSQL when `IDENTITYMESH_TEST_POSTGRES_URL` is set (required under CI; start a
//! server with `eval "$(.ci/postgres.sh start)"`). Every backend must pass every story.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "contract/admin_stories.rs"]
mod admin_stories;
#[path = "contract/fixtures.rs"]
mod fixtures;
#[path = "contract/harness.rs"]
mod harness;
#[path = "contract/hot_path_stories.rs"]
mod hot_path_stories;
#[path = "contract/id_stories.rs"]
mod id_stories;
#[path = "contract/mesh_export_stories.rs"]
mod mesh_export_stories;
#[path = "contract/read_stories.rs"]
mod read_stories;
#[path = "contract/record_stories.rs"]
mod record_stories;
#[path = "contract/relay_stories.rs"]
mod relay_stories;
#[path = "contract/run_stories.rs"]
mod run_stories;
#[path = "contract/secret_stories.rs"]
mod secret_stories;
#[path = "contract/sync_stories.rs"]
mod sync_stories;
#[path = "contract/user_stories.rs"]
mod user_stories;

use identitymesh_store::{DatabaseUrl, SCHEMA_VERSION, StagedFilter, Store, StoreError};

/// Declares, for each story, a module with a `sqlite` and a `postgres` test.
macro_rules! contract {
    ($($name:ident => $story:expr;)*) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    crate::harness::on_sqlite($story);
                }
                #[test]
                fn postgres() {
                    crate::harness::on_postgres($story);
                }
            }
        )*
    };
}

contract! {
    runs => |s, _| crate::sync_stories::runs(s);
    reads_never_wait_for_the_writer => |s, _| crate::read_stories::reads_never_wait_for_the_writer(s);
    reads_cannot_write => |s, _| crate::read_stories::reads_cannot_write(s);
    enrollment_tokens_are_one_time_and_expire => |s, _| crate::relay_stories::enrollment_tokens_are_one_time_and_expire(s);
    relay_names_are_unique => |s, _| crate::relay_stories::relay_names_are_unique(s);
    relay_presence_outbox_and_inbox => |s, _| crate::relay_stories::presence_outbox_and_inbox(s);
    run_list_filters_and_pages => |s, _| crate::run_stories::run_list_filters_and_pages(s);
    cancel_requests => |s, _| crate::run_stories::cancel_requests(s);
    staged_objects => |s, _| crate::sync_stories::staged_objects(s);
    mesh_and_keys => |s, _| crate::mesh_export_stories::mesh_and_keys(s);
    export_queue => |s, _| crate::mesh_export_stories::export_queue(s);
    savepoint_isolates_one_object => |s, _| crate::sync_stories::savepoint_isolates_one_object(s);
    dropped_tx_rolls_back => |s, _| crate::sync_stories::dropped_tx_rolls_back(s);
    watermarks => |s, _| crate::record_stories::watermarks(s);
    audit => |s, _| crate::record_stories::audit(s);
    config_versions => |s, _| crate::record_stories::config_versions(s);
    simulations => |s, _| crate::record_stories::simulations(s);
    leases => |s, _| crate::record_stories::leases(s);
    run_requests => |s, _| crate::record_stories::run_requests(s);
    baseline_bulk_insert => |s, _| crate::record_stories::baseline_bulk_insert(s);
    schema_too_new_is_refused => crate::record_stories::schema_too_new_is_refused;
    damaged_rows_are_reported => crate::record_stories::damaged_rows_are_reported;
    secret_rows => |s, _| crate::secret_stories::secret_rows(s);
    vault_round_trip_copy_and_tamper => crate::secret_stories::vault_round_trip_copy_and_tamper;
    rotation_rewraps_everything_or_nothing => |s, _| crate::secret_stories::rotation_rewraps_everything_or_nothing(s);
    key_ring_across_instances => |s, _| crate::secret_stories::key_ring_across_instances(s);
    c48_no_value_in_logs_errors_or_audit => crate::secret_stories::c48_no_value_in_logs_errors_or_audit;
    mesh_ids_are_never_reused => crate::id_stories::mesh_ids_are_never_reused;
    staged_ids_are_never_reused => crate::id_stories::staged_ids_are_never_reused;
    export_ids_are_never_reused => crate::id_stories::export_ids_are_never_reused;
    users_sessions_tokens => |s, _| crate::user_stories::users_sessions_tokens(s);
    run_status_counts => |s, _| crate::user_stories::run_status_counts(s);
    insert_mesh_with_keys => |s, _| crate::hot_path_stories::insert_mesh_with_keys(s);
    insert_staged_with_export => |s, _| crate::hot_path_stories::insert_staged_with_export(s);
    set_staged_link_and_pending => |s, _| crate::hot_path_stories::set_staged_link_and_pending(s);
    space_search => |s, _| crate::admin_stories::space_search(s);
    space_paging => |s, _| crate::admin_stories::space_paging(s);
    config_version_by_id => |s, _| crate::admin_stories::config_version_by_id(s);
    user_administration => |s, _| crate::admin_stories::user_administration(s);
}

#[test]
fn sqlite_without_migrate_refuses_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite(dir.path().join("fresh.db"));
    harness::in_runtime(move || match Store::open(&url, false) {
        Err(StoreError::SchemaTooOld { found: 0, known }) => assert_eq!(known, SCHEMA_VERSION),
        other => panic!("expected SchemaTooOld, got {other:?}"),
    });
}

#[test]
fn postgres_connect_errors_hide_the_password() {
    harness::in_runtime(|| {
        let url = DatabaseUrl::parse("postgres://svc:Sup3rSecret@127.0.0.1:1/im?connect_timeout=1")
            .unwrap();
        let err = Store::open(&url, true).unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, StoreError::Connect { .. }), "{shown}");
        assert!(!shown.contains("Sup3rSecret"), "{shown}");
        assert!(shown.contains("svc"), "{shown}");
    });
}

#[test]
fn postgres_outside_a_runtime_is_a_clear_error() {
    let url = DatabaseUrl::parse("postgres://svc@127.0.0.1:1/im").unwrap();
    let shown = Store::open(&url, true).unwrap_err().to_string();
    assert!(shown.contains("tokio runtime"), "{shown}");
}

/// Inserts 100,000 staged objects through the port, 1,000 per transaction, one savepoint
/// per object as the engine does, and prints the rate. Run with
/// `cargo test -p identitymesh-store --release -- --ignored --nocapture`.
#[test]
#[ignore = "micro-benchmark"]
fn sqlite_insert_staged_rate() {
    const TOTAL: usize = 100_000;
    const BATCH: usize = 1_000;
    harness::on_sqlite(|store, _| {
        let template = fixtures::staged("hr", "0", 1);
        let started = std::time::Instant::now();
        for batch in 0..TOTAL / BATCH {
            let mut tx = store.begin().unwrap();
            for i in 0..BATCH {
                let mut object = template.clone();
                object.anchor = fixtures::anchor(&format!("{:07}", batch * BATCH + i));
                tx.savepoint().unwrap();
                tx.insert_staged(&object).unwrap();
                tx.release_savepoint().unwrap();
            }
            tx.commit().unwrap();
        }
        let elapsed = started.elapsed();
        let mut rows = (0..TOTAL).map(|i| (format!("{i:07}"), "x".repeat(120)));
        let base_start = std::time::Instant::now();
        store.baseline_bulk_insert(&mut rows).unwrap();
        let base = base_start.elapsed();
        let mut tx = store.begin().unwrap();
        assert_eq!(
            tx.count_staged(&fixtures::connector("hr"), StagedFilter::All)
                .unwrap(),
            TOTAL as u64
        );
        println!(
            "sqlite insert_staged: {TOTAL} rows in {:.2?} = {:.0} rows/s ({:.1} µs/row incl. savepoint); \
             raw baseline insert: {:.0} rows/s",
            elapsed,
            TOTAL as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / TOTAL as f64,
            TOTAL as f64 / base.as_secs_f64()
        );
    });
}

#[test]
fn sqlite_second_begin_on_one_thread_is_an_error_not_a_deadlock() {
    harness::on_sqlite(|store, _| {
        let first = store.begin().unwrap();
        assert!(matches!(
            store.begin().err(),
            Some(StoreError::Database {
                operation: "begin",
                ..
            })
        ));
        drop(first);
        store.begin().unwrap().commit().unwrap();
    });
}
