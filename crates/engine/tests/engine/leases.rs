//! C-49: runs of one connector are exclusive across engines; a refused run is queued, and an
//! engine that lost its lease cannot write.

use identitymesh_domain::config::compile;
use identitymesh_domain::run::RunStatus;
use identitymesh_engine::{Engine, EngineError};
use identitymesh_store::StoreError;
use identitymesh_testkit::TestEnv;
use std::sync::Arc;

use crate::support::*;

fn engine(env: &TestEnv, holder: &str) -> Engine {
    let config = compile(&hr_directory(), identitymesh_connectors::KNOWN_KINDS).unwrap();
    Engine::new(
        env.store.clone(),
        config,
        env.path().to_path_buf(),
        Arc::new(env.clock.clone()),
        holder.into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c49_a_second_engine_is_refused_and_queued_while_the_lease_is_held() {
    on_every_backend(async |env| {
        env.write("hr.csv", hr_file(3, |_| "active"));
        let (a, b) = (engine(env, "engine-a"), engine(env, "engine-b"));
        let at = now(env);
        let lease_a = env
            .store
            .run_blocking(move |tx| tx.acquire_lease("hr", "engine-a", at, 300))
            .await
            .unwrap()
            .expect("the lease is free");

        let busy = b
            .run("hr", FullImport, &opts())
            .await
            .expect_err("engine B must not run while A holds the lease");
        let EngineError::Busy {
            connector,
            holder,
            request_id,
        } = busy
        else {
            panic!("{busy:?}")
        };
        assert_eq!((connector.as_str(), holder.as_str()), ("hr", "engine-a"));
        let requests = env
            .store
            .run_blocking(|tx| tx.run_requests(100))
            .await
            .unwrap();
        let request = requests
            .iter()
            .find(|r| r.id == request_id)
            .unwrap_or_else(|| panic!("request not queued: {requests:#?}"));
        assert_eq!(
            (
                request.connector.as_str(),
                request.profile,
                request.actor.as_str()
            ),
            ("hr", FullImport, "cli:test")
        );
        let runs = env
            .store
            .run_blocking(|tx| tx.recent_runs(Some("hr"), 10))
            .await
            .unwrap();
        assert!(runs.is_empty(), "B started no run: {runs:#?}");
        assert!(staged(env, "hr").await.is_empty());

        // A pauses past its lease; B takes over and runs
        env.clock.advance(301);
        let report = b.run("hr", FullImport, &opts()).await.unwrap();
        assert_status(&report, RunStatus::Completed);
        assert_eq!(staged(env, "hr").await.len(), 3);

        // A's token is stale now: its writes are refused
        let token = lease_a.token;
        let stale = env
            .store
            .run_blocking(move |tx| tx.check_fence("hr", token))
            .await
            .expect_err("a stale token is refused");
        assert!(matches!(stale, StoreError::StaleLease { .. }), "{stale:?}");
        let at = now(env);
        let lease_b = env
            .store
            .run_blocking(move |tx| tx.acquire_lease("hr", "engine-b", at, 300))
            .await
            .unwrap()
            .unwrap();
        assert!(
            lease_b.token > lease_a.token,
            "every grant has a higher fencing token"
        );
        let busy = a
            .run("hr", DeltaImport, &opts())
            .await
            .expect_err("A must not run while B holds the lease");
        assert!(
            matches!(busy, EngineError::Busy { ref holder, .. } if holder == "engine-b"),
            "{busy:?}"
        );
    })
    .await;
}
