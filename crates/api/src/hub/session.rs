//! One relay connection: the handshake (hello, enrollment or challenge and proof, welcome),
//! then the loop that applies what the relay sends, writes what the hub queues for it, and
//! keeps the heartbeat. Any broken rule closes the connection with a `refused` frame and a
//! logged reason; nothing the relay sent after the broken rule is applied.

use axum::extract::ws::{Message as WsMessage, WebSocket};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use identitymesh_connectors::KNOWN_KINDS;
use identitymesh_domain::audit::NewAudit;
use identitymesh_protocol::{
    Ack, Challenge, Command, ConfigReload, Delivery, Frame, Heartbeat, Inbox, Message, Proof,
    Refusal, RefusalCode, Welcome, challenge_payload, negotiate,
};
use identitymesh_secrets::license::Limit;
use identitymesh_store::{NewRelay, RelayRecord, RelayStatus, StoreError};
use std::time::Duration;
use tokio::sync::mpsc;

use super::{Hub, Outgoing};
use crate::auth::password::{random_secret, secret_hash};

/// How long each handshake step may take.
const HANDSHAKE_STEP: Duration = Duration::from_secs(15);

fn refusal(code: RefusalCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

fn violation(message: impl Into<String>) -> Refusal {
    refusal(RefusalCode::ProtocolViolation, message)
}

fn internal(e: StoreError) -> Refusal {
    tracing::error!(error = %e, "relay hub: database error");
    refusal(
        RefusalCode::ShuttingDown,
        "the Admin API cannot reach its database; the relay will retry",
    )
}

/// Runs one connection to its end.
pub(super) async fn run(hub: Hub, mut socket: WebSocket, origin: String) {
    let accepted = match handshake(&hub, &mut socket, &origin).await {
        Ok(a) => a,
        Err(refused) => {
            tracing::warn!(code = ?refused.code, reason = %refused.message, "relay refused at handshake");
            close(&mut socket, refused).await;
            return;
        }
    };
    let relay_id = accepted.relay.id.clone();
    tracing::info!(relay = %accepted.relay.name, host = %accepted.host, "relay connected");
    let (out, out_rx) = mpsc::unbounded_channel();
    let connection = match welcome(&hub, &accepted, out).await {
        Ok(c) => c,
        Err(refused) => {
            close(&mut socket, refused).await;
            return;
        }
    };
    let end = serve(&hub, &mut socket, &accepted.relay, connection, out_rx).await;
    if let Some(refused) = end {
        tracing::warn!(relay = %accepted.relay.name, code = ?refused.code, reason = %refused.message, "relay connection closed");
        close(&mut socket, refused).await;
    } else {
        tracing::info!(relay = %accepted.relay.name, "relay disconnected");
    }
    if hub.unregister(&relay_id, connection) {
        let instance = hub.instance().to_owned();
        let _ = hub
            .0
            .store
            .run_blocking(move |tx| tx.relay_disconnected(&relay_id, &instance))
            .await;
    }
}

/// A relay that passed the handshake.
struct Accepted {
    relay: RelayRecord,
    host: String,
    agent_version: String,
    received_upto: u64,
}

async fn send(socket: &mut WebSocket, frame: Frame) -> bool {
    socket
        .send(WsMessage::Text(frame.encode().into()))
        .await
        .is_ok()
}

async fn close(socket: &mut WebSocket, refused: Refusal) {
    let _ = send(socket, Frame::control(Message::Refused(refused))).await;
    let _ = socket.send(WsMessage::Close(None)).await;
}

/// What arrived on the socket.
enum Arrived {
    Frame(Frame),
    /// A WebSocket-level ping or pong (answered by the library).
    Nothing,
    Closed,
}

/// The next frame from the relay, checked: decoded, and a type a relay may send.
fn check(raw: Option<Result<WsMessage, axum::Error>>) -> Result<Arrived, Refusal> {
    let text = match raw {
        None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => return Ok(Arrived::Closed),
        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => return Ok(Arrived::Nothing),
        Some(Ok(WsMessage::Binary(_))) => {
            return Err(violation("binary frames are not part of the protocol"));
        }
        Some(Ok(WsMessage::Text(t))) => t,
    };
    let frame = Frame::decode(text.as_str()).map_err(|e| violation(e.to_string()))?;
    if !frame.message.sent_by_relay() {
        return Err(violation(format!(
            "a relay may not send '{}'",
            frame.message.name()
        )));
    }
    Ok(Arrived::Frame(frame))
}

/// The next frame within the handshake's step time.
async fn next_frame(socket: &mut WebSocket) -> Result<Frame, Refusal> {
    loop {
        let raw = tokio::time::timeout(HANDSHAKE_STEP, socket.recv())
            .await
            .map_err(|_| violation("the handshake timed out"))?;
        match check(raw)? {
            Arrived::Frame(frame) => return Ok(frame),
            Arrived::Nothing => continue,
            Arrived::Closed => return Err(violation("the relay closed the connection")),
        }
    }
}

async fn handshake(hub: &Hub, socket: &mut WebSocket, origin: &str) -> Result<Accepted, Refusal> {
    let Message::Hello(hello) = next_frame(socket).await?.message else {
        return Err(violation("the first frame must be 'hello'"));
    };
    let version = negotiate(&hello)?;
    let (relay, enrolled) = match &hello.relay_id {
        Some(id) => (known_relay(hub, id).await?, false),
        None => (enroll(hub, socket).await?, true),
    };
    match relay.status {
        RelayStatus::Revoked => {
            return Err(refusal(
                RefusalCode::Revoked,
                "this relay was revoked by an administrator; enroll it again with a new token",
            ));
        }
        RelayStatus::Disabled => {
            return Err(refusal(
                RefusalCode::Disabled,
                "this relay is disabled; an administrator can enable it",
            ));
        }
        RelayStatus::Active => {}
    }
    let nonce = random_secret(32);
    let challenge = Challenge {
        nonce: nonce.clone(),
        version,
        relay_id: enrolled.then(|| relay.id.clone()),
    };
    if !send(socket, Frame::control(Message::Challenge(challenge))).await {
        return Err(violation("the relay closed the connection"));
    }
    let Message::Proof(proof) = next_frame(socket).await?.message else {
        return Err(violation("expected 'proof' after the challenge"));
    };
    verify(&relay, &proof, origin, &nonce)?;
    Ok(Accepted {
        relay,
        host: hello.host,
        agent_version: hello.agent_version,
        received_upto: proof.received_upto,
    })
}

async fn known_relay(hub: &Hub, id: &str) -> Result<RelayRecord, Refusal> {
    let id = id.to_owned();
    hub.0
        .store
        .read_blocking(move |tx| tx.relay(&id))
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            refusal(
                RefusalCode::Unauthenticated,
                "unknown relay: enroll it with a new token",
            )
        })
}

/// What an enrollment attempt came to.
enum Enrolled {
    Relay(RelayRecord),
    BadToken,
    /// The license's `relay_agents` limit refused it (the message names the limit).
    OverLimit(String),
}

/// Enrolls with a one-time token, the final gate of the license's `relay_agents` limit: the
/// relays enrolled and not revoked, this one included, must fit it. Checked in the
/// transaction that enrolls, which is undone when they do not.
async fn enroll(hub: &Hub, socket: &mut WebSocket) -> Result<RelayRecord, Refusal> {
    let Message::Enroll(enroll) = next_frame(socket).await?.message else {
        return Err(violation("a relay without an id must enroll"));
    };
    let hash = secret_hash(&enroll.token.0);
    let new = NewRelay {
        id: format!("r-{}", random_secret(9)),
        public_key: enroll.public_key.clone(),
    };
    let now = hub.0.clock.now();
    let license = hub.0.license.clone();
    let enrolled = hub
        .0
        .store
        .run_blocking(move |tx| {
            tx.savepoint()?;
            let Some(relay) = tx.enroll_relay(&hash, &new, now)? else {
                tx.rollback_to_savepoint()?;
                return Ok(Enrolled::BadToken);
            };
            let holding = tx
                .relays()?
                .iter()
                .filter(|r| r.status != RelayStatus::Revoked)
                .count() as u64;
            if let Err(e) = license.check_limit(Limit::RelayAgents, holding) {
                tx.rollback_to_savepoint()?;
                return Ok(Enrolled::OverLimit(format!(
                    "the hub refuses to enroll another relay: {e}"
                )));
            }
            tx.release_savepoint()?;
            let after = serde_json::json!({ "name": relay.name, "proposed_name": enroll.name });
            tx.append_audit(
                &NewAudit {
                    actor: format!("relay:{}", relay.id),
                    action: "relay.enroll".into(),
                    target: format!("relay:{}", relay.id),
                    before: None,
                    after: Some(after),
                    run_id: None,
                },
                now,
            )?;
            Ok(Enrolled::Relay(relay))
        })
        .await;
    match enrolled {
        Ok(Enrolled::Relay(relay)) => Ok(relay),
        Ok(Enrolled::BadToken) => Err(refusal(
            RefusalCode::BadEnrollmentToken,
            "the enrollment token is unknown, used or expired: ask an administrator for a new one",
        )),
        Ok(Enrolled::OverLimit(message)) => {
            tracing::warn!(%message, "relay hub: enrollment refused by the license");
            Err(refusal(RefusalCode::LicenseLimit, message))
        }
        Err(e @ StoreError::NameTaken { .. }) => {
            Err(refusal(RefusalCode::BadEnrollmentToken, e.to_string()))
        }
        Err(e) => Err(internal(e)),
    }
}

fn verify(relay: &RelayRecord, proof: &Proof, origin: &str, nonce: &str) -> Result<(), Refusal> {
    let denied = || {
        refusal(
            RefusalCode::Unauthenticated,
            "the relay's proof of its key was refused",
        )
    };
    if proof.relay_id != relay.id {
        return Err(denied());
    }
    let key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&relay.public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(denied)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| denied())?;
    let signature = URL_SAFE_NO_PAD
        .decode(&proof.signature)
        .ok()
        .and_then(|s| ed25519_dalek::Signature::from_slice(&s).ok())
        .ok_or_else(denied)?;
    let payload = challenge_payload(&relay.id, origin, nonce);
    key.verify_strict(&payload, &signature)
        .map_err(|_| denied())
}

/// The connectors of the active configuration that name this relay, and the configuration.
async fn assignment(hub: &Hub, relay_name: &str) -> Result<Option<ConfigReload>, Refusal> {
    let active = hub
        .0
        .store
        .read_blocking(|tx| tx.active_config())
        .await
        .map_err(internal)?;
    let Some(active) = active else {
        return Ok(None);
    };
    let Ok(config) = identitymesh_domain::config::compile(&active.content, KNOWN_KINDS) else {
        return Ok(None);
    };
    let connectors: Vec<_> = config
        .connectors
        .values()
        .filter(|c| c.relay.as_deref() == Some(relay_name))
        .map(|c| c.name.clone())
        .collect();
    Ok(Some(ConfigReload {
        version: active.id,
        config_toml: active.content,
        connectors,
    }))
}

/// Registers the connection, records presence, drops what the relay already applied, and
/// queues the welcome, the unacknowledged commands and the relay's configuration, in that
/// order, under the relay's send lock. Returns the connection's number.
async fn welcome(
    hub: &Hub,
    a: &Accepted,
    out: mpsc::UnboundedSender<Outgoing>,
) -> Result<u64, Refusal> {
    let lock = hub.send_lock(&a.relay.id);
    let _held = lock.lock().await;
    let reload = assignment(hub, &a.relay.name).await?;
    let (id, instance, host, version) = (
        a.relay.id.clone(),
        hub.instance().to_owned(),
        a.host.clone(),
        a.agent_version.clone(),
    );
    let (now, upto) = (hub.0.clock.now(), a.received_upto);
    let pending = hub
        .0
        .store
        .run_blocking(move |tx| {
            tx.relay_connected(&id, &instance, &host, &version, now)?;
            tx.ack_relay_outbox(&id, upto)?;
            tx.relay_outbox(&id)
        })
        .await
        .map_err(internal)?;
    let connection = hub.register(&a.relay.id, out.clone());
    // from here on a replaced connection applies nothing; waiting for the inbox lets a frame
    // it is applying finish, so the position told to the relay counts it
    let received_upto = {
        let shared = hub.inbox(&a.relay.id);
        let mut held = shared.lock().await;
        held.get_or_insert_with(|| Inbox::at(a.relay.inbox_upto))
            .applied_upto()
    };
    let welcome = Welcome {
        relay_id: a.relay.id.clone(),
        connectors: reload
            .as_ref()
            .map(|r| r.connectors.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        heartbeat_seconds: hub.0.settings.heartbeat_seconds,
        received_upto,
    };
    let _ = out.send(Outgoing::Text(
        Frame::control(Message::Welcome(welcome)).encode(),
    ));
    for (seq, stored) in pending {
        match serde_json::from_str::<Message>(&stored) {
            Ok(message) => {
                let _ = out.send(Outgoing::Text(Frame::reliable(seq, message).encode()));
            }
            Err(e) => {
                tracing::error!(relay = %a.relay.name, seq, error = %e, "a queued relay command is damaged")
            }
        }
    }
    drop(_held);
    if let Some(reload) = reload.filter(|r| !r.connectors.is_empty()) {
        hub.send_command(&a.relay.id, Command::ConfigReload(reload))
            .await
            .map_err(internal)?;
    }
    Ok(connection)
}

/// The connection's life after the welcome. Returns the refusal to send, or `None` when
/// the relay went away.
async fn serve(
    hub: &Hub,
    socket: &mut WebSocket,
    relay: &RelayRecord,
    connection: u64,
    mut out: mpsc::UnboundedReceiver<Outgoing>,
) -> Option<Refusal> {
    let beat = Duration::from_secs(u64::from(hub.0.settings.heartbeat_seconds.max(1)));
    // the first ping one interval after the welcome, never before it
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
    let mut silent_ticks = 0u32;
    loop {
        tokio::select! {
            raw = socket.recv() => {
                silent_ticks = 0;
                let frame = match check(raw) {
                    Ok(Arrived::Frame(frame)) => frame,
                    Ok(Arrived::Nothing) => continue,
                    Ok(Arrived::Closed) => return None,
                    Err(r) => return Some(r),
                };
                if let Err(r) = apply(hub, socket, relay, connection, frame).await {
                    return Some(r);
                }
            }
            queued = out.recv() => match queued {
                Some(Outgoing::Text(text)) => {
                    if socket.send(WsMessage::Text(text.into())).await.is_err() {
                        return None;
                    }
                }
                Some(Outgoing::Close(r)) => return Some(r),
                None => return None,
            },
            _ = ticker.tick() => {
                silent_ticks += 1;
                if silent_ticks > 3 {
                    return Some(violation("no message for three heartbeat intervals"));
                }
                let at_ms = hub.0.clock.now().timestamp_millis();
                if !send(socket, Frame::control(Message::Ping(Heartbeat { at_ms }))).await {
                    return None;
                }
            }
        }
    }
}

/// Applies one frame from the relay.
async fn apply(
    hub: &Hub,
    socket: &mut WebSocket,
    relay: &RelayRecord,
    connection: u64,
    frame: Frame,
) -> Result<(), Refusal> {
    let id = relay.id.clone();
    let store = &hub.0.store;
    match (frame.seq, frame.message) {
        (None, Message::Ping(beat)) => {
            let now = hub.0.clock.now();
            store
                .run_blocking(move |tx| tx.relay_heartbeat(&id, now))
                .await
                .map_err(internal)?;
            send(socket, Frame::control(Message::Pong(beat))).await;
        }
        (None, Message::Pong(_)) => {}
        (None, Message::Ack(Ack { upto })) => {
            store
                .run_blocking(move |tx| tx.ack_relay_outbox(&id, upto))
                .await
                .map_err(internal)?;
        }
        (None, Message::Refused(r)) => {
            tracing::warn!(relay = %relay.name, code = ?r.code, reason = %r.message, "the relay refused the hub");
            return Err(violation("the relay ended the connection"));
        }
        (Some(seq), message) => {
            // one hold across check, delivery and record: another connection of this relay
            // (the torn one, still draining its socket) sees this message as a duplicate
            let shared = hub.inbox(&relay.id);
            let mut held = shared.lock().await;
            if !hub.is_live(&relay.id, connection) {
                return Err(violation(
                    "a newer connection of this relay replaced this one; its messages go there",
                ));
            }
            let inbox = held.get_or_insert_with(|| Inbox::at(relay.inbox_upto));
            let delivery = inbox.check(seq).map_err(|e| violation(e.to_string()))?;
            if delivery == Delivery::New {
                let name = message.name();
                if !hub.deliver(&relay.id, message) {
                    tracing::info!(relay = %relay.name, seq, message = name, "no run waits for this relay message (it ended); acknowledged and dropped");
                }
                // delivered: never again, even if recording the position fails below
                inbox.applied(seq);
                store
                    .run_blocking(move |tx| tx.relay_inbox_applied(&id, seq))
                    .await
                    .map_err(internal)?;
            }
            let ack = Ack {
                upto: inbox.applied_upto(),
            };
            drop(held);
            send(socket, Frame::control(Message::Ack(ack))).await;
        }
        (None, other) => {
            return Err(violation(format!(
                "'{}' is not allowed after the handshake",
                other.name()
            )));
        }
    }
    Ok(())
}
