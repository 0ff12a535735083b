//! One connection to the hub: the handshake (hello, enrollment once, the signed challenge,
//! welcome), the resend of what the hub has not acknowledged, then the loop that reads the
//! hub's frames, keeps the heartbeat and sends what the workers produce. A frame that breaks
//! the protocol gets a `refused {protocol_violation}` and the connection is dropped with the
//! reason logged; nothing it carried is applied.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use identitymesh_protocol::{
    Ack, Delivery, Enroll, Frame, Hello, Message, Proof, ProtocolError, Refusal, RefusalCode,
    SUPPORTED_VERSIONS, Welcome, challenge_payload,
};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::Agent;
use crate::dial::{self, HubSocket};
use crate::error::AgentError;
use crate::state::OUTBOX_CAPACITY;

/// How long the hub may take to answer a handshake step.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

impl Agent {
    /// Connects and serves until the connection ends. `welcomed` turns true once the hub
    /// accepted this relay.
    pub(crate) async fn session(&mut self, welcomed: &mut bool) -> Result<(), AgentError> {
        let mut ws = dial::connect(&self.hub, &self.tls).await?;
        let result = self.serve(&mut ws, welcomed).await;
        if let Err(AgentError::Protocol(e)) = &result {
            let refusal = Refusal {
                code: RefusalCode::ProtocolViolation,
                message: e.to_string(),
            };
            let _ = send(&mut ws, &Frame::control(Message::Refused(refusal))).await;
        }
        let _ = ws.close(None).await;
        result
    }

    async fn serve(&mut self, ws: &mut HubSocket, welcomed: &mut bool) -> Result<(), AgentError> {
        let welcome = self.handshake(ws).await?;
        *welcomed = true;
        tracing::info!(relay_id = %welcome.relay_id, hub = %self.hub.url, connectors = ?welcome.connectors, "connected to the hub");
        for (seq, message) in self.state.welcomed(&welcome)? {
            send(ws, &Frame::reliable(seq, message)).await?;
        }
        let period = Duration::from_secs(u64::from(welcome.heartbeat_seconds.max(1)));
        self.serve_loop(ws, period).await
    }

    async fn handshake(&mut self, ws: &mut HubSocket) -> Result<Welcome, AgentError> {
        let hello = Hello {
            min_version: *SUPPORTED_VERSIONS.start(),
            max_version: *SUPPORTED_VERSIONS.end(),
            agent_version: format!("identitymesh {}", env!("CARGO_PKG_VERSION")),
            host: self.host.clone(),
            relay_id: self.identity.relay_id().map(str::to_owned),
        };
        send(ws, &Frame::control(Message::Hello(hello))).await?;
        if self.identity.relay_id().is_none() {
            self.enroll(ws).await?;
        }
        let challenge = match handshake_frame(ws).await? {
            Message::Challenge(c) => c,
            other => return Err(out_of_order(&other, "while waiting for the challenge")),
        };
        if !SUPPORTED_VERSIONS.contains(&challenge.version) {
            return Err(ProtocolError::Version {
                got: challenge.version,
                min: *SUPPORTED_VERSIONS.start(),
                max: *SUPPORTED_VERSIONS.end(),
            }
            .into());
        }
        let relay_id = self.relay_id_for(challenge.relay_id.as_deref())?;
        let payload = challenge_payload(&relay_id, &self.hub.origin, &challenge.nonce);
        let proof = Proof {
            relay_id: relay_id.clone(),
            signature: self.identity.sign(&payload),
            received_upto: self.state.inbox.applied_upto(),
        };
        send(ws, &Frame::control(Message::Proof(proof))).await?;
        let welcome = match handshake_frame(ws).await? {
            Message::Welcome(w) => w,
            other => return Err(out_of_order(&other, "while waiting for the welcome")),
        };
        if welcome.relay_id != relay_id {
            return Err(ProtocolError::Invalid {
                field: "welcome.relay_id",
                reason: format!(
                    "the hub welcomed '{}', this relay is '{relay_id}'",
                    welcome.relay_id
                ),
            }
            .into());
        }
        Ok(welcome)
    }

    async fn enroll(&mut self, ws: &mut HubSocket) -> Result<(), AgentError> {
        let Some(token) = self.options.enroll_token.clone() else {
            return Err(crate::not_enrolled(&self.options.data_dir));
        };
        let enroll = Enroll {
            token,
            public_key: self.identity.public_key(),
            name: self
                .options
                .name
                .clone()
                .unwrap_or_else(|| self.host.clone()),
        };
        tracing::info!(name = %enroll.name, "enrolling with the hub");
        send(ws, &Frame::control(Message::Enroll(enroll))).await
    }

    /// The id to prove: the enrolled one, or the one the hub just assigned (recorded at once,
    /// so a connection torn before the welcome does not spend the token for nothing).
    fn relay_id_for(&mut self, assigned: Option<&str>) -> Result<String, AgentError> {
        if let Some(id) = self.identity.relay_id() {
            return Ok(id.to_owned());
        }
        let Some(id) = assigned.filter(|id| !id.is_empty()) else {
            return Err(ProtocolError::Invalid {
                field: "challenge.relay_id",
                reason: "the challenge after an enrollment must carry the assigned relay id".into(),
            }
            .into());
        };
        self.identity.record_enrollment(id, &self.hub.url)?;
        tracing::info!(relay_id = %id, "enrolled");
        Ok(id.to_owned())
    }

    async fn serve_loop(&mut self, ws: &mut HubSocket, period: Duration) -> Result<(), AgentError> {
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                incoming = ws.next() => {
                    let text = match incoming {
                        None => return Err(AgentError::Connection("the hub closed the connection".into())),
                        Some(Err(e)) => return Err(AgentError::Connection(e.to_string())),
                        Some(Ok(message)) => match text_of(message)? {
                            Some(text) => text,
                            None => continue,
                        },
                    };
                    last_heard = Instant::now();
                    let frame = Frame::decode(&text)?;
                    self.on_frame(ws, frame).await?;
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() >= period * 3 {
                        return Err(AgentError::Connection(format!(
                            "the hub was silent for {} s (three heartbeat intervals)",
                            last_heard.elapsed().as_secs()
                        )));
                    }
                    let ping = identitymesh_protocol::Heartbeat { at_ms: self.clock.now_ms() };
                    send(ws, &Frame::control(Message::Ping(ping))).await?;
                }
                Some(message) = self.state.rx.recv(), if self.state.outbox.len() < OUTBOX_CAPACITY => {
                    let seq = self.state.push(message.clone())?;
                    send(ws, &Frame::reliable(seq, message)).await?;
                }
            }
        }
    }

    async fn on_frame(&mut self, ws: &mut HubSocket, frame: Frame) -> Result<(), AgentError> {
        if !frame.message.sent_by_hub() {
            return Err(out_of_order(&frame.message, "from a hub"));
        }
        match frame.message {
            Message::Ping(h) => send(ws, &Frame::control(Message::Pong(h))).await?,
            Message::Pong(_) => {}
            Message::Ack(ack) => {
                self.state.outbox.ack(ack.upto)?;
            }
            Message::Credit(credit) => self.state.credit(credit),
            Message::Command(command) => {
                let seq = frame.seq.unwrap_or_default();
                if self.state.delivery(seq)? == Delivery::New {
                    tracing::debug!(seq, "applying a command");
                    self.state.apply(seq, command);
                    self.state.inbox.applied(seq);
                }
                let upto = self.state.inbox.applied_upto();
                send(ws, &Frame::control(Message::Ack(Ack { upto }))).await?;
            }
            Message::Refused(r) => return Err(AgentError::from_refusal(r.code, r.message)),
            other => return Err(out_of_order(&other, "after the handshake")),
        }
        Ok(())
    }
}

fn out_of_order(message: &Message, state: &'static str) -> AgentError {
    ProtocolError::OutOfOrder {
        message: message.name(),
        state,
    }
    .into()
}

/// The text of a WebSocket message; `None` for the transport's own pings and pongs.
fn text_of(message: Ws) -> Result<Option<String>, AgentError> {
    match message {
        Ws::Text(text) => Ok(Some(text.as_str().to_owned())),
        Ws::Binary(_) => Err(ProtocolError::Malformed(
            "a binary WebSocket message (frames are text)".into(),
        )
        .into()),
        Ws::Close(_) => Err(AgentError::Connection(
            "the hub closed the connection".into(),
        )),
        Ws::Ping(_) | Ws::Pong(_) | Ws::Frame(_) => Ok(None),
    }
}

/// The next handshake frame, within the handshake timeout; a refusal ends the handshake.
async fn handshake_frame(ws: &mut HubSocket) -> Result<Message, AgentError> {
    let read = async {
        loop {
            match ws.next().await {
                None => {
                    return Err(AgentError::Connection(
                        "the hub closed the connection during the handshake".into(),
                    ));
                }
                Some(Err(e)) => return Err(AgentError::Connection(e.to_string())),
                Some(Ok(m)) => {
                    if let Some(text) = text_of(m)? {
                        return Ok(Frame::decode(&text)?.message);
                    }
                }
            }
        }
    };
    let message = tokio::time::timeout(HANDSHAKE_TIMEOUT, read)
        .await
        .map_err(|_| {
            AgentError::Connection("the hub did not answer the handshake in time".into())
        })??;
    match message {
        Message::Refused(r) => Err(AgentError::from_refusal(r.code, r.message)),
        other => Ok(other),
    }
}

async fn send(ws: &mut HubSocket, frame: &Frame) -> Result<(), AgentError> {
    ws.send(Ws::text(frame.encode()))
        .await
        .map_err(|e| AgentError::Connection(format!("cannot send to the hub: {e}")))
}
