//! Watermarks and failed exports: C-39 (a failed export stays queued; the watermark is the
//! file's fingerprint, never a clock value) and C-40 (lost, foreign and old watermarks).

use identitymesh_domain::export::{ExportOp, ExportState};
use identitymesh_domain::run::RunStatus;
use identitymesh_domain::watermark::WatermarkKind;
use serde_json::Value as Json;

use crate::support::*;

fn position(stored: Option<String>) -> Json {
    let stored = stored.expect("a watermark is stored");
    let json: Json = serde_json::from_str(&stored).unwrap();
    json
}

fn fingerprint(bytes: impl AsRef<[u8]>) -> String {
    blake3::hash(bytes.as_ref()).to_hex().to_string()
}

fn source_id(env: &identitymesh_testkit::TestEnv, file: &str) -> String {
    format!("file:{}", env.path().join(file).display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c39_a_failed_export_leaves_every_export_queued() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(5, |_| "active"));
        env.write("blocker", "a file where the target's directory should be");
        let config = hr_directory().replace(
            r#"path = "directory.csv""#,
            r#"path = "blocker/directory.csv""#,
        );
        let engine = env.engine(&config);
        run_steps(&engine, &[("hr", FullImport), ("hr", FullSync)]).await;
        assert_eq!(
            exports(env, "directory", &[ExportState::Pending])
                .await
                .len(),
            5
        );

        for _ in 0..2 {
            let report = run(&engine, "directory", Export).await;
            assert_status(&report, RunStatus::Failed);
            assert!(
                report
                    .reason
                    .as_deref()
                    .unwrap_or_default()
                    .contains("stays queued"),
                "{report:#?}"
            );
            assert_eq!(report.stats.exported_adds, 0);
            let queued = exports(env, "directory", &[ExportState::Pending]).await;
            assert_eq!(queued.len(), 5, "every export stays queued");
            assert!(queued.iter().all(|e| matches!(e.op, ExportOp::Add { .. })));
        }
        assert!(!env.path().join("blocker/directory.csv").exists());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c39_the_import_watermark_is_the_file_fingerprint_and_an_unchanged_file_is_nothing_to_do() {
    on_every_backend(async |env| {
        let content = hr_file(5, |_| "active");
        env.write("hr.csv", &content);
        let engine = env.engine(&hr_directory());
        assert_status(&run(&engine, "hr", FullImport).await, RunStatus::Completed);
        for kind in [WatermarkKind::Full, WatermarkKind::Delta] {
            let stored = position(watermark(env, "hr", kind).await);
            assert_eq!(
                stored["position"],
                fingerprint(&content),
                "{kind:?}: {stored}"
            );
            assert_eq!(stored["source_id"], source_id(env, "hr.csv"));
        }

        env.clock.advance(3600);
        let delta = run(&engine, "hr", DeltaImport).await;
        assert_status(&delta, RunStatus::Completed);
        assert_eq!(delta.reason, None);
        assert_eq!(
            (
                delta.stats.read,
                delta.stats.staged_adds,
                delta.stats.staged_updates,
                delta.stats.staged_deletes
            ),
            (0, 0, 0, 0),
            "{delta:#?}"
        );
        assert_eq!(
            position(watermark(env, "hr", WatermarkKind::Delta).await)["position"],
            fingerprint(&content),
            "the clock moved, the watermark did not"
        );

        let changed = content.replace("Person 2,", "Person Two,");
        env.write("hr.csv", &changed);
        let delta = run(&engine, "hr", DeltaImport).await;
        assert_eq!(
            (
                delta.stats.read,
                delta.stats.staged_updates,
                delta.stats.unchanged
            ),
            (5, 1, 4),
            "{delta:#?}"
        );
        assert_eq!(
            position(watermark(env, "hr", WatermarkKind::Delta).await)["position"],
            fingerprint(&changed)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c40_a_missing_or_unreadable_watermark_means_an_explicit_full_import() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(5, |_| "active"));
        let engine = env.engine(&hr_directory());
        let first = run(&engine, "hr", DeltaImport).await;
        assert_status(&first, RunStatus::Completed);
        let reason = first.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("explicit full import") && reason.contains("no watermark"),
            "{reason}"
        );
        assert_eq!((first.stats.read, first.stats.staged_adds), (5, 5));

        // a format-1 record whose key was renamed must not read as "since 1970"
        let damaged = r#"{"format":1,"source":"x","lastSync_CHANGED":1770033720}"#;
        let at = now(env);
        env.store
            .run_blocking(move |tx| tx.set_watermark(&cn("hr"), WatermarkKind::Delta, damaged, at))
            .await
            .unwrap();
        let again = run(&engine, "hr", DeltaImport).await;
        let reason = again.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("explicit full import") && reason.contains("unreadable"),
            "{reason}"
        );
        assert_eq!((again.stats.read, again.stats.unchanged), (5, 5));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c40_a_watermark_from_another_source_means_an_explicit_full_import() {
    on_every_backend(async |env| {
        let content = hr_file(5, |_| "active");
        env.write("hr.csv", &content);
        assert_status(
            &run(&env.engine(&hr_directory()), "hr", FullImport).await,
            RunStatus::Completed,
        );

        env.write("moved/hr.csv", &content);
        let moved = hr_directory().replace(r#"path = "hr.csv""#, r#"path = "moved/hr.csv""#);
        let report = run(&env.engine(&moved), "hr", DeltaImport).await;
        assert_status(&report, RunStatus::Completed);
        let reason = report.reason.clone().unwrap_or_default();
        assert!(reason.contains("explicit full import"), "{reason}");
        assert!(
            reason.contains(&source_id(env, "hr.csv"))
                && reason.contains(&source_id(env, "moved/hr.csv")),
            "{reason}"
        );
        assert_eq!(
            (
                report.stats.read,
                report.stats.unchanged,
                report.stats.staged_deletes
            ),
            (5, 5, 0)
        );
        assert_eq!(
            position(watermark(env, "hr", WatermarkKind::Delta).await)["source_id"],
            source_id(env, "moved/hr.csv")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c40_a_format_one_watermark_is_migrated() {
    on_every_backend(async |env| {
        let content = hr_file(5, |_| "active");
        env.write("hr.csv", &content);
        let engine = env.engine(&hr_directory());
        run(&engine, "hr", FullImport).await;
        let v1 = serde_json::json!({ "source": source_id(env, "hr.csv"), "value": fingerprint(&content) }).to_string();
        let at = now(env);
        env.store.run_blocking(move |tx| tx.set_watermark(&cn("hr"), WatermarkKind::Delta, &v1, at)).await.unwrap();

        let report = run(&engine, "hr", DeltaImport).await;
        assert_status(&report, RunStatus::Completed);
        assert_eq!(report.reason, None, "the old watermark is usable: no full import");
        assert_eq!(report.stats.read, 0, "unchanged file: nothing to do");
        let stored = position(watermark(env, "hr", WatermarkKind::Delta).await);
        assert_eq!(stored["format"], 2, "{stored}");
        assert_eq!(stored["position"], fingerprint(&content));
    })
    .await;
}
