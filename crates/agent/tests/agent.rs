//! The relay agent against a fake hub over a real WebSocket on loopback (see
//! support/fake_hub.rs): enrollment and proof, refusals that stop it, a CSV import paced by
//! credit, a connection torn mid-import, a silent hub, a malformed frame.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fake_hub.rs"]
mod fake_hub;
#[path = "cases/ldap.rs"]
mod ldap;
#[path = "support/slapd.rs"]
mod slapd;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fake_hub::{Conn, FakeHub, TOKEN, recv, send};
use identitymesh_agent::{Agent, AgentError, AgentOptions, Backoff, Identity, SystemClock};
use identitymesh_domain::ConnectorName;
use identitymesh_protocol::{
    Command, ConfigReload, EnrollmentToken, Frame, ImportFinished, ImportRequest,
    ImportRequestMode, Message, Refusal, RefusalCode, WireImportShape, WireRecord,
};
use tokio::task::JoinHandle;

const CONFIG: &str = r#"
[connectors.hr]
type = "csv"
anchor = "id"
columns = ["id", "name"]
csv = { path = "hr.csv" }

[connectors.dir]
type = "ldap"
anchor = "uid"
columns = ["uid"]
ldap = { host = "ldap.example.test", bind_dn = "cn=svc-sync,ou=Svc,dc=example,dc=test" }
secrets = { bind_password = "ldap-bind" }
"#;

fn options(hub: &FakeHub, dir: &Path, token: Option<&str>) -> AgentOptions {
    AgentOptions {
        hub: hub.url.clone(),
        data_dir: dir.to_owned(),
        enroll_token: token.map(|t| EnrollmentToken(t.into())),
        name: Some("branch office".into()),
        ca_file: None,
        allow_insecure: false,
        backoff: Backoff {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(400),
        },
    }
}

fn spawn(options: AgentOptions) -> JoinHandle<AgentError> {
    let agent = Agent::new(options, Arc::new(SystemClock)).unwrap();
    tokio::spawn(agent.run())
}

fn name(n: &str) -> ConnectorName {
    ConnectorName::parse(n).unwrap()
}

fn write_csv(dir: &Path, rows: usize) {
    let mut text = String::from("id,name\n");
    for i in 0..rows {
        text.push_str(&format!("u{i:05},User {i}\n"));
    }
    std::fs::write(dir.join("hr.csv"), text).unwrap();
}

fn reload(connectors: &[&str]) -> Command {
    Command::ConfigReload(ConfigReload {
        version: 3,
        config_toml: CONFIG.into(),
        connectors: connectors.iter().map(|c| name(c)).collect(),
    })
}

fn run_import(run_id: i64, batch_size: u32) -> Command {
    Command::RunImport(ImportRequest {
        run_id,
        connector: name("hr"),
        mode: ImportRequestMode::Full,
        batch_size,
    })
}

fn exports(connector: &str) -> Command {
    Command::ApplyExports {
        run_id: 8,
        connector: name(connector),
        items: Vec::new(),
    }
}

/// The anchors of the applied batches, in order, and the batch indexes.
fn streamed(applied: &[Message]) -> (Vec<String>, Vec<u64>) {
    let mut anchors = Vec::new();
    let mut indexes = Vec::new();
    for m in applied {
        if let Message::ImportBatch(b) = m {
            indexes.push(b.index);
            for r in &b.records {
                let WireRecord::Upsert(o) = r else {
                    panic!("{r:?}")
                };
                anchors.push(o.anchor.as_str().to_owned());
            }
        }
    }
    (anchors, indexes)
}

fn expected_anchors(rows: usize) -> Vec<String> {
    (0..rows).map(|i| format!("u{i:05}")).collect()
}

/// Grants one credit per batch until the import finishes complete; returns the finish.
async fn drain_import(hub: &mut FakeHub, conn: &mut Conn, run_id: i64) -> ImportFinished {
    loop {
        hub.credit(conn, run_id, 1).await;
        match hub.next(conn).await {
            Message::ImportBatch(b) => assert_eq!(b.run_id, run_id),
            Message::ImportFinished(f) => {
                assert!(f.end.complete && !f.end.failed, "{f:?}");
                return f;
            }
            other => panic!("unexpected {other:?}"),
        }
        hub.ack(conn).await;
    }
}

#[tokio::test]
async fn a_relay_enrolls_once_then_proves_its_key_on_each_connection() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = FakeHub::start().await;
    let agent = spawn(options(&hub, dir.path(), Some(TOKEN)));
    let first = hub.accept(30).await; // verifies the enrollment and the signature
    assert_eq!(first.relay_id, "r-1");
    drop(first);
    // the second connection proves with the key enrolled on the first: no token again
    let second = hub.accept(30).await;
    assert_eq!((second.relay_id.as_str(), hub.keys.len()), ("r-1", 1));
    agent.abort();
    let identity = Identity::load_or_create(dir.path()).unwrap();
    assert_eq!(identity.relay_id(), Some("r-1"));
    let enrolled = hub.keys["r-1"].as_bytes().to_vec();
    assert_eq!(identity.public_key(), {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(enrolled)
    });
}

#[tokio::test]
async fn refusals_that_retrying_cannot_cure_stop_the_agent() {
    for (code, shown) in [
        (RefusalCode::Revoked, "revoked"),
        (RefusalCode::VersionMismatch, "version_mismatch"),
        (RefusalCode::LicenseLimit, "license_limit"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut hub = FakeHub::start().await;
        let mut identity = Identity::load_or_create(dir.path()).unwrap();
        identity.record_enrollment("r-9", &hub.url).unwrap();
        let agent = spawn(options(&hub, dir.path(), None));
        let mut ws = hub.accept_raw().await;
        let Message::Hello(hello) = recv(&mut ws).await.message else {
            panic!()
        };
        assert_eq!(hello.relay_id.as_deref(), Some("r-9"));
        let refusal = Refusal {
            code,
            message: "relay r-9 was refused by an administrator".into(),
        };
        send(&mut ws, Frame::control(Message::Refused(refusal))).await;
        let error = tokio::time::timeout(Duration::from_secs(10), agent)
            .await
            .expect("the agent stops instead of retrying")
            .unwrap();
        let text = error.to_string();
        assert!(error.is_fatal(), "{text}");
        assert!(
            text.contains(shown) && text.contains("administrator"),
            "{text}"
        );
        assert_eq!(hub.connections, 1);
    }
    // a relay never enrolled and given no token does not start, saying what to pass
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start().await;
    let error = Agent::new(options(&hub, dir.path(), None), Arc::new(SystemClock))
        .err()
        .unwrap();
    assert!(
        error.is_fatal() && error.to_string().contains("--enroll-token"),
        "{error}"
    );
}

#[tokio::test]
async fn a_csv_import_streams_in_order_as_the_hub_grants_credit() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path(), 2500);
    let mut hub = FakeHub::start().await;
    let agent = spawn(options(&hub, dir.path(), Some(TOKEN)));
    let mut conn = hub.accept(30).await;
    // the LDAP connector's secret is not on the relay: named, with the command that sets it
    hub.command(&mut conn, reload(&["hr", "dir"])).await;
    let Message::CommandFailed(failed) = hub.next(&mut conn).await else {
        panic!()
    };
    assert_eq!(failed.command_seq, 1);
    assert!(
        failed.message.contains("'ldap-bind'")
            && failed
                .message
                .contains("identitymesh relay secrets set ldap-bind"),
        "{}",
        failed.message
    );
    hub.command(&mut conn, run_import(7, 500)).await;
    let Message::ImportStarted(started) = hub.next(&mut conn).await else {
        panic!()
    };
    assert_eq!((started.run_id, started.shape), (7, WireImportShape::Full));
    assert!(
        started.source_id.ends_with("hr.csv"),
        "{}",
        started.source_id
    );
    // no credit yet: nothing more comes
    let early = tokio::time::timeout(Duration::from_millis(400), hub.next(&mut conn)).await;
    assert!(
        early.is_err(),
        "sent without credit: {:?}",
        early.map(|m| m.name())
    );
    let finished = drain_import(&mut hub, &mut conn, 7).await;
    let (anchors, indexes) = streamed(&hub.applied);
    assert_eq!(finished.batches, 5);
    assert!(finished.end.watermark.is_some(), "{finished:?}");
    assert_eq!(indexes, [0, 1, 2, 3, 4]);
    assert_eq!(anchors, expected_anchors(2500));

    // unchanged since the import: the trigger is only acknowledged (the next message is the
    // failure of the following command, not a change notice)
    hub.command(
        &mut conn,
        Command::SyncTrigger {
            connector: name("hr"),
        },
    )
    .await;
    let seq = hub.command(&mut conn, exports("nope")).await;
    let Message::CommandFailed(failed) = hub.next(&mut conn).await else {
        panic!()
    };
    assert_eq!(failed.command_seq, seq);
    assert!(
        failed.message.contains("connector 'nope' is not hosted"),
        "{}",
        failed.message
    );
    hub.command(&mut conn, exports("hr")).await;
    let Message::CommandFailed(failed) = hub.next(&mut conn).await else {
        panic!()
    };
    assert!(failed.message.contains("snapshot"), "{}", failed.message);
    write_csv(dir.path(), 2501);
    hub.command(
        &mut conn,
        Command::SyncTrigger {
            connector: name("hr"),
        },
    )
    .await;
    let Message::ChangeNotice(notice) = hub.next(&mut conn).await else {
        panic!()
    };
    assert_eq!(notice.connector.as_str(), "hr");
    agent.abort();
}

#[tokio::test]
async fn a_connection_torn_mid_import_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path(), 2500);
    let mut hub = FakeHub::start().await;
    let agent = spawn(options(&hub, dir.path(), Some(TOKEN)));
    let mut conn = hub.accept(30).await;
    hub.command(&mut conn, reload(&["hr"])).await;
    let import_seq = hub.command(&mut conn, run_import(11, 500)).await;
    assert!(matches!(
        hub.next(&mut conn).await,
        Message::ImportStarted(_)
    ));
    hub.credit(&mut conn, 11, 3).await;
    for _ in 0..2 {
        assert!(matches!(hub.next(&mut conn).await, Message::ImportBatch(_)));
    }
    // the hub applied started + 2 batches and acknowledged none of them: drop the link
    drop(conn);
    let mut conn = hub.accept(30).await;
    assert_eq!(
        conn.proof_received_upto, import_seq,
        "the relay applied both commands"
    );
    let before = hub.arrivals.len();
    // a hub that missed the relay's ack redelivers the import command: acked, not re-run
    let again = Frame::reliable(import_seq, Message::Command(run_import(11, 500)));
    send(&mut conn.ws, again).await;
    let finished = drain_import(&mut hub, &mut conn, 11).await;
    assert_eq!(finished.batches, 5);
    let (anchors, indexes) = streamed(&hub.applied);
    assert_eq!(indexes, [0, 1, 2, 3, 4], "every batch applied exactly once");
    assert_eq!(anchors, expected_anchors(2500));
    let starts = hub
        .applied
        .iter()
        .filter(|m| matches!(m, Message::ImportStarted(_)))
        .count();
    assert_eq!(starts, 1, "the redelivered command was not applied again");
    // what the relay sent after reconnecting begins right after what the hub had applied
    assert_eq!(hub.arrivals[before].0, 4, "{:?}", &hub.arrivals[before..]);
    agent.abort();
}

#[tokio::test]
async fn a_silent_hub_is_left_after_three_heartbeats() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = FakeHub::start().await;
    let agent = spawn(options(&hub, dir.path(), Some(TOKEN)));
    let mut silent = hub.accept(1).await;
    // the hub says nothing; the relay pings every second and gives up after three
    let started = std::time::Instant::now();
    let _second = hub.accept(30).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(2500), "{waited:?}");
    let mut pings = 0;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(
        Duration::from_millis(200),
        futures_util::StreamExt::next(&mut silent.ws),
    )
    .await
    {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m
            && let Message::Ping(_) = Frame::decode(t.as_str()).unwrap().message
        {
            pings += 1;
        }
    }
    assert!(pings >= 2, "{pings} pings");
    agent.abort();
}

#[tokio::test]
async fn a_malformed_frame_drops_the_connection_with_the_reason_and_the_agent_reconnects() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = FakeHub::start().await;
    let agent = spawn(options(&hub, dir.path(), Some(TOKEN)));
    let mut conn = hub.accept(30).await;
    let bad = r#"{"v":1,"type":"credit","body":{"run_id":"seven","batches":1}}"#;
    conn.ws.send_text(bad).await;
    let Message::Refused(refusal) = recv(&mut conn.ws).await.message else {
        panic!()
    };
    assert_eq!(refusal.code, RefusalCode::ProtocolViolation);
    assert!(refusal.message.contains("malformed"), "{}", refusal.message);
    let closed = tokio::time::timeout(
        Duration::from_secs(5),
        futures_util::StreamExt::next(&mut conn.ws),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            closed,
            None | Some(Err(_)) | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
        ),
        "{closed:?}"
    );
    // no panic: the agent comes back and proves itself again
    let again = hub.accept(30).await;
    assert_eq!(again.relay_id, "r-1");
    assert!(!agent.is_finished());
    agent.abort();
}

trait SendText {
    async fn send_text(&mut self, text: &str);
}

impl SendText for tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.send(tokio_tungstenite::tungstenite::Message::text(
            text.to_owned(),
        ))
        .await
        .unwrap();
    }
}
