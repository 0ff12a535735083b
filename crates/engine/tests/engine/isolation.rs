//! C-45: one object's failure is recorded against it; the run and later runs go on.

use identitymesh_domain::run::RunStatus;
use identitymesh_domain::staged::Link;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c45_a_colliding_target_anchor_is_isolated_and_later_runs_go_on() {
    on_every_backend(async |env| {
        let file = env.path().join("directory.csv");
        env.write("directory.csv", "employeeId,displayName,mail,department,accountStatus\n1003,Someone Else,someone@example.test,IT,enabled\n");
        env.write("hr.csv", hr_file(50, |_| "active"));
        let engine = env.engine(&hr_directory());
        run_steps(&engine, &[("directory", FullImport), ("hr", FullImport)]).await;

        let sync = run(&engine, "hr", FullSync).await;
        assert_status(&sync, RunStatus::CompletedWithErrors);
        assert_eq!((sync.stats.projected, sync.stats.queued_adds), (50, 49), "{sync:#?}");
        let errors = run_errors(env, sync.run_id).await;
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].object.contains("1003"), "#3 is reported: {errors:#?}");
        let person3 = mesh_where(env, "employeeId", "1003").await;
        assert!(errors[0].message.contains(&person3.id.to_string()), "{errors:#?}");
        let unmanaged = staged_by_anchor(env, "directory", "1003").await.unwrap();
        assert!(matches!(unmanaged.link, Link::AwaitingAdoption { candidate, .. } if candidate == person3.id), "{:?}", unmanaged.link);

        let export = run(&engine, "directory", Export).await;
        assert_status(&export, RunStatus::Completed);
        assert_eq!(export.stats.exported_adds, 49);
        let rows = read_csv_by(&file, "employeeId");
        assert_eq!(rows.len(), 50);
        assert_eq!(rows["1003"]["displayName"], "Someone Else", "the unmanaged row is left as it was");
        assert_eq!(rows["1050"]["displayName"], "Person 50");

        // later runs do not stop at #3: a new hire and a change go through, #3 is still reported
        let mut hr = hr_file(51, |_| "active");
        hr = hr.replace("Person 10,", "Person Ten,");
        env.write("hr.csv", hr);
        run(&engine, "hr", FullImport).await;
        let later = run(&engine, "hr", FullSync).await;
        assert_status(&later, RunStatus::CompletedWithErrors);
        assert_eq!((later.stats.queued_adds, later.stats.queued_updates), (1, 1), "{later:#?}");
        assert!(later.errors.iter().any(|e| e.object.contains("1003")), "{later:#?}");
        let export = run(&engine, "directory", Export).await;
        assert_eq!((export.stats.exported_adds, export.stats.exported_updates), (1, 1));
        let rows = read_csv_by(&file, "employeeId");
        assert_eq!(rows.len(), 51);
        assert_eq!(rows["1010"]["displayName"], "Person Ten");
        assert_eq!(rows["1003"]["displayName"], "Someone Else");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licensed_mesh_object_limit_stops_projection_at_the_limit_and_nothing_else() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(5, |_| "active"));
        let engine = env.engine(&hr_directory()).with_mesh_object_limit(Some(3));
        run(&engine, "hr", FullImport).await;
        let sync = run(&engine, "hr", FullSync).await;
        assert_status(&sync, RunStatus::CompletedWithErrors);
        assert_eq!(sync.stats.projected, 3, "{sync:#?}");
        assert_eq!(mesh_count(env).await, 3);
        let errors = run_errors(env, sync.run_id).await;
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors
                .iter()
                .all(|e| e.message.contains("mesh_objects") && e.message.contains('3')),
            "{errors:#?}"
        );
        // the projected ones are provisioned as usual
        assert_eq!(sync.stats.queued_adds, 3);
        // without the limit the remaining two project on the next sync
        let unlimited = env.engine(&hr_directory());
        let again = run(&unlimited, "hr", FullSync).await;
        assert_eq!(again.stats.projected, 2, "{again:#?}");
    })
    .await;
}
