//! The relay hub from a relay's side of the wire: a scripted relay (a real WebSocket client
//! speaking the protocol crate's frames) against the real Admin API on port 0, on every
//! backend. Enrollment, proof of the key, revocation, refusals, and a relay-hosted import
//! run by the real engine through the hub — with the connection torn in the middle.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::{SinkExt, StreamExt};
use identitymesh_api::hub::{Hub, HubSettings, RelayConnectors};
use identitymesh_api::{AppState, Role, Security, add_user, serve};
use identitymesh_domain::Anchor;
use identitymesh_domain::run::{RunProfile, RunStatus};
use identitymesh_domain::staged::ImportedObject;
use identitymesh_domain::value::{Attributes, Value as Val};
use identitymesh_engine::{Clock, Engine, RunOptions};
use identitymesh_protocol::*;
use identitymesh_secrets::license::{License, LicenseDocument, Limits};
use identitymesh_secrets::{Kek, KeySet};
use identitymesh_store::NewEnrollmentToken;
use identitymesh_store::vault::Vault;
use identitymesh_testkit::{TestEnv, backends};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::PASSWORD;

const CONFIG: &str = r#"
[mesh.person]
attributes = [{ name = "employeeId", unique = true }, { name = "displayName" }]

[connectors.branch]
type = "csv"
relay = "branch-office"
mesh_type = "person"
anchor = "employeeId"
columns = ["employeeId", "displayName"]
projection = {}
csv = { path = "branch.csv" }
join = [{ mesh_attribute = "employeeId", value = "employeeId" }]
flows_in = { employeeId = "employeeId", displayName = "displayName" }
"#;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Hubbed {
    env: TestEnv,
    engine: Engine,
    base: String,
    http: reqwest::Client,
    admin: crate::helpers::Session,
}

/// A license of Test Corp (as if verified: tests use their own issuer) allowing `relays`
/// relay agents.
fn license(relays: u64) -> License {
    License::licensed(LicenseDocument {
        id: "L-relays".into(),
        licensee: "Test Corp".into(),
        edition: "standard".into(),
        issued: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        expires: NaiveDate::from_ymd_opt(2999, 12, 31).unwrap(),
        grace_days: 30,
        limits: Limits {
            mesh_objects: None,
            connectors: None,
            relay_agents: Some(relays),
        },
        features: vec![],
    })
}

/// The hub and the API, licensed for a few relays.
async fn start(backend: identitymesh_testkit::Backend) -> Hubbed {
    start_licensed(backend, license(5)).await
}

async fn start_licensed(backend: identitymesh_testkit::Backend, license: License) -> Hubbed {
    let env = TestEnv::new(backend).await;
    let clock: Arc<dyn Clock> = Arc::new(env.clock.clone());
    let now = clock.now();
    env.store
        .run_blocking(move |tx| tx.apply_config(CONFIG, "hash", "test", now).map(drop))
        .await
        .unwrap();
    let settings = HubSettings {
        answer_timeout: Duration::from_secs(20),
        ..HubSettings::default()
    };
    let hub = Hub::new(
        env.store.clone(),
        clock.clone(),
        "api-test".into(),
        settings,
        Arc::new(license),
    );
    let engine = env
        .engine(CONFIG)
        .with_remote_connectors(Arc::new(RelayConnectors::new(hub.clone())));
    let vault = Vault::new(KeySet::new(Kek::generate().unwrap()));
    let state = AppState::new(
        env.store.clone(),
        Some(engine.clone()),
        vault,
        clock,
        Security::default(),
    )
    .with_hub(hub);
    add_user(&env.store, "ada", Role::Admin, PASSWORD, "test", now)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(serve(listener, state, std::future::pending()));
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{base}/api/v1/session"))
        .json(&json!({ "name": "ada", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = crate::helpers::Session { cookie, csrf };
    Hubbed {
        env,
        engine,
        base,
        http,
        admin,
    }
}

impl Hubbed {
    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("http://{}{path}", self.base))
            .header("cookie", &self.admin.cookie)
            .header("x-csrf-token", &self.admin.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn enrollment_token(&self, name: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/relays/enrollment-tokens",
                json!({ "name": name }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn relays(&self) -> Vec<Value> {
        let (_, body) = self
            .call(reqwest::Method::GET, "/api/v1/relays", Value::Null)
            .await;
        body["items"].as_array().unwrap().clone()
    }

    async fn connect(&self) -> Socket {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/hub/v1", self.base))
            .await
            .unwrap();
        ws
    }

    fn origin(&self) -> String {
        format!("ws://{}", self.base)
    }
}

/// A scripted relay: its key, its id once enrolled, its sequence numbers.
struct Relay {
    key: SigningKey,
    id: Option<String>,
    received_upto: u64,
}

impl Relay {
    fn new(seed: u8) -> Self {
        Relay {
            key: SigningKey::from_bytes(&[seed; 32]),
            id: None,
            received_upto: 0,
        }
    }
    fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }
}

async fn send(ws: &mut Socket, frame: Frame) {
    ws.send(Ws::Text(frame.encode().into())).await.unwrap();
}

/// The next protocol frame (skipping WebSocket pings and protocol heartbeats); `None` when
/// the hub closed.
async fn recv(ws: &mut Socket) -> Option<Frame> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("the hub answered in time");
        match next {
            Some(Ok(Ws::Text(t))) => {
                let frame = Frame::decode(t.as_str()).unwrap();
                if !matches!(frame.message, Message::Ping(_) | Message::Pong(_)) {
                    return Some(frame);
                }
            }
            Some(Ok(Ws::Ping(_) | Ws::Pong(_))) => continue,
            _ => return None,
        }
    }
}

fn hello(relay_id: Option<String>, versions: (u32, u32)) -> Frame {
    Frame::control(Message::Hello(Hello {
        min_version: versions.0,
        max_version: versions.1,
        agent_version: "test-relay".into(),
        host: "branch-host".into(),
        relay_id,
    }))
}

/// Hello, enrollment when the relay has no id yet, challenge, proof; returns the answer to
/// the proof (a welcome or a refusal).
async fn handshake(h: &Hubbed, relay: &mut Relay, token: Option<&str>) -> (Socket, Message) {
    let mut ws = h.connect().await;
    send(&mut ws, hello(relay.id.clone(), (1, 1))).await;
    if let Some(token) = token {
        let enroll = Enroll {
            token: EnrollmentToken(token.into()),
            public_key: relay.public_key(),
            name: "ignored".into(),
        };
        send(&mut ws, Frame::control(Message::Enroll(enroll))).await;
    }
    let challenge = match recv(&mut ws).await.unwrap().message {
        Message::Challenge(c) => c,
        other => return (ws, other),
    };
    if let Some(id) = &challenge.relay_id {
        relay.id = Some(id.clone());
    }
    let id = relay.id.clone().unwrap();
    let payload = challenge_payload(&id, &h.origin(), &challenge.nonce);
    let signature = URL_SAFE_NO_PAD.encode(relay.key.sign(&payload).to_bytes());
    let proof = Proof {
        relay_id: id,
        signature,
        received_upto: relay.received_upto,
    };
    send(&mut ws, Frame::control(Message::Proof(proof))).await;
    let answer = recv(&mut ws).await.unwrap().message;
    (ws, answer)
}

fn refused(m: &Message) -> Option<RefusalCode> {
    match m {
        Message::Refused(r) => Some(r.code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_enrolls_proves_its_key_and_is_revoked() {
    for backend in backends() {
        let h = start(backend).await;
        let token = h.enrollment_token("branch-office").await;
        let mut relay = Relay::new(7);
        let (mut ws, answer) = handshake(&h, &mut relay, Some(&token)).await;
        let Message::Welcome(welcome) = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(
            welcome.connectors,
            ["branch"],
            "the connectors naming this relay"
        );
        // its configuration follows as a reliable command
        let frame = recv(&mut ws).await.unwrap();
        let Message::Command(Command::ConfigReload(reload)) = &frame.message else {
            panic!("{frame:?}")
        };
        assert_eq!(reload.connectors[0].as_str(), "branch");
        assert!(!reload.config_toml.is_empty());
        send(
            &mut ws,
            Frame::control(Message::Ack(Ack {
                upto: frame.seq.unwrap(),
            })),
        )
        .await;
        relay.received_upto = frame.seq.unwrap();
        let listed = h.relays().await;
        assert_eq!(listed[0]["name"], "branch-office");
        assert_eq!(
            (
                listed[0]["connected_here"].as_bool(),
                listed[0]["host"].as_str()
            ),
            (Some(true), Some("branch-host"))
        );

        let page = h
            .http
            .get(format!("http://{}/ui/relays", h.base))
            .header("cookie", &h.admin.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("branch-office")
                && page.contains("connected")
                && page.contains("branch-host"),
            "{page}"
        );

        // the token was for one enrollment only
        let (_, again) = handshake(&h, &mut Relay::new(8), Some(&token)).await;
        assert_eq!(refused(&again), Some(RefusalCode::BadEnrollmentToken));
        // another key claiming this relay's id is refused
        let mut impostor = Relay {
            id: relay.id.clone(),
            ..Relay::new(9)
        };
        let (_, answer) = handshake(&h, &mut impostor, None).await;
        assert_eq!(refused(&answer), Some(RefusalCode::Unauthenticated));

        // revocation disconnects the live connection at once and refuses it after
        let id = relay.id.clone().unwrap();
        let (status, _) = h
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/relays/{id}/revoke"),
                Value::Null,
            )
            .await;
        assert_eq!(status, 200);
        let mut closed_with = None;
        while let Some(frame) = recv(&mut ws).await {
            if let Some(code) = refused(&frame.message) {
                closed_with = Some(code);
            }
        }
        assert_eq!(closed_with, Some(RefusalCode::Revoked));
        let (_, answer) = handshake(&h, &mut relay, None).await;
        assert_eq!(refused(&answer), Some(RefusalCode::Revoked));
        h.env.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_agents_limit_refuses_tokens_and_enrollments_beyond_it() {
    for backend in backends() {
        // the community edition allows no relay: no token, with a message naming the limit
        let h = start_licensed(backend, License::community()).await;
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                "/api/v1/relays/enrollment-tokens",
                json!({ "name": "branch-office" }),
            )
            .await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(status, 409, "{body}");
        assert!(
            message.contains("community license")
                && message.contains("allows 0 relay_agents, this needs 1"),
            "{message}"
        );
        let (_, tokens) = h
            .call(
                reqwest::Method::GET,
                "/api/v1/relays/enrollment-tokens",
                Value::Null,
            )
            .await;
        assert_eq!(tokens["items"], json!([]), "nothing was stored");
        h.env.cleanup().await;

        // a license for one relay: one outstanding token fills it
        let h = start_licensed(backend, license(1)).await;
        let token = h.enrollment_token("branch-office").await;
        let second = json!({ "name": "branch-two" });
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                "/api/v1/relays/enrollment-tokens",
                second.clone(),
            )
            .await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(status, 409, "{body}");
        assert!(
            message.contains("standard license of Test Corp allows 1 relay_agents, this needs 2")
                && message.contains("1 now"),
            "{message}"
        );
        // the token becomes an enrolled relay, which keeps the place
        let mut relay = Relay::new(7);
        let (_ws, answer) = handshake(&h, &mut relay, Some(&token)).await;
        assert!(matches!(answer, Message::Welcome(_)), "{answer:?}");
        let (status, body) = h
            .call(
                reqwest::Method::POST,
                "/api/v1/relays/enrollment-tokens",
                second.clone(),
            )
            .await;
        assert_eq!(status, 409, "{body}");

        // the hub is the final gate: a token stored past the check does not enroll
        let value = "imr_stored-past-the-check";
        let stored = NewEnrollmentToken {
            name: "branch-two".into(),
            token_hash: identitymesh_api::auth::password::secret_hash(value),
            created_by: "test".into(),
            created_at: h.env.clock.now(),
            expires_at: h.env.clock.now() + chrono::Duration::hours(1),
        };
        h.env
            .store
            .run_blocking(move |tx| tx.insert_enrollment_token(&stored).map(drop))
            .await
            .unwrap();
        let (_, answer) = handshake(&h, &mut Relay::new(8), Some(value)).await;
        let Message::Refused(refusal) = &answer else {
            panic!("{answer:?}")
        };
        assert_eq!(refusal.code, RefusalCode::LicenseLimit);
        assert!(
            refusal
                .message
                .contains("allows 1 relay_agents, this needs 2"),
            "{}",
            refusal.message
        );
        assert_eq!(h.relays().await.len(), 1, "the refused relay was not kept");
        let (_, view) = h
            .call(reqwest::Method::GET, "/api/v1/license", Value::Null)
            .await;
        let usage = &view["limits"]["relay_agents"];
        assert_eq!(
            (usage["limit"].as_u64(), usage["used"].as_u64()),
            (Some(1), Some(2)),
            "the enrolled relay and the stored token: {view}"
        );

        // a revoked relay frees its place: the refused token (not used up) now enrolls
        let id = relay.id.clone().unwrap();
        let (status, _) = h
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/relays/{id}/revoke"),
                Value::Null,
            )
            .await;
        assert_eq!(status, 200);
        let (_ws, answer) = handshake(&h, &mut Relay::new(8), Some(value)).await;
        assert!(matches!(answer, Message::Welcome(_)), "{answer:?}");
        h.env.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_and_malformed_frames_are_refused_and_the_hub_carries_on() {
    for backend in backends() {
        let h = start(backend).await;
        let mut ws = h.connect().await;
        send(&mut ws, hello(None, (2, 3))).await;
        let answer = recv(&mut ws).await.unwrap().message;
        let Message::Refused(r) = &answer else {
            panic!("{answer:?}")
        };
        assert_eq!(r.code, RefusalCode::VersionMismatch);
        assert!(r.message.contains("upgrade"), "{}", r.message);

        let mut ws = h.connect().await;
        ws.send(Ws::Text(
            "{\"v\":1,\"type\":\"hello\",\"body\":{\"bogus\":1}}".into(),
        ))
        .await
        .unwrap();
        let answer = recv(&mut ws).await.unwrap().message;
        assert_eq!(refused(&answer), Some(RefusalCode::ProtocolViolation));

        // a relay after its handshake sending garbage is dropped; the hub serves the next one
        let token = h.enrollment_token("branch-office").await;
        let mut relay = Relay::new(3);
        let (mut ws, answer) = handshake(&h, &mut relay, Some(&token)).await;
        assert!(matches!(answer, Message::Welcome(_)), "{answer:?}");
        ws.send(Ws::Text("not json".into())).await.unwrap();
        let mut code = None;
        while let Some(frame) = recv(&mut ws).await {
            code = refused(&frame.message).or(code);
        }
        assert_eq!(code, Some(RefusalCode::ProtocolViolation));
        let (_, answer) = handshake(&h, &mut relay, None).await;
        assert!(matches!(answer, Message::Welcome(_)), "{answer:?}");
        h.env.cleanup().await;
    }
}

fn person(id: u32) -> WireRecord {
    let mut attributes = Attributes::new();
    attributes.set("employeeId", vec![Val::str(id.to_string())]);
    attributes.set("displayName", vec![Val::str(format!("Person {id}"))]);
    WireRecord::Upsert(ImportedObject {
        object_type: "person".into(),
        anchor: Anchor::parse(&id.to_string()).unwrap(),
        name: None,
        attributes,
    })
}

/// Waits for the next command, acknowledging whatever else arrives.
async fn next_command(ws: &mut Socket, relay: &mut Relay) -> (u64, Command) {
    loop {
        let frame = recv(ws).await.expect("a command");
        if let (Some(seq), Message::Command(c)) = (frame.seq, frame.message) {
            relay.received_upto = seq;
            send(ws, Frame::control(Message::Ack(Ack { upto: seq }))).await;
            if !matches!(c, Command::ConfigReload(_)) {
                return (seq, c);
            }
        }
    }
}

/// Waits for credit for `run_id`.
async fn credit(ws: &mut Socket) {
    loop {
        if let Message::Credit(c) = recv(ws).await.expect("credit").message
            && c.batches > 0
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_hosted_import_survives_a_torn_connection_and_stages_each_object_once() {
    for backend in backends() {
        let h = start(backend).await;
        let token = h.enrollment_token("branch-office").await;
        let mut relay = Relay::new(5);
        let (mut ws, answer) = handshake(&h, &mut relay, Some(&token)).await;
        assert!(matches!(answer, Message::Welcome(_)), "{answer:?}");

        let engine = h.engine.clone();
        let run = tokio::spawn(async move {
            engine
                .run("branch", RunProfile::FullImport, &RunOptions::default())
                .await
        });
        let (_, command) = next_command(&mut ws, &mut relay).await;
        let Command::RunImport(request) = command else {
            panic!("{command:?}")
        };
        let key = request.run_id;
        let batch = |index: u64, ids: [u32; 2]| {
            Message::ImportBatch(ImportBatch {
                run_id: key,
                index,
                records: ids.map(person).to_vec(),
            })
        };
        let started = Message::ImportStarted(ImportStarted {
            run_id: key,
            shape: WireImportShape::Full,
            source_id: "branch.csv".into(),
        });
        // the relay's outbox: what it sent, by sequence number
        let outbox = vec![
            (1, started),
            (2, batch(0, [1, 2])),
            (3, batch(1, [3, 4])),
            (4, batch(2, [5, 6])),
            (
                5,
                Message::ImportFinished(ImportFinished {
                    run_id: key,
                    batches: 3,
                    end: WireImportEnd {
                        complete: true,
                        failed: false,
                        reason: None,
                        watermark: None,
                    },
                }),
            ),
        ];
        send(&mut ws, Frame::reliable(1, outbox[0].1.clone())).await;
        credit(&mut ws).await;
        send(&mut ws, Frame::reliable(2, outbox[1].1.clone())).await;
        send(&mut ws, Frame::reliable(3, outbox[2].1.clone())).await;
        // torn before any acknowledgement was read
        drop(ws);

        // reconnect: the welcome says what the hub applied; everything is resent anyway,
        // and what was applied already is acknowledged, not applied again
        let (mut ws, answer) = handshake(&h, &mut relay, None).await;
        let Message::Welcome(w) = answer else {
            panic!("{answer:?}")
        };
        assert!(
            w.received_upto >= 1,
            "the hub recorded what it applied: {}",
            w.received_upto
        );
        for (seq, message) in &outbox {
            send(&mut ws, Frame::reliable(*seq, message.clone())).await;
        }
        let outcome = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(outcome.status, RunStatus::Completed, "{outcome:?}");
        assert_eq!(
            (outcome.stats.read, outcome.stats.staged_adds),
            (6, 6),
            "each object once: {:?}",
            outcome.stats
        );
        let listed = h.relays().await;
        assert_eq!(listed[0]["connectors"], json!(["branch"]));
        h.env.cleanup().await;
    }
}
