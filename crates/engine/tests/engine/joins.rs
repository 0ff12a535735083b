//! Joins: normalised join keys and uniqueness (C-06), ambiguous joins (C-44), adoption of
//! unmanaged target objects (C-47).

use identitymesh_domain::run::RunStatus;
use identitymesh_domain::staged::{Link, LinkKind};

use crate::support::*;

/// HR projects people (login unique, mail as e-mail); `ad` joins by mail, `app1`/`app2` by login.
fn c06_config() -> String {
    format!(
        r#"{MESH}
[connectors.hr]
type = "csv"
mesh_type = "person"
anchor = "employeeId"
precedence = 1
columns = ["employeeId", "mail", "login"]
projection = {{ delete_when_gone = true }}
csv = {{ path = "hr.csv" }}
[[connectors.hr.join]]
mesh_attribute = "employeeId"
value = "employeeId"
[connectors.hr.flows_in]
employeeId = "employeeId"
mail = "mail"
login = "login"

[connectors.ad]
type = "csv"
mesh_type = "person"
anchor = "objectGUID"
precedence = 2
columns = ["objectGUID", "mail", "title"]
csv = {{ path = "ad.csv" }}
[[connectors.ad.join]]
mesh_attribute = "mail"
value = "mail"
[connectors.ad.flows_in]
title = "title"

[connectors.app1]
type = "csv"
mesh_type = "person"
anchor = "appId"
columns = ["appId", "login"]
csv = {{ path = "app1.csv" }}
[[connectors.app1.join]]
mesh_attribute = "login"
value = "login"

[connectors.app2]
type = "csv"
mesh_type = "person"
anchor = "appId"
columns = ["appId", "login"]
csv = {{ path = "app2.csv" }}
[[connectors.app2.join]]
mesh_attribute = "login"
value = "login"
{}"#,
        directory("true", "delete")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c06_join_keys_are_normalised_and_the_original_case_is_exported() {
    on_every_backend(async |env| {
        env.write(
            "hr.csv",
            "employeeId,mail,login\n1001,Jane.Doe@Example.TEST,jdoe\n",
        );
        env.write(
            "ad.csv",
            "objectGUID,mail,title\nG1,jane.doe@example.test,Engineer\n",
        );
        env.write("app1.csv", "appId,login\nA1,\" jdoe\"\n");
        env.write("app2.csv", "appId,login\nB1,\"jdoe \"\n");
        let engine = env.engine(&c06_config());
        for connector in ["hr", "ad", "app1", "app2"] {
            assert_status(
                &run(&engine, connector, FullImport).await,
                RunStatus::Completed,
            );
        }
        for connector in ["hr", "ad", "app1", "app2"] {
            assert_status(
                &run(&engine, connector, FullSync).await,
                RunStatus::Completed,
            );
        }
        assert_eq!(
            mesh_count(env).await,
            1,
            "HR 1001 and every other source are one identity"
        );
        let person = mesh_where(env, "employeeId", "1001").await;
        for (connector, anchor) in [("ad", "G1"), ("app1", "A1"), ("app2", "B1")] {
            let object = staged_by_anchor(env, connector, anchor).await.unwrap();
            assert_eq!(
                object.link,
                Link::Joined {
                    mesh_id: person.id,
                    how: LinkKind::Joined
                },
                "{connector} {anchor}"
            );
        }
        assert_eq!(
            text(&person, "mail").as_deref(),
            Some("Jane.Doe@Example.TEST"),
            "the source's case is kept"
        );
        assert_eq!(text(&person, "title").as_deref(), Some("Engineer"));

        assert_status(
            &run(&engine, "directory", Export).await,
            RunStatus::Completed,
        );
        let rows = read_csv(&env.path().join("directory.csv"));
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0]["mail"], "Jane.Doe@Example.TEST",
            "the export is not rewritten to the join key"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c06_unique_mesh_attribute_refuses_case_variants() {
    on_every_backend(async |env| {
        env.write(
            "hr.csv",
            "employeeId,mail,login\n1001,a@example.test,Jdoe\n1002,b@example.test,jdoe\n",
        );
        let engine = env.engine(&c06_config());
        run(&engine, "hr", FullImport).await;
        let sync = run(&engine, "hr", FullSync).await;
        assert_status(&sync, RunStatus::CompletedWithErrors);
        assert_eq!(
            (sync.stats.projected, sync.stats.errors),
            (1, 1),
            "{sync:#?}"
        );
        assert_eq!(mesh_count(env).await, 1, "Jdoe and jdoe never coexist");
        let errors = run_errors(env, sync.run_id).await;
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].object.contains("1002"), "{errors:#?}");
        assert!(errors[0].message.contains("login"), "{errors:#?}");
    })
    .await;
}

/// HR projects P with mail jane@example.test; AD joins by mail and flows title.
fn c44_config() -> String {
    format!(
        r#"{MESH}{HR}
[connectors.ad]
type = "csv"
mesh_type = "person"
anchor = "objectGUID"
precedence = 2
columns = ["objectGUID", "sAMAccountName", "mail", "title"]
csv = {{ path = "ad.csv" }}
[[connectors.ad.join]]
mesh_attribute = "mail"
value = "trim(mail)"
[connectors.ad.flows_in]
title = "title"
{}"#,
        directory(r#"status == "active""#, "delete")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c44_ambiguous_join_stops_and_does_not_flap() {
    on_every_backend(async |env| {
        env.write("hr.csv", format!("{HR_HEADER}\n1001,Jane Doe,jane@example.test,Sales,active\n"));
        env.write(
            "ad.csv",
            "objectGUID,sAMAccountName,mail,title\nG1,jdoe,jane@example.test,Admin\nG2,jdoe,jane@example.test,Analyst\n",
        );
        let engine = env.engine(&c44_config());
        run_steps(&engine, &[("hr", FullImport), ("hr", FullSync), ("directory", Export), ("ad", FullImport)]).await;
        let before = mesh_where(env, "employeeId", "1001").await;

        let first = run(&engine, "ad", FullSync).await;
        assert_eq!(first.stats.ambiguous, 2, "{first:#?}");
        let errors = run_errors(env, first.run_id).await;
        for anchor in ["G1", "G2"] {
            let error = errors.iter().find(|e| e.object.contains(anchor)).unwrap_or_else(|| panic!("{anchor} is not flagged: {errors:#?}"));
            assert!(error.message.contains("ambiguous"), "{error:?}");
            assert!(error.message.contains(&before.id.to_string()), "the candidates are listed: {error:?}");
            let rival = if anchor == "G1" { "G2" } else { "G1" };
            assert!(error.message.contains(rival), "the other candidate is named: {error:?}");
        }
        for anchor in ["G1", "G2"] {
            let object = staged_by_anchor(env, "ad", anchor).await.unwrap();
            assert!(matches!(object.link, Link::Ambiguous { .. }), "{anchor}: {:?}", object.link);
        }
        let after = mesh_where(env, "employeeId", "1001").await;
        assert_eq!(after.attributes, before.attributes, "neither AD object changes P");
        assert!(all_exports(env, "directory").await.is_empty(), "nothing to export");

        let audit_before = audit(env).await.len();
        let second = run(&engine, "ad", FullSync).await;
        assert_eq!((second.stats.joined, second.stats.mesh_updates, second.stats.ambiguous), (0, 0, 2), "{second:#?}");
        assert_eq!(mesh_where(env, "employeeId", "1001").await, after, "a second run makes zero changes");
        assert_eq!(audit(env).await.len(), audit_before, "no flapping: nothing is audited again");
        assert!(all_exports(env, "directory").await.is_empty());

        // once the duplicate is fixed in the source, normal flow resumes in one full sync
        env.write(
            "ad.csv",
            "objectGUID,sAMAccountName,mail,title\nG1,jdoe,jane@example.test,Admin\nG2,jdoe-adm,jdoe-adm@example.test,Analyst\n",
        );
        run(&engine, "ad", FullImport).await;
        let resolved = run(&engine, "ad", FullSync).await;
        assert_eq!((resolved.stats.joined, resolved.stats.ambiguous), (1, 0), "{resolved:#?}");
        let g1 = staged_by_anchor(env, "ad", "G1").await.unwrap();
        assert_eq!(g1.link, Link::Joined { mesh_id: before.id, how: LinkKind::Joined });
        assert_eq!(text(&mesh_where(env, "employeeId", "1001").await, "title").as_deref(), Some("Admin"));
    })
    .await;
}

/// Two targets keyed by userName (= mail): `cloud` adopts automatically except privileged
/// rows, `cloud2` has the default policy.
fn c47_config() -> String {
    let target = |name: &str, adopt: &str| {
        format!(
            r#"
[connectors.{name}]
type = "csv"
mesh_type = "person"
anchor = "userName"
columns = ["userName", "displayName", "role"]
csv = {{ path = "{name}.csv", missing_file = "empty" }}
[connectors.{name}.provisioning]
anchor = "mail"
privileged = 'role == "admin"'
{adopt}
[connectors.{name}.flows_out]
userName = "mail"
displayName = "displayName"
"#
        )
    };
    format!(
        "{MESH}{HR}{}{}",
        target("cloud", r#"adopt = "auto""#),
        target("cloud2", "")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c47_privileged_unmanaged_account_is_never_adopted_automatically() {
    on_every_backend(async |env| {
        env.write("cloud.csv", "userName,displayName,role\nadmin@example.test,Built-in Admin,admin\nbob@example.test,Bob Manual,user\n");
        env.write("cloud2.csv", "userName,displayName,role\nbob@example.test,Bob Manual,user\n");
        env.write(
            "hr.csv",
            format!("{HR_HEADER}\n1001,New Hire,admin@example.test,Sales,active\n1002,Bob Roe,bob@example.test,Sales,active\n"),
        );
        let engine = env.engine(&c47_config());
        run_steps(&engine, &[("cloud", FullImport), ("cloud2", FullImport), ("hr", FullImport)]).await;
        let sync = run(&engine, "hr", FullSync).await;
        assert_eq!(sync.stats.awaiting_adoption, 2, "{sync:#?}");
        let hire = mesh_where(env, "employeeId", "1001").await;
        let bob = mesh_where(env, "employeeId", "1002").await;

        // adopt = "auto", but the row is privileged: it waits for an operator
        let admin = staged_by_anchor(env, "cloud", "admin@example.test").await.unwrap();
        let Link::AwaitingAdoption { candidate, reason } = &admin.link else { panic!("{:?}", admin.link) };
        assert_eq!(*candidate, hire.id);
        assert!(reason.contains("privileged"), "{reason}");
        let awaiting = audit_of(env, "adoption.awaiting").await;
        assert!(awaiting.iter().any(|a| a.record.target == "cloud/anchor admin@example.test"), "{awaiting:#?}");
        assert!(all_exports(env, "cloud").await.iter().all(|e| e.anchor.as_str() != "admin@example.test"), "nothing is exported to it");

        // adopt = "auto" adopts an ordinary row
        let bob_cloud = staged_by_anchor(env, "cloud", "bob@example.test").await.unwrap();
        assert_eq!(bob_cloud.link, Link::Joined { mesh_id: bob.id, how: LinkKind::Adopted });

        // the default policy is approval
        let bob_cloud2 = staged_by_anchor(env, "cloud2", "bob@example.test").await.unwrap();
        let Link::AwaitingAdoption { candidate, reason } = &bob_cloud2.link else { panic!("{:?}", bob_cloud2.link) };
        assert_eq!(*candidate, bob.id);
        assert!(reason.contains("approv"), "{reason}");
        assert!(awaiting.iter().any(|a| a.record.target == "cloud2/anchor bob@example.test"), "{awaiting:#?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c47_an_approved_adoption_links_the_account_and_the_next_sync_updates_it() {
    on_every_backend(async |env| {
        env.write(
            "cloud.csv",
            "userName,displayName,role\nadmin@example.test,Built-in Admin,admin\n",
        );
        env.write("cloud2.csv", "userName,displayName,role\n");
        env.write(
            "hr.csv",
            format!("{HR_HEADER}\n1001,New Hire,admin@example.test,Sales,active\n"),
        );
        let engine = env.engine(&c47_config());
        run_steps(
            &engine,
            &[
                ("cloud", FullImport),
                ("cloud2", FullImport),
                ("hr", FullImport),
                ("hr", FullSync),
            ],
        )
        .await;
        let hire = mesh_where(env, "employeeId", "1001").await;

        // rejecting leaves it unmanaged; approving an object that is not waiting is refused
        let rejected = engine
            .decide_adoption(
                "cloud",
                "admin@example.test",
                identitymesh_engine::AdoptionVerdict::Reject,
                "cli:test",
            )
            .await
            .unwrap();
        assert!(rejected.contains("adoption.rejected"), "{rejected}");
        assert_eq!(
            staged_by_anchor(env, "cloud", "admin@example.test")
                .await
                .unwrap()
                .link,
            Link::Unjoined
        );
        assert!(
            engine
                .decide_adoption(
                    "cloud",
                    "admin@example.test",
                    identitymesh_engine::AdoptionVerdict::Approve,
                    "cli:test"
                )
                .await
                .is_err()
        );

        // the next sync proposes it again; this time the operator approves
        run(&engine, "hr", FullSync).await;
        engine
            .decide_adoption(
                "cloud",
                "admin@example.test",
                identitymesh_engine::AdoptionVerdict::Approve,
                "cli:test",
            )
            .await
            .unwrap();
        let adopted = staged_by_anchor(env, "cloud", "admin@example.test")
            .await
            .unwrap();
        assert_eq!(
            adopted.link,
            Link::Joined {
                mesh_id: hire.id,
                how: LinkKind::Adopted
            }
        );
        assert_eq!(audit_of(env, "adoption.approved").await.len(), 1);

        // normal flow resumes: the adopted account gets the mesh's display name
        run(&engine, "hr", FullSync).await;
        let exports = all_exports(env, "cloud").await;
        assert_eq!(exports.len(), 1, "{exports:#?}");
        assert_eq!(exports[0].anchor.as_str(), "admin@example.test");
    })
    .await;
}
