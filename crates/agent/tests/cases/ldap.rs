//! A directory connector hosted by the relay against a real slapd: exports applied once
//! across a torn connection and a redelivered command, then read back by an import.

use identitymesh_agent::LocalSecrets;
use identitymesh_domain::export::{ExportItem, ExportOp, ExportOutcome, ExportReason, ExportState};
use identitymesh_domain::{Anchor, Attributes};
use identitymesh_protocol::{
    Command, ConfigReload, Frame, ImportRequest, ImportRequestMode, Message,
};
use identitymesh_secrets::SecretString;

use crate::fake_hub::{FakeHub, TOKEN, send};
use crate::slapd;
use crate::{drain_import, name, options, spawn, streamed};

fn add(id: i64, uid: &str) -> ExportItem {
    let mut attributes = Attributes::new();
    attributes.set_str("uid", uid);
    attributes.set_str("cn", format!("{uid} person"));
    attributes.set_str("sn", uid);
    ExportItem {
        id,
        connector: name("dir"),
        staged_id: id,
        anchor: Anchor::parse(&format!("planned-{id}")).unwrap(),
        mesh_id: None,
        op: ExportOp::Add {
            name: Some(format!("uid={uid},{}", slapd::PEOPLE)),
            attributes,
        },
        reason: ExportReason::Provision,
        state: ExportState::Pending,
        attempts: 0,
        last_error: None,
        hold_id: None,
    }
}

#[tokio::test]
async fn ldap_exports_through_the_relay_apply_once_across_a_torn_connection() {
    let Some(server) = slapd::Slapd::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // the bind password lives on the relay host only, sealed under its key
    let secrets = LocalSecrets::open(dir.path()).unwrap();
    secrets
        .set("dir-bind", &SecretString::from(slapd::ROOT_PW))
        .unwrap();
    let mut hub = FakeHub::start().await;
    let agent = spawn(options(&hub, dir.path(), Some(TOKEN)));
    let mut conn = hub.accept(30).await;
    let reload = Command::ConfigReload(ConfigReload {
        version: 4,
        config_toml: slapd::config(&server.url()),
        connectors: vec![name("dir")],
    });
    hub.command(&mut conn, reload).await;
    let command = Command::ApplyExports {
        run_id: 21,
        connector: name("dir"),
        items: vec![add(1, "alice"), add(2, "bob")],
    };
    let seq = hub.command(&mut conn, command.clone()).await;
    // the relay took the command and sent the results; the link drops, losing them
    hub.until_acked(&mut conn, seq).await;
    assert!(matches!(
        hub.lose_next(&mut conn).await,
        Message::ExportResults(_)
    ));
    drop(conn);
    let mut conn = hub.accept(30).await;
    assert_eq!(conn.proof_received_upto, seq);
    // a hub that missed the ack redelivers the command: acknowledged, not applied again
    send(
        &mut conn.ws,
        Frame::reliable(seq, Message::Command(command)),
    )
    .await;
    let Message::ExportResults(results) = hub.next(&mut conn).await else {
        panic!()
    };
    let ids: Vec<i64> = results.results.iter().map(|r| r.item_id).collect();
    assert_eq!(ids, [1, 2]);
    let mut anchors = Vec::new();
    for r in &results.results {
        let ExportOutcome::Applied { anchor } = &r.outcome else {
            panic!("{r:?}")
        };
        assert!(!anchor.as_str().starts_with("planned-"), "{anchor:?}");
        anchors.push(anchor.as_str().to_owned());
    }
    assert_eq!(server.uids(), ["alice", "bob"]);
    // the import through the relay reads the two entries back, one batch each
    hub.command(
        &mut conn,
        Command::RunImport(ImportRequest {
            run_id: 22,
            connector: name("dir"),
            mode: ImportRequestMode::Full,
            batch_size: 1,
        }),
    )
    .await;
    assert!(matches!(
        hub.next(&mut conn).await,
        Message::ImportStarted(_)
    ));
    assert_eq!(drain_import(&mut hub, &mut conn, 22).await.batches, 2);
    let (mut imported, _) = streamed(&hub.applied);
    imported.sort();
    anchors.sort();
    assert_eq!(imported, anchors);
    let results = hub
        .applied
        .iter()
        .filter(|m| matches!(m, Message::ExportResults(_)))
        .count();
    assert_eq!(results, 1, "the exports were applied and reported once");
    agent.abort();
}
